"""``--format dot`` and ``--format mermaid``: the import graph, sorted so that output is
deterministic. An edge runs from the import that was running to the module it began."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aoinspect.models import ResolveReport

if TYPE_CHECKING:
    from aoinspect.render import RenderOptions, Report


def _edges(report: ResolveReport) -> list[tuple[str, list[str], list[tuple[str, str]]]]:
    """Per result: the access node's label, the modules, and the (importer, imported) edges."""
    graphs = []
    for result in report.results:
        access = f"{report.package}.{result.name} (access)"
        modules = sorted({load.module for load in result.materialized})
        known = set(modules)
        edges = sorted(
            (load.parent if load.parent in known else access, load.module) for load in result.materialized
        )
        graphs.append((access, modules, edges))
    return graphs


def _dot_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_dot(report: Report, options: RenderOptions) -> str:
    if not isinstance(report, ResolveReport):
        raise TypeError("the dot format shows resolve reports")
    lines = ["digraph imports {", "  rankdir=LR;", '  node [shape=box, fontname="Helvetica"];']
    for index, (access, modules, edges) in enumerate(_edges(report)):
        prefix = f"r{index}:"
        lines.append(f"  subgraph cluster_{index} {{")
        lines.append(f"    label={_dot_quote(access)};")
        lines.append(f"    {_dot_quote(prefix + access)} [label={_dot_quote(access)}, shape=ellipse];")
        lines.extend(f"    {_dot_quote(prefix + module)} [label={_dot_quote(module)}];" for module in modules)
        lines.extend(f"    {_dot_quote(prefix + source)} -> {_dot_quote(prefix + target)};" for source, target in edges)
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines)


def _mermaid_label(text: str) -> str:
    return '"' + text.replace('"', "#quot;") + '"'


def render_mermaid(report: Report, options: RenderOptions) -> str:
    if not isinstance(report, ResolveReport):
        raise TypeError("the mermaid format shows resolve reports")
    lines = ["flowchart LR"]
    for index, (access, modules, edges) in enumerate(_edges(report)):
        ids = {access: f"r{index}_access"}
        ids.update({module: f"r{index}_m{number}" for number, module in enumerate(modules)})
        lines.append(f"  subgraph r{index} [{_mermaid_label(access)}]")
        lines.append(f"    {ids[access]}([{_mermaid_label(access)}])")
        lines.extend(f"    {ids[module]}[{_mermaid_label(module)}]" for module in modules)
        lines.extend(f"    {ids[source]} --> {ids[target]}" for source, target in edges)
        lines.append("  end")
    return "\n".join(lines)
