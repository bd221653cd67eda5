"""What a rule is, and what it sees: the ``check`` command's measurements of one package.

A rule is one object: its id, severity, a one-line summary, the fix it asks for, the probes it
needs (``plan``) and the function that turns measurements into findings (``find``). ``check``,
``--ignore``, JSON, JUnit, the text renderer and the README's table all read the registry
(``aoinspect.rules.RULES``); a rule id is written once, where its rule is defined.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable

from aoinspect import schema
from aoinspect.models import Finding

if TYPE_CHECKING:
    from collections.abc import Sequence

    from aoinspect.models import (
        CheckOptions,
        Declarations,
        DeclaredName,
        ImportResult,
        PackageInfo,
        Resolution,
        Snapshot,
    )
    from aoinspect.planning import Outcome, Plan


@dataclass
class CheckContext:
    """Everything ``check`` measured and read about one package, for the rules to judge."""

    package: str
    info: PackageInfo
    declarations: Declarations
    names: tuple[DeclaredName, ...]
    lazy: list[str]  # declared names absent after import, which an access can look up
    eager: list[str]  # declared names already in the namespace after import
    options: CheckOptions
    baseline: Snapshot | None = None
    imported: ImportResult | None = None  # merged over --repeat once the plan has run
    resolutions: dict[str, Outcome[Resolution]] = field(default_factory=dict)  # lazy and asked-for names
    planned: dict[str, Any] = field(default_factory=dict)  # rule id -> what its plan returned

    def resolution(self, name: str) -> Resolution:
        return self.resolutions[name].value

    @property
    def import_result(self) -> ImportResult:
        assert self.imported is not None
        return self.imported


@dataclass(frozen=True)
class Rule:
    """One promise ``check`` verifies."""

    id: str
    severity: str  # of its findings, unless a finding says otherwise
    summary: str  # one line: --help, the README's table
    fix: str  # what a maintainer does about it
    find: Callable[[Rule, CheckContext], Iterable[Finding]] | None = None
    plan: Callable[[Rule, CheckContext, Plan], Any] | None = None
    enabled: Callable[[CheckOptions], bool] = lambda options: True
    per_name: bool = False  # judges one name at a time (JUnit: a test case per name)
    exit_code: int = schema.EXIT_FINDINGS
    option: str | None = None  # the option that turns it on, for CI contracts

    def finding(self, name: str | None, message: str, severity: str | None = None) -> Finding:
        return Finding(self.id, severity or self.severity, name, message, self.exit_code)


def shown(items: Sequence[str], limit: int = 8) -> str:
    """``a, b, c and 12 more``: lists in messages stay one readable line."""
    text = ", ".join(items[:limit])
    return text + (f" and {len(items) - limit} more" if len(items) > limit else "")
