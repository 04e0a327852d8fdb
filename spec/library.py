"""The library of classic protocols (:mod:`ethvoip.spec.classics`), found by listing it.

No hand-kept list: every module of the package that does not start with ``_`` is a classic
and must define ``PROTOCOL``.  Names are unique, and distinct from the catalogue's, so that
``ethvoip prove NAME`` means one protocol.  A classic that does not load is a bug of the
library and raises (never silently skipped).
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from types import MappingProxyType

from ethvoip.spec import classics as _package
from ethvoip.spec.catalogue import CATALOGUE
from ethvoip.spec.errors import MalformedProtocol
from ethvoip.spec.protocol import Protocol


def modules() -> list[str]:
    """The classics' module names, sorted."""
    return sorted(
        m.name for m in pkgutil.iter_modules(_package.__path__) if not m.name.startswith("_")
    )


@functools.cache
def classics() -> MappingProxyType[str, Protocol]:
    """Every classic by protocol name, in module-name order."""
    out: dict[str, Protocol] = {}
    for name in modules():
        module = importlib.import_module(f"{_package.__name__}.{name}")
        p = getattr(module, "PROTOCOL", None)
        if not isinstance(p, Protocol):
            raise MalformedProtocol(f"classic {name} defines no PROTOCOL of type Protocol")
        if p.name in out or p.name in CATALOGUE:
            raise MalformedProtocol(f"classic {name}: protocol name {p.name!r} is taken")
        out[p.name] = p
    return MappingProxyType(out)
