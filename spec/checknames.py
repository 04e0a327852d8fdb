"""The named checks of the hardened designs: one identifier per check, in one place.

A hardened variant differs from the paper's by a set of *checks*, each with a name here.  The
name is the join key between three readers that each see the check from their side:

* the spec: every hardened step says which checks it adds (``checks=`` on a step of
  :mod:`ethvoip.spec.protocol`), and a hardened variant is *built* from its set of checks, so
  the variant without one of them is derived mechanically (:func:`ethvoip.spec.protocol.
  Variant.without`), never written a second time;
* the model: ``ethvoip prove --ablate`` drops each check in turn and reports the claims its
  removal reopens, with the attack (:mod:`ethvoip.model.ablate`);
* the concrete code: each attack script in ``attacks/`` names the checks it shows stopping
  an attack (``Attack.checks``), and the mutation report names the tests that kill the
  mutants of each check (issue 18 section 3: ``docs/model/mutants.json``, keyed by these ids).

Some checks are made by the code but stated in no term model (``modelled`` says where they
are argued instead); a check is listed here once, whichever side makes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from ethvoip.spec.errors import UnknownProtocol

# -- the message protocols (spec/protocols) ------------------------------------------------
LOWE_FIX = "lowe_fix"
SESSION_SIGNATURE = "session_signature"
POP = "pop"
MIKEY_SIGNATURE = "mikey_signature"
MIKEY_IDENTITIES = "mikey_identities"
REPLAY_CACHE = "replay_cache"
STS_IDENTITIES = "sts_identities"
ROLE_TAGS = "role_tags"
DIALOG_BINDING = "dialog_binding"
RECEIPT_BINDS_KEY = "receipt_binds_key"
RECEIPT_OFF_CHAIN = "receipt_off_chain"
RANDOM_PASSWORD = "random_password"
STATE_PROOF = "state_proof"
# -- the key life cycle (spec/lifecycle.py: guards of the hardened table) ------------------
KEY_SPENT_ONCE = "key_spent_once"
RECOVERY_TIMELOCK = "recovery_timelock"
RECOVERY_KEY_MATCH = "recovery_key_match"
PENDING_REGISTRATION = "pending_registration"
PENDING_TTL = "pending_ttl"
VERSION_MATCH = "version_match"
ONE_RECOVERY = "one_recovery"
KILL_SWITCH_SUSPENDS = "kill_switch_suspends"
# -- made by the code, stated in no term model --------------------------------------------
COMMIT_REVEAL = "commit_reveal"
LOOKUP_FRESHNESS = "lookup_freshness"
SRTCP_SOURCE = "srtcp_source"
REQUEST_NONCE = "request_nonce"
TYPED_SIGNATURES = "typed_signatures"


@dataclass(frozen=True)
class CheckName:
    """One named check: what it does, where it lives, and where a model states it."""

    id: str
    title: str
    #: where the concrete code makes it (module or contract, and the refusal it raises)
    code: str
    #: the models that state it ("psk_handshake", "key_lifecycle" ...), or () with ``argued``
    modelled: tuple[str, ...] = ()
    #: for a check no model states: why, and where it is argued or tested instead
    argued: str = ""


_ALL = (
    CheckName(
        LOWE_FIX,
        "message 4 names the responder (Needham-Schroeder-Lowe)",
        "impl handshake initiator: RemoteProtocolError 'message 4 names ...'",
        ("psk_handshake",),
    ),
    CheckName(
        SESSION_SIGNATURE,
        "the signed key binds the tag, both names and both nonces of the session",
        "impl handshake responder: CryptoError 'signature' at R_5",
        ("psk_handshake",),
    ),
    CheckName(
        POP,
        "the key store registers a key only with a proof of possession (ecrecover)",
        "contracts/KeyStore.sol register: WrongSigner",
        ("psk_handshake", "mikey_key_transport", "sts", "keystore_registration"),
    ),
    CheckName(
        MIKEY_SIGNATURE,
        "SIGNi over the whole I_MESSAGE, checked with the caller's key from the key store",
        "impl MIKEY responder: CryptoError 'signature' at R_3",
        ("mikey_key_transport",),
    ),
    CheckName(
        MIKEY_IDENTITIES,
        "IDi and IDr inside the I_MESSAGE and its signature",
        "impl MIKEY responder: identities compared with the SIP dialog's",
        ("mikey_key_transport",),
    ),
    CheckName(
        REPLAY_CACHE,
        "the callee keeps (sender, T, RAND) of every accepted I_MESSAGE and refuses a repeat",
        "impl MIKEY responder: ReplayError",
        ("mikey_key_transport",),
    ),
    CheckName(
        STS_IDENTITIES,
        "both names inside the signed STS transcript, the sender named in the encrypted part",
        "impl STS machines: RemoteProtocolError 'the peer names itself'",
        ("sts",),
    ),
    CheckName(
        ROLE_TAGS,
        "role tags sts_i / sts_r in the signed transcripts",
        "impl STS machines: the signed transcript's tag",
        ("sts",),
    ),
    CheckName(
        DIALOG_BINDING,
        "the STS responder authenticates the SIP dialog's peer, not whoever message 1 names",
        "impl STS responder: DialogMismatch at R_1",
        ("sts",),
    ),
    CheckName(
        RECEIPT_BINDS_KEY,
        "the receipt names the key it bought; the operator approves exactly that key",
        "contracts/KeyStore.sol approve and the operator service: NotPending",
        ("keystore_registration",),
    ),
    CheckName(
        RECEIPT_OFF_CHAIN,
        "the registration sent to the chain carries no receipt",
        "contracts/KeyStore.sol register's calldata (scanned by credential_leak)",
        ("keystore_registration",),
    ),
    CheckName(
        RANDOM_PASSWORD,
        "the SIP password is random and sent sealed to the approved key, not hash(receipt)",
        "impl operator service: the password it provisions",
        ("keystore_registration",),
    ),
    CheckName(
        STATE_PROOF,
        "a look-up is a storage proof under a state root the trust policy vouches for",
        "impl chain directory: BrokenLink / QuorumDisagreement",
        ("key_lookup",),
    ),
    CheckName(
        KEY_SPENT_ONCE,
        "a key that ever entered the store is never registered, rotated to or recovered to again",
        "contracts/KeyStore.sol: KeyAlreadyUsed",
        ("key_lifecycle",),
    ),
    CheckName(
        RECOVERY_TIMELOCK,
        "a recovery runs only the delay after its announcement (the veto window)",
        "contracts/KeyStore.sol executeRecovery: RecoveryNotReady",
        ("key_lifecycle",),
    ),
    CheckName(
        RECOVERY_KEY_MATCH,
        "a recovery installs only the announced key",
        "contracts/KeyStore.sol executeRecovery: KeyMismatch",
        ("key_lifecycle",),
    ),
    CheckName(
        PENDING_REGISTRATION,
        "approve installs only a key registered for this number",
        "contracts/KeyStore.sol approve / dropPending: NotPending",
        ("key_lifecycle",),
    ),
    CheckName(
        PENDING_TTL,
        "a registration expires after the pending lifetime",
        "contracts/KeyStore.sol approve: PendingExpired",
        ("key_lifecycle",),
    ),
    CheckName(
        VERSION_MATCH,
        "a registration names the record version it may be approved at",
        "contracts/KeyStore.sol approve: VersionMismatch",
        ("key_lifecycle",),
    ),
    CheckName(
        ONE_RECOVERY,
        "one recovery pending at a time; a veto needs one pending",
        "contracts/KeyStore.sol announce/cancel/executeRecovery: RecoveryAlreadyPending, "
        "NoRecoveryPending",
        ("key_lifecycle",),
    ),
    CheckName(
        KILL_SWITCH_SUSPENDS,
        "the operator's kill switch suspends a record (its key keeps the veto); approve "
        "refuses a number in use",
        "contracts/KeyStore.sol approve: NumberInUse",
        argued="a row's statuses, not a guard to remove: v1 is the table whose kill switch "
        "revokes, and its operator_bypass verdict is this check's ablation",
    ),
    CheckName(
        TYPED_SIGNATURES,
        "every signature is an EIP-712 type of its own that names a version or serial",
        "contracts/KeyStore.sol: WrongSigner on a digest of another type",
        argued="the life-cycle table fixes each row's digest type; dropping it is not a guard "
        "to remove (v1 is the table with one shared digest: its verdicts are the ablation)",
    ),
    CheckName(
        COMMIT_REVEAL,
        "registration is commit-reveal: a reveal needs the sender's own, old enough commitment",
        "contracts/KeyStore.sol register: CommitmentNotFound, CommitmentTooNew",
        argued="ordering and gas auctions are not in the symbolic chain; the contract tests "
        "and the front_running attack cover it",
    ),
    CheckName(
        LOOKUP_FRESHNESS,
        "a look-up refuses a head older than the freshness bound or below one already seen",
        "impl trust policies: StaleHead",
        argued="terms carry no time: unsupported by the term model (docs/model.rst, "
        "'Freshness of a look-up'); the stale_head attack exercises it",
    ),
    CheckName(
        SRTCP_SOURCE,
        "RTCP is accepted only from the negotiated peer address and under SRTCP authentication",
        "impl media: ForeignSource, CryptoError",
        argued="addresses and the SRTCP layer are below the STS messages the model states",
    ),
    CheckName(
        REQUEST_NONCE,
        "the operator service consumes each approval request's nonce once",
        "impl operator service: replayed_request (HTTP 409)",
        argued="the service's request envelope is not a message of keystore_registration",
    ),
)

#: Every check by id, in a fixed order (the order of the docs' table).
CHECKS: MappingProxyType[str, CheckName] = MappingProxyType({c.id: c for c in _ALL})


def get(check_id: str) -> CheckName:
    """The check called ``check_id``, or :class:`UnknownProtocol` listing the known ones."""
    try:
        return CHECKS[check_id]
    except KeyError:
        raise UnknownProtocol(f"no check {check_id!r} (known: {', '.join(CHECKS)})") from None
