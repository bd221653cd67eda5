"""The rule registry: every promise ``check`` verifies, each one ``Rule`` object (see
``base.py``). The order here is the order of ``--help`` and of the README's table."""

from __future__ import annotations

from aoinspect.rules.base import CheckContext, Rule
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
    STAR_IMPORT,
    UNKNOWN_ACCEPTED,
    WRONG_EXCEPTION,
)

RULES: tuple[Rule, ...] = (
    IMPORT_FAILED,
    EAGER_IMPORT,
    RESOLVE_FAILED,
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

__all__ = ["BY_ID", "RULES", "CheckContext", "Rule"]


def help_table() -> str:
    """The rules as ``check --help`` lists them."""
    width = max(len(rule.id) for rule in RULES)
    lines = ["Rules (errors fail the run; warnings too with --strict):"]
    for rule in RULES:
        note = "" if rule.severity == "error" or rule.summary.startswith("(") else f"({rule.severity}) "
        lines.append(f"  {rule.id.ljust(width)}  {note}{rule.summary}")
    return "\n".join(lines)
