"""Numeric suite: how far a quantized model's outputs drift from the float model's."""

from __future__ import annotations

import math
from typing import Dict, List, Sequence

from ao import _modules
from ao.quantization import convert, prepare


def sqnr(reference: Sequence[float], approximation: Sequence[float]) -> float:
    """Signal-to-quantization-noise ratio in decibels; ``inf`` when they are equal."""
    if len(reference) != len(approximation):
        raise ValueError("sequences must have the same length")
    signal = sum(x * x for x in reference)
    noise = sum((x - y) ** 2 for x, y in zip(reference, approximation))
    if noise == 0.0:
        return math.inf
    if signal == 0.0:
        return -math.inf
    return 10.0 * math.log10(signal / noise)


def compare_model_outputs(float_model: _modules.Module, calibration: List[List[float]],
                          inputs: List[float]) -> Dict[str, object]:
    """Quantize ``float_model`` with ``calibration`` data and compare both on ``inputs``."""
    prepared = prepare(float_model)
    for batch in calibration:
        prepared(batch)
    quantized = convert(prepared)
    float_out = float_model(inputs)
    quant_out = quantized(inputs)
    return {"float": float_out, "quantized": quant_out, "sqnr": sqnr(float_out, quant_out)}
