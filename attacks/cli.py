"""The ``ethvoip`` command: one front door, each subcommand's code living in its own layer.

This module sits in the top layer because the front door reaches every layer.  It never
imports z3, web3 or the rest of the stack itself: for a subcommand it first imports only the
module that builds the subcommand's argument parser (kept light on purpose) and parses the
arguments, so ``--help`` answers at once and a usage error is exit status 2 before any work;
only then does it import the subcommand's code and run it.

``ethvoip [--debug] [--version] [--help] COMMAND [ARGS...]``.  Every error a subcommand
meets becomes one line ``ethvoip COMMAND: what is wrong`` and an exit status
(:mod:`ethvoip.spec.cliargs` says which; docs/cli.rst lists them); ``--debug`` adds the
traceback.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import sys
from collections.abc import Callable
from importlib.machinery import ModuleSpec

from ethvoip.spec import cliargs
from ethvoip.spec.errors import UsageError

#: subcommand -> (module, function, one-line help).  Each function takes argv, returns status.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "check": ("ethvoip.spec.cli", "main", "well-formedness and honest-run checks of the spec"),
    "prove": ("ethvoip.model.cli", "main", "check every claim with the z3 model (main job)"),
    "attack": ("ethvoip.attacks.runner", "main", "reproduce the attacks on the concrete code"),
    "serve": ("ethvoip.impl.service.cli", "main", "run the operator's wallet-management service"),
    "register": ("ethvoip.impl.subscriber.cli", "main", "onboard a subscriber"),
    "demo": ("ethvoip.attacks.demo", "main", "the whole system end to end"),
    "lookup": ("ethvoip.impl.lookup_cli", "main", "a key look-up, saying what vouches"),
}

#: subcommand -> module with its ``parser()``, where that is not the subcommand's own module
#: (whose imports are too heavy for ``--help``).
PARSERS: dict[str, str] = {"demo": "ethvoip.attacks.demo_args"}


def _find(name: str) -> ModuleSpec | None:
    """The spec of module ``name`` without running its parent packages' ``__init__``.

    ``importlib.util.find_spec`` imports every parent, and ``ethvoip.impl.service``'s
    imports the chain stack; below the layer packages (``ethvoip.impl``, light), plain path
    search is enough.
    """
    if name.count(".") <= 1:
        try:
            return importlib.util.find_spec(name)
        except ModuleNotFoundError:  # a parent package is missing
            return None
    parent = _find(name.rpartition(".")[0])
    if parent is None or parent.submodule_search_locations is None:
        return None
    return importlib.machinery.PathFinder.find_spec(name, list(parent.submodule_search_locations))


def available() -> dict[str, tuple[str, str, str]]:
    """The subcommands whose module is part of this build."""
    return {name: entry for name, entry in COMMANDS.items() if _find(entry[0]) is not None}


def version() -> str:
    import importlib.metadata  # not at the top: it costs more than all of --help

    try:
        return importlib.metadata.version("ethvoip")
    except importlib.metadata.PackageNotFoundError:  # run from a source tree, not installed
        return "unknown (not installed)"


def _usage() -> str:
    lines = [
        "usage: ethvoip [--debug] [--version] [--help] COMMAND [ARGS...]",
        "",
        "commands (`ethvoip COMMAND --help` for each):",
    ]
    lines += [f"  {name:<9} {help_}" for name, (_, _, help_) in available().items()]
    lines += [
        "",
        "options:",
        "  --debug    print the traceback of an error, not just its one line",
        "  --version  print the version and exit",
        "",
        "exit status: 0 as expected, 1 a verdict or outcome other than expected, 2 usage,",
        "3 environment (node unreachable, port in use, file system), 130 interrupted,",
        "141 standard output closed by its reader.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    was_debug = cliargs.debug
    try:
        while args and args[0].startswith("-"):
            option = args.pop(0)
            if option == "--debug":
                cliargs.debug = True
            elif option == "--version":
                print(f"ethvoip {version()}")
                return cliargs.OK
            elif option in ("-h", "--help"):
                print(_usage())
                return cliargs.OK
            else:
                return cliargs.report(
                    "ethvoip", UsageError(f"unknown option {option!r} (see ethvoip --help)")
                )
        if not args:
            print(_usage(), file=sys.stderr)
            return cliargs.USAGE
        name, rest = args[0], args[1:]
        commands = available()
        if name not in commands:
            known = ", ".join(commands)
            return cliargs.report(
                "ethvoip", UsageError(f"unknown command {name!r} (commands: {known})")
            )
        prog = f"ethvoip {name}"
        module_name, func_name, _ = commands[name]
        try:
            parsing = importlib.import_module(PARSERS.get(name, module_name))
            parsing.parser().parse_args(rest)  # usage errors and --help: nothing has run yet
            func: Callable[[list[str]], int] = getattr(
                importlib.import_module(module_name), func_name
            )
            return func(rest)
        except SystemExit as exc:  # --help
            return exc.code if isinstance(exc.code, int) else cliargs.OK
        except BaseException as exc:  # one line, never a traceback
            return cliargs.report(prog, exc)
    finally:
        cliargs.debug = was_debug


if __name__ == "__main__":
    raise SystemExit(main())
