"""The baseline secure call of the benchmark: the same SIP stack over certificate TLS (the
stdlib ``ssl``) with the SRTP keys in the SDP as RFC 4568 ``a=crypto`` lines (:mod:`.sdes`),
which is what a deployed SIP phone does.  No key store, no handshake before TLS, no MIKEY:
the keys are only as secret as every TLS hop through the proxy.

:class:`TlsSipServer` serves a :class:`RegistrarProxy` on ``ssl``-wrapped TCP;
:class:`SdesPhone` registers and calls through it.  Each side puts the key it sends with in
its SDP (offer: the caller's, answer: the callee's) and an ``a=ssrc`` for its stream, so media
runs both ways with separate keys, as in :class:`~ethvoip.impl.call.phone.SecurePhone`.
"""

from __future__ import annotations

import asyncio
import datetime
import ssl
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ethvoip.impl.call.keying import build_sdp, read_sdp
from ethvoip.impl.call.media import Datagrams, MediaReceiver, MediaSender, RtcpChannel
from ethvoip.impl.call.phone import SipPhoneBase, Subscriber, bind_rtp_pair, other_ssrc
from ethvoip.impl.crypto import DEFAULT_RNG, Rng
from ethvoip.impl.sip.registrar import RegistrarProxy
from ethvoip.impl.sip.transport import SipEndpoint, StreamTransport
from ethvoip.impl.sip.ua import Address, CallAnswered, CallFailed, IncomingCall
from ethvoip.spec.errors import EthVoipError, LocalProtocolError, SipError

from . import sdes

VARIANT = "sdes"


class TlsSipServer:
    """The registrar/proxy on certificate TLS."""

    def __init__(self, core: RegistrarProxy, context: ssl.SSLContext) -> None:
        if core.transport != "TLS":
            raise LocalProtocolError("the registrar must be configured with transport='TLS'")
        self.core, self.context = core, context
        self.endpoint = SipEndpoint(core)
        self.transport = StreamTransport(self.endpoint.on_message, name="TLS")
        self._server: asyncio.Server | None = None

    async def start(self, host: str, port: int = 0) -> Address:
        self._server = await asyncio.start_server(self._accepted, host, port, ssl=self.context)
        self.endpoint.start(self.transport)
        return self.address

    @property
    def address(self) -> Address:
        assert self._server is not None
        host, port = self._server.sockets[0].getsockname()[:2]
        return host, port

    async def _accepted(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        self.transport.attach(reader, writer, peer=(peer[0], peer[1]))

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        await self.endpoint.close()


@dataclass
class SdesCall:
    """A call set up with SDES keys: our stream out, the peer's in, and the setup time."""

    call_id: str
    media: MediaSender
    incoming: MediaReceiver
    rtcp: RtcpChannel
    setup: float


@dataclass
class SdesPhone(SipPhoneBase):
    """A subscriber's UA on certificate TLS with SDES keys."""

    sub: Subscriber
    domain: str
    context: ssl.SSLContext  # trusts the server's CA
    host: str = "127.0.0.1"
    rng: Rng = DEFAULT_RNG
    perf: Callable[[], float] = time.perf_counter
    endpoint: SipEndpoint | None = None
    sockets: list[Datagrams] = field(default_factory=list)

    async def connect(self, server: Address, server_hostname: str) -> None:
        reader, writer = await asyncio.open_connection(
            server[0], server[1], ssl=self.context, server_hostname=server_hostname
        )
        local = writer.get_extra_info("sockname")
        self._attach(reader, writer, (local[0], local[1]), server)

    def _stream(self) -> tuple[bytes, int]:
        return self.rng(sdes.SUITES["AES_CM_128_HMAC_SHA1_80"]), other_ssrc(self.rng, None)

    async def call(self, number: str) -> SdesCall:
        """INVITE with our key in ``a=crypto``; keys installed both ways when it returns."""
        assert self.endpoint is not None
        start = self.perf()
        key, ssrc = self._stream()
        receiver = MediaReceiver(bytes(30), None)  # keyed from the answer
        rtcp = await bind_rtp_pair(self.host, receiver)
        self.sockets += [receiver, rtcp]
        offer = build_sdp(
            user=self.sub.number,
            host=self.host,
            rtp_port=receiver.port,
            variant=VARIANT,
            key=sdes.offer(key).encode(),
            sess_id=int.from_bytes(self.rng(4), "big"),
            ssrc=ssrc,
        )
        call_id = self.endpoint.do(
            lambda now: self.ua.invite(f"sip:{number}@{self.domain}", offer, now)
        )
        try:
            outcome = await self._next(CallAnswered, CallFailed)
            if isinstance(outcome, CallFailed):
                self.ua.forget(call_id)
                raise SipError(f"call to {number} refused with {outcome.status}")
            answer = read_sdp(outcome.sdp, VARIANT)
            if answer.key is None:
                raise SipError("answer without a=crypto")
            receiver.install(sdes.srtp_master(sdes.decode_crypto(answer.key.decode())), answer.ssrc)
            media = MediaSender(receiver, (answer.host, answer.port), key, ssrc)
        except BaseException:
            self._release(receiver, rtcp)
            raise
        return SdesCall(call_id, media, receiver, rtcp, self.perf() - start)

    async def answer(self, timeout: float | None = None) -> SdesCall:
        """Take the next INVITE, key both streams from its SDP and ours, answer 200."""
        assert self.endpoint is not None
        inc: IncomingCall = await self._next(IncomingCall, timeout=timeout)
        start = self.perf()
        try:
            offer = read_sdp(inc.sdp, VARIANT)
            if offer.key is None:
                raise SipError("offer without a=crypto")
            theirs = sdes.srtp_master(sdes.decode_crypto(offer.key.decode()))
        except EthVoipError:
            self.endpoint.do(lambda now: self.ua.reject(inc.call_id, 488, now))
            self.ua.forget(inc.call_id)
            raise
        key, ssrc = self._stream()
        media = MediaReceiver(theirs, offer.ssrc)
        rtcp = await bind_rtp_pair(self.host, media)
        self.sockets += [media, rtcp]
        sender = MediaSender(media, (offer.host, offer.port), key, ssrc)
        body = build_sdp(
            user=self.sub.number,
            host=self.host,
            rtp_port=media.port,
            variant=VARIANT,
            key=sdes.offer(key).encode(),
            sess_id=int.from_bytes(self.rng(4), "big"),
            ssrc=ssrc,
        )
        self.endpoint.do(lambda now: self.ua.answer(inc.call_id, body, now))
        return SdesCall(inc.call_id, sender, media, rtcp, self.perf() - start)


def throwaway_pki(hostname: str) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server, client) TLS contexts from a fresh self-signed CA and a server certificate for
    ``hostname`` (P-256 ECDSA, one day): the benchmark's and the tests' certificate world."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)

    def cert(
        subject: str, key: ec.EllipticCurvePrivateKey, issuer: x509.Name, signer: Any, ca: bool
    ) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False
            )
        return builder.sign(signer, hashes.SHA256())

    ca_key, srv_key = (
        ec.generate_private_key(ec.SECP256R1()),
        ec.generate_private_key(ec.SECP256R1()),
    )
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ethvoip bench CA")])
    ca_cert = cert("ethvoip bench CA", ca_key, ca_name, ca_key, True)
    srv_cert = cert(hostname, srv_key, ca_name, ca_key, False)
    pem = serialization.Encoding.PEM
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.TemporaryDirectory() as tmp:
        chain, key_file = Path(tmp, "chain.pem"), Path(tmp, "key.pem")
        chain.write_bytes(srv_cert.public_bytes(pem) + ca_cert.public_bytes(pem))
        key_file.write_bytes(
            srv_key.private_bytes(
                pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        server.load_cert_chain(chain, key_file)
    client = ssl.create_default_context(cadata=ca_cert.public_bytes(pem).decode())
    return server, client
