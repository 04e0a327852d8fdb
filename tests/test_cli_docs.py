"""docs/cli.rst tells the truth about the command line: every option, every exit status, and
the schema of ``prove --json`` checked against real output."""

from __future__ import annotations

import argparse
import importlib
import json
import re
from pathlib import Path
from typing import Any

import pytest

from ethvoip.attacks.cli import COMMANDS, PARSERS, main
from ethvoip.spec import cliargs

DOCS = Path(__file__).resolve().parent.parent / "docs"
PAGE = (DOCS / "cli.rst").read_text(encoding="utf-8")


def _parser(name: str) -> argparse.ArgumentParser:
    module = importlib.import_module(PARSERS.get(name, COMMANDS[name][0]))
    parser: argparse.ArgumentParser = module.parser()
    return parser


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_option_is_documented(name: str) -> None:
    assert f"``ethvoip {name}``\n" in PAGE  # its section
    section = PAGE.split(f"``ethvoip {name}``\n", 1)[1].split("\n``ethvoip ", 1)[0]
    for action in _parser(name)._actions:
        if action.help == argparse.SUPPRESS:
            continue
        for option in action.option_strings:
            if option in ("-h", "--help"):
                continue
            assert f"``{option}" in section, f"ethvoip {name} {option} is not in docs/cli.rst"


def test_every_exit_status_is_in_the_table() -> None:
    lines = PAGE.split(".. list-table:: Exit statuses", 1)[1].splitlines()[1:]
    table = []
    for line in lines:  # the directive's body: indented lines and blank ones
        if line and not line.startswith("   "):
            break
        table.append(line)
    listed = [int(n) for n in re.findall(r"^   \* - (\d+)$", "\n".join(table), re.M)]
    statuses = [cliargs.OK, cliargs.FAILED, cliargs.USAGE, cliargs.ENVIRONMENT]
    assert listed == [*statuses, cliargs.INTERRUPTED, cliargs.STDOUT_CLOSED]


def test_max_runs_limit_is_the_documented_one() -> None:
    from ethvoip.model.bounds import DEFAULT_MAX_RUNS, MAX_RUNS_LIMIT

    assert f"from 1 to {MAX_RUNS_LIMIT} (default {DEFAULT_MAX_RUNS})" in " ".join(PAGE.split())


def test_passphrase_variable_named_by_serve_is_the_one_read() -> None:
    from ethvoip.impl.service import cli, keyvault

    assert cli.PASSPHRASE_ENV == keyvault.PASSPHRASE_ENV


def _check(value: Any, schema: dict[str, Any], where: str = "$") -> None:
    """The part of JSON Schema that prove.schema.json uses: type, enum, required,
    properties, additionalProperties: false, items."""
    kinds = {
        "object": dict,
        "array": list,
        "string": str,
        "number": (int, float),
        "integer": int,
        "boolean": bool,
        "null": type(None),
    }
    if "enum" in schema:
        assert value in schema["enum"], where
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        ok = any(
            isinstance(value, kinds[t]) and not (t in ("integer", "number") and value is True)
            for t in types
        )
        assert ok and not (isinstance(value, bool) and "boolean" not in types), where
    if isinstance(value, dict):
        props = schema.get("properties", {})
        assert set(schema.get("required", [])) <= set(value), where
        if schema.get("additionalProperties") is False:
            assert set(value) <= set(props), (where, set(value) - set(props))
        for key, sub in props.items():
            if key in value:
                _check(value[key], sub, f"{where}.{key}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            _check(item, schema["items"], f"{where}[{i}]")


def test_prove_json_follows_its_documented_schema(capsys: pytest.CaptureFixture[str]) -> None:
    schema = json.loads((DOCS / "cli" / "prove.schema.json").read_text(encoding="utf-8"))
    assert main(["prove", "--json", "--max-runs", "2", "mikey_key_transport"]) == 0
    out = json.loads(capsys.readouterr().out)
    _check(out, schema)
    rows = out["results"]
    assert {r["verdict"] for r in rows} == {"attack", "no attack within bound"}
    assert any(r["trace"] is not None for r in rows)  # the nullable fields both ways
    with pytest.raises(AssertionError):  # and the checker itself can fail
        _check({"results": [{**rows[0], "extra": 1}]}, schema)


def test_prove_unbounded_json_follows_its_documented_schema(
    capsys: pytest.CaptureFixture[str],
) -> None:
    schema = json.loads((DOCS / "cli" / "prove.schema.json").read_text(encoding="utf-8"))
    assert main(["prove", "--unbounded", "--json", "mikey_key_transport"]) == 0
    out = json.loads(capsys.readouterr().out)
    _check(out, schema)
    rows = out["unbounded"]
    assert {r["verdict"] for r in rows} == {"proved", "proved non-injective", "cannot prove"}
    with pytest.raises(AssertionError):  # an unknown verdict is refused
        _check({"results": [], "unbounded": [{**rows[0], "verdict": "secure"}]}, schema)
