"""Typed, frozen results built from what the probes report. Renderers only read these.

Every model is named here (``from aoinspect.models import CheckReport``), but defined in a module
of its own kind and imported on first use: ``aoinspect trace`` needs only ``ModuleLoad``
(``models.loads``) and ``models.trace``, not the records of every other report
(``models.core``). Each is an ``aoinspect.records.Record``: a frozen dataclass's behaviour with
its ``__init__`` written out, so that defining it generates no code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aoinspect.models.core import (
        DECLARED_IN_ALL,
        DECLARED_IN_DIR,
        DECLARED_IN_GETATTR,
        DECLARED_IN_LAZY_MODULES,
        DECLARED_IN_STUB,
        DECLARED_IN_TYPE_CHECKING,
        GETATTR_MECHANISMS,
        MECHANISM_LABELS,
        NO_DISTRIBUTIONS,
        AllDeclaration,
        Budget,
        CheckOptions,
        CheckReport,
        Declarations,
        DeclaredName,
        Distributions,
        DistributionShare,
        ErrorInfo,
        Failure,
        Finding,
        ImportResult,
        Isolation,
        ListReport,
        ModuleNames,
        ObjectInfo,
        PackageInfo,
        Resolution,
        ResolveReport,
        Snapshot,
        Step,
        WarningInfo,
    )
    from aoinspect.models.loads import (
        ModuleLoad,
        import_chain,
        total_ms,
    )

__all__ = [
    "DECLARED_IN_ALL",
    "DECLARED_IN_DIR",
    "DECLARED_IN_GETATTR",
    "DECLARED_IN_LAZY_MODULES",
    "DECLARED_IN_STUB",
    "DECLARED_IN_TYPE_CHECKING",
    "GETATTR_MECHANISMS",
    "MECHANISM_LABELS",
    "NO_DISTRIBUTIONS",
    "AllDeclaration",
    "Budget",
    "CheckOptions",
    "CheckReport",
    "Declarations",
    "DeclaredName",
    "DistributionShare",
    "Distributions",
    "ErrorInfo",
    "Failure",
    "Finding",
    "ImportResult",
    "Isolation",
    "ListReport",
    "ModuleLoad",
    "ModuleNames",
    "ObjectInfo",
    "PackageInfo",
    "Resolution",
    "ResolveReport",
    "Snapshot",
    "Step",
    "WarningInfo",
    "import_chain",
    "total_ms",
]

_IN_LOADS = frozenset(("ModuleLoad", "import_chain", "total_ms"))
_LAZY = frozenset(__all__)


def __getattr__(name: str) -> object:
    """A model, from the module that defines it (imported now if it was not)."""
    if name not in _LAZY:  # an unknown name imports nothing (check's rejection-side-effect rule)
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    module = importlib.import_module("aoinspect.models.loads" if name in _IN_LOADS else "aoinspect.models.core")
    try:
        value = getattr(module, name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The lazy models too, so that completion and introspection see them (check's missing-dir)."""
    return sorted(set(globals()) | _LAZY)
