"""``ethvoip prove``: decide every claim of every protocol and variant, print the matrix.

What to prove: catalogue names, classics (``--classics``, :mod:`ethvoip.spec.library`) and
users' protocol files (``FILE.py``, :mod:`ethvoip.spec.targets`).  Every target first passes
the one front end (structure, spec checks, typed check, honest run), all of them before any
claim: a protocol that fails it is an error naming the step, never a verdict.

Exit status 0 only when every verdict matches the expectation pinned in the spec
(``Variant.expected``), including the smallest run count of each attack; 1 otherwise (and
for a protocol the front end refuses); 2 for bad arguments (a file that is not a protocol
file among them).  ``--traces-dir`` writes every attack and honest trace as JSON, Alice-Bob
text and SVG (this is how ``tests/traces/`` is refreshed).  ``--record FILE`` writes the
matrix without traces, stamped with the date, the machine and the spec digests it was made
from (this is how ``docs/model/verdicts.json``, which the docs render, is refreshed).

Neither is ever left half-written: both paths are checked before the (long) proving starts,
the traces are rendered in memory while it runs, and only when every protocol is done is
each file replaced atomically (:func:`ethvoip.spec.files.atomic_write`).  A failure or a
Ctrl-C before that leaves every old file as it was and no new one.

On a terminal, a live line per protocol variant shows the time spent, the run count being
explored and the check z3 is working on; piped, stderr stays quiet.  z3 and the trace
renderers are imported only when a proof runs, so ``ethvoip prove --help`` is instant.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType, TracebackType
from typing import TYPE_CHECKING, Any, TextIO

from ethvoip.model.bounds import (
    DEFAULT_ABLATE_RUNS,
    DEFAULT_MAX_RUNS,
    DEFAULT_UNTYPED_RUNS,
    MAX_RUNS_LIMIT,
)
from ethvoip.model.records import dated_head
from ethvoip.spec import cliargs, targets
from ethvoip.spec import trace as tracefmt
from ethvoip.spec.errors import EthVoipError
from ethvoip.spec.files import PUBLIC, atomic_write, check_dir_writable, check_file_writable
from ethvoip.spec.protocol import Expect, Protocol, Verdict
from ethvoip.spec.trace import Trace

if TYPE_CHECKING:  # z3 behind these: imported where a proof runs
    from ethvoip.model.lifecycle_cli import LifecycleRow
    from ethvoip.model.search import ClaimResult


@dataclass(frozen=True)
class Row:
    """One line of the verdict matrix."""

    protocol: str
    variant: str
    claim: str
    expected: Expect
    result: ClaimResult
    trace: Trace | None

    @property
    def ok(self) -> bool:
        return matches(self.expected, self.result)

    def as_json(self) -> dict[str, Any]:
        return {
            "protocol": self.protocol,
            "variant": self.variant,
            "claim": self.claim,
            "expected": _show(self.expected.verdict, self.expected.runs),
            "verdict": self.result.verdict.value,
            "runs": self.result.runs,
            "seconds": round(self.result.seconds, 4),
            "ok": self.ok,
            "reason": self.result.reason,
            "trace": tracefmt.to_dict(self.trace) if self.trace is not None else None,
        }


def matches(expected: Expect, got: ClaimResult) -> bool:
    """A verdict matches when it is the same, and an attack needs the expected run count."""
    if expected.verdict is not got.verdict:
        return False
    return expected.verdict is not Verdict.ATTACK or expected.runs in (None, got.runs)


def _show(v: Verdict, runs: int | None) -> str:
    return f"{v.value} ({runs})" if v is Verdict.ATTACK and runs is not None else v.value


def command_line(argv: Sequence[str]) -> str:
    return "ethvoip prove " + " ".join(argv)


def prove(
    protocol: Protocol,
    variant_name: str,
    *,
    max_runs: int = DEFAULT_MAX_RUNS,
    generated_by: str = "ethvoip prove",
    progress: Any = None,
    reduce: bool = True,
    untyped: bool = False,
) -> list[Row]:
    """Every claim of one variant, with attack traces built from the models.

    ``untyped``: the bounded untyped mode (:mod:`ethvoip.model.untyped`) after the typed
    search, against the protocol's untyped expectations (:meth:`Protocol.expected`).
    """
    from ethvoip.model.export import build_trace
    from ethvoip.model.search import check_variant

    v = protocol.variant(variant_name)
    rows = []
    if untyped:
        from ethvoip.model.untyped import check_untyped

        results = check_untyped(v, max_runs=max_runs)
    else:
        results = check_variant(v, max_runs=max_runs, progress=progress, reduce=reduce)
    for r in results:
        tr = None
        if r.world is not None and r.model is not None:
            assert r.runs is not None
            tr = build_trace(
                protocol,
                variant_name,
                r.world,
                r.model,
                claim=r.claim,
                bound=r.runs,
                generated_by=generated_by,
            )
        exp = protocol.expected(variant_name, r.claim.name, untyped=untyped)
        rows.append(Row(protocol.name, variant_name, r.claim.name, exp, r, tr))
    return rows


def honest_trace(protocol: Protocol, variant_name: str, generated_by: str) -> Trace:
    from ethvoip.model.export import build_trace
    from ethvoip.model.search import honest_run

    v = protocol.variant(variant_name)
    h = honest_run(v)
    return build_trace(
        protocol,
        variant_name,
        h.world,
        h.model,
        claim=None,
        bound=len(v.roles),
        generated_by=generated_by,
    )


def trace_files(t: Trace) -> dict[str, str]:
    """``<protocol>.<variant>.<claim|honest>.{json,txt,svg}``: file name -> text."""
    from ethvoip.model.export import alice_bob
    from ethvoip.model.svg import render

    stem = f"{t.protocol}.{t.variant}.{t.claim or 'honest'}"
    return {
        f"{stem}.json": tracefmt.dumps(t),
        f"{stem}.txt": alice_bob(t),
        f"{stem}.svg": render(t),
    }


def write_files(folder: Path, files: dict[str, str]) -> None:
    """Each file (a name relative to ``folder``) replaced atomically: a reader sees the old
    one or the new one, whole."""
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        atomic_write(folder / name, text, mode=PUBLIC)


def table(rows: Sequence[Row]) -> str:
    head = ("protocol", "variant", "claim", "expected", "verdict", "runs", "seconds", "")
    body = [
        (
            r.protocol,
            r.variant,
            r.claim,
            _show(r.expected.verdict, r.expected.runs),
            r.result.verdict.value,
            str(r.result.runs),
            f"{r.result.seconds:.3f}",
            "ok" if r.ok else "MISMATCH",
        )
        for r in rows
    ]
    widths = [max(len(x) for x in col) for col in zip(head, *body, strict=True)]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in (head, *body)
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _targets(names: Sequence[str], with_classics: bool = False) -> list[tuple[Protocol, str]]:
    """``PROTOCOL``, ``PROTOCOL/VARIANT``, ``FILE.py`` or ``FILE.py/VARIANT`` arguments
    (default: the catalogue; ``--classics`` adds the classic library)."""
    return targets.select(names, with_classics=with_classics)


def prove_file(
    path: str | os.PathLike[str],
    variant_name: str | None = None,
    *,
    max_runs: int = DEFAULT_MAX_RUNS,
    generated_by: str = "ethvoip prove",
) -> list[Row]:
    """Every claim of a user's protocol file (one variant, or all), from Python.

    The same way in as ``ethvoip prove FILE.py``: :func:`ethvoip.spec.userfile.load_protocol`
    (typed errors for a file that is not a protocol), then :func:`prove`, which runs the one
    front end (spec checks, typed check, honest run) before any claim.
    """
    from ethvoip.spec.userfile import load_protocol

    p = load_protocol(Path(path))
    names = [variant_name] if variant_name is not None else list(p.variants)
    rows: list[Row] = []
    for v in names:
        rows += prove(p, v, max_runs=max_runs, generated_by=generated_by)
    return rows


def record(
    rows: Sequence[Row],
    generated_by: str,
    max_runs: int,
    protocols: Sequence[Protocol] | None = None,
) -> dict[str, Any]:
    """The matrix as a dated record: what the docs show, and when and where it was made.

    ``protocols``: the ones the rows are about (default: looked up by name, in the catalogue
    and the classics)."""
    known = {p.name: p for p in protocols or ()}
    results = []
    for r in rows:
        row = r.as_json()
        del row["trace"]
        results.append(row)
    return {
        **dated_head(generated_by, max_runs),
        "spec_digests": {
            name: (known.get(name) or targets.protocol_named(name)).digest()
            for name in dict.fromkeys(r.protocol for r in rows)
        },
        "results": results,
    }


#: The key life cycle (model/lifecycle.py) is not a catalogue protocol: its own checker,
#: the same matrix, record and traces folder.
LIFECYCLE = "key_lifecycle"


def _is_lifecycle(name: str) -> bool:
    return not targets.is_file(name) and name.partition("/")[0] == LIFECYCLE


def _target(text: str) -> str:
    """A ``PROTOCOL`` or ``PROTOCOL/VARIANT`` argument that the catalogue, the classics (or
    the key life cycle's table) hold, or a ``FILE.py[/VARIANT]`` that exists (it is run
    once, when the proving starts, not while the line is parsed)."""
    try:
        if _is_lifecycle(text):
            from ethvoip.spec import lifecycle

            vname = text.partition("/")[2]
            if vname:
                lifecycle.variant(vname)  # raises UnknownProtocol with the list
        else:
            targets.check(text)
    except EthVoipError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def parser() -> argparse.ArgumentParser:
    ap = cliargs.Parser(
        prog="ethvoip prove",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument(
        "protocols",
        nargs="*",
        type=_target,
        metavar="PROTOCOL",
        help="NAME, NAME/VARIANT, FILE.py or FILE.py/VARIANT (default: the catalogue)",
    )
    ap.add_argument(
        "--classics",
        action="store_true",
        help="also every classic protocol of the library (spec/classics/)",
    )
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    ap.add_argument(
        "--max-runs",
        type=cliargs.int_range(1, MAX_RUNS_LIMIT),
        default=None,
        metavar="K",
        help=f"search attacks of up to K role runs, 1..{MAX_RUNS_LIMIT} (default "
        f"{DEFAULT_MAX_RUNS}, {DEFAULT_ABLATE_RUNS} with --ablate; up to seconds per variant at 8)",
    )
    ap.add_argument(
        "--traces-dir", type=cliargs.folder, metavar="DIR", help="write every trace here"
    )
    ap.add_argument("--quiet", action="store_true", help="no progress line on a terminal")
    ap.add_argument(
        "--ablate",
        action="store_true",
        help="drop each named check of the hardened variants in turn and show which claims "
        f"each removal reopens (default bound {DEFAULT_ABLATE_RUNS} runs; see docs/model.rst)",
    )
    ap.add_argument(
        "--untyped",
        action="store_true",
        help="also search type flaws: one received nonce or key variable at a time takes "
        f"the shape of a subterm of the protocol's messages (depth 3; default bound "
        f"{DEFAULT_UNTYPED_RUNS} runs; see docs/model.rst)",
    )
    ap.add_argument(
        "--no-reduce",
        dest="reduce",
        action="store_false",
        help="the plain search: every world of every run count (slower; same verdicts)",
    )
    ap.add_argument(
        "--record", type=cliargs.output_file, metavar="FILE", help="write the dated matrix here"
    )
    ap.add_argument(
        "--unbounded",
        action="store_true",
        help="prove for any number of runs on a Horn-clause abstraction instead "
        "(proved / cannot prove; no traces, no --max-runs)",
    )
    return ap


#: What :func:`ethvoip.model.search.check_variant` reports: variant, claim, run count, the
#: roles of the runs, which world of how many at that run count (``(top)``: a top world of
#: the reduction, which stands for every smaller one), then "solving" or z3's answer.
_PROGRESS = re.compile(
    r"\S+ (?P<claim>\S+) n=(?P<n>\d+) (?P<roles>\[.*?\])"
    r"(?: world (?P<world>\d+/\d+(?: \(top\))?))?: (?P<status>\w+)"
)


class LiveLine:
    """One status line on a terminal, rewritten in place while a variant is proved.

    A ticker thread redraws it twice a second so the elapsed time moves while z3 works (z3
    releases the GIL inside a check); :meth:`update` only records the latest message.
    """

    def __init__(self, stream: TextIO, label: str) -> None:
        self.stream = stream
        self.label = label
        self.last = "z3 building the honest run"
        self.checks = 0
        self.t0 = time.monotonic()
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick, daemon=True)

    def __enter__(self) -> LiveLine:
        self._ticker.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._ticker.join()
        self.stream.write("\r\x1b[K")  # leave the line clean for what follows
        self.stream.flush()

    def update(self, message: str) -> None:
        if not message.endswith(": solving"):
            self.checks += 1
        self.last = message

    def text(self) -> str:
        elapsed = f"{time.monotonic() - self.t0:6.1f} s"
        m = _PROGRESS.fullmatch(self.last)
        if m is None:  # before the first check, or a message of another form
            return f"{self.label} {elapsed}, {self.checks} checks, {self.last}"
        doing = "z3 solving" if m["status"] == "solving" else f"last z3 answer {m['status']}"
        world = f", world {m['world']}" if m["world"] else ""
        return (
            f"{self.label} {elapsed}, {m['n']} runs{world}, {self.checks} checks, "
            f"{doing}: {m['claim']} {m['roles']}"
        )

    def _tick(self) -> None:
        while True:
            width = shutil.get_terminal_size().columns
            self.stream.write("\r" + self.text()[: max(width - 1, 20)] + "\x1b[K")
            self.stream.flush()
            if self._stop.wait(0.5):
                return


class CtrlC:
    """Ctrl-C during a proof: stop z3 at once, and never let the interrupt get lost.

    Two ways it could get lost or late.  Python raises KeyboardInterrupt only between
    bytecodes, so it would wait for a running z3 check to end (up to its timeout): the
    interpreter also writes each signal to a wakeup fd at once, and a watcher thread reading
    it interrupts z3.  And z3 objects free themselves in ``__del__``, where a
    KeyboardInterrupt is swallowed (printed as "Exception ignored"): the handler therefore
    only notes an interrupt that lands in a destructor (or in what one calls), and the next
    :meth:`checkpoint` (after every z3 check, through the progress callback) raises it.
    """

    def __init__(self) -> None:
        self.seen = threading.Event()

    def checkpoint(self) -> None:
        if self.seen.is_set():
            raise KeyboardInterrupt

    def _handler(self, signum: int, frame: FrameType | None) -> None:
        self.seen.set()
        while frame is not None:
            if frame.f_code.co_name == "__del__":
                return  # raised in a destructor it would be swallowed: the next checkpoint
            frame = frame.f_back
        raise KeyboardInterrupt

    def _watch(self, r: int) -> None:
        from ethvoip.model.search import interrupt

        while data := os.read(r, 64):  # b"" once the write end is closed
            if signal.SIGINT in data:
                self.seen.set()
                interrupt()

    @contextlib.contextmanager
    def installed(self) -> Iterator[CtrlC]:
        """Handler and watcher in place (main thread only; elsewhere: checkpoints only)."""
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        r, w = os.pipe()
        os.set_blocking(w, False)
        old_fd = signal.set_wakeup_fd(w)
        old_handler = signal.signal(signal.SIGINT, self._handler)
        watcher = threading.Thread(target=self._watch, args=(r,), daemon=True)
        watcher.start()
        try:
            yield self
        except Exception:
            # z3 refuses any further work in a context it was interrupted in ("canceled"):
            # after a Ctrl-C, whatever fails next is the interrupt.
            if self.seen.is_set():
                raise KeyboardInterrupt from None
            raise
        finally:
            signal.signal(signal.SIGINT, old_handler)
            signal.set_wakeup_fd(old_fd)
            os.close(w)
            watcher.join()
            os.close(r)


@cliargs.guard("ethvoip prove")
def main(argv: list[str]) -> int:
    ap = parser()
    args = ap.parse_args(argv)
    if args.unbounded:
        # the unbounded mode has its own module; only its arguments are checked here
        given = [a.split("=")[0] for a in argv if a.startswith("--")]
        for bad in ("--max-runs", "--traces-dir", "--record"):
            if bad in given:
                ap.error(f"{bad} does not apply to --unbounded")
        if any(_is_lifecycle(n) for n in args.protocols):
            ap.error(f"{LIFECYCLE} has its own inductive proof: prove it without --unbounded")
        from ethvoip.model import unbounded_cli

        live = not args.quiet and sys.stderr.isatty()
        return unbounded_cli.run(_targets(args.protocols), as_json=args.json, live=live)
    with CtrlC().installed() as ctrl_c:
        return _prove_all(args, argv, ctrl_c)


def _prove_all(args: argparse.Namespace, argv: list[str], ctrl_c: CtrlC) -> int:
    from ethvoip.model import lifecycle_cli

    if args.ablate:
        from ethvoip.model.ablate import main as ablate_main

        return ablate_main(args, command_line(argv), ctrl_c.checkpoint)
    if args.max_runs is None:
        # the untyped mode multiplies the search by the shapes it tries: a smaller default
        args.max_runs = DEFAULT_UNTYPED_RUNS if args.untyped else DEFAULT_MAX_RUNS

    names = [n for n in args.protocols if not _is_lifecycle(n)]
    chosen = _targets(names, args.classics) if names or args.classics or not args.protocols else []
    # the key life cycle: named, or (like the catalogue) by default when nothing is named
    lc_names = [n for n in args.protocols if _is_lifecycle(n)]
    lifecycle_variants = (
        lifecycle_cli.targets(lc_names) if lc_names or not (args.protocols or args.classics) else []
    )
    # Before minutes of proving, not after: a path that cannot be written is refused.
    if args.traces_dir is not None:
        check_dir_writable(args.traces_dir, "--traces-dir")
    if args.record is not None:
        check_file_writable(args.record, "--record")
    _front_end(chosen, ctrl_c)
    traces: dict[str, str] = {}  # written only once every protocol is done
    generated_by = command_line(argv)
    live = not args.quiet and sys.stderr.isatty()
    rows: list[Row] = []
    t0 = time.perf_counter()
    for i, (p, vname) in enumerate(chosen, start=1):
        label = f"[{i}/{len(chosen)}] {p.name}/{vname}"
        honest, got = _prove_target(args, p, vname, label, generated_by, live, ctrl_c)
        rows += got
        if args.traces_dir is not None:
            traces.update(trace_files(honest))
            for r in got:
                if r.trace is not None:
                    traces.update(trace_files(r.trace))
    lc_rows = lifecycle_cli.prove(
        lifecycle_variants,
        generated_by,
        (lambda m: print(m, file=sys.stderr, flush=True)) if live else None,
    )
    ctrl_c.checkpoint()
    if args.traces_dir is not None and lc_rows:
        traces.update(lifecycle_cli.trace_files(lc_rows, generated_by))
    ok = all(r.ok for r in rows) and all(r.ok for r in lc_rows)
    if args.traces_dir is not None:
        write_files(args.traces_dir, traces)
    if args.record is not None:
        _write_record(args.record, rows, lc_rows, generated_by, args.max_runs, chosen)
    _print_results(args, rows, lc_rows, t0)
    return 0 if ok else 1


def _front_end(chosen: Sequence[tuple[Protocol, str]], ctrl_c: CtrlC) -> None:
    """The one front end for every target before any claim: a protocol that fails it (or
    whose honest run is stuck) is an error naming the step, found before minutes of proving."""
    from ethvoip.model.search import honest_run
    from ethvoip.spec.checks import where

    for p, vname in chosen:
        with where(p.name, vname):
            honest_run(p.variant(vname))
        ctrl_c.checkpoint()


def _prove_target(
    args: argparse.Namespace,
    p: Protocol,
    vname: str,
    label: str,
    generated_by: str,
    live: bool,
    ctrl_c: CtrlC,
) -> tuple[Trace, list[Row]]:
    """One variant's honest trace and claims, with its live line on a terminal."""
    started = time.perf_counter()
    with contextlib.ExitStack() as stack:
        line = stack.enter_context(LiveLine(sys.stderr, label)) if live else None

        def progress(message: str, line: LiveLine | None = line) -> None:
            ctrl_c.checkpoint()
            if line is not None:
                line.update(message)

        honest = honest_trace(p, vname, generated_by)
        ctrl_c.checkpoint()
        got = prove(
            p,
            vname,
            max_runs=args.max_runs,
            generated_by=generated_by,
            progress=progress,
            reduce=args.reduce,
            untyped=args.untyped,
        )
        ctrl_c.checkpoint()
    if live:
        bad = sum(not r.ok for r in got)
        print(
            f"{label}: {len(got)} claims, "
            f"{'all as expected' if not bad else f'{bad} MISMATCH'}, "
            f"{time.perf_counter() - started:.1f} s",
            file=sys.stderr,
            flush=True,
        )
    return honest, got


def _write_record(
    path: Path,
    rows: Sequence[Row],
    lc_rows: Sequence[LifecycleRow],
    generated_by: str,
    max_runs: int,
    chosen: Sequence[tuple[Protocol, str]],
) -> None:
    from ethvoip.model import lifecycle_cli

    rec = record(rows, generated_by, max_runs, [p for p, _ in chosen])
    if lc_rows:
        rec["results"] += [r.as_json() for r in lc_rows]
        rec["lifecycle_digests"] = lifecycle_cli.digests()
    atomic_write(path, json.dumps(rec, indent=1) + "\n", mode=PUBLIC)


def _print_results(
    args: argparse.Namespace, rows: Sequence[Row], lc_rows: Sequence[LifecycleRow], t0: float
) -> None:
    """The matrix as JSON, or as tables with a summary line."""
    from ethvoip.model import lifecycle_cli

    if args.json:
        print(
            json.dumps(
                {
                    "results": [r.as_json() for r in rows],
                    "lifecycle": [r.as_json() for r in lc_rows],
                },
                indent=1,
            )
        )
        return
    if rows:
        print(table(rows))
    if lc_rows:
        print(("\n" if rows else "") + lifecycle_cli.table(lc_rows))
    print(
        f"\n{len(rows) + len(lc_rows)} claims, "
        f"{sum(not r.ok for r in rows) + sum(not r.ok for r in lc_rows)} mismatches, "
        f"bound {args.max_runs} runs"
        + (
            f" (life cycle: inductive, search {lifecycle_cli.SEARCH_STEPS} calls)"
            if lc_rows
            else ""
        )
        + f", {time.perf_counter() - t0:.1f} s"
    )


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
