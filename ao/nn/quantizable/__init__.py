"""Float modules with observation points, ready to be converted."""

from ao.nn.quantizable.modules import ObservedLinear

__all__ = ["ObservedLinear"]
