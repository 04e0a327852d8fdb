"""Message sequence charts as standalone SVG, drawn by plain Python (no external tool, no JS).

Generic on purpose: it knows nothing of protocols.  Give it the lifelines (one per role run,
agent or service) and the events in order, and it returns an ``<svg>`` document:

* an event whose source and destination differ is a message arrow, labelled above the line
  with its ``label`` (``I_2 -> R_1``) and below the label with its ``text`` (the term);
* an event whose source equals its destination is a box on that lifeline (a directory look-up,
  a local check, a step that never ran);
* an event whose ``style`` is ``"forged"`` (a message the intruder built) is drawn in red.

Each gap between neighbouring lifelines is only as wide as the arrows crossing it need, and long
terms wrap, so that most charts fit a page's text column at full size; the page scales the
rest down (the SVG has a ``viewBox``).

The docs' protocol pages and ``ethvoip-msc`` directive and the model's trace charts
(:mod:`ethvoip.model.svg`) all call :func:`render_msc`: one chart writer for the project.
The output is well-formed XML (built with :mod:`xml.etree.ElementTree`, which escapes text;
characters XML 1.0 forbids are replaced) and uses no ids, so several charts can be inlined
in one HTML page.
"""

from __future__ import annotations

import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import NamedTuple

from ethvoip.spec.errors import EthVoipError

SVG_NS = "http://www.w3.org/2000/svg"

# Layout constants, in SVG user units (pixels at 100 %).
_FONT_SIZE = 12
_CHAR_W = 7.3  # advance of one monospace cell at 12 px (0.6 em, rounded up)
_MARGIN = 16
_HEAD_H = 30
_MIN_GAP = 110
_ROW_H = 50
_BOX_H = 36
_PAD = 12
_LINE_H = 15
_WRAP = 36  # longer texts break after a comma or space, at most this many cells a line
_FORGED = "#c0392b"  # the colour of a message the intruder built
#: The values of :attr:`Event.style`: the default look, and a message the intruder built.
STYLES = ("", "forged")


class ChartError(EthVoipError, ValueError):
    """A chart names a lifeline it does not have, or has no lifeline at all."""


class Event(NamedTuple):
    """One row of the chart; a plain ``(src, dst, label, text)`` tuple works as well."""

    src: str
    dst: str
    label: str
    text: str
    style: str = ""  # one of STYLES


def clean_text(text: str) -> str:
    """``text`` on one line, with characters that XML 1.0 cannot carry replaced by U+FFFD."""
    out = []
    for ch in text:
        o = ord(ch)
        if ch in "\t\r\n":
            out.append(" ")
        elif o < 0x20 or 0xD800 <= o <= 0xDFFF or o in (0xFFFE, 0xFFFF):
            out.append("\ufffd")
        else:
            out.append(ch)
    return "".join(out)


def text_width(text: str) -> float:
    """Estimated rendered width of ``text`` (wide East-Asian characters count double)."""
    cells = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        cells += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return cells * _CHAR_W


def wrap(text: str, limit: int = _WRAP) -> list[str]:
    """``text`` broken into lines of at most ``limit`` cells, after a space where possible."""
    lines: list[str] = []
    rest = text
    while text_width(rest) > limit * _CHAR_W:
        cut = rest.rfind(" ", 1, limit + 1)
        if cut <= 0:
            cut = limit
        lines.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    lines.append(rest)
    return lines


def _fmt(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def render_msc(
    lifelines: Sequence[str],
    events: Sequence[Event | tuple[str, str, str, str]],
    *,
    title: str = "",
) -> str:
    """The SVG (no XML declaration, so it can be inlined in HTML) of one chart."""
    if not lifelines:
        raise ChartError("a chart needs at least one lifeline")
    lanes = [clean_text(x) for x in lifelines]
    if len(set(lanes)) != len(lanes):
        raise ChartError(f"duplicate lifeline in {list(lifelines)!r}")
    index = {name: i for i, name in enumerate(lanes)}
    rows = [Event(*(clean_text(x) for x in ev)) for ev in events]
    for ev in rows:
        for end in (ev.src, ev.dst):
            if end not in index:
                raise ChartError(f"event {ev.label!r} names unknown lifeline {end!r}")
        if ev.style not in STYLES:
            raise ChartError(f"event {ev.label!r} has unknown style {ev.style!r}")
    texts = [wrap(ev.text) for ev in rows]
    head_w = [max(text_width(x) + 2 * _PAD, 80.0) for x in lanes]
    xs, half = _columns(
        [w / 2 for w in head_w],
        [
            (index[ev.src], index[ev.dst], max(text_width(x) for x in (ev.label, *lines)))
            for ev, lines in zip(rows, texts, strict=True)
        ],
    )
    width = xs[-1] + half[-1] + _MARGIN
    top = _MARGIN + _HEAD_H
    # Vertical layout: each row is as tall as its wrapped text needs.
    ys = []
    y = top + 20.0
    for lines in texts:
        y += _ROW_H + _LINE_H * (len(lines) - 1)
        ys.append(y - 14)
    height = y + _MARGIN

    svg = ET.Element(
        "svg",
        {
            "xmlns": SVG_NS,
            "version": "1.1",
            "class": "ethvoip-msc",
            "width": _fmt(width),
            "height": _fmt(height),
            "viewBox": f"0 0 {_fmt(width)} {_fmt(height)}",
            "role": "img",
            "font-size": str(_FONT_SIZE),
            "font-family": "sans-serif",
        },
    )
    if title:
        ET.SubElement(svg, "title").text = clean_text(title)
    ET.SubElement(
        svg, "rect", {"x": "0", "y": "0", "width": "100%", "height": "100%", "fill": "white"}
    )
    for x, name, w in zip(xs, lanes, head_w, strict=True):
        g = ET.SubElement(svg, "g", {"class": "lifeline"})
        ET.SubElement(
            g,
            "line",
            {
                "x1": _fmt(x),
                "y1": _fmt(top),
                "x2": _fmt(x),
                "y2": _fmt(height - _MARGIN),
                "stroke": "#888",
                "stroke-dasharray": "4 3",
            },
        )
        ET.SubElement(
            g,
            "rect",
            {
                "x": _fmt(x - w / 2),
                "y": _fmt(_MARGIN),
                "width": _fmt(w),
                "height": str(_HEAD_H),
                "rx": "4",
                "fill": "#eef3f8",
                "stroke": "#3a5f85",
            },
        )
        _text(g, x, _MARGIN + _HEAD_H / 2 + 4, name, bold=True)

    for ev, lines, y in zip(rows, texts, ys, strict=True):
        a, b = index[ev.src], index[ev.dst]
        if a == b:
            _box(svg, xs[a], y, ev.label, lines)
        else:
            _arrow(svg, xs[a], xs[b], y, ev.label, lines, forged=ev.style == "forged")
    return ET.tostring(svg, encoding="unicode")


def _columns(
    half: list[float], spans: Sequence[tuple[int, int, float]]
) -> tuple[list[float], list[float]]:
    """The x of each lifeline's axis, and how far each lane reaches left/right of its axis.

    ``half`` is half of each lane's head width; ``spans`` are the events as ``(from lane, to
    lane, text width)``.  A box widens its lane.  Each gap starts as narrow as the lane heads
    allow; then the arrows, shortest span first, widen the gaps they cross just enough for
    their text (a shortfall is shared equally), so a long arrow over several lanes does not
    widen every gap of the chart.
    """
    half = list(half)
    arrows: list[tuple[int, int, float]] = []
    for a, b, text_w in spans:
        w = text_w + 2 * _PAD
        if a == b:
            half[a] = max(half[a], w / 2)
        else:
            arrows.append((min(a, b), max(a, b), w))
    gaps = [max(float(_MIN_GAP), half[i] + half[i + 1] + _PAD) for i in range(len(half) - 1)]
    for lo, hi, w in sorted(arrows, key=lambda x: x[1] - x[0]):
        short = w - sum(gaps[lo:hi])
        if short > 0:
            for i in range(lo, hi):
                gaps[i] += short / (hi - lo)
    xs = [_MARGIN + half[0]]
    for g in gaps:
        xs.append(xs[-1] + g)
    return xs, half


def _text(
    parent: ET.Element,
    x: float,
    y: float,
    s: str,
    *,
    bold: bool = False,
    mono: bool = False,
    fill: str = "black",
) -> None:
    attrs = {"x": _fmt(x), "y": _fmt(y), "text-anchor": "middle"}
    if bold:
        attrs["font-weight"] = "bold"
    if mono:
        attrs["font-family"] = "monospace"
    if fill != "black":
        attrs["fill"] = fill
    ET.SubElement(parent, "text", attrs).text = s


def _arrow(
    svg: ET.Element,
    x1: float,
    x2: float,
    y: float,
    label: str,
    lines: list[str],
    *,
    forged: bool = False,
) -> None:
    colour = _FORGED if forged else "black"
    g = ET.SubElement(svg, "g", {"class": "message forged" if forged else "message"})
    line = {"x1": _fmt(x1), "y1": _fmt(y), "x2": _fmt(x2), "y2": _fmt(y), "stroke": colour}
    if forged:
        line["stroke-width"] = "2"
    ET.SubElement(g, "line", line)
    d = 1 if x2 > x1 else -1  # arrowhead at the destination, pointing along the line
    tip = f"{_fmt(x2)},{_fmt(y)}"
    back = f"{_fmt(x2 - 9 * d)},{_fmt(y - 4)} {_fmt(x2 - 9 * d)},{_fmt(y + 4)}"
    ET.SubElement(g, "polygon", {"points": f"{tip} {back}", "fill": colour})
    mid = (x1 + x2) / 2
    above = _LINE_H * (len(lines) - 1)
    # a white backing keeps the text readable where it crosses other lifelines
    w = max(text_width(s) for s in (label, *lines)) + 8
    backing = {
        "x": _fmt(mid - w / 2),
        "y": _fmt(y - 33 - above),
        "width": _fmt(w),
        "height": _fmt(30 + above),
        "fill": "white",
        "fill-opacity": "0.85",
    }
    g.insert(0, ET.Element("rect", backing))
    _text(g, mid, y - 20 - above, label, bold=True, fill=colour)
    for k, text in enumerate(lines):
        _text(g, mid, y - 5 - above + _LINE_H * k, text, mono=True, fill=colour)


def _box(svg: ET.Element, x: float, y: float, label: str, lines: list[str]) -> None:
    g = ET.SubElement(svg, "g", {"class": "box"})
    w = max(text_width(s) for s in (label, *lines)) + 2 * _PAD
    above = _LINE_H * (len(lines) - 1)
    ET.SubElement(
        g,
        "rect",
        {
            "x": _fmt(x - w / 2),
            "y": _fmt(y - _BOX_H + 8 - above),
            "width": _fmt(w),
            "height": _fmt(_BOX_H + above),
            "rx": "3",
            "fill": "#fdf6e3",
            "stroke": "#b58900",
        },
    )
    _text(g, x, y - _BOX_H + 22 - above, label, bold=True)
    for k, line in enumerate(lines):
        _text(g, x, y + 3 - above + _LINE_H * k, line, mono=True)
