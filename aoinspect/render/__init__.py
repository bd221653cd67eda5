"""One pure renderer per format: each takes a report and returns the text to print."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Union

if TYPE_CHECKING:
    from aoinspect.models import CheckReport, Failure, ListReport, ResolveReport, Snapshot
    from aoinspect.tracing.models import TraceReport

    Report = Union[ListReport, ResolveReport, CheckReport, Snapshot, Failure]

@dataclass(frozen=True)
class RenderOptions:
    """How a report is shown; none of it changes what was measured."""

    color: bool = False
    top: int = 20  # heaviest modules in the text table; 0 shows all
    sort: str = "cumulative"
    depth: int | None = None  # tree: deepest level shown; None shows all
    width: int = 100  # text: the terminal's width; long messages wrap, long names are shortened
    focus: str | None = None  # trace: only the loads of this package's modules
    why: str | None = None  # trace: the chain from the program's line to this module


def render(report: Report | TraceReport, fmt: str, options: RenderOptions | None = None) -> str:
    """Dispatch to the renderer of ``fmt``; renderers are imported only when used."""
    from aoinspect.tracing.models import TraceReport

    if isinstance(report, TraceReport):  # aoinspect trace's report has renderers of its own
        from aoinspect.render.trace import render_trace

        return render_trace(report, fmt, options or RenderOptions())
    renderer: Callable[[Report, RenderOptions], str]
    if fmt == "json":
        from aoinspect.render.json import render_json as renderer
    elif fmt == "text":
        from aoinspect.render.text import render_text as renderer
    elif fmt == "tree":
        from aoinspect.render.tree import render_tree as renderer
    elif fmt == "dot":
        from aoinspect.render.graph import render_dot as renderer
    elif fmt == "mermaid":
        from aoinspect.render.graph import render_mermaid as renderer
    elif fmt == "svg":
        from aoinspect.render.svg import render_svg as renderer
    elif fmt == "junit":
        from aoinspect.render.junit import render_junit as renderer
    # Reports for people and CI bots (issue 16).
    elif fmt == "html":
        from aoinspect.render.html import render_html as renderer
    elif fmt == "markdown":
        from aoinspect.render.markdown import render_markdown as renderer
    elif fmt == "github":
        from aoinspect.render.annotations import render_github as renderer
    elif fmt == "sarif":
        from aoinspect.render.annotations import render_sarif as renderer
    else:
        raise ValueError(f"unknown format {fmt!r}")
    return printable(renderer(report, options or RenderOptions()))


def printable(text: str) -> str:
    """``text`` with lone surrogates written out as ``\\udXXX``: the package can put them in any
    message or name, and no output stream can encode them."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text
