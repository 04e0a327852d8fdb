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


def test_unknown_user_is_refused_whatever_ha1_the_answer_assumes() -> None:
    # Without the store look-up's None check the response would be computed from the text
    # "None": an answer built on that HA1 must still be refused, by the credentials check.
    v = _verifier()
    _, p = parse_auth_params(_answer(v, 100))
    response = compute_response(
        ha1="None",
        method="REGISTER",
        uri="sip:example.com",
        nonce=p["nonce"],
        qop=p["qop"],
        nc=p["nc"],
        cnonce=p["cnonce"],
    )
    value = (
        f'Digest username="mallory", realm="example.com", nonce="{p["nonce"]}", '
        f'uri="sip:example.com", response="{response}", qop={p["qop"]}, '
        f'nc={p["nc"]}, cnonce="{p["cnonce"]}"'
    )
    with pytest.raises(CryptoError, match="unknown user"):
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
        'Digest nonce="n"',
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


# --- each refusal of the verifier on an answer that is otherwise right --------------------
# (a correct response whose one checked field was changed after it was computed: only that
# check can refuse it; tests/mutation finds the check-removing mutants these kill)

URI = "sip:example.com"


def _verify(v: DigestVerifier, value: str, now: float = 101) -> str:
    return v.verify(value, method="REGISTER", uri=URI, now=now)


def test_answer_for_another_realm_uri_or_algorithm_is_refused() -> None:
    v = _verifier()
    right = _answer(v, 100)
    assert 'realm="example.com"' in right and f'uri="{URI}"' in right
    with pytest.raises(CryptoError, match="another realm"):
        _verify(v, right.replace('realm="example.com"', 'realm="other.com"'))
    with pytest.raises(CryptoError, match="Request-URI"):
        _verify(v, right.replace(f'uri="{URI}"', 'uri="sip:other.com"'))
    assert "algorithm=MD5" in right
    with pytest.raises(CryptoError, match="only MD5"):
        _verify(v, right.replace("algorithm=MD5", "algorithm=SHA-256"))
    assert _verify(v, right.replace("algorithm=MD5", "algorithm=md5")) == "alice"


def test_not_digest_or_incomplete_credentials_are_malformed() -> None:
    v = _verifier()
    right = _answer(v, 100)
    with pytest.raises(DecodeError, match="not Digest"):
        _verify(v, "Basic" + right.removeprefix("Digest"))
    for name in ("username", "realm", "nonce", "uri", "response"):
        _, params = parse_auth_params(right)
        del params[name]
        value = "Digest " + ", ".join(f'{k}="{x}"' for k, x in params.items())
        with pytest.raises(DecodeError, match=f"without {name}"):
            _verify(v, value)


def _with_nc(v: DigestVerifier, nc: str, drop: str = "") -> str:
    """A right answer whose nonce count is ``nc`` as written (response computed over it)."""
    ch = Challenge.parse(v.challenge(100))
    response = compute_response(
        ha1=compute_ha1("alice", "example.com", "wonderland"),
        method="REGISTER",
        uri=URI,
        nonce=ch.nonce,
        qop="auth",
        nc=nc,
        cnonce="cafe",
    )
    params = {
        "username": "alice",
        "realm": "example.com",
        "nonce": ch.nonce,
        "uri": URI,
        "response": response,
        "qop": "auth",
        "nc": nc,
        "cnonce": "cafe",
    }
    params.pop(drop, None)
    return "Digest " + ", ".join(f'{k}="{x}"' for k, x in params.items())


def test_nonce_count_must_be_eight_hex_digits_and_grow() -> None:
    v = _verifier()
    assert _verify(v, _with_nc(v, "0000000a")) == "alice"
    for bad in ("b", "0000000g", "00000000b"):
        with pytest.raises(DecodeError, match="nonce count"):
            _verify(v, _with_nc(v, bad))
    with pytest.raises(ReplayError):
        _verify(v, _with_nc(v, "00000009"))  # lower than one already seen
    for drop in ("nc", "cnonce"):
        with pytest.raises(DecodeError, match="qop without"):
            _verify(v, _with_nc(v, "0000000b", drop=drop))


def test_nonce_lifetime_bounds_are_inclusive() -> None:
    v = _verifier()  # nonces live 300 s (plus the second they were issued in)
    assert _verify(_verifier(), _answer(v, 100), now=100) == "alice"
    assert _verify(_verifier(), _answer(v, 100), now=401) == "alice"
    with pytest.raises(ReplayError, match="stale"):
        _verify(_verifier(), _answer(v, 100), now=402)
    with pytest.raises(ReplayError, match="stale"):
        _verify(_verifier(), _answer(v, 100), now=99)  # issued "later" than now


def test_nonce_with_a_forged_mac_is_refused() -> None:
    v = _verifier()
    right = _answer(v, 100)
    nonce = Challenge.parse(v.challenge(100)).nonce
    forged = nonce[:-32] + ("0" if nonce[-1] != "0" else "1") * 32
    ch = Challenge(realm="example.com", nonce=forged, qop=("auth",))
    value = authorization(
        ch, username="alice", password="wonderland", method="REGISTER", uri=URI, cnonce="c", nc=1
    )
    assert right != value
    with pytest.raises(CryptoError, match="not issued here"):
        _verify(v, value)


def test_only_qop_auth_is_spoken() -> None:
    with pytest.raises(DecodeError, match="unsupported qop"):
        compute_response(ha1="0" * 32, method="REGISTER", uri=URI, nonce="n", qop="auth-int")
    offers_auth_int = Challenge.parse('Digest realm="r", nonce="n", qop="auth-int"')
    with pytest.raises(DecodeError, match="none supported"):
        authorization(
            offers_auth_int, username="u", password="p", method="REGISTER", uri=URI, cnonce="c"
        )
    offers_both = Challenge.parse('Digest realm="r", nonce="n", qop="auth-int,auth"')
    answer = authorization(
        offers_both, username="u", password="p", method="REGISTER", uri=URI, cnonce="c"
    )
    assert "qop=auth," in answer


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('Di@gest realm="x"', "bad scheme"),
        ('Digest realm="x", nonce', "without '='"),
        ("Digest =x", "bad parameter name"),  # '=' first: a parameter with no name
        ('Digest re@lm="x"', "bad parameter name"),
        ('Digest realm=, nonce="n"', "empty value"),
        ('Digest realm="x', "unterminated"),
        ('Digest realm="a", realm="b"', "duplicate"),
    ],
)
def test_auth_header_parser_names_each_fault(value: str, message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        parse_auth_params(value)
    assert parse_auth_params('Digest realm="x", nonce=n') == (
        "Digest",
        {"realm": "x", "nonce": "n"},
    )


@pytest.mark.parametrize("field", ["response", "nonce"])
def test_a_non_ascii_response_or_nonce_is_a_typed_refusal(field: str) -> None:
    # ct_equal (ethvoip.impl.crypto) takes text, but hmac.compare_digest raises TypeError on
    # non-ASCII str: a peer's Authorization header must get a typed refusal, not a TypeError
    # out of the registrar's receive (UTF-8 is legal in a SIP quoted string).
    v = _verifier()
    _, p = parse_auth_params(_answer(v, 1000.0))
    p[field] = p[field][:-1] + "\u00e9"
    value = "Digest " + ", ".join(f'{k}="{x}"' for k, x in p.items())
    with pytest.raises((CryptoError, DecodeError)):
        v.verify(value, method="REGISTER", uri="sip:example.com", now=1000.0)
