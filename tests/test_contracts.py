"""CI contracts: forbidden imports, budgets, baselines, configuration, thread races, star
imports and JUnit reports."""

from __future__ import annotations

import json
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import Result

from aoinspect.models import ImportResult, ModuleLoad, import_chain
from aoinspect.patterns import matches
from tests.helpers import document
from tests.packages import LAZY_INIT, lazy_package


def rules_of(doc: dict) -> dict[str, list[dict]]:  # type: ignore[type-arg]
    found: dict[str, list[dict]] = {}  # type: ignore[type-arg]
    for finding in doc["findings"]:
        found.setdefault(finding["rule"], []).append(finding)
    return found


@pytest.mark.parametrize(
    ("module", "pattern", "expected"),
    [
        ("numpy", "numpy", True),
        ("numpy.linalg", "numpy", True),
        ("numpy", "numpy.*", True),
        ("numpy.linalg", "numpy.*", True),
        ("numpyx", "numpy", False),
        ("ao.quantization.observer", "ao.quantization*", True),
        ("ao.nn", "ao.quantization*", False),
        ("a.b.c", "*.c", True),
    ],
)
def test_patterns(module: str, pattern: str, expected: bool) -> None:
    assert matches(module, pattern) is expected


def test_chain_runs_from_the_access_to_the_module() -> None:
    loads = [ModuleLoad("a", None, 0, 0, 0), ModuleLoad("b", "a", 1, 0, 0), ModuleLoad("c", "b", 2, 0, 0)]
    assert import_chain(loads, "c") == ["a", "b", "c"]


def test_the_importer_of_a_package_is_who_asked_for_its_submodule() -> None:
    # import a.b.c begins a.b.c, which imports its package a.b first: "a" asked for it.
    loads = (ModuleLoad("a", None, 0, 0, 0), ModuleLoad("a.b.c", "a", 1, 0, 0), ModuleLoad("a.b", "a.b.c", 2, 0, 0))
    imported = ImportResult("a", loads, (), 0.0, 1, "3.11")
    assert imported.importer_of("a.b") == "a"
    assert imported.importer_of("a.b.c") == "a"
    assert imported.importer_of("a") is None


def test_forbid_is_quiet_on_ao_and_fires_on_an_eager_json_import(invoke, fake) -> None:
    result = invoke("check", "--forbid", "ao.quantization*", "--format", "json")
    assert result.exit_code == 0
    assert "forbidden-import" not in rules_of(document(result))
    fake.write(lazy_package("pkg", init=LAZY_INIT.format(pkg="pkg") + "\nfrom pkg import helper\n")
               | {"pkg/helper.py": "import json\n"})
    doc = document(invoke("-p", "pkg", "check", "--forbid", "json", "--format", "json"))
    findings = rules_of(doc)["forbidden-import"]
    assert doc["exit_code"] == 1
    assert any("pkg -> pkg.helper -> json" in finding["message"] for finding in findings)


def test_forbid_on_names_the_chain_from_the_access(invoke) -> None:
    result = invoke("check", "--forbid-on", "quantization:ao.nn*", "--format", "json")
    assert result.exit_code == 1
    findings = rules_of(document(result))["forbidden-import"]
    assert {finding["name"] for finding in findings} == {"quantization"}
    (nn,) = [f for f in findings if "imports ao.nn," in f["message"]]
    assert nn["message"].endswith(": ao.quantization -> ao.quantization.mappings -> ao.nn.intrinsic -> ao.nn.")


def test_budgets(invoke) -> None:
    generous = invoke("check", "--max-modules", "1000", "--max-modules", "quantization:100",
                      "--max-import-ms", "60000", "--format", "json")
    assert generous.exit_code == 0
    assert "budget-exceeded" not in rules_of(document(generous))
    tight = document(invoke("check", "--max-modules", "quantization:5", "--max-import-ms", "0.001",
                            "--repeat", "3", "--format", "json"))
    budget = {finding["name"]: finding["message"] for finding in rules_of(tight)["budget-exceeded"]}
    count = 20 if sys.version_info < (3, 11) else 19  # up to 3.10, importlib's __init__ imports warnings
    assert f"materializes {count} modules; the budget is 5" in budget["quantization"]
    assert "(the fastest of 3 runs)" in budget[None]
    assert tight["exit_code"] == 1


@pytest.mark.parametrize("value", ["x", "quantization:", "-3"])
def test_bad_budgets_are_usage_errors(invoke, value: str) -> None:
    assert invoke("check", "--max-modules", value).exit_code == 2


def test_baseline_round_trip(invoke, fake, tmp_path, monkeypatch) -> None:
    fake.write(lazy_package("pkg", beta="import decimal\n"))
    lock = tmp_path / "aoinspect.lock.json"
    monkeypatch.chdir(tmp_path)

    def run(*args: str) -> Result:
        return invoke("-p", "pkg", *args)

    snapshot = run("snapshot")
    assert snapshot.exit_code == 0, snapshot.stderr
    lock.write_text(snapshot.stdout)
    recorded = json.loads(snapshot.stdout)
    assert "decimal" in recorded["names"]["beta"]
    assert recorded["names"]["beta"] == sorted(recorded["names"]["beta"])
    assert "ms" not in snapshot.stdout
    assert run("check", "--baseline", str(lock)).exit_code == 0

    (fake.root / "pkg" / "beta.py").write_text("import fractions\n")  # adds fractions, drops nothing else
    failed = run("check", "--baseline", str(lock), "--format", "json")
    assert failed.exit_code == 1
    (new,) = rules_of(json.loads(failed.stdout))["new-import"]
    assert new["name"] == "beta" and "fractions" in new["message"]

    updated = run("check", "--baseline", str(lock), "--update-baseline")
    assert updated.exit_code == 0
    assert "fractions" in json.loads(lock.read_text())["names"]["beta"]
    assert run("check", "--baseline", str(lock)).exit_code == 0

    (fake.root / "pkg" / "beta.py").write_text("")
    improved = json.loads(run("check", "--baseline", str(lock), "--format", "json").stdout)
    assert improved["exit_code"] == 0
    assert any(f["severity"] == "info" and "good news" in f["message"] for f in improved["findings"])


def test_update_baseline_with_names_keeps_the_other_names(invoke, fake, tmp_path, monkeypatch) -> None:
    # --names measures only some names; rewriting the baseline from them alone dropped the others
    # from the lock file, and with them the new-import guard on those names.
    fake.write(lazy_package("pkg", beta="import decimal\n"))
    lock = tmp_path / "aoinspect.lock.json"
    monkeypatch.chdir(tmp_path)
    snapshot = invoke("-p", "pkg", "snapshot")
    assert snapshot.exit_code == 0, snapshot.stderr
    lock.write_text(snapshot.stdout)
    before = json.loads(snapshot.stdout)["names"]
    assert len(before) > 1

    (fake.root / "pkg" / "beta.py").write_text("import colorsys\n")
    updated = invoke("-p", "pkg", "check", "--baseline", str(lock), "--update-baseline", "--names", "beta")
    assert updated.exit_code == 0, updated.stderr
    after = json.loads(lock.read_text())["names"]
    assert set(after) == set(before)
    assert "colorsys" in after["beta"] and "decimal" not in after["beta"]
    assert {name: modules for name, modules in after.items() if name != "beta"} == {
        name: modules for name, modules in before.items() if name != "beta"}


def test_a_missing_baseline_is_a_usage_error(invoke, tmp_path) -> None:
    result = invoke("check", "--baseline", str(tmp_path / "nope.json"), "--format", "json")
    assert result.exit_code == 2
    assert "cannot read the baseline" in document(result)["error"]["message"]


def write_pyproject(directory: Path, body: str) -> Path:
    path = directory / "pyproject.toml"
    path.write_text(textwrap.dedent(body))
    return path


def test_configuration_in_pyproject_is_honoured_and_overridden(invoke, fake, tmp_path, monkeypatch) -> None:
    fake.write(lazy_package("pkg", beta="import json\n"))
    project = tmp_path / "project"
    (project / "src").mkdir(parents=True)
    write_pyproject(project, """
        [tool.aoinspect]
        package = "pkg"
        forbid-on = ["beta:json"]
        max-modules = 1000
        strict = false
    """)
    monkeypatch.chdir(project / "src")  # found upwards from the current directory
    doc = document(invoke("check", "--format", "json"))
    assert doc["package"] == "pkg"
    assert "forbidden-import" in rules_of(doc)
    overridden = document(invoke("-p", "ao", "check", "--format", "json"))
    assert overridden["package"] == "ao" and overridden["exit_code"] == 0


def test_unknown_configuration_keys_are_errors(invoke, tmp_path, monkeypatch) -> None:
    write_pyproject(tmp_path, """
        [tool.aoinspect]
        forbidd = ["json"]
    """)
    monkeypatch.chdir(tmp_path)
    result = invoke("check")
    assert result.exit_code == 2
    assert "unknown key 'forbidd'" in result.stderr


def test_config_option_points_elsewhere(invoke, fake, tmp_path) -> None:
    fake.write(lazy_package("pkg"))
    config = tmp_path / "ci.toml"
    config.write_text('[tool.aoinspect]\npackage = "pkg"\nstrict = true\n')
    doc = document(invoke("--config", str(config), "check", "--format", "json"))
    assert doc["package"] == "pkg" and doc["strict"] is True


RACY = {
    "pkg/__init__.py": textwrap.dedent("""
        import time
        __all__ = ["alpha"]

        def __getattr__(name):
            if name == "alpha":
                time.sleep(0.05)  # a slow, uncached lookup: every caller gets its own object
                return object()
            raise AttributeError(name)

        def __dir__():
            return sorted(list(globals()) + __all__)
    """),
}


def test_thread_races_fire_on_an_uncached_lookup_and_stay_quiet_on_ao(invoke, fake) -> None:
    fake.write(RACY)
    doc = document(invoke("-p", "pkg", "check", "--threads", "8", "--format", "json"))
    (race,) = rules_of(doc)["thread-unsafe"]
    assert race["name"] == "alpha" and "8 threads" in race["message"] and "different objects" in race["message"]
    quiet = document(invoke("check", "--threads", "8", "--format", "json"))
    assert "thread-unsafe" not in rules_of(quiet)


def test_star_import_warns_with_the_modules_it_would_load(invoke, fake) -> None:
    fake.write(lazy_package("pkg", beta="import decimal\n"))
    doc = document(invoke("-p", "pkg", "check", "--format", "json"))
    (star,) = rules_of(doc)["star-import"]
    assert star["severity"] == "warning"
    assert "alpha, beta" in star["message"] and "decimal" in star["message"]
    # --names narrows what is measured one by one; the star import still loads every lazy name.
    narrowed = document(invoke("-p", "pkg", "check", "--names", "alpha", "--format", "json"))
    assert [finding["message"] for finding in rules_of(narrowed)["star-import"]] == [star["message"]]
    # Without lazy names in __all__, a star import loads nothing lazy.
    fake.write({"plain/__init__.py": "__all__ = ['x']\nx = 1\n"})
    assert "star-import" not in rules_of(document(invoke("-p", "plain", "check", "--format", "json")))


def test_junit_report(invoke) -> None:
    result = invoke("check", "--forbid-on", "quantization:ao.nn*", "--format", "junit")
    assert result.exit_code == 1
    root = ET.fromstring(result.stdout)
    cases = {(case.get("classname"), case.get("name")): case for case in root.iter("testcase")}
    failing = cases[("ao.quantization", "forbidden-import")]
    assert failing.find("failure") is not None
    assert cases[("ao.nn", "forbidden-import")].find("failure") is None
    assert cases[("ao", "wrong-exception")].find("failure") is None
    assert cases[("ao", "missing-dir")].find("system-out") is not None  # a warning, not a failure
    suite = root.find("testsuite")
    assert suite is not None and suite.get("failures") == "1"
    assert int(suite.get("tests") or 0) == len(cases)


def test_junit_on_failure_is_still_a_document(invoke) -> None:
    result = invoke("-p", "no_such_pkg", "check", "--format", "junit")
    assert result.exit_code == 3
    root = ET.fromstring(result.stdout)
    assert root.find("testsuite/testcase/failure") is not None


def test_junit_after_a_failed_import_skips_what_did_not_run(invoke, fake) -> None:
    """A CI dashboard must not show 16 rules as passed when none of them ran."""
    fake.write({"broken/__init__.py": "raise ImportError('no')\n"})
    result = invoke("-p", "broken", "check", "--format", "junit")
    assert result.exit_code == 3
    root = ET.fromstring(result.stdout)
    cases = list(root.iter("testcase"))
    failed = [case.get("name") for case in cases if case.find("failure") is not None]
    skipped = [case for case in cases if case.find("skipped") is not None]
    assert failed == ["import-failed"]
    assert len(skipped) == len(cases) - 1 and "dir-loads" in [case.get("name") for case in skipped]
    assert "import broken did not succeed" in (skipped[0].find("skipped").get("message") or "")  # type: ignore[union-attr]
    suite = root.find("testsuite")
    assert suite is not None and suite.get("skipped") == str(len(skipped)) and suite.get("failures") == "1"


def test_pre_commit_hook_is_declared() -> None:
    hooks = (Path(__file__).parents[1] / ".pre-commit-hooks.yaml").read_text()
    assert "id: aoinspect-check" in hooks and "entry: aoinspect check" in hooks


def test_a_fresh_baseline_is_quiet_on_ao(invoke, tmp_path) -> None:
    lock = tmp_path / "ao.lock.json"
    snapshot = invoke("snapshot")
    assert snapshot.exit_code == 0
    lock.write_text(snapshot.stdout)
    doc = document(invoke("check", "--baseline", str(lock), "--format", "json"))
    assert doc["exit_code"] == 0
    assert not {"new-import", "baseline"} & set(rules_of(doc))
