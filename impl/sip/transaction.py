"""RFC 3261 section 17 transactions as state-transition tables (sans-IO).

Four machines - INVITE client (17.1.1), non-INVITE client (17.1.2), INVITE server (17.2.1),
non-INVITE server (17.2.2) - are each one table ``(state, input) -> Transition``.  An input
with no row in the current state is absorbed (that is what the RFC's figures mean by
leaving it out: e.g. timer A firing in Proceeding, a retransmitted ACK in Terminated).

Nothing here reads a clock or touches a socket: callers pass ``now`` (seconds, any epoch),
ask :meth:`Transaction.next_deadline` when to call :meth:`Transaction.on_time` again, and
carry out the returned outputs (:class:`Transmit`, :class:`Deliver`, :class:`Timeout`).
2xx to INVITE ends the client and server transactions at once (RFC 3261 proper, without
the RFC 6026 Accepted state): the UA core retransmits the 2xx and sends the ACK itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum, auto

from ethvoip.spec.errors import LocalProtocolError

from .builders import make_non2xx_ack, make_response, top_via
from .fields import BRANCH_COOKIE, NameAddr, parse_cseq
from .message import Request, Response
from .timers import Timer, TimerConfig


class State(Enum):
    CALLING = auto()
    TRYING = auto()
    PROCEEDING = auto()
    COMPLETED = auto()
    CONFIRMED = auto()
    TERMINATED = auto()


class Input(Enum):
    START = auto()
    PROVISIONAL = auto()  # a 1xx arrived (client) or the TU sends one (server)
    SUCCESS = auto()  # 2xx
    FAILURE = auto()  # 3xx-6xx
    REQUEST = auto()  # server: a retransmission of the request
    ACK = auto()  # INVITE server: ACK for our non-2xx
    TRANSPORT_ERROR = auto()


class Op(Enum):
    SEND_REQUEST = auto()  # (re)send the request (client)
    SEND_ACK = auto()  # send the ACK for a non-2xx (INVITE client)
    SEND_TRYING = auto()  # INVITE server: 100 Trying at once (17.2.1)
    SEND_RESPONSE = auto()  # server: send the response the TU gave, and remember it
    RESEND_LAST = auto()  # server: resend the last response sent
    DELIVER = auto()  # client: pass the response up to the TU
    BACKOFF = auto()  # restart the timer that fired with its next interval
    TIMEOUT = auto()  # tell the TU the transaction timed out (408 semantics)


@dataclass(frozen=True)
class Transition:
    to: State
    ops: tuple[Op, ...] = ()
    start: tuple[Timer, ...] = ()


Key = tuple[State, Input | Timer]
S, I = State, Input  # noqa: E741 - short names keep the tables readable

CLIENT_INVITE: dict[Key, Transition] = {
    (S.CALLING, I.START): Transition(S.CALLING, (Op.SEND_REQUEST,), (Timer.A, Timer.B)),
    (S.CALLING, Timer.A): Transition(S.CALLING, (Op.SEND_REQUEST, Op.BACKOFF)),
    (S.CALLING, Timer.B): Transition(S.TERMINATED, (Op.TIMEOUT,)),
    (S.CALLING, I.PROVISIONAL): Transition(S.PROCEEDING, (Op.DELIVER,)),
    (S.CALLING, I.SUCCESS): Transition(S.TERMINATED, (Op.DELIVER,)),
    (S.CALLING, I.FAILURE): Transition(S.COMPLETED, (Op.DELIVER, Op.SEND_ACK), (Timer.D,)),
    (S.CALLING, I.TRANSPORT_ERROR): Transition(S.TERMINATED, (Op.TIMEOUT,)),
    (S.PROCEEDING, I.PROVISIONAL): Transition(S.PROCEEDING, (Op.DELIVER,)),
    (S.PROCEEDING, I.SUCCESS): Transition(S.TERMINATED, (Op.DELIVER,)),
    (S.PROCEEDING, I.FAILURE): Transition(S.COMPLETED, (Op.DELIVER, Op.SEND_ACK), (Timer.D,)),
    (S.COMPLETED, I.FAILURE): Transition(S.COMPLETED, (Op.SEND_ACK,)),
    (S.COMPLETED, I.TRANSPORT_ERROR): Transition(S.TERMINATED, (Op.TIMEOUT,)),
    (S.COMPLETED, Timer.D): Transition(S.TERMINATED),
}

CLIENT_NON_INVITE: dict[Key, Transition] = {
    (S.TRYING, I.START): Transition(S.TRYING, (Op.SEND_REQUEST,), (Timer.E, Timer.F)),
    (S.TRYING, Timer.E): Transition(S.TRYING, (Op.SEND_REQUEST, Op.BACKOFF)),
    (S.TRYING, Timer.F): Transition(S.TERMINATED, (Op.TIMEOUT,)),
    (S.TRYING, I.TRANSPORT_ERROR): Transition(S.TERMINATED, (Op.TIMEOUT,)),
    (S.TRYING, I.PROVISIONAL): Transition(S.PROCEEDING, (Op.DELIVER,)),
    (S.TRYING, I.SUCCESS): Transition(S.COMPLETED, (Op.DELIVER,), (Timer.K,)),
    (S.TRYING, I.FAILURE): Transition(S.COMPLETED, (Op.DELIVER,), (Timer.K,)),
    (S.PROCEEDING, Timer.E): Transition(S.PROCEEDING, (Op.SEND_REQUEST, Op.BACKOFF)),
    (S.PROCEEDING, Timer.F): Transition(S.TERMINATED, (Op.TIMEOUT,)),
    (S.PROCEEDING, I.TRANSPORT_ERROR): Transition(S.TERMINATED, (Op.TIMEOUT,)),
    (S.PROCEEDING, I.PROVISIONAL): Transition(S.PROCEEDING, (Op.DELIVER,)),
    (S.PROCEEDING, I.SUCCESS): Transition(S.COMPLETED, (Op.DELIVER,), (Timer.K,)),
    (S.PROCEEDING, I.FAILURE): Transition(S.COMPLETED, (Op.DELIVER,), (Timer.K,)),
    (S.COMPLETED, Timer.K): Transition(S.TERMINATED),
}

SERVER_INVITE: dict[Key, Transition] = {
    (S.PROCEEDING, I.START): Transition(S.PROCEEDING, (Op.SEND_TRYING,)),
    (S.PROCEEDING, I.REQUEST): Transition(S.PROCEEDING, (Op.RESEND_LAST,)),
    (S.PROCEEDING, I.PROVISIONAL): Transition(S.PROCEEDING, (Op.SEND_RESPONSE,)),
    (S.PROCEEDING, I.SUCCESS): Transition(S.TERMINATED, (Op.SEND_RESPONSE,)),
    (S.PROCEEDING, I.FAILURE): Transition(S.COMPLETED, (Op.SEND_RESPONSE,), (Timer.G, Timer.H)),
    (S.PROCEEDING, I.TRANSPORT_ERROR): Transition(S.TERMINATED, (Op.TIMEOUT,)),
    (S.COMPLETED, I.REQUEST): Transition(S.COMPLETED, (Op.RESEND_LAST,)),
    (S.COMPLETED, Timer.G): Transition(S.COMPLETED, (Op.RESEND_LAST, Op.BACKOFF)),
    (S.COMPLETED, Timer.H): Transition(S.TERMINATED, (Op.TIMEOUT,)),
    (S.COMPLETED, I.ACK): Transition(S.CONFIRMED, (), (Timer.I,)),
    (S.COMPLETED, I.TRANSPORT_ERROR): Transition(S.TERMINATED, (Op.TIMEOUT,)),
    (S.CONFIRMED, Timer.I): Transition(S.TERMINATED),
}

SERVER_NON_INVITE: dict[Key, Transition] = {
    (S.TRYING, I.START): Transition(S.TRYING),
    (S.TRYING, I.PROVISIONAL): Transition(S.PROCEEDING, (Op.SEND_RESPONSE,)),
    (S.TRYING, I.SUCCESS): Transition(S.COMPLETED, (Op.SEND_RESPONSE,), (Timer.J,)),
    (S.TRYING, I.FAILURE): Transition(S.COMPLETED, (Op.SEND_RESPONSE,), (Timer.J,)),
    (S.PROCEEDING, I.REQUEST): Transition(S.PROCEEDING, (Op.RESEND_LAST,)),
    (S.PROCEEDING, I.PROVISIONAL): Transition(S.PROCEEDING, (Op.SEND_RESPONSE,)),
    (S.PROCEEDING, I.SUCCESS): Transition(S.COMPLETED, (Op.SEND_RESPONSE,), (Timer.J,)),
    (S.PROCEEDING, I.FAILURE): Transition(S.COMPLETED, (Op.SEND_RESPONSE,), (Timer.J,)),
    (S.PROCEEDING, I.TRANSPORT_ERROR): Transition(S.TERMINATED, (Op.TIMEOUT,)),
    (S.COMPLETED, I.REQUEST): Transition(S.COMPLETED, (Op.RESEND_LAST,)),
    (S.COMPLETED, Timer.J): Transition(S.TERMINATED),
}

# Inputs the TU drives on a server transaction (the others come from the network).
_TU_INPUTS = (I.PROVISIONAL, I.SUCCESS, I.FAILURE)


@dataclass(frozen=True)
class Transmit:
    """Send this message to the transaction's peer."""

    message: Request | Response


@dataclass(frozen=True)
class Deliver:
    """Client transaction: hand this response to the transaction user."""

    response: Response


@dataclass(frozen=True)
class Timeout:
    """The transaction gave up (timer B, F or H fired, or the transport failed)."""


Output = Transmit | Deliver | Timeout


def classify(status: int) -> Input:
    if status < 200:
        return Input.PROVISIONAL
    return Input.SUCCESS if status < 300 else Input.FAILURE


@dataclass
class Transaction:
    """Common driver: looks up the table, runs the ops, keeps the timers."""

    table: dict[Key, Transition]
    request: Request
    reliable: bool
    state: State
    config: TimerConfig = field(default_factory=TimerConfig)
    timers: dict[Timer, tuple[float, float]] = field(default_factory=dict)  # deadline, interval
    last_response: Response | None = None

    @property
    def terminated(self) -> bool:
        return self.state is State.TERMINATED

    def next_deadline(self) -> float | None:
        return min((d for d, _ in self.timers.values()), default=None)

    def on_time(self, now: float) -> list[Output]:
        """Fire every timer due at ``now``, earliest first."""
        out: list[Output] = []
        while True:
            due = [(d, t) for t, (d, _) in self.timers.items() if d <= now]
            if not due:
                return out
            _, timer = min(due, key=lambda x: x[0])
            _, interval = self.timers.pop(timer)
            out += self._step(timer, now, None, fired=(timer, interval))

    def transport_error(self, now: float) -> list[Output]:
        return self._step(Input.TRANSPORT_ERROR, now, None)

    def _step(
        self,
        event: Input | Timer,
        now: float,
        response: Response | None,
        *,
        fired: tuple[Timer, float] | None = None,
    ) -> list[Output]:
        transition = self.table.get((self.state, event))
        if transition is None:
            return []  # absorbed: no row for this input in this state
        previous = self.state
        self.state = transition.to
        out: list[Output] = []
        for op in transition.ops:
            out += self._run(op, now, response, fired, previous)
        if self.state is not previous:
            # A timer whose firing the new state would absorb is dead: drop it (e.g. A and B
            # once an INVITE client reaches Proceeding).
            self.timers = {t: v for t, v in self.timers.items() if (self.state, t) in self.table}
        for timer in transition.start:
            # Retransmission timers never run on reliable transports (17.1.1.2, 17.2.1).
            if self.reliable and timer in (Timer.A, Timer.E, Timer.G):
                continue
            interval = self.config.initial(timer, self.reliable)
            self.timers[timer] = (now + interval, interval)
        return out

    def _run(
        self,
        op: Op,
        now: float,
        response: Response | None,
        fired: tuple[Timer, float] | None,
        previous: State,
    ) -> list[Output]:
        if op is Op.SEND_REQUEST:
            return [Transmit(self.request)]
        if op is Op.SEND_ACK:
            assert response is not None
            return [Transmit(make_non2xx_ack(self.request, response))]
        if op is Op.SEND_TRYING:
            self.last_response = make_response(self.request, 100)
            return [Transmit(self.last_response)]
        if op is Op.SEND_RESPONSE:
            assert response is not None
            self.last_response = response
            return [Transmit(response)]
        if op is Op.RESEND_LAST:
            return [Transmit(self.last_response)] if self.last_response else []
        if op is Op.DELIVER:
            assert response is not None
            return [Deliver(response)]
        if op is Op.BACKOFF:
            assert fired is not None
            timer, interval = fired
            nxt = self.config.backoff(timer, interval, in_proceeding=previous is State.PROCEEDING)
            self.timers[timer] = (now + nxt, nxt)
            return []
        return [Timeout()]


class ClientTransaction(Transaction):
    """A client transaction for one request we send (INVITE or not)."""

    def __init__(
        self, request: Request, *, reliable: bool, config: TimerConfig | None = None
    ) -> None:
        invite = request.method == "INVITE"
        if request.method == "ACK":
            raise LocalProtocolError("ACK is never sent in a client transaction")
        super().__init__(
            table=CLIENT_INVITE if invite else CLIENT_NON_INVITE,
            request=request,
            reliable=reliable,
            state=State.CALLING if invite else State.TRYING,
            config=config or TimerConfig(),
        )

    def start(self, now: float) -> list[Output]:
        return self._step(Input.START, now, None)

    def on_response(self, response: Response, now: float) -> list[Output]:
        return self._step(classify(response.status), now, response)

    @property
    def key(self) -> tuple[str, str]:
        return client_key(self.request)


class ServerTransaction(Transaction):
    """A server transaction for one request we received."""

    def __init__(
        self, request: Request, *, reliable: bool, config: TimerConfig | None = None
    ) -> None:
        invite = request.method == "INVITE"
        if request.method == "ACK":
            raise LocalProtocolError("ACK never creates a server transaction")
        super().__init__(
            table=SERVER_INVITE if invite else SERVER_NON_INVITE,
            request=request,
            reliable=reliable,
            state=State.PROCEEDING if invite else State.TRYING,
            config=config or TimerConfig(),
        )

    def start(self, now: float) -> list[Output]:
        return self._step(Input.START, now, None)

    def on_request(self, request: Request, now: float) -> list[Output]:
        """A retransmission of the request, or (INVITE) the ACK for our non-2xx."""
        return self._step(Input.ACK if request.method == "ACK" else Input.REQUEST, now, None)

    def respond(self, response: Response, now: float) -> list[Output]:
        """The TU's response; refused once a final response was sent."""
        event = classify(response.status)
        if (self.state, event) not in self.table or event not in _TU_INPUTS:
            raise LocalProtocolError(f"cannot send {response.status} in state {self.state.name}")
        return self._step(event, now, response)

    @property
    def key(self) -> tuple[str, ...]:
        return server_key(self.request)


def client_key(msg: Request | Response) -> tuple[str, str]:
    """17.1.3: top Via branch plus CSeq method."""
    _, method = parse_cseq(msg.headers.get("CSeq") or "")
    return top_via(msg).branch or "", method


def server_key(request: Request) -> tuple[str, ...]:
    """17.2.3: branch, sent-by and method (ACK and CANCEL map onto what they refer to).

    CANCEL gets its own transaction, so its key keeps the CANCEL method; an ACK is matched to
    the INVITE transaction it acknowledges.  Requests without the RFC 3261 magic cookie
    (RFC 2543 peers) fall back to the dialog identifiers.
    """
    via = top_via(request)
    method = "INVITE" if request.method == "ACK" else request.method
    branch = via.branch or ""
    host, port = via.sent_by
    if branch.startswith(BRANCH_COOKIE):
        return branch, f"{host}:{port}", method
    number, _ = parse_cseq(request.headers.get("CSeq") or "")
    from_tag = NameAddr.parse(request.headers.get("From") or "").tag or ""
    return "rfc2543", request.call_id, from_tag, str(number), f"{host}:{port}", method
