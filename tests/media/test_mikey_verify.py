"""RFC 3830 R_MESSAGE (mutual authentication): the responder's answer verifies, and every
change to it, and every value it is bound to (envelope key, IDi, IDr, the offer's T, the
CSB), is refused with a typed error.  tshark's reading of it is in test_tshark.py."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ethvoip.impl.media import mikey as m
from ethvoip.impl.media.mikey_kdf import derive_envelope_keys
from ethvoip.impl.media.mikey_replay import unix_to_ntp
from ethvoip.impl.media.mikey_verify import V_MAC_LEN, build_r_message, verify_r_message
from ethvoip.spec.errors import Check, CryptoError, DecodeError, EthVoipError, ReplayError
from tests.refusals import refused

NOW = 1_800_000_000.0
VALUES = {
    "env_key": bytes(range(16)),
    "csb_id": 0xC0FFEE,
    "rand": bytes(range(100, 116)),
    "id_i": b"sip:alice@ethvoip",
    "id_r": b"sip:bob@ethvoip",
    "t_i": unix_to_ntp(NOW - 1),
}
R = build_r_message(crypto_sessions=(m.CryptoSession(0, 0x1234, 0),), now=NOW, **VALUES)  # type: ignore[arg-type]


def check(data: bytes, now: float = NOW, **changed: object) -> None:
    verify_r_message(data, now=now, window=120, **{**VALUES, **changed})  # type: ignore[arg-type]


def test_the_responders_answer_verifies() -> None:
    check(R)
    msg = m.decode_message(R)
    assert msg.header.data_type is m.DataType.PK_VERIFY and not msg.header.v_flag
    assert [type(p).__name__ for p in msg.payloads] == ["Timestamp", "Identity", "Verification"]


@given(st.integers(0, len(R) * 8 - 1))
def test_any_bit_flip_is_refused_with_a_typed_error(bit: int) -> None:
    flipped = bytearray(R)
    flipped[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(EthVoipError):
        check(bytes(flipped))


@pytest.mark.parametrize(
    "changed",
    [
        {"env_key": bytes(16)},  # the responder did not open the envelope
        {"id_i": b"sip:eve@ethvoip"},  # an answer to someone else's offer
        {"t_i": unix_to_ntp(NOW - 2)},  # an answer to another offer of the same pair
        {"rand": bytes(16)},
    ],
    ids=["env_key", "id_i", "t_i", "rand"],
)
def test_bound_values_must_match(changed: dict[str, object]) -> None:
    with refused(Check.MAC, CryptoError):
        check(R, **changed)


def test_other_responder_other_csb_and_stale_answers_are_refused() -> None:
    with refused(Check.IDENTITY_BINDING, CryptoError):
        check(R, id_r=b"sip:carol@ethvoip")
    with refused(Check.NONCE_MATCH, CryptoError):
        check(R, csb_id=1)
    with pytest.raises(ReplayError):
        check(R, now=NOW + 121)


def _answer(
    data_type: m.DataType = m.DataType.PK_VERIFY,
    ts_type: m.TsType = m.TsType.NTP_UTC,
    with_id: bool = True,
    extra: tuple[m.Identity, ...] = (),
    mac_alg: m.MacAlg = m.MacAlg.HMAC_SHA1_160,
) -> bytes:
    """An R_MESSAGE made as the responder makes it, with one thing changed, correctly MAC'd:
    only the check of that one thing can refuse it."""
    auth_key = derive_envelope_keys(VALUES["env_key"], VALUES["csb_id"], VALUES["rand"]).auth
    header = m.Header(data_type, VALUES["csb_id"], (m.CryptoSession(0, 0x1234, 0),))
    ts = 7 if ts_type is m.TsType.COUNTER else unix_to_ntp(NOW)
    ids = (m.Identity(m.IdType.URI, VALUES["id_r"]),) if with_id else ()
    body = (m.Timestamp(ts_type, ts), *ids, *extra, m.Verification(mac_alg, bytes(V_MAC_LEN)))
    unsigned = m.encode_message(m.MikeyMessage(header, body))[:-V_MAC_LEN]
    data = unsigned + VALUES["id_i"] + VALUES["id_r"] + VALUES["t_i"].to_bytes(8, "big")  # type: ignore[operator, attr-defined]
    return unsigned + hmac.new(auth_key, data, hashlib.sha1).digest()


def test_well_macd_answers_of_the_wrong_form_are_refused() -> None:
    assert _answer() == R  # the same construction as the responder's
    check(_answer(with_id=False))  # IDr is optional (RFC 3830 section 3.2)
    with pytest.raises(DecodeError, match="want PK_VERIFY"):
        check(_answer(data_type=m.DataType.PK_INIT))
    with pytest.raises(DecodeError, match="want T"):
        check(_answer(extra=(m.Identity(m.IdType.URI, b"sip:carol@ethvoip"),)))
    with pytest.raises(ReplayError):  # a counter is no time: the window cannot be checked
        check(_answer(ts_type=m.TsType.COUNTER))
    with pytest.raises(ReplayError):  # NTP in local time, not UTC: the time is not comparable
        check(_answer(ts_type=m.TsType.NTP))


def test_mac_algorithm_must_be_hmac_sha1() -> None:
    raw = bytearray(R)
    raw[-V_MAC_LEN - 1] = m.MacAlg.NULL  # V payload: next payload, MAC alg, MAC
    with pytest.raises(DecodeError, match="HMAC-SHA-1-160"):
        check(bytes(raw[:-V_MAC_LEN]))


def test_timestamp_window_is_inclusive() -> None:
    check(R, now=NOW + 120)
    check(R, now=NOW - 120)
    with pytest.raises(ReplayError):
        check(R, now=NOW - 121)
