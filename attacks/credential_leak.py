"""The paper's SIP password, read off the chain: ``password = hash(receipt)``, receipt public.

Model trace ``keystore_registration.paper.O_secret_password``.  In the paper (III.A.3c) the
operator provisions the subscriber's SIP password as the hash of the purchase receipt token,
and ``addClient(number, key, receipt)`` puts that token on chain three times over: in the
transaction's calldata, in the ``ClientAdded`` event, and in ``pendingList``/``approvedList``
storage (public getters).  Anyone reading the chain computes the password.

The attacker's computation is the paper's rule written here independently (SHA-256 of the
token, hex); it is compared with what the paper flow of the operator service provisions
(:func:`ethvoip.impl.service.service.paper_password`).

Hardened (``KeyStore``): no receipt nor anything derived from one is ever sent to the chain
(the receipt goes to the operator sealed, the password comes back sealed and is random).
The check is a scan of everything the registration put on chain: every transaction's
calldata, every event, every non-zero storage word, which must be exactly the record's key
(x, y) and its version/status word.
Run: ``python -m ethvoip.attacks.credential_leak`` or ``ethvoip attack credential_leak``.
"""

from __future__ import annotations

from ethvoip.attacks.base import Blocked, Line
from ethvoip.attacks.chain_world import (
    ChainWorld,
    calldata_of,
    contract_attack,
    raw_logs,
    storage_values,
)
from ethvoip.impl.chain import (
    MIN_COMMITMENT_AGE,
    KeyStoreClient,
    PaperKeyStoreClient,
    identifier,
    key_hash,
)
from ethvoip.impl.chain.events import ClientAdded
from ethvoip.impl.chain.keystore import PendingKey
from ethvoip.impl.crypto import sha256
from ethvoip.impl.service.service import paper_password
from ethvoip.spec import checknames as C


def password_from(token: str) -> str:
    """Paper III.A.3c: "the SIP password is the hash of the receipt token" (SHA-256, hex)."""
    return sha256(token.encode()).hex()


def paper_half(w: ChainWorld) -> tuple[bool, list[Line], str]:
    op, victim = w["o"], w["a"]
    paper = PaperKeyStoreClient.deploy(w.chain, op.address)
    start = w.chain.w3.eth.block_number + 1
    token = w.receipt_token("a")
    paper.add_client(victim.phone, victim.public_key, token, victim.address)
    paper.approve_client(victim.phone, token, op.address)
    provisioned = paper_password(token)
    lines = [
        Line("S_2", "a", f"addClient({victim.phone}, pk(a), receipt) mined"),
        Line("O_4", "o", f"approveClient; provisions SIP password {provisioned[:16]}..."),
    ]
    # The attacker knows nothing but the chain: three independent places to read it from.
    decoded = [
        paper.contract.decode_function_input(c) for c in calldata_of(w.chain, paper.address, start)
    ]
    [from_calldata] = [str(a["receipt"]) for f, a in decoded if f.fn_name == "addClient"]
    [added] = [e for e in paper.events(start) if isinstance(e, ClientAdded)]
    from_event = added.receipt
    from_storage = paper.approved(paper.receipt_of(victim.phone))[2]
    found = {"calldata": from_calldata, "ClientAdded event": from_event}
    found["approvedList storage"] = from_storage
    for where, value in found.items():
        lines.append(Line("read", "e", f"receipt from the {where}: {value[:12]}..."))
    derived = password_from(from_event)
    lines.append(Line("sha", "e", f"password = sha256(receipt) = {derived[:16]}..."))
    reproduced = set(found.values()) == {token} and derived == provisioned
    return reproduced, lines, f"a's SIP password {derived}, computed from the chain alone"


def scan(
    w: ChainWorld, address: bytes, start: int, token: str
) -> tuple[list[bytes], list[bytes], list[int], list[bytes]]:
    """Everything the contract at ``address`` got or wrote since block ``start`` (calldata,
    events, every non-zero storage word), and each occurrence in it of the receipt token
    (text or bytes) or of its SHA-256 (bytes or hex)."""
    calls = calldata_of(w.chain, address, start)
    logs = raw_logs(w.chain, address, start)
    words = storage_values(w.chain, address)
    blobs = [*calls, *logs, *(v.to_bytes(32, "big") for v in words)]
    digest = sha256(token.encode())
    needles = [token.encode(), bytes.fromhex(token), digest, digest.hex().encode()]
    return calls, logs, words, [n for n in needles for b in blobs if n in b]


def hardened_half(w: ChainWorld) -> Blocked:
    op, victim = w["o"], w["a"]
    ks = KeyStoreClient.deploy(w.chain, op.address)
    start = w.chain.w3.eth.block_number + 1
    token = w.receipt_token("a/hardened")
    ident = identifier(victim.phone, w.rng("salt")(32))
    reg = ks.registration(ident, victim.identity, victim.address, rng=w.rng("a/secret"))
    ks.commit(reg.commitment, victim.address)
    w.chain.increase_time(MIN_COMMITMENT_AGE)
    ks.register(reg, victim.address)
    ks.approve(ident, victim.public_key, 0, op.address, registrant=victim.address)
    lines = [Line("S_2", "a", "commit, register(ident, pk(a), secret, sig): the receipt stays off")]
    lines.append(Line("O_3", "o", "approve(ident, pk(a), 0, a); password sent sealed to pk(a)"))
    calls, logs, words, hits = scan(w, ks.address, start, token)
    seen = f"{len(calls)} calldata, {len(logs)} events, {len(words)} storage words"
    lines.append(Line("scan", "e", f"{seen}: the receipt or its hash found {len(hits)} times"))
    x, y = victim.public_key[:32], victim.public_key[32:]
    key_word = (ks.pending_key(key_hash(victim.public_key)) or PendingKey(0, 0)).word
    record_words = [int.from_bytes(x, "big"), int.from_bytes(y, "big"), 1 | (2 << 64)]
    record_words += [key_word, int(op.address, 16)]
    explained = sorted(words) == sorted(record_words)
    verdict = "yes" if explained else f"NO: {[hex(v) for v in words]}"
    what = "x, y, (version 1, Approved), the key's registration word, the operator"
    lines.append(Line("scan", "e", f"storage is exactly {what}: {verdict}"))
    blocked = not hits and explained
    why = (
        "nothing receipt-like on chain: KeyStore's calldata, events and storage hold the "
        "commitment, identifier, key, its signature and key hash only; the SIP password "
        "is random and sent sealed to pk(a)"
    )
    return blocked, lines, why, ()  # nothing to refuse: what is absent cannot leak


ATTACK = contract_attack(
    "credential_leak",
    protocol="keystore_registration",
    title="SIP password from the chain",
    setting=(
        "keystore_registration (KeyStorePaper vs KeyStore on the embedded chain; "
        "model trace keystore_registration.paper.O_secret_password)"
    ),
    paper=paper_half,
    hardened=hardened_half,
    checks=(C.RECEIPT_OFF_CHAIN, C.RANDOM_PASSWORD),
)

if __name__ == "__main__":
    raise SystemExit(ATTACK.main())
