"""Quantized modules that compute with integers."""

from ao.nn.quantized.modules import DeQuantize, Linear, LinearReLU, Quantize

__all__ = ["DeQuantize", "Linear", "LinearReLU", "Quantize"]
