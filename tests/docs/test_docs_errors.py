"""The generated error page covers every check and every refusal class."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import ethvoip_errors as page

import ethvoip.impl
from ethvoip.spec.errors import Check, EthVoipError, Refused


def test_every_check_is_raised_somewhere_in_the_code() -> None:
    unused = [c.value for c, modules in page.where_raised().items() if not modules]
    assert not unused, f"checks nothing raises: {unused}"


def test_the_table_lists_every_check_with_its_doc() -> None:
    text = "\n".join(page.checks_rst())
    for c in Check:
        assert f"``{c.value}``" in text and c.doc in text


def test_every_module_defining_an_error_class_is_shown() -> None:
    definers = set()
    for mod in pkgutil.walk_packages(ethvoip.impl.__path__, "ethvoip.impl."):
        module = importlib.import_module(mod.name)
        source = Path(module.__file__ or "").read_text(encoding="utf-8")
        for name in re.findall(r"^class (\w+)\(", source, re.M):
            cls = getattr(module, name)
            if isinstance(cls, type) and issubclass(cls, EthVoipError):
                definers.add(mod.name)
    assert definers == set(page.DEFINERS)
    for name in page.DEFINERS:
        importlib.import_module(name)
    tree = "\n".join(page.tree_lines())
    todo: list[type[BaseException]] = [Refused]
    while todo:
        cls = todo.pop()
        assert f"``{cls.__name__}``" in tree
        todo += cls.__subclasses__()
