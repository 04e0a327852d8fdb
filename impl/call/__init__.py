"""Secure calls end to end (paper III.D): TLS-PSK signalling, the media key in the INVITE,
SRTP media, Station-to-Station over RTCP, and the key store on chain as the directory.

Start here (see docs/calls.rst)::

    directory = ChainDirectory(keystore, salt)              # light-client verified look-ups
    server = SecureSipServer(registrar, Env(number, key, directory))
    await server.start("127.0.0.1")
    alice = SecurePhone(Subscriber(number, key, password), directory, domain, server_number)
    await alice.connect(server.address); await alice.register()
    out = await alice.call(bob_number)                      # MIKEY in the SDP, SRTP after
    session = await bob.answer()                            # on the callee's phone
    await alice.rekey(out); await bob.rekey(session)        # STS over RTCP, both directions
    alice.sas(out) == bob.sas(session)                      # read aloud: 4 characters
"""

from ethvoip.impl.call.directory import ChainDirectory
from ethvoip.impl.call.keying import build_sdp, invite_record, read_sdp
from ethvoip.impl.call.media import MediaReceiver, MediaSender, RtcpChannel
from ethvoip.impl.call.phone import (
    CalleeTimes,
    CallerTimes,
    IncomingSession,
    OutgoingCall,
    RefusedCall,
    SecurePhone,
    Subscriber,
)
from ethvoip.impl.call.sas import machine_sas, render_b32
from ethvoip.impl.call.signaling import IdentityGate, SecureLink, SecureSipServer, secure_connect
from ethvoip.impl.call.sts_rtcp import (
    Rekey,
    srtp_master_from_sts,
    sts_initiator,
    sts_rekey_initiator,
    sts_rekey_responder,
    sts_responder,
)
from ethvoip.impl.call.tlspsk import open_tls_psk, psk_settings

__all__ = [
    "CalleeTimes",
    "CallerTimes",
    "ChainDirectory",
    "IdentityGate",
    "IncomingSession",
    "MediaReceiver",
    "MediaSender",
    "OutgoingCall",
    "RefusedCall",
    "Rekey",
    "RtcpChannel",
    "SecureLink",
    "SecurePhone",
    "SecureSipServer",
    "Subscriber",
    "build_sdp",
    "invite_record",
    "machine_sas",
    "open_tls_psk",
    "psk_settings",
    "read_sdp",
    "render_b32",
    "secure_connect",
    "srtp_master_from_sts",
    "sts_initiator",
    "sts_rekey_initiator",
    "sts_rekey_responder",
    "sts_responder",
]
