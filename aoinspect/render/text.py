"""``--format text``: aligned output for people; colour only when the CLI asks for it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from aoinspect import models, outcomes
from aoinspect.models import (
    CheckReport,
    Failure,
    ImportResult,
    Isolation,
    ListReport,
    ModuleLoad,
    Resolution,
    ResolveReport,
    total_ms,
)
from aoinspect.render import counted as counted  # every renderer counts the same way

if TYPE_CHECKING:
    from aoinspect.render import RenderOptions, Report

_COLORS = {"ok": "32", "bad": "31", "warn": "33", "dim": "2", "bold": "1"}
_SEVERITY_STYLE = {outcomes.SEVERITY_ERROR: "bad", outcomes.SEVERITY_WARNING: "warn", outcomes.SEVERITY_INFO: "ok"}


def render_text(report: Report, options: RenderOptions) -> str:
    paint = _Painter(options.color)
    if isinstance(report, Failure):
        return f"{paint('error', 'bad')}: {report.message}"
    if isinstance(report, ResolveReport):
        return _resolve(report, paint, options)
    if isinstance(report, ListReport):
        return _list(report, paint)
    if isinstance(report, CheckReport):
        return _check(report, paint, options)
    raise TypeError(f"no text form for {type(report).__name__}")


# One entry point per report kind, for the registry (aoinspect.formats).
def render_resolve(report: ResolveReport, options: RenderOptions) -> str:
    return _resolve(report, _Painter(options.color), options)


def render_list(report: ListReport, options: RenderOptions) -> str:
    return _list(report, _Painter(options.color))


def render_check(report: CheckReport, options: RenderOptions) -> str:
    return _check(report, _Painter(options.color), options)


class _Painter:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, style: str) -> str:
        if not self.enabled:
            return text
        return f"\x1b[{_COLORS[style]}m{text}\x1b[0m"


def _import_line(imported: ImportResult) -> str:
    line = (
        f"import {imported.package}: {counted(len(imported.materialized), 'module')} "
        f"in {imported.elapsed_ms:.1f} ms"
    )
    if imported.repeats > 1:
        line += f" (median of {imported.repeats}, min {imported.min_elapsed_ms:.1f} ms)"
    return "\n".join([line, *_import_warnings(imported)])


def _import_warnings(imported: ImportResult) -> list[str]:
    """The warnings ``python -c "import PACKAGE"`` prints on stderr, which the probe keeps."""
    return [f"  shown at import (on stderr): {shown}".replace("\n", "\n    ") for shown in imported.warnings]


# The widest a name column grows: longer names are shortened in the middle (the full name is in
# the JSON), so that one long name does not push every row past the terminal's edge.
NAME_WIDTH = 44


def shorten(text: str, width: int = NAME_WIDTH) -> str:
    """``transformers.models.…auto.configuration_auto``: both ends of a long name stay readable."""
    if len(text) <= width:
        return text
    keep = width - 1
    return text[: keep // 2] + "\u2026" + text[len(text) - (keep - keep // 2):]


def _wrapped(text: str, width: int, first: str, rest: str) -> list[str]:
    """``text`` wrapped to ``width``, its own line breaks kept, every line after the first
    indented by ``rest`` (an exception message may hold several lines). A word longer than a
    line (a dotted name) overflows whole: cut, it could not be copied or searched for."""
    import textwrap

    lines: list[str] = []
    for number, paragraph in enumerate(text.splitlines() or [""]):
        prefix = first if number == 0 else rest
        lines.extend(textwrap.wrap(paragraph, width=max(width, len(prefix) + 20), initial_indent=prefix,
                                   subsequent_indent=rest, break_on_hyphens=False, break_long_words=False)
                     or [prefix.rstrip()])
    return lines


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
        (f"{load.self_ms:.2f}", f"{load.cumulative_ms:.2f}", shorten(load.module), shorten(load.parent or "(access)"),
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
    if load.generated:
        return "(generated)"
    return load.distribution or "(local)"


# --- resolve -----------------------------------------------------------------------------------


def _resolve(report: ResolveReport, paint: _Painter, options: RenderOptions) -> str:
    lines = [_import_line(report.imported)]
    for result in report.results:
        lines.append("")
        lines.extend(_resolution(report.package, result, paint, options))
    lines.extend(_cache_miss(report.isolation, paint))
    return "\n".join(lines)


def _cache_miss(isolation: Isolation | None, paint: _Painter) -> list[str]:
    """One line saying why the cache could not serve every result, so a cold run is explained."""
    if isolation is None or isolation.cache_miss is None:
        return []
    return [paint(f"measured, not read from the cache: {isolation.cache_miss}", "dim")]


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
        facts.append(models.MECHANISM_LABELS[result.mechanism])
        if result.cached is not None:
            facts.append("cached" if result.cached else paint("not cached", "warn"))
    else:
        facts.append(paint("failed", "bad"))
        if result.via_getattr:
            facts.append(models.MECHANISM_LABELS[result.mechanism])
    facts.append(counted(len(result.materialized), "module"))
    timing = f"{result.elapsed_ms:.1f} ms"
    if result.repeats > 1:
        timing += f" (median of {result.repeats}, min {result.min_elapsed_ms:.1f} ms)"
    if result.from_cache:
        timing += " (from the cache)"
    facts.append(timing)
    lines = [f"{paint(target, 'bold')}  " + ", ".join(facts)]
    if result.error is not None:
        lines.extend(paint(line, "bad") for line in _wrapped(str(result.error), options.width, "  ", "    "))
        if result.error.location:
            lines.append(f"  raised at {result.error.location}")
        if result.suggestions:
            quoted = " or ".join(repr(name) for name in result.suggestions)
            lines.append(f"  did you mean {quoted}?")
    if result.object is not None:
        lines.append(f"  returned {result.object.type}: {result.object.repr}")
    if result.second_error is not None:
        lines.append(paint(f"  a second access raised {result.second_error}", "bad"))
    if result.unstable:
        lines.append("  " + paint("differs between repeats: " + ", ".join(result.unstable), "warn"))
    if len(result.steps) > 1:
        for step in result.steps:
            how = models.MECHANISM_LABELS[step.mechanism]
            lines.append(
                f"  step .{step.name}: {how}, {counted(len(step.materialized), 'module')}, "
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
    if result.observed:
        modules = [load.module for load in result.observed]
        count = counted(len(modules), "more module")
        lines.append(f"  looking at the result (a second access, its repr) loaded {count}, not counted above: "
                     + ", ".join(modules[:8]) + (" ..." if len(modules) > 8 else ""))
    return lines


# --- list --------------------------------------------------------------------------------------


def _list(report: ListReport, paint: _Painter) -> str:
    lines = [f"{report.package}: {counted(len(report.names), 'declared name')}", _import_line(report.imported)]
    if not report.names:
        lines.append(NOTHING_DECLARED.format(package=report.package, checked="there is nothing to list"))
    if report.names:
        resolved = {result.name: result for result in report.resolutions or ()}
        header: tuple[str, ...] = ("NAME", "DECLARED IN", "SUBMODULE", "LOADED AT IMPORT", "SERVED BY")
        if report.resolutions is not None:
            header += ("MODULES", "TOTAL ms")
        rows: list[tuple[str, ...]] = [header]
        for name in report.names:
            row: tuple[str, ...] = (
                shorten(name.name if name.name.isprintable() else repr(name.name)),  # __all__ may hold anything
                ", ".join(name.declared_in),
                "lazy package" if name.lazy_package else "yes" if name.submodule else "no",
                "yes" if name.loaded_at_import else "no",
                name.mechanism,
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
        lines.extend(_table(rows, right=(5, 6)))
    if report.undeclared_submodules is not None:
        lines.append("")
        if report.undeclared_submodules:
            lines.append("submodules on disk that no declaration exports:")
            lazy = set(report.lazy_packages)
            lines.extend(f"  {name} (lazy package)" if name in lazy else f"  {name}"
                         for name in report.undeclared_submodules)
        else:
            lines.append("every submodule on disk is declared.")
    lines.extend(f"note: {note}" for note in report.notes)
    lines.extend(_cache_miss(report.isolation, paint))
    return "\n".join(lines)


# --- check -------------------------------------------------------------------------------------


NOTHING_DECLARED = (
    "{package} declares no names: aoinspect reads them from __all__, from imports in `if TYPE_CHECKING:` blocks, "
    "from a lazy_loader stub and from what __dir__ adds; {checked}."
)


def _check(report: CheckReport, paint: _Painter, options: RenderOptions) -> str:
    errors = sum(1 for finding in report.findings if finding.severity == outcomes.SEVERITY_ERROR)
    warnings = sum(1 for finding in report.findings if finding.severity == outcomes.SEVERITY_WARNING)
    lazy = sum(1 for name in report.names if not name.loaded_at_import)
    lines = [
        f"check {report.package}: {counted(len(report.names), 'declared name')} ({lazy} lazy), "
        f"{counted(errors, 'error')}, {counted(warnings, 'warning')}"
    ]
    if report.imported is not None:
        lines.extend(_import_warnings(report.imported))
    if not report.names and report.imported is not None:
        lines.append(NOTHING_DECLARED.format(package=report.package, checked="only the import-time rules ran"))
    elif report.names and not lazy:
        lines.append(f"every declared name of {report.package} is loaded by its import: no lazy access to measure.")
    for finding in report.findings:
        # `  error    rule (name): message`, the message wrapped under it with a hanging indent.
        subject = f" ({shorten(finding.name)})" if finding.name else ""
        head = f"  {finding.severity.ljust(7)}  {finding.rule}{subject}: "
        wrapped = _wrapped(finding.message, options.width, " " * len(head), "      ")
        style = _SEVERITY_STYLE.get(finding.severity, "dim")
        lines.append(f"  {paint(finding.severity.ljust(7), style)}  {finding.rule}{subject}: {wrapped[0].lstrip()}")
        lines.extend(wrapped[1:])
    from_cache = sum(1 for result in report.resolutions if result.from_cache)
    if from_cache:
        lines.append(paint(f"{from_cache} of {counted(len(report.resolutions), 'name')} from the cache "
                           "(nothing they depend on changed; --no-cache measures again)", "dim"))
    lines.extend(_cache_miss(report.isolation, paint))
    verdict = "ok" if report.ok else "failed"
    if report.ok and warnings and not report.strict:
        verdict += " (warnings do not fail without --strict)"
    lines.extend(f"note: {note}" for note in report.notes)
    lines.append(paint(verdict, "ok" if report.ok else "bad"))
    return "\n".join(lines)
