"""Port allocation latency: reserve + release, p50 and p99 over many allocations, compared with
binding port 0 (the kernel's choice, which gives no stable or reserved port)."""

from __future__ import annotations

import os
import socket
import statistics
import tempfile
import time

from gatekeeper.resources import ports

ROUNDS = 2000


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def time_reserve() -> list[float]:
    span = ports.PortRange()
    samples: list[float] = []
    held: list[ports.PortLease] = []
    for index in range(ROUNDS):
        start = time.perf_counter()
        held.append(ports.reserve(f"bench{index % 64}", span, {"owner": "bench"}))
        samples.append(time.perf_counter() - start)
        if len(held) == 64:  # 64 live reservations at a time, as 8 worktrees x 8 workers
            for lease in held:
                lease.release()
            held.clear()
    for lease in held:
        lease.release()
    return samples


def time_bind_zero() -> list[float]:
    samples: list[float] = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
        samples.append(time.perf_counter() - start)
    return samples


def main() -> None:
    with tempfile.TemporaryDirectory() as state:
        os.environ["GATEKEEPER_STATE_DIR"] = state
        reserve, bind = time_reserve(), time_bind_zero()
    for name, samples in (("reserve", reserve), ("bind(0)", bind)):
        print(
            f"{name:8} p50 {percentile(samples, 0.5) * 1e6:8.1f} us   "
            f"p99 {percentile(samples, 0.99) * 1e6:8.1f} us"
        )
    ratio = statistics.median(reserve) / statistics.median(bind)
    print(f"median ratio reserve/bind(0): {ratio:.1f}x")


if __name__ == "__main__":
    main()
