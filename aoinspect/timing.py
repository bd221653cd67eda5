"""The timing harness of ``advise``: what deferring a set of import statements saves, measured in
fresh children interleaved with the undeferred import, within a budget.

Each round runs one undeferred child, then one deferred child per candidate (the order of the
candidates turns every round, so that no candidate always runs just after the undeferred one).
A candidate's saving is the median of its per-round differences (undeferred minus deferred, in
the same round, so that a slow moment of the machine hits both), its spread half the
interquartile range of those differences; the two cannot be told apart ("within noise") when the
median is within the interquartile range, or with fewer than three rounds. Candidates are measured in the
order given (the caller puts the largest module savings first); those the budget leaves no room
for are not measured. Pure but for ``run`` and ``clock``: tests hand it fakes.
"""

from __future__ import annotations

import statistics
from typing import TYPE_CHECKING, Callable, Generic, Hashable, TypeVar

from aoinspect.models.advise import Timing

if TYPE_CHECKING:
    from collections.abc import Sequence

K = TypeVar("K", bound=Hashable)

ROUNDS = 5  # enough for a median and a quartile spread; the budget decides how many candidates
MIN_ROUNDS = 3


class Harness(Generic[K]):
    """Times candidates (a key and what ``run`` takes) against the undeferred import (``run(None)``)."""

    def __init__(self, run: Callable[[object | None], float], clock: Callable[[], float],
                 rounds: int = ROUNDS) -> None:
        self.run = run  # what ``run`` takes -> the import's elapsed milliseconds, in a fresh child
        self.clock = clock  # seconds, monotonic: the budget is wall time, children's start-up included
        self.rounds = max(rounds, MIN_ROUNDS)

    def measure(self, candidates: Sequence[tuple[K, object]], budget_s: float) -> dict[K, Timing]:
        """The timings of as many ``candidates`` as ``budget_s`` seconds allow, first ones first."""
        if budget_s <= 0 or not candidates:
            return {}
        started = self.clock()
        first = self.run(None)  # how long one child takes, start-up included, decides how many fit
        per_child = max(self.clock() - started, 1e-6)
        room = int((budget_s - per_child) / (per_child * self.rounds)) - 1  # minus the undeferred child per round
        chosen = list(candidates[: max(room, 0)])
        if not chosen:
            return {}
        undeferred: list[float] = [first]
        deferred: dict[K, list[float]] = {key: [] for key, _ in chosen}
        for round_number in range(self.rounds):
            if round_number:
                undeferred.append(self.run(None))
            turn = round_number % len(chosen)
            for key, statements in chosen[turn:] + chosen[:turn]:
                deferred[key].append(self.run(statements))
            if self.clock() - started > budget_s * 1.5 and round_number + 1 >= MIN_ROUNDS:
                break  # the children got slower than the first one promised: keep what is measured
        return {key: timing(undeferred[: len(times)], times) for key, times in deferred.items()}


def timing(undeferred: Sequence[float], deferred: Sequence[float]) -> Timing:
    """The saving of paired rounds: median difference, half the interquartile range of the differences."""
    differences = [before - after for before, after in zip(undeferred, deferred)]
    saved = statistics.median(differences)
    if len(differences) >= 2:
        quartiles = statistics.quantiles(differences, n=4, method="inclusive")
        spread = (quartiles[2] - quartiles[0]) / 2
    else:
        spread = 0.0
    return Timing(round(saved, 3), round(spread, 3), round(statistics.median(undeferred), 3),
                  round(statistics.median(deferred), 3), len(differences))
