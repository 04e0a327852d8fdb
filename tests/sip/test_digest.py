"""Digest authentication: RFC 2617 section 3.5's worked example, and our verifier's refusals."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ethvoip.impl.sip.digest import (
    Challenge,
    DigestVerifier,
    InMemoryCredentialStore,
    authorization,
    compute_ha1,
    compute_response,
    parse_auth_params,
)
from ethvoip.spec.errors import CryptoError, DecodeError, ReplayError

# RFC 2617 section 3.5 (values as printed in the RFC).
RFC2617_CHALLENGE = (
    'Digest realm="testrealm@host.com", qop="auth,auth-int", '
    'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"'
)
RFC2617_RESPONSE = "6629fae49393a05397450978507c4ef1"


def test_rfc2617_example_response() -> None:
    ch = Challenge.parse(RFC2617_CHALLENGE)
    assert ch.qop == ("auth", "auth-int")
    value = authorization(
        ch,
        username="Mufasa",
        password="Circle Of Life",
        method="GET",
        uri="/dir/index.html",
        cnonce="0a4f113b",
        nc=1,
    )
    _, params = parse_auth_params(value)
    assert params["response"] == RFC2617_RESPONSE
    assert params["nc"] == "00000001"
    assert params["opaque"] == "5ccc069c403ebaf9f0171e9517f40e41"


def test_rfc2069_form_matches_formula() -> None:
    # No qop: response = MD5(HA1:nonce:HA2) (RFC 2617 3.2.2.1, second form), computed here
    # straight from hashlib as an independent check.
    def md5(s: str) -> str:
        return hashlib.md5(s.encode()).hexdigest()

    ha1 = md5("alice:example.com:secret")
    expected = md5(f"{ha1}:abc:{md5('REGISTER:sip:example.com')}")
    got = compute_response(ha1=ha1, method="REGISTER", uri="sip:example.com", nonce="abc")
    assert got == expected


def test_sha256_algorithm_rfc8760() -> None:
    ch = Challenge.parse('Digest realm="r", nonce="n", algorithm=SHA-256')
    value = authorization(
        ch, username="u", password="p", method="REGISTER", uri="sip:r", cnonce="c"
    )
    _, params = parse_auth_params(value)

    def sha(s: str) -> str:
        return hashlib.sha256(s.encode()).hexdigest()

    assert params["response"] == sha(f"{sha('u:r:p')}:n:{sha('REGISTER:sip:r')}")


def _verifier() -> DigestVerifier:
    store = InMemoryCredentialStore()
    store.add("alice", "example.com", "wonderland")
    return DigestVerifier(realm="example.com", store=store, secret=b"k" * 32)


def _answer(v: DigestVerifier, now: float, password: str = "wonderland", nc: int = 1) -> str:
    ch = Challenge.parse(v.challenge(now))
    return authorization(
        ch,
        username="alice",
        password=password,
        method="REGISTER",
        uri="sip:example.com",
        cnonce="cafe",
        nc=nc,
    )


def test_verifier_accepts_right_password() -> None:
    v = _verifier()
    assert v.verify(_answer(v, 100), method="REGISTER", uri="sip:example.com", now=101) == "alice"


def test_verifier_rejects_wrong_password() -> None:
    v = _verifier()
    with pytest.raises(CryptoError):
        v.verify(_answer(v, 100, "guess"), method="REGISTER", uri="sip:example.com", now=101)


def test_verifier_rejects_replayed_nonce_count() -> None:
    v = _verifier()
    value = _answer(v, 100)
    v.verify(value, method="REGISTER", uri="sip:example.com", now=101)
    with pytest.raises(ReplayError):
        v.verify(value, method="REGISTER", uri="sip:example.com", now=102)


def test_verifier_rejects_stale_and_forged_nonces() -> None:
    v = _verifier()
    with pytest.raises(ReplayError):
        v.verify(_answer(v, 100), method="REGISTER", uri="sip:example.com", now=1000)
    other = DigestVerifier(realm="example.com", store=v.store, secret=b"x" * 32)
    with pytest.raises(CryptoError):
        v.verify(_answer(other, 100), method="REGISTER", uri="sip:example.com", now=101)


def test_verifier_rejects_other_uri_and_method() -> None:
    v = _verifier()
    with pytest.raises(CryptoError):
        v.verify(_answer(v, 100), method="REGISTER", uri="sip:evil.com", now=101)
    with pytest.raises(CryptoError):
        v.verify(_answer(v, 100), method="INVITE", uri="sip:example.com", now=101)


def test_unknown_user() -> None:
    v = _verifier()
    value = _answer(v, 100).replace('username="alice"', 'username="mallory"')
    with pytest.raises(CryptoError):
        v.verify(value, method="REGISTER", uri="sip:example.com", now=101)


def test_ha1_is_kamailio_subscriber_form() -> None:
    # Kamailio's subscriber.ha1 column is MD5("user:realm:password") in lowercase hex.
    assert (
        compute_ha1("alice", "example.com", "wonderland")
        == hashlib.md5(b"alice:example.com:wonderland").hexdigest()
    )


@pytest.mark.parametrize(
    "value",
    [
        "Digest",
        'Digest realm="x"',
        'Digest realm="x", nonce="unterminated',
        "Digest realm=",
        'Digest realm="a", realm="b", nonce="n"',
        'Basic realm="x", nonce="n"',
        'Digest realm="x", nonce="n", algorithm=SHA-999',
    ],
)
def test_bad_challenges(value: str) -> None:
    with pytest.raises(DecodeError):
        Challenge.parse(value)


@settings(max_examples=150)
@given(st.text(max_size=120))
def test_auth_header_parser_never_crashes(text: str) -> None:
    v = _verifier()
    try:
        v.verify("Digest " + text, method="REGISTER", uri="sip:example.com", now=5.0)
    except (DecodeError, CryptoError, ReplayError):
        return
    raise AssertionError("random credentials accepted")
