"""The model's boundary: z3's own exceptions never leave ``ethvoip.model``.

A :class:`z3.Z3Exception` out of an entry point (a sort mismatch in the encoding, a solver
failure) is turned into :class:`~ethvoip.spec.errors.SolverError`, a
:class:`~ethvoip.spec.errors.ModelError`, so callers catch one error root and never import
z3 to do it.  Never a verdict: the caller sees an error, not "no attack".
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import z3

from ethvoip.spec.errors import SolverError

P = ParamSpec("P")
R = TypeVar("R")


def solver_boundary(fn: Callable[P, R]) -> Callable[P, R]:
    """Wrap ``fn`` so that a :class:`z3.Z3Exception` it raises becomes :class:`SolverError`."""

    @functools.wraps(fn)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except z3.Z3Exception as exc:
            raise SolverError(f"z3 failed in {fn.__qualname__}: {exc}") from exc

    return wrapped
