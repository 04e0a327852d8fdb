"""SIP message model: requests, responses and their ordered header list (RFC 3261 section 7).

Header names are stored in their canonical long form (``v`` becomes ``Via``), values as
unfolded text.  Comma-separated lists are kept as written; :meth:`Headers.values` splits
them for the header fields whose grammar is a comma list (section 7.3.1: those fields may be
written either as one line with commas or as several lines, and both mean the same).
Bodies (SDP, MIKEY inside SDP) are opaque bytes: this layer never looks inside them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from ethvoip.impl.sip.fields import split_outside_quotes

# RFC 3261 section 7.3.3 compact forms (plus the RFC 3515/3903-era ones Kamailio emits).
COMPACT_FORMS: dict[str, str] = {
    "i": "Call-ID",
    "m": "Contact",
    "e": "Content-Encoding",
    "l": "Content-Length",
    "c": "Content-Type",
    "f": "From",
    "s": "Subject",
    "k": "Supported",
    "t": "To",
    "v": "Via",
    "o": "Event",
    "r": "Refer-To",
    "u": "Allow-Events",
}

# Canonical spelling of the fields this stack reads; others keep the case they arrived with.
_CANONICAL: dict[str, str] = {
    name.lower(): name
    for name in (
        "Accept",
        "Allow",
        "Authorization",
        "Call-ID",
        "Contact",
        "Content-Length",
        "Content-Type",
        "CSeq",
        "Expires",
        "From",
        "Max-Forwards",
        "Min-Expires",
        "Proxy-Authenticate",
        "Proxy-Authorization",
        "Record-Route",
        "Require",
        "Route",
        "Subject",
        "Supported",
        "To",
        "User-Agent",
        "Via",
        "WWW-Authenticate",
        *COMPACT_FORMS.values(),
    )
}

# Fields whose grammar is ``x *(COMMA x)``: several lines and one comma list are equivalent.
# Authorization-type fields are NOT here: their commas separate auth-params of ONE value.
COMMA_LIST_FIELDS = frozenset(
    {
        "Accept",
        "Allow",
        "Contact",
        "Record-Route",
        "Require",
        "Route",
        "Supported",
        "Via",
        "Proxy-Require",
        "Unsupported",
        "Allow-Events",
    }
)

# Fields that may appear at most once (RFC 3261 section 20); a second copy is malformed.
SINGLE_VALUE_FIELDS = frozenset(
    {"Call-ID", "CSeq", "Content-Length", "Max-Forwards", "From", "To", "Content-Type", "Expires"}
)


def canonical_name(name: str) -> str:
    """The canonical spelling of a header field name (compact forms expanded)."""
    lowered = name.lower()
    if lowered in COMPACT_FORMS:
        return COMPACT_FORMS[lowered]
    return _CANONICAL.get(lowered, name)


def split_comma_list(value: str) -> list[str]:
    """Split a header value at commas that are outside quotes and angle brackets."""
    return [p.strip() for p in split_outside_quotes(value, ",") if p.strip()]


@dataclass
class Headers:
    """An ordered list of (canonical name, value) pairs; lookups ignore case."""

    items: list[tuple[str, str]] = field(default_factory=list)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        key = canonical_name(name).lower()
        return any(n.lower() == key for n, _ in self.items)

    def raw(self, name: str) -> list[str]:
        """Every line of this field as written (after unfolding), in order."""
        key = canonical_name(name).lower()
        return [v for n, v in self.items if n.lower() == key]

    def values(self, name: str) -> list[str]:
        """Every value of this field, comma lists split for comma-list fields."""
        canon = canonical_name(name)
        lines = self.raw(canon)
        if canon in COMMA_LIST_FIELDS:
            return [part for line in lines for part in split_comma_list(line)]
        return lines

    def get(self, name: str) -> str | None:
        """The first value of this field, or None."""
        found = self.values(name)
        return found[0] if found else None

    def add(self, name: str, value: str) -> None:
        self.items.append((canonical_name(name), value))

    def prepend(self, name: str, value: str) -> None:
        self.items.insert(0, (canonical_name(name), value))

    def remove(self, name: str) -> None:
        key = canonical_name(name).lower()
        self.items = [(n, v) for n, v in self.items if n.lower() != key]

    def set(self, name: str, value: str) -> None:
        """Replace every line of this field by one line, kept at the first one's place."""
        key = canonical_name(name).lower()
        for i, (n, _) in enumerate(self.items):
            if n.lower() == key:
                self.items[i] = (canonical_name(name), value)
                self.items = self.items[: i + 1] + [
                    (m, v) for m, v in self.items[i + 1 :] if m.lower() != key
                ]
                return
        self.add(name, value)

    def pop_first(self, name: str) -> str | None:
        """Remove and return the first value of a comma-list field (top Via, first Route)."""
        key = canonical_name(name).lower()
        for i, (n, v) in enumerate(self.items):
            if n.lower() != key:
                continue
            parts = split_comma_list(v)
            if len(parts) <= 1:
                del self.items[i]
            else:
                self.items[i] = (n, ", ".join(parts[1:]))
            return parts[0] if parts else v
        return None

    def copy(self) -> Headers:
        return Headers(list(self.items))

    @classmethod
    def of(cls, pairs: Iterable[tuple[str, str]]) -> Headers:
        h = cls()
        for n, v in pairs:
            h.add(n, v)
        return h


@dataclass
class Request:
    """A SIP request; ``uri`` is the Request-URI as text."""

    method: str
    uri: str
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""

    @property
    def call_id(self) -> str:
        return self.headers.get("Call-ID") or ""


@dataclass
class Response:
    """A SIP response."""

    status: int
    reason: str
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""

    @property
    def call_id(self) -> str:
        return self.headers.get("Call-ID") or ""


Message = Request | Response
