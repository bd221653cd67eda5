"""Every lazy mechanism aoinspect recognises, on fakes of the real patterns: module sets equal a
bare interpreter's, in fork and spawn isolation, each step says what served it, and the probe's
own look at a value never loads anything inside a measured step."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from aoinspect.engine import check_package, list_names, resolve_names
from aoinspect.probing.wire import ProbeSettings
from tests import packages

BARE = """
import sys
before = set(sys.modules)
import {package}
imported = set(sys.modules) - before
value = {package}
for part in {parts!r}:
    value = getattr(value, part)
accessed = set(sys.modules) - before - imported
print(repr((sorted(imported), sorted(accessed))))
"""


# What a bare interpreter loads depends on the code it runs and the fakes' files, not on where they
# are nor on the isolation aoinspect uses: the fork and spawn cases of one name share one bare run.
_BARE_RUNS: dict[tuple[str, tuple[tuple[str, bytes], ...]], str] = {}


def _bare_stdout(code: str, env: dict[str, str], cwd: str) -> str:
    files = tuple(sorted((str(path.relative_to(cwd)), path.read_bytes())
                         for path in Path(cwd).rglob("*.py") if path.is_file()))
    if (code, files) not in _BARE_RUNS:
        _BARE_RUNS[code, files] = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                                 check=True, env={**os.environ, **env}, cwd=cwd).stdout
    return _BARE_RUNS[code, files]


def bare(package: str, name: str, env: dict[str, str], cwd: str) -> tuple[set[str], set[str]]:
    """What ``python -c "import PACKAGE; PACKAGE.NAME"`` adds to sys.modules: at import, at access."""
    stdout = _bare_stdout(BARE.format(package=package, parts=name.split(".")), env, cwd)
    imported, accessed = ast.literal_eval(stdout.strip().splitlines()[-1])
    return set(imported), set(accessed)


@pytest.fixture
def site(fake, monkeypatch):  # type: ignore[no-untyped-def]
    """Fake packages on the children's path; returns a writer."""
    monkeypatch.setenv("PYTHONPATH", fake.env["PYTHONPATH"])
    monkeypatch.chdir(fake.root)
    return fake


CASES = [
    # (fake, package, name, the mechanism of each step)
    (packages.PROXY, "proxied", "chat.completions", ["attribute", "proxy"]),
    (packages.LAZY_MODULE, "deferred", "heavy.X", ["attribute", "lazy-module"]),
    (packages.CLASS_GETATTR, "classlazy", "Model", ["class-getattr"]),
    (packages.CLASS_GETATTR, "classlazy", "configuration", ["class-getattr"]),
    (packages.CLASS_SWAP, "swapped", "heavy", ["class-getattr"]),
    (packages.LAZY_LOADER, "attached", "heavy", ["lazy-loader"]),
    (packages.LAZY_LOADER, "attached", "tool", ["lazy-loader"]),
    (packages.GLOBALS_FALLBACK, "fallback", "heavy", ["module-getattr"]),
    (packages.GLOBALS_FALLBACK, "fallback", "get_config", ["attribute"]),
]


@pytest.mark.parametrize("isolation", ["fork", "spawn"])
@pytest.mark.parametrize(("files", "package", "name", "mechanisms"), CASES, ids=[f"{c[1]}.{c[2]}" for c in CASES])
def test_module_sets_equal_a_bare_interpreter(site, files, package, name, mechanisms, isolation) -> None:  # type: ignore[no-untyped-def]
    site.write(files)
    expected_import, expected_access = bare(package, name, site.env, str(site.root))
    settings = ProbeSettings(sys.executable, timeout=30, isolation=isolation)
    report = resolve_names(settings, package, [name], distributions=False)
    (result,) = report.results
    assert result.ok, result.error
    assert report.imported.module_names == expected_import
    assert set(result.modules) == expected_access
    assert expected_access or name == "get_config"  # the fakes do load something on access
    assert [step.mechanism for step in result.steps] == mechanisms
    # Looking at the value afterwards (repr, a second access) is reported apart, never mixed in.
    assert not set(result.modules) & {load.module for load in result.observed}


def test_describing_a_proxy_is_reported_apart_not_hidden(site) -> None:  # type: ignore[no-untyped-def]
    """``proxied.chat`` itself loads nothing; its repr does, after the step, and says so."""
    site.write(packages.PROXY)
    report = resolve_names(ProbeSettings(sys.executable, timeout=30), "proxied", ["chat"], distributions=False)
    (result,) = report.results
    assert result.modules == set() == bare("proxied", "chat", site.env, str(site.root))[1]
    assert {"proxied.resources", "colorsys", "fractions"} <= {load.module for load in result.observed}


def test_an_unexecuted_lazy_module_is_described_without_executing_it(site) -> None:  # type: ignore[no-untyped-def]
    site.write(packages.LAZY_MODULE)
    report = resolve_names(ProbeSettings(sys.executable, timeout=30), "deferred", ["heavy"], distributions=False)
    (result,) = report.results
    assert result.modules == set() and result.observed == ()
    assert result.object is not None and result.object.repr.startswith("<module 'deferred.heavy' from ")


@pytest.mark.parametrize("fake_package", [
    (packages.CLASS_GETATTR, "classlazy"), (packages.CLASS_SWAP, "swapped"), (packages.LAZY_LOADER, "attached"),
    (packages.GLOBALS_FALLBACK, "fallback"), (packages.DECLARED_STATICALLY, "declared"),
], ids=lambda case: case[1])
def test_check_finds_no_error_in_well_behaved_mechanisms(site, fake_package) -> None:  # type: ignore[no-untyped-def]
    files, package = fake_package
    site.write(files)
    report = check_package(ProbeSettings(sys.executable, timeout=30), package)
    errors = [finding for finding in report.findings if finding.severity == "error"]
    if package == "fallback":
        # `from . import eager` while __getattr__ would import it: the one true finding.
        assert [(finding.rule, finding.name) for finding in errors] == [("eager-import", "eager")]
        assert "fallback.eager" in errors[0].message
    else:
        assert errors == []
    assert report.resolutions, "the lazy names were measured"
    assert all(result.ok for result in report.resolutions)


def test_a_globals_fallback_is_no_lazy_path(site) -> None:  # type: ignore[no-untyped-def]
    """scikit-learn's clone/get_config: __getattr__ would return them from globals(), which is not
    the import system serving them; only `eager`, a submodule it imports, is a finding."""
    site.write(packages.GLOBALS_FALLBACK)
    report = check_package(ProbeSettings(sys.executable, timeout=30), "fallback")
    eager = {finding.name for finding in report.findings if finding.rule == "eager-import"}
    assert eager == {"eager"}


@pytest.mark.parametrize("spelling", ["importlib.import_module(__name__ + '.' + name)",
                                      "__import__(__name__ + '.' + name).__dict__[name]",
                                      "_import_as()"])
def test_eager_import_does_not_depend_on_how_getattr_spells_the_import(site, spelling: str) -> None:  # type: ignore[no-untyped-def]
    """``import eg.sub as sub`` (numpy's spelling) hands out ``eg`` and reads ``sub`` off it; it
    goes through the import system all the same."""
    site.write({"eg/__init__.py": f"""
import importlib
from . import sub  # eager, although __getattr__ would import it
__all__ = ["sub"]


def _import_as():
    import eg.sub as sub
    return sub


def __getattr__(name):
    if name == "sub":
        return {spelling}
    raise AttributeError(name)
""", "eg/sub.py": ""})
    report = check_package(ProbeSettings(sys.executable, timeout=30), "eg")
    (eager,) = [finding for finding in report.findings if finding.rule == "eager-import"]
    assert eager.name == "sub" and "stop declaring it lazy" in eager.message


def test_class_level_getattr_gets_every_rule(site) -> None:  # type: ignore[no-untyped-def]
    """A package served by its class's __getattr__ is checked like a PEP 562 one: star import,
    unknown names, eager imports."""
    site.write(packages.CLASS_GETATTR)
    report = check_package(ProbeSettings(sys.executable, timeout=30), "classlazy")
    (star,) = [finding for finding in report.findings if finding.rule == "star-import"]
    assert "Model" in star.message and "classlazy.modeling" in star.message
    assert report.rules and "eager-import" in report.rules
    listing = list_names(ProbeSettings(sys.executable, timeout=30), "classlazy")
    assert {name.name: name.mechanism for name in listing.names}["Model"] == "class-getattr"


def test_static_declarations_in_every_spelling(site) -> None:  # type: ignore[no-untyped-def]
    site.write(packages.DECLARED_STATICALLY)
    listing = list_names(ProbeSettings(sys.executable, timeout=30), "declared")
    declared_in = {name.name: name.declared_in for name in listing.names}
    for name in ("Alpha", "PublicHelper", "Inner", "beta", "Gamma", "Delta"):
        assert "TYPE_CHECKING" in declared_in[name], name
    assert "ModuleType" not in declared_in and "Helper" not in declared_in


def test_a_reentered_import_hangs_its_children_on_the_load_that_ran(site) -> None:  # type: ignore[no-untyped-def]
    """numpy.__config__'s pattern, as -X importtime shows it: reenter.core._umath sits where its
    import first began (under reenter.config); its parent package, imported by that first import,
    hangs under it, and so does what its second, running import loaded (fractions)."""
    site.write(packages.REENTERED)
    report = resolve_names(ProbeSettings(sys.executable, timeout=30), "reenter", ["__name__"], distributions=False)
    loads = {load.module: load for load in report.imported.materialized}
    assert loads["reenter.core._umath"].parent == "reenter.config"
    assert loads["fractions"].parent == "reenter.core._umath"
    assert loads["reenter.core"].parent == "reenter.core._umath"
    assert loads["reenter.core.multiarray"].parent == "reenter.core"
    assert loads["colorsys"].parent == "reenter.core.multiarray"
    order = [load.module for load in report.imported.materialized]
    assert order.index("reenter.core._umath") < order.index("reenter.core") < order.index("fractions")
    # Self times add up to the import's time: nothing is counted twice.
    total = sum(load.self_ms for load in report.imported.materialized)
    top = sum(load.cumulative_ms for load in report.imported.materialized if load.depth == 0)
    assert total == pytest.approx(top, rel=0.02, abs=0.05)


# --- PEP 810 shims: a proxy bound at import for each name __lazy_modules__ selects ---------------

USED = """
import sys
before = set(sys.modules)
import {package}
imported = set(sys.modules) - before
getattr({package}, {name!r}).__class__  # the first use: the shim's proxy loads here
used = set(sys.modules) - before - imported
print(repr((sorted(imported), sorted(used))))
"""


def bare_use(package: str, name: str, env: dict[str, str], cwd: str) -> tuple[set[str], set[str]]:
    """What ``python -c "import PACKAGE; PACKAGE.NAME.__class__"`` adds to sys.modules: at import,
    and at the name's first use."""
    stdout = _bare_stdout(USED.format(package=package, name=name), env, cwd)
    imported, used = ast.literal_eval(stdout.strip().splitlines()[-1])
    return set(imported), set(used)


@pytest.mark.parametrize("isolation", ["fork", "spawn"])
@pytest.mark.parametrize("name", ["json", "Tool", "VALUE"])
def test_a_pep810_shim_proxy_loads_on_first_use(site, name: str, isolation: str) -> None:  # type: ignore[no-untyped-def]
    """lazy-importer's proxy: the access returns the proxy, its first use loads the module; the
    access is measured as that use, served by the shim, and module sets equal a bare one's."""
    site.write(packages.LAZY_IMPORT_SHIM)
    expected_import, expected_use = bare_use("shimmed", name, site.env, str(site.root))
    report = resolve_names(ProbeSettings(sys.executable, timeout=30, isolation=isolation), "shimmed", [name],
                           distributions=False)
    (result,) = report.results
    assert result.ok, result.error
    assert report.imported.module_names == expected_import
    assert set(result.modules) == expected_use and expected_use
    assert [step.mechanism for step in result.steps] == ["lazy-import-shim"]
    assert result.cached  # the shim rebound the name to what the proxy loaded


@pytest.mark.parametrize("isolation", ["fork", "spawn"])
def test_pep810_shim_names_are_lazy_in_list_and_check(site, isolation: str) -> None:  # type: ignore[no-untyped-def]
    """Without recognising the shim: "4 declared names (0 lazy)", each loaded at import, no lazy rule run."""
    site.write(packages.LAZY_IMPORT_SHIM)
    settings = ProbeSettings(sys.executable, timeout=30, isolation=isolation)
    listed = {name.name: (name.loaded_at_import, name.mechanism, name.declared_in)
              for name in list_names(settings, "shimmed").names}
    shimmed = (False, "lazy-import-shim", ("__all__", "__lazy_modules__"))
    assert listed == {"json": shimmed, "Tool": shimmed, "VALUE": shimmed,
                      "VERSION": (True, "attribute", ("__all__",))}
    report = check_package(settings, "shimmed")
    assert sorted(result.name for result in report.resolutions) == ["Tool", "VALUE", "json"]
    assert all(result.ok and result.cached for result in report.resolutions)
    assert [finding for finding in report.findings if finding.severity == "error"] == []


@pytest.mark.real
def test_a_real_lazy_importer_package(site) -> None:  # type: ignore[no-untyped-def]
    """lazy-importer itself (installed in this interpreter), in place of the fake's shim."""
    pytest.importorskip("lazy_importer")
    files = dict(packages.LAZY_IMPORT_SHIM)
    del files["shimmed/_shim.py"]
    init = files["shimmed/__init__.py"]
    files["shimmed/__init__.py"] = init.replace("from ._shim import", "from lazy_importer import")
    site.write(files)
    settings = ProbeSettings(sys.executable, timeout=30)
    for name in ("json", "Tool", "VALUE"):
        expected_import, expected_use = bare_use("shimmed", name, site.env, str(site.root))
        report = resolve_names(settings, "shimmed", [name], distributions=False)
        (result,) = report.results
        assert result.ok, result.error
        assert report.imported.module_names == expected_import
        assert set(result.modules) == expected_use and expected_use
        assert [step.mechanism for step in result.steps] == ["lazy-import-shim"]
