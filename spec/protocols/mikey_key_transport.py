"""mikey_key_transport: the SRTP master key carried in the INVITE's SDP (paper III.D.2).

Source: Kfoury & Khoury, section III.D.2, Fig. 6 and Fig. 8 (``a=k:`` with the encrypted key);
RFC 3830 (MIKEY) section 3.3, public-key mode; RFC 4567 (``a=key-mgmt``).

Status: paper variant broken (key substitution: the callee accepts a master key the caller
never sent, and the intruder knows it); hardened variant: no attack within the default bound.

The INVITE is modelled as two messages, the SIP header naming caller and callee and then the
SDP body.  The intruder controls the network, so splitting one message in two only gives
him more freedom (he may combine any header with any body); nothing is lost.

Paper (as published)::

    1. A -> chain : look up pk(B)
    2. A -> B     : INVITE From: A To: B
    3. A -> B     : SDP  a=k:{K}pk(B)

Hardened (ours, RFC 3830 public-key mode)::

    2. A -> B : INVITE From: A To: B
       B      : looks up pk(A)
    3. A -> B : SDP  a=key-mgmt:mikey HDR, T, RAND, IDi=A, IDr=B,
                      PKE={Kenv}pk(B), KEMAC={K}kdf(Kenv, RAND),
                      SIGNi=sign(<mikey, T, RAND, A, B, PKE, KEMAC>, sk(A))
       B keeps (T, RAND) in a replay cache

Its named checks (spec/checknames.py): ``mikey_signature`` (SIGNi, and the look-up of pk(A)
it needs), ``mikey_identities`` (IDi, IDr), ``replay_cache`` and ``pop`` (the key directory).

The attack on the paper variant needs a single run of the callee: the intruder sends an
INVITE "from A" carrying ``{K'}pk(B)`` for a key ``K'`` of his own choosing.
"""

from __future__ import annotations

from ethvoip.spec.cast import KA, KB, A, B, K, vK
from ethvoip.spec.checknames import MIKEY_IDENTITIES as IDS
from ethvoip.spec.checknames import MIKEY_SIGNATURE as SIGNED
from ethvoip.spec.checknames import POP
from ethvoip.spec.checknames import REPLAY_CACHE as REPLAY
from ethvoip.spec.claims import Claim, ClaimKind, attack, holds
from ethvoip.spec.protocol import Protocol, Role, Variant, adds, built, fresh, hardened, var
from ethvoip.spec.steps import Lookup, Recv, Send, Step
from ethvoip.spec.terms import Fresh, Sort, Term, aenc, const, h, inv, pk, senc, sign, sk, tup
from ethvoip.spec.textbook import initiator, responder

Kenv, vKenv = fresh("Kenv", Sort.KEY), var("Kenv", Sort.KEY)
T, vT = fresh("T", Sort.NONCE), var("T", Sort.NONCE)
RAND, vRAND = fresh("RAND", Sort.NONCE), var("RAND", Sort.NONCE)
INVITE, MIKEY = const("invite"), const("mikey")


def _mikey(
    t: Term, rand: Term, env: Term, key: Term, to: Term, signer: Term, on: frozenset[str]
) -> Term:
    """The RFC 3830 public-key-mode I_MESSAGE as one term, with the named checks ``on``."""
    pke = aenc(env, to)
    kemac = senc(key, h("kdf", env, rand))
    ids = (A, B) if IDS in on else ()
    body = (t, rand, *ids, pke, kemac)
    if SIGNED in on:
        return tup(*body, sign(tup(MIKEY, *body), signer))
    return tup(*body)


def _roles(hardened: bool, on: frozenset[str] = frozenset()) -> tuple[Role, Role]:
    init_steps: tuple[Step, ...]
    resp_steps: tuple[Step, ...]
    init_fresh: tuple[Fresh, ...]
    if hardened:
        init_steps = (
            Lookup("I_1", B, KB, note="pk(B) from the key store"),
            Send("I_2", tup(INVITE, A, B), note="INVITE header: From A, To B"),
            Send(
                "I_3",
                _mikey(T, RAND, Kenv, K, KB, sk(A), on),
                note="SDP a=key-mgmt:mikey",
                checks=adds(on, IDS, SIGNED),
            ),
        )
        # without SIGNi the callee has no use for the caller's key
        lookup_a = (
            (Lookup("R_2", A, KA, note="pk(A) from the key store", checks=(SIGNED,)),)
            if SIGNED in on
            else ()
        )
        resp_steps = (
            Recv("R_1", tup(INVITE, A, B), note="INVITE header"),
            *lookup_a,
            Recv(
                "R_3",
                _mikey(vT, vRAND, vKenv, vK, pk(B), inv(KA), on),
                once=(A, vT, vRAND) if REPLAY in on else (),
                note="verify SIGNi with pk(A), open PKE, check KEMAC; replay cache per sender A "
                "on (T, RAND)",
                checks=adds(on, IDS, SIGNED, REPLAY),
            ),
        )
        init_fresh = (K, Kenv, T, RAND)
    else:
        init_steps = (
            Lookup("I_1", B, KB, note="pk(B) from the smart contract"),
            Send("I_2", tup(INVITE, A, B), note="INVITE header: From A, To B"),
            Send("I_3", aenc(K, KB), note="SDP a=k:{K}pk(B) (Fig. 8)"),
        )
        resp_steps = (
            Recv("R_1", tup(INVITE, A, B), note="INVITE header"),
            Recv("R_2", aenc(vK, pk(B)), note="decrypt a=k: with sk(B)"),
        )
        init_fresh = (K,)
    return (
        initiator(
            title="caller A",
            params=(A, B),
            knows=(sk(A),),
            fresh=init_fresh,
            steps=init_steps,
            session_key=K,
        ),
        responder(title="callee B", params=(B,), knows=(sk(B),), steps=resp_steps, session_key=vK),
    )


def _claims() -> tuple[Claim, ...]:
    return (
        Claim("I_secret_K", ClaimKind.SECRECY, "I", "the caller's master key stays secret", term=K),
        Claim(
            "R_secret_K", ClaimKind.SECRECY, "R", "the callee's master key stays secret", term=vK
        ),
        Claim("R_alive", ClaimKind.ALIVENESS, "R", "the caller took part at all", peer="I"),
        Claim(
            "R_weak_agree",
            ClaimKind.WEAK_AGREEMENT,
            "R",
            "A called B",
            peer="I",
            peer_at="I_3",
        ),
        Claim(
            "R_agree_K",
            ClaimKind.I_AGREEMENT,
            "R",
            "the key B accepts is one A sent to B, and each such key is accepted once",
            peer="I",
            data=(A, B, vK),
            peer_at="I_3",
        ),
    )


_SUBST = "key substitution: e sends INVITE from A with {K'}pk(B), K' his own key"

PAPER = Variant(
    name="paper",
    summary="the master key encrypted to the callee, bare in a=k: (Fig. 6, 8)",
    roles=_roles(hardened=False),
    claims=_claims(),
    expected={
        "I_secret_K": holds("only B can open {K}pk(B)"),
        "R_secret_K": attack(1, _SUBST),
        "R_alive": attack(1, _SUBST + "; A need not exist at all"),
        "R_weak_agree": attack(1, _SUBST),
        "R_agree_K": attack(1, _SUBST),
    },
    pop_required=False,
)


def _hardened(on: frozenset[str]) -> Variant:
    """The hardened variant with the named checks ``on`` (all of :data:`CHECKS` for ours)."""
    return hardened(
        "RFC 3830 public-key mode: T, RAND, IDi, IDr, PKE, KEMAC, SIGNi; replay cache",
        _roles(hardened=True, on=on),
        _claims(),
        pop_required=POP in on,
    )


#: the checks the hardened variant adds to the paper's
CHECKS = (SIGNED, IDS, REPLAY, POP)
HARDENED = built(_hardened, CHECKS)

PROTOCOL = Protocol(
    name="mikey_key_transport",
    title="SRTP master key transport in SDP (MIKEY)",
    source="Kfoury & Khoury III.D.2, Fig. 6 and 8; RFC 3830 section 3.3; RFC 4567",
    status="paper: broken (key substitution); hardened: no attack within bound",
    narration=__doc__ or "",
    variants={"paper": PAPER, "hardened": HARDENED},
)
