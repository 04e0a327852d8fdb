"""The service follows the KeyStore's events, so that SIP credentials follow the key life cycle.

A SIP credential is bound to the key version it was issued for (``approvals.version``).
When a number's key is revoked, suspended, rotated or replaced by recovery on chain, the
number's Kamailio subscriber row is removed, and a revocation burns the number's receipts
(re-onboarding takes a fresh one: issue 13, claim 2).  **Bound**: a change mined in block B
is applied by the first :meth:`ChainFollower.poll` after B has ``confirmations`` blocks on
top of it; the service polls every ``follow_interval`` seconds (ServiceConfig), so the row
is gone within ``follow_interval`` plus one poll after that.

The follower is **state-based**: events only say which identifiers to look at; what is done
is decided from the record at the head (status and version), so replaying a range twice, or
after a reorg, gives the same result.  Its cursor (block number *and hash*) lives in the
service's SQLite database and survives restarts; when the stored hash is no longer the
chain's block at that height (a reorg: eth-tester's or anvil's ``evm_revert``,
``anvil_reorg``), it re-scans from ``reorg_window`` blocks before the cursor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ethvoip.impl.chain import KeyStoreClient, Record, Status
from ethvoip.impl.chain import events as ev
from ethvoip.impl.service.db import ServiceDB
from ethvoip.impl.service.sipdb import SipDatabase

#: Events after which a number's SIP credential may no longer match its key.
_LIFECYCLE = (ev.Revoked, ev.Suspended, ev.Rotated, ev.RecoveryExecuted)


@dataclass(frozen=True)
class PollResult:
    """What one poll did: the blocks it read, whether it rewound, what it changed."""

    from_block: int
    to_block: int
    reorg: bool
    removed: tuple[str, ...]  # SIP users whose row was removed
    burned: tuple[str, ...]  # numbers whose receipts were burned


@dataclass(frozen=True)
class Scan:
    """What :meth:`ChainFollower.scan` read: the range, the head, the touched records."""

    start: int
    head: int
    head_hash: bytes
    reorg: bool
    records: tuple[tuple[bytes, Record], ...]


class ChainFollower:
    def __init__(
        self,
        db: ServiceDB,
        sip: SipDatabase,
        keystore: KeyStoreClient,
        *,
        clock: Callable[[], float],
        confirmations: int = 0,
        reorg_window: int = 64,
    ) -> None:
        self.db = db
        self.sip = sip
        self.keystore = keystore
        self.clock = clock
        self.confirmations = confirmations
        self.reorg_window = reorg_window

    def _block(self, number: int) -> Any:
        return self.keystore.chain.w3.eth.get_block(number)

    def poll(self) -> PollResult:
        """Scan and apply in one go (tests, and callers on a single thread)."""
        return self.apply(self.scan(self.db.cursor()))

    def scan(self, cursor: tuple[int, bytes] | None) -> Scan:
        """Chain reads only (the worker thread): what changed since ``cursor``."""
        w3 = self.keystore.chain.w3
        latest = int(w3.eth.block_number)
        head = latest - self.confirmations
        reorg = False
        start = 0
        if cursor is not None:
            number, known = cursor
            if number <= latest and bytes(self._block(number)["hash"]) == known:
                start = number + 1
            else:
                reorg = True
                start = max(0, number - self.reorg_window)
        head = max(head, 0)
        touched: list[bytes] = []
        if head >= start:
            for event in self.keystore.events(start, head):
                if isinstance(event, _LIFECYCLE) and event.identifier not in touched:
                    touched.append(event.identifier)
        records = tuple((i, self.keystore.record(i, block=head)) for i in touched)
        return Scan(start, head, bytes(self._block(head)["hash"]), reorg, records)

    def apply(self, scan: Scan) -> PollResult:
        """Database and SIP writes only (the thread that owns the database)."""
        removed: list[str] = []
        burned: list[str] = []
        with self.db.transaction():
            for ident, record in scan.records:
                for approval in self.db.approvals_of(ident):
                    current = (
                        record.status is Status.APPROVED and record.version == approval.version
                    )
                    if not current and self.sip.remove(approval.sip_user):
                        removed.append(approval.sip_user)
                    if record.status is Status.REVOKED and self.db.burn_receipts(
                        approval.sip_user, now=int(self.clock())
                    ):
                        burned.append(approval.sip_user)
            self.db.set_cursor(scan.head, scan.head_hash)
        return PollResult(scan.start, scan.head, scan.reorg, tuple(removed), tuple(burned))
