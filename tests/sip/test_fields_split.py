"""``split_outside_quotes`` (impl/sip/fields.py) against a reference written here: its fast
path for text without quotes or angle brackets must split exactly like the character scan."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ethvoip.impl.sip.fields import split_outside_quotes
from ethvoip.spec.errors import DecodeError


def _reference(text: str, sep: str) -> list[str] | None:
    """Split at ``sep`` outside "..." (with \\ escapes) and <...>; None if a quote is open."""
    parts, cur = [], ""
    quoted = escaped = False
    angle = 0
    for ch in text:
        if quoted:
            escaped, quoted = (False, True) if escaped else (ch == "\\", ch != '"')
            cur += ch
            continue
        if ch == '"':
            quoted = True
        elif ch == "<":
            angle += 1
        elif ch == ">":
            angle = max(0, angle - 1)
        elif ch == sep and angle == 0:
            parts.append(cur)
            cur = ""
            continue
        cur += ch
    return None if quoted else [*parts, cur]


@given(st.text(alphabet='ab ;,="<>\\', max_size=40), st.sampled_from([";", ","]))
def test_split_matches_the_reference(text: str, sep: str) -> None:
    want = _reference(text, sep)
    if want is None:
        try:
            split_outside_quotes(text, sep)
        except DecodeError:
            return
        raise AssertionError("an unterminated quote was accepted")
    assert split_outside_quotes(text, sep) == want
