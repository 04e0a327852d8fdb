"""The generic SVG sequence-chart writer: well-formed, escaped, arrows where they belong."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ethvoip.spec.errors import EthVoipError
from ethvoip.spec.msc import ChartError, Event, render_msc, text_width, wrap

NS = {"s": "http://www.w3.org/2000/svg"}


def texts(svg: str) -> list[str]:
    root = ET.fromstring(svg)
    return [t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text")]


def lifeline_x(root: ET.Element) -> list[float]:
    return [
        float(line.get("x1", "nan")) for line in root.findall("s:g[@class='lifeline']/s:line", NS)
    ]


def test_chart_is_svg_with_every_name_label_and_text() -> None:
    svg = render_msc(
        ["A (I)", "B (R)"],
        [
            ("A (I)", "A (I)", "I_1", "KB := look-up(B)"),
            ("A (I)", "B (R)", "I_2 → R_1", "{N1, A}KB"),
        ],
        title="demo",
    )
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.find("s:title", NS) is not None
    shown = texts(svg)
    for s in ("A (I)", "B (R)", "I_1", "KB := look-up(B)", "I_2 → R_1", "{N1, A}KB"):
        assert s in shown


def test_arrow_points_at_the_destination_lifeline() -> None:
    svg = render_msc(["X", "Y", "Z"], [Event("Z", "X", "Z_1", "m"), Event("X", "Y", "X_1", "n")])
    root = ET.fromstring(svg)
    xs = lifeline_x(root)
    assert xs[0] < xs[1] < xs[2]
    polygons = root.findall("s:g[@class='message']/s:polygon", NS)
    tips = [float(p.get("points", "").split()[0].split(",")[0]) for p in polygons]
    assert tips == [xs[0], xs[1]]  # Z -> X ends on X, X -> Y ends on Y


def test_event_to_itself_is_a_box_on_its_lifeline() -> None:
    svg = render_msc(["A", "B"], [("B", "B", "R_2", "KA := look-up(A)")])
    root = ET.fromstring(svg)
    (rect,) = root.findall("s:g[@class='box']/s:rect", NS)
    centre = float(rect.get("x", "nan")) + float(rect.get("width", "nan")) / 2
    assert centre == pytest.approx(lifeline_x(root)[1], abs=0.1)
    assert root.findall("s:g[@class='message']", NS) == []


def test_markup_in_text_is_escaped_not_interpreted() -> None:
    evil = "<script>alert('x')</script> & \"q\""
    svg = render_msc([evil, "B"], [(evil, "B", "<b>", evil)])
    assert "<script>" not in svg
    root = ET.fromstring(svg)
    assert root.find(".//s:script", NS) is None
    assert evil in texts(svg)
    assert "<b>" in texts(svg)


def test_characters_xml_forbids_are_replaced() -> None:
    # XML 1.0 section 2.2: NUL and most C0 controls are not characters of a document
    svg = render_msc(["A\x00", "B"], [("A\x00", "B", "l\x1b", "t\x07")])
    shown = texts(svg)
    assert "A\ufffd" in shown and "l\ufffd" in shown and "t\ufffd" in shown


printable = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=150
)


@given(lanes=st.lists(printable, min_size=1, max_size=4, unique=True), data=st.data())
def test_any_text_gives_well_formed_svg_keeping_the_text(
    lanes: list[str], data: st.DataObject
) -> None:
    events = data.draw(
        st.lists(
            st.tuples(st.sampled_from(lanes), st.sampled_from(lanes), printable, printable),
            max_size=5,
        )
    )
    root = ET.fromstring(render_msc(lanes, events))
    shown = [t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text")]
    joined = "".join(shown).replace(" ", "")
    for _, _, label, text in events:
        assert label.replace(" ", "") in joined
        assert text.replace(" ", "") in joined


@given(st.text(alphabet="ab ,", max_size=300))
def test_wrap_keeps_every_character_and_bounds_lines(text: str) -> None:
    lines = wrap(text, 20)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    assert all(text_width(line) <= text_width("x" * 20) for line in lines)


def test_unknown_lifeline_is_a_typed_error() -> None:
    with pytest.raises(ChartError) as info:
        render_msc(["A"], [("A", "B", "x", "y")])
    assert isinstance(info.value, EthVoipError) and isinstance(info.value, ValueError)
    with pytest.raises(ChartError):
        render_msc([], [])
    with pytest.raises(ChartError):
        render_msc(["A", "A"], [])


def test_forged_message_is_red_and_a_forwarded_one_black() -> None:
    svg = render_msc(
        ["A", "B"], [Event("A", "B", "1", "m"), Event("B", "A", "2", "n", style="forged")]
    )
    root = ET.fromstring(svg)
    plain, forged = root.findall("s:g", NS)[-2:]
    assert plain.get("class") == "message" and forged.get("class") == "message forged"
    assert plain.find("s:line", NS).get("stroke") == "black"  # type: ignore[union-attr]
    red = "#c0392b"
    assert forged.find("s:line", NS).get("stroke") == red  # type: ignore[union-attr]
    assert forged.find("s:polygon", NS).get("fill") == red  # type: ignore[union-attr]
    assert {t.get("fill") for t in forged.findall("s:text", NS)} == {red}
    with pytest.raises(ChartError, match="unknown style"):
        render_msc(["A", "B"], [Event("A", "B", "1", "m", style="blue")])


def test_a_long_arrow_widens_only_the_gaps_it_crosses() -> None:
    long = "x" * 30
    root = ET.fromstring(render_msc(["A", "B", "C", "D"], [("A", "B", "1", long)]))
    xs = lifeline_x(root)
    gaps = [b - a for a, b in itertools.pairwise(xs)]
    assert gaps[0] >= text_width(long)  # the text fits between its two lifelines
    assert gaps[1] == gaps[2] < gaps[0]
    # an arrow over two gaps shares its shortfall between them
    root = ET.fromstring(render_msc(["A", "B", "C"], [("A", "C", "1", "y" * 30)]))
    xs = lifeline_x(root)
    assert xs[1] - xs[0] == pytest.approx(xs[2] - xs[1])
    assert xs[2] - xs[0] >= text_width("y" * 30)
