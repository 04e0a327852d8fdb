"""keystore_registration: who can get which key approved for which phone number (paper III.A).

Source: Kfoury & Khoury, section III.A (interfaces 2-7 of Fig. 1; the smart contract's
addClient / approveClient / getClient; the wallet-management function).

Status: paper variant broken (front-running gets the intruder's key approved for a victim's
number; the SIP password is readable from the chain); hardened variant: no attack within
the default bound.

There is one operator and one key-store contract (``unique`` roles).  The chain is an
honest role ``C`` whose state reads are signed with ``sk(C)``: that stands
for consensus plus a verified light-client proof (nobody can forge the chain's state), while
everything sent *to* the chain is public (the mempool).  The app store is the fixed honest
agent ``store``; a receipt ``sign(<S, NP>, sk(store))`` is bought by the holder of phone
number ``S`` (carrier billing ties the purchase to the number).  The operator ``O`` and the
chain are never played by the intruder.  The SIP password is the secret the operator
provisions for the number.

Paper (as published)::

    1. S -> O     : {fund, S, Rc}pk(O)                     Rc = sign(<S, NP>, sk(store))
    2. S -> chain : addClient(S, pk(S), Rc)                public, first writer of Rc wins
    3. chain      : pending[Rc] = (S, K)                   readable by all
    4. S -> O     : {approve, S, Rc}pk(O)
    5. O -> chain : approveClient(S, Rc)                   O approves whatever is pending
       O          : SIP password for S := h(Rc)

Hardened (ours)::

    1. S -> O     : {fund, S, pk(S), Rc}pk(O)              the receipt binds the key that bought it
    2. S -> chain : register(S, pk(S), sign(<pop, S, C>, sk(S)))   proof of possession
    3. chain      : pending(S, K) only if the proof verifies under K
    4. O          : approves (S, K) only if K is the key the receipt bought
       O -> S     : {cred, Pw}pk(S)                        a random SIP password, never on chain

Its named checks (spec/checknames.py): ``receipt_binds_key`` (messages 1 and 4), ``pop``
(message 2), ``receipt_off_chain`` (message 2 carries no receipt) and ``random_password``.

Commit-reveal (which stops the *ordering* race on the contract) and the salted identifier
are checked by the contract tests, not here: the symbolic chain has no gas auction.
"""

from __future__ import annotations

from ethvoip.spec.checknames import POP as POP_CHECK
from ethvoip.spec.checknames import RANDOM_PASSWORD
from ethvoip.spec.checknames import RECEIPT_BINDS_KEY as BINDS
from ethvoip.spec.checknames import RECEIPT_OFF_CHAIN as OFF_CHAIN
from ethvoip.spec.claims import Claim, ClaimKind, attack, holds
from ethvoip.spec.protocol import Protocol, Role, Variant, adds, agent, built, fresh, var
from ethvoip.spec.steps import Recv, Send, Step
from ethvoip.spec.terms import Atom, Fresh, Sort, Term, aenc, const, h, inv, pk, sign, sk, tup

S, O, C = agent("S"), agent("O"), agent("C")  # noqa: E741 (the paper's names)
STORE = Atom("store", Sort.AGENT)
NP, vNP = fresh("NP", Sort.NONCE), var("NP", Sort.NONCE)
Pw, vPw = fresh("Pw", Sort.KEY), var("Pw", Sort.KEY)
K = var("K", Sort.PUBKEY)
FUND, APPROVE, ADD, PENDING, REGISTER, POP, CRED = (
    const(n) for n in ("fund", "approve", "addClient", "pending", "register", "pop", "cred")
)


def receipt(number: Term, nonce: Term) -> Term:
    """The app store's signed purchase record for ``number``."""
    return sign(tup(number, nonce), sk(STORE))


def _subscriber(*steps: Step) -> Role:
    """The subscriber, who holds the receipt it bought; the parties are the same in both
    designs, only their messages differ."""
    return Role(
        name="S",
        agent=S,
        title="subscriber (the phone app)",
        params=(S, O, C),
        knows=(sk(S), receipt(S, NP)),
        fresh=(NP,),
        steps=steps,
    )


def _chain(*steps: Step) -> Role:
    return Role(
        name="C",
        agent=C,
        title="the key-store contract",
        params=(C,),
        knows=(sk(C),),
        fresh=(),
        steps=steps,
        honest_only=True,
        unique=True,
    )


def _operator(*steps: Step, fresh: tuple[Fresh, ...] = ()) -> Role:
    return Role(
        name="O",
        agent=O,
        title="wallet-management server",
        params=(O, C),
        knows=(sk(O),),
        fresh=fresh,
        steps=steps,
        honest_only=True,
        unique=True,
    )


def _paper_roles() -> tuple[Role, ...]:
    rc, vrc = receipt(S, NP), receipt(S, vNP)
    subscriber = _subscriber(
        Send("S_1", aenc(tup(FUND, S, rc), pk(O)), note="interface 2: Ether request"),
        Send("S_2", tup(ADD, S, pk(S), rc), note="interface 4: addClient, public mempool"),
        Send("S_3", aenc(tup(APPROVE, S, rc), pk(O)), note="interface 3: approval request"),
    )
    chain = _chain(
        Recv("C_1", tup(ADD, S, K, vrc), once=(S, vNP), note="addClient: first writer wins"),
        Send("C_2", sign(tup(PENDING, S, K, vrc), sk(C)), note="pendingList[Rc], public"),
    )
    operator = _operator(
        Recv("O_1", aenc(tup(FUND, S, vrc), pk(O)), note="receipt checked with the store"),
        Recv("O_2", aenc(tup(APPROVE, S, vrc), pk(O)), note="approval request"),
        Recv("O_3", sign(tup(PENDING, S, K, vrc), sk(C)), note="reads pendingList[Rc]"),
        Send("O_4", tup(const("approveClient"), S, vrc), note="interface 6"),
    )
    return subscriber, chain, operator


def _hardened_roles(on: frozenset[str]) -> tuple[Role, ...]:
    """The hardened roles with the named checks ``on``."""
    rc, vrc = receipt(S, NP), receipt(S, vNP)
    bound, vbound = ((pk(S),), (K,)) if BINDS in on else ((), ())
    proof, vproof = (
        ((sign(tup(POP, S, C), sk(S)),), (sign(tup(POP, S, C), inv(K)),))
        if POP_CHECK in on
        else ((), ())
    )
    # without the check, the registration carries the receipt to the chain, as the paper's does
    shown, vshown = ((), ()) if OFF_CHAIN in on else ((rc,), (vrc,))
    password = RANDOM_PASSWORD in on
    subscriber = _subscriber(
        Send(
            "S_1",
            aenc(tup(FUND, S, *bound, rc), pk(O)),
            note="Ether request binds the key",
            checks=adds(on, BINDS),
        ),
        Send(
            "S_2",
            tup(REGISTER, S, pk(S), *proof, *shown),
            note="register with proof of possession",
            checks=adds(on, POP_CHECK, OFF_CHAIN),
        ),
        *(
            (
                Recv(
                    "S_3",
                    aenc(tup(CRED, vPw), pk(S)),
                    note="SIP password, end to end",
                    checks=(RANDOM_PASSWORD,),
                ),
            )
            if password
            else ()
        ),
    )
    chain = _chain(
        Recv(
            "C_1",
            tup(REGISTER, S, K, *vproof, *vshown),
            note="ecrecover check",
            checks=adds(on, POP_CHECK, OFF_CHAIN),
        ),
        Send("C_2", sign(tup(PENDING, S, K), sk(C)), note="pending entry, public"),
    )
    operator = _operator(
        Recv(
            "O_1",
            aenc(tup(FUND, S, *vbound, vrc), pk(O)),
            note="receipt and the key it buys",
            checks=adds(on, BINDS),
        ),
        Recv("O_2", sign(tup(PENDING, S, K), sk(C)), note="pending entry matches that key"),
        Send("O_3", tup(const("approve"), S, K), note="approve exactly (S, K)"),
        *(
            (
                Send(
                    "O_4",
                    aenc(tup(CRED, Pw), K),
                    note="SIP password to the approved key",
                    checks=(RANDOM_PASSWORD,),
                ),
            )
            if password
            else ()
        ),
        fresh=(Pw,) if password else (),
    )
    return subscriber, chain, operator


def _claims(password: Term) -> tuple[Claim, ...]:
    return (
        Claim(
            "O_agree_key",
            ClaimKind.NI_AGREEMENT,
            "O",
            "the key O approves for number S is the one S registered",
            peer="S",
            data=(S, K),
            peer_data=(S, pk(S)),
            # S_1 is the step that names the operator (and, hardened, the key): tied to S_2,
            # a subscriber with two runs (one funding via O, one registering under another
            # operator) breaks the claim at 4 runs with no harm done (model finding)
            peer_at="S_1",
        ),
        Claim(
            "O_secret_password",
            ClaimKind.SECRECY,
            "O",
            "the SIP password O provisions for S stays secret",
            term=password,
        ),
    )


PAPER = Variant(
    name="paper",
    summary="addClient by anyone, receipt on chain, approval of whatever is pending",
    roles=_paper_roles(),
    claims=_claims(h("sha", receipt(S, vNP))),
    expected={
        "O_agree_key": attack(3, "front-running: e copies the receipt from S's addClient"),
        "O_secret_password": attack(3, "the password is h(receipt) and the receipt is on chain"),
    },
    pop_required=False,
)


def _hardened(on: frozenset[str]) -> Variant:
    """The hardened variant with the named checks ``on`` (all of :data:`CHECKS` for ours);
    without the random password, the password is the paper's hash of the receipt."""
    return Variant(
        name="hardened",
        summary="proof of possession, receipt bound to the key, random password sent end to end",
        roles=_hardened_roles(on),
        claims=_claims(Pw if RANDOM_PASSWORD in on else h("sha", receipt(S, vNP))),
        expected={
            "O_agree_key": holds("only S holds its receipt, which names pk(S)"),
            "O_secret_password": holds("Pw travels only under pk(S)"),
        },
        pop_required=True,
    )


#: the checks the hardened variant adds to the paper's
CHECKS = (POP_CHECK, BINDS, OFF_CHAIN, RANDOM_PASSWORD)
HARDENED = built(_hardened, CHECKS)

PROTOCOL = Protocol(
    name="keystore_registration",
    title="Key registration and approval on the key store",
    source="Kfoury & Khoury III.A (Fig. 1 interfaces 2-7, Fig. 3)",
    status="paper: broken (front-running, credential on chain); hardened: no attack within bound",
    narration=__doc__ or "",
    variants={"paper": PAPER, "hardened": HARDENED},
)
