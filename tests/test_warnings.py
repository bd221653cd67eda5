"""A package's warnings, at import and in an access, reach the warnings machinery from the frame
they would under a bare ``python -c`` (issue 22): the module sets of ``resolve``, ``check`` and
``trace`` equal a bare interpreter's, whatever the ``stacklevel`` and the filters (the default
ones, ``-W error``, ``PYTHONWARNINGS``), in fork and spawn; the warnings the import shows are in
the report; and the package finds the filters of a bare interpreter in every isolation."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import document
from tests.packages import warning_package

# The oracle: what a bare interpreter loads at ``import warnpkg`` and at ``warnpkg.lazy``, each
# from the top level of a ``-c``, and what it shows on stderr at each. It loads nothing itself.
BARE = """import sys
before = set(sys.modules)
try:
    import warnpkg
except BaseException as exc:
    print("import-failed", type(exc).__name__)
    raise SystemExit(0)
imported = set(sys.modules)
print("import", *sorted(imported - before))
sys.stderr.write("--- access ---\\n")
try:
    warnpkg.lazy
except BaseException as exc:
    print("access-failed", type(exc).__name__)
    raise SystemExit(0)
print("access", *sorted(set(sys.modules) - imported))
"""
SHOWN = "DeprecationWarning: old"
FILTERS = ["default", "-W error", "PYTHONWARNINGS"]


@dataclass(frozen=True)
class Outcome:
    """What one run loaded or raised at import and at the access of ``lazy``."""

    import_modules: tuple[str, ...] | None
    import_error: str | None
    access_modules: tuple[str, ...] | None
    access_error: str | None


@dataclass(frozen=True)
class Bare:
    outcome: Outcome
    shown_at_import: bool
    stdout: str
    stderr: str


def read_outcome(stdout: str) -> Outcome:
    fields: dict[str, Any] = {"import_modules": None, "import_error": None, "access_modules": None,
                              "access_error": None}
    for line in stdout.splitlines():
        word, *rest = line.split()
        if word.endswith("-failed"):
            fields[word.replace("-failed", "_error")] = rest[0]
        else:
            fields[f"{word}_modules"] = tuple(sorted(rest))
    return Outcome(**fields)


def interpreter(tmp_path: Path, python: str, filters: str) -> tuple[str, dict[str, str]]:
    """The interpreter and the environment a bare run and aoinspect's children both get."""
    if filters == "-W error":
        wrapper = tmp_path / "python-w-error"
        wrapper.write_text(f'#!/bin/sh\nexec "{python}" -W error "$@"\n')
        wrapper.chmod(0o755)
        return str(wrapper), {}
    if filters == "PYTHONWARNINGS":
        return python, {"PYTHONWARNINGS": "default"}
    return python, {}


def bare_run(python: str, env: dict[str, str], cwd: Path) -> Bare:
    completed = subprocess.run([python, "-c", BARE], env={**os.environ, **env}, cwd=cwd,
                               capture_output=True, text=True, check=True)
    at_import = completed.stderr.partition("--- access ---")[0]
    return Bare(read_outcome(completed.stdout), SHOWN in at_import, completed.stdout, completed.stderr)


# What a bare interpreter does depends on the package, the interpreter and the filters alone, not
# on the isolation aoinspect uses: the fork and spawn cases of one combination share one bare run.
_BARE_OUTCOMES: dict[tuple[str, int, str, str], Bare] = {}


def shared_bare_run(python: str, env: dict[str, str], cwd: Path, key: tuple[str, int, str, str]) -> Bare:
    if key not in _BARE_OUTCOMES:
        _BARE_OUTCOMES[key] = bare_run(python, env, cwd)
    return _BARE_OUTCOMES[key]


# The filters a bare interpreter shows the package depend on the interpreter and the filters given,
# not on the isolation: the isolations of one filter setting share one bare run.
_BARE_FILTERS: dict[tuple[str, str], str] = {}


def shared_filters(python: str, env: dict[str, str], key: tuple[str, str]) -> str:
    if key not in _BARE_FILTERS:
        _BARE_FILTERS[key] = subprocess.run([python, "-c", "import warnpkg; print(warnpkg.filters)"],
                                            env={**os.environ, **env}, capture_output=True, text=True,
                                            check=True).stdout.strip()
    return _BARE_FILTERS[key]


def modules(loads: list[dict[str, Any]]) -> tuple[str, ...]:
    return tuple(sorted(load["module"] for load in loads))


def measured(doc: dict[str, Any]) -> Outcome:
    """The outcome a ``resolve`` or ``check`` document reports for ``warnpkg.lazy``."""
    if doc.get("import") is None:
        if doc["command"] == "resolve":
            return Outcome(None, doc["error"]["exception"]["type"], None, None)
        (finding,) = [item for item in doc["findings"] if item["rule"] == "import-failed"]
        return Outcome(None, finding["message"].removeprefix("cannot import warnpkg: ").split(":")[0], None, None)
    imported = modules(doc["import"]["materialized"])
    (result,) = [item for item in doc["results"] if item["name"] == "lazy"]
    if result["error"] is not None:
        return Outcome(imported, None, None, result["error"]["type"])
    return Outcome(imported, None, modules(result["materialized"]), None)


def import_warnings(doc: dict[str, Any]) -> list[str]:
    return [f"{shown['category']}: {shown['message']}" for shown in doc["import"]["warnings"]]


MATRIX = [
    pytest.param(stacklevel, at, filters, id=f"stacklevel{stacklevel}-{at}-{filters.replace(' ', '')}")
    for stacklevel in (1, 2, 3) for at in ("import", "access") for filters in FILTERS
]


@pytest.mark.probe
@pytest.mark.parametrize("isolation", ["fork", "spawn"])
@pytest.mark.parametrize(("stacklevel", "at", "filters"), MATRIX)
def test_resolve_and_check_load_what_a_bare_interpreter_loads(
    fake, invoke, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, stacklevel: int, at: str, filters: str,
    isolation: str,
) -> None:
    fake.write(warning_package(stacklevel, at))
    python, env = interpreter(tmp_path, fake.python, filters)
    bare = shared_bare_run(python, {**fake.env, **env}, tmp_path, (fake.python, stacklevel, at, filters))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    common = ("--python", python, "-p", "warnpkg", "--isolation", isolation)
    resolved = document(invoke(*common, "resolve", "lazy", "--format", "json"))
    checked = document(invoke(*common, "check", "--format", "json"))
    assert measured(resolved) == measured(checked) == bare.outcome
    if bare.outcome.import_error is None:
        expected = [SHOWN] if bare.shown_at_import else []
        assert import_warnings(resolved) == import_warnings(checked) == expected


@pytest.mark.probe
@pytest.mark.parametrize(("stacklevel", "at", "filters"), MATRIX)
def test_a_traced_program_loads_and_prints_what_it_does_bare(
    fake, invoke, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    stacklevel: int, at: str, filters: str,
) -> None:
    """trace runs in this process (its own output is Click's runner's); the program it starts
    writes to this process's descriptors 1 and 2, which ``capfd`` reads."""
    fake.write(warning_package(stacklevel, at))
    python, env = interpreter(tmp_path, fake.python, filters)
    bare = bare_run(python, {**fake.env, **env}, tmp_path)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)
    report = tmp_path / "report.json"
    capfd.readouterr()
    traced = invoke("trace", "--python", python, "--format", "json", "-o", str(report), "--", "-c", BARE)
    program = capfd.readouterr()
    assert traced.exit_code == 0, traced.stderr
    assert (traced.stdout, traced.stderr) == ("", "")  # aoinspect adds nothing of its own
    assert (program.out, program.err) == (bare.stdout, bare.stderr)
    assert json.loads(report.read_text())["complete"]


@pytest.mark.probe
@pytest.mark.parametrize("isolation", ["fork", "fork-each", "spawn"])
@pytest.mark.parametrize("filters", FILTERS)
def test_the_package_finds_the_filters_of_a_bare_interpreter(
    fake, invoke, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, filters: str, isolation: str,
) -> None:
    fake.write(warning_package(1, "access"))
    python, env = interpreter(tmp_path, fake.python, filters)
    bare = shared_filters(python, {**fake.env, **env}, (fake.python, filters))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    resolved = document(invoke("--python", python, "-p", "warnpkg", "--isolation", isolation, "resolve", "filters",
                               "--format", "json"))
    assert resolved["results"][0]["object"]["repr"] == repr(bare)[:300]


@pytest.mark.probe
def test_the_import_s_warning_is_reported_where_python_c_shows_it(fake, invoke) -> None:
    fake.write(warning_package(2, "import"))
    doc = document(invoke("-p", "warnpkg", "resolve", "lazy", "--format", "json"))
    assert doc["import"]["warnings"] == [
        {"category": "DeprecationWarning", "message": "old", "filename": "<string>", "lineno": 1},
    ]
    text = invoke("-p", "warnpkg", "check").stdout
    assert "  shown at import (on stderr): DeprecationWarning: old (<string>:1)" in text.splitlines()
    markdown = invoke("-p", "warnpkg", "check", "--format", "markdown").stdout
    assert "- DeprecationWarning: old (`<string>:1`)" in markdown.splitlines()


@pytest.mark.probe
def test_a_warning_the_package_records_itself_is_not_reported(fake, invoke) -> None:
    fake.write({"quiet/__init__.py": """
        import warnings

        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            warnings.warn("kept to itself")
        VALUE = 1
        """})
    doc = document(invoke("-p", "quiet", "resolve", "VALUE", "--format", "json"))
    assert doc["import"]["warnings"] == []


@pytest.mark.probe
def test_a_package_that_warns_in_a_loop_is_reported_in_part(fake, invoke) -> None:
    fake.write({"loud/__init__.py": """
        import warnings

        for number in range(500):
            warnings.warn(f"number {number}", UserWarning)
        VALUE = 1
        """})
    doc = document(invoke("-p", "loud", "resolve", "VALUE", "--format", "json"))
    shown = doc["import"]["warnings"]
    assert [item["message"] for item in shown] == [f"number {number}" for number in range(100)]
    assert {item["category"] for item in shown} == {"UserWarning"}
