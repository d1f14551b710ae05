"""Percentiles over samples (nearest-rank, so p99 of 100 samples is the worst but one)."""

from __future__ import annotations

import math
import statistics


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank q-th percentile (0 < q ≤ 100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def summarize(values: list[float]) -> dict[str, float]:
    """p50, p90, p99, max and mean of samples; all NaN-free, n included."""
    if not values:
        raise ValueError("no samples to summarise")
    return {
        "n": len(values),
        "p50": statistics.median(values),
        "p90": percentile(values, 90),
        "p99": percentile(values, 99),
        "max": max(values),
        "mean": statistics.fmean(values),
    }
