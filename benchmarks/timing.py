"""Side-by-side timing: alternate the variants, repeat, and compare medians."""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path


def time_command(argv: Sequence[str], cwd: Path, env: Mapping[str, str] | None = None) -> float:
    """Wall time of one run in ``env`` (the whole environment; default: this process's); a run
    that fails for a reason other than findings aborts."""
    started = time.perf_counter()
    done = subprocess.run(
        list(argv), cwd=cwd, env=dict(env or os.environ), capture_output=True, check=False
    )
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):
        tail = (done.stdout + done.stderr).decode(errors="replace")[-2000:]
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}:\n{tail}")
    return elapsed


def compare(
    variants: Mapping[str, Sequence[str]],
    cwd: Path,
    repeats: int,
    warmup: int = 1,
    env: Mapping[str, str] | None = None,
) -> dict[str, list[float]]:
    """Run every variant ``warmup`` times, then ``repeats`` rounds alternating between them."""
    for argv in variants.values():
        for _ in range(warmup):
            time_command(argv, cwd, env)
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(repeats):
        for name, argv in variants.items():
            times[name].append(time_command(argv, cwd, env))
    return times


def summarise(times: Mapping[str, list[float]], baseline: str) -> str:
    """A table of medians and each variant's median ratio to ``baseline``."""
    base = statistics.median(times[baseline])
    lines = [f"{'variant':<28} {'median s':>9} {'min s':>8} {'ratio':>7}"]
    for name, values in times.items():
        median = statistics.median(values)
        lines.append(f"{name:<28} {median:>9.3f} {min(values):>8.3f} {median / base:>7.3f}")
    return "\n".join(lines)
