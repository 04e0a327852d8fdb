"""The SIP database: Kamailio's own schema (compared with the Debian package's db_sqlite
scripts), RFC 2617 H(A1), atomic re-provisioning."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ethvoip.impl.service.sipdb import SipDatabase, digest_ha1

# Installed by kamailio-sqlite-modules (apt.txt): Kamailio's own table definitions.
DEBIAN = Path("/usr/share/kamailio/db_sqlite")


def _shape(conn: sqlite3.Connection) -> object:
    tables = {}
    for table in ("version", "subscriber"):
        columns = conn.execute(f"PRAGMA table_info({table})").fetchall()
        indexes = sorted(
            (name, unique, [c[2] for c in conn.execute(f"PRAGMA index_info('{name}')")])
            for _, name, unique, *_ in conn.execute(f"PRAGMA index_list({table})")
        )
        tables[table] = (columns, [(u, cols) for _, u, cols in indexes])
    versions = conn.execute("SELECT table_name, table_version FROM version ORDER BY 1").fetchall()
    return tables, versions


def test_schema_is_kamailios(tmp_path: Path) -> None:
    reference = sqlite3.connect(tmp_path / "debian.sqlite")
    for script in ("standard-create.sql", "auth_db-create.sql"):
        reference.executescript((DEBIAN / script).read_text())
    ours = SipDatabase(tmp_path / "ours.sqlite", realm="r")
    assert _shape(ours.conn) == _shape(reference)


def test_ha1_rfc2617_vector() -> None:
    # The credentials of RFC 2617 section 3.5; H(A1) as worked out in Wikipedia's "Digest
    # access authentication" example (MD5 of "Mufasa:testrealm@host.com:Circle Of Life").
    assert digest_ha1("Mufasa", "testrealm@host.com", "Circle Of Life") == (
        "939e7578ed9e3c518a452acee763bce9"
    )


def test_provision_stores_hashes_only_and_rekeys(tmp_path: Path) -> None:
    db = SipDatabase(tmp_path / "sip.sqlite", realm="ethvoip.test")
    db.provision("+33612345678", "first")
    db.provision("+33612345678", "second")
    rows = db.conn.execute(
        "SELECT username, domain, password, ha1, ha1b FROM subscriber"
    ).fetchall()
    assert rows == [
        (
            "+33612345678",
            "ethvoip.test",
            "",  # no password at rest
            digest_ha1("+33612345678", "ethvoip.test", "second"),
            digest_ha1("+33612345678@ethvoip.test", "ethvoip.test", "second"),
        )
    ]
    # Reopening an existing database keeps its rows (no re-creation).
    db.close()
    assert SipDatabase(tmp_path / "sip.sqlite", realm="ethvoip.test").usernames() == [
        "+33612345678"
    ]
