"""Gas of every key-store contract function on the embedded chain (eth-tester, py-evm Prague).

Deterministic (fixed keys, secrets and accounts): prints one table, the commit + register +
approve total against the 200k target, and the paper contract's addClient + approveClient.
Run: ``.venv/bin/python bench/gas.py [--json PATH]`` (the committed run behind the docs' cost
table is ``docs/bench/gas.json``).
"""

from __future__ import annotations

import argparse
import platform

from report import Report, add_json_option  # bench/report.py, beside this script

from ethvoip.impl.chain import (
    EmbeddedChain,
    KeyStoreClient,
    PaperKeyStoreClient,
    identifier,
    key_hash,
)
from ethvoip.impl.crypto import IdentityKey

TARGET = 200_000
SALT = bytes(32)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_json_option(ap)
    args = ap.parse_args()
    chain = EmbeddedChain()
    op, alice = chain.accounts[0], chain.accounts[1]
    alice_key, new_key, spare_key, other_key = (
        IdentityKey.from_private_bytes(bytes([n]) * 32) for n in (1, 2, 3, 4)
    )
    ident = identifier("+33612345678", SALT)
    rows: list[tuple[str, int]] = []

    ks = KeyStoreClient.deploy(chain, op)
    reg = ks.registration(ident, alice_key, alice, secret=b"\x07" * 32)
    rows.append(("KeyStore.commit", ks.commit(reg.commitment, alice).gas_used))
    chain.increase_time(ks.call("minCommitmentAge"))
    rows.append(("KeyStore.register (EIP-712 Register)", ks.register(reg, alice).gas_used))
    approved = ks.approve(ident, reg.public_key, 0, op, registrant=alice)
    rows.append(("KeyStore.approve", approved.gas_used))
    new = new_key.public_key.to_bytes()
    rotated = ks.rotate(
        ident,
        new,
        ks.rotation_signature(ident, alice_key, new, 1),
        ks.rotate_to_signature(ident, new_key, 1),
        alice,
    )
    rows.append(("KeyStore.rotate", rotated.gas_used))
    spare, other = spare_key.public_key.to_bytes(), other_key.public_key.to_bytes()
    announced = ks.announce_recovery(ident, spare, ks.recovery_signature(ident, spare_key, 1), op)
    rows.append(("KeyStore.announceRecovery", announced.gas_used))
    veto = ks.cancel_signature(ident, new_key, key_hash(spare), 1)
    rows.append(("KeyStore.cancelRecovery", ks.cancel_recovery(ident, veto, alice).gas_used))
    rows.append(("KeyStore.operatorRevoke (suspend)", ks.operator_revoke(ident, op).gas_used))
    ks.announce_recovery(ident, other, ks.recovery_signature(ident, other_key, 2), op)
    chain.increase_time(ks.call("recoveryDelay"))
    rows.append(("KeyStore.executeRecovery", ks.execute_recovery(ident, other, op).gas_used))
    version = ks.record(ident).version
    sig = ks.revocation_signature(ident, other_key, version)
    rows.append(("KeyStore.revoke (by key)", ks.revoke(ident, sig, alice).gas_used))
    reg2 = ks.registration(ident, spare_key, alice, secret=b"\x08" * 32)
    ks.commit(reg2.commitment, alice)
    chain.increase_time(ks.call("minCommitmentAge"))
    ks.register(reg2, alice)
    rows.append(("KeyStore.dropPending", ks.drop_pending(key_hash(spare), op).gas_used))
    rows.append(("KeyStore.proposeOperator", ks.propose_operator(alice, op).gas_used))
    rows.append(("KeyStore.acceptOperator", ks.accept_operator(alice).gas_used))

    paper = PaperKeyStoreClient.deploy(chain, op)
    receipt = "GPA.3345-1234-5678-90123"
    added = paper.add_client("+33612345678", alice_key.public_key.to_bytes(), receipt, alice)
    rows.append(("KeyStorePaper.addClient", added.gas_used))
    rows.append(
        ("KeyStorePaper.approveClient", paper.approve_client("+33612345678", receipt, op).gas_used)
    )

    gas = dict(rows)
    ours = (
        gas["KeyStore.commit"]
        + gas["KeyStore.register (EIP-712 Register)"]
        + gas["KeyStore.approve"]
    )
    theirs = gas["KeyStorePaper.addClient"] + gas["KeyStorePaper.approveClient"]
    width = max(len(name) for name, _ in rows)
    print(f"gas on eth-tester (py-evm Prague), Python {platform.python_version()}")
    for name, used in rows:
        print(f"{name:<{width}}  {used:>8,}")
    verdict = "met" if ours <= TARGET else "MISSED"
    label = "hardened: commit + register + approve"
    print(f"{label:<{width}}  {ours:>8,}  (target {TARGET:,}: {verdict})")
    print(f"{'paper: addClient + approveClient':<{width}}  {theirs:>8,}")
    report = Report("gas", {"chain": "eth-tester (py-evm Prague)"})
    for name, used in rows:
        report.value(name, used, "gas")
    report.value("hardened: commit + register + approve", ours, "gas")
    report.value("paper: addClient + approveClient", theirs, "gas")
    report.write(args.json)


if __name__ == "__main__":
    main()
