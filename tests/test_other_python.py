"""--python: probe another interpreter's environment, in which aoinspect is not installed."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.helpers import document

CONSOLE_SCRIPT = Path(sys.executable).with_name("aoinspect")


def site_packages(venv_python: Path) -> Path:
    """Asked of that interpreter: its version is in the path, and may not be ours."""
    code = "import sysconfig; print(sysconfig.get_path('purelib'))"
    answer = subprocess.run([str(venv_python), "-c", code], capture_output=True, text=True, check=True)
    return Path(answer.stdout.strip())


@pytest.fixture(scope="module")
def other_venv(tmp_path_factory: pytest.TempPathFactory, probe_python: str) -> Path:
    """A second venv (of --probe-python's version, if given), without pip, click or aoinspect,
    holding one lazy package and its metadata."""
    root = tmp_path_factory.mktemp("other") / "venv"
    subprocess.run([probe_python, "-m", "venv", "--without-pip", str(root)], check=True)
    site = site_packages(root / "bin" / "python")
    package = site / "greeter"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(textwrap.dedent("""
        __all__ = ["hello", "needs_click"]

        def __getattr__(name):
            if name in __all__:
                import importlib
                return importlib.import_module("." + name, __name__)
            raise AttributeError(name)
    """))
    (package / "hello.py").write_text("import fractions\nWORD = 'hello'\n")
    (package / "needs_click.py").write_text("import click\n")
    info = site / "greeter_dist-1.2.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: greeter-dist\nVersion: 1.2.3\n\n")
    (info / "top_level.txt").write_text("greeter\n")
    (info / "RECORD").write_text("greeter/__init__.py,,\n")
    return root / "bin" / "python"


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    return subprocess.run([str(CONSOLE_SCRIPT), *args], capture_output=True, text=True, timeout=60,
                          env={**base, **(env or {})})


@pytest.mark.probe
def test_resolve_in_another_environment(other_venv: Path) -> None:
    completed = run("--python", str(other_venv), "-p", "greeter", "resolve", "hello", "--format", "json")
    assert completed.returncode == 0, completed.stderr
    (result,) = json.loads(completed.stdout)["results"]
    assert {"greeter.hello", "fractions"} <= {load["module"] for load in result["materialized"]}
    shares = {share["name"]: share for share in result["distributions"]}
    assert shares["greeter-dist"]["version"] == "1.2.3"  # asked of that environment, not ours


@pytest.mark.probe
def test_our_site_packages_do_not_leak(other_venv: Path) -> None:
    completed = run("--python", str(other_venv), "-p", "greeter", "resolve", "needs_click", "--format", "json")
    assert completed.returncode == 1
    (result,) = json.loads(completed.stdout)["results"]
    assert result["error"]["type"] == "ModuleNotFoundError"
    assert "click" in result["error"]["message"]


@pytest.mark.probe
def test_environment_variable(other_venv: Path) -> None:
    completed = run("-p", "greeter", "list", "--format", "json", env={"AOINSPECT_PYTHON": str(other_venv)})
    assert completed.returncode == 0, completed.stderr
    assert [name["name"] for name in json.loads(completed.stdout)["names"]] == ["hello", "needs_click"]


@pytest.mark.real
def test_numpy_in_another_environment_matches_that_interpreter(tmp_path: Path) -> None:
    """The Done-when case: a second venv that has numpy (linked in from ours, with its metadata)
    but neither aoinspect nor click."""
    spec = importlib.util.find_spec("numpy")
    if spec is None or spec.origin is None:
        pytest.skip("numpy is not installed")
    import numpy

    ours = Path(spec.origin).parents[1]
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "venv")], check=True)
    python = tmp_path / "venv" / "bin" / "python"
    theirs = site_packages(python)
    for entry in ours.iterdir():
        metadata = entry.name.startswith("numpy-") and entry.name.endswith(".dist-info")
        if entry.name in ("numpy", "numpy.libs") or metadata:
            (theirs / entry.name).symlink_to(entry)
    completed = run("--python", str(python), "-p", "numpy", "resolve", "testing", "--format", "json")
    assert completed.returncode == 0, completed.stderr
    (result,) = json.loads(completed.stdout)["results"]
    measured = sorted(load["module"] for load in result["materialized"])
    bare = subprocess.run(
        [str(python), "-c", "import sys, numpy\nb = set(sys.modules)\nnumpy.testing\n"
                            "print('\\n'.join(sorted(set(sys.modules) - b)))"],
        capture_output=True, text=True, check=True, cwd=tmp_path,
    ).stdout.split()
    assert measured == bare
    assert {share["name"]: share["version"] for share in result["distributions"]}["numpy"] == numpy.__version__
    for absent in ("aoinspect", "click"):
        assert subprocess.run([str(python), "-c", f"import {absent}"], capture_output=True, cwd=tmp_path).returncode


def test_not_a_python_is_a_usage_error(tmp_path: Path, invoke) -> None:
    liar = tmp_path / "python"
    liar.write_text("#!/bin/sh\necho 3 8\n")
    liar.chmod(0o755)
    result = invoke("--python", str(liar), "list")
    assert result.exit_code == 2
    assert "need Python 3.9 or newer" in result.stderr
    result = invoke("--python", str(tmp_path / "missing"), "list")
    assert result.exit_code == 2
    assert "cannot be run as a Python interpreter" in result.stderr
    shell = tmp_path / "shell"
    shell.write_text("#!/bin/sh\nexit 0\n")
    shell.chmod(0o755)
    assert "is not a Python interpreter" in invoke("--python", str(shell), "list").stderr


def test_the_running_interpreter_is_not_started_to_be_checked(invoke, monkeypatch) -> None:
    """--python naming the interpreter aoinspect runs on is the default one: no version check
    starts it (each was a child of its own), and the report is the default's."""
    from aoinspect.probing import runner

    def refused(*args: object, **kwargs: object) -> object:
        raise AssertionError("the version check started a child")

    monkeypatch.setattr(runner, "run_bounded", refused)
    assert runner.check_interpreter(sys.executable) is None
    named = document(invoke("--python", sys.executable, "resolve", "nn", "--format", "json"))
    assert named["import"]["python"] == ".".join(str(part) for part in sys.version_info[:3])
    with pytest.raises(AssertionError, match="started a child"):
        runner.check_interpreter(sys.executable + "-other")


def test_default_interpreter_is_ours(invoke) -> None:
    doc = document(invoke("resolve", "nn", "--format", "json"))
    assert doc["import"]["python"] == ".".join(str(part) for part in sys.version_info[:3])


def test_python_given_before_the_command_beats_the_environment(invoke, monkeypatch) -> None:
    """AOINSPECT_PYTHON=x aoinspect --python y list uses y: the command line wins."""
    monkeypatch.setenv("AOINSPECT_PYTHON", "/nonexistent/python")
    result = invoke("--python", sys.executable, "list", "--format", "json")
    assert result.exit_code == 0, result.output
    result = invoke("list", "--format", "json")
    assert result.exit_code == 2 and "/nonexistent/python" in result.stderr


@pytest.mark.probe
def test_advise_in_another_environment(other_venv: Path) -> None:
    """advise finds the package's files in that environment (not on aoinspect's own path) and
    simulates, observes and times there: a module only that venv has."""
    site = site_packages(other_venv)
    (site / "advisee").mkdir(exist_ok=True)
    (site / "advisee" / "__init__.py").write_text(
        "import greeter.hello\n\n\ndef word():\n    return greeter.hello.WORD\n")
    completed = run("--python", str(other_venv), "advise", "advisee", "--budget", "0", "--format", "json")
    assert completed.returncode == 0, completed.stderr
    report = json.loads(completed.stdout)
    (advice,) = report["advice"]
    assert advice["file"] == str(site / "advisee" / "__init__.py")
    assert advice["decision"] == "lazy" and {"greeter", "greeter.hello", "fractions"} <= set(advice["saved"])
    version = subprocess.run([str(other_venv), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    assert report["python"].startswith(version)
