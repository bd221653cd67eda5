"""The rule registry: every promise ``check`` verifies, each one ``Rule`` object (see
``base.py``). The order here is the order of ``--help``, of ``aoinspect rule`` and of the
README's list (``docs.rule_list``)."""

from __future__ import annotations

from aoinspect import schema
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
    NOT_CACHED,
    MISSING_DIR,
    STAR_IMPORT,
    DIR_LOADS,
    COMPLETION_LOADS,
    BASELINE,
)
BY_ID = {rule.id: rule for rule in RULES}

__all__ = [
    "BASELINE", "BUDGET_EXCEEDED", "BY_ID", "COMPLETION_LOADS", "DECLARATION_MISMATCH", "DIR_LOADS", "DUNDER_PROBE",
    "EAGER_IMPORT", "FORBIDDEN_IMPORT", "GETMODULE_LOADS", "IMPORT_FAILED", "INVALID_ALL", "MISSING_DIR",
    "NEW_IMPORT", "NOT_CACHED", "PICKLE_ROUNDTRIP", "PROBE_FAILED", "REJECTION_SIDE_EFFECT", "RESOLVE_FAILED",
    "RULES", "SECOND_ACCESS_FAILS", "STAR_IMPORT", "THREAD_UNSAFE", "UNKNOWN_ACCEPTED", "WRONG_EXCEPTION",
    "CheckContext", "Example", "Rule",
]


def exit_note(rule: Rule) -> str:
    """`` (exit 3)`` for a rule whose findings set an exit code of their own, else nothing."""
    return f" (exit {rule.exit_code})" if rule.exit_code != schema.EXIT_FINDINGS else ""


def help_table() -> str:
    """The rules as ``check --help`` and ``aoinspect rule`` list them."""
    width = max(len(rule.id) for rule in RULES)
    lines = ["Rules (errors fail the run; warnings too with --strict):"]
    for rule in RULES:
        note = "" if rule.severity == schema.SEVERITY_ERROR else f"({rule.severity}) "
        lines.append(f"  {rule.id.ljust(width)}  {note}{rule.summary}{exit_note(rule)}")
    return "\n".join(lines)


def unknown_rule(value: str) -> str:
    """The message for a rule id that is none: the ids that contain it or are closest to it, else
    all of them."""
    import difflib

    close = [rule_id for rule_id in BY_ID if value and value in rule_id][:3] or difflib.get_close_matches(
        value, BY_ID, n=3, cutoff=0.6)
    if close:
        return f"{value!r} is not a rule id; did you mean {' or '.join(repr(rule_id) for rule_id in close)}?"
    return f"{value!r} is not a rule id ({', '.join(BY_ID)})."
