"""A user's protocol file: a Python module in the spec language that defines ``PROTOCOL``.

``ethvoip check FILE.py`` and ``ethvoip prove FILE.py`` take such a file wherever a catalogue
name is accepted (docs/tutorial.rst walks through writing one).  :func:`load_protocol` is the
one way in, for the command line and for Python alike:

* the file must exist, be a file and end in ``.py`` (else :class:`ProtocolFileError`);
* its bytes are read here, so a file the system refuses to read is an ``OSError`` (an
  environment failure), not the file's fault;
* it is executed by importlib as a module of its own, under a name no other load uses
  (two files called ``protocol.py`` never meet), and never leaves a bytecode cache beside
  the user's file; if anything fails, the module is taken out of ``sys.modules`` again;
* an exception while it runs, a missing ``PROTOCOL`` or one that is not a
  :class:`~ethvoip.spec.protocol.Protocol` is :class:`ProtocolFileError`; a ``Protocol``
  whose fields have the wrong types is :class:`MalformedProtocol`
  (:func:`ethvoip.spec.structure.check_structure`).

What the protocol *says* is then checked by the one front end
(:func:`ethvoip.spec.checks.front_end`) like any catalogue protocol, before any claim.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import itertools
import re
import sys
from pathlib import Path

from ethvoip.spec.errors import MalformedProtocol, ProtocolFileError
from ethvoip.spec.protocol import Protocol
from ethvoip.spec.structure import check_structure

#: The module attribute a protocol file must define.
ATTRIBUTE = "PROTOCOL"

_counter = itertools.count(1)


class _Source(importlib.abc.SourceLoader):
    """Runs source bytes already read; no bytecode cache is read or written (the default
    loader would write ``__pycache__`` into the user's folder)."""

    def __init__(self, path: Path, data: bytes) -> None:
        self.path = path
        self.data = data

    def get_filename(self, fullname: str) -> str:
        return str(self.path)

    def get_data(self, path: str) -> bytes:
        return self.data


def check_path(path: Path) -> None:
    """What can be said of ``path`` without running it: it exists, is a file, ends in .py."""
    if not path.exists():
        raise ProtocolFileError(f"{path}: no such file")
    if not path.is_file():
        raise ProtocolFileError(f"{path}: not a file (a protocol file is a .py module)")
    if path.suffix != ".py":
        raise ProtocolFileError(f"{path}: not a .py file (a protocol file is a Python module)")


def module_name(path: Path) -> str:
    """A module name for ``path`` that no other load in this process uses."""
    stem = re.sub(r"\W", "_", path.stem) or "protocol"
    return f"ethvoip_user_protocol_{next(_counter)}_{stem}"


def load_protocol(path: Path | str) -> Protocol:
    """The ``PROTOCOL`` a user's file defines, checked for shape (see the module docstring)."""
    path = Path(path)
    check_path(path)
    data = path.read_bytes()  # OSError (permission...): the environment's, not the file's
    name = module_name(path)
    spec = importlib.util.spec_from_file_location(name, path, loader=_Source(path, data))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # as import does: dataclasses in the file look themselves up
    done = False
    try:
        try:
            spec.loader.exec_module(module)
        except (Exception, SystemExit) as exc:
            where = _line(exc, path)
            raise ProtocolFileError(
                f"{path}: importing it raised {type(exc).__name__}{where}: {exc}"
            ) from exc
        if not hasattr(module, ATTRIBUTE):
            raise ProtocolFileError(
                f"{path}: defines no {ATTRIBUTE} (a protocol file sets "
                f"{ATTRIBUTE} = ethvoip.spec.protocol.Protocol(...))"
            )
        protocol = getattr(module, ATTRIBUTE)
        if not isinstance(protocol, Protocol):
            raise ProtocolFileError(
                f"{path}: {ATTRIBUTE} is a {type(protocol).__name__}, "
                "not an ethvoip.spec.protocol.Protocol"
            )
        try:
            check_structure(protocol)
        except MalformedProtocol as exc:
            raise MalformedProtocol(f"{exc} (in {path})") from exc
        done = True
        return protocol
    finally:
        if not done:
            sys.modules.pop(name, None)


def _line(exc: BaseException, path: Path) -> str:
    """`` at line N`` of the user's file where the exception came from, if it did."""
    if isinstance(exc, SyntaxError) and exc.lineno is not None:
        return f" at line {exc.lineno}"
    tb = exc.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == str(path):
            line = tb.tb_lineno
        tb = tb.tb_next
    return f" at line {line}" if line is not None else ""
