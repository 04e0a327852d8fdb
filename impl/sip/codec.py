"""Strict SIP wire codec: bytes to :class:`Request`/:class:`Response` and back.

* :func:`decode_datagram` reads one message from a UDP datagram (RFC 3261 section 18.3:
  bytes past Content-Length are dropped, fewer than Content-Length is an error).
* :class:`StreamDecoder` frames messages on a byte stream (TCP, TLS-PSK) by Content-Length,
  which is then mandatory; it skips the CRLF keep-alives of RFC 5626 between messages.
* :func:`encode` prints a message and always writes a correct Content-Length.

Strictness: the start line, every header line, the fields the transaction layer depends on
(Via, From, To, Call-ID, CSeq) and the single-valued fields are checked; anything else is
carried as text.  Size limits bound memory on hostile input.  Every rejection is a
:class:`~ethvoip.spec.errors.DecodeError` and leaves the decoder's state unchanged.

A message whose framing is sound but whose fields are not (an empty Via, a bad CSeq ...) is a
:class:`FieldError`.  On a stream the framing survives it: a :class:`StreamDecoder` given
``on_invalid`` skips that message, reports it (the transport answers a request with 400) and
goes on with the next, so one bad request does not cost its sender the connection.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from ethvoip.spec.errors import DecodeError, LocalProtocolError

from .fields import NameAddr, Via, is_token, parse_cseq
from .message import SINGLE_VALUE_FIELDS, Headers, Message, Request, Response, canonical_name

MAX_HEADER_BYTES = 16 * 1024  # the whole start line + header section
MAX_HEADER_LINES = 200
MAX_BODY_BYTES = 64 * 1024
MAX_DATAGRAM_BYTES = 65_535

_CRLF = b"\r\n"
_END = b"\r\n\r\n"
# Control characters other than HT are never legal in a header section (TEXT-UTF8, LWS).
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_VERSION = "SIP/2.0"


def _split_head(head: bytes) -> tuple[str, list[tuple[str, str]]]:
    if len(head) > MAX_HEADER_BYTES:
        raise DecodeError(f"header section larger than {MAX_HEADER_BYTES} bytes")
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DecodeError(f"header section is not UTF-8: {exc.reason}") from None
    lines = text.split("\r\n")
    start, rest = lines[0], lines[1:]
    if len(rest) > MAX_HEADER_LINES:
        raise DecodeError(f"more than {MAX_HEADER_LINES} header lines")
    # Unfold (RFC 3261 7.3.1): a line starting with SP/HT continues the previous one, and the
    # fold (CRLF plus leading whitespace) counts as a single space.
    logical: list[str] = []
    for line in rest:
        if "\r" in line or _CONTROL.search(line):
            raise DecodeError("control character in header section")
        if line[:1] in (" ", "\t"):
            if not logical:
                raise DecodeError("continuation line before any header")
            logical[-1] = logical[-1].rstrip(" \t") + " " + line.lstrip(" \t")
        else:
            logical.append(line)
    pairs: list[tuple[str, str]] = []
    for line in logical:
        name, colon, value = line.partition(":")
        name = name.rstrip(" \t")
        if not colon or not name or not is_token(name):
            raise DecodeError(f"bad header line {line[:60]!r}")
        pairs.append((canonical_name(name), value.strip(" \t")))
    return start, pairs


def _parse_start(start: str) -> tuple[str, str] | tuple[int, str]:
    if _CONTROL.search(start):
        raise DecodeError("control character in start line")
    if start.upper().startswith("SIP/"):
        version, sp1, rest = start.partition(" ")
        code, _, reason = rest.partition(" ")
        if version.upper() != _VERSION or not sp1:
            raise DecodeError(f"unsupported version {version[:20]!r}")
        if len(code) != 3 or not code.isdigit() or not 100 <= int(code) <= 699:
            raise DecodeError(f"bad status code {code[:10]!r}")
        return int(code), reason
    parts = start.split(" ")
    if len(parts) != 3:
        raise DecodeError(f"bad request line {start[:60]!r}")
    method, uri, version = parts
    if not is_token(method):
        raise DecodeError("bad method")
    if version.upper() != _VERSION:
        raise DecodeError(f"unsupported version {version[:20]!r}")
    scheme, colon, _ = uri.partition(":")
    if not colon or not scheme or not re.match(r"^[A-Za-z][A-Za-z0-9+\-.]*$", scheme):
        raise DecodeError("Request-URI has no scheme")
    return method, uri


class FieldError(DecodeError):
    """A framed message with a field the transaction layer cannot use; ``message`` is what
    was read of it and ``length`` its body length (the stream can skip it)."""

    def __init__(self, reason: str, message: Message, length: int | None) -> None:
        super().__init__(reason)
        self.message, self.length = message, length


def _check_fields(headers: Headers, method: str | None) -> None:
    """Reject messages whose core fields the transaction layer would trip over."""
    for name in SINGLE_VALUE_FIELDS:
        if len(headers.raw(name)) > 1:
            raise DecodeError(f"{name} appears more than once")
    for name in ("Via", "From", "To", "Call-ID", "CSeq"):
        if not headers.raw(name):
            raise DecodeError(f"missing mandatory header {name}")
    if not headers.values("Via"):
        raise DecodeError("empty Via")
    for via in headers.values("Via"):
        Via.parse(via)
    NameAddr.parse(headers.raw("From")[0])
    NameAddr.parse(headers.raw("To")[0])
    if not headers.raw("Call-ID")[0]:
        raise DecodeError("empty Call-ID")
    _, cseq_method = parse_cseq(headers.raw("CSeq")[0])
    if (
        method is not None
        and cseq_method != method
        and not (method == "ACK" and cseq_method == "INVITE")
    ):
        # RFC 4475 3.1.2.16 (cseqmeth): method and CSeq method must agree.
        raise DecodeError("CSeq method does not match the request method")
    for name in ("Contact", "Route", "Record-Route"):
        for value in headers.values(name):
            if value != "*":
                NameAddr.parse(value)
    mf = headers.get("Max-Forwards")
    if mf is not None and (not mf.isdigit() or len(mf) > 5 or int(mf) > 255):
        raise DecodeError("bad Max-Forwards")


def _content_length(headers: Headers) -> int | None:
    raw = headers.raw("Content-Length")
    if not raw:
        return None
    value = raw[0]
    if not value.isdigit() or len(value) > 10:
        raise DecodeError(f"bad Content-Length {value[:20]!r}")
    length = int(value)
    if length > MAX_BODY_BYTES:
        raise DecodeError(f"body larger than {MAX_BODY_BYTES} bytes")
    return length


def _build(head: bytes) -> tuple[Message, int | None]:
    start, pairs = _split_head(head)
    first = _parse_start(start)
    headers = Headers(pairs)
    length = _content_length(headers)
    msg: Message
    if isinstance(first[0], int):
        msg = Response(status=first[0], reason=str(first[1]), headers=headers)
        method = None
    else:
        method = str(first[0])
        msg = Request(method=method, uri=first[1], headers=headers)
    try:
        _check_fields(headers, method)
    except FieldError:
        raise
    except DecodeError as exc:
        raise FieldError(str(exc), msg, length) from None
    return msg, length


def decode_datagram(data: bytes) -> Message:
    """Decode one message from a whole datagram."""
    if len(data) > MAX_DATAGRAM_BYTES:
        raise DecodeError("datagram too large")
    end = data.find(_END)
    if end < 0:
        raise DecodeError("no end of header section")
    msg, length = _build(data[:end])
    rest = data[end + 4 :]
    if length is None:
        body = rest
    elif len(rest) < length:
        raise DecodeError(f"body shorter ({len(rest)}) than Content-Length ({length})")
    else:
        body = rest[:length]
    if len(body) > MAX_BODY_BYTES:
        raise DecodeError("body too large")
    msg.body = bytes(body)
    return msg


OnInvalid = Callable[[Message, str], None]


class StreamDecoder:
    """Incremental decoder for a reliable byte stream; Content-Length frames each message.

    ``on_invalid(message, reason)`` receives each framed message whose fields are bad (a
    :class:`FieldError`) and decoding goes on; without it such a message fails the stream.
    """

    def __init__(self, on_invalid: OnInvalid | None = None) -> None:
        self._buf = bytearray()
        self.closed = False
        self.on_invalid = on_invalid

    def feed(self, data: bytes) -> list[Message]:
        """Add bytes; return every message now complete.

        On a DecodeError the stream cannot be resynchronised: the decoder marks itself
        closed (the caller drops the connection) and the buffered bytes are discarded.
        """
        if self.closed:
            raise DecodeError("stream decoder already failed")
        self._buf += data
        try:
            return list(self._drain())
        except DecodeError:
            self.closed = True
            self._buf.clear()
            raise

    def _drain(self) -> Iterator[Message]:
        while True:
            # CRLF keep-alives (RFC 5626 section 3.5.1) between messages are skipped.
            while self._buf[:2] == _CRLF:
                del self._buf[:2]
            end = self._buf.find(_END)
            if end < 0:
                if len(self._buf) > MAX_HEADER_BYTES:
                    raise DecodeError(f"header section larger than {MAX_HEADER_BYTES} bytes")
                return
            try:
                msg, length = _build(bytes(self._buf[:end]))
            except FieldError as exc:
                if self.on_invalid is None or exc.length is None:
                    raise
                total = end + 4 + exc.length
                if len(self._buf) < total:
                    return  # skip it whole, body included, once it is all here
                del self._buf[:total]
                self.on_invalid(exc.message, str(exc))
                continue
            if length is None:
                raise DecodeError("Content-Length is mandatory on stream transports")
            total = end + 4 + length
            if len(self._buf) < total:
                return
            msg.body = bytes(self._buf[end + 4 : total])
            del self._buf[:total]
            yield msg

    @property
    def buffered(self) -> int:
        return len(self._buf)


def encode(msg: Message) -> bytes:
    """Print a message; Content-Length is always (re)written to match the body."""
    if isinstance(msg, Request):
        start = f"{msg.method} {msg.uri} {_VERSION}"
    else:
        start = f"{_VERSION} {msg.status} {msg.reason}"
    lines = [start]
    length_line = f"Content-Length: {len(msg.body)}"
    for name, value in msg.headers:
        if name == "Content-Length":
            # Written once, in place of the first copy, with the true length.
            if length_line not in lines:
                lines.append(length_line)
            continue
        if "\r" in value or "\n" in value:
            raise LocalProtocolError(f"header {name} value contains a line break")
        lines.append(f"{name}: {value}")
    if length_line not in lines:
        lines.append(length_line)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + msg.body
