"""``--format text``: aligned output for people; colour only when the CLI asks for it."""

from __future__ import annotations

from typing import Sequence

from aoinspect import schema
from aoinspect.models import (
    CheckReport,
    Failure,
    ImportResult,
    ListReport,
    ModuleLoad,
    Resolution,
    ResolveReport,
)

_COLORS = {"ok": "32", "bad": "31", "warn": "33", "dim": "2", "bold": "1"}


def render_text(report: ListReport | ResolveReport | CheckReport | Failure, *, color: bool = False) -> str:
    paint = _Painter(color)
    if isinstance(report, Failure):
        return f"{paint('error', 'bad')}: {report.message}"
    if isinstance(report, ResolveReport):
        return _resolve(report, paint)
    if isinstance(report, ListReport):
        return _list(report, paint)
    return _check(report, paint)


class _Painter:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, style: str) -> str:
        if not self.enabled:
            return text
        return f"\x1b[{_COLORS[style]}m{text}\x1b[0m"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _import_line(imported: ImportResult) -> str:
    return (
        f"import {imported.package}: {_count(len(imported.materialized), 'module')} "
        f"in {imported.elapsed_ms:.1f} ms"
    )


def _table(rows: Sequence[Sequence[str]], indent: str = "  ") -> list[str]:
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return [
        (indent + "  ".join(cell.ljust(width) for cell, width in zip(row, widths))).rstrip()
        for row in rows
    ]


def _modules(loads: Sequence[ModuleLoad], indent: str = "    ") -> list[str]:
    """Modules in the order their imports began, indented under the module that imported them."""
    if not loads:
        return []
    width = max(len(f"{load.cumulative_ms:.2f}") for load in loads)
    return [
        f"{indent}{load.cumulative_ms:>{width}.2f} ms  {'  ' * load.depth}{load.module}" for load in loads
    ]


# --- resolve -----------------------------------------------------------------------------------


def _resolve(report: ResolveReport, paint: _Painter) -> str:
    lines = [_import_line(report.imported)]
    for result in report.results:
        lines.append("")
        lines.extend(_resolution(report.package, result, paint))
    return "\n".join(lines)


def _resolution(package: str, result: Resolution, paint: _Painter) -> list[str]:
    target = f"{package}.{result.name}"
    if result.probe_failed:
        message = result.error.message if result.error else "the probe failed"
        return [f"{paint(target, 'bold')}  {paint('probe failed', 'bad')}: {message}"]
    facts = []
    if result.ok:
        facts.append(paint("ok", "ok"))
        if result.already_loaded:
            facts.append("already loaded by import")
        facts.append("via __getattr__" if result.via_getattr else "plain attribute")
        if result.cached is not None:
            facts.append("cached" if result.cached else paint("not cached", "warn"))
    else:
        facts.append(paint("failed", "bad"))
        if result.via_getattr:
            facts.append("via __getattr__")
    facts.append(_count(len(result.materialized), "module"))
    facts.append(f"{result.elapsed_ms:.1f} ms")
    lines = [f"{paint(target, 'bold')}  " + ", ".join(facts)]
    if result.error is not None:
        lines.append(f"  {paint(str(result.error), 'bad')}")
        if result.error.location:
            lines.append(f"  raised at {result.error.location}")
        if result.suggestions:
            quoted = " or ".join(repr(name) for name in result.suggestions)
            lines.append(f"  did you mean {quoted}?")
    if result.object is not None:
        lines.append(f"  returned {result.object.type}: {result.object.repr}")
    if len(result.steps) > 1:
        for step in result.steps:
            how = "via __getattr__" if step.via_getattr else "plain attribute"
            lines.append(
                f"  step .{step.name}: {how}, {_count(len(step.materialized), 'module')}, "
                f"{step.elapsed_ms:.1f} ms"
            )
    if result.materialized:
        lines.append("  materialized, in import order (cumulative time):")
        lines.extend(_modules(result.materialized))
    if result.removed:
        lines.append("  removed from sys.modules: " + ", ".join(result.removed))
    return lines


# --- list --------------------------------------------------------------------------------------


def _list(report: ListReport, paint: _Painter) -> str:
    lines = [f"{report.package}: {_count(len(report.names), 'declared name')}", _import_line(report.imported)]
    if report.names:
        rows = [("NAME", "DECLARED IN", "SUBMODULE", "LOADED AT IMPORT")]
        rows.extend(
            (
                name.name,
                ", ".join(name.declared_in),
                "yes" if name.submodule else "no",
                "yes" if name.loaded_at_import else "no",
            )
            for name in report.names
        )
        lines.append("")
        lines.extend(_table(rows))
    if report.undeclared_submodules is not None:
        lines.append("")
        if report.undeclared_submodules:
            lines.append("submodules on disk that no declaration exports:")
            lines.extend(f"  {name}" for name in report.undeclared_submodules)
        else:
            lines.append("every submodule on disk is declared.")
    return "\n".join(lines)


# --- check -------------------------------------------------------------------------------------


def _check(report: CheckReport, paint: _Painter) -> str:
    errors = sum(1 for finding in report.findings if finding.severity == schema.SEVERITY_ERROR)
    warnings = len(report.findings) - errors
    lazy = sum(1 for name in report.names if not name.loaded_at_import)
    lines = [
        f"check {report.package}: {_count(len(report.names), 'declared name')} ({lazy} lazy), "
        f"{_count(errors, 'error')}, {_count(warnings, 'warning')}"
    ]
    if report.findings:
        rows = [
            (
                paint(finding.severity, "bad" if finding.severity == schema.SEVERITY_ERROR else "warn"),
                finding.rule,
                finding.name or "-",
                finding.message,
            )
            for finding in report.findings
        ]
        lines.extend(_table(rows))
    verdict = "ok" if report.ok else "failed"
    if report.ok and warnings and not report.strict:
        verdict += " (warnings do not fail without --strict)"
    lines.append(paint(verdict, "ok" if report.ok else "bad"))
    return "\n".join(lines)
