"""The service's own state, in SQLite: receipts, funding intents, approvals, request nonces.

Why SQLite's guarantees are the exactly-once design (docs/service.rst, "Exactly once"):

* ``receipts.order_id`` and ``receipts.purchase_token`` are primary/unique keys, so a receipt
  binds to one (wallet, identity key, number) however many requests race for it;
* a funding *intent* (treasury nonce, signed raw transaction, its hash) is committed in the
  same transaction as the receipt, **before** anything is sent; ``fundings.nonce`` is unique,
  and the chain accepts one transaction per (sender, nonce), so the Ether moves at most once;
  on start the service re-sends every intent not yet seen mined, so it moves at least once;
* request nonces are inserted in the transaction of the write they authorise: a replay fails
  the unique key and rolls the whole write back.

WAL mode (readers do not block the writer, a crash loses no committed transaction),
``synchronous=FULL`` (a commit is on disk before the chain hears of it), and a schema version
in ``PRAGMA user_version`` that refuses a database newer than this code.

Schema 2 holds no private key.  Schema 1 kept the service's identity, treasury and operator
keys in clear in ``meta``; the migration to 2 hands them to an exporter (which writes the
encrypted key file, :mod:`.keyvault`), replaces them with their public facts, and deletes
them with ``secure_delete`` on, then truncates the WAL, all in the migration's transaction:
either the database is still schema 1 with its keys, or it is schema 2 and the key file
holds them.  Without an exporter (no passphrase) a schema-1 database with keys is refused.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ethvoip.impl.service.codes import Code, refuse
from ethvoip.spec.errors import ConfigError
from ethvoip.spec.files import private_files

SCHEMA_VERSION = 3

_SCHEMA_V1 = """
CREATE TABLE meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
CREATE TABLE receipts (
    order_id       TEXT PRIMARY KEY NOT NULL,
    purchase_token TEXT NOT NULL UNIQUE,
    product_id     TEXT NOT NULL,
    purchase_time  INTEGER NOT NULL,
    wallet         TEXT NOT NULL,
    client_key     TEXT NOT NULL,
    phone          TEXT NOT NULL UNIQUE,
    created_at     INTEGER NOT NULL
);
CREATE TABLE fundings (
    order_id     TEXT PRIMARY KEY NOT NULL REFERENCES receipts(order_id),
    nonce        INTEGER NOT NULL UNIQUE,
    amount_wei   TEXT NOT NULL,
    tx_hash      TEXT NOT NULL UNIQUE,
    raw_tx       BLOB NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('signed', 'confirmed')),
    block_number INTEGER
);
CREATE TABLE approvals (
    order_id    TEXT PRIMARY KEY NOT NULL REFERENCES receipts(order_id),
    identifier  TEXT NOT NULL,
    version     INTEGER NOT NULL,
    block_hash  TEXT,
    sip_user    TEXT NOT NULL,
    approved_at INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE TABLE request_nonces (
    nonce      TEXT PRIMARY KEY NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX request_nonces_expiry ON request_nonces (expires_at);
"""

#: The ``meta`` rows in which schema 1 kept private keys in clear.
PLAINTEXT_KEY_ROWS = ("identity_key", "treasury_key", "operator_key")

KeyExporter = Callable[[dict[str, str]], dict[str, str]]
"""Takes schema 1's plaintext key rows, stores them elsewhere (encrypted, durably), and
returns the public facts to keep in ``meta`` instead."""

# Schema 3 (issue 13): a number may be onboarded again after its key is revoked, with a
# fresh receipt; revocation burns the number's receipts (burned_at), so at most one live
# receipt per number.  The chain follower's cursor (block number and hash, for reorgs).
_SCHEMA_V3 = """
CREATE TABLE receipts_v3 (
    order_id       TEXT PRIMARY KEY NOT NULL,
    purchase_token TEXT NOT NULL UNIQUE,
    product_id     TEXT NOT NULL,
    purchase_time  INTEGER NOT NULL,
    wallet         TEXT NOT NULL,
    client_key     TEXT NOT NULL,
    phone          TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    burned_at      INTEGER
);
INSERT INTO receipts_v3 SELECT order_id, purchase_token, product_id, purchase_time, wallet,
    client_key, phone, created_at, NULL FROM receipts;
DROP TABLE receipts;
ALTER TABLE receipts_v3 RENAME TO receipts;
CREATE UNIQUE INDEX receipts_live_phone ON receipts (phone) WHERE burned_at IS NULL;
CREATE TABLE chain_cursor (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    block_number INTEGER NOT NULL,
    block_hash   TEXT NOT NULL
);
"""

_MIGRATIONS = {1: _SCHEMA_V1, 3: _SCHEMA_V3}


@dataclass(frozen=True)
class ReceiptRow:
    order_id: str
    purchase_token: str
    product_id: str
    wallet: bytes
    client_key: bytes
    phone: str


@dataclass(frozen=True)
class FundingRow:
    order_id: str
    nonce: int
    amount_wei: int
    tx_hash: bytes
    raw_tx: bytes
    state: str
    block_number: int | None


@dataclass(frozen=True)
class ApprovalRow:
    order_id: str
    identifier: bytes
    version: int
    block_hash: bytes | None
    sip_user: str


def open_connection(path: str | Path) -> sqlite3.Connection:
    """A connection with the pragmas the design relies on (autocommit: we BEGIN ourselves).

    A database created here is owner-only (0600), and so are its ``-wal``, ``-shm`` and
    journal files: they hold HA1 digests, receipts and the identifier salt (docs/service.rst,
    "What an operator must protect").  An existing file keeps the mode its owner gave it.
    """
    # SQLite creates the -wal/-shm files lazily, with the database's mode where it can; the
    # umask covers the first open (which creates them in WAL mode) and any other library.
    with private_files():
        # check_same_thread off: the connection is built on the main thread and then used by
        # the server's event-loop thread alone (never two threads at once).
        conn = sqlite3.connect(str(path), isolation_level=None, timeout=30, check_same_thread=False)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
            # Deleted rows are overwritten with zeros, not left in free pages (schema 1's keys).
            conn.execute("PRAGMA secure_delete=ON")
        except BaseException:
            conn.close()
            raise
    return conn


class ServiceDB:
    """All reads and writes of the service's database (one connection, one thread)."""

    def __init__(self, path: str | Path, *, export_keys: KeyExporter | None = None) -> None:
        self.path = str(path)
        self.conn = open_connection(path)
        try:
            self._migrate(export_keys)
        except BaseException:
            self.conn.close()
            raise

    def close(self) -> None:
        self.conn.close()

    # ------------------------------------------------------------ schema

    def _migrate(self, export_keys: KeyExporter | None) -> None:
        (version,) = self.conn.execute("PRAGMA user_version").fetchone()
        if version > SCHEMA_VERSION:
            raise ConfigError(
                f"{self.path}: schema version {version} is newer than this code ({SCHEMA_VERSION})"
            )
        moved = False
        # Rebuilding the receipts table (schema 3) drops the table the others reference:
        # SQLite's procedure is to do it with foreign keys off, then check them.
        self.conn.execute("PRAGMA foreign_keys=OFF")
        for target in range(version + 1, SCHEMA_VERSION + 1):
            with self.transaction():
                if target == 2:
                    moved = self._move_keys_out(export_keys)
                else:
                    for statement in _MIGRATIONS[target].split(";"):
                        if statement.strip():
                            self.conn.execute(statement)
                if self.conn.execute("PRAGMA foreign_key_check").fetchone() is not None:
                    raise ConfigError(f"{self.path}: migration {target} broke a reference")
                self.conn.execute(f"PRAGMA user_version = {target}")
        self.conn.execute("PRAGMA foreign_keys=ON")
        if moved:
            # The WAL still holds pages written before the delete: fold it into the (now
            # zeroed) main file and cut it to nothing.
            self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def _move_keys_out(self, export_keys: KeyExporter | None) -> bool:
        """Migration 1 -> 2 (inside its transaction): private keys out of ``meta``."""
        marks = ",".join("?" * len(PLAINTEXT_KEY_ROWS))
        rows = self.conn.execute(
            f"SELECT key, value FROM meta WHERE key IN ({marks})", PLAINTEXT_KEY_ROWS
        ).fetchall()
        if not rows:
            return False
        if export_keys is None:
            raise ConfigError(
                f"{self.path} (schema 1) keeps private keys in clear: start the service with "
                "a key passphrase once to move them into an encrypted key file"
            )
        facts = export_keys({str(k): str(v) for k, v in rows})
        self.conn.execute(f"DELETE FROM meta WHERE key IN ({marks})", PLAINTEXT_KEY_ROWS)
        for key, value in facts.items():
            self.set_meta(key, value)
        return True

    @property
    def schema_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any exception (nothing half-written)."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    # ------------------------------------------------------------ meta

    def get_meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # ------------------------------------------------------------ request nonces

    def consume_nonce(self, nonce: bytes, *, now: int, expires_at: int) -> None:
        """Record a request nonce (inside the caller's transaction); refuse one seen before."""
        self.conn.execute("DELETE FROM request_nonces WHERE expires_at < ?", (now,))
        try:
            self.conn.execute(
                "INSERT INTO request_nonces (nonce, expires_at) VALUES (?, ?)",
                (nonce.hex(), expires_at),
            )
        except sqlite3.IntegrityError as exc:
            raise refuse(Code.REPLAYED_REQUEST, "this request was already accepted") from exc

    def nonce_seen(self, nonce: bytes) -> bool:
        row = self.conn.execute(
            "SELECT 1 FROM request_nonces WHERE nonce = ?", (nonce.hex(),)
        ).fetchone()
        return row is not None

    # ------------------------------------------------------------ receipts and fundings

    def receipt(self, order_id: str) -> ReceiptRow | None:
        row = self.conn.execute(
            "SELECT order_id, purchase_token, product_id, wallet, client_key, phone "
            "FROM receipts WHERE order_id = ?",
            (order_id,),
        ).fetchone()
        if row is None:
            return None
        return ReceiptRow(
            row[0], row[1], row[2], bytes.fromhex(row[3]), bytes.fromhex(row[4]), row[5]
        )

    def receipt_by_token(self, token: str) -> str | None:
        row = self.conn.execute(
            "SELECT order_id FROM receipts WHERE purchase_token = ?", (token,)
        ).fetchone()
        return None if row is None else str(row[0])

    def phone_taken(self, phone: str) -> bool:
        """Whether a live (not burned) receipt is bound to ``phone``."""
        row = self.conn.execute(
            "SELECT 1 FROM receipts WHERE phone = ? AND burned_at IS NULL", (phone,)
        ).fetchone()
        return row is not None

    def insert_receipt(self, row: ReceiptRow, *, purchase_time: int, now: int) -> None:
        self.conn.execute(
            "INSERT INTO receipts (order_id, purchase_token, product_id, purchase_time, wallet, "
            "client_key, phone, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                row.order_id,
                row.purchase_token,
                row.product_id,
                purchase_time,
                row.wallet.hex(),
                row.client_key.hex(),
                row.phone,
                now,
            ),
        )

    def allocate_nonce(self, chain_floor: int) -> int:
        """The next treasury nonce (inside the caller's transaction)."""
        stored = self.get_meta("treasury_next_nonce")
        nonce = max(chain_floor, int(stored) if stored is not None else 0)
        self.set_meta("treasury_next_nonce", str(nonce + 1))
        return nonce

    def insert_funding(self, row: FundingRow) -> None:
        self.conn.execute(
            "INSERT INTO fundings (order_id, nonce, amount_wei, tx_hash, raw_tx, state) "
            "VALUES (?, ?, ?, ?, ?, 'signed')",
            (row.order_id, row.nonce, str(row.amount_wei), row.tx_hash.hex(), row.raw_tx),
        )

    @staticmethod
    def _funding(row: tuple[object, ...]) -> FundingRow:
        return FundingRow(
            str(row[0]),
            int(row[1]),  # type: ignore[call-overload]
            int(str(row[2])),
            bytes.fromhex(str(row[3])),
            bytes(row[4]),  # type: ignore[call-overload]
            str(row[5]),
            None if row[6] is None else int(row[6]),  # type: ignore[call-overload]
        )

    _FUNDING_COLUMNS = "order_id, nonce, amount_wei, tx_hash, raw_tx, state, block_number"

    def funding(self, order_id: str) -> FundingRow | None:
        row = self.conn.execute(
            f"SELECT {self._FUNDING_COLUMNS} FROM fundings WHERE order_id = ?", (order_id,)
        ).fetchone()
        return None if row is None else self._funding(row)

    def unconfirmed_fundings(self) -> list[FundingRow]:
        """Every intent not yet seen mined, in nonce order (the order the chain needs)."""
        rows = self.conn.execute(
            f"SELECT {self._FUNDING_COLUMNS} FROM fundings WHERE state = 'signed' ORDER BY nonce"
        ).fetchall()
        return [self._funding(r) for r in rows]

    def confirm_funding(self, order_id: str, block_number: int) -> None:
        with self.transaction():
            self.conn.execute(
                "UPDATE fundings SET state = 'confirmed', block_number = ? WHERE order_id = ?",
                (block_number, order_id),
            )

    def count(self, table: str) -> int:
        if table not in ("receipts", "fundings", "approvals", "request_nonces"):
            raise ValueError(table)
        return int(self.conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])

    def burned(self, order_id: str) -> bool:
        row = self.conn.execute(
            "SELECT burned_at FROM receipts WHERE order_id = ?", (order_id,)
        ).fetchone()
        return row is not None and row[0] is not None

    def burn_receipts(self, phone: str, *, now: int) -> int:
        """Burn every live receipt of ``phone`` (inside the caller's transaction); how many."""
        cur = self.conn.execute(
            "UPDATE receipts SET burned_at = ? WHERE phone = ? AND burned_at IS NULL",
            (now, phone),
        )
        return int(cur.rowcount)

    # ------------------------------------------------------------ chain cursor

    def cursor(self) -> tuple[int, bytes] | None:
        """The last block the chain follower processed (number, hash), None before any."""
        row = self.conn.execute(
            "SELECT block_number, block_hash FROM chain_cursor WHERE id = 1"
        ).fetchone()
        return None if row is None else (int(row[0]), bytes.fromhex(row[1]))

    def set_cursor(self, number: int, block_hash: bytes) -> None:
        self.conn.execute(
            "INSERT INTO chain_cursor (id, block_number, block_hash) VALUES (1, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET block_number = excluded.block_number, "
            "block_hash = excluded.block_hash",
            (number, block_hash.hex()),
        )

    @staticmethod
    def _approval(row: tuple[Any, ...]) -> ApprovalRow:
        return ApprovalRow(
            row[0],
            bytes.fromhex(row[1]),
            int(row[2]),
            None if row[3] is None else bytes.fromhex(row[3]),
            row[4],
        )

    _APPROVAL_COLUMNS = "order_id, identifier, version, block_hash, sip_user"

    def approvals_of(self, ident: bytes) -> list[ApprovalRow]:
        rows = self.conn.execute(
            f"SELECT {self._APPROVAL_COLUMNS} FROM approvals WHERE identifier = ?", (ident.hex(),)
        ).fetchall()
        return [self._approval(r) for r in rows]

    # ------------------------------------------------------------ approvals

    def approval(self, order_id: str) -> ApprovalRow | None:
        row = self.conn.execute(
            f"SELECT {self._APPROVAL_COLUMNS} FROM approvals WHERE order_id = ?", (order_id,)
        ).fetchone()
        return None if row is None else self._approval(row)

    def upsert_approval(self, row: ApprovalRow, *, now: int) -> None:
        """Record an approval (inside the caller's transaction); a re-approval of the same key
        version keeps the first; a new version (after a rotation) replaces it."""
        self.conn.execute(
            "INSERT INTO approvals (order_id, identifier, version, block_hash, sip_user, "
            "approved_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(order_id) DO UPDATE SET updated_at = excluded.updated_at, "
            "version = excluded.version, block_hash = coalesce(excluded.block_hash, block_hash)",
            (
                row.order_id,
                row.identifier.hex(),
                row.version,
                None if row.block_hash is None else row.block_hash.hex(),
                row.sip_user,
                now,
                now,
            ),
        )
