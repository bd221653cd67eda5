"""Magnitude pruning; its parts are small, so they are imported eagerly."""

from ao.pruning.scheduler import CubicSL, LambdaSL
from ao.pruning.sparsifier import WeightNormSparsifier, magnitude_mask

__all__ = ["CubicSL", "LambdaSL", "WeightNormSparsifier", "magnitude_mask"]
