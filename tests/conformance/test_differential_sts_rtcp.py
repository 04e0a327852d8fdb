"""Differential conformance of the STS re-key as it runs in a call: in RTCP APP packets.

The STS machines are driven against the spec as in test_differential_handshakes, but every
message travels as the call carries it (:mod:`ethvoip.impl.call.sts_rtcp`): one ``STS1``
RTCP APP packet per message, length-prefixed and padded, and the receiving side takes it out
as the call's loop does (exactly one STS message per packet, then ``unwrap``).  Byte edits
hit the RTCP packet: what still unwraps is read back as the message it carries and decided
by both sides; what does not is refused by the code's form check, and by the spec as a
message that does not decode.  The dialog binding of the re-key (the responder's ``R_1``
names the call's peer, ``dialog_binding``) is compared by check name like every refusal.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ethvoip.impl.call import sts_rtcp
from ethvoip.impl.media.rtcp import RtcpApp, decode_rtcp, encode_rtcp
from ethvoip.spec.errors import DecodeError
from tests.conformance.differential import Carrier, Session, play, profile_examples

SSRC = 0x5EED


def _wrap(message: bytes) -> bytes:
    return encode_rtcp([sts_rtcp.wrap(message, 1, SSRC)])


def _unwrap(data: bytes) -> bytes:
    apps = [p for p in decode_rtcp(data) if isinstance(p, RtcpApp)]
    sts = [p for p in apps if p.name == sts_rtcp.STS_NAME]
    if len(sts) != 1:  # the call's loop: one STS message per packet (none: not one for it)
        raise DecodeError("want one STS message per RTCP packet")
    return sts_rtcp.unwrap(sts[0])


RTCP = Carrier("rtcp", _wrap, _unwrap)


@pytest.mark.parametrize("variant", ["paper", "hardened", "unbound"])
@settings(max_examples=profile_examples(ci=15, deep=6_000))
@given(data=st.data())
def test_sts_in_rtcp_decides_like_the_spec(variant: str, data: st.DataObject) -> None:
    play(data, "sts", variant, deliveries=10, carrier=RTCP)


def test_a_broken_carrier_is_refused_on_both_sides() -> None:
    """STS message 1 with its RTCP length prefix cut short: the code cannot take the message
    out (``decode``), and the spec does not read it as any message."""
    s = Session("sts", "hardened", carrier=RTCP)
    s.start()
    m1 = next(m for m in s.log if m.run == 1 and m.label == "I_2")
    wire = bytearray(_wrap(m1.data))
    wire[12:14] = (len(m1.data) + 1).to_bytes(2, "big")  # the APP data's length prefix
    assert not s.deliver(2, b"", s.junk(), "bytes", bytes(wire))
    assert s.last is not None
    assert (s.last[0].check, s.last[1].check) == ("decode", "decode")
    assert s.deliver(2, m1.data, m1.term, "honest")  # carried intact, it goes through
