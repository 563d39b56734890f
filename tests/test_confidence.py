"""The benchmark's verdicts: met or MISSED only when the whole interval says so."""

from __future__ import annotations

import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

from confidence import (
    MET,
    MISSED,
    UNDECIDED,
    decide,
    decide_median,
    median_interval,
    ratio_interval,
    verdict,
)


def noisy(centre: float, spread: float, count: int, seed: int) -> list[float]:
    draw = random.Random(seed)
    return [centre * (1 + draw.uniform(-spread, spread)) for _ in range(count)]


def test_the_interval_holds_the_ratio_and_narrows_with_more_rounds():
    few = ratio_interval(noisy(1.0, 0.1, 8, 1), noisy(1.2, 0.1, 8, 2))
    many = ratio_interval(noisy(1.0, 0.1, 80, 1), noisy(1.2, 0.1, 80, 2))
    for interval in (few, many):
        assert interval.low <= interval.value <= interval.high
    assert many.high - many.low < few.high - few.low


def test_a_verdict_needs_the_whole_interval():
    clear_cost = ratio_interval(noisy(1.0, 0.02, 15, 1), noisy(1.3, 0.02, 15, 2))
    no_cost = ratio_interval(noisy(1.0, 0.02, 15, 3), noisy(1.0, 0.02, 15, 4))
    assert verdict(clear_cost, 1.05) == MISSED
    assert verdict(no_cost, 1.05) == MET
    # Noise wider than the distance to the target: neither, whatever the point estimate.
    unsure = ratio_interval(noisy(1.0, 0.3, 6, 5), noisy(1.04, 0.3, 6, 6))
    assert verdict(unsure, 1.05) == UNDECIDED


def test_the_same_rounds_give_the_same_interval():
    base, ours = noisy(1.0, 0.1, 15, 7), noisy(1.1, 0.1, 15, 8)
    assert ratio_interval(base, ours) == ratio_interval(base, ours)


def test_an_undecided_figure_runs_more_rounds_up_to_the_cap():
    draw = random.Random(9)

    def round_() -> tuple[float, float]:  # a true ratio of 1.05: right on the target
        return 1.0 + draw.uniform(-0.2, 0.2), 1.05 + draw.uniform(-0.2, 0.2)

    _, said, rounds = decide(round_, 1.05, rounds=6, most_rounds=21, step=5)
    assert said == UNDECIDED and len(rounds) == 21
    decided, said, rounds = decide(lambda: (1.0, 1.0), 1.05, rounds=6, most_rounds=21)
    assert said == MET and len(rounds) == 6 and decided.value == 1.0


def test_a_figure_alone_is_decided_by_its_medians_interval():
    quick = median_interval(noisy(0.30, 0.1, 15, 10))
    slow = median_interval(noisy(0.60, 0.1, 15, 11))
    assert quick.low <= quick.value <= quick.high
    assert verdict(quick, 0.40) == MET and verdict(slow, 0.40) == MISSED
    draw = random.Random(12)
    _, said, launches = decide_median(
        lambda: 0.40 + draw.uniform(-0.1, 0.1), 0.40, samples=9, most_samples=19, step=5
    )
    assert said == UNDECIDED and len(launches) == 19
    decided, said, launches = decide_median(lambda: 0.3, 0.40, samples=9, most_samples=19)
    assert said == MET and len(launches) == 9 and decided.value == 0.3
