"""Sphinx configuration for the ethvoip documentation.

Builds offline with ``sphinx -W`` (warnings are errors): theme alabaster (shipped with Sphinx),
no CDN, no MathJax, no JavaScript of ours.  The local extensions live in ``docs/_ext``:
``ethvoip_spec`` renders the protocol pages from ``ethvoip.spec`` and draws message sequence
charts as SVG with ``msc``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "_ext"))

project = "ethvoip"
author = "the ethvoip developers"
copyright = "2026, the ethvoip developers"
extensions: list[str] = [
    "ethvoip_spec",
    "ethvoip_verdicts",
    "ethvoip_lifecycle",
    "ethvoip_sipua",
    "ethvoip_bench",
    "ethvoip_arch",
    "ethvoip_ablation",
    "ethvoip_errors",
    "ethvoip_prove_bench",
]
exclude_patterns = ["_build"]
nitpicky = True  # a reference to something that does not exist is a warning, hence an error
language = "en"
# Plain ``::`` blocks are protocol narrations, commands and program output, not Python:
# highlighting them as Python colours apostrophes as strings.  Code says its language.
highlight_language = "none"

html_theme = "alabaster"
html_theme_options = {
    "description": "Blockchain-keyed end-to-end secure VoIP",
    "show_powered_by": False,  # no links off the site
    "fixed_sidebar": False,
    "page_width": "1180px",
}
html_static_path = ["_static"]
html_css_files = ["ethvoip.css"]
html_favicon = "_static/favicon.svg"  # else every browser asks for /favicon.ico: a 404
html_show_sourcelink = False
