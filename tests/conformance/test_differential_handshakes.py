"""Differential conformance of the handshakes: every role machine against the spec's runs.

For every protocol of the catalogue with role machines (psk_handshake, mikey_key_transport,
sts; keystore_registration and key_lookup have none: their code is the contract, the chain
client and the operator service, see test_differential_lookup, test_differential_lifecycle,
test_differential_service and tests/chain) and every variant, hypothesis generates schedules
of deliveries (:mod:`.differential`) and each one is decided by the code and by the spec: the
same accept with the same bindings, or both refuse naming the same check.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ethvoip.impl.handshake import IMPLEMENTED, psk
from ethvoip.spec.catalogue import CATALOGUE
from ethvoip.spec.errors import Check, PeerRefused
from ethvoip.spec.terms import Atom, Sign, Sort, Term, Tup, aenc, pk, sign, sk, tup
from tests.conformance.differential import Disagreement, Session, play, profile_examples
from tests.conformance.spec_refusal import expected_check

VARIANTS = sorted({(p, v) for p, v, _ in IMPLEMENTED})
WITHOUT_MACHINES = ("keystore_registration", "key_lookup")


def test_every_variant_with_machines_is_driven() -> None:
    want = {(p, v) for p, proto in CATALOGUE.items() for v in proto.variants}
    missing = {(p, v) for p, v in want if p not in WITHOUT_MACHINES} - set(VARIANTS)
    assert not missing and {p for p, _ in VARIANTS}.isdisjoint(WITHOUT_MACHINES)


@pytest.mark.parametrize(("protocol", "variant"), VARIANTS, ids=[f"{p}/{v}" for p, v in VARIANTS])
@settings(max_examples=profile_examples(ci=25, deep=6_000))
@given(data=st.data())
def test_code_and_spec_decide_alike(protocol: str, variant: str, data: st.DataObject) -> None:
    play(data, protocol, variant, deliveries=10)


def test_a_refusal_names_its_check_on_both_sides() -> None:
    """a's first message of its call to e, forwarded to b: b cannot open it (the code's
    decryption fails), the spec's pattern wants a ciphertext for pk(b)."""
    s = Session("psk_handshake", "hardened")
    s.start()
    to_e = next(m for m in s.log if m.run == 3 and m.label == "I_2")
    assert not s.deliver(2, to_e.data, to_e.term, "forward")
    assert s.last is not None
    code, spec = s.last
    assert (code.accepted, code.check) == (False, Check.DECRYPT.value)
    assert (spec.accepted, spec.check) == (False, "decrypt")


def test_a_refusal_under_another_name_is_a_disagreement(monkeypatch: pytest.MonkeyPatch) -> None:
    """psk message 4 with the intruder's nonces, for a: both refuse, the spec because N1 is
    not a's (``nonce_match``).  The code as it is names that check; with the echo check
    misnamed ``decode`` the same refusal is a disagreement."""
    n1, n2 = Session("psk_handshake", "paper").own[Sort.NONCE]
    forged = aenc(tup(n1, n2), pk(Atom("a", Sort.AGENT)))

    def deliver() -> None:
        s = Session("psk_handshake", "paper")
        s.start()
        data = s.forge(1, forged)
        assert data is not None
        assert not s.deliver(1, data, forged, "pattern")
        assert s.last is not None and s.last[1].check == Check.NONCE_MATCH.value

    deliver()

    def misnamed(what: str, got: bytes, want: bytes) -> None:
        if got != want:
            raise PeerRefused(f"{what} does not match", check=Check.DECODE)

    monkeypatch.setattr(psk, "_same", misnamed)
    with pytest.raises(Disagreement, match="refused by decode, the spec by nonce_match"):
        deliver()


def test_the_code_s_order_of_checks_decides_which_one_a_refusal_names() -> None:
    """MIKEY's I_MESSAGE for e, re-signed by e, forwarded to b: SIGNi, PKE and IDr all fail.
    The media codec verifies SIGNi first, so the spec's step names ``signature`` where the
    default order (a layer opened before what is inside) would name ``decrypt``; and as it
    is (signed by a), the codec opens PKE before it compares IDr."""
    s = Session("mikey_key_transport", "hardened")
    s.start()
    invite = next(m for m in s.log if m.run == 1 and m.label == "I_2")
    assert s.deliver(2, invite.data, invite.term, "honest")
    to_e = next(m for m in s.log if m.run == 3 and m.label == "I_3")
    assert isinstance(to_e.term, Tup) and isinstance(to_e.term.items[-1], Sign)
    by_e = tup(*to_e.term.items[:-1], sign(to_e.term.items[-1].body, sk(Atom("e", Sort.AGENT))))
    run, step = s.spec[2], s.expecting(2)

    def named(term: Term, protocol: str = "mikey_key_transport") -> Check | None:
        failure = expected_check(protocol, "hardened", run.role, step, run.bindings, term)
        return None if failure is None else failure.check

    assert named(by_e) is Check.SIGNATURE
    assert named(by_e, protocol="(default order)") is Check.DECRYPT
    assert named(to_e.term) is Check.DECRYPT
    assert not s.deliver(2, to_e.data, to_e.term, "forward")
    assert s.last is not None and s.last[0].check == Check.DECRYPT.value
