"""Float reference modules: what the quantization flow starts from."""

from __future__ import annotations

from typing import List, Optional, Sequence


class Module:
    """Base class: a callable with a name for reports."""

    def forward(self, inputs: List[float]) -> List[float]:
        raise NotImplementedError

    def __call__(self, inputs: List[float]) -> List[float]:
        return self.forward(inputs)


class Linear(Module):
    """``y = W x + b`` on plain lists of floats."""

    def __init__(self, weight: Sequence[Sequence[float]], bias: Optional[Sequence[float]] = None) -> None:
        self.weight = [list(row) for row in weight]
        self.bias = list(bias) if bias is not None else [0.0] * len(self.weight)
        if len(self.bias) != len(self.weight):
            raise ValueError("bias length must equal the number of output features")

    @property
    def in_features(self) -> int:
        return len(self.weight[0]) if self.weight else 0

    @property
    def out_features(self) -> int:
        return len(self.weight)

    def forward(self, inputs: List[float]) -> List[float]:
        if len(inputs) != self.in_features:
            raise ValueError(f"expected {self.in_features} inputs, got {len(inputs)}")
        return [sum(w * x for w, x in zip(row, inputs)) + b for row, b in zip(self.weight, self.bias)]


class ReLU(Module):
    def forward(self, inputs: List[float]) -> List[float]:
        return [x if x > 0.0 else 0.0 for x in inputs]


class Sequential(Module):
    def __init__(self, *modules: Module) -> None:
        self.modules = list(modules)

    def forward(self, inputs: List[float]) -> List[float]:
        for module in self.modules:
            inputs = module(inputs)
        return inputs
