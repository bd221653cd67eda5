"""``aoinspect diff`` output: text and Markdown, each a pure function of a :class:`~aoinspect.diff.Diff`
(its JSON is the shared renderer's, ``aoinspect.documents``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aoinspect import outcomes
from aoinspect.render.markdown import cell, code, details, fenced, inline_html, ms, table
from aoinspect.render.text import counted

if TYPE_CHECKING:
    from aoinspect.diff import Diff, SubjectChange
    from aoinspect.render import RenderOptions


def render_text(diff: Diff, options: RenderOptions) -> str:
    del options
    return _text(diff)


def render_markdown(diff: Diff, options: RenderOptions) -> str:
    del options
    return _markdown(diff)


def render_diff_failure(message: str, fmt: str) -> str | None:
    """What stdout gets when the documents cannot be compared: the failure document where the
    format shows diff's failures (json), else nothing."""
    from aoinspect import formats
    from aoinspect.models import Failure
    from aoinspect.render import render

    if not formats.renders_failure_of(fmt, "diff"):
        return None
    return render(Failure("diff", "", "usage", message, outcomes.EXIT_USAGE), fmt)


def _count_change(change: SubjectChange) -> str:
    before, after = change.modules_before, change.modules_after
    if before is None:
        return f"new, {counted(after or 0, 'module')}"
    if after is None:
        return f"gone (had {counted(before, 'module')})"
    if before == after:
        return counted(after, "module")
    return f"{before} -> {counted(after, 'module')} ({after - before:+d})"


def _label(diff: Diff, change: SubjectChange) -> str:
    """A subject as the report that has it names it: one gone since the old report by the old
    package (``ao.nn``), any other by the new one."""
    return (diff.old if change.after is None else diff.new).label(change.name)


def _time_change(change: SubjectChange) -> str | None:
    if change.ms_before is None or change.ms_after is None:
        return None
    text = f"{change.ms_before:.2f} -> {change.ms_after:.2f} ms"
    if change.ratio is not None:
        text += f" (x{change.ratio:.2f})"
    return text


def _verdict(diff: Diff) -> list[str]:
    if diff.failed:
        return [f"FAILED --fail-on {condition.text}: {reason}" for condition, reason in diff.failed]
    if not diff.conditions:
        return [f"ok: no --fail-on condition was given{_unguarded(diff)}"]
    return [f"ok (--fail-on {', '.join(condition.text for condition in diff.conditions)} did not hold)"]


def _unguarded(diff: Diff) -> str:
    """Without --fail-on a diff exits 0 whatever it found: say so when it found something that
    --fail-on new-errors would fail on, so that 'ok' is not read as 'nothing broke'."""
    failing = sum(1 for change in diff.subjects if change.newly_failing)
    errors = sum(1 for finding in diff.new_findings if finding.severity == outcomes.SEVERITY_ERROR)
    facts = [f"{failing} name(s) now fail"] if failing else []
    facts += [f"{errors} new error finding(s)"] if errors else []
    facts = (["the new run failed"] if diff.new_run_error else []) + facts
    return f" ({' and '.join(facts)}: --fail-on new-errors would fail on that)" if facts else ""


# --- text ---------------------------------------------------------------------------------------


def _text(diff: Diff) -> str:
    package = diff.new.package
    lines = [f"diff {diff.new.command} {package}: {diff.old.path} -> {diff.new.path} (threshold {diff.threshold})"]
    if diff.old.package != diff.new.package:
        what = "programs" if diff.new.command == "trace" else "packages"
        lines.append(f"note: the {what} differ ({diff.old.package} -> {package})")
    for side, label in ((diff.old, "old"), (diff.new, "new")):
        if side.error:
            lines.append(f"the {label} run failed: {side.error}")
    changed = diff.changed
    for change in changed:
        facts = [_count_change(change)]
        time = _time_change(change)
        if time and change.time_changed:
            facts.append(time)
        if change.newly_failing:
            facts.append(f"now fails: {change.after.error if change.after else ''}")
        if change.newly_ok:
            facts.append("now resolves")
        lines.append(f"{_label(diff, change)}: " + ", ".join(facts))
        lines.extend(f"  + {module}" for module in change.added)
        lines.extend(f"  - {module}" for module in change.removed)
    unchanged = len(diff.subjects) - len(changed)
    if unchanged:
        lines.append(f"{unchanged} unchanged beyond the threshold")
    for title, findings in (("new findings", diff.new_findings), ("resolved findings", diff.resolved_findings)):
        if findings:
            lines.append(f"{title}:")
            lines.extend(f"  {finding.severity} {finding.rule} {finding.name or '-'}: {finding.message}"
                         for finding in findings)
    lines.extend(_verdict(diff))
    return "\n".join(lines)


# --- markdown -----------------------------------------------------------------------------------


def _markdown(diff: Diff) -> str:
    package = diff.new.package
    if diff.failed:
        verdict = "❌ failed"
    elif diff.conditions:
        verdict = "✅ ok"
    else:
        verdict = "☑️ no --fail-on given" + cell(_unguarded(diff))
    lines = [f"### aoinspect diff: {cell(diff.new.command)} {code(package)}: {verdict}", ""]
    for condition, reason in diff.failed:
        lines.append(f"- **--fail-on {cell(condition.text)}**: {cell(reason)}")
    for side, label in ((diff.old, "old"), (diff.new, "new")):
        if side.error:
            lines.append(f"- the {label} run failed: {cell(side.error)}")
    if lines[-1]:
        lines.append("")
    changed = diff.changed
    if changed:
        rows = []
        for change in changed:
            status = "new" if change.before is None else "gone" if change.after is None else ""
            if change.newly_failing:
                status = "now fails"
            elif change.newly_ok:
                status = "now resolves"
            delta = ("" if change.modules_before is None or change.modules_after is None
                     else f"{change.modules_after - change.modules_before:+d}")
            time = ""
            if change.ms_before is not None or change.ms_after is not None:
                time = f"{ms(change.ms_before)} → {ms(change.ms_after)}"
            ratio = f"x{change.ratio:.2f}" if change.ratio is not None and change.time_changed else ""
            rows.append((code(_label(diff, change)), status,
                         f"{change.modules_before if change.modules_before is not None else '-'} → "
                         f"{change.modules_after if change.modules_after is not None else '-'}",
                         delta, str(len(change.added)), str(len(change.removed)), time, ratio))
        lines += table(("subject", "status", "modules", "Δ", "added", "removed", "total ms", "time"), rows,
                       right=(3, 4, 5, 6, 7))
        lines.append("")
    else:
        lines += [f"No module or time changes beyond the threshold ({cell(str(diff.threshold))}).", ""]
    for change in changed:
        if change.added or change.removed:
            body = fenced("diff", [f"+ {module}" for module in change.added] +
                          [f"- {module}" for module in change.removed])
            summary = f"{_label(diff, change)}: +{len(change.added)} -{len(change.removed)} modules"
            lines += [*details(inline_html(summary), body), ""]
    for title, findings in (("New findings", diff.new_findings), ("Resolved findings", diff.resolved_findings)):
        if findings:
            lines += [f"**{title}**", ""]
            lines += table(("severity", "rule", "name", "message"),
                           ((cell(f.severity), code(f.rule), code(f.name) or "-", cell(f.message)) for f in findings))
            lines.append("")
    lines.append(f"<sub>{inline_html(diff.old.path)} → {inline_html(diff.new.path)}, "
                 f"threshold {inline_html(str(diff.threshold))}</sub>")
    return "\n".join(lines) + "\n"
