"""What a variant claims, and the verdict expected on each claim.

Claim semantics (shared by the model checker, the trace evaluator and the docs).  A claim is
made by a run ``r`` of role ``role`` once ``r`` has executed its last step, and only when
every agent ``r`` believes takes part is honest.  Then:

``SECRECY(term)``
    the intruder cannot derive ``r``'s value of ``term`` at the end of the trace.
``ALIVENESS(peer)``
    the agent ``r`` believes plays ``peer`` executed some step before ``r`` finished.
``WEAK_AGREEMENT(peer)``
    some run ``s`` of role ``peer`` by that agent, believing it talks to ``r``'s actor, has
    executed ``peer_at`` before ``r`` finished.
``NI_AGREEMENT(peer, data)``
    as weak agreement, and ``s``'s values of ``peer_data`` (default: ``data``, evaluated in the
    peer role) equal ``r``'s values of ``data`` item by item.
``I_AGREEMENT(peer, data)``
    as non-injective agreement, with distinct claiming runs matched to distinct runs ``s``.
``KEY_AGREEMENT(term)``
    every other finished run whose ``session_key`` equals ``r``'s value of ``term`` binds every
    role's agent variable as ``r`` does (no unknown key-share).

Agreement data is shared between roles by variable name unless ``peer_data`` says otherwise:
the initiator's fresh ``N1`` is the responder's variable ``N1``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from ethvoip.spec.terms import Term


class ClaimKind(enum.StrEnum):
    SECRECY = "secrecy"
    ALIVENESS = "aliveness"
    WEAK_AGREEMENT = "weak_agreement"
    NI_AGREEMENT = "ni_agreement"
    I_AGREEMENT = "i_agreement"
    KEY_AGREEMENT = "key_agreement"


AGREEMENTS = frozenset(
    {ClaimKind.ALIVENESS, ClaimKind.WEAK_AGREEMENT, ClaimKind.NI_AGREEMENT, ClaimKind.I_AGREEMENT}
)


@dataclass(frozen=True)
class Claim:
    """A security property claimed by the role ``role`` when a run of it finishes."""

    name: str
    kind: ClaimKind
    role: str
    description: str
    term: Term | None = None
    peer: str | None = None
    data: tuple[Term, ...] = ()
    peer_data: tuple[Term, ...] | None = None
    peer_at: str | None = None

    @property
    def peer_view(self) -> tuple[Term, ...]:
        """The agreement data in the peer role's own terms (default: the same names)."""
        return self.data if self.peer_data is None else self.peer_data


class Verdict(enum.StrEnum):
    """Three-valued: a bounded search never says "secure"."""

    ATTACK = "attack"
    NO_ATTACK = "no attack within bound"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Expect:
    """The verdict a claim should get, and for attacks the fewest role runs that exhibit one."""

    verdict: Verdict
    runs: int | None = None
    why: str = ""


def share_agreement(
    names: tuple[Term, Term],
    mine: tuple[Term, Term],
    received: tuple[Term, Term],
    *,
    peer_at: tuple[str, str],
    shares: str = "shares",
) -> tuple[Claim, ...]:
    """``I_agree`` and ``R_agree`` of a two-party Diffie-Hellman exchange between roles I and R:
    each side agrees with the other on both ``names`` (A, B) and both shares.  ``mine`` are
    the shares each side makes (``g^x``, ``g^y``), ``received`` the variables each binds the
    other's to (``GY`` at I, ``GX`` at R); ``peer_at`` the steps R and I have reached."""
    a, b = names
    gx, gy = mine
    gy_seen, gx_seen = received
    at_i, at_r = (a, b, gx, gy_seen), (a, b, gx_seen, gy)  # what each side holds
    return tuple(
        Claim(
            f"{role}_agree",
            ClaimKind.NI_AGREEMENT,
            role,
            f"{me} agrees with {them} on both names and both {shares}",
            peer=peer,
            data=data,
            peer_data=peer_data,
            peer_at=at,
        )
        for role, peer, me, them, data, peer_data, at in (
            ("I", "R", "A", "B", at_i, at_r, peer_at[0]),
            ("R", "I", "B", "A", at_r, at_i, peer_at[1]),
        )
    )


def attack(runs: int, why: str) -> Expect:
    return Expect(Verdict.ATTACK, runs, why)


def holds(why: str = "") -> Expect:
    return Expect(Verdict.NO_ATTACK, None, why)
