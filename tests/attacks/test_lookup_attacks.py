"""The trust-root attacks on a real anvil: each reproduces on the unverified look-up and is
refused by the trust policies with the typed error the attack names (checked by type on the
attack's own halves, not by reading its narration)."""

from __future__ import annotations

import pytest

from ethvoip.attacks import forged_head, stale_head
from ethvoip.attacks.node_world import node_world
from ethvoip.impl.chain.trust import BrokenLink, QuorumDisagreement, StaleHead

pytestmark = pytest.mark.integration


def test_forged_head_reproduces_unverified_and_each_policy_refuses_it() -> None:
    with node_world(b"test/forged_head") as w:
        w.mine(3)
        reproduced, _, ends = forged_head.paper_half(w)
        assert reproduced and "pk(e)" in ends
        link, _ = forged_head._checkpoint(w)
        vote, _ = forged_head._quorum(w)
    assert isinstance(link, BrokenLink)
    assert isinstance(vote, QuorumDisagreement)
    assert set(vote.endpoints) == {"e's node", "node 2", "node 3"}
    assert [names for names in vote.groups.values() if "e's node" in names] == [("e's node",)]


def test_stale_head_reproduces_unverified_and_freshness_refuses_it() -> None:
    with node_world(b"test/stale_head") as w:
        old = stale_head.revoke_b(w)
        reproduced, _, _ = stale_head.paper_half(w, old)
        below, _ = stale_head._seen_later(w, old)
        aged, _ = stale_head._fresh_phone(w, old)
    assert reproduced
    assert isinstance(below, StaleHead) and "below block" in str(below)
    assert isinstance(aged, StaleHead) and "freshness bound" in str(aged)
