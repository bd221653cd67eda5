"""``--format markdown``: GitHub-flavoured tables for ``$GITHUB_STEP_SUMMARY`` and pull-request comments.

Drawn from the typed report (a saved JSON document is read back into one first). Module names
and messages are untrusted: :func:`cell` escapes whatever Markdown or HTML could make of them
(mentions and autolinks included: a pull-request comment notifies no one the package names),
and long lists fold into ``<details>``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

from aoinspect.models import CheckReport, Failure, ListReport, ResolveReport, Snapshot, total_ms
from aoinspect.render import escape
from aoinspect.render.text import counted

if TYPE_CHECKING:
    from aoinspect.models import DeclaredName, Finding, ImportResult, ModuleLoad, Resolution
    from aoinspect.render import RenderOptions, Report

FOLD_AFTER = 10  # rows shown before a list folds into <details>

# The escapes of untrusted text live in aoinspect.render.escape, one per kind of output; these are
# Markdown's, under the names the Markdown renderers (markdown, trace's, diff's) use.
cell = escape.markdown_cell
code = escape.markdown_code
inline_html = escape.markdown_html
fenced = escape.markdown_fenced


def ms(value: object) -> str:
    return f"{value:.2f}" if isinstance(value, (int, float)) and not isinstance(value, bool) else "-"


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], right: Sequence[int] = ()) -> list[str]:
    """A GFM table; cells must already be escaped, headers are escaped here (``__getattr__`` would
    otherwise show as a bold "getattr"). Columns in ``right`` are right-aligned (numbers)."""
    lines = ["| " + " | ".join(cell(header) for header in headers) + " |",
             "| " + " | ".join("---:" if index in right else "---" for index in range(len(headers))) + " |"]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return lines


def details(summary: str, body: Sequence[str]) -> list[str]:
    """A folded block; ``summary`` is HTML (see :func:`inline_html`). GitHub needs the blank lines."""
    return ["<details>", f"<summary>{summary}</summary>", "", *body, "", "</details>"]


def folded(summary: str, lines: Sequence[str], fold_after: int = FOLD_AFTER) -> list[str]:
    """``lines`` under a bold title, or folded when there are many; ``summary`` is plain text."""
    if len(lines) > fold_after:
        return details(inline_html(summary), lines)
    return [f"**{cell(summary)}**", "", *lines]


def render_markdown(report: Report, options: RenderOptions) -> str:
    if not isinstance(report, (ListReport, ResolveReport, CheckReport, Snapshot, Failure)):
        raise TypeError(f"{type(report).__name__} has a Markdown renderer of its own (aoinspect.formats)")
    return markdown_report(report, top=options.top)


def markdown_document(document: Mapping[str, Any], top: int = 20) -> str:
    """The Markdown of a saved JSON document (read through ``aoinspect.documents``)."""
    from aoinspect.documents import decode

    return markdown_report(decode(document), top)


def markdown_report(report: ListReport | ResolveReport | CheckReport | Snapshot | Failure, top: int = 20) -> str:
    command = "failure" if isinstance(report, Failure) else _COMMANDS[type(report).__name__]
    shown = report.command if isinstance(report, Failure) else command
    verdict = "✅ ok" if report.ok else f"❌ failed (exit code {report.exit_code})"
    lines = [f"### aoinspect {cell(shown)} {code(report.package)}: {verdict}", ""]
    if isinstance(report, Failure):
        lines += [f"**{cell(report.kind)}**: {cell(report.message)}", ""]
        return "\n".join(lines).rstrip() + "\n"
    if isinstance(report, Snapshot):
        lines += _snapshot(report)
        return "\n".join(lines).rstrip() + "\n"
    if report.imported is not None:
        lines += _import_line(report.package, report.imported)
    if isinstance(report, CheckReport):
        lines += _findings(report.findings)
    if isinstance(report, ResolveReport):
        lines += _results(report.package, report.results, top)
    else:
        if report.names:
            lines += _names(report.names, report.resolutions)
        if isinstance(report, ListReport) and report.undeclared_submodules is not None:
            undeclared = report.undeclared_submodules
            listed = [f"- {code(name)}" for name in undeclared]
            lines += [*folded(f"Submodules no declaration exports ({len(undeclared)})", listed), ""]
    return "\n".join(lines).rstrip() + "\n"


_COMMANDS = {"ListReport": "list", "ResolveReport": "resolve", "CheckReport": "check", "Snapshot": "snapshot"}


def _import_line(package: str, imported: ImportResult) -> list[str]:
    loads = imported.materialized
    lines = [f"{code('import ' + package)}: {counted(len(loads), 'module')}, {ms(total_ms(loads))} ms importing "
             f"({ms(imported.elapsed_ms)} ms elapsed)", ""]
    # The warnings ``python -c "import PACKAGE"`` prints on stderr, as the text view shows them.
    shown = [f"- {cell(warning.category)}: {cell(warning.message)}"
             + (f" ({code(f'{warning.filename}:{warning.lineno}')})" if warning.filename is not None else "")
             for warning in imported.warnings]
    if shown:
        lines += ["Shown at import (on stderr):", "", *shown, ""]
    return lines


def _findings(findings: Sequence[Finding]) -> list[str]:
    if not findings:
        return ["No findings.", ""]
    rows = [(cell(finding.severity), code(finding.rule), code(finding.name) or "-", cell(finding.message))
            for finding in findings]
    return [*table(("severity", "rule", "name", "message"), rows), ""]


def _names(names: Sequence[DeclaredName], results: Sequence[Resolution] | None) -> list[str]:
    resolved = {result.name: result for result in results or ()}
    headers: tuple[str, ...] = ("name", "declared in", "submodule", "loaded at import")
    if resolved:
        headers += ("modules", "total ms")
    rows = []
    for name in names:
        row: tuple[str, ...] = (
            code(name.name), cell(", ".join(name.declared_in)),
            "yes" if name.submodule else "no", "yes" if name.loaded_at_import else "no",
        )
        if resolved:
            result = resolved.get(name.name)
            if result is None:
                row += ("-", "-")
            else:
                row += (str(len(result.materialized)), ms(total_ms(result.materialized)))
        rows.append(row)
    listed = table(headers, rows, right=(4, 5))
    return [*folded(f"Declared names ({len(names)})", listed, fold_after=FOLD_AFTER + 2), ""]


def _results(package: str, results: Sequence[Resolution], top: int) -> list[str]:
    rows = []
    for result in results:
        status = "ok" if result.ok else "failed"
        if result.error is not None:
            status += f": {result.error.type}: {result.error.message}"
        rows.append((code(f"{package}.{result.name}"), cell(status), "yes" if result.via_getattr else "no",
                     str(len(result.materialized)), ms(total_ms(result.materialized)), ms(result.elapsed_ms)))
    lines = [*table(("name", "result", "via __getattr__", "modules", "total ms", "elapsed ms"), rows,
                    right=(3, 4, 5)), ""]
    for result in results:
        loads = sorted(result.materialized, key=lambda load: (-load.cumulative_ms, load.module))
        if not loads:
            continue
        shown = loads if top <= 0 else loads[:top]
        heaviest = table(
            ("module", "self ms", "cumulative ms", "imported by", "distribution"),
            ((code(load.module), ms(load.self_ms), ms(load.cumulative_ms),
              code(load.parent) if load.parent else "(access)", _distribution(load)) for load in shown),
            right=(1, 2),
        )
        if len(shown) < len(loads):
            heaviest.append(f"\n… and {len(loads) - len(shown)} more (`--top 0` shows all)")
        summary = inline_html(f"{package}.{result.name}: {counted(len(loads), 'module')}, heaviest first")
        lines += [*details(summary, heaviest), ""]
    return lines


def _distribution(load: ModuleLoad) -> str:
    if load.stdlib:
        return "(stdlib)"
    return cell(load.distribution or "(local)")


def _snapshot(report: Snapshot) -> list[str]:
    package = report.package
    rows = [(code(f"import {package}"), str(len(report.imported)))]
    rows += [(code(f"{package}.{name}"), str(len(modules))) for name, modules in report.names]
    lines = [*table(("subject", "modules"), rows, right=(1,)), ""]
    lines += details(inline_html(f"import {package} ({len(report.imported)})"),
                     [f"- {code(module)}" for module in report.imported])
    for name, modules in report.names:
        listed = [f"- {code(module)}" for module in modules]
        lines += ["", *details(inline_html(f"{package}.{name} ({len(modules)})"), listed)]
    return lines
