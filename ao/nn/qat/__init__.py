"""Quantization-aware training: float modules that simulate quantization."""

from ao.nn.qat.modules import Linear

__all__ = ["Linear"]
