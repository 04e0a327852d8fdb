"""The operator's wallet-management service (paper III.A.3; interfaces 2, 3, 5, 6, 7 of Fig. 1).

Public API (see docs/service.rst)::

    store = TestStore()                                   # the app store's signing authority
    built = build_service(ServiceConfig(store.public_key_pem), chain, "svc.sqlite", "sip.sqlite",
                          passphrase=passphrase)  # opens svc-keys.json, the encrypted keys
    app = make_app(built.service)                         # aiohttp.web application

``ethvoip serve`` (:mod:`.cli`) wraps these.  The subscriber's side (the onboarding client,
``ethvoip register``) is :mod:`ethvoip.impl.subscriber`.

The names below are loaded on first use (PEP 562): importing a submodule such as
:mod:`.cli` must not pull in the chain stack, so that ``ethvoip serve --help`` is instant.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ethvoip.impl.service.codes import Code
    from ethvoip.impl.service.config import ServiceConfig
    from ethvoip.impl.service.receipts import PurchaseRecord, PurchaseState, SignedReceipt
    from ethvoip.impl.service.store import DEFAULT_PRODUCT, TestStore

_HOME = {
    "Code": "codes",
    "ServiceConfig": "config",
    "PurchaseRecord": "receipts",
    "PurchaseState": "receipts",
    "SignedReceipt": "receipts",
    "DEFAULT_PRODUCT": "store",
    "TestStore": "store",
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)


__all__ = [
    "DEFAULT_PRODUCT",
    "Code",
    "PurchaseRecord",
    "PurchaseState",
    "ServiceConfig",
    "SignedReceipt",
    "TestStore",
]
