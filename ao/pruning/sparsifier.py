"""Zero the smallest-magnitude weights of a Linear."""

from __future__ import annotations

from typing import List

from ao import _modules


def magnitude_mask(weights: List[float], sparsity: float) -> List[bool]:
    """``True`` for the weights to keep: all but the ``sparsity`` fraction smallest in magnitude."""
    if not 0.0 <= sparsity <= 1.0:
        raise ValueError("sparsity must be between 0 and 1")
    count = round(len(weights) * sparsity)
    order = sorted(range(len(weights)), key=lambda i: (abs(weights[i]), i))
    pruned = set(order[:count])
    return [i not in pruned for i in range(len(weights))]


class WeightNormSparsifier:
    def __init__(self, sparsity_level: float = 0.5) -> None:
        self.sparsity_level = sparsity_level

    def step(self, module: _modules.Linear) -> None:
        """Prune each row of ``module.weight`` in place to the current sparsity level."""
        for row in module.weight:
            for index, keep in enumerate(magnitude_mask(row, self.sparsity_level)):
                if not keep:
                    row[index] = 0.0
