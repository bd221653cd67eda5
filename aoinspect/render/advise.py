"""``aoinspect advise``'s own renderers: text (one row per import statement), markdown and the
patch (the ``__lazy_modules__`` block of each module, or ``lazy`` keywords). json is the shared
renderer; github and sarif annotate the import lines (``aoinspect.render.annotations``)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from aoinspect.models.advise import KEEP, LAZY, NOT_ALLOWED

if TYPE_CHECKING:
    from collections.abc import Sequence

    from aoinspect.models import Finding
    from aoinspect.models.advise import Advice, AdviseReport, EntryAdvice
    from aoinspect.render import RenderOptions

_DECISION_LABELS = {LAZY: "lazy", KEEP: "keep", NOT_ALLOWED: "not allowed"}


def shown_path(file: str, root: str | None = None) -> str:
    """A file below the working directory (or ``root``), relative to it, with ``/``."""
    base = root or os.getcwd()
    if os.path.isabs(file):
        relative = os.path.relpath(file, base)
        if not relative.startswith(os.pardir):
            file = relative
    return file.replace(os.sep, "/")


def annotations_note(report: AdviseReport) -> str:
    state = "evaluated lazily (PEP 649)" if report.lazy_annotations else "evaluated at import"
    return f"Python {report.python}: results hold for it; annotations are {state} there"


def notes_of(advice: Advice) -> str:
    """The last column of a row: where deferral is undone, what keeps the target loaded, the
    effects and risks."""
    parts = []
    if advice.reified is not None:
        parts.append(f"used at import: {shown_path(advice.reified.file)}:{advice.reified.line}")
    if advice.kept_by:
        parts.append("still loaded via " + " → ".join(f"{shown_path(place.file)}:{place.line}"
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


def render_text(report: AdviseReport, options: RenderOptions) -> str:
    lazy = report.lazy
    lines = [f"aoinspect advise: {report.subject}",
             f"{annotations_note(report)}.",
             f"{report.modules} modules loaded; {len(report.advice)} import statements executed in the package's "
             f"files; {len(lazy)} can be lazy.", ""]
    headers = ("line", "statement", "decision", "entry", "saved", "time saved", "notes")
    for file, rows in _by_file(report.advice).items():
        lines.append(shown_path(file))
        table = [headers] + [
            (str(row.line), _short(row.text, 40), _DECISION_LABELS.get(row.decision, row.decision),
             row.entry or "-", str(len(row.saved)), row.measured, _short(notes_of(row), max(options.width - 60, 30)))
            for row in rows]
        lines += ["  " + line for line in _columns(table, right=(0, 4))]
        lines.append("")
    shared = [entry for entry in report.entries if len(entry.lines) > 1]
    if shared:
        lines.append("Entries that select several statements (deferred together):")
        for entry in shared:
            lines.append(f"  {shown_path(entry.file)}: {entry.entry!r} (lines {', '.join(map(str, entry.lines))}): "
                         f"{_entry_summary(entry)}")
        lines.append("")
    if report.recommended:
        lines.append("Recommended __lazy_modules__:")
        for module, entries in _recommended_by_module(report).items():
            lines.append(f"  {module}: {sorted(entries)!r}")
        timing = "not measured" if report.combined is None else str(report.combined)
        lines.append(f"  Together: {len(report.combined_saved)} modules fewer, {timing} (measured as a set).")
    else:
        lines.append("Nothing to recommend: no import statement can be deferred with a saving.")
    for stale in report.stale:
        hint = f" (did you mean {stale.closest!r}?)" if stale.closest else ""
        lines.append(f"Stale entry: {shown_path(stale.file)}:{stale.line}: {stale.entry!r} selects no import "
                     f"statement{hint}.")
    for note in report.notes:
        lines.append(f"Note: {note}")
    for finding in report.findings:
        lines.append(f"{finding.severity}  {finding.rule}: {finding.message}")
    return "\n".join(lines).rstrip()


def _entry_summary(entry: EntryAdvice) -> str:
    timing = "" if entry.timing is None else f", {entry.timing}"
    return f"{_DECISION_LABELS.get(entry.decision, entry.decision)}, {len(entry.saved)} modules{timing}"


def _recommended_by_module(report: AdviseReport) -> dict[str, list[str]]:
    modules: dict[str, list[str]] = {}
    for module, entry in report.recommended:
        modules.setdefault(module, []).append(entry)
    return modules


def render_markdown(report: AdviseReport, options: RenderOptions) -> str:
    from aoinspect.render.markdown import cell, code, table

    del options
    lines = [f"### aoinspect advise {code(report.subject)}", "",
             f"{annotations_note(report)}. {report.modules} modules loaded; {len(report.lazy)} of "
             f"{len(report.advice)} import statements can be lazy.", ""]
    rows = [(code(f"{shown_path(row.file)}:{row.line}"), code(row.text), cell(row.decision),
             code(row.entry) if row.entry else "-", str(len(row.saved)), cell(row.measured), cell(notes_of(row)))
            for row in report.advice]
    lines += table(("line", "statement", "decision", "entry", "saved", "time saved", "notes"), rows, right=(4,))
    if report.recommended:
        lines += ["", "**Recommended `__lazy_modules__`**", ""]
        for module, entries in _recommended_by_module(report).items():
            lines.append(f"- {code(module)}: {code(repr(sorted(entries)))}")
        timing = "not measured" if report.combined is None else str(report.combined)
        lines.append(f"- together: {len(report.combined_saved)} modules fewer, {cell(timing)} (measured as a set)")
    for stale in report.stale:
        lines.append(f"- **stale entry** {code(stale.entry)} in {code(shown_path(stale.file))}:{stale.line} "
                     "selects no import statement")
    for note in report.notes:
        lines.append(f"- note: {cell(note)}")
    for finding in report.findings:
        lines.append(f"- **{cell(finding.severity)}** {code(finding.rule)}: {cell(finding.message)}")
    return "\n".join(lines).rstrip() + "\n"


def render_patch(report: AdviseReport, options: RenderOptions) -> str:
    """A unified diff against the files as they are now: the recommended entries added to each
    module's ``__lazy_modules__`` (a new block after its docstring and ``__future__`` imports when
    it has none), or with ``--lazy-keyword`` ``lazy`` before each recommended statement."""
    if options.lazy_keyword:
        statements: dict[str, list[int]] = {}
        for row in report.lazy:
            statements.setdefault(row.file, []).append(row.line)
        return "".join(_diff(file, _with_keyword(file, lines)) for file, lines in sorted(statements.items()))
    by_file: dict[str, list[str]] = {}
    for entry in report.entries:
        if (entry.module, entry.entry) in report.recommended:
            by_file.setdefault(entry.file, []).append(entry.entry)
    return "".join(_diff(file, _with_entries(file, entries)) for file, entries in sorted(by_file.items()))


def _read(file: str) -> list[str]:
    with open(file, encoding="utf-8") as stream:
        return stream.read().splitlines(keepends=True)


def _diff(file: str, changed: tuple[list[str], list[str]] | None) -> str:
    import difflib

    if changed is None:
        return ""
    before, after = changed
    name = shown_path(file)
    return "".join(difflib.unified_diff(before, after, f"a/{name}", f"b/{name}"))


def _with_keyword(file: str, lines: list[int]) -> tuple[list[str], list[str]] | None:
    try:
        before = _read(file)
    except (OSError, UnicodeDecodeError):
        return None
    after = list(before)
    for line in lines:
        text = after[line - 1]
        stripped = text.lstrip()
        if stripped.startswith(("import ", "from ")):
            after[line - 1] = text[: len(text) - len(stripped)] + "lazy " + stripped
    return before, after


def _with_entries(file: str, entries: list[str]) -> tuple[list[str], list[str]] | None:
    """The file with ``entries`` in its ``__lazy_modules__``: an existing list literal gets
    them (sorted, once each); a module without one gets a new one after its docstring and its
    ``from __future__`` imports."""
    import ast

    try:
        before = _read(file)
        tree = ast.parse("".join(before))
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
        return None
    after = list(before)
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
            node, ast.AnnAssign) else []
        if any(isinstance(target, ast.Name) and target.id == "__lazy_modules__" for target in targets):
            value = getattr(node, "value", None)
            if isinstance(value, (ast.List, ast.Tuple, ast.Set)) and all(
                    isinstance(item, ast.Constant) and isinstance(item.value, str) for item in value.elts):
                names = sorted({*(item.value for item in value.elts), *entries})  # type: ignore[attr-defined]
                start, end = node.lineno - 1, (node.end_lineno or node.lineno) - 1
                indent = before[start][: len(before[start]) - len(before[start].lstrip())]
                after[start:end + 1] = [f"{indent}__lazy_modules__ = {_literal(names)}\n"]
                return before, after
            return None  # computed: a person has to merge it
    insert_at = 0
    for index, node in enumerate(tree.body):
        docstring = index == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(
            node.value.value, str)
        future = isinstance(node, ast.ImportFrom) and node.module == "__future__"
        if not (docstring or future):
            break
        insert_at = node.end_lineno or node.lineno
    block = [f"__lazy_modules__ = {_literal(sorted(set(entries)))}\n"]
    if insert_at:
        block.insert(0, "\n")
    if insert_at < len(after) and after[insert_at].strip():
        block.append("\n")
    after[insert_at:insert_at] = block
    return before, after


def _literal(names: list[str]) -> str:
    return "[" + ", ".join(f'"{name}"' for name in names) + "]"


# --- github and sarif: the import lines ----------------------------------------------------------


def annotations_of(report: AdviseReport) -> list[tuple[str, str, str, str]]:
    """(rule, severity, file:line, message) for each import line CI should show: an import that
    can be lazy (info), a declared entry undone during the import (warning), a stale entry
    (warning); a ``--fail-on`` condition that held is an error on its line instead."""
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
                          f"{row.text} can be lazy: deferring it saves {len(row.saved)} modules ({row.measured}); "
                          f"add {row.entry!r} to __lazy_modules__"))
    for stale in report.stale:
        hint = f"; did you mean {stale.closest!r}?" if stale.closest else ""
        found.append((STALE_LAZY_ENTRY.id, STALE_LAZY_ENTRY.severity, f"{stale.file}:{stale.line}",
                      f"{stale.entry!r} in __lazy_modules__ selects no import statement of {stale.module}{hint}"))
    for where, findings in failed.items():
        for finding in findings:
            found.append((finding.rule, finding.severity, where, finding.message))
    return found
