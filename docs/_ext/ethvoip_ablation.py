"""The ``ethvoip-checks`` directive: one table ties every named check to model and code.

For each check of :mod:`ethvoip.spec.checknames` (the one list of ids), a row with:

* what the check does, and where the code makes it;
* the model's ablation: which claims its removal reopens, with the attack's size, or "not
  needed within the bound" (and which check backs it up), from the dated record that
  ``ethvoip prove --ablate --record docs/model/ablation.json`` writes; a check stated in no
  model says why and where it is argued;
* the attack scripts that show it refusing an attack on the concrete code (each attack names
  its checks: ``Attack.checks``), or "no attack script", a finding;
* the tests that kill its mutants, with how many of its mutants were killed, argued
  equivalent or survive, from ``docs/model/mutants.json`` (``make mutate`` writes it from the
  mutation report, joined through ``tests/mutation/checks.toml``; the ids are the join key).

A check with no attack script and no killing test is marked as a finding.

The build fails when the record is stale (a spec digest changed), lacks a check a hardened
variant has, records an unconfirmed attack, or when the mutants file names an unknown check,
naming the command that regenerates the record.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from ethvoip_spec import para, table
from sphinx.util.docutils import SphinxDirective

from ethvoip.spec import lifecycle as LC
from ethvoip.spec.catalogue import CATALOGUE
from ethvoip.spec.checknames import CHECKS


class AblationRecordError(Exception):
    """The record or the mutants file cannot be shown: missing, malformed or stale."""


def load_record(path: Path) -> dict[str, Any]:
    try:
        rec = json.loads(path.read_text(encoding="utf-8"))
        command = str(rec["generated_by"])
        digests = dict(rec["spec_digests"])
        removals = list(rec["removals"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise AblationRecordError(f"{path}: not an ablation record ({exc})") from exc
    for name in CATALOGUE:
        if digests.get(name) != CATALOGUE[name].digest():
            raise AblationRecordError(
                f"{path} is stale or lacks {name}; regenerate it with: {command}"
            )
    if rec.get("lifecycle_digest") != LC.digest(LC.variant("hardened")):
        raise AblationRecordError(
            f"{path} is stale for key_lifecycle/hardened; regenerate it with: {command}"
        )
    recorded = {(r["protocol"], r["check"]) for r in removals}
    wanted = {(p.name, c) for p in CATALOGUE.values() for c in p.variant("hardened").checks}
    wanted |= {("key_lifecycle", c) for c in LC.checks(LC.variant("hardened"))}
    if wanted - recorded:
        raise AblationRecordError(
            f"{path} lacks {sorted(wanted - recorded)}; regenerate it with: {command}"
        )
    if not all(r["ok"] for r in removals):
        raise AblationRecordError(f"{path} records an unconfirmed or undecided removal")
    return dict(rec)


@dataclass(frozen=True)
class Mutants:
    """One check's mutants: the tests that killed them, and the count of each outcome."""

    tests: list[str]
    counts: dict[str, int]


def load_mutants(path: Path) -> dict[str, Mutants]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        kills = dict(data["kills"])
        counts = dict(data.get("counts", {}))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise AblationRecordError(f"{path}: not a mutants file ({exc})") from exc
    unknown = (set(kills) | set(counts)) - set(CHECKS)
    if unknown:
        raise AblationRecordError(f"{path} names checks spec/checknames.py lacks: {unknown}")
    return {
        k: Mutants([str(t) for t in kills.get(k, [])], dict(counts.get(k, {})))
        for k in set(kills) | set(counts)
    }


def mutants_text(m: Mutants | None) -> str:
    """How a check's mutants fared, as a sentence."""
    if m is None or not m.counts.get("mutants"):
        return "no mutant: no refusal site of it in the mutated code"
    c = m.counts
    parts = [f"{c.get('killed', 0)} killed"]
    for key, word in (("equivalent", "equivalent"), ("survived", "surviving")):
        if c.get(key):
            parts.append(f"{c[key]} {word}")
    if c.get("not decided"):
        parts.append(f"{c['not decided']} not decided")
    n = c["mutants"]
    return f"{n} mutant{'s' if n != 1 else ''}: " + ", ".join(parts)


def by_file(tests: list[str]) -> list[tuple[str, list[str]]]:
    """Node ids grouped by test file (its name), each test once (parameters dropped)."""
    out: dict[str, list[str]] = {}
    for t in tests:
        path, _, name = t.partition("::")
        name = name.split("[")[0]
        names = out.setdefault(path.rsplit("/", 1)[-1], [])
        if name not in names:
            names.append(name)
    return sorted(out.items())


def attack_checks() -> dict[str, list[tuple[str, str]]]:
    """check id -> [(attack name, its protocol)], from each attack script's declaration."""
    from ethvoip.attacks.runner import MODULES

    out: dict[str, list[tuple[str, str]]] = {}
    for name, module in MODULES.items():
        attack = importlib.import_module(module).ATTACK
        for c in attack.checks:
            out.setdefault(c, []).append((name, attack.protocol))
    return out


def _claims(claims: list[dict[str, Any]], unit: str) -> str:
    return ", ".join(
        f"{c['claim']} ({c['runs']} {unit if c['runs'] != 1 else unit[:-1]})" for c in claims
    )


def model_text(removal: dict[str, Any]) -> str:
    """One removal as a sentence: what it reopens, or that it is not needed and why."""
    unit = "calls" if removal["protocol"] == "key_lifecycle" else "runs"
    where = f"{removal['protocol']}: "
    if removal["status"] == "reopens":
        attacked = [c for c in removal["claims"] if c["verdict"] == "attack"]
        return where + "reopens " + _claims(attacked, unit)
    if removal["status"] == "honest run fails":
        return where + "the honest run fails without it: " + str(removal["error"])
    text = where + f"not needed alone within {removal['bound']} {unit}"
    if removal["claims"] and all(
        c.get("inductive") for c in removal["claims"] if c["verdict"] != "attack"
    ):
        text += " (inductive: nor in executions of any length)"
    for b in removal["backed_by"]:
        text += f"; backed by {b['check']}: without both, " + _claims(b["claims"], unit)
    return text


@dataclass(frozen=True)
class CheckRow:
    check: str
    title: str
    code: str
    model: list[str]
    argued: str
    attacks: list[tuple[str, str]]
    no_script: str
    mutants: list[str]
    killed: Mutants | None = None

    @property
    def finding(self) -> bool:
        """No attack script and no killing test: nothing on the code shows the check works."""
        return not self.attacks and not self.mutants

    @property
    def surviving(self) -> int:
        return self.killed.counts.get("survived", 0) if self.killed else 0


def rows(
    rec: dict[str, Any],
    attacks: dict[str, list[tuple[str, str]]],
    mutants: dict[str, Mutants],
    no_script: dict[str, str],
) -> list[CheckRow]:
    removals: dict[str, list[dict[str, Any]]] = {}
    for r in rec["removals"]:
        removals.setdefault(r["check"], []).append(r)
    return [
        CheckRow(
            c.id,
            c.title,
            c.code,
            [model_text(r) for r in removals.get(c.id, [])],
            c.argued,
            attacks.get(c.id, []),
            no_script.get(c.id, ""),
            mutants[c.id].tests if c.id in mutants else [],
            mutants.get(c.id),
        )
        for c in CHECKS.values()
    ]


class ChecksDirective(SphinxDirective):
    required_arguments = 1
    option_spec: ClassVar[dict[str, Any]] = {"mutants": directives.unchanged_required}

    def _link(self, name: str, protocol: str) -> list[nodes.Node]:
        docs = Path(self.env.srcdir) / "attacks"
        page = name if (docs / f"{name}.rst").exists() else None
        if page is None and protocol == "key_lifecycle":
            page = "lifecycle"
        if page is None:
            return [nodes.literal(name, name)]
        out = self.parse_text_to_nodes(f":doc:`{name} </attacks/{page}>`")
        return list(out[0].children) if out and isinstance(out[0], nodes.paragraph) else out

    def run(self) -> list[nodes.Node]:
        from ethvoip.attacks.runner import NO_ATTACK_SCRIPT

        paths = [self.arguments[0], self.options.get("mutants", "")]
        _, rec_path = self.env.relfn2path(paths[0])
        _, mut_path = self.env.relfn2path(paths[1])
        for p in (rec_path, mut_path):
            self.env.note_dependency(p)
        try:
            rec = load_record(Path(rec_path))
            mutants = load_mutants(Path(mut_path))
        except AblationRecordError as exc:
            raise self.error(str(exc)) from exc
        got = rows(rec, attack_checks(), mutants, NO_ATTACK_SCRIPT)
        body: list[list[list[nodes.Node]]] = []
        css: list[list[list[str]]] = []
        for r in got:
            model: list[nodes.Node] = [para(t) for t in r.model] or [
                para("not in a model: " + r.argued)
            ]
            if r.attacks:
                attack_cell: list[nodes.Node] = []
                for i, (name, protocol) in enumerate(r.attacks):
                    if i:
                        attack_cell.append(nodes.Text(", "))
                    attack_cell += self._link(name, protocol)
                attack: list[nodes.Node] = [para(*attack_cell)]
            else:
                attack = [para(nodes.strong("", "no attack script"), f" (finding): {r.no_script}")]
            killers: list[nodes.Node] = [para(mutants_text(r.killed), classes=["ethvoip-note"])]
            for path, names in by_file(r.mutants):
                killers.append(para(nodes.literal(path, path), ": " + ", ".join(names)))
            if r.finding:
                killers.append(
                    para(nodes.strong("", "finding"), ": no attack script and no killing test")
                )
            body.append(
                [
                    [
                        para(nodes.literal(r.check, r.check)),
                        para(r.title, classes=["ethvoip-note"]),
                    ],
                    model,
                    attack,
                    killers,
                ]
            )
            reopened = any("reopens" in t for t in r.model)
            css.append(
                [
                    [],
                    ["ethvoip-attack"] if reopened else [],
                    ["ethvoip-unknown"] if r.finding else [],
                    ["ethvoip-unknown"] if r.finding or r.surviving else [],
                ]
            )
        command = str(rec["generated_by"])
        head = para(
            f"Made {rec['made']} on {rec['machine']} by ",
            nodes.literal(command, command),
            f", bound {rec['max_runs']} runs (the key life cycle: its own bound in calls, "
            f"then the inductive step); {len(rec['removals'])} removals, every attack trace "
            "confirmed by the independent evaluator.",
        )
        findings = [r.check for r in got if r.finding]
        surviving = [r.check for r in got if r.surviving]
        notes = [
            "Findings (no attack script and no killing test): "
            + (", ".join(findings) if findings else "none")
            + ".  Checks with a surviving mutant: "
            + (", ".join(surviving) if surviving else "none")
            + " (docs/mutation.rst lists the survivors and the equivalent mutants)."
        ]
        header = [
            "check",
            "model: what its removal reopens",
            "attack script on the code",
            "tests that kill its mutants",
        ]
        return [head, para(*notes), table(header, body, css)]


def setup(app: Any) -> dict[str, Any]:
    app.add_directive("ethvoip-checks", ChecksDirective)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
