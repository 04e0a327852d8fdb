"""The architecture page's two pictures, drawn from the code so that they cannot drift from it.

``.. ethvoip-layers::``
    The packages as layers (``attacks`` on top, ``model`` and ``impl`` beside each other,
    ``spec`` at the bottom), each ``impl`` sub-package a box of its own with its module count,
    and below the picture every dependency between the boxes, read from the ``import``
    statements of the source.  The build fails on an upward or sideways import between the
    layers (the rule ``tests/test_layers.py`` enforces), so the picture is never prettier than
    the code.

``.. ethvoip-callflow::``
    One line per stage of a call, ``title | dotted.path.to.object | what it does``; every path
    is imported at build time (a renamed or moved function fails the build), and the stages are
    drawn left to right, each box naming the module that does the work.
"""

from __future__ import annotations

import ast
import html
import importlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docutils import nodes
from ethvoip_spec import chart, para, table
from sphinx.util.docutils import SphinxDirective

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ("spec", "model", "impl", "attacks")
#: what each layer may import besides itself (ARCHITECTURE.md; tests/test_layers.py)
ALLOWED = {"spec": set(), "model": {"spec"}, "impl": {"spec"}, "attacks": {"spec", "model", "impl"}}


class DriftError(Exception):
    """The code no longer has what the page says (a layer rule broken, a path gone)."""


def box_of(path: Path, root: Path = ROOT) -> str:
    """``impl.chain`` for a module in impl/chain/, ``impl`` for impl/crypto.py, ``spec`` for one
    in spec/ or spec/protocols/ (only impl is drawn by sub-package)."""
    rel = path.relative_to(root).parts
    if rel[0] == "impl" and len(rel) > 2:
        return f"impl.{rel[1]}"
    return rel[0]


def _target_box(dotted: str, root: Path) -> str | None:
    parts = dotted.split(".")
    if parts[0] != "ethvoip" or len(parts) < 2 or parts[1] not in LAYERS:
        return None
    if parts[1] == "impl" and len(parts) > 2 and (root / "impl" / parts[2]).is_dir():
        return f"impl.{parts[2]}"
    return parts[1]


def imports_of(path: Path, root: Path = ROOT) -> set[str]:
    """The boxes a module imports (absolute ethvoip imports; relative ones stay in the box)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            # ``from ethvoip.impl import chain`` is an import of impl.chain, not of impl
            names = [f"{node.module}.{a.name}" for a in node.names]
        else:
            continue
        for n in names:
            box = _target_box(n, root)
            if box is not None:
                out.add(box)
    return out


@dataclass(frozen=True)
class Graph:
    modules: dict[str, int]  # box -> number of modules
    lines: dict[str, int]  # box -> lines of code
    edges: dict[str, set[str]]  # box -> boxes it imports


def scan(root: Path = ROOT, layers: Iterable[str] = LAYERS) -> Graph:
    modules: dict[str, int] = defaultdict(int)
    lines: dict[str, int] = defaultdict(int)
    edges: dict[str, set[str]] = defaultdict(set)
    for layer in layers:
        for path in sorted((root / layer).rglob("*.py")):
            box = box_of(path, root)
            modules[box] += 1
            lines[box] += len(path.read_text(encoding="utf-8").splitlines())
            for target in imports_of(path, root) - {box}:
                layer_of = target.split(".")[0]
                if layer_of != layer and layer_of not in ALLOWED[layer]:
                    where = path.relative_to(root)
                    raise DriftError(f"{where} imports {target}: not downward")
                edges[box].add(target)
    return Graph(dict(modules), dict(lines), dict(edges))


def _rect(x: float, y: float, w: float, h: float, fill: str, label: str, sub: str) -> str:
    return (
        f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="6" fill="{fill}" stroke="#555"/>'
        f'<text x="{x + w / 2}" y="{y + h / 2 - 2}" text-anchor="middle" font-weight="bold">'
        f"{html.escape(label)}</text>"
        + "".join(
            f'<text x="{x + w / 2}" y="{y + h / 2 + 13 + 12 * i}" text-anchor="middle" '
            f'font-size="10" fill="#444">{html.escape(line)}</text>'
            for i, line in enumerate(sub.split("\n"))
        )
    )


def layers_svg(g: Graph) -> str:
    """Layers as rows: attacks; model beside impl's sub-packages (four to a row); spec."""
    # impl's own top-level modules (crypto, wire, ...) first, then its sub-packages
    impl_boxes = sorted(
        (b for b in g.modules if b.split(".")[0] == "impl"), key=lambda b: (b != "impl", b)
    )
    per_row, bw, bh, gap = 4, 140, 62, 8
    rows = (len(impl_boxes) + per_row - 1) // per_row
    width = 150 + per_row * (bw + gap) + 12
    impl_h = 28 + rows * (bh + gap)
    spec_y = 95 + impl_h + 30
    height = spec_y + 70
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" font-family="sans-serif" font-size="12" role="img">',
        '<defs><marker id="a" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" '
        'markerHeight="6" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>',
    ]

    def sub(box: str) -> str:
        return f"{g.modules.get(box, 0)} modules\n{g.lines.get(box, 0):,} lines"

    out.append(
        _rect(10, 10, width - 20, 60, "#f6ddcc", "attacks", sub("attacks").replace("\n", ", "))
    )
    out.append(_rect(10, 95 + impl_h / 2 - 45, 125, 90, "#d6eaf8", "model", sub("model")))
    out.append(
        f'<rect x="145" y="95" width="{width - 155}" height="{impl_h}" rx="8" fill="#eafaf1" '
        'stroke="#555" stroke-dasharray="4 3"/>'
        '<text x="155" y="112" font-weight="bold">impl</text>'
    )
    for i, box in enumerate(impl_boxes):
        x = 153 + (i % per_row) * (bw + gap)
        y = 120 + (i // per_row) * (bh + gap)
        label = "(top level)" if box == "impl" else box.removeprefix("impl.")
        out.append(_rect(x, y, bw, bh, "#d5f5e3", label, sub(box)))
    out.append(
        _rect(10, spec_y, width - 20, 60, "#fcf3cf", "spec", sub("spec").replace("\n", ", "))
    )
    for ax in (72.0, width / 2 + 70):
        for y1, y2 in ((72, 92), (95 + impl_h + 2, spec_y - 3)):
            out.append(
                f'<line x1="{ax}" y1="{y1}" x2="{ax}" y2="{y2}" stroke="#555" '
                'marker-end="url(#a)"/>'
            )
    out.append("</svg>")
    return "".join(out)


class LayersDirective(SphinxDirective):
    def run(self) -> list[nodes.Node]:
        try:
            g = scan()
        except DriftError as exc:
            raise self.error(str(exc)) from exc
        for layer in LAYERS:
            for path in (ROOT / layer).rglob("*.py"):
                self.env.note_dependency(str(path))
        out: list[nodes.Node] = [chart(self, layers_svg(g))]
        rows = [
            [
                [para(nodes.literal(box, box))],
                [para(", ".join(sorted(g.edges.get(box, ()))) or "-")],
            ]
            for box in sorted(g.modules, key=lambda b: (LAYERS.index(b.split(".")[0]), b))
        ]
        out.append(table(["package", "imports (read from the source at build time)"], rows))
        return out


@dataclass(frozen=True)
class Stage:
    title: str
    path: str
    what: str

    @property
    def module(self) -> str:
        return resolve(self.path)


def resolve(path: str) -> str:
    """The module that defines ``path`` (a module, or an object inside one); DriftError if gone."""
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            if not hasattr(obj, attr):
                raise DriftError(f"{path}: {'.'.join(parts[:cut])} has no {attr!r}")
            obj = getattr(obj, attr)
        return str(getattr(obj, "__module__", None) or ".".join(parts[:cut]))
    raise DriftError(f"{path}: no such module")


def flow_svg(stages: list[Stage]) -> str:
    """The stages top to bottom, each box: the stage, then the module doing it."""
    width, bh, step = 560, 40, 56
    height = 10 + step * len(stages)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" font-family="sans-serif" font-size="12" role="img">',
        '<defs><marker id="f" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" '
        'markerHeight="6" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>',
    ]
    for i, s in enumerate(stages):
        y = 10 + i * step
        module = s.module.removeprefix("ethvoip.")
        out.append(
            f'<rect x="10" y="{y}" width="{width - 20}" height="{bh}" rx="6" fill="#eaf2f8" '
            f'stroke="#555"/><text x="24" y="{y + 25}" font-weight="bold">'
            f"{html.escape(s.title)}</text>"
            f'<text x="{width - 24}" y="{y + 25}" text-anchor="end" font-family="monospace" '
            f'font-size="11">{html.escape(module)}</text>'
        )
        if i + 1 < len(stages):
            out.append(
                f'<line x1="60" y1="{y + bh + 1}" x2="60" y2="{y + step - 2}" stroke="#555" '
                'marker-end="url(#f)"/>'
            )
    out.append("</svg>")
    return "".join(out)


class CallFlowDirective(SphinxDirective):
    has_content = True

    def run(self) -> list[nodes.Node]:
        stages = []
        for line in self.content:
            if not line.strip():
                continue
            fields = [f.strip() for f in line.split("|")]
            if len(fields) != 3:
                raise self.error(f"want 'title | dotted.path | what', got {line!r}")
            stages.append(Stage(*fields))
        try:
            modules = [s.module for s in stages]
        except DriftError as exc:
            raise self.error(str(exc)) from exc
        out: list[nodes.Node] = [chart(self, flow_svg(stages))]
        rows = [
            [[para(s.title)], [para(nodes.literal(s.path, s.path))], [para(m)], [para(s.what)]]
            for s, m in zip(stages, modules, strict=True)
        ]
        out.append(table(["stage", "entry point", "module", "what it does"], rows))
        return out


def setup(app: Any) -> dict[str, Any]:
    app.add_directive("ethvoip-layers", LayersDirective)
    app.add_directive("ethvoip-callflow", CallFlowDirective)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
