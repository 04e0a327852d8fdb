"""The single error hierarchy of ethvoip.

Every failure any layer raises on purpose is an :class:`EthVoipError`.  Where a builtin
exception already names the situation, the subclass mixes it in (``DecodeError`` is also a
``ValueError``) so callers that only know the builtin still catch it.

Following h11, errors caused by what a *peer* sent (:class:`RemoteProtocolError`) are kept
apart from errors caused by how *we* were driven (:class:`LocalProtocolError`): the first is
an attack or a broken peer, the second is a bug in the caller.

A check that refuses its input raises a :class:`Refused`, whose ``check`` (a :class:`Check`)
names the check: callers and tests tell refusals apart by that field, never by message text
(pyca/cryptography's ``InvalidSignature``/``InvalidTag`` spirit, with one enum instead of a
class per check).  The few :class:`Refused` subclasses below mix in the older family each
site raised before (``SignatureInvalid`` is also a :class:`CryptoError`, ``Replayed`` a
:class:`ReplayError`), so ``except CryptoError`` and the like keep catching what they did.
"""

from __future__ import annotations

import enum
from typing import Any


class EthVoipError(Exception):
    """Root of every error ethvoip raises deliberately."""


class Check(enum.Enum):
    """The checks a refusal can name; ``Check.X.doc`` says what X refuses.

    Values are stable snake_case names (``ethvoip attack all --json`` prints them, and the
    spec-vs-code comparison joins on them): never rename one.
    """

    doc: str

    def __new__(cls, value: str, doc: str) -> Check:
        member = object.__new__(cls)
        member._value_ = value
        member.doc = doc
        return member

    # --- cryptography ------------------------------------------------------------------
    SIGNATURE = (
        "signature",
        "A signature does not verify under the key it must come from, or is malformed "
        "(r, s out of range, high s, bad recovery id).",
    )
    MAC = (
        "mac",
        "A MAC or keyed digest does not verify (MIKEY KEMAC and R_MESSAGE, SRTP/SRTCP "
        "authentication tag, the STS key-switch MAC, a SIP nonce the registrar did not issue).",
    )
    DECRYPT = (
        "decrypt",
        "A ciphertext does not open under our key: AEAD tag, ECIES, ``a=k:``, a keystore "
        "under a wrong passphrase.",
    )
    PUBLIC_KEY = (
        "public_key",
        "A public key or DH share is not usable: not a point on the curve, or of low order.",
    )
    CREDENTIALS = (
        "credentials",
        "A password-derived credential (the SIP digest response) is wrong, or its user unknown.",
    )
    # --- freshness and replay ----------------------------------------------------------
    REPLAY = (
        "replay",
        "A message (or nonce count) already accepted once is offered again, or an SRTP packet "
        "too old to tell (behind the replay window, or older than every key still held).",
    )
    REPLAY_CAPACITY = (
        "replay_capacity",
        "The replay cache has no room for this sender: refused rather than forget a live entry.",
    )
    FRESHNESS = (
        "freshness",
        "A timestamp, nonce or block is outside its freshness window.",
    )
    ROLLBACK = (
        "rollback",
        "Older than something already accepted: a lagging or replaying node, a light-client "
        "update not newer than the store.",
    )
    ORDER = (
        "order",
        "Out of the order the protocol allows: a lower in-dialog CSeq, slots out of order.",
    )
    CALL_STATE = (
        "call_state",
        "A call's life cycle has no row for this event in the call's state: a peer's ACK with "
        "no 2xx of ours to acknowledge, a hang-up before the call is answered.",
    )
    # --- binding to this session -------------------------------------------------------
    NONCE_MATCH = (
        "nonce_match",
        "A reply does not echo this session's nonce or session identifier (N1, N2, MIKEY CSB "
        "ID, the request a service reply answers).",
    )
    IDENTITY_BINDING = (
        "identity_binding",
        "A message names a party other than the one this session is with, or is addressed to "
        "someone else (Lowe's fix, STS/SIGMA names, MIKEY IDi/IDr).",
    )
    DIALOG_BINDING = (
        "dialog_binding",
        "An STS message 1 names a peer other than the SIP dialog's (a re-key from outside the "
        "call).",
    )
    STREAM_BINDING = (
        "stream_binding",
        "A media packet or key switch is for another SSRC than the stream's.",
    )
    SOURCE_ADDRESS = (
        "source_address",
        "A datagram comes from an address other than the call's peer, or a SIP response's "
        "top Via is not ours.",
    )
    SCOPE = (
        "scope",
        "A credential or signed request is for another scope: another realm, Request-URI, "
        "service, or request kind.",
    )
    PSK = (
        "psk",
        "The TLS 1.3 handshake under the call's pre-shared key failed: the peer does not "
        "hold the key (binder), or closed the connection on ours.",
    )
    # --- what the protocol requires ------------------------------------------------------
    DECODE = (
        "decode",
        "Bytes (or a message) do not have the form their format requires.",
    )
    LENGTH = ("length", "A message or body is longer than the limit this side accepts.")
    REQUIRED = (
        "required",
        "A part the protocol requires is missing (an R_MESSAGE, a key attribute, a Contact).",
    )
    ALGORITHM = (
        "algorithm",
        "An algorithm or suite this side does not accept (SIP digest other than MD5, an SDES "
        "suite other than AES_CM_128_HMAC_SHA1_80, MKI).",
    )
    # --- chain and light client --------------------------------------------------------
    PROOF = (
        "proof",
        "A Merkle-Patricia proof or SSZ branch does not verify: a node missing, malformed, or "
        "not in the root it must hang from.",
    )
    PROOF_SUBJECT = (
        "proof_subject",
        "A proof is for another account or slot than the one asked about (or the account "
        "holds no contract).",
    )
    PROOF_VALUE = (
        "proof_value",
        "A value the node claims differs from the one its proof establishes.",
    )
    HEADER_HASH = (
        "header_hash",
        "A header does not hash to the block hash a trust policy vouched for, or disagrees "
        "with it.",
    )
    CHECKPOINT = (
        "checkpoint",
        "The node's chain or block is not the pinned checkpoint's.",
    )
    HEADER_CHAIN = (
        "header_chain",
        "A header does not link to its parent (number, parent hash, timestamp order).",
    )
    QUORUM = (
        "quorum",
        "Independent nodes disagree, too few answer, or too few sync-committee members sign.",
    )
    FORK = ("fork", "Light-client data for another fork digest than this network's.")
    PERIOD = (
        "period",
        "A light-client update signed in a period whose committee is not known.",
    )
    # --- key-store contract and operator service ---------------------------------------
    POSSESSION = (
        "possession",
        "No proof of possession: the key's signature (ecrecover) does not name this request.",
    )
    COMMITMENT = (
        "commitment",
        "No matching commitment for a reveal, or an unexpired one is already there.",
    )
    COMMITMENT_AGE = (
        "commitment_age",
        "A commitment revealed too early (before the reveal delay) or too late.",
    )
    KEY_REUSE = ("key_reuse", "A key (or receipt) already used once may not be used again.")
    STATUS = (
        "status",
        "The record is not in a status that allows this (not pending, not active, number in "
        "use, expired).",
    )
    AUTHORITY = ("authority", "The caller may not do this (not the operator, not the creator).")
    TIME_LOCK = ("time_lock", "A time-locked change asked for before its time.")
    RECORD_MATCH = (
        "record_match",
        "The request names a key, version or number other than the record's.",
    )
    RECEIPT = (
        "receipt",
        "The app-store receipt is malformed, for another product, or its purchase not completed.",
    )
    CONTRACT = (
        "contract",
        "A contract refusal with no finer name here (a custom error the table does not know).",
    )


# --- refusals ---------------------------------------------------------------------------


class Refused(EthVoipError):
    """A check refused its input; ``check`` names which one.

    A subclass gives a default ``check``; any refusal may name another one with
    ``check=``.  Other arguments go to the next class in the hierarchy unchanged.
    """

    check: Check

    def __init__(self, *args: Any, check: Check | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if check is not None:
            self.check = check
        if not isinstance(getattr(self, "check", None), Check):
            raise TypeError(f"{type(self).__name__} raised without naming its check")


# --- spec layer -------------------------------------------------------------------------


class SpecError(EthVoipError):
    """A protocol description is not usable."""


class MalformedProtocol(SpecError, ValueError):
    """A protocol description breaks a well-formedness rule.

    Carries where: the protocol, variant, role and step label (any may be ``None`` when the
    fault is not local to one of them).
    """

    def __init__(
        self,
        message: str,
        *,
        protocol: str | None = None,
        variant: str | None = None,
        role: str | None = None,
        label: str | None = None,
    ) -> None:
        self.protocol = protocol
        self.variant = variant
        self.role = role
        self.label = label
        where = "/".join(p for p in (protocol, variant, role, label) if p)
        super().__init__(f"{where}: {message}" if where else message)


class MalformedStructure(MalformedProtocol):
    """A description that is not even made of the right parts: a field of the wrong type, a
    name unsafe in a file name (spec/structure.py).

    Apart from the rules about what a protocol *does* because a variant derived by removing a
    check (``ethvoip prove --ablate``) may legitimately break those (a finding about the
    check), while a structural fault in it is a bug of its builder, never a finding.
    """


class UnknownProtocol(SpecError, KeyError):
    """A protocol or variant name that the catalogue does not hold."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "unknown protocol"


class ProtocolFileError(SpecError, ValueError):
    """A file given as a protocol is not one: missing, not ``.py``, its import fails, or it
    defines no ``PROTOCOL`` of type :class:`~ethvoip.spec.protocol.Protocol`."""


class TermError(SpecError, ValueError):
    """A term was built or used against the rules of the term language."""


class TraceError(SpecError, ValueError):
    """A trace file does not follow the trace format."""


class StaleTrace(TraceError):
    """A committed trace was produced from a different version of the spec."""


# --- model layer ------------------------------------------------------------------------


class ModelError(EthVoipError):
    """The model checker could not do what it was asked."""


class SolverError(ModelError):
    """z3 itself raised (wrapped at the model's boundary, ``ethvoip.model.boundary``)."""


class UnsupportedProtocol(ModelError, SpecError, ValueError):
    """The protocol uses a construct the z3 encoding does not cover (never a wrong verdict).

    Also a :class:`SpecError`: the spec checker refuses exactly what the model refuses, so
    ``ethvoip check`` and ``ethvoip prove`` accept the same protocols."""


# --- impl layer -------------------------------------------------------------------------


class DecodeError(Refused, ValueError):
    """Bytes that do not decode under the wire format they claim to follow."""

    check = Check.DECODE


class CryptoError(EthVoipError):
    """A cryptographic check failed (bad signature, failed decryption, wrong key)."""


class ProtocolError(EthVoipError):
    """A role machine was fed something its protocol does not allow."""


class RemoteProtocolError(ProtocolError):
    """The peer (or the network) sent something the protocol rejects."""


class LocalProtocolError(ProtocolError):
    """This side was driven wrongly: an event in the wrong state, a call after failure."""


class ReplayError(RemoteProtocolError):
    """A message that was already accepted once, or whose freshness window has passed."""


class ConformanceError(EthVoipError):
    """The concrete code did not do what a model trace says it does (a replay mismatch)."""


class ChainError(EthVoipError):
    """The chain, or a contract on it, refused or failed an operation."""


class ContractRevert(Refused, ChainError):
    """A contract call reverted; ``reason`` is the custom error or revert string.

    ``check`` is the contract check the custom error names (the chain client's table), or
    :attr:`Check.CONTRACT` for a revert it has no name for."""

    check = Check.CONTRACT

    def __init__(
        self, reason: str, *, data: bytes | None = None, check: Check | None = None
    ) -> None:
        self.reason = reason
        self.data = data
        super().__init__(reason, check=check)


class ProofError(ChainError, ValueError):
    """A light-client proof does not establish what it claims."""


class ServiceError(EthVoipError):
    """The operator service refused a request; ``code`` is machine-readable."""

    def __init__(self, code: str, message: str, *, status: int = 400) -> None:
        self.code = code
        self.status = status
        super().__init__(f"{code}: {message}")


class CryptoRefused(Refused, CryptoError):
    """A cryptographic check refused its input (name the check; subclasses give one)."""


class SignatureInvalid(CryptoRefused):
    """A signature does not verify (pyca's ``InvalidSignature``)."""

    check = Check.SIGNATURE


class MacInvalid(CryptoRefused):
    """A MAC or keyed digest does not verify."""

    check = Check.MAC


class DecryptFailed(CryptoRefused):
    """A ciphertext does not open under our key (pyca's ``InvalidTag``)."""

    check = Check.DECRYPT


class KeyInvalid(CryptoRefused):
    """A public key or DH share the peer sent is not usable."""

    check = Check.PUBLIC_KEY


class PeerRefused(Refused, RemoteProtocolError):
    """What the peer sent breaks a rule of the protocol (name the check)."""


class IdentityMismatch(PeerRefused):
    """A message names, or is addressed to, a party other than this session's."""

    check = Check.IDENTITY_BINDING


class Replayed(Refused, ReplayError):
    """A message already accepted once (or no room left to remember it)."""

    check = Check.REPLAY


class Stale(Refused, ReplayError):
    """A timestamp, nonce or block outside its freshness window."""

    check = Check.FRESHNESS


class ProofInvalid(Refused, ProofError):
    """A light-client proof does not establish what it claims."""

    check = Check.PROOF


class ServiceRefused(Refused, ServiceError):
    """The operator service (or its client) refused a request by a named check."""

    def __init__(self, code: str, message: str, *, status: int = 400, check: Check) -> None:
        super().__init__(code, message, status=status, check=check)


class SipError(EthVoipError):
    """A SIP transaction or dialog failed."""


class ConfigError(EthVoipError, ValueError):
    """A configuration value is missing or out of range."""


class WouldOverwrite(ConfigError):
    """A file that may hold something irreplaceable (a private key) is already there."""


class UsageError(EthVoipError, ValueError):
    """A command line that cannot be run as typed: a bad option value, a missing argument."""
