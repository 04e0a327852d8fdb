"""A JSON-RPC endpoint that lies: a proxy in front of a real node that rewrites some answers.

:class:`LyingRpc` listens on a loopback port the OS picks and forwards every request
(single or batch, keep-alive) to the real node, except those its :class:`Lie` answers
itself.  Two lies, the two ways a node can mislead a light client about the present:

* :class:`ForgeBlock`: the node rewrites the block at one height.  It builds a state trie
  (py-evm's ``trie``, the same code a node uses) in which the KeyStore contract's storage holds
  the attacker's key in the victim's record, puts that trie's root into the real header
  (so the header hashes to a new, forged block hash), and serves that header and EIP-1186
  proofs out of the forged trie.  Every proof verifies against the forged header: this is
  the forgery a node that is trusted for the head can make.  With ``descendants=True`` it
  also re-forges every block above (each parent hash re-pointed to the forged block below),
  i.e. it invents a whole chain on top, which no parent-hash check can tell apart.
* :class:`Lag`: the node serves its chain as of an older block: ``latest`` is that block,
  nothing above it exists (a node that stopped syncing, or replays an old head).

Several proxies in front of one node give several endpoints of one network (separate anvil
processes would be separate chains), some honest (``lie=None``), some not: the quorum tests.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import urlsplit

import rlp
from trie.hexary import HexaryTrie

from ethvoip.impl.chain import KeyStoreClient
from ethvoip.impl.chain.backend import header_rlp_from_json
from ethvoip.impl.chain.jsonrpc import JsonRpcClient
from ethvoip.impl.crypto import keccak256
from ethvoip.spec.errors import ChainError

Handled = tuple[bool, Any]  # (answered by the lie, the result)
_PASS: Handled = (False, None)


class Lie(Protocol):
    def answer(self, method: str, params: list[Any], node: JsonRpcClient) -> Handled:
        """``(True, result)`` to answer ``method`` with a lie, ``(False, None)`` to forward."""
        ...


class LyingRpc:
    """A JSON-RPC proxy to ``upstream`` that lets ``lie`` answer first (``None``: honest)."""

    def __init__(self, upstream: str, lie: Lie | None = None, name: str = "proxy") -> None:
        self.upstream = upstream
        self.lie = lie
        self.name = name
        self.node = JsonRpcClient(upstream)  # the lie's own reads of the real chain
        self.lied = 0  # answers the lie gave (a test can see the lie was actually told)
        self._local = threading.local()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the clients expect

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                out = json.dumps(proxy.handle(json.loads(body))).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, format: str, *args: Any) -> None:
                return None  # quiet: tests and the attack narrate what matters

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def handle(self, payload: Any) -> Any:
        single = not isinstance(payload, list)
        requests: list[dict[str, Any]] = [payload] if single else payload
        answers: dict[Any, dict[str, Any]] = {}
        forward = []
        for req in requests:
            handled: Handled = _PASS
            if self.lie is not None:
                handled = self.lie.answer(req["method"], list(req.get("params", [])), self.node)
            if handled[0]:
                self.lied += 1
                answers[req["id"]] = {"jsonrpc": "2.0", "id": req["id"], "result": handled[1]}
            else:
                forward.append(req)
        if forward:
            for got in self._forward(forward):
                answers[got.get("id")] = got
        out = [answers[r["id"]] for r in requests]
        return out[0] if single else out

    def _forward(self, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
        conn: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
        if conn is None:
            parts = urlsplit(self.upstream)
            conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
            self._local.conn = conn
        conn.request(
            "POST", "/", json.dumps(requests).encode(), {"Content-Type": "application/json"}
        )
        got = json.loads(conn.getresponse().read())
        return got if isinstance(got, list) else [got]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self.node.close()

    def __enter__(self) -> LyingRpc:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _block_param(value: Any) -> Any:
    """The block an EIP-1898 parameter names: a tag, a 0x number, or {"blockHash": h}."""
    if isinstance(value, dict):
        return value.get("blockHash", value.get("blockNumber"))
    return value


def _hex(data: bytes) -> str:
    return "0x" + data.hex()


@dataclass
class _Forged:
    number: int
    block: dict[str, Any]  # the forged header's JSON (with its own hash)
    state: HexaryTrie
    storage: HexaryTrie
    account: list[Any]  # [nonce, balance, storage root, code hash]


class ForgeBlock:
    """Rewrites the block ``below_head`` under the node's head at construction, so that the
    contract at ``address`` holds ``words`` (slot -> value) in its storage there.

    Only the forged slots are in the forged storage (a proof of any other slot shows it
    empty); the account keeps its real nonce, balance and code hash.
    """

    def __init__(
        self,
        node: JsonRpcClient,
        address: bytes,
        words: Mapping[bytes, int],
        *,
        below_head: int = 0,
        descendants: bool = False,
    ) -> None:
        head = int(node.call("eth_blockNumber", []), 16)
        self.address = address
        self.height = head - below_head
        self.top = head if descendants else self.height  # the highest block rewritten
        real = node.call("eth_getBlockByNumber", [hex(self.height), False])
        proof = node.call("eth_getProof", [_hex(address), [], hex(self.height)])
        storage = HexaryTrie({})
        for slot, value in words.items():
            if value:
                storage.set(keccak256(slot), rlp.encode(value))  # type: ignore[no-untyped-call]
        account: list[Any] = [
            int(proof["nonce"], 16),
            int(proof["balance"], 16),
            storage.root_hash,
            bytes.fromhex(proof["codeHash"][2:]),
        ]
        state = HexaryTrie({})
        state.set(keccak256(address), rlp.encode(account))  # type: ignore[no-untyped-call]
        block = self._rehash({**real, "stateRoot": _hex(state.root_hash)})
        self.forged = _Forged(self.height, block, state, storage, account)
        self.blocks: dict[int, dict[str, Any]] = {self.height: block}
        for n in range(self.height + 1, self.top + 1):  # the invented chain on top
            above = node.call("eth_getBlockByNumber", [hex(n), False])
            self.blocks[n] = self._rehash({**above, "parentHash": self.blocks[n - 1]["hash"]})
        self.by_hash = {b["hash"]: b for b in self.blocks.values()}

    @staticmethod
    def _rehash(block: dict[str, Any]) -> dict[str, Any]:
        return {**block, "hash": _hex(keccak256(header_rlp_from_json(block)))}

    def _number(self, tag: Any, node: JsonRpcClient) -> int | None:
        if tag == "latest":
            return int(node.call("eth_blockNumber", []), 16)
        if isinstance(tag, str) and tag.startswith("0x") and len(tag) < 66:
            return int(tag, 16)
        return None

    def answer(self, method: str, params: list[Any], node: JsonRpcClient) -> Handled:
        if method == "eth_getBlockByNumber":
            n = self._number(params[0], node)
            return (True, self.blocks[n]) if n in self.blocks else _PASS
        if method == "eth_getBlockByHash":
            got = self.by_hash.get(params[0])
            return (True, got) if got is not None else _PASS
        if method == "eth_getProof":
            at = _block_param(params[2])
            n = self._number(at, node)
            if at == self.forged.block["hash"] or n == self.height:
                return True, self._proof(bytes.fromhex(params[0][2:]), params[1])
        return _PASS

    def _proof(self, address: bytes, keys: Sequence[str]) -> dict[str, Any]:
        f = self.forged
        if address != self.address:
            raise ChainError("the forging node only forged the key store's account")
        storage = []
        for key in keys:
            slot = bytes.fromhex(key[2:]).rjust(32, b"\0")
            raw = f.storage.get(keccak256(slot))
            storage.append(
                {
                    "key": key,
                    "value": hex(rlp.decode(raw, sedes=rlp.sedes.big_endian_int) if raw else 0),
                    "proof": [_hex(rlp.encode(n)) for n in f.storage.get_proof(keccak256(slot))],  # type: ignore[no-untyped-call]
                }
            )
        nonce, balance, root, code = f.account
        return {
            "address": _hex(address),
            "nonce": hex(int(nonce)),
            "balance": hex(int(balance)),
            "storageHash": _hex(bytes(root)),
            "codeHash": _hex(bytes(code)),
            "accountProof": [
                _hex(rlp.encode(n))
                for n in f.state.get_proof(keccak256(address))  # type: ignore[no-untyped-call]
            ],
            "storageProof": storage,
        }


class Lag:
    """Serves the chain as of block ``number``: ``latest`` is that block, nothing is above."""

    def __init__(self, number: int) -> None:
        self.number = number

    def answer(self, method: str, params: list[Any], node: JsonRpcClient) -> Handled:
        if method == "eth_blockNumber":
            return True, hex(self.number)
        if method in ("eth_getBlockByNumber", "eth_getProof", "eth_call", "eth_getStorageAt"):
            where = 0 if method == "eth_getBlockByNumber" else len(params) - 1
            tag = _block_param(params[where]) if params else "latest"
            if tag in ("latest", "pending", "safe", "finalized"):
                params = [*params[:where], hex(self.number), *params[where + 1 :]]
                return True, node.call(method, params)
            unseen = isinstance(tag, str) and tag.startswith("0x") and int(tag, 16) > self.number
            if method == "eth_getBlockByNumber" and unseen:
                return True, None  # a block this node has not seen
        return _PASS


def substituted_record(ks: KeyStoreClient, ident: bytes, public_key: bytes) -> dict[bytes, int]:
    """The storage words of ``records[ident]`` as they are at the node's head, with the key
    (``x``, ``y``) replaced by ``public_key``: what :class:`ForgeBlock` should make the
    victim's record hold (status and version unchanged: still approved)."""
    layout = ks.layout
    head = bytes(ks.chain.latest_block()["hash"])
    proof = ks.chain.get_proof(ks.address, layout.slots(ident), head)
    words = {sp.slot: sp.value for sp in proof.storage}
    base = layout.base(ident)
    for name, half in (("x", public_key[:32]), ("y", public_key[32:])):
        field = layout.fields[name]
        words[((base + field.slot) % 2**256).to_bytes(32, "big")] = int.from_bytes(half, "big")
    return words
