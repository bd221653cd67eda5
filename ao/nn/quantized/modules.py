"""Integer kernels: weights and activations are stored as int8/uint8 codes."""

from __future__ import annotations

from typing import List, Optional

from ao import _modules
from ao.nn.intrinsic import LinearReLU as FloatLinearReLU
from ao.quantization.observer import MinMaxObserver
from ao.quantization.quantize_funcs import dequantize, quantize_per_tensor


class Quantize(_modules.Module):
    def __init__(self, scale: float, zero_point: int) -> None:
        self.scale = scale
        self.zero_point = zero_point

    def forward(self, inputs: List[float]) -> List[float]:
        codes = quantize_per_tensor(inputs, self.scale, self.zero_point)
        return dequantize(codes, self.scale, self.zero_point)


class DeQuantize(_modules.Module):
    def forward(self, inputs: List[float]) -> List[float]:
        return list(inputs)


class Linear(_modules.Module):
    """Integer matrix product with an int32 accumulator and a float rescale.

    ``y = (s_x * s_w) * sum((q_x - z_x) * (q_w - z_w)) + b``
    """

    def __init__(self, weight_codes: List[List[int]], weight_scale: float, weight_zero_point: int,
                 bias: List[float], input_scale: float, input_zero_point: int) -> None:
        self.weight_codes = weight_codes
        self.weight_scale = weight_scale
        self.weight_zero_point = weight_zero_point
        self.bias = bias
        self.input_scale = input_scale
        self.input_zero_point = input_zero_point

    @classmethod
    def from_float(cls, module: _modules.Linear, input_range: Optional[List[float]] = None) -> "Linear":
        weight_observer = MinMaxObserver(dtype="qint8", symmetric=True)
        for row in module.weight:
            weight_observer(row)
        w_scale, w_zero = weight_observer.calculate_qparams()
        input_observer = MinMaxObserver()
        input_observer(input_range if input_range is not None else [-1.0, 1.0])
        x_scale, x_zero = input_observer.calculate_qparams()
        codes = [quantize_per_tensor(row, w_scale, w_zero, dtype="qint8") for row in module.weight]
        return cls(codes, w_scale, w_zero, list(module.bias), x_scale, x_zero)

    def forward(self, inputs: List[float]) -> List[float]:
        x_codes = quantize_per_tensor(inputs, self.input_scale, self.input_zero_point)
        outputs = []
        for row, bias in zip(self.weight_codes, self.bias):
            accumulator = 0
            for q_w, q_x in zip(row, x_codes):
                accumulator += (q_w - self.weight_zero_point) * (q_x - self.input_zero_point)
            outputs.append(accumulator * self.input_scale * self.weight_scale + bias)
        return outputs


class LinearReLU(Linear):
    @classmethod
    def from_float(cls, module: _modules.Linear, input_range: Optional[List[float]] = None) -> "Linear":
        if isinstance(module, FloatLinearReLU):
            module = module.linear
        return super().from_float(module, input_range)

    def forward(self, inputs: List[float]) -> List[float]:
        return [x if x > 0.0 else 0.0 for x in super().forward(inputs)]
