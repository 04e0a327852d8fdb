"""SRTP/SRTCP (RFC 3711) AES_CM_128_HMAC_SHA1_80 through libsrtp (``pylibsrtp``), with a
re-keying hook and typed, counted failures.

One :class:`SrtpSender` or :class:`SrtpReceiver` handles one SSRC in one direction.  Each
holds libsrtp sessions keyed by master key; :meth:`rekey` schedules a new master key from a
given packet index (``ROC * 2**16 + SEQ``, RFC 3711 section 3.3.1) on, like MIKEY's key
validity interval.  The packet index is tracked here, with the RFC 3711 Appendix A estimate
on the receiving side, so a packet is sent to the session whose key covers it.  A fresh
libsrtp stream starts at ROC 0; when a key takes over at a later ROC, the stream's ROC is set
through libsrtp's ``srtp_set_stream_roc`` (exported by the bundled library but not wrapped by
pylibsrtp, so it is called through ctypes).

Failures never escape as library exceptions: a packet that fails authentication raises
:class:`CryptoError`, a replayed or too old one :class:`ReplayError`, a malformed one
:class:`DecodeError` (among them a packet longer than :data:`MAX_WIRE`, which libsrtp's
buffer cannot hold); each is counted in :attr:`SrtpReceiver.dropped` and the stream goes on.
``receive`` is the drop-and-count form for a media loop.
"""

from __future__ import annotations

import ctypes
import struct
from collections import Counter
from dataclasses import dataclass

import pylibsrtp
from pylibsrtp import _binding

from ethvoip.spec.errors import (
    CryptoError,
    DecodeError,
    EthVoipError,
    LocalProtocolError,
    MacInvalid,
    Replayed,
    ReplayError,
)

from .rtp import peek_header

MASTER_LEN = 30  # 16-byte key || 14-byte salt
MAX_WIRE = 1500  # pylibsrtp's buffer: a longer SRTP/SRTCP packet cannot be opened at all
_SEQ_SSRC = struct.Struct(">2xH4xI")  # sequence number and SSRC of a 12-byte RTP header
_MAX_PACKET = 1500 - pylibsrtp.SRTP_MAX_TRAILER_LEN  # pylibsrtp's buffer less the trailer
# SRTCP's trailer is longer (E flag and index): pylibsrtp raises a bare ValueError past this.
_MAX_RTCP = 1500 - pylibsrtp.SRTP_MAX_SRTCP_TRAILER_LEN
_lib = ctypes.CDLL(_binding.__file__)
_lib.srtp_set_stream_roc.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint32]
_lib.srtp_set_stream_roc.restype = ctypes.c_int


def new_session(master: bytes, ssrc: int, roc: int, inbound: bool) -> pylibsrtp.Session:
    """A bare libsrtp session for one SSRC from ``roc`` on (AES-CM-128 / HMAC-SHA1-80)."""
    if len(master) != MASTER_LEN:
        raise LocalProtocolError("SRTP master key || salt must be 30 bytes")
    policy = pylibsrtp.Policy(
        key=master,
        ssrc_type=pylibsrtp.Policy.SSRC_SPECIFIC,
        ssrc_value=ssrc,
        srtp_profile=pylibsrtp.Policy.SRTP_PROFILE_AES128_CM_SHA1_80,
    )
    policy.window_size = 128
    session = pylibsrtp.Session(policy)
    if roc:
        handle = int(_binding.ffi.cast("uintptr_t", session._srtp[0]))
        if _lib.srtp_set_stream_roc(handle, ssrc, roc) != 0:
            raise LocalProtocolError("libsrtp refused to set the stream's ROC")
    return session


def _library_error(rc: int) -> pylibsrtp.Error:
    try:
        pylibsrtp._srtp_assert(rc)  # type: ignore[no-untyped-call]
    except pylibsrtp.Error as exc:
        return exc
    return pylibsrtp.Error(f"libsrtp status {rc}")


def _classify(exc: pylibsrtp.Error) -> EthVoipError:
    msg = str(exc)
    if "replay" in msg or "index" in msg:
        return Replayed(f"SRTP: {msg}")
    if "authentication" in msg:
        return MacInvalid(f"SRTP: {msg}")
    return DecodeError(f"SRTP: {msg}")


def drop_kind(err: EthVoipError) -> str:
    """The counter a dropped packet goes to: ``replay``, ``auth`` or ``malformed``."""
    if isinstance(err, ReplayError):
        return "replay"
    return "auth" if isinstance(err, CryptoError) else "malformed"


@dataclass
class _Epoch:
    """One master key and the packet index from which it applies."""

    start: int
    master: bytes
    session: pylibsrtp.Session | None = None


class _Stream:
    def __init__(self, master: bytes, ssrc: int, inbound: bool) -> None:
        if not 0 <= ssrc < 1 << 32:
            raise LocalProtocolError("SSRC is 32 bits")
        self.ssrc = ssrc
        self.inbound = inbound
        first = new_session(master, ssrc, 0, inbound)
        self.epochs = [_Epoch(0, master, first)]
        # (first index, first index of the next key, session) of the key used last
        self._fast: tuple[int, float, pylibsrtp.Session] = (0, 0, first)
        self._len = _binding.ffi.new("int *")

    def rekey(self, master: bytes, at_index: int) -> None:
        """Use ``master`` for packets whose index is ``at_index`` or later."""
        if at_index <= self.epochs[-1].start:
            raise LocalProtocolError("a re-key must start after the current key's start")
        new_session(master, self.ssrc, 0, self.inbound)  # validate now, build when used
        self.epochs.append(_Epoch(at_index, master))
        # Keep at most the current key and one before it (late packets of the old key).
        self.epochs = self.epochs[-3:]
        self._fast = (0, 0, self._fast[2])  # empty range: the next packet looks its key up

    def session_for(self, index: int) -> pylibsrtp.Session:
        epoch = next((e for e in reversed(self.epochs) if e.start <= index), None)
        if epoch is None:
            raise Replayed("SRTP: packet older than every key still held")
        if epoch.session is None:
            epoch.session = new_session(epoch.master, self.ssrc, epoch.start >> 16, self.inbound)
        later = [e.start for e in self.epochs if e.start > epoch.start]
        self._fast = (epoch.start, min(later, default=float("inf")), epoch.session)
        return epoch.session


class SrtpSender(_Stream):
    """Protects RTP and RTCP of one outgoing SSRC."""

    def __init__(self, master: bytes, ssrc: int) -> None:
        super().__init__(master, ssrc, inbound=False)
        self._roc = 0
        self._last_seq: int | None = None

    def protect(self, rtp: bytes) -> bytes:
        # The per-packet path (50 packets/s per call, >100k/s in bench/srtp.py): one struct
        # unpack for the header, the session of the current key cached, and libsrtp called
        # on pylibsrtp's own buffer without its per-call allocations.
        if len(rtp) < 12 or rtp[0] >> 6 != 2:
            raise DecodeError("RTP: shorter than a header or version is not 2")
        if len(rtp) > _MAX_PACKET:
            raise LocalProtocolError(f"SRTP: packet longer than {_MAX_PACKET} bytes")
        seq, ssrc = _SEQ_SSRC.unpack_from(rtp)
        if ssrc != self.ssrc:
            raise LocalProtocolError(f"SRTP: packet SSRC {ssrc:#x} is not this stream's")
        last = self._last_seq
        roc = self._roc + 1 if last is not None and seq < last else self._roc
        index = (roc << 16) | seq
        lo, hi, session = self._fast
        if not lo <= index < hi:
            session = self.session_for(index)
        cdata, length = session._cdata, self._len
        n = len(rtp)
        session._buffer[0:n] = rtp
        length[0] = n
        rc = _binding.lib.srtp_protect(session._srtp[0], cdata, length)
        if rc:
            raise _classify(_library_error(rc))
        self._roc, self._last_seq = roc, seq
        out: bytes = session._buffer[0 : length[0]]
        return out

    def protect_rtcp(self, rtcp: bytes) -> bytes:
        if len(rtcp) > _MAX_RTCP:
            raise LocalProtocolError(f"SRTCP: packet longer than {_MAX_RTCP} bytes")
        # SRTCP keys follow the newest key in force for RTP (one key per crypto session).
        index = (self._roc << 16) | (self._last_seq or 0)
        try:
            return bytes(self.session_for(index).protect_rtcp(rtcp))
        except pylibsrtp.Error as exc:
            raise _classify(exc) from exc


class SrtpReceiver(_Stream):
    """Verifies and decrypts SRTP and SRTCP of one incoming SSRC; failures are counted."""

    def __init__(self, master: bytes, ssrc: int) -> None:
        super().__init__(master, ssrc, inbound=True)
        self._roc = 0
        self._s_l: int | None = None  # highest sequence number authenticated so far
        self.dropped: Counter[str] = Counter()

    def _estimate(self, seq: int) -> int:
        """RFC 3711 Appendix A: the ROC a received SEQ most probably belongs to."""
        s_l, roc = self._s_l, self._roc
        if s_l is None:
            return roc
        if s_l < 1 << 15:
            return roc - 1 if seq - s_l > 1 << 15 and roc > 0 else roc
        return roc + 1 if s_l - (1 << 15) > seq else roc

    def _fail(self, err: EthVoipError) -> EthVoipError:
        self.dropped[drop_kind(err)] += 1
        return err

    def _size(self, data: bytes, what: str) -> None:
        if len(data) > MAX_WIRE:
            raise self._fail(DecodeError(f"{what}: {len(data)} bytes, more than {MAX_WIRE}"))

    def unprotect(self, srtp: bytes) -> bytes:
        self._size(srtp, "SRTP")
        try:
            _, seq, ssrc = peek_header(srtp)
        except DecodeError as err:
            raise self._fail(err) from None
        if ssrc != self.ssrc:
            raise self._fail(DecodeError(f"SRTP: SSRC {ssrc:#x} is not this stream's"))
        roc = self._estimate(seq)
        try:
            out = bytes(self.session_for((roc << 16) | seq).unprotect(srtp))
        except ReplayError as err:
            raise self._fail(err) from None
        except pylibsrtp.Error as exc:
            raise self._fail(_classify(exc)) from exc
        if self._s_l is None or (roc, seq) > (self._roc, self._s_l):
            self._roc, self._s_l = roc, seq
        return out

    def unprotect_rtcp(self, srtcp: bytes) -> bytes:
        self._size(srtcp, "SRTCP")
        index = (self._roc << 16) | (self._s_l or 0)
        try:
            return bytes(self.session_for(index).unprotect_rtcp(srtcp))
        except ReplayError as err:
            raise self._fail(err) from None
        except pylibsrtp.Error as exc:
            raise self._fail(_classify(exc)) from exc

    def receive(self, srtp: bytes) -> bytes | None:
        """Drop-and-count form of :meth:`unprotect` for a media loop."""
        try:
            return self.unprotect(srtp)
        except (DecodeError, CryptoError, ReplayError):
            return None
