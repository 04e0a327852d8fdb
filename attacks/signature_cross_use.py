"""``ethvoip attack signature_cross_use``: a signature accepted for a second change (issue 13).

The steps and the checks are in :mod:`ethvoip.attacks.lifecycle` (one module, so the four
life-cycle attacks share how they drive the contracts).
Run: ``python -m ethvoip.attacks.signature_cross_use`` or ``ethvoip attack signature_cross_use``.
"""

from __future__ import annotations

from ethvoip.attacks.chain_world import contract_attack
from ethvoip.attacks.lifecycle import cross_hardened, cross_paper
from ethvoip.spec import checknames as C

ATTACK = contract_attack(
    "signature_cross_use",
    protocol="key_lifecycle",
    title="a signature accepted for a second change",
    setting="key life cycle (KeyStorePaper vs KeyStore on the embedded chain; issue 13)",
    paper=cross_paper,
    hardened=cross_hardened,
    checks=(C.KEY_SPENT_ONCE, C.TYPED_SIGNATURES),
)

if __name__ == "__main__":
    raise SystemExit(ATTACK.main())
