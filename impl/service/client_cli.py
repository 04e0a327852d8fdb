"""``ethvoip register``: onboard one subscriber, showing each step.

Against a running service (``--service URL --rpc URL --store-key PEM``: the chain the service
uses and the test store it trusts) or an in-process one (``--embedded``: embedded chain,
service on a loopback port, fresh test store).  The passphrase of the keystore comes from
``--passphrase-file`` or the ``ETHVOIP_PASSPHRASE`` environment variable, else a prompt.
"""

from __future__ import annotations

import argparse
import getpass
import os
import secrets
import sys
import tempfile
from pathlib import Path

from ethvoip.impl.chain import Chain, EmbeddedChain, RpcChain
from ethvoip.impl.service.app import make_app
from ethvoip.impl.service.client import OnboardingClient
from ethvoip.impl.service.config import ServiceConfig
from ethvoip.impl.service.keyfile import DEFAULT_SCRYPT_N
from ethvoip.impl.service.runtime import build_service
from ethvoip.impl.service.server import BackgroundServer
from ethvoip.impl.service.store import TestStore
from ethvoip.spec.errors import EthVoipError

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
    return p


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
    try:
        passphrase = _passphrase(args)
        pinned = bytes.fromhex(args.service_key) if args.service_key else None
        if args.embedded:
            return _embedded(args, passphrase)
        if not args.rpc or not args.store_key:
            print("ethvoip register: --service needs --rpc and --store-key", file=sys.stderr)
            return 2
        chain: Chain = RpcChain(args.rpc)
        store = TestStore.from_private_pem(args.store_key.read_bytes())
        client = OnboardingClient(args.service, chain, store, service_key=pinned, progress=_show)
        client.onboard(args.phone, args.dir, passphrase, scrypt_n=args.scrypt_n)
    except EthVoipError as exc:
        print(f"ethvoip register: {exc}", file=sys.stderr)
        return 1
    return 0


def _embedded(args: argparse.Namespace, passphrase: str) -> int:
    chain = EmbeddedChain()
    store = TestStore()
    state = Path(tempfile.mkdtemp(prefix="ethvoip-register-"))
    config = ServiceConfig(store.public_key_pem, variant="paper" if args.paper else "hardened")
    # Throwaway state: the in-process service's key file gets a random passphrase.
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
            print(f"embedded service at {server.url} (state in {state})", flush=True)
            client = OnboardingClient(server.url, chain, store, progress=_show)
            client.onboard(args.phone, args.dir, passphrase, scrypt_n=args.scrypt_n)
    finally:
        built.close()
    return 0
