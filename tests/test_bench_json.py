"""Every benchmark writes its figures with ``--json`` in bench/report.py's shape (tiny runs)."""

from __future__ import annotations

import json
import runpy
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
# bench/prove.py keeps its own record (format ethvoip-prove-bench/1, see bench/README.md);
# report.py is the shape itself and call_profile.py prints a profile, no figures.
NOT_REPORTS = {"prove.py", "report.py", "call_profile.py"}


def _run(script: str, args: list[str], out: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    monkeypatch.syspath_prepend(str(BENCH))
    monkeypatch.setattr(sys, "argv", [script, *args, "--json", str(out)])
    runpy.run_path(str(BENCH / script), run_name="__main__")
    return dict(json.loads(out.read_text()))


def test_every_benchmark_takes_the_json_option() -> None:
    lacking = [
        p.name
        for p in sorted(BENCH.glob("*.py"))
        if p.name not in NOT_REPORTS and "add_json_option(" not in p.read_text()
    ]
    assert lacking == []


def test_handshake_bench_writes_both_protocols(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    got = _run("handshake.py", ["--runs", "2"], tmp_path / "h.json", monkeypatch)
    assert got["bench"] == "handshake" and got["settings"]["runs"] == 2
    for protocol in ("psk_handshake", "sts"):
        assert got["figures"][f"{protocol}/handshake_ms"]["samples"] == 2
        shares = [
            v["median"] for k, v in got["figures"].items() if k.startswith(protocol + "/share/")
        ]
        assert abs(sum(shares) - 100.0) < 1e-6  # every operation plus the rest


def test_srtp_bench_writes_packets_and_mikey(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    got = _run("srtp.py", ["--packets", "5", "--rounds", "2"], tmp_path / "s.json", monkeypatch)
    assert got["figures"]["time/srtp_protect_us"]["samples"] == 2
    assert got["figures"]["time/mikey_open_ms"]["samples"] == 5  # at least five MIKEY rounds
    ratio = got["ratios"]["time/protect_over_pylibsrtp"]
    assert ratio["numerator"] == "time/srtp_protect_us" and ratio["ratio"] > 0


def test_pk_floor_bench_writes_hot_and_cold_per_operation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    got = _run("pk_floor.py", ["--runs", "2"], tmp_path / "p.json", monkeypatch)
    ops = {name.partition("/")[2] for name in got["figures"]}
    assert {"ECIES encrypt", "ECDSA verify", "mikey caller", "psk_handshake machines"} <= ops
    for op in ops:
        for when in ("hot_ms", "cold_ms"):
            assert got["figures"][f"{when}/{op}"]["samples"] == 2
