"""``--format markdown``: GitHub-flavoured tables for ``$GITHUB_STEP_SUMMARY`` and pull-request comments.

Drawn from the JSON document, like the HTML page, so every command (and later ones) reads the
same data. Module names and messages are untrusted: :func:`cell` escapes whatever Markdown or
HTML could make of them, and long lists fold into ``<details>``.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

if TYPE_CHECKING:
    from aoinspect.render import RenderOptions, Report

FOLD_AFTER = 10  # rows shown before a list folds into <details>
# What could start emphasis, code, a link or HTML, or end a table cell, anywhere in a line. ("(" only
# matters after "]", "#", "+" and "-" only at the start of a line, which a cell never is.)
_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")
_NEWLINES = re.compile(r"\r\n|\r|\n")


def cell(value: object) -> str:
    """Text for one table cell or line: Markdown punctuation escaped, ``&`` as an entity, newlines as <br>."""
    text = "" if value is None else str(value)
    text = _SPECIAL.sub(r"\\\1", text.replace("&", "&amp;"))
    return _NEWLINES.sub("<br>", text)


def code(value: object) -> str:
    """An inline code span that no backtick or pipe in ``value`` can break (for module names)."""
    text = _NEWLINES.sub(" ", "" if value is None else str(value))
    if not text or "`" in text or "|" in text:
        return cell(text)
    return f"`{text}`"


def inline_html(value: object) -> str:
    """Text inside an HTML element such as <summary>, where Markdown escapes would show."""
    return html.escape(_NEWLINES.sub(" ", "" if value is None else str(value)))


def ms(value: object) -> str:
    return f"{value:.2f}" if isinstance(value, (int, float)) and not isinstance(value, bool) else "-"


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], right: Sequence[int] = ()) -> list[str]:
    """A GFM table; cells must already be escaped, headers are escaped here (``__getattr__`` would
    otherwise show as a bold "getattr"). Columns in ``right`` are right-aligned (numbers)."""
    lines = ["| " + " | ".join(cell(header) for header in headers) + " |",
             "| " + " | ".join("---:" if index in right else "---" for index in range(len(headers))) + " |"]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return lines


def fenced(language: str, lines: Sequence[str]) -> list[str]:
    """A fenced code block that no backtick run in ``lines`` can close; one line per entry."""
    flat = [line.replace("\r", "\\r").replace("\n", "\\n") for line in lines]
    longest = max((len(run) for line in flat for run in re.findall(r"`+", line)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence + language, *flat, fence]


def details(summary: str, body: Sequence[str]) -> list[str]:
    """A folded block; ``summary`` is HTML (see :func:`inline_html`). GitHub needs the blank lines."""
    return ["<details>", f"<summary>{summary}</summary>", "", *body, "", "</details>"]


def folded(summary: str, lines: Sequence[str], fold_after: int = FOLD_AFTER) -> list[str]:
    """``lines`` under a bold title, or folded when there are many; ``summary`` is plain text."""
    if len(lines) > fold_after:
        return details(inline_html(summary), lines)
    return [f"**{cell(summary)}**", "", *lines]


def render_markdown(report: Report, options: RenderOptions) -> str:
    from aoinspect.documents import encode

    return markdown_document(encode(report), top=options.top)


def markdown_document(document: Mapping[str, Any], top: int = 20) -> str:
    command = str(document.get("command", ""))
    package = str(document.get("package", ""))
    verdict = "✅ ok" if document.get("ok") else f"❌ failed (exit code {document.get('exit_code')})"
    lines = [f"### aoinspect {cell(command)} {code(package)}: {verdict}", ""]
    error = document.get("error")
    if isinstance(error, Mapping):
        lines += [f"**{cell(error.get('kind', 'error'))}**: {cell(error.get('message', ''))}", ""]
        return "\n".join(lines).rstrip() + "\n"
    imported = document.get("import")
    if command == "snapshot":
        lines += _snapshot(package, document)
    else:
        if isinstance(imported, Mapping):
            lines += _import_line(package, imported)
        if command == "check":
            lines += _findings(document.get("findings") or [])
        if document.get("names") and isinstance(document["names"], list):
            lines += _names(document["names"], document.get("results"))
        if command in ("resolve", "trace"):
            lines += _results(package, document.get("results") or [], top)
        undeclared = document.get("undeclared_submodules")
        if isinstance(undeclared, list):
            listed = [f"- {code(name)}" for name in undeclared]
            lines += [*folded(f"Submodules no declaration exports ({len(undeclared)})", listed), ""]
    return "\n".join(lines).rstrip() + "\n"


def _import_line(package: str, imported: Mapping[str, Any]) -> list[str]:
    loads = imported.get("materialized") or []
    return [f"{code('import ' + package)}: {len(loads)} modules, {ms(imported.get('total_ms'))} ms importing "
            f"({ms(imported.get('elapsed_ms'))} ms elapsed)", ""]


def _findings(findings: Sequence[Mapping[str, Any]]) -> list[str]:
    if not findings:
        return ["No findings.", ""]
    rows = [
        (cell(finding.get("severity")), code(finding.get("rule")), code(finding.get("name")) or "-",
         cell(finding.get("message")))
        for finding in findings
    ]
    return [*table(("severity", "rule", "name", "message"), rows), ""]


def _names(names: Sequence[Mapping[str, Any]], results: object) -> list[str]:
    resolved = {result.get("name"): result for result in results or [] if isinstance(result, Mapping)} \
        if isinstance(results, list) else {}
    headers: tuple[str, ...] = ("name", "declared in", "submodule", "loaded at import")
    if resolved:
        headers += ("modules", "total ms")
    rows = []
    for name in names:
        row: tuple[str, ...] = (
            code(name.get("name")), cell(", ".join(str(item) for item in name.get("declared_in") or [])),
            "yes" if name.get("submodule") else "no", "yes" if name.get("loaded_at_import") else "no",
        )
        if resolved:
            result = resolved.get(name.get("name"))
            if result is None:
                row += ("-", "-")
            else:
                row += (str(len(result.get("materialized") or [])), ms(result.get("total_ms")))
        rows.append(row)
    listed = table(headers, rows, right=(4, 5))
    return [*folded(f"Declared names ({len(names)})", listed, fold_after=FOLD_AFTER + 2), ""]


def _results(package: str, results: Sequence[Mapping[str, Any]], top: int) -> list[str]:
    rows = []
    for result in results:
        error = result.get("error")
        status = "ok" if result.get("ok") else "failed"
        if isinstance(error, Mapping):
            status += f": {error.get('type')}: {error.get('message')}"
        rows.append((code(f"{package}.{result.get('name')}"), cell(status),
                     "yes" if result.get("via_getattr") else "no",
                     str(len(result.get("materialized") or [])), ms(result.get("total_ms")),
                     ms(result.get("elapsed_ms"))))
    lines = [*table(("name", "result", "via __getattr__", "modules", "total ms", "elapsed ms"), rows,
                    right=(3, 4, 5)), ""]
    for result in results:
        loads = sorted(result.get("materialized") or [],
                       key=lambda load: (-(load.get("cumulative_ms") or 0), str(load.get("module"))))
        if not loads:
            continue
        shown = loads if top <= 0 else loads[:top]
        heaviest = table(
            ("module", "self ms", "cumulative ms", "imported by", "distribution"),
            ((code(load.get("module")), ms(load.get("self_ms")), ms(load.get("cumulative_ms")),
              code(load.get("parent")) if load.get("parent") else "(access)", _distribution(load)) for load in shown),
            right=(1, 2),
        )
        if len(shown) < len(loads):
            heaviest.append(f"\n… and {len(loads) - len(shown)} more (`--top 0` shows all)")
        summary = inline_html(f"{package}.{result.get('name')}: {len(loads)} modules, heaviest first")
        lines += [*details(summary, heaviest), ""]
    return lines


def _distribution(load: Mapping[str, Any]) -> str:
    if load.get("stdlib"):
        return "(stdlib)"
    return cell(load.get("distribution") or "(local)")


def _snapshot(package: str, document: Mapping[str, Any]) -> list[str]:
    imported = document.get("import") if isinstance(document.get("import"), list) else []
    names = document.get("names") if isinstance(document.get("names"), Mapping) else {}
    assert isinstance(imported, list) and isinstance(names, Mapping)
    rows = [(code(f"import {package}"), str(len(imported)))]
    rows += [(code(f"{package}.{name}"), str(len(modules or []))) for name, modules in names.items()]
    lines = [*table(("subject", "modules"), rows, right=(1,)), ""]
    lines += details(inline_html(f"import {package} ({len(imported)})"), [f"- {code(module)}" for module in imported])
    for name, modules in names.items():
        listed = [f"- {code(module)}" for module in modules or []]
        lines += ["", *details(inline_html(f"{package}.{name} ({len(modules or [])})"), listed)]
    return lines
