"""Mutation operators over the contracts' Solidity source: remove or weaken each revert check.

The contracts refuse with ``if (cond) revert E(...);`` or ``if (cond) { revert E(...); }``
(they use no ``require``; the scanner would have to learn it if one appears).  A small
scanner (balanced parentheses, comments and strings skipped) finds each such check and
yields, like the Python
operators: ``never-revert`` (the condition becomes ``false``), ``negate`` (``!(cond)``),
``drop-or`` (one ``||`` disjunct dropped), ``relax`` (``<`` <-> ``<=``, ``>`` <-> ``>=``) and
``negate-cmp`` (``==`` <-> ``!=``) on one comparison of the condition.  Each mutant is compiled
by the project's ``contracts/compile.mjs`` in a scratch directory (see :mod:`.run`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

_IF = re.compile(r"\bif\s*\(")
_REVERT_AFTER = re.compile(r"\s*(\{\s*)?revert\b")
_CMP = re.compile(r"<<|>>|<=|>=|==|!=|<|>")
_SWAP = {"<": "<=", "<=": "<", ">": ">=", ">=": ">", "==": "!=", "!=": "=="}


@dataclass(frozen=True)
class SolMutant:
    """One changed copy of one contract source."""

    path: str
    line: int
    function: str
    operator: str
    original: str
    replacement: str
    raises: str  # the custom error reverted with
    source: str

    @property
    def key(self) -> str:
        return f"{self.path}::{self.function}::{self.operator}::{self.original}"


def _blank_comments(src: str) -> str:
    """``src`` with comments and string literals replaced by spaces (offsets kept)."""
    out = list(src)
    i, n = 0, len(src)
    while i < n:
        two = src[i : i + 2]
        if two == "//":
            j = src.find("\n", i)
            j = n if j < 0 else j
        elif two == "/*":
            j = src.find("*/", i + 2)
            j = n if j < 0 else j + 2
        elif src[i] == '"':
            j = i + 1
            while j < n and src[j] != '"':
                j += 2 if src[j] == "\\" else 1
            j += 1
        else:
            i += 1
            continue
        for k in range(i, min(j, n)):
            if out[k] != "\n":
                out[k] = " "
        i = j
    return "".join(out)


def _close(text: str, open_at: int) -> int:
    depth = 0
    for i in range(open_at, len(text)):
        if text[i] == "(":
            depth += 1
        elif text[i] == ")":
            depth -= 1
            if depth == 0:
                return i
    raise ValueError("unbalanced parentheses")


def _top_level(cond: str, pattern: re.Pattern[str]) -> list[tuple[int, int, str]]:
    """Matches of ``pattern`` in ``cond`` outside any parentheses: (start, end, text)."""
    depth, found = 0, []
    spans = {m.start(): m for m in pattern.finditer(cond)}
    i = 0
    while i < len(cond):
        ch = cond[i]
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0 and i in spans:
            m = spans[i]
            found.append((m.start(), m.end(), m.group()))
            i = m.end()
            continue
        i += 1
    return found


def _function_at(text: str, pos: int) -> str:
    names = list(re.finditer(r"\b(function|constructor|modifier)\s*(\w*)", text[:pos]))
    if not names:
        return ""
    m = names[-1]
    return m.group(2) or m.group(1)


def _flat(s: str) -> str:
    return " ".join(s.split())


def _variants(cond: str) -> Iterator[tuple[str, str]]:
    yield "never-revert", "false"
    yield "negate", f"!({cond.strip()})"
    ors = _top_level(cond, re.compile(r"\|\|"))
    if ors:
        bounds = [0, *(e for _, e, _ in ors)]
        ends = [*(s for s, _, _ in ors), len(cond)]
        parts = [cond[a:b].strip() for a, b in zip(bounds, ends, strict=True)]
        for i in range(len(parts)):
            rest = [p for j, p in enumerate(parts) if j != i]
            yield "drop-or", " || ".join(f"({p})" for p in rest)
    comparisons = [m for m in _CMP.finditer(cond) if m.group() in _SWAP]
    for m in comparisons:
        op = m.group()
        if op in ("==", "!=") and len(comparisons) == 1:
            continue  # the same as ``negate``
        new = cond[: m.start()] + _SWAP[op] + cond[m.end() :]
        yield ("relax" if op in ("<", "<=", ">", ">=") else "negate-cmp"), new


def mutants(path: str, source: str) -> Iterator[SolMutant]:
    """Every check-removing or check-weakening mutant of one contract source."""
    clean = _blank_comments(source)
    for m in _IF.finditer(clean):
        open_at = m.end() - 1
        close = _close(clean, open_at)
        after = _REVERT_AFTER.match(clean, close + 1)
        if after is None:
            continue
        err = re.match(r"\s*(\w+)", clean[after.end() :])
        raised = err.group(1) if err else ""
        cond = source[open_at + 1 : close]
        line = source.count("\n", 0, open_at) + 1
        for operator, text in _variants(cond):
            changed = source[: open_at + 1] + text + source[close:]
            yield SolMutant(
                path=path,
                line=line,
                function=_function_at(clean, m.start()),
                operator=operator,
                original=_flat(cond),
                replacement=_flat(text),
                raises=raised,
                source=changed,
            )
