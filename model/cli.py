"""``ethvoip prove``: decide every claim of every protocol and variant, print the matrix.

Exit status 0 only when every verdict matches the expectation pinned in the spec
(``Variant.expected``), including the smallest run count of each attack; 1 otherwise; 2 for
bad arguments.  ``--traces-dir`` writes every attack and honest trace as JSON, Alice-Bob
text and SVG (this is how ``tests/traces/`` is refreshed).  ``--record FILE`` writes the
matrix without traces, stamped with the date, the machine and the spec digests it was made
from (this is how ``docs/model/verdicts.json``, which the docs render, is refreshed).

Neither is ever left half-written: both paths are checked before the (long) proving starts,
the traces are rendered in memory while it runs, and only when every protocol is done is
each file replaced atomically (:func:`ethvoip.spec.files.atomic_write`).  A failure or a
Ctrl-C before that leaves every old file as it was and no new one.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ethvoip.model.export import alice_bob, build_trace
from ethvoip.model.search import DEFAULT_MAX_RUNS, ClaimResult, check_variant, honest_run
from ethvoip.model.svg import render
from ethvoip.spec import trace as tracefmt
from ethvoip.spec.catalogue import CATALOGUE, get
from ethvoip.spec.errors import EthVoipError
from ethvoip.spec.files import PUBLIC, atomic_write, check_dir_writable, check_file_writable
from ethvoip.spec.protocol import Expect, Protocol, Verdict
from ethvoip.spec.trace import Trace


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
) -> list[Row]:
    """Every claim of one variant, with attack traces built from the models."""
    v = protocol.variant(variant_name)
    rows = []
    for r in check_variant(v, max_runs=max_runs, progress=progress):
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
        exp = v.expected.get(r.claim.name, Expect(Verdict.NO_ATTACK))
        rows.append(Row(protocol.name, variant_name, r.claim.name, exp, r, tr))
    return rows


def honest_trace(protocol: Protocol, variant_name: str, generated_by: str) -> Trace:
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
    stem = f"{t.protocol}.{t.variant}.{t.claim or 'honest'}"
    return {
        f"{stem}.json": tracefmt.dumps(t),
        f"{stem}.txt": alice_bob(t),
        f"{stem}.svg": render(t),
    }


def write_files(folder: Path, files: dict[str, str]) -> None:
    """Each file replaced atomically (a reader sees the old one or the new one, whole)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
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


def _targets(names: Sequence[str]) -> list[tuple[Protocol, str]]:
    """``PROTOCOL`` or ``PROTOCOL/VARIANT`` arguments (default: everything)."""
    out: list[tuple[Protocol, str]] = []
    for n in names or list(CATALOGUE):
        pname, _, vname = n.partition("/")
        p = get(pname)
        if vname:
            p.variant(vname)  # raises UnknownProtocol with the list of variants
            out.append((p, vname))
        else:
            out += [(p, v) for v in p.variants]
    return out


def record(rows: Sequence[Row], generated_by: str, max_runs: int) -> dict[str, Any]:
    """The matrix as a dated record: what the docs show, and when and where it was made."""
    results = []
    for r in rows:
        row = r.as_json()
        del row["trace"]
        results.append(row)
    return {
        "made": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": (
            f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        ),
        "generated_by": generated_by,
        "max_runs": max_runs,
        "spec_digests": {
            name: get(name).digest() for name in dict.fromkeys(r.protocol for r in rows)
        },
        "results": results,
    }


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    ap = argparse.ArgumentParser(prog="ethvoip prove", description=__doc__)
    ap.add_argument("protocols", nargs="*", metavar="PROTOCOL", help="name or name/variant")
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    ap.add_argument("--max-runs", type=int, default=DEFAULT_MAX_RUNS, metavar="K")
    ap.add_argument("--traces-dir", type=Path, metavar="DIR", help="write every trace here")
    ap.add_argument("--quiet", action="store_true", help="no progress on stderr")
    ap.add_argument("--record", type=Path, metavar="FILE", help="write the dated matrix here")
    args = ap.parse_args(argv)
    if args.max_runs < 1:
        print("ethvoip prove: --max-runs must be at least 1", file=sys.stderr)
        return 2
    try:
        targets = _targets(args.protocols)
        # Before minutes of proving, not after: a path that cannot be written is refused.
        if args.traces_dir is not None:
            check_dir_writable(args.traces_dir, "--traces-dir")
        if args.record is not None:
            check_file_writable(args.record, "--record")
    except EthVoipError as exc:
        print(f"ethvoip prove: {exc}", file=sys.stderr)
        return 2
    generated_by = command_line(argv)
    rows: list[Row] = []
    traces: dict[str, str] = {}  # written only once every protocol is done
    t0 = time.perf_counter()
    try:
        for i, (p, vname) in enumerate(targets, start=1):
            if not args.quiet:
                print(f"[{i}/{len(targets)}] {p.name}/{vname} ...", file=sys.stderr, flush=True)
            honest = honest_trace(p, vname, generated_by)
            got = prove(p, vname, max_runs=args.max_runs, generated_by=generated_by)
            rows += got
            if not args.quiet:
                bad = sum(not r.ok for r in got)
                print(
                    f"[{i}/{len(targets)}] {p.name}/{vname}: {len(got)} claims, "
                    f"{'all as expected' if not bad else f'{bad} MISMATCH'}",
                    file=sys.stderr,
                    flush=True,
                )
            if args.traces_dir is not None:
                traces.update(trace_files(honest))
                for r in got:
                    if r.trace is not None:
                        traces.update(trace_files(r.trace))
    except EthVoipError as exc:
        print(f"ethvoip prove: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    ok = all(r.ok for r in rows)
    if args.traces_dir is not None:
        write_files(args.traces_dir, traces)
    if args.record is not None:
        text = json.dumps(record(rows, generated_by, args.max_runs), indent=1) + "\n"
        atomic_write(args.record, text, mode=PUBLIC)
    if args.json:
        print(json.dumps({"results": [r.as_json() for r in rows]}, indent=1))
    else:
        print(table(rows))
        print(
            f"\n{len(rows)} claims, {sum(not r.ok for r in rows)} mismatches, "
            f"bound {args.max_runs} runs, {time.perf_counter() - t0:.1f} s"
        )
    return 0 if ok else 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
