"""``ethvoip prove --ablate key_lifecycle``: each named guard of the hardened life-cycle table
dropped in turn (:func:`ethvoip.spec.lifecycle.without`), every claim decided by the
life-cycle checker (:mod:`ethvoip.model.lifecycle`: bounded search of
:data:`~ethvoip.model.lifecycle.SEARCH_STEPS` calls, then the inductive step where no attack is
found) and every attack trace replayed by the plain-Python re-checker
(:mod:`ethvoip.spec.lifecycle_eval`) on the derived table.

A removal reopens the claims that get an attack; otherwise it is not needed within the bound,
or, where the inductive invariant still holds without the guard, not needed for executions of
any length in this model.  No pair pass here (each removal is a few seconds of solving): a
guard not needed alone says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ethvoip.model.lifecycle import SEARCH_STEPS, Result, check
from ethvoip.spec import lifecycle as LC
from ethvoip.spec import lifecycle_trace as LT
from ethvoip.spec.errors import TraceError
from ethvoip.spec.lifecycle import Expected
from ethvoip.spec.lifecycle_eval import evaluate

NAME = "key_lifecycle"


@dataclass(frozen=True)
class LifecycleRemoval:
    """One named guard dropped from the hardened table, and what the checker says of it."""

    check: str
    derived: LC.LifecycleVariant
    results: tuple[Result, ...]
    protocol: str = NAME
    variant: str = "hardened"
    bound: int = SEARCH_STEPS

    def confirmed(self, r: Result) -> bool:
        if r.trace is None:
            return False
        try:
            return evaluate(LT.loads(LT.dumps(r.trace)), variant=self.derived).violated
        except TraceError:
            return False

    @property
    def reopened(self) -> tuple[Result, ...]:
        return tuple(r for r in self.results if r.verdict is Expected.ATTACK)

    @property
    def status(self) -> str:
        from ethvoip.model.ablate import NOT_NEEDED, REOPENS, UNKNOWN

        if self.reopened:
            return REOPENS
        if any(r.verdict is Expected.UNKNOWN for r in self.results):
            return UNKNOWN
        return NOT_NEEDED

    @property
    def ok(self) -> bool:
        from ethvoip.model.ablate import UNKNOWN

        return self.status != UNKNOWN and all(self.confirmed(r) for r in self.reopened)

    def text(self) -> str:
        if self.reopened:
            return ", ".join(
                f"{r.question.name} ({r.steps} calls)"
                + ("" if self.confirmed(r) else " UNCONFIRMED by the re-checker")
                for r in self.reopened
            )
        if self.status != "not needed within bound":
            return self.status
        if all(r.inductive for r in self.results if r.verdict is Expected.NO_ATTACK):
            return f"not needed: no attack in {self.bound} calls, inductive (any length)"
        return f"not needed alone within {self.bound} calls (not inductive without it)"

    def trace_files(self) -> dict[str, str]:
        from ethvoip.model.lifecycle_cli import files

        out: dict[str, str] = {}
        for r in self.reopened:
            assert r.trace is not None
            stem = f"{NAME}/{NAME}.{self.derived.name}.{r.question.name}"
            out.update(files(r.trace, stem, self.derived))
        return out

    def as_json(self, *, traces: bool = True) -> dict[str, Any]:
        return {
            "protocol": NAME,
            "variant": self.variant,
            "check": self.check,
            "derived": self.derived.name,
            "status": self.status,
            "bound": self.bound,
            "error": "",
            "ok": self.ok,
            "claims": [
                {
                    "claim": r.question.name,
                    "verdict": r.verdict.value,
                    "runs": r.steps,
                    "seconds": round(r.seconds, 4),
                    "reason": r.reason,
                    "confirmed": self.confirmed(r) if r.verdict is Expected.ATTACK else None,
                    "inductive": r.inductive,
                    **(
                        {"trace": LT.to_dict(r.trace) if r.trace is not None else None}
                        if traces
                        else {}
                    ),
                }
                for r in self.results
            ],
            "backed_by": [],
        }


def ablate_lifecycle(
    check_id: str, *, generated_by: str = "ethvoip prove --ablate key_lifecycle"
) -> LifecycleRemoval:
    """Drop the guards of ``check_id`` from the hardened table and decide every claim."""
    derived = LC.without(LC.variant("hardened"), check_id)
    return LifecycleRemoval(check_id, derived, tuple(check(derived, generated_by=generated_by)))


def ablate_all(generated_by: str) -> list[LifecycleRemoval]:
    return [
        ablate_lifecycle(c, generated_by=generated_by) for c in LC.checks(LC.variant("hardened"))
    ]
