"""The HTTP face of the service: an aiohttp.web application (documented in docs/openapi.json).

Routes (each in :data:`ROUTES`, which the OpenAPI test compares with the document):

* ``GET  /v1/info``    public facts a client needs (service key, contracts, salt, amounts);
* ``POST /v1/fund``    interface 2: a sealed funding request; replies with the transfer;
* ``POST /v1/approve`` interface 3: a sealed approval request; replies with SIP credentials;
* ``GET  /v1/health``  liveness and counters;
* ``GET  /openapi.json`` the API description.

Refusals are ``{"error": {"code", "message"}}`` with the status of their
:class:`~ethvoip.impl.service.codes.Code`.  Chain work runs on one worker thread (the chain
clients are blocking and the embedded chain is not thread-safe); SQLite stays on the event
loop's thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from aiohttp import web

from ethvoip.impl.service.codes import Code, refuse
from ethvoip.impl.service.envelope import MAX_BODY
from ethvoip.impl.service.gate import GATE, ConnectionGate, HttpLimits, gate_middleware, read_body
from ethvoip.impl.service.openapi import openapi_document
from ethvoip.impl.service.service import WalletService
from ethvoip.spec.errors import ChainError, ServiceError

log = logging.getLogger("ethvoip.service")

T = TypeVar("T")
SERVICE: web.AppKey[WalletService] = web.AppKey("service", WalletService)
EXECUTOR: web.AppKey[ThreadPoolExecutor] = web.AppKey("executor", ThreadPoolExecutor)
LOCKS: web.AppKey[dict[str, asyncio.Lock]] = web.AppKey("locks", dict)

JSON = "application/json"


def error_response(code: Code, message: str) -> web.Response:
    body = {"error": {"code": code.wire, "message": message}}
    return web.Response(status=code.status, text=json.dumps(body), content_type=JSON)


def _json(value: Any) -> web.Response:
    return web.Response(text=json.dumps(value, sort_keys=True), content_type=JSON)


def _sealed(body: bytes) -> web.Response:
    return web.Response(body=body, content_type=JSON)


@web.middleware
async def errors_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Every failure leaves as a typed JSON error; nothing escapes as an HTML page or a 500
    without a code."""
    try:
        return await handler(request)
    except ServiceError as exc:
        return web.Response(
            status=exc.status,
            text=json.dumps({"error": {"code": exc.code, "message": str(exc)}}),
            content_type=JSON,
        )
    except web.HTTPRequestEntityTooLarge:
        return error_response(Code.BODY_TOO_LARGE, f"bodies are limited to {MAX_BODY} bytes")
    except web.HTTPMethodNotAllowed as exc:
        return error_response(Code.METHOD_NOT_ALLOWED, f"{request.method} not allowed: {exc}")
    except web.HTTPNotFound:
        return error_response(Code.NOT_FOUND, f"no route {request.path}")
    except ChainError as exc:
        log.warning("chain error: %s", exc)
        return error_response(Code.CHAIN_UNAVAILABLE, str(exc))
    except Exception:  # a bug of ours: logged in full, answered with a code, never a crash
        log.exception("internal error on %s %s", request.method, request.path)
        return error_response(Code.INTERNAL, "internal error (logged)")


async def _on_chain(request: web.Request, fn: Callable[..., T], *args: Any) -> T:
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(request.app[EXECUTOR], fn, *args)


async def _body(request: web.Request) -> bytes:
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise refuse(Code.BODY_TOO_LARGE, f"bodies are limited to {MAX_BODY} bytes")
    return await read_body(request)


async def info(request: web.Request) -> web.Response:
    svc = request.app[SERVICE]
    return _json(await _on_chain(request, svc.info))


async def health(request: web.Request) -> web.Response:
    db = request.app[SERVICE].db
    return _json(
        {
            "status": "ok",
            "receipts": db.count("receipts"),
            "fundings": db.count("fundings"),
            "approvals": db.count("approvals"),
        }
    )


async def fund(request: web.Request) -> web.Response:
    svc = request.app[SERVICE]
    plan = svc.accept_fund(await _body(request))
    block = await _on_chain(request, svc.settle_fund, plan)
    return _sealed(svc.finish_fund(plan, block))


async def approve(request: web.Request) -> web.Response:
    svc = request.app[SERVICE]
    plan = svc.accept_approve(await _body(request))
    # One approval of a receipt at a time: each would otherwise set its own SIP password.
    lock = request.app[LOCKS].setdefault(plan.receipt.order_id, asyncio.Lock())
    async with lock:
        approved = await _on_chain(request, svc.approve_on_chain, plan)
        return _sealed(svc.finish_approve(plan, approved))


async def openapi(request: web.Request) -> web.Response:
    return _json(openapi_document())


#: (method, path, handler): the whole API.
ROUTES: list[tuple[str, str, Callable[[web.Request], Awaitable[web.Response]]]] = [
    ("GET", "/v1/info", info),
    ("GET", "/v1/health", health),
    ("POST", "/v1/fund", fund),
    ("POST", "/v1/approve", approve),
    ("GET", "/openapi.json", openapi),
]


def make_app(
    service: WalletService,
    executor: ThreadPoolExecutor | None = None,
    limits: HttpLimits | None = None,
) -> web.Application:
    """The aiohttp application serving ``service`` (the caller reconciles before serving).

    Served through :class:`~ethvoip.impl.service.gate.GatedSite`, its connections get the
    deadlines and limits of ``limits``."""
    app = web.Application(
        middlewares=[gate_middleware, errors_middleware], client_max_size=MAX_BODY
    )
    app[GATE] = ConnectionGate(limits or HttpLimits())
    app[SERVICE] = service
    app[EXECUTOR] = executor or ThreadPoolExecutor(max_workers=1, thread_name_prefix="chain")
    app[LOCKS] = {}
    for method, path, handler in ROUTES:
        app.router.add_route(method, path, handler)

    async def follow(app: web.Application) -> AsyncIterator[None]:
        # SIP credentials follow the key life cycle on chain (service.follower): chain reads
        # on the worker thread, database writes here, every follow_interval seconds.
        async def loop() -> None:
            follower = service.follower
            while True:
                await asyncio.sleep(service.config.follow_interval)
                try:
                    scan = await asyncio.get_running_loop().run_in_executor(
                        app[EXECUTOR], follower.scan, service.db.cursor()
                    )
                    follower.apply(scan)
                except Exception:  # a node hiccup: the next poll retries from the cursor
                    log.exception("chain follower poll failed")

        task = asyncio.create_task(loop())
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def shutdown(app: web.Application) -> None:
        app[EXECUTOR].shutdown(wait=True)

    app.cleanup_ctx.append(follow)
    app.on_cleanup.append(shutdown)
    return app
