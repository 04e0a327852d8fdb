"""Loader for the stored SIP test vectors (origins in vectors/*/README.txt)."""

from __future__ import annotations

from pathlib import Path

VECTORS = Path(__file__).parent / "vectors"


def rfc4475(name: str) -> bytes:
    """One RFC 4475 message, with the RFC's CRLF line ends restored."""
    return (VECTORS / "rfc4475" / f"{name}.sip").read_bytes().replace(b"\n", b"\r\n")


RFC4475_WELL_FORMED = ("wsinv", "esc01", "escnull", "esc02", "lwsdisp")
