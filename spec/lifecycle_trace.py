"""The life-cycle trace format (``ethvoip-lifecycle-trace/1``): a sequence of contract calls.

Written by the life-cycle model checker, read by its re-checker
(:mod:`ethvoip.spec.lifecycle_eval`), the docs and the replay on the real contract.  Layout::

    {
      "format": "ethvoip-lifecycle-trace/1",
      "model": "key_lifecycle", "variant": "v1",
      "spec_digest": "<ethvoip.spec.lifecycle.digest(variant)>",
      "kind": "attack" | "honest",
      "claim": "1_revoked_key_stays_dead" | null,
      "operator": "honest" | "malicious",      # whether the operator runs the service's checks
      "bound": 22, "generated_by": "ethvoip prove key_lifecycle ...",
      "steps": [
        {"action": "buy", "actor": "owner", "number": "n0", "key": "kA1", "now": 0},
        {"action": "call", "function": "register", "actor": "owner", "number": "n0",
         "key": "kA1", "now": 0,
         "sigs": [{"digest": "Possession", "fields": [0, 0, 0, 0], "key": "kA1"}]},
        {"action": "theft", "now": 0},          # the thief copies kA1 and the owner's receipts
        {"action": "tick", "now": 0}            # the clock advances by one (now is before it)
      ],
      "violation": {"step": 5, "explanation": "..."}
    }

A signature's ``fields`` are the digest's fields as integers (indices into the world's
numbers, keys and actors, or version and serial numbers), in the order of the variant's
``Digest.shape``; ``key`` names the signing key.  A step's ``now`` is the clock before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ethvoip.spec.errors import TraceError
from ethvoip.spec.trace import JsonFormat

FORMAT = "ethvoip-lifecycle-trace/1"
ACTIONS = frozenset({"call", "buy", "theft", "tick"})


@dataclass(frozen=True)
class SigRecord:
    digest: str
    fields: tuple[int, ...]
    key: str


@dataclass(frozen=True)
class Step:
    action: str
    function: str | None
    actor: str | None
    number: str | None
    key: str | None
    sigs: tuple[SigRecord, ...]
    now: int


@dataclass(frozen=True)
class Violation:
    step: int
    explanation: str


@dataclass(frozen=True)
class LifecycleTrace:
    variant: str
    spec_digest: str
    kind: str
    claim: str | None
    operator: str
    bound: int
    generated_by: str
    steps: tuple[Step, ...]
    violation: Violation | None = None


def to_dict(t: LifecycleTrace) -> dict[str, Any]:
    steps = []
    for s in t.steps:
        d: dict[str, Any] = {"action": s.action, "now": s.now}
        for k in ("function", "actor", "number", "key"):
            if getattr(s, k) is not None:
                d[k] = getattr(s, k)
        if s.action == "call":
            d["sigs"] = [
                {"digest": g.digest, "fields": list(g.fields), "key": g.key} for g in s.sigs
            ]
        steps.append(d)
    return {
        "format": FORMAT,
        "model": "key_lifecycle",
        "variant": t.variant,
        "spec_digest": t.spec_digest,
        "kind": t.kind,
        "claim": t.claim,
        "operator": t.operator,
        "bound": t.bound,
        "generated_by": t.generated_by,
        "steps": steps,
        "violation": None
        if t.violation is None
        else {"step": t.violation.step, "explanation": t.violation.explanation},
    }


def _get(obj: dict[str, Any], key: str, typ: type) -> Any:
    v = obj.get(key)
    if not isinstance(v, typ) or (typ is int and isinstance(v, bool)):
        raise TraceError(f"life-cycle trace field {key!r} is missing or not a {typ.__name__}")
    return v


def _opt_str(obj: dict[str, Any], key: str) -> str | None:
    v = obj.get(key)
    if v is not None and not isinstance(v, str):
        raise TraceError(f"life-cycle trace field {key!r} must be a string")
    return v


def from_dict(obj: object) -> LifecycleTrace:
    """Parse and validate; any defect raises :class:`TraceError`."""
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        raise TraceError(f"not an {FORMAT} trace")
    steps = []
    for s in _get(obj, "steps", list):
        if not isinstance(s, dict):
            raise TraceError("a step is an object")
        action = _get(s, "action", str)
        if action not in ACTIONS:
            raise TraceError(f"step action must be one of {sorted(ACTIONS)}")
        sigs = []
        for g in s.get("sigs", []):
            if not isinstance(g, dict):
                raise TraceError("a signature is an object")
            fields = _get(g, "fields", list)
            if not all(isinstance(x, int) and not isinstance(x, bool) for x in fields):
                raise TraceError("signature fields are integers")
            sigs.append(SigRecord(_get(g, "digest", str), tuple(fields), _get(g, "key", str)))
        steps.append(
            Step(
                action,
                _opt_str(s, "function"),
                _opt_str(s, "actor"),
                _opt_str(s, "number"),
                _opt_str(s, "key"),
                tuple(sigs),
                _get(s, "now", int),
            )
        )
    kind = _get(obj, "kind", str)
    v = obj.get("violation")
    violation = None
    if v is not None:
        if not isinstance(v, dict):
            raise TraceError("violation must be an object")
        violation = Violation(_get(v, "step", int), _get(v, "explanation", str))
    claim = _opt_str(obj, "claim")
    if kind not in ("attack", "honest") or (kind == "attack") != (
        claim is not None and violation is not None
    ):
        raise TraceError("an attack names its claim and violation; an honest trace neither")
    return LifecycleTrace(
        variant=_get(obj, "variant", str),
        spec_digest=_get(obj, "spec_digest", str),
        kind=kind,
        claim=claim,
        operator=_get(obj, "operator", str),
        bound=_get(obj, "bound", int),
        generated_by=_get(obj, "generated_by", str),
        steps=tuple(steps),
        violation=violation,
    )


_JSON = JsonFormat("life-cycle trace", to_dict, from_dict)
dumps, loads, load = _JSON.dumps, _JSON.loads, _JSON.load
