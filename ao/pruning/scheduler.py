"""Sparsity schedules: how the target sparsity grows over training steps."""

from __future__ import annotations

from typing import Callable

from ao.pruning.sparsifier import WeightNormSparsifier


class LambdaSL:
    def __init__(self, sparsifier: WeightNormSparsifier, schedule: Callable[[int], float]) -> None:
        self.sparsifier = sparsifier
        self.schedule = schedule
        self.step_count = 0

    def step(self) -> float:
        self.step_count += 1
        self.sparsifier.sparsity_level = self.schedule(self.step_count)
        return self.sparsifier.sparsity_level


class CubicSL(LambdaSL):
    """Zhu & Gupta's cubic schedule from ``initial`` to ``final`` over ``total_steps``."""

    def __init__(self, sparsifier: WeightNormSparsifier, initial: float = 0.0, final: float = 0.9,
                 total_steps: int = 100) -> None:
        def cubic(step: int) -> float:
            progress = min(step, total_steps) / total_steps
            return final + (initial - final) * (1.0 - progress) ** 3

        super().__init__(sparsifier, cubic)
