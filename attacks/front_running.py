"""Front-running the paper's ``addClient``: the attacker's key approved for the victim's number.

Model trace ``keystore_registration.paper.O_agree_key``.  The victim's
``addClient(number, pk(victim), receipt)`` sits in the public mempool; the attacker reads
the receipt out of it and sends ``addClient(number, pk(attacker), receipt)`` with a higher
priority fee.  The builder includes his first ("first writer of a receipt wins"), the
victim's reverts with ``ReceiptAlreadyUsed``, and the operator, who approves whatever is
pending under the receipt it sold, approves the attacker's key for the victim's number.

Ordering is achieved as on a real chain: both transactions are signed and published to a
pool the attacker reads before inclusion, and the block builder orders by priority fee
(:class:`~ethvoip.attacks.chain_world.Mempool`; eth-tester itself has no pool).

Hardened (``KeyStore``): the registration is commit-reveal and proves possession, and the
operator approves one exact key.  Everything the attacker can build from the victim's reveal
fails: the reveal copied as is (``CommitmentNotFound``: the commitment binds the sender), the
victim's key under a commitment of his own with the victim's proof (``WrongSigner``: the
proof of possession binds the sender), a commitment made on seeing the reveal
(``CommitmentTooNew``), and his own key registered for the victim's number: pending
registrations do not block each other, and the operator approves the exact key and
registrant the receipt bought (naming the attacker as registrant: ``NotPending``).
Run: ``python -m ethvoip.attacks.front_running`` or ``ethvoip attack front_running``.
"""

from __future__ import annotations

from ethvoip.attacks.base import Blocked, Line
from ethvoip.attacks.chain_world import (
    HONEST_TIP,
    ChainWorld,
    Included,
    Mempool,
    contract_attack,
)
from ethvoip.impl.chain import (
    MIN_COMMITMENT_AGE,
    KeyStoreClient,
    PaperKeyStoreClient,
    commitment,
    identifier,
    key_hash,
)
from ethvoip.impl.chain.contract import address_bytes
from ethvoip.spec import checknames as C
from ethvoip.spec.errors import ContractRevert

#: The checks of KeyStore that stop each attempt, in the order the attempts are made.
CHECKS = ("CommitmentNotFound", "WrongSigner", "CommitmentTooNew", "NotPending")
GREEDY = 10 * HONEST_TIP  # the attacker's priority fee: outbid the victim
LAZY = HONEST_TIP // 2  # ... or land just after her


def gwei(tip: int) -> str:
    return f"{tip / 10**9:g} gwei"


def _fate(i: Included) -> str:
    return "ok" if i.ok else f"REVERTED {i.error}"


def _mined_lines(w: ChainWorld, included: list[Included]) -> list[Line]:
    out = []
    for i in included:
        who = w.owner_of_address(i.tx.sender) or "?"
        text = f"block {i.block}: {who}'s {i.tx.function} (tip {gwei(i.tx.tip)}) {_fate(i)}"
        out.append(Line("C_1", "chain", text))
    return out


def paper_half(w: ChainWorld) -> tuple[bool, list[Line], str]:
    op, victim, eve = w["o"], w["a"], w["e"]
    paper = PaperKeyStoreClient.deploy(w.chain, op.address)
    token = w.receipt_token("a")
    pool = Mempool(w.chain)
    pool.broadcast(victim, paper, "addClient", victim.phone, victim.public_key, token)
    lines = [Line("S_2", "a", f"broadcasts addClient({victim.phone}, pk(a), {token[:12]}...)")]
    [seen] = [p for p in pool.pending() if p.function == "addClient"]
    copied = seen.args["receipt"]
    pool.broadcast(
        eve, paper, "addClient", seen.args["phoneNumber"], eve.public_key, copied, tip=GREEDY
    )
    lines.append(
        Line(
            "C_1",
            "e",
            f"reads the pool, copies receipt {copied[:12]}... with pk(e), tip {gwei(GREEDY)}",
        )
    )
    mined = pool.mine()
    lines += _mined_lines(w, mined)
    phone, key, _, exists = paper.pending(token)
    pending_owner = w.owner_of_key(key)
    lines.append(Line("O_3", "o", f"reads pendingList[receipt]: {phone}, pk({pending_owner})"))
    paper.approve_client(phone, token, op.address)
    lines.append(Line("O_4", "o", f"approveClient({phone}, receipt)"))
    approved = paper.get_client(victim.phone)
    owner = w.owner_of_key(approved)
    lines.append(Line("-", "anyone", f"getClient({victim.phone}) = pk({owner})"))
    first, second = mined
    reproduced = (
        first.tx.sender == eve.address
        and first.ok
        and second.error == "ReceiptAlreadyUsed"
        and exists
        and approved == eve.public_key != victim.public_key
    )
    ends = f"the key approved for a's number {victim.phone} is pk({owner}), e's own"
    return reproduced, lines, ends


def hardened_half(w: ChainWorld) -> Blocked:
    op, victim, eve = w["o"], w["a"], w["e"]
    ks = KeyStoreClient.deploy(w.chain, op.address)
    salt = w.rng("salt")(32)
    ident = identifier(victim.phone, salt)
    eve_addr = address_bytes(eve.address)
    # The attacker prepares a day ahead (he knows the salt and pk(a): the strongest case).
    s_copy, s_squat = w.rng("e/copy")(32), w.rng("e/squat")(32)
    ks.commit(commitment(ident, victim.public_key, eve_addr, s_copy), eve.address)
    ks.commit(commitment(ident, eve.public_key, eve_addr, s_squat), eve.address)
    reg = ks.registration(ident, victim.identity, victim.address, rng=w.rng("a/secret"))
    ks.commit(reg.commitment, victim.address)
    w.chain.increase_time(MIN_COMMITMENT_AGE)
    lines = [
        Line("pre", "e", "committed earlier: (ident, pk(a), e, s1) and (ident, pk(e), e, s2)"),
        Line("S_1", "a", "commit(H(ident, pk(a), a, secret)); waits the minimum age"),
    ]
    pool = Mempool(w.chain)
    reveal = (reg.identifier, reg.public_key, reg.secret, reg.record_version, reg.signature)
    pool.broadcast(victim, ks, "register", *reveal)
    lines.append(Line("S_2", "a", "broadcasts register(ident, pk(a), secret, pop_a)"))
    [seen] = [p for p in pool.pending() if p.function == "register"]
    got = seen.args
    own_pop = ks.registration_signature(ident, eve.identity, eve.address, 0)
    late = commitment(ident, eve.public_key, eve_addr, got["secret"])
    # (label, what e does, tip, arguments of register, the check expected to stop it)
    attempts = [
        ("e1", "copies the reveal as is", GREEDY, list(got.values()), CHECKS[0]),
        (
            "e2",
            "pk(a) under his own old commitment, with a's proof",
            GREEDY,
            [ident, got["publicKey"], s_copy, 0, got["signature"]],
            CHECKS[1],
        ),
        (
            "e3",
            "commits pk(e) with a's secret on sight (tip 30 gwei), then reveals",
            2 * GREEDY,
            [ident, eve.public_key, got["secret"], 0, own_pop],
            CHECKS[2],
        ),
        (
            "e4",
            "his own key, old commitment, own proof, just after a",
            LAZY,
            [ident, eve.public_key, s_squat, 0, own_pop],
            None,
        ),
    ]
    pool.broadcast(eve, ks, "commit", late, tip=3 * GREEDY)
    sent = {}
    for label, what, tip, args, _ in attempts:
        sent[label] = pool.broadcast(eve, ks, "register", *args, tip=tip).tx_hash
        lines.append(Line(label, "e", f"{what} (tip {gwei(tip)})"))
    mined = pool.mine()
    lines += _mined_lines(w, mined)
    fate = {i.tx.tx_hash: i.error for i in mined}
    checks = tuple(i.check for i in mined if i.check is not None)
    as_expected = all(fate[sent[label]] == want for label, _, _, _, want in attempts)
    record = ks.record(ident)
    pending = [
        w.owner_of_key(k)
        for k in (victim.public_key, eve.public_key)
        if ks.pending_key(key_hash(k))
    ]
    lines.append(
        Line(
            "O_2",
            "o",
            f"records[ident]: version {record.version}, {record.status.name}; "
            f"pending: {', '.join(f'pk({p})' for p in pending)}",
        )
    )
    # The receipt bought pk(a) from a's wallet: naming e's wallet finds nothing pending.
    try:
        ks.approve(ident, victim.public_key, record.version, op.address, registrant=eve.address)
        refused = None
    except ContractRevert as exc:
        refused = exc.reason
        checks += (exc.check,)
    lines.append(
        Line("O_3", "o", f"approve(ident, pk(a), {record.version}, registrant e): {refused}")
    )
    # e's squat blocks nothing: the operator approves what the receipt bought, at once.
    ks.approve(ident, victim.public_key, record.version, op.address, registrant=victim.address)
    key, _ = ks.lookup(ident)
    lines.append(Line("O_3", "o", f"approve(ident, pk(a), {record.version}, registrant a): ok"))
    lines.append(Line("-", "anyone", f"lookup(ident) = pk({w.owner_of_key(key)})"))
    blocked = as_expected and refused == CHECKS[3] and key == victim.public_key
    why = (
        "CommitmentNotFound (the copied reveal: the commitment binds the sender); "
        "WrongSigner (a's Register signature names a as the registrant); "
        "CommitmentTooNew (a commitment made on seeing the reveal); "
        "NotPending (the operator approves the exact key and registrant the receipt bought; "
        "e's own pending key blocks nobody)"
    )
    return blocked, lines, why, checks


ATTACK = contract_attack(
    "front_running",
    protocol="keystore_registration",
    title="front-running addClient",
    setting=(
        "keystore_registration (KeyStorePaper vs KeyStore on the embedded chain; "
        "model trace keystore_registration.paper.O_agree_key)"
    ),
    paper=paper_half,
    hardened=hardened_half,
    checks=(C.COMMIT_REVEAL, C.POP, C.RECEIPT_BINDS_KEY),
)

if __name__ == "__main__":
    raise SystemExit(ATTACK.main())
