from __future__ import annotations

from typing import List

from ao import _modules
from ao.quantization.observer import MinMaxObserver


class ObservedLinear(_modules.Linear):
    """A float Linear that records the range of what it produces."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.activation_observer = MinMaxObserver()

    def forward(self, inputs: List[float]) -> List[float]:
        return self.activation_observer(super().forward(inputs))
