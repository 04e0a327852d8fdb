"""`make mutate`: remove or weaken each check of the security-deciding code, run the mapped
tests against each mutant, and write the report (docs/mutation/report.json, docs/mutation.rst).

Mutants come from :mod:`.operators` (Python) and :mod:`.solidity` (contracts), over the
modules listed in ``targets.toml``, which also maps each module to its tests.  Each worker owns
a throwaway copy of the tree (the worktree is never written) and runs one forked pytest per
mutant (:mod:`.worker`); a contract mutant is first compiled by ``contracts/compile.mjs`` into
a scratch directory that the tests read through ``ETHVOIP_CONTRACTS``.

A survivor is either killed by a new test or argued equivalent in ``equivalent.toml`` (by its
key: path, function, operator, original text; no line number, so edits elsewhere keep it).

    python -m tests.mutation.run                 # everything (tens of minutes on 2 cores)
    python -m tests.mutation.run --only srtp     # mutants whose key matches a regex, merged
    python -m tests.mutation.run --survivors     # re-run the report's survivors, merged
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

from . import operators, solidity
from .render import render

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
REPORT = ROOT / "docs" / "mutation" / "report.json"
PAGE = ROOT / "docs" / "mutation.rst"
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
        "function": m.function,
        "operator": m.operator,
        "original": m.original,
        "replacement": m.replacement,
        "raises": m.raises,
        # Joined later with spec/errors.py's Check enum and spec/checknames.py (issue 18 §3).
        "check": None,
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
        self, tests: tuple[str, ...], timeout: float, env: dict[str, str], files: dict[str, str]
    ) -> dict[str, Any]:
        log = self.scratch / f"{time.monotonic_ns()}.log"
        args = ["-q", "-x", "-p", "no:cacheprovider", "-m", "not integration", *tests]
        job = {"tree": str(self.tree), "files": files, "env": env, "args": args}
        job |= {"timeout": timeout, "log": str(log)}
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


def run(
    jobs: list[Job], n: int, log: Any, save: Any = None, baseline: bool = True
) -> dict[str, dict[str, Any]]:
    """Baseline each test set, then run every job; results by key (``save`` sees them grow).

    Without ``baseline`` (a re-run of a few mutants right after a full run) every stage gets
    a fixed generous budget and the unmutated tree is assumed green."""
    pool = _Pool(Path(tempfile.mkdtemp(prefix="ethvoip-mutation-")), log)
    try:
        for i in range(n):
            scratch = pool.base / f"logs{i}"
            scratch.mkdir()
            pool.workers.append(Worker(make_tree(ROOT, pool.base / f"tree{i}"), scratch))
        stages = sorted({stage for j in jobs for stage in j.stages})
        if baseline:
            pool.baseline(stages)
        else:
            pool.budgets = dict.fromkeys(stages, 900.0)
        pool.drain(jobs, save)
        for w in pool.workers:
            w.close()
    finally:
        shutil.rmtree(pool.base, ignore_errors=True)
    return pool.results


@dataclass
class _Pool:
    """The workers of a run, the time budget of each test set, the results so far."""

    base: Path
    log: Any
    workers: list[Worker] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    budgets: dict[tuple[str, ...], float] = field(default_factory=dict)
    results: dict[str, dict[str, Any]] = field(default_factory=dict)

    def baseline(self, stages: list[tuple[str, ...]]) -> None:
        """Time each test set on the unmutated tree: its budget is 3 times that plus a minute."""
        todo: queue.Queue[tuple[str, ...]] = queue.Queue()
        for tests in stages:
            todo.put(tests)
        red: list[str] = []

        def time_stages(worker: Worker) -> None:
            while True:
                try:
                    tests = todo.get_nowait()
                except queue.Empty:
                    return
                answer = worker.run(tests, 3600, {}, {})
                with self.lock:
                    self.budgets[tests] = 3 * float(answer["seconds"]) + 60
                    self.log(
                        f"baseline {answer['outcome']} {answer['seconds']:.1f}s {' '.join(tests)}"
                    )
                    if answer["outcome"] != "survived":
                        red.append(f"{' '.join(tests)}: see {answer['log']}")

        _parallel(time_stages, self.workers)
        if red:  # every mutant of that set would look killed
            raise SystemExit("baseline not green (unmutated tree):\n" + "\n".join(red))

    def drain(self, jobs: list[Job], save: Any) -> None:
        """Every job on the first free worker; ``save`` every ten results."""
        todo: queue.Queue[Job] = queue.Queue()
        for job in jobs:
            todo.put(job)

        def work(worker: Worker) -> None:
            index = self.workers.index(worker)
            while True:
                try:
                    job = todo.get_nowait()
                except queue.Empty:
                    return
                answer = self._job(worker, index, job)
                with self.lock:
                    self.results[job.key] = answer
                    if answer["outcome"] == "stillborn":
                        continue  # its contracts did not compile: recorded, not logged
                    self.log(
                        f"[{len(self.results)}/{len(jobs)}] {answer['outcome']:9} "
                        f"{answer['seconds']:5.1f}s {job.key}"
                    )
                    if save is not None and len(self.results) % 10 == 0:
                        save(self.results)

        _parallel(work, self.workers)

    def _job(self, worker: Worker, index: int, job: Job) -> dict[str, Any]:
        """One mutant: its contracts compiled if it mutates them, then its test sets in turn
        until one fails."""
        env: dict[str, str] = {}
        if job.solidity:
            out = self.base / f"sol{index}"
            if not compile_contracts(worker.tree, job.solidity, out):
                return {"outcome": "stillborn", "failed": [], "seconds": 0.0}
            env["ETHVOIP_CONTRACTS"] = str(out / "contracts")
        seconds = 0.0
        for stage in job.stages:
            answer = worker.run(stage, self.budgets[stage], env, job.files)
            seconds += float(answer["seconds"])
            if answer["outcome"] != "survived":
                break
        answer["seconds"] = seconds
        return answer


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
    mutants = []
    for job in jobs:
        rec = dict(job.record, key=job.key)
        if job.key in results:
            outcome, failed = _outcome(results[job.key])
            rec |= {"outcome": outcome, "killed_by": failed}
            rec["seconds"] = round(float(results[job.key]["seconds"]), 1)
        elif job.key in old:
            rec |= {k: old[job.key][k] for k in ("outcome", "killed_by", "seconds")}
        else:
            rec |= {"outcome": "not run", "killed_by": [], "seconds": 0.0}
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--only", help="regex over mutant keys: run these, keep the rest")
    parser.add_argument("--survivors", action="store_true", help="re-run the report's survivors")
    parser.add_argument("--list", action="store_true", help="print the mutants, run nothing")
    parser.add_argument("--merge", type=Path, help="take another report's results, run nothing")
    parser.add_argument(
        "--no-baseline", action="store_true", help="re-runs only: assume the tree green"
    )
    parser.add_argument("--report", type=Path, default=REPORT)
    parser.add_argument("--page", type=Path, default=PAGE)
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
        args.report.write_text(json.dumps(report, indent=1) + "\n")
        args.page.write_text(render(report))
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
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(json.dumps(report, indent=1) + "\n")
        args.page.write_text(render(report))
        return report

    report = save(run(selected, args.jobs, log, save, baseline=not args.no_baseline))
    log(f"{report['counts']} -> {args.report}, {args.page}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
