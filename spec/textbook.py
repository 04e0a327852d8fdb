"""Stock roles and claims of the textbook protocols, each written once.

The descriptions of :mod:`ethvoip.spec.classics` and :mod:`ethvoip.spec.protocols` state the
same facts many times over: the initiator is A, the responder B, the server S an honest agent
of its own; each side's session key stays secret; an authenticated Diffie-Hellman exchange
claims secrecy, agreement on both names and both shares, and no unknown key-share.  These
helpers say each fact once, in the terms of :mod:`ethvoip.spec.cast`, and return the plain
:class:`~ethvoip.spec.protocol.Role` and :class:`~ethvoip.spec.claims.Claim` values a
description would otherwise spell out (the description, and its digest, are the same).
"""

from __future__ import annotations

from typing import Required, TypedDict, Unpack

from ethvoip.spec.cast import GX, GY, K_I, K_R, A, B, S, gx, gy, vKab, x, y
from ethvoip.spec.claims import Claim, ClaimKind, Expect, attack, holds, share_agreement
from ethvoip.spec.protocol import Role, Variant
from ethvoip.spec.steps import Step
from ethvoip.spec.terms import Fresh, Term, Var, sk


class ServerFields(TypedDict, total=False):
    """What a key server's role leaves to the description: its steps, what it makes fresh."""

    steps: Required[tuple[Step, ...]]
    fresh: tuple[Fresh, ...]
    session_key: Term | None


class RoleFields(TypedDict, total=False):
    """What a stock role leaves to the description (see :class:`~ethvoip.spec.protocol.Role`):
    the parameters and the steps, and what it knows and makes fresh (by default nothing)."""

    params: Required[tuple[Var, ...]]
    steps: Required[tuple[Step, ...]]
    knows: tuple[Term, ...]
    fresh: tuple[Fresh, ...]
    session_key: Term | None


def _role(
    name: str,
    agent: Var,
    title: str,
    honest_only: bool,
    *,
    params: tuple[Var, ...],
    steps: tuple[Step, ...],
    knows: tuple[Term, ...] = (),
    fresh: tuple[Fresh, ...] = (),
    session_key: Term | None = None,
) -> Role:
    return Role(
        name=name,
        agent=agent,
        title=title,
        params=params,
        knows=knows,
        fresh=fresh,
        steps=steps,
        honest_only=honest_only,
        session_key=session_key,
    )


def initiator(*, title: str = "initiator A", **fields: Unpack[RoleFields]) -> Role:
    """Role ``I``, played by A."""
    return _role("I", A, title, False, **fields)


def responder(*, title: str = "responder B", **fields: Unpack[RoleFields]) -> Role:
    """Role ``R``, played by B."""
    return _role("R", B, title, False, **fields)


def server(
    *, title: str = "key server S", params: tuple[Var, ...] = (S,), **fields: Unpack[ServerFields]
) -> Role:
    """Role ``S``, played by the server S: an honest agent of its own, which holds no key
    beyond those it shares with each agent (``k(A, S)``, ``k(B, S)``)."""
    return _role("S", S, title, True, params=params, **fields)


def signing_dh_parties(
    i_steps: tuple[Step, ...],
    r_steps: tuple[Step, ...],
    *,
    r_params: tuple[Var, ...] = (B,),
    titles: tuple[str, str] = ("initiator A", "responder B"),
) -> tuple[Role, Role]:
    """Initiator A and responder B of a Diffie-Hellman exchange that each side signs: each
    knows its own private key, makes its exponent (``x``, ``y``) and ends holding its
    ``g^(xy)`` (``K_I``, ``K_R``); ``i_steps`` and ``r_steps`` are the messages."""
    i_title, r_title = titles
    return (
        initiator(
            title=i_title,
            params=(A, B),
            knows=(sk(A),),
            fresh=(x,),
            steps=i_steps,
            session_key=K_I,
        ),
        responder(
            title=r_title,
            params=r_params,
            knows=(sk(B),),
            fresh=(y,),
            steps=r_steps,
            session_key=K_R,
        ),
    )


def secret_keys(name: str, keys: tuple[Term, Term], what: str = "key") -> tuple[Claim, Claim]:
    """``I_secret_<name>`` and ``R_secret_<name>``: A's and B's ``keys`` stay secret."""
    i_key, r_key = keys
    return (
        Claim(f"I_secret_{name}", ClaimKind.SECRECY, "I", f"A's {what} stays secret", term=i_key),
        Claim(f"R_secret_{name}", ClaimKind.SECRECY, "R", f"B's {what} stays secret", term=r_key),
    )


def dh_claims(peer_at: tuple[str, str]) -> tuple[Claim, ...]:
    """The claims of an authenticated Diffie-Hellman exchange between initiator A and
    responder B (:mod:`ethvoip.spec.cast`'s shares): each side's ``g^(xy)`` stays secret, each
    agrees with the other on both names and both shares (``peer_at``: the steps R and I have
    reached, :func:`~ethvoip.spec.protocol.share_agreement`), and no unknown key-share."""
    return (
        *secret_keys("K", (K_I, K_R), "key g^(xy)"),
        *share_agreement((A, B), (gx, gy), (GY, GX), peer_at=peer_at),
        Claim("I_key_share", ClaimKind.KEY_AGREEMENT, "I", "no unknown key-share for A", term=K_I),
        Claim("R_key_share", ClaimKind.KEY_AGREEMENT, "R", "no unknown key-share for B", term=K_R),
    )


def unknown_key_share(secret: str, i_fails: str, r_fails: str) -> dict[str, Expect]:
    """The expectations of :func:`dh_claims` under an unknown key-share in two runs: the key
    stays secret (``secret`` says why), but A's claims fail (``i_fails``: the attack) and, in
    the mirrored attack, B's (``r_fails``)."""
    return {
        "I_secret_K": holds(secret),
        "R_secret_K": holds(secret),
        "I_agree": attack(2, i_fails),
        "R_agree": attack(2, r_fails),
        "I_key_share": attack(2, i_fails),
        "R_key_share": attack(2, r_fails),
    }


def took_part(peer_at: str) -> tuple[Claim, Claim]:
    """B's two weakest guarantees in Lowe's hierarchy: A has taken part at all
    (``R_alive``), and ran the protocol with B, as far as step ``peer_at`` (``R_weak_agree``)."""
    return (
        Claim("R_alive", ClaimKind.ALIVENESS, "R", "A has taken part at all", peer="I"),
        Claim(
            "R_weak_agree",
            ClaimKind.WEAK_AGREEMENT,
            "R",
            "A ran the protocol with B",
            peer="I",
            peer_at=peer_at,
        ),
    )


def agrees_on_nonces(nonces: tuple[Term, Term], peer_at: str) -> Claim:
    """``I_agree``: A agrees with B, one-to-one (injective agreement), on both names and both
    ``nonces`` (its own, then the one it received) once B has reached ``peer_at``."""
    return Claim(
        "I_agree",
        ClaimKind.I_AGREEMENT,
        "I",
        "A agrees with B, one-to-one, on both names and both nonces",
        peer="R",
        data=(A, B, *nonces),
        peer_at=peer_at,
    )


def key_server_variant(summary: str, roles: tuple[Role, ...], why: str) -> Variant:
    """The one variant, ``original``, of a classic in which the key server S makes a session
    key ``Kab`` for A and B: each side's key stays secret (``why``: who says so), among three
    honest agents (A, B and the server)."""
    claims = secret_keys("Kab", (vKab, vKab))
    return Variant(
        name="original",
        summary=summary,
        roles=roles,
        claims=claims,
        expected={c.name: holds(why) for c in claims},
        honest_agents=3,
    )
