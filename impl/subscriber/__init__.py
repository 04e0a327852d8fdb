"""The subscriber's side of onboarding: what a subscriber runs, apart from the operator's service.

:class:`~ethvoip.impl.subscriber.client.OnboardingClient` (:mod:`.client`, paper III.A.1)
makes the wallet and identity keys, buys the registration from the app store, has the
operator fund the wallet, registers the key on chain, has the operator approve it, and keeps
the secrets at rest (:mod:`.keyfile`: ``keystore.json``, ``sip.json``, ``trust.json``);
``ethvoip register`` (:mod:`.cli`) wraps it::

    client = OnboardingClient(service_url, chain, store)
    result = client.onboard("+33612345678", keystore_dir, passphrase)

It speaks the operator's HTTP API through the message, envelope and error-code modules of
:mod:`ethvoip.impl.service`; the service never imports this package.  Nothing is imported
here, so that ``ethvoip register --help`` stays instant.
"""
