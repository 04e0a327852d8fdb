"""``ethvoip attack operator_bypass``: the operator replaces a key at once (issue 13).

The steps and the checks are in :mod:`ethvoip.attacks.lifecycle` (one module, so the four
life-cycle attacks share how they drive the contracts).
Run: ``python -m ethvoip.attacks.operator_bypass`` or ``ethvoip attack operator_bypass``.
"""

from __future__ import annotations

from ethvoip.attacks.base import Attack, AttackResult
from ethvoip.attacks.chain_world import run_contract_attack
from ethvoip.attacks.lifecycle import bypass_hardened, bypass_paper
from ethvoip.spec import checknames as C


def run() -> AttackResult:
    return run_contract_attack(
        "operator_bypass",
        "key life cycle (KeyStorePaper vs KeyStore on the embedded chain; issue 13)",
        bypass_paper,
        bypass_hardened,
    )


ATTACK = Attack(
    "operator_bypass",
    "key_lifecycle",
    "the operator replaces a key at once",
    run,
    checks=(C.KILL_SWITCH_SUSPENDS,),
)

if __name__ == "__main__":
    from ethvoip.attacks.runner import main

    raise SystemExit(main(["operator_bypass"]))
