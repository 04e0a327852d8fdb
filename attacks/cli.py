"""The ``ethvoip`` command: one front door, each subcommand's code living in its own layer.

This module sits in the top layer because the front door reaches every layer; it imports a
subcommand's module only when that subcommand runs, so ``ethvoip check`` never loads z3 or
web3.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable

#: subcommand -> (module, function, one-line help).  Each function takes argv, returns status.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "check": ("ethvoip.spec.cli", "main", "well-formedness and honest-run checks of the spec"),
    "prove": ("ethvoip.model.cli", "main", "check every claim with the z3 model (main job)"),
    "attack": ("ethvoip.attacks.runner", "main", "reproduce the attacks on the concrete code"),
    "serve": ("ethvoip.impl.service.cli", "main", "run the operator's wallet-management service"),
    "register": ("ethvoip.impl.service.client_cli", "main", "onboard a subscriber"),
    "demo": ("ethvoip.attacks.demo", "main", "the whole system end to end"),
    "lookup": ("ethvoip.impl.call.lookup_cli", "main", "a key look-up, saying what vouches"),
}


def available() -> dict[str, tuple[str, str, str]]:
    """The subcommands whose module is part of this build."""
    out = {}
    for name, entry in COMMANDS.items():
        try:
            found = importlib.util.find_spec(entry[0]) is not None
        except ModuleNotFoundError:  # a parent package is missing
            found = False
        if found:
            out[name] = entry
    return out


def _usage() -> str:
    lines = ["usage: ethvoip COMMAND [ARGS...]", "", "commands:"]
    lines += [f"  {name:<9} {help_}" for name, (_, _, help_) in available().items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help"):
        print(_usage())
        return 0 if args else 2
    name, rest = args[0], args[1:]
    commands = available()
    if name not in commands:
        print(f"ethvoip: unknown command {name!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    module_name, func_name, _ = commands[name]
    module = importlib.import_module(module_name)
    func: Callable[[list[str]], int] = getattr(module, func_name)
    return func(rest)


if __name__ == "__main__":
    raise SystemExit(main())
