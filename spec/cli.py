"""``ethvoip check``: the solver-free checks of the spec, printed as a table.

For every protocol and variant (the catalogue by default; classics with ``--classics``;
users' files as ``FILE.py``): the front end without the model, that is structure,
well-formedness, the honest run (executability) and the typed language.  Exit status 0 only
when every variant passes; 1 when one fails; 2 for a file that is not a protocol file.
"""

from __future__ import annotations

import argparse
import sys

from ethvoip.spec import cliargs, targets
from ethvoip.spec.checks import CheckResult, check_protocol
from ethvoip.spec.errors import EthVoipError, SpecError
from ethvoip.spec.lifecycle import VARIANTS as LIFECYCLE_VARIANTS
from ethvoip.spec.lifecycle_eval import TableCheck, check_table
from ethvoip.spec.protocol import Protocol
from ethvoip.spec.texttable import text_table


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
    return text_table(head, body)


def _grouped(chosen: list[tuple[Protocol, str]]) -> list[tuple[Protocol, set[str]]]:
    """The chosen variants per protocol, protocols in their first order."""
    out: dict[str, tuple[Protocol, set[str]]] = {}
    for p, v in chosen:
        out.setdefault(p.name, (p, set()))[1].add(v)
    return list(out.values())


def parser() -> argparse.ArgumentParser:
    ap = cliargs.Parser(prog="ethvoip check", description=__doc__)
    ap.add_argument(
        "protocols",
        nargs="*",
        type=_argument,
        metavar="PROTOCOL",
        help="NAME, NAME/VARIANT, FILE.py or FILE.py/VARIANT (default: the catalogue)",
    )
    ap.add_argument(
        "--classics",
        action="store_true",
        help="also every classic protocol of the library (spec/classics/)",
    )
    return ap


def _argument(text: str) -> str:
    if text.partition("/")[0] != "key_lifecycle":
        try:
            targets.check(text)
        except EthVoipError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    return text


@cliargs.guard("ethvoip check")
def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    rows: list[CheckResult] = []
    failed = False
    names = [n for n in args.protocols if n.partition("/")[0] != "key_lifecycle"]
    chosen = (
        targets.select(names, with_classics=args.classics)
        if names or args.classics or not args.protocols
        else []
    )  # unknown name, or a file that is no protocol file: usage error
    for p, variants in _grouped(chosen):
        try:
            rows.extend(check_protocol(p, variants))
        except SpecError as exc:
            failed = True
            print(f"FAIL {exc}", file=sys.stderr)
    print(_table(rows))
    # the key life cycle (not a catalogue protocol): its table, and its honest scenarios
    lifecycle: list[TableCheck] = []
    if (not args.protocols and not args.classics) or "key_lifecycle" in args.protocols:
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
