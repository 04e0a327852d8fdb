"""A load generator for the service: many concurrent onboardings, duplicates, and a service
process that dies (kill -9 or an injected crash) in the middle and is restarted.

Used by ``bench/service_load.py`` (the full 200-subscriber run, with timings) and by the
``integration`` test (a smaller run).  What it checks after the run, on the chain and in the
service's database, is the exactly-once claim:

* every receipt was funded exactly once: each new wallet holds exactly the funding amount,
  the treasury's nonce advanced by exactly the number of receipts, one confirmed funding row
  per receipt;
* no approval was lost: every subscriber's key is approved on chain, one approval row and
  one Kamailio subscriber row per subscriber, whose H(A1) is that of a password the
  subscriber was given.

The clients behave as :class:`~ethvoip.impl.subscriber.client.OnboardingClient` does: a
request refused for a transient reason (connection refused or reset, 5xx) is sent again with
a fresh nonce.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from eth_account import Account
from eth_typing import ChecksumAddress
from web3 import Web3

from ethvoip.impl import processes
from ethvoip.impl.chain import RpcChain, Status, identifier, start_anvil
from ethvoip.impl.crypto import IdentityKey, IdentityPublicKey
from ethvoip.impl.service.envelope import NONCE_SIZE, open_reply, seal_request
from ethvoip.impl.service.keyvault import PASSPHRASE_ENV
from ethvoip.impl.service.ledger import install_signers
from ethvoip.impl.service.messages import ApproveRequest, FundRequest
from ethvoip.impl.service.receipts import SignedReceipt
from ethvoip.impl.service.sipdb import digest_ha1
from ethvoip.impl.service.store import TestStore
from ethvoip.spec.files import PRIVATE, atomic_write


@dataclass
class Sub:
    wallet: Any
    key: IdentityKey
    phone: str
    receipt: SignedReceipt
    passwords: set[str] = field(default_factory=set)

    @property
    def order_id(self) -> str:
        return str(json.loads(self.receipt.purchase_data)["orderId"])


@dataclass
class LoadReport:
    subscribers: int
    duplicates: int
    restarts: int
    fund_seconds: float
    approve_seconds: float
    fund_latencies: list[float]
    approve_latencies: list[float]
    retries: int
    reconciled: list[int]
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


class ServiceProcess:
    """``ethvoip serve`` as a child process on a fixed port; killed and restarted by PID.

    The listening socket is made here, once, and handed to every child (``--listen-fd``):
    the port stays ours while a child is dead (clients' connections wait in its backlog),
    where a port merely known to be free could be taken, even as the source port of one of
    the load's own outgoing connections, before the restarted child binds it.
    """

    def __init__(self, rpc: str, state: Path, extra: list[str]) -> None:
        self.rpc, self.state = rpc, state
        self.listener = socket.create_server(("127.0.0.1", 0), backlog=1024)
        self.port = int(self.listener.getsockname()[1])
        self.extra = extra
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.info: dict[str, Any] = {}
        self.reconciled: list[int] = []  # intents each start found unsettled and settled

    def start(self, *, crash_after: int | None = None) -> dict[str, Any]:
        cmd = [
            sys.executable, "-m", "ethvoip.attacks.cli", "serve",
            "--rpc", self.rpc, "--db", str(self.state / "service.sqlite"),
            "--store-key", str(self.state / "store-key.pem"),
            "--listen-fd", str(self.listener.fileno()), "--key-scrypt-n", str(2**14),
            *self.extra,
        ]  # fmt: skip
        if crash_after is not None:
            cmd += ["--crash-after-intents", str(crash_after)]
        log = (self.state / f"serve-{self.starts}.log").open("wb")
        # The key file's passphrase through the environment, as an operator would pass it.
        env = {**os.environ, PASSPHRASE_ENV: "load-test passphrase"}
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=log, env=env, pass_fds=[self.listener.fileno()]
        )
        self.starts += 1
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"service did not start (see {log.name})")
        self.info = json.loads(line)
        self.reconciled.append(int(self.info["reconciled"]))
        return self.info

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill9(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None:
            processes.stop(self.proc, timeout=30)
        self.listener.close()


class Driver:
    """Concurrent sealed requests with client-side retries, and a watchdog that restarts
    the service whenever it dies."""

    def __init__(self, service: ServiceProcess, service_key: IdentityPublicKey) -> None:
        self.service = service
        self.service_key = service_key
        self.url = f"http://127.0.0.1:{service.port}"
        self.retries = 0
        self.restarts = 0
        self.done = 0
        self.kill_after: int | None = None

    async def watchdog(self, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            if self.kill_after is not None and self.done >= self.kill_after:
                self.kill_after = None
                self.service.kill9()
            if not self.service.alive:
                await loop.run_in_executor(None, self.service.start)
                self.restarts += 1
            await asyncio.sleep(0.02)

    async def request(
        self, session: aiohttp.ClientSession, kind: str, body: dict[str, Any], key: IdentityKey
    ) -> tuple[dict[str, Any] | None, str | None, float]:
        """(result, error code, seconds until the final answer)."""
        started = time.monotonic()
        while True:
            nonce = os.urandom(NONCE_SIZE)
            sealed = seal_request(
                self.service_key, key, kind, body, now=int(time.time()), nonce=nonce
            )
            try:
                async with session.post(f"{self.url}/v1/{kind}", data=sealed) as resp:
                    status, raw = resp.status, await resp.read()
            except (TimeoutError, aiohttp.ClientError, ConnectionError):
                status, raw = 0, b""
            if status == 200:
                self.done += 1
                return (
                    open_reply(key, self.service_key, nonce, raw),
                    None,
                    time.monotonic() - started,
                )
            if status and status < 500:
                self.done += 1
                return None, str(json.loads(raw)["error"]["code"]), time.monotonic() - started
            self.retries += 1
            await asyncio.sleep(0.05)

    async def run_all(
        self, jobs: list[tuple[str, dict[str, Any], IdentityKey]]
    ) -> list[tuple[dict[str, Any] | None, str | None, float]]:
        stop = asyncio.Event()
        dog = asyncio.create_task(self.watchdog(stop))
        connector = aiohttp.TCPConnector(limit=0)
        timeout = aiohttp.ClientTimeout(total=120)
        try:
            async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
                return list(
                    await asyncio.gather(*(self.request(session, k, b, key) for k, b, key in jobs))
                )
        finally:
            stop.set()
            await dog


def run_load(
    state: Path,
    *,
    subscribers: int = 200,
    duplicate_fraction: float = 0.2,
    crash_after_intents: int | None = None,
    kill_after_approvals: int | None = None,
    seed: int = 1,
    rpc: str | None = None,
) -> LoadReport:
    """The whole run: fund (with an injected crash), register, approve (with a kill -9)."""
    rnd = random.Random(seed)
    anvil = None if rpc else start_anvil()
    rpc_url = rpc or (anvil.url if anvil else "")
    problems: list[str] = []
    state.mkdir(parents=True, exist_ok=True)
    store = TestStore()
    atomic_write(state / "store-key.pem", store.private_key_pem(), mode=PRIVATE)
    service = ServiceProcess(rpc_url, state, [])
    chain = RpcChain(rpc_url)
    try:
        info = service.start(crash_after=crash_after_intents)
        driver = Driver(service, IdentityPublicKey.from_bytes(bytes.fromhex(info["service_key"])))
        funding = 10**17
        subs = [
            Sub(Account.create(), IdentityKey.generate(), f"+4420{i:08d}", store.purchase())
            for i in range(subscribers)
        ]
        dups = rnd.sample(subs, int(subscribers * duplicate_fraction))
        treasury = _treasury_address(state)
        nonce_before = chain.w3.eth.get_transaction_count(treasury)

        def fund_job(s: Sub) -> tuple[str, dict[str, Any], IdentityKey]:
            wallet = bytes.fromhex(s.wallet.address[2:])
            return "fund", FundRequest(s.receipt, wallet, s.phone).to_json(), s.key

        jobs = [fund_job(s) for s in subs + dups]
        rnd.shuffle(jobs)
        t0 = time.monotonic()
        results = asyncio.run(driver.run_all(jobs))
        fund_seconds = time.monotonic() - t0
        problems += [f"fund refused: {err}" for _, err, _ in results if err]
        for s in subs:
            balance = chain.w3.eth.get_balance(s.wallet.address)
            if balance != funding:
                problems.append(f"{s.phone}: balance {balance}, expected {funding}")
        paid = chain.w3.eth.get_transaction_count(treasury) - nonce_before
        if paid != subscribers:
            problems.append(f"treasury sent {paid} transfers for {subscribers} receipts")
        # --- on chain, from each subscriber's wallet: commit, wait, register
        ks_address = info.get("keystore") or _meta(state, "keystore_address")
        from ethvoip.impl.chain import KeyStoreClient

        ks = KeyStoreClient(chain, ks_address)
        salt = bytes.fromhex(_meta(state, "identifier_salt"))
        install_signers(chain, *(s.wallet for s in subs))
        regs = []
        for s in subs:
            reg = ks.registration(identifier(s.phone, salt), s.key, s.wallet.address)
            ks.commit(reg.commitment, s.wallet.address)
            regs.append(reg)
        chain.increase_time(60)
        for s, reg in zip(subs, regs, strict=True):
            ks.register(reg, s.wallet.address)
        # --- approvals, with a kill -9 in the middle
        approve_jobs = [
            ("approve", ApproveRequest(s.order_id).to_json(), s.key) for s in subs + dups
        ]
        owners = {s.key.public_key.to_bytes(): s for s in subs}
        rnd.shuffle(approve_jobs)
        driver.kill_after = kill_after_approvals
        driver.done = 0
        t0 = time.monotonic()
        approvals = asyncio.run(driver.run_all(approve_jobs))
        approve_seconds = time.monotonic() - t0
        for (_, _, key), (result, err, _) in zip(approve_jobs, approvals, strict=True):
            if err or result is None:
                problems.append(f"approve refused: {err}")
            else:
                owners[key.public_key.to_bytes()].passwords.add(result["sip"]["password"])
        service.stop()
        problems += _check_final(state, chain, ks, salt, subs, subscribers)
        return LoadReport(
            subscribers,
            len(dups),
            driver.restarts,
            fund_seconds,
            approve_seconds,
            [t for _, _, t in results],
            [t for _, _, t in approvals],
            driver.retries,
            service.reconciled,
            problems,
        )
    finally:
        service.stop()
        if anvil is not None:
            anvil.close()


def _meta(state: Path, key: str) -> str:
    with sqlite3.connect(state / "service.sqlite") as conn:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return str(row[0])


def _treasury_address(state: Path) -> ChecksumAddress:
    # A public fact of the database (the key itself is only in the encrypted key file).
    return Web3.to_checksum_address(_meta(state, "treasury_address"))


def _check_final(
    state: Path, chain: RpcChain, ks: Any, salt: bytes, subs: list[Sub], n: int
) -> list[str]:
    problems = []
    with sqlite3.connect(state / "service.sqlite") as conn:
        fundings = conn.execute(
            "SELECT COUNT(*), COUNT(DISTINCT nonce) FROM fundings WHERE state = 'confirmed'"
        ).fetchone()
        approvals = conn.execute("SELECT COUNT(*) FROM approvals").fetchone()[0]
    if tuple(fundings) != (n, n):
        problems.append(f"fundings table: {fundings}, expected {n} confirmed, distinct nonces")
    if approvals != n:
        problems.append(f"approvals table: {approvals} rows, expected {n}")
    with sqlite3.connect(state / "service-sip.sqlite") as sip:
        ha1 = dict(sip.execute("SELECT username, ha1 FROM subscriber").fetchall())
    for s in subs:
        record = ks.record(identifier(s.phone, salt))
        if record.status is not Status.APPROVED or record.public_key != s.key.public_key.to_bytes():
            problems.append(f"{s.phone}: not approved on chain ({record.status.name})")
        given = {digest_ha1(s.phone, "ethvoip.test", p) for p in s.passwords}
        if ha1.get(s.phone) not in given:
            problems.append(f"{s.phone}: SIP H(A1) matches no password the subscriber got")
    return problems
