"""Every named check is exercised by an attack script on the concrete code, or listed as having
none (a finding the docs' table of checks shows): nothing is silently unaccounted for."""

from __future__ import annotations

import importlib

from ethvoip.attacks.base import Attack
from ethvoip.attacks.runner import MODULES, NO_ATTACK_SCRIPT
from ethvoip.spec.checknames import CHECKS


def attacks() -> list[Attack]:
    return [importlib.import_module(m).ATTACK for m in MODULES.values()]


def test_every_check_has_an_attack_script_or_is_listed_as_a_finding() -> None:
    shown = {c for a in attacks() for c in a.checks}
    assert shown <= set(CHECKS), shown - set(CHECKS)  # attacks name only known checks
    assert set(NO_ATTACK_SCRIPT) <= set(CHECKS)
    assert not shown & set(NO_ATTACK_SCRIPT), "listed as a finding, yet an attack shows it"
    assert shown | set(NO_ATTACK_SCRIPT) == set(CHECKS), set(CHECKS) - shown - set(NO_ATTACK_SCRIPT)


def test_every_attack_names_a_check_of_its_hardened_half() -> None:
    for a in attacks():
        assert a.checks, a.name
