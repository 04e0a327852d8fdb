"""The head every dated record the model writes starts with (verdicts, ablation): when, on
what machine, by which command and within which bound, so a figure in the docs says where
it came from."""

from __future__ import annotations

import datetime
import os
import platform
from typing import Any


def dated_head(generated_by: str, max_runs: int) -> dict[str, Any]:
    """``made`` (UTC, to the minute), ``machine``, ``generated_by`` and ``max_runs``."""
    return {
        "made": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": (
            f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        ),
        "generated_by": generated_by,
        "max_runs": max_runs,
    }
