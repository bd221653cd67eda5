"""The rules' documentation, generated from the registry: one Markdown page per rule
(``aoinspect rule ID`` prints it; the docs site writes it to ``docs/reference/rules/ID.md``), the
list of rules in the README, and what SARIF says of each rule.

Everything here reads ``Rule`` objects; nothing is written about a rule anywhere else."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aoinspect import DOCS_URL, outcomes
from aoinspect.rules import RULES, exit_note
from aoinspect.rules.base import plain

if TYPE_CHECKING:
    from collections.abc import Callable

    from aoinspect.rules.base import Rule

# The page of a rule, under DOCS_URL: where the docs site writes rule_page(rule).
RULE_PAGE = "reference/rules/{id}.md"

_FENCES = {".py": "python", ".pyi": "python", ".json": "json", ".toml": "toml"}


def rule_url(rule: Rule) -> str:
    return f"{DOCS_URL}/{RULE_PAGE.format(id=rule.id)}"


def _sentence(text: str) -> str:
    text = text.strip()
    return text[:1].upper() + text[1:] + ("" if text.endswith((".", "?", "!")) else ".")


def _severity(rule: Rule) -> str:
    if rule.severity == outcomes.SEVERITY_INFO:
        return "**Severity:** info, which never fails a run"
    if rule.severity == outcomes.SEVERITY_WARNING:
        return "**Severity:** warning, which fails `check` only with `--strict`"
    return f"**Severity:** error, which fails `check` (exit {rule.exit_code})"


def _enabled(rule: Rule) -> str:
    if rule.find is None:  # the engine's own failure, not a judgement a run can skip
        return f"reported whenever it happens: `--ignore {rule.id}` cannot turn it off"
    ignore = f"`--ignore {rule.id}` turns it off"
    if rule.option is None:
        return f"checked on every run of `check`; {ignore}"
    options = " or ".join(f"`{option}`" for option in rule.option.split(", "))
    return f"checked when `check` is given {options}; {ignore}"


def rule_page(rule: Rule) -> str:
    """The rule's documentation, one Markdown page: what it checks, why it matters, an example
    copied from a real run, the fix."""
    lines = [f"# {rule.id}", "", f"{_sentence(rule.summary)}", "",
             f"{_severity(rule)}; {_enabled(rule)}.", "",
             "## What it checks", "", rule.what, "",
             "## Why it matters", "", rule.why, "",
             "## Example", ""]
    if rule.example.about:
        lines += [rule.example.about, ""]
    for path, text in rule.example.files:
        if not text:
            lines += [f"`{path}` is empty.", ""]
            continue
        fence = next((language for suffix, language in _FENCES.items() if path.endswith(suffix)), "text")
        lines += [f"`{path}`:", "", f"```{fence}", text.rstrip("\n"), "```", ""]
    lines += [f"`{rule.example.command}` reports (its findings of `{rule.id}`, one a line):", "",
              "```console", f"$ {rule.example.command}", rule.example.output, "```", "",
              "## Fix", "", _sentence(rule.fix)]
    return "\n".join(lines) + "\n"


def rule_pages() -> dict[str, str]:
    """Every rule's page, by its path under the docs (``reference/rules/ID.md``): what the docs
    site writes before it builds."""
    return {RULE_PAGE.format(id=rule.id): rule_page(rule) for rule in RULES}


def rule_list(link: Callable[[Rule], str] | None = None) -> str:
    """The rules as a Markdown table, in the registry's order: the README's list. With ``link``,
    each id links to the page it returns (the docs site: ``lambda rule: f"{rule.id}.md"``)."""
    lines = ["| rule | severity | fires when |", "| --- | --- | --- |"]
    for rule in RULES:
        name = f"`{rule.id}`" if link is None else f"[`{rule.id}`]({link(rule)})"
        lines.append(f"| {name} | {rule.severity}{exit_note(rule)} | {rule.summary} |")
    return "\n".join(lines) + "\n"


def rule_text(rule: Rule) -> str:
    """The rule's documentation as plain text, without the example: for SARIF's ``help.text``."""
    return "\n\n".join((plain(_sentence(rule.summary)), plain(rule.what), plain(rule.why),
                        f"Fix: {plain(_sentence(rule.fix))}"))


def sarif_descriptor(rule: Rule) -> dict[str, Any]:
    """The SARIF ``reportingDescriptor`` fields that describe the rule (tool.driver.rules[])."""
    return {
        "shortDescription": {"text": plain(rule.summary)},
        "fullDescription": {"text": plain(rule.what), "markdown": rule.what},
        "help": {"text": rule_text(rule), "markdown": rule_page(rule)},
        "helpUri": rule_url(rule),
    }
