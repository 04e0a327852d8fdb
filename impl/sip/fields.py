"""Typed parsers and printers for the SIP header fields the stack acts on.

Covers SIP/SIPS URIs (RFC 3261 section 19.1), Via (20.42), name-addr/addr-spec as used by
From, To, Contact, Route and Record-Route (20.10, 20.20, 20.39), CSeq (20.16) and generic
``;name=value`` parameters.  LWS is allowed wherever the grammar's SWS/LWS allows it
(RFC 4475 section 3.1.1.1 puts line folds inside Via's sent-protocol).  Every parse error
is a :class:`~ethvoip.spec.errors.DecodeError`.  Escapes (``%HH``) are kept as written:
comparison rules are the caller's business, and keeping them makes printing lossless.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from ethvoip.spec.errors import DecodeError

BRANCH_COOKIE = "z9hG4bK"

_TOKEN = re.compile(r"^[A-Za-z0-9\-.!%*_+`'~]+$")
_HOST = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-.]+)$")
_WS = " \t"


def is_token(text: str) -> bool:
    """RFC 3261 ``token``."""
    return bool(_TOKEN.match(text))


def _strip_ws(text: str) -> str:
    return text.strip(_WS + "\r\n")


def unquoted(text: str, *, error: str = "unterminated quoted string") -> Iterator[tuple[int, str]]:
    """The characters of ``text`` outside double-quoted strings, with their indices.

    Quotes themselves and backslash escapes inside quotes are skipped; an unterminated
    quote raises :class:`DecodeError` (saying ``error``) when the scan reaches the end.
    """
    in_quote = escaped = False
    for i, ch in enumerate(text):
        if in_quote:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_quote = False
        elif ch == '"':
            in_quote = True
        else:
            yield i, ch
    if in_quote:
        raise DecodeError(error)


def split_outside_quotes(text: str, sep: str) -> list[str]:
    """Split at ``sep`` characters outside double-quoted strings and angle brackets."""
    if '"' not in text and "<" not in text and ">" not in text:
        # Nothing to skip: the same split as below, without the per-character Python loop
        # that was the largest item of a call's SIP parsing profile (issue 17).
        return text.split(sep)
    parts: list[str] = []
    angle = 0
    start = 0
    for i, ch in unquoted(text):
        if ch == "<":
            angle += 1
        elif ch == ">":
            angle = max(0, angle - 1)  # a stray '>' must not stop all later splits
        elif ch == sep and angle == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def parse_params(text: str, *, what: str) -> dict[str, str | None]:
    """Parse ``;a=b;c`` (the leading ';' already removed, parts separated by ';')."""
    params: dict[str, str | None] = {}
    for raw in split_outside_quotes(text, ";"):
        part = _strip_ws(raw)
        if not part:
            raise DecodeError(f"{what}: empty parameter")
        if "=" in part:
            name, _, value = part.partition("=")
            name, value = _strip_ws(name), _strip_ws(value)
            if not value:
                raise DecodeError(f"{what}: parameter {name!r} has '=' but no value")
            if value.startswith('"'):
                if len(value) < 2 or not value.endswith('"'):
                    raise DecodeError(f"{what}: bad quoted parameter value")
            elif not _param_value_ok(value):
                raise DecodeError(f"{what}: bad parameter value {value!r}")
        else:
            name, value = part, None
        if not is_token(name):
            raise DecodeError(f"{what}: bad parameter name {name!r}")
        params[name.lower()] = value
    return params


def _param_value_ok(value: str) -> bool:
    # token, host (IPv6 reference) or the URI-parameter characters (which add []/:&$ etc.)
    return bool(re.match(r"^[A-Za-z0-9\-.!%*_+`'~\[\]/:&$]+$", value))


def format_params(params: dict[str, str | None]) -> str:
    return "".join(f";{k}" if v is None else f";{k}={v}" for k, v in params.items())


def _parse_hostport(text: str, *, what: str) -> tuple[str, int | None]:
    text = _strip_ws(text)
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise DecodeError(f"{what}: unterminated IPv6 reference")
        host, rest = text[: end + 1], text[end + 1 :]
    else:
        host, _, port_text = text.partition(":")
        rest = ":" + port_text if _ else ""
    rest = _strip_ws(rest)
    port: int | None = None
    if rest:
        if not rest.startswith(":"):
            raise DecodeError(f"{what}: junk after host")
        digits = _strip_ws(rest[1:])
        if not digits.isdigit() or len(digits) > 5 or not 0 < int(digits) < 65536:
            raise DecodeError(f"{what}: bad port {digits!r}")
        port = int(digits)
    host = _strip_ws(host)
    if not host or not _HOST.match(host):
        raise DecodeError(f"{what}: bad host {host!r}")
    return host, port


@dataclass
class SipUri:
    """A ``sip:`` or ``sips:`` URI; user and parameters kept escaped as written."""

    host: str
    user: str | None = None
    port: int | None = None
    scheme: str = "sip"
    password: str | None = None
    params: dict[str, str | None] = field(default_factory=dict)
    headers: str | None = None

    @classmethod
    def parse(cls, text: str) -> SipUri:
        text = text.strip()
        scheme, colon, rest = text.partition(":")
        if not colon or scheme.lower() not in ("sip", "sips"):
            raise DecodeError(f"not a SIP URI: {text[:60]!r}")
        if any(c in rest for c in ' \t\r\n<>"'):
            raise DecodeError("SIP URI contains whitespace or delimiter characters")
        rest, qmark, headers = rest.partition("?")
        userinfo, at, hostpart = rest.rpartition("@")
        user = password = None
        if at:
            if not userinfo:
                raise DecodeError("SIP URI has '@' but no user")
            user, pcolon, pw = userinfo.partition(":")
            password = pw if pcolon else None
            if not user:
                raise DecodeError("SIP URI has an empty user")
        hostport, semi, param_text = hostpart.partition(";")
        host, port = _parse_hostport(hostport, what="SIP URI")
        params = parse_params(param_text, what="SIP URI") if semi else {}
        return cls(
            host=host,
            user=user,
            port=port,
            scheme=scheme.lower(),
            password=password,
            params=params,
            headers=headers if qmark else None,
        )

    def __str__(self) -> str:
        userinfo = ""
        if self.user is not None:
            userinfo = self.user + (f":{self.password}" if self.password is not None else "")
            userinfo += "@"
        port = f":{self.port}" if self.port is not None else ""
        tail = f"?{self.headers}" if self.headers is not None else ""
        return f"{self.scheme}:{userinfo}{self.host}{port}{format_params(self.params)}{tail}"

    @property
    def aor(self) -> str:
        """Address of record: scheme, user and host only (used as the location key)."""
        user = f"{self.user}@" if self.user else ""
        return f"{self.scheme}:{user}{self.host.lower()}"

    def address(self, default_port: int = 5060) -> tuple[str, int]:
        """Where to send to: host and port (numeric hosts only; no DNS here)."""
        host = self.params.get("maddr") or self.host
        return host.strip("[]"), self.port or default_port


@dataclass
class Via:
    """One Via value: ``SIP/2.0/<transport> host[:port];params``."""

    transport: str
    host: str
    port: int | None = None
    params: dict[str, str | None] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> Via:
        head, semi, param_text = split_outside_quotes_first(text, ";")
        # sent-protocol = name SLASH version SLASH transport, with SWS around each slash.
        pieces = head.split("/")
        if len(pieces) != 3:
            raise DecodeError("Via: sent-protocol must be name/version/transport")
        name, version = _strip_ws(pieces[0]), _strip_ws(pieces[1])
        if name.upper() != "SIP" or version != "2.0":
            raise DecodeError(f"Via: unsupported protocol {name}/{version}")
        tail = _strip_ws(pieces[2])
        fields = tail.split(None, 1)
        if len(fields) != 2:
            raise DecodeError("Via: missing sent-by")
        transport = fields[0].upper()
        if not is_token(transport):
            raise DecodeError("Via: bad transport")
        host, port = _parse_hostport(fields[1], what="Via")
        params = parse_params(param_text, what="Via") if semi else {}
        return cls(transport=transport, host=host, port=port, params=params)

    def __str__(self) -> str:
        port = f":{self.port}" if self.port is not None else ""
        return f"SIP/2.0/{self.transport} {self.host}{port}{format_params(self.params)}"

    @property
    def branch(self) -> str | None:
        return self.params.get("branch")

    @property
    def sent_by(self) -> tuple[str, int]:
        default = 5061 if self.transport == "TLS" else 5060
        return self.host.lower(), self.port or default

    def response_address(self) -> tuple[str, int]:
        """Where a response to this hop goes (RFC 3261 18.2.2 with RFC 3581 rport)."""
        host = self.params.get("received") or self.host
        rport = self.params.get("rport")
        port = int(rport) if rport and rport.isdigit() else (self.port or 5060)
        return host.strip("[]"), port


def split_outside_quotes_first(text: str, sep: str) -> tuple[str, str, str]:
    """Like ``str.partition`` but ignoring separators inside quotes and angle brackets."""
    parts = split_outside_quotes(text, sep)
    if len(parts) == 1:
        return parts[0], "", ""
    return parts[0], sep, sep.join(parts[1:])


@dataclass
class NameAddr:
    """``[display-name] <uri> *(;param)`` or a bare addr-spec (From, To, Contact, Route)."""

    uri: str
    display: str | None = None
    params: dict[str, str | None] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> NameAddr:
        text = _strip_ws(text)
        if not text:
            raise DecodeError("empty name-addr")
        display: str | None = None
        lt = _find_uri_start(text)
        if lt >= 0:
            display_text = _strip_ws(text[:lt])
            gt = text.find(">", lt)
            if gt < 0:
                raise DecodeError("name-addr: missing '>'")
            uri = text[lt + 1 : gt].strip()
            rest = _strip_ws(text[gt + 1 :])
            if display_text:
                display = _parse_display(display_text)
        else:
            # addr-spec form: parameters after the URI belong to the header, not the URI.
            uri, semi, tail = text.partition(";")
            uri = _strip_ws(uri)
            rest = semi + tail
        if not uri or ":" not in uri or any(c in uri for c in " \t<>"):
            raise DecodeError(f"name-addr: bad URI {uri[:60]!r}")
        params: dict[str, str | None] = {}
        if rest:
            if not rest.startswith(";"):
                raise DecodeError("name-addr: junk after URI")
            params = parse_params(rest[1:], what="name-addr")
        return cls(uri=uri, display=display, params=params)

    def __str__(self) -> str:
        display = f"{self.display} " if self.display else ""
        return f"{display}<{self.uri}>{format_params(self.params)}"

    @property
    def tag(self) -> str | None:
        return self.params.get("tag")

    @property
    def sip_uri(self) -> SipUri:
        return SipUri.parse(self.uri)


def _find_uri_start(text: str) -> int:
    """Index of the '<' that opens the URI, skipping a quoted display name."""
    for i, ch in unquoted(text, error="name-addr: unterminated quoted display name"):
        if ch == "<":
            return i
    return -1


def _parse_display(text: str) -> str:
    if text.startswith('"'):
        if not text.endswith('"') or len(text) < 2:
            raise DecodeError("name-addr: bad quoted display name")
        return text
    # A display name of tokens (RFC 4475 3.1.1.5 omits the LWS before '<': accepted).
    for word in text.split():
        if not is_token(word):
            raise DecodeError(f"name-addr: bad display name word {word!r}")
    return text


def parse_cseq(text: str) -> tuple[int, str]:
    """``CSeq: 1*DIGIT LWS Method`` -> (number, method); number below 2**31 (8.1.1.5)."""
    fields = text.split()
    if len(fields) != 2 or not fields[0].isdigit() or len(fields[0]) > 10:
        raise DecodeError(f"bad CSeq {text[:40]!r}")
    number = int(fields[0])
    if number >= 2**31:
        raise DecodeError("CSeq number out of range")
    if not is_token(fields[1]):
        raise DecodeError("bad CSeq method")
    return number, fields[1]


def new_branch(random_hex: str) -> str:
    """A branch that marks the RFC 3261 transaction-id rules (section 8.1.1.7)."""
    return BRANCH_COOKIE + random_hex
