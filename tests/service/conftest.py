"""Fixtures of the service tests: one app store, one embedded chain, a fresh service each test.

The service runs in a background thread behind real HTTP on loopback; the client side talks
to it through the library (``OnboardingClient``) or seals requests by hand to test refusals.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from ethvoip.impl.chain import EmbeddedChain
from ethvoip.impl.service.app import make_app
from ethvoip.impl.service.config import ServiceConfig
from ethvoip.impl.service.runtime import Built, build_service
from ethvoip.impl.service.server import BackgroundServer
from ethvoip.impl.service.store import TestStore

MIN_AGE = 60
PASSPHRASE = "service test passphrase"
KEY_SCRYPT_N = 2**10  # the key file's scrypt cost: tiny, so that a service starts fast


def build(config: ServiceConfig, chain: EmbeddedChain, db: Path, sip: Path) -> Built:
    """``build_service`` as every test runs it (test passphrase, cheap scrypt, short age)."""
    return build_service(
        config,
        chain,
        db,
        sip,
        passphrase=PASSPHRASE,
        key_scrypt_n=KEY_SCRYPT_N,
        min_commitment_age=MIN_AGE,
    )


@pytest.fixture(scope="session")
def store_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def store(store_key: rsa.RSAPrivateKey) -> TestStore:
    return TestStore(store_key)


@pytest.fixture(scope="session")
def chain() -> EmbeddedChain:
    return EmbeddedChain()


@dataclass
class Running:
    built: Built
    server: BackgroundServer
    url: str
    config: ServiceConfig
    db_path: Path
    sip_path: Path


def start(chain: EmbeddedChain, config: ServiceConfig, tmp: Path, name: str = "svc") -> Running:
    db_path, sip_path = tmp / f"{name}.sqlite", tmp / f"{name}-sip.sqlite"
    built = build(config, chain, db_path, sip_path)
    server = BackgroundServer(make_app(built.service))
    url = server.start()
    return Running(built, server, url, config, db_path, sip_path)


# One service per test module (building one deploys two contracts): tests use their own
# numbers and receipts, and compare state before and after rather than absolute counts.
@pytest.fixture(scope="module")
def running(
    chain: EmbeddedChain, store: TestStore, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Running]:
    r = start(chain, ServiceConfig(store.public_key_pem), tmp_path_factory.mktemp("svc"))
    yield r
    r.server.stop()
    r.built.close()


@pytest.fixture(scope="module")
def paper_running(
    chain: EmbeddedChain, store: TestStore, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Running]:
    config = ServiceConfig(store.public_key_pem, variant="paper")
    r = start(chain, config, tmp_path_factory.mktemp("paper"), "paper")
    yield r
    r.server.stop()
    r.built.close()
