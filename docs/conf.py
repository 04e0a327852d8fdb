"""Sphinx configuration for the ethvoip documentation (builds offline; warnings are errors)."""

from __future__ import annotations

project = "ethvoip"
author = "the ethvoip developers"
copyright = "2026, the ethvoip developers"
extensions: list[str] = []
exclude_patterns = ["_build"]
html_theme = "alabaster"
