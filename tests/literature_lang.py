"""The classics of issue 15 §2 (a server, tickets, long-term keys, key compromise), restated
from their sources: the yardstick for ``spec/classics/{ns_shared_key, otway_rees, yahalom,
woo_lam, kerberos}.py`` (same form as ``tests/literature.py``'s ``CLASSICS``, into which the
two dicts below merge).  Every other claim of these classics: no attack (typed).

Denning & Sacco 1981 on Needham-Schroeder shared key: once an old session key is known, the
old message 3 replayed makes B accept it as new: B's secrecy fails (three runs: the old
server run, A's old run that forwards the ticket, B's new run); A's holds (her nonce Na).
Without compromise both hold.  Otway-Rees, Yahalom, Kerberos (BAN 1989): typed, the session
key stays secret for both sides; the attacks of the literature on Otway-Rees are type flaws
(Clark & Jacob 1997), which only the untyped mode can find: on A, with one run.  Woo-Lam Pi
(Abadi & Needham 1994/1996; Clark & Jacob): B's authentication of A fails (aliveness; the
model's smallest attack is a two-run reflection, the published one takes three); Pi f holds.
"""

from __future__ import annotations

from ethvoip.spec.protocol import Verdict

A, H = Verdict.ATTACK, Verdict.NO_ATTACK

CLASSICS_LANG: dict[tuple[str, str, str], tuple[Verdict, int | None]] = {
    ("ns_shared_key", "compromise", "R_secret_Kab"): (A, 3),
    ("woo_lam", "pi", "R_alive"): (A, 2),
}

CLASSIC_VARIANTS_LANG: dict[str, tuple[str, ...]] = {
    "ns_shared_key": ("original", "compromise"),
    "otway_rees": ("original",),
    "yahalom": ("original",),
    "woo_lam": ("pi", "pi_f"),
    "kerberos": ("original",),
}

#: The untyped mode (one variable of another shape, depth 3): Otway-Rees' type flaw on A.
UNTYPED_LANG: dict[tuple[str, str, str], tuple[Verdict, int | None]] = {
    ("otway_rees", "original", "I_secret_Kab"): (A, 1),
    # the same flaw on the responder (Clark & Jacob 1997, the Otway-Rees entry; Boyd & Mao
    # 1993): B's own component of message 2, returned as message 3, gives B <M, A, B> as Kab
    ("otway_rees", "original", "R_secret_Kab"): (A, 1),
}


def expected_lang(protocol: str, variant: str, claim: str) -> tuple[Verdict, int | None]:
    return CLASSICS_LANG.get((protocol, variant, claim), (H, None))
