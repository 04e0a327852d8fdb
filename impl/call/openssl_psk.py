"""The TLS 1.3 external-PSK handshake (RFC 8446 sections 2.2, 4.2.11) run by OpenSSL, sans-IO.

Python 3.11's ``ssl`` has no PSK callbacks and pyOpenSSL has no PSK methods, but pyca
``cryptography`` (a pinned dependency) ships the OpenSSL it links against with the cffi
binding pyOpenSSL uses, and that binding declares OpenSSL's TLS 1.3 external-PSK callbacks
(``SSL_CTX_set_psk_use_session_callback`` / ``SSL_CTX_set_psk_find_session_callback``), memory
BIOs and the keylog callback.  :class:`PskHandshake` drives one handshake through them: bytes
in, bytes out, no sockets (:mod:`.tlspsk` moves the bytes).  Why: tlslite-ng's handshake is
pure Python (P-256 and X25519 in Python, AES-GCM with a Python GHASH for the encrypted
handshake messages) and cost most of a registration; OpenSSL's costs a fraction of a
millisecond of CPU.

Settings, the same as before: TLS 1.3 only, the PSK with SHA-256 (TLS_AES_128_GCM_SHA256 or
TLS_CHACHA20_POLY1305_SHA256), ``psk_dhe_ke`` only (OpenSSL offers and accepts
``psk_ke`` only with ``SSL_OP_ALLOW_NO_DHE_KEX``, never set here: the (EC)DHE share gives
forward secrecy), no certificates anywhere.

Refusals, each checked after the handshake and not left to OpenSSL's defaults:

* the peer did not authenticate with the PSK (``SSL_session_reused`` is 0): a server that
  answers with a certificate instead is refused (the client also sets ``SSL_VERIFY_PEER``
  with an empty trust store, so such a certificate fails inside OpenSSL already);
* the server sees a PSK identity other than the expected one: no session is offered for
  it, and with no certificate the handshake fails;
* OpenSSL buffered application data it read past the handshake (it should not: read-ahead
  is off), since those bytes would be lost to the record layer.

After the handshake the application traffic secrets (from the keylog callback) go to our
record layer (:mod:`.tls13_record`).  OpenSSL has no ``SSL_CTX_set_num_tickets`` in this
binding, so an OpenSSL server writes NewSessionTicket records under its application key
when the handshake ends; they are sent as they are, and :attr:`Established.write_seq` says
how many records the record layer must count as already written under that key (a
repeated nonce otherwise).  The client ignores tickets (we never resume).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.bindings.openssl.binding import Binding

from ethvoip.spec.errors import Check, CryptoRefused, LocalProtocolError

_lib: Any = Binding.lib
_ffi: Any = Binding.ffi

#: TLS 1.3 suites whose hash is the PSK's (SHA-256), OpenSSL's names and their codes.
SUITES = "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256"
SESSION_SUITE = b"\x13\x01"  # the suite the PSK's session names (its hash is what counts)
_RECORD = struct.Struct(">BHH")
_CHUNK = 1 << 14
_SSL_ERROR_WANT_READ = 2
_SSL_SESS_CACHE_OFF = 0


class PskHandshakeError(CryptoRefused):
    """The TLS-PSK handshake failed or did not authenticate with the PSK.  ``alert`` holds
    what OpenSSL had to send the peer about it (a fatal alert record), if anything."""

    check = Check.PSK

    def __init__(self, message: str, alert: bytes = b"") -> None:
        super().__init__(message)
        self.alert = alert


@dataclass(frozen=True)
class Established:
    """What the record layer needs once the handshake is done."""

    suite_code: int  # 0x1301 or 0x1303
    suite_name: str  # OpenSSL's name, e.g. TLS_AES_128_GCM_SHA256
    client_secret: bytes  # client_application_traffic_secret_0
    server_secret: bytes  # server_application_traffic_secret_0
    write_seq: int  # records already written under our application key (server tickets)
    leftover: bytes  # bytes read past the handshake: the peer's first records


def _openssl_errors() -> str:
    out = []
    while code := _lib.ERR_get_error():
        reason = _lib.ERR_reason_error_string(code)
        out.append(_ffi.string(reason).decode() if reason != _ffi.NULL else hex(code))
    return "; ".join(out) or "no OpenSSL error reason"


def _records(data: bytes) -> int:
    """How many whole TLS records ``data`` holds (it holds nothing else)."""
    n, i = 0, 0
    while i + _RECORD.size <= len(data):
        i += _RECORD.size + _RECORD.unpack_from(data, i)[2]
        n += 1
    if i != len(data):
        raise LocalProtocolError("OpenSSL wrote a partial TLS record")
    return n


class PskHandshake:
    """One side of a TLS 1.3 external-PSK handshake (see the module docstring).

    ``start()`` gives the first bytes to send (the ClientHello, or nothing for a server),
    each ``receive(data)`` the bytes owed in answer; :attr:`done` once finished, then
    :meth:`established`.  Raises :class:`PskHandshakeError` on failure.
    """

    def __init__(self, *, server: bool, identity: bytes, psk: bytes) -> None:
        if not identity or not psk:
            raise LocalProtocolError("TLS-PSK needs a non-empty identity and key")
        self.server = server
        self._identity = identity
        self._psk = psk
        self._secrets: dict[bytes, bytes] = {}
        self.done = False
        self._final = b""  # what OpenSSL wrote in the call that finished the handshake
        self._callbacks: list[Any] = []  # kept alive as long as the SSL_CTX can call them
        ctx = _ffi.gc(_lib.SSL_CTX_new(_lib.TLS_method()), _lib.SSL_CTX_free)
        if ctx == _ffi.NULL:
            raise LocalProtocolError(f"SSL_CTX_new failed: {_openssl_errors()}")
        ok = (
            _lib.SSL_CTX_set_min_proto_version(ctx, _lib.TLS1_3_VERSION)
            and _lib.SSL_CTX_set_max_proto_version(ctx, _lib.TLS1_3_VERSION)
            and _lib.SSL_CTX_set_ciphersuites(ctx, SUITES.encode())
        )
        if not ok:
            raise LocalProtocolError(f"OpenSSL refused the TLS-PSK settings: {_openssl_errors()}")
        _lib.SSL_CTX_set_options(ctx, _lib.SSL_OP_NO_TICKET)
        _lib.SSL_CTX_set_session_cache_mode(ctx, _SSL_SESS_CACHE_OFF)
        self._install_callbacks(ctx)
        if not server:  # a certificate is never acceptable: no trust store, verify on
            _lib.SSL_CTX_set_verify(ctx, _lib.SSL_VERIFY_PEER, _ffi.NULL)
        ssl = _ffi.gc(_lib.SSL_new(ctx), _lib.SSL_free)
        if ssl == _ffi.NULL:
            raise LocalProtocolError(f"SSL_new failed: {_openssl_errors()}")
        self._rbio = _lib.BIO_new(_lib.BIO_s_mem())
        self._wbio = _lib.BIO_new(_lib.BIO_s_mem())
        _lib.SSL_set_bio(ssl, self._rbio, self._wbio)  # the SSL owns both BIOs from here
        (_lib.SSL_set_accept_state if server else _lib.SSL_set_connect_state)(ssl)
        self._ctx, self._ssl = ctx, ssl
        self._buf = _ffi.new("char[]", _CHUNK)

    def _session(self, ssl: Any) -> Any:
        """A TLS 1.3 session holding the external PSK (OpenSSL's way to hand it over)."""
        sess = _lib.Cryptography_SSL_SESSION_new()
        cipher = _lib.SSL_CIPHER_find(ssl, SESSION_SUITE)
        if (
            sess == _ffi.NULL
            or cipher == _ffi.NULL
            or not _lib.SSL_SESSION_set1_master_key(sess, self._psk, len(self._psk))
            or not _lib.SSL_SESSION_set_cipher(sess, cipher)
            or not _lib.SSL_SESSION_set_protocol_version(sess, _lib.TLS1_3_VERSION)
        ):
            if sess != _ffi.NULL:
                _lib.SSL_SESSION_free(sess)
            return _ffi.NULL
        return sess  # OpenSSL takes ownership

    def _install_callbacks(self, ctx: Any) -> None:
        identity = _ffi.new("unsigned char[]", self._identity)

        def keylog(_ssl: Any, line: Any) -> None:
            label, _random, secret = _ffi.string(line).split(b" ")
            self._secrets[label] = bytes.fromhex(secret.decode())

        def use_session(ssl: Any, md: Any, id_out: Any, idlen: Any, sess_out: Any) -> int:
            sess_out[0] = self._session(ssl)
            id_out[0], idlen[0] = identity, len(self._identity)
            return 1 if sess_out[0] != _ffi.NULL else 0

        def find_session(ssl: Any, got: Any, got_len: int, sess_out: Any) -> int:
            if _ffi.buffer(got, got_len)[:] != self._identity:
                sess_out[0] = _ffi.NULL  # not our peer's identity: no PSK for it
                return 1
            sess_out[0] = self._session(ssl)
            return 1 if sess_out[0] != _ffi.NULL else 0

        log_cb = _ffi.callback(_ffi.typeof(_lib.SSL_CTX_set_keylog_callback).args[1], keylog)
        _lib.SSL_CTX_set_keylog_callback(ctx, log_cb)
        if self.server:
            kind = _ffi.typeof(_lib.SSL_CTX_set_psk_find_session_callback).args[1]
            cb = _ffi.callback(kind, find_session, error=0)
            _lib.SSL_CTX_set_psk_find_session_callback(ctx, cb)
        else:
            kind = _ffi.typeof(_lib.SSL_CTX_set_psk_use_session_callback).args[1]
            cb = _ffi.callback(kind, use_session, error=0)
            _lib.SSL_CTX_set_psk_use_session_callback(ctx, cb)
        self._callbacks += [identity, log_cb, cb]

    def _take_output(self) -> bytes:
        out = bytearray()
        while (n := _lib.BIO_read(self._wbio, self._buf, _CHUNK)) > 0:
            out += _ffi.buffer(self._buf, n)
        return bytes(out)

    def start(self) -> bytes:
        """The first flight (a client's ClientHello; nothing for a server)."""
        return self.receive(b"")

    def receive(self, data: bytes) -> bytes:
        """Feed the peer's bytes; the bytes to send back."""
        if self.done:
            raise LocalProtocolError("the TLS-PSK handshake is already done")
        if data and _lib.BIO_write(self._rbio, data, len(data)) != len(data):
            raise LocalProtocolError("OpenSSL's memory BIO refused the bytes")
        _lib.ERR_clear_error()
        r = _lib.SSL_do_handshake(self._ssl)
        out = self._take_output()
        if r == 1:
            self.done = True
            self._final = out
            self._check_established(out)
            return out
        if _lib.SSL_get_error(self._ssl, r) != _SSL_ERROR_WANT_READ:
            raise PskHandshakeError(f"TLS-PSK handshake failed: {_openssl_errors()}", out)
        return out

    def _check_established(self, alert: bytes) -> None:
        if _lib.SSL_session_reused(self._ssl) != 1:
            raise PskHandshakeError("the TLS peer did not authenticate with the PSK", alert)
        if _lib.SSL_pending(self._ssl) != 0:
            raise LocalProtocolError("OpenSSL read application data past the handshake")
        need = (b"CLIENT_TRAFFIC_SECRET_0", b"SERVER_TRAFFIC_SECRET_0")
        if any(label not in self._secrets for label in need):
            raise LocalProtocolError("OpenSSL did not report the application traffic secrets")

    def established(self) -> Established:
        """The finished handshake's suite, secrets and the bytes read past it."""
        if not self.done:
            raise LocalProtocolError("the TLS-PSK handshake is not done")
        cipher = _lib.SSL_get_current_cipher(self._ssl)
        name = _ffi.string(_lib.SSL_CIPHER_get_name(cipher)).decode()
        codes = {"TLS_AES_128_GCM_SHA256": 0x1301, "TLS_CHACHA20_POLY1305_SHA256": 0x1303}
        if name not in codes:
            raise LocalProtocolError(f"OpenSSL negotiated {name}, not a SHA-256 TLS 1.3 suite")
        leftover = bytearray()
        while (n := _lib.BIO_read(self._rbio, self._buf, _CHUNK)) > 0:
            leftover += _ffi.buffer(self._buf, n)
        return Established(
            codes[name],
            name,
            self._secrets[b"CLIENT_TRAFFIC_SECRET_0"],
            self._secrets[b"SERVER_TRAFFIC_SECRET_0"],
            # a server's last flight is its tickets, under its application key; a client's
            # is its Finished, under its handshake key
            _records(self._final) if self.server else 0,
            bytes(leftover),
        )
