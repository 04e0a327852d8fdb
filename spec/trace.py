"""The trace format: how the model hands an execution (honest run or attack) to everyone else.

A trace is JSON (format ``ethvoip-trace/1``).  The model checker writes it; the independent
evaluator (:mod:`ethvoip.spec.evaluate`), the conformance replay on the concrete code, the
attack narrations and the docs read it.  The step label (``I_2``, ``R_3`` ...) joins them.

Layout::

    {
      "format": "ethvoip-trace/1",
      "protocol": "psk_handshake", "variant": "paper",
      "spec_digest": "<Protocol.digest() of the spec that produced it>",
      "kind": "attack" | "honest",
      "claim": "R_secret_Ks" | null,          # the violated claim (attacks)
      "bound": 2,                             # number of role runs searched
      "generated_by": "ethvoip prove ...",    # the command that regenerates it
      "directory": {"a": <term>, "e": <term>}, # key registered under each name
      "runs": [{"id": 1, "role": "I", "agent": "a",
                "params": {"A": <term>, "B": <term>}}],
      "events": [
        {"run": 1, "label": "I_1", "action": "lookup", "term": <key>},
        {"run": 1, "label": "I_2", "action": "send", "term": <msg>},
        {"run": 2, "label": "R_1", "action": "recv", "term": <msg>,
         "derivation": <derivation>},        # how the intruder built it (absent: forwarded)
        {"run": 3, "label": "reveal", "action": "reveal", "term": <value>}
                                             # key compromise: a finished run's value given
      ],                                     # to the intruder (Variant.reveals)
      "violation": {"run": 2, "explanation": "...",
                    "secret": <term> | null, "derivation": <derivation> | null}
    }

Terms use :func:`ethvoip.spec.terms.to_json`.  A derivation is
``{"rule", "term", "premises": [...], "index"?, "event"?}`` with the rules of
:class:`ethvoip.spec.deduction.Derivation`; ``event`` indexes ``events``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from ethvoip.spec.deduction import Derivation
from ethvoip.spec.errors import StaleTrace, TermError, TraceError
from ethvoip.spec.protocol import Protocol
from ethvoip.spec.terms import Term, from_json, to_json

T = TypeVar("T")

FORMAT = "ethvoip-trace/1"
ACTIONS = frozenset({"send", "recv", "lookup", "reveal"})
KINDS = frozenset({"attack", "honest"})


@dataclass(frozen=True)
class TraceRun:
    id: int
    role: str
    agent: str
    params: Mapping[str, Term]


@dataclass(frozen=True)
class TraceEvent:
    run: int
    label: str
    action: str
    term: Term
    derivation: Derivation | None = None


@dataclass(frozen=True)
class Violation:
    run: int
    explanation: str
    secret: Term | None = None
    derivation: Derivation | None = None


@dataclass(frozen=True)
class Trace:
    protocol: str
    variant: str
    spec_digest: str
    kind: str
    claim: str | None
    bound: int
    generated_by: str
    directory: Mapping[str, Term]
    runs: tuple[TraceRun, ...]
    events: tuple[TraceEvent, ...]
    violation: Violation | None = None

    def run(self, run_id: int) -> TraceRun:
        for r in self.runs:
            if r.id == run_id:
                return r
        raise TraceError(f"no run {run_id} in the trace")

    def check_fresh(self, protocol: Protocol) -> None:
        """Raise :class:`StaleTrace` (saying how to regenerate) if the spec has changed."""
        if protocol.name != self.protocol:
            raise TraceError(f"trace is for {self.protocol}, not {protocol.name}")
        if protocol.digest() != self.spec_digest:
            raise StaleTrace(
                f"trace {self.protocol}/{self.variant}/{self.claim or 'honest'} was made from an "
                f"older spec; regenerate it with: {self.generated_by}"
            )


# -- derivations ----------------------------------------------------------------------


def derivation_to_json(d: Derivation) -> dict[str, Any]:
    out: dict[str, Any] = {"rule": d.rule, "term": to_json(d.term)}
    if d.premises:
        out["premises"] = [derivation_to_json(p) for p in d.premises]
    if d.index is not None:
        out["index"] = d.index
    if d.event is not None:
        out["event"] = d.event
    return out


def derivation_from_json(obj: object) -> Derivation:
    if not isinstance(obj, dict) or not isinstance(obj.get("rule"), str):
        raise TraceError(f"bad derivation: {obj!r}")
    unknown = set(obj) - {"rule", "term", "premises", "index", "event"}
    if unknown:
        raise TraceError(f"derivation has unknown fields {sorted(unknown)}")
    premises = obj.get("premises", [])
    if not isinstance(premises, list):
        raise TraceError("derivation premises must be a list")
    index, event = obj.get("index"), obj.get("event")
    for name, value in (("index", index), ("event", event)):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise TraceError(f"derivation {name} must be an integer")
    return Derivation(
        obj["rule"],
        from_json(obj.get("term")),
        tuple(derivation_from_json(p) for p in premises),
        index,
        event,
    )


# -- whole traces ---------------------------------------------------------------------


def to_dict(t: Trace) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "protocol": t.protocol,
        "variant": t.variant,
        "spec_digest": t.spec_digest,
        "kind": t.kind,
        "claim": t.claim,
        "bound": t.bound,
        "generated_by": t.generated_by,
        "directory": {k: to_json(v) for k, v in t.directory.items()},
        "runs": [
            {
                "id": r.id,
                "role": r.role,
                "agent": r.agent,
                "params": {k: to_json(v) for k, v in r.params.items()},
            }
            for r in t.runs
        ],
        "events": [
            {
                "run": e.run,
                "label": e.label,
                "action": e.action,
                "term": to_json(e.term),
                **({"derivation": derivation_to_json(e.derivation)} if e.derivation else {}),
            }
            for e in t.events
        ],
        "violation": None
        if t.violation is None
        else {
            "run": t.violation.run,
            "explanation": t.violation.explanation,
            "secret": to_json(t.violation.secret) if t.violation.secret is not None else None,
            "derivation": derivation_to_json(t.violation.derivation)
            if t.violation.derivation
            else None,
        },
    }


def _req(obj: Mapping[str, Any], key: str, typ: type | tuple[type, ...]) -> Any:
    if key not in obj:
        raise TraceError(f"trace field {key!r} is missing")
    value = obj[key]
    if not isinstance(value, typ) or (typ is int and isinstance(value, bool)):
        raise TraceError(f"trace field {key!r} has the wrong type")
    return value


def from_dict(obj: object) -> Trace:
    """Parse and validate a trace; any defect raises :class:`TraceError`."""
    try:
        return _from_dict(obj)
    except TermError as exc:
        raise TraceError(f"bad term in trace: {exc}") from exc


def _from_dict(obj: object) -> Trace:
    if not isinstance(obj, dict):
        raise TraceError("a trace is a JSON object")
    if obj.get("format") != FORMAT:
        raise TraceError(f"unknown trace format {obj.get('format')!r} (expected {FORMAT})")
    kind = _req(obj, "kind", str)
    if kind not in KINDS:
        raise TraceError(f"trace kind must be one of {sorted(KINDS)}")
    runs = []
    for r in _req(obj, "runs", list):
        if not isinstance(r, dict):
            raise TraceError("a run is an object")
        params = _req(r, "params", dict)
        runs.append(
            TraceRun(
                _req(r, "id", int),
                _req(r, "role", str),
                _req(r, "agent", str),
                {str(k): from_json(v) for k, v in params.items()},
            )
        )
    run_ids = {r.id for r in runs}
    if len(run_ids) != len(runs):
        raise TraceError("run ids repeat")
    events = []
    for e in _req(obj, "events", list):
        if not isinstance(e, dict):
            raise TraceError("an event is an object")
        action = _req(e, "action", str)
        if action not in ACTIONS:
            raise TraceError(f"event action must be one of {sorted(ACTIONS)}")
        run = _req(e, "run", int)
        if run not in run_ids:
            raise TraceError(f"event names unknown run {run}")
        deriv = e.get("derivation")
        events.append(
            TraceEvent(
                run,
                _req(e, "label", str),
                action,
                from_json(e.get("term")),
                derivation_from_json(deriv) if deriv is not None else None,
            )
        )
    v = obj.get("violation")
    violation = None
    if v is not None:
        if not isinstance(v, dict):
            raise TraceError("violation must be an object")
        violation = Violation(
            _req(v, "run", int),
            _req(v, "explanation", str),
            from_json(v["secret"]) if v.get("secret") is not None else None,
            derivation_from_json(v["derivation"]) if v.get("derivation") is not None else None,
        )
    claim = obj.get("claim")
    if claim is not None and not isinstance(claim, str):
        raise TraceError("claim must be a string or null")
    if (kind == "attack") != (claim is not None and violation is not None):
        raise TraceError("an attack trace names its claim and violation; an honest one neither")
    return Trace(
        protocol=_req(obj, "protocol", str),
        variant=_req(obj, "variant", str),
        spec_digest=_req(obj, "spec_digest", str),
        kind=kind,
        claim=claim,
        bound=_req(obj, "bound", int),
        generated_by=_req(obj, "generated_by", str),
        directory={str(k): from_json(v) for k, v in _req(obj, "directory", dict).items()},
        runs=tuple(runs),
        events=tuple(events),
        violation=violation,
    )


def json_text(obj: Mapping[str, Any]) -> str:
    """The one layout of trace files: indent 1, keys sorted, a final newline (stable diffs)."""
    return json.dumps(obj, indent=1, sort_keys=True) + "\n"


def parse_json(text: str, what: str) -> object:
    """``text`` as JSON; anything else raises :class:`TraceError` naming ``what``."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise TraceError(f"{what} is not JSON: {exc}") from exc


@dataclass(frozen=True)
class JsonFormat(Generic[T]):
    """How one kind of trace file is written and read: ``to_dict``/``from_dict`` as JSON text
    (``dumps``, ``loads``) and from a file (``load``); a defect raises :class:`TraceError`
    naming ``what``."""

    what: str
    to_dict: Callable[[T], Mapping[str, Any]]
    from_dict: Callable[[object], T]

    def dumps(self, t: T) -> str:
        return json_text(self.to_dict(t))

    def loads(self, text: str) -> T:
        return self.from_dict(parse_json(text, self.what))

    def load(self, path: Path) -> T:
        return self.loads(path.read_text(encoding="utf-8"))


_JSON = JsonFormat("trace", to_dict, from_dict)
dumps, loads, load = _JSON.dumps, _JSON.loads, _JSON.load
