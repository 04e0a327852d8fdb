"""Lowe's attack on the paper psk_handshake, written out by hand from Lowe (1996).

Independent of the model checker: the evaluator tests use it as a known attack, and
mutations of it as known non-attacks or invalid traces.
"""

from __future__ import annotations

from ethvoip.spec.catalogue import get
from ethvoip.spec.terms import Atom, Sort, aenc, pk, sign, sk, tup
from ethvoip.spec.trace import Trace, TraceEvent, TraceRun, Violation

a, b, e = (Atom(n, Sort.AGENT) for n in "abe")
N1, N2, Ks = Atom("N1#1", Sort.NONCE), Atom("N2#2", Sort.NONCE), Atom("Ks#1", Sort.KEY)


def lowe_trace(claim: str = "R_secret_Ks") -> Trace:
    """A starts with e; e impersonates A to B; B ends sharing Ks with 'A' while e knows it."""
    p = get("psk_handshake")
    ev = TraceEvent
    return Trace(
        protocol="psk_handshake",
        variant="paper",
        spec_digest=p.digest(),
        kind="attack",
        claim=claim,
        bound=2,
        generated_by="hand-written from Lowe (1996), tests/spec/lowe.py",
        directory={"a": pk(a), "b": pk(b), "e": pk(e)},
        runs=(
            TraceRun(1, "I", "a", {"A": a, "B": e}),
            TraceRun(2, "R", "b", {"B": b}),
        ),
        events=(
            ev(1, "I_1", "lookup", pk(e)),
            ev(1, "I_2", "send", aenc(tup(N1, a), pk(e))),
            ev(2, "R_1", "recv", aenc(tup(N1, a), pk(b))),
            ev(2, "R_2", "lookup", pk(a)),
            ev(2, "R_3", "send", aenc(tup(N1, N2), pk(a))),
            ev(1, "I_3", "recv", aenc(tup(N1, N2), pk(a))),
            ev(1, "I_4", "send", aenc(N2, pk(e))),
            ev(1, "I_5", "send", aenc(tup(sign(Ks, sk(a)), N2), pk(e))),
            ev(2, "R_4", "recv", aenc(N2, pk(b))),
            ev(2, "R_5", "recv", aenc(tup(sign(Ks, sk(a)), N2), pk(b))),
        ),
        violation=Violation(2, "B shares Ks with 'A' but e knows it"),
    )
