"""``ethvoip demo [--rpc URL | --anvil]``: the whole system end to end, in under a minute.

1. a chain (embedded eth-tester, a real node with ``--rpc``, or a local anvil started and
   stopped by the demo with ``--anvil``);
2. the operator's wallet-management service started for real (HTTP on 127.0.0.1, SQLite in a
   temporary directory): it deploys both key-store contracts (the paper's and the hardened
   KeyStore); the operator registers its SIP server's key; then Alice and Bob onboard through
   the service's HTTP API with :class:`~ethvoip.impl.subscriber.client.OnboardingClient`
   (receipt from the test app store, funding, commit-reveal registration with proof of
   possession, approval, SIP credentials, the checkpoint pinned in ``trust.json``), each step
   printed; every party's key look-ups are proven under the default trust policy
   (:data:`~ethvoip.impl.chain.policies.DEFAULT_POLICY`), never the unverified one, and the
   call prints which policy vouched for each key at which block;
3. the SIP server authenticates REGISTER against the service's Kamailio-schema subscriber
   database; both phones run the psk_handshake with the SIP server and REGISTER over TLS 1.3
   with the PSK, using the keys from their keystore files and the SIP passwords the service
   delivered; Alice calls Bob with MIKEY in the INVITE (both phones print the call's short
   authentication string); a tone streams as G.711 over SRTP; a modified and a replayed
   packet are dropped; then Station-to-Station over SRTCP re-keys both directions (both
   phones print the re-key's SAS) and media continues; the paper's ``a=k:`` call is placed
   too (explicit option);
4. the adversary: an on-path key substitution into Bob's phone against ``a=k:`` and MIKEY,
   then every attack of ``ethvoip attack`` that is available, paper and hardened;
5. the call-setup breakdown in the layout of the paper's Table I.

Exit status 0 only when every step did what it should.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import secrets
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ethvoip.attacks import demo_args
from ethvoip.impl.call import (
    ChainDirectory,
    IncomingSession,
    SecurePhone,
    SecureSipServer,
    Subscriber,
    build_sdp,
)
from ethvoip.impl.call.provision import Provisioned, register_numbers
from ethvoip.impl.chain import Chain, EmbeddedChain, RpcChain, start_anvil
from ethvoip.impl.chain.policies import TrustSettings, build_policy
from ethvoip.impl.crypto import IdentityKey, IdentityPublicKey, encrypt_to
from ethvoip.impl.handshake import Env, Value
from ethvoip.impl.handshake import mikey as mikey_impl
from ethvoip.impl.handshake.machine import Run
from ethvoip.impl.media import g711
from ethvoip.impl.media.bare_key import encode_bare_key
from ethvoip.impl.media.packetize import packetize
from ethvoip.impl.service import ServiceConfig, TestStore
from ethvoip.impl.service.app import make_app
from ethvoip.impl.service.runtime import build_service
from ethvoip.impl.service.server import BackgroundServer
from ethvoip.impl.service.sipdb import SubscriberCredentials
from ethvoip.impl.sip.digest import CredentialStore, DigestVerifier, InMemoryCredentialStore
from ethvoip.impl.sip.registrar import RegistrarProxy
from ethvoip.impl.subscriber.client import OnboardingClient
from ethvoip.impl.subscriber.keyfile import load_keystore, load_trust
from ethvoip.spec import cliargs
from ethvoip.spec.errors import EthVoipError

ALICE, BOB, EVE, SERVER = "+96176661367", "+96170412611", "+96100000666", "+96100000001"
DOMAIN, HOST = "ethvoip.demo", "127.0.0.1"
TONE_SECONDS = 1.0
PASSPHRASE = "demo passphrase"
#: scrypt cost of the demo's key files (subscribers' and service's): 2^14 keeps the demo
#: fast; ``ethvoip register`` and ``ethvoip serve`` use eth-account's 2^18.
DEMO_SCRYPT_N = 2**14


@dataclass
class Report:
    failures: list[str] = field(default_factory=list)

    def check(self, ok: bool, what: str) -> bool:
        print(f"  [{'ok' if ok else 'FAIL'}] {what}")
        if not ok:
            self.failures.append(what)
        return ok


def tone(seconds: float, hz: float = 440.0) -> list[int]:
    return [int(12000 * math.sin(2 * math.pi * hz * i / 8000)) for i in range(int(8000 * seconds))]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def table_one(rows: list[tuple[str, float]], total: float) -> str:
    """The paper's Table I layout, with our phases broken out."""
    width = max(len(r[0]) for r in rows) + 2
    lines = ["TABLE I (ours): CALL SETUP TIME", "-" * (width + 12)]
    lines += [f"{name:<{width}}{_ms(v)}" for name, v in rows]
    lines += ["-" * (width + 12), f"{'Call setup time (dial .. SRTP ready)':<{width}}{_ms(total)}"]
    lines.append("paper (Ethereum testnet, Android): key retrieval 507 ms, call setup 1218 ms")
    return "\n".join(lines)


async def start_sip_server(
    chain_dir: ChainDirectory, key: IdentityKey, store: CredentialStore | None = None
) -> SecureSipServer:
    """The SIP server; without a ``store``, Alice, Bob and Eve with password ``pw-<number>``
    (what bench/call_setup.py uses: it provisions through the chain client, not the service)."""
    if store is None:
        fixed = InMemoryCredentialStore()
        for n in (ALICE, BOB, EVE):
            fixed.add(n, DOMAIN, f"pw-{n}")
        store = fixed
    verifier = DigestVerifier(realm=DOMAIN, store=store, secret=b"demo-digest-secret-000000")
    registrar = RegistrarProxy(domain=DOMAIN, host=HOST, port=0, verifier=verifier, transport="TLS")
    server = SecureSipServer(registrar, Env(SERVER, key, chain_dir))
    _, registrar.port = await server.start(HOST)
    return server


def _forged_offer(variant: str, bob_key: IdentityKey, eve: IdentityKey, clock: float) -> bytes:
    """Eve's SDP "from Alice" to Bob: her own master key, made with public information only."""
    if variant == "paper":
        key = encode_bare_key(b"\xee" * 30, lambda m: encrypt_to(bob_key.public_key, m)).encode()
    else:
        env = Env(ALICE, eve, _NoDirectory(), clock=lambda: clock)  # IDi = Alice, key = Eve's
        bindings: dict[str, Value] = {"A": ALICE, "B": BOB, "KB": bob_key.public_key}
        key, _ = mikey_impl.hardened_i_3(Run(env, variant, bindings))
    return build_sdp(user=ALICE, host=HOST, rtp_port=40000, variant=variant, key=key, sess_id=1)


class _NoDirectory:
    """Eve's machine-free forgery looks nothing up."""

    def lookup(self, name: str) -> IdentityPublicKey:
        raise AssertionError("not used")


@dataclass
class World:
    """What onboarding leaves behind for the calls: each party's directory (its own trust
    policy, from the checkpoint it was provisioned with) and each phone's secrets."""

    directories: dict[str, ChainDirectory]
    credentials: CredentialStore
    keys: dict[str, IdentityKey]
    passwords: dict[str, str]


def _progress(number: str) -> Callable[[str, str], None]:
    def show(step: str, detail: str) -> None:
        print(f"    {number} {step:<9} {detail}", flush=True)

    return show


@contextlib.contextmanager
def operator_service(chain: Chain, workdir: Path, report: Report) -> Iterator[World]:
    """Start the operator service, register the SIP server, onboard Alice and Bob through it."""
    print("== 1. operator service and contracts")
    kind = "embedded eth-tester" if isinstance(chain, EmbeddedChain) else "JSON-RPC node"
    print(f"  chain: {kind}, chain id {chain.chain_id}")
    store = TestStore()
    config = ServiceConfig(store.public_key_pem, sip_realm=DOMAIN)
    sip_db = workdir / "kamailio-subscriber.sqlite"
    # The service's keys go to an encrypted key file; this run's state is thrown away at
    # the end, so its passphrase is a random one nobody needs to know.
    built = build_service(
        config,
        chain,
        workdir / "service.sqlite",
        sip_db,
        passphrase=secrets.token_urlsafe(24),
        key_scrypt_n=DEMO_SCRYPT_N,
    )
    server = BackgroundServer(make_app(built.service))
    credentials = SubscriberCredentials(sip_db)
    try:
        url = server.start()
        ledger = built.service.ledger
        print(f"  service at {url} (SQLite in {workdir}, keys in an scrypt key file)")
        print(f"  KeyStore (hardened) at 0x{ledger.keystore.address.hex()}")
        if ledger.paper is not None:
            print(f"  paper contract      at 0x{ledger.paper.address.hex()}")

        # The SIP server is the operator's: it pins a block of the operator's own node.
        trust = {SERVER: TrustSettings(built.service.checkpoint())}
        print("== 2. onboarding through the operator service")
        keys = {SERVER: IdentityKey.generate()}
        world = Provisioned(ledger.keystore, built.service.salt, built.operator.address)
        register_numbers(world, keys)
        print(f"  SIP server {SERVER}: key registered and approved by the operator")
        passwords: dict[str, str] = {}
        for number in (ALICE, BOB):
            t = time.perf_counter()
            client = OnboardingClient(url, chain, store, progress=_progress(number))
            done = client.onboard(number, workdir / number, PASSPHRASE, scrypt_n=DEMO_SCRYPT_N)
            # The phone runs on what onboarding left on disk: the keystore file and the
            # credentials the service sealed to it.
            keys[number] = load_keystore(workdir / number, PASSPHRASE).identity
            passwords[number] = done.sip["password"]
            trust[number] = load_trust(workdir / number)  # the phone's trust.json
            report.check(
                keys[number].public_key.to_bytes() == done.public_key
                and done.sip["username"] == number
                and done.sip["domain"] == DOMAIN
                and credentials.ha1(number, DOMAIN) is not None,
                f"{number} onboarded in {_ms(time.perf_counter() - t).strip()}: key approved, "
                f"SIP account {number}@{DOMAIN} in the subscriber table",
            )
        # Time passes on a dev chain only with transactions: mine the confirmation depth so
        # that the last approval is below the head by as many blocks as the policy asks.
        for _ in range(max(t.depth for t in trust.values())):
            chain.increase_time(1)
        directories = {
            party: ChainDirectory(ledger.keystore, built.service.salt, build_policy(t, chain))
            for party, t in trust.items()
        }
        first = trust[SERVER]
        print(
            f"  look-ups: trust policy {first.policy!r} (DEFAULT_POLICY in "
            f"ethvoip.impl.chain.policies), freshness bound {first.max_age:.0f} s"
        )
        yield World(directories, credentials, keys, passwords)
    finally:
        credentials.close()
        if server.url:
            server.stop()
        built.close()


async def run_demo(world: World, report: Report) -> tuple[list[tuple[str, float]], float]:
    keys, dirs = world.keys, world.directories
    print("== 3. secure signalling: psk_handshake, then SIP over TLS 1.3 with the PSK")
    server = await start_sip_server(dirs[SERVER], keys[SERVER], world.credentials)
    phones = {
        n: SecurePhone(Subscriber(n, keys[n], world.passwords[n]), dirs[n], DOMAIN, SERVER)
        for n in (ALICE, BOB)
    }
    rows: list[tuple[str, float]] = []
    try:
        for n, p in phones.items():
            link = await p.connect(server.address)
            report.check(
                await p.register(),
                f"{n} registered over TLS-PSK ({link.cipher}), digest checked against the "
                "service's subscriber table",
            )
        # The registrar's check can fail: Alice's key with a password the service never
        # gave out is refused (the TLS-PSK session itself is fine: it proves the key).
        impostor = SecurePhone(
            Subscriber(ALICE, keys[ALICE], "guessed"), dirs[ALICE], DOMAIN, SERVER
        )
        try:
            await impostor.connect(server.address)
            report.check(
                not await impostor.register(), "REGISTER with a wrong SIP password refused"
            )
        finally:
            await impostor.close()
        alice, bob = phones[ALICE], phones[BOB]

        print("== 4. call with MIKEY in the INVITE, SRTP media")
        answering = asyncio.create_task(bob.answer())
        out = await alice.call(BOB)
        session = await answering
        if not report.check(isinstance(session, IncomingSession), "Bob accepted the MIKEY offer"):
            return rows, 0.0
        for n, other in ((ALICE, BOB), (BOB, ALICE)):
            got = dirs[n].last
            report.check(
                got is not None and got.name == other and got.verified,
                f"{n}'s look-up of {other}: {got.label if got else 'none'}",
            )
        assert isinstance(session, IncomingSession)
        sas_a, sas_b = alice.sas(out), bob.sas(session)
        print(f"  SAS on Alice's phone: {sas_a}    SAS on Bob's phone: {sas_b}")
        report.check(sas_a == sas_b, "both ends show the same short authentication string")
        packets = list(packetize(tone(TONE_SECONDS), ssrc=out.media.ssrc, seq=4242))
        half = len(packets) // 2
        await out.media.play(packets[:half], pace=0.005)
        await session.media.wait_for(half)
        forged = bytearray(out.media.protect(packets[half]))
        genuine = bytes(forged)
        forged[-1] ^= 1
        out.media.raw(bytes(forged))
        out.media.raw(genuine)
        out.media.raw(out.media.sent[0])
        await session.media.wait_for(half + 1)
        await asyncio.sleep(0.05)
        report.check(
            session.media.dropped == {"auth": 1, "replay": 1},
            f"tampered and replayed SRTP dropped: {dict(session.media.dropped)}",
        )

        print("== 5. Station-to-Station over SRTCP, both directions re-keyed, media continues")
        t = time.perf_counter()
        r_a, r_b = await asyncio.gather(alice.rekey(out), bob.rekey(session))
        sts_time = time.perf_counter() - t
        report.check(
            r_a.send_master == r_b.recv_master and r_a.send_at == r_b.recv_at,
            f"STS agreed, new key from index {r_a.send_at}",
        )
        print(f"  re-key SAS on Alice's phone: {r_a.sas}    on Bob's phone: {r_b.sas}")
        report.check(r_a.sas == r_b.sas, "both ends show the same SAS after the re-key")
        await out.media.play(packets[half + 1 :], pace=0.005)
        await session.media.wait_for(len(packets))
        sent = b"".join(p.payload for p in packets)
        report.check(session.media.payload() == sent, f"{len(packets)} packets heard, bytes equal")
        report.check(g711.decode(session.media.payload()) == g711.decode(sent), "audio decodes")
        print(f"  STS over RTCP took {_ms(sts_time)}")
        await alice.hang_up(out.call_id)

        print("== 6. the paper's a=k: call (explicit option)")
        answering = asyncio.create_task(bob.answer(variant="paper"))
        paper_call = await alice.call(BOB, variant="paper")
        paper_session = await answering
        report.check(isinstance(paper_session, IncomingSession), "a=k: call set up")
        await alice.hang_up(paper_call.call_id)

        print("== 7. adversary: key substitution injected into Bob's INVITE (on path)")
        now = time.time()
        eve = IdentityKey.generate()  # Eve needs no account: only public keys and her own
        for variant in ("paper", "hardened"):
            try:
                machine = bob.open_offer(
                    f"sip:{ALICE}@{DOMAIN}",
                    _forged_offer(variant, keys[BOB], eve, now),
                    variant=variant,
                )
                outcome = f"ACCEPTED Eve's key as Alice's ({machine.state.value})"
                accepted = True
            except EthVoipError as exc:
                outcome, accepted = f"refused: {type(exc).__name__}: {exc}", False
            report.check(accepted == (variant == "paper"), f"{variant:8} {outcome}")

        ct, ce = out.times, session.times
        signalling = ct.invite_to_answer - ce.key_retrieval - ce.decryption - ce.srtp_derivation
        rows = [
            ("Key retrieval from blockchain (caller, with proof)", ct.key_retrieval),
            ("Key retrieval from blockchain (callee, with proof)", ce.key_retrieval),
            ("Symmetric key generation", ct.key_generation),
            ("Public key encryption + signature (MIKEY)", ct.pk_encryption),
            ("SIP signalling (INVITE .. 200 OK, TLS-PSK)", signalling),
            ("Private key decryption + verification", ce.decryption),
            ("SRTP key derivation (both ends)", ct.srtp_derivation + ce.srtp_derivation),
        ]
    finally:
        for p in phones.values():
            await p.close()
        await server.close()
    return rows, ct.total


def run_attacks(report: Report) -> None:
    print("== 8. the attack adversary against paper and hardened handshakes")
    try:
        from ethvoip.attacks import runner
    except ImportError:
        print("  (ethvoip.attacks.runner not available)")
        return
    for name in ("lowe", "splice", "mikey_substitution", "sts_uks", "sts_rekey_hijack"):
        if name not in runner.available():
            continue
        try:
            r = runner.load(name).run()
        except Exception as exc:  # an attack module's own failure must not hide the rest
            report.check(False, f"{name}: {exc!r}")
            continue
        report.check(
            r.ok,
            f"{name}: paper {'reproduced' if r.paper_reproduced else 'NOT reproduced'}, "
            f"hardened {'blocked by ' + r.blocked_by if r.hardened_blocked else 'NOT blocked'}",
        )


def _chain(args: argparse.Namespace, stack: contextlib.ExitStack) -> Chain:
    if args.anvil:
        anvil = stack.enter_context(start_anvil())
        print(f"anvil started at {anvil.url} (pid {anvil.process.pid})")
        return RpcChain(anvil.url)
    if args.rpc:
        return RpcChain(args.rpc)
    return EmbeddedChain()


@cliargs.guard("ethvoip demo")
def main(argv: list[str]) -> int:
    args = demo_args.parser().parse_args(argv)
    report = Report()
    start = time.perf_counter()
    rows: list[tuple[str, float]] = []
    total = 0.0
    try:
        with contextlib.ExitStack() as stack:
            chain = _chain(args, stack)
            stack.callback(chain.close)
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ethvoip-demo-")))
            world = stack.enter_context(operator_service(chain, workdir, report))
            rows, total = asyncio.run(run_demo(world, report))
    except EthVoipError as exc:
        if cliargs.explain(exc)[1] == cliargs.ENVIRONMENT:
            raise  # the node or a port failed us: one line and status 3, not a demo verdict
        report.check(False, f"demo stopped: {type(exc).__name__}: {exc}")
    run_attacks(report)
    if rows:
        print()
        print(table_one(rows, total))
    print(f"\ndemo finished in {time.perf_counter() - start:.1f} s: ", end="")
    if report.failures:
        print(f"{len(report.failures)} FAILED: " + "; ".join(report.failures))
        return 1
    print("everything did what it should")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
