"""The OpenAPI document: committed copy fresh, every route documented and every documented
route served (by the running app itself), every error code listed."""

from __future__ import annotations

import json
from pathlib import Path

from ethvoip.impl.service.app import ROUTES
from ethvoip.impl.service.codes import Code
from ethvoip.impl.service.openapi import openapi_document

from .conftest import Running
from .helpers import post

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def test_committed_document_is_fresh() -> None:
    # Regenerate with: python -m ethvoip.impl.service.openapi > docs/openapi.json
    assert json.loads(COMMITTED.read_text()) == openapi_document()


def test_routes_and_document_agree() -> None:
    doc = openapi_document()
    documented = {(m.upper(), path) for path, ops in doc["paths"].items() for m in ops}
    assert documented == {(m, p) for m, p, _ in ROUTES}
    assert doc["openapi"].startswith("3.")


def test_served_document_and_routes(running: Running) -> None:
    """Every documented route answers on the live app (no 404/405), and the app serves the
    same document at /openapi.json."""
    status, served = post(running.url, "/openapi.json", b"", method="GET")
    assert (status, served) == (200, openapi_document())
    for path, ops in served["paths"].items():
        for method in ops:
            status, reply = post(
                running.url, path, b"{}" if method == "post" else b"", method.upper()
            )
            assert status not in (404, 405), (method, path, reply)


def test_every_error_code_is_documented() -> None:
    enum = openapi_document()["components"]["schemas"]["Error"]["properties"]["error"]
    assert set(enum["properties"]["code"]["enum"]) == {c.wire for c in Code}
    assert len({c.wire for c in Code}) == len(Code)
