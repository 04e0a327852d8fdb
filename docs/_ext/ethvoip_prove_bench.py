"""The ``ethvoip-prove-bench`` directive: the model checker's times, from a committed benchmark run.

``bench/prove.py --json docs/model/prove_bench.json`` writes the figures (format
``ethvoip-prove-bench/1``) with the date, the machine and the load.  The directive renders,
under a line saying when and where they were measured: a chart (SVG, drawn here, offline) of
each hardened variant's time against the bound, the reduced search in full lines and the
plain one dashed; a table of the same figures; the seconds accounted to each claim; and the
paper attacks at their pinned bounds.  Figures of another ``mode`` (an unbounded one) are
listed in the tables under their own mode and left out of the chart's bounded axes.
"""

from __future__ import annotations

import json
import math
from html import escape
from pathlib import Path
from typing import Any, ClassVar

from docutils import nodes
from ethvoip_spec import chart, para, table
from sphinx.util.docutils import SphinxDirective

FORMAT = "ethvoip-prove-bench/1"

#: One colour per protocol, in the record's order (readable on white, distinct in grey).
COLOURS = ("#1f5fa8", "#c0392b", "#2e8b57", "#8e44ad", "#d35400", "#555555")


class ProveBenchError(Exception):
    """The record cannot be shown: missing or malformed."""


def load_prove_bench(path: Path) -> dict[str, Any]:
    try:
        rec = json.loads(path.read_text(encoding="utf-8"))
        if rec["format"] != FORMAT:
            raise ValueError(f"format {rec['format']!r}, not {FORMAT!r}")
        for f in rec["figures"]:
            missing = {"protocol", "variant", "claim", "mode", "search", "runs"} - set(f)
            if missing:
                raise KeyError(f"a figure lacks {sorted(missing)}")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ProveBenchError(f"{path}: not a bench record ({exc})") from exc
    return dict(rec)


def variant_figures(rec: dict[str, Any], mode: str = "bounded") -> list[dict[str, Any]]:
    """The whole-variant figures (no claim) of ``mode``."""
    return [f for f in rec["figures"] if f["claim"] is None and f["mode"] == mode]


def _secs(x: float) -> str:
    return f"{x:.2f}" if x < 10 else f"{x:.1f}"


def svg_chart(rec: dict[str, Any], key: str = "median", label: str = "seconds") -> str:
    """Seconds (log scale) against the bound, a line per protocol and search."""
    figs = [f for f in variant_figures(rec) if f["variant"] == "hardened"]
    runs = sorted({int(f["runs"]) for f in figs})
    protocols = list(dict.fromkeys(f["protocol"] for f in figs))
    values = [float(f[key]) for f in figs if float(f[key]) > 0]
    if not runs or not values:
        return ""
    lo = 10 ** math.floor(math.log10(min(values)))
    hi = 10 ** math.ceil(math.log10(max(values)))
    w, h, left, top, right, bottom = 720, 380, 70, 20, 210, 40
    pw, ph = w - left - right, h - top - bottom

    def x(n: int) -> float:
        return left + (pw * (runs.index(n)) / max(1, len(runs) - 1))

    def y(s: float) -> float:
        return top + ph * (1 - (math.log10(s) - math.log10(lo)) / (math.log10(hi / lo)))

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" '
        f'height="{h}" font-family="sans-serif" font-size="12">',
        f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#999"/>',
    ]
    decade = lo
    while decade <= hi * 1.0001:
        yy = y(decade)
        parts.append(
            f'<line x1="{left}" y1="{yy:.1f}" x2="{left + pw}" y2="{yy:.1f}" stroke="#ddd"/>'
        )
        parts.append(f'<text x="{left - 6}" y="{yy + 4:.1f}" text-anchor="end">{decade:g} s</text>')
        for minor in (2, 5):  # fainter lines at 2 and 5 times the decade
            if decade * minor < hi:
                ym = y(decade * minor)
                parts.append(
                    f'<line x1="{left}" y1="{ym:.1f}" x2="{left + pw}" y2="{ym:.1f}" '
                    f'stroke="#eee"/><text x="{left - 6}" y="{ym + 4:.1f}" text-anchor="end" '
                    f'fill="#888">{decade * minor:g}</text>'
                )
        decade *= 10
    for n in runs:
        parts.append(f'<text x="{x(n):.1f}" y="{top + ph + 16}" text-anchor="middle">{n}</text>')
    parts.append(
        f'<text x="{left + pw / 2:.1f}" y="{h - 6}" text-anchor="middle">bound (runs)</text>'
    )
    parts.append(
        f'<text x="14" y="{top + ph / 2:.1f}" text-anchor="middle" '
        f'transform="rotate(-90 14 {top + ph / 2:.1f})">{escape(label)}</text>'
    )
    legend_y = top + 10
    for i, p in enumerate(protocols):
        colour = COLOURS[i % len(COLOURS)]
        for search, dash in (("reduced", ""), ("plain", ' stroke-dasharray="5,4"')):
            pts = sorted(
                (int(f["runs"]), float(f[key]))
                for f in figs
                if f["protocol"] == p and f["search"] == search and float(f[key]) > 0
            )
            if not pts:
                continue
            path = " ".join(f"{x(n):.1f},{y(s):.1f}" for n, s in pts)
            parts.append(
                f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"{dash}>'
                f"<title>{escape(p)} ({search})</title></polyline>"
            )
            for n, s in pts:
                parts.append(
                    f'<circle cx="{x(n):.1f}" cy="{y(s):.1f}" r="2.5" fill="{colour}">'
                    f"<title>{escape(p)} {search}, {n} runs: {_secs(s)} s</title></circle>"
                )
        lx = left + pw + 16
        parts.append(
            f'<line x1="{lx}" y1="{legend_y - 4}" x2="{lx + 24}" y2="{legend_y - 4}" '
            f'stroke="{colour}" stroke-width="2"/>'
        )
        parts.append(f'<text x="{lx + 30}" y="{legend_y}">{escape(p)}</text>')
        legend_y += 18
    lx = left + pw + 16
    parts.append(
        f'<line x1="{lx}" y1="{legend_y + 6}" x2="{lx + 24}" y2="{legend_y + 6}" stroke="#333" '
        f'stroke-width="2"/><text x="{lx + 30}" y="{legend_y + 10}">reduced (default)</text>'
    )
    parts.append(
        f'<line x1="{lx}" y1="{legend_y + 24}" x2="{lx + 24}" y2="{legend_y + 24}" stroke="#333" '
        f'stroke-width="2" stroke-dasharray="5,4"/>'
        f'<text x="{lx + 30}" y="{legend_y + 28}">plain (--no-reduce)</text>'
    )
    parts.append("</svg>")
    return "\n".join(parts)


def variant_table(rec: dict[str, Any]) -> nodes.table:
    """Per protocol, variant, mode and search: wall (CPU) median seconds per bound."""
    figs = [f for f in rec["figures"] if f["claim"] is None and f["variant"] == "hardened"]
    runs = sorted({int(f["runs"]) for f in figs})
    keys = list(dict.fromkeys((f["protocol"], f["mode"], f["search"]) for f in figs))
    rows = []
    for p, mode, search in keys:
        by_runs = {
            int(f["runs"]): f
            for f in figs
            if (f["protocol"], f["mode"], f["search"]) == (p, mode, search)
        }
        row = [[para(nodes.literal(p, p))], [para(f"{mode}, {search}")]]
        for n in runs:
            f = by_runs.get(n)
            text = "" if f is None else f"{_secs(f['median'])} ({_secs(f['cpu_median'])})"
            row.append([para(text)])
        rows.append(row)
    return table(["protocol", "search", *(f"{n} runs" for n in runs)], rows)


def claim_table(rec: dict[str, Any]) -> nodes.table:
    """Seconds accounted to each claim of the hardened variants (reduced search) per bound."""
    figs = [
        f
        for f in rec["figures"]
        if f["claim"] is not None and f["variant"] == "hardened" and f["search"] == "reduced"
    ]
    runs = sorted({int(f["runs"]) for f in figs})
    keys = list(dict.fromkeys((f["protocol"], f["claim"], f["mode"]) for f in figs))
    rows = []
    for p, c, mode in keys:
        by_runs = {
            int(f["runs"]): f
            for f in figs
            if (f["protocol"], f["claim"], f["mode"]) == (p, c, mode)
        }
        row = [[para(nodes.literal(p, p))], [para(nodes.literal(c, c))]]
        for n in runs:
            f = by_runs.get(n)
            row.append([para("" if f is None else _secs(f["accounted_median"]))])
        rows.append(row)
    return table(["protocol", "claim", *(f"{n} runs" for n in runs)], rows)


def attack_table(rec: dict[str, Any]) -> nodes.table:
    figs = [f for f in rec["figures"] if f["claim"] is not None and f["variant"] != "hardened"]
    rows = [
        [
            [para(nodes.literal(f["protocol"], f["protocol"]))],
            [para(f["variant"])],
            [para(nodes.literal(f["claim"], f["claim"]))],
            [para(f"{f['verdict']} with {f['runs']} runs")],
            [para(f"{_secs(f['median'])} ({_secs(f['cpu_median'])})")],
        ]
        for f in figs
    ]
    return table(["protocol", "variant", "claim", "verdict", "seconds, wall (CPU)"], rows)


def provenance(rec: dict[str, Any]) -> str:
    return (
        f"Measured {rec['made']} on {rec['machine']}, medians of {rec['repeat']} "
        f"(load average {' / '.join(map(str, rec['load_before']))} before, "
        f"{' / '.join(map(str, rec['load_after']))} after: a shared machine; CPU seconds are "
        f"the steadier figure), by {rec['generated_by']}."
    )


class ProveBenchDirective(SphinxDirective):
    """``.. ethvoip-prove-bench:: path``, option ``:part:``: chart, variants, claims, attacks."""

    required_arguments = 1
    option_spec: ClassVar[dict[str, Any]] = {"part": str}

    def run(self) -> list[nodes.Node]:
        _, abspath = self.env.relfn2path(self.arguments[0])
        path = Path(abspath)
        self.env.note_dependency(str(path))
        try:
            rec = load_prove_bench(path)
        except ProveBenchError as exc:
            raise self.error(str(exc)) from exc
        part = self.options.get("part", "chart")
        if part == "chart":
            return [
                para(provenance(rec)),
                chart(self, svg_chart(rec, "cpu_median", "CPU seconds, all claims")),
            ]
        if part == "variants":
            return [variant_table(rec)]
        if part == "claims":
            return [claim_table(rec)]
        if part == "attacks":
            return [attack_table(rec)]
        raise self.error(f"unknown part {part!r} (chart, variants, claims, attacks)")


def setup(app: Any) -> dict[str, Any]:
    app.add_directive("ethvoip-prove-bench", ProveBenchDirective)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
