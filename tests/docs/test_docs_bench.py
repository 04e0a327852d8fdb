"""The committed benchmark runs the docs render (docs/bench/*.json) and the directive's helpers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ethvoip_bench import (
    BenchRecordError,
    cost_usd,
    load_prices,
    load_run,
    named_rows,
    series,
    spread_cell,
    transposed_rows,
)

BENCH = Path(__file__).resolve().parents[2] / "docs" / "bench"


def test_cost_is_gas_times_price_in_ether_times_the_ether_price() -> None:
    # 21,000 gas (a plain transfer) at 10 gwei = 0.00021 ETH; at $2,000 per ETH: $0.42
    assert cost_usd(21_000, 10, 2_000) == pytest.approx(0.42)


def test_series_groups_figures_by_their_x_and_refuses_a_gap() -> None:
    run = {
        "figures": {
            "10/a": {"median": 1.0},
            "10/b": {"median": 2.0},
            "100/a": {"median": 3.0},
            "100/b": {"median": 4.0},
            "total": {"median": 9.0},
        }
    }
    assert series(run, ["a", "b"]) == [(10, {"a": 1.0, "b": 2.0}), (100, {"a": 3.0, "b": 4.0})]
    del run["figures"]["100/b"]
    with pytest.raises(BenchRecordError, match="100/b"):
        series(run, ["a", "b"])


def test_named_rows_keep_the_order_asked_and_refuse_a_gap() -> None:
    run = {
        "figures": {
            "eth_call/cold": {"median": 0.5},
            "quorum 2-of-3/cold": {"median": 3.0},
            "checkpoint d=0/cold": {"median": 0.6},
            "checkpoint d=0/cold/extra": {"median": 9.0},
        }
    }
    got = named_rows(run, ["eth_call", "checkpoint d=0"], ["cold"])
    assert got == [("eth_call", {"cold": 0.5}), ("checkpoint d=0", {"cold": 0.6})]
    with pytest.raises(BenchRecordError, match="unverified/cold"):
        named_rows(run, ["unverified"], ["cold"])


def test_a_file_that_is_not_a_run_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "run.json"
    bad.write_text(json.dumps({"bench": "x", "figures": {}}))
    with pytest.raises(BenchRecordError, match="not a benchmark run"):
        load_run(bad)


def test_committed_runs_and_prices_load() -> None:
    gas = load_run(BENCH / "gas.json")
    # the hardened registration's total is the sum of its three calls (bench/gas.py adds them)
    f = gas["figures"]
    parts = ("KeyStore.commit", "KeyStore.register (EIP-712 Register)", "KeyStore.approve")
    assert f["hardened: commit + register + approve"]["median"] == sum(
        f[p]["median"] for p in parts
    )
    growth = load_run(BENCH / "registry_growth.json")
    sizes = [x for x, _ in series(growth, ["gas_total", "verified_cold_ms", "proof_bytes"])]
    assert sizes == [100, 1_000, 10_000, 100_000]
    prices = load_prices(BENCH / "prices.json")
    assert all(p["source"] and p["date"] for p in prices["gas_prices"])


def test_transposed_rows_read_column_then_row_take_ratios_and_refuse_a_gap() -> None:
    fig = {"median": 6.0, "p99": 9.0, "samples": 30}
    run = {
        "figures": {"anvil/call/ours": fig, "anvil/phase/a, b": {**fig, "median": 1.0}},
        "ratios": {"anvil/call": {"ratio": 1.94}},
    }
    got = transposed_rows(run, ["phase/a, b", "call/ours", "call"], ["anvil"])
    assert [(r, c["anvil"].get("median", c["anvil"].get("ratio"))) for r, c in got] == [
        ("phase/a, b", 1.0),
        ("call/ours", 6.0),
        ("call", 1.94),
    ]
    assert spread_cell(got[2][1]["anvil"])[0].astext() == "1.94x"
    assert [n.astext() for n in spread_cell(fig)] == ["6.000", "p99 9.000, n=30"]
    once = {"median": 46.9, "p99": 46.9, "samples": 1}
    assert [n.astext() for n in spread_cell(once)] == ["46.900"]
    count = {"unit": "count", "median": 380, "p99": 380, "samples": 1}
    assert [n.astext() for n in spread_cell(count)] == ["380"]
    with pytest.raises(BenchRecordError, match="eth-tester/call/ours"):
        transposed_rows(run, ["call/ours"], ["anvil", "eth-tester"])


CALL_ROWS = [
    "call_setup_ms/ours",
    "call_setup_ms/baseline",
    "call_setup_ms",
    "registration_ms/ours",
    "registration_ms/baseline",
    "registration_ms",
]


@pytest.mark.parametrize(
    ("name", "new_block"), [("call_setup", False), ("call_setup_new_block", True)]
)
def test_committed_call_setup_runs_pair_ours_with_the_baseline_per_backend(
    name: str, new_block: bool
) -> None:
    run = load_run(BENCH / f"{name}.json")
    assert run["settings"]["new_block"] is new_block
    rows = dict(transposed_rows(run, CALL_ROWS, ["eth-tester", "anvil"]))
    for backend, summary in run["backends"].items():
        for what in ("call_setup_ms", "registration_ms"):
            ours, base = rows[f"{what}/ours"][backend], rows[f"{what}/baseline"][backend]
            assert summary[what]["ratio"] == rows[what][backend]["ratio"]
            assert rows[what][backend]["ratio"] == pytest.approx(ours["median"] / base["median"])
    phases = [k.partition("/")[2] for k in run["figures"] if k.startswith("anvil/phase/")]
    assert len(phases) == 7
    transposed_rows(run, phases, ["eth-tester", "anvil"])  # every phase on both backends


def test_committed_pk_floor_run_has_hot_and_cold_for_each_operation() -> None:
    run = load_run(BENCH / "pk_floor.json")
    ops = ["ECIES encrypt", "ECIES decrypt", "ECDSA sign", "ECDSA verify", "mikey caller"]
    rows = transposed_rows(run, ops, ["hot_ms", "cold_ms"])
    assert all(r["hot_ms"]["median"] > 0 and r["cold_ms"]["samples"] > 1 for _, r in rows)


RUNS = sorted(p.name for p in BENCH.glob("*.json") if p.name != "prices.json")


@pytest.mark.parametrize("name", RUNS)
def test_every_committed_run_is_a_dated_run_of_a_bench_script(name: str) -> None:
    run = load_run(BENCH / name)
    assert (BENCH.parents[1] / "bench" / f"{run['bench']}.py").is_file()
    assert run["date"].endswith("Z") and len(run["load"]) == 3
    assert all(fig["samples"] >= 1 for fig in run["figures"].values())
