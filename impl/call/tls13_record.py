"""TLS 1.3 record protection after the handshake (RFC 8446 sections 5.1-5.5, 7.1-7.3), sans-IO.

OpenSSL runs the TLS-PSK handshake (:mod:`.openssl_psk`, driven by :mod:`.tlspsk`); once it
has finished, the connection's application traffic secrets and cipher suite are handed to
:class:`RecordLayer`, which protects and opens the application-data records with pyca
``cryptography``'s AEADs.  Why: tlslite-ng's record layer is pure Python (AES-GCM with a
Python GHASH) and blocking, which put ~10 ms of CPU and two thread hand-offs on every SIP
message (four TLS hops per INVITE through the proxy).  Here a record costs microseconds and
the connection is an ordinary asyncio protocol.

What is handled after the handshake: application data in both directions (split into records
of at most 2**14 bytes), ``close_notify`` (end of stream), KeyUpdate (section 4.6.3: the
peer's traffic secret moves on; when asked, ours moves on too and we say so) and
NewSessionTicket (ignored: we never resume).  Anything else - a record that does not
authenticate, an over-long record, a bad inner type, a fatal alert - raises a typed error and
the connection is finished: the layer refuses every later call.

Bytes in, events out: :meth:`RecordLayer.receive` takes what came off the socket and returns
the plaintext it completed (``b""`` once the peer closed); :meth:`RecordLayer.protect`
returns the records to write.  No sockets and no clocks here.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from ethvoip.impl.crypto import (
    HASH_SIZES,
    AeadName,
    HashName,
    NonceAead,
    hkdf_expand,
)
from ethvoip.spec.errors import (
    CryptoError,
    DecodeError,
    DecryptFailed,
    LocalProtocolError,
    RemoteProtocolError,
)

# ContentType (section 5.1)
CHANGE_CIPHER_SPEC, ALERT, HANDSHAKE, APPLICATION_DATA = 20, 21, 22, 23
# HandshakeType values seen after the handshake (section 4)
NEW_SESSION_TICKET, KEY_UPDATE = 4, 24
MAX_PLAINTEXT = 1 << 14
MAX_CIPHERTEXT = MAX_PLAINTEXT + 256  # section 5.2
HEADER = struct.Struct(">BHH")  # opaque_type, legacy_record_version, length
LEGACY_VERSION = 0x0303
TAG_LEN = 16


@dataclass(frozen=True)
class Suite:
    """A TLS 1.3 cipher suite: its AEAD, key length and hash (Appendix B.4)."""

    code: int
    aead: AeadName
    key_len: int
    hash: HashName


SUITES = {
    0x1301: Suite(0x1301, "aes-gcm", 16, "sha256"),  # TLS_AES_128_GCM_SHA256
    0x1302: Suite(0x1302, "aes-gcm", 32, "sha384"),  # TLS_AES_256_GCM_SHA384
    0x1303: Suite(0x1303, "chacha20-poly1305", 32, "sha256"),  # TLS_CHACHA20_POLY1305_SHA256
}


def suite(code: int) -> Suite:
    try:
        return SUITES[code]
    except KeyError:
        raise LocalProtocolError(f"TLS 1.3 cipher suite {code:#06x} is not supported") from None


def hkdf_expand_label(
    hash_: HashName,
    secret: bytes,
    label: bytes,
    context: bytes,
    length: int,
) -> bytes:
    """HKDF-Expand-Label (section 7.1): ``HkdfLabel = length || "tls13 " + label || context``."""
    full = b"tls13 " + label
    info = length.to_bytes(2, "big") + bytes([len(full)]) + full + bytes([len(context)]) + context
    return hkdf_expand(hash_, secret, info, length)


@dataclass
class _Direction:
    """One direction's traffic secret, AEAD, write IV and record sequence number (5.3)."""

    suite: Suite
    secret: bytes
    aead: NonceAead = field(init=False)
    iv: int = field(init=False)
    seq: int = 0

    def __post_init__(self) -> None:
        self._install(self.secret)

    def _install(self, secret: bytes) -> None:
        s = self.suite
        self.secret = secret
        self.aead = NonceAead(s.aead, hkdf_expand_label(s.hash, secret, b"key", b"", s.key_len))
        self.iv = int.from_bytes(hkdf_expand_label(s.hash, secret, b"iv", b"", 12), "big")
        self.seq = 0

    def update(self) -> None:
        """application_traffic_secret_N+1 (section 7.2); keys and sequence number restart."""
        n = HASH_SIZES[self.suite.hash]
        self._install(hkdf_expand_label(self.suite.hash, self.secret, b"traffic upd", b"", n))

    def nonce(self) -> bytes:
        if self.seq >= (1 << 64) - 1:
            raise LocalProtocolError("TLS record sequence number exhausted")
        nonce = (self.iv ^ self.seq).to_bytes(12, "big")
        self.seq += 1
        return nonce


class RecordLayer:
    """The application-data phase of one TLS 1.3 connection, either side."""

    def __init__(
        self, suite_code: int, *, read_secret: bytes, write_secret: bytes, write_seq: int = 0
    ) -> None:
        s = suite(suite_code)
        self.suite = s
        self._read = _Direction(s, read_secret)
        self._write = _Direction(s, write_secret)
        # records the handshake's library already wrote under this key (an OpenSSL server's
        # NewSessionTicket): their sequence numbers, hence nonces, are taken
        self._write.seq = write_seq
        self._buf = bytearray()
        self._hs = bytearray()  # post-handshake messages may span records
        self._pending_out: list[bytes] = []  # records we owe the peer (KeyUpdate answers)
        self.closed = False  # close_notify received
        self.failed: Exception | None = None

    # --- sending ---------------------------------------------------------------------

    def _seal(self, content_type: int, data: bytes) -> bytes:
        inner = data + bytes([content_type])
        header = HEADER.pack(APPLICATION_DATA, LEGACY_VERSION, len(inner) + TAG_LEN)
        return header + self._write.aead.seal(self._write.nonce(), inner, header)

    def protect(self, data: bytes) -> bytes:
        """Application data as records of at most 2**14 bytes of plaintext each."""
        self._check()
        out = [
            self._seal(APPLICATION_DATA, data[i : i + MAX_PLAINTEXT])
            for i in range(0, len(data), MAX_PLAINTEXT)
        ]
        return b"".join(out)

    def close_notify(self) -> bytes:
        """The warning-level close_notify alert record (section 6.1)."""
        self._check()
        return self._seal(ALERT, b"\x01\x00")

    def take_outgoing(self) -> bytes:
        """Records the layer itself must send (an answer to a KeyUpdate), once."""
        out, self._pending_out = b"".join(self._pending_out), []
        return out

    def key_update(self, *, request_peer: bool) -> bytes:
        """Send KeyUpdate and move our write secret on (section 4.6.3)."""
        self._check()
        record = self._seal(HANDSHAKE, bytes([KEY_UPDATE, 0, 0, 1, int(request_peer)]))
        self._write.update()
        return record

    # --- receiving -------------------------------------------------------------------

    def _check(self) -> None:
        if self.failed is not None:
            raise LocalProtocolError("the TLS connection has failed") from self.failed

    def receive(self, data: bytes) -> bytes | None:
        """Feed socket bytes; return the application data completed (``None`` if none yet,
        ``b""`` once the peer sent close_notify).  Raises and fails the layer on bad input."""
        self._check()
        if self.closed:
            if data:
                raise self._failure(RemoteProtocolError("data after close_notify"))
            return b""
        self._buf += data
        out = bytearray()
        while len(self._buf) >= HEADER.size:
            kind, _version, length = HEADER.unpack_from(self._buf)
            if length > MAX_CIPHERTEXT:
                raise self._failure(
                    DecodeError(f"TLS record of {length} bytes (max {MAX_CIPHERTEXT})")
                )
            if kind == CHANGE_CIPHER_SPEC:
                raise self._failure(RemoteProtocolError("change_cipher_spec after the handshake"))
            if kind != APPLICATION_DATA:
                raise self._failure(DecodeError(f"unprotected TLS record of type {kind}"))
            if len(self._buf) < HEADER.size + length:
                break
            header = bytes(self._buf[: HEADER.size])
            body = bytes(self._buf[HEADER.size : HEADER.size + length])
            del self._buf[: HEADER.size + length]
            content_type, plain = self._open(header, body)
            if content_type == APPLICATION_DATA:
                out += plain
            elif content_type == ALERT:
                self._alert(plain)
                return bytes(out) if out else b""
            elif content_type == HANDSHAKE:
                self._post_handshake(plain)
            else:
                raise self._failure(RemoteProtocolError(f"TLS inner content type {content_type}"))
        return bytes(out) if out else None

    def _failure(self, err: Exception) -> Exception:
        self.failed = err
        return err

    def _open(self, header: bytes, body: bytes) -> tuple[int, bytes]:
        if len(body) < TAG_LEN + 1:
            raise self._failure(DecodeError("TLS record shorter than its tag"))
        try:
            inner = self._read.aead.open(self._read.nonce(), body, header)
        except DecryptFailed:
            raise self._failure(CryptoError("TLS record does not authenticate")) from None
        end = len(inner.rstrip(b"\x00"))  # section 5.4: strip the zero padding
        if end == 0:
            raise self._failure(RemoteProtocolError("TLS inner plaintext without a content type"))
        if end - 1 > MAX_PLAINTEXT:
            raise self._failure(DecodeError("TLS inner plaintext longer than 2**14"))
        return inner[end - 1], inner[: end - 1]

    def _alert(self, body: bytes) -> None:
        if len(body) != 2:
            raise self._failure(DecodeError("TLS alert must be 2 bytes"))
        if body[1] == 0:  # close_notify
            self.closed = True
            return
        raise self._failure(RemoteProtocolError(f"TLS alert {body[1]} from the peer"))

    def _post_handshake(self, data: bytes) -> None:
        self._hs += data
        while len(self._hs) >= 4:
            kind, n = self._hs[0], int.from_bytes(self._hs[1:4], "big")
            if len(self._hs) < 4 + n:
                return
            body = bytes(self._hs[4 : 4 + n])
            del self._hs[: 4 + n]
            if kind == NEW_SESSION_TICKET:
                continue  # we never resume: every connection starts from a fresh PSK
            if kind != KEY_UPDATE or n != 1 or body[0] > 1:
                raise self._failure(
                    RemoteProtocolError(f"unexpected post-handshake message {kind}")
                )
            if self._hs:
                raise self._failure(RemoteProtocolError("KeyUpdate not at a record boundary"))
            self._read.update()
            if body[0] == 1:  # update_requested: answer with ours (not requesting)
                self._pending_out.append(self.key_update(request_peer=False))
