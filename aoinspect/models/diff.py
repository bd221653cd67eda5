"""The typed report of ``aoinspect diff``: what changed between two reports, and the conditions
(``--fail-on``) and noise threshold it was judged by. The comparison itself is ``aoinspect.diff``."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from aoinspect import outcomes

# --fail-on conditions: KIND or KIND:ARGUMENT.
FAIL_NEW_ERRORS = "new-errors"  # a new error finding, a NAME that now fails, or a run that now fails
FAIL_NEW_FINDINGS = "new-findings"  # a new error or warning finding
FAIL_ADDED = "added"  # added:PATTERN, or bare: any module added to any subject
FAIL_MORE_MODULES = "more-modules"  # more-modules:N: a subject loads N or more modules than before
FAIL_TIME_RATIO = "time-ratio"  # time-ratio:R: a subject's total time is R times the old, beyond the ms floor
FAIL_ANY = "any"  # any change the diff reports


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
        number = float(match.group(1))
        if not math.isfinite(number):  # 400 digits are inf: no change would ever count
            raise ValueError(f"{part!r} is too large to be a finite number")
        if match.group(2) == "%":
            ratio = number / 100
        else:
            ms = number
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
        if not math.isfinite(number):  # nan never holds, inf never holds or overflows a count
            raise ValueError(f"{argument!r} in {text!r} is not a finite number")
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
        """New time over old; None without both, or when the old time is too close to 0 to divide
        by (0, or so small that the ratio is no finite number)."""
        if self.ms_before is None or self.ms_after is None or self.ms_before <= 0:
            return None
        ratio = self.ms_after / self.ms_before
        return ratio if math.isfinite(ratio) else None

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
        return outcomes.EXIT_OK if self.ok else outcomes.EXIT_FINDINGS


def subject_label(package: str, name: str | None) -> str:
    return f"import {package}" if name is None else f"{package}.{name}"
