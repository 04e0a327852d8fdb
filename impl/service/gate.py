"""What one HTTP client may cost the operator service: deadlines and connection limits.

aiohttp serves every connection as a coroutine, so a slow client never holds a worker, but
on its own it waits for a request's headers forever and admits any number of connections
from one address: a few hundred clients that send a byte a minute would hold the service's
file descriptors.  :class:`GatedSite` serves the application through :class:`ConnectionGate`:

* a connection must deliver a request's headers within ``header_timeout`` seconds of opening
  (or of the previous response, on a kept-alive connection), else it is closed;
* a request body must arrive within ``body_timeout`` (:func:`read_body`);
* one source address holds at most ``per_source`` connections, and all together at most
  ``max_connections``; a connection over either is closed at once.

The handler's own run time is not bounded here: requests queue for the chain worker, and
the load bench (bench/server_load.py) measures how they fare.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from ethvoip.impl.service.codes import Code, refuse


@dataclass(frozen=True)
class HttpLimits:
    """What one HTTP client may cost the service (seconds, connections)."""

    header_timeout: float = 10.0
    body_timeout: float = 10.0
    per_source: int = 256  # subscribers behind one carrier NAT share an address
    max_connections: int = 4096


GATE: web.AppKey[ConnectionGate] = web.AppKey("gate")


class _Gated(asyncio.Protocol):
    """One connection: aiohttp's protocol inside, a deadline and a slot outside."""

    def __init__(self, gate: ConnectionGate, inner: asyncio.Protocol) -> None:
        self.gate, self.inner = gate, inner
        self.transport: asyncio.Transport | None = None
        self.source: str | None = None
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        peer = transport.get_extra_info("peername")
        source = str(peer[0]) if peer else "?"
        if not self.gate.admit(source):
            transport.abort()
            return
        self.source = source
        self.gate.open[transport] = self
        self.arm()
        self.inner.connection_made(transport)

    def arm(self) -> None:
        """Headers are due within the header timeout from now."""
        self.disarm()
        loop = asyncio.get_running_loop()
        self._deadline = loop.call_later(self.gate.limits.header_timeout, self._expire)

    def disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self) -> None:
        self.gate.expired += 1
        if self.transport is not None:
            self.transport.abort()

    def data_received(self, data: bytes) -> None:
        self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received()

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        self.disarm()
        if self.source is not None:
            assert self.transport is not None
            self.gate.open.pop(self.transport, None)
            self.gate.release(self.source)
            self.source = None
            self.inner.connection_lost(exc)


class ConnectionGate:
    """Counts connections per source and holds each one's header deadline."""

    def __init__(self, limits: HttpLimits) -> None:
        self.limits = limits
        self.per_source: dict[str, int] = {}
        self.open: dict[asyncio.BaseTransport, _Gated] = {}
        self.refused = 0
        self.expired = 0

    def admit(self, source: str) -> bool:
        held = self.per_source.get(source, 0)
        if held >= self.limits.per_source or len(self.open) >= self.limits.max_connections:
            self.refused += 1
            return False
        self.per_source[source] = held + 1
        return True

    def release(self, source: str) -> None:
        left = self.per_source.get(source, 0) - 1
        if left > 0:
            self.per_source[source] = left
        else:
            self.per_source.pop(source, None)

    def wrap(self, factory: Callable[[], asyncio.Protocol]) -> Callable[[], asyncio.Protocol]:
        return lambda: _Gated(self, factory())


@web.middleware
async def gate_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """The headers are in: no header deadline while the handler runs; re-armed after it for
    the next request on the same connection."""
    gate = request.app.get(GATE)
    conn = gate.open.get(request.transport) if gate and request.transport else None
    if conn is None:
        return await handler(request)
    conn.disarm()
    try:
        return await handler(request)
    finally:
        conn.arm()


async def read_body(request: web.Request) -> bytes:
    """The request body, within the body timeout when the application is gated."""
    gate = request.app.get(GATE)
    timeout = gate.limits.body_timeout if gate is not None else None
    try:
        async with asyncio.timeout(timeout):
            return await request.read()
    except TimeoutError:
        raise refuse(Code.BODY_TIMEOUT, f"the body did not arrive within {timeout:g} s") from None


class GatedSite(web.BaseSite):
    """A TCP site whose connections pass the application's :class:`ConnectionGate`."""

    def __init__(
        self, runner: web.BaseRunner, host: str, port: int, *, sock: socket.socket | None = None
    ) -> None:
        super().__init__(runner)
        self._host, self._port, self._sock = host, port, sock

    @property
    def name(self) -> str:
        return f"http://{self._host}:{self._port}"

    @property
    def port(self) -> int:
        assert self._server is not None
        sockets = getattr(self._server, "sockets", None) or []
        return int(sockets[0].getsockname()[1]) if sockets else self._port

    async def start(self) -> None:
        await super().start()
        server = self._runner.server
        assert server is not None
        app = getattr(self._runner, "app", None)
        gate = app.get(GATE) if app is not None else None
        factory = gate.wrap(server) if gate is not None else server
        loop = asyncio.get_running_loop()
        if self._sock is not None:  # a listening socket handed down by a parent process
            self._server = await loop.create_server(factory, sock=self._sock)
        else:
            self._server = await loop.create_server(factory, self._host, self._port)
