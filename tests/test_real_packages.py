"""The promises on real lazy packages nobody here wrote; each test skips when its package is not
installed. .ci/matrix's real leg installs most of them and runs ``pytest -m "real and not heavy" --require-real``;
the ``heavy`` ones (torch, langchain-community) run by hand. To run them all here: pip install pydantic openai
transformers scikit-learn huggingface_hub plotly matplotlib diffusers ibis-framework langchain-community torch."""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys

import pytest

from aoinspect.engine import check_package, list_names, resolve_names
from aoinspect.models import CheckOptions
from aoinspect.probing.wire import ProbeSettings
from aoinspect.rules import ignored_rules

pytestmark = pytest.mark.real

SETTINGS = ProbeSettings(sys.executable, timeout=120, jobs=2)


def needs(package: str) -> None:
    if importlib.util.find_spec(package) is None:
        pytest.skip(f"{package} is not installed")


def bare_access(package: str, name: str) -> set[str]:
    code = (f"import sys; import {package}; before = set(sys.modules); value = {package}\n"
            f"for part in {name.split('.')!r}: value = getattr(value, part)\n"
            "print(repr(sorted(set(sys.modules) - before)))")
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(ast.literal_eval(completed.stdout.strip().splitlines()[-1]))


def test_openai_proxies_load_what_a_bare_interpreter_loads() -> None:
    needs("openai")
    names = ["resources.chat", "chat.completions"]
    report = resolve_names(SETTINGS, "openai", names, distributions=False)
    for result, name in zip(report.results, names):
        assert set(result.modules) == bare_access("openai", name), name
        assert result.steps[-1].mechanism == "proxy"
        assert len(result.modules) > 1


def test_openai_declares_its_type_checking_only_names() -> None:
    needs("openai")
    listing = list_names(SETTINGS, "openai")
    declared = {name.name: name.declared_in for name in listing.names}
    # Not in __all__; its __dir__ lists it too (issue 22: names __dir__ adds are declared there).
    assert declared.get("AssistantEventHandler") == ("TYPE_CHECKING", "__dir__")


def test_transformers_lazy_module_is_seen_and_suggested() -> None:
    needs("transformers")
    report = resolve_names(SETTINGS, "transformers", ["AutoConfig", "AutoConfg"], distributions=False)
    found, typo = report.results
    assert found.mechanism == "class-getattr" and set(found.modules) == bare_access("transformers", "AutoConfig")
    assert typo.suggestions[0] == "AutoConfig"


def test_pydantic_has_no_false_declaration_or_eager_findings() -> None:
    needs("pydantic")
    report = check_package(SETTINGS, "pydantic")
    rules = {finding.rule for finding in report.findings}
    assert not rules & {"declaration-mismatch", "eager-import", "resolve-failed", "probe-failed"}


def test_scikit_learn_globals_fallback_is_no_eager_import() -> None:
    needs("sklearn")
    report = check_package(SETTINGS, "sklearn")
    eager = {finding.name for finding in report.findings if finding.rule == "eager-import"}
    assert not eager & {"clone", "get_config", "set_config", "config_context", "show_versions"}
    assert not any(finding.rule == "declaration-mismatch" for finding in report.findings)


def test_matplotlib_functools_cached_getattr_is_not_reported_uncached() -> None:
    needs("matplotlib")
    report = check_package(SETTINGS, "matplotlib")
    assert not any(finding.rule in ("not-cached", "second-access-fails") for finding in report.findings)
    cached = {result.name: result.cached for result in report.resolutions}
    assert cached.get("__version__") is True


def test_plotly_missing_dir_does_not_ask_for_a_name_that_fails() -> None:
    needs("plotly")
    report = check_package(SETTINGS, "plotly")
    failed = {finding.name for finding in report.findings if finding.rule == "resolve-failed"}
    # plotly.templates fails where one of its optional dependencies is missing (a true
    # resolve-failed) and works elsewhere: either way missing-dir never asks to list a failing name.
    for finding in report.findings:
        if finding.rule == "missing-dir" and "lazy name(s) " in finding.message:
            listed = finding.message.split("lazy name(s) ", 1)[1].split(";", 1)[0].split(", ")
            assert not failed & set(listed), finding.message


def test_diffusers_dotted_all_entries_are_no_failed_names() -> None:
    needs("diffusers")
    report = check_package(SETTINGS, "diffusers", CheckOptions(ignore=ignored_rules(["whole-package"])))
    assert not any(finding.rule == "resolve-failed" and finding.name and "." in finding.name
                   for finding in report.findings)
    assert any(finding.rule == "invalid-all" and "not identifiers" in finding.message for finding in report.findings)


# --- lazy names beyond __all__ (issue 22): pip install ibis-framework langchain-community torch ---


def test_ibis_backends_listed_only_in_dir_are_lazy_names() -> None:
    needs("ibis")
    listing = list_names(SETTINGS, "ibis")
    from_dir = {name.name for name in listing.names if "__dir__" in name.declared_in}
    assert {"duckdb", "sqlite", "polars"} <= from_dir
    assert all(not name.loaded_at_import for name in listing.names if name.name in from_dir)


@pytest.mark.heavy
def test_langchain_community_subpackages_are_lazy_packages() -> None:
    needs("langchain_community")
    listing = list_names(SETTINGS, "langchain_community", include_undeclared=True)
    assert {"llms", "chat_models", "document_loaders"} <= set(listing.lazy_packages)
    assert any("check --recursive langchain_community" in note for note in listing.notes)
    # One subpackage checked on its own, as --recursive checks each: names served by its __getattr__.
    report = check_package(SETTINGS, "langchain_community.llms", CheckOptions(names=("OpenAI", "Ollama")))
    assert {result.name for result in report.resolutions} == {"OpenAI", "Ollama"}


@pytest.mark.heavy
def test_langchain_community_import_loads_what_a_bare_interpreter_loads() -> None:
    """langchain-community warns at import ("being sunset", a DeprecationWarning attributed to
    ``__main__``): a bare interpreter shows it, which loads linecache, tokenize and more. The
    probe shows it too, and its module set is the bare one (issue 22: 105 against 108 before)."""
    needs("langchain_community")
    bare = subprocess.run(
        [sys.executable, "-c", "import sys; before = set(sys.modules); import langchain_community; "
                               "print(*sorted(set(sys.modules) - before))"],
        capture_output=True, text=True, check=True,
    )
    assert "being sunset" in bare.stderr
    imported = list_names(SETTINGS, "langchain_community").imported
    assert set(imported.module_names) == set(bare.stdout.split())
    assert any("sunset" in shown.message for shown in imported.warnings)


@pytest.mark.heavy
def test_torch_checks_without_false_errors_and_reports_its_dead_lazy_entry() -> None:
    needs("torch")
    report = check_package(SETTINGS, "torch")
    errors = {(finding.rule, finding.name) for finding in report.findings if finding.severity == "error"}
    # No resolve-failed for names imported under TYPE_CHECKING only for annotations (Device...).
    assert not {rule for rule, _name in errors} & {"resolve-failed", "probe-failed"}
    declared = {name.name for name in report.names}
    assert not declared & {"Device", "IntLikeType", "ParamsSpec", "ShapesSpec"}
    lazy = {name.name for name in report.names if not name.loaded_at_import}
    assert {"_dynamo", "_inductor", "onnx"} <= lazy
    # _export is in _lazy_modules, but the eager torch.export imports it: that laziness is dead.
    assert ("eager-import", "_export") in errors
    typo = resolve_names(SETTINGS, "torch", ["onnxx"], distributions=False).results[0]
    assert "onnx" in typo.suggestions
