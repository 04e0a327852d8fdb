"""key_lookup: the caller asks an untrusted RPC node for the callee's key (paper III.B, issue 12).

Source: Kfoury & Khoury, section III.B (the phone reads ``getClient`` from the smart contract
through an Ethereum node) and Fig. 6 step 1; issue 12 (a trust root the node cannot forge).

Status: paper variant broken (the node answers with a key of its own choosing, and the call's
master key opens to the intruder: one run of the caller suffices); hardened variant: no attack
within the default bound.

The RPC node is not a role: it is the network, which the intruder controls (whatever an honest
node would answer, a malicious or compromised one answers what it likes).  The chain ``C`` is
an honest, unique role: its run reads the key store's record for number ``B`` (the trusted
look-up; that honest registrations hold is what keystore_registration checks) and publishes
it.  In the paper the record reaches the caller as the node's bare JSON-RPC answer; hardened,
it is a storage proof under a state root that the caller's trust policy (checkpoint, quorum or
sync committee) vouches for, modelled as a signature with ``sk(C)``, a key the intruder does
not have.  The caller then encrypts the call's master key to the key it accepted (the first
message of MIKEY's public-key mode), so a substituted key is a call that opens to the intruder:
the secrecy claim is the impersonation of the callee.

Paper (as published)::

    1. A -> node : eth_call getClient(B)
    2. node -> A : <client, B, KB>                     believed as is
    3. A -> B    : {K}KB                               the call's master key

Hardened (ours)::

    1. A -> node : eth_getProof(B's record)
    2. node -> A : sign(<state, B, KB>, sk(C))          storage proof under a vouched-for root
    3. A -> B    : {K}KB

Its one named check (spec/checknames.py) is ``state_proof``: without it, the paper's look-up.

Freshness (a revoked key is not accepted once the revocation is final) is *unsupported*
here: terms carry no time, and a signed state is valid forever in the Dolev-Yao algebra, so a
replayed pre-revocation proof is indistinguishable from a current one; no verdict on it is
claimed.  The argument for the hardened look-up is written in docs/model.rst ("Freshness of a
look-up"); the trust policies' freshness checks are tested on the code.
"""

from __future__ import annotations

from ethvoip.spec.cast import KB, A, B, K, vK
from ethvoip.spec.checknames import STATE_PROOF as PROOF_CHECK
from ethvoip.spec.claims import Claim, ClaimKind, attack, holds
from ethvoip.spec.protocol import Protocol, Role, Variant, adds, agent, built, var
from ethvoip.spec.steps import Lookup, Recv, Send
from ethvoip.spec.terms import Sort, Term, aenc, const, pk, sign, sk, tup
from ethvoip.spec.textbook import initiator, responder

C = agent("C")
KS = var("KS", Sort.PUBKEY)
GET, CLIENT, PROOF, STATE = (const(n) for n in ("getClient", "client", "getProof", "state"))


def _answer(hardened: bool, key: Term) -> Term:
    """What the caller accepts as the record of ``B``: bare (paper) or proven (hardened)."""
    return sign(tup(STATE, B, key), sk(C)) if hardened else tup(CLIENT, B, key)


def _roles(hardened: bool) -> tuple[Role, Role, Role]:
    proof = adds(frozenset({PROOF_CHECK}) if hardened else frozenset(), PROOF_CHECK)
    caller = initiator(
        title="caller A (the phone)",
        # the paper's caller trusts no root at all: it believes the node
        params=(A, B, C) if hardened else (A, B),
        knows=(sk(A),),
        fresh=(K,),
        session_key=K,
        steps=(
            Send(
                "I_1",
                tup(PROOF if hardened else GET, B),
                note="eth_getProof for B's record" if hardened else "eth_call getClient(B)",
                checks=proof,
            ),
            Recv(
                "I_2",
                _answer(hardened, KB),
                note="proof checked against the policy's root"
                if hardened
                else "the node's answer, believed as is",
                checks=proof,
            ),
            Send("I_3", aenc(K, KB), note="the call's master key to the accepted key"),
        ),
    )
    chain = Role(
        name="C",
        agent=C,
        title="the chain (key-store state under consensus)",
        params=(C, B),
        knows=(sk(C),),
        fresh=(),
        steps=(
            Lookup("C_1", B, KS, note="the key store's record for B"),
            Send(
                "C_2",
                _answer(hardened, KS),
                note="state root vouched for by the trust policy"
                if hardened
                else "what an honest node answers",
                checks=proof,
            ),
        ),
        honest_only=True,
        unique=True,
    )
    # the callee makes B a role's agent, so the claim is made only when B is honest
    callee = responder(
        title="callee B",
        params=(B,),
        knows=(sk(B),),
        steps=(Recv("R_1", aenc(vK, pk(B)), note="opens the call's master key with sk(B)"),),
        session_key=vK,
    )
    return caller, chain, callee


def _claims() -> tuple[Claim, ...]:
    return (
        Claim(
            "I_secret_K",
            ClaimKind.SECRECY,
            "I",
            "the call's master key, sent to the key the caller accepted for B, stays secret "
            "(the caller never accepts a key B did not register)",
            term=K,
        ),
    )


PAPER = Variant(
    name="paper",
    summary="getClient over JSON-RPC: the node's answer is the key",
    roles=_roles(hardened=False),
    claims=_claims(),
    expected={"I_secret_K": attack(1, "the node answers pk(e) for B; the call opens to e")},
    pop_required=True,
)


def _hardened(on: frozenset[str]) -> Variant:
    """The hardened variant with the named checks ``on``: without the proof, the paper's
    look-up (the one check is the whole difference)."""
    return Variant(
        name="hardened",
        summary="storage proof against a state root the trust policy vouches for",
        roles=_roles(hardened=PROOF_CHECK in on),
        claims=_claims(),
        expected={"I_secret_K": holds("only the chain's vouched-for state names B's key")},
        pop_required=True,
    )


#: the checks the hardened variant adds to the paper's
CHECKS = (PROOF_CHECK,)
HARDENED = built(_hardened, CHECKS)

PROTOCOL = Protocol(
    name="key_lookup",
    title="Looking up the callee's key through an untrusted node",
    source="Kfoury & Khoury III.B and Fig. 6 step 1; issue 12",
    status="paper: broken (a lying node substitutes the key); hardened: no attack within bound",
    narration=__doc__ or "",
    variants={"paper": PAPER, "hardened": HARDENED},
)
