"""``aoinspect diff``: compare two JSON reports of the same command. Pure, apart from reading the files.

A report holds *subjects*: ``import PKG`` (name None) and each NAME it resolved (or, for a
snapshot, recorded). For each subject present in either report the diff lists the modules added
and removed, the change in module count, and a change in total import time when it exceeds the
noise threshold; then the findings that are new and those that are resolved. ``--fail-on``
conditions turn any of that into exit code 1.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Callable, Hashable, Sequence

from aoinspect import outcomes
from aoinspect.documents import DocumentError as DocumentError  # raised here too; the CLI catches it
from aoinspect.models import total_ms
from aoinspect.models.diff import (
    FAIL_ADDED as FAIL_ADDED,
)
from aoinspect.models.diff import (
    FAIL_ANY as FAIL_ANY,
)
from aoinspect.models.diff import (
    FAIL_MORE_MODULES as FAIL_MORE_MODULES,
)
from aoinspect.models.diff import (
    FAIL_NEW_ERRORS as FAIL_NEW_ERRORS,
)
from aoinspect.models.diff import (
    FAIL_NEW_FINDINGS as FAIL_NEW_FINDINGS,
)
from aoinspect.models.diff import (
    FAIL_TIME_RATIO as FAIL_TIME_RATIO,
)
from aoinspect.models.diff import (
    Diff as Diff,
)
from aoinspect.models.diff import (
    FailOn as FailOn,
)
from aoinspect.models.diff import (
    FindingRef as FindingRef,
)
from aoinspect.models.diff import (
    Side as Side,
)
from aoinspect.models.diff import (
    Subject as Subject,
)
from aoinspect.models.diff import (
    SubjectChange as SubjectChange,
)
from aoinspect.models.diff import (
    Threshold as Threshold,
)
from aoinspect.models.diff import (
    parse_fail_on as parse_fail_on,
)
from aoinspect.models.diff import (
    parse_threshold as parse_threshold,
)
from aoinspect.models.diff import (
    subject_label as subject_label,
)
from aoinspect.patterns import matches

MAX_DOCUMENT_BYTES = 256 * 1024 * 1024  # a resolve --all of a huge package is tens of MB
COMPARABLE_COMMANDS = ("resolve", "check", "list", "snapshot", "trace")

# --- reading ------------------------------------------------------------------------------------


def read_report(path: str) -> Side:
    """Read one JSON report through the one decoder (``aoinspect.documents``): a regular file, at
    most MAX_DOCUMENT_BYTES, of a known shape."""
    from aoinspect import documents

    return report_from_document(path, documents.parse(path, MAX_DOCUMENT_BYTES))


def report_from_document(path: str, document: object) -> Side:
    """The side of a diff a JSON document gives, decoded and checked by ``aoinspect.documents``."""
    from aoinspect import documents

    if isinstance(document, dict) and documents.readable_schema(document.get("schema")):
        command = document.get("command")
        if command not in COMPARABLE_COMMANDS:
            raise DocumentError(f"{path}: cannot compare {command!r} reports ({', '.join(COMPARABLE_COMMANDS)}).")
    return side_of(path, documents.decode(document, path))


def side_of(path: str, report: Any) -> Side:
    """What a typed report says about each subject, and its findings."""
    from aoinspect.models import Failure, Snapshot
    from aoinspect.models.trace import TraceReport

    if isinstance(report, TraceReport):  # one subject, the program: what it loaded, and how long
        program = "python " + " ".join(report.program)
        ok = report.ok
        # The modules every view of the trace counts (TraceReport.module_count): failed imports apart.
        modules = frozenset({load.module for load in report.loaded} | set(report.inserted))
        subject = Subject(None, modules, report.total_ms, ok,
                          None if ok else report.ending or "failed")
        return Side(path, "trace", program, (subject,), _refs(report.findings))
    if isinstance(report, Failure):
        return Side(path, report.command, report.package, (), (), report.message or report.kind or "failed")
    if isinstance(report, Snapshot):
        subjects = [Subject(None, frozenset(report.imported), None)]
        subjects += [Subject(name, frozenset(modules), None) for name, modules in sorted(report.names)]
        return Side(path, "snapshot", report.package, tuple(subjects))
    command = {"ListReport": "list", "ResolveReport": "resolve", "CheckReport": "check"}[type(report).__name__]
    subjects = []
    if report.imported is not None:  # None in check when the import failed
        loads = report.imported.materialized
        subjects.append(Subject(None, frozenset(load.module for load in loads), total_ms(loads)))
    for result in getattr(report, "resolutions", None) or getattr(report, "results", None) or ():
        error = result.error
        message = f"{error.type}: {error.message}".rstrip(": ") if error is not None else None
        loads = result.materialized
        subjects.append(Subject(result.name, frozenset(load.module for load in loads), total_ms(loads), result.ok,
                                message))
    return Side(path, command, report.package, tuple(subjects), _refs(getattr(report, "findings", ())))


def _refs(findings: Sequence[Any]) -> tuple[FindingRef, ...]:
    return tuple(FindingRef(finding.rule, finding.severity, finding.name, finding.message) for finding in findings)


# --- comparing ----------------------------------------------------------------------------------


def compare(old: Side, new: Side, threshold: Threshold, conditions: Sequence[FailOn] = ()) -> Diff:
    if old.command != new.command:
        raise DocumentError(
            f"{old.path} is a {old.command} report and {new.path} a {new.command} report; "
            "diff compares two reports of the same command."
        )
    before = {subject.name: subject for subject in old.subjects}
    after = {subject.name: subject for subject in new.subjects}
    names: list[str | None] = list(dict.fromkeys([*before, *after]))
    changes = []
    for name in names:
        was, now = before.get(name), after.get(name)
        old_modules = was.modules if was else frozenset()
        new_modules = now.modules if now else frozenset()
        time_changed = bool(
            was and now and was.total_ms is not None and now.total_ms is not None
            and threshold.exceeded(was.total_ms, now.total_ms)
        )
        changes.append(SubjectChange(
            name, was, now,
            added=tuple(sorted(new_modules - old_modules)) if now else (),
            removed=tuple(sorted(old_modules - new_modules)) if was else (),
            time_changed=time_changed,
        ))
    new_findings, resolved_findings = _unmatched(old.findings, new.findings)
    diff = Diff(
        old, new, threshold, tuple(changes),
        new_findings=new_findings,
        resolved_findings=resolved_findings,
        conditions=tuple(conditions),
    )
    failed = tuple((condition, reason) for condition in conditions if (reason := _holds(diff, condition)))
    return Diff(diff.old, diff.new, diff.threshold, diff.subjects, diff.new_findings, diff.resolved_findings,
                diff.conditions, failed)


def _unmatched(
    old: Sequence[FindingRef], new: Sequence[FindingRef],
) -> tuple[tuple[FindingRef, ...], tuple[FindingRef, ...]]:
    """The findings only in ``new`` and those only in ``old``. Findings are paired first by rule,
    severity, name and message (numbers aside), then what is left by rule, severity and name
    alone: a warning whose message lists names or modules (star-import, missing-dir) is the same
    finding after the list changes, not a new one and a resolved one."""
    new_left = _beyond(new, old, lambda finding: finding.key)
    old_left = _beyond(old, new, lambda finding: finding.key)
    return (_beyond(new_left, old_left, lambda finding: finding.place),
            _beyond(old_left, new_left, lambda finding: finding.place))


def _beyond(
    findings: Sequence[FindingRef], others: Sequence[FindingRef], key: Callable[[FindingRef], Hashable],
) -> tuple[FindingRef, ...]:
    """The ``findings`` not matched, under ``key``, by one of ``others``, counting repeats."""
    left = Counter(key(other) for other in others)
    extra = []
    for finding in findings:
        if left[key(finding)] > 0:
            left[key(finding)] -= 1
        else:
            extra.append(finding)
    return tuple(extra)


def _holds(diff: Diff, condition: FailOn) -> str | None:
    """Why ``condition`` holds for ``diff``, or None."""
    label = diff.new.label
    if condition.kind == FAIL_NEW_ERRORS:
        reasons = [f"{finding.rule}: {finding.message}" for finding in diff.new_findings
                   if finding.severity == outcomes.SEVERITY_ERROR]
        reasons += [f"{label(change.name)} now fails: {change.after.error or 'failed'}"
                    for change in diff.subjects if change.newly_failing and change.after]
        if diff.new_run_error:
            reasons.insert(0, f"the new run failed: {diff.new.error}")
        return "; ".join(reasons) or None
    if condition.kind == FAIL_NEW_FINDINGS:
        found = [finding for finding in diff.new_findings if finding.severity != outcomes.SEVERITY_INFO]
        return f"{len(found)} new finding(s): " + ", ".join(finding.rule for finding in found) if found else None
    if condition.kind == FAIL_ADDED:
        hits = [
            f"{label(change.name)} adds {module}"
            for change in diff.subjects for module in change.added
            if condition.pattern is None or matches(module, condition.pattern)
        ]
        return _shorten(hits)
    if condition.kind == FAIL_MORE_MODULES:
        assert condition.number is not None
        grown = [
            f"{label(change.name)}: {change.modules_before} -> {change.modules_after} modules"
            for change in diff.subjects
            if change.modules_before is not None and change.modules_after is not None
            and change.modules_after - change.modules_before >= condition.number
        ]
        return _shorten(grown)
    if condition.kind == FAIL_TIME_RATIO:
        assert condition.number is not None
        slower = [
            f"{label(change.name)}: {change.ms_before:.1f} -> {change.ms_after:.1f} ms "
            f"(x{change.ratio:.2f})"
            for change in diff.subjects
            if change.ratio is not None and change.ratio >= condition.number and change.ms_before is not None
            and change.ms_after is not None and change.ms_after - change.ms_before >= diff.threshold.ms
        ]
        return _shorten(slower)
    if condition.kind == FAIL_ANY:
        count = len(diff.changed) + len(diff.new_findings) + len(diff.resolved_findings) + int(diff.new_run_error)
        return f"{count} change(s)" if count else None
    raise ValueError(f"unknown condition {condition.kind!r}")


def _shorten(reasons: list[str], limit: int = 5) -> str | None:
    if not reasons:
        return None
    shown = "; ".join(reasons[:limit])
    return shown + (f"; and {len(reasons) - limit} more" if len(reasons) > limit else "")
