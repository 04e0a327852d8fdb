"""The SIP UA's state diagram and table (docs/sip.rst) are drawn from the UA's own table."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET

from ethvoip_sipua import groups, render, table_rst

from ethvoip.impl.sip.call_states import TABLE, CallEvent, CallState

E = CallEvent


def test_the_diagram_has_a_box_per_state_and_an_arrow_per_move() -> None:
    svg = ET.fromstring(render())
    ns = "{http://www.w3.org/2000/svg}"
    texts = [t.text or "" for t in svg.iter(f"{ns}text")]
    assert {s.name for s in CallState} <= set(texts)
    # abandon() moves every state to IDLE: written once in the footer, not drawn
    moves = {(s, t.to) for (s, e), t in TABLE.items() if t.to is not s and e is not E.ABANDON}
    assert len(svg.findall(f"{ns}path")) == len(moves)  # the arrow head's is inside <defs>
    assert any("abandon()" in t and "any state" in t for t in texts)
    for (event, to, _), states in groups().items():
        if to is not None and len(states) < 4:
            assert any(event.value in t for t in texts), event


def test_the_table_lists_every_pair_once() -> None:
    lines = table_rst()
    by_value = {e.value: e for e in CallEvent}
    pairs: list[tuple[CallState, CallEvent]] = []
    event = None
    rows = lines[7:]
    for first, states, to, _ in zip(rows[::4], rows[1::4], rows[2::4], rows[3::4], strict=True):
        if first != "   * - ":
            event = by_value[first.split("``")[1]]
        assert event is not None
        for state in (CallState[n] for n in states.removeprefix("     - ").split(", ")):
            pairs.append((state, event))
            row = TABLE.get((state, event))
            if row is None:
                wanted = {"refused"}
            else:
                wanted = {row.to.name} | ({"same"} if row.to is state else set())
            assert to.removeprefix("     - ") in wanted, (state, event)
    assert sorted(pairs, key=str) == sorted(itertools.product(CallState, CallEvent), key=str)
