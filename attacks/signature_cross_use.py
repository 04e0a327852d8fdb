"""``ethvoip attack signature_cross_use``: a signature accepted for a second change (issue 13).

The steps and the checks are in :mod:`ethvoip.attacks.lifecycle` (one module, so the four
life-cycle attacks share how they drive the contracts).
Run: ``python -m ethvoip.attacks.signature_cross_use`` or ``ethvoip attack signature_cross_use``.
"""

from __future__ import annotations

from ethvoip.attacks.base import Attack, AttackResult
from ethvoip.attacks.chain_world import run_contract_attack
from ethvoip.attacks.lifecycle import cross_hardened, cross_paper
from ethvoip.spec import checknames as C


def run() -> AttackResult:
    return run_contract_attack(
        "signature_cross_use",
        "key life cycle (KeyStorePaper vs KeyStore on the embedded chain; issue 13)",
        cross_paper,
        cross_hardened,
    )


ATTACK = Attack(
    "signature_cross_use",
    "key_lifecycle",
    "a signature accepted for a second change",
    run,
    checks=(C.KEY_SPENT_ONCE, C.TYPED_SIGNATURES),
)

if __name__ == "__main__":
    from ethvoip.attacks.runner import main

    raise SystemExit(main(["signature_cross_use"]))
