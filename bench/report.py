"""Machine-readable benchmark figures: one JSON object per run, the same shape for every bench.

Every benchmark that takes ``--json PATH`` writes::

    {"bench": "...", "date": "2026-12-07T00:10:00Z", "machine": {...}, "load": [1, 5, 15],
     "settings": {...}, "figures": {NAME: {"unit": "ms", "median": .., "p99": ..,
     "samples": N}}, "ratios": {NAME: {"numerator": A, "denominator": B, "ratio": ..}}}

so two runs, or two machines, compare by name.  ``p99`` is the nearest-rank 99th percentile of
the samples (the largest sample when there are fewer than 100).  The load average is recorded
because this machine is shared: a figure taken at load 6 on 2 cores is not one taken at 0.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def cpu_model() -> str:
    """The CPU's marketing name from /proc/cpuinfo, or what ``platform`` knows."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict[str, Any]:
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
    }


def machine_line() -> str:
    m = machine()
    return f"{m['cpu']}, {m['cores']} cpu, Python {m['python']}"


def p99(samples: Sequence[float]) -> float:
    """Nearest-rank 99th percentile."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]


@dataclass
class Report:
    """The figures of one benchmark run, written as JSON by :meth:`write`."""

    bench: str
    settings: dict[str, Any] = field(default_factory=dict)
    figures: dict[str, dict[str, Any]] = field(default_factory=dict)
    ratios: dict[str, dict[str, Any]] = field(default_factory=dict)

    def samples(self, name: str, values: Sequence[float], unit: str) -> dict[str, Any]:
        """A figure from its samples: median, p99 and their count."""
        if not values:
            raise ValueError(f"figure {name!r} has no samples")
        entry = {
            "unit": unit,
            "median": statistics.median(values),
            "p99": p99(values),
            "samples": len(values),
        }
        self.figures[name] = entry
        return entry

    def value(self, name: str, value: float, unit: str) -> None:
        """A figure measured once (gas, bytes): exact, no spread."""
        self.figures[name] = {"unit": unit, "median": value, "p99": value, "samples": 1}

    def ratio(self, name: str, numerator: str, denominator: str) -> float:
        """The ratio of two figures' medians, recorded under ``name``."""
        r = self.figures[numerator]["median"] / self.figures[denominator]["median"]
        self.ratios[name] = {"numerator": numerator, "denominator": denominator, "ratio": r}
        return float(r)

    def as_json(self) -> dict[str, Any]:
        now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
        return {
            "bench": self.bench,
            "date": now.isoformat().replace("+00:00", "Z"),
            "machine": machine(),
            "load": list(os.getloadavg()),
            "settings": self.settings,
            "figures": self.figures,
            "ratios": self.ratios,
        }

    def write(self, path: Path | None) -> None:
        """Write the JSON object to ``path`` (``-`` is stdout); nothing when ``path`` is None."""
        if path is None:
            return
        text = json.dumps(self.as_json(), indent=2, sort_keys=True) + "\n"
        if str(path) == "-":
            print(text, end="")
        else:
            path.write_text(text)


def add_json_option(ap: argparse.ArgumentParser) -> None:
    ap.add_argument(
        "--json",
        type=Path,
        metavar="PATH",
        help="also write the figures as one JSON object to PATH ('-' for stdout)",
    )
