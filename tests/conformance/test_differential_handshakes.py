"""Differential conformance of the handshakes: every role machine against the spec's runs.

For every protocol of the catalogue with role machines (psk_handshake, mikey_key_transport,
sts; keystore_registration and key_lookup have none: their code is the contract, the chain
client and the operator service, see test_differential_keystore and tests/chain) and every
variant, hypothesis generates schedules of deliveries (:mod:`.differential`) and each one is
decided by the code and by the spec: the same accept with the same bindings, or both refuse.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ethvoip.impl.handshake import IMPLEMENTED
from ethvoip.spec.catalogue import CATALOGUE
from ethvoip.spec.errors import Check
from tests.conformance.differential import Session, play, profile_examples

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
    assert (code.accepted, code.check) == (False, Check.DECRYPT.name)
    assert (spec.accepted, spec.check) == (False, "pattern:pk(b)")
