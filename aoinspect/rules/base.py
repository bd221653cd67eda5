"""What a rule is, and what it sees: the ``check`` command's measurements of one package.

A rule is one object: its id, severity, a one-line summary, its documentation (what it checks,
why it matters, an example, the fix), the probes it needs (``plan``) and the function that turns
measurements into findings (``find``). ``check``, ``--ignore``, ``aoinspect rule``, JSON, JUnit,
SARIF, the text renderer, the docs' rule pages and the README's list all read the registry
(``aoinspect.rules.RULES``); a rule id is written once, where its rule is defined (or, for the
failures the engine raises, on the error class: ``errors.PackageImportFailed.kind``).
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable

from aoinspect import outcomes
from aoinspect.models import Finding

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

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
    timeout: float = 60.0  # --timeout: each probe's deadline, unless a rule gives its probe a longer one
    python: str | None = None  # --python: the interpreter a rule's own child runs (None: this one)
    isolation: str = "auto"  # --isolation ("fork-each" under --exact): how probes may share a child
    # What the probes that load the whole package wait for (None: every resolution). Where check
    # predicts, the predicting child, which says what touching every name costs: they then run
    # beside the forks of the names it did not predict.
    whole_package_after: list[Outcome[Any]] | None = None
    whole_package_s: float | None = None  # their deadline, once computed: one for all of them
    notes: list[str] = field(default_factory=list)  # what the report should say about how it was measured
    verifying: Any = None  # aoinspect.predicting.Predictions whose verified names are compared once measured
    # One finding a name, never one for many: how the engine asks which names a package-wide finding is about.
    per_name: bool = False
    # What a rule derives from the package's files once a check (the findings are asked for up to
    # twice: as they are and one a name), by the rule's own key.
    derived: dict[str, Any] = field(default_factory=dict)

    def resolution(self, name: str) -> Resolution:
        return self.resolutions[name].value

    @property
    def import_result(self) -> ImportResult:
        assert self.imported is not None
        return self.imported


@dataclass(frozen=True)
class Example:
    """A package that breaks a rule, and what ``check`` says of it, copied from a real run;
    tests/test_rule_docs.py writes the files again, runs the command and compares."""

    files: tuple[tuple[str, str], ...]  # (path, text), written under a directory on PYTHONPATH
    args: tuple[str, ...]  # the command line after ``aoinspect``, run in that directory
    output: str  # the rule's findings, one a line: ``severity  rule (name): message``
    about: str = ""  # what the files alone do not say (Markdown)

    @property
    def command(self) -> str:
        return " ".join(("aoinspect", *self.args))


def example(files: Mapping[str, str], args: str, output: str, about: str = "") -> Example:
    """An ``Example`` written the readable way: FILES' texts indented as the code around them and
    dedented here, ARGS one string split on spaces."""
    texts = tuple((path, textwrap.dedent(text).lstrip("\n")) for path, text in files.items())
    return Example(texts, tuple(args.split()), output, about)


@dataclass(frozen=True)
class Rule:
    """One promise ``check`` verifies, and its documentation (``aoinspect rule ID`` prints it)."""

    id: str
    severity: str  # of its findings, unless a finding says otherwise
    summary: str  # one line: --help, the README's list, SARIF's short description
    fix: str  # what a maintainer does about it: a sentence, also quoted in some findings
    what: str  # what it checks: a paragraph, true to ``find`` (Markdown)
    why: str  # why it matters: what breaks, and for whom (Markdown)
    example: Example
    find: Callable[[Rule, CheckContext], Iterable[Finding]] | None = None
    plan: Callable[[Rule, CheckContext, Plan], Any] | None = None
    enabled: Callable[[CheckOptions], bool] = lambda options: True
    per_name: bool = False  # judges one name at a time (JUnit: a test case per name)
    exit_code: int = outcomes.EXIT_FINDINGS
    option: str | None = None  # the option that turns it on, for CI contracts
    whole_package: bool = False  # its probes load every lazy name at once (--ignore whole-package skips them)

    def finding(self, name: str | None, message: str, severity: str | None = None) -> Finding:
        return Finding(self.id, severity or self.severity, name, message, self.exit_code)


def plain(markdown: str) -> str:
    """A rule's inline Markdown (``summary``, ``fix``) as plain text, for finding messages and
    SARIF's text fields: code spans lose their backticks."""
    return markdown.replace("`", "")


def shown(items: Sequence[str], limit: int = 8) -> str:
    """``a, b, c and 12 more``: lists in messages stay one readable line."""
    text = ", ".join(items[:limit])
    return text + (f" and {len(items) - limit} more" if len(items) > limit else "")
