"""The single error hierarchy of ethvoip.

Every failure any layer raises on purpose is an :class:`EthVoipError`.  Where a builtin
exception already names the situation, the subclass mixes it in (``DecodeError`` is also a
``ValueError``) so callers that only know the builtin still catch it.

Following h11, errors caused by what a *peer* sent (:class:`RemoteProtocolError`) are kept
apart from errors caused by how *we* were driven (:class:`LocalProtocolError`): the first is
an attack or a broken peer, the second is a bug in the caller.
"""

from __future__ import annotations


class EthVoipError(Exception):
    """Root of every error ethvoip raises deliberately."""


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


class UnsupportedProtocol(ModelError, SpecError, ValueError):
    """The protocol uses a construct the z3 encoding does not cover (never a wrong verdict).

    Also a :class:`SpecError`: the spec checker refuses exactly what the model refuses, so
    ``ethvoip check`` and ``ethvoip prove`` accept the same protocols."""


# --- impl layer -------------------------------------------------------------------------


class DecodeError(EthVoipError, ValueError):
    """Bytes that do not decode under the wire format they claim to follow."""


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


class ContractRevert(ChainError):
    """A contract call reverted; ``reason`` is the custom error or revert string."""

    def __init__(self, reason: str, *, data: bytes | None = None) -> None:
        self.reason = reason
        self.data = data
        super().__init__(reason)


class ProofError(ChainError, ValueError):
    """A light-client proof does not establish what it claims."""


class ServiceError(EthVoipError):
    """The operator service refused a request; ``code`` is machine-readable."""

    def __init__(self, code: str, message: str, *, status: int = 400) -> None:
        self.code = code
        self.status = status
        super().__init__(f"{code}: {message}")


class SipError(EthVoipError):
    """A SIP transaction or dialog failed."""


class ConfigError(EthVoipError, ValueError):
    """A configuration value is missing or out of range."""


class WouldOverwrite(ConfigError):
    """A file that may hold something irreplaceable (a private key) is already there."""


class UsageError(EthVoipError, ValueError):
    """A command line that cannot be run as typed: a bad option value, a missing argument."""
