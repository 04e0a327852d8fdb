"""The steps of a role: what it sends, what it accepts, what it looks up in the key directory."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from ethvoip.spec.terms import Term, Var


@dataclass(frozen=True, slots=True)
class Send:
    """The role sends ``term`` on the network (which the intruder controls)."""

    label: str
    term: Term
    note: str = ""
    checks: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Recv:
    """The role receives a message and accepts it only if it matches ``pattern``.

    ``once`` lists terms that the agent keeps in a replay cache across all its runs of this
    role: a message whose ``once`` values were already accepted is rejected.
    """

    label: str
    pattern: Term
    once: tuple[Term, ...] = ()
    note: str = ""
    checks: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Lookup:
    """The role asks the key directory for the public key registered under ``name``."""

    label: str
    name: Term
    key: Var
    note: str = ""
    checks: tuple[str, ...] = ()


Step: TypeAlias = Send | Recv | Lookup

# ``checks`` on a step: the named checks (:mod:`ethvoip.spec.checknames`) that this step of a
# hardened variant adds relative to the paper's; a step of the variant built without one of
# them differs from the hardened step (tests/spec/test_ablation.py holds the two together).
# They name design decisions, not semantics: they are left out of :func:`describe`, so the
# spec digest (and every committed trace) is the same with or without them.
