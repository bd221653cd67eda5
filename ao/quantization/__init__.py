"""Post-training quantization: observe ranges, pick scale/zero-point, swap modules."""

from ao.quantization.mappings import get_default_static_quant_module_mappings
from ao.quantization.observer import MinMaxObserver, ObserverBase, calculate_qparams
from ao.quantization.qconfig import QConfig, default_qconfig
from ao.quantization.quantize import convert, prepare
from ao.quantization.quantize_funcs import dequantize, fake_quantize, quantize_per_tensor

__all__ = [
    "MinMaxObserver",
    "ObserverBase",
    "QConfig",
    "calculate_qparams",
    "convert",
    "default_qconfig",
    "dequantize",
    "fake_quantize",
    "get_default_static_quant_module_mappings",
    "prepare",
    "quantize_per_tensor",
]
