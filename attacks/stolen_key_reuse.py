"""``ethvoip attack stolen_key_reuse``: a revoked key registered again by its thief (issue 13).

The steps and the checks are in :mod:`ethvoip.attacks.lifecycle` (one module, so the four
life-cycle attacks share how they drive the contracts).
Run: ``python -m ethvoip.attacks.stolen_key_reuse`` or ``ethvoip attack stolen_key_reuse``.
"""

from __future__ import annotations

from ethvoip.attacks.base import Attack, AttackResult
from ethvoip.attacks.chain_world import run_contract_attack
from ethvoip.attacks.lifecycle import stolen_hardened, stolen_paper
from ethvoip.spec import checknames as C


def run() -> AttackResult:
    return run_contract_attack(
        "stolen_key_reuse",
        "key life cycle (KeyStorePaper vs KeyStore on the embedded chain; issue 13)",
        stolen_paper,
        stolen_hardened,
    )


ATTACK = Attack(
    "stolen_key_reuse",
    "key_lifecycle",
    "a revoked key registered again by its thief",
    run,
    checks=(C.KEY_SPENT_ONCE,),
)

if __name__ == "__main__":
    from ethvoip.attacks.runner import main

    raise SystemExit(main(["stolen_key_reuse"]))
