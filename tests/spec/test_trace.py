"""The trace format: round trip, strict parsing, fuzzing."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ethvoip.spec import trace as T
from ethvoip.spec.errors import TraceError
from tests.spec.lowe import lowe_trace


def test_round_trip() -> None:
    tr = lowe_trace()
    assert T.loads(T.dumps(tr)) == tr


def test_rejects_unknown_format_and_kind() -> None:
    obj = T.to_dict(lowe_trace())
    with pytest.raises(TraceError, match="format"):
        T.from_dict({**obj, "format": "ethvoip-trace/0"})
    with pytest.raises(TraceError, match="kind"):
        T.from_dict({**obj, "kind": "maybe"})
    with pytest.raises(TraceError, match="attack trace names"):
        T.from_dict({**obj, "violation": None})
    with pytest.raises(TraceError, match="not JSON"):
        T.loads("{")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=4),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


@given(st.data())
def test_any_field_replaced_by_garbage_raises_trace_error_or_parses(data: st.DataObject) -> None:
    obj = json.loads(T.dumps(lowe_trace()))
    path = data.draw(st.sampled_from(["top", "run", "event", "violation"]))
    target = {
        "top": obj,
        "run": obj["runs"][0],
        "event": obj["events"][data.draw(st.integers(0, len(obj["events"]) - 1))],
        "violation": obj["violation"],
    }[path]
    key = data.draw(st.sampled_from(sorted(target)))
    target[key] = data.draw(json_values)
    with contextlib.suppress(TraceError):
        T.from_dict(obj)
