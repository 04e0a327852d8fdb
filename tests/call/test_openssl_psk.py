"""The OpenSSL-run TLS 1.3 external-PSK handshake (impl/call/openssl_psk.py), sans-IO: both
sides agree on the traffic secrets only with the same (identity, PSK); a wrong key, a wrong
identity or a certificate server is refused; the server's tickets take record sequence numbers
the record layer then skips.  (tlslite-ng and ``openssl s_client`` as the peer:
test_tls13_record.py and test_openssl_interop.py.)"""

from __future__ import annotations

import ssl

import pytest

from bench.testbed.baseline import throwaway_pki
from ethvoip.impl.call.openssl_psk import PskHandshake, PskHandshakeError
from ethvoip.impl.call.tls13_record import RecordLayer
from ethvoip.impl.call.tlspsk import record_layer
from ethvoip.spec.errors import CryptoError

PSK = bytes(range(32))
IDENTITY = b"+96176661367"


def _run(client: PskHandshake, server: PskHandshake) -> bytes:
    """The three flights between the two; the server's last bytes (its tickets)."""
    finished = client.receive(server.receive(client.start()))
    assert client.done
    return server.receive(finished)


def test_same_psk_gives_the_same_secrets_and_records_cross_both_ways() -> None:
    client = PskHandshake(server=False, identity=IDENTITY, psk=PSK)
    server = PskHandshake(server=True, identity=IDENTITY, psk=PSK)
    tickets = _run(client, server)
    c, s = client.established(), server.established()
    assert (c.client_secret, c.server_secret) == (s.client_secret, s.server_secret)
    assert c.suite_code == s.suite_code == 0x1301
    assert c.write_seq == 0
    ours_c, ours_s = record_layer(c, server=False), record_layer(s, server=True)
    assert ours_c.receive(tickets) is None  # ignored: we never resume
    assert ours_s.receive(ours_c.protect(b"REGISTER")) == b"REGISTER"
    assert ours_c.receive(ours_s.protect(b"SIP/2.0 200 OK")) == b"SIP/2.0 200 OK"


def test_server_tickets_take_sequence_numbers_the_record_layer_skips() -> None:
    """OpenSSL's server writes NewSessionTicket records under its application key as the
    handshake ends; starting our writes at sequence 0 would repeat those nonces."""
    client = PskHandshake(server=False, identity=IDENTITY, psk=PSK)
    server = PskHandshake(server=True, identity=IDENTITY, psk=PSK)
    client_hello = client.start()
    server_flight = server.receive(client_hello)
    client_finished = client.receive(server_flight)
    tickets = server.receive(client_finished)
    s = server.established()
    assert tickets and s.write_seq >= 1
    reader = RecordLayer(s.suite_code, read_secret=s.server_secret, write_secret=s.client_secret)
    assert reader.receive(tickets) is None  # tickets only: no application data, no error
    layer = record_layer(s, server=True)
    assert reader.receive(layer.protect(b"after the tickets")) == b"after the tickets"
    naive = RecordLayer(s.suite_code, read_secret=s.client_secret, write_secret=s.server_secret)
    with pytest.raises(CryptoError):  # without the skip the peer cannot open our record
        reader.receive(naive.protect(b"nonce reused"))


@pytest.mark.parametrize(
    ("client_id", "client_psk"),
    [(IDENTITY, bytes(32)), (b"+15550000000", PSK)],
    ids=["wrong key", "wrong identity"],
)
def test_wrong_key_or_identity_is_refused(client_id: bytes, client_psk: bytes) -> None:
    client = PskHandshake(server=False, identity=client_id, psk=client_psk)
    server = PskHandshake(server=True, identity=IDENTITY, psk=PSK)
    with pytest.raises(PskHandshakeError):
        server.receive(client.start())  # the binder does not verify / no PSK for the identity
    assert not server.done


def test_a_certificate_server_without_the_psk_is_refused() -> None:
    """A TLS 1.3 server that authenticates with a certificate (stdlib ssl, a throwaway CA)
    instead of the PSK must not get a session: the client trusts no certificate."""
    server_ctx, _ = throwaway_pki("sip.example")
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    cert_server = server_ctx.wrap_bio(incoming, outgoing, server_side=True)
    client = PskHandshake(server=False, identity=IDENTITY, psk=PSK)
    incoming.write(client.start())
    with pytest.raises(ssl.SSLWantReadError):
        cert_server.do_handshake()
    with pytest.raises(PskHandshakeError):
        client.receive(outgoing.read())
    assert not client.done
