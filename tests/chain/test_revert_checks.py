"""Every key-store custom error names a check; a revert carries it."""

from __future__ import annotations

from ethvoip.impl.chain.abi import CONTRACT_CHECKS, ErrorCodec, contract_revert
from ethvoip.impl.chain.artifacts import load_artifact
from ethvoip.spec.errors import Check

#: Custom errors that are no check on what a caller sends (a deployment mistake).
NOT_A_CHECK = {"BadConfiguration"}


def _errors(name: str) -> set[str]:
    return {e["name"] for e in load_artifact(name).abi if e["type"] == "error"}


def test_the_table_covers_exactly_the_contracts_custom_errors() -> None:
    names = _errors("KeyStore") | _errors("KeyStorePaper")
    assert set(CONTRACT_CHECKS) == names - NOT_A_CHECK


def test_a_decoded_revert_names_its_check() -> None:
    codec = ErrorCodec.from_abi(load_artifact("KeyStore").abi)
    [selector] = [s for s, (n, _) in codec.by_selector.items() if n == "CommitmentTooNew"]
    revert = codec.revert(selector + bytes(32))
    assert (revert.reason, revert.check) == ("CommitmentTooNew", Check.COMMITMENT_AGE)


def test_an_unknown_reason_names_the_generic_contract_check() -> None:
    assert contract_revert("BadConfiguration").check is Check.CONTRACT
    assert contract_revert("WrongSigner").check is Check.POSSESSION
