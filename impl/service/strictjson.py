"""Strict JSON for the service's messages: one canonical encoding, a decoder that refuses doubt.

* :func:`canonical` is the only encoding that is signed or compared: keys sorted, no spaces,
  ASCII only.  Integers only (no floats: two parsers may round them differently).
* :func:`parse_object` refuses what a lenient parser would quietly accept: duplicate keys
  (the signer and the verifier could read different values), NaN/Infinity, floats, non-object
  tops, bodies over a size bound.
* :class:`Fields` reads an object's members by type and refuses missing or unknown ones, so
  every request is exactly what the OpenAPI schema says and nothing more.

Every refusal is a :class:`~ethvoip.spec.errors.ServiceError` with a machine-readable code.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from ethvoip.impl.service.codes import Code, refuse
from ethvoip.spec.errors import ServiceError

JsonObject = dict[str, Any]


def canonical(value: Mapping[str, Any]) -> bytes:
    """The canonical bytes of a JSON object (sorted keys, compact, ASCII)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _no_duplicates(pairs: list[tuple[str, Any]]) -> JsonObject:
    out: JsonObject = {}
    for key, value in pairs:
        if key in out:
            raise refuse(Code.BAD_JSON, f"duplicate key {key!r}")
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    raise refuse(Code.BAD_JSON, f"{name} is not JSON")


def _no_float(text: str) -> Any:
    raise refuse(Code.BAD_JSON, f"non-integer number {text[:20]!r}")


def parse_object(data: bytes, *, limit: int, what: str = "body") -> JsonObject:
    """Decode ``data`` as one strict JSON object of at most ``limit`` bytes."""
    if len(data) > limit:
        raise refuse(Code.BODY_TOO_LARGE, f"{what} has {len(data)} bytes, limit {limit}")
    try:
        text = data.decode("utf-8")
        value = json.loads(
            text,
            object_pairs_hook=_no_duplicates,
            parse_constant=_no_constant,
            parse_float=_no_float,
        )
    except ServiceError:
        raise
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise refuse(Code.BAD_JSON, f"{what} is not JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise refuse(Code.BAD_JSON, f"{what} is not a JSON object")
    return value


class Fields:
    """Typed, exhaustive access to one JSON object's members.

    Read every expected member with the typed getters, then call :meth:`done`: a member that
    was never read is an unknown field.
    """

    def __init__(self, value: Any, where: str) -> None:
        if not isinstance(value, dict):
            raise refuse(Code.BAD_FIELD, f"{where} must be an object")
        self._value: JsonObject = value
        self._where = where
        self._read: set[str] = set()

    def _get(self, name: str) -> Any:
        self._read.add(name)
        if name not in self._value:
            raise refuse(Code.MISSING_FIELD, f"{self._where}.{name} is missing")
        return self._value[name]

    def _bad(self, name: str, expected: str) -> ServiceError:
        return refuse(Code.BAD_FIELD, f"{self._where}.{name} must be {expected}")

    def string(self, name: str, *, max_len: int = 256) -> str:
        value = self._get(name)
        if not isinstance(value, str) or not 0 < len(value) <= max_len:
            raise self._bad(name, f"a string of 1..{max_len} characters")
        return value

    def integer(self, name: str, *, low: int = 0, high: int = 2**63 - 1) -> int:
        value = self._get(name)
        # bool is an int in Python, not in JSON Schema
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self._bad(name, f"an integer in [{low}, {high}]")
        return value

    def hex_bytes(self, name: str, size: int) -> bytes:
        value = self._get(name)
        if not isinstance(value, str) or len(value) != 2 * size:
            raise self._bad(name, f"{size} bytes as {2 * size} lowercase hex digits")
        try:
            raw = bytes.fromhex(value)
        except ValueError:
            raw = b""
        if len(raw) != size or raw.hex() != value:
            raise self._bad(name, f"{size} bytes as {2 * size} lowercase hex digits")
        return raw

    def base64(self, name: str, *, max_len: int) -> bytes:
        value = self._get(name)
        if not isinstance(value, str) or len(value) > max_len * 4 // 3 + 4:
            raise self._bad(name, f"standard base64 of at most {max_len} bytes")
        try:
            raw = base64.b64decode(value.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError) as exc:
            raise self._bad(name, "standard base64") from exc
        # One encoding per value: refuse non-canonical padding bits.
        if base64.b64encode(raw).decode() != value or not raw:
            raise self._bad(name, "canonical, non-empty standard base64")
        return raw

    def obj(self, name: str) -> Fields:
        return Fields(self._get(name), f"{self._where}.{name}")

    def raw(self, name: str) -> Any:
        return self._get(name)

    def done(self) -> None:
        extra = sorted(set(self._value) - self._read)
        if extra:
            raise refuse(Code.UNKNOWN_FIELD, f"{self._where} has unknown field(s) {extra}")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
