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
    """``__all__`` outside a code span would render as bold 'all'; inside one it stays. A rule's
    texts are Markdown: whatever would start emphasis, a table cell or an HTML tag is code."""
    table = rule_list()
    assert "| `__all__` is not a list of unique strings |" in table
    assert "| `from PKG import *` loads lazy names |" in table
    for rule in RULES:
        for text in (rule.summary, rule.what, rule.why, rule.fix):
            assert text.count("`") % 2 == 0, (rule.id, text)
            outside_code = re.sub(r"`[^`]*`", "", text)
            assert not re.search(r"__|\*|<|>|\||\[", outside_code), (rule.id, outside_code)


def test_the_rule_list_is_the_registry() -> None:
    rows = re.findall(r"^\| `([a-z-]+)` \| (\w+)[ |]", rule_list(), re.M)  # "error (exit 3)" for engine failures
    assert rows == [(rule.id, rule.severity) for rule in RULES]


def test_the_committed_rule_pages_are_the_registry() -> None:
    """SARIF's helpUri points at docs/reference/rules/ID.md in the repository: each page exists and
    holds its rule's documentation as the registry has it now (``sphinx-build`` rewrites them)."""
    from aoinspect.rules.docs import RULE_PAGE

    folder = ROOT / "docs" / "reference" / "rules"
    assert sorted(path.name for path in folder.glob("*.md")) == sorted([f"{rule.id}.md" for rule in RULES]
                                                                      + ["index.md"])
    for rule in RULES:
        page = (ROOT / "docs" / RULE_PAGE.format(id=rule.id)).read_text(encoding="utf-8")
        assert page.startswith(rule_page(rule).rstrip("\n") + "\n"), f"{rule.id}: rebuild the docs and commit them"


def test_the_format_table_is_the_registry() -> None:
    from aoinspect import formats

    page = (ROOT / "docs" / "reference" / "formats.md").read_text(encoding="utf-8")
    generated = re.search(r"<!-- formats\.table\(\)[^\n]*-->\n(.*?)\n<!-- end formats\.table\(\) -->", page, re.S)
    assert generated is not None
    assert generated.group(1) == formats.table()
