"""How sure a benchmark's ratio is: a 95 % interval from its interleaved rounds, and a verdict
that says "met" or "MISSED" only when the whole interval says so.

A ratio of medians from 15 rounds moved by more than its targets between two runs minutes
apart on the same quiet machine (1.22× and 1.09× for the same figure): a point estimate alone
cannot tell a cost from chance. The interval comes from a bootstrap over the rounds: each
resample draws whole rounds (A and B together, as they ran side by side), so the drift that
interleaving cancels stays cancelled.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

MET, MISSED, UNDECIDED = "met", "MISSED", "undecided"


@dataclass(frozen=True, slots=True)
class Interval:
    """A ratio of medians (B over A) and its 95 % bootstrap interval."""

    value: float
    low: float
    high: float


def ratio_interval(
    base: Sequence[float], ours: Sequence[float], resamples: int = 2000, seed: int = 1
) -> Interval:
    """median(ours) / median(base), and where 95 % of the resampled ratios fall. Seeded: the
    same rounds always give the same interval."""
    if len(base) != len(ours) or not base:
        raise ValueError("the rounds come in pairs, at least one")
    rounds = list(zip(base, ours, strict=True))
    pick = random.Random(seed).choices
    ratios = []
    for _ in range(resamples):
        drawn = pick(rounds, k=len(rounds))
        ratios.append(
            statistics.median(b for _, b in drawn) / statistics.median(a for a, _ in drawn)
        )
    ratios.sort()
    low, high = ratios[int(0.025 * resamples)], ratios[int(0.975 * resamples) - 1]
    return Interval(statistics.median(ours) / statistics.median(base), low, high)


def median_interval(samples: Sequence[float], resamples: int = 2000, seed: int = 1) -> Interval:
    """The median of one figure's samples (a time, not a ratio), and where 95 % of the
    resampled medians fall. Seeded, as ratio_interval is."""
    if not samples:
        raise ValueError("at least one sample")
    pick = random.Random(seed).choices
    medians = sorted(statistics.median(pick(samples, k=len(samples))) for _ in range(resamples))
    low, high = medians[int(0.025 * resamples)], medians[int(0.975 * resamples) - 1]
    return Interval(statistics.median(samples), low, high)


def decide_median(
    sample: Callable[[], float], at_most: float, samples: int, most_samples: int, step: int = 5
) -> tuple[Interval, str, list[float]]:
    """`decide` for a figure measured alone: samples until its median's interval decides the
    target, or `most_samples` are taken."""
    done = [sample() for _ in range(samples)]
    while True:
        interval = median_interval(done)
        said = verdict(interval, at_most)
        if said != UNDECIDED or len(done) >= most_samples:
            return interval, said, done
        done += [sample() for _ in range(min(step, most_samples - len(done)))]


def verdict(interval: Interval, at_most: float) -> str:
    """met: the whole interval is within the target; MISSED: the whole of it is past it."""
    if interval.high <= at_most:
        return MET
    if interval.low > at_most:
        return MISSED
    return UNDECIDED


def decide(
    run_round: Callable[[], tuple[float, float]],
    at_most: float,
    rounds: int,
    most_rounds: int,
    step: int = 5,
) -> tuple[Interval, str, list[tuple[float, float]]]:
    """Rounds of (A, B) until the interval decides the target, or `most_rounds` are run: an
    undecided figure says so rather than flip a coin."""
    done = [run_round() for _ in range(rounds)]
    while True:
        interval = ratio_interval([a for a, _ in done], [b for _, b in done])
        said = verdict(interval, at_most)
        if said != UNDECIDED or len(done) >= most_rounds:
            return interval, said, done
        done += [run_round() for _ in range(min(step, most_rounds - len(done)))]
