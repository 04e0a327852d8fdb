"""docs/calls.rst stays true: its tutorial's code blocks run, in order, as one program, and
its annotated MIKEY dump is exactly what ``ethvoip.impl.call.annotate`` prints today."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

from ethvoip.impl.call.annotate import annotate, sample_i_message

DOC = Path(__file__).resolve().parents[2] / "docs" / "calls.rst"


def _blocks(section: str, language: str) -> list[str]:
    text = DOC.read_text()
    start = text.index(section)
    end = text.find("\n------", text.index("\n", start + len(section) + 1) + 1)
    body = text[start:end] if end != -1 else text[start:]
    pattern = rf"\.\. code-block:: {language}\n\n((?:(?: {{4}}.*)?\n)+)"
    return [textwrap.dedent(m.group(1)) for m in re.finditer(pattern, body)]


def test_the_tutorial_code_runs() -> None:
    blocks = _blocks("Tutorial: a call from Python", "python")
    assert len(blocks) == 3
    namespace: dict[str, object] = {"__name__": "tutorial"}
    exec(compile("\n".join(blocks), str(DOC), "exec"), namespace)
    assert namespace["heard_by_bob"] == b"".join(
        p.payload
        for p in namespace["packetize"]([1000] * 1600, ssrc=0, seq=1)  # type: ignore[operator]
    )


def test_the_mikey_dump_is_generated_not_written() -> None:
    (dump,) = _blocks("A real MIKEY message", "text")
    assert dump.strip("\n") == annotate(sample_i_message())
