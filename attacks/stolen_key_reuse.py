"""``ethvoip attack stolen_key_reuse``: a revoked key registered again by its thief (issue 13).

The steps and the checks are in :mod:`ethvoip.attacks.lifecycle` (one module, so the four
life-cycle attacks share how they drive the contracts).
Run: ``python -m ethvoip.attacks.stolen_key_reuse`` or ``ethvoip attack stolen_key_reuse``.
"""

from __future__ import annotations

from ethvoip.attacks.chain_world import contract_attack
from ethvoip.attacks.lifecycle import stolen_hardened, stolen_paper
from ethvoip.spec import checknames as C

ATTACK = contract_attack(
    "stolen_key_reuse",
    protocol="key_lifecycle",
    title="a revoked key registered again by its thief",
    setting="key life cycle (KeyStorePaper vs KeyStore on the embedded chain; issue 13)",
    paper=stolen_paper,
    hardened=stolen_hardened,
    checks=(C.KEY_SPENT_ONCE,),
)

if __name__ == "__main__":
    raise SystemExit(ATTACK.main())
