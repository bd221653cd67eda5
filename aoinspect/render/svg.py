"""``--format svg``: a self-contained icicle chart of each access's import tree.

The top row is the access itself; each module is a box one row below the import that was
running when it began, as wide as its cumulative time. Names and times are in every box's
tooltip and written in the box where they fit. No script, font or stylesheet is fetched.
"""

from __future__ import annotations

import zlib
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape as _escape
from xml.sax.saxutils import quoteattr as _quoteattr

from aoinspect.models import ResolveReport, total_ms
from aoinspect.render import escape as untrusted
from aoinspect.render._tree import children_of

if TYPE_CHECKING:
    from aoinspect.models import ModuleLoad, Resolution
    from aoinspect.render import RenderOptions, Report

WIDTH = 1200.0
ROW = 20.0
CHAR_WIDTH = 6.6  # of the 11px monospace labels
MARGIN = 10.0
HEADING = 24.0


def render_svg(report: Report, options: RenderOptions) -> str:
    if not isinstance(report, ResolveReport):
        raise TypeError("the svg format shows resolve reports")
    parts: list[str] = []
    top = MARGIN
    for result in report.results:
        section, height = _section(report.package, result, top)
        parts.extend(section)
        top += height + MARGIN
    header = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH + 2 * MARGIN:g}" height="{top:g}" '
        f'viewBox="0 0 {WIDTH + 2 * MARGIN:g} {top:g}" font-family="monospace" font-size="11">'
    )
    style = (
        "<style>rect{stroke:#fff;stroke-width:0.5}text{pointer-events:none}"
        ".access{fill:#555}.heading{font-size:13px;font-weight:bold}</style>"
    )
    return "\n".join([header, style, *parts, "</svg>"])


def escape(text: str) -> str:
    """Element text: what XML cannot hold written out (``\\x00``), ``<`` and ``&`` escaped."""
    return _escape(untrusted.xml_text(text))


def quoteattr(text: str) -> str:
    return _quoteattr(untrusted.xml_text(text))


def _section(package: str, result: Resolution, top: float) -> tuple[list[str], float]:
    loads = result.materialized
    target = f"{package}.{result.name}"
    total = total_ms(loads)
    heading = f"{target}: {len(loads)} modules, {total:.2f} ms importing"
    if result.error is not None:
        heading += f" ({result.error.type})"
    parts = [f'<text class="heading" x="{MARGIN:g}" y="{top + 15:g}">{escape(heading)}</text>']
    row_top = top + HEADING
    parts.append(_box(MARGIN, row_top, WIDTH, target, f"{target}: {total:.2f} ms importing", "access", None))
    scale = WIDTH / total if total > 0 else 0.0
    children = children_of(loads)
    depth = 0
    stack: list[tuple[str | None, float, int]] = [(None, MARGIN, 1)]
    drawn: set[str | None] = set()  # each module's children once: data from the child may hold a cycle
    while stack:
        parent, x, level = stack.pop()
        if parent in drawn:
            continue
        drawn.add(parent)
        depth = max(depth, level)
        offset = x
        for load in children.get(parent, []):
            width = load.cumulative_ms * scale
            tooltip = f"{load.module}: self {load.self_ms:.3f} ms, cumulative {load.cumulative_ms:.3f} ms"
            if load.distribution:
                tooltip += f" ({load.distribution})"
            parts.append(_box(offset, row_top + level * ROW, width, load.module, tooltip, None, load))
            stack.append((load.module, offset, level + 1))
            offset += width
    return parts, HEADING + (depth + (1 if loads else 0)) * ROW


def _box(x: float, y: float, width: float, label: str, tooltip: str, css: str | None, load: ModuleLoad | None) -> str:
    attributes = f'x="{x:.3f}" y="{y:g}" width="{width:.3f}" height="{ROW - 1:g}"'
    if css:
        attributes += f' class="{css}"'
    else:
        attributes += f' fill="{_color(load)}"'
    if load is not None:
        attributes += (
            f" data-module={quoteattr(load.module)} data-cumulative-ms=\"{load.cumulative_ms}\""
            f' data-self-ms="{load.self_ms}" data-depth="{load.depth}"'
        )
    text = ""
    fits = int((width - 4) // CHAR_WIDTH)
    if fits >= 4:
        shown = label if len(label) <= fits else label[: fits - 1] + "…"
        fill = "#fff" if css else "#000"
        text = f'<text x="{x + 2:.3f}" y="{y + ROW - 6:g}" fill="{fill}">{escape(shown)}</text>'
    return f"<g><title>{escape(tooltip)}</title><rect {attributes}/>{text}</g>"


def _color(load: ModuleLoad | None) -> str:
    if load is None or load.stdlib:
        return "#c8c8c8"
    # One hue per subpackage (ao.nn, ao.quantization, numpy.linalg, ...), lighter with depth.
    seed = ".".join(load.module.split(".")[:2])
    hue = zlib.crc32(seed.encode("utf-8", "surrogatepass")) % 360
    return f"hsl({hue},60%,{min(62 + 4 * load.depth, 86)}%)"
