"""The rules' documentation, generated from the registry: one Markdown page per rule (the docs
site's ``reference/rules/``) and the list the README and the site's index show, so that neither
can drift from the rules ``check`` runs."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aoinspect.rules.base import Rule

# Outside code spans, these would start emphasis (``__all__``), a table cell or an HTML tag.
_MARKDOWN_SPECIAL = re.compile(r"([\\_*|<>\[\]])")


def _text(plain: str) -> str:
    """PLAIN as Markdown that renders as written: code spans kept, everything else escaped."""
    parts = plain.split("`")
    if len(parts) % 2 == 0:  # an unpaired backtick: no code spans at all
        parts = [plain.replace("`", "\\`")]
    return "`".join(part if index % 2 else _MARKDOWN_SPECIAL.sub(r"\\\1", part) for index, part in enumerate(parts))


def rule_page(rule: Rule) -> str:
    """The Markdown page of RULE: what it checks, its severity, and the fix."""
    return "\n".join([
        f"# {rule.id}",
        "",
        f"**Severity:** {rule.severity}",
        "",
        "## What it checks",
        "",
        _text(rule.summary) + ".",
        "",
        "## Fix",
        "",
        _text(rule.fix[:1].upper() + rule.fix[1:]) + ".",
        "",
        f"Silence it with `aoinspect check --ignore {rule.id}`.",
        "",
    ])


def rule_list() -> str:
    """Every rule in the registry's order, as a Markdown table: rule, severity, when it fires."""
    from aoinspect.rules import RULES

    rows = ["| rule | severity | fires when |", "| --- | --- | --- |"]
    rows += [f"| `{rule.id}` | {rule.severity} | {_text(rule.summary)} |" for rule in RULES]
    return "\n".join(rows) + "\n"
