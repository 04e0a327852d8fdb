"""``ethvoip attack operator_bypass``: the operator replaces a key at once (issue 13).

The steps and the checks are in :mod:`ethvoip.attacks.lifecycle` (one module, so the four
life-cycle attacks share how they drive the contracts).
Run: ``python -m ethvoip.attacks.operator_bypass`` or ``ethvoip attack operator_bypass``.
"""

from __future__ import annotations

from ethvoip.attacks.chain_world import contract_attack
from ethvoip.attacks.lifecycle import bypass_hardened, bypass_paper
from ethvoip.spec import checknames as C

ATTACK = contract_attack(
    "operator_bypass",
    protocol="key_lifecycle",
    title="the operator replaces a key at once",
    setting="key life cycle (KeyStorePaper vs KeyStore on the embedded chain; issue 13)",
    paper=bypass_paper,
    hardened=bypass_hardened,
    checks=(C.KILL_SWITCH_SUSPENDS,),
)

if __name__ == "__main__":
    raise SystemExit(ATTACK.main())
