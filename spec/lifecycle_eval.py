"""Independent re-check of a life-cycle trace: the table replayed in plain Python (no z3).

Given an ``ethvoip-lifecycle-trace/1`` trace, replay it call by call on the table of
:mod:`ethvoip.spec.lifecycle` with Python integers:

1. every call is legal: the caller may call the function, the record's status allows it,
   every signature is of the right type, over the digest the contract computes now, by the
   right key, and was either made by its caller (who holds the key then) or accepted earlier
   in the trace; every guard holds; an honest operator's service rule holds; the owner
   never offers its stolen key again;
2. the clock only advances by ticks, up to its bound; there is at most one theft;
3. for an attack, the named claim is violated at the named call; for an honest trace, no
   claim is violated anywhere.

The claims are written here again, over the concrete history, separately from their z3
encoding in :mod:`ethvoip.model.lifecycle`, so that a reported attack is confirmed by a
second reading of the same table.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from ethvoip.spec import lifecycle as LC
from ethvoip.spec.errors import MalformedProtocol, StaleTrace, TraceError, UnknownProtocol
from ethvoip.spec.lifecycle import PY, Call, ClaimId, SigValue, State, Status
from ethvoip.spec.lifecycle_trace import LifecycleTrace, SigRecord, Step


@dataclass(frozen=True)
class LifecycleEvaluation:
    violated: bool
    explanation: str
    calls: int


@dataclass
class _History:
    """What the claims remember (the re-checker's own bookkeeping)."""

    retired: set[int] = field(default_factory=set)
    ever_approved: set[int] = field(default_factory=set)
    released: set[int] = field(default_factory=set)
    announced: dict[int, int] = field(default_factory=dict)
    stolen_revoked: bool = False
    accepted: list[tuple[str, tuple[int, ...], int]] = field(default_factory=list)
    accepted_by: list[str] = field(default_factory=list)  # the function of each


def _index(names: tuple[str, ...], name: str | None, what: str) -> int:
    if name not in names:
        raise TraceError(f"unknown {what} {name!r} (known: {', '.join(names)})")
    return names.index(name)


def _current(st: State[Any], n: int) -> int | None:
    if st.numbers["status"][n] in (Status.APPROVED, Status.SUSPENDED):
        return int(st.numbers["key"][n])
    return None


def _active(st: State[Any], n: int) -> int | None:
    return int(st.numbers["key"][n]) if st.numbers["status"][n] == Status.APPROVED else None


def _apply(st: State[Any], writes: list[LC.Write]) -> None:
    for f, idx, val in writes:
        if f in st.scalars:
            st.scalars[f] = val
        elif f in st.numbers:
            st.numbers[f][idx[0]] = val
        elif f in st.keys:
            st.keys[f][idx[0]] = val
        elif f in st.actors:
            st.actors[f][idx[0]] = val
        else:
            st.pairs[f][idx[0]][idx[1]] = val


def _violations(
    v: LC.LifecycleVariant,
    fn: LC.Function,
    c: Call[Any],
    pre: State[Any],
    post: State[Any],
    h: _History,
    sigs: list[tuple[str, tuple[int, ...], int]],
    cross: list[bool],
) -> dict[ClaimId, str]:
    """The claims this call violates, with why (in words)."""
    out: dict[ClaimId, str] = {}
    installed = {
        n: _active(post, n)
        for n in range(len(LC.NUMBERS))
        if _active(post, n) is not None and _active(post, n) != _active(pre, n)
    }
    for n, k in installed.items():
        assert k is not None
        if k in h.retired:
            out[ClaimId.KEY_DEAD] = (
                f"{LC.KEYS[k]}, retired earlier, is active again for {LC.NUMBERS[n]}"
            )
        if n == 0 and h.stolen_revoked and k in (LC.KT, LC.STOLEN):
            out[ClaimId.THIEF_GETS_NOTHING] = (
                f"after the owner revoked the stolen key, the thief's {LC.KEYS[k]} is active"
            )
    n = c.number
    if fn.name in ("approve", "approveClient", "executeRecovery") and n in installed:
        k = installed[n]
        late = (
            fn.name == "executeRecovery"
            and n in h.announced
            and pre.scalars["now"] >= h.announced[n] + LC.RECOVERY_DELAY
        )
        if k != _current(pre, n) and n in h.ever_approved and n not in h.released and not late:
            out[ClaimId.OPERATOR_TIMELOCK] = (
                f"the operator's {fn.name} makes {LC.KEYS[k or 0]} active for {LC.NUMBERS[n]}, "
                "which had an approved key, without the key holder's revocation or the delay"
            )
    for s in sigs:
        for earlier, by in zip(h.accepted, h.accepted_by, strict=True):
            if s != earlier:
                continue
            out.setdefault(
                ClaimId.SIG_ONCE, f"{fn.name} accepts a {s[0]} signature {by} accepted before"
            )
            if by != fn.name:
                out[ClaimId.SIG_ONCE] = (
                    f"{fn.name} accepts a {s[0]} signature that {by} accepted before"
                )
                cross[0] = True
    return out


def evaluate(
    trace: LifecycleTrace,
    *,
    check_digest: bool = True,
    states: list[State[Any]] | None = None,
    variant: LC.LifecycleVariant | None = None,
) -> LifecycleEvaluation:
    """Replay ``trace``; raise :class:`TraceError` at the first step that is not legal.

    ``states``, when given, receives a copy of the contract's state after each call (what a
    replay on the real contract compares its storage with).  ``variant`` is the table to
    replay on when it is not one of :data:`~ethvoip.spec.lifecycle.VARIANTS` (a table derived
    by :func:`~ethvoip.spec.lifecycle.without`); its name must be the trace's.
    """
    v = _table(trace, variant, check_digest)
    question = _question(v, trace)
    if trace.operator not in ("honest", "malicious"):
        raise TraceError(f"operator must be honest or malicious, not {trace.operator!r}")
    replay = _Replay(v, trace, question, states)
    for t, step in enumerate(trace.steps):
        done = replay.step(t, step)
        if done is not None:
            return done
    i, found = replay.calls, replay.found
    if trace.kind == "attack":
        return LifecycleEvaluation(
            False, f"claim {trace.claim} is not violated at the named call", i
        )
    if found:
        raise TraceError(f"an honest trace violates {sorted(found)}: {next(iter(found.values()))}")
    return LifecycleEvaluation(False, "every call legal, no claim violated", i)


def _table(
    trace: LifecycleTrace, variant: LC.LifecycleVariant | None, check_digest: bool
) -> LC.LifecycleVariant:
    """The table the trace is replayed on, refused when it is not the trace's own."""
    if variant is not None and variant.name != trace.variant:
        raise TraceError(f"trace is for {trace.variant}, not {variant.name}")
    v = LC.variant(trace.variant) if variant is None else variant
    if check_digest and LC.digest(v) != trace.spec_digest:
        raise StaleTrace(
            f"life-cycle trace {trace.variant}/{trace.claim or 'honest'} was made from an older "
            f"table; regenerate it with: {trace.generated_by}"
        )
    return v


def _question(v: LC.LifecycleVariant, trace: LifecycleTrace) -> LC.Question | None:
    """The question whose claim an attack trace names (``None`` for an honest trace)."""
    if trace.claim is None:
        return None
    named = [q for q in v.all_questions if q.name == trace.claim]
    if not named:
        raise TraceError(f"variant {v.name} has no claim {trace.claim!r}")
    return named[0]


_SigKey = tuple[str, tuple[int, ...], int]


@dataclass
class _Replay:
    """A life-cycle replay in progress: the contract's state, the clock, the claims' memory."""

    v: LC.LifecycleVariant
    trace: LifecycleTrace
    question: LC.Question | None
    states: list[State[Any]] | None
    st: State[Any] = field(default_factory=LC.initial_state)
    h: _History = field(default_factory=_History)
    theft_at: int = -1
    theft_seen: bool = False
    calls: int = 0
    found: dict[ClaimId, str] = field(default_factory=dict)

    def step(self, t: int, step: Step) -> LifecycleEvaluation | None:
        """Check and apply step ``t``; the evaluation when it violates the named claim."""
        st = self.st
        if step.now != st.scalars["now"]:
            raise TraceError(f"step {t}: the clock reads {st.scalars['now']}, not {step.now}")
        if step.action == "tick":
            if st.scalars["now"] >= LC.MAX_TIME:
                raise TraceError(f"step {t}: the clock is at its bound {LC.MAX_TIME}")
            st.scalars["now"] += 1
            return None
        if step.action == "theft":
            if self.theft_seen:
                raise TraceError(f"step {t}: a second theft")
            self.theft_seen, self.theft_at = True, self.calls
            return None
        if step.action != "call" or step.function is None:
            raise TraceError(f"step {t}: action {step.action!r} is not part of the life cycle")
        return self._call(t, step, step.function)

    def _call(self, t: int, step: Step, function: str) -> LifecycleEvaluation | None:
        try:
            fn = self.v.function(function)
        except UnknownProtocol as exc:
            raise TraceError(f"step {t}: {exc}") from None
        actor = _index(LC.ACTORS, step.actor, "actor")
        number = _index(LC.NUMBERS, step.number, "number")
        key = _index(LC.KEYS, step.key, "key") if fn.uses_key else 0
        self._check_callable(t, step, fn, actor, number, key)
        sig_values, sig_keys = self._read_sigs(t, step, fn)
        c = Call(actor, number, key, tuple(sig_values), self.calls)
        self._check_sigs(t, step, fn, c, sig_keys)
        self._check_guards(t, fn, c)
        pre = copy.deepcopy(self.st)
        writes: list[LC.Write] = []
        for _, eff in fn.effects:
            writes += eff(PY, pre, c)
        if fn.status_to is not None:
            writes.append(("status", (number,), int(fn.status_to)))
        _apply(self.st, writes)
        if self.states is not None:
            self.states.append(copy.deepcopy(self.st))
        done = self._judge(fn, c, pre, sig_keys)
        if done is not None:
            return done
        self._remember(fn, c, pre, sig_keys)
        self.calls += 1
        return None

    def _check_callable(
        self, t: int, step: Step, fn: LC.Function, actor: int, number: int, key: int
    ) -> None:
        """Who may call ``fn``, in which status, and the owner never offers its stolen key."""
        st = self.st
        if fn.caller == LC.OPERATOR_ONLY and actor != LC.OPERATOR:
            raise TraceError(f"step {t}: {fn.name} is the operator's, {step.actor} called it")
        if (
            fn.status_from is not None
            and Status(st.numbers["status"][number]) not in fn.status_from
        ):
            why = f" ({fn.status_error})" if fn.status_error else ""
            raise TraceError(
                f"step {t}: {fn.name} refused in status "
                f"{Status(st.numbers['status'][number]).name}{why}"
            )
        if (
            actor == LC.OWNER
            and fn.name in LC.NEW_KEY_FUNCTIONS
            and key == LC.STOLEN
            and self.theft_at >= 0
        ):
            raise TraceError(f"step {t}: the honest owner offers its stolen key")

    def _read_sigs(
        self, t: int, step: Step, fn: LC.Function
    ) -> tuple[list[SigValue[Any]], list[_SigKey]]:
        """The step's signatures as the contract reads them, and as the history keeps them."""
        if len(step.sigs) != len(fn.sigs):
            raise TraceError(f"step {t}: {fn.name} takes {len(fn.sigs)} signatures")
        sig_values: list[SigValue[Any]] = []
        sig_keys: list[_SigKey] = []
        for rec in step.sigs:
            skey = _index(LC.KEYS, rec.key, "key")
            if len(rec.fields) != 4:
                raise TraceError(f"step {t}: a digest has four fields")
            tag = _index(tuple(d.name for d in self.v.digests), rec.digest, "digest") + 1
            f0, f1, f2, f3 = rec.fields
            sig_values.append(SigValue(tag, (f0, f1, f2, f3), skey))
            sig_keys.append((rec.digest, rec.fields, skey))
        return sig_values, sig_keys

    def _check_sigs(
        self, t: int, step: Step, fn: LC.Function, c: Call[Any], sig_keys: list[_SigKey]
    ) -> None:
        """Each signature: the right digest, over the fields now, by the right key and maker."""
        st = self.st
        for rec, rule, sv, sk in zip(step.sigs, fn.sigs, c.sigs, sig_keys, strict=True):
            if rec.digest != rule.digest:
                raise TraceError(f"step {t}: {fn.name} wants a {rule.digest} signature")
            d = next(x for x in self.v.digests if x.name == rule.digest)
            want = tuple(d.fn(PY, st, c))
            if sv.fields != want:
                raise TraceError(f"step {t}: {rule.digest} digest is {want}, trace has {sv.fields}")
            signer = st.numbers["key"][c.number] if rule.signer == "current" else c.key
            if sv.key != signer:
                raise TraceError(f"step {t}: the {rule.digest} signature is not by {rule.signer}")
            maker_ok = LC.maker_ok(PY, fn, c.actor, c.number, sv.key, self.theft_at)
            if not maker_ok and sk not in self.h.accepted:
                raise TraceError(
                    f"step {t}: {step.actor} cannot make a signature with {rec.key}, "
                    "and none like it was accepted before"
                )

    def _check_guards(self, t: int, fn: LC.Function, c: Call[Any]) -> None:
        for chk in fn.guards:
            if not chk.fn(PY, self.st, c):
                raise TraceError(f"step {t}: {fn.name} reverts with {chk.error} ({chk.text})")
        service = self.trace.operator == "honest" and fn.caller == LC.OPERATOR_ONLY
        if service and not LC.service_ok(PY, self.v, self.st, fn, c, self.theft_at):
            raise TraceError(f"step {t}: the operator's service refuses {fn.name}")

    def _judge(
        self, fn: LC.Function, c: Call[Any], pre: State[Any], sig_keys: list[_SigKey]
    ) -> LifecycleEvaluation | None:
        """Record the claims the call violates; the evaluation if it is the named violation."""
        i, q, violation = self.calls, self.question, self.trace.violation
        cross = [False]
        for claim, why in _violations(self.v, fn, c, pre, self.st, self.h, sig_keys, cross).items():
            self.found.setdefault(claim, f"call {i}: {why}")
            if (
                q is not None
                and violation is not None
                and violation.step == i
                and q.claim == claim
                and (q.condition != LC.CROSS_FUNCTION or cross[0])
            ):
                return LifecycleEvaluation(True, why, i + 1)
        return None

    def _remember(
        self, fn: LC.Function, c: Call[Any], pre: State[Any], sig_keys: list[_SigKey]
    ) -> None:
        """The history after the call: what the claims of later calls look back on."""
        st, h, number = self.st, self.h, c.number
        for n in range(len(LC.NUMBERS)):
            before, after = _current(pre, n), _current(st, n)
            if before is not None and before != after:
                h.retired.add(before)
            if _active(st, n) is not None:
                h.ever_approved.add(n)
            if fn.name == "revoke" and number == n:
                h.released.add(n)
            elif _active(st, n) is not None and _active(st, n) != _active(pre, n):
                h.released.discard(n)
        if fn.name == "announceRecovery":
            h.announced[number] = pre.scalars["now"]
        if (
            fn.name == "revoke"
            and number == 0
            and c.actor == LC.OWNER
            and self.theft_at >= 0
            and _current(pre, 0) == LC.STOLEN
        ):
            h.stolen_revoked = True
        h.accepted += sig_keys
        h.accepted_by += [fn.name] * len(sig_keys)


# -- honest runs, built without a solver -------------------------------------------------------

#: (function, actor, number, key) calls, or "tick"; signatures are made by the caller
Scenario = tuple[tuple[str, str, str, str | None] | str, ...]

#: the owner registers, revokes, re-onboards with a new key (claim 2's liveness half)
REONBOARD: Scenario = (
    ("register", "owner", "n0", "kA1"),
    ("approve", "operator", "n0", "kA1"),
    ("revoke", "owner", "n0", None),
    ("register", "owner", "n0", "kA2"),
    ("approve", "operator", "n0", "kA2"),
)
#: the owner lost its key; the operator recovers the number after the delay, nobody vetoes
RECOVERY: Scenario = (
    ("register", "owner", "n0", "kA1"),
    ("approve", "operator", "n0", "kA1"),
    ("announceRecovery", "operator", "n0", "kA2"),
    "tick",
    "tick",
    ("executeRecovery", "operator", "n0", "kA2"),
)
#: the paper's only life cycle: addClient, approveClient
PAPER_ONBOARD: Scenario = (
    ("addClient", "owner", "n0", "kA1"),
    ("approveClient", "operator", "n0", "kA1"),
)

HONEST: dict[str, dict[str, Scenario]] = {
    "paper": {"honest": PAPER_ONBOARD},
    "v1": {"honest_reonboard": REONBOARD, "honest_recovery": RECOVERY},
    "hardened": {"honest_reonboard": REONBOARD, "honest_recovery": RECOVERY},
}


def build_honest(variant_name: str, name: str, generated_by: str) -> LifecycleTrace:
    """The trace of scenario ``name``: each caller signs what the table asks, now."""
    v = LC.variant(variant_name)
    st = LC.initial_state()
    steps: list[Step] = []
    for i, item in enumerate(HONEST[variant_name][name]):
        if item == "tick":
            steps.append(Step("tick", None, None, None, None, (), st.scalars["now"]))
            st.scalars["now"] += 1
            continue
        assert not isinstance(item, str)
        fname, actor, number, key = item
        fn = v.function(fname)
        c = Call(
            LC.ACTORS.index(actor),
            LC.NUMBERS.index(number),
            LC.KEYS.index(key) if key is not None else 0,
            (),
            i,
        )
        sigs = []
        for rule in fn.sigs:
            d = next(x for x in v.digests if x.name == rule.digest)
            signer = st.numbers["key"][c.number] if rule.signer == "current" else c.key
            sigs.append(SigRecord(rule.digest, tuple(d.fn(PY, st, c)), LC.KEYS[signer]))
        steps.append(Step("call", fname, actor, number, key, tuple(sigs), st.scalars["now"]))
        writes: list[LC.Write] = []
        for _, eff in fn.effects:
            writes += eff(PY, st, c)
        if fn.status_to is not None:
            writes.append(("status", (c.number,), int(fn.status_to)))
        _apply(st, writes)
    return LifecycleTrace(
        variant=variant_name,
        spec_digest=LC.digest(v),
        kind="honest",
        claim=name if False else None,
        operator="honest",
        bound=len(steps),
        generated_by=generated_by,
        steps=tuple(steps),
    )


@dataclass(frozen=True)
class TableCheck:
    """One line of ``ethvoip check``'s life-cycle table."""

    variant: str
    functions: int
    digests: int
    questions: int
    honest_calls: int


def check_table(variant_name: str) -> TableCheck:
    """Well-formedness of one variant's table, and its honest scenarios replayed.

    Raises :class:`MalformedProtocol` for a signature rule naming no digest, a question
    without an expected verdict (or the reverse), or an honest scenario the table refuses.
    """
    v = LC.variant(variant_name)
    names = {d.name for d in v.digests}
    if len(names) != len(v.digests):
        raise MalformedProtocol(f"key_lifecycle/{v.name}: two digests share a name")
    for f in v.functions:
        for rule in f.sigs:
            if rule.digest not in names or rule.signer not in ("current", "new"):
                raise MalformedProtocol(f"key_lifecycle/{v.name}: {f.name} signs {rule}")
    for d in v.digests:
        if len(d.shape) > 4:
            raise MalformedProtocol(f"key_lifecycle/{v.name}: digest {d.name} has > 4 fields")
    asked = [q.name for q in v.all_questions]
    if len(set(asked)) != len(asked) or set(asked) != set(v.expected):
        raise MalformedProtocol(
            f"key_lifecycle/{v.name}: questions {sorted(asked)} and expectations "
            f"{sorted(v.expected)} differ"
        )
    calls = 0
    for name in HONEST[v.name]:
        try:
            calls += evaluate(build_honest(v.name, name, "ethvoip check")).calls
        except TraceError as exc:
            raise MalformedProtocol(f"key_lifecycle/{v.name}: {name}: {exc}") from exc
    return TableCheck(v.name, len(v.functions), len(v.digests), len(asked), calls)
