"""Model traces drawn as charts, and the ``ethvoip-trace`` directive's staleness check."""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

from ethvoip.model.svg import NETWORK, cast, trace_chart
from ethvoip.spec.catalogue import CATALOGUE
from ethvoip.spec.deduction import Derivation
from ethvoip.spec.msc import render_msc
from ethvoip.spec.terms import Atom, Sort, aenc, pk, tup
from ethvoip.spec.trace import Trace, TraceEvent, TraceRun, Violation, dumps

DOCS_EXT = Path(__file__).resolve().parents[2] / "docs" / "_ext"

a, b, e = (Atom(n, Sort.AGENT) for n in "abe")
n1, n2 = Atom("N1#1", Sort.NONCE), Atom("N2#2", Sort.NONCE)


def lowe_prefix() -> Trace:
    """The first moves of Lowe's attack (1996): a talks to e, e re-encrypts a's nonce for b."""
    m1_for_e = aenc(tup(n1, a), pk(e))
    m1_for_b = aenc(tup(n1, a), pk(b))
    built = Derivation("aenc", m1_for_b, (Derivation("observed", m1_for_e, event=1),))
    return Trace(
        protocol="psk_handshake",
        variant="paper",
        spec_digest=CATALOGUE["psk_handshake"].digest(),
        kind="attack",
        claim="R_secret_Ks",
        bound=2,
        generated_by="ethvoip prove psk_handshake --variant paper",
        directory={"a": pk(a), "b": pk(b), "e": pk(e)},
        runs=(TraceRun(1, "I", "a", {"A": a, "B": e}), TraceRun(2, "R", "b", {"B": b})),
        events=(
            TraceEvent(1, "I_1", "lookup", pk(e)),
            TraceEvent(1, "I_2", "send", m1_for_e),
            TraceEvent(2, "R_1", "recv", m1_for_b, built),
            TraceEvent(2, "R_2", "lookup", pk(a)),
            TraceEvent(2, "R_3", "send", aenc(tup(n1, n2), pk(a))),
        ),
        violation=Violation(2, "e learns Ks"),
    )


def test_trace_chart_puts_the_intruder_between_the_runs() -> None:
    lanes, events = trace_chart(lowe_prefix())
    assert lanes == ["a: I#1", NETWORK, "b: R#2"]
    assert [(ev.src, ev.dst, ev.label) for ev in events] == [
        ("a: I#1", "a: I#1", "I_1"),
        ("a: I#1", NETWORK, "I_2"),
        (NETWORK, "b: R#2", "R_1 (built by the intruder)"),
        ("b: R#2", "b: R#2", "R_2"),
        ("b: R#2", NETWORK, "R_3"),
        ("b: R#2", "b: R#2", "R_secret_Ks violated"),
    ]
    assert events[1].text == "{N1#1, a}pk(e)" and events[2].text == "{N1#1, a}pk(b)"
    assert [ev.style for ev in events] == ["", "", "forged", "", "", ""]
    ET.fromstring(render_msc(lanes, events))


def test_cast_names_each_role_and_says_when_one_agent_plays_two() -> None:
    trace = lowe_prefix()
    assert cast(trace) == (
        "Runs: a plays I#1, initiator A (the SIP client); "
        "b plays R#2, responder B (the SIP server or the callee)."
    )
    both = replace(trace, runs=(trace.runs[0], replace(trace.runs[1], agent="a")))
    said = cast(both)
    assert "The same honest agent a plays I and R: the model's world has 2 honest agents" in said
    assert "The same honest agent" not in cast(trace)


def _build(tmp: Path, trace: Trace) -> subprocess.CompletedProcess[str]:
    src = tmp / "src"
    src.mkdir()
    (src / "t.json").write_text(dumps(trace), encoding="utf-8")
    (src / "conf.py").write_text(
        f"import sys\nsys.path.insert(0, {str(DOCS_EXT)!r})\nextensions = ['ethvoip_spec']\n",
        encoding="utf-8",
    )
    pages = "".join(f".. ethvoip-protocol:: {n}\n\n" for n in CATALOGUE)
    (src / "index.rst").write_text(
        f"T\n=\n\n.. ethvoip-trace:: t.json\n\n{pages}", encoding="utf-8"
    )
    return subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "-q", "-E", "-b", "html", str(src), str(tmp / "o")],
        capture_output=True,
        text=True,
        timeout=900,  # a bound for a hung build only: a loaded machine is slow
        check=False,
    )


def test_trace_directive_draws_a_fresh_trace(tmp_path: Path) -> None:
    done = _build(tmp_path, lowe_prefix())
    assert done.returncode == 0, done.stderr
    html = (tmp_path / "o" / "index.html").read_text(encoding="utf-8")
    assert "R_1 (built by the intruder)" in html
    words = re.sub(r"<[^>]+>", "", html)  # literals are split into one span per word
    assert "ethvoip prove psk_handshake --variant paper" in words


def test_trace_directive_refuses_a_stale_trace(tmp_path: Path) -> None:
    done = _build(tmp_path, replace(lowe_prefix(), spec_digest="0" * 64))
    assert done.returncode != 0
    assert "regenerate it with: ethvoip prove psk_handshake --variant paper" in done.stderr
