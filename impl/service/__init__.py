"""The operator's wallet-management service (paper III.A.3; interfaces 2, 3, 5, 6, 7 of Fig. 1).

Public API (see docs/service.rst)::

    store = TestStore()                                   # the app store's signing authority
    built = build_service(ServiceConfig(store.public_key_pem), chain, "svc.sqlite", "sip.sqlite",
                          passphrase=passphrase)  # opens svc-keys.json, the encrypted keys
    app = make_app(built.service)                         # aiohttp.web application
    client = OnboardingClient(service_url, chain, store)  # the subscriber's side
    result = client.onboard("+33612345678", keystore_dir, passphrase)

``ethvoip serve`` (:mod:`.cli`) and ``ethvoip register`` (:mod:`.client_cli`) wrap these.
"""

from ethvoip.impl.service.codes import Code
from ethvoip.impl.service.config import ServiceConfig
from ethvoip.impl.service.receipts import PurchaseRecord, PurchaseState, SignedReceipt
from ethvoip.impl.service.store import DEFAULT_PRODUCT, TestStore

__all__ = [
    "DEFAULT_PRODUCT",
    "Code",
    "PurchaseRecord",
    "PurchaseState",
    "ServiceConfig",
    "SignedReceipt",
    "TestStore",
]
