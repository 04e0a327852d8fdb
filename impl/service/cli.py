"""``ethvoip serve``: run the wallet-management service.

Against the embedded chain by default (eth-tester in process: state lives as long as the
process, so the database goes to a temporary directory removed on exit unless ``--db`` is
given), or any JSON-RPC node with ``--rpc URL`` (``--anvil`` starts a local anvil).  The
embedded chain is not saved anywhere, so a ``--db`` made on it cannot be served again: such a
start is refused before anything is opened (a persistent node, ``--rpc``, is the way to keep
a service across restarts).  The app store's key
is read from ``--store-key`` (a PEM file: the test store's private key, or just its public
key); a missing file is created with a new test-store key, which ``ethvoip register`` then
uses to buy receipts.

The service's private keys are in an encrypted key file (``--keys``, default beside the
database: ``<db>-keys.json``) whose passphrase is read from ``--key-passphrase-file`` or the
``ETHVOIP_SERVICE_PASSPHRASE`` environment variable, never from the database.  Only a
throwaway service (embedded chain, no ``--db``) may run without one: it gets a random
passphrase.

Prints one JSON line when ready (``url``, ``rpc``, ``db``, ``sip_db``, ``keys``,
``store_key``, ``service_key``, ``reconciled``) and serves until SIGINT/SIGTERM.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import secrets
import signal
import socket
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from ethvoip.spec import cliargs
from ethvoip.spec.errors import ConfigError, EthVoipError, ServiceError
from ethvoip.spec.files import PRIVATE, atomic_write

if TYPE_CHECKING:  # the stack is imported when the service starts, not for --help
    from aiohttp import web

#: The variable ``read_passphrase`` falls back to (impl.service.keyvault.PASSPHRASE_ENV,
#: spelled here so that --help needs no import of the key vault; a test ties the two).
PASSPHRASE_ENV = "ETHVOIP_SERVICE_PASSPHRASE"

#: The largest scrypt N accepted: scrypt needs 128 * r * N bytes (r = 8), 1 GiB at 2^20.
MAX_SCRYPT_N = 2**20


def store_public_pem(path: Path) -> bytes:
    """The store's public key from ``path`` (created with a new test-store key if absent)."""
    from ethvoip.impl.crypto import load_rsa_private_key, rsa_public_pem
    from ethvoip.impl.service.store import TestStore
    from ethvoip.spec.errors import CryptoError

    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # A private key: 0600 from creation, and never onto a file made meanwhile.
        with contextlib.suppress(FileExistsError):
            atomic_write(path, TestStore().private_key_pem(), mode=PRIVATE, exclusive=True)
    data = path.read_bytes()
    if b"PRIVATE KEY" in data:
        try:
            key = load_rsa_private_key(data)
        except CryptoError:
            raise EthVoipError(f"{path}: not an RSA key") from None
        return rsa_public_pem(key.public_key())
    return data


def _commitment_age(text: str) -> int:
    """Seconds a commitment must wait: below the contract's maximum age, else none could
    ever be revealed."""
    from ethvoip.impl.chain.keystore import MAX_COMMITMENT_AGE

    return cliargs.int_range(0, MAX_COMMITMENT_AGE - 1)(text)


def parser() -> argparse.ArgumentParser:
    p = cliargs.Parser(prog="ethvoip serve", description=__doc__.split("\n\n")[0])
    chain = p.add_mutually_exclusive_group()
    chain.add_argument(
        "--rpc", metavar="URL", type=cliargs.http_url, help="JSON-RPC node (default: embedded)"
    )
    chain.add_argument("--anvil", action="store_true", help="start a local anvil and use it")
    p.add_argument("--db", type=cliargs.output_file, help="service database (SQLite)")
    p.add_argument(
        "--sip-db",
        type=cliargs.output_file,
        help="Kamailio subscriber database (default: beside --db)",
    )
    p.add_argument(
        "--store-key", type=cliargs.output_file, help="app store key PEM (default: beside --db)"
    )
    p.add_argument(
        "--keys",
        type=cliargs.output_file,
        help="encrypted service key file (default: <db>-keys.json)",
    )
    p.add_argument(
        "--key-passphrase-file",
        type=cliargs.existing_file,
        help=f"file whose first line is the key file's passphrase (else ${PASSPHRASE_ENV})",
    )
    p.add_argument(
        "--key-scrypt-n",
        type=cliargs.power_of_two(2, MAX_SCRYPT_N),
        metavar="N",
        help="scrypt cost N of a key file made now: a power of two up to 2^20 "
        "(default 2^18, eth-account's)",
    )
    p.add_argument(
        "--host", type=cliargs.host, default="127.0.0.1", help="address to listen on (127.0.0.1)"
    )
    p.add_argument("--port", type=cliargs.port, default=8080, help="0 picks a free port")
    p.add_argument("--product", help="app store product id (default: the test store's)")
    p.add_argument(
        "--funding-wei",
        type=cliargs.int_range(0, 2**256 - 1),
        default=10**17,
        metavar="WEI",
        help="Ether sent to each new subscriber's wallet, in wei (default 10^17)",
    )
    p.add_argument(
        "--realm", type=cliargs.host, default="ethvoip.test", help="SIP domain and digest realm"
    )
    p.add_argument(
        "--min-commitment-age",
        type=_commitment_age,
        metavar="SECONDS",
        help="commit-reveal delay of the contracts deployed now (default: the contract's)",
    )
    p.add_argument(
        "--paper",
        action="store_true",
        help="the paper's flow (SIP password = hash(receipt)): for the attack demo only",
    )
    p.add_argument(
        "--crash-after-intents", type=cliargs.int_range(0, 2**31), help=argparse.SUPPRESS
    )
    # A listening socket inherited from the parent (the load test restarts the service on
    # a port it holds all along, instead of a free port that another process could take).
    p.add_argument("--listen-fd", type=cliargs.int_range(0, 2**31), help=argparse.SUPPRESS)
    return p


async def _serve(
    app: web.Application,
    host: str,
    port: int,
    ready: dict[str, object],
    sock: socket.socket | None = None,
) -> None:
    import asyncio

    from aiohttp import web

    from ethvoip.impl.service.gate import GatedSite

    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = GatedSite(runner, host, port, sock=sock)
    if sock is not None:
        host = sock.getsockname()[0]
    await site.start()
    bound = site.port
    print(json.dumps({**ready, "url": f"http://{host}:{bound}"}), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


def refuse_lost_chain(db: Path | None, embedded: bool) -> None:
    """An existing ``--db`` on a new embedded chain: refused, whatever it holds.

    The embedded chain's state lives in the process that made it; the database's contracts,
    funding intents and approvals refer to a chain that no longer exists.  Without this check
    the start fails later and less clearly (another genesis, or "no contract at ..." when
    eth-tester stamps the same genesis), after decrypting the key file and sending funds on
    the new chain.  Persisting eth-tester's state is not offered: a node with its own storage
    (anvil, geth) already does that properly.
    """
    if embedded and db is not None and db.exists() and db.stat().st_size > 0:
        raise ConfigError(
            f"{db} was made on an embedded chain, which ends with its process and is not "
            "saved: serve it with --rpc URL of the node it was made on, or start afresh "
            "with a new --db path"
        )


@cliargs.guard("ethvoip serve")
def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    import asyncio

    from ethvoip.impl.chain import MIN_COMMITMENT_AGE, Chain, EmbeddedChain, RpcChain, start_anvil
    from ethvoip.impl.service.app import make_app
    from ethvoip.impl.service.config import ServiceConfig
    from ethvoip.impl.service.keyvault import DEFAULT_SCRYPT_N, read_passphrase
    from ethvoip.impl.service.receipts import load_public_key
    from ethvoip.impl.service.runtime import build_service, default_keys_path
    from ethvoip.impl.service.store import DEFAULT_PRODUCT

    anvil = None
    chain: Chain
    throwaway_dir: tempfile.TemporaryDirectory[str] | None = None
    # The passphrase first: a missing one is a usage error, found before any node starts.
    passphrase = read_passphrase(args.key_passphrase_file)
    throwaway = args.db is None and not args.rpc and not args.anvil
    if passphrase is None:
        if not throwaway:
            raise ConfigError(
                "the service key file needs a passphrase: --key-passphrase-file or "
                f"${PASSPHRASE_ENV}"
            )
        passphrase = secrets.token_urlsafe(24)  # state dies with the process anyway
    try:
        refuse_lost_chain(args.db, embedded=not (args.anvil or args.rpc))
        if args.anvil:
            anvil = start_anvil()
            chain, rpc = RpcChain(anvil.url), anvil.url
        elif args.rpc:
            chain, rpc = RpcChain(args.rpc), args.rpc
        else:
            chain, rpc = EmbeddedChain(), "embedded"
        chain.chain_id  # noqa: B018 -- a node that does not answer: said before any file is made
        if args.db is None:
            base = Path()
            if throwaway:  # removed on every way out (its chain dies with us anyway)
                throwaway_dir = tempfile.TemporaryDirectory(prefix="ethvoip-serve-")
                base = Path(throwaway_dir.name)
            args.db = base / "service.sqlite"
        keys = args.keys or default_keys_path(args.db)
        sip_db = args.sip_db or args.db.with_name(args.db.stem + "-sip.sqlite")
        store_key = args.store_key or args.db.with_name("store-key.pem")
        try:
            store_pem = store_public_pem(store_key)
            load_public_key(store_pem)
        except (ValueError, ServiceError) as exc:  # not PEM, not RSA
            raise ConfigError(f"--store-key {store_key}: not a usable key ({exc})") from None
        config = ServiceConfig(
            store_pem,
            product_id=args.product or DEFAULT_PRODUCT,
            funding_wei=args.funding_wei,
            sip_realm=args.realm,
            variant="paper" if args.paper else "hardened",
            crash_after_intents=args.crash_after_intents,
        )
        built = build_service(
            config,
            chain,
            args.db,
            sip_db,
            passphrase=passphrase,
            keys_path=keys,
            key_scrypt_n=args.key_scrypt_n or DEFAULT_SCRYPT_N,
            min_commitment_age=(
                MIN_COMMITMENT_AGE if args.min_commitment_age is None else args.min_commitment_age
            ),
        )
        ready = {
            "rpc": rpc,
            "db": str(args.db),
            "sip_db": str(sip_db),
            "keys": str(keys),
            "store_key": str(store_key),
            "service_key": built.service.identity.public_key.to_bytes().hex(),
            "variant": config.variant,
            "reconciled": built.reconciled,
        }
        try:
            sock = None if args.listen_fd is None else socket.socket(fileno=args.listen_fd)
            asyncio.run(_serve(make_app(built.service), args.host, args.port, ready, sock))
        finally:
            built.close()
    finally:
        if anvil is not None:
            anvil.close()
        if throwaway_dir is not None:
            throwaway_dir.cleanup()
    return 0
