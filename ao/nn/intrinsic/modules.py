from __future__ import annotations

from typing import List

from ao._modules import Linear, Module, ReLU


class LinearReLU(Module):
    """A Linear followed by a ReLU, fused so that one quantized kernel serves both."""

    def __init__(self, linear: Linear, relu: ReLU | None = None) -> None:
        self.linear = linear
        self.relu = relu or ReLU()

    def forward(self, inputs: List[float]) -> List[float]:
        return self.relu(self.linear(inputs))
