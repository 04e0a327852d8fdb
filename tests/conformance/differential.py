"""Differential conformance driver: the code's role machines and the spec's runs, side by side.

A :class:`Session` holds, for one protocol variant, the same runs twice: concrete role
machines (:func:`ethvoip.impl.handshake.create`, real keys and crypto, a
:class:`~ethvoip.attacks.world.World`) and the spec's own runs (:mod:`ethvoip.spec.semantics`,
the semantics the independent evaluator uses).  Every message goes to both:

* honest sends: the code's bytes, read back as a term with the replay's exact naming
  (``N1`` drawn by run 2 is ``N1#2``), must be the term the spec's run sends;
* a delivery to a waiting run: the concrete bytes go to a *fork* of the machine, the matching
  term to a fork of the spec run (the spec's ``once`` replay rule included).  Both must
  accept, with the same bindings once concrete values are named, or both refuse
  (:class:`Disagreement` otherwise).  Accepted forks replace the runs; refused ones are
  dropped, so one session tries many messages at one step (the spec's reading: a message
  that does not match is not received).

What is delivered (:meth:`Session.candidate`): any earlier message (in order, replayed,
reordered, from another session: ``forward``); a message the intruder builds, a symbolic
mutation of an earlier one that :class:`~ethvoip.spec.deduction.Knowledge` says he can derive,
carried out on bytes by the concrete intruder of the trace replays (``forge``); byte-level
mutations (``bytes``).  Bytes are read back as terms from the intruder's side of the wire
(:meth:`Session.parse`): a known message is its term, a record with fields the intruder made
up has new atoms of his (``v3#e``), a ciphertext nobody sent is junk no pattern matches.

A refusal names its check on both sides and the names must be equal: the code's is the
refusal's :class:`~ethvoip.spec.errors.Check` (:func:`refusal_check`), the spec's the check
its step fails by (:mod:`.spec_refusal`, in the code's documented order of checks), or the
replay rule (``replay``).  Where the wire carries what the spec's terms do not (record tags,
the AEAD's associated data, ECIES's ephemeral key), the precedence is written down at
:meth:`Session._why` and :meth:`Session._same_check`.
"""

from __future__ import annotations

import atexit
import dataclasses
import json
import os
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import strategies as st

from ethvoip.attacks.strategy import CVal, NetworkIntruder, encode
from ethvoip.attacks.world import Naming, World
from ethvoip.impl import wire
from ethvoip.impl.crypto import DhKey
from ethvoip.impl.handshake import (
    Completed,
    Event,
    LookedUp,
    RoleMachine,
    Sent,
    State,
    create,
    layout,
)
from ethvoip.impl.handshake.layouts import (
    BareKey,
    Const,
    Layout,
    Leaf,
    Opaque,
    Part,
    Raw,
    Rec,
    Sealed,
)
from ethvoip.impl.media import mikey as mikey_codec
from ethvoip.impl.media import mikey_pk
from ethvoip.spec.catalogue import get
from ethvoip.spec.deduction import Derivation, Knowledge
from ethvoip.spec.errors import (
    Check,
    ConformanceError,
    DecodeError,
    EthVoipError,
    MalformedProtocol,
)
from ethvoip.spec.evaluate import INTRUDER_SUFFIX, _receive_once, intruder_initial
from ethvoip.spec.protocol import Lookup, Recv, Send, Variant
from ethvoip.spec.semantics import INTRUDER, Run, lookup, receive, send, start_run
from ethvoip.spec.terms import (
    Atom,
    Exp,
    G,
    Pk,
    Sign,
    Sort,
    Term,
    Tup,
    Var,
    children,
    exp,
    rebuild,
    sort_of,
    substitute,
    tup,
    variables,
)
from tests.conformance.spec_refusal import expected_check, sealed_atom

AGENTS = ("a", "b", "e")

#: Every decision of this process, (protocol/variant, kind, label, outcome) -> count; written
#: as JSON to $DIFFERENTIAL_STATS at exit (the figures of docs/conformance.rst).
TALLY: Counter[tuple[str, str, str, str]] = Counter()


def _write_tally() -> None:
    path = os.environ.get("DIFFERENTIAL_STATS")
    if path and TALLY:
        rows = [[*k, n] for k, n in sorted(TALLY.items())]
        Path(path).write_text(json.dumps(rows, indent=0) + "\n")


atexit.register(_write_tally)


@dataclass(frozen=True)
class Carrier:
    """What the messages travel in between the machines (the STS re-key's RTCP APP
    packets): ``wrap`` a message, ``unwrap`` it as the receiving code does (a typed refusal
    when the carrier's own form is broken)."""

    name: str
    wrap: Callable[[bytes], bytes]
    unwrap: Callable[[bytes], bytes]


@dataclass(frozen=True)
class RunPlan:
    """One run of a session: its role, who plays it, and whom it is started with."""

    run_id: int
    role: str
    agent: str
    peers: Mapping[str, str] = field(default_factory=dict)  # parameter -> agent


def plans(variant: Variant) -> tuple[RunPlan, ...]:
    """Four runs: a calls b, b answers, a calls the intruder e, and b answers again (a
    second session, which the intruder opens as the subscriber e, see :meth:`Session.start`).
    A responder whose role is started with the caller's name (the STS dialog peer) is told
    ``a`` in run 2 and ``e`` in run 4."""
    init, resp = variant.role("I"), variant.role("R")
    i_peer = next(p.name for p in init.params if p != init.agent)
    r_peers = [p.name for p in resp.params if p != resp.agent]
    return (
        RunPlan(1, "I", "a", {i_peer: "b"}),
        RunPlan(2, "R", "b", dict.fromkeys(r_peers, "a")),
        RunPlan(3, "I", "a", {i_peer: "e"}),
        RunPlan(4, "R", "b", dict.fromkeys(r_peers, "e")),
    )


@dataclass(frozen=True)
class Msg:
    """A message on the network: who sent it at which step, its term, bytes and wire layout."""

    index: int
    run: int
    label: str
    term: Term
    data: bytes
    layout: Layout


@dataclass(frozen=True)
class Decision:
    """One side's decision on one delivery: accepted with bindings, or refused by a check."""

    accepted: bool
    bindings: Mapping[str, Term] = field(default_factory=dict)
    check: str | None = None  # which check refused (code: error type / check; spec: reason)


class Disagreement(AssertionError):
    """The code and the spec decided differently on the same message."""


def refusal_check(exc: EthVoipError) -> str:
    """The name of the check that refused: its ``Check`` value when the error carries one
    (every :class:`~ethvoip.spec.errors.Refused`), its type otherwise."""
    check = getattr(exc, "check", None)
    return check.value if isinstance(check, Check) else type(exc).__name__


#: The spec's name for a look-up of a name with no key: the key directory's error (no
#: message check refuses there, the directory has nothing to give).
NO_KEY = "ChainError"


class _Intruder(NetworkIntruder):
    """The trace replays' concrete intruder plus ``g^z`` for his own exponents."""

    def derive(self, d: Derivation, target: Layout | Part | None = None) -> CVal:
        if d.rule == "exp" and d.premises[0].term == G:
            secret = self.derive(d.premises[1])
            if not isinstance(secret, bytes):
                raise ConformanceError(f"cannot raise g to {d.premises[1].term}")
            public = DhKey.from_private_bytes(secret).public_bytes
            self.naming.bind(public, d.term)
            return public
        return super().derive(d, target)


class Session:
    """The runs of one protocol variant, concrete and symbolic (see the module docstring)."""

    def __init__(
        self,
        protocol: str,
        variant: str,
        seed: bytes = b"differential",
        carrier: Carrier | None = None,
    ) -> None:
        self.carrier = carrier
        self.protocol, self.variant_name = protocol, variant
        self.variant = get(protocol).variant(variant)
        self.world = World(seed + f"/{protocol}/{variant}".encode(), AGENTS)
        self.world.register({a: Pk(Atom(a, Sort.AGENT)) for a in AGENTS})
        self.directory: dict[Atom, Term] = {
            Atom(a, Sort.AGENT): Pk(Atom(a, Sort.AGENT)) for a in AGENTS
        }
        self.naming = Naming(self.world)
        self.log: list[Msg] = []
        self.intruder = _Intruder(self.world, self.naming, self._observed, seed)
        agents = [Atom(a, Sort.AGENT) for a in AGENTS]
        self.own: dict[Sort, list[Atom]] = {
            s: [Atom(f"{s.value}{i}{INTRUDER_SUFFIX}", s) for i in (1, 2)]
            for s in (Sort.NONCE, Sort.KEY, Sort.EXP)
        }
        own = [a for atoms in self.own.values() for a in atoms]
        self.know = Knowledge(intruder_initial(self.variant, agents, own))
        self.known: dict[bytes, Term] = {}  # whole messages and ciphertext fields -> term
        self.sealed_in: dict[Term, set[wire.Tag]] = {}  # ciphertext -> the records it was in
        self.spec: dict[int, Run] = {}
        self.code: dict[int, RoleMachine] = {}
        self.last: tuple[Decision, Decision] | None = None  # (code, spec) of the last delivery
        self.tally: Counter[tuple[str, str, str]] = Counter()  # (kind, label, outcome)
        self._junk = 0
        for p in plans(self.variant):
            role = self.variant.role(p.role)
            params = {v: Atom(p.peers.get(v.name, p.agent), Sort.AGENT) for v in role.params}
            self.spec[p.run_id] = start_run(role, p.run_id, params)
            peers = {k: self.world.phone(v) for k, v in p.peers.items()}
            env = self.world.env(p.agent, p.run_id)
            self.code[p.run_id] = create(protocol, variant, p.role, env, **peers)

    # -- the network -------------------------------------------------------------------

    def _observed(self, index: int) -> tuple[bytes, Layout]:
        m = self.log[index]
        return m.data, m.layout

    def _remember(self, lay: Layout, data: bytes, term: Term, sent: bool = False) -> None:
        """Index ``data`` (and its ciphertext fields) under ``term`` for :meth:`parse`;
        ``sent``: an honest run sent it (the record each ciphertext was made for)."""
        tags = self.sealed_in if sent else {}
        self.known.setdefault(data, term)
        if isinstance(lay, Sealed):
            self.known.setdefault(wire.decode(data, lay.outer)["ct"], term)
            tags.setdefault(term, set()).add(lay.outer)
        elif isinstance(lay, Rec):
            items = term.items if isinstance(term, Tup) and len(lay.parts) > 1 else (term,)
            fields = list(wire.decode(data, lay.tag).values)
            for part, item in zip(lay.parts, items, strict=True):
                if isinstance(part, Const):
                    continue
                value = fields.pop(0)
                if isinstance(part, Opaque):
                    self.known.setdefault(value, item)
                    tags.setdefault(item, set()).add(lay.tag)
                elif part.width == 2:
                    fields.pop(0)

    def start(self, opening: str = "") -> None:
        """Start every run, then open the sessions with the intruder as ``opening`` says:
        ``""`` leaves them to the schedule (b's run 4 is a second session anyone may open:
        replays of a's messages); ``"e-opens"``: the intruder opens run 4 as the subscriber
        e, so that b's later messages are his to read; ``"e-plays"``: he also answers a's
        call to him (run 3) to its end and run 4 up to its last receive, so that the checks
        of a last step (a signature) are reached within a few draws."""
        for rid in self.code:
            # one clock tick per run: MIKEY's T is the clock, which the spec models as a
            # fresh value of each run (two I_MESSAGEs in one NTP instant do not happen)
            self.world.now += 1.0
            self._emit(rid, self.code[rid], self.code[rid].start(), self.spec[rid])
        plays = {
            "": (),
            "e-opens": ((4, _receives_left(self.spec[4]) - 1),),
            "e-plays": ((4, 1), (3, 0)),
        }[opening]
        for rid, keep in plays:
            while rid in self.waiting() and _receives_left(self.spec[rid]) > keep:
                first = self.as_intruder(rid)
                if first is None or not self.deliver(rid, *first, "as-e"):
                    break

    def as_intruder_term(self, rid: int) -> Term:
        """What e sends run ``rid`` as an honest peer: its pattern with e's own values."""
        term = substitute(self.expecting(rid).pattern, self.spec[rid].bindings)
        own: dict[Sort, Term] = {Sort.AGENT: INTRUDER, Sort.GROUP: exp(G, self.own[Sort.EXP][0])}
        for v in sorted(variables(term), key=str):
            term = substitute(term, {v: own.get(v.sort) or self.own[v.sort][0]})
        return term

    def as_intruder(self, rid: int) -> tuple[bytes, Term] | None:
        """:meth:`as_intruder_term` on bytes (``None``: the intruder cannot build it)."""
        term = self.as_intruder_term(rid)
        data = self.forge(rid, term)
        return None if data is None else (data, term)

    def waiting(self) -> list[int]:
        return [rid for rid, m in self.code.items() if m.state is State.WAITING]

    def expecting(self, rid: int) -> Recv:
        step = self.spec[rid].next_step
        assert isinstance(step, Recv)
        return step

    # -- deciding ----------------------------------------------------------------------

    def deliver(
        self, rid: int, data: bytes, term: Term, kind: str, wire: bytes | None = None
    ) -> bool:
        """Feed ``data`` (whose term is ``term``) to run ``rid`` on both sides; compare.
        With a :class:`Carrier`, the code gets ``wire`` (``data`` carried, unless the bytes
        on the wire were edited) and takes the message out of it itself."""
        if self.carrier is not None and wire is None:
            wire = self.carrier.wrap(data)
        machine, run = self.code[rid].fork(), _fork(self.spec[rid])
        label = self.expecting(rid).label
        try:
            events = machine.receive(data if wire is None else self.carrier_unwrap(wire))
            code = Decision(True, self._code_bindings(machine, run))
        except EthVoipError as exc:
            events, code = [], Decision(False, check=refusal_check(exc))
        spec = self._spec_decide(rid, run, term, data)
        self.last = (code, spec)
        self.tally[(kind, label, "accept" if code.accepted else "refuse")] += 1
        where = f"{self.protocol}/{self.variant_name} run {rid} at {label} ({kind}): {term}"
        if code.accepted != spec.accepted:
            said = "accepts" if code.accepted else f"refuses ({code.check})"
            raise Disagreement(
                f"{where}: the code {said}, the spec "
                + ("accepts" if spec.accepted else f"refuses ({spec.check})")
            )
        if not code.accepted:
            if not self._same_check(rid, code, spec):
                raise Disagreement(f"{where}: refused by {code.check}, the spec by {spec.check}")
            return False
        if code.bindings != spec.bindings:
            raise Disagreement(f"{where}: code binds {code.bindings}, spec {spec.bindings}")
        self.code[rid], self.spec[rid] = machine, run
        self._emit(rid, machine, events, run, replayed=True)
        return True

    def carrier_unwrap(self, wire: bytes) -> bytes:
        assert self.carrier is not None
        return self.carrier.unwrap(wire)

    def _same_check(self, rid: int, code: Decision, spec: Decision) -> bool:
        """Whether the code's refusal names the spec's check.  One documented alias: an
        ECIES ciphertext whose ephemeral key is no curve point does not open; the spec's
        encryption is a perfect primitive with no ephemeral key to name, so the code's
        ``public_key`` there is the spec's ``decrypt``."""
        if code.check == spec.check:
            return True
        ecies = isinstance(
            layout(self.protocol, self.variant_name, self.expecting(rid).label), (Sealed, BareKey)
        )
        return ecies and (code.check, spec.check) == (Check.PUBLIC_KEY.value, Check.DECRYPT.value)

    def _spec_decide(self, rid: int, run: Run, term: Term, data: bytes) -> Decision:
        step = self.expecting(rid)
        others = {**self.spec, rid: run}
        if not _receive_once(run, step, term, others):
            return Decision(False, check=self._why(run, term, data))
        try:
            while isinstance(run.next_step, Lookup):  # what the code does inside receive()
                lookup(run, self.directory)
        except MalformedProtocol:
            return Decision(False, check=NO_KEY)
        bound = {v.name: t for v, t in run.bindings.items() if isinstance(v, Var)}
        return Decision(True, bound)

    def _why(self, run: Run, term: Term, data: bytes) -> str:
        """The check the spec's step refuses ``term`` by (:mod:`.spec_refusal`): the replay
        rule (``once``) when the pattern fits.  Precedence: bytes that are not a record of
        the step's wire format (another message's record tag, a cut) are refused by their
        form first; the spec's terms carry no record tags, so it would name what differs
        inside (a message of another step for another key: ``decrypt``)."""
        step = self.expecting(run.run_id)
        if not _decodes(layout(self.protocol, self.variant_name, step.label), data):
            return str(Check.DECODE.value)
        lay = layout(self.protocol, self.variant_name, step.label)
        tag = lay.outer if isinstance(lay, Sealed) else lay.tag if isinstance(lay, Rec) else None

        def moved(ct: Term) -> bool:
            # the AEAD's associated data is the record tag: a ciphertext cut out of another
            # record (STS message 2's, reflected as message 3) does not open, whatever its key
            seen = self.sealed_in.get(ct)
            return tag is not None and seen is not None and tag not in seen

        failure = expected_check(
            self.protocol, self.variant_name, run.role, step, run.bindings, term, moved
        )
        return str(Check.REPLAY.value if failure is None else failure.check.value)

    def _code_bindings(self, machine: RoleMachine, run: Run) -> dict[str, Term]:
        self.naming.bind_fresh(run.run_id, machine.role, machine.bindings)
        out: dict[str, Term] = {}
        for v in machine.role.params + _vars(machine):
            if v.name in machine.bindings:
                try:
                    out[v.name] = self.naming(machine.bindings[v.name])
                except (KeyError, ConformanceError):
                    out[v.name] = Atom(f"<unnamed {v.name}>", Sort.MSG)
        return out

    def _emit(
        self, rid: int, m: RoleMachine, events: Sequence[Event], run: Run, replayed: bool = False
    ) -> None:
        """Pair the machine's sends and look-ups with the spec run's, and log the sends."""
        self.naming.bind_fresh(rid, m.role, m.bindings)
        for ev in events:
            if isinstance(ev, Sent):
                step = run.next_step
                if not isinstance(step, Send) or step.label != ev.label:
                    raise Disagreement(f"run {rid}: the code sends {ev.label}, the spec {step}")
                term = send(run)
                got = m.term_of(ev.label, self.naming)
                if got != term:
                    raise Disagreement(f"run {rid} {ev.label}: code sends {got}, spec {term}")
                lay = layout(self.protocol, self.variant_name, ev.label)
                self.log.append(Msg(len(self.log), rid, ev.label, term, ev.data, lay))
                self._remember(lay, ev.data, term, sent=True)
                self.know.observe(term, len(self.log) - 1)
            elif isinstance(ev, LookedUp) and not replayed:
                # after a receive the spec side did its look-ups while deciding
                step = run.next_step
                if not isinstance(step, Lookup) or step.label != ev.label:
                    raise Disagreement(f"run {rid}: the code looks up at {ev.label}, spec {step}")
                key = lookup(run, self.directory)
                if self.naming(ev.key) != key:
                    raise Disagreement(f"run {rid} {ev.label}: code key {ev.key}, spec {key}")
            elif isinstance(ev, Completed):
                if not run.finished:
                    raise Disagreement(
                        f"run {rid}: the code finished, the spec is at {run.next_step}"
                    )
                want = run.value(run.role.session_key) if run.role.session_key else None
                if isinstance(want, Atom) and self.naming(ev.session_key) != want:
                    raise Disagreement(f"run {rid}: code key {ev.session_key!r}, spec {want}")
        if run.next_step is not None and not isinstance(run.next_step, Recv):
            raise Disagreement(f"run {rid}: the code waits, the spec goes on to {run.next_step}")

    # -- what the intruder can send --------------------------------------------------------

    def same_layout(self, rid: int) -> list[Msg]:
        """Earlier messages in the wire format the run waits for."""
        want = layout(self.protocol, self.variant_name, self.expecting(rid).label)
        return [m for m in self.log if m.layout == want]

    def forge(self, rid: int, term: Term) -> bytes | None:
        """The bytes of ``term`` built by the intruder, or ``None`` if he cannot derive it
        (or the concrete intruder has no rule for a step of its derivation)."""
        if not self.know.derivable(term):
            return None
        lay = layout(self.protocol, self.variant_name, self.expecting(rid).label)
        try:
            data = encode(lay, self.intruder.derive(self.know.explain(term), lay))
        except (ConformanceError, EthVoipError):
            return None
        self._remember(lay, data, term)
        return data

    def pool(self, sort: Sort) -> list[Term]:
        """Values of ``sort`` the intruder can use: his own and those he has learnt."""
        if sort is Sort.AGENT:
            return [Atom(a, Sort.AGENT) for a in AGENTS]
        if sort is Sort.PUBKEY:
            return [Pk(Atom(a, Sort.AGENT)) for a in AGENTS]
        if sort is Sort.GROUP:
            mine: list[Term] = [exp(G, z) for z in self.own[Sort.EXP]]
            seen = sorted((t for t in self.know.known() if isinstance(t, Exp)), key=str)
            return [*mine, *seen]
        known = sorted(
            (t for t in self.know.known() if isinstance(t, Atom) and t.sort is sort), key=str
        )
        return [*self.own.get(sort, []), *known]

    def signatures(self) -> list[Term]:
        """Signatures the intruder has seen (to splice into messages of other sessions)."""
        return sorted((t for t in self.know.known() if isinstance(t, Sign)), key=str)

    def parse(self, rid: int, data: bytes, base: Msg | None = None) -> Term:
        """The term of ``data`` as the intruder sees it, for the run ``rid`` waits on
        (``base``: the message ``data`` was made from by byte edits, for the formats whose
        fields the driver reads only by comparing with it)."""
        if data in self.known:
            return self.known[data]
        lay = layout(self.protocol, self.variant_name, self.expecting(rid).label)
        run = self.spec[rid]
        pattern = substitute(self.expecting(rid).pattern, run.bindings)
        try:
            if isinstance(lay, Sealed):
                return self.known.get(wire.decode(data, lay.outer)["ct"]) or self.sealed()
            if isinstance(lay, Rec):
                return self._parse_rec(lay, data, pattern)
            if isinstance(lay, BareKey):
                return self.sealed() if _decodes(lay, data) else self.junk()
            if isinstance(lay, Raw) and base is not None and base.layout == lay:
                return self._parse_i_message(data, base)
        except (EthVoipError, UnicodeDecodeError):
            pass
        return self.junk()

    def _parse_i_message(self, data: bytes, base: Msg) -> Term:
        """An edited RFC 3830 I_MESSAGE that still decodes strictly: ``base``'s term with
        each field that changed made the intruder's (a new value; a name read as the agent
        it names), and the signature his (SIGNi covers every byte before it, so any edit
        leaves a signature that verifies under no key).  Raises if it does not decode."""
        got, was = _i_message_fields(data), _i_message_fields(base.data)
        assert isinstance(base.term, Tup) and len(base.term.items) == len(got) + 1
        items = list(base.term.items)
        for i, (new, old) in enumerate(zip(got, was, strict=True)):
            if new == old:
                continue
            if i in (2, 3):  # IDi, IDr: a name
                name = new.removeprefix(b"sip:").decode("utf-8", "replace")
                items[i] = self._name(name, Sort.AGENT)
            elif i in (0, 1):  # T, RAND
                items[i] = self._name(new, Sort.NONCE)
            else:  # PKE, KEMAC
                items[i] = self.sealed()
        items[-1] = self.sealed()
        return tup(*items)

    def _parse_rec(self, lay: Rec, data: bytes, pattern: Term) -> Term:
        items = pattern.items if isinstance(pattern, Tup) and len(lay.parts) > 1 else (pattern,)
        fields = list(wire.decode(data, lay.tag).values)
        if len(items) != len(lay.parts):
            return self.junk()
        out: list[Term] = []
        for part, item in zip(lay.parts, items, strict=True):
            if isinstance(part, Const):
                out.append(Atom(part.value, Sort.CONST))
                continue
            value = fields.pop(0)
            if isinstance(part, Leaf):
                concrete: bytes | str = value.decode("utf-8") if part.name else value
                out.append(self._name(concrete, Sort.AGENT if part.name else sort_of(item)))
            elif isinstance(part, Opaque):
                out.append(self.known.get(value) or self.sealed())
            else:
                return self.junk()
        return tup(*out) if len(out) > 1 else out[0]

    def _name(self, value: bytes | str, sort: Sort) -> Term:
        try:
            return self.naming(value)
        except KeyError:
            self._junk += 1
            atom = Atom(f"v{self._junk}{INTRUDER_SUFFIX}", sort)
            self.naming.bind(value, atom)
            self.know.add(atom)
            return atom

    def junk(self) -> Atom:
        """A message no one can read as anything (no receive pattern matches an opaque atom)."""
        self._junk += 1
        return Atom(f"junk{self._junk}{INTRUDER_SUFFIX}", Sort.MSG)

    def sealed(self) -> Atom:
        """A well-formed opaque field (ciphertext, signature) nobody built: it opens to
        nothing and verifies under no key (the spec's refusal names ``decrypt``/``signature``
        for it, where a :meth:`junk` message is one that does not even decode)."""
        self._junk += 1
        return sealed_atom(self._junk)


_HEX = frozenset("0123456789ABCDEF")


def _decodes(lay: Layout, data: bytes) -> bool:
    """Whether ``data`` has the outer form of ``lay`` (its record tag and fields)."""
    try:
        if isinstance(lay, Sealed):
            wire.decode(data, lay.outer)
        elif isinstance(lay, Rec):
            wire.decode(data, lay.tag)
        elif isinstance(lay, BareKey):
            text = data.decode("ascii")  # upper-case hex of whole bytes (paper_r_2)
            return bool(text) and len(text) % 2 == 0 and all(c in _HEX for c in text)
        else:
            _i_message_fields(data)
    except (EthVoipError, UnicodeDecodeError):
        return False
    return True


def _i_message_fields(data: bytes) -> tuple[bytes, ...]:
    """T, RAND, IDi, IDr, PKE and KEMAC of an I_MESSAGE, decoded as the code does (strict,
    canonical: :class:`DecodeError` otherwise), in the order of the spec's term."""
    t, rand, ids, _, kemac, pke, _ = mikey_pk.decode_i_message(
        mikey_codec.decode_message(data), data
    )
    if len(ids) != 2:
        raise DecodeError("MIKEY: want IDi and IDr")
    kemac_bytes = kemac.encr_data + kemac.mac
    return (t.value.to_bytes(8, "big"), rand.value, ids[0].data, ids[1].data, pke.data, kemac_bytes)


def _receives_left(run: Run) -> int:
    return sum(isinstance(step, Recv) for step in run.role.steps[run.done :])


def _fork(run: Run) -> Run:
    return dataclasses.replace(run, bindings=dict(run.bindings))


def _vars(machine: RoleMachine) -> tuple[Var, ...]:
    out: set[Var] = set()
    for step in machine.role.steps:
        if isinstance(step, Recv):
            out |= variables(step.pattern)
        elif isinstance(step, Lookup):
            out.add(step.key)
    return tuple(sorted(out, key=str))


def leaves(t: Term) -> Iterator[tuple[tuple[int, ...], Term]]:
    """Positions a symbolic mutation may replace: the non-constant atoms of ``t`` and its
    signatures (a signature from elsewhere spliced in)."""

    def go(s: Term, path: tuple[int, ...]) -> Iterator[tuple[tuple[int, ...], Term]]:
        if isinstance(s, Atom):
            if s.sort is not Sort.CONST:
                yield path, s
            return
        if isinstance(s, Sign):
            yield path, s
        for i, c in enumerate(children(s)):
            yield from go(c, (*path, i))

    yield from go(t, ())


def replace_at(t: Term, path: tuple[int, ...], new: Term) -> Term:
    """``t`` with the subterm at ``path`` replaced (constructors re-normalise)."""
    if not path:
        return new
    counter = iter(range(10**6))
    target = path[0]

    def f(c: Term) -> Term:
        i = next(counter)
        return replace_at(c, path[1:], new) if i == target else c

    return rebuild(t, f)


def profile_examples(ci: int, deep: int) -> int:
    """Examples per test: ``ci`` in CI (derandomized), ``deep`` under HYPOTHESIS_PROFILE=deep
    (or $DIFFERENTIAL_DEEP_EXAMPLES, to fit a deep run into the time there is)."""
    if os.environ.get("HYPOTHESIS_PROFILE") != "deep":
        return ci
    return int(os.environ.get("DIFFERENTIAL_DEEP_EXAMPLES", deep))


# -- drawing deliveries (hypothesis) -----------------------------------------------------

#: How the sessions with the intruder open (:meth:`Session.start`).
OPENINGS = ("", "e-opens", "e-plays")

#: How a delivery is chosen; ``honest`` is listed twice so runs get far often enough.
KINDS = ("honest", "honest", "as-e", "forward", "foreign", "pattern", "mutate", "bytes")


Delivery = tuple[bytes, Term, str, bytes | None]  # message, term, kind, carried bytes


def draw_delivery(data: st.DataObject, s: Session, rid: int) -> Delivery | None:
    """One message for run ``rid`` (bytes, their term, how it was made), or ``None`` when the
    drawn kind has nothing to offer (nothing sent yet in that format, not derivable)."""
    kind = data.draw(st.sampled_from(KINDS), label="kind")
    same = s.same_layout(rid)
    if kind == "honest":
        same = [m for m in same if receive(_fork(s.spec[rid]), m.term)]
    if kind in ("honest", "forward"):
        if not same:
            return None
        m = data.draw(st.sampled_from(same), label="message")
        return m.data, m.term, kind, None
    if kind == "as-e":
        # e's honest answer, sometimes with a value or a signature from elsewhere
        term = mutate_term(data, s, s.as_intruder_term(rid), at_least=0)
        built_e = s.forge(rid, term)
        return None if built_e is None else (built_e, term, kind, None)
    if kind == "foreign":
        m = data.draw(st.sampled_from(s.log), label="message")
        return m.data, m.term, kind, None
    if kind == "bytes":
        m = data.draw(st.sampled_from(same or s.log), label="message")
        if s.carrier is not None:  # edit the carried bytes; what still unwraps is delivered
            carried = s.carrier.wrap(m.data)
            wire = mutate_bytes(data, carried)
            try:
                inner = s.carrier.unwrap(wire)
            except EthVoipError:
                return (b"", s.junk(), kind, wire) if wire != carried else None
            return (inner, s.parse(rid, inner, m), kind, wire) if wire != carried else None
        mutated = mutate_bytes(data, m.data)
        return (mutated, s.parse(rid, mutated, m), kind, None) if mutated != m.data else None
    if kind == "pattern":
        step = s.expecting(rid)
        base = substitute(step.pattern, s.spec[rid].bindings)
        for v in sorted(variables(base), key=str):
            base = substitute(base, {v: data.draw(st.sampled_from(s.pool(v.sort)), label=v.name)})
    else:
        if not same:
            return None
        base = data.draw(st.sampled_from(same), label="base").term
    term = mutate_term(data, s, base, at_least=0 if kind == "pattern" else 1)
    built = s.forge(rid, term)
    if built is None:
        s.tally[(kind, s.expecting(rid).label, "unbuildable")] += 1
        return None
    return built, term, kind, None


def mutate_term(data: st.DataObject, s: Session, t: Term, at_least: int) -> Term:
    """``t`` with up to two atoms (signatures) replaced by others of the same sort the intruder
    holds (that he has seen)."""
    spots = list(leaves(t))
    for _ in range(data.draw(st.integers(at_least, 2), label="replacements")):
        if not spots:
            break
        path, old = data.draw(st.sampled_from(spots), label="spot")
        choices = s.signatures() if isinstance(old, Sign) else s.pool(sort_of(old))
        if choices:
            t = replace_at(t, path, data.draw(st.sampled_from(choices), label="by"))
            spots = list(leaves(t))
    return t


def mutate_bytes(data: st.DataObject, raw: bytes) -> bytes:
    """One byte-level edit: a flipped bit, a cut, a byte added, removed or replaced."""
    op = data.draw(st.sampled_from(("flip", "cut", "add", "drop", "set")), label="edit")
    at = data.draw(st.integers(0, max(len(raw) - 1, 0)), label="at")
    if op == "flip":
        bit = data.draw(st.integers(0, 7), label="bit")
        return raw[:at] + bytes([raw[at] ^ (1 << bit)]) + raw[at + 1 :] if raw else raw
    if op == "cut":
        return raw[:at]
    byte = bytes([data.draw(st.integers(0, 255), label="byte")])
    if op == "add":
        return raw[:at] + byte + raw[at:]
    if op == "drop":
        return raw[:at] + raw[at + 1 :]
    return raw[:at] + byte + raw[at + 1 :]


def play(
    data: st.DataObject,
    protocol: str,
    variant: str,
    deliveries: int,
    carrier: Carrier | None = None,
) -> Session:
    """One generated schedule: start every run, then up to ``deliveries`` deliveries."""
    s = Session(protocol, variant, carrier=carrier)
    s.start(data.draw(st.sampled_from(OPENINGS), label="opening"))
    for _ in range(deliveries):
        waiting = s.waiting()
        if not waiting:
            break
        rid = data.draw(st.sampled_from(waiting), label="run")
        got = draw_delivery(data, s, rid)
        if got is not None:
            s.deliver(rid, *got)
    name = f"{protocol}/{variant}" + ("" if carrier is None else f" in {carrier.name}")
    TALLY.update({(name, *k): n for k, n in s.tally.items()})
    TALLY[(name, "schedules", "", "")] += 1
    if TALLY[(name, "schedules", "", "")] % 200 == 0:
        _write_tally()  # a long deep run stopped half-way still leaves its figures
    return s
