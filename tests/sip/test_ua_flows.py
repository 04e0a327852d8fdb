"""UA core, registrar and proxy end to end over an in-memory network (no sockets, no clock).

Scenarios follow RFC 3665 (SIP basic call flows): registration with a 401 challenge (2.1),
a successful session through a proxy (3.2), an unanswered call CANCELled (3.8), busy (3.6),
and a lost datagram recovered by retransmission.
"""

from __future__ import annotations

import itertools

import pytest

from ethvoip.impl.sip.codec import decode_datagram
from ethvoip.impl.sip.digest import DigestVerifier, InMemoryCredentialStore
from ethvoip.impl.sip.message import Request
from ethvoip.impl.sip.registrar import RegistrarProxy
from ethvoip.impl.sip.ua import (
    CallAnswered,
    CallConfirmed,
    CallEnded,
    CallFailed,
    CallProgress,
    IncomingCall,
    Registered,
    RegistrationFailed,
    UaConfig,
    UserAgent,
)

from .network import Network

PROXY = ("10.0.0.1", 5060)
ALICE = ("10.0.0.2", 5062)
BOB = ("10.0.0.3", 5064)
SDP_A = b"v=0\r\no=alice 1 1 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\n"
SDP_B = b"v=0\r\no=bob 1 1 IN IP4 10.0.0.3\r\ns=-\r\nc=IN IP4 10.0.0.3\r\nt=0 0\r\n"


def _counter_random() -> object:
    counter = itertools.count(1)
    return lambda n: next(counter).to_bytes(n, "big")


def _ua(user: str, addr: tuple[str, int], password: str | None = None) -> UserAgent:
    config = UaConfig(
        aor=f"sip:{user}@example.com",
        local_host=addr[0],
        local_port=addr[1],
        username=user,
        password=password if password is not None else f"{user}-pw",
        registrar="sip:example.com",
        outbound_proxy=PROXY,
    )
    return UserAgent(config, random_bytes=_counter_random())  # type: ignore[arg-type]


def _world() -> tuple[Network, UserAgent, UserAgent, RegistrarProxy]:
    store = InMemoryCredentialStore()
    store.add("alice", "example.com", "alice-pw")
    store.add("bob", "example.com", "bob-pw")
    verifier = DigestVerifier(realm="example.com", store=store, secret=b"s" * 32)
    proxy = RegistrarProxy(domain="example.com", host=PROXY[0], port=PROXY[1], verifier=verifier)
    net = Network()
    alice, bob = _ua("alice", ALICE), _ua("bob", BOB)
    net.add(PROXY, proxy)
    net.add(ALICE, alice)
    net.add(BOB, bob)
    return net, alice, bob, proxy


def _register_both(net: Network, alice: UserAgent, bob: UserAgent) -> None:
    alice.register(net.now)
    bob.register(net.now)
    net.pump()
    assert Registered(3600) in net.events[ALICE]
    assert Registered(3600) in net.events[BOB]


def test_register_is_challenged_then_accepted() -> None:
    net, alice, _, proxy = _world()
    alice.register(0.0)
    net.pump()
    statuses = [decode_datagram(d) for src, _, d in net.log if src == PROXY]
    assert [getattr(m, "status", None) for m in statuses] == [401, 200]
    assert net.events[ALICE] == [Registered(3600)]
    (binding,) = proxy.location.lookup("sip:alice@example.com", 1.0)
    assert binding.contact == "sip:alice@10.0.0.2:5062"


def test_register_with_wrong_password_fails() -> None:
    net, _, _, _ = _world()
    mallory = _ua("alice", ("10.0.0.9", 5066), password="guess")
    net.add(("10.0.0.9", 5066), mallory)
    mallory.register(0.0)
    net.pump()
    assert net.events[("10.0.0.9", 5066)] == [RegistrationFailed(403)]


def test_cannot_register_someone_elses_aor() -> None:
    net, _, _, proxy = _world()
    # Bob's credentials, Alice's AOR.
    evil = UserAgent(
        UaConfig(
            aor="sip:alice@example.com",
            local_host="10.0.0.8",
            local_port=5068,
            username="bob",
            password="bob-pw",
            registrar="sip:example.com",
            outbound_proxy=PROXY,
        ),
        random_bytes=_counter_random(),  # type: ignore[arg-type]
    )
    net.add(("10.0.0.8", 5068), evil)
    evil.register(0.0)
    net.pump()
    assert net.events[("10.0.0.8", 5068)] == [RegistrationFailed(403)]
    assert proxy.location.lookup("sip:alice@example.com", 1.0) == []


def test_basic_call_through_proxy() -> None:
    net, alice, bob, _ = _world()
    _register_both(net, alice, bob)
    call_id = alice.invite("sip:bob@example.com", SDP_A, net.now)
    net.pump()
    incoming = [e for e in net.events[BOB] if isinstance(e, IncomingCall)]
    assert incoming == [IncomingCall(call_id, "sip:alice@example.com", SDP_A)]
    bob.ring(call_id, net.now)
    net.pump()
    assert CallProgress(call_id, 180) in net.events[ALICE]
    bob.answer(call_id, SDP_B, net.now)
    net.pump()
    assert CallAnswered(call_id, SDP_B) in net.events[ALICE]
    assert CallConfirmed(call_id) in net.events[BOB]
    # The BYE follows the route set: it goes through the proxy (Record-Route).
    alice.bye(call_id, net.now)
    net.pump()
    bye_hops = [(s, d) for s, d, data in net.log if data.startswith(b"BYE ")]
    assert bye_hops == [(ALICE, PROXY), (PROXY, BOB)]
    assert CallEnded(call_id, by_peer=True) in net.events[BOB]
    acks = [decode_datagram(d) for s, dst, d in net.log if d.startswith(b"ACK ")]
    assert acks and all(isinstance(a, Request) and a.uri == "sip:bob@10.0.0.3:5064" for a in acks)
    # Nothing left running after the transactions' wait timers.
    net.advance(net.now + 40)
    assert alice.next_deadline() is None and bob.next_deadline() is None


def test_cancel_unanswered_call() -> None:
    net, alice, bob, _ = _world()
    _register_both(net, alice, bob)
    call_id = alice.invite("sip:bob@example.com", SDP_A, net.now)
    net.pump()
    bob.ring(call_id, net.now)
    net.pump()
    alice.cancel(call_id, net.now)
    net.pump()
    assert CallFailed(call_id, 487) in net.events[ALICE]
    assert CallFailed(call_id, 487) in net.events[BOB]


def test_busy_callee() -> None:
    net, alice, bob, _ = _world()
    _register_both(net, alice, bob)
    call_id = alice.invite("sip:bob@example.com", SDP_A, net.now)
    net.pump()
    bob.reject(call_id, 486, net.now)
    net.pump()
    assert CallFailed(call_id, 486) in net.events[ALICE]
    # The 486 was ACKed by Alice's transaction, so Bob's stops retransmitting it.
    net.advance(net.now + 40)
    assert bob.next_deadline() is None


def test_unknown_callee_gets_404() -> None:
    net, alice, bob, _ = _world()
    _register_both(net, alice, bob)
    call_id = alice.invite("sip:carol@example.com", SDP_A, net.now)
    net.pump()
    assert CallFailed(call_id, 404) in net.events[ALICE]


def test_lost_200_is_retransmitted_until_ack() -> None:
    net, alice, bob, _ = _world()
    _register_both(net, alice, bob)
    call_id = alice.invite("sip:bob@example.com", SDP_A, net.now)
    net.pump()
    net.drop[PROXY] = 1  # Bob's first 200 OK is lost on its way to the proxy
    bob.answer(call_id, SDP_B, net.now)
    net.pump()
    assert CallAnswered(call_id, SDP_B) not in net.events[ALICE]
    net.advance(net.now + 0.6)  # 13.3.1.4: the 2xx is resent after T1
    assert CallAnswered(call_id, SDP_B) in net.events[ALICE]
    assert CallConfirmed(call_id) in net.events[BOB]


def test_unanswered_invite_times_out() -> None:
    net, alice, _, _ = _world()
    net.cores.pop(PROXY)  # nobody there
    call_id = alice.invite("sip:bob@example.com", SDP_A, 0.0)
    net.advance(40.0)
    assert net.events[ALICE] == [CallFailed(call_id, 408)]
    sent = [d for s, _, d in net.log if s == ALICE]
    assert len(sent) == 7  # Timer A: the INVITE plus six retransmissions before B


def test_garbage_is_dropped_and_counted() -> None:
    _, alice, _, _ = _world()
    alice.receive(b"\x00\x01not sip", ("10.9.9.9", 1), 0.0)
    assert alice.dropped == 1
    assert alice.take_outputs() == []


@pytest.mark.parametrize("method", ["SUBSCRIBE", "MESSAGE"])
def test_unsupported_method_gets_501(method: str) -> None:
    _, alice, _, _ = _world()
    data = (
        f"{method} sip:alice@10.0.0.2:5062 SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 10.0.0.7:5099;branch=z9hG4bKx1\r\n"
        "From: <sip:x@example.com>;tag=9\r\nTo: <sip:alice@example.com>\r\n"
        f"Call-ID: q@x\r\nCSeq: 1 {method}\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    ).encode()
    alice.receive(data, ("10.0.0.7", 5099), 0.0)
    (out,) = alice.take_outputs()
    resp = decode_datagram(out.data)  # type: ignore[union-attr]
    assert getattr(resp, "status", None) == 501
    assert out.dest == ("10.0.0.7", 5099)  # type: ignore[union-attr]


def _stream_world() -> tuple[Network, UserAgent, UserAgent, RegistrarProxy]:
    # the same world as a proxy over a stream transport: each source address is a connection
    net, alice, bob, udp = _world()
    proxy = RegistrarProxy(
        domain="example.com", host=PROXY[0], port=PROXY[1], verifier=udp.verifier, transport="TCP"
    )
    net.add(PROXY, proxy)
    return net, alice, bob, proxy


def test_a_callee_whose_connection_closed_gets_480_not_silence() -> None:
    net, alice, bob, proxy = _stream_world()
    _register_both(net, alice, bob)
    proxy.flow_closed(BOB)  # Bob's only connection is gone: the INVITE has nowhere to go
    call_id = alice.invite("sip:bob@example.com", SDP_A, net.now)
    net.pump()
    assert CallFailed(call_id, 480) in net.events[ALICE]
    assert not any(isinstance(e, IncomingCall) for e in net.events[BOB])


def test_a_closed_connection_drops_only_its_own_bindings() -> None:
    net, alice, bob, proxy = _stream_world()
    _register_both(net, alice, bob)
    proxy.flow_closed(ALICE)  # another flow closing leaves Bob reachable
    call_id = alice.invite("sip:bob@example.com", SDP_A, net.now)
    net.pump()
    assert any(isinstance(e, IncomingCall) for e in net.events[BOB])
    assert CallFailed(call_id, 480) not in net.events[ALICE]


def test_over_udp_a_source_is_no_flow_and_nothing_is_dropped() -> None:
    net, alice, bob, proxy = _world()
    _register_both(net, alice, bob)
    proxy.flow_closed(BOB)
    alice.invite("sip:bob@example.com", SDP_A, net.now)
    net.pump()
    assert any(isinstance(e, IncomingCall) for e in net.events[BOB])


def test_an_expired_registration_gets_480() -> None:
    net, alice, bob, _ = _world()
    _register_both(net, alice, bob)
    net.now += 3601  # Bob's binding expired (he is known, but unreachable)
    call_id = alice.invite("sip:bob@example.com", SDP_A, net.now)
    net.pump()
    assert CallFailed(call_id, 480) in net.events[ALICE]


def _response(top_via: str) -> bytes:
    return (
        "SIP/2.0 200 OK\r\n"
        f"Via: SIP/2.0/UDP {top_via};branch=z9hG4bKtop\r\n"
        "Via: SIP/2.0/UDP 10.0.0.2:5062;branch=z9hG4bKnext\r\n"
        "From: <sip:alice@example.com>;tag=1\r\n"
        "To: <sip:bob@example.com>;tag=2\r\n"
        "Call-ID: forged@10.9.9.9\r\n"
        "CSeq: 1 INVITE\r\n"
        "Content-Length: 0\r\n\r\n"
    ).encode()


def test_proxy_forwards_only_responses_whose_top_via_is_its_own() -> None:
    _, _, _, proxy = _world()
    proxy.receive(_response("10.9.9.9:5060"), ("10.9.9.9", 5060), 0.0)  # not our Via
    assert proxy.dropped == 1 and proxy.take_outputs() == []
    proxy.receive(_response(f"{PROXY[0]}:{PROXY[1]}"), ("10.0.0.3", 5064), 0.0)
    (out,) = proxy.take_outputs()
    assert out.dest == ALICE and proxy.dropped == 1
