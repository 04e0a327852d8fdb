"""The subscriber's side of onboarding (paper III.A.1, Fig. 2), as a library.

:class:`OnboardingClient` runs the whole sequence against a running service over HTTP:

1. read the service's public facts (``GET /v1/info``) and pin its identity key;
2. make a new wallet and identity key pair, write them to an encrypted keystore file;
3. buy the registration product from the (test) app store: a signed receipt;
4. ask for Ether (sealed ``fund`` request: receipt, wallet, number);
5. register the identity key on chain from the wallet: KeyStore's commit, wait, register with
   proof of possession (paper variant: ``addClient(number, key, receipt)``);
6. ask for approval (sealed ``approve`` request); the reply carries the SIP credentials and
   the checkpoint the phone's key look-ups will link back to;
7. check on chain that the approved key is ours, store the SIP credentials and the trust
   settings (``trust.json``: that checkpoint and the default policy) beside the keystore.

Before step 1 the number and the folder are checked
(:func:`ethvoip.impl.service.messages.check_phone`, :func:`.keyfile.check_free`): a mistake
is refused before any key is made or any byte sent, and an existing keystore is never
overwritten unless ``force`` (then it is kept as a dated backup).  Each step reports through
``progress(step, detail)``.  Requests that fail for a transient reason (connection refused,
503) are retried with a fresh nonce: the service's answer to a repeated request for the same
receipt and binding is the same funding.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account import Account

from ethvoip.impl.chain import Chain, KeyStoreClient, PaperKeyStoreClient, identifier
from ethvoip.impl.chain.policies import TrustSettings
from ethvoip.impl.chain.trust import Checkpoint
from ethvoip.impl.crypto import IdentityKey, IdentityPublicKey, Rng
from ethvoip.impl.service.codes import from_wire
from ethvoip.impl.service.envelope import NONCE_SIZE, open_reply, seal_request
from ethvoip.impl.service.keyvault import DEFAULT_SCRYPT_N
from ethvoip.impl.service.ledger import install_signers
from ethvoip.impl.service.messages import ApproveRequest, FundRequest, check_phone
from ethvoip.impl.service.receipts import SignedReceipt
from ethvoip.impl.service.store import TestStore
from ethvoip.impl.subscriber.keyfile import (
    Secrets,
    check_free,
    retire,
    save_keystore,
    save_sip,
    save_trust,
)
from ethvoip.spec.errors import Check, ConfigError, ServiceError, ServiceRefused

Progress = Callable[[str, str], None]
TRANSIENT = {"chain_unavailable", "treasury_empty", "unreachable"}


def _quiet(step: str, detail: str) -> None:
    return None


class ServiceHttp:
    """Plain HTTP to the service (stdlib urllib: the client needs no event loop)."""

    def __init__(self, base_url: str, *, timeout: float = 120) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        req = urllib.request.Request(
            self.base_url + path,
            data=body,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                return int(resp.status), bytes(resp.read())
        except urllib.error.HTTPError as exc:
            return int(exc.code), bytes(exc.read())
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            raise ServiceError("unreachable", f"{self.base_url}: {exc}", status=0) from exc

    def get_json(self, path: str) -> dict[str, Any]:
        status, body = self.request("GET", path)
        data = json.loads(body)
        if status != 200:
            raise _error(status, data)
        return dict(data)


def _error(status: int, data: Any) -> ServiceError:
    try:
        err = data["error"]
        return from_wire(str(err["code"]), str(err["message"]), status)
    except (KeyError, TypeError):
        return ServiceError("bad_reply", f"HTTP {status} without an error code", status=status)


@dataclass(frozen=True)
class Onboarded:
    """What a finished onboarding leaves the subscriber with."""

    order_id: str
    wallet: str
    public_key: bytes
    identifier: bytes | None
    sip: dict[str, str]
    keystore: Path
    sip_file: Path
    funding_tx: str
    trust: TrustSettings
    trust_file: Path


class OnboardingClient:
    """One subscriber's onboarding against one service and the chain it uses."""

    def __init__(
        self,
        service_url: str,
        chain: Chain,
        store: TestStore,
        *,
        service_key: bytes | None = None,
        advance_time: Callable[[int], None] | None = None,
        clock: Callable[[], float] = time.time,
        rng: Rng = os.urandom,
        progress: Progress = _quiet,
        retries: int = 20,
        retry_delay: float = 0.25,
    ) -> None:
        self.http = ServiceHttp(service_url)
        self.chain = chain
        self.store = store
        self.pinned = service_key
        self.advance_time = advance_time or chain.increase_time
        self.clock = clock
        self.rng = rng
        self.progress = progress
        self.retries = retries
        self.retry_delay = retry_delay
        self.info: dict[str, Any] = {}

    # ------------------------------------------------------------ requests

    def fetch_info(self) -> dict[str, Any]:
        info = self.http.get_json("/v1/info")
        key = bytes.fromhex(info["service_key"])
        if self.pinned is not None and key != self.pinned:
            raise ServiceRefused(
                "bad_signature",
                "the service key is not the pinned one",
                status=0,
                check=Check.IDENTITY_BINDING,
            )
        self.info = info
        return info

    @property
    def service_key(self) -> IdentityPublicKey:
        return IdentityPublicKey.from_bytes(bytes.fromhex(self.info["service_key"]))

    def call(self, kind: str, body: dict[str, Any], identity: IdentityKey) -> dict[str, Any]:
        """Seal, post, open; retry transient failures with a fresh nonce each time."""
        for attempt in range(self.retries + 1):
            nonce = self.rng(NONCE_SIZE)
            sealed = seal_request(
                self.service_key,
                identity,
                kind,
                body,
                now=int(self.clock()),
                nonce=nonce,
                rng=self.rng,
            )
            try:
                status, reply = self.http.request("POST", f"/v1/{kind}", sealed)
                if status == 200:
                    return open_reply(identity, self.service_key, nonce, reply)
                error = _error(status, json.loads(reply))
            except ServiceError as exc:
                error = exc
            if error.code not in TRANSIENT or attempt == self.retries:
                raise error
            time.sleep(self.retry_delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def fund(
        self, identity: IdentityKey, receipt: SignedReceipt, wallet: bytes, phone: str
    ) -> dict[str, Any]:
        return self.call("fund", FundRequest(receipt, wallet, phone).to_json(), identity)

    def approve(self, identity: IdentityKey, order_id: str) -> dict[str, Any]:
        return self.call("approve", ApproveRequest(order_id).to_json(), identity)

    # ------------------------------------------------------------ the whole sequence

    def onboard(
        self,
        phone: str,
        directory: Path,
        passphrase: str,
        *,
        scrypt_n: int = DEFAULT_SCRYPT_N,
        force: bool = False,
    ) -> Onboarded:
        """The whole sequence; ``force`` replaces an existing keystore (kept as a backup)."""
        check_phone(phone)
        check_free(directory, force=force)
        step = self.progress
        info = self.fetch_info()
        step("service", f"{info['variant']} service, key {info['service_key'][:16]}...")
        wallet = Account.from_key(self.rng(32))
        identity = IdentityKey.generate(self.rng)
        if force:  # the old set goes to its backups together (see keyfile.retire)
            retire(directory, clock=self.clock)
        keystore = save_keystore(
            directory,
            Secrets(bytes(wallet.key), identity),
            passphrase,
            scrypt_n=scrypt_n,
            force=force,
            clock=self.clock,
        )
        step("keys", f"wallet {wallet.address}, identity key saved to {keystore}")
        receipt = self.store.purchase(info["product_id"])
        order_id = json.loads(receipt.purchase_data)["orderId"]
        step("purchase", f"receipt for order {order_id}")
        wallet_bytes = bytes.fromhex(wallet.address[2:])
        funded = self.fund(identity, receipt, wallet_bytes, phone)
        if funded["wallet"] != wallet.address.lower() or funded["order_id"] != order_id:
            raise ServiceRefused(
                "bad_reply",
                f"funding reply for another request: {funded}",
                status=0,
                check=Check.NONCE_MATCH,
            )
        balance = int(self.chain.w3.eth.get_balance(wallet.address))
        step("funding", f"{funded['amount_wei']} wei in tx {funded['tx_hash']} (balance {balance})")
        install_signers(self.chain, wallet)
        ident: bytes | None
        if info["variant"] == "paper":
            paper = PaperKeyStoreClient(self.chain, info["paper_keystore"])
            token = json.loads(receipt.purchase_data)["purchaseToken"]
            paper.add_client(phone, identity.public_key.to_bytes(), token, wallet.address)
            ident = None
            step("register", "addClient(number, key, receipt) sent (paper flow)")
        else:
            ks = KeyStoreClient(self.chain, info["keystore"])
            ident = identifier(phone, bytes.fromhex(info["identifier_salt"]))
            reg = ks.registration(ident, identity, wallet.address, rng=self.rng)
            ks.commit(reg.commitment, wallet.address)
            step("commit", f"commitment 0x{reg.commitment.hex()[:16]}...")
            self.advance_time(int(info["min_commitment_age"]))
            ks.register(reg, wallet.address)
            step("register", f"identity key pending under 0x{ident.hex()[:16]}...")
        approved = self.approve(identity, order_id)
        self._check_on_chain(info, phone, ident, identity)
        step("approval", f"approved as version {approved['version']}")
        sip = {k: str(v) for k, v in approved["sip"].items()}
        sip_file = save_sip(directory, sip, force=force, clock=self.clock)
        step("sip", f"SIP account {sip['username']}@{sip['domain']} saved to {sip_file}")
        try:
            trust = TrustSettings(Checkpoint.from_json(approved["checkpoint"]))
        except (KeyError, ConfigError) as exc:
            raise ServiceRefused(
                "bad_reply",
                f"no usable checkpoint in the reply: {exc}",
                status=0,
                check=Check.DECODE,
            ) from exc
        trust_file = save_trust(directory, trust, force=force, clock=self.clock)
        cp = trust.checkpoint
        step(
            "trust",
            f"checkpoint block {cp.number} 0x{cp.block_hash.hex()[:16]}... pinned in {trust_file}",
        )
        return Onboarded(
            order_id,
            wallet.address,
            identity.public_key.to_bytes(),
            ident,
            sip,
            keystore,
            sip_file,
            funded["tx_hash"],
            trust,
            trust_file,
        )

    def _check_on_chain(
        self, info: dict[str, Any], phone: str, ident: bytes | None, identity: IdentityKey
    ) -> None:
        mine = identity.public_key.to_bytes()
        if ident is None:
            stored = PaperKeyStoreClient(self.chain, info["paper_keystore"]).get_client(phone)
        else:
            stored, _ = KeyStoreClient(self.chain, info["keystore"]).lookup(ident)
        if stored != mine:
            raise ServiceRefused(
                "registration_mismatch",
                "the approved key is not ours",
                status=0,
                check=Check.RECORD_MATCH,
            )
