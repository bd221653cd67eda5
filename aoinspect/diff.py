"""``aoinspect diff``: compare two JSON reports of the same command. Pure, apart from reading the files.

A report holds *subjects*: ``import PKG`` (name None) and each NAME it resolved (or, for a
snapshot, recorded). For each subject present in either report the diff lists the modules added
and removed, the change in module count, and a change in total import time when it exceeds the
noise threshold; then the findings that are new and those that are resolved. ``--fail-on``
conditions turn any of that into exit code 1.
"""

from __future__ import annotations

import os
import re
import stat
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Hashable, Mapping, Sequence

from aoinspect import schema
from aoinspect.errors import AoinspectError
from aoinspect.patterns import matches

MAX_DOCUMENT_BYTES = 256 * 1024 * 1024  # a resolve --all of a huge package is tens of MB
COMPARABLE_COMMANDS = ("resolve", "check", "list", "snapshot", "trace")

# --fail-on conditions: KIND or KIND:ARGUMENT.
FAIL_NEW_ERRORS = "new-errors"  # a new error finding, a NAME that now fails, or a run that now fails
FAIL_NEW_FINDINGS = "new-findings"  # a new error or warning finding
FAIL_ADDED = "added"  # added:PATTERN, or bare: any module added to any subject
FAIL_MORE_MODULES = "more-modules"  # more-modules:N: a subject loads N or more modules than before
FAIL_TIME_RATIO = "time-ratio"  # time-ratio:R: a subject's total time is R times the old, beyond the ms floor
FAIL_ANY = "any"  # any change the diff reports


class DocumentError(AoinspectError):
    """A file that cannot be read, or is not a JSON report of aoinspect, or two that do not compare."""

    exit_code = schema.EXIT_USAGE
    kind = "usage"


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
        return len(self.before.modules) if self.before else None

    @property
    def modules_after(self) -> int | None:
        return len(self.after.modules) if self.after else None

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
    """Read and check one JSON report: a regular file, at most MAX_DOCUMENT_BYTES, of a known shape."""
    import json

    try:
        # O_NONBLOCK: opening a FIFO must not hang; it is then refused as not a regular file.
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise DocumentError(f"cannot read {path}: {exc.strerror or exc}.") from None
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise DocumentError(f"{path} is not a regular file.")
        if info.st_size > MAX_DOCUMENT_BYTES:
            raise DocumentError(f"{path} is larger than {MAX_DOCUMENT_BYTES // 2**20} MiB.")
        with os.fdopen(descriptor, "rb", closefd=False) as stream:
            data = stream.read(MAX_DOCUMENT_BYTES + 1)  # the file may have grown since fstat
    except OSError as exc:
        raise DocumentError(f"cannot read {path}: {exc.strerror or exc}.") from None
    finally:
        os.close(descriptor)
    if len(data) > MAX_DOCUMENT_BYTES:
        raise DocumentError(f"{path} is larger than {MAX_DOCUMENT_BYTES // 2**20} MiB.")
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise DocumentError(f"{path} is not valid JSON: {exc}.") from None
    return report_from_document(path, document)


READABLE_SCHEMAS = (1, schema.SCHEMA_VERSION)


def report_from_document(path: str, document: object) -> Side:
    reader = _Reader(path)
    top = reader.mapping(document, "the document")
    # Schema 2 only added keys that diff does not read: a base branch's older report still compares.
    if top.get("schema") not in READABLE_SCHEMAS:
        raise DocumentError(
            f"{path} is not an aoinspect JSON report of schema {' or '.join(map(str, READABLE_SCHEMAS))} "
            f"(its schema is {top.get('schema')!r})."
        )
    command = top.get("command")
    if command not in COMPARABLE_COMMANDS:
        raise DocumentError(f"{path}: cannot compare {command!r} reports ({', '.join(COMPARABLE_COMMANDS)}).")
    if command == "trace":  # a trace's subject is the program, as it was run
        package = "python " + " ".join(reader.string(part, f"program[{index}]")
                                       for index, part in enumerate(reader.sequence(top.get("program"), "program")))
    else:
        package = reader.string(top.get("package"), "package")
    if top.get("error") is not None:
        error = reader.mapping(top["error"], "error")
        return Side(path, command, package, (), (), str(error.get("message") or error.get("kind") or "failed"))
    subjects = reader.subjects(command, top)
    findings = tuple(reader.finding(item, f"findings[{index}]")
                     for index, item in enumerate(reader.sequence(top.get("findings", []), "findings")))
    return Side(path, command, package, subjects, findings)


class _Reader:
    """Checks the parts of a document the diff reads, naming the first one that is wrong."""

    def __init__(self, path: str) -> None:
        self.path = path

    def fail(self, where: str, expected: str) -> DocumentError:
        return DocumentError(f"{self.path}: {where} is not {expected}.")

    def mapping(self, value: object, where: str) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, "an object")
        return value

    def sequence(self, value: object, where: str) -> Sequence[Any]:
        if not isinstance(value, list):
            raise self.fail(where, "a list")
        return value

    def string(self, value: object, where: str) -> str:
        if not isinstance(value, str):
            raise self.fail(where, "a string")
        return value

    def number(self, value: object, where: str) -> float | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(where, "a number")
        return float(value)

    def names(self, value: object, where: str) -> frozenset[str]:
        return frozenset(self.string(item, f"{where}[{index}]")
                         for index, item in enumerate(self.sequence(value, where)))

    def loads(self, value: object, where: str) -> tuple[frozenset[str], float]:
        modules: set[str] = set()
        top_level_ms = 0.0
        for index, item in enumerate(self.sequence(value, where)):
            load = self.mapping(item, f"{where}[{index}]")
            modules.add(self.string(load.get("module"), f"{where}[{index}].module"))
            cumulative = self.number(load.get("cumulative_ms"), f"{where}[{index}].cumulative_ms")
            if load.get("depth") == 0 and cumulative is not None:
                top_level_ms += cumulative
        return frozenset(modules), round(top_level_ms, 4)

    def timed(self, part: Mapping[str, Any], where: str) -> Subject:
        modules, top_level_ms = self.loads(part.get("materialized"), f"{where}.materialized")
        total = self.number(part.get("total_ms"), f"{where}.total_ms")
        return Subject(None, modules, top_level_ms if total is None else total)

    def subjects(self, command: str, top: Mapping[str, Any]) -> tuple[Subject, ...]:
        subjects: list[Subject] = []
        imported = top.get("import")
        if command == "trace":
            # One subject, the program: what it loaded, and how long its imports took.
            modules, _top_level_ms = self.loads(top.get("loads", []), "loads")
            ok = top.get("ok", True) is not False
            return (Subject(None, modules, self.number(top.get("total_ms"), "total_ms"), ok,
                            None if ok else str(top.get("ending") or "failed")),)
        if command == "snapshot":
            subjects.append(Subject(None, self.names(imported, "import"), None))
            for name, modules in sorted(self.mapping(top.get("names", {}), "names").items()):
                subjects.append(Subject(name, self.names(modules, f"names.{name}"), None))
            return tuple(subjects)
        if imported is not None:  # null in check when the import failed
            subjects.append(self.timed(self.mapping(imported, "import"), "import"))
        for index, item in enumerate(self.sequence(top.get("results", []), "results")):
            where = f"results[{index}]"
            result = self.mapping(item, where)
            name = self.string(result.get("name"), f"{where}.name")
            measured = self.timed(result, where)
            error = result.get("error")
            message = None
            if isinstance(error, dict):
                message = f"{error.get('type', 'Exception')}: {error.get('message', '')}".rstrip(": ")
            ok = result.get("ok", True) is not False
            subjects.append(Subject(name, measured.modules, measured.total_ms, ok, message))
        return tuple(subjects)

    def finding(self, value: object, where: str) -> FindingRef:
        item = self.mapping(value, where)
        name = item.get("name")
        return FindingRef(
            self.string(item.get("rule"), f"{where}.rule"),
            self.string(item.get("severity"), f"{where}.severity"),
            None if name is None else self.string(name, f"{where}.name"),
            self.string(item.get("message"), f"{where}.message"),
        )


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
