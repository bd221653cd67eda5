"""Rules that document themselves: ``aoinspect rule``, the pages and list generated from the
registry, SARIF's descriptions, and every rule's example, run again and compared with what its
documentation says ``check`` prints."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner

from aoinspect import errors
from aoinspect.cli import cli
from aoinspect.render.annotations import sarif_log
from aoinspect.rules import BY_ID, RULES, Rule, help_table
from aoinspect.rules.base import plain
from aoinspect.rules.docs import rule_list, rule_page, rule_pages, rule_url
from tests.documents import check_document
from tests.helpers import document

if TYPE_CHECKING:
    from tests.helpers import FakePackages

RULE_IDS = [rule.id for rule in RULES]


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


# --- aoinspect rule -----------------------------------------------------------------------------


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_rule_prints_the_rules_page(rule_id: str) -> None:
    exit_code, stdout, stderr = run("rule", rule_id)
    assert (exit_code, stderr) == (0, "")
    assert stdout == rule_page(BY_ID[rule_id])
    assert stdout.startswith(f"# {rule_id}\n")


def test_rule_alone_lists_the_rules_and_all_prints_every_page() -> None:
    exit_code, listed, _stderr = run("rule")
    assert exit_code == 0 and listed == help_table() + "\n"
    assert [line.split()[0] for line in listed.splitlines()[1:]] == RULE_IDS
    exit_code, pages, _stderr = run("rule", "--all")
    assert exit_code == 0 and pages == "\n".join(rule_page(rule) for rule in RULES)


@pytest.mark.parametrize(("typed", "suggested"), [
    ("eager-imports", "'eager-import'"), ("pickle", "'pickle-roundtrip'"), ("getmodule_loads", "'getmodule-loads'"),
])
def test_an_unknown_rule_is_a_usage_error_that_suggests_the_closest(typed: str, suggested: str) -> None:
    exit_code, stdout, stderr = run("rule", typed)
    assert (exit_code, stdout) == (2, "")
    assert f"{typed!r} is not a rule id; did you mean {suggested}" in stderr
    # The same bad value, the same message, wherever a rule id is expected.
    exit_code, _stdout, ignore_stderr = run("check", "--ignore", typed)
    assert exit_code == 2 and f"{typed!r} is not a rule id; did you mean {suggested}" in ignore_stderr


def test_a_rule_id_like_no_other_lists_them_all() -> None:
    exit_code, _stdout, stderr = run("rule", "zzz")
    assert exit_code == 2 and "'zzz' is not a rule id (import-failed, eager-import," in stderr


# --- what each rule says of itself ----------------------------------------------------------------


@pytest.mark.parametrize("rule", RULES, ids=RULE_IDS)
def test_every_rule_says_what_why_how_and_shows_it(rule: Rule) -> None:
    for text in (rule.summary, rule.what, rule.why, rule.fix):
        assert text.strip() and text == text.strip() and "\n" not in text
    assert rule.example.files and all(path and text is not None for path, text in rule.example.files)
    assert rule.example.args[:3] == ("-p", "pkg", "check")
    finding = re.compile(rf"(error|warning|info)  {re.escape(rule.id)}( \([^)]*\))?: \S")
    lines = rule.example.output.split("\n")
    assert lines and all(finding.match(line) for line in lines), lines
    page = rule_page(rule)
    for part in ("## What it checks", rule.what, "## Why it matters", rule.why, "## Example",
                 f"$ {rule.example.command}\n{rule.example.output}\n", "## Fix"):
        assert part in page
    if rule.option is not None:
        assert all(f"`{option}`" in page for option in rule.option.split(", "))


def mask(text: str, root: str) -> str:
    """What changes from run to run: the directory the example was written to, and times."""
    return re.sub(r"\d+(\.\d+)? ms\b", "N ms", text.replace(root + "/", ""))


# Rules whose examples are the same files and command line (baseline and new-import, completion-loads
# and star-import) share one run of it: what check prints of it, and the directory it ran in.
_EXAMPLE_RUNS: dict[tuple[tuple[tuple[str, str], ...], tuple[str, ...]], tuple[dict[str, Any], str]] = {}


@pytest.mark.parametrize("rule", RULES, ids=RULE_IDS)
def test_every_example_is_what_check_prints(rule: Rule, fake: FakePackages, invoke,  # type: ignore[no-untyped-def]
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """The documentation's example, run again: its files, its command line, its output."""
    key = (tuple(rule.example.files), tuple(rule.example.args))
    if key not in _EXAMPLE_RUNS:
        fake.write(dict(rule.example.files))
        monkeypatch.chdir(fake.root)  # paths on the command line (a baseline) are the example's own
        _EXAMPLE_RUNS[key] = document(invoke(*rule.example.args, "--format", "json")), str(fake.root)
    doc, root = _EXAMPLE_RUNS[key]
    printed = [f"{finding['severity']}  {finding['rule']}" + (f" ({finding['name']})" if finding["name"] else "")
               + f": {finding['message']}" for finding in doc["findings"] if finding["rule"] == rule.id]
    assert mask("\n".join(printed), root) == mask(rule.example.output, root)


# --- generated documents ------------------------------------------------------------------------


def test_the_rule_list_has_every_rule_once_in_the_registrys_order() -> None:
    listed = rule_list()
    rows = re.findall(r"^\| `([a-z-]+)` \| (\w+)", listed, re.M)
    assert rows == [(rule.id, rule.severity) for rule in RULES]
    assert "| `import-failed` | error (exit 3) |" in listed and "| `probe-failed` | error (exit 4) |" in listed
    linked = rule_list(link=lambda rule: f"{rule.id}.md")
    assert "| [`eager-import`](eager-import.md) | error |" in linked


def test_the_docs_get_a_page_per_rule_where_its_help_uri_points() -> None:
    pages = rule_pages()
    assert list(pages) == [f"reference/rules/{rule_id}.md" for rule_id in RULE_IDS]
    for path, rule in zip(pages, RULES):
        assert pages[path] == rule_page(rule) and rule_url(rule).endswith("/" + path)


def test_sarif_describes_each_rule_from_its_documentation() -> None:
    findings = [{"rule": rule.id, "severity": rule.severity, "name": None, "message": "m"} for rule in RULES]
    driver = sarif_log(check_document(findings), None)["runs"][0]["tool"]["driver"]
    assert [descriptor["id"] for descriptor in driver["rules"]] == RULE_IDS
    for descriptor in driver["rules"]:
        rule = BY_ID[descriptor["id"]]
        assert descriptor["shortDescription"] == {"text": plain(rule.summary)}
        assert descriptor["fullDescription"] == {"text": plain(rule.what), "markdown": rule.what}
        assert descriptor["help"]["markdown"] == rule_page(rule)
        assert plain(rule.why) in descriptor["help"]["text"] and "`" not in descriptor["help"]["text"]
        assert descriptor["helpUri"] == rule_url(rule)
        assert re.fullmatch(rf"https://\S+/reference/rules/{rule.id}\.md", descriptor["helpUri"])


# --- error kinds are rule ids ---------------------------------------------------------------------


def engine_failures() -> list[type[errors.AoinspectError]]:
    found, pending = [], [errors.AoinspectError]
    while pending:
        kind = pending.pop()
        pending.extend(kind.__subclasses__())
        found.append(kind)
    return [kind for kind in found if kind.kind not in ("error", "usage")]


def test_each_failure_the_engine_raises_is_the_rule_of_its_kind() -> None:
    failures = {kind.kind: kind for kind in engine_failures()}
    assert set(failures) == {"import-failed", "probe-failed"}
    for name, failure in failures.items():
        assert BY_ID[name].exit_code == failure.exit_code
