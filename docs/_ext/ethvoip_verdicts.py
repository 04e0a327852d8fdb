"""The ``ethvoip-verdicts`` directive: the model's verdict matrix, from a dated record.

``ethvoip prove --record docs/model/verdicts.json`` writes the matrix (no traces) with the date,
the machine and the digest of every protocol description it was computed from.  The directive
renders it as a table under a line saying when and where it was made, and fails the build
when the record is stale (a spec digest changed) or reports a mismatch, naming the command
that regenerates it.  Rendering from a record keeps the build fast and offline; the freshness
check keeps it honest.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
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


def record_rst(rec: dict[str, Any]) -> list[str]:
    """The record as reStructuredText: a provenance line and a list-table."""
    total = sum(float(r["seconds"]) for r in rec["results"])
    lines = [
        f"Made {rec['made']} on {rec['machine']} by ``{rec['generated_by']}``: "
        f"{len(rec['results'])} claims, bound {rec['max_runs']} runs, {total:.1f} s of solving.",
        "",
        ".. list-table::",
        "   :header-rows: 1",
        "",
    ]
    head = ("protocol", "variant", "claim", "expected", "verdict", "runs", "seconds")
    rows = [head] + [
        (
            r["protocol"],
            r["variant"],
            r["claim"],
            r["expected"],
            r["verdict"],
            str(r["runs"]),
            f"{float(r['seconds']):.3f}",
        )
        for r in rec["results"]
    ]
    for row in rows:
        lines.append(f"   * - {row[0]}")
        lines += [f"     - {cell}" for cell in row[1:]]
    return lines


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
        container = nodes.container()
        self.state.nested_parse(StringList(record_rst(rec), source=str(path)), 0, container)
        return container.children


def setup(app: Any) -> dict[str, Any]:
    app.add_directive("ethvoip-verdicts", VerdictsDirective)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
