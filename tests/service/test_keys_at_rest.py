"""The service's private keys at rest: in an scrypt key file, never in the database.

What a stolen database file gives is checked on the bytes of the file itself (and of its WAL):
no private key, in hex or raw.  A schema-1 database (keys in clear) is migrated all or
nothing; a failure at any point leaves it as it was.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest
from eth_account import Account

from ethvoip.attacks.cli import main as ethvoip
from ethvoip.impl.chain import EmbeddedChain
from ethvoip.impl.crypto import IdentityKey, seeded_rng
from ethvoip.impl.service.config import ServiceConfig
from ethvoip.impl.service.db import _SCHEMA_V1, PLAINTEXT_KEY_ROWS, ServiceDB
from ethvoip.impl.service.keyvault import (
    PASSPHRASE_ENV,
    ServiceKeys,
    load_service_keys,
    read_passphrase,
    save_service_keys,
)
from ethvoip.impl.service.runtime import build_service, default_keys_path
from ethvoip.impl.service.store import TestStore
from ethvoip.spec.errors import Check, ConfigError, CryptoError
from tests.refusals import refused

from .conftest import KEY_SCRYPT_N, PASSPHRASE, build


def _disk(db: Path) -> bytes:
    """Every byte SQLite keeps for ``db``: main file, WAL, shared memory index."""
    return b"".join(
        p.read_bytes() for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm")) if p.exists()
    )


def _leaks(blob: bytes, secrets: list[bytes]) -> list[str]:
    found = []
    for s in secrets:
        for form in (s, s.hex().encode(), s.hex().upper().encode()):
            if form in blob:
                found.append(s.hex()[:8])
    return found


def test_a_new_service_keeps_its_keys_only_in_the_key_file(
    chain: EmbeddedChain, store: TestStore, tmp_path: Path
) -> None:
    db, sip = tmp_path / "svc.sqlite", tmp_path / "sip.sqlite"
    built = build(ServiceConfig(store.public_key_pem), chain, db, sip)
    try:
        keyfile = default_keys_path(db)
        assert keyfile.stat().st_mode & 0o777 == 0o600
        keys = load_service_keys(keyfile, PASSPHRASE)
        assert keys.identity_key().public_key == built.service.identity.public_key
        assert Account.from_key(keys.treasury).address == built.treasury.address
        assert Account.from_key(keys.operator).address == built.operator.address
        # Each entry is a standard Web3 Secret Storage v3 entry under scrypt.
        entry = json.loads(keyfile.read_text())["treasury"]
        assert entry["version"] == 3 and entry["crypto"]["kdf"] == "scrypt"
        assert bytes(Account.decrypt(entry, PASSPHRASE)) == keys.treasury
        built.db.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        assert not _leaks(_disk(db), list(keys.roles().values()))
        assert built.db.get_meta("service_key") == keys.public_facts()["service_key"]
    finally:
        built.close()


def test_restart_needs_the_right_passphrase_and_the_right_file(
    chain: EmbeddedChain, store: TestStore, tmp_path: Path
) -> None:
    config = ServiceConfig(store.public_key_pem)
    db, sip = tmp_path / "svc.sqlite", tmp_path / "sip.sqlite"
    first = build(config, chain, db, sip)
    service_key = first.service.identity.public_key
    first.close()
    with refused(Check.DECRYPT, CryptoError):
        build_service(config, chain, db, sip, passphrase="not it")
    again = build(config, chain, db, sip)
    assert again.service.identity.public_key == service_key
    again.close()
    # Another service's key file, or none, is refused: never serve with keys the database
    # (its contracts, its treasury nonces) was not made with.
    other = tmp_path / "other-keys.json"
    save_service_keys(other, ServiceKeys.generate(os.urandom), PASSPHRASE, scrypt_n=KEY_SCRYPT_N)
    with pytest.raises(ConfigError, match="other keys"):
        build_service(config, chain, db, sip, passphrase=PASSPHRASE, keys_path=other)
    with pytest.raises(ConfigError, match="no service key file"):
        build_service(config, chain, db, sip, passphrase=PASSPHRASE, keys_path=tmp_path / "x")
    with pytest.raises(ConfigError, match="empty"):
        build_service(config, chain, db, sip, passphrase="")


def _schema_one(path: Path, keys: ServiceKeys) -> None:
    """A database as the schema-1 code left it: keys in clear in ``meta``."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.executescript(_SCHEMA_V1)
    conn.execute("PRAGMA user_version = 1")
    rows = {
        "identity_key": keys.identity.hex(),
        "treasury_key": "0x" + keys.treasury.hex(),
        "operator_key": "0x" + keys.operator.hex(),
    }
    conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", list(rows.items()))
    conn.close()


def _meta_keys(path: Path) -> tuple[int, list[str]]:
    conn = sqlite3.connect(path)
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    names = sorted(r[0] for r in conn.execute("SELECT key FROM meta"))
    conn.close()
    return int(version), names


def test_schema_one_is_migrated_into_the_key_file(
    chain: EmbeddedChain, store: TestStore, tmp_path: Path
) -> None:
    keys = ServiceKeys.generate(os.urandom)
    db, sip = tmp_path / "old.sqlite", tmp_path / "old-sip.sqlite"
    _schema_one(db, keys)
    secrets = list(keys.roles().values())
    assert _leaks(_disk(db), secrets)  # the check can see a key when one is there

    # No passphrase, no migration: refused, and the database is exactly as it was.
    with pytest.raises(ConfigError, match="keeps private keys in clear"):
        ServiceDB(db)
    assert _meta_keys(db) == (1, sorted(PLAINTEXT_KEY_ROWS))

    # The key file cannot be written (its directory is a file), or the path holds something
    # that is not these keys: the migration rolls back, the database is untouched.
    (tmp_path / "a-file").write_text("")
    config = ServiceConfig(store.public_key_pem)
    for bad in (tmp_path / "a-file" / "keys.json", tmp_path):
        with pytest.raises(ConfigError):
            build_service(config, chain, db, sip, passphrase=PASSPHRASE, keys_path=bad)
        assert _meta_keys(db) == (1, sorted(PLAINTEXT_KEY_ROWS))

    built = build(config, chain, db, sip)
    try:
        assert built.db.schema_version == 3
        # Same identity, same wallets as before the migration.
        expected = IdentityKey.from_private_bytes(keys.identity).public_key
        assert built.service.identity.public_key == expected
        assert built.treasury.address == Account.from_key(keys.treasury).address
        assert built.operator.address == Account.from_key(keys.operator).address
        assert load_service_keys(default_keys_path(db), PASSPHRASE) == keys
        version, names = _meta_keys(db)
        assert version == 3 and not set(PLAINTEXT_KEY_ROWS) & set(names)
        assert _leaks(_disk(db), secrets) == []
    finally:
        built.close()


def test_passphrase_sources(tmp_path: Path) -> None:
    f = tmp_path / "pass"
    f.write_text("from the file\nignored second line\n")
    assert read_passphrase(f, {PASSPHRASE_ENV: "from env"}) == "from the file"
    assert read_passphrase(None, {PASSPHRASE_ENV: "from env"}) == "from env"
    assert read_passphrase(None, {}) is None
    f.write_text("\n")
    with pytest.raises(ConfigError, match="empty"):
        read_passphrase(f, {})
    with pytest.raises(ConfigError, match="cannot read"):
        read_passphrase(tmp_path / "missing", {})


def test_a_damaged_key_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    for text in ("", "[]", '{"format": "something else"}', '{"format": "ethvoip-service-keys/v1"}'):
        path.write_text(text)
        with pytest.raises(ConfigError):
            load_service_keys(path, PASSPHRASE)


def test_an_empty_passphrase_from_the_environment_is_refused() -> None:
    with pytest.raises(ConfigError, match="empty"):
        read_passphrase(None, {PASSPHRASE_ENV: ""})


def test_keys_are_never_saved_under_an_empty_passphrase(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    with pytest.raises(ConfigError, match="empty"):
        save_service_keys(
            path, ServiceKeys.generate(seeded_rng(b"vault")), "", scrypt_n=KEY_SCRYPT_N
        )
    assert not path.exists()


def _saved(tmp_path: Path) -> tuple[Path, dict[str, object]]:
    path = save_service_keys(
        tmp_path / "keys.json",
        ServiceKeys.generate(seeded_rng(b"vault")),
        PASSPHRASE,
        scrypt_n=KEY_SCRYPT_N,
    )
    return path, json.loads(path.read_text())


def test_a_key_file_of_another_format_is_refused_even_if_it_decrypts(tmp_path: Path) -> None:
    path, data = _saved(tmp_path)
    path.write_text(json.dumps({**data, "format": "ethvoip-service-keys/v2"}))
    with pytest.raises(ConfigError, match="not a service key file"):
        load_service_keys(path, PASSPHRASE)


def test_a_key_entry_must_be_an_object_not_a_json_text(tmp_path: Path) -> None:
    # eth-account would decrypt a keyfile given as JSON text: the file's own form is an object.
    path, data = _saved(tmp_path)
    path.write_text(json.dumps({**data, "identity": json.dumps(data["identity"])}))
    with pytest.raises(ConfigError, match="no identity key"):
        load_service_keys(path, PASSPHRASE)


def test_serve_with_a_database_needs_a_passphrase(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(PASSPHRASE_ENV, raising=False)
    assert ethvoip(["serve", "--db", str(tmp_path / "svc.sqlite"), "--port", "0"]) == 2  # usage
    assert PASSPHRASE_ENV in capsys.readouterr().err
    assert not (tmp_path / "svc.sqlite").exists()
