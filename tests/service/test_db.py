"""The service database: versioned schema, WAL, all-or-nothing transactions, unique keys that
carry the exactly-once design."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from ethvoip.impl.service.db import SCHEMA_VERSION, FundingRow, ReceiptRow, ServiceDB
from ethvoip.spec.errors import Check, ConfigError, ServiceError
from tests.refusals import refused

RECEIPT = ReceiptRow("GPA.1", "tok", "prod", b"\x01" * 20, b"\x02" * 64, "+33612345678")


def test_fresh_database_is_versioned_and_in_wal(tmp_path: Path) -> None:
    db = ServiceDB(tmp_path / "s.sqlite")
    assert db.schema_version == SCHEMA_VERSION == 3
    assert db.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()
    assert ServiceDB(tmp_path / "s.sqlite").schema_version == 3  # reopening migrates nothing


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "s.sqlite")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(ConfigError, match="newer than this code"):
        ServiceDB(tmp_path / "s.sqlite")


def test_a_failed_transaction_writes_nothing(tmp_path: Path) -> None:
    db = ServiceDB(tmp_path / "s.sqlite")
    with pytest.raises(RuntimeError), db.transaction():
        db.insert_receipt(RECEIPT, purchase_time=1, now=1)
        db.allocate_nonce(0)
        raise RuntimeError("crash before commit")
    assert db.count("receipts") == 0
    assert db.get_meta("treasury_next_nonce") is None


def test_unique_keys(tmp_path: Path) -> None:
    db = ServiceDB(tmp_path / "s.sqlite")
    with db.transaction():
        db.insert_receipt(RECEIPT, purchase_time=1, now=1)
        nonce = db.allocate_nonce(5)
        db.insert_funding(FundingRow("GPA.1", nonce, 10, b"\x03" * 32, b"raw", "signed", None))
    assert nonce == 5
    with db.transaction():
        assert db.allocate_nonce(0) == 6  # never below what was handed out
    twin = ReceiptRow("GPA.2", "tok", "prod", b"\x01" * 20, b"\x02" * 64, "+33600000000")
    with pytest.raises(sqlite3.IntegrityError), db.transaction():
        db.insert_receipt(twin, purchase_time=1, now=1)  # same purchase token
    with pytest.raises(sqlite3.IntegrityError), db.transaction():
        db.insert_funding(FundingRow("GPA.1", 7, 10, b"\x04" * 32, b"raw", "signed", None))
    with db.transaction():
        db.consume_nonce(b"n" * 16, now=0, expires_at=10)
    with refused(Check.REPLAY, ServiceError), db.transaction():
        db.consume_nonce(b"n" * 16, now=5, expires_at=20)
    with db.transaction():  # expired nonces are purged, then accepted again (window checks time)
        db.consume_nonce(b"n" * 16, now=11, expires_at=30)
    assert [f.order_id for f in db.unconfirmed_fundings()] == ["GPA.1"]


def test_schema_3_keeps_one_live_receipt_per_number(tmp_path: Path) -> None:
    db = ServiceDB(tmp_path / "s.sqlite")
    with db.transaction():
        db.insert_receipt(RECEIPT, purchase_time=1, now=1)
    again = ReceiptRow("GPA.2", "tok2", "prod", b"\x01" * 20, b"\x03" * 64, RECEIPT.phone)
    with pytest.raises(sqlite3.IntegrityError), db.transaction():
        db.insert_receipt(again, purchase_time=2, now=2)
    assert db.phone_taken(RECEIPT.phone)
    with db.transaction():
        assert db.burn_receipts(RECEIPT.phone, now=3) == 1
    assert db.burned("GPA.1") and not db.phone_taken(RECEIPT.phone)
    with db.transaction():  # a fresh receipt for the number, once the old one is burned
        db.insert_receipt(again, purchase_time=2, now=4)
    assert db.phone_taken(RECEIPT.phone) and not db.burned("GPA.2")


def test_schema_2_database_migrates_with_its_rows(tmp_path: Path) -> None:
    db = ServiceDB(tmp_path / "s.sqlite")
    with db.transaction():
        db.insert_receipt(RECEIPT, purchase_time=1, now=1)
    db.close()
    # Back to schema 2 as it was: phone UNIQUE, no burned_at, no cursor table.
    conn = sqlite3.connect(tmp_path / "s.sqlite")
    conn.executescript(
        "DROP INDEX receipts_live_phone; DROP TABLE chain_cursor;"
        "ALTER TABLE receipts DROP COLUMN burned_at; PRAGMA user_version = 2;"
    )
    conn.close()
    db = ServiceDB(tmp_path / "s.sqlite")
    assert db.schema_version == 3
    assert db.receipt("GPA.1") == RECEIPT and not db.burned("GPA.1")
    assert db.cursor() is None
    assert db.conn.execute("PRAGMA foreign_key_check").fetchall() == []
