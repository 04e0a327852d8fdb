"""Helpers for tests that run SIP cores on real loopback sockets."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

from ethvoip.impl.sip.digest import DigestVerifier, InMemoryCredentialStore
from ethvoip.impl.sip.registrar import RegistrarProxy
from ethvoip.impl.sip.transport import SipEndpoint, udp_endpoint
from ethvoip.impl.sip.ua import UaConfig, UserAgent

LOOPBACK = "127.0.0.1"
DOMAIN = "example.com"
SDP = (
    b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    b"m=audio 6000 RTP/AVP 0\r\n"
)


def free_port(kind: int = socket.SOCK_DGRAM) -> int:
    """A port the kernel just handed out on 127.0.0.1 (free for UDP or TCP).

    Only for a port another *process* must bind (Kamailio, SIPp): between this close and
    that bind another process could take it.  Our own sockets bind port 0 and keep it
    (:func:`ua_on_udp`, :func:`registrar_on_udp`).
    """
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


async def ua_on_udp(user: str, proxy_port: int | None) -> tuple[SipEndpoint, UserAgent]:
    """A UA on a UDP port the kernel picks and the UA holds from the start (no race)."""
    ua = make_ua(user, 0, proxy_port)
    endpoint, transport = await udp_endpoint(ua, LOOPBACK, 0)
    ua.config.local_port = transport.local_address[1]  # its Via and Contact name it
    return endpoint, ua


async def registrar_on_udp() -> tuple[SipEndpoint, int]:
    """A registrar/proxy on a UDP port the kernel picks; returns it with its port."""
    core = make_registrar(0)
    endpoint, transport = await udp_endpoint(core, LOOPBACK, 0)
    core.port = transport.local_address[1]  # its Record-Route and Via name it
    return endpoint, core.port


def udp_port_bound(port: int) -> bool:
    """Whether some process has bound 127.0.0.1:``port`` (UDP), read from /proc/net/udp.

    Read, never probed by binding: a probe could take the port from the process starting.
    """
    local = f"0100007F:{port:04X}"
    lines = Path("/proc/net/udp").read_text().splitlines()[1:]
    return any(line.split()[1] == local for line in lines)


async def until_udp_port_bound(port: int, *, timeout: float = 60) -> None:
    """Wait until a child process listens on ``port``: bounded generously, polled."""
    async with asyncio.timeout(timeout):
        while not udp_port_bound(port):
            await asyncio.sleep(0.02)
