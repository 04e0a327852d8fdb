"""The cross-session splice on the paper's psk_handshake: A's signed Ks moved to another session.

The paper's signature in message 6 covers Ks alone, so a signed Ks made for one session is
good in any other.  Hand-written three-run trace (:func:`splice_trace`, re-checked by the
spec's independent evaluator in the tests): A calls e (session 1) and signs Ks#1 for e; A
calls e again (session 3), which e uses as Lowe's decryption oracle for B's nonce N2#2; e
completes B's session 2 "as A" with the signature from session 1.  B accepts Ks#1, which e
knows, as a key agreed with A.

Hardened: the oracle is closed by Lowe's fix (the trace's strategy is refused at ``I_3``),
and, even when e is simply handed N2 (a test-only grant), B refuses the spliced signature at
``R_5``: it covers ``<psk, Ks, A, B, N1, N2>`` of A's session with e, not of this one.
"""

from __future__ import annotations

from ethvoip.attacks.base import Attack, AttackResult, Attempt, Line, last_step, narrate
from ethvoip.attacks.intruder import Intruder
from ethvoip.attacks.replay import outcome, replay
from ethvoip.attacks.world import World
from ethvoip.impl import wire
from ethvoip.impl.handshake import Event, Sent, create
from ethvoip.impl.wire import Tag
from ethvoip.spec import checknames as C
from ethvoip.spec import semantics as sem
from ethvoip.spec.catalogue import get
from ethvoip.spec.deduction import Knowledge
from ethvoip.spec.errors import Check
from ethvoip.spec.evaluate import intruder_atom, intruder_initial
from ethvoip.spec.protocol import Lookup
from ethvoip.spec.terms import Atom, Sort, Term, aenc, pk, sign, sk, tup
from ethvoip.spec.trace import Trace, TraceEvent, TraceRun, Violation

CHECK = Check.SIGNATURE
a, b, e = (Atom(n, Sort.AGENT) for n in "abe")


def splice_trace() -> Trace:
    """The splice as a trace: terms from the spec's semantics, derivations from deduction."""
    p = get("psk_handshake")
    v = p.variant("paper")
    I, R = v.role("I"), v.role("R")  # noqa: E741 (the spec's role names)
    A, B = I.params
    runs = {
        1: sem.start_run(I, 1, {A: a, B: e}),
        2: sem.start_run(R, 2, {R.params[0]: b}),
        3: sem.start_run(I, 3, {A: a, B: e}),
    }
    directory = {a: pk(a), b: pk(b), e: pk(e)}
    n2e = intruder_atom("N2", Sort.NONCE)
    know = Knowledge(intruder_initial(v, [a, b], [n2e]))
    events: list[TraceEvent] = []
    sent: set[Term] = set()

    def act(rid: int, *, recv: Term | None = None) -> None:
        run = runs[rid]
        step = run.next_step
        assert step is not None
        if isinstance(step, Lookup):
            events.append(TraceEvent(rid, step.label, "lookup", sem.lookup(run, directory)))
        elif recv is None:
            t = sem.send(run)
            know.observe(t, len(events))
            sent.add(t)
            events.append(TraceEvent(rid, step.label, "send", t))
        else:
            assert sem.receive(run, recv), f"{step.label} refuses {recv}"
            how = None if recv in sent else know.explain(recv)
            events.append(TraceEvent(rid, step.label, "recv", recv, how))

    def val(rid: int, name: str) -> Term:
        return runs[rid].bindings[next(k for k in runs[rid].bindings if str(k) == name)]

    act(1)
    act(1)  # session 1: A -> e, {N1#1, a}pk(e)
    act(1, recv=aenc(tup(val(1, "N1"), n2e), pk(a)))  # e answers as an honest responder
    act(1)
    act(1)  # A: {N2#e}pk(e), {sign(Ks#1, sk(a)), N2#e}pk(e)
    act(3)
    act(3)  # session 3: A -> e again, {N1#3, a}pk(e): the oracle
    act(2, recv=aenc(tup(val(3, "N1"), a), pk(b)))  # e to B as A, with A's N1#3
    act(2)
    act(2)  # B looks up pk(a), answers {N1#3, N2#2}pk(a)
    act(3, recv=events[-1].term)  # forwarded to A's session 3
    act(3)
    act(3)  # A decrypts N2#2 for e: {N2#2}pk(e), and signs Ks#3
    act(2, recv=aenc(val(2, "N2"), pk(b)))
    # the splice: A's signature from session 1 with B's N2#2
    act(2, recv=aenc(tup(sign(val(1, "Ks"), sk(a)), val(2, "N2")), pk(b)))
    return Trace(
        protocol=p.name,
        variant="paper",
        spec_digest=p.digest(),
        kind="attack",
        claim="R_agree_Ks",
        bound=3,
        generated_by="hand-written: attacks/splice.py splice_trace()",
        directory={k.name: t for k, t in directory.items()},
        runs=tuple(
            TraceRun(rid, r.role.name, r.actor.name, {x.name: r.bindings[x] for x in r.role.params})
            for rid, r in sorted(runs.items())
        ),
        events=tuple(events),
        violation=Violation(2, "B accepts Ks#1, signed by A for her session with e"),
    )


def hardened_attempt() -> Attempt:
    """Session 1 a <-> e honest, then e splices a's signed Ks into b's session, N2 granted."""
    w = World(b"ethvoip/splice")
    for x in "abe":
        w.directory.register(w.phone(x), w.public_key(x))
    eve = Intruder({w.phone("e"): w.keys["e"]}, rng=w.rng("intruder"))
    alice = create("psk_handshake", "hardened", "I", w.env("a", 1), B=w.phone("e"))
    eve_r = create("psk_handshake", "hardened", "R", w.env("e", 2))

    def out(evs: list[Event]) -> list[bytes]:
        return [x.data for x in evs if isinstance(x, Sent)]

    [m1] = out(alice.start())
    [m2] = out(eve_r.receive(m1))
    _, m4 = out(alice.receive(m2))
    signed = eve.open(m4, Tag.PSK_4, Tag.PSK_4_BODY, as_=w.phone("e"))
    lines = [Line("I_5", "a: I#1", "signs Ks#1 for her honest session with e; e opens it")]
    bob = create("psk_handshake", "hardened", "R", w.env("b", 3))
    pk_b = w.public_key("b")
    n1 = w.rng("e-n1")(32)
    bob.receive(eve.seal(Tag.PSK_1, wire.encode(Tag.PSK_1_BODY, n1, w.phone("a")), pk_b))
    n2 = bob.bindings["N2"]  # the grant: Lowe's oracle is closed in hardened
    assert isinstance(n2, bytes)
    lines.append(Line("R_3", "b: R#3", "answers a; e is GRANTED N2 (test-only, no oracle left)"))
    bob.receive(eve.seal(Tag.PSK_3, wire.encode(Tag.PSK_3_BODY, n2), pk_b))
    splice = wire.encode(Tag.PSK_4_BODY, signed["Ks"], signed["sig"], n2)
    at = ("R_5", "b: R#3", "REJECTS the spliced signature")
    accepted = "b accepted the spliced Ks"
    return last_step(
        lambda: bob.receive(eve.seal(Tag.PSK_4, splice, pk_b)), at, lines, CHECK, accepted
    )


def run() -> AttackResult:
    t = splice_trace()
    paper = replay(t)
    got = outcome(paper)
    strategy = replay(t, variant="hardened")
    blocked, why, lines, checks = hardened_attempt()
    as_is = strategy.rejection.describe() if strategy.rejection else "not refused"
    return AttackResult(
        name="splice",
        protocol="psk_handshake (hand-written trace, 3 runs)",
        paper_reproduced=got.reproduced,
        hardened_blocked=blocked,
        blocked_by=why,
        steps=narrate(paper),
        hardened_steps=[
            *narrate(strategy),
            Line("-", "-", f"(the trace's strategy as is was refused: {as_is})"),
            *lines,
        ],
        intruder_ends_with=got.summary,
        checks=checks,
    )


ATTACK = Attack(
    "splice",
    "psk_handshake",
    "cross-session splice of A's signed Ks",
    run,
    checks=(C.LOWE_FIX, C.SESSION_SIGNATURE),
)

if __name__ == "__main__":
    raise SystemExit(ATTACK.main())
