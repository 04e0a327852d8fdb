"""Bounded Dolev-Yao model checking of the protocols in :mod:`ethvoip.spec` with z3."""
