"""One pure renderer per format: each takes a report and returns the text to print."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Union

if TYPE_CHECKING:
    from aoinspect.models import CheckReport, Failure, ListReport, ResolveReport

    Report = Union[ListReport, ResolveReport, CheckReport, Failure]

FORMATS = ("text", "json")


def render(report: Report, fmt: str, *, color: bool = False) -> str:
    """Dispatch to the renderer of ``fmt``; renderers are imported only when used."""
    renderer: Callable[..., str]
    if fmt == "json":
        from aoinspect.render.json import render_json as renderer
    elif fmt == "text":
        from aoinspect.render.text import render_text as renderer
    else:
        raise ValueError(f"unknown format {fmt!r}")
    return renderer(report, color=color)
