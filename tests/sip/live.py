"""Helpers for tests that run SIP cores on real loopback sockets."""

from __future__ import annotations

import socket

from ethvoip.impl.sip.digest import DigestVerifier, InMemoryCredentialStore
from ethvoip.impl.sip.registrar import RegistrarProxy
from ethvoip.impl.sip.ua import UaConfig, UserAgent

LOOPBACK = "127.0.0.1"
DOMAIN = "example.com"
SDP = (
    b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    b"m=audio 6000 RTP/AVP 0\r\n"
)


def free_port(kind: int = socket.SOCK_DGRAM) -> int:
    """A port the kernel just handed out on 127.0.0.1 (free for UDP or TCP)."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind((LOOPBACK, 0))
        port: int = s.getsockname()[1]
        return port


def make_ua(
    user: str, port: int, proxy_port: int | None, *, transport: str = "UDP", domain: str = DOMAIN
) -> UserAgent:
    return UserAgent(
        UaConfig(
            aor=f"sip:{user}@{domain}",
            local_host=LOOPBACK,
            local_port=port,
            username=user,
            password=f"{user}-pw",
            registrar=f"sip:{domain}",
            outbound_proxy=(LOOPBACK, proxy_port) if proxy_port else None,
            transport=transport,
        )
    )


def make_registrar(port: int, *, transport: str = "UDP") -> RegistrarProxy:
    store = InMemoryCredentialStore()
    for user in ("alice", "bob"):
        store.add(user, DOMAIN, f"{user}-pw")
    verifier = DigestVerifier(realm=DOMAIN, store=store, secret=b"test-secret-0123456789abcdef")
    return RegistrarProxy(
        domain=DOMAIN, host=LOOPBACK, port=port, verifier=verifier, transport=transport
    )
