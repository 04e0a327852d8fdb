"""``ethvoip prove --unbounded``: the unbounded verdicts (:mod:`.unbounded`) as a table or JSON.

Each row sets the unbounded verdict beside the bounded expectation pinned in the spec.  A row
is a MISMATCH when the two contradict each other (``proved`` where the spec expects an attack:
one of the two models would be unsound) or when the claim could not be tested at all
(``cannot tell``: the claiming role's honest run is not derivable in the abstraction).
``cannot prove`` never contradicts anything: it is the abstraction's one-sided silence, and
attacks are found by the bounded search.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ethvoip.model.unbounded import Checker, UResult, UVerdict
from ethvoip.spec.protocol import Expect, Protocol, Verdict
from ethvoip.spec.texttable import text_table


@dataclass(frozen=True)
class URow:
    protocol: str
    variant: str
    expected: Expect
    result: UResult

    @property
    def ok(self) -> bool:
        proved = self.result.verdict in (UVerdict.PROVED, UVerdict.PROVED_NI)
        if proved and self.expected.verdict is Verdict.ATTACK:
            return False
        return self.result.verdict is not UVerdict.CANNOT_TELL

    def as_json(self) -> dict[str, Any]:
        e = self.expected
        return {
            "protocol": self.protocol,
            "variant": self.variant,
            "claim": self.result.claim.name,
            "expected": f"{e.verdict.value} ({e.runs})" if e.runs else e.verdict.value,
            "verdict": self.result.verdict.value,
            "seconds": round(self.result.seconds, 4),
            "ok": self.ok,
            "reason": self.result.reason,
            "terms": self.result.terms,
        }


def prove(protocol: Protocol, variant_name: str) -> list[URow]:
    """Every claim of one variant, unbounded."""
    v = protocol.variant(variant_name)
    return [
        URow(protocol.name, variant_name, v.expected[r.claim.name], r) for r in Checker(v).check()
    ]


def table(rows: Sequence[URow]) -> str:
    head = ("protocol", "variant", "claim", "bounded (spec)", "unbounded", "seconds", "")
    body = [
        (
            r.protocol,
            r.variant,
            r.result.claim.name,
            r.as_json()["expected"],
            r.result.verdict.value,
            f"{r.result.seconds:.3f}",
            "ok" if r.ok else "MISMATCH",
        )
        for r in rows
    ]
    return text_table(head, body)


def run(targets: Sequence[tuple[Protocol, str]], *, as_json: bool, live: bool) -> int:
    """Prove every target, print the table (or JSON), return the exit status."""
    import json

    rows: list[URow] = []
    t0 = time.perf_counter()
    for p, vname in targets:
        started = time.perf_counter()
        got = prove(p, vname)
        rows += got
        if live:
            print(
                f"{p.name}/{vname}: {len(got)} claims unbounded, "
                f"{sum(r.result.verdict is UVerdict.PROVED for r in got)} proved, "
                f"{time.perf_counter() - started:.1f} s",
                file=sys.stderr,
                flush=True,
            )
    if as_json:
        print(json.dumps({"results": [], "unbounded": [r.as_json() for r in rows]}, indent=1))
    else:
        print(table(rows))
        proved = sum(r.result.verdict in (UVerdict.PROVED, UVerdict.PROVED_NI) for r in rows)
        print(
            f"\n{len(rows)} claims, {proved} proved for any number of runs, "
            f"{sum(not r.ok for r in rows)} mismatches (unbounded), "
            f"{time.perf_counter() - t0:.1f} s"
        )
        for r in rows:
            if r.result.verdict is not UVerdict.PROVED:
                print(f"  {r.protocol}/{r.variant} {r.result.claim.name}: {r.result.reason}")
    return 0 if all(r.ok for r in rows) else 1
