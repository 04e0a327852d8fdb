"""Thin asyncio transports for the sans-IO SIP cores, and the driver that runs a core.

* :class:`UdpTransport` - one datagram socket; each datagram is one message.
* :class:`StreamTransport` - any number of (reader, writer) pairs, framed by
  :class:`~.codec.StreamDecoder`.  ``listen``/``connect`` make plain TCP ones; anything
  else that yields an ``asyncio.StreamReader``/``StreamWriter`` pair (the TLS-PSK layer)
  plugs in through :meth:`StreamTransport.attach`.
* :class:`SipEndpoint` - feeds a core (:class:`~.ua.UserAgent` or
  :class:`~.registrar.RegistrarProxy`) with received messages and the loop's clock, writes
  its :class:`~.ua.Send` outputs to the transport, runs its timers, and queues every other
  output for the application on :attr:`SipEndpoint.events`.

The transports make no protocol decisions: bytes that do not decode are counted and dropped
(UDP) or end the connection (stream, which cannot resynchronise).  A stream connection that
stays silent for ``idle_timeout`` seconds is closed (a stalled peer must not hold a socket
forever), and the core is told when a connection ends (``flow_closed``), so a proxy never
routes to a flow that is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable
from typing import Any, Protocol, TypeVar, cast

from ethvoip.spec.errors import DecodeError, EthVoipError, SipError

from .builders import bad_request
from .codec import StreamDecoder, decode_datagram, encode
from .message import Message, Request
from .ua import Address, Send

#: How long (seconds) a wait for something a peer must send (a reply, a call, media) lasts
#: unless the caller says: RFC 3261's Timer B (64 * T1 = 32 s), after which a SIP client
#: gives up on an INVITE anyway.  It only decides how soon a lost peer is reported, never
#: what a working one may do; the test suite raises it further (tests/conftest.py) so that
#: a loaded machine cannot fail a test that would pass on an idle one.
EVENT_WAIT = 32.0


def wait_bound(timeout: float | None) -> float:
    """``timeout``, or :data:`EVENT_WAIT` read now (not when the caller was defined)."""
    return EVENT_WAIT if timeout is None else timeout


OnMessage = Callable[[Message, Address], None]
T = TypeVar("T")


class Transport(Protocol):
    """What a core's driver needs from a transport."""

    name: str  # Via transport token: "UDP", "TCP", "TLS"

    def send(self, data: bytes, dest: Address) -> None: ...

    def close(self) -> None: ...


class SipCore(Protocol):
    def receive_message(self, msg: Message, source: Address, now: float) -> None: ...

    def tick(self, now: float) -> None: ...

    def next_deadline(self) -> float | None: ...

    def take_outputs(self) -> list[Any]: ...


class UdpTransport(asyncio.DatagramProtocol):
    """A bound UDP socket delivering decoded messages to ``on_message``."""

    name = "UDP"

    def __init__(self, on_message: OnMessage) -> None:
        self.on_message = on_message
        self._transport: asyncio.DatagramTransport | None = None
        self.dropped = 0

    @classmethod
    async def bind(cls, host: str, port: int, on_message: OnMessage) -> UdpTransport:
        loop = asyncio.get_running_loop()
        _, proto = await loop.create_datagram_endpoint(
            lambda: cls(on_message), local_addr=(host, port)
        )
        return proto

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # The selector loop's datagram transport does not subclass DatagramTransport.
        self._transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        try:
            msg = decode_datagram(data)
        except DecodeError:
            self.dropped += 1
            return
        self.on_message(msg, (addr[0], addr[1]))

    @property
    def local_address(self) -> Address:
        assert self._transport is not None
        host, port = self._transport.get_extra_info("sockname")[:2]
        return host, port

    def send(self, data: bytes, dest: Address) -> None:
        if self._transport is None:
            raise SipError("UDP transport is closed")
        self._transport.sendto(data, dest)

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None


class StreamTransport:
    """Connections over reliable byte streams, keyed by peer address."""

    def __init__(
        self,
        on_message: OnMessage,
        name: str = "TCP",
        *,
        idle_timeout: float | None = None,
        on_closed: Callable[[Address], None] | None = None,
    ) -> None:
        self.name = name
        self.on_message = on_message
        self.idle_timeout = idle_timeout
        self.on_closed = on_closed
        self._writers: dict[Address, asyncio.StreamWriter] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None
        self.default_peer: Address | None = None  # client side: the one outbound connection
        self.invalid = 0  # framed messages with bad fields (requests answered 400)

    @classmethod
    async def listen(cls, host: str, port: int, on_message: OnMessage) -> StreamTransport:
        self = cls(on_message)
        self._server = await asyncio.start_server(self._accepted, host, port)
        return self

    @classmethod
    async def connect(cls, host: str, port: int, on_message: OnMessage) -> StreamTransport:
        self = cls(on_message)
        reader, writer = await asyncio.open_connection(host, port)
        self.attach(reader, writer, peer=(host, port))
        self.default_peer = (host, port)
        return self

    @property
    def local_address(self) -> Address:
        if self._server is not None:
            host, port = self._server.sockets[0].getsockname()[:2]
            return host, port
        for writer in self._writers.values():
            host, port = writer.get_extra_info("sockname")[:2]
            return host, port
        raise SipError("stream transport has no socket")

    async def _accepted(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        self.attach(reader, writer, peer=(peer[0], peer[1]))

    def attach(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, peer: Address
    ) -> None:
        """Serve one already-open stream (TCP, or a TLS-PSK session) as connection ``peer``."""
        sock = writer.get_extra_info("socket")
        if sock is not None:
            # Small SIP messages must not wait for Nagle's algorithm.
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._writers[peer] = writer
        task = asyncio.get_running_loop().create_task(self._read_loop(reader, writer, peer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _read_loop(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, peer: Address
    ) -> None:
        decoder = StreamDecoder(on_invalid=lambda msg, why: self._invalid(msg, why, peer))
        try:
            while True:
                async with asyncio.timeout(self.idle_timeout):
                    data = await reader.read(65536)
                if not data:
                    break
                for msg in decoder.feed(data):
                    self.on_message(msg, peer)
        except (DecodeError, ConnectionError, TimeoutError):
            pass  # a stream that does not frame (or stalls) cannot be trusted any further
        finally:
            if self._writers.get(peer) is writer:
                del self._writers[peer]
                if self.on_closed is not None:
                    self.on_closed(peer)
            writer.close()

    def _invalid(self, msg: Message, why: str, peer: Address) -> None:
        """A framed request with bad fields: 400 on the same connection (RFC 3261 8.2 and
        18.2.2: a response to a stream request goes back over that connection), which stays
        open.  A bad response or ACK gets nothing."""
        self.invalid += 1
        if isinstance(msg, Request) and msg.method != "ACK":
            writer = self._writers.get(peer)
            if writer is not None:
                writer.write(encode(bad_request(msg, why)))

    def send(self, data: bytes, dest: Address) -> None:
        writer = self._writers.get(dest)
        if writer is None and self.default_peer is not None:
            writer = self._writers.get(self.default_peer)
        if writer is None:
            raise SipError(f"no connection to {dest[0]}:{dest[1]}")
        writer.write(data)

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in self._writers.values():
            writer.close()
        for task in self._tasks:
            task.cancel()
        self._writers.clear()


class SipEndpoint:
    """Runs one sans-IO core on one transport with the event loop's clock."""

    def __init__(self, core: SipCore) -> None:
        self.core = core
        self.transport: Transport | None = None
        self.events: asyncio.Queue[object] = asyncio.Queue()
        self._wake = asyncio.Event()
        self._timer_task: asyncio.Task[None] | None = None
        self.send_errors = 0
        self._closed = False

    def now(self) -> float:
        return asyncio.get_running_loop().time()

    def start(self, transport: Transport) -> None:
        self.transport = transport
        if isinstance(transport, StreamTransport) and transport.on_closed is None:
            transport.on_closed = self.on_closed
        self._timer_task = asyncio.get_running_loop().create_task(self._timers())

    def on_message(self, msg: Message, source: Address) -> None:
        """Transport callback."""
        self.core.receive_message(msg, source, self.now())
        self.flush()

    def on_closed(self, source: Address) -> None:
        """Transport callback: the connection ``source`` is gone (cores that route care)."""
        closed = getattr(self.core, "flow_closed", None)
        if closed is not None:
            closed(source)
            self.flush()

    def do(self, action: Callable[[float], T]) -> T:
        """Call ``action(now)`` on the core (e.g. ``lambda now: ua.invite(...)``), then flush."""
        result = action(self.now())
        self.flush()
        return result

    def flush(self) -> None:
        for out in self.core.take_outputs():
            if isinstance(out, Send):
                assert self.transport is not None
                try:
                    self.transport.send(out.data, out.dest)
                except (OSError, EthVoipError):
                    self.send_errors += 1
            else:
                self.events.put_nowait(out)
        self._wake.set()

    async def next_event(self, kind: type[T], timeout: float | None = None) -> T:
        """Wait for the next application output of ``kind``, skipping others."""
        async with asyncio.timeout(wait_bound(timeout)):
            while True:
                event = await self.events.get()
                if isinstance(event, kind):
                    return event

    async def _timers(self) -> None:
        while not self._closed:
            deadline = self.core.next_deadline()
            delay = None if deadline is None else max(0.0, deadline - self.now())
            self._wake.clear()
            # asyncio.timeout rather than wait_for: 3.11's wait_for can swallow a cancel.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._wake.wait()
            self.core.tick(self.now())
            self.flush()

    async def close(self) -> None:
        self._closed = True
        if self._timer_task is not None:
            self._timer_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._timer_task
        if self.transport is not None:
            self.transport.close()


async def udp_endpoint(core: SipCore, host: str, port: int) -> tuple[SipEndpoint, UdpTransport]:
    """A core listening on UDP ``host:port`` (port 0: any free port)."""
    endpoint = SipEndpoint(core)
    transport = await UdpTransport.bind(host, port, endpoint.on_message)
    endpoint.start(transport)
    return endpoint, transport
