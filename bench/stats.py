"""Percentiles, apart from `bench.common` so that the load generator's process starts quickly
(it imports nothing of the application)."""

from __future__ import annotations

import math


def percentile(samples: list[float], p: float) -> float:
    """The p-th percentile (0..100) by linear interpolation between closest ranks."""
    ordered = sorted(samples)
    if not ordered:
        return math.nan
    rank = (len(ordered) - 1) * p / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)
