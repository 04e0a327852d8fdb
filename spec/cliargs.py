"""What every ``ethvoip`` subcommand shares on its command line: parsing, checks, errors.

* :class:`Parser` is an :class:`argparse.ArgumentParser` whose errors raise
  :class:`~ethvoip.spec.errors.UsageError` instead of printing usage and exiting, so that a
  mistake is reported once, in one line, by :func:`guard`.
* The ``type=`` checkers (:func:`int_range`, :func:`port`, :func:`host`, :func:`http_url`,
  the path checkers) refuse a bad value while the arguments are parsed: a usage error is
  exit status 2 before any work starts (no key generated, no node contacted).
* :func:`explain` is the one place that turns an exception into ``(message, exit status)``;
  :func:`guard` applies it around a subcommand.  Exit statuses (documented in docs/cli.rst):
  0 as expected, 1 a verdict or outcome other than expected, 2 usage, 3 environment (a node
  or service unreachable, a port in use, a file system refusal, a missing tool), 130
  interrupted, 141 standard output closed by its reader (``| head``).

It lives in the bottom layer because every layer has a subcommand (``check`` in spec,
``prove`` in model, ``serve``/``register`` in impl) and imports only go downward.  It
imports nothing heavy: ``ethvoip --help`` must not load z3 or web3.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import ipaddress
import os
import re
import sys
import traceback
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlsplit

from ethvoip.spec.errors import (
    ConfigError,
    EthVoipError,
    ProtocolFileError,
    UnknownProtocol,
    UsageError,
)

OK = 0
FAILED = 1  # the command ran; a verdict, attack or step is not what was expected
USAGE = 2
ENVIRONMENT = 3
INTERRUPTED = 130  # 128 + SIGINT, what shells report for a command stopped by Ctrl-C
STDOUT_CLOSED = 141  # 128 + SIGPIPE: the reader of our output left (``| head``); no message

#: Set by ``ethvoip --debug``: :func:`guard` then prints the traceback before the line.
debug = False

#: Words in an exception class name (requests, urllib3, aiohttp, web3...) that mean "the
#: node or the network failed", not a bug of ours and not a refusal.
_NETWORK_WORDS = ("Connection", "Timeout", "Disconnected")


class Parser(argparse.ArgumentParser):
    """An argument parser that raises :class:`UsageError` rather than exiting.

    argparse prints the usage block and ``prog: error: ...`` itself and exits; the front door
    wants one line said once, so the message travels up as an exception instead.
    ``--help`` still prints and exits 0 (that is what was asked for).
    """

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see {self.prog} --help)")


# --- type= checkers: each returns the parsed value or raises ArgumentTypeError ---------


def int_range(low: int, high: int) -> Callable[[str], int]:
    """An integer in ``[low, high]``."""

    def parse(text: str) -> int:
        try:
            value = int(text, 10)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if not low <= value <= high:
            shown = f"2^{high.bit_length()}-1" if high > 2**32 and not high & (high + 1) else high
            raise argparse.ArgumentTypeError(f"{value} is out of range {low}..{shown}")
        return value

    return parse


def power_of_two(low: int, high: int) -> Callable[[str], int]:
    """A power of two in ``[low, high]`` (scrypt's cost parameter N)."""
    in_range = int_range(low, high)

    def parse(text: str) -> int:
        value = in_range(text)
        if value & (value - 1):
            raise argparse.ArgumentTypeError(f"{value} is not a power of two")
        return value

    return parse


def port(text: str) -> int:
    """A TCP port number; 0 asks the system for a free one."""
    return int_range(0, 65535)(text)


_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")


def host(text: str) -> str:
    """An IP address or a syntactically valid host name (RFC 1123); not resolved here."""
    try:
        ipaddress.ip_address(text)
        return text
    except ValueError:
        pass
    name = text[:-1] if text.endswith(".") else text
    if not name or len(name) > 253 or not all(_LABEL.fullmatch(x) for x in name.split(".")):
        raise argparse.ArgumentTypeError(f"{text!r} is not an IP address or a host name")
    return text


def http_url(text: str) -> str:
    """An ``http://`` or ``https://`` URL with a host and, if given, a valid port."""
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 -- raises ValueError on a port out of range or not a number
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(f"{text!r} is not an http:// or https:// URL")
    host(parts.hostname)
    return text


def _path(text: str) -> Path:
    # Path("") is ".": an empty argument (an unset shell variable) would mean "here"
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty path")
    return Path(text)


def existing_file(text: str) -> Path:
    """A file that exists and is not a folder."""
    path = _path(text)
    if not path.is_file():
        what = "a folder" if path.is_dir() else "missing"
        raise argparse.ArgumentTypeError(f"{text}: {what}, expected an existing file")
    return path


def folder(text: str) -> Path:
    """A folder to write into: it may be missing (it is then made), but may not be a file."""
    path = _path(text)
    for p in (path, *path.parents):
        if p.exists():
            if not p.is_dir():
                what = "is a file" if p == path else f"is inside {p}, a file"
                raise argparse.ArgumentTypeError(f"{text} {what}, expected a folder")
            break
    return path


def output_file(text: str) -> Path:
    """A file to write: its folder must exist, and it may not be a folder itself."""
    path = _path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text}: is a folder, expected a file name")
    parent = path.parent
    if not parent.is_dir():
        raise argparse.ArgumentTypeError(
            f"{text}: folder {parent} does not exist (create it first)"
        )
    return path


# --- exceptions to one line and an exit status -------------------------------------------


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and what caused it, outermost first (``raise ... from``, implicit context, and
    urllib's ``URLError.reason``, which holds the socket error without chaining it)."""
    seen: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and cur not in seen:
        seen.append(cur)
        reason = getattr(cur, "reason", None)
        cur = cur.__cause__ or (reason if isinstance(reason, BaseException) else cur.__context__)
    return seen


def _one_line(text: str, limit: int = 400) -> str:
    line = "; ".join(s.strip() for s in text.splitlines() if s.strip())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _target(exc: BaseException) -> str | None:
    """The URL or host:port a network exception was about, when it says so."""
    for e in _chain(exc):
        request = getattr(e, "request", None)
        url = getattr(request, "url", None)
        if isinstance(url, str):
            return url
        h, p = getattr(e, "host", None), getattr(e, "port", None)
        if isinstance(h, str) and isinstance(p, int):
            return f"{h}:{p}"
    return None


def _environment(exc: BaseException) -> str | None:
    """The one-line story of an environment failure, or ``None`` if ``exc`` is not one."""
    chain = _chain(exc)
    oserrors = [e for e in chain if isinstance(e, OSError)]
    from_network = [
        e for e in chain if any(w in k.__name__ for k in type(e).__mro__ for w in _NETWORK_WORDS)
    ]
    if not oserrors and not from_network:
        return None
    codes = {e.errno for e in oserrors if e.errno is not None}
    refused = any(isinstance(e, ConnectionRefusedError) for e in chain) or (
        errno.ECONNREFUSED in codes
    )
    target = _target(exc)
    if target is None:  # our own error says where (``ServiceError("unreachable", url...)``)
        url = re.search(r"\bhttps?://[^\s:/]+(?::\d+)?", str(exc))
        target = url.group(0) if url else None
    where = f"{target}: " if target else ""
    if refused or "Connection refused" in str(exc):
        return f"{where}connection refused: is the node or service running at that address?"
    lost = any(
        isinstance(e, (ConnectionResetError, ConnectionAbortedError, BrokenPipeError))
        for e in chain
    ) or any(w in str(exc) for w in ("Connection aborted", "RemoteDisconnected"))
    if lost:
        return f"{where}connection lost: did the node or service stop?"
    if errno.EADDRINUSE in codes:
        return "address already in use: pick another --port (0 picks a free one)"
    first = oserrors[0] if oserrors else None
    if first is not None and first.filename is not None and first.strerror:
        return f"{first.filename}: {first.strerror}"
    if isinstance(exc, EthVoipError):
        return str(exc)
    if first is not None and first.strerror:
        return f"{where}{first.strerror}"
    return f"{where}{type(exc).__name__}: {exc}"


def explain(exc: BaseException) -> tuple[str, int]:
    """The one-line message and the exit status for ``exc`` (see the module docstring)."""
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted", INTERRUPTED
    if isinstance(exc, BrokenPipeError):  # at the top: our stdout; a socket's comes wrapped
        return "standard output was closed before the end", STDOUT_CLOSED
    if isinstance(exc, (UsageError, UnknownProtocol, ProtocolFileError, ConfigError)):
        return _one_line(str(exc)), USAGE
    if isinstance(exc, EOFError):
        return "standard input ended while a value was being read", USAGE
    if isinstance(exc, UnicodeDecodeError):  # a file given as text is not
        return _one_line(f"a file that should be text is not UTF-8 ({exc})"), USAGE
    if type(exc).__module__ == "sqlite3":  # a --db that is no database, or a locked one
        return _one_line(f"SQLite: {exc} (check --db and --sip-db)"), ENVIRONMENT
    story = _environment(exc)
    if story is not None:
        return _one_line(story), ENVIRONMENT
    if isinstance(exc, EthVoipError):
        return _one_line(str(exc) or type(exc).__name__), FAILED
    return (
        _one_line(f"unexpected {type(exc).__name__}: {exc} (`ethvoip --debug ...` shows where)"),
        FAILED,
    )


def guard(prog: str) -> Callable[[Callable[[list[str]], int]], Callable[..., int]]:
    """Decorate a subcommand's ``main(argv)``: any exception becomes one line and a status.

    The line is ``<prog>: <message>`` on stderr; with :data:`debug` set the traceback comes
    first.  ``SystemExit`` (``--help``) passes through as its status.
    """

    def wrap(main: Callable[[list[str]], int]) -> Callable[..., int]:
        @wraps(main)
        def guarded(argv: list[str] | None = None) -> int:
            try:
                return main(list(sys.argv[1:] if argv is None else argv))
            except SystemExit as exc:
                return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            except BaseException as exc:  # nothing escapes as a traceback
                return report(prog, exc)

        return guarded

    return wrap


def _quiet_destructors(
    previous: Callable[[sys.UnraisableHookArgs], object],
) -> Callable[[sys.UnraisableHookArgs], object]:
    """An unraisable-exception hook that drops errors of ``__del__`` methods.

    Ctrl-C can land inside a constructor (z3's ``Context.__init__``); when the interrupted
    frames are freed, the half-built object's ``__del__`` fails and Python would print that
    traceback as "Exception ignored in ...".  After an interrupt it is noise.
    """

    def hook(unraisable: sys.UnraisableHookArgs) -> None:
        if getattr(unraisable.object, "__name__", "") != "__del__":
            previous(unraisable)

    return hook


def report(prog: str, exc: BaseException) -> int:
    """Print ``exc`` as ``prog: message`` (traceback first under :data:`debug`); its status."""
    message, status = explain(exc)
    if debug:
        traceback.print_exception(exc)
    if status == INTERRUPTED and not debug:
        sys.unraisablehook = _quiet_destructors(sys.unraisablehook)
    if status == STDOUT_CLOSED:
        # Whoever read our output chose to stop: no message.  Point stdout at /dev/null so
        # the interpreter's final flush does not fail again.
        with contextlib.suppress(OSError, ValueError):  # stdout may be no real file
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
        return status
    print(f"{prog}: {message}", file=sys.stderr, flush=True)
    return status
