"""A secure phone: TLS-PSK signalling, media key by MIKEY in the INVITE, SRTP media, and the
call-setup breakdown of the paper's Table I.

:class:`SecurePhone` is one subscriber's UA.  :meth:`~SecurePhone.connect` runs the
psk_handshake with the SIP server and opens SIP over TLS-PSK (:mod:`.signaling`);
:meth:`~SecurePhone.register` sends REGISTER with the SIP credentials inside it.
:meth:`~SecurePhone.call` runs the caller's mikey_key_transport machine (look-up of the
callee's key in the key store, fresh keys, the MIKEY message), puts its ``I_3`` into the
INVITE's SDP (:mod:`.keying`) and, once answered, derives the SRTP master key and opens the
media stream.  :meth:`~SecurePhone.answer` is the callee's side: it feeds the INVITE's From/To
and key attribute to its machine, refuses the call (488) when the machine rejects it, and
otherwise answers with its RTP address and listens for SRTP (:mod:`.media`).

Timing: wall-clock phases are measured with an injected ``perf`` clock (time.perf_counter by
default) around each step; nothing here asserts on them (see bench/call_setup.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from ethvoip.impl.crypto import DEFAULT_RNG, IdentityKey, Rng
from ethvoip.impl.handshake import Env, ReplayCache, RoleMachine, Sent, create
from ethvoip.impl.handshake.machine import Directory
from ethvoip.impl.sip.transport import SipEndpoint, StreamTransport, wait_bound
from ethvoip.impl.sip.ua import (
    Address,
    CallAnswered,
    CallFailed,
    IncomingCall,
    Registered,
    RegistrationFailed,
    UaConfig,
    UserAgent,
)
from ethvoip.spec.errors import Check, EthVoipError, PeerRefused, SipError

from .keying import (
    build_sdp,
    check_r_message,
    invite_record,
    r_message,
    read_sdp,
    stream_masters,
)
from .media import Datagrams, MediaReceiver, MediaSender, RtcpChannel, bind_udp
from .sas import machine_sas
from .signaling import SecureLink, secure_connect
from .sts_rtcp import Rekey, sts_rekey_initiator, sts_rekey_responder

T = TypeVar("T")
PROTOCOL = "mikey_key_transport"


@dataclass(frozen=True)
class Subscriber:
    """What one subscriber's phone holds: number, identity key, SIP password."""

    number: str
    key: IdentityKey
    password: str


class _TimedDirectory:
    """A Directory that adds the time of each look-up to ``spent``."""

    def __init__(self, inner: Directory, perf: Callable[[], float]) -> None:
        self.inner, self.perf, self.spent = inner, perf, 0.0

    def lookup(self, name: str) -> Any:
        t = self.perf()
        try:
            return self.inner.lookup(name)
        finally:
            self.spent += self.perf() - t


class _TimedRng:
    """An Rng that adds the time spent drawing key material to ``spent``."""

    def __init__(self, inner: Rng, perf: Callable[[], float]) -> None:
        self.inner, self.perf, self.spent = inner, perf, 0.0

    def __call__(self, n: int) -> bytes:
        t = self.perf()
        try:
            return self.inner(n)
        finally:
            self.spent += self.perf() - t


@dataclass
class CallerTimes:
    key_retrieval: float = 0.0  # look-up of the callee's key, light-client proof included
    key_generation: float = 0.0  # fresh TGK, envelope key, RAND (or the bare master key)
    pk_encryption: float = 0.0  # MIKEY message: ECIES of the envelope key, KEMAC, SIGNi
    invite_to_answer: float = 0.0  # INVITE sent .. 200 OK received (includes the callee)
    srtp_derivation: float = 0.0  # SRTP master from the TGK, libsrtp session
    total: float = 0.0


@dataclass
class CalleeTimes:
    key_retrieval: float = 0.0  # look-up of the caller's key (hardened only)
    decryption: float = 0.0  # MIKEY open: SIGNi, ECIES, KEMAC (or a=k: decryption)
    srtp_derivation: float = 0.0


@dataclass
class OutgoingCall:
    call_id: str
    machine: RoleMachine
    media: MediaSender  # the caller's stream, to the callee
    rtcp: RtcpChannel
    peer_rtcp: Address
    times: CallerTimes
    incoming: MediaReceiver  # the callee's stream, on the same RTP port


@dataclass
class IncomingSession:
    call_id: str
    caller: str
    machine: RoleMachine
    media: MediaReceiver  # the caller's stream
    rtcp: RtcpChannel
    stream_ssrc: int | None
    times: CalleeTimes
    outgoing: MediaSender  # the callee's own stream back to the caller
    peer_rtcp: Address

    @property
    def peer(self) -> str:
        """The caller as this call authenticated it (MIKEY's initiator identity): the only
        agent a re-key of this call is accepted from."""
        return str(self.machine.bindings["A"])


@dataclass
class RefusedCall:
    call_id: str
    caller: str
    error: EthVoipError


def other_ssrc(rng: Rng, taken: int | None) -> int:
    """A random SSRC for our own stream, never the peer's (RFC 3550 8.1)."""
    while (ssrc := int.from_bytes(rng(4), "big")) == taken:
        pass
    return ssrc


async def bind_rtp_pair(host: str, first: Datagrams) -> RtcpChannel:
    """Bind ``first`` to an even port whose successor is free for RTCP (RFC 3550 11)."""
    for _ in range(50):
        await bind_udp(first, host, 0)
        rtcp = RtcpChannel()
        if first.port % 2 == 0:
            try:
                await bind_udp(rtcp, host, first.port + 1)
                return rtcp
            except OSError:
                pass
        first.close()
    raise SipError("no free RTP/RTCP port pair")


class SipPhoneBase:
    """What every phone here does with SIP: one TLS connection to the server, REGISTER,
    waiting for UA events, hanging up, and closing its sockets (no fields: the phones are
    dataclasses that hold ``sub``, ``domain``, ``rng``, ``endpoint`` and ``sockets``)."""

    sub: Subscriber
    domain: str
    rng: Rng
    endpoint: SipEndpoint | None
    sockets: list[Datagrams]

    def _attach(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        local: Address,
        server: Address,
    ) -> None:
        ua = UserAgent(
            UaConfig(
                aor=self.aor,
                local_host=local[0],
                local_port=local[1],
                username=self.sub.number,
                password=self.sub.password,
                registrar=f"sip:{self.domain}",
                outbound_proxy=server,
                transport="TLS",
            ),
            random_bytes=self.rng,
        )
        self.endpoint = SipEndpoint(ua)
        transport = StreamTransport(self.endpoint.on_message, name="TLS")
        transport.attach(reader, writer, peer=server)
        transport.default_peer = server
        self.endpoint.start(transport)

    @property
    def aor(self) -> str:
        return f"sip:{self.sub.number}@{self.domain}"

    @property
    def ua(self) -> UserAgent:
        assert self.endpoint is not None, "connect() first"
        ua = self.endpoint.core
        assert isinstance(ua, UserAgent)
        return ua

    async def _next(self, *kinds: type[Any], timeout: float | None = None) -> Any:
        assert self.endpoint is not None
        async with asyncio.timeout(wait_bound(timeout)):
            while True:
                event = await self.endpoint.events.get()
                if isinstance(event, kinds):
                    return event

    async def register(self) -> bool:
        """REGISTER inside the TLS session; True when the registrar accepted it."""
        assert self.endpoint is not None
        self.endpoint.do(self.ua.register)
        event = await self._next(Registered, RegistrationFailed)
        return isinstance(event, Registered)

    def _release(self, *channels: Datagrams) -> None:
        for ch in channels:
            ch.close()
            with contextlib.suppress(ValueError):
                self.sockets.remove(ch)

    async def hang_up(self, call_id: str) -> None:
        """BYE (if the call is up), then forget the call."""
        assert self.endpoint is not None
        with contextlib.suppress(EthVoipError):
            self.endpoint.do(lambda now: self.ua.bye(call_id, now))
        with contextlib.suppress(EthVoipError):
            self.ua.forget(call_id)

    async def close(self) -> None:
        for s in self.sockets:
            s.close()
        if self.endpoint is not None:
            await self.endpoint.close()


@dataclass
class SecurePhone(SipPhoneBase):
    """One subscriber's UA (see the module docstring)."""

    sub: Subscriber
    directory: Directory
    domain: str
    server_name: str  # the SIP server's number in the key store
    host: str = "127.0.0.1"
    rng: Rng = DEFAULT_RNG
    clock: Callable[[], float] = time.time  # MIKEY timestamps
    perf: Callable[[], float] = time.perf_counter
    replay_cache: ReplayCache = field(default_factory=ReplayCache)
    #: RTCP only from the call's peer, only as SRTCP (False: the old, unbound path, kept for
    #: the sts_rekey_hijack attack's demonstration)
    bind_rtcp: bool = True
    endpoint: SipEndpoint | None = None
    link: SecureLink | None = None
    _lost: asyncio.Future[None] | None = field(default=None, repr=False)
    sockets: list[Datagrams] = field(default_factory=list)

    def env(self, directory: Directory | None = None, rng: Rng | None = None) -> Env:
        return Env(
            self.sub.number,
            self.sub.key,
            directory or self.directory,
            rng=rng or self.rng,
            clock=self.clock,
            replay_cache=self.replay_cache,
        )

    # --- signalling ------------------------------------------------------------------

    async def connect(self, server: Address, *, variant: str = "hardened") -> SecureLink:
        """psk_handshake with the SIP server, then SIP over TLS-PSK on the same connection."""
        link = await secure_connect(
            server[0], server[1], self.env(), self.server_name, variant=variant
        )
        self._attach(link.reader, link.writer, link.local, server)
        self.link = link
        return link

    # --- calls -----------------------------------------------------------------------

    async def _outcome(self, call_id: str) -> CallAnswered | CallFailed:
        """The INVITE's final answer, or a SipError when the server connection drops first."""
        assert self.link is not None
        if self._lost is None:
            # one watcher per link: cancelling a wait_closed() would cancel the protocol's
            # own close future, so it is never cancelled per call
            self._lost = asyncio.ensure_future(self.link.writer.wait_closed())
        answer = asyncio.ensure_future(self._next(CallAnswered, CallFailed))
        try:
            done, _ = await asyncio.wait({answer, self._lost}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            answer.cancel()
        if answer in done:
            return cast(CallAnswered | CallFailed, answer.result())
        with contextlib.suppress(BaseException):
            self._lost.exception()  # how it closed does not matter, only that it did
        self.ua.abandon(call_id)
        raise SipError("the connection to the SIP server was lost during call setup")

    async def call(self, number: str, *, variant: str = "hardened") -> OutgoingCall:
        """Call ``number`` with the media key in the INVITE; raises SipError if refused.

        On any failure the call's RTP/RTCP sockets are closed and the UA forgets the call.
        """
        assert self.endpoint is not None
        times = CallerTimes()
        start = self.perf()
        directory, rng = _TimedDirectory(self.directory, self.perf), _TimedRng(self.rng, self.perf)
        machine = create(PROTOCOL, variant, "I", self.env(directory, rng), B=number)
        events = machine.start()
        times.key_retrieval, times.key_generation = directory.spent, rng.spent
        times.pk_encryption = self.perf() - start - directory.spent - rng.spent
        i3 = next(e.data for e in events if isinstance(e, Sent) and e.label == "I_3")
        t = self.perf()
        to_callee, to_caller = stream_masters(variant, machine.bindings)
        ssrc_bytes = machine.bindings.get("SSRC")
        ssrc = int.from_bytes(ssrc_bytes if isinstance(ssrc_bytes, bytes) else self.rng(4), "big")
        receiver = MediaReceiver(to_caller, None)  # the callee's stream, SSRC from the answer
        times.srtp_derivation = self.perf() - t
        rtcp = await bind_rtp_pair(self.host, receiver)
        self.sockets += [receiver, rtcp]
        offer = build_sdp(
            user=self.sub.number,
            host=self.host,
            rtp_port=receiver.port,
            variant=variant,
            key=i3,
            sess_id=int.from_bytes(self.rng(4), "big"),
        )
        sent = self.perf()
        call_id = self.endpoint.do(
            lambda now: self.ua.invite(f"sip:{number}@{self.domain}", offer, now)
        )
        try:
            outcome = await self._outcome(call_id)
            times.invite_to_answer = self.perf() - sent
            if isinstance(outcome, CallFailed):
                self.ua.forget(call_id)
                why = f" ({outcome.warning})" if outcome.warning else ""
                raise SipError(f"call to {number} refused with {outcome.status}{why}")
            answer = read_sdp(outcome.sdp, variant)
            if variant == "hardened":  # RFC 3830 mutual authentication: the R_MESSAGE
                try:
                    check_r_message(machine.bindings, answer.key, self.clock())
                except EthVoipError:
                    with contextlib.suppress(EthVoipError):
                        self.endpoint.do(lambda now: self.ua.bye(call_id, now))
                    raise
            t = self.perf()
            if answer.ssrc is not None:
                receiver.expect(answer.ssrc)
            media = MediaSender(receiver, (answer.host, answer.port), to_callee, ssrc)
            if self.bind_rtcp:
                rtcp.bind_call((answer.host, answer.port + 1), media.srtp, lambda: receiver.srtp)
            times.srtp_derivation += self.perf() - t
        except BaseException:
            self._release(receiver, rtcp)
            raise
        times.total = self.perf() - start
        return OutgoingCall(
            call_id, machine, media, rtcp, (answer.host, answer.port + 1), times, receiver
        )

    def open_offer(
        self, caller_uri: str, body: bytes, *, variant: str, times: CalleeTimes | None = None
    ) -> RoleMachine:
        """Run the callee's MIKEY machine on an INVITE's From and SDP; raise if it refuses."""
        times = times or CalleeTimes()
        directory = _TimedDirectory(self.directory, self.perf)
        machine = create(PROTOCOL, variant, "R", self.env(directory))
        start = self.perf()
        offer = read_sdp(body, variant)
        if offer.key is None:
            raise PeerRefused("INVITE without a key attribute", check=Check.REQUIRED)
        machine.receive(invite_record(caller_uri, self.aor))
        machine.receive(offer.key)
        times.key_retrieval = directory.spent
        times.decryption = self.perf() - start - directory.spent
        return machine

    async def answer(
        self, *, variant: str = "hardened", timeout: float | None = None
    ) -> IncomingSession | RefusedCall:
        """Take the next INVITE: open its key, answer and listen, or refuse it with 488."""
        assert self.endpoint is not None
        inc: IncomingCall = await self._next(IncomingCall, timeout=timeout)
        times = CalleeTimes()
        try:
            machine = self.open_offer(inc.caller, inc.sdp, variant=variant, times=times)
        except EthVoipError as exc:
            why = f"{type(exc).__name__}: {exc}"
            self.endpoint.do(lambda now: self.ua.reject(inc.call_id, 488, now, why=why))
            self.ua.forget(inc.call_id)
            return RefusedCall(inc.call_id, inc.caller, exc)
        offer = read_sdp(inc.sdp, variant)
        t = self.perf()
        to_callee, to_caller = stream_masters(variant, machine.bindings)
        ssrc_bytes = machine.bindings.get("SSRC")
        ssrc = int.from_bytes(ssrc_bytes, "big") if isinstance(ssrc_bytes, bytes) else None
        media = MediaReceiver(to_callee, ssrc)
        own_ssrc = other_ssrc(self.rng, ssrc)
        times.srtp_derivation = self.perf() - t
        rtcp = await bind_rtp_pair(self.host, media)
        self.sockets += [media, rtcp]
        sender = MediaSender(media, (offer.host, offer.port), to_caller, own_ssrc)
        if self.bind_rtcp:
            rtcp.bind_call((offer.host, offer.port + 1), sender.srtp, lambda: media.srtp)
        verification = None
        if variant == "hardened" and offer.key is not None:
            verification = r_message(machine.bindings, offer.key, self.clock())
        body = build_sdp(
            user=self.sub.number,
            host=self.host,
            rtp_port=media.port,
            variant=variant,
            key=verification,
            sess_id=int.from_bytes(self.rng(4), "big"),
            ssrc=own_ssrc,
        )
        self.endpoint.do(lambda now: self.ua.answer(inc.call_id, body, now))
        return IncomingSession(
            inc.call_id,
            inc.caller,
            machine,
            media,
            rtcp,
            ssrc,
            times,
            sender,
            (offer.host, offer.port + 1),
        )

    async def close(self) -> None:
        await super().close()
        if self._lost is not None:
            if self._lost.done():
                with contextlib.suppress(BaseException):
                    self._lost.exception()
            else:
                self._lost.cancel()

    def sas(self, call: OutgoingCall | IncomingSession) -> str:
        """The call's short authentication string (RFC 6189 B32 rendering, :mod:`.sas`) from
        its MIKEY exchange as this phone saw it: read it aloud, the other end shows the same
        four characters unless someone sat in the middle with substituted keys."""
        return machine_sas(call.machine, self.sub.key)

    async def rekey(
        self, call: OutgoingCall | IncomingSession, *, variant: str = "hardened"
    ) -> Rekey:
        """Station-to-Station over RTCP with the other end of ``call`` (both ends call this),
        then switch both directions to the new keys from the announced indices."""
        if isinstance(call, OutgoingCall):
            if call.incoming.srtp is None:
                raise SipError("the callee's stream is not known yet (no a=ssrc, no packet)")
            r = await sts_rekey_initiator(
                self.env(),
                str(call.machine.bindings["B"]),
                call.rtcp,
                call.peer_rtcp,
                call.media.ssrc,
                lambda: call.media.next_index,
                call.incoming.srtp.ssrc,
                variant=variant,
            )
            call.media.srtp.rekey(r.send_master, r.send_at)
            call.incoming.rekey(r.recv_master, r.recv_at)
            return r
        if call.media.srtp is None:
            raise SipError("the caller's stream is not known yet")
        out = call.outgoing
        r = await sts_rekey_responder(
            self.env(),
            call.peer,
            call.rtcp,
            call.media.srtp.ssrc,
            out.ssrc,
            lambda: out.next_index,
            variant=variant,
        )
        out.srtp.rekey(r.send_master, r.send_at)
        call.media.rekey(r.recv_master, r.recv_at)
        return r
