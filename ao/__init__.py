"""A small lazy package built the way PyTorch builds ``torch.ao``.

The subpackages depend on each other (``quantization`` maps float modules to
``nn.quantized`` ones, ``ns`` compares against ``quantization``), so they are
imported on first attribute access instead of here: that avoids import cycles
and keeps ``import ao`` cheap.
"""

from typing import TYPE_CHECKING as _TYPE_CHECKING

if _TYPE_CHECKING:
    from types import ModuleType

    from ao import nn as nn
    from ao import ns as ns
    from ao import pruning as pruning
    from ao import quantization as quantization

__all__ = ["nn", "ns", "pruning", "quantization"]


def __getattr__(name: str) -> "ModuleType":
    if name in __all__:
        import importlib

        return importlib.import_module("." + name, __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
