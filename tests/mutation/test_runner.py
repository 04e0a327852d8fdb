"""The mutation runner itself: its operators find the checks, a mutant that a test notices is
killed and one no test notices survives, and the worktree file is never changed."""

from __future__ import annotations

import json
from pathlib import Path

from tests.mutation import operators, solidity
from tests.mutation.lines import LineMap
from tests.mutation.render import render
from tests.mutation.run import Worker

GATE = '''\
"""A fixture module with two checks."""


def admit(n: int) -> int:
    if n > 3:  # the boundary: admit(3) passes, admit(4) does not
        raise ValueError("too big")
    if verify(n) or n == -1:
        raise ValueError("refused")
    return n


def verify(n: int) -> bool:
    return n < 0
'''

# Refusal of 5 is tested, the boundary (3 admitted) is not: the relaxed mutant survives.
TESTS = """\
import pytest
from gate import admit


def test_big_is_refused():
    with pytest.raises(ValueError):
        admit(5)


def test_negative_is_refused():
    with pytest.raises(ValueError):
        admit(-2)


def test_small_is_admitted():
    assert admit(2) == 2
"""


def _by_op(found: list[operators.Mutant]) -> dict[tuple[int, str, str], operators.Mutant]:
    return {(m.line, m.operator, m.replacement): m for m in found}


def test_operators_find_each_check_and_keep_line_numbers() -> None:
    found = list(operators.mutants("gate.py", GATE))
    ops = _by_op(found)
    assert (5, "never-raise", "False") in ops
    assert (5, "relax", "n >= 3") in ops
    assert (7, "drop-or", "n == -1") in ops
    assert (7, "verify-true", "True") in ops
    assert (7, "negate", "n != -1") in ops
    for m in found:
        assert m.source.count("\n") == GATE.count("\n")
        assert m.raises == "ValueError"
    # the mutated text is where the AST said
    assert "if (False):  # the boundary" in ops[(5, "never-raise", "False")].source


def test_killed_and_survived_on_a_fixture_tree(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "gate.py").write_text(GATE)
    (tree / "test_gate.py").write_text(TESTS)
    logs = tmp_path / "logs"
    logs.mkdir()
    ops = _by_op(list(operators.mutants("gate.py", GATE)))
    worker = Worker(tree, logs, preload=False)
    try:
        base = worker.run(("test_gate.py",), 600, {}, {})
        never = worker.run(
            ("test_gate.py",), 600, {}, {"gate.py": ops[5, "never-raise", "False"].source}
        )
        relax = worker.run(
            ("test_gate.py",), 600, {}, {"gate.py": ops[5, "relax", "n >= 3"].source}
        )
        true = worker.run(
            ("test_gate.py",), 600, {}, {"gate.py": ops[7, "verify-true", "True"].source}
        )
    finally:
        worker.close()
    assert base["outcome"] == "survived"
    assert never["outcome"] == "killed"
    assert never["failed"] == ["test_gate.py::test_big_is_refused"]
    assert relax["outcome"] == "survived"
    assert true["outcome"] == "killed"  # verify() -> True refuses admit(2) too
    assert true["failed"] == ["test_gate.py::test_small_is_admitted"]
    assert (tree / "gate.py").read_text() == GATE  # restored after each mutant


def test_line_map_selects_the_tests_that_run_a_span(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "gate.py").write_text(GATE)
    (tree / "test_gate.py").write_text(TESTS)
    logs = tmp_path / "logs"
    logs.mkdir()
    data = tmp_path / "coverage"
    worker = Worker(tree, logs, preload=False)
    try:
        recorded = worker.run(
            ("test_gate.py",), 600, {}, {}, {"data": str(data), "modules": ["gate.py"]}
        )
    finally:
        worker.close()
    assert recorded["outcome"] == "survived"
    lines = LineMap(durations=recorded["durations"])
    lines.add_coverage(data, ["gate.py"])
    everyone = {f"test_gate.py::test_{n}" for n in ("big_is_refused", "negative_is_refused")}
    everyone |= {"test_gate.py::test_small_is_admitted"}
    assert set(lines.select("gate.py", 5, 5) or ()) == everyone
    assert lines.select("gate.py", 6, 6) == ["test_gate.py::test_big_is_refused"]
    assert lines.select("gate.py", 1, 1) is None  # ran at import, outside any test
    assert lines.select("gate.py", 20, 20) == []  # no such line: nothing runs it
    assert lines.seconds(("test_gate.py",)) == sum(recorded["durations"].values())
    # the arithmetic of the selection, not a timing: the deselected test's own recorded share
    durations = recorded["durations"]
    assert "test_gate.py::test_big_is_refused" in durations
    kept = sum(t for name, t in durations.items() if name != "test_gate.py::test_big_is_refused")
    assert lines.seconds(("test_gate.py", "--deselect=test_gate.py::test_big_is_refused")) == kept
    again = LineMap.from_json(lines.to_json("k"), "k")
    assert again is not None and again.lines == lines.lines
    assert LineMap.from_json(lines.to_json("k"), "other") is None


def test_solidity_checks_found_and_changed_in_place() -> None:
    src = (
        "contract C {\n"
        "    function f(uint a, uint b) external {\n"
        '        // if (a == 0) revert Comment();  "not a check"\n'
        "        if (a < b || b == 7) revert TooSmall(a);\n"
        "        if (a != 1) {\n"
        "            revert NotOne();\n"
        "        }\n"
        "        if (a > 9) { a = 9; }\n"
        "    }\n"
        "}\n"
    )
    found = list(solidity.mutants("C.sol", src))
    got = {(m.line, m.operator, m.replacement, m.raises) for m in found}
    assert (4, "never-revert", "false", "TooSmall") in got
    assert (4, "drop-or", "(b == 7)", "TooSmall") in got
    assert (4, "relax", "a <= b || b == 7", "TooSmall") in got
    assert (4, "negate-cmp", "a < b || b != 7", "TooSmall") in got
    assert (5, "negate", "!(a != 1)", "NotOne") in got
    assert all(m.line in (4, 5) for m in found)  # neither the comment nor the plain if
    assert all(m.function == "f" for m in found)
    never = next(m for m in found if m.line == 5 and m.operator == "never-revert")
    assert "if (false) {\n            revert NotOne();" in never.source


def test_render_lists_survivors_with_reasons() -> None:
    base = {"path": "impl/x.py", "function": "f", "original": "a < b", "killed_by": []}
    report = {
        "commit": "abc",
        "counts": {"equivalent": 1, "killed": 1, "survived": 1},
        "mutants": [
            base | {"line": 1, "operator": "relax", "replacement": "a <= b", "outcome": "survived"},
            base
            | {"line": 2, "operator": "never-raise", "replacement": "False", "outcome": "killed"}
            | {"killed_by": ["tests/t.py::test_a"]},
            base
            | {"line": 3, "operator": "negate", "replacement": "a", "outcome": "equivalent"}
            | {"reason": "both branches refuse"},
        ],
    }
    page = render(json.loads(json.dumps(report)))
    assert "``impl/x.py:1``" in page and "no test fails" in page
    assert "both branches refuse" in page
    assert "``tests/t.py``" in page


def test_plan_runs_the_covering_tests_near_first_then_the_whole_mapping() -> None:
    from tests.mutation.lines import split
    from tests.mutation.run import Job, plan

    by_line = {5: {"t/a.py::x", "t/b.py::y"}, 6: {"t/b.py::y"}, 9: {"", "t/a.py::x"}}
    lines = LineMap({"m.py": by_line}, {"t/a.py::x": 2.0, "t/b.py::y": 1.0}, {"m.py"})
    stages = (("t/a.py",), ("t/more",))

    def job(line: int, path: str = "m.py") -> Job:
        rec = {"kind": "python", "path": path, "line": line, "end_line": line}
        return Job("k", rec, {}, stages)

    assert plan(job(5), lines, []) == ((("t/a.py::x",), ("t/b.py::y",), *stages), 2)
    assert plan(job(6), lines, []) == ((("t/b.py::y",), *stages), 1)
    assert plan(job(6), lines, [], confirm=False) == ((("t/b.py::y",),), 1)  # a quick pass
    assert plan(job(7), lines, []) == ((), 0)  # executed by no test: nothing to run
    assert plan(job(9), lines, []) == (stages, None)  # also ran at import: no selection
    assert plan(job(5, "other.py"), lines, []) == (stages, None)  # not measured
    assert plan(job(5), lines, ["t/b.py"]) == ((("t/a.py::x",), *stages), 1)
    parts = split(lines, ["t/a.py", "t/b.py"])
    assert parts["t/b.py"].lines["m.py"] == {5: {"t/b.py::y"}, 6: {"t/b.py::y"}, 9: {""}}
    assert parts["t/a.py"].durations == {"t/a.py::x": 2.0}
