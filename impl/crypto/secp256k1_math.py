"""Public-data secp256k1 arithmetic: only for recovering a public key from a signature.

Everything secret runs in libsecp256k1 (:mod:`.identity`); what is computed here in Python
(with variable-time integers) handles public data only, so it leaks nothing secret.
"""

from __future__ import annotations

from typing import TypeAlias

from ethvoip.spec.errors import SignatureInvalid

# secp256k1 domain parameters (SEC 2, section 2.4.1).
_P = 2**256 - 2**32 - 977
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_GX = 0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798
_GY = 0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8
_HALF_N = N // 2


_Jacobian: TypeAlias = tuple[int, int, int]  # (X, Y, Z) with x = X/Z^2, y = Y/Z^3; Z=0 is infinity
_INFINITY: _Jacobian = (0, 1, 0)


def _jdouble(p: _Jacobian) -> _Jacobian:
    x, y, z = p
    if z == 0 or y == 0:
        return _INFINITY
    ysq = y * y % _P
    s = 4 * x * ysq % _P
    m = 3 * x * x % _P  # a = 0 on secp256k1
    nx = (m * m - 2 * s) % _P
    ny = (m * (s - nx) - 8 * ysq * ysq) % _P
    nz = 2 * y * z % _P
    return nx, ny, nz


def _jadd(p: _Jacobian, q: _Jacobian) -> _Jacobian:
    if p[2] == 0:
        return q
    if q[2] == 0:
        return p
    x1, y1, z1 = p
    x2, y2, z2 = q
    z1s, z2s = z1 * z1 % _P, z2 * z2 % _P
    u1, u2 = x1 * z2s % _P, x2 * z1s % _P
    s1, s2 = y1 * z2s * z2 % _P, y2 * z1s * z1 % _P
    if u1 == u2:
        return _jdouble(p) if s1 == s2 else _INFINITY
    h_ = (u2 - u1) % _P
    r = (s2 - s1) % _P
    h2 = h_ * h_ % _P
    h3 = h_ * h2 % _P
    u1h2 = u1 * h2 % _P
    nx = (r * r - h3 - 2 * u1h2) % _P
    ny = (r * (u1h2 - nx) - s1 * h3) % _P
    nz = h_ * z1 * z2 % _P
    return nx, ny, nz


def _jmul2(a: int, p: _Jacobian, b: int, q: _Jacobian) -> _Jacobian:
    """``a*p + b*q`` by Shamir's trick (one pass of doublings)."""
    pq = _jadd(p, q)
    out = _INFINITY
    for i in range(max(a.bit_length(), b.bit_length()) - 1, -1, -1):
        out = _jdouble(out)
        bits = ((a >> i) & 1, (b >> i) & 1)
        if bits == (1, 1):
            out = _jadd(out, pq)
        elif bits == (1, 0):
            out = _jadd(out, p)
        elif bits == (0, 1):
            out = _jadd(out, q)
    return out


def _affine(p: _Jacobian) -> tuple[int, int] | None:
    x, y, z = p
    if z == 0:
        return None
    zinv = pow(z, -1, _P)
    zinv2 = zinv * zinv % _P
    return x * zinv2 % _P, y * zinv2 * zinv % _P


def split_rs(sig: bytes) -> tuple[int, int]:
    r, s = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:64], "big")
    if not (0 < r < N and 0 < s <= _HALF_N):
        # high s is refused: each signature must have a single valid encoding
        raise SignatureInvalid("signature r or s out of range (s must be in the lower half)")
    return r, s


def recover_point(digest: bytes, r: int, s: int, parity: int) -> bytes:
    """The public key (64 bytes) under which ``(r, s)`` signs ``digest``, R.y of ``parity``."""
    # R.x = r: the r+n candidate (recovery ids 2 and 3) has probability ~2^-128 and Ethereum's
    # v in {27, 28} cannot express it.
    alpha = (pow(r, 3, _P) + 7) % _P
    beta = pow(alpha, (_P + 1) // 4, _P)
    if beta * beta % _P != alpha:
        raise SignatureInvalid("signature r is not the x coordinate of a curve point")
    ry = beta if beta % 2 == parity else _P - beta
    rinv = pow(r, -1, N)
    e = int.from_bytes(digest, "big") % N
    q = _jmul2((-e * rinv) % N, (_GX, _GY, 1), (s * rinv) % N, (r, ry, 1))
    point = _affine(q)
    if point is None:
        raise SignatureInvalid("signature recovers the point at infinity")
    return point[0].to_bytes(32, "big") + point[1].to_bytes(32, "big")
