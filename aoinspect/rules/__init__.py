"""The rule registry: every promise ``check`` verifies, each one ``Rule`` object (see
``base.py``). The order here is the order of ``--help``, of ``aoinspect rule`` and of the
README's list (``docs.rule_list``)."""

from __future__ import annotations

from typing import Iterable

from aoinspect import outcomes
from aoinspect.rules.base import CheckContext, Example, Rule
from aoinspect.rules.contracts import BASELINE, BUDGET_EXCEEDED, FORBIDDEN_IMPORT, NEW_IMPORT, THREAD_UNSAFE
from aoinspect.rules.introspection import (
    COMPLETION_LOADS,
    DIR_LOADS,
    DUNDER_PROBE,
    GETMODULE_LOADS,
    PICKLE_ROUNDTRIP,
)
from aoinspect.rules.lazy import (
    DECLARATION_MISMATCH,
    EAGER_IMPORT,
    IMPORT_FAILED,
    INVALID_ALL,
    MISSING_DIR,
    NOT_CACHED,
    PROBE_FAILED,
    REJECTION_SIDE_EFFECT,
    RESOLVE_FAILED,
    SECOND_ACCESS_FAILS,
    STAR_IMPORT,
    UNKNOWN_ACCEPTED,
    WRONG_EXCEPTION,
)
from aoinspect.rules.lazy_modules import LAZY_CANDIDATE, LAZY_ENTRY_REIFIED, STALE_LAZY_ENTRY

RULES: tuple[Rule, ...] = (
    IMPORT_FAILED,
    EAGER_IMPORT,
    RESOLVE_FAILED,
    SECOND_ACCESS_FAILS,
    WRONG_EXCEPTION,
    UNKNOWN_ACCEPTED,
    REJECTION_SIDE_EFFECT,
    DECLARATION_MISMATCH,
    INVALID_ALL,
    PROBE_FAILED,
    FORBIDDEN_IMPORT,
    BUDGET_EXCEEDED,
    NEW_IMPORT,
    THREAD_UNSAFE,
    DUNDER_PROBE,
    GETMODULE_LOADS,
    PICKLE_ROUNDTRIP,
    STALE_LAZY_ENTRY,
    NOT_CACHED,
    MISSING_DIR,
    STAR_IMPORT,
    LAZY_ENTRY_REIFIED,
    LAZY_CANDIDATE,
    DIR_LOADS,
    COMPLETION_LOADS,
    BASELINE,
)
BY_ID = {rule.id: rule for rule in RULES}
# Names --ignore takes for a set of rules, drawn from the registry.
WHOLE_PACKAGE = "whole-package"
PRESETS: dict[str, tuple[str, ...]] = {WHOLE_PACKAGE: tuple(rule.id for rule in RULES if rule.whole_package)}
PRESET_SUMMARIES = {WHOLE_PACKAGE: "the probes that load every lazy name at once: a quick run"}

__all__ = [
    "BASELINE", "BUDGET_EXCEEDED", "BY_ID", "COMPLETION_LOADS", "DECLARATION_MISMATCH", "DIR_LOADS", "DUNDER_PROBE",
    "EAGER_IMPORT", "FORBIDDEN_IMPORT", "GETMODULE_LOADS", "IMPORT_FAILED", "INVALID_ALL", "LAZY_CANDIDATE",
    "LAZY_ENTRY_REIFIED", "MISSING_DIR", "NEW_IMPORT", "NOT_CACHED", "PICKLE_ROUNDTRIP", "PRESETS", "PROBE_FAILED",
    "REJECTION_SIDE_EFFECT", "RESOLVE_FAILED", "RULES", "SECOND_ACCESS_FAILS", "STALE_LAZY_ENTRY", "STAR_IMPORT",
    "THREAD_UNSAFE", "UNKNOWN_ACCEPTED", "WHOLE_PACKAGE", "WRONG_EXCEPTION", "CheckContext", "Example", "Rule",
    "ignored_rules",
]


def exit_note(rule: Rule) -> str:
    """`` (exit 3)`` for a rule whose findings set an exit code of their own, else nothing."""
    return f" (exit {rule.exit_code})" if rule.exit_code != outcomes.EXIT_FINDINGS else ""


def ignored_rules(values: Iterable[str]) -> tuple[str, ...]:
    """``--ignore``'s values as rule ids, in order and once each: a preset stands for its rules."""
    ids: dict[str, None] = {}
    for value in values:
        ids.update(dict.fromkeys(PRESETS.get(value, (value,))))
    return tuple(ids)


def help_table(presets: bool = False) -> str:
    """The rules as ``check --help`` and ``aoinspect rule`` list them; with ``presets``, then
    ``--ignore``'s presets (``check --help``)."""
    width = max(len(rule.id) for rule in RULES)
    lines = ["Rules (errors fail the run; warnings too with --strict):"]
    for rule in RULES:
        note = "" if rule.severity == outcomes.SEVERITY_ERROR else f"({rule.severity}) "
        lines.append(f"  {rule.id.ljust(width)}  {note}{rule.summary}{exit_note(rule)}")
    if presets:
        lines.append("Presets of --ignore:")
    for preset, ids in PRESETS.items() if presets else ():
        lines.append(f"  {preset.ljust(width)}  {', '.join(ids)}: {PRESET_SUMMARIES[preset]}")
    return "\n".join(lines)


def unknown_rule(value: str, presets: bool = False) -> str:
    """The message for a rule id that is none: the ids (and with ``presets``, the presets) that
    contain it or are closest to it, else all of them."""
    import difflib

    known = [*BY_ID, *(PRESETS if presets else ())]
    close = [rule_id for rule_id in known if value and value in rule_id][:3] or difflib.get_close_matches(
        value, known, n=3, cutoff=0.6)
    if close:
        return f"{value!r} is not a rule id; did you mean {' or '.join(repr(rule_id) for rule_id in close)}?"
    return f"{value!r} is not a rule id ({', '.join(known)})."
