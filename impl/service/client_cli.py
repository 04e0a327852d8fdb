"""``ethvoip register``: onboard one subscriber, showing each step.

Against a running service (``--service URL --rpc URL --store-key PEM``: the chain the service
uses and the test store it trusts) or an in-process one (``--embedded``: embedded chain,
service on a loopback port, fresh test store).  The passphrase of the keystore comes from
``--passphrase-file`` or the ``ETHVOIP_PASSPHRASE`` environment variable, else a prompt.

Everything typed is checked before a key is generated or a byte sent (number, URLs, key
files, the folder); a folder that already holds ``keystore.json`` or ``sip.json`` is refused
unless ``--force``, which keeps the old files as dated backups.
"""

from __future__ import annotations

import argparse
import getpass
import os
import secrets
import sys
import tempfile
import urllib.parse
from pathlib import Path

from ethvoip.impl.chain import Chain, EmbeddedChain, RpcChain
from ethvoip.impl.service.app import make_app
from ethvoip.impl.service.client import OnboardingClient
from ethvoip.impl.service.config import ServiceConfig
from ethvoip.impl.service.keyfile import DEFAULT_SCRYPT_N, check_free
from ethvoip.impl.service.messages import check_phone
from ethvoip.impl.service.runtime import build_service
from ethvoip.impl.service.server import BackgroundServer
from ethvoip.impl.service.store import TestStore
from ethvoip.spec.errors import ConfigError, EthVoipError

STEPS = ["service", "keys", "purchase", "funding", "commit", "register", "approval", "sip", "trust"]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ethvoip register", description=__doc__.split("\n\n")[0])
    p.add_argument("--phone", required=True, help="E.164 number, e.g. +33612345678")
    p.add_argument("--dir", type=Path, required=True, help="where keystore.json and sip.json go")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--service", metavar="URL", help="a running `ethvoip serve`")
    where.add_argument("--embedded", action="store_true", help="run a service in process")
    p.add_argument("--rpc", metavar="URL", help="the service's chain (with --service)")
    p.add_argument("--store-key", type=Path, help="test store private key PEM (with --service)")
    p.add_argument("--service-key", help="pin the service's identity key (hex)")
    p.add_argument("--paper", action="store_true", help="paper flow (with --embedded)")
    p.add_argument("--passphrase-file", type=Path)
    p.add_argument("--scrypt-n", type=int, default=DEFAULT_SCRYPT_N)
    p.add_argument(
        "--force",
        action="store_true",
        help="replace an existing keystore.json / sip.json (the old ones are kept as backups)",
    )
    return p


#: scrypt needs 1 KiB of memory per unit of N (r = 8): 2^20 is already 1 GiB.
MAX_SCRYPT_N = 2**20


def check_url(value: str, flag: str) -> str:
    """An http(s) URL with a host (and a valid port, if any)."""
    parts = urllib.parse.urlsplit(value)
    try:
        parts.port  # noqa: B018 - raises ValueError on a port out of range or not a number
    except ValueError as exc:
        raise ConfigError(f"{flag} {value!r}: bad port ({exc})") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{flag} {value!r} is not an http(s) URL like http://127.0.0.1:8080")
    return value


def _readable(path: Path, flag: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{flag} {path}: cannot read it ({exc.strerror})") from exc


def validate(args: argparse.Namespace) -> None:
    """Refuse any mistake in what was typed, before a key is made or anything is sent."""
    check_phone(args.phone)
    check_free(args.dir, force=args.force)
    n = args.scrypt_n
    if n < 2 or n & (n - 1) or n > MAX_SCRYPT_N:
        raise ConfigError(
            f"--scrypt-n {n}: must be a power of two from 2 to 2^20 "
            "(scrypt needs 1 KiB of memory per unit)"
        )
    if args.service_key is not None:
        try:
            bytes.fromhex(args.service_key)
        except ValueError as exc:
            raise ConfigError(f"--service-key {args.service_key!r} is not hex") from exc
    if args.passphrase_file is not None:
        _readable(args.passphrase_file, "--passphrase-file")
    if args.service is not None:
        check_url(args.service, "--service")
        if args.rpc is not None:
            check_url(args.rpc, "--rpc")
        if args.store_key is not None:
            _readable(args.store_key, "--store-key")


def _passphrase(args: argparse.Namespace) -> str:
    if args.passphrase_file is not None:
        return str(args.passphrase_file.read_text().rstrip("\n"))
    env = os.environ.get("ETHVOIP_PASSPHRASE")
    if env is not None:
        return env
    return getpass.getpass("keystore passphrase: ")


def _show(step: str, detail: str) -> None:
    n = STEPS.index(step) + 1 if step in STEPS else 0
    print(f"[{n}/{len(STEPS)}] {step:<9} {detail}", flush=True)


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    if args.service and (not args.rpc or not args.store_key):
        print("ethvoip register: --service needs --rpc and --store-key", file=sys.stderr)
        return 2
    try:
        validate(args)
        passphrase = _passphrase(args)
        pinned = bytes.fromhex(args.service_key) if args.service_key else None
        if args.embedded:
            return _embedded(args, passphrase)
        chain: Chain = RpcChain(args.rpc)
        try:
            store = TestStore.from_private_pem(args.store_key.read_bytes())
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"--store-key {args.store_key}: not an RSA private key PEM") from exc
        client = OnboardingClient(args.service, chain, store, service_key=pinned, progress=_show)
        client.onboard(args.phone, args.dir, passphrase, scrypt_n=args.scrypt_n, force=args.force)
    except EthVoipError as exc:
        print(f"ethvoip register: {exc}", file=sys.stderr)
        return 1
    return 0


def _embedded(args: argparse.Namespace, passphrase: str) -> int:
    chain = EmbeddedChain()
    store = TestStore()
    config = ServiceConfig(store.public_key_pem, variant="paper" if args.paper else "hardened")
    # Throwaway state (it dies with the embedded chain): removed on every way out.
    with tempfile.TemporaryDirectory(prefix="ethvoip-register-") as tmp:
        state = Path(tmp)
        # The in-process service's key file gets a random passphrase.
        built = build_service(
            config,
            chain,
            state / "service.sqlite",
            state / "sip.sqlite",
            passphrase=secrets.token_urlsafe(24),
            key_scrypt_n=args.scrypt_n,
        )
        try:
            with BackgroundServer(make_app(built.service)) as server:
                print(f"embedded service at {server.url} (throwaway state in {state})", flush=True)
                client = OnboardingClient(server.url, chain, store, progress=_show)
                client.onboard(
                    args.phone, args.dir, passphrase, scrypt_n=args.scrypt_n, force=args.force
                )
        finally:
            built.close()
    return 0
