"""The ``ethvoip-verdicts`` directive: the model's verdict matrix, from a dated record.

``ethvoip prove --record docs/model/verdicts.json`` writes the matrix (no traces) with the date,
the machine and the digest of every protocol description it was computed from.  The directive
renders it under a line saying when and where it was made, one table per protocol with the
variants side by side (a row per claim), and fails the build
when the record is stale (a spec digest changed) or reports a mismatch, naming the command
that regenerates it.  Rendering from a record keeps the build fast and offline; the freshness
check keeps it honest.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docutils import nodes
from ethvoip_spec import para, table
from sphinx.util.docutils import SphinxDirective

from ethvoip.spec.catalogue import CATALOGUE
from ethvoip.spec.lifecycle import VARIANTS as LIFECYCLE
from ethvoip.spec.lifecycle import digest as lifecycle_digest


class VerdictRecordError(Exception):
    """The record cannot be shown: missing, malformed, stale or with a mismatch."""


def load_record(path: Path) -> dict[str, Any]:
    """Read and check a record; raise :class:`VerdictRecordError` saying how to fix it."""
    try:
        rec = json.loads(path.read_text(encoding="utf-8"))
        command = str(rec["generated_by"])
        digests = dict(rec["spec_digests"])
        results = list(rec["results"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise VerdictRecordError(f"{path}: not a verdict record ({exc})") from exc
    for name, digest in digests.items():
        if name not in CATALOGUE or CATALOGUE[name].digest() != digest:
            raise VerdictRecordError(f"{path} is stale for {name}; regenerate it with: {command}")
    # the key life cycle's tables (not catalogue protocols) are recorded apart
    for name, digest in dict(rec.get("lifecycle_digests", {})).items():
        if name not in LIFECYCLE or lifecycle_digest(LIFECYCLE[name]) != digest:
            raise VerdictRecordError(
                f"{path} is stale for key_lifecycle/{name}; regenerate it with: {command}"
            )
    missing = set(CATALOGUE) - set(digests)
    if missing:
        raise VerdictRecordError(f"{path} lacks {sorted(missing)}; regenerate it with: {command}")
    if not all(r.get("ok") for r in results):
        raise VerdictRecordError(f"{path} records a verdict that does not match the spec")
    return dict(rec)


@dataclass(frozen=True)
class ProtocolMatrix:
    """One protocol's part of the record: a row per claim, a column per variant.

    ``cells[i][j]`` is the record's result for claim ``claims[i]`` in variant ``variants[j]``,
    or ``None`` when that variant does not have the claim.
    """

    protocol: str
    variants: list[str]
    claims: list[str]
    cells: list[list[dict[str, Any] | None]]


def _in_order(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def matrices(rec: dict[str, Any]) -> list[ProtocolMatrix]:
    """The record grouped per protocol (in the record's order), variants side by side."""
    results: list[dict[str, Any]] = rec["results"]
    out = []
    for protocol in _in_order(r["protocol"] for r in results):
        mine = [r for r in results if r["protocol"] == protocol]
        variants = _in_order(r["variant"] for r in mine)
        claims = _in_order(r["claim"] for r in mine)
        by_key = {(r["variant"], r["claim"]): r for r in mine}
        cells = [[by_key.get((v, c)) for v in variants] for c in claims]
        out.append(ProtocolMatrix(protocol, variants, claims, cells))
    return out


def provenance(rec: dict[str, Any]) -> str:
    """When, where and how the record was made, and how much it covers."""
    total = sum(float(r["seconds"]) for r in rec["results"])
    return (
        f"Made {rec['made']} on {rec['machine']} by {rec['generated_by']}: "
        f"{len(rec['results'])} claims, bound {rec['max_runs']} runs, {total:.1f} s of solving."
    )


#: The cell colour of each verdict (the same classes as the protocol pages' expected verdicts).
VERDICT_CLASS = {"attack": "ethvoip-attack", "no attack within bound": "ethvoip-holds"}


def verdict_text(r: dict[str, Any]) -> str:
    """A result as a reader says it: ``attack with 2 runs``, ``no attack within 4 runs``."""
    runs = f"{r['runs']} run" + ("" if r["runs"] == 1 else "s")
    if r["verdict"] == "attack":
        return f"attack with {runs}"
    if r["verdict"] == "no attack within bound":
        return f"no attack within {runs}"
    return str(r["verdict"]) + (f" ({r['reason']})" if r.get("reason") else "")


def matrix_table(m: ProtocolMatrix) -> nodes.table:
    """One protocol's table: the claim, then one column per variant."""
    rows: list[list[list[nodes.Node]]] = []
    classes: list[list[list[str]]] = []
    for claim, cells in zip(m.claims, m.cells, strict=True):
        row: list[list[nodes.Node]] = [[para(nodes.literal(claim, claim))]]
        css: list[list[str]] = [[]]
        for r in cells:
            if r is None:
                row.append([para("(not claimed)")])
                css.append([])
                continue
            row.append(
                [
                    para(nodes.strong("", verdict_text(r))),
                    para(f"{float(r['seconds']):.3f} s", classes=["ethvoip-note"]),
                ]
            )
            css.append([VERDICT_CLASS.get(r["verdict"], "ethvoip-unknown")])
        rows.append(row)
        classes.append(css)
    return table(["claim", *m.variants], rows, classes)


class VerdictsDirective(SphinxDirective):
    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        _, abspath = self.env.relfn2path(self.arguments[0])
        path = Path(abspath)
        self.env.note_dependency(str(path))
        try:
            rec = load_record(path)
        except VerdictRecordError as exc:
            raise self.error(str(exc)) from exc
        # the command as a literal: as plain text, "--quiet" would be typeset "–quiet"
        command = str(rec["generated_by"])
        before, _, after = provenance(rec).partition(command)
        out: list[nodes.Node] = [para(before, nodes.literal(command, command), after)]
        for m in matrices(rec):
            # the protocol's name links to its page (claims explained, charts); every catalogue
            # protocol has one, or ethvoip_spec fails the build
            heading = self.parse_text_to_nodes(
                f":doc:`{m.protocol} </protocols/{m.protocol}>`", offset=self.content_offset
            )
            for node in heading:
                if isinstance(node, nodes.Element):
                    node["classes"].append("ethvoip-matrix-title")
            out += heading
            out.append(matrix_table(m))
        return out


def setup(app: Any) -> dict[str, Any]:
    app.add_directive("ethvoip-verdicts", VerdictsDirective)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
