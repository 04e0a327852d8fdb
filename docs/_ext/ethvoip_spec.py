"""Sphinx extension: protocol pages generated from ``ethvoip.spec``, and hand-drawn charts.

``.. ethvoip-protocol:: psk_handshake``
    The whole page of one catalogue protocol: source and status, the narration (the module's
    Alice-Bob docstring), each variant's summary, every role's labelled steps with the
    variants side by side, one message sequence chart per variant (SVG drawn at build time by
    :mod:`msc` from the honest run of :mod:`ethvoip_flow`), the claims with the verdict expected
    per variant, and the notation.

``.. ethvoip-trace:: path/to/trace.json``
    A model trace (format ``ethvoip-trace/1``) drawn as a chart by :mod:`ethvoip.model.svg`, with
    its caption and the command that regenerates it.  A trace made from an older spec fails
    the build, saying that command.  The path is relative to the page (``/`` = ``docs/``).
    Option ``:protocol-file: FILE.py``: the trace is of a user's protocol file (the
    tutorial's), whose digest it is checked against.

``.. ethvoip-msc:: title``
    A chart written by hand, one event per line: ``A -> B : label : text`` for a message,
    ``A : label : text`` for a box on lifeline ``A``.  Option ``:lifelines: A, B, C`` fixes
    their order (default: order of first mention).

``.. ethvoip-classics::``
    The classic library (:mod:`ethvoip.spec.library`) as a table: name, title, sources and
    the attacks each variant pins.

The build warns (so ``sphinx -W`` fails) when a protocol's honest run cannot finish, and when
a catalogue protocol has no page.
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from ethvoip_flow import Flow, chart_events, honest_flow
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from ethvoip.model.svg import caption, cast, trace_chart
from ethvoip.spec.catalogue import CATALOGUE, get
from ethvoip.spec.errors import EthVoipError
from ethvoip.spec.library import classics
from ethvoip.spec.msc import ChartError, Event, render_msc
from ethvoip.spec.notation import LEGEND, notation
from ethvoip.spec.protocol import (
    Claim,
    Expect,
    Lookup,
    Protocol,
    Recv,
    Role,
    Send,
    Step,
    Variant,
    Verdict,
)
from ethvoip.spec.terms import Term
from ethvoip.spec.trace import load
from ethvoip.spec.userfile import load_protocol

logger = logging.getLogger(__name__)

ParseRst = Callable[[str], list[nodes.Node]]
Cell = list[nodes.Node]  # the body nodes of one table cell

_ACTION = {Send: "send", Recv: "receive", Lookup: "look up"}


# --------------------------------------------------------------------------------------
# docutils building blocks
# --------------------------------------------------------------------------------------


def _section(ident: str, title: str, children: Iterable[nodes.Node]) -> nodes.section:
    sec = nodes.section(ids=[nodes.make_id(ident)])
    sec += nodes.title(title, title)
    sec.extend(children)
    return sec


def para(*parts: nodes.Node | str, classes: Sequence[str] = ()) -> nodes.paragraph:
    p = nodes.paragraph(classes=list(classes))
    for part in parts:
        p += nodes.Text(part) if isinstance(part, str) else part
    return p


def _code(text: str) -> nodes.literal:
    return nodes.literal(text, text)


def table(
    header: Sequence[str],
    rows: Sequence[Sequence[Sequence[nodes.Node]]],
    classes: Sequence[Sequence[Sequence[str]]] | None = None,
) -> nodes.table:
    """A table; each cell is a list of body nodes, ``classes`` gives each cell's CSS classes."""
    out = nodes.table(classes=["ethvoip-table"])
    group = nodes.tgroup(cols=len(header))
    out += group
    for _ in header:
        group += nodes.colspec(colwidth=1)
    head = nodes.thead()
    group += head
    hrow = nodes.row()
    for h in header:
        hrow += nodes.entry("", para(h))
    head += hrow
    body = nodes.tbody()
    group += body
    for i, cells in enumerate(rows):
        row = nodes.row()
        for j, cell in enumerate(cells):
            entry = nodes.entry(classes=list(classes[i][j]) if classes else [])
            entry.extend(cell)
            row += entry
        body += row
    return out


#: Where each chart is also written as a file of its own (under the HTML output folder).
CHART_DIR = "_charts"


def inline_chart(svg: str) -> nodes.raw:
    """A chart inlined in the page, without a full-size file (see :func:`chart`)."""
    return nodes.raw("", f'<div class="ethvoip-msc">{svg}</div>', format="html")


def chart(directive: SphinxDirective, svg: str) -> nodes.raw:
    """An inline chart that the page scales to its text column, linked to its full-size file.

    The stylesheet caps the SVG at the column's width (it has a ``viewBox``, so it scales); a
    click opens the same drawing as a file of its own at 100 %, for a wide chart whose text the
    scaling made small.  The file is named by its content, so rebuilding never goes stale.
    """
    name = hashlib.sha256(svg.encode("utf-8")).hexdigest()[:16] + ".svg"
    out = Path(directive.env.app.outdir) / CHART_DIR
    out.mkdir(parents=True, exist_ok=True)
    if not (out / name).exists():
        (out / name).write_text(svg, encoding="utf-8")
    href = "../" * directive.env.docname.count("/") + f"{CHART_DIR}/{name}"
    html = (
        f'<div class="ethvoip-msc"><a href="{href}" title="open the chart at full size">'
        f"{svg}</a></div>"
    )
    return nodes.raw("", html, format="html")


# --------------------------------------------------------------------------------------
# The protocol page
# --------------------------------------------------------------------------------------


def _terms(ts: Iterable[Term]) -> str:
    return ", ".join(notation(t) for t in ts) or "-"


def _step_cell(step: Step | None) -> list[nodes.Node]:
    if step is None:
        return [para(nodes.emphasis("", "(no such step)"))]
    match step:
        case Send(_, term):
            shown = notation(term)
        case Recv(_, pattern, once):
            shown = notation(pattern)
            if once:
                shown += f"   once per ({_terms(once)})"
        case Lookup(_, name, key):
            shown = f"{notation(name)}, giving {notation(key)}"
    cell: list[nodes.Node] = [para(nodes.strong("", _ACTION[type(step)]), " ", _code(shown))]
    if step.note:
        cell.append(para(nodes.emphasis("", step.note), classes=["ethvoip-note"]))
    if step.checks:  # the named checks this step adds to the paper's (see the model page)
        names: list[nodes.Node] = []
        for i, c in enumerate(step.checks):
            names += [nodes.Text(", ")] if i else []
            names.append(_code(c))
        cell.append(para("adds the check ", *names, classes=["ethvoip-note"]))
    return cell


def _step_key(step: Step | None) -> tuple[str, str] | None:
    """What makes two variants' versions of a step the same (the note and the named checks
    do not)."""
    if step is None:
        return None
    return type(step).__name__, repr(dataclasses.replace(step, note="", checks=()))


def _union(names: Iterable[Iterable[str]]) -> list[str]:
    out: list[str] = []
    for group in names:
        for n in group:
            if n not in out:
                out.append(n)
    return out


def _role_table(role_name: str, variants: Sequence[Variant]) -> list[nodes.Node]:
    roles: list[Role | None] = [
        next((r for r in v.roles if r.name == role_name), None) for v in variants
    ]
    titles = _union([[r.title] for r in roles if r is not None])
    out: list[nodes.Node] = [nodes.rubric("", f"Role {role_name}: " + " / ".join(titles))]

    def role_row(what: str, show: Callable[[Role], str]) -> list[Cell]:
        cells: list[Cell] = [[para(what)]]
        for r in roles:
            cells.append([para(_code(show(r)) if r is not None else "(absent)")])
        return cells

    rows: list[list[Cell]] = [
        role_row("played by", lambda r: notation(r.agent) + (" (honest)" if r.honest_only else "")),
        role_row("starts with", lambda r: _terms(r.params)),
        role_row("knows", lambda r: _terms(r.knows)),
        role_row("generates", lambda r: _terms(r.fresh)),
    ]
    classes: list[list[list[str]]] = [[[] for _ in range(len(variants) + 1)] for _ in rows]
    labels = _union([r.labels for r in roles if r is not None])
    for label in labels:
        steps: list[Step | None] = []
        for r in roles:
            steps.append(r.step(label) if r is not None and label in r.labels else None)
        differs = len({_step_key(s) for s in steps}) > 1
        label_cell: Cell = [para(nodes.strong("", label))]
        rows.append([label_cell, *(_step_cell(s) for s in steps)])
        mark = ["ethvoip-diff"] if differs else []
        classes.append([[]] + [mark for _ in steps])
    out.append(table(["", *(v.name for v in variants)], rows, classes))
    return out


def _property(c: Claim) -> str:
    parts = [f"claimed by {c.role}"]
    if c.term is not None:
        parts.append(f"on {notation(c.term)}")
    if c.peer is not None:
        parts.append(f"peer {c.peer}" + (f" at {c.peer_at}" if c.peer_at else ""))
    if c.data:
        parts.append(f"data {_terms(c.data)}")
    peer_data = getattr(c, "peer_data", None)
    if peer_data is not None and tuple(peer_data) != tuple(c.data):
        parts.append(f"(peer's view {_terms(peer_data)})")
    return "; ".join(parts)


def _verdict_cell(claim: Claim | None, e: Expect | None) -> tuple[list[nodes.Node], list[str]]:
    if claim is None:
        return [para("(not claimed)")], []
    if e is None:
        return [para("(no expected verdict)")], []
    text = e.verdict.value
    if e.verdict is Verdict.ATTACK and e.runs is not None:
        text += f" ({e.runs} runs)"
    cell: list[nodes.Node] = [para(nodes.strong("", text))]
    if e.why:
        cell.append(para(nodes.emphasis("", e.why), classes=["ethvoip-note"]))
    css = {Verdict.ATTACK: "ethvoip-attack", Verdict.NO_ATTACK: "ethvoip-holds"}
    return cell, [css.get(e.verdict, "ethvoip-unknown")]


def _claims(variants: Sequence[Variant]) -> list[nodes.Node]:
    names = _union([[c.name for c in v.claims] for v in variants])
    rows: list[list[list[nodes.Node]]] = []
    classes: list[list[list[str]]] = []
    for name in names:
        per = [next((c for c in v.claims if c.name == name), None) for v in variants]
        first = next(c for c in per if c is not None)
        head: list[nodes.Node] = [
            para(nodes.strong("", name)),
            para(first.description),
        ]
        row: list[list[nodes.Node]] = [head, [para(first.kind.value)], [para(_property(first))]]
        css: list[list[str]] = [[], [], []]
        for v, c in zip(variants, per, strict=True):
            cell, cls = _verdict_cell(c, v.expected.get(name) if c else None)
            row.append(cell)
            css.append(cls)
        rows.append(row)
        classes.append(css)
    out: list[nodes.Node] = [
        table(["claim", "kind", "property", *(v.name for v in variants)], rows, classes)
    ]
    items = nodes.bullet_list()
    for v in variants:
        bounds = [e.runs for e in v.expected.values() if e.verdict is Verdict.ATTACK and e.runs]
        text = (
            f"an attack is expected with as few as {min(bounds)} role runs"
            if bounds
            else "no attack is expected within the default bound"
        )
        items += nodes.list_item("", para(nodes.strong("", v.name), ": " + text))
    out += [para("Smallest attack bound:"), items]
    return out


def variant_chart(v: Variant) -> tuple[Flow, str]:
    """The honest run of ``v`` and its chart as SVG."""
    rows = honest_flow(v)
    lanes, events = chart_events(v, rows)
    return rows, render_msc(lanes, events, title=f"{v.name}: honest run")


def protocol_nodes(
    p: Protocol, parse_rst: ParseRst, draw: Callable[[str], nodes.Node] | None = None
) -> tuple[list[nodes.Node], list[str]]:
    """The page of protocol ``p`` and the problems found (a stuck honest run).

    ``draw`` turns a chart's SVG into a node (default: inline, without a full-size file).
    """
    if draw is None:
        draw = inline_chart
    variants = list(p.variants.values())
    problems: list[str] = []
    ident = f"protocol-{p.name}"

    fields = nodes.field_list()
    for key, value in (
        ("Source", p.source),
        ("Status", p.status),
        ("Spec", f"ethvoip.spec.protocols.{p.name}"),
        ("Digest", p.digest()[:16]),
    ):
        fields += nodes.field("", nodes.field_name("", key), nodes.field_body("", para(value)))

    narration = parse_rst(inspect.cleandoc(p.narration)) if p.narration.strip() else []

    summaries = nodes.bullet_list()
    for v in variants:
        item: list[nodes.Node] = [para(nodes.strong("", v.name), ": " + v.summary)]
        pop = "required" if v.pop_required else "not required (anyone may register any key)"
        item.append(para(f"Proof of possession at key registration: {pop}."))
        if v.notes:
            item.append(para(v.notes))
        summaries += nodes.list_item("", *item)

    role_names = _union([[r.name for r in v.roles] for v in variants])
    role_nodes: list[nodes.Node] = [
        para(
            "Each role's labelled steps, one column per variant; a highlighted row differs "
            "between variants.  The labels are the join key with model traces, code events "
            "and attack narrations."
        )
    ]
    for name in role_names:
        role_nodes += _role_table(name, variants)

    charts: list[nodes.Node] = []
    for v in variants:
        rows, svg = variant_chart(v)
        body: list[nodes.Node] = [para(f"Honest run of the {v.name} variant: {v.summary}.")]
        if not rows.complete:
            problems += [f"{p.name}/{v.name}: {x}" for x in rows.problems]
            warn = nodes.warning()
            warn += para("The honest run cannot finish: " + "; ".join(rows.problems))
            body.append(warn)
        body.append(draw(svg))
        charts.append(_section(f"{ident}-chart-{v.name}", f"{v.name}", body))

    legend = table(["notation", "meaning"], [[[para(_code(a))], [para(b)]] for a, b in LEGEND])

    page = _section(
        ident,
        f"{p.name}: {p.title}",
        [
            fields,
            _section(f"{ident}-narration", "Narration", narration),
            _section(f"{ident}-variants", "Variants", [summaries]),
            _section(f"{ident}-roles", "Roles and steps", role_nodes),
            _section(f"{ident}-charts", "Message sequence charts", charts),
            _section(f"{ident}-claims", "Claims and expected verdicts", _claims(variants)),
            _section(f"{ident}-notation", "Notation", [legend]),
        ],
    )
    return [page], problems


# --------------------------------------------------------------------------------------
# Directives
# --------------------------------------------------------------------------------------


def _pages(env: BuildEnvironment) -> dict[str, set[str]]:
    """docname -> protocols rendered there (kept in the environment across builds)."""
    if not hasattr(env, "ethvoip_protocol_pages"):
        env.ethvoip_protocol_pages = {}  # type: ignore[attr-defined]
    pages: dict[str, set[str]] = env.ethvoip_protocol_pages  # type: ignore[attr-defined]
    return pages


class ProtocolDirective(SphinxDirective):
    """``.. ethvoip-protocol:: <name>``: the generated page of one catalogue protocol."""

    required_arguments = 1
    has_content = False

    def run(self) -> list[nodes.Node]:
        try:
            p = get(self.arguments[0])
        except EthVoipError as exc:
            raise self.error(str(exc)) from None
        _pages(self.env).setdefault(self.env.docname, set()).add(p.name)
        out, problems = protocol_nodes(p, self.parse_text_to_nodes, lambda svg: chart(self, svg))
        for problem in problems:
            logger.warning("ethvoip-protocol: %s", problem, location=self.get_location())
        return out


def parse_chart(
    lines: Iterable[str], lifelines: Sequence[str] = ()
) -> tuple[list[str], list[Event]]:
    """The lifelines and events of an ``ethvoip-msc`` body; :class:`ChartError` if malformed."""
    lanes = list(lifelines)
    events: list[Event] = []
    for n, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = [x.strip() for x in line.split(" : ", 2)]
        if len(parts) != 3:
            raise ChartError(f"line {n}: expected 'A -> B : label : text', got {line!r}")
        ends, label, text = parts
        src, arrow, dst = (x.strip() for x in ends.partition("->"))
        if not arrow:
            dst = src
        for end in (src, dst):
            if not end:
                raise ChartError(f"line {n}: empty lifeline name in {line!r}")
            if end not in lanes:
                if lifelines:
                    raise ChartError(f"line {n}: {end!r} is not one of the lifelines {lanes}")
                lanes.append(end)
        events.append(Event(src, dst, label, text))
    if not events:
        raise ChartError("a chart needs at least one event")
    return lanes, events


class ChartDirective(SphinxDirective):
    """``.. ethvoip-msc:: [title]``: a message sequence chart written line by line."""

    optional_arguments = 1
    final_argument_whitespace = True
    has_content = True
    option_spec: ClassVar[dict[str, Callable[[str], Any]]] = {
        "lifelines": directives.unchanged_required,
    }

    def run(self) -> list[nodes.Node]:
        title = self.arguments[0] if self.arguments else ""
        given = [x.strip() for x in self.options.get("lifelines", "").split(",") if x.strip()]
        try:
            lanes, events = parse_chart(self.content, given)
            svg = render_msc(lanes, events, title=title)
        except ChartError as exc:
            raise self.error(f"ethvoip-msc: {exc}") from None
        out: list[nodes.Node] = [chart(self, svg)]
        if title:
            out.append(para(nodes.emphasis("", title), classes=["ethvoip-msc-caption"]))
        return out


class TraceDirective(SphinxDirective):
    """``.. ethvoip-trace:: path``: a model trace as a message sequence chart.

    ``:protocol-file: FILE.py``: the trace is of a user's protocol file (the tutorial's),
    not of a catalogue protocol; its freshness is checked against that file.
    """

    required_arguments = 1
    has_content = False
    option_spec: ClassVar[dict[str, Callable[[str], Any]]] = {
        "protocol-file": directives.path,
    }

    def run(self) -> list[nodes.Node]:
        rel, path = self.env.relfn2path(self.arguments[0], self.env.docname)
        self.env.note_dependency(rel)
        try:
            trace = load(Path(path))
            if "protocol-file" in self.options:
                prel, ppath = self.env.relfn2path(self.options["protocol-file"], self.env.docname)
                self.env.note_dependency(prel)
                trace.check_fresh(load_protocol(Path(ppath)))
            else:
                trace.check_fresh(get(trace.protocol))
            lanes, events = trace_chart(trace)
            svg = render_msc(lanes, events, title=caption(trace))
        except (OSError, EthVoipError) as exc:
            raise self.error(f"ethvoip-trace {self.arguments[0]}: {exc}") from None
        return [
            chart(self, svg),
            para(nodes.emphasis("", caption(trace)), classes=["ethvoip-msc-caption"]),
            para(cast(trace)),
            para("Regenerate with ", _code(trace.generated_by), "."),
        ]


class ClassicsDirective(SphinxDirective):
    """``.. ethvoip-classics::``: the classic library as a table, read from the library
    itself (a classic added as a file appears here with no edit of the docs)."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        rows = []
        for p in classics().values():
            pinned = "; ".join(
                f"{v.name}: "
                + (
                    ", ".join(
                        f"{c} ({e.runs})"
                        for c, e in v.expected.items()
                        if e.verdict is Verdict.ATTACK
                    )
                    or "no attack"
                )
                for v in p.variants.values()
            )
            rows.append(
                [
                    [para(_code(p.name))],
                    [para(p.title)],
                    [para(p.source)],
                    [para(pinned)],
                ]
            )
        return [table(("name", "protocol", "source", "pinned attacks (runs)"), rows)]


# --------------------------------------------------------------------------------------
# Consistency: every catalogue protocol has a page
# --------------------------------------------------------------------------------------


def _purge(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    _pages(env).pop(docname, None)


def _merge(app: Sphinx, env: BuildEnvironment, docnames: set[str], other: BuildEnvironment) -> None:
    for doc, names in _pages(other).items():
        if doc in docnames:
            _pages(env)[doc] = set(names)


def _check(app: Sphinx, env: BuildEnvironment) -> None:
    shown = set().union(*_pages(env).values())
    for name in CATALOGUE:
        if name not in shown:
            logger.warning(
                "ethvoip-protocol: catalogue protocol %r has no page: add docs/protocols/%s.rst "
                "containing '.. ethvoip-protocol:: %s'",
                name,
                name,
                name,
            )


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("ethvoip-protocol", ProtocolDirective)
    app.add_directive("ethvoip-msc", ChartDirective)
    app.add_directive("ethvoip-trace", TraceDirective)
    app.add_directive("ethvoip-classics", ClassicsDirective)
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    app.connect("env-check-consistency", _check)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
