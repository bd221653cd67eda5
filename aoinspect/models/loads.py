"""The one typed record every report holds, a module placed in the import tree, apart from the
other models: ``aoinspect trace`` needs it and nothing else of ``aoinspect.models.core``."""

from __future__ import annotations

from typing import Sequence

from aoinspect.records import Record, set_field


class ModuleLoad(Record):
    """One module that appeared in ``sys.modules``, placed in the import tree.

    With ``--repeat`` the times are medians over the repeats and ``min_*`` the minimums;
    otherwise both are the single measurement.
    """

    module: str
    parent: str | None
    depth: int
    self_ms: float
    cumulative_ms: float
    min_self_ms: float = 0.0
    min_cumulative_ms: float = 0.0
    distribution: str | None = None  # the installed distribution that provides it
    stdlib: bool = False
    generated: bool = False  # made at run time, not read from a file: __mp_main__, cython_runtime

    def __init__(
        self, module: str, parent: str | None, depth: int, self_ms: float, cumulative_ms: float,
        min_self_ms: float = 0.0, min_cumulative_ms: float = 0.0, distribution: str | None = None, stdlib: bool = False,
        generated: bool = False,
    ) -> None:
        _set = set_field
        _set(self, "module", module)
        _set(self, "parent", parent)
        _set(self, "depth", depth)
        _set(self, "self_ms", self_ms)
        _set(self, "cumulative_ms", cumulative_ms)
        _set(self, "min_self_ms", min_self_ms)
        _set(self, "min_cumulative_ms", min_cumulative_ms)
        _set(self, "distribution", distribution)
        _set(self, "stdlib", stdlib)
        _set(self, "generated", generated)


def import_chain(loads: Sequence[ModuleLoad], module: str) -> list[str]:
    """The importers that led to ``module``, outermost first, ending with ``module``."""
    parents = {load.module: load.parent for load in loads}
    path = [module]
    while parents.get(path[-1]) is not None and len(path) <= len(parents):
        path.append(parents[path[-1]])  # type: ignore[arg-type]
    return list(reversed(path))


def total_ms(loads: tuple[ModuleLoad, ...]) -> float:
    """Time spent importing: the cumulative times of the top-level imports of a step."""
    return round(sum(load.cumulative_ms for load in loads if load.depth == 0), 4)
