"""The trust policies' checks without a node: freshness with an injected clock, the header
links, the checkpoint and settings decoders (fuzzed), and the checkpoint policy on the
embedded chain (linking, confirmation depth, labels)."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
import rlp
from hypothesis import given
from hypothesis import strategies as st

from ethvoip.impl.call import ChainDirectory
from ethvoip.impl.call.provision import deploy, register_numbers
from ethvoip.impl.chain import EmbeddedChain
from ethvoip.impl.chain.checkpoint import CheckpointPolicy, check_links, checkpoint_at
from ethvoip.impl.chain.headers import ChainHeader, latest_header, parse_header
from ethvoip.impl.chain.policies import DEFAULT_POLICY, TrustSettings, build_policy
from ethvoip.impl.chain.trust import (
    UNVERIFIED,
    BrokenLink,
    Checkpoint,
    Freshness,
    StaleHead,
    TrustedBlock,
)
from ethvoip.impl.crypto import IdentityKey, seeded_rng
from ethvoip.spec.errors import Check, ConfigError, ProofError
from tests.refusals import refused

CAROL = "+96100000401"


def block(number: int, timestamp: int = 1000) -> TrustedBlock:
    return TrustedBlock(number, bytes([number % 256]) * 32, bytes(32), timestamp, "test")


# ----------------------------------------------------------------- freshness


def test_freshness_refuses_an_old_block_by_the_injected_clock() -> None:
    now = [1000.0 + 600]
    fresh = Freshness(600.0, lambda: now[0])
    assert fresh.check(block(5, 1000)) == block(5, 1000)  # exactly at the bound: accepted
    now[0] += 1
    with refused(Check.FRESHNESS, StaleHead):
        fresh.check(block(5, 1000))


def test_freshness_refuses_a_block_below_the_highest_accepted() -> None:
    fresh = Freshness(600.0, lambda: 1000.0)
    fresh.check(block(7))
    fresh.check(block(7))  # the same block again is fine
    with refused(Check.ROLLBACK, StaleHead):
        fresh.check(block(6))
    assert fresh.highest == 7  # a refusal changes nothing


# ----------------------------------------------------------------- links


def header(number: int, parent: bytes, timestamp: int, salt: bytes = b"") -> ChainHeader:
    own = bytes([number]) * 31 + (salt or b"\x00")
    return ChainHeader(own, parent, bytes(32), number, timestamp)


def chain_of(n: int) -> list[ChainHeader]:
    out = [header(0, bytes(32), 100)]
    for i in range(1, n):
        out.append(header(i, out[-1].block_hash, 100 + i))
    return out


def test_a_linked_chain_passes() -> None:
    hs = chain_of(5)
    check_links(hs[0], hs[1:])


@pytest.mark.parametrize(
    "broken",
    [
        lambda h: ChainHeader(h.block_hash, b"\x99" * 32, h.state_root, h.number, h.timestamp),
        lambda h: ChainHeader(h.block_hash, h.parent_hash, h.state_root, h.number + 1, h.timestamp),
        lambda h: ChainHeader(h.block_hash, h.parent_hash, h.state_root, h.number, 50),
    ],
    ids=["parent hash", "number", "timestamp"],
)
def test_each_link_check_refuses(broken: Any) -> None:
    hs = chain_of(5)
    hs[3] = broken(hs[3])
    with pytest.raises(BrokenLink) as refused:
        check_links(hs[0], hs[1:])
    assert refused.value.number in (3, 4)


# Random bytes, and RLP lists of random fields shaped roughly like a header (so that the
# field checks, not only the RLP decoder, see random input).
_header_like = st.lists(
    st.one_of(st.binary(min_size=32, max_size=32), st.binary(max_size=9), st.lists(st.binary())),
    min_size=13,
    max_size=20,
).map(lambda fields: bytes(rlp.encode(fields)))


@given(st.one_of(st.binary(max_size=700), _header_like))
def test_parse_header_decodes_or_raises_proof_error(data: bytes) -> None:
    try:
        h = parse_header(data)
    except ProofError:
        return
    assert len(h.block_hash) == len(h.parent_hash) == len(h.state_root) == 32


def test_parse_header_refuses_what_is_not_a_header() -> None:
    with pytest.raises(ProofError):
        parse_header(b"\xc0")
    with pytest.raises(ProofError):
        parse_header(b"\x01\x02")


# ----------------------------------------------------------------- decoders


CP = Checkpoint(31337, 12, b"\xab" * 32)


def test_settings_round_trip_through_json() -> None:
    s = TrustSettings(CP, "quorum", depth=3, max_age=120.0, quorum=2, endpoints=("http://a",))
    assert TrustSettings.from_json(json.loads(json.dumps(s.to_json()))) == s
    bare = TrustSettings.from_json({"checkpoint": CP.to_json()})
    assert bare.policy == DEFAULT_POLICY and bare.checkpoint == CP


@pytest.mark.parametrize(
    "bad",
    [
        {"checkpoint": {**CP.to_json(), "hash": "0x12"}},
        {"checkpoint": {**CP.to_json(), "hash": "0x" + "ab " * 21 + " "}},  # 64 chars, 21 bytes
        {"checkpoint": {**CP.to_json(), "number": -1}},
        {"checkpoint": {**CP.to_json(), "chain_id": True}},
        {"checkpoint": CP.to_json(), "policy": "node-head"},
        {"checkpoint": CP.to_json(), "depth": -1},
        {"checkpoint": CP.to_json(), "max_age": 0},
        {"checkpoint": CP.to_json(), "surprise": 1},
        {"policy": "checkpoint"},
        [],
    ],
)
def test_settings_refuse_bad_input(bad: Any) -> None:
    with pytest.raises(ConfigError):
        TrustSettings.from_json(bad)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=70),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=12,
)


@given(st.dictionaries(st.sampled_from(["checkpoint", "policy", "depth", "max_age"]), _json))
def test_settings_decoder_accepts_or_raises_config_error(data: dict[str, Any]) -> None:
    try:
        got = TrustSettings.from_json(data)
    except ConfigError:
        return
    assert TrustSettings.from_json(got.to_json()) == got


@given(st.dictionaries(st.sampled_from(["chain_id", "number", "hash"]), _json))
def test_checkpoint_decoder_accepts_or_raises_config_error(data: dict[str, Any]) -> None:
    try:
        got = Checkpoint.from_json(data)
    except ConfigError:
        return
    assert Checkpoint.from_json(got.to_json()) == got


# ----------------------------------------------------------------- on the embedded chain


@pytest.fixture(scope="module")
def embedded() -> tuple[EmbeddedChain, Any, dict[str, IdentityKey]]:
    chain = EmbeddedChain()
    world = deploy(chain, b"\x09" * 32)
    keys = {CAROL: IdentityKey.generate(seeded_rng(b"carol"))}
    register_numbers(world, keys)
    return chain, world, keys


def test_checkpoint_policy_proves_below_the_head_by_the_depth(embedded: Any) -> None:
    chain, world, keys = embedded
    cp = checkpoint_at(chain, latest_header(chain).block_hash)
    policy = build_policy(TrustSettings(cp, "checkpoint", depth=2, max_age=86400.0), chain)
    assert policy.trusted_block().number == cp.number  # nothing above yet: the checkpoint
    for _ in range(3):
        chain.increase_time(1)
    head = latest_header(chain).number
    got = ChainDirectory(world.keystore, world.salt, policy).resolve(CAROL)
    assert got.key == keys[CAROL].public_key
    assert got.block is not None and got.block.number == head - 2 and got.number == head - 2
    assert isinstance(policy, CheckpointPolicy) and policy.headers_linked == 3


def test_labels_say_who_vouched_and_unverified_says_so(
    embedded: Any, caplog: pytest.LogCaptureFixture
) -> None:
    chain, world, _ = embedded
    cp = checkpoint_at(chain, latest_header(chain).block_hash)
    verified = ChainDirectory(
        world.keystore, world.salt, build_policy(TrustSettings(cp, "checkpoint", depth=0), chain)
    )
    unverified = ChainDirectory(world.keystore, world.salt, None)
    with caplog.at_level(logging.INFO, logger="ethvoip.directory"):
        good = verified.resolve(CAROL)
        bare = unverified.resolve(CAROL)
    assert good.verified and good.label.startswith(f"verified by checkpoint at block {cp.number}")
    assert verified.label == "checkpoint" and unverified.label == UNVERIFIED
    assert not bare.verified and bare.block is None
    assert bare.label.startswith("unverified") and "verified by" not in bare.label
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "unverified" in warning.getMessage() and CAROL in warning.getMessage()
    assert unverified.last == bare and verified.last == good


def test_sync_committee_is_one_setting_away(embedded: Any) -> None:
    """build_policy knows the sync-committee policy: the switch of the defaults is a name."""
    chain, world, keys = embedded
    cp = checkpoint_at(chain, latest_header(chain).block_hash)
    policy = build_policy(TrustSettings(cp, policy="sync-committee", max_age=86400.0), chain)
    got = ChainDirectory(world.keystore, world.salt, policy).resolve(CAROL)
    assert got.key == keys[CAROL].public_key
    # the simulated committee follows the node it is given: the label says whom it trusts
    assert got.label.startswith(
        "verified by simulated sync-committee (trusts the node it follows) at block"
    )


@pytest.mark.parametrize(("depth", "batch", "ok"), [(0, 1, True), (-1, 1, False), (0, 0, False)])
def test_checkpoint_policy_settings_are_checked(depth: int, batch: int, ok: bool) -> None:
    from ethvoip.impl.chain.checkpoint import CheckpointPolicy
    from ethvoip.spec.errors import ConfigError

    def make() -> CheckpointPolicy:
        return CheckpointPolicy(None, None, depth=depth, freshness=None, max_batch=batch)  # type: ignore[arg-type]

    if ok:
        assert make().max_batch == batch
        return
    with pytest.raises(ConfigError, match="confirmation depth"):
        make()


@pytest.mark.parametrize(
    ("change", "ok"),
    [
        ({"chain_id": 1, "number": 0}, True),  # the smallest chain id, the genesis block
        ({"chain_id": 0}, False),
        ({"number": -1}, False),
        ({"hash": 7}, False),
        ({"hash": "ab" * 33}, False),  # 66 characters, no 0x
        ({"hash": "0x" + "ab" * 31}, False),  # 31 bytes
        ({"hash": "0x" + "ab" * 33}, False),  # 33 bytes
    ],
)
def test_checkpoint_json_bounds(change: dict[str, Any], ok: bool) -> None:
    data = CP.to_json() | change
    if ok:
        assert Checkpoint.from_json(data) == Checkpoint(1, 0, b"\xab" * 32)
        return
    with pytest.raises(ConfigError, match="checkpoint:"):
        Checkpoint.from_json(data)
