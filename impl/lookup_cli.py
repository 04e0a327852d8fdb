"""``ethvoip lookup NUMBER``: a phone's key look-up from the command line, saying what vouches.

Reads the KeyStore at ``--keystore`` on the node at ``--rpc`` (``--salt``: the operator's
identifier salt, from its ``/v1/info``) under the trust settings in ``--dir``'s
``trust.json`` (what onboarding pinned), and prints the key with its label::

    +33612345678  04ab...  verified by checkpoint at block 18 (0x4b829328ec27...)

``--unverified`` skips the policy: the line then starts its label with ``UNVERIFIED`` (the
node's own head).  Exit status: 0 answered, 1 refused (the typed error is printed), 2 usage.

It lives in ``ethvoip.impl`` (a light package) and imports the chain stack only once the
arguments are parsed, so ``ethvoip lookup --help`` loads none of it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ethvoip.spec import cliargs


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ethvoip lookup", description=__doc__.split("\n")[0])
    p.add_argument("number", help="E.164 number to look up")
    p.add_argument("--rpc", required=True, metavar="URL", help="the phone's JSON-RPC node")
    p.add_argument("--keystore", required=True, metavar="0xADDRESS", help="KeyStore contract")
    p.add_argument("--salt", required=True, metavar="HEX", help="the identifier salt")
    how = p.add_mutually_exclusive_group(required=True)
    how.add_argument("--dir", type=Path, help="the phone's directory (its trust.json)")
    how.add_argument("--unverified", action="store_true", help="no trust policy (says so)")
    return p


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    from ethvoip.impl.call.directory import ChainDirectory
    from ethvoip.impl.chain import KeyStoreClient, RpcChain
    from ethvoip.impl.chain.policies import build_policy
    from ethvoip.impl.subscriber.keyfile import load_trust
    from ethvoip.spec.errors import EthVoipError

    chain = RpcChain(args.rpc)
    try:
        policy = None if args.unverified else build_policy(load_trust(args.dir), chain)
        ks = KeyStoreClient(chain, args.keystore)
        got = ChainDirectory(ks, bytes.fromhex(args.salt), policy).resolve(args.number)
    except (EthVoipError, ValueError) as exc:
        print(f"ethvoip lookup: refused: {type(exc).__name__}: {exc}", file=sys.stderr)
        return cliargs.FAILED
    finally:
        chain.close()
    label = got.label if got.verified else "UNVERIFIED: " + got.label
    print(f"{args.number}  {got.key.to_bytes().hex()}  {label}")
    return cliargs.OK
