"""MIKEY public-key mode end to end, with real secp256k1 identity keys (ethvoip.impl.crypto):
an I_MESSAGE opens to the TGK that was sent, and every tampering, replay, stale timestamp,
wrong key or wrong responder is refused with a typed error and leaves the replay cache
unchanged."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ethvoip.impl.crypto import IdentityKey, IdentityPublicKey, seeded_rng
from ethvoip.impl.media import mikey as m
from ethvoip.impl.media import mikey_pk
from ethvoip.impl.media.mikey_identity import (
    SIG_LEN,
    ecdsa_signer,
    ecdsa_verifier,
    ecies_envelope,
    ecies_open,
)
from ethvoip.impl.media.mikey_kdf import derive_envelope_keys
from ethvoip.impl.media.mikey_pk import KeyTransport, build_i_message, open_i_message
from ethvoip.impl.media.mikey_replay import ReplayGuard, unix_to_ntp
from ethvoip.spec.errors import (
    Check,
    CryptoError,
    DecodeError,
    EthVoipError,
    LocalProtocolError,
    RemoteProtocolError,
    ReplayError,
)
from tests.refusals import refused

NOW = 1_800_000_000.0
ALICE = IdentityKey.generate(seeded_rng(b"alice"))
BOB = IdentityKey.generate(seeded_rng(b"bob"))
MALLORY = IdentityKey.generate(seeded_rng(b"mallory"))
DIRECTORY = {b"sip:alice@ethvoip": ALICE.public_key, b"sip:mallory@ethvoip": MALLORY.public_key}
TGK = bytes(range(32))
RAND = bytes(range(200, 216))


def lookup(id_i: bytes | None) -> IdentityPublicKey:
    if id_i not in DIRECTORY:
        raise CryptoError("unknown initiator")
    return DIRECTORY[id_i]


def build(signer: IdentityKey = ALICE, id_i: bytes = b"sip:alice@ethvoip", **kw: object) -> bytes:
    args: dict[str, object] = dict(
        tgk=TGK,
        env_key=bytes(range(50, 66)),
        rand=RAND,
        now=NOW,
        csb_id=0xC0FFEE,
        crypto_sessions=(m.CryptoSession(0, 0x1234, 0),),
        encrypt_envelope=ecies_envelope(BOB.public_key, seeded_rng(b"eph")),
        sign=ecdsa_signer(signer),
        sig_len=SIG_LEN,
        id_i=id_i,
        id_r=b"sip:bob@ethvoip",
        policies=(m.srtp_policy_aes_cm_128_hmac_sha1_80(),),
    )
    args.update(kw)
    return build_i_message(**args)  # type: ignore[arg-type]


def open_(
    data: bytes, guard: ReplayGuard, now: float = NOW, key: IdentityKey = BOB
) -> KeyTransport:
    return open_i_message(
        data,
        now=now,
        replay=guard,
        decrypt_envelope=ecies_open(key),
        verify=ecdsa_verifier(lookup),
        expected_id_r=b"sip:bob@ethvoip",
    )


def test_open_returns_what_was_sent() -> None:
    guard = ReplayGuard()
    kt = open_(build(), guard)
    assert kt.tgk == TGK and kt.rand == RAND and kt.csb_id == 0xC0FFEE
    assert (kt.id_i, kt.id_r) == (b"sip:alice@ethvoip", b"sip:bob@ethvoip")
    assert kt.ntp_time == unix_to_ntp(NOW)
    assert kt.policies == (m.srtp_policy_aes_cm_128_hmac_sha1_80(),)
    key, salt = kt.srtp_master(1)
    assert len(key) == 16 and len(salt) == 14
    assert len(guard) == 1


def test_message_layout_is_rfc3830_pk_mode() -> None:
    msg = m.decode_message(build())
    kinds = [type(p).__name__ for p in msg.payloads]
    assert kinds == [
        "Timestamp",
        "Rand",
        "Identity",
        "Identity",
        "SecurityPolicy",
        "Kemac",
        "Pke",
        "Sign",
    ]
    assert msg.header.data_type is m.DataType.PK_INIT
    kemac = msg.payloads[5]
    assert isinstance(kemac, m.Kemac)
    # The TGK is not in the clear anywhere in the message.
    assert TGK not in build()
    # Decrypting by hand with the section 4.1.4 keys gives a Key data sub-payload with the TGK.
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    keys = derive_envelope_keys(bytes(range(50, 66)), 0xC0FFEE, RAND)
    t = (0xC0FFEE).to_bytes(4, "big") + unix_to_ntp(NOW).to_bytes(8, "big")
    iv = bytes(a ^ b for a, b in zip(keys.salt, b"\x00\x00" + t, strict=True)) + b"\x00\x00"
    d = Cipher(algorithms.AES(keys.encr), modes.CTR(iv)).decryptor()
    plain = d.update(kemac.encr_data) + d.finalize()
    assert plain == b"\x00\x00\x00\x20" + TGK  # last, TGK/KV null, len 32


def test_replay_is_refused_and_cache_unchanged_by_failures() -> None:
    guard = ReplayGuard()
    data = build()
    open_(data, guard)
    with pytest.raises(ReplayError):
        open_(data, guard, now=NOW + 1)
    assert len(guard) == 1


def test_timestamp_window() -> None:
    with pytest.raises(ReplayError):
        open_(build(), ReplayGuard(window=60), now=NOW + 61)
    with pytest.raises(ReplayError):
        open_(build(), ReplayGuard(window=60), now=NOW - 61)
    open_(build(), ReplayGuard(window=60), now=NOW + 59)


def test_cache_forgets_entries_outside_window_and_refuses_when_full() -> None:
    guard = ReplayGuard(window=10, max_entries=1)
    guard.commit(NOW, b"a", NOW)
    with pytest.raises(ReplayError):
        guard.check(NOW, b"b", NOW)  # full of a live entry
    guard.commit(NOW + 15, b"b", NOW + 15)  # "a" left the window, so it was dropped
    assert len(guard) == 1


def test_cache_is_per_sender_one_sender_filling_his_share_blocks_only_himself() -> None:
    guard = ReplayGuard(window=10, max_entries=2, max_senders=2)
    guard.commit(NOW, b"1", NOW, sender=b"sip:carol")
    guard.commit(NOW, b"2", NOW, sender=b"sip:carol")
    with refused(Check.REPLAY_CAPACITY, ReplayError):
        guard.check(NOW, b"3", NOW, sender=b"sip:carol")
    guard.commit(NOW, b"1", NOW, sender=b"sip:alice")  # same digest, other sender: its own
    with refused(Check.REPLAY, ReplayError):
        guard.check(NOW, b"1", NOW, sender=b"sip:alice")
    with refused(Check.REPLAY_CAPACITY, ReplayError):
        guard.check(NOW, b"x", NOW, sender=b"sip:mallory")
    assert len(guard) == 3
    guard.commit(NOW + 11, b"x", NOW + 11, sender=b"sip:mallory")  # the others left the window
    assert len(guard) == 1


def test_open_keys_the_cache_on_the_initiator_identity() -> None:
    guard = ReplayGuard(max_entries=1)
    open_(build(rand=bytes(16)), guard)
    # a second, different message from the same IDi hits that sender's full share ...
    with refused(Check.REPLAY_CAPACITY, ReplayError):
        open_(build(rand=bytes([1] * 16)), guard)
    # ... while Mallory's, with the very same T and RAND, has a share of its own
    open_(build(MALLORY, b"sip:mallory@ethvoip", rand=bytes(16)), guard)
    assert len(guard) == 2


def test_malleated_signature_still_hits_replay_cache() -> None:
    # ECDSA (r, s) and (r, n - s) both verify under plain ECDSA; our key refuses high s,
    # and even if a verifier accepted it, the cache is keyed on the signed bytes.
    guard = ReplayGuard()
    data = build()
    open_(data, guard)
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    r, s = data[-64:-32], int.from_bytes(data[-32:], "big")
    flipped = data[:-64] + r + (n - s).to_bytes(32, "big")
    with pytest.raises((ReplayError, CryptoError)):
        open_i_message(
            flipped,
            now=NOW,
            replay=guard,
            decrypt_envelope=ecies_open(BOB),
            verify=lambda *_: True,
        )


def test_wrong_signer_wrong_key_wrong_responder() -> None:
    with pytest.raises(CryptoError):  # Mallory signs but claims to be Alice
        open_(build(signer=MALLORY), ReplayGuard())
    with pytest.raises(CryptoError):  # not for us: our key cannot open the PKE
        open_(build(), ReplayGuard(), key=MALLORY)
    with pytest.raises(RemoteProtocolError):  # signed for Carol's eyes, replayed to Bob
        open_(
            build(id_r=b"sip:carol@ethvoip", encrypt_envelope=ecies_envelope(BOB.public_key)),
            ReplayGuard(),
        )
    with pytest.raises(CryptoError):  # unknown initiator
        open_(build(id_i=b"sip:nobody@ethvoip"), ReplayGuard())


def test_bad_mac_with_a_valid_signature_is_refused() -> None:
    # The signer re-signs a message whose KEMAC MAC is wrong: the MAC check must still fire.
    data = build()
    msg = m.decode_message(data)
    k = next(i for i, p in enumerate(msg.payloads) if isinstance(p, m.Kemac))
    kemac = msg.payloads[k]
    assert isinstance(kemac, m.Kemac)
    bad = dataclasses.replace(kemac, mac=bytes(20))
    payloads = (*msg.payloads[:k], bad, *msg.payloads[k + 1 :])
    unsigned = m.encode_message(m.MikeyMessage(msg.header, payloads))[:-SIG_LEN]
    resigned = unsigned + ecdsa_signer(ALICE)(unsigned)
    guard = ReplayGuard()
    with refused(Check.MAC, CryptoError):
        open_(resigned, guard)
    assert len(guard) == 0


@settings(max_examples=150)
@given(st.data())
def test_any_single_byte_change_is_refused(data: st.DataObject) -> None:
    raw = bytearray(build())
    i = data.draw(st.integers(0, len(raw) - 1))
    raw[i] ^= data.draw(st.integers(1, 255))
    guard = ReplayGuard()
    with pytest.raises(EthVoipError) as exc:
        open_(bytes(raw), guard)
    assert isinstance(exc.value, DecodeError | CryptoError | ReplayError | RemoteProtocolError)
    assert len(guard) == 0


@settings(max_examples=100)
@given(st.binary(max_size=300))
def test_fuzz_open(data: bytes) -> None:
    with pytest.raises((DecodeError, CryptoError)):
        open_(data, ReplayGuard())


def test_signature_type_other_than_the_agreed_one_is_refused() -> None:
    # Alice's genuine ECDSA signature, in a SIGN payload that declares RSA/PKCS#1: the bytes
    # verify, but the declared algorithm is not the one agreed (no algorithm confusion).
    guard = ReplayGuard()
    for s_type in (m.SIGN_RSA_PKCS1, m.SIGN_RSA_PSS):
        with pytest.raises(DecodeError, match="signature type"):
            open_(build(s_type=s_type), guard)
    assert len(guard) == 0
    assert open_(build(), guard).tgk == TGK


def _resigned(change: object) -> bytes:
    """Alice's I_MESSAGE with one payload or the header changed, signed again by Alice: the
    signature verifies, so only the check of that one thing can refuse it."""
    msg = m.decode_message(build())
    changed = change(msg)  # type: ignore[operator]
    unsigned = m.encode_message(changed)[:-SIG_LEN]
    return unsigned + ecdsa_signer(ALICE)(unsigned)


def _swap(kind: type, new: object) -> object:
    def change(msg: m.MikeyMessage) -> m.MikeyMessage:
        payloads = tuple(new if isinstance(p, kind) else p for p in msg.payloads)
        return m.MikeyMessage(msg.header, payloads)

    return change


def _payload(kind: type) -> object:
    return next(p for p in m.decode_message(build()).payloads if isinstance(p, kind))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda msg: m.MikeyMessage(
                dataclasses.replace(msg.header, data_type=m.DataType.PSK_INIT), msg.payloads
            ),
            "want PK_INIT",
        ),
        (_swap(m.Timestamp, m.Timestamp(m.TsType.COUNTER, 5)), "NTP-UTC"),
        (_swap(m.Rand, m.Rand(RAND[:15])), "RAND shorter"),
        (
            _swap(m.Kemac, dataclasses.replace(_payload(m.Kemac), encr_alg=m.EncrAlg.NULL)),  # type: ignore[type-var]
            "KEMAC must be",
        ),
        (
            _swap(m.Kemac, dataclasses.replace(_payload(m.Kemac), mac_alg=m.MacAlg.NULL, mac=b"")),  # type: ignore[type-var]
            "KEMAC must be",
        ),
    ],
    ids=["data-type", "counter-timestamp", "short-rand", "null-encryption", "null-mac"],
)
def test_signed_messages_of_the_wrong_form_are_refused(change: object, message: str) -> None:
    assert open_(_resigned(lambda msg: msg), ReplayGuard()).tgk == TGK  # re-signing alone is fine
    guard = ReplayGuard()
    with pytest.raises(DecodeError, match=message):
        open_(_resigned(change), guard)
    assert len(guard) == 0


def test_builder_refuses_what_would_make_a_weak_or_ambiguous_message() -> None:
    with pytest.raises(LocalProtocolError, match="RAND"):
        build(rand=RAND[:15])
    build(rand=RAND[:16])  # the shortest RAND taken
    with pytest.raises(LocalProtocolError, match="IDr without IDi"):
        build(id_i=None)
    with pytest.raises(LocalProtocolError, match="signer returned"):
        build(sign=lambda unsigned: ecdsa_signer(ALICE)(unsigned)[:-1])


def test_srtp_master_only_for_a_crypto_session_of_the_bundle() -> None:
    kt = open_(build(), ReplayGuard())
    assert len(kt.crypto_sessions) == 1
    for cs_id in (0, 2):
        with pytest.raises(LocalProtocolError, match="no crypto session"):
            kt.srtp_master(cs_id)


def _reordered(order: object) -> object:
    def change(msg: m.MikeyMessage) -> m.MikeyMessage:
        return m.MikeyMessage(msg.header, order(list(msg.payloads)))  # type: ignore[operator]

    return change


CAROL = m.Identity(m.IdType.URI, b"sip:carol@ethvoip")


def _swap_at(i: int, j: int) -> object:
    def order(ps: list[object]) -> tuple[object, ...]:
        ps[i], ps[j] = ps[j], ps[i]
        return tuple(ps)

    return _reordered(order)


@pytest.mark.parametrize(
    "change",
    [
        _swap_at(0, 1),  # RAND before T
        _swap_at(-3, -2),  # PKE before KEMAC
        _swap_at(3, 4),  # SP before IDr
        _reordered(lambda ps: (*ps[:4], CAROL, *ps[4:])),
        _reordered(lambda ps: (CAROL, *ps[1:])),  # no T: an ID where it belongs
        _reordered(lambda ps: (ps[0], CAROL, *ps[2:])),  # no RAND
    ],
    ids=["rand-first", "pke-before-kemac", "sp-before-id", "three-ids", "no-t", "no-rand"],
)
def test_signed_messages_out_of_rfc3830_order_are_refused(change: object) -> None:
    guard = ReplayGuard()
    with pytest.raises(DecodeError, match="not an I_MESSAGE"):
        open_(_resigned(change), guard)
    assert len(guard) == 0


def test_the_smallest_i_message_opens() -> None:
    # T, RAND, KEMAC, PKE, SIGN: no IDs, no policy (RFC 3830 makes them optional)
    smallest = build(id_i=None, id_r=None, policies=())
    assert len(m.decode_message(smallest).payloads) == 5
    kt = open_i_message(
        smallest,
        now=NOW,
        replay=ReplayGuard(),
        decrypt_envelope=ecies_open(BOB),
        verify=ecdsa_verifier(lambda _id: ALICE.public_key),
    )
    assert kt.tgk == TGK and kt.id_i is None and kt.id_r is None


def test_a_message_of_t_and_rand_alone_is_refused_typed() -> None:
    msg = m.decode_message(build())
    two = m.encode_message(m.MikeyMessage(msg.header, msg.payloads[:2]))
    with pytest.raises(DecodeError, match="not an I_MESSAGE"):
        open_(two, ReplayGuard())


def test_a_verifier_that_answers_false_refuses() -> None:
    # VerifyFn may answer False instead of raising: that is a refusal too.
    with pytest.raises(CryptoError, match="bad initiator signature"):
        open_i_message(
            build(),
            now=NOW,
            replay=ReplayGuard(),
            decrypt_envelope=ecies_open(BOB),
            verify=lambda id_i, signed, signature: False,
        )


def test_replay_and_stale_messages_are_refused_before_the_envelope_is_opened() -> None:
    opened: list[bytes] = []

    def decrypt(pke: bytes) -> bytes:
        opened.append(pke)
        return ecies_open(BOB)(pke)

    def open_counting(data: bytes, guard: ReplayGuard, now: float = NOW) -> KeyTransport:
        return open_i_message(
            data,
            now=now,
            replay=guard,
            decrypt_envelope=decrypt,
            verify=ecdsa_verifier(lookup),
            expected_id_r=b"sip:bob@ethvoip",
        )

    guard = ReplayGuard(window=60)
    data = build()
    open_counting(data, guard)
    assert len(opened) == 1
    with pytest.raises(ReplayError):
        open_counting(data, guard, now=NOW + 1)  # a replay
    with pytest.raises(ReplayError):
        open_counting(build(), ReplayGuard(window=60), now=NOW + 61)  # stale
    assert len(opened) == 1  # neither envelope was opened


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ([m.KeyData(m.KeyType.TGK, TGK), m.KeyData(m.KeyType.TGK, TGK[::-1])], "exactly one TGK"),
        ([m.KeyData(m.KeyType.TEK, TGK)], "exactly one TGK"),
        (
            [m.KeyData(m.KeyType.TGK, TGK, kv_type=m.KvType.SPI, kv_data=(b"\x01",))],
            "exactly one TGK",
        ),
        ([m.KeyData(m.KeyType.TGK, b"")], "empty TGK"),
    ],
    ids=["two-tgks", "tek", "kv-spi", "empty"],
)
def test_kemac_must_carry_exactly_one_plain_tgk(
    monkeypatch: pytest.MonkeyPatch, items: list[m.KeyData], message: str
) -> None:
    # The sender's own builder, encrypting, MACing and signing other key data than one TGK:
    # every other check passes, only the key data check can refuse it.
    monkeypatch.setattr(mikey_pk, "encode_key_data", lambda _one: m.encode_key_data(items))
    data = build()
    monkeypatch.undo()
    guard = ReplayGuard()
    with pytest.raises(DecodeError, match=message):
        open_(data, guard)
    assert len(guard) == 0


def test_replay_window_is_inclusive_and_ntp_time_starts_at_the_unix_epoch() -> None:
    guard = ReplayGuard(window=60)
    guard.check(NOW, b"d1", NOW + 60)
    guard.check(NOW, b"d2", NOW - 60)
    with pytest.raises(ReplayError):
        guard.check(NOW, b"d3", NOW + 60.5)
    assert unix_to_ntp(0) == 2_208_988_800 << 32  # 1970 in NTP's 1900 era
    with pytest.raises(ValueError, match="negative"):
        unix_to_ntp(-1)
