"""`make mutate`: remove or weaken each check of the security-deciding code, run the tests
that can notice on each mutant, and write the report (docs/mutation/report.json,
docs/mutation.rst, and docs/model/mutants.json, the named checks' column of the docs' table).

Mutants come from :mod:`.operators` (Python) and :mod:`.solidity` (contracts), over the
modules listed in ``targets.toml``, which also maps each module to its tests.  Each worker owns
a throwaway copy of the tree (the worktree is never written) and runs one forked pytest per
mutant stage (:mod:`.worker`); a contract mutant is first compiled by ``contracts/compile.mjs``
into a scratch directory that the tests read through ``ETHVOIP_CONTRACTS``.

Which tests, in stages (each only if the one before passed, ``-x``):

1. the tests that execute the mutated span, by the line map (:mod:`.lines`: every mapped
   test file run once on the unmutated tree under coverage.py, one dynamic context per test;
   cached per test file): first those in the module's direct test files, then the others,
   fastest first.  The tests are deterministic, so a test that never reaches the span cannot
   tell the mutant apart.  A span no test executes is a survivor without a run; a span that
   also ran outside any test (at import) or a module the map lacks gets no selection;
2. the whole mapping (direct tests, then the rest of the area): a survivor is one that every
   mapped test lets through.  ``--no-confirm`` leaves this stage out (a quick pass; the report
   marks its survivors, and ``--survivors`` re-runs them with it).

A mutant is killed only by a test that fails (or a run past its timeout: three times the
recorded time of its tests plus a minute).  A survivor is either killed by a new test or
argued equivalent in ``equivalent.toml`` (by its key: path, function, operator, original
text; no line number, so edits elsewhere keep it).  ``checks.toml`` joins each mutant to the
named check of spec/checknames.py whose code it changes (:mod:`.join`).

    python -m tests.mutation.run                 # everything
    python -m tests.mutation.run --only srtp     # mutants whose key matches a regex, merged
    python -m tests.mutation.run --survivors     # re-run the report's survivors, merged
    python -m tests.mutation.run --render        # rewrite the pages from the report
"""

from __future__ import annotations

import argparse
import json
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import join, operators, solidity
from .lines import Cache, LineMap, files_of
from .render import render

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
REPORT = ROOT / "docs" / "mutation" / "report.json"
PAGE = ROOT / "docs" / "mutation.rst"
LINES = ROOT / "build" / "mutation" / "lines"
MUTANTS = ROOT / "docs" / "model" / "mutants.json"
_COPY_IGNORE = shutil.ignore_patterns(
    ".git",
    ".venv",
    "node_modules",
    "_build",
    "build",
    "__pycache__",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    ".hypothesis",
    "*.egg-info",
)
_LAYERS = ("spec", "model", "impl", "attacks")


@dataclass
class Job:
    """One mutant to run: what to write, which tests, and where its result goes."""

    key: str
    record: dict[str, Any]
    files: dict[str, str]
    stages: tuple[tuple[str, ...], ...]  # pytest arguments; the next runs only if all passed
    solidity: dict[str, str] = field(default_factory=dict)  # contract path -> mutated source


def _keyed(items: list[Any]) -> list[tuple[str, Any]]:
    """Unique keys: a second identical check in one function gets ``#2``."""
    seen: Counter[str] = Counter()
    out = []
    for item in items:
        seen[item.key] += 1
        n = seen[item.key]
        out.append((item.key if n == 1 else f"{item.key}#{n}", item))
    return out


def _stages(target: dict[str, Any], deselect: list[str]) -> tuple[tuple[str, ...], ...]:
    """Direct tests, then the rest of the area without them."""
    skip = tuple(f"--deselect={t}" for t in deselect)
    first = (*target["tests"], *skip)
    more = target.get("more", [])
    if not more:
        return (first,)
    return first, (*more, *(f"--ignore={t}" for t in target["tests"]), *skip)


def _record(kind: str, area: str, m: Any) -> dict[str, Any]:
    return {
        "kind": kind,
        "area": area,
        "path": m.path,
        "line": m.line,
        "end_line": getattr(m, "end_line", m.line),
        "function": m.function,
        "operator": m.operator,
        "original": m.original,
        "replacement": m.replacement,
        "raises": m.raises,
        # the named check of spec/checknames.py (checks.toml, joined in merge: issue 18 §3)
        "model_check": None,
    }


def collect(root: Path, targets: dict[str, Any]) -> list[Job]:
    """Every mutant of every target, with its tests."""
    jobs: list[Job] = []
    deselect = list(targets.get("deselect", []))
    for target in targets.get("python", []):
        for rel in target["modules"]:
            found = list(operators.mutants(rel, (root / rel).read_text()))
            for key, m in _keyed(found):
                rec = _record("python", target["area"], m)
                jobs.append(Job(key, rec, {rel: m.source}, _stages(target, deselect)))
    for sol in targets.get("solidity", []):
        for rel in sol["sources"]:
            found = list(solidity.mutants(rel, (root / rel).read_text()))
            for key, m in _keyed(found):
                rec = _record("solidity", "contracts", m)
                jobs.append(Job(key, rec, {}, _stages(sol, deselect), {rel: m.source}))
    return jobs


def make_tree(root: Path, dest: Path) -> Path:
    """A copy of the tree the worker may write: sources, tests, contracts; a link farm that
    makes ``ethvoip.<layer>`` resolve to the copy; node_modules linked (read only)."""
    shutil.copytree(root, dest, ignore=_COPY_IGNORE, symlinks=True)
    farm = dest / "build" / "mutation" / "ethvoip"
    farm.mkdir(parents=True)
    for layer in _LAYERS:
        (farm / layer).symlink_to(dest / layer)
    modules = root / "node_modules"
    if modules.exists() and not (dest / "node_modules").exists():
        (dest / "node_modules").symlink_to(modules.resolve())
    return dest


class Worker:
    """One worker process (see :mod:`.worker`) with its own tree copy."""

    def __init__(self, tree: Path, scratch: Path, preload: bool = True) -> None:
        self.tree = tree
        self.scratch = scratch
        cmd = ["nice", "-n", "10", sys.executable, str(HERE / "worker.py")]
        cmd += [] if preload else ["--no-preload"]
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=tree
        )
        assert self.proc.stdout is not None
        ready = json.loads(self.proc.stdout.readline())
        assert ready.get("ready"), ready

    def run(
        self,
        tests: tuple[str, ...],
        timeout: float,
        env: dict[str, str],
        files: dict[str, str],
        coverage: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Run pytest on ``tests`` with ``files`` swapped in; with ``coverage`` (the recording
        run) every test runs (no ``-x``) and coverage.py records which lines each executes."""
        log = self.scratch / f"{time.monotonic_ns()}.log"
        first = [] if coverage else ["-x"]
        args = ["-q", *first, "-p", "no:cacheprovider", "-m", "not integration", *tests]
        job = {"tree": str(self.tree), "files": files, "env": env, "args": args}
        job |= {"timeout": timeout, "log": str(log), "coverage": coverage}
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(job) + "\n")
        self.proc.stdin.flush()
        answer: dict[str, Any] = json.loads(self.proc.stdout.readline())
        answer["log"] = str(log)
        return answer

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait()


def compile_contracts(tree: Path, sources: dict[str, str], dest: Path) -> bool:
    """Compile the tree's contracts with ``sources`` swapped in, into ``dest/contracts``."""
    contracts = dest / "contracts"
    shutil.rmtree(dest, ignore_errors=True)
    contracts.mkdir(parents=True)
    for sol in (tree / "contracts").glob("*.sol"):
        shutil.copy(sol, contracts / sol.name)
    shutil.copy(tree / "contracts" / "compile.mjs", contracts / "compile.mjs")
    for rel, text in sources.items():
        (dest / rel).write_text(text)
    (dest / "node_modules").symlink_to((tree / "node_modules").resolve())
    done = subprocess.run(
        ["nice", "-n", "10", "node", str(contracts / "compile.mjs")],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.returncode == 0


def _equivalents() -> dict[str, str]:
    path = HERE / "equivalent.toml"
    if not path.exists():
        return {}
    data = tomllib.loads(path.read_text())
    return {e["key"]: e["reason"] for e in data.get("equivalent", [])}


def _outcome(answer: dict[str, Any]) -> tuple[str, list[str]]:
    return str(answer["outcome"]), list(answer.get("failed", []))


def _parallel(task: Any, workers: list[Worker]) -> None:
    threads = [threading.Thread(target=task, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _record_lines(
    workers: list[Worker], files: list[str], modules: list[str], base: Path, log: Any
) -> dict[str, LineMap]:
    """Run each test file once on the unmutated tree under coverage (the baseline: all must
    pass, or every mutant of them would look killed); the line map of each file."""
    todo: queue.Queue[str] = queue.Queue()
    for f in files:
        todo.put(f)
    out: dict[str, LineMap] = {}
    lock = threading.Lock()
    red: list[str] = []

    def record(worker: Worker) -> None:
        while True:
            try:
                test = todo.get_nowait()
            except queue.Empty:
                return
            data = base / f"coverage-{test.replace('/', '__')}"
            answer = worker.run((test,), 3600, {}, {}, {"data": str(data), "modules": modules})
            lines = LineMap(durations=dict(answer.get("durations", {})), modules=set(modules))
            if data.exists():
                lines.add_coverage(data, modules)
            with lock:
                out[test] = lines
                log(f"recorded {answer['outcome']} {answer['seconds']:.1f}s {test}")
                if answer.get("code") not in (0, 5):  # 5: every test of the file is deselected
                    red.append(f"{test}: see {answer['log']}")

    _parallel(record, workers)
    if red:
        raise SystemExit("baseline not green (unmutated tree):\n" + "\n".join(red))
    return out


def _budget(lines: LineMap, tests: tuple[str, ...]) -> float:
    """Three times what the recording spent on these tests (under coverage: slower), plus
    a minute for the fork, the imports and the collection."""
    return 3 * lines.seconds(tests) + 60


def line_map(jobs: list[Job], workers: list[Worker], base: Path, log: Any) -> LineMap:
    """The line map of every test file the jobs name: cached recordings where the file and
    what it runs are unchanged, a new recording of the others."""
    files = files_of(ROOT, sorted({a for j in jobs for s in j.stages for a in s if a[0] != "-"}))
    modules = sorted({j.record["path"] for j in jobs if j.record["kind"] == "python"})
    cache = Cache(ROOT, LINES)
    total = LineMap()
    missing = []
    for f in files:
        got = cache.get(f)
        if got is None:
            missing.append(f)
        else:
            total.merge(got)
    log(f"line map: {len(files) - len(missing)} test files cached, {len(missing)} to record")
    started = time.monotonic()
    for f, lines in _record_lines(workers, missing, modules, base, log).items():
        cache.put(f, lines)
        total.merge(lines)
    if missing:
        log(f"line map recorded in {time.monotonic() - started:.0f}s ({len(missing)} files)")
    return total


def plan(
    job: Job, lines: LineMap | None, deselect: list[str], confirm: bool = True
) -> tuple[tuple[tuple[str, ...], ...], int | None]:
    """The stages of one mutant and how many tests coverage selected (None: no selection).

    First the tests that execute its span (fastest first), then, only if it survived them,
    the whole mapped test set: a survivor is one that every mapped test lets through, not
    only the selected ones (unless not ``confirm``: a quick pass whose survivors are re-run
    with ``--survivors``).  No stage at all: no test executes the span."""
    if lines is None or job.record["kind"] != "python":
        return job.stages, None
    rec = job.record
    chosen = lines.select(rec["path"], rec["line"], rec["end_line"], deselect)
    if chosen is None:
        return job.stages, None
    if not chosen:
        return (), 0
    # The selected tests of the module's direct test files first: most mutants die there,
    # and a stage collects only the files it names (collection dominates a short stage).
    direct = {a for a in job.stages[0] if not a.startswith("-")}
    near = tuple(t for t in chosen if t.split("::")[0] in direct)
    far = tuple(t for t in chosen if t.split("::")[0] not in direct)
    rest = job.stages if confirm else ()
    return (*(s for s in (near, far) if s), *rest), len(chosen)


def run(
    jobs: list[Job],
    n: int,
    log: Any,
    save: Any = None,
    select: bool = True,
    every: list[Job] | None = None,
    confirm: bool = True,
) -> dict[str, dict[str, Any]]:
    """Record the line map (the baseline) of ``every`` job's tests unless cached, then run
    ``jobs``; results by key (``save`` sees them grow).  Without ``select`` every mutant runs
    its whole mapped test set."""
    base = Path(tempfile.mkdtemp(prefix="ethvoip-mutation-"))
    results: dict[str, dict[str, Any]] = {}
    deselect = [a.split("=", 1)[1] for j in jobs for s in j.stages for a in s if "deselect" in a]
    try:
        workers = []
        for i in range(n):
            scratch = base / f"logs{i}"
            scratch.mkdir()
            workers.append(Worker(make_tree(ROOT, base / f"tree{i}"), scratch))
        lines = line_map(every or jobs, workers, base, log)
        lock = threading.Lock()
        todo: queue.Queue[Job] = queue.Queue()
        for job in jobs:
            todo.put(job)

        def drain(worker: Worker) -> None:
            index = workers.index(worker)
            while True:
                try:
                    job = todo.get_nowait()
                except queue.Empty:
                    return
                env: dict[str, str] = {}
                if job.solidity:
                    out = base / f"sol{index}"
                    if not compile_contracts(worker.tree, job.solidity, out):
                        answer = {"outcome": "stillborn", "failed": [], "seconds": 0.0}
                        with lock:
                            results[job.key] = answer
                        continue
                    env["ETHVOIP_CONTRACTS"] = str(out / "contracts")
                stages, selected = plan(job, lines if select else None, deselect, confirm)
                answer = {"outcome": "survived", "failed": [], "seconds": 0.0}
                seconds = 0.0
                for stage in stages:
                    answer = worker.run(stage, _budget(lines, stage), env, job.files)
                    seconds += float(answer["seconds"])
                    if answer["outcome"] != "survived":
                        break
                answer["seconds"] = seconds
                answer["tests_selected"] = selected
                answer["whole_mapping"] = stages[-1:] == job.stages[-1:]
                answer.pop("durations", None)
                with lock:
                    results[job.key] = answer
                    log(
                        f"[{len(results)}/{len(jobs)}] {answer['outcome']:9} "
                        f"{answer['seconds']:5.1f}s {job.key}"
                    )
                    if save is not None and len(results) % 10 == 0:
                        save(results)

        _parallel(drain, workers)
        for w in workers:
            w.close()
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return results


def _commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    )
    return done.stdout.strip()


def merge(
    jobs: list[Job], results: dict[str, dict[str, Any]], previous: dict[str, Any]
) -> dict[str, Any]:
    """The report: every current mutant, from this run or the previous report."""
    old = {m["key"]: m for m in previous.get("mutants", [])}
    equivalent = _equivalents()
    sites = join.sites()
    mutants = []
    for job in jobs:
        rec = dict(job.record, key=job.key)
        rec["model_check"] = join.model_check(rec, sites)
        if job.key in results:
            outcome, failed = _outcome(results[job.key])
            rec |= {"outcome": outcome, "killed_by": failed}
            rec["seconds"] = round(float(results[job.key]["seconds"]), 1)
            rec["tests_selected"] = results[job.key].get("tests_selected")
            rec["whole_mapping"] = results[job.key].get("whole_mapping", True)
        elif job.key in old:
            kept = ("outcome", "killed_by", "seconds", "tests_selected", "whole_mapping")
            rec |= {k: old[job.key].get(k) for k in kept}
        else:
            rec |= {"outcome": "not run", "killed_by": [], "seconds": 0.0, "tests_selected": None}
            rec["whole_mapping"] = False
        if rec["outcome"] == "equivalent":
            rec["outcome"] = "survived"
        rec.pop("reason", None)
        if rec["outcome"] == "survived" and job.key in equivalent:
            rec["outcome"] = "equivalent"
            rec["reason"] = equivalent[job.key]
        mutants.append(rec)
    counts = Counter(m["outcome"] for m in mutants)
    return {
        "generated_by": "make mutate (python -m tests.mutation.run); do not edit",
        "commit": _commit(),
        "counts": dict(sorted(counts.items())),
        "mutants": mutants,
    }


def write(report: dict[str, Any], args: argparse.Namespace) -> None:
    """The report, its page, and the mutants column of the docs' table of checks."""
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(json.dumps(report, indent=1) + "\n")
    args.page.write_text(render(report))
    args.mutants.write_text(json.dumps(join.mutants_file(report), indent=1) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--only", help="regex over mutant keys: run these, keep the rest")
    parser.add_argument("--survivors", action="store_true", help="re-run the report's survivors")
    parser.add_argument("--list", action="store_true", help="print the mutants, run nothing")
    parser.add_argument("--merge", type=Path, help="take another report's results, run nothing")
    parser.add_argument(
        "--render", action="store_true", help="rewrite the report's joins and pages, run nothing"
    )
    parser.add_argument(
        "--no-select", action="store_true", help="every mutant runs its whole mapped test set"
    )
    parser.add_argument(
        "--no-confirm",
        action="store_true",
        help="a quick pass: a survivor of its selected tests is not run on the whole mapping "
        "(re-run the survivors with --survivors)",
    )
    parser.add_argument("--report", type=Path, default=REPORT)
    parser.add_argument("--page", type=Path, default=PAGE)
    parser.add_argument("--mutants", type=Path, default=MUTANTS)
    args = parser.parse_args(argv)
    targets = tomllib.loads((HERE / "targets.toml").read_text())
    jobs = collect(ROOT, targets)
    previous = json.loads(args.report.read_text()) if args.report.exists() else {}
    selected = jobs
    if args.only:
        pattern = re.compile(args.only)
        selected = [j for j in selected if pattern.search(j.key)]
    if args.survivors:
        again = ("survived", "equivalent", "error")
        alive = {m["key"] for m in previous.get("mutants", []) if m["outcome"] in again}
        selected = [j for j in selected if j.key in alive]
    if args.render:  # after an edit of equivalent.toml or checks.toml
        report = merge(jobs, {}, previous)
        report["last_run"] = previous.get("last_run")
        write(report, args)
        print(f"rendered: {report['counts']}")
        return 0
    if args.merge:  # results of a run written elsewhere (e.g. the contracts run alongside)
        other = json.loads(args.merge.read_text())
        results = {
            m["key"]: {
                "outcome": "survived" if m["outcome"] == "equivalent" else m["outcome"],
                "failed": m["killed_by"],
                "seconds": m["seconds"],
            }
            for m in other["mutants"]
            if m["outcome"] != "not run"
        }
        report = merge(jobs, results, previous)
        write(report, args)
        print(f"{len(results)} results merged: {report['counts']}")
        return 0
    if args.list:
        for j in selected:
            print(f"{j.record['path']}:{j.record['line']} {j.key}")
        print(f"{len(selected)} mutants", file=sys.stderr)
        return 0

    def log(msg: str) -> None:
        print(msg, flush=True)

    started = time.monotonic()

    def save(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
        report = merge(jobs, results, previous)
        seconds = round(time.monotonic() - started)
        report["last_run"] = {"mutants": len(selected), "seconds": seconds}
        write(report, args)
        return report

    report = save(
        run(selected, args.jobs, log, save, not args.no_select, jobs, not args.no_confirm)
    )
    log(f"{report['counts']} -> {args.report}, {args.page}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
