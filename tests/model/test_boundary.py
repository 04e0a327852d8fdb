"""z3's own exceptions are wrapped at the model's boundary into a ModelError."""

from __future__ import annotations

import pytest
import z3

from ethvoip.model import export, lifecycle, search
from ethvoip.model.boundary import solver_boundary
from ethvoip.spec.errors import ModelError, SolverError


def test_a_z3_exception_leaves_the_model_as_solver_error() -> None:
    @solver_boundary
    def ill_sorted() -> object:
        return z3.Int("x") == z3.StringVal("a")  # z3 refuses: sort mismatch

    with pytest.raises(SolverError) as info:
        ill_sorted()
    assert isinstance(info.value, ModelError)
    assert isinstance(info.value.__cause__, z3.Z3Exception)


def test_other_errors_pass_through_unchanged() -> None:
    @solver_boundary
    def bad() -> None:
        raise ModelError("not z3's")

    with pytest.raises(ModelError) as info:
        bad()
    assert type(info.value) is ModelError


@pytest.mark.parametrize(
    "entry",
    [
        search.check_variant,
        search.honest_run,
        lifecycle.check,
        lifecycle.prove_inductive,
        export.build_trace,
    ],
)
def test_every_entry_point_is_behind_the_boundary(entry: object) -> None:
    assert getattr(entry, "__wrapped__", None) is not None
