"""Hostile input, round two, in-process: files and values handed to aoinspect, packages that
sabotage the fork server or the probe's own result file, odd data for the renderers.

One test (or parametrized group) per cause of issue 12; the number is in each section's title.
The whole module runs under ``no_leftovers``: no process and no temporary file may outlive a test.
Processes, signals and ``--python`` are in ``test_hostile.py``, through the console script.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import TYPE_CHECKING
from xml.etree import ElementTree

import pytest

from aoinspect import engine
from aoinspect.errors import ProbeFailed
from aoinspect.models import CheckOptions, ImportResult, ModuleLoad, Resolution, ResolveReport, Step
from aoinspect.probing.wire import ProbeSettings
from aoinspect.render import RenderOptions, render
from tests.helpers import document, pid_alive
from tests.packages import LAZY_INIT, lazy_package, with_beta

if TYPE_CHECKING:
    from pathlib import Path

    from tests.helpers import FakePackages

pytestmark = pytest.mark.usefixtures("no_leftovers")


@pytest.fixture
def in_child(fake: FakePackages, monkeypatch: pytest.MonkeyPatch) -> FakePackages:
    """The engine's children inherit os.environ: the fake packages reach them through it."""
    monkeypatch.setenv("PYTHONPATH", fake.env["PYTHONPATH"])
    return fake


def settings(isolation: str = "auto", timeout: float = 20, jobs: int = 2) -> ProbeSettings:
    return ProbeSettings(python=sys.executable, timeout=timeout, jobs=jobs, isolation=isolation)


# Probes that never end cost the whole timeout: short, but long enough for the probes around them
# to finish on a loaded machine.
HANG_TIMEOUT = 0.5


# --- 2. a fork server the package sabotages --------------------------------------------------

SLEEPER = '''
import os, subprocess, sys
_child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1000)"])
with open(os.environ["PID_FILE"], "w") as _stream:
    _stream.write(str(_child.pid))
'''

SABOTAGE = {
    "os.killpg is a no-op": "import os\nos.killpg = lambda *args: None\n",
    "os.fork raises": "import os\ndef _no(*args):\n    raise OSError('no fork for you')\nos.fork = _no\n",
    "os.write hangs": "import os, time\nos.write = lambda *args: time.sleep(1000)\n",
    "os.waitpid and os.waitid hang": (
        "import os, time\nos.waitpid = lambda *a: time.sleep(1000)\nos.waitid = lambda *a: time.sleep(1000)\n"
    ),
    "SIGCHLD ignored": "import signal\nsignal.signal(signal.SIGCHLD, signal.SIG_IGN)\n",
}


@pytest.mark.parametrize("case", sorted(SABOTAGE))
def test_the_fork_server_keeps_its_own_os(in_child: FakePackages, tmp_path: Path, case: str,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    pid_file = tmp_path / "pid"
    monkeypatch.setenv("PID_FILE", str(pid_file))
    in_child.write(with_beta(SLEEPER, init_prefix=SABOTAGE[case]))
    started = time.monotonic()
    report = engine.resolve_names(settings("fork", timeout=10), "pkg", ["alpha", "beta"], distributions=False)
    assert time.monotonic() - started < 10
    assert [result.ok for result in report.results] == [True, True]
    assert report.isolation is not None and report.isolation.mode == "fork", report.isolation
    assert not pid_alive(int(pid_file.read_text()))  # the group kill did not use the package's os.killpg


# An alarm at import (ITIMER_REAL, the timer signal.alarm sets, in fractions of a second): it
# rings after ALARM_AFTER; each slow name's access takes ACCESS, well within it, and the four
# together take longer.
ALARM_AFTER, ACCESS = 0.4, 0.12
ALARM = f"import signal\nsignal.setitimer(signal.ITIMER_REAL, {ALARM_AFTER})\n"
SLOW_NAMES = ["alpha", "beta", "gamma", "delta"]


def slow_package(init_prefix: str, access: str = f"import time\ntime.sleep({ACCESS})\n") -> dict[str, str]:
    init = LAZY_INIT.format(pkg="pkg").replace('["alpha", "beta"]', repr(SLOW_NAMES))
    files = {"pkg/__init__.py": init_prefix + init}
    for name in SLOW_NAMES:
        files[f"pkg/{name}.py"] = access
    return files


@pytest.mark.parametrize("isolation", ["fork", "spawn"])
def test_an_alarm_set_at_import_kills_no_server(in_child: FakePackages, isolation: str) -> None:
    """An alarm set at import: each plain ``python -c`` finishes its access before it rings, so
    every probe succeeds; a server that kept the alarm would die before the fourth name."""
    assert ACCESS < ALARM_AFTER < len(SLOW_NAMES) * ACCESS
    in_child.write(slow_package(ALARM))
    report = engine.resolve_names(settings(isolation, jobs=1), "pkg", SLOW_NAMES, distributions=False)
    assert [result.ok for result in report.results] == [True] * len(SLOW_NAMES)
    assert report.isolation is not None and report.isolation.mode == isolation


def test_an_alarm_that_rings_during_an_access_kills_that_probe_as_in_plain_python(in_child: FakePackages) -> None:
    in_child.write(with_beta("import time\ntime.sleep(30)\n", init_prefix=ALARM))
    for isolation in ("fork", "spawn"):
        report = engine.resolve_names(settings(isolation), "pkg", ["alpha", "beta"], distributions=False)
        alpha, beta = report.results
        assert alpha.ok and not beta.ok and beta.probe_failed
        assert beta.error is not None and "SIGALRM" in beta.error.message


# The process this package was imported in is killed by a later access (beta's) in a process
# forked from it: the fork server dies mid-session, and no clock decides when. A fresh
# interpreter, which imported the package itself, is left alone.
KILLS_THE_SERVER = "import os\n_imported_in = os.getpid()\n"
BETA_KILLS_THE_SERVER = (
    "import os, signal, pkg\n"
    "if os.getpid() != pkg._imported_in:\n"
    "    os.kill(pkg._imported_in, signal.SIGKILL)\n"
)


def test_a_server_killed_mid_session_falls_back_to_spawn(in_child: FakePackages) -> None:
    """A package that kills the process it was imported in, later: the fork server dies, and the
    probes from then on are spawned (each imports the package itself, and is left alone)."""
    in_child.write({**slow_package(KILLS_THE_SERVER, access=""), "pkg/beta.py": BETA_KILLS_THE_SERVER})
    started = time.monotonic()
    report = engine.resolve_names(settings("fork", jobs=1), "pkg", SLOW_NAMES, distributions=False)
    assert time.monotonic() - started < 15
    assert [result.ok for result in report.results] == [True] * len(SLOW_NAMES)
    assert report.isolation is not None and report.isolation.mode == "spawn"
    assert report.isolation.reason and "fork server stopped working" in report.isolation.reason


# --- 5. star-import and race probes that never end -------------------------------------------

STAR_HANG = LAZY_INIT.format(pkg="pkg").replace(
    "    if name in __all__:",
    "    if name == 'beta' and 'pkg.alpha' in __import__('sys').modules:\n"
    "        import time\n        time.sleep(1000)\n    if name in __all__:",
)

RACE_DEADLOCK = """
import importlib, threading, time

__all__ = ["alpha", "beta"]
_calls = []
_lock = threading.Lock()


def __getattr__(name):
    if name not in __all__:
        raise AttributeError(name)
    with _lock:
        _calls.append(name)
        second = _calls.count(name) > 1
    if second:  # a concurrent caller: waits for a wake-up that never comes
        threading.Event().wait()
    time.sleep(0.2)
    value = importlib.import_module("." + name, __name__)
    globals()[name] = value
    return value


def __dir__():
    return sorted(list(globals()) + __all__)
"""


def test_a_star_import_that_never_ends_is_a_probe_failure(in_child: FakePackages,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    # The star import's deadline is max(--timeout, 3 x the measured cost + a margin); the margin's
    # 10 s (test_introspection.py checks it) would be spent waiting here: without it the deadline
    # is --timeout's.
    monkeypatch.setattr("aoinspect.rules.lazy.WHOLE_PACKAGE_MARGIN_S", 0.0)
    in_child.write(lazy_package("pkg", init=STAR_HANG))
    report = engine.check_package(settings(timeout=HANG_TIMEOUT), "pkg", CheckOptions())
    assert report.exit_code == 4
    failed = [finding for finding in report.findings if finding.rule == "probe-failed"]
    assert failed and any("import *" in finding.message for finding in failed), report.findings


def test_a_race_that_deadlocks_is_a_probe_failure(in_child: FakePackages) -> None:
    in_child.write(lazy_package("pkg", init=RACE_DEADLOCK))
    report = engine.check_package(settings(timeout=HANG_TIMEOUT), "pkg", CheckOptions(threads=4))
    assert report.exit_code == 4
    assert [result.ok for result in report.resolutions] == [True, True]  # one thread at a time works
    failed = [finding for finding in report.findings if finding.rule == "probe-failed"]
    assert failed and all("timed out" in finding.message for finding in failed), report.findings


# --- 6. configuration files ------------------------------------------------------------------

BAD_CONFIGS = {
    "invalid UTF-8": b"[tool.aoinspect]\ntimeout = 5\n# \xff\xfe\n",
    "tool is not a table": b"tool = 5\n",
    "nested 5,000 deep": b"x = " + b"[" * 5000 + b"]" * 5000 + b"\n",
    "aoinspect is not a table": b"[tool]\naoinspect = 3\n",
}


@pytest.mark.parametrize("case", sorted(BAD_CONFIGS))
@pytest.mark.parametrize("how", ["--config", "pyproject.toml found upwards"])
def test_a_bad_configuration_is_a_usage_error(invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              case: str, how: str) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_bytes(BAD_CONFIGS[case])
    monkeypatch.chdir(tmp_path)
    arguments = ["--config", str(path)] if how == "--config" else []
    result = invoke(*arguments, "--format", "json", "list")
    assert result.exit_code == 2, result.output
    assert document(result)["error"]["kind"] == "usage"
    assert "Traceback" not in result.stderr and str(path) in result.stderr


# TOML types no command-line word stands for, where Click's conversion crashed (a traceback and
# exit 1, no document) or the baseline reader did (exit 4, "internal error").
WRONG_TYPES = ["strict = []", "strict = 2.5", "update-baseline = {a = 1}", "jobs = [1]", "threads = 1979-05-27",
               "repeat = {x = 1}", "baseline = []", "baseline = 5", "forbid = [[1]]", "timeout = 07:32:00"]


@pytest.mark.parametrize("line", WRONG_TYPES)
def test_a_value_of_the_wrong_type_is_a_usage_error(invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    line: str) -> None:
    (tmp_path / "pyproject.toml").write_text(f"[tool.aoinspect]\n{line}\n")
    monkeypatch.chdir(tmp_path)
    result = invoke("check", "--format", "json")
    assert result.exit_code == 2, result.output
    assert document(result)["error"]["kind"] == "usage"
    assert "Traceback" not in result.stderr and line.partition(" ")[0] in result.stderr


def test_a_boolean_written_as_a_number_is_honoured(in_child: FakePackages, invoke, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    in_child.write({"plain.py": "X = 1\n"})
    (tmp_path / "pyproject.toml").write_text("[tool.aoinspect]\npackage = 'plain'\nstrict = 1\n")
    monkeypatch.chdir(tmp_path)
    result = invoke("check", "--format", "json")
    assert document(result)["strict"] is True, result.output


@pytest.mark.parametrize("option", ["--config", "--baseline"])
@pytest.mark.parametrize("special", ["fifo", "/dev/zero", "directory"])
def test_only_regular_files_are_read(invoke, tmp_path: Path, option: str, special: str) -> None:
    if special == "fifo":
        path = tmp_path / "named.toml"
        os.mkfifo(path)
    elif special == "directory":
        path = tmp_path / "dir.toml"
        path.mkdir()
    else:
        path = tmp_path / "zero.toml"
        path.symlink_to("/dev/zero")
    started = time.monotonic()
    if option == "--config":
        result = invoke("--config", str(path), "--format", "json", "list")
    else:
        result = invoke("-p", "json", "check", "--baseline", str(path), "--format", "json")
    assert time.monotonic() - started < 10
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.stderr
    assert "regular file" in result.stderr or "Is a directory" in result.stderr or "directory" in result.stderr


# --- 7. values that pass validation and break later ------------------------------------------

@pytest.mark.parametrize("value", ["nan", "inf", "1e10", "-inf", "0"])
@pytest.mark.parametrize("where", ["command line", "pyproject"])
def test_timeouts_must_be_finite(invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str,
                                 where: str) -> None:
    monkeypatch.chdir(tmp_path)
    if where == "pyproject":
        toml_value = {"nan": "nan", "inf": "inf", "-inf": "-inf"}.get(value, value)
        (tmp_path / "pyproject.toml").write_text(f"[tool.aoinspect]\ntimeout = {toml_value}\n")
        result = invoke("--format", "json", "list")
    else:
        result = invoke("--format", "json", "--timeout", value, "list")
    assert result.exit_code == 2, result.output
    assert "--timeout" in document(result)["error"]["message"]


@pytest.mark.parametrize("value", ["nan", "inf", "beta:nan", "-1"])
def test_budgets_must_be_finite(invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke("check", "--max-modules", value, "--format", "json")
    assert result.exit_code == 2, result.output
    (tmp_path / "pyproject.toml").write_text(f'[tool.aoinspect]\nmax-modules = ["{value}"]\n')
    assert invoke("check", "--format", "json").exit_code == 2


@pytest.mark.parametrize("command", ["check", "resolve nn", "list --resolve"])
def test_repeats_are_bounded(invoke, command: str) -> None:
    """Every repeat of every name is a request held in memory before the first probe runs:
    --repeat 100000000 took 1.5 GB within a second. A usage error instead, before any probe."""
    result = invoke(*command.split(), "--repeat", "100000000", "--format", "json")
    assert result.exit_code == 2, result.output
    assert document(result)["error"]["kind"] == "usage" and "--repeat" in result.stderr


@pytest.mark.parametrize("value", ["257", "100000000"])
@pytest.mark.parametrize(("option", "key", "command"), [("-j", "jobs", "list"), ("--jobs", "jobs", "check"),
                                                        ("--threads", "threads", "check")])
@pytest.mark.parametrize("where", ["command line", "pyproject"])
def test_jobs_and_threads_are_bounded(invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str,
                                      option: str, key: str, command: str, where: str) -> None:
    """``threads = 100000000`` ran for a minute and ended with exit 4 under a 2 GiB limit: a usage
    error instead, before any probe, naming the bound (MAX_JOBS)."""
    from aoinspect.commands.options import MAX_JOBS

    monkeypatch.chdir(tmp_path)
    if where == "pyproject":
        (tmp_path / "pyproject.toml").write_text(f"[tool.aoinspect]\n{key} = {value}\n")
        result = invoke(command, "--format", "json")
    else:
        result = invoke(command, option, value, "--format", "json")
    assert result.exit_code == 2, result.output
    message = document(result)["error"]["message"]
    assert document(result)["error"]["kind"] == "usage" and f"--{key}" in message and f"<={MAX_JOBS}" in message
    assert MAX_JOBS == 256 and "Traceback" not in result.stderr


# --- 8. bad baselines ------------------------------------------------------------------------

def baseline_text(**changes: object) -> str:
    base: dict[str, object] = {"aoinspect_baseline": 1, "package": "ao", "import": ["ao"], "names": {}}
    base.update(changes)
    return json.dumps(base)


BAD_BASELINES = {
    "nested 100,000 deep": "[" * 100_000 + "]" * 100_000,
    "names is a list": baseline_text(names=["x"]),
    "import is an int": baseline_text(**{"import": 5}),
    "a name's modules hold a number": baseline_text(names={"nn": ["ao.nn", 3]}),
    "package is a list": baseline_text(package=[]),
    "not UTF-8": "\udcff",
}


@pytest.mark.parametrize("case", sorted(BAD_BASELINES))
def test_a_bad_baseline_is_a_usage_error(invoke, tmp_path: Path, case: str) -> None:
    path = tmp_path / "baseline.json"
    path.write_bytes(BAD_BASELINES[case].encode("utf-8", "surrogateescape"))
    result = invoke("check", "--baseline", str(path), "--format", "json")
    assert result.exit_code == 2, result.output
    doc = document(result)
    assert doc["error"]["kind"] == "usage" and str(path) in doc["error"]["message"]


def test_update_baseline_into_a_missing_directory_is_a_usage_error(invoke, tmp_path: Path) -> None:
    path = tmp_path / "missing" / "baseline.json"
    started = time.monotonic()
    result = invoke("check", "--baseline", str(path), "--update-baseline", "--format", "json")
    assert result.exit_code == 2, result.output
    assert "does not exist" in document(result)["error"]["message"]
    assert time.monotonic() - started < 5  # refused before any probe ran


def test_update_baseline_replaces_a_symlink_not_its_target(invoke, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.json"
    target.write_text("keep me\n")
    link = tmp_path / "baseline.json"
    link.symlink_to(target)
    result = invoke("check", "--baseline", str(link), "--update-baseline", "--format", "json")
    assert result.exit_code == 0, result.output
    assert target.read_text() == "keep me\n"
    assert not link.is_symlink()
    assert json.loads(link.read_text())["aoinspect_baseline"] == 1
    assert sorted(path.name for path in tmp_path.iterdir() if path.is_file()) == ["baseline.json", "elsewhere.json"]


# --- 9. renderers on odd data ----------------------------------------------------------------

IMPORTED = ImportResult("pkg", (), (), 1.0, 1, "3.11.0")


def report_of(loads: tuple[ModuleLoad, ...]) -> ResolveReport:
    step = Step(name="deep", mechanism="module-getattr", materialized=loads, removed=(), elapsed_ms=1.0)
    return ResolveReport("pkg", IMPORTED, (Resolution(name="deep", ok=True, error=None, steps=(step,)),))


def deep_report(depth: int) -> ResolveReport:
    return report_of(tuple(
        ModuleLoad(module=f"m{level}", parent=f"m{level - 1}" if level else None, depth=level, self_ms=0.01,
                   cumulative_ms=0.01 * (depth - level))
        for level in range(depth)
    ))


@pytest.mark.parametrize("fmt", ["tree", "text", "json", "dot", "mermaid", "svg"])
def test_an_import_chain_1200_deep_renders(fmt: str) -> None:
    output = render(deep_report(1200), fmt, RenderOptions(top=0))
    assert "m1199" in output


def test_a_cycle_in_the_child_data_does_not_hang_the_tree() -> None:
    loads = (ModuleLoad(module="a", parent="b", depth=1, self_ms=0, cumulative_ms=0),
             ModuleLoad(module="b", parent="a", depth=1, self_ms=0, cumulative_ms=0))
    render(report_of(loads), "tree", RenderOptions(depth=3))
    render(report_of(loads), "tree", RenderOptions())


ODD_MESSAGE = "lone \ud800 surrogate, bell \x07, nul \x00, escape \x1b[31m, U+FFFF \uffff"


@pytest.mark.parametrize("fmt", ["text", "json", "junit"])
def test_every_renderer_handles_every_string(in_child: FakePackages, invoke, fmt: str) -> None:
    beta = f"raise RuntimeError({ODD_MESSAGE!r})\n"
    in_child.write(with_beta(beta))
    result = invoke("-p", "pkg", "check", "--format", fmt)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.stderr
    result.stdout.encode("utf-8")  # printable
    if fmt == "junit":
        root = ElementTree.fromstring(result.stdout.encode("utf-8"))
        assert "surrogate" in ElementTree.tostring(root, encoding="unicode")
    elif fmt == "json":
        message = json.dumps(document(result))
        assert "surrogate" in message


# --- 10. package files that are not source ---------------------------------------------------

NOT_SOURCE = {
    "a FIFO": "_path = os.path.join(os.path.dirname(__file__), 'fifo.py')\n"
              "os.path.exists(_path) or os.mkfifo(_path)\n__file__ = _path\n",
    "/dev/zero": "_path = os.path.join(os.path.dirname(__file__), 'zero.py')\n"
                 "os.path.lexists(_path) or os.symlink('/dev/zero', _path)\n__file__ = _path\n",
    "too deep for ast": "__file__ = os.path.join(os.path.dirname(__file__), 'deep.py')\n",
}


@pytest.mark.parametrize("case", sorted(NOT_SOURCE))
def test_a_package_file_that_is_not_source_declares_nothing_and_says_so(
    in_child: FakePackages, invoke, case: str
) -> None:
    init = "import os\n" + NOT_SOURCE[case] + "__all__ = ['alpha']\n"
    in_child.write({"pkg/__init__.py": init, "pkg/alpha.py": "",
                    "pkg/deep.py": "x = " + "+".join(["1"] * 300_000) + "\n"})
    started = time.monotonic()
    result = invoke("-p", "pkg", "list", "--format", "json")
    assert time.monotonic() - started < 15
    assert result.exit_code == 0, result.output
    (note,) = document(result)["notes"]
    assert note.startswith("no static declarations read: cannot")
    text = invoke("-p", "pkg", "list")
    assert "note: no static declarations read" in text.stdout


def test_completion_on_a_source_too_deep_for_ast_is_empty(fake: FakePackages, monkeypatch: pytest.MonkeyPatch) -> None:
    from aoinspect.completion import complete_names

    fake.write({"pkg/__init__.py": "x = " + "+".join(["1"] * 300_000) + "\n"})
    monkeypatch.chdir(fake.root)
    assert complete_names("pkg", "") == []


# --- 11. objects whose __class__ raises ------------------------------------------------------

RAISING_CLASS = '''
class Sly:
    @property
    def __class__(self):
        raise RuntimeError("no class for you")

class SlyError(Exception):
    @property
    def __class__(self):
        raise RuntimeError("no class for you")
'''


def test_a_returned_object_whose_class_raises_is_reported_as_python_sees_it(in_child: FakePackages) -> None:
    in_child.write({"pkg/__init__.py": RAISING_CLASS + "def __getattr__(name):\n    return Sly()\n"})
    for isolation in ("fork", "spawn"):
        report = engine.resolve_names(settings(isolation), "pkg", ["thing", "other"], distributions=False)
        assert report.exit_code == 0
        assert [result.object.type for result in report.results if result.object] == ["pkg.Sly", "pkg.Sly"]


def test_an_import_error_whose_class_raises_is_an_import_failure(in_child: FakePackages) -> None:
    in_child.write({"pkg/__init__.py": RAISING_CLASS + "raise SlyError('broken on purpose')\n"})
    report = engine.check_package(settings(), "pkg", CheckOptions())
    assert report.exit_code == 3
    (finding,) = report.findings
    assert finding.rule == "import-failed" and "SlyError" in finding.message


# --- 13. very long names with parallel forked probes -----------------------------------------

@pytest.mark.parametrize("isolation", ["fork", "spawn"])
def test_long_names_with_parallel_probes(in_child: FakePackages, isolation: str) -> None:
    in_child.write(lazy_package("pkg"))
    names = [letter * 60_000 for letter in "abcd"]
    report = engine.resolve_names(settings(isolation, jobs=4), "pkg", names, distributions=False)
    assert [(result.ok, result.probe_failed) for result in report.results] == [(False, False)] * 4
    assert report.isolation is not None and report.isolation.mode == isolation


def test_names_beyond_the_limit_are_usage_errors(invoke) -> None:
    result = invoke("resolve", "--format", "json", "x" * 120_000)
    assert result.exit_code == 2
    assert "longer than aoinspect accepts" in document(result)["error"]["message"]


# --- 14. Click's own usage errors under --format json ----------------------------------------

@pytest.mark.parametrize(
    "arguments",
    [
        ["--format", "json", "--timeout", "-1", "list"],
        ["resolve", "--format", "json"],
        ["--format", "json", "--python", "/nonexistent", "list"],
        ["--format=json", "list", "--no-such-option"],
        ["check", "--format", "json", "--threads", "many"],
    ],
)
def test_usage_errors_print_one_json_document(invoke, arguments: list[str]) -> None:
    result = invoke(*arguments)
    assert result.exit_code == 2
    doc = document(result)
    assert (doc["ok"], doc["exit_code"], doc["error"]["kind"]) == (False, 2, "usage")
    assert doc["error"]["message"] in result.stderr


def test_usage_errors_under_junit_are_one_xml_document(invoke) -> None:
    result = invoke("check", "--format", "junit", "--timeout", "nan")
    assert result.exit_code == 2
    ElementTree.fromstring(result.stdout)


# --- 15. snapshot's isolation ----------------------------------------------------------------

def test_snapshot_json_has_isolation(invoke) -> None:
    doc = document(invoke("snapshot"))
    assert doc["isolation"]["mode"] in ("fork", "spawn")


# --- sabotage of the result file -------------------------------------------------------------

FIFO_RESULT = '''
import os
_argv = open("/proc/self/cmdline", "rb").read().split(b"\\0")
_result = _argv[4].decode()
os.remove(_result)
os.mkfifo(_result)
'''

FORGED_RESULT = '''
import gc, os
_argv = open("/proc/self/cmdline", "rb").read().split(b"\\0")
with open(_argv[4].decode(), "a") as _stream:
    _stream.write('{"section": "resolve", "name": "beta"}\\n{"section": "bogus"}\\n' + "[" * 100000 + "\\n")
'''


def test_a_result_file_replaced_by_a_fifo_cannot_hang_aoinspect(in_child: FakePackages) -> None:
    in_child.write(with_beta(FIFO_RESULT))
    started = time.monotonic()
    # The import's own section went with the file: the probe failed, and says how it ended.
    with pytest.raises(ProbeFailed, match=r"timed out after 0\.5 s"):
        engine.resolve_names(settings("spawn", timeout=0.5), "pkg", ["beta"], distributions=False)
    assert time.monotonic() - started < 0.5 + 5


def test_forged_result_lines_are_a_protocol_error_not_a_crash(in_child: FakePackages) -> None:
    in_child.write(with_beta(FORGED_RESULT))
    report = engine.resolve_names(settings("spawn"), "pkg", ["beta"], distributions=False)
    (beta,) = report.results
    assert beta.probe_failed and beta.error is not None
    assert "protocol" in beta.error.message


FORGER = '''
import json
for word in open("/proc/self/cmdline", "rb").read().split(b"\\0"):
    if word.endswith(b".jsonl"):
        with open(word, "a") as result:
            result.write(json.dumps({"section": "resolve", "name": "alpha", "steps": [], "error": None,
                                     "already_loaded": True, "cached": True, "object": None,
                                     "candidates": None, "observed": []}) + "\\n")
'''


@pytest.mark.parametrize("isolation", ["spawn", "fork"])
def test_a_forged_result_line_is_detected(fake, monkeypatch, isolation) -> None:  # type: ignore[no-untyped-def]
    """The package writes a well-formed section of its own into the probe's result file: it lacks
    the run's secret, so the probe is reported as failed, saying why, instead of believed."""
    fake.write(lazy_package("pkg", init=LAZY_INIT.format(pkg="pkg") + FORGER))
    monkeypatch.setenv("PYTHONPATH", fake.env["PYTHONPATH"])
    settings = ProbeSettings(sys.executable, timeout=30, isolation=isolation)
    report = engine.resolve_names(settings, "pkg", ["alpha", "beta"], distributions=False)
    for result in report.results:
        assert result.probe_failed, result
        assert result.error is not None and "not written by the probe" in result.error.message
