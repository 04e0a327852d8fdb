"""The ``ethvoip-sip-ua`` directive: the SIP user agent's call life cycle, from its table.

``.. ethvoip-sip-ua::`` draws the state diagram (SVG, at build time) and writes the table of
every row of :data:`ethvoip.impl.sip.call_states.TABLE` - the table the UA itself runs - with
the pairs it refuses and the error type of each refusal.  Nothing is typed by hand, so the
page cannot drift from the code.

In the diagram an arrow is a row that changes the state, labelled with its events; a row that
keeps the state and does something is marked ↻ beside its box; a row shared by four states
or more goes to the footer with its action; rows that absorb (action ``-``) and the refused
pairs are only in the table.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections import defaultdict
from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from ethvoip_spec import chart
from sphinx.util.docutils import SphinxDirective

from ethvoip.impl.sip.call_states import (
    TABLE,
    Action,
    CallEvent,
    CallState,
    Side,
    side,
)

S = CallState
#: centre of each state's box: callers on top, callees below, the end on the right
PLACE = {
    S.IDLE: (100, 280),
    S.CALLING: (380, 150),
    S.CANCELLING: (700, 60),
    S.RINGING: (380, 430),
    S.ANSWERED: (700, 430),
    S.CONFIRMED: (700, 280),
    S.ENDED: (1010, 280),
}
#: where a state's own rows (that keep it) are written: offset from its centre, anchor
LOOPS_AT = {
    S.IDLE: (0, 40, "middle"),
    S.CALLING: (0, -30, "middle"),
    S.CANCELLING: (75, -4, "start"),
    S.RINGING: (0, 40, "middle"),
    S.ANSWERED: (0, 40, "middle"),
    S.CONFIRMED: (12, 40, "start"),
    S.ENDED: (12, 40, "start"),
}
BOX_W, BOX_H = 130, 40
WIDTH, HEIGHT = 1120, 740
#: a row shared by this many states is written once, in the footer
SHARED = 4
#: how far along an arrow its label sits, where the middle would meet another arrow
LABEL_AT = {(S.RINGING, S.ENDED): 0.3}

Group = tuple[CallEvent, CallState | None, Action]  # next state None: stays


def groups() -> dict[Group, list[CallState]]:
    """The table's rows, states with the same event, next state and action together.  IDLE's
    row joins the other states' when they all move into IDLE the same way (``abandon()``)."""
    into_idle = {(e, t.action) for (s, e), t in TABLE.items() if t.to is S.IDLE and s is not S.IDLE}
    out: dict[Group, list[CallState]] = defaultdict(list)
    for (state, event), t in TABLE.items():
        stays = t.to is state and (state is not S.IDLE or (event, t.action) not in into_idle)
        out[(event, None if stays else t.to, t.action)].append(state)
    return dict(out)


def _text(parent: ET.Element, x: float, y: float, s: str, **attrs: str) -> None:
    t = ET.SubElement(parent, "text", {"x": f"{x:.0f}", "y": f"{y:.0f}", **attrs})
    t.text = s


def _border(x: float, y: float, dx: float, dy: float) -> tuple[float, float]:
    """Where the ray from a box's centre in direction (dx, dy) leaves the box."""
    sx = (BOX_W / 2) / abs(dx) if dx else math.inf
    sy = (BOX_H / 2) / abs(dy) if dy else math.inf
    s = min(sx, sy)
    return x + dx * s, y + dy * s


def _arrow(svg: ET.Element, src: CallState, dst: CallState, label: str) -> None:
    (x1, y1), (x2, y2) = PLACE[src], PLACE[dst]
    if (src, dst) == (S.ENDED, S.IDLE):  # the way back runs under everything
        bottom = HEIGHT - 130
        path = f"M{x1},{y1 + BOX_H / 2} C{x1},{bottom} {x2},{bottom} {x2},{y2 + BOX_H / 2}"
        lx, ly, anchor = (x1 + x2) / 2, bottom - 60.0, "middle"
    else:
        d = math.hypot(x2 - x1, y2 - y1)
        dx, dy = (x2 - x1) / d, (y2 - y1) / d
        ax, ay = _border(x1, y1, dx, dy)
        bx, by = _border(x2, y2, -dx, -dy)
        path = f"M{ax:.0f},{ay:.0f} L{bx:.0f},{by:.0f}"
        # beside the arrow, on its left as it runs; level arrows: under it
        at = LABEL_AT.get((src, dst), 0.5)
        lx, ly = ax + (bx - ax) * at + dy * 8, ay + (by - ay) * at - dx * 8 + 4
        anchor = "middle" if abs(dy) < 0.2 or abs(dx) < 0.2 else ("start" if dy > 0 else "end")
        if abs(dy) < 0.2:
            ly += 24
        elif abs(dx) < 0.2:
            lx, anchor = lx + 12, "start"
    attrs = {"d": path, "stroke": "#333", "fill": "none", "marker-end": "url(#ua-arrow)"}
    ET.SubElement(svg, "path", attrs)
    _text(svg, lx, ly, label, **{"text-anchor": anchor})


def _names(states: list[CallState]) -> str:
    return ", ".join(s.name for s in states)


def render() -> str:
    """The state diagram as a self-contained SVG (no XML declaration, to inline in HTML).

    Arrows and loops name the events only (the table says what each one does); rows shared
    by many states are written out in the footer, with their action.
    """
    svg = ET.Element(
        "svg",
        {
            "xmlns": "http://www.w3.org/2000/svg",
            "width": str(WIDTH),
            "height": str(HEIGHT),
            "viewBox": f"0 0 {WIDTH} {HEIGHT}",
            "role": "img",
            "font-family": "sans-serif",
            "font-size": "13",  # scaled to the 800 px column (71 %): 9 px and more
        },
    )
    ET.SubElement(svg, "title").text = "SIP user agent: call life cycle"
    marker = ET.SubElement(
        ET.SubElement(svg, "defs"),
        "marker",
        id="ua-arrow",
        markerWidth="10",
        markerHeight="8",
        refX="9",
        refY="4",
        orient="auto",
    )
    ET.SubElement(marker, "path", d="M0,0 L10,4 L0,8 z", fill="#333")
    edges: dict[tuple[CallState, CallState], list[str]] = defaultdict(list)
    loops: dict[CallState, list[str]] = defaultdict(list)
    footer: list[str] = []
    for (event, to, action), states in sorted(groups().items(), key=_order):
        if len(states) >= SHARED and action is not Action.NOTHING:
            where = "any state" if len(states) == len(S) else _names(states)
            arrow = f" → {to.name}" if to is not None else ""
            footer.append(f"{event.value}{arrow}: {action.value}   (in {where})")
        elif len(states) >= SHARED:
            continue  # absorbed in many states: the table lists them
        elif to is not None:
            for s in states:
                if s is not to:
                    edges[(s, to)].append(event.value)
        elif action is not Action.NOTHING:
            for s in states:
                loops[s].append(event.value)
    for (src, dst), labels in sorted(edges.items(), key=lambda e: (e[0][0].value, e[0][1].value)):
        _arrow(svg, src, dst, ", ".join(labels))
    for s, (x, y) in PLACE.items():
        attrs = {"x": f"{x - BOX_W / 2:.0f}", "y": f"{y - BOX_H / 2:.0f}", "rx": "10"}
        fill = "#e8f4e8" if s is S.CONFIRMED else "#f4f4f4"
        box = {"width": str(BOX_W), "height": str(BOX_H), "fill": fill, "stroke": "#333"}
        ET.SubElement(svg, "rect", {**attrs, **box})
        _text(svg, x, y + 5, s.name, **{"text-anchor": "middle", "font-weight": "bold"})
        if s in loops:
            ox, oy, anchor = LOOPS_AT[s]
            _text(svg, x + ox, y + oy, "↻ " + ", ".join(loops[s]), **{"text-anchor": anchor})
    foot = HEIGHT - 30 - 15 * len(footer)
    for i, line in enumerate(footer):
        _text(svg, 20, foot + 15 * i, line)
    _text(
        svg,
        20,
        HEIGHT - 12,
        "IDLE: no call under that Call-ID.  Arrows and ↻ name events; what each does, the "
        "rows that absorb, and the pairs refused: in the table.",
        **{"font-style": "italic"},
    )
    return ET.tostring(svg, encoding="unicode")


def _order(item: tuple[Group, list[CallState]]) -> tuple[int, int, int]:
    (event, to, _), states = item
    return list(CallEvent).index(event), min(s.value for s in states), to.value if to else 0


def _refusal(event: CallEvent) -> str:
    return "RemoteProtocolError" if side(event) is Side.REMOTE else "LocalProtocolError"


def table_rst() -> list[str]:
    """Every row, grouped as in the diagram, and each event's refused states."""
    out = [
        ".. list-table:: The call life cycle: every row of ``call_states.TABLE``",
        "   :header-rows: 1",
        "",
        "   * - event (from)",
        "     - in state",
        "     - next state",
        "     - action",
    ]
    rows = sorted(groups().items(), key=_order)
    for event in CallEvent:
        ours = [(to, action, states) for (e, to, action), states in rows if e is event]
        refused = [s for s in S if (s, event) not in TABLE]
        # an action "-" would read as an empty bullet list in the RST cell: say it in words
        cells = [
            (_names(st), to.name if to else "same", a.value if a.value != "-" else "nothing")
            for to, a, st in ours
        ]
        if refused:
            cells.append((_names(refused), "refused", _refusal(event)))
        for i, (states, to_name, what) in enumerate(cells):
            first = f"``{event.value}`` ({side(event).value})" if i == 0 else ""
            out += [f"   * - {first}", f"     - {states}", f"     - {to_name}", f"     - {what}"]
    return out


class SipUaDirective(SphinxDirective):
    def run(self) -> list[nodes.Node]:
        container = nodes.container()
        self.state.nested_parse(StringList(table_rst(), source="ethvoip-sip-ua"), 0, container)
        return [chart(self, render()), *container.children]


def setup(app: Any) -> dict[str, Any]:
    app.add_directive("ethvoip-sip-ua", SipUaDirective)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
