"""What ``ethvoip check`` and ``ethvoip prove`` are asked about: names and files.

An argument is one of

* ``NAME`` or ``NAME/VARIANT``: a protocol of the catalogue (:mod:`ethvoip.spec.catalogue`)
  or of the classic library (:mod:`ethvoip.spec.library`);
* ``FILE.py`` or ``FILE.py/VARIANT``: a user's protocol file (:mod:`ethvoip.spec.userfile`).

An argument shaped like a name (letters, digits, ``_`` and ``-``, at most one ``/``) is a
name, even if a file of that name exists here; anything else is a path.  :func:`check` is
what argparse runs on each argument: names are looked up, files only checked to exist and
end in ``.py`` (a file is run once, by :func:`select`, not while the line is parsed).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from ethvoip.spec.catalogue import CATALOGUE
from ethvoip.spec.errors import UnknownProtocol, UsageError
from ethvoip.spec.library import classics
from ethvoip.spec.protocol import Protocol
from ethvoip.spec.structure import NAME
from ethvoip.spec.userfile import check_path, load_protocol

_NAMED = re.compile(rf"{NAME.pattern}(/{NAME.pattern})?")


def is_file(text: str) -> bool:
    """Whether the argument is a path (see the module docstring)."""
    return not _NAMED.fullmatch(text)


def split_file(text: str) -> tuple[Path, str | None]:
    """``FILE.py/VARIANT`` -> (FILE.py, VARIANT); any other path -> (path, None)."""
    head, sep, tail = text.rpartition("/")
    if sep and head.endswith(".py") and NAME.fullmatch(tail):
        return Path(head), tail
    return Path(text), None


def protocol_named(name: str) -> Protocol:
    """The catalogue's or the library's protocol ``name``; else :class:`UnknownProtocol`."""
    found = CATALOGUE.get(name) or classics().get(name)
    if found is None:
        raise UnknownProtocol(
            f"no protocol {name!r} in the catalogue (known: {', '.join(CATALOGUE)}) nor among "
            f"the classics (--classics: {', '.join(classics())}); a protocol file ends in .py"
        )
    return found


def check(text: str) -> None:
    """Refuse an argument that cannot name a protocol, without running any file."""
    if is_file(text):
        check_path(split_file(text)[0])
        return
    pname, _, vname = text.partition("/")
    p = protocol_named(pname)
    if vname:
        p.variant(vname)  # raises UnknownProtocol with the list of variants


def select(arguments: Sequence[str], *, with_classics: bool = False) -> list[tuple[Protocol, str]]:
    """(protocol, variant) for every argument, files loaded once each; then, with
    ``with_classics``, every variant of every classic.  No arguments and no classics: the
    whole catalogue.  Two different protocols under one name are refused (their traces
    would overwrite each other)."""
    chosen: list[tuple[Protocol, str | None]] = []
    loaded: dict[Path, Protocol] = {}
    for text in arguments:
        if is_file(text):
            path, vname = split_file(text)
            key = path.resolve()
            if key not in loaded:
                loaded[key] = load_protocol(path)
            chosen.append((loaded[key], vname))
        else:
            pname, _, v = text.partition("/")
            chosen.append((protocol_named(pname), v or None))
    if with_classics:
        chosen += [(p, None) for p in classics().values()]
    elif not arguments:
        chosen += [(p, None) for p in CATALOGUE.values()]
    out: list[tuple[Protocol, str]] = []
    by_name: dict[str, Protocol] = {}
    for p, vname in chosen:
        other = by_name.setdefault(p.name, p)
        if other is not p:
            raise UsageError(
                f"two different protocols are named {p.name!r}: rename one (its PROTOCOL.name)"
            )
        if vname is not None:
            p.variant(vname)  # raises UnknownProtocol with the list
            out.append((p, vname))
        else:
            out += [(p, v) for v in p.variants]
    return out
