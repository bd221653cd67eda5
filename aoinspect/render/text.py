"""``--format text``: aligned output for people; colour only when the CLI asks for it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from aoinspect import schema
from aoinspect.models import (
    CheckReport,
    Failure,
    ImportResult,
    ListReport,
    ModuleLoad,
    Resolution,
    ResolveReport,
    total_ms,
)

if TYPE_CHECKING:
    from aoinspect.render import RenderOptions, Report

_COLORS = {"ok": "32", "bad": "31", "warn": "33", "dim": "2", "bold": "1"}
_SEVERITY_STYLE = {schema.SEVERITY_ERROR: "bad", schema.SEVERITY_WARNING: "warn", schema.SEVERITY_INFO: "ok"}


def render_text(report: Report, options: RenderOptions) -> str:
    paint = _Painter(options.color)
    if isinstance(report, Failure):
        return f"{paint('error', 'bad')}: {report.message}"
    if isinstance(report, ResolveReport):
        return _resolve(report, paint, options)
    if isinstance(report, ListReport):
        return _list(report, paint)
    if isinstance(report, CheckReport):
        return _check(report, paint)
    raise TypeError(f"no text form for {type(report).__name__}")


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
    line = (
        f"import {imported.package}: {_count(len(imported.materialized), 'module')} "
        f"in {imported.elapsed_ms:.1f} ms"
    )
    if imported.repeats > 1:
        line += f" (median of {imported.repeats}, min {imported.min_elapsed_ms:.1f} ms)"
    return line


def _table(rows: Sequence[Sequence[str]], indent: str = "  ", right: Sequence[int] = ()) -> list[str]:
    """Aligned columns; the columns in ``right`` (numbers) are right-aligned."""
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return [
        (indent + "  ".join(
            cell.rjust(width) if column in right else cell.ljust(width)
            for column, (cell, width) in enumerate(zip(row, widths))
        )).rstrip()
        for row in rows
    ]


_SORTS = {
    "cumulative": lambda load: (-load.cumulative_ms, load.module),
    "self": lambda load: (-load.self_ms, load.module),
    "name": lambda load: load.module,
}


def _heaviest(loads: Sequence[ModuleLoad], options: RenderOptions, indent: str = "  ") -> list[str]:
    """The compact table: the ``--top`` modules by ``--sort`` (``order``: as imports began)."""
    ordered = list(loads) if options.sort == "order" else sorted(loads, key=_SORTS[options.sort])
    shown = ordered if options.top <= 0 else ordered[: options.top]
    rows = [("SELF ms", "CUMUL ms", "MODULE", "IMPORTED BY", "DISTRIBUTION")]
    rows.extend(
        (f"{load.self_ms:.2f}", f"{load.cumulative_ms:.2f}", load.module, load.parent or "(access)",
         _distribution_label(load))
        for load in shown
    )
    lines = _table(rows, indent, right=(0, 1))
    if len(shown) < len(ordered):
        lines.append(f"{indent}... {len(ordered) - len(shown)} more (--top 0 shows all)")
    return lines


def _distribution_label(load: ModuleLoad) -> str:
    if load.stdlib:
        return "(stdlib)"
    return load.distribution or "(local)"


# --- resolve -----------------------------------------------------------------------------------


def _resolve(report: ResolveReport, paint: _Painter, options: RenderOptions) -> str:
    lines = [_import_line(report.imported)]
    for result in report.results:
        lines.append("")
        lines.extend(_resolution(report.package, result, paint, options))
    return "\n".join(lines)


def _resolution(package: str, result: Resolution, paint: _Painter, options: RenderOptions) -> list[str]:
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
    timing = f"{result.elapsed_ms:.1f} ms"
    if result.repeats > 1:
        timing += f" (median of {result.repeats}, min {result.min_elapsed_ms:.1f} ms)"
    facts.append(timing)
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
    if result.unstable:
        lines.append("  " + paint("differs between repeats: " + ", ".join(result.unstable), "warn"))
    if len(result.steps) > 1:
        for step in result.steps:
            how = "via __getattr__" if step.via_getattr else "plain attribute"
            lines.append(
                f"  step .{step.name}: {how}, {_count(len(step.materialized), 'module')}, "
                f"{step.elapsed_ms:.1f} ms"
            )
    if result.materialized:
        lines.extend(_heaviest(result.materialized, options))
    if result.distributions:
        rows = [("DISTRIBUTION", "VERSION", "MODULES", "SELF ms")]
        rows.extend(
            (share.name, share.version or "", str(share.modules), f"{share.self_ms:.2f}")
            for share in result.distributions
        )
        lines.extend(_table(rows, right=(2, 3)))
    if result.removed:
        lines.append("  removed from sys.modules: " + ", ".join(result.removed))
    return lines


# --- list --------------------------------------------------------------------------------------


def _list(report: ListReport, paint: _Painter) -> str:
    lines = [f"{report.package}: {_count(len(report.names), 'declared name')}", _import_line(report.imported)]
    if report.names:
        resolved = {result.name: result for result in report.resolutions or ()}
        header: tuple[str, ...] = ("NAME", "DECLARED IN", "SUBMODULE", "LOADED AT IMPORT")
        if report.resolutions is not None:
            header += ("MODULES", "TOTAL ms")
        rows: list[tuple[str, ...]] = [header]
        for name in report.names:
            row: tuple[str, ...] = (
                name.name if name.name.isprintable() else repr(name.name),  # __all__ may hold anything
                ", ".join(name.declared_in),
                "yes" if name.submodule else "no",
                "yes" if name.loaded_at_import else "no",
            )
            if report.resolutions is not None:
                result = resolved.get(name.name)
                if result is None:
                    row += ("-", "-")
                elif not result.ok:
                    row += ("failed", "-")
                else:
                    row += (str(len(result.materialized)), f"{total_ms(result.materialized):.2f}")
            rows.append(row)
        lines.append("")
        lines.extend(_table(rows, right=(4, 5)))
    if report.undeclared_submodules is not None:
        lines.append("")
        if report.undeclared_submodules:
            lines.append("submodules on disk that no declaration exports:")
            lines.extend(f"  {name}" for name in report.undeclared_submodules)
        else:
            lines.append("every submodule on disk is declared.")
    lines.extend(f"note: {note}" for note in report.notes)
    return "\n".join(lines)


# --- check -------------------------------------------------------------------------------------


def _check(report: CheckReport, paint: _Painter) -> str:
    errors = sum(1 for finding in report.findings if finding.severity == schema.SEVERITY_ERROR)
    warnings = sum(1 for finding in report.findings if finding.severity == schema.SEVERITY_WARNING)
    lazy = sum(1 for name in report.names if not name.loaded_at_import)
    lines = [
        f"check {report.package}: {_count(len(report.names), 'declared name')} ({lazy} lazy), "
        f"{_count(errors, 'error')}, {_count(warnings, 'warning')}"
    ]
    if report.findings:
        rows = [
            (
                paint(finding.severity, _SEVERITY_STYLE.get(finding.severity, "dim")),
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
    lines.extend(f"note: {note}" for note in report.notes)
    lines.append(paint(verdict, "ok" if report.ok else "bad"))
    return "\n".join(lines)
