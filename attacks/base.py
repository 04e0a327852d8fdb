"""What an attack reproduction is and what it reports.

An :class:`Attack` runs the attack on the paper variant of the concrete code, then the same
adversary against the hardened variant, and returns an :class:`AttackResult`: the narrated
steps, what the intruder ends with, and which check of the hardened variant rejected it.
:func:`trace_attack` builds the handshake attacks from a model trace (replayed by
:mod:`ethvoip.attacks.replay`); the contract attacks build their results themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ethvoip.attacks.predict import predict_rejection
from ethvoip.attacks.replay import Replay, outcome, replay
from ethvoip.spec import trace as tracefmt
from ethvoip.spec.errors import Check, ConformanceError, EthVoipError, Refused
from ethvoip.spec.trace import Trace


def _traces() -> Path:
    """A source checkout's tests/traces, else the installed wheel's copy of it, the package
    ``ethvoip.traces`` (pyproject.toml) beside this one."""
    here = Path(__file__).resolve().parents[1]
    source = here / "tests" / "traces"
    return source if source.is_dir() else here / "traces"


#: Where the committed model traces live (see docs/attacks).
TRACES = _traces()


@dataclass(frozen=True)
class Line:
    """One narrated step: the step label, who acts, and what happens."""

    label: str
    actor: str
    text: str

    def as_json(self) -> dict[str, str]:
        return {"label": self.label, "actor": self.actor, "text": self.text}


@dataclass
class AttackResult:
    name: str
    protocol: str
    paper_reproduced: bool
    hardened_blocked: bool
    blocked_by: str
    steps: list[Line] = field(default_factory=list)
    hardened_steps: list[Line] = field(default_factory=list)
    intruder_ends_with: str = ""
    #: the checks of the hardened variant that refused the adversary, in the order they did
    #: (empty when nothing refused: an attack stopped by what is absent, or not stopped)
    checks: tuple[Check, ...] = ()

    @property
    def ok(self) -> bool:
        return self.paper_reproduced and self.hardened_blocked

    @property
    def check(self) -> Check | None:
        """The check that refused, when exactly one did."""
        return self.checks[0] if len(self.checks) == 1 else None

    @classmethod
    def of_halves(
        cls,
        name: str,
        protocol: str,
        paper: tuple[bool, list[Line], str],
        hardened: Blocked,
    ) -> AttackResult:
        """The result of an attack run in two halves: ``paper`` is (reproduced, steps, what
        the intruder ends with), ``hardened`` is (blocked, steps, which check stopped it, or
        why nothing did, the checks that refused)."""
        reproduced, steps, ends = paper
        blocked, hardened_steps, why, checks = hardened
        return cls(
            name=name,
            protocol=protocol,
            paper_reproduced=reproduced,
            hardened_blocked=blocked,
            blocked_by=why if blocked else "nothing: " + why,
            steps=steps,
            hardened_steps=hardened_steps,
            intruder_ends_with=ends,
            checks=checks,
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "protocol": self.protocol,
            "paper_reproduced": self.paper_reproduced,
            "hardened_blocked": self.hardened_blocked,
            "blocked_by": self.blocked_by,
            "check": self.check.value if self.check is not None else None,
            "checks": [c.value for c in self.checks],
            "intruder_ends_with": self.intruder_ends_with,
            "steps": [s.as_json() for s in self.steps],
            "hardened_steps": [s.as_json() for s in self.hardened_steps],
        }


#: What the hardened half of an attack returns: (blocked, steps, which check stopped it or
#: why nothing did, the checks that refused, in order).
Blocked = tuple[bool, list[Line], str, tuple[Check, ...]]


@dataclass(frozen=True)
class Attack:
    """An attack script.  ``checks`` are the named checks
    (:mod:`ethvoip.spec.checknames`) whose refusal its hardened half shows on the concrete
    code: the join with the model's ablation in the docs' table of checks."""

    name: str
    protocol: str
    title: str
    run: Callable[[], AttackResult]
    checks: tuple[str, ...] = ()

    def main(self) -> int:
        """``python -m`` on the attack's module: ``ethvoip attack`` with this attack alone."""
        from ethvoip.attacks.runner import main

        return main([self.name])


def load_trace(stem: str) -> Trace:
    path = TRACES / f"{stem}.json"
    if not path.exists():
        raise ConformanceError(
            f"model trace {path} is missing: run `ethvoip prove --traces-dir tests/traces` "
            "in a source checkout"
        )
    return tracefmt.load(path)


def narrate(r: Replay) -> list[Line]:
    """The replayed steps in words, with the symbolic term and the intruder's actions."""
    out: list[Line] = []
    for s in r.steps:
        size = f" ({len(s.data)} bytes)" if s.data is not None else ""
        term = str(s.term) if s.term is not None else "(rejected)"
        match s.action:
            case "send":
                text = f"sends {term}{size}"
            case "lookup":
                text = f"looks up the key store: {term}"
            case _:
                how = "forwarded as is"
                if s.derivation is not None:
                    how = "; ".join(s.intruder) or "e builds it from public parts and what he saw"
                text = f"receives {term}{size} [{how}]"
        out.append(Line(s.label, s.actor, text))
    if r.rejection is not None:
        rej = r.rejection
        out.append(Line(rej.label, r.actor(rej.run), f"REJECTS: {rej.describe()}"))
    return out


def refused_by(error: BaseException | None) -> tuple[Check, ...]:
    """The check a refusal names, as a one-element tuple; () for anything else."""
    return (error.check,) if isinstance(error, Refused) else ()


#: A hand-built hardened half: (blocked, by what, the narrated steps, the checks that refused).
Attempt = tuple[bool, str, list[Line], tuple[Check, ...]]


def last_step(
    step: Callable[[], object],
    at: tuple[str, str, str],
    lines: list[Line],
    check: Check,
    accepted: str,
) -> Attempt:
    """The adversary's last ``step`` against hardened, blocked only when ``check`` refuses it.

    ``at`` is (step label, acting run, what the refusal is called in the narration);
    ``accepted`` says what went wrong if nothing refused."""
    label, actor, rejects = at
    try:
        step()
    except EthVoipError as exc:
        why = f"{label}: {type(exc).__name__}: {exc}"
        lines.append(Line(label, actor, f"{rejects}: {why}"))
        return refused_by(exc) == (check,), why, lines, refused_by(exc)
    return False, f"nothing: {accepted}", lines, ()


def trace_attack(name: str, trace: Trace, check: Check | None) -> AttackResult:
    """Replay ``trace`` on paper, then its strategy on hardened; ``check`` is the check
    expected to refuse it at the step the spec's semantics predicts (None: any refusal
    there, for an attack that decides ``hardened_blocked`` itself)."""
    paper = replay(trace)
    got = outcome(paper)
    hard = replay(trace, variant="hardened")
    predicted = predict_rejection(trace, "hardened")
    rej = hard.rejection
    blocked = (
        rej is not None
        and predicted is not None
        and (rej.run, rej.label) == (predicted.run, predicted.label)
        and (check is None or refused_by(rej.error) == (check,))
    )
    ends = got.summary
    if got.intruder_holds is not None:
        ends += f" = {got.intruder_holds.hex()}"
    return AttackResult(
        name=name,
        protocol=f"{trace.protocol} (model trace {trace.protocol}.{trace.variant}.{trace.claim})",
        paper_reproduced=got.reproduced,
        hardened_blocked=blocked,
        blocked_by=rej.describe() if rej is not None else "nothing: the strategy went through",
        steps=narrate(paper),
        hardened_steps=narrate(hard),
        intruder_ends_with=ends,
        checks=refused_by(rej.error if rej is not None else None),
    )
