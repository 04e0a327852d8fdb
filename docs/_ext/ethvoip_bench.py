"""The ``ethvoip-bench`` directive: a committed benchmark run (bench/report.py JSON) as a table
and, optionally, a chart.

A benchmark run with ``--json`` writes one object (``bench/report.py``); committing it under
``docs/bench/`` and naming it here renders it with the date, the machine and the load it was
measured at, so a figure in the docs is always one a reader can trace to a run.  Figures named
``<x>/<column>`` (``1000/verified_cold_ms``) form a series: one row per ``x``, one column per
name given in ``:columns:``; ``:chart:`` draws the listed columns against ``x`` on log-log
axes as an inline SVG (offline, no script).  ``:rows:`` names the rows instead, when they are
not numbers (``checkpoint d=0/cold``): those rows in that order, and no chart.  With
``:transpose:`` a name reads ``<column>/<row>`` (``anvil/call_setup_ms/ours``): one column per
backend, each cell the median with its p99 and sample count, or a recorded ratio; ``:rows:``
then takes one row a line, ``NAME | LABEL`` (row names may hold commas).

The ``ethvoip-cost`` directive multiplies a gas run (``bench/gas.py --json``) by the dated,
sourced prices of a prices file: what each contract call costs a subscriber in ETH and in USD.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from ethvoip_spec import chart, para, table
from sphinx.util.docutils import SphinxDirective


class BenchRecordError(Exception):
    """The run cannot be shown: missing, malformed, or without a figure the page asks for."""


def load_run(path: Path) -> dict[str, Any]:
    try:
        run = json.loads(path.read_text(encoding="utf-8"))
        missing = [k for k in ("bench", "date", "machine", "load", "figures") if k not in run]
        if missing:
            raise KeyError(missing[0])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BenchRecordError(f"{path}: not a benchmark run of bench/report.py ({exc})") from exc
    return dict(run)


def provenance(run: dict[str, Any]) -> str:
    m = run["machine"]
    load = ", ".join(f"{x:.1f}" for x in run["load"])
    return (
        f"Run of bench/{run['bench']}.py on {run['date']}: {m['cpu']}, {m['cores']} cores, "
        f"Python {m['python']}; load average {load} when it finished."
    )


def series(run: dict[str, Any], columns: Sequence[str]) -> list[tuple[int, dict[str, float]]]:
    """``(x, {column: median})`` rows of the figures named ``<x>/<column>``, by x."""
    rows: dict[int, dict[str, float]] = {}
    for name, fig in run["figures"].items():
        x, sep, col = name.partition("/")
        if sep and x.isdigit() and col in columns:
            rows.setdefault(int(x), {})[col] = float(fig["median"])
    if not rows:
        raise BenchRecordError(f"run has no series of {list(columns)}")
    return sorted((x, _complete(x, row, columns)) for x, row in rows.items())


def named_rows(
    run: dict[str, Any], names: Sequence[str], columns: Sequence[str]
) -> list[tuple[str, dict[str, float]]]:
    """``(name, {column: median})`` of the figures named ``<name>/<column>``, in ``names``'
    order: rows that are not numbers (the variants of one look-up, say)."""
    rows: dict[str, dict[str, float]] = {n: {} for n in names}
    for name, fig in run["figures"].items():
        x, sep, col = name.partition("/")
        if sep and x in rows and col in columns:
            rows[x][col] = float(fig["median"])
    return [(x, _complete(x, row, columns)) for x, row in rows.items()]


def transposed_rows(
    run: dict[str, Any], names: Sequence[str], columns: Sequence[str]
) -> list[tuple[str, dict[str, dict[str, Any]]]]:
    """``(row, {column: figure})`` of the figures (or ratios) named ``<column>/<row>``, in
    ``names``' order; a ratio comes as ``{"ratio": r}``."""
    ratios = run.get("ratios", {})
    out = []
    for name in names:
        row: dict[str, dict[str, Any]] = {}
        for c in columns:
            key = f"{c}/{name}"
            if key in run["figures"]:
                row[c] = dict(run["figures"][key])
            elif key in ratios:
                row[c] = {"ratio": float(ratios[key]["ratio"])}
            else:
                raise BenchRecordError(f"run has no figure {key}")
        out.append((name, row))
    return out


def spread_cell(fig: dict[str, Any]) -> list[nodes.Node]:
    """A figure as its median over ``p99 .., n=..``; a ratio as ``1.94x``; a value measured
    once (a share, a gas figure) alone, since it has no spread to show; a count as a whole
    number."""
    if "ratio" in fig:
        return [para(f"{fig['ratio']:.2f}x")]
    if fig.get("unit") == "count":
        return [para(f"{int(fig['median']):,}")]
    if fig["samples"] == 1:
        return [para(_cell(float(fig["median"])))]
    note = f"p99 {_cell(float(fig['p99']))}, n={fig['samples']}"
    return [para(_cell(float(fig["median"]))), para(note, classes=["ethvoip-note"])]


def _complete(x: object, row: dict[str, float], columns: Sequence[str]) -> dict[str, float]:
    missing = [c for c in columns if c not in row]
    if missing:
        raise BenchRecordError(f"run has no figure {x}/{missing[0]}")
    return row


def _cell(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.3f}"


COLOURS = ("#b03a2e", "#1f618d", "#1e8449", "#7d3c98")


def series_chart(
    rows: Sequence[tuple[int, dict[str, float]]], columns: Sequence[str], unit: str
) -> str:
    """Log-log line chart of ``columns`` against x, as an SVG string."""
    w, h, left, bottom, top, right = 560, 300, 60, 40, 16, 150
    xs = [x for x, _ in rows]
    ys = [row[c] for _, row in rows for c in columns]
    lx0, lx1 = math.log10(min(xs)), math.log10(max(xs))
    ly0, ly1 = math.floor(math.log10(min(ys))), math.ceil(math.log10(max(ys)))
    ly1 = max(ly1, ly0 + 1)

    def px(x: float) -> float:
        return left + (math.log10(x) - lx0) / max(lx1 - lx0, 1e-9) * (w - left - right)

    def py(y: float) -> float:
        return h - bottom - (math.log10(y) - ly0) / (ly1 - ly0) * (h - bottom - top)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" '
        f'height="{h}" font-family="sans-serif" font-size="11" role="img">'
    ]
    for e in range(ly0, ly1 + 1):
        y = py(10.0**e)
        out.append(f'<line x1="{left}" x2="{w - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">1e{e} {unit}</text>')
    for x in xs:
        out.append(f'<text x="{px(x):.1f}" y="{h - bottom + 16}" text-anchor="middle">{x:,}</text>')
    for i, c in enumerate(columns):
        colour = COLOURS[i % len(COLOURS)]
        points = " ".join(f"{px(x):.1f},{py(row[c]):.1f}" for x, row in rows)
        out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>')
        ly = top + 14 * i + 6
        out.append(
            f'<line x1="{w - right + 10}" x2="{w - right + 26}" y1="{ly}" y2="{ly}" '
            f'stroke="{colour}" stroke-width="2"/>'
        )
        out.append(f'<text x="{w - right + 30}" y="{ly + 4}">{html.escape(c)}</text>')
    out.append("</svg>")
    return "".join(out)


def _names(text: str) -> list[str]:
    return [c.strip() for c in text.split(",") if c.strip()]


class BenchDirective(SphinxDirective):
    required_arguments = 1
    option_spec: ClassVar[dict[str, Callable[[str], Any]]] = {
        "columns": directives.unchanged_required,
        "chart": directives.unchanged,
        "unit": directives.unchanged,
        "x": directives.unchanged,
        "labels": directives.unchanged,
        "rows": directives.unchanged,
        "transpose": directives.flag,
    }

    def run(self) -> list[nodes.Node]:
        if "transpose" in self.options:
            return self._transposed()
        _, abspath = self.env.relfn2path(self.arguments[0])
        path = Path(abspath)
        self.env.note_dependency(str(path))
        columns = _names(self.options["columns"])
        drawn = _names(self.options.get("chart", ""))
        names = _names(self.options.get("rows", ""))
        try:
            run = load_run(path)
            rows: Sequence[tuple[int | str, dict[str, float]]] = (
                named_rows(run, names, columns) if names else series(run, columns)
            )
            if any(c not in columns for c in drawn):
                raise BenchRecordError(f":chart: names a column not in :columns: ({drawn})")
            if names and drawn:
                raise BenchRecordError(":chart: draws numeric rows only, not :rows:")
        except BenchRecordError as exc:
            raise self.error(str(exc)) from exc
        out: list[nodes.Node] = [para(provenance(run), classes=["ethvoip-note"])]
        body = [
            [
                [para(f"{x:,}" if isinstance(x, int) else x)],
                *[[para(_cell(row[c]))] for c in columns],
            ]
            for x, row in rows
        ]
        labels = _names(self.options.get("labels", "")) or columns
        if len(labels) != len(columns):
            raise self.error(":labels: must name every column of :columns:")
        out.append(table([self.options.get("x", "x"), *labels], body))
        if drawn:
            svg = series_chart(series(run, columns), drawn, self.options.get("unit", ""))
            out.append(chart(self, svg))
        return out

    def _transposed(self) -> list[nodes.Node]:
        _, abspath = self.env.relfn2path(self.arguments[0])
        self.env.note_dependency(abspath)
        columns = _names(self.options["columns"])
        lines = [ln.strip() for ln in self.options.get("rows", "").splitlines() if ln.strip()]
        names = [ln.partition(" | ")[0].strip() for ln in lines]
        shown = [(ln.partition(" | ")[2] or ln).strip() for ln in lines]
        labels = _names(self.options.get("labels", "")) or columns
        if len(labels) != len(columns):
            raise self.error(":labels: must name every column of :columns:")
        try:
            run = load_run(Path(abspath))
            rows = transposed_rows(run, names, columns)
        except BenchRecordError as exc:
            raise self.error(str(exc)) from exc
        body: list[list[list[nodes.Node]]] = [
            [[para(label)], *[spread_cell(row[c]) for c in columns]]
            for label, (_, row) in zip(shown, rows, strict=True)
        ]
        return [
            para(provenance(run), classes=["ethvoip-note"]),
            table([self.options.get("x", "x"), *labels], body),
        ]


def load_prices(path: Path) -> dict[str, Any]:
    try:
        prices = json.loads(path.read_text(encoding="utf-8"))
        float(prices["eth_usd"]["value"])
        for p in prices["gas_prices"]:
            float(p["gwei"]), str(p["name"]), str(p["date"]), str(p["source"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BenchRecordError(f"{path}: not a prices file ({exc})") from exc
    return dict(prices)


def cost_usd(gas: float, gwei: float, eth_usd: float) -> float:
    """What ``gas`` costs at ``gwei`` per gas, in USD (1 gwei = 1e-9 ETH)."""
    return gas * gwei * 1e-9 * eth_usd


def _usd(value: float) -> str:
    return f"${value:,.2f}" if value >= 0.01 else f"${value:.4f}"


class CostDirective(SphinxDirective):
    required_arguments = 1
    option_spec: ClassVar[dict[str, Callable[[str], Any]]] = {
        "prices": directives.unchanged_required,
        "rows": directives.unchanged,
    }

    def _path(self, name: str) -> Path:
        _, abspath = self.env.relfn2path(name)
        self.env.note_dependency(abspath)
        return Path(abspath)

    def run(self) -> list[nodes.Node]:
        try:
            run = load_run(self._path(self.arguments[0]))
            prices = load_prices(self._path(self.options["prices"]))
            names = _names(self.options.get("rows", "")) or list(run["figures"])
            missing = [n for n in names if n not in run["figures"]]
            if missing:
                raise BenchRecordError(f"gas run has no figure {missing[0]!r}")
        except BenchRecordError as exc:
            raise self.error(str(exc)) from exc
        eth_usd = float(prices["eth_usd"]["value"])
        header = ["call", "gas", *(f"{p['name']} ({p['gwei']} gwei)" for p in prices["gas_prices"])]
        body = []
        for name in names:
            gas = float(run["figures"][name]["median"])
            cells = [[para(nodes.literal(name, name))], [para(f"{gas:,.0f}")]]
            for p in prices["gas_prices"]:
                eth = gas * float(p["gwei"]) * 1e-9
                usd = cost_usd(gas, float(p["gwei"]), eth_usd)
                cells.append([para(f"{eth:.3g} ETH"), para(_usd(usd), classes=["ethvoip-note"])])
            body.append(cells)
        out: list[nodes.Node] = [para(provenance(run), classes=["ethvoip-note"])]
        out.append(table(header, body))
        sources = nodes.bullet_list()
        usd = prices["eth_usd"]
        sources += nodes.list_item(
            "", para(f"{usd['unit']}: {usd['value']:,} ({usd['date']}; {usd['source']})")
        )
        for p in prices["gas_prices"]:
            note = " (partial: see the source)" if p.get("partial") else ""
            sources += nodes.list_item(
                "", para(f"{p['name']}: {p['gwei']} gwei{note} ({p['date']}; {p['source']})")
            )
        out.append(sources)
        return out


def setup(app: Any) -> dict[str, Any]:
    app.add_directive("ethvoip-bench", BenchDirective)
    app.add_directive("ethvoip-cost", CostDirective)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
