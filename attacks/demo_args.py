"""The command line of ``ethvoip demo``, apart from :mod:`.demo` (which loads the whole stack)
so that ``ethvoip demo --help`` and a usage error answer at once."""

from __future__ import annotations

import argparse

from ethvoip.spec import cliargs


def parser() -> argparse.ArgumentParser:
    ap = cliargs.Parser(
        prog="ethvoip demo",
        description="the whole system end to end: chain, operator service, onboarding, calls "
        "over TLS-PSK and SRTP, then the attacks (paper and hardened); exit status 0 only "
        "when every step did what it should",
    )
    where = ap.add_mutually_exclusive_group()
    where.add_argument(
        "--rpc", metavar="URL", type=cliargs.http_url, help="JSON-RPC URL of a dev node (anvil)"
    )
    where.add_argument("--anvil", action="store_true", help="start a local anvil, stop it after")
    return ap
