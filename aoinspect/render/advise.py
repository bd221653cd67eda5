"""``aoinspect advise``'s own renderers: text (one row per import statement), markdown and the
patch (the ``__lazy_modules__`` block of each module, or ``lazy`` keywords). json is the shared
renderer; github and sarif annotate the import lines (``aoinspect.render.annotations``)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from aoinspect.models.advise import KEEP, LAZY, NOT_ALLOWED
from aoinspect.render.text import counted

if TYPE_CHECKING:
    from collections.abc import Sequence

    from aoinspect.models import Finding
    from aoinspect.models.advise import Advice, AdviseReport, EntryAdvice
    from aoinspect.render import RenderOptions

_DECISION_LABELS = {LAZY: "lazy", KEEP: "keep", NOT_ALLOWED: "not allowed"}


def shown_path(file: str, module: str | None = None) -> str:
    """A file below the working directory, relative to it; else, when its module is known, as
    the module's path below its ``sys.path`` entry (``click/core.py``); with ``/``."""
    if os.path.isabs(file):
        relative = os.path.relpath(file, os.getcwd())
        if not relative.startswith(os.pardir):
            return relative.replace(os.sep, "/")
    file = file.replace(os.sep, "/")
    if module and module != "__main__":
        for suffix in (module.replace(".", "/") + "/__init__.py", module.replace(".", "/") + ".py"):
            if file.endswith("/" + suffix):
                return suffix
    return file


def annotations_note(report: AdviseReport) -> str:
    state = "evaluated lazily (PEP 649)" if report.lazy_annotations else "evaluated at import"
    return f"Python {report.python}: results hold for it; annotations are {state} there"


def notes_of(advice: Advice) -> str:
    """The last column of a row: where deferral is undone, what keeps the target loaded, the
    effects and risks."""
    parts = []
    if advice.reified is not None:
        module = advice.reified.module or (advice.module if advice.reified.file == advice.file else None)
        parts.append(f"used at import: {shown_path(advice.reified.file, module)}:{advice.reified.line}")
    if advice.kept_by:
        parts.append("still loaded via " + " → ".join(f"{shown_path(place.file, place.module)}:{place.line}"
                                                      for place in advice.kept_by))
    if advice.effects:
        parts.append("delays " + "; ".join(str(effect) for effect in advice.effects))
    parts.extend(f"risk: {risk}" for risk in advice.risks)
    if advice.decision == NOT_ALLOWED or (not parts and advice.decision == KEEP):
        parts.insert(0, advice.reason)
    return "; ".join(parts)


def _columns(rows: Sequence[Sequence[str]], right: Sequence[int] = ()) -> list[str]:
    widths = [max(len(row[index]) for row in rows) for index in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [cell.rjust(width) if index in right else cell.ljust(width)
                 for index, (cell, width) in enumerate(zip(row, widths))]
        lines.append("  ".join(cells).rstrip())
    return lines


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _by_file(advice: Sequence[Advice]) -> dict[str, list[Advice]]:
    files: dict[str, list[Advice]] = {}
    for row in advice:
        files.setdefault(row.file, []).append(row)
    return files


def _decision_label(row: Advice) -> str:
    """The decision, and whether the module's own declaration already makes the statement lazy
    (a declared row that saves nothing is "keep (declared)": harmless, not a request to remove it)."""
    label = _DECISION_LABELS.get(row.decision, row.decision)
    return f"{label} (declared)" if row.declared else label


def render_text(report: AdviseReport, options: RenderOptions) -> str:
    lazy = [row for row in report.lazy if not row.declared]
    declared = sum(1 for row in report.advice if row.declared)
    lines = [f"aoinspect advise: {report.subject}",
             f"{annotations_note(report)}.",
             f"{counted(report.modules, 'module')} loaded; {counted(len(report.advice), 'import statement')} "
             f"executed in the package's files; {len(lazy)} can be lazy"
             + (f"; {declared} declared lazy already." if declared else "."), ""]
    headers = ("line", "statement", "decision", "entry", "saved", "time saved", "notes")
    for file, rows in _by_file(report.advice).items():
        lines.append(shown_path(file, rows[0].module))
        table = [headers] + [
            (str(row.line), _short(row.text, 40), _decision_label(row),
             row.entry or "-", str(len(row.saved)), row.measured, notes_of(row))
            for row in rows]
        lines += ["  " + line for line in _columns(table, right=(0, 4))]
        lines.append("")
    shared = [entry for entry in report.entries if len(entry.lines) > 1]
    if shared:
        lines.append("Entries that select several statements (deferred together):")
        for entry in shared:
            where = shown_path(entry.file, entry.module)
            lines.append(f"  {where}: {entry.entry!r} (lines {', '.join(map(str, entry.lines))}): "
                         f"{_entry_summary(entry)}")
        lines.append("")
    if report.recommended:
        lines.append("Recommended __lazy_modules__:")
        for module, entries in _recommended_by_module(report).items():
            lines.append(f"  {module}: {sorted(entries)!r}")
        timing = "not measured" if report.combined is None else str(report.combined)
        fewer = counted(len(report.combined_saved), "module")
        lines.append(f"  Together: {fewer} fewer, {timing} (measured as a set).")
    else:
        lines.append("Nothing to recommend: no import statement can be deferred with a saving"
                     + (" beyond those declared already." if declared else "."))
    for stale in report.stale:
        hint = f" (did you mean {stale.closest!r}?)" if stale.closest else ""
        where = shown_path(stale.file, stale.module)
        lines.append(f"Stale entry: {where}:{stale.line}: {stale.entry!r} {stale.reason}{hint}.")
    for note in report.notes:
        lines.append(f"Note: {note}")
    for finding in report.findings:
        lines.append(f"{finding.severity}  {finding.rule}: {finding.message}")
    return "\n".join(lines).rstrip()


def _entry_summary(entry: EntryAdvice) -> str:
    timing = "" if entry.timing is None else f", {entry.timing}"
    return f"{_DECISION_LABELS.get(entry.decision, entry.decision)}, {counted(len(entry.saved), 'module')}{timing}"


def _recommended_by_module(report: AdviseReport) -> dict[str, list[str]]:
    modules: dict[str, list[str]] = {}
    for module, entry in report.recommended:
        modules.setdefault(module, []).append(entry)
    return modules


def render_markdown(report: AdviseReport, options: RenderOptions) -> str:
    from aoinspect.render.markdown import cell, code, table

    del options
    lines = [f"### aoinspect advise {code(report.subject)}", "",
             f"{cell(annotations_note(report))}. {report.modules} modules loaded; {len(report.lazy)} of "
             f"{len(report.advice)} import statements can be lazy.", ""]
    rows = [(code(f"{shown_path(row.file, row.module)}:{row.line}"), code(row.text), cell(row.decision),
             code(row.entry) if row.entry else "-", str(len(row.saved)), cell(row.measured), cell(notes_of(row)))
            for row in report.advice]
    lines += table(("line", "statement", "decision", "entry", "saved", "time saved", "notes"), rows, right=(4,))
    if report.recommended:
        lines += ["", "**Recommended `__lazy_modules__`**", ""]
        for module, entries in _recommended_by_module(report).items():
            lines.append(f"- {code(module)}: {code(repr(sorted(entries)))}")
        timing = "not measured" if report.combined is None else str(report.combined)
        fewer = counted(len(report.combined_saved), "module")
        lines.append(f"- together: {fewer} fewer, {cell(timing)} (measured as a set)")
    for stale in report.stale:
        where = shown_path(stale.file, stale.module)
        lines.append(f"- **stale entry** {code(stale.entry)} in {code(where)}:{stale.line} {cell(stale.reason)}")
    for note in report.notes:
        lines.append(f"- note: {cell(note)}")
    for finding in report.findings:
        lines.append(f"- **{cell(finding.severity)}** {code(finding.rule)}: {cell(finding.message)}")
    return "\n".join(lines).rstrip() + "\n"


def render_patch(report: AdviseReport, options: RenderOptions) -> str:
    """A unified diff against the files as they are now (``aoinspect.pep810``'s patches): the
    recommended entries added to each module's ``__lazy_modules__`` (its stale entries dropped),
    or with ``--lazy-keyword`` ``lazy`` before each recommended statement (Python 3.15+ only)."""
    from aoinspect import pep810

    # Paths relative to the working directory (the repository's root, where `git apply` runs);
    # absolute when a file is outside it.
    root: str | None = os.getcwd()
    recommended = set(report.recommended)
    files = sorted({row.file for row in report.advice})
    statements = []
    for file in files:
        module = next(row.module for row in report.advice if row.file == file)
        try:
            scanned = pep810.scan_module(file, module, os.path.basename(file) == "__init__.py")
        except (OSError, SyntaxError, ValueError):
            continue  # the file changed or went away since the report was made: nothing to patch
        if options.lazy_keyword:
            lines = {row.line for row in report.lazy if row.file == file}
            statements += [statement for statement in scanned if statement.line in lines]
        else:
            statements += [statement for statement in scanned if statement.allowed and statement.entries
                           and all((module, entry) in recommended for entry in statement.entries)]
    if any(os.path.relpath(statement.file, root).startswith(os.pardir) for statement in statements):
        root = None
    if options.lazy_keyword:
        return pep810.lazy_keyword_patch(statements, root=root).rstrip("\n")
    return pep810.lazy_modules_patch(statements, root=root, drop=[stale.entry for stale in report.stale]).rstrip("\n")


# --- github and sarif: the import lines ----------------------------------------------------------


def annotations_of(report: AdviseReport) -> list[tuple[str, str, str, str]]:
    """(rule, severity, file:line, message) for each import line CI should show: an import that
    can be lazy (info), a declared entry undone during the import (warning), a stale entry
    (warning; ``check`` makes it an error); a ``--fail-on`` condition that held is an error on its
    line instead."""
    from aoinspect import outcomes
    from aoinspect.rules.lazy_modules import LAZY_CANDIDATE, LAZY_ENTRY_REIFIED, STALE_LAZY_ENTRY

    failed: dict[str, list[Finding]] = {}
    for finding in report.findings:
        failed.setdefault(finding.name or "", []).append(finding)
    found: list[tuple[str, str, str, str]] = []
    for row in report.advice:
        location = row.location
        if location in failed:
            continue
        if row.declared and row.reified is not None:
            found.append((LAZY_ENTRY_REIFIED.id, LAZY_ENTRY_REIFIED.severity, location,
                          f"{row.entry!r} in __lazy_modules__ is undone during the import: "
                          f"{shown_path(row.reified.file)}:{row.reified.line} uses it"))
        elif row.decision == LAZY and not row.declared:
            found.append((LAZY_CANDIDATE.id, outcomes.SEVERITY_INFO, location,
                          f"{row.text} can be lazy: deferring it saves {counted(len(row.saved), 'module')} "
                          f"({row.measured}); "
                          f"add {row.entry!r} to __lazy_modules__"))
    for stale in report.stale:
        if f"{stale.file}:{stale.line}" in failed:
            continue
        hint = f"; did you mean {stale.closest!r}?" if stale.closest else ""
        found.append((STALE_LAZY_ENTRY.id, outcomes.SEVERITY_WARNING, f"{stale.file}:{stale.line}",
                      f"{stale.entry!r} in __lazy_modules__ of {stale.module} {stale.reason}{hint}"))
    for where, findings in failed.items():
        for finding in findings:
            found.append((finding.rule, finding.severity, where, finding.message))
    return found
