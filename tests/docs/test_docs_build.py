"""The whole site builds with ``sphinx -W`` offline, and -W really fails on a broken page."""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from ethvoip.spec.catalogue import CATALOGUE

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def sphinx(src: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "--keep-going",
            "-q",
            "-E",
            "-b",
            "html",
            str(src),
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=900,  # a bound for a hung build only: a loaded machine is slow
        check=False,
    )


def test_every_catalogue_protocol_has_a_page_with_one_chart_per_variant(site: Path) -> None:
    for name, protocol in CATALOGUE.items():
        html = (site / "protocols" / f"{name}.html").read_text(encoding="utf-8")
        charts = re.findall(r"<svg .*?</svg>", html, flags=re.S)
        assert len(charts) == len(protocol.variants), name
        for svg, variant in zip(charts, protocol.variants.values(), strict=True):
            root = ET.fromstring(svg)
            shown = " ".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
            for role in variant.roles:
                for label in role.labels:
                    assert label in shown, f"{name}/{variant.name}: {label}"


def test_site_loads_nothing_from_the_network(site: Path) -> None:
    for page in site.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        # stylesheets, scripts and images must all be local files
        assert not re.search(r"<(script|img)[^>]*\ssrc=\"(https?:)?//", html), page
        assert not re.search(r"<link[^>]*\shref=\"(https?:)?//", html), page
        assert not re.search(r"<script[^>]*mathjax", html, flags=re.I), page


def _project(tmp: Path, body: str) -> Path:
    src = tmp / "src"
    src.mkdir()
    (src / "conf.py").write_text(
        f"import sys\nsys.path.insert(0, {str(DOCS / '_ext')!r})\n"
        "extensions = ['ethvoip_spec']\nhtml_theme = 'alabaster'\n",
        encoding="utf-8",
    )
    (src / "index.rst").write_text(body, encoding="utf-8")
    return src


def test_a_malformed_hand_drawn_chart_fails_the_build(tmp_path: Path) -> None:
    pages = "".join(f".. ethvoip-protocol:: {n}\n\n" for n in CATALOGUE)
    src = _project(tmp_path, f"T\n=\n\n.. ethvoip-msc:: bad\n\n   A -> B without colons\n\n{pages}")
    done = sphinx(src, tmp_path / "out")
    assert done.returncode != 0
    assert "expected 'A -> B : label : text'" in done.stderr


def test_a_catalogue_protocol_without_a_page_fails_the_build(tmp_path: Path) -> None:
    src = _project(tmp_path, "T\n=\n\n.. ethvoip-msc:: ok\n\n   A -> B : 1 : hello\n")
    done = sphinx(src, tmp_path / "out")
    assert done.returncode != 0
    for name in CATALOGUE:
        assert f"catalogue protocol {name!r} has no page" in done.stderr


def test_no_table_cell_is_an_empty_bullet(site: Path) -> None:
    # a lone "-" in an rst table cell is a bullet list with an empty item: a reader sees "•"
    for page in site.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert not re.search(r"<td>\s*<ul[^>]*>\s*<li>\s*</li>\s*</ul>\s*</td>", html), page


def test_every_chart_links_to_the_same_drawing_at_full_size(site: Path) -> None:
    linked = 0
    for page in site.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        for href, svg in re.findall(
            r'<div class="ethvoip-msc"><a href="([^"]+)"[^>]*>(<svg .*?</svg>)</a></div>',
            html,
            flags=re.S,
        ):
            full = (page.parent / href).resolve()
            assert full.read_text(encoding="utf-8") == svg, (page, href)
            linked += 1
        # no chart without its link
        assert html.count('<div class="ethvoip-msc">') == html.count(
            '<div class="ethvoip-msc"><a href='
        ), page
    assert linked >= 20
