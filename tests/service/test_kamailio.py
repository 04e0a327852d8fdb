"""Interface 7 end to end: a real Kamailio (db_sqlite + auth_db) authenticates REGISTER from
sipp against the subscriber table the service provisioned, with the password the client
received over the sealed channel; a wrong password is refused (401/403)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from ethvoip.impl.chain import EmbeddedChain
from ethvoip.impl.service.store import TestStore
from ethvoip.impl.subscriber.client import OnboardingClient

from .conftest import Running
from .helpers import fresh_number
from .sip_peers import Kamailio, sipp_register, start_kamailio

pytestmark = pytest.mark.integration


@pytest.fixture
def kamailio(running: Running, tmp_path: Path) -> Iterator[Kamailio]:
    k = start_kamailio(running.sip_path, running.config.sip_realm, tmp_path)
    yield k
    k.stop()


def test_provisioned_subscriber_registers(
    running: Running, chain: EmbeddedChain, store: TestStore, tmp_path: Path, kamailio: Kamailio
) -> None:
    phone = fresh_number()
    client = OnboardingClient(running.url, chain, store)
    sip = client.onboard(phone, tmp_path / "sub", "pw", scrypt_n=2**4).sip
    realm = sip["domain"]
    assert sipp_register(kamailio.port, "register.xml", phone, realm, sip["password"]) == 0
    # The wrong password: the same scenario fails, and the "must be refused" one passes.
    assert sipp_register(kamailio.port, "register.xml", phone, realm, "wrong") != 0
    assert sipp_register(kamailio.port, "register_rejected.xml", phone, realm, "wrong") == 0
    # An unknown subscriber is refused as well.
    assert sipp_register(kamailio.port, "register_rejected.xml", "+999", realm, "x") == 0
    log = kamailio.log.read_text()
    assert "auth_check -2" in log  # Kamailio's "invalid password" (auth API), not a crash


def test_paper_password_is_derivable_from_the_chain(
    paper_running: Running,
    chain: EmbeddedChain,
    store: TestStore,
    tmp_path: Path,
) -> None:
    """The paper's flaw, end to end: anyone reading KeyStorePaper's approvedList computes
    hash(receipt) and registers as the subscriber at the real SIP server."""
    phone = fresh_number()
    client = OnboardingClient(paper_running.url, chain, store)
    client.onboard(phone, tmp_path / "sub", "pw", scrypt_n=2**4)
    paper = paper_running.built.service.ledger.paper_client()
    stolen = hashlib.sha256(paper.receipt_of(phone).encode()).hexdigest()
    k = start_kamailio(paper_running.sip_path, paper_running.config.sip_realm, tmp_path)
    try:
        assert sipp_register(k.port, "register.xml", phone, "ethvoip.test", stolen) == 0
    finally:
        k.stop()
