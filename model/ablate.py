"""``ethvoip prove --ablate``: every named check of a hardened variant shown necessary, or not.

For each hardened variant and each of its named checks (:mod:`ethvoip.spec.checknames`), the
variant without that check is derived from the hardened one by its builder
(:meth:`ethvoip.spec.protocol.Variant.without`), passed through the same front end as any
protocol (the spec's checks and the honest run), and every claim decided by the bounded search.
A removal then:

* **reopens** the claims that get an attack: the attack (fewest runs) comes with its trace,
  and the trace is re-checked by the independent evaluator (:mod:`ethvoip.spec.evaluate`);
  an attack the evaluator does not confirm is reported as such and fails the command;
* is **not needed within the bound**: every claim still holds up to the bound (the check may
  be redundant with another one, or needed only beyond the bound: "within N runs", never
  "not needed");
* **breaks the honest run**: the front end refuses the derived variant (the check carries
  something the honest run needs), with its message;
* is **unknown** for a claim where z3 gave up, never read as "not needed".

Exit status 0 when every removal was decided and every attack confirmed; 1 otherwise.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

from ethvoip.model.bounds import DEFAULT_ABLATE_RUNS
from ethvoip.model.cli import Row, prove
from ethvoip.model.records import dated_head
from ethvoip.spec import lifecycle as LC
from ethvoip.spec import trace as tracefmt
from ethvoip.spec.catalogue import CATALOGUE, get
from ethvoip.spec.errors import (
    MalformedProtocol,
    MalformedStructure,
    TraceError,
    UnknownProtocol,
    UnsupportedProtocol,
)
from ethvoip.spec.evaluate import evaluate
from ethvoip.spec.protocol import Protocol, Variant, Verdict
from ethvoip.spec.texttable import text_table

if TYPE_CHECKING:
    from ethvoip.model.ablate_lifecycle import LifecycleRemoval

    AnyRemoval: TypeAlias = "Removal | LifecycleRemoval"

LIFECYCLE = "key_lifecycle"

REOPENS, NOT_NEEDED, HONEST_FAILS, UNKNOWN = (
    "reopens",
    "not needed within bound",
    "honest run fails",
    "unknown",
)


@dataclass(frozen=True)
class Removal:
    """One check removed from one hardened variant, and what the model says of it."""

    protocol: str
    variant: str  # the variant the check was removed from (hardened)
    check: str  # the check removed (several: joined by "+")
    derived: str  # the derived variant's name, ``<variant>-without-<check>``
    bound: int
    rows: tuple[Row, ...] = ()
    #: the evaluator's word on each attack trace (claim -> confirmed)
    confirmed: tuple[tuple[str, bool], ...] = ()
    #: the front end's refusal, when the derived variant has no honest run
    error: str = ""
    #: the model's refusal of the derived variant (a construct it cannot represent)
    unsupported: str = ""
    #: for a check not needed alone: each other check whose removal *together with* this one
    #: reopens claims that removing the other alone does not (the pair's removal)
    backed_by: tuple[tuple[str, Removal], ...] = ()

    @property
    def reopened(self) -> tuple[Row, ...]:
        return tuple(r for r in self.rows if r.result.verdict is Verdict.ATTACK)

    @property
    def status(self) -> str:
        if self.error:
            return HONEST_FAILS
        if self.unsupported:
            return UNKNOWN
        if self.reopened:
            return REOPENS
        if any(r.result.verdict is Verdict.UNKNOWN for r in self.rows):
            return UNKNOWN
        return NOT_NEEDED

    @property
    def ok(self) -> bool:
        """Decided, and every attack confirmed by the evaluator (the pairs' too)."""
        return (
            self.status != UNKNOWN
            and all(ok for _, ok in self.confirmed)
            and all(r.ok for _, r in self.backed_by)
        )

    def text(self) -> str:
        return describe_status(self)

    def trace_files(self) -> dict[str, str]:
        """Every attack trace of the removal (and of its pairs): file name -> text."""
        from ethvoip.model.cli import trace_files

        out: dict[str, str] = {}
        for row in (*self.reopened, *(x for _, pair in self.backed_by for x in pair.reopened)):
            assert row.trace is not None
            out.update(trace_files(row.trace))
        return out

    def backup_claims(self, other: str) -> tuple[Row, ...]:
        """The claims the pair (this check, ``other``) reopens beyond ``other`` alone."""
        return dict(self.backed_by)[other].reopened

    def as_json(self, *, traces: bool = True) -> dict[str, Any]:
        confirmed = dict(self.confirmed)
        return {
            "protocol": self.protocol,
            "variant": self.variant,
            "check": self.check,
            "derived": self.derived,
            "status": self.status,
            "bound": self.bound,
            "error": self.error,
            "ok": self.ok,
            "claims": [
                {
                    "claim": r.claim,
                    "verdict": r.result.verdict.value,
                    "runs": r.result.runs,
                    "seconds": round(r.result.seconds, 4),
                    "reason": r.result.reason,
                    "confirmed": confirmed.get(r.claim),
                    **(
                        {"trace": tracefmt.to_dict(r.trace) if r.trace is not None else None}
                        if traces
                        else {}
                    ),
                }
                for r in self.rows
            ],
            "backed_by": [
                {
                    "check": other,
                    "derived": pair.derived,
                    "claims": [
                        {
                            "claim": r.claim,
                            "runs": r.result.runs,
                            "confirmed": dict(pair.confirmed).get(r.claim),
                            **(
                                {"trace": tracefmt.to_dict(r.trace) if r.trace else None}
                                if traces
                                else {}
                            ),
                        }
                        for r in pair.reopened
                    ],
                }
                for other, pair in self.backed_by
            ],
        }


def with_variant(p: Protocol, v: Variant) -> Protocol:
    """``p`` with the derived variant ``v`` beside its own (what its traces are checked
    against: the evaluator reads the variant from the protocol, by the trace's name)."""
    return dataclasses.replace(p, variants={**p.variants, v.name: v})


def targets(names: Sequence[str]) -> list[tuple[Protocol, str]]:
    """The hardened variants (those built from named checks) among ``PROTOCOL[/VARIANT]``
    arguments; every catalogue protocol's ``hardened`` when none."""
    out: list[tuple[Protocol, str]] = []
    for n in [n for n in names if not n.startswith(LIFECYCLE)] or (
        [] if names else list(CATALOGUE)
    ):
        pname, _, vname = n.partition("/")
        p = get(pname)
        v = p.variant(vname or "hardened")
        if not v.checks:
            raise UnknownProtocol(f"{p.name}/{v.name} is built from no named checks to ablate")
        out.append((p, v.name))
    return out


def lifecycle_asked(names: Sequence[str]) -> bool:
    """Whether the key life cycle is among the arguments (it is by default); only its
    hardened table is built from named checks."""
    for n in names:
        if n.partition("/")[0] == LIFECYCLE and n.partition("/")[2] not in ("", "hardened"):
            raise UnknownProtocol(f"{n} is built from no named checks to ablate")
    return not names or any(n.partition("/")[0] == LIFECYCLE for n in names)


def confirm(p: Protocol, row: Row) -> bool:
    """The independent evaluator confirms the attack (through the file format)."""
    if row.trace is None:
        return False
    try:
        return evaluate(p, tracefmt.loads(tracefmt.dumps(row.trace))).violated
    except TraceError:
        return False


def ablate(
    p: Protocol,
    variant_name: str,
    *checks: str,
    max_runs: int = DEFAULT_ABLATE_RUNS,
    generated_by: str = "ethvoip prove --ablate",
    progress: Callable[[str], None] | None = None,
) -> Removal:
    """Remove ``checks`` (one, for ``--ablate``) from the variant and decide every claim of
    what is left."""
    derived = p.variant(variant_name).without(*checks)
    dp = with_variant(p, derived)
    base = Removal(p.name, variant_name, "+".join(checks), derived.name, max_runs)
    try:
        rows = prove(
            dp, derived.name, max_runs=max_runs, generated_by=generated_by, progress=progress
        )
    except MalformedStructure:
        raise  # a bug of the builder (a bad name, a wrong field), never a finding
    except MalformedProtocol as exc:  # a finding: without the check, the honest run is stuck
        return dataclasses.replace(base, error=str(exc))
    except UnsupportedProtocol as exc:
        # the model cannot represent what is left (its honest run included): not a finding
        # about the check, and never "not needed"
        return dataclasses.replace(base, unsupported=str(exc))
    confirmed = tuple((r.claim, confirm(dp, r)) for r in rows if r.result.verdict is Verdict.ATTACK)
    return dataclasses.replace(base, rows=tuple(rows), confirmed=confirmed)


def ablate_variant(
    p: Protocol,
    variant_name: str,
    *,
    max_runs: int = DEFAULT_ABLATE_RUNS,
    generated_by: str = "ethvoip prove --ablate",
    progress: Callable[[str], None] | None = None,
) -> list[Removal]:
    """Each check of the variant removed alone; then, for each one not needed alone, the
    pairs with every other check: a check that another one backs up is not shown useless
    by the first pass, and the second says which check covers it."""
    checks = p.variant(variant_name).checks

    def run(*cs: str) -> Removal:
        return ablate(
            p, variant_name, *cs, max_runs=max_runs, generated_by=generated_by, progress=progress
        )

    singles = {c: run(c) for c in checks}
    pairs: dict[frozenset[str], Removal] = {}
    out = []
    for c, single in singles.items():
        if single.status != NOT_NEEDED:
            out.append(single)
            continue
        backed = []
        for other in checks:
            if other == c:
                continue
            key = frozenset({c, other})
            if key not in pairs:
                pairs[key] = run(*(x for x in checks if x in key))
            pair = pairs[key]
            alone = {r.claim for r in singles[other].reopened}
            extra = tuple(r for r in pair.reopened if r.claim not in alone)
            if extra or pair.status == HONEST_FAILS:
                backed.append((other, dataclasses.replace(pair, rows=extra)))
        out.append(dataclasses.replace(single, backed_by=tuple(backed)))
    return out


def ablate_all(
    chosen: Sequence[tuple[Protocol, str]],
    *,
    max_runs: int = DEFAULT_ABLATE_RUNS,
    generated_by: str = "ethvoip prove --ablate",
    progress: Callable[[str], None] | None = None,
) -> list[Removal]:
    return [
        r
        for p, vname in chosen
        for r in ablate_variant(
            p, vname, max_runs=max_runs, generated_by=generated_by, progress=progress
        )
    ]


def describe_status(r: Removal) -> str:
    """The removal's outcome as a reader says it."""
    if r.status == HONEST_FAILS:
        return f"honest run fails: {r.error}"
    if r.status == NOT_NEEDED:
        text = f"not needed alone within {r.bound} runs"
        for other, pair in r.backed_by:
            text += f"; backed by {other}: without both, " + _attacks(pair)
        if not r.backed_by:
            text += "; no other single check backs it up either"
        return text
    if r.status == UNKNOWN and r.unsupported:
        return f"unknown: the model cannot represent the variant left ({r.unsupported})"
    if r.status == UNKNOWN:
        return (
            "unknown (z3 gave up on: "
            + ", ".join(x.claim for x in r.rows if x.result.verdict is Verdict.UNKNOWN)
            + ")"
        )
    return _attacks(r)


def _attacks(r: Removal) -> str:
    if r.status == HONEST_FAILS:
        return f"honest run fails: {r.error}"
    confirmed = dict(r.confirmed)
    return ", ".join(
        f"{x.claim} ({x.result.runs})"
        + ("" if confirmed.get(x.claim) else " UNCONFIRMED by the evaluator")
        for x in r.reopened
    )


def table(removals: Sequence[AnyRemoval]) -> str:
    head = ("protocol", "check removed", "claims it reopens (runs of the attack)")
    body = [(f"{r.protocol}/{r.variant}", r.check, r.text()) for r in removals]
    return text_table(head, body, fit_last=False)


def record(removals: Sequence[AnyRemoval], generated_by: str, max_runs: int) -> dict[str, Any]:
    """The ablation as a dated record (no traces): what the docs' table is rendered from."""
    return {
        **dated_head(generated_by, max_runs),
        "spec_digests": {
            name: get(name).digest()
            for name in dict.fromkeys(r.protocol for r in removals)
            if name != LIFECYCLE
        },
        **(
            {"lifecycle_digest": LC.digest(LC.variant("hardened"))}
            if any(r.protocol == LIFECYCLE for r in removals)
            else {}
        ),
        "removals": [r.as_json(traces=False) for r in removals],
    }


def main(args: Any, generated_by: str, checkpoint: Callable[[], None]) -> int:
    """``ethvoip prove --ablate`` (called by :func:`ethvoip.model.cli.main` once its
    arguments are parsed): the removals, their traces and record, the table or JSON."""
    import json
    import sys
    import time

    from ethvoip.model.cli import write_files
    from ethvoip.model.lifecycle import SEARCH_STEPS
    from ethvoip.spec.files import PUBLIC, atomic_write, check_dir_writable, check_file_writable

    max_runs = DEFAULT_ABLATE_RUNS if args.max_runs is None else args.max_runs
    chosen = targets(args.protocols)
    lifecycle = lifecycle_asked(args.protocols)
    if args.traces_dir is not None:
        check_dir_writable(args.traces_dir, "--traces-dir")
    if args.record is not None:
        check_file_writable(args.record, "--record")
    live = not args.quiet and sys.stderr.isatty()
    t0 = time.perf_counter()
    removals: list[AnyRemoval] = []
    for p, vname in chosen:
        got = ablate_variant(
            p, vname, max_runs=max_runs, generated_by=generated_by, progress=lambda _m: checkpoint()
        )
        checkpoint()
        removals += got
        if live:
            for r in got:
                print(f"{r.protocol}/{r.variant} without {r.check}: {r.status}", file=sys.stderr)
    if lifecycle:
        from ethvoip.model.ablate_lifecycle import ablate_lifecycle

        for c in LC.checks(LC.variant("hardened")):
            lr = ablate_lifecycle(c, generated_by=generated_by)
            checkpoint()
            removals.append(lr)
            if live:
                print(f"{LIFECYCLE}/hardened without {c}: {lr.status}", file=sys.stderr)
    if args.traces_dir is not None:
        files: dict[str, str] = {}
        for removal in removals:
            files.update(removal.trace_files())
        write_files(args.traces_dir, files)
    if args.record is not None:
        rec = record(removals, generated_by, max_runs)
        atomic_write(args.record, json.dumps(rec, indent=1) + "\n", mode=PUBLIC)
    if args.json:
        print(json.dumps({"removals": [r.as_json() for r in removals]}, indent=1))
    else:
        print(table(removals))
        needed = sum(r.status == REOPENS for r in removals)
        print(
            f"\n{len(removals)} checks removed one at a time: {needed} reopen an attack, "
            f"{sum(r.status == NOT_NEEDED for r in removals)} not needed within the bound, "
            f"{sum(r.status == HONEST_FAILS for r in removals)} break the honest run, "
            f"{sum(r.status == UNKNOWN for r in removals)} unknown; bound {max_runs} runs"
            + (f" (life cycle: {SEARCH_STEPS} calls, then inductive)" if lifecycle else "")
            + ", "
            f"{time.perf_counter() - t0:.1f} s"
        )
    return 0 if all(r.ok for r in removals) else 1
