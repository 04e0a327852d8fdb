"""Interface 7 of the paper's Fig. 1: SIP credentials written into the SIP server's database.

The database is Kamailio's own: an SQLite file with the ``version`` and ``subscriber`` tables
exactly as Kamailio 5.6's ``db_sqlite`` scripts create them (``standard-create.sql`` and
``auth_db-create.sql`` in /usr/share/kamailio/db_sqlite/; tests/service compares this schema
with the Debian package's files).  A Kamailio with ``auth_db`` pointed at the file then
authenticates REGISTER with the credentials provisioned here.

Only the digest hashes are stored: ``ha1 = MD5(username:realm:password)`` and
``ha1b = MD5(username@domain:realm:password)`` (RFC 2617 section 3.2.2.2, Kamailio's ha1b
variant); the ``password`` column stays empty, and Kamailio runs with ``calculate_ha1 = 0``
and ``password_column = "ha1"``.  Someone who reads this database learns no password.

:class:`SubscriberCredentials` is the other end: what our own SIP registrar reads, the way
Kamailio's ``auth_db`` does, through a separate read-only connection to the same file.  It is
a :class:`ethvoip.impl.sip.digest.CredentialStore`, so ``ethvoip demo`` authenticates REGISTER
against exactly the rows the service provisioned.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ethvoip.impl.crypto import md5
from ethvoip.impl.service.db import open_connection
from ethvoip.spec.files import private_files

#: Kamailio 5.6 db_sqlite, standard-create.sql and auth_db-create.sql (same columns, types,
#: defaults, constraints and version rows).
KAMAILIO_SCHEMA = """
CREATE TABLE version (
    id INTEGER PRIMARY KEY NOT NULL,
    table_name VARCHAR(32) NOT NULL,
    table_version INTEGER DEFAULT 0 NOT NULL,
    CONSTRAINT version_table_name_idx UNIQUE (table_name)
);
INSERT INTO version (table_name, table_version) values ('version','1');
CREATE TABLE subscriber (
    id INTEGER PRIMARY KEY NOT NULL,
    username VARCHAR(64) DEFAULT '' NOT NULL,
    domain VARCHAR(64) DEFAULT '' NOT NULL,
    password VARCHAR(64) DEFAULT '' NOT NULL,
    ha1 VARCHAR(128) DEFAULT '' NOT NULL,
    ha1b VARCHAR(128) DEFAULT '' NOT NULL,
    CONSTRAINT subscriber_account_idx UNIQUE (username, domain)
);
CREATE INDEX subscriber_username_idx ON subscriber (username);
INSERT INTO version (table_name, table_version) values ('subscriber','7');
"""


def digest_ha1(username: str, realm: str, password: str) -> str:
    """RFC 2617 H(A1) for MD5: hex MD5 of ``username:realm:password``."""
    return md5(f"{username}:{realm}:{password}".encode()).hex()


class SipDatabase:
    """The subscriber table of a Kamailio SQLite database (created if absent)."""

    def __init__(self, path: str | Path, *, realm: str) -> None:
        self.path = str(path)
        self.realm = realm
        self.conn: sqlite3.Connection = open_connection(path)
        exists = self.conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'subscriber'"
        ).fetchone()
        if exists is None:
            self.conn.execute("BEGIN IMMEDIATE")
            for statement in KAMAILIO_SCHEMA.split(";"):
                if statement.strip():
                    self.conn.execute(statement)
            self.conn.execute("COMMIT")

    def close(self) -> None:
        self.conn.close()

    def provision(self, username: str, password: str) -> None:
        """Create or re-key ``username@realm`` (one transaction: old or new, never half)."""
        ha1 = digest_ha1(username, self.realm, password)
        ha1b = digest_ha1(f"{username}@{self.realm}", self.realm, password)
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            self.conn.execute(
                "INSERT INTO subscriber (username, domain, password, ha1, ha1b) "
                "VALUES (?, ?, '', ?, ?) ON CONFLICT(username, domain) "
                "DO UPDATE SET ha1 = excluded.ha1, ha1b = excluded.ha1b",
                (username, self.realm, ha1, ha1b),
            )
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def remove(self, username: str) -> bool:
        """Delete ``username@realm`` (its credential stops working at once); whether it was."""
        cur = self.conn.execute(
            "DELETE FROM subscriber WHERE username = ? AND domain = ?", (username, self.realm)
        )
        return cur.rowcount > 0

    def ha1(self, username: str) -> str | None:
        row = self.conn.execute(
            "SELECT ha1 FROM subscriber WHERE username = ? AND domain = ?", (username, self.realm)
        ).fetchone()
        return None if row is None else str(row[0])

    def usernames(self) -> list[str]:
        rows = self.conn.execute(
            "SELECT username FROM subscriber WHERE domain = ? ORDER BY username", (self.realm,)
        ).fetchall()
        return [str(r[0]) for r in rows]


class SubscriberCredentials:
    """A read-only :class:`~ethvoip.impl.sip.digest.CredentialStore` over a subscriber table.

    Its own connection, with ``query_only`` on: like Kamailio, a reader beside the service's
    writer (WAL mode lets it read while the service provisions), never a writer.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        # check_same_thread off: a SIP server may look users up from its event-loop thread.
        # A reader may create the -shm file: owner-only, like the database (see db.py).
        with private_files():
            self.conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
            self.conn.execute("PRAGMA query_only = ON")

    def close(self) -> None:
        self.conn.close()

    def ha1(self, username: str, realm: str) -> str | None:
        """``subscriber.ha1`` of ``username`` in domain ``realm`` (None: no such account)."""
        row = self.conn.execute(
            "SELECT ha1 FROM subscriber WHERE username = ? AND domain = ?", (username, realm)
        ).fetchone()
        return None if row is None or not row[0] else str(row[0])
