"""Blake-Wilson-Menezes unknown key-share on the paper's Station-to-Station (Fig. 7).

Model trace ``sts.paper.R_key_share``: e registers A's public key under his own number (the
paper's key store asks for no proof of possession).  B calls e; e rewrites B's first RTCP
message so that it goes to A as a call from B; A answers, signing only the two half-keys;
B checks that signature with "e's" key, which is A's, and completes.  A and B share one key,
A believing its peer is B, B believing it is e.

Hardened: the encrypted part of message 2 names its sender and the signature covers both
names (SIGMA-style), so B refuses A's answer at ``I_3``; the hardened key store also refuses
the registration itself (proof of possession; see the ``victim_key`` contract attack).
"""

from __future__ import annotations

from ethvoip.attacks.base import Attack, AttackResult, load_trace, trace_attack
from ethvoip.spec import checknames as C
from ethvoip.spec.errors import Check

TRACE = "sts.paper.R_key_share"
CHECK = Check.IDENTITY_BINDING


def run() -> AttackResult:
    return trace_attack("sts_uks", load_trace(TRACE), CHECK)


ATTACK = Attack(
    "sts_uks",
    "sts",
    "unknown key-share with a key registered as e's",
    run,
    checks=(C.STS_IDENTITIES,),
)

if __name__ == "__main__":
    raise SystemExit(ATTACK.main())
