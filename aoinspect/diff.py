"""``aoinspect diff``: compare two JSON reports of the same command. Pure, apart from reading the files.

A report holds *subjects*: ``import PKG`` (name None) and each NAME it resolved (or, for a
snapshot, recorded). For each subject present in either report the diff lists the modules added
and removed, the change in module count, and a change in total import time when it exceeds the
noise threshold; then the findings that are new and those that are resolved. ``--fail-on``
conditions turn any of that into exit code 1.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Hashable, Sequence

from aoinspect import schema
from aoinspect.documents import DocumentError as DocumentError  # raised here too; the CLI catches it
from aoinspect.models import total_ms
from aoinspect.patterns import matches

MAX_DOCUMENT_BYTES = 256 * 1024 * 1024  # a resolve --all of a huge package is tens of MB
COMPARABLE_COMMANDS = ("resolve", "check", "list", "snapshot", "trace")

DEFAULT_THRESHOLD = "10%,1ms"

# --fail-on conditions: KIND or KIND:ARGUMENT.
FAIL_NEW_ERRORS = "new-errors"  # a new error finding, a NAME that now fails, or a run that now fails
FAIL_NEW_FINDINGS = "new-findings"  # a new error or warning finding
FAIL_ADDED = "added"  # added:PATTERN, or bare: any module added to any subject
FAIL_MORE_MODULES = "more-modules"  # more-modules:N: a subject loads N or more modules than before
FAIL_TIME_RATIO = "time-ratio"  # time-ratio:R: a subject's total time is R times the old, beyond the ms floor
FAIL_ANY = "any"  # any change the diff reports
FAIL_KINDS = (FAIL_NEW_ERRORS, FAIL_NEW_FINDINGS, FAIL_ADDED, FAIL_MORE_MODULES, FAIL_TIME_RATIO, FAIL_ANY)


@dataclass(frozen=True)
class Threshold:
    """A time change counts when it is at least ``ratio`` of the old time *and* at least ``ms``."""

    ratio: float = 0.10
    ms: float = 1.0

    def exceeded(self, before: float, after: float) -> bool:
        change = abs(after - before)
        if change < self.ms or change == 0:
            return False
        return before <= 0 or change / before >= self.ratio

    def __str__(self) -> str:
        return f"{self.ratio * 100:g}%,{self.ms:g}ms"


def parse_threshold(text: str) -> Threshold:
    """``10%``, ``1ms`` or both, comma-separated (``10%,1ms``); a part left out is 0."""
    ratio = ms = 0.0
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not parts:
        raise ValueError("give a percentage, milliseconds or both, e.g. 10%,1ms")
    for part in parts:
        match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(%|ms)", part)
        if match is None:
            raise ValueError(f"{part!r} is neither N% nor Nms")
        if match.group(2) == "%":
            ratio = float(match.group(1)) / 100
        else:
            ms = float(match.group(1))
    return Threshold(ratio, ms)


@dataclass(frozen=True)
class FailOn:
    """One ``--fail-on`` condition, as given and parsed."""

    text: str
    kind: str
    pattern: str | None = None
    number: float | None = None


def parse_fail_on(text: str) -> FailOn:
    kind, separator, argument = text.partition(":")
    if kind in (FAIL_NEW_ERRORS, FAIL_NEW_FINDINGS, FAIL_ANY) and not separator:
        return FailOn(text, kind)
    if kind == FAIL_ADDED:
        if separator and not argument:
            raise ValueError("added:PATTERN needs a PATTERN")
        return FailOn(text, kind, pattern=argument or None)
    if kind in (FAIL_MORE_MODULES, FAIL_TIME_RATIO) and argument:
        try:
            number = float(argument)
        except ValueError:
            raise ValueError(f"{argument!r} in {text!r} is not a number") from None
        if kind == FAIL_TIME_RATIO and number <= 1:
            raise ValueError(f"{text!r}: the ratio must be above 1, e.g. time-ratio:1.2")
        if kind == FAIL_MORE_MODULES and (number < 1 or number != int(number)):
            raise ValueError(f"{text!r}: the count must be a whole number of at least 1")
        return FailOn(text, kind, number=number)
    known = "new-errors, new-findings, added[:PATTERN], more-modules:N, time-ratio:R, any"
    raise ValueError(f"{text!r} is not a condition ({known})")


@dataclass(frozen=True)
class FindingRef:
    rule: str
    severity: str
    name: str | None
    message: str

    @property
    def key(self) -> tuple[str, str, str | None, str]:
        # Times and counts in messages change from run to run; the finding is the same one.
        return self.rule, self.severity, self.name, re.sub(r"\d+(?:\.\d+)?", "#", self.message)

    @property
    def place(self) -> tuple[str, str, str | None]:
        return self.rule, self.severity, self.name


@dataclass(frozen=True)
class Subject:
    """What one report says about ``import PKG`` (name None) or one NAME."""

    name: str | None
    modules: frozenset[str]
    total_ms: float | None
    ok: bool = True
    error: str | None = None
    count: int | None = None  # read from a diff's document, which keeps the counts, not the modules

    @property
    def size(self) -> int:
        return len(self.modules) if self.count is None else self.count


@dataclass(frozen=True)
class Side:
    """One side of a diff, read from its file and checked."""

    path: str
    command: str
    package: str
    subjects: tuple[Subject, ...]
    findings: tuple[FindingRef, ...] = ()
    error: str | None = None  # the run produced no report: why

    def label(self, name: str | None) -> str:
        """How a subject is named: ``import PKG``, ``PKG.NAME``, or a trace's program."""
        return self.package if self.command == "trace" else subject_label(self.package, name)


@dataclass(frozen=True)
class SubjectChange:
    name: str | None
    before: Subject | None
    after: Subject | None
    added: tuple[str, ...]
    removed: tuple[str, ...]
    time_changed: bool

    @property
    def modules_before(self) -> int | None:
        return self.before.size if self.before else None

    @property
    def modules_after(self) -> int | None:
        return self.after.size if self.after else None

    @property
    def ms_before(self) -> float | None:
        return self.before.total_ms if self.before else None

    @property
    def ms_after(self) -> float | None:
        return self.after.total_ms if self.after else None

    @property
    def ratio(self) -> float | None:
        if self.ms_before is None or self.ms_after is None or self.ms_before <= 0:
            return None
        return self.ms_after / self.ms_before

    @property
    def newly_failing(self) -> bool:
        return self.after is not None and not self.after.ok and (self.before is None or self.before.ok)

    @property
    def newly_ok(self) -> bool:
        return self.before is not None and not self.before.ok and self.after is not None and self.after.ok

    @property
    def changed(self) -> bool:
        return (self.before is None or self.after is None or bool(self.added or self.removed)
                or self.time_changed or self.newly_failing or self.newly_ok)


@dataclass(frozen=True)
class Diff:
    old: Side
    new: Side
    threshold: Threshold
    subjects: tuple[SubjectChange, ...]
    new_findings: tuple[FindingRef, ...]
    resolved_findings: tuple[FindingRef, ...]
    conditions: tuple[FailOn, ...] = ()
    failed: tuple[tuple[FailOn, str], ...] = field(default=())  # each condition that held, and why

    @property
    def changed(self) -> tuple[SubjectChange, ...]:
        return tuple(change for change in self.subjects if change.changed)

    @property
    def new_run_error(self) -> bool:
        return self.new.error is not None and self.old.error is None

    @property
    def ok(self) -> bool:
        return not self.failed

    @property
    def exit_code(self) -> int:
        return schema.EXIT_OK if self.ok else schema.EXIT_FINDINGS


def subject_label(package: str, name: str | None) -> str:
    return f"import {package}" if name is None else f"{package}.{name}"


# --- reading ------------------------------------------------------------------------------------


def read_report(path: str) -> Side:
    """Read one JSON report through the one decoder (``aoinspect.documents``): a regular file, at
    most MAX_DOCUMENT_BYTES, of a known shape."""
    from aoinspect import documents

    return report_from_document(path, documents.parse(path, MAX_DOCUMENT_BYTES))


def report_from_document(path: str, document: object) -> Side:
    """The side of a diff a JSON document gives, decoded and checked by ``aoinspect.documents``."""
    from aoinspect import documents

    if isinstance(document, dict) and document.get("schema") in documents.READABLE_SCHEMAS:
        command = document.get("command")
        if command not in COMPARABLE_COMMANDS:
            raise DocumentError(f"{path}: cannot compare {command!r} reports ({', '.join(COMPARABLE_COMMANDS)}).")
    return side_of(path, documents.decode(document, path))


def side_of(path: str, report: Any) -> Side:
    """What a typed report says about each subject, and its findings."""
    from aoinspect.models import Failure, Snapshot
    from aoinspect.tracing.models import TraceReport

    if isinstance(report, TraceReport):  # one subject, the program: what it loaded, and how long
        program = "python " + " ".join(report.program)
        ok = report.ok
        subject = Subject(None, frozenset(load.module for load in report.loads), report.total_ms, ok,
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
                   if finding.severity == schema.SEVERITY_ERROR]
        reasons += [f"{label(change.name)} now fails: {change.after.error or 'failed'}"
                    for change in diff.subjects if change.newly_failing and change.after]
        if diff.new_run_error:
            reasons.insert(0, f"the new run failed: {diff.new.error}")
        return "; ".join(reasons) or None
    if condition.kind == FAIL_NEW_FINDINGS:
        found = [finding for finding in diff.new_findings if finding.severity != schema.SEVERITY_INFO]
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
