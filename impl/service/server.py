"""Running the aiohttp application: in the foreground (``ethvoip serve``) or on a thread.

:class:`BackgroundServer` serves an application from its own thread and event loop on a
loopback port the OS picks; ``--embedded`` onboarding, the tests and the load bench use it so
that every request crosses a real HTTP connection.
"""

from __future__ import annotations

import asyncio
import threading

from aiohttp import web

from ethvoip.impl.service.gate import GatedSite


class BackgroundServer:
    """An aiohttp application served on 127.0.0.1 from a daemon thread."""

    def __init__(self, app: web.Application, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    async def _start(self) -> str:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = GatedSite(self._runner, self.host, self.port)
        await site.start()
        return f"http://{self.host}:{site.port}"

    def start(self) -> str:
        self._thread.start()
        self.url = asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(30)
        return self.url

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(30)
        self._loop.close()

    def __enter__(self) -> BackgroundServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
