"""A message sequence chart of a trace as a self-contained SVG (no external tools).

One lifeline per run (``a as I, run 1``) and one for the network, which the intruder ``e``
controls.  Each event is a row: a send is an arrow from the run to the network, a receive
an arrow from the network to the run (red and labelled *forged* when the intruder built the
message rather than forwarding it), a look-up a note on the lifeline.  The message itself
is written in a column on the right, so long terms never overlap the arrows.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from ethvoip.spec.trace import Trace

COL = 130  # distance between lifelines
ROW = 30  # height of one event
TOP = 70  # room for the heads
CHAR = 6.6  # approximate width of a character at font-size 11 (monospace)


def render(trace: Trace) -> str:
    """The trace as an SVG document (a string)."""
    runs = list(trace.runs)
    # the network sits in the middle: runs split on its two sides, arrows stay short
    left = runs[: (len(runs) + 1) // 2]
    right = runs[(len(runs) + 1) // 2 :]
    cols: dict[int | str, float] = {}
    x = 70.0
    for r in left:
        cols[r.id] = x
        x += COL
    cols["net"] = x
    x += COL
    for r in right:
        cols[r.id] = x
        x += COL
    text_x = x - COL / 2 + 20
    longest = max((len(_line(trace, i)) for i in range(len(trace.events))), default=10)
    width = text_x + longest * CHAR + 30
    height = TOP + ROW * (len(trace.events) + 1) + (40 if trace.violation else 10)
    title = f"{trace.protocol} / {trace.variant}: " + (
        f"attack on {trace.claim} ({trace.bound} runs)" if trace.kind == "attack" else "honest run"
    )
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'font-family="monospace" font-size="11">',
        "<defs>"
        '<marker id="arr" markerWidth="8" markerHeight="8" refX="8" refY="4" orient="auto">'
        '<path d="M0,0 L8,4 L0,8 z" fill="#222"/></marker>'
        '<marker id="arrf" markerWidth="8" markerHeight="8" refX="8" refY="4" orient="auto">'
        '<path d="M0,0 L8,4 L0,8 z" fill="#c00"/></marker>'
        "</defs>",
        f'<rect width="{width:.0f}" height="{height:.0f}" fill="white"/>',
        f'<text x="10" y="18" font-size="13" font-weight="bold">{escape(title)}</text>',
    ]
    bottom = TOP + ROW * len(trace.events) + 10
    heads: list[tuple[int | str, str]] = [(r.id, f"{r.agent} as {r.role} #{r.id}") for r in runs]
    heads.append(("net", "network (e)"))
    for key, label in heads:
        cx = cols[key]
        colour = "#c00" if key == "net" else "#222"
        out.append(
            f'<rect x="{cx - 58:.0f}" y="30" width="116" height="22" rx="3" fill="#f4f4f4" '
            f'stroke="{colour}"/>'
        )
        out.append(
            f'<text x="{cx:.0f}" y="45" text-anchor="middle" fill="{colour}">{escape(label)}</text>'
        )
        out.append(
            f'<line x1="{cx:.0f}" y1="52" x2="{cx:.0f}" y2="{bottom}" stroke="#999" '
            'stroke-dasharray="4,3"/>'
        )
    for i, ev in enumerate(trace.events):
        y = TOP + ROW * i + 10
        rx, nx = cols[ev.run], cols["net"]
        forged = ev.action == "recv" and ev.derivation is not None
        colour = "#c00" if forged else "#222"
        marker = "arrf" if forged else "arr"
        if ev.action == "lookup":
            out.append(
                f'<rect x="{rx - 40:.0f}" y="{y - 9}" width="80" height="16" fill="#eef" '
                'stroke="#88a"/>'
            )
            out.append(
                f'<text x="{rx:.0f}" y="{y + 3}" text-anchor="middle">{escape(ev.label)}</text>'
            )
        else:
            x1, x2 = (rx, nx) if ev.action == "send" else (nx, rx)
            out.append(
                f'<line x1="{x1:.0f}" y1="{y}" x2="{x2:.0f}" y2="{y}" stroke="{colour}" '
                f'marker-end="url(#{marker})"/>'
            )
            out.append(
                f'<text x="{(x1 + x2) / 2:.0f}" y="{y - 4}" text-anchor="middle" '
                f'fill="{colour}">{escape(ev.label)}</text>'
            )
        out.append(
            f'<text x="{text_x:.0f}" y="{y + 4}" fill="{colour}">{escape(_line(trace, i))}</text>'
        )
    if trace.violation is not None:
        out.append(
            f'<text x="10" y="{bottom + 24}" fill="#c00" font-weight="bold">'
            f"{escape('violated: ' + (trace.claim or '') + ' - ' + trace.violation.explanation)}"
            "</text>"
        )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _line(trace: Trace, i: int) -> str:
    ev = trace.events[i]
    tag = {"send": "sends", "recv": "receives", "lookup": "looks up"}[ev.action]
    forged = " (forged by e)" if ev.action == "recv" and ev.derivation is not None else ""
    return f"{i:2}. {ev.label} {tag}{forged}: {ev.term}"
