"""Differential conformance of the key look-up: the light client's proof checks against the
condition the spec's key_lookup puts on the answer.

In the hardened key_lookup (:mod:`ethvoip.spec.protocols.key_lookup`) the caller's ``I_2``
accepts only ``sign(<state, B, pk(X)>, sk(C))``: the chain's own statement, at the state the
trust policy vouches for, about the ``B`` asked.  On the code's side that statement is an
EIP-1186 proof: a header that hashes to the trusted block hash, the contract's account under
its state root, the record's storage slots under the account's storage root.  Hypothesis
draws what an untrusted node hands the light client (:func:`ethvoip.impl.chain.proofs.
verify_lookup`) for a look-up of one identifier at one trusted block: the genuine proof, the
proof of another identifier, of another block, another block's account proof under the
trusted header, a claimed value or account field changed, a proof node with a byte edited,
a storage proof dropped.  The spec's decision, restated on those parts: accept exactly the
genuine proof for the identifier and block asked, with the record the chain holds there; a
refusal names the part that is not the chain's statement, in the code's order (header, then
account, then storage): ``header_hash`` (a header of another block), ``proof_subject`` (for
another identifier's slots, or a proof missing), ``proof`` (a node that does not hang from
the root), ``proof_value`` (a claim the proof does not establish).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass
from functools import cache

from hypothesis import given, settings
from hypothesis import strategies as st

from ethvoip.impl.chain import EmbeddedChain, KeyStoreClient, identifier
from ethvoip.impl.chain.proofs import LookupProof, VerifiedRecord, verify_lookup
from ethvoip.spec.errors import Check, EthVoipError, Refused
from tests.chain.conftest import DELAY, MAX_AGE, MIN_AGE, SALT, TTL, key
from tests.chain.helpers import register
from tests.conformance.differential import TALLY, profile_examples

NAMES = ("a", "b", "e")  # a approved at both blocks, b only at the second, e never


@dataclass(frozen=True)
class World:
    ks: KeyStoreClient
    blocks: tuple[bytes, bytes]  # trusted block hashes: after a's approval, after b's
    idents: dict[str, bytes]
    proofs: dict[tuple[str, int], LookupProof]  # (name, block) -> the node's honest proof
    truth: dict[tuple[str, int], VerifiedRecord]  # what the chain holds there


@cache
def world() -> World:
    chain = EmbeddedChain()
    operator, a_acct, b_acct = chain.accounts[:3]
    ks = KeyStoreClient.deploy(
        chain,
        operator,
        min_commitment_age=MIN_AGE,
        max_commitment_age=MAX_AGE,
        recovery_delay=DELAY,
        pending_ttl=TTL,
    )
    idents = {n: identifier(f"+3361234567{i}", SALT) for i, n in enumerate(NAMES)}
    register(ks, chain, idents["a"], key(0), a_acct, approve_by=operator)
    first = bytes(chain.latest_block()["hash"])
    register(ks, chain, idents["b"], key(1), b_acct, approve_by=operator)
    second = bytes(chain.latest_block()["hash"])
    blocks = (first, second)
    proofs = {(n, i): ks.lookup_proof(idents[n], h) for n in NAMES for i, h in enumerate(blocks)}
    truth = {
        k: verify_lookup(blocks[k[1]], ks.address, idents[k[0]], ks.layout, p)
        for k, p in proofs.items()
    }
    return World(ks, blocks, idents, proofs, truth)


KINDS = (
    "genuine",
    "genuine",
    "other_ident",
    "other_block",
    "other_account",
    "storage_value",
    "account_claim",
    "storage_node",
    "account_node",
    "dropped",
)


@st.composite
def offers(draw: st.DrawFn) -> tuple[str, int, str, LookupProof, str | None]:
    """(name asked, block trusted, kind, what the node hands over, the spec's refusal)."""
    w = world()
    name, block = draw(st.sampled_from(NAMES)), draw(st.integers(0, 1))
    kind = draw(st.sampled_from(KINDS))
    p = w.proofs[(name, block)]
    acct = p.account
    if kind == "genuine":
        return name, block, kind, p, None
    if kind == "other_ident":
        other = draw(st.sampled_from([n for n in NAMES if n != name]))
        return name, block, kind, w.proofs[(other, block)], Check.PROOF_SUBJECT.value
    if kind == "other_block":
        return name, block, kind, w.proofs[(name, 1 - block)], Check.HEADER_HASH.value
    if kind == "other_account":
        moved = LookupProof(p.header_rlp, w.proofs[(name, 1 - block)].account)
        return name, block, kind, moved, Check.PROOF.value
    if kind == "storage_value":
        i = draw(st.integers(0, len(acct.storage) - 1))
        sp = acct.storage[i]
        bumped = dataclasses.replace(sp, value=sp.value ^ (1 << draw(st.integers(0, 255))))
        storage = (*acct.storage[:i], bumped, *acct.storage[i + 1 :])
        changed = dataclasses.replace(acct, storage=storage)
        return name, block, kind, LookupProof(p.header_rlp, changed), Check.PROOF_VALUE.value
    if kind == "account_claim":
        field = draw(st.sampled_from(["nonce", "balance"]))
        changed = dataclasses.replace(acct, **{field: getattr(acct, field) + 1})
        return name, block, kind, LookupProof(p.header_rlp, changed), Check.PROOF_VALUE.value
    if kind == "dropped":
        changed = dataclasses.replace(acct, storage=acct.storage[:-1])
        return name, block, kind, LookupProof(p.header_rlp, changed), Check.PROOF_SUBJECT.value
    # a byte of one proof node edited: the node no longer hangs from its parent
    if kind == "storage_node":
        i = draw(st.integers(0, len(acct.storage) - 1))
        nodes = acct.storage[i].nodes
    else:
        nodes = acct.nodes
    j = draw(st.integers(0, len(nodes) - 1))
    at = draw(st.integers(0, len(nodes[j]) - 1))
    bit = draw(st.integers(0, 7))
    node = nodes[j][:at] + bytes([nodes[j][at] ^ (1 << bit)]) + nodes[j][at + 1 :]
    edited = (*nodes[:j], node, *nodes[j + 1 :])
    if kind == "storage_node":
        sp = dataclasses.replace(acct.storage[i], nodes=edited)
        acct = dataclasses.replace(acct, storage=(*acct.storage[:i], sp, *acct.storage[i + 1 :]))
    else:
        acct = dataclasses.replace(acct, nodes=edited)
    return name, block, kind, LookupProof(p.header_rlp, acct), Check.PROOF.value


def decide(name: str, block: int, proof: LookupProof) -> tuple[VerifiedRecord | None, str | None]:
    """The code's decision: the verified record, or the check its refusal names."""
    w = world()
    try:
        got = verify_lookup(w.blocks[block], w.ks.address, w.idents[name], w.ks.layout, proof)
    except EthVoipError as exc:
        check = exc.check.value if isinstance(exc, Refused) else type(exc).__name__
        return None, check
    return got, None


@settings(max_examples=profile_examples(ci=30, deep=20_000))
@given(offer=offers())
def test_the_light_client_accepts_exactly_the_chain_s_statement(
    offer: tuple[str, int, str, LookupProof, str | None],
) -> None:
    name, block, kind, proof, spec = offer
    got, code = decide(name, block, proof)
    where = f"look-up of {name} at block {block} ({kind})"
    assert code == spec, f"{where}: the code says {code or 'accept'}, the spec {spec or 'accept'}"
    if spec is None:
        assert got == world().truth[(name, block)], f"{where}: another record than the chain's"
    TALLY[("key_lookup/hardened", kind, "I_2", "accept" if spec is None else "refuse")] += 1
    TALLY[("key_lookup/hardened", "schedules", "", "")] += 1


def test_the_world_has_what_the_look_ups_need() -> None:
    """a approved at both blocks, b only at the second, e never: the genuine answers differ
    by identifier and by block, so another's proof is never the right one by accident."""
    t = world().truth
    seen = Counter(r.status for r in t.values())
    assert t[("a", 0)].public_key == key(0).public_key.to_bytes()
    assert t[("b", 0)].status == 0 and t[("b", 1)].public_key == key(1).public_key.to_bytes()
    assert t[("e", 1)].status == 0 and seen == Counter({2: 3, 0: 3})
