"""The CLI's promises on the shipped ``ao`` package and on fakes built to break each rule."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from aoinspect import schema
from tests.helpers import document
from tests.packages import lazy_package


def test_list_shows_the_four_names_none_loaded_at_import(invoke) -> None:
    result = invoke("list", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = document(result)
    assert doc["schema"] == schema.SCHEMA_VERSION
    assert (doc["command"], doc["package"]) == ("list", "ao")
    names = {entry["name"]: entry for entry in doc["names"]}
    assert sorted(names) == ["nn", "ns", "pruning", "quantization"]
    for entry in names.values():
        assert entry["declared_in"] == ["__all__", "TYPE_CHECKING"]
        assert entry["submodule"] is True
        assert entry["loaded_at_import"] is False
    imported = {load["module"] for load in doc["import"]["materialized"]}
    assert "ao" in imported
    assert not imported & {"ao.nn", "ao.ns", "ao.pruning", "ao.quantization"}


def test_list_all_shows_undeclared_submodules(invoke) -> None:
    doc = document(invoke("list", "--all", "--format", "json"))
    assert doc["undeclared_submodules"] == ["_modules"]


def test_resolve_quantization_pulls_in_nn_via_getattr_and_is_cached(invoke) -> None:
    result = invoke("resolve", "quantization", "--format", "json")
    assert result.exit_code == 0, result.output
    (entry,) = document(result)["results"]
    assert entry["ok"] and entry["via_getattr"] and entry["cached"]
    assert entry["already_loaded"] is False
    assert entry["error"] is None
    assert entry["object"]["type"] == "module"
    modules = [load["module"] for load in entry["materialized"]]
    assert modules.index("ao.quantization") < modules.index("ao.quantization.mappings")
    assert {"ao.nn", "ao.nn.quantized", "ao.nn.intrinsic", "ao.nn.qat"} <= set(modules)
    assert "ao.pruning" not in modules
    parents = {load["module"]: load["parent"] for load in entry["materialized"]}
    assert parents["ao.quantization"] is None
    assert parents["ao.quantization.mappings"] == "ao.quantization"
    assert parents["ao.nn.quantized.modules"] == "ao.nn.quantized"


def test_resolve_text_output(invoke) -> None:
    result = invoke("resolve", "quantization")
    assert result.exit_code == 0
    assert "ao.quantization  ok, via module __getattr__, cached" in result.stdout
    assert "ao.quantization.mappings" in result.stdout
    assert "\x1b[" not in result.stdout  # not a terminal: no colour


def test_resolve_unknown_name_is_rejected_with_a_suggestion(invoke) -> None:
    result = invoke("resolve", "quantisation")
    assert result.exit_code == schema.EXIT_FINDINGS
    assert "module 'ao' has no attribute 'quantisation'" in result.stdout
    assert "did you mean 'quantization'?" in result.stdout
    doc = document(invoke("resolve", "quantisation", "--format", "json"))
    (entry,) = doc["results"]
    assert doc["ok"] is False and doc["exit_code"] == 1
    assert entry["error"]["type"] == "AttributeError"
    source = (Path(__file__).parents[1] / "ao" / "__init__.py").read_text().splitlines()
    raise_line = next(i for i, line in enumerate(source, 1) if "raise AttributeError" in line)
    assert entry["error"]["location"].endswith(f"ao/__init__.py:{raise_line}")
    assert entry["suggestions"] == ["quantization"]
    assert entry["via_getattr"] is True


def test_resolve_bogus_exits_1(invoke) -> None:
    result = invoke("resolve", "bogus")
    assert result.exit_code == 1
    assert "module 'ao' has no attribute 'bogus'" in result.stdout


def test_resolve_dotted_name_reports_each_step(invoke) -> None:
    doc = document(invoke("resolve", "nn.quantized", "--format", "json"))
    (entry,) = doc["results"]
    assert [step["name"] for step in entry["steps"]] == ["nn", "quantized"]
    assert all(step["via_getattr"] for step in entry["steps"])
    first = {load["module"] for load in entry["steps"][0]["materialized"]}
    second = {load["module"] for load in entry["steps"][1]["materialized"]}
    assert "ao.nn" in first and "ao.nn.quantized" not in first
    assert "ao.nn.quantized" in second
    assert {load["module"] for load in entry["materialized"]} == first | second


def test_resolve_several_names_keeps_the_order_asked_for(invoke) -> None:
    doc = document(invoke("resolve", "pruning", "nn", "ns", "-j", "3", "--format", "json"))
    assert [entry["name"] for entry in doc["results"]] == ["pruning", "nn", "ns"]
    pruning = {load["module"] for load in doc["results"][0]["materialized"]}
    assert {"ao.pruning", "ao.pruning.sparsifier", "ao.pruning.scheduler"} <= pruning
    # Each name runs in its own interpreter: ns does not see what pruning loaded.
    ns = [load["module"] for load in doc["results"][2]["materialized"]]
    # Up to 3.10, importlib's __init__ imports warnings.
    warnings = ["warnings"] if sys.version_info < (3, 11) else []
    assert ns == ["importlib", "importlib._bootstrap", "importlib._bootstrap_external", *warnings, "ao.ns"]


def test_check_on_ao_passes_with_the_missing_dir_warning(invoke) -> None:
    result = invoke("check", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = document(result)
    assert doc["ok"] is True
    # from ao import * loads every lazy name, as it does for torch.ao: a true warning.
    assert [(f["rule"], f["severity"]) for f in doc["findings"]] == [
        ("missing-dir", "warning"), ("star-import", "warning")
    ]
    assert invoke("check", "--strict").exit_code == 1
    ignored = document(invoke("check", "--strict", "--ignore", "missing-dir", "--ignore", "star-import",
                              "--format", "json"))
    assert ignored["exit_code"] == 0 and ignored["findings"] == []


def test_missing_package_exits_3_naming_the_module(invoke) -> None:
    result = invoke("-p", "no_such_pkg", "list")
    assert result.exit_code == schema.EXIT_IMPORT_FAILED
    assert "no module named 'no_such_pkg'" in result.stderr
    assert result.stdout == ""
    doc = document(invoke("-p", "no_such_pkg", "list", "--format", "json"))
    assert doc["ok"] is False and doc["exit_code"] == 3
    assert doc["error"]["kind"] == "import-failed"
    assert doc["error"]["exception"]["type"] == "ModuleNotFoundError"


def test_missing_dependency_is_named(invoke, fake) -> None:
    fake.write({"needsdep/__init__.py": "import not_installed_dependency\n"})
    result = invoke("-p", "needsdep", "resolve", "x")
    assert result.exit_code == 3
    assert "needs the module 'not_installed_dependency'" in result.stderr


def test_check_reports_import_failed_as_a_finding(invoke, fake) -> None:
    fake.write({"broken/__init__.py": "raise RuntimeError('boom at import')\n"})
    result = invoke("-p", "broken", "check", "--format", "json")
    assert result.exit_code == 3
    (finding,) = document(result)["findings"]
    assert finding["rule"] == "import-failed"
    assert "RuntimeError: boom at import" in finding["message"]


def test_options_after_the_command_override_the_group(invoke, fake) -> None:
    fake.write(lazy_package("twonames"))
    doc = document(invoke("-p", "ao", "list", "-p", "twonames", "--format", "json"))
    assert doc["package"] == "twonames"
    assert [entry["name"] for entry in doc["names"]] == ["alpha", "beta"]


@pytest.mark.parametrize(
    "name", ["a..b", "a.", "", "x; rm -rf /", "__import__('os').system('true')", "-x", "1abc", "a\nb"]
)
def test_invalid_names_are_usage_errors_before_any_probe(invoke, name) -> None:
    result = invoke("resolve", "--format", "json", "--", name)
    assert result.exit_code == schema.EXIT_USAGE
    doc = document(result)
    assert doc["error"]["kind"] == "usage"
    assert "isolation" in doc and doc["isolation"] is None  # every document has the key
    assert "not a valid attribute name" in result.stderr


def test_unicode_and_dunder_names_are_looked_up_literally(invoke) -> None:
    doc = document(invoke("resolve", "--format", "json", "--", "ñame", "__name__", "__spec__.name"))
    results = {entry["name"]: entry for entry in doc["results"]}
    assert results["ñame"]["error"]["type"] == "AttributeError"
    assert results["__name__"]["ok"] and results["__name__"]["already_loaded"]
    assert results["__name__"]["object"]["repr"] == "'ao'"
    assert results["__spec__.name"]["object"]["repr"] == "'ao'"


def test_help_documents_exit_codes(invoke) -> None:
    for args in ([], ["resolve"], ["check"], ["list"]):
        result = invoke(*args, "--help")
        assert result.exit_code == 0
        assert "Exit codes:" in result.stdout and "a probe failed" in result.stdout


def test_version_comes_from_the_distribution(invoke) -> None:
    import importlib_metadata

    result = invoke("--version")
    assert result.stdout.strip() == f"aoinspect {importlib_metadata.version('aoinspect')}"


def test_ignore_accepts_exactly_the_registered_rules(invoke) -> None:
    from aoinspect.rules import RULES

    for rule in RULES:
        assert invoke("check", "--ignore", rule.id, "--help").exit_code == 0
    assert invoke_unknown_rule() == 2


def invoke_unknown_rule() -> int:
    from click.testing import CliRunner

    from aoinspect.cli import cli

    return CliRunner().invoke(cli, ["check", "--ignore", "no-such-rule"]).exit_code


def test_the_readme_rules_table_is_the_registry() -> None:
    """The README's list of rules is what the registry generates (docs.rule_list): it cannot drift."""
    from pathlib import Path

    from aoinspect.rules.docs import rule_list

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    generated = readme.split("### Rules of `check`", 1)[1].split("<!-- rule_list:", 1)[1].split("-->", 1)[1]
    assert generated.split("<!-- /rule_list -->", 1)[0].strip("\n") + "\n" == rule_list()


@pytest.mark.parametrize(("document", "heading"), [
    ("docs/reference/check.md", "## Rules"),  # the detailed table, moved from the README
])
def test_the_rules_tables_are_the_registry(document: str, heading: str) -> None:
    """Every rule once, in the registry's order, with its severity: the tables cannot drift."""
    import re
    from pathlib import Path

    from aoinspect.rules import RULES

    text = (Path(__file__).parent.parent / document).read_text(encoding="utf-8")
    section = text.split(f"\n{heading}\n", 1)[1].lstrip("\n").split("\n\n", 1)[0]
    rows = re.findall(r"^\| `([a-z-]+)` \| (\w+)", section, re.M)
    assert rows == [(rule.id, rule.severity) for rule in RULES]
