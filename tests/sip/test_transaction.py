"""Transaction state machines against RFC 3261 section 17's timer rules.

Expected retransmission instants are worked out by hand from the RFC text with the default
T1 = 0.5 s, T2 = 4 s, T4 = 5 s: timer A doubles from T1 (sends at 0, .5, 1.5, 3.5, 7.5,
15.5, 31.5 before B = 64*T1 = 32 s); timer E doubles up to T2 (.5, 1.5, 3.5, 7.5, then every
4 s up to F = 32 s).
"""

from __future__ import annotations

import pytest

from ethvoip.impl.sip.builders import make_response
from ethvoip.impl.sip.codec import decode_datagram
from ethvoip.impl.sip.message import Request
from ethvoip.impl.sip.transaction import (
    ClientTransaction,
    Deliver,
    ServerTransaction,
    State,
    Timeout,
    Transmit,
    client_key,
    server_key,
)
from ethvoip.spec.errors import LocalProtocolError


def _request(method: str, branch: str = "z9hG4bKabc") -> Request:
    data = (
        f"{method} sip:bob@127.0.0.1 SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:5070;branch={branch}\r\n"
        "From: <sip:alice@127.0.0.1>;tag=a1\r\n"
        "To: <sip:bob@127.0.0.1>\r\n"
        "Call-ID: c1@127.0.0.1\r\n"
        f"CSeq: 1 {method}\r\n"
        "Max-Forwards: 70\r\n\r\n"
    ).encode()
    msg = decode_datagram(data)
    assert isinstance(msg, Request)
    return msg


def _run_until(tx: ClientTransaction | ServerTransaction, end: float) -> list[float]:
    """Advance time deadline by deadline; return the instants a message was transmitted."""
    sent: list[float] = []
    while (deadline := tx.next_deadline()) is not None and deadline <= end:
        for out in tx.on_time(deadline):
            if isinstance(out, Transmit):
                sent.append(deadline)
    return sent


def test_invite_client_timer_a_and_b() -> None:
    tx = ClientTransaction(_request("INVITE"), reliable=False)
    first = tx.start(0.0)
    assert first == [Transmit(tx.request)]
    sent = _run_until(tx, 31.9)
    assert sent == [0.5, 1.5, 3.5, 7.5, 15.5, 31.5]
    assert tx.on_time(32.0) == [Timeout()]
    assert tx.state is State.TERMINATED
    assert tx.next_deadline() is None


def test_invite_client_reliable_has_no_retransmissions() -> None:
    tx = ClientTransaction(_request("INVITE"), reliable=True)
    tx.start(0.0)
    assert _run_until(tx, 31.9) == []
    assert tx.on_time(32.0) == [Timeout()]


def test_invite_client_provisional_stops_retransmission() -> None:
    tx = ClientTransaction(_request("INVITE"), reliable=False)
    tx.start(0.0)
    ringing = make_response(tx.request, 180, to_tag="b1")
    assert tx.on_response(ringing, 0.2) == [Deliver(ringing)]
    assert tx.state is State.PROCEEDING
    assert tx.next_deadline() is None  # A and B are dead in Proceeding


def test_invite_client_failure_sends_ack_and_waits_timer_d() -> None:
    tx = ClientTransaction(_request("INVITE"), reliable=False)
    tx.start(0.0)
    busy = make_response(tx.request, 486, to_tag="b1")
    out = tx.on_response(busy, 1.0)
    assert out[0] == Deliver(busy)
    ack = out[1]
    assert isinstance(ack, Transmit) and isinstance(ack.message, Request)
    assert ack.message.method == "ACK"
    assert ack.message.headers.get("CSeq") == "1 ACK"
    assert ack.message.headers.get("To") == busy.headers.get("To")  # carries the To tag
    assert ack.message.headers.values("Via") == tx.request.headers.values("Via")[:1]
    assert tx.state is State.COMPLETED
    # A retransmitted 486 is absorbed but re-ACKed (17.1.1.2).
    again = tx.on_response(busy, 2.0)
    assert len(again) == 1 and isinstance(again[0], Transmit)
    assert tx.next_deadline() == pytest.approx(33.0)  # D = 32 s on UDP
    assert tx.on_time(33.0) == []
    assert tx.terminated


def test_invite_client_2xx_terminates_at_once() -> None:
    tx = ClientTransaction(_request("INVITE"), reliable=False)
    tx.start(0.0)
    ok = make_response(tx.request, 200, to_tag="b1")
    assert tx.on_response(ok, 0.1) == [Deliver(ok)]
    assert tx.state is State.TERMINATED


def test_non_invite_client_timer_e_caps_at_t2() -> None:
    tx = ClientTransaction(_request("REGISTER"), reliable=False)
    tx.start(0.0)
    sent = _run_until(tx, 31.9)
    assert sent == [0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]
    assert tx.on_time(32.0) == [Timeout()]


def test_non_invite_client_proceeding_retransmits_every_t2() -> None:
    tx = ClientTransaction(_request("OPTIONS"), reliable=False)
    tx.start(0.0)
    tx.on_response(make_response(tx.request, 100), 0.1)
    assert tx.state is State.PROCEEDING
    # E was armed for 0.5 s; after firing in Proceeding it runs every T2 (17.1.2.2).
    assert _run_until(tx, 10.0) == [0.5, 4.5, 8.5]


def test_non_invite_client_final_then_timer_k() -> None:
    tx = ClientTransaction(_request("BYE"), reliable=False)
    tx.start(0.0)
    ok = make_response(tx.request, 200)
    assert tx.on_response(ok, 0.2) == [Deliver(ok)]
    assert tx.on_response(ok, 0.3) == []  # retransmission absorbed in Completed
    assert tx.next_deadline() == pytest.approx(5.2)  # K = T4
    tx.on_time(5.2)
    assert tx.terminated


def test_invite_server_sends_trying_and_retransmits_final_until_ack() -> None:
    req = _request("INVITE")
    tx = ServerTransaction(req, reliable=False)
    (trying,) = tx.start(0.0)
    assert isinstance(trying, Transmit) and trying.message.status == 100  # type: ignore[union-attr]
    # A retransmitted INVITE gets the last provisional again.
    assert tx.on_request(req, 0.3) == [trying]
    busy = make_response(req, 486, to_tag="b1")
    assert tx.respond(busy, 1.0) == [Transmit(busy)]
    assert _run_until(tx, 9.0) == [1.5, 2.5, 4.5, 8.5]  # G: T1, 2T1, 4T1, then T2
    ack = _request("ACK")
    assert tx.on_request(ack, 9.5) == []
    assert tx.state is State.CONFIRMED
    assert tx.next_deadline() == pytest.approx(14.5)  # I = T4
    tx.on_time(14.5)
    assert tx.terminated


def test_invite_server_timer_h_without_ack() -> None:
    req = _request("INVITE")
    tx = ServerTransaction(req, reliable=True)
    tx.start(0.0)
    tx.respond(make_response(req, 404, to_tag="b1"), 0.0)
    assert tx.next_deadline() == pytest.approx(32.0)  # H = 64*T1; no G on TCP
    assert tx.on_time(32.0) == [Timeout()]


def test_invite_server_2xx_terminates() -> None:
    req = _request("INVITE")
    tx = ServerTransaction(req, reliable=False)
    tx.start(0.0)
    tx.respond(make_response(req, 200, to_tag="b1"), 0.5)
    assert tx.terminated


def test_non_invite_server_absorbs_then_replays_final() -> None:
    req = _request("REGISTER")
    tx = ServerTransaction(req, reliable=False)
    assert tx.start(0.0) == []
    assert tx.on_request(req, 0.1) == []  # Trying: retransmission discarded
    ok = make_response(req, 200)
    tx.respond(ok, 0.2)
    assert tx.on_request(req, 0.4) == [Transmit(ok)]
    assert tx.next_deadline() == pytest.approx(32.2)  # J = 64*T1 on UDP
    with pytest.raises(LocalProtocolError):
        tx.respond(make_response(req, 500), 0.5)


def test_non_invite_server_reliable_timer_j_is_zero() -> None:
    req = _request("BYE")
    tx = ServerTransaction(req, reliable=True)
    tx.start(0.0)
    tx.respond(make_response(req, 200), 1.0)
    assert tx.next_deadline() == pytest.approx(1.0)
    tx.on_time(1.0)
    assert tx.terminated


def test_ack_never_makes_a_transaction() -> None:
    with pytest.raises(LocalProtocolError):
        ClientTransaction(_request("ACK"), reliable=False)
    with pytest.raises(LocalProtocolError):
        ServerTransaction(_request("ACK"), reliable=False)


def test_matching_keys() -> None:
    invite = _request("INVITE")
    ack = _request("ACK")
    cancel = _request("CANCEL")
    assert server_key(ack) == server_key(invite)
    assert server_key(cancel) != server_key(invite)
    assert server_key(_request("INVITE", "z9hG4bKother")) != server_key(invite)
    resp = make_response(invite, 180)
    assert client_key(resp) == client_key(invite)
