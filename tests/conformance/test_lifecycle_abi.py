"""The life-cycle table's ``hardened`` variant against the deployed contract's interface.

The model's verdicts are about contracts/KeyStore.sol only if its table names what the
contract has: every state-changing function of the ABI is a row or is listed as outside the
table (with why), every custom error the table names exists in the ABI and every error of the
ABI is named by a row or listed as unmodelled, and every signed type of the table is one of the
contract's EIP-712 types with the same fields.  Read from the committed artifact and source,
so an edit of either side that the other does not follow fails here.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

from ethvoip.spec import lifecycle as LC

ROOT = Path(__file__).resolve().parents[2]
ABI = json.loads((ROOT / "contracts" / "artifacts" / "KeyStore.json").read_text())["abi"]
SOURCE = (ROOT / "contracts" / "KeyStore.sol").read_text()
HARDENED = LC.variant("hardened")


def _table_errors(v: LC.LifecycleVariant) -> set[str]:
    out = set()
    for f in v.functions:
        out |= {g.error for g in f.guards}
        if f.status_error:
            out.add(f.status_error)
    return out


def _state_changing() -> set[str]:
    return {
        x["name"]
        for x in ABI
        if x["type"] == "function" and x["stateMutability"] in ("nonpayable", "payable")
    }


def test_every_state_changing_function_has_a_row_or_a_reason() -> None:
    rows = {f.name for f in HARDENED.functions}
    assert rows.isdisjoint(HARDENED.outside)
    assert rows | set(HARDENED.outside) == _state_changing()


def test_the_table_and_the_abi_name_the_same_errors() -> None:
    assert _table_errors(HARDENED).isdisjoint(HARDENED.unmodelled_errors)
    assert not _error_mismatches(HARDENED)


def test_a_status_refusal_without_an_error_is_named() -> None:
    # every row that refuses some status says which error the contract reverts with
    for f in HARDENED.functions:
        if f.status_from is not None:
            assert f.status_error, f.name


#: Solidity field type and name -> the kind a Digest's ``shape`` gives it
_KIND = {"identifier": "number", "address": "actor", "uint64": "int"}
SOL_TYPES = {
    m.group(1): tuple(tuple(p.split()) for p in m.group(2).split(","))
    for m in re.finditer(r'keccak256\(\s*"(\w+)\(([^)]*)\)"\s*\)', SOURCE)
    if m.group(1) != "EIP712Domain"
}


def _kind(sol_type: str, name: str) -> str:
    return _KIND.get(name) or _KIND.get(sol_type) or ("key" if sol_type == "bytes32" else "?")


def _type_mismatches(v: LC.LifecycleVariant) -> set[str]:
    """Signed types of ``v`` that are not the contract's, or whose fields differ."""
    out = {d.name for d in v.digests} ^ set(SOL_TYPES)
    for d in v.digests:
        if d.name in SOL_TYPES and d.shape != tuple(_kind(t, n) for t, n in SOL_TYPES[d.name]):
            out.add(d.name)
    return out


def _error_mismatches(v: LC.LifecycleVariant) -> set[str]:
    abi = {x["name"] for x in ABI if x["type"] == "error"}
    named = _table_errors(v)
    return (named - abi) | (abi - named - set(v.unmodelled_errors))


def test_every_signed_type_is_the_contracts_with_the_same_fields() -> None:
    assert len(SOL_TYPES) == 6
    assert not _type_mismatches(HARDENED)


def test_a_nonce_in_register_or_an_error_the_contract_lacks_is_caught() -> None:
    # the design's first Register (a nonce instead of recordVersion) and its AlreadyPending
    reg = next(d for d in HARDENED.digests if d.name == "Register")
    nonce = dataclasses.replace(reg, shape=("number", "key", "actor", "nonce"))
    digests = tuple(nonce if d is reg else d for d in HARDENED.digests)
    assert _type_mismatches(dataclasses.replace(HARDENED, digests=digests)) == {"Register"}
    register = HARDENED.function("register")
    pending = LC.Check("no live pending entry", "AlreadyPending", register.guards[0].fn)
    fns = tuple(
        dataclasses.replace(f, guards=(*f.guards, pending)) if f is register else f
        for f in HARDENED.functions
    )
    assert _error_mismatches(dataclasses.replace(HARDENED, functions=fns)) == {"AlreadyPending"}
