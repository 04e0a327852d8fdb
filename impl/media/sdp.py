"""SDP (RFC 4566) codec for the subset a SIP call here needs: v, o, s, c, t, m and a lines.

Strict: lines are ``<letter>=<value>`` ending in CRLF (or all in bare LF, which RFC 4566
section 5 asks parsers to tolerate), in the order RFC 4566 fixes; a line type outside the
subset (i, u, e, p, b, r, z, k) is refused rather than dropped, so nothing the peer said is
silently ignored.  Every failure is a :class:`DecodeError`.

Key transport attributes: ``a=key-mgmt:mikey <base64>`` (RFC 4567) for MIKEY, and the paper's
``a=k:<hex>`` (see :mod:`.bare_key`).  Either may sit at session or at media level.

``c=`` addresses are IP literals only, of the stated address type (``IP4`` or ``IP6``): a
host name would be resolved later, inside ``sendto``, by whatever resolver the host has, and a
NUL or other junk would reach the socket layer; both are refused here.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from ethvoip.spec.errors import DecodeError, LocalProtocolError


@dataclass(frozen=True)
class Origin:
    username: str
    sess_id: int
    sess_version: int
    address: str
    nettype: str = "IN"
    addrtype: str = "IP4"


@dataclass(frozen=True)
class Connection:
    address: str
    nettype: str = "IN"
    addrtype: str = "IP4"


@dataclass(frozen=True)
class Attribute:
    name: str
    value: str | None = None  # None for a property attribute (``a=recvonly``)


@dataclass(frozen=True)
class Media:
    media: str
    port: int
    proto: str
    formats: tuple[str, ...]
    connection: Connection | None = None
    attributes: tuple[Attribute, ...] = ()


@dataclass(frozen=True)
class SessionDescription:
    origin: Origin
    session_name: str
    connection: Connection | None
    timing: tuple[tuple[int, int], ...] = ((0, 0),)
    attributes: tuple[Attribute, ...] = ()
    media: tuple[Media, ...] = ()

    def attribute(self, name: str, media_index: int | None = None) -> str | None:
        """Value of the first ``a=name`` at media level (if given) or else session level."""
        scopes = [self.attributes]
        if media_index is not None:
            scopes.insert(0, self.media[media_index].attributes)
        for attrs in scopes:
            for a in attrs:
                if a.name == name:
                    return a.value
        return None


_TOKEN = r"[!#$%&'*+\-.0-9A-Z^_`a-z{|}~]+"  # RFC 4566 token-char
_RE = {
    "o": re.compile(rf"({_TOKEN}) ([0-9]{{1,20}}) ([0-9]{{1,20}}) ({_TOKEN}) ({_TOKEN}) (\S+)"),
    "c": re.compile(rf"({_TOKEN}) ({_TOKEN}) (\S+)"),
    "t": re.compile(r"([0-9]{1,20}) ([0-9]{1,20})"),
    "m": re.compile(rf"({_TOKEN}) ([0-9]{{1,5}}) ((?:{_TOKEN}/)*{_TOKEN})((?: {_TOKEN})+)"),
    "a": re.compile(rf"({_TOKEN})(?::([^\x00\r\n]*))?"),
}
_ADDRTYPES = {"IP4", "IP6"}


def _fields(kind: str, value: str) -> tuple[str, ...]:
    m = _RE[kind].fullmatch(value)
    if m is None:
        raise DecodeError(f"SDP: malformed {kind}= line: {value!r}")
    return tuple(g if g is not None else "" for g in m.groups())


def _connection(value: str) -> Connection:
    nettype, addrtype, address = _fields("c", value)
    if nettype != "IN" or addrtype not in _ADDRTYPES:
        raise DecodeError(f"SDP: unsupported connection {nettype} {addrtype}")
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        raise DecodeError(f"SDP: c= address {address[:64]!r} is not an IP literal") from None
    if ip.version != (4 if addrtype == "IP4" else 6):
        raise DecodeError(f"SDP: c= address {address[:64]!r} is not {addrtype}")
    return Connection(address, nettype, addrtype)


def _attribute(value: str) -> Attribute:
    m = _RE["a"].fullmatch(value)
    if m is None:
        raise DecodeError(f"SDP: malformed a= line: {value!r}")
    return Attribute(m.group(1), m.group(2))


def _lines(data: bytes | str) -> list[tuple[str, str]]:
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise DecodeError("SDP: not UTF-8") from None
    eol = "\r\n" if "\r\n" in data else "\n"
    if not data.endswith(eol):
        raise DecodeError("SDP: last line not terminated")
    out = []
    for line in data[: -len(eol)].split(eol):
        if "\r" in line or "\n" in line:
            raise DecodeError("SDP: mixed or stray line terminators")
        if len(line) < 2 or line[1] != "=" or not "a" <= line[0] <= "z":
            raise DecodeError(f"SDP: not a <type>=<value> line: {line!r}")
        out.append((line[0], line[2:]))
    return out


# Session-level grammar as a table: for each line type, the types allowed to follow it.
_NEXT = {
    "start": {"v"},
    "v": {"o"},
    "o": {"s"},
    "s": {"c", "t"},
    "c": {"t"},
    "t": {"t", "a", "m", "end"},
    "a": {"a", "m", "end"},
    "m": {"c", "a", "m", "end"},
    "mc": {"a", "m", "end"},
    "ma": {"a", "m", "end"},
}


def decode_sdp(data: bytes | str) -> SessionDescription:
    """Parse an SDP body; raises :class:`DecodeError` on anything outside the subset."""
    state = "start"
    sd = _Partial()
    for kind, value in _lines(data):
        in_media = state in ("m", "mc", "ma")
        if kind not in _NEXT[state]:
            raise DecodeError(f"SDP: {kind}= line not allowed here (state {state})")
        _READ[kind](sd, value, in_media)
        state = {"c": "mc", "a": "ma", "m": "m"}[kind] if in_media or kind == "m" else kind
    if "end" not in _NEXT[state]:
        raise DecodeError("SDP: description ends too early")
    sd.close_media()
    if sd.conn is None and any(m.connection is None for m in sd.media):
        raise DecodeError("SDP: a media description has no c= line and the session has none")
    if sd.origin is None:  # unreachable: the grammar table demands an o= line
        raise DecodeError("SDP: no o= line")
    return SessionDescription(
        sd.origin, sd.name, sd.conn, tuple(sd.timing), tuple(sd.attrs), tuple(sd.media)
    )


@dataclass
class _Partial:
    """A description being parsed: what its lines so far have given."""

    origin: Origin | None = None
    name: str = ""
    conn: Connection | None = None
    timing: list[tuple[int, int]] = field(default_factory=list)
    attrs: list[Attribute] = field(default_factory=list)
    media: list[Media] = field(default_factory=list)
    m_attrs: list[Attribute] = field(default_factory=list)  # of the last media description

    def close_media(self) -> None:
        if self.media:
            self.media[-1] = replace(self.media[-1], attributes=tuple(self.m_attrs))


def _read_v(sd: _Partial, value: str, in_media: bool) -> None:
    if value != "0":
        raise DecodeError(f"SDP: unsupported version {value!r}")


def _read_o(sd: _Partial, value: str, in_media: bool) -> None:
    user, sid, sver, nettype, addrtype, address = _fields("o", value)
    if nettype != "IN" or addrtype not in _ADDRTYPES:
        raise DecodeError("SDP: unsupported origin address type")
    sd.origin = Origin(user, int(sid), int(sver), address, nettype, addrtype)


def _read_s(sd: _Partial, value: str, in_media: bool) -> None:
    if not value:
        raise DecodeError("SDP: empty session name")
    sd.name = value


def _read_c(sd: _Partial, value: str, in_media: bool) -> None:
    if in_media:
        sd.media[-1] = replace(sd.media[-1], connection=_connection(value))
    else:
        sd.conn = _connection(value)


def _read_t(sd: _Partial, value: str, in_media: bool) -> None:
    start, stop = _fields("t", value)
    sd.timing.append((int(start), int(stop)))


def _read_a(sd: _Partial, value: str, in_media: bool) -> None:
    (sd.m_attrs if in_media else sd.attrs).append(_attribute(value))


def _read_m(sd: _Partial, value: str, in_media: bool) -> None:
    sd.close_media()
    sd.m_attrs = []
    mtype, port, proto, fmts = _fields("m", value)
    if int(port) > 65535:
        raise DecodeError(f"SDP: port {port} out of range")
    sd.media.append(Media(mtype, int(port), proto, tuple(fmts.split())))


# What each line type adds to the description (the grammar table above says where it may come).
_READ: dict[str, Callable[[_Partial, str, bool], None]] = {
    "v": _read_v,
    "o": _read_o,
    "s": _read_s,
    "c": _read_c,
    "t": _read_t,
    "a": _read_a,
    "m": _read_m,
}


def _check(text: str, what: str) -> str:
    if not text or any(c in text for c in "\r\n\x00"):
        raise LocalProtocolError(f"SDP: {what} must be non-empty without CR, LF or NUL")
    return text


def _enc_attr(a: Attribute) -> str:
    if not re.fullmatch(_TOKEN, a.name):
        raise LocalProtocolError(f"SDP: bad attribute name {a.name!r}")
    if a.value is None:
        return f"a={a.name}\r\n"
    if any(c in a.value for c in "\r\n\x00"):
        raise LocalProtocolError("SDP: attribute value with CR, LF or NUL")
    return f"a={a.name}:{a.value}\r\n"


def _enc_conn(c: Connection) -> str:
    return f"c={c.nettype} {c.addrtype} {_check(c.address, 'address')}\r\n"


def encode_sdp(sd: SessionDescription) -> str:
    """Serialise with CRLF line ends; refuses values that could not be parsed back."""
    o = sd.origin
    out = [
        "v=0\r\n",
        f"o={_check(o.username, 'username')} {o.sess_id} {o.sess_version} "
        f"{o.nettype} {o.addrtype} {_check(o.address, 'address')}\r\n",
        f"s={_check(sd.session_name, 'session name')}\r\n",
    ]
    if sd.connection is not None:
        out.append(_enc_conn(sd.connection))
    if not sd.timing:
        raise LocalProtocolError("SDP: at least one t= line")
    out += [f"t={a} {b}\r\n" for a, b in sd.timing]
    out += [_enc_attr(a) for a in sd.attributes]
    for m in sd.media:
        if not m.formats:
            raise LocalProtocolError("SDP: media needs at least one format")
        out.append(f"m={m.media} {m.port} {m.proto} {' '.join(m.formats)}\r\n")
        if m.connection is not None:
            out.append(_enc_conn(m.connection))
        out += [_enc_attr(a) for a in m.attributes]
    text = "".join(out)
    decode_sdp(text)  # whatever we emit must parse back (catches bad tokens in any field)
    return text


# --- key transport attributes ---------------------------------------------------------------

KEY_MGMT = "key-mgmt"


def key_mgmt_attribute(mikey: bytes) -> Attribute:
    """RFC 4567 ``a=key-mgmt:mikey <base64 of the MIKEY message>``."""
    return Attribute(KEY_MGMT, "mikey " + base64.b64encode(mikey).decode("ascii"))


def mikey_from_sdp(sd: SessionDescription, media_index: int | None = None) -> bytes | None:
    """The MIKEY message from ``a=key-mgmt:mikey`` (media level first), or None if absent."""
    value = sd.attribute(KEY_MGMT, media_index)
    if value is None:
        return None
    prtcl, _, data = value.partition(" ")
    if prtcl != "mikey" or not data:
        raise DecodeError(f"SDP: key-mgmt protocol {prtcl!r} is not mikey")
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):  # ValueError: non-ASCII text
        raise DecodeError("SDP: key-mgmt data is not base64") from None


@dataclass(frozen=True)
class RtpMap:
    payload_type: int
    encoding: str
    clock_rate: int
    channels: int | None = None


_RTPMAP = re.compile(r"([0-9]{1,3}) ([A-Za-z0-9\-_.]+)/([0-9]{1,9})(?:/([0-9]{1,2}))?")


def parse_rtpmap(value: str) -> RtpMap:
    """``a=rtpmap:<pt> <encoding>/<clock>[/<channels>]`` (RFC 4566 section 6)."""
    m = _RTPMAP.fullmatch(value)
    if m is None or int(m.group(1)) > 127:
        raise DecodeError(f"SDP: malformed rtpmap {value!r}")
    ch = m.group(4)
    return RtpMap(int(m.group(1)), m.group(2), int(m.group(3)), int(ch) if ch else None)
