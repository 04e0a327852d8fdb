"""ChainDirectory's per-block cache: the second look-up at the same trusted block checks no
proof; a new block (a revocation, any transaction) empties the cache and proves again, walking
the record's storage branches again only when the contract's storage root moved."""

from __future__ import annotations

from typing import Any

import pytest

from ethvoip.impl.call import ChainDirectory
from ethvoip.impl.call import directory as directory_module
from ethvoip.impl.call.provision import register_numbers
from ethvoip.impl.chain import identifier
from ethvoip.impl.crypto import IdentityKey, seeded_rng
from ethvoip.spec.errors import ChainError

from .world import ALICE, BOB, World


def test_cache_within_a_block_and_fresh_proof_after_it(world: World) -> None:
    directory = world.directory
    first = directory.lookup(ALICE)
    assert directory.lookup(ALICE) == first and directory.proofs_checked == 1
    directory.lookup(BOB)
    assert directory.proofs_checked == 2
    # any new block moves the trusted head: every key is proven again
    register_numbers(world.provisioned, {"+96100000888": IdentityKey.generate(seeded_rng(b"x"))})
    assert directory.lookup(ALICE) == first and directory.proofs_checked == 3


def test_cache_off_proves_every_time(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    policy = world.directory.policy
    directory = ChainDirectory(
        world.provisioned.keystore, world.provisioned.salt, policy, cache=False
    )
    reads = _count_reads(monkeypatch)
    directory.lookup(ALICE)
    directory.lookup(ALICE)
    assert directory.proofs_checked == 2 and len(reads) == 2  # storage branches walked twice


def _count_reads(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The identifiers whose storage branches the directory walks (read_record), in order."""
    reads: list[bytes] = []
    real = directory_module.read_record

    def counted(header: Any, state: Any, ident: bytes, *rest: Any) -> Any:
        reads.append(ident)
        return real(header, state, ident, *rest)

    monkeypatch.setattr(directory_module, "read_record", counted)
    return reads


def test_a_new_block_that_leaves_the_keystore_alone_reuses_the_read_record(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = world.directory
    reads = _count_reads(monkeypatch)
    first = directory.resolve(ALICE)
    world.chain.increase_time(1)  # a new block, no transaction: the storage root is the same
    again = directory.resolve(ALICE)
    # proven at the new block (header and account branch), the record read once
    assert again.number == first.number + 1 and again.key == first.key
    assert directory.proofs_checked == 2 and len(reads) == 1
    # a registration writes the KeyStore: a new storage root, the record is read again
    register_numbers(world.provisioned, {"+96100000889": IdentityKey.generate(seeded_rng(b"y"))})
    assert directory.lookup(ALICE) == first.key and len(reads) == 2


def test_a_revocation_after_a_reused_record_is_refused_at_once(world: World) -> None:
    directory, number = world.directory, "+96100000890"
    key = IdentityKey.generate(seeded_rng(b"z"))
    register_numbers(world.provisioned, {number: key})
    assert directory.lookup(number) == key.public_key
    world.chain.increase_time(1)
    assert directory.lookup(number) == key.public_key  # the record reused at the new block
    p = world.provisioned
    p.keystore.operator_revoke(identifier(number, p.salt), p.operator)
    with pytest.raises(ChainError, match="no approved key"):
        directory.lookup(number)  # the storage root moved: read again, revoked
