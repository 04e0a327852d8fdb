"""The contract attacks: each reproduces on KeyStorePaper and is stopped on KeyStore by the
named check; the mempool's ordering, the chain scan and the proof-of-possession check can
each give the other answer; ``ethvoip attack all --json`` lists all eleven attacks."""

from __future__ import annotations

import json

import pytest

from ethvoip.attacks import (
    approve_replay,
    credential_leak,
    front_running,
    operator_bypass,
    runner,
    signature_cross_use,
    stolen_key_reuse,
    victim_key,
)
from ethvoip.attacks.base import AttackResult
from ethvoip.attacks.chain_world import HONEST_TIP, ChainWorld, Mempool
from ethvoip.impl.chain import (
    MIN_COMMITMENT_AGE,
    KeyStoreClient,
    PaperKeyStoreClient,
    identifier,
)
from ethvoip.impl.service.service import paper_password

#: attack -> the custom errors of contracts/KeyStore.sol that must stop it (read off the
#: contract: register's _consumeCommitment and _checkSigner, approve's key comparison).
EXPECTED = {
    "front_running": ("CommitmentNotFound", "WrongSigner", "CommitmentTooNew", "NotPending"),
    "victim_key": ("WrongSigner", "KeyAlreadyUsed"),
    "credential_leak": ("nothing receipt-like on chain",),
    # the key life cycle (issue 13)
    "stolen_key_reuse": ("KeyAlreadyUsed",),
    "operator_bypass": ("NumberInUse",),
    "signature_cross_use": ("KeyAlreadyUsed", "WrongSigner"),
    "approve_replay": ("replayed_request (HTTP 409)",),
}
MODULES = {
    "front_running": front_running,
    "credential_leak": credential_leak,
    "victim_key": victim_key,
    "stolen_key_reuse": stolen_key_reuse,
    "operator_bypass": operator_bypass,
    "signature_cross_use": signature_cross_use,
    "approve_replay": approve_replay,
}


@pytest.fixture(scope="module")
def results() -> dict[str, AttackResult]:
    return {name: m.ATTACK.run() for name, m in MODULES.items()}


@pytest.mark.parametrize("name", list(EXPECTED))
def test_contract_attack_reproduces_and_is_blocked_by_the_named_check(
    results: dict[str, AttackResult], name: str
) -> None:
    r = results[name]
    assert r.paper_reproduced, r.intruder_ends_with
    assert r.hardened_blocked, r.blocked_by
    for check in EXPECTED[name]:
        assert check in r.blocked_by


def test_front_running_narration_shows_the_race(results: dict[str, AttackResult]) -> None:
    r = results["front_running"]
    chain = [s.text for s in r.steps if s.actor == "chain"]
    # the attacker's copy is included first, the victim's then hits the first-writer rule
    assert "e's addClient" in chain[0] and chain[0].endswith("ok")
    assert "a's addClient" in chain[1] and chain[1].endswith("REVERTED ReceiptAlreadyUsed")
    assert "pk(e), e's own" in r.intruder_ends_with
    hardened = " ".join(s.text for s in r.hardened_steps)
    for error in ("CommitmentNotFound", "WrongSigner", "CommitmentTooNew", "NotPending"):
        assert f"{error}" in hardened
    assert r.hardened_steps[-1].text == "lookup(ident) = pk(a)"


def test_credential_leak_password_matches_the_operators(results: dict[str, AttackResult]) -> None:
    r = results["credential_leak"]
    derived = r.intruder_ends_with.split()[3].rstrip(",")
    assert len(derived) == 64
    # the token itself is deterministic: recompute what the operator provisioned for it
    w = ChainWorld(b"ethvoip/credential_leak", ("o", "a", "e"))
    assert derived == paper_password(w.receipt_token("a"))


def test_lifecycle_holes_are_real_on_paper(results: dict[str, AttackResult]) -> None:
    # what each paper half ends with: the thief's key stays, the operator's key is in at once
    assert "forever" in results["stolen_key_reuse"].intruder_ends_with
    assert "at once" in results["operator_bypass"].intruder_ends_with
    steps = " ".join(s.text for s in results["stolen_key_reuse"].hardened_steps)
    assert "revoke(ident, sig by sk(a)): REVOKED" in steps
    assert "lookup(ident) = NotApproved" in steps


def test_victim_key_ends_with_as_key_under_es_number(results: dict[str, AttackResult]) -> None:
    assert "approved with pk(a)" in results["victim_key"].intruder_ends_with


# --- each mechanism can give the other answer ---------------------------------------------


def test_without_outbidding_the_victim_wins_the_race() -> None:
    w = ChainWorld(b"test/race", ("o", "a", "e"))
    op, victim, eve = w["o"], w["a"], w["e"]
    paper = PaperKeyStoreClient.deploy(w.chain, op.address)
    token = w.receipt_token("race")
    pool = Mempool(w.chain)
    pool.broadcast(victim, paper, "addClient", victim.phone, victim.public_key, token)
    [seen] = pool.pending()
    assert seen.args["receipt"] == token  # what the pool shows anyone
    pool.broadcast(
        eve, paper, "addClient", victim.phone, eve.public_key, token, tip=HONEST_TIP // 2
    )
    first, second = pool.mine()
    assert first.tx.sender == victim.address and first.ok
    assert not second.ok and second.error == "ReceiptAlreadyUsed"
    paper.approve_client(victim.phone, token, op.address)
    assert paper.get_client(victim.phone) == victim.public_key


def test_the_scan_finds_the_receipt_on_the_paper_contract() -> None:
    w = ChainWorld(b"test/scan", ("o", "a"))
    paper = PaperKeyStoreClient.deploy(w.chain, w["o"].address)
    start = w.chain.w3.eth.block_number + 1
    token = w.receipt_token("scan")
    paper.add_client(w["a"].phone, w["a"].public_key, token, w["a"].address)
    calls, logs, words, hits = credential_leak.scan(w, paper.address, start, token)
    assert len(calls) == 1 and len(logs) == 1 and words
    assert token.encode() in hits  # in the calldata and in the event


def test_the_possession_check_accepts_a_genuine_proof() -> None:
    w = ChainWorld(b"test/pop", ("o", "e"))
    eve = w["e"]
    ks = KeyStoreClient.deploy(w.chain, w["o"].address)
    ident = identifier(eve.phone, bytes(32))
    reg = ks.registration(ident, eve.identity, eve.address, rng=w.rng("secret"))
    ks.commit(reg.commitment, eve.address)
    w.chain.increase_time(MIN_COMMITMENT_AGE)
    ks.register(reg, eve.address)  # his own key under his own number: accepted
    ks.approve(ident, eve.public_key, 0, w["o"].address, registrant=eve.address)
    assert ks.lookup(ident) == (eve.public_key, 1)


def test_attack_all_lists_every_attack_all_reproduced_and_blocked(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert runner.main(["all", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    names = [a["name"] for a in doc["attacks"]]
    assert names == [
        "lowe",
        "splice",
        "mikey_substitution",
        "sts_uks",
        "sts_rekey_hijack",
        "front_running",
        "credential_leak",
        "victim_key",
        "stolen_key_reuse",
        "operator_bypass",
        "signature_cross_use",
        "approve_replay",
    ]
    assert all(a["paper_reproduced"] and a["hardened_blocked"] for a in doc["attacks"])
