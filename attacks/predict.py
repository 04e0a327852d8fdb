"""Where the symbolic semantics says a trace's strategy fails against another variant.

A paper attack trace is a strategy: which messages the intruder forwards, and for each forged
one, a derivation (decrypt this observation with that key, take that item, encrypt to ...).
:func:`predict_rejection` plays the same strategy on the roles of another variant (the
hardened one) with the spec's own operational semantics (:mod:`ethvoip.spec.semantics`):
honest runs send the terms the variant prescribes, the intruder applies the same rules to
them, and the first receive whose pattern does not match is the step at which the model
predicts the variant stops the attack.  The concrete replay in strategy mode must then be
rejected at that very step (tests/conformance checks they agree).
"""

from __future__ import annotations

from dataclasses import dataclass

from ethvoip.spec.catalogue import get
from ethvoip.spec.deduction import Derivation
from ethvoip.spec.protocol import Lookup, Recv, Send
from ethvoip.spec.semantics import Run, lookup, receive, send, start_run
from ethvoip.spec.terms import (
    AEnc,
    Atom,
    Hash,
    Pk,
    SEnc,
    Sign,
    Sk,
    Sort,
    Term,
    Tup,
    Var,
    exp,
    substitute,
)
from ethvoip.spec.trace import Trace


@dataclass(frozen=True)
class Prediction:
    """The run and step at which the strategy stops, and why (in terms)."""

    run: int
    label: str
    reason: str


class _Stuck(Exception):
    """The intruder cannot apply a rule of the strategy to this variant's messages."""


def predict_rejection(trace: Trace, variant: str) -> Prediction | None:
    """The first receive of ``variant``'s runs that the strategy of ``trace`` cannot pass."""
    v = get(trace.protocol).variant(variant)
    runs: dict[int, Run] = {}
    for tr in trace.runs:
        role = v.role(tr.role)
        params: dict[Var, Atom] = {}
        for p in role.params:
            value = tr.params[p.name]
            assert isinstance(value, Atom)
            params[p] = value
        runs[tr.id] = start_run(role, tr.id, params)
    directory = {Atom(name, Sort.AGENT): key for name, key in trace.directory.items()}
    sent: dict[int, Term] = {}
    for i, ev in enumerate(trace.events):
        run = runs[ev.run]
        # this variant may look up where the trace's did not: do it on the way
        while isinstance(run.next_step, Lookup) and ev.action != "lookup":
            lookup(run, directory)
        step = run.next_step
        if ev.action == "lookup":
            if isinstance(step, Lookup):
                lookup(run, directory)
            continue
        if ev.action == "send":
            if not isinstance(step, Send):
                return Prediction(ev.run, ev.label, f"the run has no send here ({step})")
            sent[i] = send(run)
            continue
        if not isinstance(step, Recv):
            return Prediction(ev.run, ev.label, f"the run receives nothing here ({step})")
        try:
            msg = _message(trace, i, sent)
        except _Stuck as why:
            return Prediction(ev.run, step.label, f"the intruder cannot build it: {why}")
        if not receive(run, msg):
            pattern = substitute(step.pattern, {k: w for k, w in run.bindings.items()})
            return Prediction(ev.run, step.label, f"{msg} does not match {pattern}")
    return None


def _message(trace: Trace, i: int, sent: dict[int, Term]) -> Term:
    ev = trace.events[i]
    if ev.derivation is not None:
        return _derive(ev.derivation, sent)
    for j in range(i - 1, -1, -1):
        e = trace.events[j]
        if e.action == "send" and e.term == ev.term:
            if j not in sent:
                raise _Stuck(f"event {j} was not sent")
            return sent[j]
    raise _Stuck("forwarded from nowhere")


def _derive(d: Derivation, sent: dict[int, Term]) -> Term:
    """``d``'s rules applied to this variant's messages (leaves are taken as they are)."""
    if d.rule == "observed":
        if d.event is None or d.event not in sent:
            raise _Stuck(f"observation of event {d.event}, which sent nothing")
        return sent[d.event]
    if d.rule in ("initial", "public"):
        return d.term
    prem = [_derive(p, sent) for p in d.premises]
    match d.rule, prem:
        case "project", [Tup(items)] if d.index is not None and d.index < len(items):
            return items[d.index]
        case "unsign", [Sign(body, _)]:
            return body
        case "decrypt", [AEnc(body, Pk(owner)), Sk(key_owner)] if owner == key_owner:
            return body
        case "decrypt", [SEnc(body, k), key] if k == key:
            return body
        case "tup", items if len(items) >= 2:
            return Tup(tuple(items))
        case "aenc", [body, key]:
            return AEnc(body, key)
        case "senc", [body, key]:
            return SEnc(body, key)
        case "sign", [body, Sk() as key]:
            return Sign(body, key)
        case "pk", [owner]:
            return Pk(owner)
        case "hash", args if isinstance(d.term, Hash):
            return Hash(d.term.fn, tuple(args))
        case "exp", [base, e]:
            return exp(base, e)
    raise _Stuck(f"rule {d.rule} does not apply to {', '.join(map(str, prem))}")
