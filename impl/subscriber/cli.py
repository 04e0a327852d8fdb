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
from pathlib import Path

from ethvoip.impl.service.cli import MAX_SCRYPT_N
from ethvoip.spec import cliargs
from ethvoip.spec.errors import DecodeError, UsageError

STEPS = ["service", "keys", "purchase", "funding", "commit", "register", "approval", "sip", "trust"]


def _phone(text: str) -> str:
    from ethvoip.impl.chain.messages import check_e164

    try:
        return check_e164(text)
    except DecodeError as exc:
        raise argparse.ArgumentTypeError(f"{exc} (E.164: + and 2 to 15 digits)") from None


def _hex_key(text: str) -> bytes:
    try:
        return bytes.fromhex(text.removeprefix("0x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a hex string") from None


def parser() -> argparse.ArgumentParser:
    p = cliargs.Parser(prog="ethvoip register", description=__doc__.split("\n\n")[0])
    p.add_argument("--phone", type=_phone, required=True, help="E.164 number, e.g. +33612345678")
    p.add_argument(
        "--dir", type=cliargs.folder, required=True, help="where keystore.json and sip.json go"
    )
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument(
        "--service", metavar="URL", type=cliargs.http_url, help="a running `ethvoip serve`"
    )
    where.add_argument("--embedded", action="store_true", help="run a service in process")
    p.add_argument(
        "--rpc", metavar="URL", type=cliargs.http_url, help="the service's chain (with --service)"
    )
    p.add_argument(
        "--store-key",
        type=cliargs.existing_file,
        help="test store private key PEM (with --service)",
    )
    p.add_argument("--service-key", type=_hex_key, help="pin the service's identity key (hex)")
    p.add_argument("--paper", action="store_true", help="paper flow (with --embedded)")
    p.add_argument(
        "--passphrase-file",
        type=cliargs.existing_file,
        help="file holding the keystore passphrase (else $ETHVOIP_PASSPHRASE, else one line "
        "on standard input or the prompt)",
    )
    p.add_argument(
        "--scrypt-n",
        type=cliargs.power_of_two(2, MAX_SCRYPT_N),
        metavar="N",
        help="scrypt cost N of the keystore: a power of two up to 2^20 (default 2^18)",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="replace an existing keystore.json / sip.json (the old ones are kept as backups)",
    )
    return p


#: scrypt needs 1 KiB of memory per unit of N (r = 8): 2^20 is already 1 GiB.


def _passphrase(args: argparse.Namespace) -> str:
    """The keystore passphrase: never empty (an empty one would leave the phone's keys open to
    whoever copies its files)."""
    passphrase = _typed_passphrase(args)
    if not passphrase:
        raise UsageError(
            "the keystore passphrase is empty: it would leave the keys open to anyone who"
            " copies the phone's files"
        )
    return passphrase


def _typed_passphrase(args: argparse.Namespace) -> str:
    if args.passphrase_file is not None:
        text = args.passphrase_file.read_text()
        return text.splitlines()[0] if text else ""  # the first line, without \r or \n
    env = os.environ.get("ETHVOIP_PASSPHRASE")
    if env is not None:
        return env
    if sys.stdin.isatty():
        try:
            return getpass.getpass("keystore passphrase: ")
        except EOFError:  # Ctrl-D at the prompt
            pass
    else:  # piped: the first line of standard input, without getpass's echo warnings
        line = sys.stdin.readline()
        if line.strip("\r\n"):
            return line.rstrip("\r\n")
    raise UsageError(
        "no passphrase: give --passphrase-file, $ETHVOIP_PASSPHRASE, a line on standard "
        "input or type it at the prompt"
    )


def _show(step: str, detail: str) -> None:
    n = STEPS.index(step) + 1 if step in STEPS else 0
    print(f"[{n}/{len(STEPS)}] {step:<9} {detail}", flush=True)


@cliargs.guard("ethvoip register")
def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    if args.service and (not args.rpc or not args.store_key):
        raise UsageError("--service needs --rpc and --store-key (see ethvoip register --help)")
    from ethvoip.impl.chain import Chain, RpcChain
    from ethvoip.impl.service.keyvault import DEFAULT_SCRYPT_N
    from ethvoip.impl.service.store import TestStore
    from ethvoip.impl.subscriber.client import OnboardingClient
    from ethvoip.impl.subscriber.keyfile import check_free

    args.scrypt_n = args.scrypt_n or DEFAULT_SCRYPT_N
    check_free(args.dir, force=args.force)  # before any key is made or request sent
    if args.embedded:
        return _embedded(args, _passphrase(args))
    try:
        store = TestStore.from_private_pem(args.store_key.read_bytes())
    except (ValueError, TypeError) as exc:  # not PEM, or not RSA
        raise UsageError(f"--store-key {args.store_key}: not a PEM private key ({exc})") from None
    chain: Chain = RpcChain(args.rpc)
    chain.chain_id  # noqa: B018 -- a node that does not answer: said before any key is made
    passphrase = _passphrase(args)  # asked once everything else is known to be usable
    client = OnboardingClient(
        args.service, chain, store, service_key=args.service_key, progress=_show
    )
    client.onboard(args.phone, args.dir, passphrase, scrypt_n=args.scrypt_n, force=args.force)
    return 0


def _embedded(args: argparse.Namespace, passphrase: str) -> int:
    from ethvoip.impl.chain import EmbeddedChain
    from ethvoip.impl.service.app import make_app
    from ethvoip.impl.service.config import ServiceConfig
    from ethvoip.impl.service.runtime import build_service
    from ethvoip.impl.service.server import BackgroundServer
    from ethvoip.impl.service.store import TestStore
    from ethvoip.impl.subscriber.client import OnboardingClient

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
