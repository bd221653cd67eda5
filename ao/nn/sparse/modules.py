from __future__ import annotations

from typing import List

from ao import _modules


class SparseLinear(_modules.Linear):
    """A Linear that stores only the non-zero weights of each row."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.nonzero = [[(j, w) for j, w in enumerate(row) if w != 0.0] for row in self.weight]

    @property
    def density(self) -> float:
        total = sum(len(row) for row in self.weight)
        return sum(len(row) for row in self.nonzero) / total if total else 0.0

    def forward(self, inputs: List[float]) -> List[float]:
        return [sum(w * inputs[j] for j, w in row) + b for row, b in zip(self.nonzero, self.bias)]
