"""Mutation operators that remove or weaken a check, over Python source (AST-located, text-edited).

A *check* is an ``if`` whose body raises (the project's refusal idiom), a verification call
whose truth decides (``hmac.compare_digest``, ``verify...``), or a call statement that raises
when its check fails (``_verify_...(...)``).  Each operator yields :class:`Mutant` s:

``never-raise``   the ``if``'s condition becomes ``False``: the refusal can no longer happen
``relax``         one comparison of the condition loses its boundary (``<`` -> ``<=`` ...)
``negate``        ``==`` <-> ``!=`` in the condition
``drop-or``       one disjunct of ``if a or b: raise`` is dropped (the check covers less)
``verify-true``   a verification call read as a truth value becomes ``True``
``drop-call``     a check-call statement becomes a no-op

The edit replaces the node's exact source span (from the AST positions) and pads the
replacement with newlines inside parentheses, so every other line keeps its number and the
comments stay: a traceback from a mutant points at the original line.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass

#: A call whose result decides a check when read as a truth value.
VERIFY_CALL = re.compile(r"^(compare_digest|_?verify\w*|_?is_valid\w*|_?valid\w*|_?check\w*)$")
#: A call statement that raises when its check fails (its result is not used).
CHECK_STATEMENT = re.compile(r"^_?(verify|check|require|ensure|validate|expect|refuse)\w*$")

_RELAX: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
}
_NEGATE: dict[type[ast.cmpop], type[ast.cmpop]] = {ast.Eq: ast.NotEq, ast.NotEq: ast.Eq}


@dataclass(frozen=True)
class Mutant:
    """One changed copy of one module: where, which operator, what it does, the new text."""

    path: str  # relative to the repository root
    line: int
    end_line: int  # the changed span's last line: coverage selects the tests that ran any of it
    function: str  # qualified name of the enclosing function ("" at module level)
    operator: str
    original: str  # the source text that was replaced (one line, shortened)
    replacement: str
    raises: str  # the exception the check raises ("" when not a raising if)
    source: str  # the whole mutated module

    @property
    def key(self) -> str:
        """Stable across edits elsewhere in the file (no line number): for the verdict file."""
        return f"{self.path}::{self.function}::{self.operator}::{self.original}"


def _callee(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


def _raised(body: list[ast.stmt]) -> str:
    for stmt in body:
        if isinstance(stmt, ast.Raise) and stmt.exc is not None:
            exc = stmt.exc
            if isinstance(exc, ast.Call):
                exc = exc.func
            return ast.unparse(exc)
    return ""


def _raises(node: ast.If) -> bool:
    return any(isinstance(stmt, ast.Raise) for stmt in node.body)


class _Sites(ast.NodeVisitor):
    """Collects (node, operator, replacement text, raised exception, function) candidates."""

    def __init__(self) -> None:
        self.sites: list[tuple[ast.AST, str, str, str, str]] = []
        self._scope: list[str] = []
        self._returns_bool: list[bool] = []

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self._scope.append(node.name)
        returns = node.returns
        self._returns_bool.append(isinstance(returns, ast.Name) and returns.id == "bool")
        self.generic_visit(node)
        self._scope.pop()
        self._returns_bool.pop()

    visit_FunctionDef = _function
    visit_AsyncFunctionDef = _function

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._scope.append(node.name)
        self.generic_visit(node)
        self._scope.pop()

    def _add(self, node: ast.AST, operator: str, text: str, raises: str = "") -> None:
        self.sites.append((node, operator, text, raises, ".".join(self._scope)))

    def visit_If(self, node: ast.If) -> None:
        if _raises(node):
            raised = _raised(node.body)
            self._add(node.test, "never-raise", "False", raised)
            for cmp in (n for n in ast.walk(node.test) if isinstance(n, ast.Compare)):
                for i, op in enumerate(cmp.ops):
                    for table, name in ((_RELAX, "relax"), (_NEGATE, "negate")):
                        new = table.get(type(op))
                        if new is not None:
                            ops = [*cmp.ops[:i], new(), *cmp.ops[i + 1 :]]
                            changed = ast.Compare(cmp.left, ops, cmp.comparators)
                            self._add(cmp, name, ast.unparse(changed), raised)
            if isinstance(node.test, ast.BoolOp) and isinstance(node.test.op, ast.Or):
                values = node.test.values
                for i in range(len(values)):
                    rest = [*values[:i], *values[i + 1 :]]
                    text = ast.unparse(ast.BoolOp(ast.Or(), rest)) if len(rest) > 1 else None
                    self._add(node.test, "drop-or", text or ast.unparse(rest[0]), raised)
        self._verify_calls(node.test, _raised(node.body))
        self.generic_visit(node)

    def _verify_calls(self, expr: ast.expr, raised: str = "") -> None:
        for call in (n for n in ast.walk(expr) if isinstance(n, ast.Call)):
            if VERIFY_CALL.match(_callee(call)):
                self._add(call, "verify-true", "True", raised)

    def visit_Assert(self, node: ast.Assert) -> None:
        self._verify_calls(node.test)
        self.generic_visit(node)

    def visit_Return(self, node: ast.Return) -> None:
        if node.value is not None and self._returns_bool and self._returns_bool[-1]:
            self._verify_calls(node.value)
        self.generic_visit(node)

    def visit_Expr(self, node: ast.Expr) -> None:
        if isinstance(node.value, ast.Call) and CHECK_STATEMENT.match(_callee(node.value)):
            self._add(node.value, "drop-call", "None")
        self.generic_visit(node)


def _offsets(source: str) -> list[int]:
    starts, pos = [0], 0
    for line in source.splitlines(keepends=True):
        pos += len(line.encode())
        starts.append(pos)
    return starts


def _replace(source: str, node: ast.AST, text: str) -> tuple[str, str]:
    """``source`` with ``node``'s span replaced by ``(text)``, line count kept; the old span."""
    raw = source.encode()
    starts = _offsets(source)
    lineno, end = node.lineno, node.end_lineno  # type: ignore[attr-defined]
    assert end is not None
    start = starts[lineno - 1] + node.col_offset  # type: ignore[attr-defined]
    stop = starts[end - 1] + node.end_col_offset  # type: ignore[attr-defined]
    old = raw[start:stop].decode()
    new = "(" + text + "\n" * (end - lineno) + ")"
    return (raw[:start] + new.encode() + raw[stop:]).decode(), old


def _one_line(text: str, limit: int = 120) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def mutants(path: str, source: str) -> Iterator[Mutant]:
    """Every check-removing or check-weakening mutant of one module, in source order."""
    tree = ast.parse(source)
    sites = _Sites()
    sites.visit(tree)
    original = ast.dump(tree)
    for node, operator, text, raises, function in sites.sites:
        changed, old = _replace(source, node, text)
        if ast.dump(ast.parse(changed)) == original:  # pragma: no cover - defensive
            continue
        yield Mutant(
            path=path,
            line=node.lineno,  # type: ignore[attr-defined]
            end_line=node.end_lineno or node.lineno,  # type: ignore[attr-defined]
            function=function,
            operator=operator,
            original=_one_line(old),
            replacement=_one_line(text),
            raises=raises,
            source=changed,
        )
