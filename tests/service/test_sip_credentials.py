"""The SIP registrar reads the service's Kamailio subscriber table (SubscriberCredentials).

Digest side by the SIP package's own client code (:func:`authorization`), store side by the
service's provisioning: the two meet only through the SQLite file, as Kamailio and the
service do.  The HA1 vector is RFC 2617 section 3.5's example.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from ethvoip.impl.service.sipdb import SipDatabase, SubscriberCredentials
from ethvoip.impl.sip.digest import Challenge, DigestVerifier, authorization
from ethvoip.spec.errors import Check, CryptoError
from tests.refusals import refused

REALM = "ethvoip.test"
URI = f"sip:{REALM}"


def _answer(verifier: DigestVerifier, user: str, password: str, now: float) -> str:
    challenge = Challenge.parse(verifier.challenge(now))
    return authorization(
        challenge, username=user, password=password, method="REGISTER", uri=URI, cnonce="c0ffee"
    )


def test_rfc2617_example_ha1(tmp_path: Path) -> None:
    # RFC 2617 section 3.5: Mufasa / testrealm@host.com / "Circle Of Life".
    sip = SipDatabase(tmp_path / "sip.sqlite", realm="testrealm@host.com")
    sip.provision("Mufasa", "Circle Of Life")
    creds = SubscriberCredentials(tmp_path / "sip.sqlite")
    assert creds.ha1("Mufasa", "testrealm@host.com") == "939e7578ed9e3c518a452acee763bce9"
    assert creds.ha1("Mufasa", "other.realm") is None
    assert creds.ha1("Simba", "testrealm@host.com") is None


def test_registrar_checks_provisioned_password_and_sees_rekeying(tmp_path: Path) -> None:
    sip = SipDatabase(tmp_path / "sip.sqlite", realm=REALM)
    creds = SubscriberCredentials(tmp_path / "sip.sqlite")
    verifier = DigestVerifier(realm=REALM, store=creds, secret=b"s" * 32)
    now = 1_800_000_000.0
    with refused(Check.CREDENTIALS, CryptoError):
        verifier.verify(_answer(verifier, "+33612345678", "pw", now), method="REGISTER",
                        uri=URI, now=now)  # fmt: skip
    sip.provision("+33612345678", "first")
    ok = _answer(verifier, "+33612345678", "first", now)
    assert verifier.verify(ok, method="REGISTER", uri=URI, now=now) == "+33612345678"
    with refused(Check.CREDENTIALS, CryptoError):
        verifier.verify(_answer(verifier, "+33612345678", "guess", now), method="REGISTER",
                        uri=URI, now=now)  # fmt: skip
    # A re-approval re-keys the account: the reader sees the new row at once.
    sip.provision("+33612345678", "second")
    with refused(Check.CREDENTIALS, CryptoError):
        verifier.verify(_answer(verifier, "+33612345678", "first", now + 1), method="REGISTER",
                        uri=URI, now=now + 1)  # fmt: skip
    new = _answer(verifier, "+33612345678", "second", now + 1)
    assert verifier.verify(new, method="REGISTER", uri=URI, now=now + 1) == "+33612345678"


def test_the_reader_cannot_write(tmp_path: Path) -> None:
    SipDatabase(tmp_path / "sip.sqlite", realm=REALM).provision("+33612345678", "pw")
    creds = SubscriberCredentials(tmp_path / "sip.sqlite")
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        creds.conn.execute("DELETE FROM subscriber")
    assert creds.ha1("+33612345678", REALM) is not None
