"""Array type aliases and the vectorised idioms the demo generator repeats."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def expand(counts: IntArray) -> tuple[IntArray, IntArray]:
    """For ``counts[i]`` items per owner, each item's owner and its position within the owner.

    The inverse of a bincount; how one row per user becomes one row per session or event.
    """
    counts = np.asarray(counts, dtype=np.int64)
    owner = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    starts = np.cumsum(counts) - counts
    pos = np.arange(len(owner), dtype=np.int64) - np.repeat(starts, counts)
    return owner, pos


def segment_cumsum(values: FloatArray, counts: IntArray) -> FloatArray:
    """Cumulative sums that restart at each segment of ``counts`` consecutive values."""
    total = np.cumsum(values)
    padded = np.concatenate(([0.0], total))
    starts = np.cumsum(counts) - counts
    out: FloatArray = total - np.repeat(padded[starts], counts)
    return out


def systematic_sample(p: FloatArray, u: float) -> BoolArray:
    """Select item i with probability ``p[i]``; any run of items gets within one of its expectation.

    Planted effects (e.g. a channel's conversions falling) must show at demo sizes, where
    independent coin flips on a few dozen customers would drown them in noise.
    """
    c = np.cumsum(p)
    selected: BoolArray = np.floor(c + u) > np.floor(c - p + u)
    return selected


def sigmoid(x: FloatArray) -> FloatArray:
    """The logistic function, for turning an engagement score into a probability."""
    out: FloatArray = 1.0 / (1.0 + np.exp(-x))
    return out


def logit(p: float) -> float:
    """Inverse of :func:`sigmoid` for one probability."""
    return float(np.log(p / (1.0 - p)))
