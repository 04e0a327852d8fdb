"""The key life-cycle attacks of issue 13, on the paper contract and on the hardened one.

Four holes in what happens to a key after its registration (docs/contracts.rst, "Life cycle"):

* ``stolen_key_reuse``: the subscriber revokes a stolen key; the thief registers the SAME key
  again for the same number and the operator approves it (it checks the receipt, which the
  thief copied with the key);
* ``operator_bypass``: the operator alone installs a key of its own for a subscriber's number
  at once, skipping the recovery delay in which the subscriber could veto;
* ``signature_cross_use``: a signature made for one purpose is accepted again (a recovery
  consent replayed for a second recovery to a key that was rotated out; a revoked key's
  registration calldata replayed);
* ``approve_replay``: a captured approval request is sent to the operator a second time.

Each runs on the embedded chain with :func:`~ethvoip.attacks.chain_world.run_contract_attack`
(paper half on ``KeyStorePaper``, hardened half on ``KeyStore``); ``approve_replay`` runs the
operator's service itself (:mod:`ethvoip.impl.service`) in a temporary directory.
The hardened halves report the custom error of ``contracts/KeyStore.sol`` that refuses the
adversary's step, or "nothing" when the step went through.
"""

from __future__ import annotations

from collections.abc import Callable

from ethvoip.attacks.base import Blocked, Line
from ethvoip.attacks.chain_world import Actor, ChainWorld
from ethvoip.impl.chain import (
    MIN_COMMITMENT_AGE,
    KeyStoreClient,
    PaperKeyStoreClient,
    identifier,
    key_hash,
)
from ethvoip.impl.crypto import IdentityKey, seeded_rng
from ethvoip.spec.errors import ContractRevert

Outcome = tuple[bool, list[Line], str]


def attempt(step: Callable[[], object]) -> ContractRevert | None:
    """Run one adversary step: None when the contract accepted it, else its revert (whose
    ``reason`` is the custom error and ``check`` the check it stands for)."""
    try:
        step()
    except ContractRevert as exc:
        return exc
    return None


def verdict(error: ContractRevert | None) -> str:
    return "accepted" if error is None else f"REVERTED {error.reason}"


def fresh_key(w: ChainWorld, label: str) -> IdentityKey:
    return IdentityKey.generate(seeded_rng(w.seed + b"/key/" + label.encode()))


# ------------------------------------------------------------------ hardened-contract steps
# The only place that knows the hardened contract's calling conventions.


def register_as(
    ks: KeyStoreClient, w: ChainWorld, ident: bytes, key: IdentityKey, sender: str, label: str
) -> None:
    """commit, wait the minimum age, register ``key`` for ``ident`` from address ``sender``."""
    reg = ks.registration(ident, key, sender, rng=w.rng(label))
    ks.commit(reg.commitment, sender)
    w.chain.increase_time(MIN_COMMITMENT_AGE)
    ks.register(reg, sender)


def register(
    ks: KeyStoreClient, w: ChainWorld, ident: bytes, key: IdentityKey, sender: Actor, label: str
) -> None:
    register_as(ks, w, ident, key, sender.address, label)


def approve(ks: KeyStoreClient, ident: bytes, key: IdentityKey, op: Actor) -> None:
    """The operator approves the registration of ``key`` pending for ``ident`` (by whoever
    registered it: the operator's service has checked that wallet against the receipt)."""
    version = ks.record(ident).version
    ks.approve(ident, key.public_key.to_bytes(), version, op.address)


def onboard(
    ks: KeyStoreClient, w: ChainWorld, ident: bytes, key: IdentityKey, sub: Actor, op: Actor
) -> None:
    register(ks, w, ident, key, sub, f"{sub.name}/onboard/{ks.address.hex()}")
    approve(ks, ident, key, op)


def revoke(ks: KeyStoreClient, ident: bytes, key: IdentityKey, sender: Actor) -> None:
    version = ks.record(ident).version
    ks.revoke(ident, ks.revocation_signature(ident, key, version), sender.address)


def lookup_owner(ks: KeyStoreClient, ident: bytes, names: dict[bytes, str]) -> str:
    """Whose key ``lookup(ident)`` answers with, or the custom error."""
    try:
        key, _ = ks.lookup(ident)
    except ContractRevert as exc:
        return exc.reason
    return names.get(key, "unknown key")


def paper_with_a(w: ChainWorld, *, approved: bool) -> PaperKeyStoreClient:
    """A KeyStorePaper where a has sent addClient(her number, pk(a), her receipt), and the
    operator has approved it if ``approved``."""
    op, a = w["o"], w["a"]
    paper = PaperKeyStoreClient.deploy(w.chain, op.address)
    token = w.receipt_token("a")
    paper.add_client(a.phone, a.public_key, token, a.address)
    if approved:
        paper.approve_client(a.phone, token, op.address)
    return paper


def hardened_with_a(w: ChainWorld) -> tuple[KeyStoreClient, bytes]:
    """A KeyStore where a's number (its identifier, returned) holds pk(a), approved: version 1."""
    op, a = w["o"], w["a"]
    ks = KeyStoreClient.deploy(w.chain, op.address)
    ident = identifier(a.phone, w.rng("salt")(32))
    onboard(ks, w, ident, a.identity, a, op)
    return ks, ident


# ------------------------------------------------------------------ stolen_key_reuse


def stolen_paper(w: ChainWorld) -> Outcome:
    a = w["a"]
    paper = paper_with_a(w, approved=True)
    lines = [Line("S_2", "a", f"addClient({a.phone}, pk(a), receipt); approved")]
    lines.append(Line("steal", "e", "copies a's phone storage: keystore (sk(a)), sip.json"))
    names = [str(f.get("name")) for f in paper.artifact.abi if f.get("type") == "function"]
    no_revoke = not any("revoke" in str(n).lower() for n in names)
    lines.append(
        Line("-", "a", f"wants to revoke pk(a): KeyStorePaper has no such function: {no_revoke}")
    )
    still = paper.get_client(a.phone) == a.public_key
    lines.append(Line("-", "anyone", f"getClient({a.phone}) = pk(a), the stolen key: {still}"))
    ends = "the stolen sk(a) stays the number's key forever: callers encrypt to the thief"
    return no_revoke and still, lines, ends


def stolen_hardened(w: ChainWorld) -> Blocked:
    op, a, e = w["o"], w["a"], w["e"]
    ks, ident = hardened_with_a(w)
    lines = [Line("S_2", "a", "commit, register(ident, pk(a)), approved: version 1")]
    lines.append(Line("steal", "e", "copies a's keystore (sk(a)), sip.json and receipt"))
    revoke(ks, ident, a.identity, a)
    lines.append(Line("rev", "a", f"revoke(ident, sig by sk(a)): {ks.record(ident).status.name}"))
    err = attempt(lambda: register(ks, w, ident, a.identity, e, "e/again"))
    lines.append(Line("S_2", "e", f"commit, register(ident, pk(a)) with sk(a): {verdict(err)}"))
    if err is None:
        err = attempt(lambda: approve(ks, ident, a.identity, op))
        lines.append(
            Line("O_3", "o", f"approve(ident, H(pk(a))) (receipt bound to pk(a)): {verdict(err)}")
        )
    who = lookup_owner(ks, ident, {a.public_key: "pk(a), the revoked key"})
    lines.append(Line("-", "anyone", f"lookup(ident) = {who}"))
    if err is None:
        return False, lines, f"the revoked key is active again: lookup(ident) = {who}", ()
    return True, lines, f"{err.reason}: a revoked key never enters the store again", (err.check,)


# ------------------------------------------------------------------ operator_bypass


def bypass_paper(w: ChainWorld) -> Outcome:
    op, a = w["o"], w["a"]
    paper = paper_with_a(w, approved=True)
    lines = [Line("S_2", "a", f"addClient({a.phone}, pk(a), receipt); approved")]
    mine = fresh_key(w, "o/paper")
    forged = w.receipt_token("o/forged")  # the operator sells receipts: it mints one
    paper.add_client(a.phone, mine.public_key.to_bytes(), forged, op.address)
    paper.approve_client(a.phone, forged, op.address)
    lines.append(Line("O_4", "o", f"addClient({a.phone}, pk(o'), own receipt); approveClient"))
    got = paper.get_client(a.phone) == mine.public_key.to_bytes()
    lines.append(Line("-", "anyone", f"getClient({a.phone}) = pk(o') at once: {got}"))
    return got, lines, "the operator alone replaced a's key at once; a was never asked"


def bypass_hardened(w: ChainWorld) -> Blocked:
    op, a = w["o"], w["a"]
    ks, ident = hardened_with_a(w)
    lines = [Line("S_2", "a", "commit, register(ident, pk(a)), approved: version 1")]
    mine = fresh_key(w, "o/hardened")
    err = attempt(lambda: ks.operator_revoke(ident, op.address))
    lines.append(Line("kill", "o", f"operatorRevoke(ident): {verdict(err)}"))
    if err is None:
        err = attempt(lambda: register(ks, w, ident, mine, op, "o/bypass"))
        lines.append(Line("S_2", "o", f"commit, register(ident, pk(o')): {verdict(err)}"))
    if err is None:
        err = attempt(lambda: approve(ks, ident, mine, op))
        lines.append(Line("O_3", "o", f"approve(ident, H(pk(o'))) at once: {verdict(err)}"))
    names = {a.public_key: "pk(a)", mine.public_key.to_bytes(): "pk(o'), the operator's"}
    who = lookup_owner(ks, ident, names)
    lines.append(Line("-", "anyone", f"lookup(ident) = {who}"))
    if err is None:
        return False, lines, f"no delay, no veto: lookup(ident) = {who}", ()
    why = f"{err.reason}: a key that was suspended is replaced only by the time-locked recovery"
    return True, lines, why, (err.check,)


# ------------------------------------------------------------------ signature_cross_use


def cross_paper(w: ChainWorld) -> Outcome:
    a, e = w["a"], w["e"]
    paper = paper_with_a(w, approved=False)
    lines = [Line("S_2", "a", f"addClient({a.phone}, pk(a), receipt): no signature at all")]
    other = w.receipt_token("e")
    paper.add_client(a.phone, a.public_key, other, e.address)
    _, key, _, exists = paper.pending(other)
    lines.append(Line("S_2", "e", f"replays it with another receipt: pending again: {exists}"))
    ok = exists and key == a.public_key
    return ok, lines, "a's key is entered again by someone else: no consent is ever asked"


def cross_hardened(w: ChainWorld) -> Blocked:
    op, a = w["o"], w["a"]
    ks, ident = hardened_with_a(w)
    lines = [Line("S_2", "a", "commit, register(ident, pk(a)), approved")]
    lost = fresh_key(w, "a/recovered")
    sig = recovery_consent(ks, ident, lost, op)
    ks.announce_recovery(ident, lost.public_key.to_bytes(), sig, op.address)
    w.chain.increase_time(ks_delay(ks))
    ks.execute_recovery(ident, lost.public_key.to_bytes(), op.address)
    lines.append(Line("rec", "o", "a lost sk(a): recovery to pk(r), consent signed by sk(r)"))
    later = fresh_key(w, "a/later")
    rotate(ks, ident, lost, later, a)
    lines.append(Line("rot", "a", "rotates pk(r) -> pk(a2) (pk(r)'s device was stolen)"))
    # 1. the consent of the first recovery, sent again unchanged
    err1 = attempt(lambda: ks.announce_recovery(ident, lost.public_key.to_bytes(), sig, op.address))
    lines.append(
        Line("rec", "o", f"announceRecovery(ident, pk(r), the SAME consent): {verdict(err1)}")
    )
    # 2. a consent for one announcement, vetoed, sent again for a second one
    fresh = fresh_key(w, "a/fresh")
    consent = recovery_consent(ks, ident, fresh, op)
    ks.announce_recovery(ident, fresh.public_key.to_bytes(), consent, op.address)
    serial = ks.recovery(ident)[2]
    veto = ks.cancel_signature(ident, later, key_hash(fresh.public_key.to_bytes()), serial)
    ks.cancel_recovery(ident, veto, a.address)
    lines.append(Line("veto", "a", f"vetoes recovery #{serial} to pk(f) (consent by sk(f))"))
    err2 = attempt(
        lambda: ks.announce_recovery(ident, fresh.public_key.to_bytes(), consent, op.address)
    )
    lines.append(
        Line("rec", "o", f"announceRecovery(ident, pk(f), #{serial}'s consent): {verdict(err2)}")
    )
    # 3. the same rotation consent used as the new key's RotateTo consent
    other = fresh_key(w, "a/other")
    version = ks.record(ident).version
    cur = ks.rotation_signature(ident, later, other.public_key.to_bytes(), version)
    err3 = attempt(lambda: ks.rotate(ident, other.public_key.to_bytes(), cur, cur, a.address))
    lines.append(Line("rot", "e", f"rotate with the Rotate consent as RotateTo: {verdict(err3)}"))
    # 4. a revoked key's registration calldata, sent again (needs no private key)
    err4 = replay_registration(ks, w, lines)
    errors = [e for e in (err1, err2, err3, err4) if e is not None]
    checks = tuple(e.check for e in errors)
    if len(errors) < 4:
        return False, lines, "an old signature was accepted for a new change of key", checks
    assert err1 and err2 and err3 and err4  # all four refused
    why = (
        f"{err1.reason} (a key rotated out never returns), {err2.reason} (the Recovery "
        f"consent names its serial), {err3.reason} (Rotate and RotateTo are distinct EIP-712 "
        f"types), {err4.reason} (a revoked key's registration is refused before its signature "
        "is read)"
    )
    return True, lines, why, checks


def ks_delay(ks: KeyStoreClient) -> int:
    return int(ks.call("recoveryDelay"))


def recovery_consent(ks: KeyStoreClient, ident: bytes, new: IdentityKey, op: Actor) -> bytes:
    """``new``'s consent to the next recovery announcement (serial = count + 1)."""
    serial = int(ks.call("recoveryCount")) + 1
    return ks.recovery_signature(ident, new, serial)


def rotate(
    ks: KeyStoreClient, ident: bytes, current: IdentityKey, new: IdentityKey, sender: Actor
) -> None:
    new_pub = new.public_key.to_bytes()
    version = ks.record(ident).version
    consent = ks.rotation_signature(ident, current, new_pub, version)
    to = ks.rotate_to_signature(ident, new, version)
    ks.rotate(ident, new_pub, consent, to, sender.address)


def replay_registration(
    ks: KeyStoreClient, w: ChainWorld, lines: list[Line]
) -> ContractRevert | None:
    """b registers, b's key is revoked; b's old register calldata is sent again by b's wallet
    (a thief holding the wallet but not the identity key)."""
    op, b = w["o"], w["e"]
    ident = identifier(b.phone, w.rng("salt")(32))
    reg = ks.registration(ident, b.identity, b.address, rng=w.rng("b/reg"))
    ks.commit(reg.commitment, b.address)
    w.chain.increase_time(MIN_COMMITMENT_AGE)
    ks.register(reg, b.address)
    approve(ks, ident, b.identity, op)
    revoke(ks, ident, b.identity, b)
    lines.append(Line("rev", "b", "b registers pk(b), approved, then revokes it"))
    ks.commit(reg.commitment, b.address)
    w.chain.increase_time(MIN_COMMITMENT_AGE)
    err = attempt(lambda: ks.register(reg, b.address))
    lines.append(Line("S_2", "w", f"b's old register calldata, sent again: {verdict(err)}"))
    return err
