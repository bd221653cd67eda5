"""Observers record the range of values and turn it into quantization parameters."""

from __future__ import annotations

import math
from typing import Iterable, List, Tuple

DTYPE_RANGES = {"quint8": (0, 255), "qint8": (-128, 127)}


def calculate_qparams(min_val: float, max_val: float, dtype: str = "quint8",
                      symmetric: bool = False) -> Tuple[float, int]:
    """Scale and zero-point that map ``[min_val, max_val]`` (widened to hold 0) onto ``dtype``."""
    quant_min, quant_max = DTYPE_RANGES[dtype]
    min_val, max_val = min(min_val, 0.0), max(max_val, 0.0)
    if symmetric:
        bound = max(-min_val, max_val)
        scale = (2 * bound) / (quant_max - quant_min) if bound > 0 else 1.0
        zero_point = 0 if dtype == "qint8" else (quant_min + quant_max + 1) // 2
        return scale, zero_point
    if max_val == min_val:
        return 1.0, quant_min if min_val >= 0 else quant_max
    scale = (max_val - min_val) / (quant_max - quant_min)
    zero_point = quant_min - round(min_val / scale)
    return scale, max(quant_min, min(quant_max, zero_point))


class ObserverBase:
    def __init__(self, dtype: str = "quint8", symmetric: bool = False) -> None:
        self.dtype = dtype
        self.symmetric = symmetric

    def __call__(self, values: List[float]) -> List[float]:
        self.observe(values)
        return values

    def observe(self, values: Iterable[float]) -> None:
        raise NotImplementedError

    def calculate_qparams(self) -> Tuple[float, int]:
        raise NotImplementedError


class MinMaxObserver(ObserverBase):
    """Tracks the running minimum and maximum of everything it sees."""

    def __init__(self, dtype: str = "quint8", symmetric: bool = False) -> None:
        super().__init__(dtype, symmetric)
        self.min_val = math.inf
        self.max_val = -math.inf

    def observe(self, values: Iterable[float]) -> None:
        for value in values:
            self.min_val = min(self.min_val, value)
            self.max_val = max(self.max_val, value)

    def calculate_qparams(self) -> Tuple[float, int]:
        if self.min_val > self.max_val:
            raise RuntimeError("observer has seen no values")
        return calculate_qparams(self.min_val, self.max_val, self.dtype, self.symmetric)
