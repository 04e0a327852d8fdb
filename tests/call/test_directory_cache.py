"""ChainDirectory's per-block cache: the second look-up at the same trusted block checks no
proof; a new block (a revocation, any transaction) empties the cache and proves again."""

from __future__ import annotations

from ethvoip.impl.call import ChainDirectory
from ethvoip.impl.call.provision import register_numbers
from ethvoip.impl.crypto import IdentityKey, seeded_rng

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


def test_cache_off_proves_every_time(world: World) -> None:
    policy = world.directory.policy
    directory = ChainDirectory(
        world.provisioned.keystore, world.provisioned.salt, policy, cache=False
    )
    directory.lookup(ALICE)
    directory.lookup(ALICE)
    assert directory.proofs_checked == 2
