"""The textbook's cast: the agents, nonces, keys and Diffie-Hellman shares the protocol
descriptions name, each declared once.

A description imports the names it uses and reads as the paper: ``A`` and ``B`` the two
parties, ``S`` their server; a value its maker generates fresh (``Na``) and, prefixed ``v``,
the variable the other side binds it to when it receives it (``vNa``).  The same name is the
same term in every description (terms are values).  Names particular to one protocol stay in
its module.
"""

from __future__ import annotations

from ethvoip.spec.protocol import agent, fresh, var
from ethvoip.spec.terms import G, Sort, exp

A, B, S = agent("A"), agent("B"), agent("S")

Na, Nb = fresh("Na", Sort.NONCE), fresh("Nb", Sort.NONCE)
vNa, vNb = var("Na", Sort.NONCE), var("Nb", Sort.NONCE)

#: a key one party makes and sends to the other
K, vK = fresh("K", Sort.KEY), var("K", Sort.KEY)
#: a session key the server makes for A and B
Kab, vKab = fresh("Kab", Sort.KEY), var("Kab", Sort.KEY)
#: public keys as the key directory returns them
KA, KB = var("KA", Sort.PUBKEY), var("KB", Sort.PUBKEY)
#: a message its receiver cannot open (a ticket it forwards unopened)
T, X = var("T", Sort.MSG), var("X", Sort.MSG)

#: Diffie-Hellman: the exponents, the shares each side sends, the shares each side receives
x, y = fresh("x", Sort.EXP), fresh("y", Sort.EXP)
gx, gy = exp(G, x), exp(G, y)
GX, GY = var("GX", Sort.GROUP), var("GY", Sort.GROUP)
#: each side's g^(xy), the same key once both shares are honest
K_I, K_R = exp(GY, x), exp(GX, y)
