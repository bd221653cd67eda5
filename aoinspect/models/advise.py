"""Typed, frozen results of ``aoinspect advise``: which import statements PEP 810 lets a package
make lazy, what deferring each one saves (modules, and time measured in fresh children), where
deferral would be undone during the import, what it would delay, and the risks seen. The advise
renderers and ``--fail-on`` only read these."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aoinspect import outcomes

if TYPE_CHECKING:
    from aoinspect.models import Finding

# A statement's decision.
LAZY = "lazy"  # allowed, saves modules, not undone during the import, no effect delayed
KEEP = "keep"  # allowed, but deferring it saves nothing, is undone at import, or delays an effect
NOT_ALLOWED = "not allowed"  # PEP 810 refuses it lazy there (in try/except, a function, a class, ...)
DECISIONS = (LAZY, KEEP, NOT_ALLOWED)


@dataclass(frozen=True)
class Timing:
    """Time saved by deferring, measured in fresh children interleaved with the undeferred
    import: ``saved_ms`` is the median of the per-round differences, ``spread_ms`` half their
    interquartile range; ``within_noise`` when the two runs cannot be told apart."""

    saved_ms: float
    spread_ms: float
    undeferred_ms: float  # median of the undeferred import
    deferred_ms: float  # median of the deferred import
    runs: int  # rounds: each an undeferred and a deferred child

    @property
    def within_noise(self) -> bool:
        """Fewer than three rounds, or a median difference no larger than the interquartile range
        of the differences (twice ``spread_ms``): a loaded machine's noise is not a saving."""
        return self.runs < 3 or abs(self.saved_ms) <= 2 * self.spread_ms

    def __str__(self) -> str:
        if self.within_noise:
            return "within noise"
        return f"{self.saved_ms:.1f} ms ± {self.spread_ms:.1f}"


@dataclass(frozen=True)
class Place:
    """A line of source: where a deferred name is first used, or a link of a chain."""

    file: str
    line: int
    module: str | None = None  # the module whose file it is, when known
    text: str | None = None  # what the line does there (``import b``), when known

    @property
    def location(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Effect:
    """Something the target did when it ran that deferral would delay or cancel: an ``atexit``
    callback, a signal handler, a ``sys.path`` change, a registry that grew..."""

    kind: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.detail}"


@dataclass(frozen=True)
class Advice:
    """One import statement executed while importing the package (or starting the program)."""

    module: str  # the module whose file holds the statement
    file: str
    line: int
    text: str  # the statement, as written (first line)
    decision: str  # LAZY, KEEP or NOT_ALLOWED
    reason: str  # why, for people: "saves 13 modules", "in a function", "used at import: a.py:12"
    entry: str | None  # the exact __lazy_modules__ entry that selects it (None: PEP 810 refuses it)
    targets: tuple[str, ...] = ()  # the modules it imports, fully qualified
    saved: tuple[str, ...] = ()  # the modules that stop loading when it alone is deferred
    timing: Timing | None = None  # None: not measured (nothing saved, or past the budget)
    reified: Place | None = None  # where deferral would be undone during the import
    kept_by: tuple[Place, ...] = ()  # when nothing is saved: the chain that keeps the target loaded
    effects: tuple[Effect, ...] = ()
    risks: tuple[str, ...] = ()
    declared: bool = False  # its entry is already in the module's __lazy_modules__

    @property
    def location(self) -> str:
        return f"{self.file}:{self.line}"

    @property
    def measured(self) -> str:
        """The time column: ``12.3 ms ± 0.4``, ``within noise`` or ``not measured``."""
        if self.timing is None:
            return "-" if not self.saved else "not measured"
        return str(self.timing)


@dataclass(frozen=True)
class EntryAdvice:
    """One ``__lazy_modules__`` entry of one module: every statement of that file it selects,
    and what deferring them all saves."""

    module: str  # the module whose __lazy_modules__ would hold it
    file: str
    entry: str
    lines: tuple[int, ...]  # the statements it selects
    decision: str  # LAZY when every statement it selects is LAZY, else KEEP
    saved: tuple[str, ...] = ()
    timing: Timing | None = None
    declared: bool = False


@dataclass(frozen=True)
class StaleEntry:
    """An entry of an existing ``__lazy_modules__`` that selects no import statement of its file
    (matching is exact: a truncated or misspelled name silently stays eager)."""

    module: str
    file: str
    line: int  # where __lazy_modules__ is assigned
    entry: str
    reason: str = "selects no import statement of the file"
    closest: str | None = None  # the entry that would select a statement, when one is close


@dataclass(frozen=True)
class FailCondition:
    """One ``--fail-on`` condition: ``saving>5ms``, ``saving>10`` (modules), ``stale-entry``,
    ``reified-entry``."""

    text: str
    kind: str  # "saving-ms", "saving-modules", "stale-entry", "reified-entry"
    limit: float = 0.0


FAIL_ON_WORDS = ("stale-entry", "reified-entry")
_SAVING = re.compile(r"^saving\s*>\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|modules?)?$")


def parse_fail_on(text: str) -> FailCondition:
    """``saving>5ms`` (an eager import that would save more than 5 ms, measured), ``saving>10``
    or ``saving>10modules`` (more than 10 modules), ``stale-entry``, ``reified-entry``;
    ``ValueError`` otherwise."""
    word = text.strip().lower()
    if word in FAIL_ON_WORDS:
        return FailCondition(text, word)
    match = _SAVING.match(word)
    if match is None:
        raise ValueError(f"{text!r} is not saving>MSms, saving>N (modules), {' or '.join(FAIL_ON_WORDS)}")
    limit = float(match.group(1))
    unit = match.group(2) or "modules"
    return FailCondition(text, "saving-ms" if unit == "ms" else "saving-modules", limit)


@dataclass(frozen=True)
class AdviseReport:
    package: str
    python: str  # the target interpreter's version, e.g. "3.12.3": results hold for it
    lazy_annotations: bool  # annotations are evaluated lazily there (PEP 649, 3.14+)
    advice: tuple[Advice, ...]
    entries: tuple[EntryAdvice, ...] = ()
    stale: tuple[StaleEntry, ...] = ()
    recommended: tuple[tuple[str, str], ...] = ()  # (module, entry) of the recommended set
    combined_saved: tuple[str, ...] = ()  # modules the recommended set saves, as a set
    combined: Timing | None = None  # the recommended set's saving, measured as a set
    modules: int = 0  # modules the undeferred import loads
    entry_code: str | None = None  # --entry CODE
    program: tuple[str, ...] = ()  # advise -- PROGRAM
    budget_s: float = 0.0
    notes: tuple[str, ...] = ()  # how it was measured, what was left out
    fail_on: tuple[FailCondition, ...] = ()
    findings: tuple[Finding, ...] = ()  # the --fail-on conditions that held, one finding each

    @property
    def subject(self) -> str:
        """What was advised on: ``import PKG``, the entry code, or ``python PROGRAM``."""
        if self.program:
            return "python " + " ".join(self.program)
        return self.entry_code if self.entry_code else f"import {self.package}"

    @property
    def ok(self) -> bool:
        return not any(finding.severity == outcomes.SEVERITY_ERROR for finding in self.findings)

    @property
    def exit_code(self) -> int:
        return max((finding.exit_code for finding in self.findings
                    if finding.severity == outcomes.SEVERITY_ERROR), default=outcomes.EXIT_OK)

    @property
    def lazy(self) -> tuple[Advice, ...]:
        return tuple(advice for advice in self.advice if advice.decision == LAZY)
