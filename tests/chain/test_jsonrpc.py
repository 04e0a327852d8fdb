"""The lean JSON-RPC client against a stub HTTP server (in a thread, on loopback) whose
answers we choose: batches answered out of order, errors, garbage, dropped connections."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from ethvoip.impl.chain.jsonrpc import JsonRpcClient
from ethvoip.spec.errors import ChainError

Reply = Callable[[Any], tuple[int, bytes]]


class Stub:
    """A server whose reply to each request body is ``reply(body)``; counts connections."""

    def __init__(self) -> None:
        self.reply: Reply = lambda body: (200, b"{}")
        self.close_after_reply = False  # and say so ("Connection: close")
        self.drop_after_reply = False  # without saying so: a keep-alive the client finds dead
        self.connections = 0
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a JSON-RPC node speaks

            def setup(self) -> None:
                stub.connections += 1
                super().setup()

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                status, data = stub.reply(body)
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                if stub.close_after_reply:
                    self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(data)
                if stub.close_after_reply or stub.drop_after_reply:
                    self.close_connection = True

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()


@pytest.fixture
def stub() -> Iterator[Stub]:
    s = Stub()
    yield s
    s.server.shutdown()
    s.server.server_close()


def echo(body: Any) -> tuple[int, bytes]:
    """Answer each request with its own method name, batches in reverse order."""
    if isinstance(body, list):
        return 200, json.dumps(
            [{"id": r["id"], "result": r["method"]} for r in body[::-1]]
        ).encode()
    return 200, json.dumps({"id": body["id"], "result": body["method"]}).encode()


def test_batch_answers_matched_by_id(stub: Stub) -> None:
    stub.reply = echo
    client = JsonRpcClient(stub.url)
    assert client.batch([("a", []), ("b", [1]), ("c", [])]) == ["a", "b", "c"]
    assert client.call("d", []) == "d"
    assert stub.connections == 1  # kept alive
    client.close()


def test_error_answer(stub: Stub) -> None:
    def reply(body: Any) -> tuple[int, bytes]:
        return 200, json.dumps(
            {"id": body["id"], "error": {"code": -32000, "message": "no"}}
        ).encode()

    stub.reply = reply
    with pytest.raises(ChainError, match=r"m: .*no"):
        JsonRpcClient(stub.url).call("m", [])


@pytest.mark.parametrize(
    "reply",
    [
        lambda body: (500, b"{}"),
        lambda body: (200, b"not json"),
        lambda body: (200, b"[]"),  # no answer for our id
        lambda body: (200, json.dumps({"id": body["id"]}).encode()),  # neither result nor error
        lambda body: (200, b'{"id": null, "error": {"code": -32700}}'),
    ],
)
def test_bad_answers_are_chain_errors(stub: Stub, reply: Reply) -> None:
    stub.reply = reply
    with pytest.raises(ChainError):
        JsonRpcClient(stub.url).call("m", [])


@pytest.mark.parametrize("how", ["close_after_reply", "drop_after_reply"])
def test_server_closing_the_connection(stub: Stub, how: str) -> None:
    """Announced or not, a closed connection is reopened and the request (re)sent once."""
    stub.reply = echo
    setattr(stub, how, True)
    client = JsonRpcClient(stub.url)
    assert [client.call(m, []) for m in "xyz"] == ["x", "y", "z"]
    assert stub.connections == 3


def test_no_server() -> None:
    # A port we hold bound but not listening: a connection is refused, always.  (A server
    # shut down first would free its port for any other process to take meanwhile.)
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        port = held.getsockname()[1]
        with pytest.raises(ChainError):
            JsonRpcClient(f"http://127.0.0.1:{port}/", timeout=60).call("m", [])


@pytest.mark.parametrize("url", ["ftp://host/", "localhost:8545", "http://"])
def test_bad_url(url: str) -> None:
    with pytest.raises(ChainError):
        JsonRpcClient(url)
