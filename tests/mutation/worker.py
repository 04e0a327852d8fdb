"""Runs pytest on mutants, one forked child per mutant, in a throwaway copy of the tree.

Started by :mod:`tests.mutation.run` as a script (``python worker.py``), one per parallel job.
It imports the heavy third-party libraries once (web3, py-evm, the consensus specs, z3 ...),
never the project itself, then reads one job per line on stdin (JSON) and answers one line on
stdout.  For each job it writes the mutated files into the copy, forks, and the child imports
the project *from the copy* (a link farm ``build/mutation/ethvoip`` put first on the path,
also through ``PYTHONPATH`` for the processes a test starts), runs pytest and exits; the parent
then writes the original files back.  The worktree itself is never written.

A child that outlives the job's timeout is killed with its process group and counts as a
kill (``timeout``): a hang on a mutant is a difference the tests noticed.

A job with ``coverage`` (a data file and the module paths to measure) is the recording run
on the unmutated tree: coverage.py traces the child, each test under its own dynamic context
(its node id, from setup to teardown), and the result also gives each test's duration.  The
runner reads which tests executed which lines (:mod:`tests.mutation.lines`).
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import shutil
import signal
import sys
import time
from pathlib import Path

# Not the project: loading it here would pin the unmutated modules in every child.
_PRELOAD = (
    "pytest",
    "hypothesis",
    "web3",
    "eth_tester",
    "eth",
    "eth_account",
    "eth_keys",
    "eth_abi",
    "rlp",
    "trie",
    "coincurve",
    "cryptography.hazmat.primitives.ciphers",
    "z3",
    "pylibsrtp",
    "tlslite",
    "eth_consensus_specs",
)


_MUTANT_EPOCH = 10**9  # s: 2001-09-09, before any file of the tree was written
_JOBS = [0]


def _preload() -> None:
    for name in _PRELOAD:
        with contextlib.suppress(Exception):
            importlib.import_module(name)


class _Failures:
    """pytest plugin: the node ids of the tests that failed (the mutant's killers), and each
    test's time (setup, call and teardown)."""

    def __init__(self) -> None:
        self.failed: list[str] = []
        self.seconds: dict[str, float] = {}

    def pytest_runtest_logreport(self, report: object) -> None:
        nodeid = str(getattr(report, "nodeid", ""))
        spent = float(getattr(report, "duration", 0.0))
        self.seconds[nodeid] = self.seconds.get(nodeid, 0.0) + spent
        if getattr(report, "failed", False) and nodeid not in self.failed:
            self.failed.append(nodeid)


class _Contexts:
    """pytest plugin: coverage's dynamic context is the running test's node id, from its
    setup to its teardown (what a module's import or a collection runs stays in "")."""

    def __init__(self, cov: object) -> None:
        self.cov = cov

    def pytest_runtest_logstart(self, nodeid: str, location: object) -> None:
        self.cov.switch_context(nodeid)  # type: ignore[attr-defined]

    def pytest_runtest_logfinish(self, nodeid: str, location: object) -> None:
        self.cov.switch_context("")  # type: ignore[attr-defined]


def _child(tree: Path, job: dict[str, object], result: Path) -> None:
    import pytest

    os.setsid()
    os.chdir(tree)
    env = {str(k): str(v) for k, v in dict(job.get("env") or {}).items()}  # type: ignore[call-overload]
    farm = str(tree / "build" / "mutation")
    os.environ.update(env)
    os.environ["PYTHONPATH"] = os.pathsep.join([farm, str(tree)])
    sys.path[:0] = [farm, str(tree)]
    log = os.open(str(job["log"]), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    failures = _Failures()
    plugins: list[object] = [failures]
    cov = None
    if job.get("coverage"):
        import coverage

        spec = dict(job["coverage"])  # type: ignore[call-overload]
        # Matched as path tails: the modules load through the link farm or the tree alike.
        include = [f"*/{rel}" for rel in spec["modules"]]
        cov = coverage.Coverage(data_file=spec["data"], include=include, config_file=False)
        cov.start()
        plugins.append(_Contexts(cov))
    code = pytest.main([str(a) for a in job["args"]], plugins=plugins)  # type: ignore[attr-defined]
    if cov is not None:
        cov.stop()
        cov.save()
    out = {"code": int(code), "failed": failures.failed, "durations": failures.seconds}
    result.write_text(json.dumps(out))
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _run(job: dict[str, object]) -> dict[str, object]:
    tree = Path(str(job["tree"]))
    files = {str(k): str(v) for k, v in dict(job.get("files") or {}).items()}  # type: ignore[call-overload]
    originals = {rel: (tree / rel).read_text() for rel in files}
    result = Path(str(job["log"])).with_suffix(".result.json")
    result.unlink(missing_ok=True)
    shutil.rmtree(tree / ".hypothesis", ignore_errors=True)
    stamps = {rel: (tree / rel).stat() for rel in files}
    for rel, text in files.items():
        (tree / rel).write_text(text)
        # A second no other version had: cached bytecode is keyed by the source's mtime in
        # whole seconds and its size, so neither the original's nor an earlier mutant's can
        # be taken for this mutant's, nor this one's for the original's once restored.
        _JOBS[0] += 1
        stamp = (_MUTANT_EPOCH + _JOBS[0]) * 10**9
        os.utime(tree / rel, ns=(stamp, stamp))
    started = time.monotonic()
    try:
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            try:
                _child(tree, job, result)
            finally:
                os._exit(3)
        deadline = started + float(str(job["timeout"]))
        status = None
        while status is None:
            done, code = os.waitpid(pid, os.WNOHANG)
            if done:
                status = code
            elif time.monotonic() > deadline:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return {"outcome": "timeout", "failed": [], "seconds": time.monotonic() - started}
            else:
                time.sleep(0.05)
    finally:
        for rel, text in originals.items():
            (tree / rel).write_text(text)
            os.utime(tree / rel, ns=(stamps[rel].st_atime_ns, stamps[rel].st_mtime_ns))
    seconds = time.monotonic() - started
    if not result.exists():
        return {"outcome": "error", "failed": [], "seconds": seconds}
    answer = json.loads(result.read_text())
    # pytest exit codes: 0 all passed, 1 some failed, 2 interrupted (collection error), 5 none ran
    outcome = {0: "survived", 1: "killed", 2: "killed"}.get(answer["code"], "error")
    return {
        "outcome": outcome,
        "failed": answer["failed"],
        "seconds": seconds,
        "durations": answer["durations"],
        "code": answer["code"],
    }


def main() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    if "--no-preload" not in sys.argv:  # the runner's own unit test needs none of them
        _preload()
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        if line.strip():
            print(json.dumps(_run(json.loads(line))), flush=True)


if __name__ == "__main__":
    main()
