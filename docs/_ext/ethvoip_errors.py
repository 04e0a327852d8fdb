"""The ``ethvoip-errors`` directive: the error tree and every check, read from the code.

``.. ethvoip-errors::`` renders the class tree under
:class:`~ethvoip.spec.errors.EthVoipError` (from the classes themselves) and a table of every
:class:`~ethvoip.spec.errors.Check`: its value, what it refuses (the member's ``doc``) and the
modules that raise it (found by reading the package sources for ``Check.NAME`` and for
``raise Cls(`` of a refusal class whose default check it is).  Nothing is written twice, so
the page cannot drift from the code.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective

from ethvoip.spec import errors
from ethvoip.spec.errors import Check, EthVoipError, Refused

ROOT = Path(__file__).resolve().parents[2]
#: Where refusals are raised: the concrete code.
SOURCES = ("impl",)
#: Modules that define refusal classes of their own (imported so the tree shows them).
DEFINERS = (
    "ethvoip.impl.call.media",
    "ethvoip.impl.call.openssl_psk",
    "ethvoip.impl.call.signaling",
    "ethvoip.impl.call.tlspsk",
    "ethvoip.impl.chain.sync_committee",
    "ethvoip.impl.chain.trust",
    "ethvoip.impl.handshake.sts",
    "ethvoip.impl.sip.call_states",
    "ethvoip.impl.sip.codec",
)


def _children(cls: type[BaseException]) -> list[type[BaseException]]:
    """The classes whose first base is ``cls`` (each class is shown once, under its first
    base; its other bases are named beside it)."""
    mine = [c for c in cls.__subclasses__() if c.__bases__[0] is cls]
    return sorted(mine, key=lambda c: (c.__module__ != "ethvoip.spec.errors", c.__name__))


def tree_lines(root: type[BaseException] = EthVoipError, depth: int = 0) -> list[str]:
    """The tree as a nested bullet list; a refusal with a default check says which."""
    out = []
    for cls in _children(root):
        check = cls.__dict__.get("check")
        mixes = [b.__name__ for b in cls.__bases__ if b is not root]
        note = f" (also {', '.join(mixes)})" if mixes else ""
        note += f" → ``{check.value}``" if isinstance(check, Check) else ""
        where = cls.__module__.removeprefix("ethvoip.")
        # a blank line after each item: reStructuredText nests a list only after one
        out += [f"{'  ' * depth}* ``{cls.__name__}`` [{where}]{note}", ""]
        out += tree_lines(cls, depth + 1)
    return out


def _default_checks() -> dict[str, Check]:
    """Refusal class name -> the check it names unless told otherwise."""
    out: dict[str, Check] = {}
    todo: list[type[BaseException]] = [Refused]
    while todo:
        cls = todo.pop()
        check = getattr(cls, "check", None)
        if isinstance(check, Check):
            out[cls.__name__] = check
        todo += cls.__subclasses__()
    return out


def _module(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    return ".".join(rel.parts)


def where_raised() -> dict[Check, list[str]]:
    """Each check -> the modules (``impl.handshake.psk``, ...) that name or raise it."""
    defaults = _default_checks()
    found: dict[Check, set[str]] = {c: set() for c in Check}
    files = [
        p
        for s in SOURCES
        for p in ((ROOT / s).rglob("*.py") if (ROOT / s).is_dir() else [ROOT / s])
    ]
    for path in files:
        text = path.read_text(encoding="utf-8")
        for m in re.finditer(r"\bCheck\.([A-Z_]+)\b", text):
            if m.group(1) in Check.__members__:
                found[Check[m.group(1)]].add(_module(path))
        for m in re.finditer(r"\braise (\w+)\(", text):
            if m.group(1) in defaults:
                found[defaults[m.group(1)]].add(_module(path))
    return {c: sorted(ms) for c, ms in found.items()}


def checks_rst() -> list[str]:
    """The table of checks as a reStructuredText list-table."""
    out = [".. list-table::", "   :header-rows: 1", "   :widths: 18 47 35", ""]
    out += ["   * - check", "     - refuses", "     - raised in"]
    for check, modules in where_raised().items():
        out.append(f"   * - ``{check.value}``")
        out.append(f"     - {check.doc}")
        out.append(f"     - {', '.join(f'``{m}``' for m in modules) or '--'}")
    return out


class ErrorsDirective(SphinxDirective):
    """``.. ethvoip-errors::``: the tree, then the checks."""

    def run(self) -> list[nodes.Node]:
        for name in DEFINERS:
            importlib.import_module(name)
        self.env.note_dependency(errors.__file__ or "")
        text = ["The tree (``→`` a refusal's default check):", "", *tree_lines(), ""]
        text += ["Every check, and where it is raised:", "", *checks_rst()]
        node = nodes.section()
        node.document = self.state.document
        self.state.nested_parse(StringList(text, "ethvoip-errors"), self.content_offset, node)
        return list(node.children)


def setup(app: Any) -> dict[str, Any]:
    app.add_directive("ethvoip-errors", ErrorsDirective)
    return {"parallel_read_safe": True, "version": "1"}
