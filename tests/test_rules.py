"""Every rule of ``check`` fires on a package built to break it, and stays quiet on ``ao``."""

from __future__ import annotations

import re
from typing import Any, Callable

import pytest
from click.testing import CliRunner

from aoinspect.cli import cli
from tests import packages
from tests.helpers import FakePackages, document
from tests.packages import LAZY_INIT, RULE_BREAKERS, lazy_package

SEVERITY = {"not-cached": "warning", "missing-dir": "warning"}
EXIT = {"probe-failed": 4, "not-cached": 0, "missing-dir": 0}


def rule_id(case: str) -> str:
    return case.split(" (")[0]


def test_a_well_behaved_package_has_no_findings(invoke, fake) -> None:
    fake.write(lazy_package("pkg"))
    # Both come with a __dir__ and an __all__ that list the lazy names: TAB and `import *` load them.
    result = invoke("-p", "pkg", "check", "--strict", "--ignore", "star-import", "--ignore", "completion-loads",
                    "--format", "json")
    assert result.exit_code == 0, result.stdout
    assert document(result)["findings"] == []


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], tuple[int, dict[str, Any]]]:
    """``check --format json`` on the package that breaks CASE (exit code, document): run once per
    case, however many tests read it."""
    runs: dict[str, tuple[int, dict[str, Any]]] = {}

    def check(case: str) -> tuple[int, dict[str, Any]]:
        if case not in runs:
            site = FakePackages(tmp_path_factory.mktemp("site"))
            site.write(RULE_BREAKERS[case])
            result = CliRunner().invoke(cli, ["-p", "pkg", "check", "--format", "json"], env=site.env,
                                        catch_exceptions=False)
            runs[case] = (result.exit_code, document(result))
        return runs[case]

    return check


@pytest.mark.parametrize("rule", sorted(RULE_BREAKERS))
def test_rule_fires(checked, rule: str) -> None:  # type: ignore[no-untyped-def]
    exit_code, doc = checked(rule)
    rule = rule_id(rule)
    rules = {finding["rule"] for finding in doc["findings"]}
    assert rule in rules, doc["findings"]
    finding = next(f for f in doc["findings"] if f["rule"] == rule)
    assert finding["severity"] == SEVERITY.get(rule, "error")
    assert exit_code == EXIT.get(rule, 1)
    assert doc["exit_code"] == exit_code


@pytest.fixture(scope="module")
def ao_rules() -> set[str]:
    """The rules ``check`` finds on ``ao``: one run for every rule's case."""
    result = CliRunner().invoke(cli, ["check", "--format", "json"], catch_exceptions=False)
    return {finding["rule"] for finding in document(result)["findings"]}


@pytest.mark.parametrize("rule", sorted(RULE_BREAKERS))
def test_rule_is_quiet_on_ao(ao_rules: set[str], rule: str) -> None:
    expected = {"missing-dir", "star-import"}
    assert (rule_id(rule) in ao_rules) == (rule_id(rule) in expected)


def test_eager_import_names_the_importer(checked) -> None:  # type: ignore[no-untyped-def]
    _exit_code, doc = checked("eager-import")
    (finding,) = [f for f in doc["findings"] if f["rule"] == "eager-import"]
    assert finding["name"] == "alpha"
    assert "imported by pkg)" in finding["message"]


def test_eager_name_that_getattr_would_not_serve_is_not_a_finding(invoke, fake) -> None:
    init = LAZY_INIT.format(pkg="pkg").replace("if name in __all__:", "if name == 'beta':")
    fake.write(lazy_package("pkg", init=init + "\nfrom . import alpha\n"))
    doc = document(invoke("-p", "pkg", "check", "--format", "json"))
    assert "eager-import" not in {f["rule"] for f in doc["findings"]}
    names = {entry["name"]: entry for entry in doc["names"]}
    assert names["alpha"]["loaded_at_import"] is True


def test_wrong_exception_reports_the_real_type_and_location(checked) -> None:  # type: ignore[no-untyped-def]
    _exit_code, doc = checked("wrong-exception")
    (finding,) = [f for f in doc["findings"] if f["rule"] == "wrong-exception"]
    assert "KeyError" in finding["message"]
    assert "pkg/__init__.py:" in finding["message"]


def test_probe_failure_in_check_says_how_it_ended(checked) -> None:  # type: ignore[no-untyped-def]
    _exit_code, doc = checked("probe-failed")
    failed: dict[str | None, list[str]] = {}
    for f in doc["findings"]:
        if f["rule"] == "probe-failed":
            failed.setdefault(f["name"], []).append(f["message"])
    assert "exited with status 0 without reporting" in failed["beta"][0]
    # from pkg import * and TAB completion reach beta too: their probes failed, and check says so
    # rather than hiding it.
    assert any("from pkg import *" in message for message in failed[None])
    assert any("completing 'pkg.'" in message for message in failed[None])
    assert set(failed) == {"beta", None}


def test_type_checking_under_an_alias_and_types_import_declare_correctly(invoke, fake) -> None:
    # torch.ao's own spelling: TYPE_CHECKING imported under an alias, ModuleType beside.
    fake.write(lazy_package("pkg", init='''
        import typing as t
        from typing import TYPE_CHECKING as _TYPE_CHECKING

        if _TYPE_CHECKING:
            from types import ModuleType
            from pkg import alpha as alpha

        if t.TYPE_CHECKING:
            from . import beta

        __all__ = ["alpha", "beta"]

        def __getattr__(name):
            if name in __all__:
                import importlib
                return importlib.import_module("." + name, __name__)
            raise AttributeError(name)
    '''))
    doc = document(invoke("-p", "pkg", "list", "--format", "json"))
    assert {e["name"]: e["declared_in"] for e in doc["names"]} == {
        "alpha": ["__all__", "TYPE_CHECKING"],
        "beta": ["__all__", "TYPE_CHECKING"],
    }


def test_star_import_counts_every_lazy_name_whatever_names_selects(invoke, fake) -> None:
    # `from pkg import *` looks up all of __all__; --names narrows what is measured, not that.
    fake.write(lazy_package("pkg"))
    doc = document(invoke("-p", "pkg", "check", "--names", "alpha", "--format", "json"))
    (finding,) = [f for f in doc["findings"] if f["rule"] == "star-import"]
    assert "loads 2 lazy name(s) (alpha, beta)" in finding["message"], finding["message"]


def test_star_import_that_raises_is_reported(invoke, fake) -> None:
    # scikit-learn's model_selection: a name of __all__ whose __getattr__ raises ImportError on
    # purpose breaks `from sklearn.model_selection import *`.
    gate = "if name == 'beta':\n        raise ImportError('beta is experimental')\n    if name in __all__:"
    init = LAZY_INIT.format(pkg="pkg").replace("if name in __all__:", gate)
    fake.write(lazy_package("pkg", init=init))
    doc = document(invoke("-p", "pkg", "check", "--format", "json"))
    (finding,) = [f for f in doc["findings"] if f["rule"] == "star-import"]
    assert "'from pkg import *' raises ImportError: beta is experimental" in finding["message"], finding["message"]
    assert "pkg/__init__.py:" in finding["message"]
    # What importing importlib brings along differs between versions (3.10 adds warnings).
    assert re.search(r"after importing \d+ module\(s\): importlib, .*pkg\.alpha;", finding["message"]), \
        finding["message"]


def test_name_assigned_in_the_type_checking_block_is_declared(invoke, fake) -> None:
    # filelock: `if TYPE_CHECKING: AsyncFileLock = AsyncSoftFileLock` declares AsyncFileLock for type
    # checkers as surely as an import does.
    init = LAZY_INIT.format(pkg="pkg").replace(
        "from pkg import alpha as alpha, beta as beta", "from pkg import alpha as alpha\n    beta = alpha")
    fake.write(lazy_package("pkg", init=init))
    doc = document(invoke("-p", "pkg", "check", "--format", "json"))
    assert "declaration-mismatch" not in {f["rule"] for f in doc["findings"]}, doc["findings"]


# --- findings that were noise on real packages: the true finding stays, the noise goes -----------

ISOLATIONS = ("fork", "spawn")


def by_rule(doc: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for finding in doc["findings"]:
        found.setdefault(finding["rule"], []).append(finding)
    return found


@pytest.mark.parametrize("isolation", ISOLATIONS)
def test_a_dotted_entry_of_all_is_invalid_all_not_a_failed_name(invoke, fake, isolation: str) -> None:
    """diffusers: 'quantizers.pipe_quant_config' in __all__ is warned about once by invalid-all,
    and not accessed as a name (it used to be two resolve-failed errors, exit 1)."""
    fake.write(packages.DOTTED_ALL)
    result = invoke("--isolation", isolation, "-p", "dotted", "check", "--format", "json")
    doc = document(result)
    found = by_rule(doc)
    assert "resolve-failed" not in found, found
    (invalid,) = found["invalid-all"]
    assert "'quantizers.pipe_quant_config'" in invalid["message"] and invalid["severity"] == "warning"
    measured = {entry["name"] for entry in doc["results"]}
    assert measured == {"models", "PipelineQuantizationConfig", "Model"}
    assert result.exit_code == 0, doc["findings"]


def test_resolve_never_suggests_the_name_typed(invoke, fake) -> None:
    fake.write(packages.DOTTED_ALL)
    result = invoke("-p", "dotted", "resolve", "quantizers.pipe_quant_config", "--format", "json")
    (entry,) = document(result)["results"]
    assert entry["ok"] is False
    assert "quantizers.pipe_quant_config" not in entry["suggestions"]
    assert "pipe_quant_config" not in entry["suggestions"]
    # A typo still gets its suggestion, matched against the step that failed.
    (typo,) = document(invoke("-p", "dotted", "resolve", "Modl", "--format", "json"))["results"]
    assert typo["suggestions"][0] == "Model"


@pytest.mark.parametrize("isolation", ISOLATIONS)
def test_missing_dir_asks_only_for_names_that_resolve(invoke, fake, isolation: str) -> None:
    """plotly: a name whose access fails is resolve-failed's; listing it in __dir__ would offer TAB
    completion a name that fails. The one that works and is missing is still reported."""
    fake.write(packages.FAILING_NOT_IN_DIR)
    found = by_rule(document(invoke("--isolation", isolation, "-p", "failing", "check", "--format", "json")))
    assert [finding["name"] for finding in found["resolve-failed"]] == ["beta"]
    (missing,) = found["missing-dir"]
    assert "lazy name(s) gamma;" in missing["message"], missing["message"]


@pytest.mark.parametrize("isolation", ISOLATIONS)
def test_a_functools_cached_getattr_is_cached(invoke, fake, isolation: str) -> None:
    """matplotlib: a second access of 'fit' imports nothing and returns the same object, through
    functools.cache rather than the globals: cached. 'plot' calls import_module every time."""
    fake.write(packages.FUNCTOOLS_CACHED)
    doc = document(invoke("--isolation", isolation, "-p", "cachedga", "check", "--format", "json"))
    assert [finding["name"] for finding in by_rule(doc).get("not-cached", [])] == ["plot"]
    cached = {entry["name"]: entry["cached"] for entry in doc["results"]}
    assert cached == {"fit": True, "plot": False}


@pytest.mark.parametrize("isolation", ISOLATIONS)
def test_a_second_access_that_raises_is_an_error(invoke, fake, isolation: str) -> None:
    """lazy-imports: the deferred entry is popped when served, so `pkg.fit; pkg.fit` raises the
    second time: an error (not a not-cached warning); 'plot', stored in the globals, is fine."""
    fake.write(packages.FORGETFUL)
    result = invoke("--isolation", isolation, "-p", "forgetful", "check", "--format", "json")
    doc = document(result)
    found = by_rule(doc)
    (failing,) = found["second-access-fails"]
    assert failing["name"] == "fit" and failing["severity"] == "error"
    assert "a second one raises AttributeError: module 'forgetful' has no attribute 'fit' at " in failing["message"]
    assert "forgetful/__init__.py:" in failing["message"]
    assert "not-cached" not in found and "resolve-failed" not in found
    entries = {entry["name"]: entry for entry in doc["results"]}
    assert entries["fit"]["second_error"]["type"] == "AttributeError"
    assert "second_error" not in entries["plot"]
    assert result.exit_code == 1


@pytest.mark.parametrize("isolation", ISOLATIONS)
def test_a_module_class_that_forgets_what_it_served_is_an_error(invoke, fake, isolation: str) -> None:
    """lazy-imports' LazyModule shape (a class __getattr__, the deferred entry popped) with the value
    kept aside: both names fail the second time, an error each; not-cached stays quiet."""
    fake.write(packages.FORGETFUL_MODULE_CLASS)
    result = invoke("--isolation", isolation, "-p", "forgetmod", "check", "--format", "json")
    found = by_rule(document(result))
    assert sorted(finding["name"] for finding in found["second-access-fails"]) == ["fit", "plot"]
    assert "a second one raises AttributeError: lazy module forgetmod has no attribute fit at " in \
        found["second-access-fails"][0]["message"]
    assert "not-cached" not in found and "resolve-failed" not in found
    assert result.exit_code == 1


@pytest.mark.real
def test_lazy_imports_itself_is_cached(invoke, fake) -> None:
    """The released LazyModule sets the attribute as it pops the entry: a second access works and
    imports nothing; neither second-access-fails nor not-cached."""
    pytest.importorskip("lazy_imports")
    fake.write({
        "realforget/__init__.py": """
            from lazy_imports import LazyModule, as_package, load

            load(LazyModule(*as_package(__file__), "from .stats import fit", "from .plotting import plot",
                            name=__name__))
        """,
        "realforget/stats.py": "def fit(data):\n    return data\n",
        "realforget/plotting.py": "def plot(data):\n    return None\n",
    })
    doc = document(invoke("-p", "realforget", "check", "--format", "json"))
    found = by_rule(doc)
    assert "second-access-fails" not in found and "not-cached" not in found
    assert {entry["name"]: entry["cached"] for entry in doc["results"]} == {"fit": True, "plot": True}


def test_resolve_says_that_a_second_access_raised(invoke, fake) -> None:
    fake.write(packages.FORGETFUL)
    result = invoke("-p", "forgetful", "resolve", "fit", "plot")
    assert "a second access raised AttributeError: module 'forgetful' has no attribute 'fit'" in result.stdout
    assert result.stdout.count("a second access raised") == 1
