"""The committed benchmark runs the docs render (docs/bench/*.json) and the directive's helpers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ethvoip_bench import BenchRecordError, cost_usd, load_prices, load_run, named_rows, series

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
