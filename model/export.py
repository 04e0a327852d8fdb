"""From a z3 model to a trace: JSON (``ethvoip-trace/1``) and Alice-Bob text.

The model fixes every leaf and every event time; executed events are listed in time order
(ties broken by run and step, which never matters: a receive always comes strictly after
the sends it uses).  Each received message that is not a verbatim copy of an earlier one
carries the intruder's derivation (Dolev-Yao deduction on the concrete messages,
:class:`ethvoip.spec.deduction.Knowledge`); a secrecy violation carries the derivation of the
secret from everything sent.
"""

from __future__ import annotations

import z3

from ethvoip.model.boundary import solver_boundary
from ethvoip.model.encode import Run, World
from ethvoip.model.symbolic import SPk, concrete
from ethvoip.spec import terms as T
from ethvoip.spec.deduction import Derivation, Knowledge
from ethvoip.spec.errors import ModelError
from ethvoip.spec.protocol import Claim, ClaimKind, Protocol
from ethvoip.spec.semantics import INTRUDER
from ethvoip.spec.trace import Trace, TraceEvent, TraceRun, Violation


def _done(m: z3.ModelRef, b: z3.BoolRef | None) -> bool:
    return b is not None and z3.is_true(m.eval(b, model_completion=True))


def _time(m: z3.ModelRef, t: z3.ArithRef | None) -> int:
    assert t is not None
    return int(m.eval(t, model_completion=True).as_long())


def _intruder_initial(w: World, m: z3.ModelRef) -> list[T.Term]:
    out: list[T.Term] = [T.Atom("e", T.Sort.AGENT), T.sk(T.Atom("e", T.Sort.AGENT)), T.G]
    for name in w.u.names:
        if name.endswith("#e"):
            out.append(w.u.atom(w.u.code(name, w.u.sorts[w.u.names.index(name)])))
    for p in w.intruder.by_shape.values():
        for pos in p:
            if pos.sent is None:
                out.append(concrete(pos.term, m, w.u))
    return out


@solver_boundary
def build_trace(
    protocol: Protocol,
    variant_name: str,
    w: World,
    m: z3.ModelRef,
    *,
    claim: Claim | None,
    bound: int,
    generated_by: str,
) -> Trace:
    """The trace of ``m`` (an attack on ``claim``, or an honest run when ``claim`` is None)."""
    runs = [r for r in w.runs if _done(m, r.events[0].moment.done)]
    trace_runs = tuple(
        TraceRun(
            r.rid + 1,
            r.role.name,
            w.u.names[int(m.eval(r.actor.expr, model_completion=True).as_long())],
            {p.name: concrete(r.env[p], m, w.u) for p in r.role.params},
        )
        for r in runs
    )
    steps = [
        (_time(m, ev.moment.time), r.rid, ev.index, r, ev)
        for r in runs
        for ev in (*r.events, *r.reveals)
        if _done(m, ev.moment.done)
    ]
    steps.sort(key=lambda x: x[:3])
    know = Knowledge(_intruder_initial(w, m), own=INTRUDER)
    sent: list[T.Term] = []
    events: list[TraceEvent] = []
    for i, (_, _, _, _, ev) in enumerate(steps):
        assert ev.term is not None
        term = concrete(ev.term, m, w.u)
        deriv: Derivation | None = None
        if ev.kind == "recv" and term not in sent:
            deriv = know.derivation(term)
            if deriv is None:
                raise ModelError(f"model bug: no derivation of {term} at event {i}")
        if ev.kind in ("send", "reveal"):
            sent.append(term)
            know.observe(term, i)
        events.append(TraceEvent(ev.run + 1, ev.label, ev.kind, term, deriv))
    reg = concrete(SPk(w.reg_e), m, w.u)
    directory: dict[str, T.Term] = {a: T.pk(T.Atom(a, T.Sort.AGENT)) for a in w.honest}
    directory["e"] = reg
    violation = None
    if claim is not None:
        violation = _violation(w, m, claim, know)
    return Trace(
        protocol=protocol.name,
        variant=variant_name,
        spec_digest=protocol.digest(),
        kind="attack" if claim is not None else "honest",
        claim=claim.name if claim is not None else None,
        bound=bound,
        generated_by=generated_by,
        directory=directory,
        runs=trace_runs,
        events=tuple(events),
        violation=violation,
    )


def _violation(w: World, m: z3.ModelRef, claim: Claim, know: Knowledge) -> Violation:
    r: Run = w.runs[0]
    if claim.kind is ClaimKind.SECRECY:
        assert claim.term is not None
        st = w.value(r, claim.term)
        assert st is not None
        secret = concrete(st, m, w.u)
        d = know.derivation(secret)
        if d is None:
            raise ModelError(f"model bug: the intruder cannot derive {secret} at the end")
        return Violation(r.rid + 1, f"the intruder derives {secret}", secret, d)
    return Violation(r.rid + 1, f"{claim.kind.value} fails: {claim.description}")


# --------------------------------------------------------------------------------------
# Alice-Bob text
# --------------------------------------------------------------------------------------


def alice_bob(trace: Trace) -> str:
    """The trace as numbered Alice-Bob lines, with the intruder's derivations indented."""
    who = {r.id: f"{r.agent}({r.role}{r.id})" for r in trace.runs}
    head = f"{trace.protocol}/{trace.variant}: " + (
        f"attack on {trace.claim}" if trace.kind == "attack" else "honest run"
    )
    lines = [
        head,
        "runs: "
        + ", ".join(
            f"{who[r.id]} with " + ", ".join(f"{k}={v}" for k, v in r.params.items())
            for r in trace.runs
        ),
    ]
    lines.append("directory: " + ", ".join(f"{k} -> {v}" for k, v in trace.directory.items()))
    for i, ev in enumerate(trace.events):
        actor = who[ev.run]
        match ev.action:
            case "send":
                lines.append(f"{i:2}. {ev.label:5} {actor} -> net : {ev.term}")
            case "recv":
                src = "net" if ev.derivation is None else "e (forged)"
                lines.append(f"{i:2}. {ev.label:5} {src} -> {actor} : {ev.term}")
                if ev.derivation is not None:
                    lines += ["        " + s for s in derivation_lines(ev.derivation)]
            case "reveal":
                lines.append(f"{i:2}. {ev.label:5} {actor} (finished) -> e : {ev.term}")
            case _:
                lines.append(f"{i:2}. {ev.label:5} {actor} looks up key: {ev.term}")
    if trace.violation is not None:
        lines.append(
            f"violated: {trace.claim} at run {trace.violation.run}: {trace.violation.explanation}"
        )
        if trace.violation.derivation is not None:
            lines += ["        " + s for s in derivation_lines(trace.violation.derivation)]
    return "\n".join(lines) + "\n"


def derivation_lines(d: Derivation, depth: int = 0) -> list[str]:
    """A derivation as an indented list; observed, public and initial leaves end a branch."""
    what = {
        "observed": f"seen at event {d.event}",
        "initial": "known from the start",
        "public": "public",
        "project": f"item {d.index} of",
        "unsign": "message of signature",
        "decrypt": "decrypt",
    }.get(d.rule, f"build {d.rule}")
    out = ["  " * depth + f"{d.term}  [{what}]"]
    for p in d.premises:
        out += derivation_lines(p, depth + 1)
    return out
