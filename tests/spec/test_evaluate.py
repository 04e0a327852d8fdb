"""The independent trace evaluator on Lowe's attack, written by hand, and on broken copies."""

from __future__ import annotations

import dataclasses

import pytest

from ethvoip.spec.catalogue import get
from ethvoip.spec.errors import StaleTrace, TraceError
from ethvoip.spec.evaluate import evaluate
from ethvoip.spec.terms import aenc, pk, sign, sk, tup
from ethvoip.spec.trace import TraceEvent
from tests.spec.lowe import N1, N2, Ks, a, b, e, lowe_trace

PSK = get("psk_handshake")


@pytest.mark.parametrize(
    "claim", ["R_secret_Ks", "R_weak_agree", "R_agree_nonces", "R_agree_Ks", "R_key_share"]
)
def test_lowe_violates_the_responders_claims(claim: str) -> None:
    assert evaluate(PSK, lowe_trace(claim)).violated


def test_lowe_leaves_aliveness_intact() -> None:
    # Lowe (1996): A did run, only with e; aliveness of A for B holds in his attack
    assert not evaluate(PSK, lowe_trace("R_alive")).violated


def _with_events(events: tuple[TraceEvent, ...], **kw: object) -> object:
    return dataclasses.replace(lowe_trace(), events=events, **kw)


def test_intruder_cannot_use_a_message_before_it_is_sent() -> None:
    ev = list(lowe_trace().events)
    # B's last receive moved before A sends message 6: e cannot have the signed key yet
    ev.insert(7, ev.pop(9))
    with pytest.raises(TraceError, match=r"not at step|cannot derive"):
        evaluate(PSK, _with_events(tuple(ev)))  # type: ignore[arg-type]


def test_intruder_cannot_forge_a_signature() -> None:
    ev = list(lowe_trace().events)
    ev[9] = TraceEvent(2, "R_5", "recv", aenc(tup(sign(Ks, sk(a)), N2), pk(b)))
    ev[7] = TraceEvent(1, "I_5", "send", aenc(tup(sign(Ks, sk(a)), N2), pk(b)))
    # A's run is with e, so message 6 goes to pk(e): the evaluator recomputes it
    with pytest.raises(TraceError, match="sends"):
        evaluate(PSK, _with_events(tuple(ev)))  # type: ignore[arg-type]


def test_receive_must_match_the_pattern() -> None:
    ev = list(lowe_trace().events)
    ev[2] = TraceEvent(2, "R_1", "recv", aenc(tup(N1, e), pk(b)))  # claims to be from e
    ev[3] = TraceEvent(2, "R_2", "lookup", pk(a))
    with pytest.raises(TraceError, match="directory holds"):
        evaluate(PSK, _with_events(tuple(ev)))  # type: ignore[arg-type]


def test_hardened_variant_rejects_lowes_messages() -> None:
    tr = dataclasses.replace(lowe_trace(), variant="hardened")
    # B now names itself in message 4, so Lowe's recorded message 4 is not what B sends
    with pytest.raises(TraceError, match="R_3 sends"):
        evaluate(PSK, tr)
    # and when e forwards what B really sends, A (who talks to e) sees B's name and stops
    ev = list(tr.events)
    ev[4] = TraceEvent(2, "R_3", "send", aenc(tup(N1, N2, b), pk(a)))
    ev[5] = TraceEvent(1, "I_3", "recv", aenc(tup(N1, N2, b), pk(a)))
    with pytest.raises(TraceError, match=r"event 5: .* does not match I_3"):
        evaluate(PSK, dataclasses.replace(tr, events=tuple(ev)))


def test_key_registration_needs_proof_of_possession_where_demanded() -> None:
    tr = dataclasses.replace(
        lowe_trace(), variant="hardened", directory={"a": pk(a), "b": pk(b), "e": pk(a)}
    )
    with pytest.raises(TraceError, match="proof of possession"):
        evaluate(PSK, tr)


def test_stale_trace_names_the_regeneration_command() -> None:
    tr = dataclasses.replace(lowe_trace(), spec_digest="0" * 64)
    with pytest.raises(StaleTrace, match=r"tests/spec/lowe\.py"):
        evaluate(PSK, tr)
