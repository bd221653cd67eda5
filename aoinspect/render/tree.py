"""``--format tree``: the import tree of each access, with self and cumulative times."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aoinspect.models import ResolveReport, total_ms
from aoinspect.render._tree import children_of, count_below

if TYPE_CHECKING:
    from aoinspect.models import ModuleLoad
    from aoinspect.render import RenderOptions, Report


def render_tree(report: Report, options: RenderOptions) -> str:
    if not isinstance(report, ResolveReport):
        raise TypeError("the tree format shows resolve reports")
    lines: list[str] = []
    for result in report.results:
        if lines:
            lines.append("")
        target = f"{report.package}.{result.name}"
        if result.probe_failed or result.error is not None:
            lines.append(f"{target}  failed: {result.error}")
        loads = result.materialized
        total = total_ms(loads)
        lines.append(f"{target}  {len(loads)} modules, {total:.2f} ms importing ({result.elapsed_ms:.2f} ms access)")
        lines.append(f"{'self ms':>9} {'cumul ms':>9}  module")
        children = children_of(loads)
        _walk(children, options.depth, lines)
    return "\n".join(lines)


def _walk(children: dict[str | None, list[ModuleLoad]], max_depth: int | None, lines: list[str]) -> None:
    """Draw the tree depth-first with an explicit stack: import chains can be thousands deep,
    beyond Python's recursion limit, and data from the child may even hold a cycle."""
    stack: list[tuple[ModuleLoad, str, int, bool]] = []

    def push_children(parent: str | None, prefix: str, level: int) -> None:
        kids = children.get(parent, [])
        # Reversed, so that the first child is popped, and drawn, first.
        for position in range(len(kids) - 1, -1, -1):
            stack.append((kids[position], prefix, level, position == len(kids) - 1))

    drawn: set[str] = set()
    push_children(None, "", 0)
    while stack:
        load, prefix, level, last = stack.pop()
        branch = "└─ " if last else "├─ "
        hidden = ""
        if max_depth is not None and level + 1 >= max_depth:
            below = count_below(load.module, children)
            hidden = f"  (+{below} below)" if below else ""
        lines.append(f"{load.self_ms:9.2f} {load.cumulative_ms:9.2f}  {prefix}{branch}{load.module}{hidden}")
        if load.module in drawn:
            continue
        drawn.add(load.module)
        if not hidden and (max_depth is None or level + 1 < max_depth):
            push_children(load.module, prefix + ("   " if last else "│  "), level + 1)
