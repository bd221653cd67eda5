"""Fused float modules that quantize as one unit."""

from ao.nn.intrinsic.modules import LinearReLU

__all__ = ["LinearReLU"]
