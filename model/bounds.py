"""The run bounds of the search, apart from :mod:`.search` so that reading them needs no z3.

``ethvoip prove --help`` shows them, and the front door must answer ``--help`` without
loading the solver.
"""

from __future__ import annotations

#: Role runs searched by default: every attack of the catalogue needs at most two or three.
DEFAULT_MAX_RUNS = 4

#: Role runs per removal for ``ethvoip prove --ablate``: every attack of the catalogue's paper
#: variants, and every attack a removal reopens, takes one to three runs (docs/model.rst).
DEFAULT_ABLATE_RUNS = 3

#: Role runs for ``ethvoip prove --untyped``: each claim is searched again once per confusion
#: (variable x shape: tens per protocol), so the default bound is the smallest every known
#: type flaw of the library needs (Otway-Rees: 1 run) plus one.
DEFAULT_UNTYPED_RUNS = 2

#: The largest bound ``ethvoip prove`` accepts.  Above 3 runs the search builds the top
#: worlds (:mod:`.reduce`): one per multiset of K roles (K + 1 of them for two roles), each
#: growing about with the cube of K, so building no longer doubles with every run.  Measured
#: (2 cores shared with seven other jobs, CPU seconds, all claims, issue 15 §5): at K = 8
#: every hardened variant takes 1 to 16 s; sts takes 13 s even at K = 10, but z3's own
#: time on psk_handshake's injective agreement grows three to five times per run past 6
#: (3 s at 7, 16 s at 8), so 9 and 10 would be minutes there.  Every attack the catalogue
#: expects needs two or three runs; a bound that cannot finish in a working session is a
#: mistake to report at once, not after a night.
MAX_RUNS_LIMIT = 8
