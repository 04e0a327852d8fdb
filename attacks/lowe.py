"""Lowe's man-in-the-middle on the paper's psk_handshake, extended to the session key Ks.

Model trace ``psk_handshake.paper.R_secret_Ks``: A calls e; e re-encrypts A's first message
for B as if from A; B answers A; A decrypts N2 for e; e completes B's run and re-encrypts A's
signed Ks (meant for e) to B.  B ends believing it shares Ks with A while e holds Ks.

Hardened: message 4 names the responder (Lowe's fix), so A refuses B's answer at ``I_3``.
Run: ``python -m ethvoip.attacks.lowe`` or ``ethvoip attack lowe``.
"""

from __future__ import annotations

from ethvoip.attacks.base import Attack, AttackResult, load_trace, trace_attack
from ethvoip.spec import checknames as C
from ethvoip.spec.errors import Check

TRACE = "psk_handshake.paper.R_secret_Ks"
CHECK = Check.IDENTITY_BINDING


def run() -> AttackResult:
    return trace_attack("lowe", load_trace(TRACE), CHECK)


ATTACK = Attack(
    "lowe", "psk_handshake", "Lowe's man-in-the-middle, leaking Ks", run, checks=(C.LOWE_FIX,)
)

if __name__ == "__main__":
    raise SystemExit(ATTACK.main())
