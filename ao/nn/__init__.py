"""Quantization-aware module families, each imported on first access."""

from typing import TYPE_CHECKING as _TYPE_CHECKING

if _TYPE_CHECKING:
    from types import ModuleType

    from ao.nn import (
        intrinsic as intrinsic,
    )
    from ao.nn import (
        qat as qat,
    )
    from ao.nn import (
        quantizable as quantizable,
    )
    from ao.nn import (
        quantized as quantized,
    )
    from ao.nn import (
        sparse as sparse,
    )

__all__ = ["intrinsic", "qat", "quantizable", "quantized", "sparse"]


def __getattr__(name: str) -> "ModuleType":
    if name in __all__:
        import importlib

        return importlib.import_module("." + name, __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
