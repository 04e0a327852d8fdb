"""Signalling security (paper III.D.1): the psk_handshake on the SIP connection, then SIP over
TLS 1.3 with the key it distributed.

One TCP connection per UA.  First the UA (initiator ``A``) and the SIP server (responder
``B``, its key registered in the key store like any subscriber's) run the psk_handshake as
length-prefixed frames (:mod:`.framing`); the server looks ``A`` up in the key store, so a
number whose key is not approved on chain, or a client that does not hold the approved key,
never gets a PSK.  Then both run TLS 1.3 with the handshake's ``Ks`` as external PSK
(:mod:`.tlspsk`) on the same socket, and SIP flows inside it.

The server side is :class:`SecureSipServer`: it serves a :class:`RegistrarProxy` through a
:class:`StreamTransport` named ``TLS`` and puts :class:`IdentityGate` in front of it, which
drops every request whose From user is not the number the connection's handshake
authenticated.  With that binding a stolen SIP password is useless without the subscriber's
identity key: the paper's claim that TLS-PSK "ensures authentication of the end client even
if the SIP credentials are compromised".

The server holds under stalled and slow peers (:class:`ServerLimits`): the handshakes run as
coroutines on the event loop (no worker thread a silent peer could hold), each connection has
a deadline to finish both handshakes and an idle timeout after them, and one source address
may hold only so many connections at once.  A stalled peer costs a socket, nothing more.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from dataclasses import dataclass, field
from typing import Any

from ethvoip.impl.handshake import Completed, Env, Sent, State, create
from ethvoip.impl.sip.builders import make_response
from ethvoip.impl.sip.codec import encode
from ethvoip.impl.sip.fields import NameAddr
from ethvoip.impl.sip.message import Message, Request
from ethvoip.impl.sip.registrar import RegistrarProxy
from ethvoip.impl.sip.transport import SipEndpoint, StreamTransport
from ethvoip.impl.sip.ua import Address, Send
from ethvoip.spec.errors import DecodeError, EthVoipError, LocalProtocolError, SipError

from .framing import read_frame, write_frame
from .tlspsk import open_tls_psk

PROTOCOL = "psk_handshake"


class HandshakeTimeout(SipError, TimeoutError):
    """A peer did not finish the psk_handshake and TLS-PSK within the server's deadline."""


class ConnectionRefused(SipError):
    """A connection over the server's per-source or total limit, closed at once."""


@dataclass(frozen=True)
class SecureLink:
    """An established TLS-PSK connection to the SIP server."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    local: Address  # the TCP socket's own address (the UA's Contact)
    server: Address
    psk: bytes
    cipher: str


async def drive_handshake(machine: Any, sock: socket.socket) -> Completed:
    """Run a handshake machine over frames until it completes (or raise its error)."""
    events = machine.start() if machine.state is State.IDLE else []
    while True:
        for ev in events:
            if isinstance(ev, Sent):
                await write_frame(sock, ev.data)
        if machine.state is State.DONE:
            done = machine.transcript[-1]
            assert isinstance(done, Completed)
            return done
        events = machine.receive(await read_frame(sock))


async def secure_connect(
    host: str, port: int, env: Env, server_name: str, *, variant: str = "hardened"
) -> SecureLink:
    """Connect, run the psk_handshake as ``env.name`` with ``server_name``, then TLS-PSK."""
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    try:
        await loop.sock_connect(sock, (host, port))
        done = await drive_handshake(create(PROTOCOL, variant, "I", env, B=server_name), sock)
        local = sock.getsockname()[:2]
        reader, writer, cipher = await open_tls_psk(
            sock, server=False, identity=env.name.encode(), psk=done.session_key
        )
    except BaseException:
        sock.close()
        raise
    return SecureLink(reader, writer, (local[0], local[1]), (host, port), done.session_key, cipher)


def _from_user(msg: Request) -> str | None:
    value = msg.headers.get("From")
    try:
        return NameAddr.parse(value).sip_uri.user if value else None
    except DecodeError:
        return None


@dataclass(frozen=True)
class ServerLimits:
    """What one peer may cost the SIP server (seconds, connections)."""

    handshake_timeout: float = 10.0  # accept -> psk_handshake and TLS-PSK both done
    idle_timeout: float | None = 900.0  # no byte on an established connection (RFC 5626
    # keep-alives come every 95-120 s, so a live UA is never cut)
    per_source: int = 32  # connections open at once from one IP address
    max_connections: int = 16_384  # in all (a file descriptor each)


@dataclass
class IdentityGate:
    """A SIP core in front of another: requests must come from their handshake identity.

    A request whose From user is not the connection's authenticated number is answered
    403 here (an ACK is just dropped) and never reaches the registrar or the proxy.
    """

    core: RegistrarProxy
    identities: dict[Address, str] = field(default_factory=dict)
    refused: int = 0
    _out: list[Send] = field(default_factory=list)

    def receive_message(self, msg: Message, source: Address, now: float) -> None:
        if isinstance(msg, Request) and _from_user(msg) != self.identities.get(source):
            self.refused += 1
            if msg.method != "ACK":
                reply = make_response(msg, 403, "Identity Not Authenticated On This Connection")
                self._out.append(Send(encode(reply), source))
            return
        self.core.receive_message(msg, source, now)

    def flow_closed(self, source: Address) -> None:
        self.identities.pop(source, None)
        self.core.flow_closed(source)

    def tick(self, now: float) -> None:
        self.core.tick(now)

    def next_deadline(self) -> float | None:
        return self.core.next_deadline()

    def take_outputs(self) -> list[Any]:
        out, self._out = [*self._out, *self.core.take_outputs()], []
        return out


class SecureSipServer:
    """The SIP registrar/proxy reachable only through psk_handshake + TLS-PSK."""

    def __init__(
        self,
        core: RegistrarProxy,
        env: Env,
        *,
        variant: str = "hardened",
        limits: ServerLimits = ServerLimits(),  # frozen: one default shared safely
    ) -> None:
        if core.transport != "TLS":
            raise LocalProtocolError("the registrar must be configured with transport='TLS'")
        self.env = env
        self.variant = variant
        self.limits = limits
        self.gate = IdentityGate(core)
        self.endpoint = SipEndpoint(self.gate)
        self.transport = StreamTransport(
            self.endpoint.on_message, name="TLS", idle_timeout=limits.idle_timeout
        )
        self._open: dict[str, int] = {}  # source IP -> connections open now
        self.refusals: list[EthVoipError] = []  # handshakes or TLS sessions that failed
        self.sessions: list[tuple[str, str]] = []  # (subscriber, cipher) per TLS session
        self._listener: socket.socket | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def address(self) -> Address:
        assert self._listener is not None
        host, port = self._listener.getsockname()[:2]
        return host, port

    async def start(self, host: str, port: int = 0) -> Address:
        lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        lsock.bind((host, port))
        lsock.listen(16)
        lsock.setblocking(False)
        self._listener = lsock
        self.endpoint.start(self.transport)
        self._spawn(self._accept_loop(lsock))
        return self.address

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _accept_loop(self, lsock: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        while True:
            sock, addr = await loop.sock_accept(lsock)
            sock.setblocking(False)
            peer = (addr[0], addr[1])
            refusal = self._admit(peer)
            if refusal is not None:
                self.refusals.append(refusal)
                sock.close()
                continue
            self._spawn(self._serve(sock, peer))

    def _admit(self, peer: Address) -> ConnectionRefused | None:
        """Count a new connection from ``peer``, or say why it is refused."""
        if sum(self._open.values()) >= self.limits.max_connections:
            return ConnectionRefused(f"{peer[0]}: {self.limits.max_connections} connections open")
        if self._open.get(peer[0], 0) >= self.limits.per_source:
            return ConnectionRefused(
                f"{peer[0]}: {self.limits.per_source} connections open from this address"
            )
        self._open[peer[0]] = self._open.get(peer[0], 0) + 1
        return None

    def _release(self, peer: Address) -> None:
        left = self._open.get(peer[0], 0) - 1
        if left > 0:
            self._open[peer[0]] = left
        else:
            self._open.pop(peer[0], None)

    async def _serve(self, sock: socket.socket, peer: Address) -> None:
        try:
            link = await self._handshakes(sock, peer)
        except BaseException:
            self._release(peer)
            raise
        if link is None:
            self._release(peer)
            return
        name, reader, writer, cipher = link
        self.gate.identities[peer] = name
        self.sessions.append((name, cipher))
        self.transport.attach(reader, writer, peer=peer)
        self._spawn(self._released_when_closed(writer, peer))

    async def _released_when_closed(self, writer: asyncio.StreamWriter, peer: Address) -> None:
        try:
            await writer.wait_closed()
        except (OSError, EthVoipError):
            pass
        finally:
            self._release(peer)

    async def _handshakes(
        self, sock: socket.socket, peer: Address
    ) -> tuple[str, asyncio.StreamReader, asyncio.StreamWriter, str] | None:
        """psk_handshake then TLS-PSK within the deadline; None (and a refusal) on failure."""
        machine = create(PROTOCOL, self.variant, "R", self.env)
        try:
            async with asyncio.timeout(self.limits.handshake_timeout):
                done = await drive_handshake(machine, sock)
                reader, writer, cipher = await open_tls_psk(
                    sock, server=True, identity=done.peer.encode(), psk=done.session_key
                )
        except EthVoipError as exc:
            self.refusals.append(exc)
        except TimeoutError:
            self.refusals.append(
                HandshakeTimeout(
                    f"{peer[0]}:{peer[1]}: handshakes not done within"
                    f" {self.limits.handshake_timeout:g} s"
                )
            )
        except OSError as exc:
            self.refusals.append(SipError(f"connection from {peer[0]}:{peer[1]} failed: {exc}"))
        else:
            return done.peer, reader, writer, cipher
        sock.close()
        return None

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._listener is not None:
            self._listener.close()
        await self.endpoint.close()
