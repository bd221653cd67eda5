"""Outputs for CI: ``--format markdown`` (GFM tables), ``--format github`` (workflow commands), ``--format sarif``.

Each is checked against its format: tables parse back to the text they show, annotations match
GitHub's workflow command syntax and escaping, SARIF carries the keys 2.1.0 requires.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from click.testing import CliRunner

from aoinspect.cli import cli
from aoinspect.models import Failure
from aoinspect.render import RenderOptions, render
from aoinspect.render.annotations import escape_data, escape_property, github_commands, sarif_log
from aoinspect.render.markdown import cell, markdown_document
from tests import documents
from tests.documents import REPORT
from tests.packages import lazy_package

HOSTILE = "a|b`c\nd\r\n<script>x</script> *e* [f](g) & h"


# --- markdown ------------------------------------------------------------------------------------


def test_markdown_resolve_from_a_report() -> None:
    markdown = render(REPORT, "markdown", RenderOptions(top=2))
    results, heaviest = documents.markdown_tables(markdown)
    assert results == [
        ["name", "result", "via __getattr__", "modules", "total ms", "elapsed ms"],
        ["ao.quantization", "ok", "yes", "4", "6.00", "6.50"],
    ]
    assert heaviest[1:] == [
        ["ao.quantization", "1.00", "6.00", "(access)", "aoinspect"],
        ["ao.nn", "3.00", "3.00", "ao.quantization", "aoinspect"],
    ]
    assert "<details>\n<summary>ao.quantization: 4 modules, heaviest first</summary>\n\n|" in markdown
    assert "… and 2 more" in markdown


@pytest.mark.parametrize(("make", "first_table"), [
    (documents.check_document, ["severity", "rule", "name", "message"]),
    (documents.list_document, ["name", "declared in", "submodule", "loaded at import"]),
    (documents.snapshot_document, ["subject", "modules"]),
    (documents.resolve_document, ["name", "result", "via __getattr__", "modules", "total ms", "elapsed ms"]),
])
def test_markdown_every_command(make: Any, first_table: list[str]) -> None:
    document = make()
    markdown = markdown_document(document)
    assert markdown.startswith(f"### aoinspect {document['command']} `pkg`: ")
    assert documents.markdown_tables(markdown)[0][0] == first_table


@pytest.mark.parametrize("make", [documents.check_document, documents.list_document, documents.snapshot_document,
                                  documents.resolve_document])
def test_markdown_table_headers_are_escaped(make: Any) -> None:
    # GitHub shows an unescaped "via __getattr__" header as "via **getattr**".
    markdown = markdown_document(make())
    headers = [line for line, below in zip(markdown.splitlines(), markdown.splitlines()[1:])
               if line.startswith("|") and below.startswith("| ---")]
    assert headers
    for header in headers:
        assert not re.search(r"(?<!\\)[_*`<\[]", header), header


def test_markdown_check_findings_survive_hostile_text() -> None:
    finding = {"rule": "eager-import", "severity": "error", "name": HOSTILE, "message": HOSTILE}
    markdown = markdown_document(documents.check_document([finding]))
    (findings, _names) = documents.markdown_tables(markdown)
    # Names are shown on one line; messages keep their line breaks.
    one_line = re.sub(r"\r\n|\r|\n", " ", HOSTILE)
    assert findings[1] == ["error", "eager-import", one_line, HOSTILE.replace("\r\n", "\n")]
    assert "<script>" not in markdown


def test_markdown_folds_long_lists() -> None:
    document = documents.list_document()
    document["undeclared_submodules"] = [f"sub{index}" for index in range(30)]
    markdown = markdown_document(document)
    assert "<details>\n<summary>Submodules no declaration exports (30)</summary>" in markdown
    document["undeclared_submodules"] = ["one"]
    assert "**Submodules no declaration exports (1)**" in markdown_document(document)


@pytest.mark.parametrize(("text", "escaped"), [
    ("a|b", "a\\|b"), ("`x`", "\\`x\\`"), ("l1\nl2", "l1<br>l2"), ("<b>", "\\<b\\>"), ("a&b", "a&amp;b"),
    ("__init__", "\\_\\_init\\_\\_"), ("ao.nn (local)", "ao.nn (local)"),
])
def test_markdown_cell_escaping(text: str, escaped: str) -> None:
    assert cell(text) == escaped


def test_markdown_failure() -> None:
    failure = Failure("resolve", "pkg", "import-failed", "cannot import pkg | `x`", 3)
    assert render(failure, "markdown") == (
        "### aoinspect resolve `pkg`: ❌ failed (exit code 3)\n\n**import-failed**: cannot import pkg \\| \\`x\\`\n"
    )


# --- GitHub workflow commands -------------------------------------------------------------------

COMMAND = re.compile(r"^::(error|warning|notice)(?: ((?:[a-z]+=[^,:\r\n]*)(?:,[a-z]+=[^,:\r\n]*)*))?::([^\r\n]*)$")


def parse_commands(text: str) -> list[tuple[str, dict[str, str], str]]:
    parsed = []
    for line in text.splitlines():
        match = COMMAND.match(line)
        assert match, line
        properties = dict(item.split("=", 1) for item in match.group(2).split(",")) if match.group(2) else {}
        parsed.append((match.group(1), properties, match.group(3)))
    return parsed


def unescape(text: str) -> str:
    return re.sub(r"%(25|0D|0A|3A|2C)", lambda m: {"25": "%", "0D": "\r", "0A": "\n", "3A": ":", "2C": ","}[m[1]],
                  text)


def test_github_annotations_with_locations() -> None:
    document = documents.check_document([
        {"rule": "resolve-failed", "severity": "error", "name": "alpha", "message": "alpha failed: 50% of it\nboom"},
        {"rule": "thread-unsafe", "severity": "error", "name": "beta",
         "message": "2 of 8 threads raised; the first: KeyError: 'x' at /work/src/pkg/beta.py:41."},
        {"rule": "not-cached", "severity": "warning", "name": "beta", "message": "again"},
        {"rule": "baseline", "severity": "info", "name": None, "message": "good news"},
    ])
    document["results"][0]["error"] = {"type": "KeyError", "message": "k", "location": "/work/src/pkg/alpha.py:12"}
    commands = parse_commands(github_commands(document, root="/work"))
    assert commands == [
        ("error", {"file": "src/pkg/alpha.py", "line": "12", "title": "aoinspect resolve-failed (alpha)"},
         "alpha failed: 50%25 of it%0Aboom"),
        ("error", {"file": "src/pkg/beta.py", "line": "41", "title": "aoinspect thread-unsafe (beta)"},
         "2 of 8 threads raised; the first: KeyError: 'x' at /work/src/pkg/beta.py:41."),
        ("warning", {"title": "aoinspect not-cached (beta)"}, "again"),
        ("notice", {"title": "aoinspect baseline"}, "good news"),
    ]
    assert unescape(commands[0][2]) == "alpha failed: 50% of it\nboom"


def test_github_escapes_properties() -> None:
    finding = {"rule": "eager-import", "severity": "error", "name": "a,b:c%d\ne", "message": HOSTILE}
    ((_, properties, message),) = parse_commands(github_commands(documents.check_document([finding]), root=None))
    assert properties["title"] == "aoinspect eager-import (a%2Cb%3Ac%25d%0Ae)"
    assert unescape(properties["title"]) == "aoinspect eager-import (a,b:c%d\ne)"
    assert unescape(message) == HOSTILE


@pytest.mark.parametrize(("text", "data", "prop"), [
    ("50%", "50%25", "50%25"), ("a\r\nb", "a%0D%0Ab", "a%0D%0Ab"), ("x:y,z", "x:y,z", "x%3Ay%2Cz"),
])
def test_github_escaping_rules(text: str, data: str, prop: str) -> None:
    assert escape_data(text) == data
    assert escape_property(text) == prop


def test_github_failed_run_is_one_error(fake: Any) -> None:
    fake.write({"brokenpkg/__init__.py": "raise RuntimeError('no')\n"})
    result = CliRunner().invoke(cli, ["-p", "brokenpkg", "check", "--format", "github"], env=fake.env,
                                catch_exceptions=False)
    assert result.exit_code == 3
    ((level, properties, message),) = parse_commands(result.stdout)
    assert level == "error" and properties["title"] == "aoinspect import-failed"
    assert properties["file"].endswith("brokenpkg/__init__.py") and properties["line"] == "1"
    assert "RuntimeError" in unescape(message)


# --- SARIF ---------------------------------------------------------------------------------------


def test_sarif_required_keys() -> None:
    document = documents.check_document()
    document["results"][0]["error"] = {"type": "E", "message": "m", "location": "/repo/pkg/alpha.py:3"}
    log = sarif_log(document, root="/repo")
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-2.1.0.json")
    (run,) = log["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert run["tool"]["driver"]["name"] == "aoinspect"
    assert [rule["id"] for rule in rules] == ["forbidden-import", "missing-dir"]
    first, second = run["results"]
    for result in run["results"]:
        assert set(result) >= {"ruleId", "level", "message"} and result["message"]["text"]
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    assert first["level"] == "error" and second["level"] == "warning"
    assert first["locations"] == [{"physicalLocation": {
        "artifactLocation": {"uri": "pkg/alpha.py", "uriBaseId": "%SRCROOT%"}, "region": {"startLine": 3}}}]
    assert "locations" not in second


def test_sarif_locations_are_uris() -> None:
    """Outside the checkout a file:// URI; inside, a relative reference with its spaces encoded."""
    document = documents.check_document()
    document["results"][0]["error"] = {"type": "E", "message": "m", "location": "/elsewhere/my pkg/a.py:3"}
    (outside,) = [result for result in sarif_log(document, root="/repo")["runs"][0]["results"] if "locations" in result]
    assert outside["locations"][0]["physicalLocation"]["artifactLocation"] == {"uri": "file:///elsewhere/my%20pkg/a.py"}
    document["results"][0]["error"]["location"] = "/repo/my pkg/a.py:3"
    (inside,) = [result for result in sarif_log(document, root="/repo")["runs"][0]["results"] if "locations" in result]
    assert inside["locations"][0]["physicalLocation"]["artifactLocation"] == {"uri": "my%20pkg/a.py",
                                                                              "uriBaseId": "%SRCROOT%"}


def test_sarif_from_the_cli(fake: Any) -> None:
    fake.write(lazy_package("sarifpkg", beta="raise KeyError('boom')\n"))
    result = CliRunner().invoke(cli, ["-p", "sarifpkg", "check", "--format", "sarif"], env=fake.env,
                                catch_exceptions=False)
    assert result.exit_code == 1
    (run,) = json.loads(result.stdout)["runs"]
    failed = [item for item in run["results"] if item["ruleId"] == "resolve-failed"]
    assert failed and failed[0]["locations"][0]["physicalLocation"]["region"]["startLine"] == 1


def test_package_wide_findings_point_at_the_package_file_and_sarif_rules_come_from_the_registry(invoke) -> None:
    from aoinspect.rules import BY_ID
    from aoinspect.rules.base import plain
    from aoinspect.rules.docs import rule_page

    result = invoke("check", "--format", "github")
    lines = [line for line in result.stdout.splitlines() if line.startswith("::")]
    assert lines and all("file=" in line and "ao/__init__.py,line=1" in line for line in lines)
    sarif = json.loads(invoke("check", "--format", "sarif").stdout)
    (driver_rule,) = [rule for rule in sarif["runs"][0]["tool"]["driver"]["rules"] if rule["id"] == "star-import"]
    assert driver_rule["shortDescription"]["text"] == plain(BY_ID["star-import"].summary)
    assert driver_rule["help"]["markdown"] == rule_page(BY_ID["star-import"])  # tests/test_rule_docs.py: the rest
