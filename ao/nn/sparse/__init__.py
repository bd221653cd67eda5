"""Sparse modules: skip the zeros a pruned weight leaves behind."""

from ao.nn.sparse.modules import SparseLinear

__all__ = ["SparseLinear"]
