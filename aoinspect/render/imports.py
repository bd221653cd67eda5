"""``aoinspect graph``'s text: every import request the entry made, grouped by the module whose
import body made it, in the order those modules were loaded. json is the shared renderer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aoinspect.models.graph import is_stdlib
from aoinspect.render.text import counted

if TYPE_CHECKING:
    from aoinspect.models.graph import ImportGraph, ImportRequest
    from aoinspect.render import RenderOptions

NS_PER_MS = 1e6
SCOPE_NOTES = {"function": " [in a function]", "class": " [in a class body]", "native": " [from native code]"}


def shown_path(graph: ImportGraph, file: str | None) -> str:
    """Paths below the working directory the graph was recorded in are shown relative to it."""
    if file is None:
        return "(native code)"
    prefix = graph.cwd.rstrip("/") + "/"
    return file[len(prefix):] if graph.cwd and file.startswith(prefix) else file


def location(graph: ImportGraph, request: ImportRequest) -> str:
    return f"{shown_path(graph, request.file)}:{request.line}" if request.file is not None else "(native code)"


def outcome(request: ImportRequest) -> str:
    if request.failed:
        text = "failed"
    elif request.loaded:
        text = f"loaded {len(request.loaded)} module(s): {', '.join(request.loaded)}"
    else:
        text = "hit"
    if request.count > 1:
        text += f" (made {request.count} times)"
    return text + (" (stdlib)" if is_stdlib(request.target) else "")


def render_text(graph: ImportGraph, options: RenderOptions) -> str:
    del options  # one view: every request, grouped by owner
    hits = sum(1 for request in graph.requests if request.hit)
    other_means = [module for module in graph.modules if module.by_other_means]
    lines = [
        f"aoinspect graph: {graph.entry} (Python {graph.python})",
        f"{counted(len(graph.requests), 'import request')} ({hits} hits), {counted(len(graph.modules), 'module')} "
        f"loaded ({len(other_means)} by other means) in {graph.elapsed_ns / NS_PER_MS:.1f} ms",
    ]
    if graph.ending == "timeout":
        lines.append(f"stopped: the entry was {graph.error}; the graph shows what it had done by then")
    elif graph.error is not None:
        lines.append(f"the entry ended with {graph.error}")
    by_owner: dict[str | None, list[ImportRequest]] = {}
    for request in graph.requests:
        by_owner.setdefault(request.owner, []).append(request)
    files = {module.name: module.file for module in graph.modules}
    # Owners in the order their imports began (the request that loaded each), the entry first.
    began = {module.name: module.loaded_by for module in graph.modules if module.loaded_by is not None}
    owners = sorted((owner for owner in by_owner if owner is not None),
                    key=lambda owner: (began.get(owner, len(graph.requests)), owner))
    stdlib_owners = [owner for owner in owners if is_stdlib(owner)]
    for owner in [None, *(owner for owner in owners if not is_stdlib(owner))]:
        requests = by_owner.get(owner)
        if not requests:
            continue
        lines.append("")
        lines.append("(the entry)" if owner is None else f"{owner}  {shown_path(graph, files.get(owner))}")
        for request in requests:
            lines.append(f"  {location(graph, request)}  {request.statement}"
                         f"{SCOPE_NOTES.get(request.scope, '')}  {outcome(request)}")
    if stdlib_owners:
        made = sum(len(by_owner[owner]) for owner in stdlib_owners)
        lines.append("")
        lines.append(f"and {counted(made, 'request')} made by {counted(len(stdlib_owners), 'module')} of the "
                     "standard library (stdlib)")
    if other_means:
        lines.append("")
        lines.append("appeared by other means (not imported by name):")
        for module in other_means:
            made_by = (f"while request {module.loaded_by} ran" if module.loaded_by is not None
                       else f"while {module.owner} was loading" if module.owner else "by the entry")
            lines.append(f"  {module.name}  {made_by}" + (" (stdlib)" if is_stdlib(module.name) else ""))
    return "\n".join(lines)
