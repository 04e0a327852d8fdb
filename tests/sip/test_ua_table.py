"""The UA's call life cycle is its table (``impl/sip/call_states.py``) and nothing else.

Three levels: the table alone (every state x event pair has a row or a typed refusal that
names both; rows pinned from RFC 3261); the UA's methods in each state (a method succeeds
exactly when the table has a row, lands in the row's state, and a refused one changes nothing
and sends nothing); and random runs of two UAs over a network that loses, duplicates,
reorders and reflects datagrams while the application calls methods at random, where every
state change must be a row of the table and nothing but a typed error may come out.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ethvoip.impl.sip.builders import make_cancel
from ethvoip.impl.sip.call_states import (
    LOCAL_EVENTS,
    TABLE,
    Action,
    CallEvent,
    CallRefused,
    CallState,
    LocalCallRefused,
    RemoteCallRefused,
    Side,
    side,
    step,
)
from ethvoip.impl.sip.codec import encode
from ethvoip.impl.sip.message import Request
from ethvoip.impl.sip.ua import Send, UaConfig, UserAgent
from ethvoip.spec.errors import Check, EthVoipError, LocalProtocolError, RemoteProtocolError

S, E = CallState, CallEvent
Address = tuple[str, int]
ALICE: Address = ("10.0.0.2", 5062)
BOB: Address = ("10.0.0.3", 5064)
SDP = b"v=0\r\no=x 1 1 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\n"


# --- the table alone ------------------------------------------------------------------


def test_every_pair_has_a_row_or_a_typed_refusal_naming_state_and_event() -> None:
    refused = 0
    for state, event in itertools.product(CallState, CallEvent):
        try:
            transition = step(state, event, "c@x")
        except CallRefused as err:
            refused += 1
            wanted = RemoteProtocolError if side(event) is Side.REMOTE else LocalProtocolError
            assert isinstance(err, wanted), (state, event, type(err))
            assert (err.state, err.event, err.call_id) == (state, event, "c@x")
            assert state.name in str(err) and event.value in str(err)
            assert (state, event) not in TABLE
        else:
            assert TABLE[(state, event)] == transition
    assert 0 < refused < len(CallState) * len(CallEvent)


def test_peer_messages_and_timers_never_leave_a_state_without_a_row() -> None:
    # What the peer sends to a call that has ended or never was is absorbed or answered
    # (481, 482, 488), never an error: late and duplicated messages are normal on UDP.
    for state in (S.IDLE, S.ENDED):
        for event in CallEvent:
            if side(event) is Side.REMOTE:
                assert (state, event) in TABLE, (state, event)
    for state in CallState:
        assert (state, E.NO_RESPONSE) in TABLE
        assert (state, E.REINVITE) in TABLE and (state, E.ABANDON) in TABLE


#: rows read off RFC 3261 (section in the comment), not off the table
PINNED = [
    (S.IDLE, E.PLACE, S.CALLING, Action.START_INVITE),
    (S.CALLING, E.SUCCESS, S.CONFIRMED, Action.ACK_ANSWER),  # 13.2.2.4
    (S.CALLING, E.FAILURE, S.ENDED, Action.REPORT_FAILURE),
    (S.CALLING, E.CANCEL, S.CANCELLING, Action.SEND_CANCEL),  # 9.1
    (S.CANCELLING, E.SUCCESS, S.ENDED, Action.ACK_THEN_BYE),  # 9.1: 2xx crossed the CANCEL
    (S.CANCELLING, E.FAILURE, S.ENDED, Action.REPORT_FAILURE),  # the 487
    (S.CALLING, E.NO_RESPONSE, S.ENDED, Action.REPORT_TIMEOUT),  # 17.1.1.2 timer B
    (S.IDLE, E.INVITE, S.RINGING, Action.NEW_INCOMING),
    (S.CONFIRMED, E.INVITE, S.CONFIRMED, Action.ANSWER_482),  # 8.2.2.2 merged request
    (S.RINGING, E.CANCEL_REQUEST, S.ENDED, Action.CANCELLED),  # 9.2
    (S.CONFIRMED, E.CANCEL_REQUEST, S.CONFIRMED, Action.ANSWER_481),  # 9.2
    (S.RINGING, E.ANSWER, S.ANSWERED, Action.SEND_200),
    (S.ANSWERED, E.RESEND_2XX, S.ANSWERED, Action.RESEND_200),  # 13.3.1.4
    (S.ANSWERED, E.NO_ACK, S.ENDED, Action.GIVE_UP),  # 13.3.1.4
    (S.ANSWERED, E.ACK, S.CONFIRMED, Action.CONFIRM),
    (S.CONFIRMED, E.ACK, S.CONFIRMED, Action.NOTHING),  # a retransmitted ACK
    (S.CONFIRMED, E.BYE, S.ENDED, Action.END_BY_PEER),  # 15.1.2
    (S.ENDED, E.BYE, S.ENDED, Action.ANSWER_481),  # 15.1.2
    (S.CONFIRMED, E.HANG_UP, S.ENDED, Action.SEND_BYE),  # 15.1.1
    (S.CONFIRMED, E.SUCCESS_AGAIN, S.CONFIRMED, Action.RESEND_ACK),  # 13.2.2.4
    (S.ENDED, E.FORGET, S.IDLE, Action.NOTHING),
]

#: pairs that must be refused, and with which type
REFUSED = [
    (S.RINGING, E.HANG_UP, LocalCallRefused),  # BYE before the call is answered
    (S.ENDED, E.HANG_UP, LocalCallRefused),
    (S.CONFIRMED, E.CANCEL, LocalCallRefused),  # 9.1: nothing left to cancel
    (S.CALLING, E.FORGET, LocalCallRefused),  # a live call is not forgotten
    (S.CONFIRMED, E.PROVISIONAL, RemoteCallRefused),  # no INVITE of ours is pending
    (S.RINGING, E.ACK, RemoteCallRefused),  # no 2xx of ours to acknowledge
    (S.CONFIRMED, E.NO_ACK, LocalCallRefused),  # our 2xx timer outlived the 2xx
]


@pytest.mark.parametrize(("state", "event", "to", "action"), PINNED)
def test_rows_pinned_from_the_rfc(
    state: CallState, event: CallEvent, to: CallState, action: Action
) -> None:
    assert step(state, event) == TABLE[(state, event)]
    assert (TABLE[(state, event)].to, TABLE[(state, event)].action) == (to, action)


@pytest.mark.parametrize(("state", "event", "error"), REFUSED)
def test_pairs_the_rfc_forbids_are_refused(
    state: CallState, event: CallEvent, error: type[CallRefused]
) -> None:
    with pytest.raises(error) as caught:
        step(state, event, "c@x")
    assert isinstance(caught.value, LocalProtocolError | RemoteProtocolError)
    assert (caught.value.state, caught.value.event) == (state, event)
    assert caught.value.check is Check.CALL_STATE


# --- the UA's methods in each state ---------------------------------------------------


@dataclass
class Wire:
    """Datagrams in flight between UAs; the test decides which arrives, when and where."""

    uas: dict[Address, UserAgent]
    inflight: list[tuple[Address, Address, bytes]] = field(default_factory=list)
    now: float = 0.0

    def collect(self) -> None:
        for addr, ua in self.uas.items():
            for out in ua.take_outputs():
                if isinstance(out, Send):
                    self.inflight.append((addr, out.dest, out.data))

    def deliver(self, index: int, *, to_sender: bool = False) -> None:
        src, dest, data = self.inflight.pop(index)
        target = src if to_sender else dest
        if target in self.uas:
            self.uas[target].receive(data, src, self.now)
        self.collect()

    def pump(self) -> None:
        self.collect()
        while self.inflight:
            self.deliver(0)


def _ua(addr: Address) -> UserAgent:
    counter = itertools.count(1)
    config = UaConfig(aor=f"sip:u{addr[1]}@{addr[0]}", local_host=addr[0], local_port=addr[1])
    return UserAgent(config, random_bytes=lambda n: next(counter).to_bytes(n, "big"))


def _pair() -> tuple[Wire, UserAgent, UserAgent]:
    alice, bob = _ua(ALICE), _ua(BOB)
    return Wire({ALICE: alice, BOB: bob}), alice, bob


def _target(addr: Address) -> str:
    return f"sip:u{addr[1]}@{addr[0]}:{addr[1]}"


def _reach(state: CallState) -> tuple[Wire, UserAgent, str]:
    """A UA holding a call in ``state`` (IDLE: a Call-ID it holds nothing for), its
    outputs taken so far already on the wire."""
    wire, alice, bob = _pair()
    if state is S.IDLE:
        return wire, alice, "nobody@nowhere"
    call_id = alice.invite(_target(BOB), SDP, 0.0)
    if state is not S.CALLING:
        wire.pump()  # INVITE, 100 Trying: Bob's call is RINGING
    if state is S.CANCELLING:
        alice.cancel(call_id, 0.0)
    if state in (S.ANSWERED, S.CONFIRMED, S.ENDED):
        bob.answer(call_id, SDP, 0.0)
    if state in (S.CONFIRMED, S.ENDED):
        wire.pump()  # 200, ACK
    if state is S.ENDED:
        alice.bye(call_id, 0.0)
    wire.collect()
    return wire, bob if state in (S.RINGING, S.ANSWERED) else alice, call_id


def _state(ua: UserAgent, call_id: str) -> CallState:
    call = ua.calls.get(call_id)
    return S.IDLE if call is None else call.state


METHODS: dict[CallEvent, Callable[[UserAgent, str, float], object]] = {
    E.RING: lambda ua, c, now: ua.ring(c, now),
    E.ANSWER: lambda ua, c, now: ua.answer(c, SDP, now),
    E.REJECT: lambda ua, c, now: ua.reject(c, 486, now, why="busy"),
    E.HANG_UP: lambda ua, c, now: ua.bye(c, now),
    E.CANCEL: lambda ua, c, now: ua.cancel(c, now),
    E.FORGET: lambda ua, c, now: ua.forget(c),
    E.ABANDON: lambda ua, c, now: ua.abandon(c),
}


def test_every_application_event_has_its_method() -> None:
    assert set(METHODS) | {E.PLACE} == LOCAL_EVENTS


@pytest.mark.parametrize("state", list(CallState), ids=lambda s: s.name)
def test_reached_states_are_the_ones_asked_for(state: CallState) -> None:
    _, ua, call_id = _reach(state)
    assert _state(ua, call_id) is state


@pytest.mark.parametrize("event", list(METHODS), ids=lambda e: e.name)
@pytest.mark.parametrize("state", list(CallState), ids=lambda s: s.name)
def test_a_method_works_exactly_where_the_table_has_a_row(
    state: CallState, event: CallEvent
) -> None:
    wire, ua, call_id = _reach(state)
    row = TABLE.get((state, event))
    if row is None:
        with pytest.raises(LocalCallRefused) as caught:
            METHODS[event](ua, call_id, 1.0)
        assert (caught.value.state, caught.value.event, caught.value.call_id) == (
            state,
            event,
            call_id,
        )
        assert _state(ua, call_id) is state
        assert ua.take_outputs() == []  # a refusal sends nothing
    else:
        METHODS[event](ua, call_id, 1.0)
        assert _state(ua, call_id) is row.to
        wire.collect()


def test_placing_a_call_is_the_idle_row() -> None:
    _, alice, _ = _pair()
    call_id = alice.invite(_target(BOB), SDP, 0.0)
    assert TABLE[(S.IDLE, E.PLACE)].to is _state(alice, call_id) is S.CALLING


def test_the_ua_has_an_action_for_every_action_of_the_table() -> None:
    _, alice, _ = _pair()
    assert set(alice._actions) == set(Action)


# --- random runs: every state change is a row ------------------------------------------


class Watched:
    """Wraps a UA's ``_fire`` to keep a shadow of each call's state from the rows it took.

    After each step of a run, the UA's calls must be exactly the shadow: a state changed
    anywhere but through a row of the table shows up as a difference.
    """

    def __init__(self, ua: UserAgent) -> None:
        self.ua = ua
        self.shadow = {c: call.state for c, call in ua.calls.items()}
        self.taken: set[tuple[CallState, CallEvent]] = set()
        fire = ua._fire

        def watched(o):  # type: ignore[no-untyped-def]
            # the state the table is asked about: the matched call's (a BYE whose tags
            # match no dialog is for no call, even if its Call-ID names one)
            before = S.IDLE if o.call is None else o.call.state
            if o.call is not None:
                assert before is self.shadow.get(o.call_id, S.IDLE)
            try:
                fire(o)
            except CallRefused:
                assert (before, o.event) not in TABLE
                assert o.call is None or o.call.state is before
                raise
            self.taken.add((before, o.event))
            if o.call is not None:  # matched, or created by the row's action
                self.shadow[o.call_id] = TABLE[(before, o.event)].to

        ua._fire = watched  # type: ignore[method-assign]

    def check(self) -> None:
        live = {c: s for c, s in self.shadow.items() if s is not S.IDLE}
        assert {c: call.state for c, call in self.ua.calls.items()} == live


@dataclass(frozen=True)
class Op:
    """One step of a run; ``kind`` says which of the other fields it reads."""

    kind: str
    who: Address
    method: CallEvent
    pick: int
    how: str
    dt: float
    forged: str = "BYE"


#: kinds repeated to weight them: a run must get deep into calls, not only start them
OPS = st.builds(
    Op,
    kind=st.sampled_from(
        ["invite", "call", "call", "call", "deliver", "deliver", "pump", "tick", "forge"]
    ),
    who=st.sampled_from([ALICE, BOB]),
    method=st.sampled_from(list(METHODS)),
    pick=st.integers(0, 7),
    how=st.sampled_from(["first", "any", "any", "drop", "twice", "back"]),
    dt=st.sampled_from([0.0, 0.6, 4.0, 40.0]),
    forged=st.sampled_from(["BYE", "ACK", "INVITE", "re-INVITE", "CANCEL"]),
)


def _forge(wire: Wire, op: Op) -> None:
    """A request a peer may send at any moment, for a call one UA holds, to the other UA:
    in-dialog BYE, ACK or re-INVITE, a CANCEL of the INVITE, the INVITE on a new branch."""
    held = [(a, call) for a, ua in sorted(wire.uas.items()) for call in ua.calls.values()]
    if not held:
        return
    src, call = held[op.pick % len(held)]
    via = f"SIP/2.0/UDP {src[0]}:{src[1]};branch=z9hG4bKforged{op.pick}x{len(wire.inflight)}"
    if op.forged == "CANCEL":
        req = make_cancel(call.invite)
    elif op.forged == "INVITE":
        req = Request("INVITE", call.invite.uri, call.invite.headers.copy(), call.invite.body)
        req.headers.set("Via", via)
    elif call.dialog is None:
        return
    else:
        method = "INVITE" if op.forged == "re-INVITE" else op.forged
        req = call.dialog.request(method, via, cseq=call.dialog.local_seq + 1 + op.pick)
    wire.inflight.append((src, BOB if src == ALICE else ALICE, encode(req)))
    wire.deliver(len(wire.inflight) - 1)


def _deliver(wire: Wire, op: Op) -> None:
    """Deliver one datagram in flight: the first or any, lost, twice, or back to its sender."""
    if not wire.inflight:
        return
    index = 0 if op.how == "first" else op.pick % len(wire.inflight)
    if op.how == "drop":
        wire.inflight.pop(index)
        return
    if op.how == "twice":
        wire.inflight.append(wire.inflight[index])
    wire.deliver(index, to_sender=op.how == "back")


def _apply(wire: Wire, op: Op) -> None:
    if op.kind == "invite":
        wire.uas[op.who].invite(_target(BOB if op.who == ALICE else ALICE), SDP, wire.now)
    elif op.kind == "call":
        # a call either UA holds (or one neither does), so that methods meet live calls
        held = [(ua, c) for _, ua in sorted(wire.uas.items()) for c in sorted(ua.calls)]
        ua, call_id = [*held, (wire.uas[op.who], "nobody@nowhere")][op.pick % (len(held) + 1)]
        # a refusal is typed, and the watcher checked that it changed nothing
        with contextlib.suppress(EthVoipError):
            METHODS[op.method](ua, call_id, wire.now)
    elif op.kind == "deliver":
        _deliver(wire, op)
    elif op.kind == "pump":
        wire.pump()
    elif op.kind == "forge":
        _forge(wire, op)
    else:
        wire.now += op.dt
        for each in wire.uas.values():
            each.tick(wire.now)


def _run(start: CallState, ops: list[Op]) -> set[tuple[CallState, CallEvent]]:
    """Run ``ops`` from a pair of UAs whose call is in ``start`` (a head start: random steps
    alone seldom get a call answered before they wander off)."""
    wire, _, _ = _reach(start)
    watched = [Watched(wire.uas[ALICE]), Watched(wire.uas[BOB])]
    for op in ops:
        _apply(wire, op)
        wire.collect()
        for w in watched:
            w.check()
    return watched[0].taken | watched[1].taken


@given(st.sampled_from(list(CallState)), st.lists(OPS, min_size=10, max_size=60))
def test_random_runs_only_take_rows_of_the_table(start: CallState, ops: list[Op]) -> None:
    _run(start, ops)  # any exception but a typed refusal of an application call fails the run


def _op(kind: str, method: CallEvent = E.RING, pick: int = 0) -> Op:
    return Op(kind, ALICE, method, pick, "first", 0.0)


def test_a_scripted_run_takes_the_rows_a_call_needs() -> None:
    # The watcher itself must see transitions: a full call, answered, confirmed, hung up.
    # ``pick`` 0 is Alice's call, 1 Bob's (calls are listed by the holder's address).
    ops = [_op("invite"), _op("pump"), _op("call", E.RING, 1), _op("call", E.ANSWER, 1)]
    ops += [_op("pump"), _op("call", E.HANG_UP, 0), _op("pump")]
    taken = _run(S.IDLE, ops)
    assert {
        (S.IDLE, E.PLACE),
        (S.IDLE, E.INVITE),
        (S.RINGING, E.RING),
        (S.RINGING, E.ANSWER),
        (S.CALLING, E.SUCCESS),
        (S.ANSWERED, E.ACK),
        (S.CONFIRMED, E.HANG_UP),
        (S.CONFIRMED, E.BYE),
    } <= taken


def test_a_request_that_matches_no_dialog_leaves_the_call_with_its_call_id_alone() -> None:
    # Found by the random runs: the ACK Alice sent, reflected back to her, names her call's
    # Call-ID but not her dialog (its tags are the wrong way round); the table sees it in
    # IDLE, and IDLE's row must not drop the call that does hold that Call-ID.
    wire, alice, bob = _pair()
    call_id = alice.invite(_target(BOB), SDP, 0.0)
    wire.pump()
    bob.answer(call_id, SDP, 0.0)
    wire.collect()
    wire.deliver(0)  # the 200: Alice sends her ACK
    ((src, dest, data),) = wire.inflight
    assert (src, dest, data[:4]) == (ALICE, BOB, b"ACK ")
    wire.deliver(0, to_sender=True)
    assert _state(alice, call_id) is S.CONFIRMED
    assert wire.inflight == []  # absorbed: an ACK is never answered
