"""``ethvoip check``: the catalogue's solver-free checks, printed as a table.

For every protocol and variant: well-formedness and the honest run (executability).  Exit
status 0 only when every variant passes.
"""

from __future__ import annotations

import argparse
import sys

from ethvoip.spec import cliargs
from ethvoip.spec.catalogue import CATALOGUE, get
from ethvoip.spec.checks import CheckResult, check_protocol
from ethvoip.spec.errors import SpecError


def _table(rows: list[CheckResult]) -> str:
    head = ("protocol", "variant", "roles", "steps", "claims", "honest run")
    body = [
        (
            r.protocol,
            r.variant,
            str(r.roles),
            str(r.steps),
            str(r.claims),
            f"{r.honest_events} events",
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


def parser() -> argparse.ArgumentParser:
    ap = cliargs.Parser(prog="ethvoip check", description=__doc__)
    ap.add_argument("protocols", nargs="*", metavar="PROTOCOL", help="default: all")
    return ap


@cliargs.guard("ethvoip check")
def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    rows: list[CheckResult] = []
    failed = False
    protocols = [get(n) for n in args.protocols or list(CATALOGUE)]  # unknown: usage error
    for p in protocols:
        try:
            rows.extend(check_protocol(p))
        except SpecError as exc:
            failed = True
            print(f"FAIL {exc}", file=sys.stderr)
    print(_table(rows))
    print("\nwell-formedness and honest run: " + ("FAILED" if failed else "all variants pass"))
    return 1 if failed else 0
