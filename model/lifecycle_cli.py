"""``ethvoip prove key_lifecycle``: the life-cycle checker's rows, traces and record.

Called by :mod:`ethvoip.model.cli` (``ethvoip prove`` runs it after the catalogue, or alone
with ``ethvoip prove key_lifecycle`` / ``key_lifecycle/v1``).  A row matches its expectation
(``LifecycleVariant.expected``) when the verdict is the same, an attack has the expected
number of calls, and a "no attack" expected to be proved inductively was.  Traces are written
to ``<traces-dir>/key_lifecycle/`` as JSON (``ethvoip-lifecycle-trace/1``), text and SVG.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ethvoip.model.lifecycle import SEARCH_STEPS, Result, check
from ethvoip.spec import lifecycle as LC
from ethvoip.spec import lifecycle_trace as LT
from ethvoip.spec.errors import TraceError, UnknownProtocol
from ethvoip.spec.lifecycle import Expect, Expected
from ethvoip.spec.lifecycle_eval import HONEST, build_honest, evaluate
from ethvoip.spec.msc import Event, render_msc
from ethvoip.spec.texttable import text_table

NAME = "key_lifecycle"
CONTRACT = "key store (+ service)"


@dataclass(frozen=True)
class LifecycleRow:
    variant: str
    result: Result
    expected: Expect

    @property
    def confirmed(self) -> bool:
        """An attack's trace is confirmed by the plain-Python re-checker (no z3)."""
        tr = self.result.trace
        if tr is None:
            return self.result.verdict is not Expected.ATTACK
        try:
            return evaluate(LT.loads(LT.dumps(tr))).violated
        except TraceError:
            return False

    @property
    def ok(self) -> bool:
        e, r = self.expected, self.result
        if e.verdict is not r.verdict or not self.confirmed:
            return False
        if e.verdict is Expected.ATTACK:
            return e.steps is None or e.steps == r.steps
        if e.verdict is Expected.NO_ATTACK:
            return r.inductive or not e.proved
        return True

    def as_json(self) -> dict[str, Any]:
        r = self.result
        return {
            "protocol": NAME,
            "variant": self.variant,
            "claim": r.question.name,
            "expected": _show(self.expected.verdict, self.expected.steps, self.expected.proved),
            "verdict": r.verdict.value,
            "runs": r.steps,
            "seconds": round(r.seconds, 4),
            "ok": self.ok,
            "reason": r.reason,
            "inductive": r.inductive,
        }


def _show(v: Expected, steps: int | None, proved: bool = False) -> str:
    if v is Expected.ATTACK and steps is not None:
        return f"{v.value} ({steps} calls)"
    if v is Expected.NO_ATTACK and proved:
        return f"{v.value} (inductive)"
    return v.value


def targets(names: Sequence[str]) -> list[str]:
    """The life-cycle variants among ``PROTOCOL[/VARIANT]`` arguments (all when none)."""
    out: list[str] = []
    for n in names or [NAME]:
        pname, _, vname = n.partition("/")
        if pname != NAME:
            continue
        if vname:
            LC.variant(vname)  # raises UnknownProtocol with the list
            out.append(vname)
        else:
            out += list(LC.VARIANTS)
    return out


def is_lifecycle(name: str) -> bool:
    return name.partition("/")[0] == NAME


def prove(
    variants: Sequence[str], generated_by: str, progress: Callable[[str], None] | None = None
) -> list[LifecycleRow]:
    rows: list[LifecycleRow] = []
    for vname in variants:
        v = LC.variant(vname)
        t0 = time.perf_counter()
        got = check(v, generated_by=generated_by)
        rows += [
            LifecycleRow(vname, r, v.expected.get(r.question.name, Expect(Expected.NO_ATTACK)))
            for r in got
        ]
        if progress is not None:
            bad = sum(not r.ok for r in rows[-len(got) :])
            progress(
                f"{NAME}/{vname}: {len(got)} claims in {time.perf_counter() - t0:.1f} s, "
                + ("all as expected" if not bad else f"{bad} MISMATCH")
            )
    return rows


def table(rows: Sequence[LifecycleRow]) -> str:
    head = ("model", "variant", "claim", "expected", "verdict", "calls", "seconds", "")
    body = [
        (
            NAME,
            r.variant,
            r.result.question.name,
            _show(r.expected.verdict, r.expected.steps, r.expected.proved),
            _show(r.result.verdict, None, r.result.inductive),
            str(r.result.steps),
            f"{r.result.seconds:.3f}",
            "ok" if r.ok else "MISMATCH",
        )
        for r in rows
    ]
    return text_table(head, body)


# -- rendering a trace ----------------------------------------------------------------------


def _field(kind: str, x: int) -> str:
    names = {"number": LC.NUMBERS, "key": LC.KEYS, "actor": LC.ACTORS}.get(kind)
    if names is not None and 0 <= x < len(names):
        return names[x]
    return str(x)


def sig_text(v: LC.LifecycleVariant, s: LT.SigRecord) -> str:
    d = next((x for x in v.digests if x.name == s.digest), None)
    shape = d.shape if d is not None else ()
    fields = ", ".join(_field(k, x) for k, x in zip(shape, s.fields, strict=False))
    return f"{s.digest}({fields}) by {s.key}"


def step_text(v: LC.LifecycleVariant, s: LT.Step) -> str:
    if s.action == "theft":
        return f"theft: the thief copies {LC.KEYS[LC.STOLEN]} and the owner's receipts"
    if s.action == "tick":
        return f"the clock advances to {s.now + 1}"
    args = ", ".join(x for x in (s.number, s.key) if x is not None)
    sigs = "; ".join(sig_text(v, g) for g in s.sigs)
    return f"{s.function}({args})" + (f" with {sigs}" if sigs else "")


def text(t: LT.LifecycleTrace, v: LC.LifecycleVariant | None = None) -> str:
    """The trace in words, one line per step (``v``: a table outside the catalogue's)."""
    v = LC.variant(t.variant) if v is None else v
    what = f"attack on {t.claim}" if t.kind == "attack" else "honest run"
    lines = [
        f"{NAME}/{t.variant}: {what} (operator {t.operator})",
        f"world: parties {', '.join(LC.ACTORS)}; numbers {', '.join(LC.NUMBERS)} "
        f"(owned by owner, other); keys {', '.join(LC.KEYS)}; "
        f"recovery delay {LC.RECOVERY_DELAY}, pending lifetime {LC.PENDING_TTL} ticks",
    ]
    call = 0
    for s in t.steps:
        if s.action == "call":
            lines.append(f"{call:2d}. t={s.now} {s.actor or '':9s} {step_text(v, s)}")
            call += 1
        else:
            lines.append(f"    t={s.now} {'':9s} -- {step_text(v, s)}")
    if t.violation is not None:
        lines.append(f"violated at call {t.violation.step}: {t.violation.explanation}")
    return "\n".join(lines) + "\n"


def chart(t: LT.LifecycleTrace, v: LC.LifecycleVariant | None = None) -> str:
    """The trace as a message sequence chart: parties call the contract."""
    v = LC.variant(t.variant) if v is None else v
    lanes = [*LC.ACTORS, CONTRACT]
    events: list[Event] = []
    call = 0
    for s in t.steps:
        if s.action == "call":
            who = s.actor or CONTRACT
            events.append(Event(who, CONTRACT, f"{call}. {s.function}", step_text(v, s)))
            call += 1
        elif s.action == "theft":
            events.append(Event("thief", "thief", "theft", step_text(v, s)))
        else:
            events.append(Event(CONTRACT, CONTRACT, "tick", step_text(v, s)))
    if t.violation is not None:
        events.append(Event(CONTRACT, CONTRACT, f"{t.claim} violated", t.violation.explanation))
    what = f"attack on {t.claim}" if t.kind == "attack" else "honest run"
    return render_msc(lanes, events, title=f"{NAME} ({t.variant}): {what}")


def files(t: LT.LifecycleTrace, stem: str, v: LC.LifecycleVariant | None = None) -> dict[str, str]:
    """``<stem>.{json,txt,svg}`` of one trace: file name -> text."""
    return {f"{stem}.json": LT.dumps(t), f"{stem}.txt": text(t, v), f"{stem}.svg": chart(t, v)}


def trace_files(rows: Sequence[LifecycleRow], generated_by: str) -> dict[str, str]:
    """Every attack of ``rows`` and every honest scenario of their variants, as files under
    ``key_lifecycle/`` (written by the caller, atomically, once everything is proved)."""
    out: dict[str, str] = {}
    for vname in dict.fromkeys(r.variant for r in rows):
        for name in HONEST[vname]:
            stem = f"{NAME}/{NAME}.{vname}.{name}"
            out.update(files(build_honest(vname, name, generated_by), stem))
    for r in rows:
        tr = r.result.trace
        if tr is not None:
            out.update(files(tr, f"{NAME}/{NAME}.{r.variant}.{r.result.question.name}"))
    return out


def digests() -> dict[str, str]:
    return {v: LC.digest(LC.variant(v)) for v in LC.VARIANTS}


__all__ = ["NAME", "SEARCH_STEPS", "UnknownProtocol", "is_lifecycle", "prove", "table", "targets"]
