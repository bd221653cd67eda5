"""Per-tensor affine quantization on lists of floats."""

from __future__ import annotations

from typing import List, Sequence

from ao.quantization.observer import DTYPE_RANGES


def quantize_per_tensor(values: Sequence[float], scale: float, zero_point: int,
                        dtype: str = "quint8") -> List[int]:
    """``q = clamp(round(x / scale) + zero_point)`` for each value."""
    if scale <= 0:
        raise ValueError("scale must be positive")
    quant_min, quant_max = DTYPE_RANGES[dtype]
    return [max(quant_min, min(quant_max, round(x / scale) + zero_point)) for x in values]


def dequantize(codes: Sequence[int], scale: float, zero_point: int) -> List[float]:
    """``x = (q - zero_point) * scale`` for each code."""
    return [(q - zero_point) * scale for q in codes]


def fake_quantize(values: Sequence[float], scale: float, zero_point: int,
                  dtype: str = "quint8") -> List[float]:
    """Quantize and dequantize again: floats that carry the quantization error."""
    return dequantize(quantize_per_tensor(values, scale, zero_point, dtype), scale, zero_point)
