"""The SIP user agent's call life cycle as one table: (state, event) -> (next state, action).

In the style of h11's ``_state``: the states and events are enums, every transition the UA
may take is a row of :data:`TABLE`, and :func:`step` - the one place where a call's next
state is decided - either returns the row or refuses the pair with a typed error naming the
state and the event.  What the application asks in the wrong state (``bye()`` on a ringing
call) is a :class:`LocalCallRefused`; a peer message the table has no row for is a
:class:`RemoteCallRefused`, which the UA drops and counts.  :mod:`.ua` classifies what
happened into a :class:`CallEvent`, runs the row's :class:`Action` and only then commits the
next state, so an action that fails changes no state.

Rows whose action is :attr:`Action.NOTHING` are tolerated duplicates and late arrivals (a
retransmitted ACK, a response to a call already ended): absorbed on purpose, not refused.
``IDLE`` is the state of a Call-ID the UA holds no call for; a call that returns to it is
dropped from :attr:`.ua.UserAgent.calls`.  The docs draw the state diagram from this table
(``docs/_ext/ethvoip_sipua.py``), so the picture cannot drift from the code.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum, auto
from types import MappingProxyType

from ethvoip.spec.errors import (
    Check,
    LocalProtocolError,
    ProtocolError,
    Refused,
    RemoteProtocolError,
)


class CallState(Enum):
    IDLE = auto()  # no call under this Call-ID (never stored)
    CALLING = auto()  # UAC: INVITE sent
    CANCELLING = auto()  # UAC: CANCEL sent
    RINGING = auto()  # UAS: INVITE received, not answered
    ANSWERED = auto()  # UAS: 2xx sent, waiting for ACK
    CONFIRMED = auto()
    ENDED = auto()


class Side(Enum):
    """Where an event comes from, which decides the type of its refusal."""

    LOCAL = "application"  # a UserAgent method: refused with LocalCallRefused
    REMOTE = "peer"  # a SIP message: refused with RemoteCallRefused
    TIMER = "timer"  # our own timers: refused with LocalCallRefused (a bug on this side)


class CallEvent(Enum):
    """What can happen to a call; the value is the name the docs give it."""

    # the application (UserAgent methods)
    PLACE = "invite()"
    RING = "ring()"
    ANSWER = "answer()"
    REJECT = "reject()"
    HANG_UP = "bye()"
    CANCEL = "cancel()"
    FORGET = "forget()"
    ABANDON = "abandon()"
    # the peer: responses to our INVITE (after the transaction layer) ...
    PROVISIONAL = "1xx"
    SUCCESS = "2xx"
    SUCCESS_AGAIN = "2xx again"  # a 2xx after its transaction ended (13.2.2.4)
    FAILURE = "3xx-6xx"
    CHALLENGE = "401/407 answered"  # a challenge we retry with credentials
    # ... and requests
    INVITE = "INVITE"
    REINVITE = "re-INVITE"
    ACK = "ACK"
    BYE = "BYE"
    CANCEL_REQUEST = "CANCEL"
    # our timers
    NO_RESPONSE = "timer B"  # the INVITE transaction timed out (or its transport failed)
    RESEND_2XX = "2xx timer"  # 13.3.1.4: resend our 2xx, T1 doubling up to T2
    NO_ACK = "64*T1"  # 13.3.1.4: no ACK for our 2xx


LOCAL_EVENTS = frozenset(
    {
        CallEvent.PLACE,
        CallEvent.RING,
        CallEvent.ANSWER,
        CallEvent.REJECT,
        CallEvent.HANG_UP,
        CallEvent.CANCEL,
        CallEvent.FORGET,
        CallEvent.ABANDON,
    }
)
TIMER_EVENTS = frozenset({CallEvent.NO_RESPONSE, CallEvent.RESEND_2XX, CallEvent.NO_ACK})


def side(event: CallEvent) -> Side:
    if event in LOCAL_EVENTS:
        return Side.LOCAL
    return Side.TIMER if event in TIMER_EVENTS else Side.REMOTE


class Action(Enum):
    """What the UA does on a transition; the value is how the docs say it."""

    NOTHING = "-"
    START_INVITE = "send INVITE"
    SEND_180 = "send 180"
    SEND_200 = "send 200 (resent until ACK)"
    SEND_REJECTION = "send the final response"
    SEND_BYE = "send BYE"
    SEND_CANCEL = "send CANCEL"
    DROP_TRANSACTIONS = "drop its transactions, send nothing"
    REPORT_PROGRESS = "CallProgress"
    ACK_ANSWER = "send ACK, CallAnswered"
    ACK_THEN_BYE = "send ACK, then BYE (9.1)"
    REPORT_FAILURE = "CallFailed"
    RETRY_WITH_CREDENTIALS = "resend INVITE with credentials"
    RESEND_ACK = "resend our ACK"
    NEW_INCOMING = "IncomingCall"
    ANSWER_482 = "send 482"
    ANSWER_488 = "send 488"
    CONFIRM = "CallConfirmed"
    END_BY_PEER = "send 200, CallEnded"
    ANSWER_481 = "send 481"
    CANCELLED = "send 200, 487 to the INVITE, CallFailed"
    REPORT_TIMEOUT = "CallFailed 408"
    RESEND_200 = "resend 200"
    GIVE_UP = "CallFailed 408"


@dataclass(frozen=True)
class Transition:
    to: CallState
    action: Action


class CallRefused(Refused, ProtocolError):
    """The call life cycle has no row for ``event`` in ``state``."""

    check = Check.CALL_STATE

    def __init__(self, state: CallState, event: CallEvent, call_id: str = "") -> None:
        self.state = state
        self.event = event
        self.call_id = call_id
        call = f"call {call_id!r}" if call_id else "a call"
        super().__init__(f"{call} in state {state.name} cannot take {event.value}")


class LocalCallRefused(CallRefused, LocalProtocolError):
    """The application (or one of our timers) drove a call wrongly."""


class RemoteCallRefused(CallRefused, RemoteProtocolError):
    """The peer sent something this call's state does not allow."""


def _rows() -> dict[tuple[CallState, CallEvent], Transition]:
    S, E, A = CallState, CallEvent, Action
    table: dict[tuple[CallState, CallEvent], Transition] = {}

    def row(
        states: Iterable[CallState],
        events: CallEvent | Iterable[CallEvent],
        to: CallState | None,
        act: Action,
    ) -> None:
        """``to`` None: each state stays what it is."""
        for event in (events,) if isinstance(events, CallEvent) else events:
            for s in states:
                if (s, event) in table:
                    raise AssertionError(f"two rows for {s.name} x {event.name}")
                table[(s, event)] = Transition(s if to is None else to, act)

    def others(*states: CallState) -> tuple[CallState, ...]:
        return tuple(s for s in S if s not in states)

    uac_early = (S.CALLING, S.CANCELLING)
    live = others(S.IDLE)
    invite_responses = (E.PROVISIONAL, E.SUCCESS, E.FAILURE, E.CHALLENGE)

    # the application
    row([S.IDLE], E.PLACE, S.CALLING, A.START_INVITE)
    row([S.CALLING], E.CANCEL, S.CANCELLING, A.SEND_CANCEL)
    row([S.RINGING], E.RING, None, A.SEND_180)
    row([S.RINGING], E.ANSWER, S.ANSWERED, A.SEND_200)
    row([S.RINGING], E.REJECT, S.ENDED, A.SEND_REJECTION)
    row([S.ANSWERED, S.CONFIRMED], E.HANG_UP, S.ENDED, A.SEND_BYE)
    row([S.IDLE, S.ENDED], E.FORGET, S.IDLE, A.NOTHING)
    row(S, E.ABANDON, S.IDLE, A.DROP_TRANSACTIONS)
    # responses to our INVITE; an ended (or forgotten) call absorbs late ones
    row(uac_early, E.PROVISIONAL, None, A.REPORT_PROGRESS)
    row([S.CALLING], E.SUCCESS, S.CONFIRMED, A.ACK_ANSWER)
    row([S.CANCELLING], E.SUCCESS, S.ENDED, A.ACK_THEN_BYE)
    row(uac_early, E.FAILURE, S.ENDED, A.REPORT_FAILURE)
    row(uac_early, E.CHALLENGE, None, A.RETRY_WITH_CREDENTIALS)
    row([S.IDLE, S.ENDED], invite_responses, None, A.NOTHING)
    row([S.CONFIRMED, S.ENDED], E.SUCCESS_AGAIN, None, A.RESEND_ACK)
    row(others(S.CONFIRMED, S.ENDED), E.SUCCESS_AGAIN, None, A.NOTHING)
    # requests from the peer
    row([S.IDLE], E.INVITE, S.RINGING, A.NEW_INCOMING)
    row(live, E.INVITE, None, A.ANSWER_482)
    row(S, E.REINVITE, None, A.ANSWER_488)  # session modification is outside this subset
    row([S.ANSWERED], E.ACK, S.CONFIRMED, A.CONFIRM)
    row([S.IDLE, S.CONFIRMED, S.ENDED], E.ACK, None, A.NOTHING)
    row([S.ANSWERED, S.CONFIRMED], E.BYE, S.ENDED, A.END_BY_PEER)
    row(others(S.ANSWERED, S.CONFIRMED), E.BYE, None, A.ANSWER_481)
    row([S.RINGING], E.CANCEL_REQUEST, S.ENDED, A.CANCELLED)
    row(others(S.RINGING), E.CANCEL_REQUEST, None, A.ANSWER_481)
    # our timers
    row(uac_early, E.NO_RESPONSE, S.ENDED, A.REPORT_TIMEOUT)
    row(others(*uac_early), E.NO_RESPONSE, None, A.NOTHING)
    row([S.ANSWERED], E.RESEND_2XX, None, A.RESEND_200)
    row([S.ANSWERED], E.NO_ACK, S.ENDED, A.GIVE_UP)
    return table


TABLE: Mapping[tuple[CallState, CallEvent], Transition] = MappingProxyType(_rows())


def step(state: CallState, event: CallEvent, call_id: str = "") -> Transition:
    """The row for ``event`` in ``state``, or the typed refusal of the pair."""
    transition = TABLE.get((state, event))
    if transition is not None:
        return transition
    if side(event) is Side.REMOTE:
        raise RemoteCallRefused(state, event, call_id)
    raise LocalCallRefused(state, event, call_id)
