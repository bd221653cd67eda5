"""One pure renderer per format: each takes a report and returns the text to print."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Union

from aoinspect.records import Record, set_field
from aoinspect.render import escape

if TYPE_CHECKING:
    from aoinspect.diff import Diff
    from aoinspect.models import CheckReport, Failure, ListReport, ResolveReport, Snapshot
    from aoinspect.models.advise import AdviseReport
    from aoinspect.models.graph import ImportGraph
    from aoinspect.models.trace import TraceReport

    Report = Union[ListReport, ResolveReport, CheckReport, Snapshot, Failure, TraceReport, Diff, ImportGraph,
                   AdviseReport]

class RenderOptions(Record):
    """How a report is shown; none of it changes what was measured."""

    color: bool = False
    top: int = 20  # heaviest modules in the text table; 0 shows all
    sort: str = "cumulative"
    depth: int | None = None  # tree: deepest level shown; None shows all
    width: int = 100  # text: the terminal's width; long messages wrap, long names are shortened
    focus: str | None = None  # trace: only the loads of this package's modules
    why: str | None = None  # trace: the chain from the program's line to this module
    lazy_keyword: bool = False  # advise's patch: `lazy import` statements instead of __lazy_modules__

    def __init__(
        self, color: bool = False, top: int = 20, sort: str = "cumulative", depth: int | None = None, width: int = 100,
        focus: str | None = None, why: str | None = None, lazy_keyword: bool = False,
    ) -> None:
        _set = set_field
        _set(self, "color", color)
        _set(self, "top", top)
        _set(self, "sort", sort)
        _set(self, "depth", depth)
        _set(self, "width", width)
        _set(self, "focus", focus)
        _set(self, "why", why)
        _set(self, "lazy_keyword", lazy_keyword)


def counted(number: int, noun: str) -> str:
    """``1 module``, ``2 modules``: every renderer counts the same way."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def render(report: Report, fmt: str, options: RenderOptions | None = None) -> str:
    """Render a typed report in ``fmt``: the registry (``aoinspect.formats``) says which renderer,
    and only that one is imported."""
    import importlib

    from aoinspect import formats

    if fmt not in formats.FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    kind = formats.kind_of(report)
    if kind != "failure" and kind not in formats.FORMATS[fmt].kinds:
        raise ValueError(f"{kind} prints {', '.join(formats.names_for(kind))}, not {fmt}")
    module, _, function = formats.FORMATS[fmt].renderer(kind).partition(":")
    renderer: Callable[[Report, RenderOptions], str] = getattr(importlib.import_module(module), function)
    # Whatever the package put in its names and messages, the output carries no command to a CI
    # runner, and only valid Unicode (aoinspect.render.escape says how, format by format).
    return escape.output(fmt, renderer(report, options or RenderOptions()))
