"""The CLI's promises on the shipped ``ao`` package and on fakes built to break each rule."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest

from aoinspect import documents, outcomes
from tests.helpers import document
from tests.packages import lazy_package


def test_list_shows_the_four_names_none_loaded_at_import(invoke) -> None:
    result = invoke("list", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = document(result)
    assert doc["schema"] == documents.SCHEMA_VERSION
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
    assert result.exit_code == outcomes.EXIT_FINDINGS
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
    assert result.exit_code == outcomes.EXIT_IMPORT_FAILED
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
    assert result.exit_code == outcomes.EXIT_USAGE
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


# --- one command path (issue 20) ---------------------------------------------------------------


def test_version_is_the_pyprojects() -> None:
    """``--version`` prints ``aoinspect.__version__`` without reading metadata: it must stay the
    distribution's version."""
    import aoinspect

    pyproject = (Path(__file__).parents[1] / "pyproject.toml").read_text(encoding="utf-8")
    declared = next(line.split("=", 1)[1].strip().strip('"') for line in pyproject.splitlines()
                    if line.startswith("version ="))
    assert aoinspect.__version__ == declared


@pytest.mark.parametrize("command", ["list", "check", "snapshot"])
def test_the_package_goes_where_users_type_it(invoke, fake, command) -> None:
    fake.write(lazy_package("pkg"))
    doc = document(invoke(command, "pkg", "--format", "json"))
    assert doc.get("package") == "pkg", doc
    # The argument and -p after the command naming two packages: which one was meant?
    result = invoke(command, "pkg", "-p", "ao", "--format", "json")
    assert result.exit_code == 2 and "two packages" in result.stderr


def test_the_argument_wins_over_the_group_and_the_configuration(invoke, fake, tmp_path, monkeypatch) -> None:
    fake.write(lazy_package("pkg"))
    (tmp_path / "pyproject.toml").write_text('[tool.aoinspect]\npackage = "no_such_pkg"\n')
    monkeypatch.chdir(tmp_path)
    assert document(invoke("-p", "ao", "list", "pkg", "--format", "json"))["package"] == "pkg"
    assert document(invoke("list", "pkg", "--format", "json"))["package"] == "pkg"


def test_a_package_typed_where_a_name_goes_gets_a_hint(invoke, fake) -> None:
    fake.write(lazy_package("twonames"))
    resolved = invoke("resolve", "twonames")
    assert resolved.exit_code == 1
    assert "module 'ao' has no attribute 'twonames'" in resolved.stdout
    assert "aoinspect list twonames" in resolved.stderr
    assert "hint" not in invoke("resolve", "bogus").stderr  # no package of that name: no hint
    extra = invoke("list", "twonames", "alpha")
    assert extra.exit_code == 2
    assert "unexpected extra argument" in extra.stderr and "aoinspect resolve -p twonames alpha" in extra.stderr
    unknown = invoke("twonames")
    assert unknown.exit_code == 2 and "aoinspect list twonames" in unknown.stderr
    assert "Did you mean 'list'?" in invoke("lsit").stderr


# Each command, with what it needs to get as far as its options.
COMMANDS = {
    "list": ["list"],
    "resolve": ["resolve", "nn"],
    "check": ["check"],
    "snapshot": ["snapshot"],
    "trace": ["trace"],
    "diff": ["diff"],
    "graph": ["graph"],
}
AFTER = {"trace": ["--", "-c", "pass"], "diff": ["old.json", "new.json"]}
BAD_VALUES = {
    "format": ["--format", "bogus"],
    "output is a directory": ["-o", "."],
    "timeout": ["--timeout", "nan"],
    "python": ["--python", "/nonexistent/python"],
}


def error_line(result) -> str:  # type: ignore[no-untyped-def]
    """What a failed command said, without the usage line that names the command."""
    return next(line for line in result.stderr.splitlines() if line.startswith(("Error:", "aoinspect:")))


@pytest.mark.parametrize("bad", sorted(BAD_VALUES))
def test_the_same_bad_value_fails_the_same_way_in_every_command(invoke, tmp_path, monkeypatch, bad) -> None:
    monkeypatch.chdir(tmp_path)
    endings = {}
    for name, words in COMMANDS.items():
        if name == "diff" and bad in ("timeout", "python"):
            continue  # diff runs nothing: it has neither option
        result = invoke(*words, *BAD_VALUES[bad], *AFTER.get(name, []))
        endings[name] = (result.exit_code, error_line(result))
    assert len(set(endings.values())) == 1, endings
    (exit_code, _message), = set(endings.values())
    assert exit_code == outcomes.EXIT_USAGE


def test_engine_errors_go_through_the_same_funnel(invoke, tmp_path) -> None:
    """An engine's failure is one line on stderr and its exit code, in every command; in a
    format that shows failures, one document too (for trace and diff as for the others)."""
    missing = invoke("-p", "no_such_pkg", "snapshot", "-o", str(tmp_path / "lock.json"))
    assert missing.exit_code == outcomes.EXIT_IMPORT_FAILED and missing.stdout == ""
    failure = json.loads((tmp_path / "lock.json").read_text())
    assert failure["error"]["kind"] == "import-failed"
    not_a_program = invoke("trace", "--format", "json", "--", "-i")
    assert not_a_program.exit_code == outcomes.EXIT_USAGE
    assert error_line(not_a_program).startswith("aoinspect:")
    unreadable = invoke("diff", "--format", "json", str(tmp_path / "a.json"), str(tmp_path / "b.json"))
    assert unreadable.exit_code == outcomes.EXIT_USAGE
    assert json.loads(unreadable.stdout)["error"]["kind"] == "usage"
    assert error_line(unreadable).startswith("aoinspect:")


def test_output_writes_the_file_and_guesses_its_format(invoke, tmp_path) -> None:
    report = tmp_path / "nn.json"
    result = invoke("resolve", "nn", "-o", str(report))
    assert result.exit_code == 0 and result.stdout == ""
    assert json.loads(report.read_text())["command"] == "resolve"
    markdown = tmp_path / "nn.md"
    assert invoke("resolve", "nn", "--output", str(markdown)).exit_code == 0
    assert markdown.read_text().startswith(("#", "|", "**", "<")), markdown.read_text()[:80]
    explicit = tmp_path / "nn.html"
    assert invoke("resolve", "nn", "--format", "text", "-o", str(explicit)).exit_code == 0
    assert "ao.nn" in explicit.read_text() and "<html" not in explicit.read_text()
    unguessable = tmp_path / "nn.log"
    assert invoke("resolve", "nn", "-o", str(unguessable)).exit_code == 0
    assert "ao.nn  ok" in unguessable.read_text()  # text, the default
    refused = invoke("list", "-o", str(tmp_path / "names.svg"))
    assert refused.exit_code == 2 and "guessed from" in refused.stderr
    diffed = tmp_path / "diff.json"
    assert invoke("diff", str(report), str(report), "-o", str(diffed)).exit_code == 0
    assert json.loads(diffed.read_text())["compared"] == "resolve"


def write_config(directory: Path, body: str) -> None:
    (directory / "pyproject.toml").write_text(textwrap.dedent(body))


def test_a_probe_timeout_is_not_a_traced_programs(invoke, tmp_path, monkeypatch) -> None:
    """Top-level keys configure the probes; ``[tool.aoinspect.trace]`` the traced program."""
    monkeypatch.chdir(tmp_path)
    sleeper = ["trace", "--", "-c", "import time; time.sleep(0.3)"]  # past the probes' 0.1 s
    write_config(tmp_path, "[tool.aoinspect]\ntimeout = 0.1\n")
    assert invoke(*sleeper).exit_code == 0
    write_config(tmp_path, "[tool.aoinspect]\ntimeout = 60\n\n[tool.aoinspect.trace]\ntimeout = 0.1\n")
    assert invoke("trace", "--", "-c", "import time; time.sleep(30)").exit_code == outcomes.EXIT_TRACE_TIMEOUT


def test_command_tables_configure_one_command(invoke, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    report = tmp_path / "nn.json"
    assert invoke("resolve", "nn", "-o", str(report)).exit_code == 0
    write_config(tmp_path, """
        [tool.aoinspect]
        format = "text"

        [tool.aoinspect.diff]
        format = "json"
        threshold = "50%"
    """)
    configured = json.loads(invoke("diff", str(report), str(report)).stdout)
    assert configured["threshold"]["ratio"] == 0.5
    # The command line, before or after the command, wins over any table.
    assert invoke("--format", "markdown", "diff", str(report), str(report)).stdout.lstrip().startswith(("#", "|"))
    write_config(tmp_path, "[tool.aoinspect.trace]\nstrict = true\n")
    unknown = invoke("trace", "--", "-c", "pass")
    assert unknown.exit_code == 2 and "unknown key 'strict' in [tool.aoinspect.trace]" in unknown.stderr


def test_the_cli_reaches_probes_through_the_engine_and_its_hooks() -> None:
    """The CLI starts nothing itself: no import of the child's protocol, the cache or the runner."""
    import ast

    package = Path(__file__).parents[1] / "aoinspect"
    source = "\n".join((package / name).read_text(encoding="utf-8") for name in ("cli.py", "commands/path.py"))
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
            imported.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
    assert "aoinspect.probing.hooks" in imported  # the measurement works
    assert not imported & {"aoinspect.child.protocol", "aoinspect.probing.cache", "aoinspect.probing.runner",
                           "aoinspect.child", "aoinspect.probing.session"}


def raise_in_every_command(monkeypatch: pytest.MonkeyPatch, exception: BaseException) -> None:
    """Make the first step of each command's work raise ``exception``."""
    import aoinspect.commands.graph
    import aoinspect.commands.trace
    import aoinspect.diff
    import aoinspect.engine

    def fail(*_args: object, **_kwargs: object) -> None:
        raise exception

    monkeypatch.setattr(aoinspect.engine, "probe_settings", fail)
    monkeypatch.setattr(aoinspect.commands.trace, "run_trace", fail)
    monkeypatch.setattr(aoinspect.commands.graph, "run_graph", fail)
    monkeypatch.setattr(aoinspect.diff, "read_report", fail)


ENDINGS = {
    "internal error": (RuntimeError("boom"), outcomes.EXIT_PROBE_FAILED,
                       "aoinspect: internal error: RuntimeError: boom (run with --debug for the traceback)"),
    "Ctrl-C": (KeyboardInterrupt(), outcomes.EXIT_INTERRUPTED, "aoinspect: interrupted"),
    "SIGTERM": (None, 128 + 15, "aoinspect: ended by signal 15"),
}


@pytest.mark.parametrize("ending", sorted(ENDINGS))
def test_every_command_ends_the_same_way(invoke, monkeypatch, tmp_path, ending) -> None:
    from aoinspect.cli import Terminated

    monkeypatch.chdir(tmp_path)
    exception, exit_code, message = ENDINGS[ending]
    raise_in_every_command(monkeypatch, exception if exception is not None else Terminated(15))
    for name, words in COMMANDS.items():
        result = invoke(*words, *AFTER.get(name, []))
        assert (result.exit_code, result.stderr.strip()) == (exit_code, message), name
