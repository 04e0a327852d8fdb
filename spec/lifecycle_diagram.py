"""The life-cycle state diagram of one variant, drawn from its table (self-contained SVG).

One box per record status the table names, one arrow per (from, to) pair labelled with the
functions that take it and who may call them, the functions that keep the status listed
under its box, and the ones callable in any status in a footer.  Nothing is typed by hand:
the docs' diagram (``.. ethvoip-lifecycle::``) cannot drift from what the model checks.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections import defaultdict

from ethvoip.spec.lifecycle import (
    OPERATOR_ONLY,
    Function,
    LifecycleVariant,
    Status,
    statuses,
    transitions,
)
from ethvoip.spec.msc import clean_text

#: where each status's box sits (centre), in a fixed layout that reads left to right
PLACE = {
    Status.NONE: (110, 230),
    Status.PENDING: (330, 90),
    Status.APPROVED: (560, 230),
    Status.REVOKED: (330, 400),
    Status.SUSPENDED: (860, 230),
}
BOX_W, BOX_H = 140, 46
WIDTH, HEIGHT = 1040, 560


def who(f: Function) -> str:
    return f"{f.name} [{'operator' if f.caller == OPERATOR_ONLY else 'anyone'}]"


def _text(parent: ET.Element, x: float, y: float, s: str, **attrs: str) -> None:
    t = ET.SubElement(parent, "text", {"x": f"{x:.0f}", "y": f"{y:.0f}", **attrs})
    t.text = clean_text(s)


def _border(x: float, y: float, dx: float, dy: float) -> tuple[float, float]:
    """Where the ray from a box's centre in direction (dx, dy) leaves the box."""
    sx = (BOX_W / 2) / abs(dx) if dx else math.inf
    sy = (BOX_H / 2) / abs(dy) if dy else math.inf
    s = min(sx, sy)
    return x + dx * s, y + dy * s


def render(v: LifecycleVariant) -> str:
    """The SVG (no XML declaration, so it can be inlined in HTML)."""
    svg = ET.Element(
        "svg",
        {
            "xmlns": "http://www.w3.org/2000/svg",
            "width": str(WIDTH),
            "height": str(HEIGHT),
            "viewBox": f"0 0 {WIDTH} {HEIGHT}",
            "role": "img",
            "font-family": "sans-serif",
            "font-size": "12",
        },
    )
    title = ET.SubElement(svg, "title")
    title.text = f"key store life cycle ({v.name})"
    defs = ET.SubElement(svg, "defs")
    marker = ET.SubElement(
        defs,
        "marker",
        id="lc-arrow",
        markerWidth="10",
        markerHeight="8",
        refX="9",
        refY="4",
        orient="auto",
    )
    ET.SubElement(marker, "path", d="M0,0 L10,4 L0,8 z", fill="#333")
    _text(svg, 20, 24, f"{v.name}: {v.summary}"[:150], **{"font-weight": "bold"})
    shown = statuses(v)
    edges: dict[tuple[Status, Status], list[str]] = defaultdict(list)
    loops: dict[Status, list[str]] = defaultdict(list)
    for src, dst, f in transitions(v):
        (loops[src] if src == dst else edges[(src, dst)]).append(who(f))
    for (src, dst), labels in sorted(edges.items()):
        (x1, y1), (x2, y2) = PLACE[src], PLACE[dst]
        d = math.hypot(x2 - x1, y2 - y1)
        dx, dy = (x2 - x1) / d, (y2 - y1) / d
        # two arrows between the same pair run side by side, each on its right
        ox, oy = -dy * 9, dx * 9
        ax, ay = _border(x1, y1, dx, dy)
        bx, by = _border(x2, y2, -dx, -dy)
        ET.SubElement(
            svg,
            "path",
            {
                "d": f"M{ax + ox:.0f},{ay + oy:.0f} L{bx + ox:.0f},{by + oy:.0f}",
                "stroke": "#333",
                "fill": "none",
                "marker-end": "url(#lc-arrow)",
            },
        )
        mx, my = (ax + bx) / 2 + ox * 2.2, (ay + by) / 2 + oy * 2.2
        anchor = "start" if ox >= 0 else "end"
        if abs(ox) < 1:
            anchor = "middle"
        for i, label in enumerate(sorted(set(labels))):
            _text(svg, mx, my + i * 14, label, **{"text-anchor": anchor})
    for s in shown:
        x, y = PLACE[s]
        ET.SubElement(
            svg,
            "rect",
            x=f"{x - BOX_W / 2:.0f}",
            y=f"{y - BOX_H / 2:.0f}",
            width=str(BOX_W),
            height=str(BOX_H),
            rx="10",
            fill="#e8f4e8" if s is Status.APPROVED else "#f4f4f4",
            stroke="#333",
        )
        _text(svg, x, y + 5, s.name.title(), **{"text-anchor": "middle", "font-weight": "bold"})
        # calls that keep the status: listed above the box (below for the top row)
        above = y > 150
        for i, label in enumerate(sorted(set(loops.get(s, [])))):
            ly = y - BOX_H / 2 - 8 - i * 14 if above else y + BOX_H / 2 + 16 + i * 14
            _text(svg, x, ly, "↻ " + label, **{"text-anchor": "middle"})
    anywhere = [who(f) for f in v.functions if f.status_from is None and f.status_to is None]
    foot = HEIGHT - 30
    if anywhere:
        _text(svg, 20, foot, "in any status (guards decide): " + ", ".join(anywhere))
    _text(
        svg,
        20,
        foot + 16,
        "lookup answers only in Approved; every refusal is a custom error (see the table)",
    )
    return ET.tostring(svg, encoding="unicode")
