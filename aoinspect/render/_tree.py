"""The import tree as the graph renderers walk it: each module under the import that was
running when it began, roots under the attribute access itself."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from aoinspect.models import ModuleLoad


def children_of(loads: Sequence[ModuleLoad]) -> dict[str | None, list[ModuleLoad]]:
    """Parent module name (None: the access) to its children, in the order imports began."""
    known = {load.module for load in loads}
    children: dict[str | None, list[ModuleLoad]] = {}
    for load in loads:
        parent = load.parent if load.parent in known else None
        children.setdefault(parent, []).append(load)
    return children


def count_below(module: str | None, children: dict[str | None, list[ModuleLoad]]) -> int:
    stack = list(children.get(module, ()))
    seen: set[str] = set()
    count = 0
    while stack:
        load = stack.pop()
        count += 1
        if load.module not in seen:  # a cycle in the child's data must not loop forever
            seen.add(load.module)
            stack.extend(children.get(load.module, ()))
    return count
