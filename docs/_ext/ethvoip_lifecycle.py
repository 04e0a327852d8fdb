"""The ``ethvoip-lifecycle`` directive: a key-store variant's life cycle, from its table.

``.. ethvoip-lifecycle:: hardened`` renders the state diagram
(:func:`ethvoip.spec.lifecycle_diagram.render`) and a table of the variant's functions (who
may call, in which status, which signatures, the guards and their custom errors, the
service's rule, the effects) and signed message types, all read from
:mod:`ethvoip.spec.lifecycle`: the same table the model checker and its re-checker run.
"""

from __future__ import annotations

from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective

from ethvoip.spec.errors import UnknownProtocol
from ethvoip.spec.lifecycle import OPERATOR_ONLY, Function, LifecycleVariant, variant
from ethvoip.spec.lifecycle_diagram import render


def _cell(text: str) -> str:
    return text.replace("|", "/").replace("*", "\\*") or "--"


def _status(f: Function) -> str:
    src = ", ".join(s.name.title() for s in sorted(f.status_from)) if f.status_from else "any"
    dst = f.status_to.name.title() if f.status_to is not None else "same"
    return f"{src} → {dst}"


def table_rst(v: LifecycleVariant) -> list[str]:
    """The functions and digests of ``v`` as reStructuredText list-tables."""
    head = ("function", "caller", "status", "signatures", "guards (refusal)", "effects")
    rows: list[tuple[str, ...]] = [head]
    for f in v.functions:
        guards = [f"{g.text} ({g.error})" for g in f.guards]
        if f.service is not None:
            guards.append(f"service: {f.service.text}")
        sigs = [f"{r.digest} by the {r.signer} key" for r in f.sigs]
        if f.requester_signs:
            sigs.append("(made by the number's owner, who asks for it)")
        rows.append(
            (
                f.name,
                "operator" if f.caller == OPERATOR_ONLY else "anyone",
                _status(f),
                "; ".join(sigs),
                "; ".join(guards),
                "; ".join(t for t, _ in f.effects if t),
            )
        )
    out = [".. list-table::", "   :header-rows: 1", ""]
    for row in rows:
        out.append(f"   * - {_cell(row[0])}")
        out += [f"     - {_cell(c)}" for c in row[1:]]
    if v.digests:
        out += [
            "",
            ".. list-table::",
            "   :header-rows: 1",
            "",
            "   * - signed type",
            "     - fields",
        ]
        for d in v.digests:
            out += [f"   * - {d.name}", f"     - {_cell(d.text)}"]
    return out


class LifecycleDirective(SphinxDirective):
    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        try:
            v = variant(self.arguments[0])
        except UnknownProtocol as exc:
            raise self.error(str(exc)) from exc
        raw = nodes.raw("", f'<div class="ethvoip-msc">{render(v)}</div>', format="html")
        container = nodes.container()
        self.state.nested_parse(StringList(table_rst(v), source="ethvoip-lifecycle"), 0, container)
        return [raw, *container.children]


def setup(app: Any) -> dict[str, Any]:
    app.add_directive("ethvoip-lifecycle", LifecycleDirective)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
