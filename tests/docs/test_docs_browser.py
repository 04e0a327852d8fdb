"""Every page of the built docs, opened in headless Chromium as a reader at 1280 px would.

For each ``*.html`` of the build (found by walking it, so new pages are checked without being
listed here), served by a local HTTP server on a free port:

* the page does not scroll sideways (``scrollWidth <= clientWidth`` of the document);
* no picture (``img``, ``svg``, ``object``, ``embed``) reaches past the window or is cut off
  by a scrolling or clipping box around it, so a wide chart cannot hide behind a scrollbar;
* a chart scaled down to fit shows its smallest text at 9 px or more;
* no inline literal runs past the edge of its paragraph, list item or cell;
* no table sticks out of the column it stands in (over the margin or the sidebar);
* every ``img`` has loaded (``complete`` and a ``naturalWidth``), every ``object``/``embed``
  holds a document, of the SVG kind when it names an ``.svg``;
* every link to a file of the site names a file that exists (the charts' full-size files);
* the browser's console shows no error (a missing stylesheet or script is one).

Full-page screenshots of the main pages (top-level pages and each folder's index) are saved
under ``docs/_build/screenshots/`` (or ``$ETHVOIP_SCREENSHOTS``) for a person to look at.
A second test runs the same checks on a deliberately broken page, so they can fail.

Chromium and its driver are Debian's ``chromium`` and ``chromium-driver`` (``apt.txt``,
installed by ``make system``); selenium drives them with the driver path given, so it never
tries to download one.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import http.server
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
WIDTH, HEIGHT = 1280, 900
#: Below this rendered size, text in a scaled-down chart is too small to read.
MIN_TEXT_PX = 9
#: Chromium draws at most this many pixels in one screenshot; a longer page is cut there.
MAX_SHOT_H = 16000
FLAGS = (
    "--headless",
    "--no-sandbox",  # we run as root in CI
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    f"--window-size={WIDTH},{HEIGHT}",
)

pytestmark = pytest.mark.integration

# Runs in the page; returns a list of problems, each a sentence.
CHECK_JS = """
const out = [];
const doc = document.scrollingElement || document.documentElement;
if (doc.scrollWidth > doc.clientWidth) {
  out.push(`the page scrolls sideways: ${doc.scrollWidth} px of content in ${doc.clientWidth}`);
}
const view = doc.clientWidth;
const MIN_TEXT_PX = arguments[0];
const name = (e) => {
  const src = e.currentSrc || e.getAttribute('src') || e.getAttribute('data') || '';
  const title = e.querySelector && e.querySelector(':scope > title');
  return `<${e.tagName.toLowerCase()}> ${src || (title ? title.textContent : '')}`.trim();
};
const pictures = [...document.querySelectorAll('img, object, embed, svg')]
  .filter((e) => !(e.tagName.toLowerCase() === 'svg' && e.parentElement.closest('svg')));
for (const e of pictures) {
  const r = e.getBoundingClientRect();
  if (r.width === 0 && r.height === 0) continue;  // not displayed
  if (r.left < -1 || r.right > view + 1) {
    out.push(`${name(e)} is ${Math.round(r.width)} px wide and reaches past the window`);
    continue;
  }
  for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
    const ox = getComputedStyle(a).overflowX;
    if (ox === 'visible') continue;
    const box = a.getBoundingClientRect();
    if (r.left < box.left - 1 || r.right > box.right + 1) {
      out.push(`${name(e)} (${Math.round(r.width)} px) is cut off by a box ` +
               `${Math.round(box.width)} px wide (overflow-x: ${ox})`);
    }
    break;
  }
}
for (const svg of pictures.filter((e) => e.tagName.toLowerCase() === 'svg')) {
  // a chart scaled down to fit: its smallest text as the reader sees it
  const box = svg.viewBox && svg.viewBox.baseVal;
  const w = svg.getBoundingClientRect().width;
  if (!box || !box.width || !w) continue;
  const sizes = [...svg.querySelectorAll('text')]
    .map((t) => parseFloat(getComputedStyle(t).fontSize));
  const px = Math.min(...sizes) * w / box.width;
  if (sizes.length && px < MIN_TEXT_PX) {
    out.push(`${name(svg)} is scaled to ${Math.round(100 * w / box.width)} %: ` +
             `its text is ${px.toFixed(1)} px, too small to read (lay it out narrower)`);
  }
}
for (const c of document.querySelectorAll('code')) {
  // an inline literal too long for the line runs over the margin (or under the sidebar)
  const block = c.closest('p, li, td, th, dd, dt');
  if (!block || c.closest('pre')) continue;
  const room = block.getBoundingClientRect();
  for (const part of c.getClientRects()) {
    // a literal's padding, or the space that hangs at a wrapped pre-wrap line's end, may stick
    // out by a few pixels (invisible): a character of code is about 8 px
    if (part.right > room.right + 8) {
      out.push(`the literal "${c.textContent.slice(0, 40)}" runs ` +
               `${Math.round(part.right - room.right)} px past the edge of its text`);
      break;
    }
  }
}
for (const t of document.querySelectorAll('table')) {
  const room = t.parentElement.getBoundingClientRect();
  const r = t.getBoundingClientRect();
  if (r.right > room.right + 1) {
    const head = t.querySelector('th, td');
    out.push(`a table (${head ? head.textContent.trim().slice(0, 30) : ''}...) is ` +
             `${Math.round(r.width)} px wide and sticks out of its ` +
             `${Math.round(room.width)} px column`);
  }
}
for (const img of document.images) {
  if (!img.complete || img.naturalWidth === 0) out.push(`${name(img)} did not load`);
}
for (const e of document.querySelectorAll('object, embed')) {
  let d = null;
  try { d = e.getSVGDocument ? e.getSVGDocument() : e.contentDocument; } catch (err) { d = null; }
  const src = e.getAttribute('data') || e.getAttribute('src') || '';
  if (!d || !d.documentElement) {
    out.push(`${name(e)} did not load`);
  } else if (/\\.svg$/i.test(src) && d.documentElement.localName !== 'svg') {
    out.push(`${name(e)} is not an SVG document`);
  }
}
return out;
"""

LINKS_JS = "return [...document.querySelectorAll('a[href]')].map((a) => a.href);"


def _need(path: Path, package: str) -> None:
    # no skip: a machine without the browser cannot check the docs, and must say so
    assert path.exists(), f"{path} is missing: `make system` installs Debian's {package}"


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    _need(CHROMIUM, "chromium")
    _need(CHROMEDRIVER, "chromium-driver")
    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=opts, service=Service(str(CHROMEDRIVER)))
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass  # the test reports what matters; a line per request is noise


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[str]:
    """``folder`` over HTTP on 127.0.0.1 and a free port (0: the OS picks); yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}/"
        finally:
            server.shutdown()
            thread.join()


def page_problems(driver: webdriver.Chrome, base: str, folder: Path, page: str) -> list[str]:
    """Everything a reader would trip over on ``page`` (a path relative to ``folder``)."""
    driver.get_log("browser")  # drop what earlier pages logged
    driver.get(base + page)
    problems: list[str] = list(driver.execute_script(CHECK_JS, MIN_TEXT_PX))
    for href in driver.execute_script(LINKS_JS):
        url = urlsplit(href)
        if href.startswith(base) and url.path.rstrip("/"):
            target = folder / unquote(url.path).lstrip("/")
            if not (target.is_file() or (target / "index.html").is_file()):
                problems.append(f"link to {url.path} names no file of the site")
    for entry in driver.get_log("browser"):
        if entry.get("level") == "SEVERE":
            problems.append(f"console error: {entry.get('message')}")
    return [f"{page}: {p}" for p in problems]


def screenshot(driver: webdriver.Chrome, path: Path) -> None:
    """The whole page (up to :data:`MAX_SHOT_H` px) as a PNG, through the DevTools protocol."""
    height = min(
        int(driver.execute_script("return document.scrollingElement.scrollHeight")), MAX_SHOT_H
    )
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot",
        {
            "format": "png",
            "optimizeForSpeed": True,  # a larger file, written in half the time
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": WIDTH, "height": height, "scale": 1},
        },
    )
    path.write_bytes(base64.b64decode(shot["data"]))


def is_main(page: str) -> bool:
    """A top-level page or a folder's index (not the generated index and search pages)."""
    parts = page.split("/")
    return (len(parts) == 1 or parts[-1] == "index.html") and parts[-1] not in {
        "genindex.html",
        "search.html",
    }


def test_every_page_fits_loads_its_pictures_and_logs_no_error(
    site: Path, browser: webdriver.Chrome
) -> None:
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))
    assert "index.html" in pages and len(pages) > 10
    shots = Path(os.environ.get("ETHVOIP_SCREENSHOTS", ROOT / "docs" / "_build" / "screenshots"))
    shots.mkdir(parents=True, exist_ok=True)
    for old in shots.glob("*.png"):  # a page removed since the last run leaves no stale picture
        old.unlink()
    problems: list[str] = []
    with serve(site) as base:
        for page in pages:
            problems += page_problems(browser, base, site, page)
            if is_main(page):
                screenshot(browser, shots / (page.replace("/", "__")[: -len(".html")] + ".png"))
    assert problems == [], "\n".join(problems)
    assert (shots / "index.png").stat().st_size > 10_000  # a page, not a blank


BROKEN_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>t</title><link rel="icon" href="data:,"></head><body>
<div style="width: 600px; overflow-x: auto">
<svg xmlns="http://www.w3.org/2000/svg" width="900" height="50" viewBox="0 0 900 50">
<title>too wide for its box</title><rect width="900" height="50" fill="grey"/></svg>
</div>
<div style="width: 400px">
<svg xmlns="http://www.w3.org/2000/svg" width="2000" height="50" viewBox="0 0 2000 50"
 style="max-width: 100%; height: auto" font-size="12"><title>tiny text</title>
<text x="10" y="30">unreadable</text></svg>
</div>
<p style="width: 200px">see <code>a_very_long_identifier_that_cannot_break_at_all</code></p>
<img src="missing.png" alt="gone">
<a href="nowhere.html">gone</a>
<div style="width: 300px"><table><tr><td>wide</td><td style="white-space: nowrap">
xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx</td></tr></table></div>
</body></html>
"""

WIDE_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>t</title><link rel="icon" href="data:,"></head><body>
<img src="wide.svg" alt="wide">
</body></html>
"""


def test_the_checks_catch_a_cut_off_chart_a_wide_image_and_a_broken_reference(
    tmp_path: Path, browser: webdriver.Chrome
) -> None:
    (tmp_path / "broken.html").write_text(BROKEN_PAGE, encoding="utf-8")
    (tmp_path / "wide.html").write_text(WIDE_PAGE, encoding="utf-8")
    (tmp_path / "wide.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="2000" height="40">'
        '<rect width="2000" height="40" fill="grey"/></svg>',
        encoding="utf-8",
    )
    (tmp_path / "fine.html").write_text(WIDE_PAGE.replace("wide.svg", "small.svg"), "utf-8")
    (tmp_path / "small.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="40"/>', encoding="utf-8"
    )
    with serve(tmp_path) as base:
        broken = page_problems(browser, base, tmp_path, "broken.html")
        wide = page_problems(browser, base, tmp_path, "wide.html")
        fine = page_problems(browser, base, tmp_path, "fine.html")
    text = "\n".join(broken)
    assert "too wide for its box (900 px) is cut off by a box 600 px wide" in text
    assert "<img> http://127.0.0.1:" in text and "missing.png did not load" in text
    assert "link to /nowhere.html names no file of the site" in text
    assert any("console error:" in p and "missing.png" in p and "404" in p for p in broken)
    assert "tiny text is scaled to 20 %: its text is 2.4 px, too small to read" in text
    assert 'the literal "a_very_long_identifier_that_cannot_break" runs' in text
    assert "a table (wide...) is" in text and "sticks out of its 300 px column" in text
    assert any("the page scrolls sideways" in p for p in wide)
    assert any("2000 px wide and reaches past the window" in p for p in wide)
    assert fine == []
