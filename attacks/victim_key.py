"""The victim's public key registered under the attacker's number (set-up of the STS UKS).

Model trace ``sts.paper.R_key_share`` starts from a directory where ``e -> pk(a)``: the
paper's key store asks for no proof of possession, so the attacker, with a genuine receipt
for his own number, calls ``addClient(e's number, pk(a), e's receipt)`` and the operator
approves it (the receipt is his, the number matches).  ``getClient(e's number)`` is then A's
key, which is what the unknown key-share (``ethvoip attack sts_uks``) needs.

Hardened (``KeyStore``): ``register`` requires a signature by the registered key over
(tag, chain id, contract, identifier, sender), checked with ``ecrecover``.  The attacker can
sign with his own key (recovers to his address: ``WrongSigner``) or replay A's own proof of
possession from A's registration (made for A's identifier and A's sender: ``WrongSigner``).
Run: ``python -m ethvoip.attacks.victim_key`` or ``ethvoip attack victim_key``.
"""

from __future__ import annotations

from ethvoip.attacks.base import Blocked, Line
from ethvoip.attacks.chain_world import Actor, ChainWorld, calldata_of, contract_attack
from ethvoip.impl.chain import (
    MIN_COMMITMENT_AGE,
    KeyStoreClient,
    PaperKeyStoreClient,
    Registration,
    commitment,
    identifier,
)
from ethvoip.impl.chain.contract import address_bytes
from ethvoip.spec import checknames as C
from ethvoip.spec.errors import ChainError, ContractRevert

CHECK = "WrongSigner"


def paper_half(w: ChainWorld) -> tuple[bool, list[Line], str]:
    op, victim, eve = w["o"], w["a"], w["e"]
    paper = PaperKeyStoreClient.deploy(w.chain, op.address)
    token = w.receipt_token("e")  # e's own, genuine receipt for his own number
    paper.add_client(eve.phone, victim.public_key, token, eve.address)
    lines = [Line("S_2", "e", f"addClient({eve.phone}, pk(a), his own receipt): accepted")]
    paper.approve_client(eve.phone, token, op.address)
    lines.append(Line("O_4", "o", f"approveClient({eve.phone}, receipt): his receipt, his number"))
    got = paper.get_client(eve.phone)
    owner = w.owner_of_key(got)
    lines.append(Line("-", "anyone", f"getClient({eve.phone}) = pk({owner})"))
    ends = f"e's number {eve.phone} is approved with pk({owner}), a's key"
    return got == victim.public_key != eve.public_key, lines, ends


def _attempt(
    ks: KeyStoreClient, w: ChainWorld, eve: Actor, reg: Registration
) -> ContractRevert | None:
    """Commit ``reg`` from e, wait, reveal it; the revert, or None if accepted."""
    ks.commit(reg.commitment, eve.address)
    w.chain.increase_time(MIN_COMMITMENT_AGE)
    try:
        ks.register(reg, eve.address)
    except ContractRevert as exc:
        return exc
    return None


def hardened_half(w: ChainWorld) -> Blocked:
    op, victim, eve = w["o"], w["a"], w["e"]
    ks = KeyStoreClient.deploy(w.chain, op.address)
    start = w.chain.w3.eth.block_number
    salt = w.rng("salt")(32)
    ident_a, ident_e = identifier(victim.phone, salt), identifier(eve.phone, salt)
    eve_addr = address_bytes(eve.address)
    outcomes = []
    # 1. pk(a) with a Register signature by e's own key
    secret = w.rng("e/1")(32)
    own = ks.registration_signature(ident_e, eve.identity, eve.address, 0)
    made = commitment(ident_e, victim.public_key, eve_addr, secret)
    reg = Registration(ident_e, victim.public_key, secret, own, made, 0)
    outcomes.append(_attempt(ks, w, eve, reg))
    lines = [Line("S_2", "e", f"register(ident_e, pk(a), signed by sk(e)): {outcomes[-1]}")]
    # a registers honestly, so her Register signature is on chain for e to copy.
    mine = ks.registration(ident_a, victim.identity, victim.address, rng=w.rng("a/secret"))
    ks.commit(mine.commitment, victim.address)
    w.chain.increase_time(MIN_COMMITMENT_AGE)
    ks.register(mine, victim.address)
    ks.approve(ident_a, victim.public_key, 0, op.address, registrant=victim.address)
    lines.append(Line("S_2", "a", "registers pk(a) under her identifier, signed by sk(a)"))
    # 2. pk(a) with a's own signature, copied from her register transaction
    _, args = ks.contract.decode_function_input(_register_input(w, ks, start))
    copied = bytes(args["signature"])
    secret = w.rng("e/2")(32)
    made = commitment(ident_e, victim.public_key, eve_addr, secret)
    reg = Registration(ident_e, victim.public_key, secret, copied, made, 0)
    outcomes.append(_attempt(ks, w, eve, reg))
    lines.append(
        Line("S_2", "e", f"register(ident_e, pk(a), a's copied signature): {outcomes[-1]}")
    )
    status = ks.record(ident_e).status
    lines.append(Line("-", "anyone", f"records[ident_e]: {status.name}"))
    refused = [o for o in outcomes if o is not None]
    checks = tuple(o.check for o in refused)
    blocked = [o.reason for o in refused] == [CHECK, "KeyAlreadyUsed"]
    blocked = blocked and status.name == "NONE"
    why = (
        f"{CHECK} (register's ecrecover: no Register signature by pk(a) names e's number and "
        "wallet); KeyAlreadyUsed (a's key, once registered by a, never enters again)"
    )
    return blocked, lines, why, checks


def _register_input(w: ChainWorld, ks: KeyStoreClient, start: int) -> bytes:
    """The calldata of the first ``register`` sent to ``ks`` since block ``start``."""
    for data in calldata_of(w.chain, ks.address, start):
        fn, _ = ks.contract.decode_function_input(data)
        if fn.fn_name == "register":
            return data
    raise ChainError("no register transaction on chain")


ATTACK = contract_attack(
    "victim_key",
    protocol="keystore_registration",
    title="a's key under e's number",
    setting=(
        "keystore_registration (KeyStorePaper vs KeyStore on the embedded chain; "
        "the directory of model trace sts.paper.R_key_share)"
    ),
    paper=paper_half,
    hardened=hardened_half,
    checks=(C.POP,),
)

if __name__ == "__main__":
    raise SystemExit(ATTACK.main())
