"""A lean JSON-RPC 2.0 client over one persistent HTTP connection, with batching.

:class:`~ethvoip.impl.chain.backend.RpcChain` reads proofs, headers and raw calls through
this rather than web3's provider: on loopback, ``requests`` spends about a millisecond per
request in its own machinery (environment proxy look-ups, adapter layers), while
``http.client`` on a kept-alive connection answers in a fifth of that.  Several calls can go
in one HTTP round trip (a JSON-RPC batch), which the light client uses to fetch a header and
a proof together.

Thread-safe: one connection, one request at a time.  A kept-alive connection the server has
closed while idle is reopened once and the request resent; any other failure is a
:class:`~ethvoip.spec.errors.ChainError`.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from ethvoip.spec.errors import ChainError

# What a server that closed an idle keep-alive connection looks like to the next request.
_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


class JsonRpcClient:
    """``call(method, params)`` and ``batch([(method, params), ...])`` against one URL."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ChainError(f"not an http(s) JSON-RPC URL: {url!r}")
        self._scheme = parts.scheme
        self._host = parts.hostname
        self._port = parts.port
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._timeout = timeout
        self._conn: http.client.HTTPConnection | None = None
        self._used = False  # whether the open connection has carried a request already
        self._lock = threading.Lock()
        self._next_id = 0

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            cls = (
                http.client.HTTPSConnection
                if self._scheme == "https"
                else http.client.HTTPConnection
            )
            self._conn = cls(self._host, self._port, timeout=self._timeout)
            self._used = False
        return self._conn

    def _post(self, body: bytes) -> Any:
        for attempt in (0, 1):
            conn = self._connection()
            reused = self._used
            try:
                conn.request("POST", self._path, body, {"Content-Type": "application/json"})
                response = conn.getresponse()
                data = response.read()
            except _STALE as exc:
                self.close()
                if reused and attempt == 0:
                    continue  # the server dropped an idle connection: resend once on a new one
                raise ChainError(f"JSON-RPC connection failed: {exc}") from exc
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                raise ChainError(f"JSON-RPC request failed: {exc}") from exc
            self._used = True
            if response.status != 200:
                raise ChainError(f"JSON-RPC HTTP status {response.status}")
            try:
                return json.loads(data)
            except ValueError as exc:
                raise ChainError("JSON-RPC answer is not JSON") from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def _request(self, method: str, params: Sequence[Any]) -> dict[str, Any]:
        self._next_id += 1
        return {"jsonrpc": "2.0", "id": self._next_id, "method": method, "params": list(params)}

    def call(self, method: str, params: Sequence[Any]) -> Any:
        """The ``result`` of one call; :class:`ChainError` on an ``error`` answer."""
        return self.batch([(method, params)])[0]

    def batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        """The results of ``calls``, in order, sent as one request (a JSON-RPC batch if several)."""
        with self._lock:
            requests = [self._request(m, p) for m, p in calls]
            payload: Any = requests if len(requests) > 1 else requests[0]
            answer = self._post(json.dumps(payload).encode())
        if isinstance(answer, dict) and answer.get("id") is None and "error" in answer:
            raise ChainError(f"JSON-RPC request refused: {answer['error']}")  # e.g. a parse error
        answers = answer if isinstance(answer, list) else [answer]
        # Batch answers may come in any order (JSON-RPC 2.0 section 6): match them by id.
        by_id = {a.get("id"): a for a in answers if isinstance(a, dict)}
        results = []
        for req in requests:
            got = by_id.get(req["id"])
            if got is None:
                raise ChainError(f"{req['method']}: no answer in the JSON-RPC reply")
            if "error" in got:
                raise ChainError(f"{req['method']}: {got['error']}")
            if "result" not in got:
                raise ChainError(f"{req['method']}: answer has neither result nor error")
            results.append(got["result"])
        return results

    def close(self) -> None:
        """Close the connection (the next call opens a new one)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()
