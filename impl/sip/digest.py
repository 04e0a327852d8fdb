"""HTTP Digest authentication for SIP (RFC 3261 section 22, RFC 2617, RFC 8760).

Client side: parse a ``WWW-Authenticate``/``Proxy-Authenticate`` challenge and compute the
``Authorization``/``Proxy-Authorization`` value (MD5 as Kamailio expects, SHA-256 of RFC
8760 when the server asks for it; ``qop=auth`` or the RFC 2069 form without qop).

Server side (our registrar): :class:`DigestVerifier` issues stateless nonces (timestamp plus
an HMAC, so they cannot be forged or kept alive past their lifetime), looks the user's HA1 up
in a :class:`CredentialStore` - the operator's SQLite store with Kamailio's ``subscriber``
columns implements the same one-method protocol - and checks the response in constant time.
The cnonce and secret come from the caller: this module draws no randomness and reads no
clock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from ethvoip.impl.crypto import ct_equal, hmac_sha256, md5, sha256
from ethvoip.spec.errors import (
    Check,
    CryptoRefused,
    DecodeError,
    MacInvalid,
    Replayed,
    Stale,
)

from .fields import is_token

_HASHES: dict[str, Callable[[bytes], str]] = {
    "MD5": lambda b: md5(b).hex(),
    "SHA-256": lambda b: sha256(b).hex(),
}


def _h(algorithm: str, text: str) -> str:
    try:
        return _HASHES[algorithm.upper()](text.encode("utf-8"))
    except KeyError:
        raise DecodeError(f"unsupported digest algorithm {algorithm!r}") from None


def parse_auth_params(value: str) -> tuple[str, dict[str, str]]:
    """``Digest a="b", c=d`` -> ("Digest", {"a": "b", "c": "d"}); names lower-cased."""
    scheme, _, rest = value.strip().partition(" ")
    if not is_token(scheme):
        raise DecodeError("auth header: bad scheme")
    params: dict[str, str] = {}
    i, n = 0, len(rest)
    while i < n:
        while i < n and rest[i] in " \t,":
            i += 1
        if i >= n:
            break
        eq = rest.find("=", i)
        if eq < 0:
            raise DecodeError("auth header: parameter without '='")
        name = rest[i:eq].strip().lower()
        if not is_token(name):
            raise DecodeError(f"auth header: bad parameter name {name!r}")
        j = eq + 1
        while j < n and rest[j] in " \t":
            j += 1
        if j < n and rest[j] == '"':
            out: list[str] = []
            j += 1
            while j < n and rest[j] != '"':
                if rest[j] == "\\" and j + 1 < n:
                    j += 1
                out.append(rest[j])
                j += 1
            if j >= n:
                raise DecodeError("auth header: unterminated quoted value")
            val = "".join(out)
            j += 1
        else:
            k = j
            while k < n and rest[k] not in ", \t":
                k += 1
            val = rest[j:k]
            if not val:
                raise DecodeError(f"auth header: empty value for {name}")
            j = k
        if name in params:
            raise DecodeError(f"auth header: duplicate parameter {name}")
        params[name] = val
        i = j
    return scheme, params


@dataclass(frozen=True)
class Challenge:
    """A parsed Digest challenge."""

    realm: str
    nonce: str
    algorithm: str = "MD5"
    qop: tuple[str, ...] = ()
    opaque: str | None = None
    stale: bool = False

    @classmethod
    def parse(cls, value: str) -> Challenge:
        scheme, p = parse_auth_params(value)
        if scheme.lower() != "digest":
            raise DecodeError(f"not a Digest challenge: {scheme}")
        if "realm" not in p or "nonce" not in p:
            raise DecodeError("Digest challenge without realm or nonce")
        algorithm = p.get("algorithm", "MD5").upper()
        if algorithm not in _HASHES:
            raise DecodeError(f"unsupported digest algorithm {algorithm!r}")
        qop = tuple(q.strip() for q in p.get("qop", "").split(",") if q.strip())
        return cls(
            realm=p["realm"],
            nonce=p["nonce"],
            algorithm=algorithm,
            qop=qop,
            opaque=p.get("opaque"),
            stale=p.get("stale", "").lower() == "true",
        )

    def __str__(self) -> str:
        parts = [f'realm="{self.realm}"', f'nonce="{self.nonce}"']
        if self.opaque is not None:
            parts.append(f'opaque="{self.opaque}"')
        if self.qop:
            parts.append(f'qop="{",".join(self.qop)}"')
        if self.stale:
            parts.append("stale=true")
        parts.append(f"algorithm={self.algorithm}")
        return "Digest " + ", ".join(parts)


def compute_ha1(username: str, realm: str, password: str, algorithm: str = "MD5") -> str:
    """HA1 = H(username:realm:password); what Kamailio stores in ``subscriber.ha1``."""
    return _h(algorithm, f"{username}:{realm}:{password}")


def compute_response(
    *,
    ha1: str,
    method: str,
    uri: str,
    nonce: str,
    algorithm: str = "MD5",
    qop: str | None = None,
    nc: str | None = None,
    cnonce: str | None = None,
) -> str:
    """request-digest of RFC 2617 section 3.2.2.1 (qop=auth) or RFC 2069 (no qop)."""
    ha2 = _h(algorithm, f"{method}:{uri}")
    if qop is None:
        return _h(algorithm, f"{ha1}:{nonce}:{ha2}")
    if qop != "auth":
        raise DecodeError(f"unsupported qop {qop!r}")
    return _h(algorithm, f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")


def authorization(
    challenge: Challenge,
    *,
    username: str,
    password: str,
    method: str,
    uri: str,
    cnonce: str,
    nc: int = 1,
) -> str:
    """The Authorization/Proxy-Authorization value answering ``challenge``."""
    ha1 = compute_ha1(username, challenge.realm, password, challenge.algorithm)
    qop = "auth" if "auth" in challenge.qop else None
    if challenge.qop and qop is None:
        raise DecodeError(f"server offers only qop {challenge.qop}, none supported")
    nc_text = f"{nc:08x}"
    response = compute_response(
        ha1=ha1,
        method=method,
        uri=uri,
        nonce=challenge.nonce,
        algorithm=challenge.algorithm,
        qop=qop,
        nc=nc_text,
        cnonce=cnonce,
    )
    parts = [
        f'username="{username}"',
        f'realm="{challenge.realm}"',
        f'nonce="{challenge.nonce}"',
        f'uri="{uri}"',
        f'response="{response}"',
        f"algorithm={challenge.algorithm}",
    ]
    if qop:
        parts += [f"qop={qop}", f"nc={nc_text}", f'cnonce="{cnonce}"']
    if challenge.opaque is not None:
        parts.append(f'opaque="{challenge.opaque}"')
    return "Digest " + ", ".join(parts)


class CredentialStore(Protocol):
    """Where the registrar finds a subscriber's HA1 (Kamailio ``subscriber.ha1``)."""

    def ha1(self, username: str, realm: str) -> str | None:
        """MD5(username:realm:password) as lowercase hex, or None for an unknown user."""
        ...


@dataclass
class InMemoryCredentialStore:
    """A dict-backed :class:`CredentialStore` for tests and the demo."""

    entries: dict[tuple[str, str], str] = field(default_factory=dict)

    def add(self, username: str, realm: str, password: str) -> None:
        self.entries[(username, realm)] = compute_ha1(username, realm, password)

    def ha1(self, username: str, realm: str) -> str | None:
        return self.entries.get((username, realm))


@dataclass
class DigestVerifier:
    """Server side of Digest: stateless nonces, constant-time check, nc replay guard."""

    realm: str
    store: CredentialStore
    secret: bytes
    nonce_lifetime: float = 300.0
    # Our nonces are shared by every client challenged in the same second, so the nonce
    # count is tracked per (nonce, username, cnonce).
    _seen_nc: dict[tuple[str, str, str], int] = field(default_factory=dict)

    def _nonce(self, issued: int) -> str:
        mac = hmac_sha256(self.secret, f"{issued}:{self.realm}".encode())
        return f"{issued:x}{mac.hex()[:32]}"

    def challenge(self, now: float, *, stale: bool = False) -> str:
        """A WWW-Authenticate / Proxy-Authenticate value."""
        return str(
            Challenge(realm=self.realm, nonce=self._nonce(int(now)), qop=("auth",), stale=stale)
        )

    def verify(self, value: str, *, method: str, uri: str, now: float) -> str:
        """Check an Authorization value; return the authenticated username.

        Raises DecodeError (malformed), ReplayError (stale nonce or repeated nc; the caller
        re-challenges with ``stale=true``) or CryptoError (wrong credentials).
        """
        scheme, p = parse_auth_params(value)
        if scheme.lower() != "digest":
            raise DecodeError("not Digest credentials")
        for name in ("username", "realm", "nonce", "uri", "response"):
            if name not in p:
                raise DecodeError(f"Digest credentials without {name}")
        if p["realm"] != self.realm:
            raise CryptoRefused("credentials for another realm", check=Check.SCOPE)
        if p.get("algorithm", "MD5").upper() != "MD5":
            raise CryptoRefused(
                "only MD5 credentials can be checked against the store", check=Check.ALGORITHM
            )
        if p["uri"] != uri:
            raise CryptoRefused("digest uri does not match the Request-URI", check=Check.SCOPE)
        nonce = p["nonce"]
        self._check_nonce(nonce, now)
        ha1 = self.store.ha1(p["username"], self.realm)
        if ha1 is None:
            raise CryptoRefused("unknown user", check=Check.CREDENTIALS)
        qop = p.get("qop")
        if qop is not None and ("nc" not in p or "cnonce" not in p):
            raise DecodeError("qop without nc or cnonce")
        expected = compute_response(
            ha1=ha1,
            method=method,
            uri=uri,
            nonce=nonce,
            qop=qop,
            nc=p.get("nc"),
            cnonce=p.get("cnonce"),
        )
        if not ct_equal(expected, p["response"].lower()):
            raise CryptoRefused("wrong digest response", check=Check.CREDENTIALS)
        if qop is not None:
            nc_text = p["nc"]
            if len(nc_text) != 8 or any(c not in "0123456789abcdefABCDEF" for c in nc_text):
                raise DecodeError("bad nonce count")
            nc = int(nc_text, 16)
            seen_key = (nonce, p["username"], p["cnonce"])
            if nc <= self._seen_nc.get(seen_key, 0):
                raise Replayed("nonce count reused")
            self._seen_nc[seen_key] = nc
        self._forget_before(now - self.nonce_lifetime)
        return p["username"]

    def _check_nonce(self, nonce: str, now: float) -> None:
        stamp = nonce[:-32]
        try:
            issued = int(stamp, 16)
        except ValueError:
            raise MacInvalid("nonce not issued here") from None
        if not ct_equal(self._nonce(issued), nonce):
            raise MacInvalid("nonce not issued here")
        if not issued <= now <= issued + self.nonce_lifetime + 1:
            raise Stale("stale nonce")

    def _forget_before(self, cutoff: float) -> None:
        for key in [k for k in self._seen_nc if int(k[0][:-32], 16) < cutoff]:
            del self._seen_nc[key]
