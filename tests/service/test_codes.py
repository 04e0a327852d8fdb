"""Each service code's check: a refusal by a check is a ServiceRefused naming it, on the
service's side and as the client rebuilds it from the wire; plumbing codes name none."""

from __future__ import annotations

import pytest

from ethvoip.impl.service.codes import Code, from_wire, refuse
from ethvoip.spec.errors import Check, ServiceError, ServiceRefused


@pytest.mark.parametrize("code", list(Code))
def test_refuse_names_the_codes_check(code: Code) -> None:
    err = refuse(code, "why")
    assert (err.code, err.status) == (code.wire, code.status)
    if code.check is None:
        assert type(err) is ServiceError
    else:
        assert isinstance(err, ServiceRefused) and err.check is code.check
    again = from_wire(code.wire, "why", code.status)
    assert type(again) is type(err) and getattr(again, "check", None) is code.check


def test_a_site_may_name_a_finer_check_than_its_code() -> None:
    err = refuse(Code.BAD_SIGNATURE, "signed for another service", check=Check.SCOPE)
    assert isinstance(err, ServiceRefused) and err.check is Check.SCOPE
    assert err.code == "bad_signature"


def test_the_checks_that_stop_attacks_are_where_the_attacks_expect_them() -> None:
    assert Code.REPLAYED_REQUEST.check is Check.REPLAY  # approve_replay
    assert Code.STALE_REQUEST.check is Check.FRESHNESS
    assert Code.BAD_SIGNATURE.check is Check.SIGNATURE
    assert Code.NOT_FOUND.check is None and Code.CHAIN_UNAVAILABLE.check is None


def test_an_unknown_wire_code_stays_a_plain_service_error() -> None:
    assert type(from_wire("no_such_code", "?", 418)) is ServiceError
