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
from ethvoip.spec.lifecycle import VARIANTS as LIFECYCLE_VARIANTS
from ethvoip.spec.lifecycle_eval import TableCheck, check_table


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
    names = [n for n in args.protocols if n != "key_lifecycle"] or (
        [] if args.protocols else list(CATALOGUE)
    )
    protocols = [get(n) for n in names]  # unknown: usage error
    for p in protocols:
        try:
            rows.extend(check_protocol(p))
        except SpecError as exc:
            failed = True
            print(f"FAIL {exc}", file=sys.stderr)
    print(_table(rows))
    # the key life cycle (not a catalogue protocol): its table, and its honest scenarios
    lifecycle: list[TableCheck] = []
    if not args.protocols or "key_lifecycle" in args.protocols:
        for name in LIFECYCLE_VARIANTS:
            try:
                lifecycle.append(check_table(name))
            except SpecError as exc:
                failed = True
                print(f"FAIL {exc}", file=sys.stderr)
    if lifecycle:
        print(
            "\nkey_lifecycle: "
            + "; ".join(
                f"{c.variant} {c.functions} functions, {c.digests} digests, "
                f"{c.questions} claims, honest scenarios {c.honest_calls} calls"
                for c in lifecycle
            )
        )
    print("\nwell-formedness and honest run: " + ("FAILED" if failed else "all variants pass"))
    return 1 if failed else 0
