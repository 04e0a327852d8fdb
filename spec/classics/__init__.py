"""Classic protocols of the literature, written in the spec language, verdicts pinned.

One module per protocol, each defining ``PROTOCOL``, its source cited in the docstring and
its textbook verdicts in each variant's ``expected``.  :mod:`ethvoip.spec.library` finds
them by listing this package (a module whose name starts with ``_`` is not a protocol):
adding a classic is adding a file.  ``ethvoip prove --classics`` runs them all.
"""
