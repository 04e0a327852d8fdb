"""The differential tests can fail: with one check of a role machine removed, the generated
schedules find a message the code and the spec decide differently.

Each mutant below removes one refusal check (the way issue 18 §2 counts them: a ``raise``
under an ``if`` that no longer fires); a derandomized search like the CI profile's must report
a :class:`~tests.conformance.differential.Disagreement` for it, at the step whose check was
removed (the search stops at the first one, so only a mutant's search runs long).  The code
without mutants agrees on every generated message: test_differential_handshakes.

Not in the list, because the search does not reach it: the hardened STS signature checks.
A wrong signature there only matters inside a ciphertext under a Diffie-Hellman key the
intruder shares with the receiver, and the concrete intruder cannot build those (no ``senc``
rule, as in the trace replays); the name inside the ciphertext refuses every message he can
forward first.  tests/handshake and the attack scripts exercise that check.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from ethvoip.impl import wire
from ethvoip.impl.crypto import IdentityPublicKey
from ethvoip.impl.handshake import ReplayCache, mikey, psk, sts
from ethvoip.impl.handshake.machine import Run, Value
from ethvoip.impl.wire import Tag
from ethvoip.spec.errors import IdentityMismatch
from tests.conformance.differential import Disagreement, play, profile_examples

EXAMPLES = profile_examples(ci=300, deep=3000)


def disagreement(protocol: str, variant: str) -> Disagreement | None:
    """The first disagreement the search finds (no shrinking: only whether one exists)."""

    @settings(max_examples=EXAMPLES, derandomize=True, database=None, phases=[Phase.generate])
    @given(data=st.data())
    def search(data: st.DataObject) -> None:
        play(data, protocol, variant, deliveries=10)

    try:
        search()
    except Disagreement as exc:
        return exc
    return None


def _psk_i3_without_lowe_fix(run: Run, data: bytes) -> dict[str, Value]:
    rec = psk._open(run, Tag.PSK_2, Tag.PSK_2_BODY_HARDENED, data)
    psk._same("N1 in message 4", rec["N1"], run.bytes_("N1"))
    return {"N2": rec["N2"]}  # the name B in message 4 is no longer compared


def _sts_r1_without_dialog(run: Run, data: bytes) -> dict[str, Value]:
    rec = wire.decode(data, Tag.STS_1)
    if rec.text("B") != run.name("B"):
        raise IdentityMismatch("not to this agent")  # as impl/handshake/sts.py's R_1
    return {"GX": rec["GX"]}  # the caller's name is no longer held to the dialog's peer


def _invite_without_callee(run: Run, data: bytes) -> dict[str, Value]:
    return {"A": wire.decode(data, Tag.MIKEY_INVITE).text("A")}


Mutant = Callable[[pytest.MonkeyPatch], None]

MUTANTS: dict[str, tuple[str, str, Mutant]] = {  # name -> protocol, variant, removal
    "psk I_3 Lowe's fix": (
        "psk_handshake",
        "hardened",
        lambda mp: mp.setitem(psk.INITIATOR.recvs, "I_3", _psk_i3_without_lowe_fix),  # type: ignore[arg-type]
    ),
    "psk nonce echoes": (
        "psk_handshake",
        "paper",
        lambda mp: mp.setattr(psk, "_same", lambda *_: None),
    ),
    "psk signature (paper)": (
        "psk_handshake",
        "paper",
        lambda mp: mp.setattr(IdentityPublicKey, "verify", lambda *_: None),
    ),
    "psk signature (hardened)": (
        "psk_handshake",
        "hardened",
        lambda mp: mp.setattr(IdentityPublicKey, "verify", lambda *_: None),
    ),
    "sts signature (paper)": (
        "sts",
        "paper",
        lambda mp: mp.setattr(IdentityPublicKey, "verify", lambda *_: None),
    ),
    "mikey replay cache": (
        "mikey_key_transport",
        "hardened",
        lambda mp: mp.setattr(ReplayCache, "__contains__", lambda *_: False),
    ),
    "mikey INVITE callee": (
        "mikey_key_transport",
        "paper",
        lambda mp: mp.setitem(mikey.ROLES[("paper", "R")].recvs, "R_1", _invite_without_callee),  # type: ignore[arg-type]
    ),
    "sts dialog binding": (
        "sts",
        "hardened",
        lambda mp: mp.setitem(sts.RESPONDER.recvs, "R_1", _sts_r1_without_dialog),  # type: ignore[arg-type]
    ),
}


#: where each mutant's disagreement must show: the receive step whose check was removed
AT = {
    "psk I_3 Lowe's fix": "at I_3",
    "psk nonce echoes": "at [IR]_[345]",
    "psk signature (paper)": "at R_5",
    "psk signature (hardened)": "at R_5",
    "sts signature (paper)": "at (I_3|R_4)",
    "mikey replay cache": "at R_3",
    "mikey INVITE callee": "at R_1",
    "sts dialog binding": "at R_1",
}


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_a_removed_check_is_a_disagreement(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    protocol, variant, remove = MUTANTS[name]
    remove(monkeypatch)
    found = disagreement(protocol, variant)
    assert found is not None, f"{name}: no message told the mutant from the spec"
    assert re.search(AT[name], str(found)), found
