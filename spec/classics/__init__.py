"""Classic protocols of the literature, written in the spec language, verdicts pinned.

One module per protocol, each defining ``PROTOCOL``, its source cited in the docstring and
its textbook verdicts in each variant's ``expected``.  :data:`PROTOCOLS` lists them by
name, found by listing this package (a module whose name starts with ``_`` is not a
protocol): adding a classic is adding a file.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import MappingProxyType

from ethvoip.spec.protocol import Protocol


def _load() -> dict[str, Protocol]:
    out: dict[str, Protocol] = {}
    for m in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if m.name.startswith("_"):
            continue
        p = importlib.import_module(f"{__name__}.{m.name}").PROTOCOL
        assert isinstance(p, Protocol) and p.name not in out, m.name
        out[p.name] = p
    return out


PROTOCOLS: MappingProxyType[str, Protocol] = MappingProxyType(_load())
