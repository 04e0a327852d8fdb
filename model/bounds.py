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

#: The largest bound ``ethvoip prove`` accepts.  Claim by claim, the search builds one z3
#: world per multiset of roles for each run count n <= K: sum of C(r + n - 2, n - 1) worlds
#: (330 for four roles at K = 8), each larger than the last.  Measured on sts (2 cores,
#: loaded): 12 s at K = 4, 21 s at 5, 44 s at 6, about doubling with every run; extrapolated,
#: 8 is minutes per protocol and every run beyond doubles it again, towards hours.  Every
#: attack the catalogue expects needs two or three runs.  A bound that cannot finish in a
#: working session is a mistake to report at once, not after a night.
MAX_RUNS_LIMIT = 8
