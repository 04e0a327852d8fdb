"""What one HTTP client may cost the service (impl/service/gate.py): header deadline, body
deadline, per-source limit; and silent clients do not stop anyone else's requests.

A tiny application stands in for the service where the gate is all that is tested; the last
test runs the real service.
"""

from __future__ import annotations

import asyncio
import json
import socket
import urllib.request
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web

from ethvoip.impl.service.app import errors_middleware
from ethvoip.impl.service.gate import (
    GATE,
    ConnectionGate,
    GatedSite,
    HttpLimits,
    gate_middleware,
    read_body,
)

from .conftest import Running

# Waits for events that must come (a deadline firing, a close): generous, so a loaded
# machine makes the test slower, never red.
PATIENCE = 30.0


async def _echo(request: web.Request) -> web.Response:
    return web.Response(body=await read_body(request))


@asynccontextmanager
async def _served(limits: HttpLimits) -> AsyncIterator[tuple[int, ConnectionGate]]:
    app = web.Application(middlewares=[gate_middleware, errors_middleware])
    app[GATE] = ConnectionGate(limits)
    app.router.add_post("/echo", _echo)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = GatedSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield site.port, app[GATE]
    finally:
        await runner.cleanup()


async def _connect(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", port)


async def _closed(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sent until it closed the connection."""
    try:
        async with asyncio.timeout(PATIENCE):
            return await reader.read()
    except ConnectionError:
        return b""


def _post(body: bytes, length: int | None = None) -> bytes:
    n = len(body) if length is None else length
    head = f"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: {n}\r\n\r\n"
    return head.encode() + body


def test_a_client_that_sends_no_headers_is_closed_at_the_deadline() -> None:
    async def main() -> None:
        async with _served(HttpLimits(header_timeout=0.2)) as (port, gate):
            reader, writer = await _connect(port)
            assert await _closed(reader) == b""
            assert gate.expired == 1
            writer.close()

    asyncio.run(main())


def test_headers_trickled_a_byte_at_a_time_do_not_keep_the_connection() -> None:
    # slowloris: every byte arrives well within any idle timeout, the headers never complete
    async def main() -> None:
        async with _served(HttpLimits(header_timeout=0.3)) as (port, gate):
            _, writer = await _connect(port)
            head = b"POST /echo HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 10_000
            try:
                async with asyncio.timeout(PATIENCE):
                    for i in range(len(head)):
                        writer.write(head[i : i + 1])
                        await writer.drain()
                        await asyncio.sleep(0.01)
            except ConnectionError:
                pass
            assert gate.expired == 1
            writer.close()

    asyncio.run(main())


def test_a_body_that_does_not_arrive_gets_408() -> None:
    async def main() -> None:
        async with _served(HttpLimits(body_timeout=0.2)) as (port, _):
            reader, writer = await _connect(port)
            writer.write(_post(b"0123456789", length=100))  # 90 bytes never come
            answer = await reader.readuntil(b"\r\n\r\n")
            assert answer.startswith(b"HTTP/1.1 408")
            writer.close()
            await writer.wait_closed()

    asyncio.run(main())


def test_a_kept_alive_connection_serves_request_after_request() -> None:
    # the deadline is off while a request is handled and re-armed after it, not left to fire
    async def main() -> None:
        async with _served(HttpLimits(header_timeout=5.0)) as (port, gate):
            reader, writer = await _connect(port)
            for i in range(3):
                writer.write(_post(b"ping %d" % i))
                head = await reader.readuntil(b"\r\n\r\n")
                assert head.startswith(b"HTTP/1.1 200")
                assert await reader.readexactly(6) == b"ping %d" % i
            assert gate.expired == 0
            writer.close()

    asyncio.run(main())


def test_one_source_may_hold_only_so_many_connections() -> None:
    async def main() -> None:
        async with _served(HttpLimits(per_source=2)) as (port, gate):
            held = [await _connect(port) for _ in range(2)]
            reader, writer = await _connect(port)
            assert await _closed(reader) == b""
            assert gate.refused == 1
            held[0][1].close()  # a slot comes free once the server sees the close
            async with asyncio.timeout(PATIENCE):
                while gate.per_source.get("127.0.0.1", 0) > 1:
                    await asyncio.sleep(0.01)
            r2, w2 = await _connect(port)
            w2.write(_post(b"again"))
            assert (await r2.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 200")
            for w in (held[1][1], writer, w2):
                w.close()

    asyncio.run(main())


def test_silent_clients_do_not_stop_the_service(running: Running) -> None:
    # 100 connections that never send a byte, held open while a real client is served
    silent = []
    try:
        for _ in range(100):
            s = socket.create_connection(("127.0.0.1", int(running.url.rsplit(":", 1)[1])))
            silent.append(s)
        with urllib.request.urlopen(running.url + "/v1/health", timeout=PATIENCE) as answer:
            assert answer.status == 200
            assert json.loads(answer.read())["status"] == "ok"
    finally:
        for s in silent:
            s.close()
