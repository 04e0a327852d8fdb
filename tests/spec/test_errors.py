"""The error tree: every refusal names its check, and keeps the family it had before."""

from __future__ import annotations

import pytest

from ethvoip.spec import errors as E
from ethvoip.spec.errors import Check


def test_check_values_are_unique_snake_case_with_a_doc() -> None:
    values = [c.value for c in Check]
    assert len(set(values)) == len(values)
    for c in Check:
        assert c.value == c.name.lower()
        assert c.doc.endswith(".") and len(c.doc) > 20, c


@pytest.mark.parametrize(
    ("cls", "family", "check"),
    [
        (E.SignatureInvalid, E.CryptoError, Check.SIGNATURE),
        (E.MacInvalid, E.CryptoError, Check.MAC),
        (E.DecryptFailed, E.CryptoError, Check.DECRYPT),
        (E.KeyInvalid, E.CryptoError, Check.PUBLIC_KEY),
        (E.IdentityMismatch, E.RemoteProtocolError, Check.IDENTITY_BINDING),
        (E.Replayed, E.ReplayError, Check.REPLAY),
        (E.Stale, E.ReplayError, Check.FRESHNESS),
        (E.ProofInvalid, E.ProofError, Check.PROOF),
        (E.DecodeError, ValueError, Check.DECODE),
        (E.ContractRevert, E.ChainError, Check.CONTRACT),
    ],
)
def test_refusal_classes_default_their_check_and_keep_their_family(
    cls: type[E.Refused], family: type[Exception], check: Check
) -> None:
    err = cls("why")
    assert isinstance(err, E.Refused) and isinstance(err, family)
    assert err.check is check
    assert str(err) == "why"


def test_a_refusal_may_name_another_check() -> None:
    err = E.Replayed("full", check=Check.REPLAY_CAPACITY)
    assert err.check is Check.REPLAY_CAPACITY
    assert E.Replayed("again").check is Check.REPLAY  # the instance did not change the class


@pytest.mark.parametrize("cls", [E.Refused, E.CryptoRefused, E.PeerRefused])
def test_a_refusal_without_a_check_is_a_bug(cls: type[E.Refused]) -> None:
    with pytest.raises(TypeError):
        cls("no check named")


def test_service_refusal_keeps_code_and_status() -> None:
    err = E.ServiceRefused("replayed_request", "again", status=409, check=Check.REPLAY)
    assert (err.code, err.status, err.check) == ("replayed_request", 409, Check.REPLAY)
    assert isinstance(err, E.ServiceError)
