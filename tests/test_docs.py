"""The README is a short front door whose commands are the ones CI runs and whose links lead
somewhere; the rule pages come from the registry. The docs site itself is built strictly by
``.ci/run`` (``sphinx-build -W -n``), which fails on a broken internal link or a missing page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from aoinspect.rules import RULES
from aoinspect.rules.docs import rule_list, rule_page

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")

INSTALL_AND_RUN = "python3 -m venv .venv && . .venv/bin/activate && pip install . && aoinspect resolve quantization"
INSTALL_AND_TEST = "python3 -m venv .venv && . .venv/bin/activate && pip install '.[test]' && pytest"


def test_the_readme_is_at_most_10_kb() -> None:
    assert len(README.encode("utf-8")) <= 10 * 1024


def test_the_quick_start_commands_are_the_ones_ci_runs() -> None:
    quick_start = README.split("\n## Quick start\n", 1)[1].split("\n## ", 1)[0]
    assert re.findall(r"```sh\n(.*)\n```", quick_start) == [INSTALL_AND_RUN, INSTALL_AND_TEST]
    assert INSTALL_AND_TEST in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()


def test_the_readme_links_lead_to_files() -> None:
    targets = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README)
    local = [target for target in targets if "://" not in target]
    assert local, "the README links into docs/"
    assert [target for target in local if not (ROOT / target).is_file()] == []


def test_the_docs_include_the_readme_intro() -> None:
    """docs/index.md reuses the README's introduction between these markers."""
    assert README.count("<!-- start intro -->") == README.count("<!-- end intro -->") == 1
    assert "<!-- start intro -->" in (ROOT / "docs" / "index.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("rule", RULES, ids=[rule.id for rule in RULES])
def test_each_rule_page_says_what_the_rule_checks_and_the_fix(rule) -> None:  # type: ignore[no-untyped-def]
    page = rule_page(rule)
    assert page.startswith(f"# {rule.id}\n")
    assert f"**Severity:** {rule.severity}" in page
    assert "## What it checks" in page and "## Fix" in page
    assert f"--ignore {rule.id}" in page


def test_markdown_in_a_rule_summary_renders_as_written() -> None:
    """``__all__`` outside a code span would render as bold 'all'; inside one it stays."""
    table = rule_list()
    assert r"\_\_all\_\_ is not a list" in table
    assert "| `from PKG import *` loads lazy names |" in table


def test_the_rule_list_is_the_registry() -> None:
    rows = re.findall(r"^\| `([a-z-]+)` \| (\w+) \|", rule_list(), re.M)
    assert rows == [(rule.id, rule.severity) for rule in RULES]
