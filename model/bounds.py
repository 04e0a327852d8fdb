"""The run bounds of the search, apart from :mod:`.search` so that reading them needs no z3.

``ethvoip prove --help`` shows them, and the front door must answer ``--help`` without
loading the solver.
"""

from __future__ import annotations

#: Role runs searched by default: every attack of the catalogue needs at most two or three.
DEFAULT_MAX_RUNS = 4

#: The largest bound ``ethvoip prove`` accepts.  Above 3 runs the search builds the top
#: worlds (:mod:`.reduce`): one per multiset of K roles, K + 1 of them for two roles, 66 for
#: three at K = 10, each growing about with the cube of K.  Measured (2 cores shared with
#: seven other jobs, CPU seconds, issue 15 §5): the hardest variant, hardened sts, takes
#: about 2 s at K = 6, 6 s at 8 and 13 s at 10 (the plain search took 11 s at 6 and doubled
#: with every run).  Every attack the catalogue expects needs two or three runs; a bound past
#: what was measured is a mistake to report at once, not after an hour.
MAX_RUNS_LIMIT = 10
