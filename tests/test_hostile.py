"""Hostile and broken packages: never crash, never hang, never lie, never corrupt the output.

Each case is a real fake package. Where the promise is about what aoinspect reports (exit code,
JSON, what is killed and when), it runs in this process through Click's runner (``aoinspect()``),
which keeps stdout and stderr apart; where it is about the process itself (the package writing to
file descriptors 1 and 2, signals sent to aoinspect, closed standard descriptors), it runs the
installed console script in a subprocess (``console_script()``), exactly as a CI script would.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aoinspect.cli import cli
from tests.helpers import escaped_pids, pid_alive
from tests.packages import LAZY_INIT, lazy_package, with_beta

# Every case here is about the child: the matrix runs them under each Python (--probe-python); and
# every case must leave no process and no temporary file behind (tests/conftest.py).
pytestmark = [pytest.mark.probe, pytest.mark.usefixtures("no_leftovers")]

CONSOLE_SCRIPT = Path(sys.executable).with_name("aoinspect")
# "Killed at the timeout" cases: short, since a hang costs the whole timeout; the bound on the
# elapsed time leaves room for interpreter start-up on a loaded machine.
HANG_TIMEOUT = 0.25


@dataclass
class Ran:
    returncode: int
    stdout: bytes
    stderr: bytes


def aoinspect(fake, *args: str) -> Ran:  # type: ignore[no-untyped-def]
    """``aoinspect ARGS`` in this process (the fake packages reach the children through the
    environment Click's runner sets for the call). A case that gives ``--python`` itself does not
    get --probe-python's AOINSPECT_PYTHON: the command's own --python, read from that variable,
    would override the group's (a bug of its own, reported with these changes)."""
    env = dict(fake.env)
    if "--python" in args:
        env.pop("AOINSPECT_PYTHON", None)
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    return Ran(result.exit_code, result.stdout_bytes, result.stderr_bytes)


def console_script(fake, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[bytes]:  # type: ignore[no-untyped-def]
    """``aoinspect ARGS``, the installed console script, in a subprocess."""
    env = {**os.environ, **fake.env}
    env.pop("NO_COLOR", None)
    return subprocess.run(
        [str(CONSOLE_SCRIPT), *args], env=env, capture_output=True, timeout=timeout, cwd=fake.root,
    )


def _signals_as_in_a_foreground_shell() -> None:
    # aoinspect leaves alone a signal it was started ignoring (nohup, a background job of a
    # non-interactive shell), as Python does; a test run started that way must not hand the
    # ignoring on to the aoinspect whose handling of these signals it tests.
    for number in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM):
        signal.signal(number, signal.SIG_DFL)


@contextlib.contextmanager
def started_console_script(args: list[str], env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """``aoinspect ARGS`` started in the background, for a test to signal it; ended and reaped
    however the test ends, so that a failure here is not reported later as another test's."""
    process = subprocess.Popen([str(CONSOLE_SCRIPT), *args], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, preexec_fn=_signals_as_in_a_foreground_shell)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()


def one_json_document(stdout: bytes) -> dict:  # type: ignore[type-arg]
    value = json.loads(stdout.decode("ascii"))
    assert isinstance(value, dict)
    return value


def assert_clean(completed: Ran | subprocess.CompletedProcess[bytes]) -> None:
    assert b"Traceback" not in completed.stderr
    assert b"Traceback" not in completed.stdout


# --- output noise --------------------------------------------------------------------------------

NOISE = '''
import os, sys
print('{"schema": 1, "fake": "json from print"}')
print("to stderr", file=sys.stderr)
sys.stdout.flush()
os.write(1, b'\\xff\\xfe not utf-8 {"ok": true}\\n')
os.write(2, b'\\xff raw stderr\\n')
'''


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_package_output_never_reaches_our_stdout(fake, fmt: str) -> None:
    fake.write(with_beta(NOISE, init_extra=NOISE))
    completed = console_script(fake, "-p", "pkg", "resolve", "beta", "alpha", "--format", fmt)
    assert completed.returncode == 0, completed.stderr
    assert b"fake" not in completed.stdout and b"\xff" not in completed.stdout
    assert b"not utf-8" not in completed.stderr
    if fmt == "json":
        assert [entry["ok"] for entry in one_json_document(completed.stdout)["results"]] == [True, True]
    assert_clean(completed)


# A package whose warnings are shown by its own showwarning, which writes to descriptor 1 at import
# and in an access (import-time warnings are shown as under a bare interpreter now: issue 22).
LOUD_WARNINGS = """
import os, sys, warnings


def _show(message, category, filename, lineno, file=None, line=None):
    os.write(1, b'{"schema": 3, "forged": "by a warning"}\\n')


warnings.showwarning = _show
warnings.warn("old", DeprecationWarning, stacklevel=2)
"""


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_a_package_whose_warnings_write_to_stdout_never_reaches_ours(fake, fmt: str) -> None:
    fake.write(with_beta("import warnings\nwarnings.warn('in an access', UserWarning)\n", init_extra=LOUD_WARNINGS))
    completed = console_script(fake, "-p", "pkg", "resolve", "beta", "--format", fmt)
    assert completed.returncode == 0, completed.stderr
    assert b"forged" not in completed.stdout
    if fmt == "json":
        assert [entry["ok"] for entry in one_json_document(completed.stdout)["results"]] == [True]
    assert_clean(completed)


# --- exits and crashes ---------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["sys.exit(0)", "sys.exit(3)", "sys.exit('bye')"])
def test_sys_exit_during_access_is_a_failed_access(fake, code: str) -> None:
    fake.write(with_beta(f"import sys\n{code}\n"))
    completed = aoinspect(fake, "-p", "pkg", "resolve", "beta", "--format", "json")
    assert completed.returncode == 1
    (entry,) = one_json_document(completed.stdout)["results"]
    assert entry["ok"] is False and entry["error"]["type"] == "SystemExit"
    assert entry["error"]["location"].endswith("pkg/beta.py:2")
    assert_clean(completed)


def test_sys_exit_at_import_is_an_import_failure(fake) -> None:
    fake.write({"pkg/__init__.py": "import sys\nsys.exit(0)\n"})
    completed = aoinspect(fake, "-p", "pkg", "list", "--format", "json")
    assert completed.returncode == 3
    assert one_json_document(completed.stdout)["error"]["exception"]["type"] == "SystemExit"
    assert_clean(completed)


CRASHES = {
    "os._exit(0)": ("import os\nos._exit(0)\n", "exited with status 0 without reporting"),
    "os._exit(7)": ("import os\nos._exit(7)\n", "exited with status 7 without reporting"),
    "SIGSEGV": ("import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n", "was killed by SIGSEGV"),
    "SIGKILL": ("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n", "was killed by SIGKILL"),
}


@pytest.mark.parametrize("isolation", ["fork", "spawn"])
@pytest.mark.parametrize("case", sorted(CRASHES))
def test_a_crash_during_access_is_a_failed_probe(fake, case: str, isolation: str) -> None:
    source, how = CRASHES[case]
    fake.write(with_beta(source))
    completed = aoinspect(fake, "-p", "pkg", "--isolation", isolation, "resolve", "alpha", "beta", "--format", "json")
    assert completed.returncode == 4
    alpha, beta = one_json_document(completed.stdout)["results"]
    assert alpha["ok"] is True
    assert beta["ok"] is False and beta["probe_failed"] is True
    assert how in beta["error"]["message"]
    assert "while accessing pkg.beta" in beta["error"]["message"]
    assert_clean(completed)


@pytest.mark.parametrize("case", sorted(CRASHES))
def test_a_crash_at_import_is_a_failed_probe(fake, case: str) -> None:
    source, how = CRASHES[case]
    fake.write({"pkg/__init__.py": source})
    completed = aoinspect(fake, "-p", "pkg", "list", "--format", "json")
    assert completed.returncode == 4
    doc = one_json_document(completed.stdout)
    assert doc["error"]["kind"] == "probe-failed"
    assert how in doc["error"]["message"] and "while importing pkg" in doc["error"]["message"]
    assert how in completed.stderr.decode()
    assert_clean(completed)


def test_a_failed_import_ends_the_distribution_reader_too(fake, tmp_path: Path) -> None:
    """With another interpreter, the distributions are read by a child of their own, in the
    background. A command that ends early (here, the import crashes) ends that child and removes
    its directory before it returns, rather than leaving both to whatever exits the process next
    (in the pytest plugin, nothing does). The reader is made to hang so that it is certain to be
    running when the command ends; no_leftovers sees what is left."""
    python = tmp_path / "python"
    python.write_text(
        f'#!/bin/sh\ncase "$*" in *child/distributions.py*) exec sleep 1000;; esac\nexec "{fake.python}" "$@"\n'
    )
    python.chmod(0o755)
    fake.write({"pkg/__init__.py": CRASHES["os._exit(7)"][0]})
    completed = aoinspect(fake, "--python", str(python), "-p", "pkg", "list", "--format", "json")
    assert completed.returncode == 4
    assert one_json_document(completed.stdout)["error"]["kind"] == "probe-failed"


def test_a_failed_command_does_not_wait_for_a_stuck_in_process_reader(fake, monkeypatch) -> None:
    """The in-process distribution reader leaves nothing behind, so a command ending early does
    not wait for it: interrupted inside an import, the command may have left an import lock that
    the reader's thread would wait on for ever."""
    import threading

    from aoinspect.distributions import DistributionIndex

    stuck = threading.Event()
    monkeypatch.setattr(DistributionIndex, "_read_uncached", lambda self: stuck.wait() and {})
    fake.write({"pkg/__init__.py": CRASHES["os._exit(7)"][0]})
    ran: list[Ran] = []
    command = threading.Thread(target=lambda: ran.append(aoinspect(fake, "-p", "pkg", "list", "--format", "json")),
                               daemon=True)
    try:
        command.start()
        command.join(30)
        assert ran and ran[0].returncode == 4
    finally:
        stuck.set()
        command.join()


def test_a_crash_during_check_is_a_finding_with_exit_4(fake) -> None:
    fake.write(with_beta(CRASHES["SIGSEGV"][0]))
    completed = aoinspect(fake, "-p", "pkg", "check", "--format", "json")
    assert completed.returncode == 4
    rules = {(f["rule"], f["name"]) for f in one_json_document(completed.stdout)["findings"]}
    assert ("probe-failed", "beta") in rules


# --- hangs and leftovers -------------------------------------------------------------------------


@pytest.mark.parametrize("isolation", ["fork", "spawn"])
@pytest.mark.parametrize("where", ["import", "access"])
@pytest.mark.parametrize("hang", ["while True: pass", "import time\ntime.sleep(1000)"])
def test_hangs_are_killed_at_the_timeout(fake, where: str, hang: str, isolation: str) -> None:
    if where == "import":
        fake.write({"pkg/__init__.py": hang + "\n"})
    else:
        fake.write(with_beta(hang + "\n"))
    started = time.monotonic()
    completed = aoinspect(
        fake, "-p", "pkg", "--isolation", isolation, "resolve", "beta", "--timeout", str(HANG_TIMEOUT),
        "--format", "json",
    )
    elapsed = time.monotonic() - started
    assert completed.returncode == 4
    assert elapsed < HANG_TIMEOUT + 5  # the timeout plus interpreter start-up on a loaded machine
    doc = one_json_document(completed.stdout)
    text = json.dumps(doc)
    assert f"timed out after {HANG_TIMEOUT:g} s" in text
    assert_clean(completed)


# A fork server whose status pipe closes before it says it is ready (the package closes every
# descriptor it did not open, or replaces the process) may still be running anything: it is ended at
# once, not given the grace a healthy server gets to stop (5 s), and the probe runs in a fresh
# interpreter instead, within its own timeout.
SILENT_SERVER = {
    "closes its descriptors, then hangs": "import os, time\nos.closerange(3, 4096)\ntime.sleep(1000)\n",
    "replaces itself with os.exec": "import os\nos.execv('/bin/sleep', ['sleep', '1000'])\n",
}


@pytest.mark.parametrize("case", sorted(SILENT_SERVER))
def test_a_fork_server_that_closes_its_status_pipe_is_not_waited_for(fake, case: str) -> None:
    fake.write({"pkg/__init__.py": SILENT_SERVER[case]})
    started = time.monotonic()
    completed = aoinspect(
        fake, "-p", "pkg", "--isolation", "fork", "resolve", "alpha", "beta", "--timeout", str(HANG_TIMEOUT),
        "--format", "json",
    )
    elapsed = time.monotonic() - started
    assert completed.returncode == 4
    assert f"timed out after {HANG_TIMEOUT:g} s" in one_json_document(completed.stdout)["error"]["message"]
    # The server's import plus one spawned probe's timeout, and interpreter start-up: well below
    # the 5 s grace that waiting for the server would add.
    assert elapsed < HANG_TIMEOUT + 4
    assert_clean(completed)


LEFTOVER_PROCESS = '''
import os, subprocess, sys
child = subprocess.Popen([sys.executable, "-c", "import time\\nwhile True: time.sleep(0.05)"])
with open(os.environ["PID_FILE"], "w") as f:
    f.write(str(child.pid))
'''


@pytest.mark.parametrize("isolation", ["fork", "spawn"])
def test_a_subprocess_left_running_is_killed_and_not_waited_for(fake, tmp_path, isolation: str) -> None:
    fake.write(with_beta(LEFTOVER_PROCESS))
    pid_file = tmp_path / "pid"
    os.environ["PID_FILE"] = str(pid_file)
    try:
        completed = aoinspect(fake, "-p", "pkg", "--isolation", isolation, "resolve", "beta", "--format", "json")
    finally:
        del os.environ["PID_FILE"]
    assert completed.returncode == 0
    assert one_json_document(completed.stdout)["results"][0]["ok"] is True
    assert not pid_alive(int(pid_file.read_text()))


LEFTOVERS = {
    "non-daemon thread": "import threading, time\nthreading.Thread(target=lambda: time.sleep(1000)).start()\n",
    "closed descriptors": "import os\nos.closerange(3, 4096)\n",
    "changed cwd": "import os\nos.chdir('/')\n",
    "sys.path cleared": "import sys\nsys.path[:] = []\n",
    "sys.modules edited": "import sys\ndel sys.modules['pkg.alpha']\nsys.modules['fake_entry'] = sys\n",
    "builtins.open replaced": "import builtins\nbuiltins.open = None\n",
}


@pytest.mark.parametrize("isolation", ["fork", "spawn"])
@pytest.mark.parametrize("case", sorted(LEFTOVERS))
def test_leftovers_do_not_stop_results(fake, case: str, isolation: str) -> None:
    fake.write(with_beta(LEFTOVERS[case], init_extra="\nfrom . import alpha\n"))
    completed = aoinspect(fake, "-p", "pkg", "--isolation", isolation, "resolve", "beta", "--format", "json")
    assert completed.returncode == 0, completed.stderr
    (entry,) = one_json_document(completed.stdout)["results"]
    assert entry["ok"] is True
    if case == "sys.modules edited":
        assert entry["removed"] == ["pkg.alpha"]
        assert "fake_entry" in {load["module"] for load in entry["materialized"]}
    assert_clean(completed)


# --- wrong exceptions ----------------------------------------------------------------------------

WRONG = {
    "KeyError": "raise KeyError(name)",
    "ImportError": "raise ImportError(name)",
    "TypeError": "raise TypeError(name)",
    "custom": "class LookupFailed(Exception): pass\n    raise LookupFailed(name)",
    "RecursionError": "return getattr(sys.modules[__name__], name)",
}


@pytest.mark.parametrize("case", sorted(WRONG))
def test_wrong_exceptions_are_reported_with_their_real_type(fake, case: str) -> None:
    init = "import sys\n" + LAZY_INIT.format(pkg="pkg").replace(
        "raise AttributeError(f\"module {__name__!r} has no attribute {name!r}\")", WRONG[case]
    )
    fake.write(lazy_package("pkg", init=init))
    completed = aoinspect(fake, "-p", "pkg", "resolve", "nope", "--format", "json")
    assert completed.returncode == 1
    (entry,) = one_json_document(completed.stdout)["results"]
    expected = {"custom": "pkg.__getattr__.<locals>.LookupFailed"}.get(case, case)
    assert entry["error"]["type"] == expected
    assert "pkg/__init__.py:" in entry["error"]["location"]
    checked = aoinspect(fake, "-p", "pkg", "check", "--format", "json")
    assert checked.returncode == 1
    assert "wrong-exception" in {f["rule"] for f in one_json_document(checked.stdout)["findings"]}
    assert_clean(completed)


def test_an_import_cycle_is_reported(fake) -> None:
    fake.write(lazy_package("pkg", alpha="from pkg.beta import B\nA = 1\n", beta="from pkg.alpha import A\nB = 2\n"))
    completed = aoinspect(fake, "-p", "pkg", "resolve", "alpha", "--format", "json")
    assert completed.returncode == 1
    (entry,) = one_json_document(completed.stdout)["results"]
    assert entry["error"]["type"] == "ImportError"
    assert "partially initialized module" in entry["error"]["message"]
    assert entry["error"]["location"].endswith("pkg/beta.py:1")


# --- broken packages -----------------------------------------------------------------------------


def test_syntax_error_names_file_and_line(fake) -> None:
    fake.write({"pkg/__init__.py": "x = 1\ndef broken(:\n"})
    completed = aoinspect(fake, "-p", "pkg", "check", "--format", "json")
    assert completed.returncode == 3
    (finding,) = one_json_document(completed.stdout)["findings"]
    assert finding["rule"] == "import-failed"
    assert "SyntaxError" in finding["message"] and "pkg/__init__.py:2" in finding["message"]


def test_a_plain_module_works(fake) -> None:
    fake.write({"plain.py": "__all__ = ['f']\ndef f():\n    return 1\n"})
    listed = aoinspect(fake, "-p", "plain", "list", "--all", "--format", "json")
    assert listed.returncode == 0
    doc = one_json_document(listed.stdout)
    assert doc["names"] == [{"name": "f", "declared_in": ["__all__"], "submodule": False, "loaded_at_import": True,
                            "mechanism": "attribute", "declared_at": f"{fake.root / 'plain.py'}:1",
                            "lazy_package": False}]
    assert doc["undeclared_submodules"] == []
    assert aoinspect(fake, "-p", "plain", "check").returncode == 0


@pytest.mark.parametrize(
    ("all_source", "rule_message"),
    [
        ("__all__ = 'alpha'", "not a list or tuple"),
        ("__all__ = ['alpha', 3]", "not strings"),
        ("__all__ = ['alpha', 'alpha']", "more than once"),
    ],
)
def test_bad_all_is_a_finding(fake, all_source: str, rule_message: str) -> None:
    init = LAZY_INIT.format(pkg="pkg").replace('__all__ = ["alpha", "beta"]', all_source)
    fake.write(lazy_package("pkg", init=init))
    completed = aoinspect(fake, "-p", "pkg", "check", "--format", "json")
    findings = [f for f in one_json_document(completed.stdout)["findings"] if f["rule"] == "invalid-all"]
    assert findings and rule_message in findings[0]["message"]
    assert_clean(completed)


def test_missing_all_lists_the_static_declarations(fake) -> None:
    init = LAZY_INIT.format(pkg="pkg").replace('__all__ = ["alpha", "beta"]', "__all__ = None\ndel __all__")
    init = init.replace("if name in __all__:", "if name in ('alpha', 'beta'):")
    fake.write(lazy_package("pkg", init=init))
    completed = aoinspect(fake, "-p", "pkg", "list", "--format", "json")
    assert completed.returncode == 0
    names = one_json_document(completed.stdout)["names"]
    assert [(n["name"], n["declared_in"]) for n in names] == [("alpha", ["TYPE_CHECKING"]), ("beta", ["TYPE_CHECKING"])]


# --- odd objects ---------------------------------------------------------------------------------

ODD = '''
class Odd:
    def __repr__(self):
        raise RuntimeError("no repr for you")
    __str__ = __repr__

class Huge:
    def __repr__(self):
        return "x" * 10_000_000
'''


@pytest.mark.parametrize(("name", "expected"), [("odd", "<unrepresentable pkg.Odd object>"), ("huge", "xxx")])
def test_odd_values_are_described_safely(fake, name: str, expected: str) -> None:
    init = ODD + "def __getattr__(name):\n    if name == 'odd':\n        return Odd()\n"
    init += "    if name == 'huge':\n        return Huge()\n    raise AttributeError(name)\n"
    fake.write({"pkg/__init__.py": init})
    completed = aoinspect(fake, "-p", "pkg", "resolve", name, "--format", "json")
    assert completed.returncode == 0
    (entry,) = one_json_document(completed.stdout)["results"]
    assert entry["object"]["repr"].startswith(expected)
    assert len(entry["object"]["repr"]) <= 300
    assert entry["object"]["type"] == f"pkg.{name.capitalize()}"
    assert len(completed.stdout) < 100_000


# --- size ----------------------------------------------------------------------------------------


def test_thousands_of_modules_and_megabytes_of_output(fake) -> None:
    files = {f"pkg/many/m{i}.py": "" for i in range(3000)}
    files["pkg/many/__init__.py"] = "".join(f"from . import m{i}\n" for i in range(3000))
    files.update(lazy_package("pkg", beta="import pkg.many\nimport sys\nsys.stdout.write('x' * 20_000_000)\n"))
    fake.write(files)
    started = time.monotonic()
    completed = aoinspect(fake, "-p", "pkg", "resolve", "beta", "--format", "json")
    assert completed.returncode == 0
    (entry,) = one_json_document(completed.stdout)["results"]
    assert sum(1 for load in entry["materialized"] if load["module"].startswith("pkg.")) == 3002
    assert time.monotonic() - started < 30


# --- hostile names -------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(max_size=20))
def test_arbitrary_names_never_break_the_output(invoke, tmp_path_factory, name: str) -> None:
    workdir = tmp_path_factory.mktemp("names")
    before = set(os.listdir(workdir))
    cwd = os.getcwd()
    os.chdir(workdir)
    try:
        result = invoke("resolve", "--format", "json", "--timeout", "20", "--", name)
    finally:
        os.chdir(cwd)
    assert result.exit_code in (0, 1, 2), result.output
    doc = json.loads(result.stdout)
    assert doc["exit_code"] == result.exit_code
    assert "Traceback" not in result.stderr
    assert set(os.listdir(workdir)) == before


@pytest.mark.parametrize("names", [["beta"], ["beta", "alpha"]], ids=["one probe", "parallel probes"])
def test_interrupt_kills_the_children(fake, tmp_path, names: list[str]) -> None:
    hang = "import os, time\nopen(os.path.join(os.environ['PID_DIR'], __name__), 'w').write(str(os.getpid()))\n"
    fake.write(lazy_package("pkg", alpha=hang + "time.sleep(1000)\n", beta=hang + "time.sleep(1000)\n"))
    env = {**os.environ, **fake.env, "PID_DIR": str(tmp_path)}
    with started_console_script(["-p", "pkg", "-j", "2", "resolve", *names], env) as process:
        pid_files = [tmp_path / f"pkg.{name}" for name in names]
        deadline = time.monotonic() + 20
        while not all(path.exists() and path.read_text() for path in pid_files) and time.monotonic() < deadline:
            time.sleep(0.01)  # polling for the children's pid files, not hoping for a race
        children = [int(path.read_text()) for path in pid_files]
        started = time.monotonic()
        process.send_signal(signal.SIGINT)
        _stdout, stderr = process.communicate(timeout=20)
    assert time.monotonic() - started < 10
    assert process.returncode == 130
    assert b"Traceback" not in stderr
    assert not any(pid_alive(child) for child in children)


@pytest.mark.parametrize("isolation", ["fork", "spawn"])
def test_names_in_all_that_are_no_identifiers_are_reported_not_run(fake, monkeypatch, isolation: str) -> None:
    monkeypatch.chdir(fake.root)  # where a name run by a shell would write
    init = LAZY_INIT.format(pkg="pkg").replace(
        '__all__ = ["alpha", "beta"]', '__all__ = ["alpha", "beta", "a-b", "x\\ty\\nz", "nul\\x00", "$(touch pwned)"]'
    )
    fake.write(lazy_package("pkg", init=init))
    checked = aoinspect(fake, "-p", "pkg", "--isolation", isolation, "check", "--format", "json")
    doc = one_json_document(checked.stdout)
    (invalid,) = [f for f in doc["findings"] if f["rule"] == "invalid-all"]
    assert invalid["severity"] == "warning" and "4 name(s) that are not identifiers" in invalid["message"]
    assert "'a-b'" in invalid["message"] and "'$(touch pwned)'" in invalid["message"]
    assert [result["name"] for result in doc["results"]] == ["alpha", "beta"]
    assert not (fake.root / "pwned").exists()
    resolved = aoinspect(fake, "-p", "pkg", "--isolation", isolation, "resolve", "--all", "--format", "json")
    assert resolved.returncode == 0
    assert [result["name"] for result in one_json_document(resolved.stdout)["results"]] == ["alpha", "beta"]
    listed = aoinspect(fake, "-p", "pkg", "list", "--format", "json")
    assert len(one_json_document(listed.stdout)["names"]) == 6
    assert_clean(checked)


def test_modules_put_into_sys_modules_by_hand_hang_on_their_importer(fake) -> None:
    files = {f"pkg/many/m{i}.py": "" for i in range(500)}
    files["pkg/many/__init__.py"] = "".join(f"from . import m{i}\n" for i in range(500))
    files["pkg/maker.py"] = (
        "import sys, types\nfor i in range(2000):\n    sys.modules[f'made{i}'] = types.ModuleType(f'made{i}')\n"
    )
    files.update(lazy_package("pkg", beta="import pkg.many\nimport pkg.maker\n"))
    fake.write(files)
    completed = aoinspect(fake, "-p", "pkg", "resolve", "beta", "--format", "json")
    assert completed.returncode == 0
    loads = {load["module"]: load for load in one_json_document(completed.stdout)["results"][0]["materialized"]}
    assert sum(1 for name in loads if name.startswith("made")) == 2000
    assert {loads[f"made{i}"]["parent"] for i in range(2000)} == {"pkg.maker"}
    assert loads["made0"]["depth"] == loads["pkg.maker"]["depth"] + 1
    order = list(loads)
    assert order.index("pkg.many.m499") < order.index("pkg.maker") < order.index("made0") < order.index("made1999")


# --- aoinspect trace: the program's own traceback and exit status ---------------------------------

TRACED = {
    "an import that raises": ({"pkg/__init__.py": "", "pkg/beta.py": "raise RuntimeError('boom')\n"},
                              "import pkg.beta"),
    "a lazy import that raises": (with_beta("raise LookupError('beta')\n"), "import pkg; pkg.beta"),
    "an import that raises while handling another": (
        {"pkg/__init__.py": "", "pkg/beta.py": "try:\n    1 / 0\nexcept ZeroDivisionError:\n    import pkg.gamma\n",
         "pkg/gamma.py": "raise ValueError('gamma')\n"},
        "import pkg.beta",
    ),
    "builtins replaced": (
        with_beta("import builtins\nfor name in ('list', 'type', 'str', 'sorted', 'len', 'repr', 'isinstance'):\n"
                  "    setattr(builtins, name, None)\n"),
        "import pkg; pkg.alpha; pkg.beta",
    ),
    "os functions replaced": (
        with_beta("import os\nfor name in ('getpid', 'write', 'open', 'fstat', 'getcwd'):\n"
                  "    setattr(os, name, None)\n"),
        "import pkg; pkg.alpha; pkg.beta",
    ),
}


@pytest.mark.parametrize("case", sorted(TRACED))
def test_a_traced_program_ends_as_under_plain_python(fake, tmp_path, case: str) -> None:
    """Its traceback is Python's own, with no frame of aoinspect's (the import wrapper sits under
    every import that raised), and what the program does to builtins or os cannot break the tracer."""
    files, code = TRACED[case]
    fake.write(files)
    bare = subprocess.run([fake.python, "-c", code], env={**os.environ, **fake.env}, capture_output=True,
                          cwd=fake.root, timeout=60)
    traced = console_script(fake, "trace", "-o", str(tmp_path / "trace.json"), "--format", "json", "--", "-c", code)
    assert (traced.returncode, traced.stderr) == (bare.returncode, bare.stderr)
    assert json.loads((tmp_path / "trace.json").read_text())["complete"] is True


OS_FUNCTIONS = ("fork", "forkpty", "execv", "execve", "system", "posix_spawn", "posix_spawnp", "_exit")
LOOKS_AT_OS = (
    "import os, posix, sys, json\n"
    f"print([getattr(os, name) is getattr(posix, name) for name in {OS_FUNCTIONS!r}])\n"
    f"print([type(getattr(os, name)).__name__ for name in {OS_FUNCTIONS[:-1]!r}])\n"
    "sys.stdout.flush()\n"
)


@pytest.mark.parametrize(("ending", "how"), [
    ("os.execv(sys.executable, [sys.executable, '-c', 'pass'])", "os.exec"),
    ("os._exit(0)", "os._exit(0)"),
])
def test_a_traced_program_sees_the_real_os_functions(fake, tmp_path, ending: str, how: str) -> None:
    """The tracer learns of processes and exec from an audit hook, not by replacing os functions: the
    program finds them as plain Python has them. ``os._exit`` raises no audit event, so it alone is
    wrapped, in ``os`` and ``posix`` alike (docs/explanation/reliability.md); the records written
    before the program ended are kept either way."""
    code = LOOKS_AT_OS + ending + "\n"
    bare = subprocess.run([fake.python, "-c", code], env={**os.environ, **fake.env}, capture_output=True,
                          cwd=fake.root, timeout=60)
    output = tmp_path / "trace.json"
    traced = console_script(fake, "trace", "-o", str(output), "--format", "json", "--", "-c", code)
    assert (traced.returncode, traced.stdout) == (bare.returncode, bare.stdout)
    assert bare.stdout.startswith(b"[True, True, True, True, True, True, True, True]\n")
    trace = json.loads(output.read_text())
    assert how in trace["incomplete"]
    assert "json" in {load["module"] for load in trace["loads"]}


# --- issue 12, 1: processes that leave the probe's process group ---------------------------------

ESCAPE_SCRIPT = '''
import os, sys, time
how, pid_file = sys.argv[1], sys.argv[2]
if how == "setsid":
    os.setsid()
elif how == "setpgrp":
    os.setpgrp()
elif how == "daemon":
    if os.fork():
        os._exit(0)
    os.setsid()
    if os.fork():
        os._exit(0)
with open(pid_file + ".tmp", "w") as stream:
    stream.write(str(os.getpid()))
os.rename(pid_file + ".tmp", pid_file)
time.sleep(1000)
'''

ESCAPE = '''
import os, subprocess, sys, time
_pid_file = os.path.join(os.environ["PID_DIR"], "{how}-" + str(os.getpid()))
subprocess.Popen([sys.executable, os.path.join(os.path.dirname(__file__), "..", "escape.py"), "{how}", _pid_file])
while not os.path.exists(_pid_file):  # return only once it has escaped
    time.sleep(0.01)
'''


@pytest.mark.parametrize("isolation", ["fork", "spawn"])
@pytest.mark.parametrize("where", ["import", "access"])
@pytest.mark.parametrize("how", ["setsid", "setpgrp", "daemon"])
def test_processes_that_leave_the_group_are_ended(fake, tmp_path, how: str, where: str, isolation: str) -> None:
    source = ESCAPE.format(how=how)
    fake.write({"escape.py": ESCAPE_SCRIPT, **(with_beta(source) if where == "access" else with_beta("", source))})
    pid_dir = tmp_path / "pids"
    pid_dir.mkdir()
    os.environ["PID_DIR"] = str(pid_dir)
    try:
        completed = aoinspect(fake, "-p", "pkg", "--isolation", isolation, "resolve", "alpha", "beta",
                              "--format", "json")
    finally:
        del os.environ["PID_DIR"]
    assert completed.returncode == 0, completed.stderr
    escaped = escaped_pids(pid_dir)
    assert escaped
    assert not [pid for pid in escaped if pid_alive(pid)]  # and no_leftovers checks the rest
    assert_clean(completed)


# --- issue 12, 3: signals to aoinspect ----------------------------------------------------------


@pytest.mark.parametrize("isolation", ["fork", "spawn"])
@pytest.mark.parametrize("signame", ["SIGTERM", "SIGHUP", "SIGINT"])
def test_signals_end_everything_and_exit_128_plus_n(fake, tmp_path, signame: str, isolation: str) -> None:
    hang = "import os, time\nopen(os.path.join(os.environ['PID_DIR'], __name__), 'w').write(str(os.getpid()))\n"
    fake.write(lazy_package("pkg", alpha=hang + "time.sleep(1000)\n", beta=hang + "time.sleep(1000)\n"))
    env = {**os.environ, **fake.env, "PID_DIR": str(tmp_path)}
    args = ["-p", "pkg", "-j", "2", "--isolation", isolation, "resolve", "alpha", "beta"]
    with started_console_script(args, env) as process:
        pid_files = [tmp_path / "pkg.alpha", tmp_path / "pkg.beta"]
        deadline = time.monotonic() + 20
        while not all(path.exists() and path.read_text() for path in pid_files) and time.monotonic() < deadline:
            time.sleep(0.01)
        number = getattr(signal, signame)
        process.send_signal(number)
        _stdout, stderr = process.communicate(timeout=20)
    assert process.returncode == 128 + number
    assert b"Traceback" not in stderr
    assert not any(pid_alive(int(path.read_text())) for path in pid_files)
    # no_leftovers: no aoinspect-server-* or aoinspect-* directory is left in TMPDIR


@pytest.mark.parametrize("isolation", ["auto", "spawn", "fork"])
def test_a_package_that_signals_its_parent_then_hangs_is_a_timed_out_probe(fake, isolation: str) -> None:
    """The probe's parent is not aoinspect but a keeper that ignores the signal: aoinspect finishes
    its report (the probe hangs, so it fails at the timeout) instead of ending with 143."""
    fake.write(with_beta("import os, signal, time\nos.kill(os.getppid(), signal.SIGTERM)\ntime.sleep(1000)\n"))
    completed = console_script(fake, "-p", "pkg", "--isolation", isolation, "resolve", "beta", "--format", "json",
                               "--timeout", str(HANG_TIMEOUT), timeout=30)
    assert completed.returncode == 4, completed.stderr
    (entry,) = one_json_document(completed.stdout)["results"]
    assert entry["probe_failed"] is True
    assert f"timed out after {HANG_TIMEOUT:g} s" in entry["error"]["message"]
    assert_clean(completed)


# Every signal that ends a process by default and that the keeper ignores, once; SIGTERM everywhere.
PARENT_SIGNALS = [(signame, "import", "spawn") for signame in ("SIGHUP", "SIGINT", "SIGQUIT", "SIGUSR1", "SIGUSR2")]
PARENT_SIGNALS += [("SIGTERM", where, isolation) for where in ("import", "access")
                   for isolation in ("auto", "spawn", "fork")]


@pytest.mark.parametrize(("signame", "where", "isolation"), PARENT_SIGNALS)
def test_a_package_that_signals_its_parent_is_measured_as_in_plain_python(
    fake, where: str, signame: str, isolation: str,
) -> None:
    """In a plain ``python -c`` the signal goes to the shell; here to the probe's keeper (or, for a
    forked probe, its monitor), which ignores it: the probe goes on and is measured, the same
    under every isolation, and aoinspect exits by its documented rules with its document."""
    source = f"import os, signal\nos.kill(os.getppid(), signal.{signame})\n"
    fake.write(with_beta(source) if where == "access" else with_beta("", source))
    completed = console_script(fake, "-p", "pkg", "--isolation", isolation, "resolve", "beta",
                               "--format", "json", timeout=30)
    assert completed.returncode == 0, completed.stderr
    assert [entry["ok"] for entry in one_json_document(completed.stdout)["results"]] == [True]
    assert_clean(completed)


def test_a_probe_that_kills_its_keeper_is_a_failed_probe(fake) -> None:
    """SIGKILL cannot be ignored: the keeper dies, aoinspect sees its probe killed and says so."""
    fake.write(with_beta("import os, signal, time\nos.kill(os.getppid(), signal.SIGKILL)\ntime.sleep(1000)\n"))
    completed = console_script(fake, "-p", "pkg", "--isolation", "spawn", "resolve", "beta", "--format", "json",
                               timeout=30)
    assert completed.returncode == 4, completed.stderr
    (entry,) = one_json_document(completed.stdout)["results"]
    assert entry["probe_failed"] is True and "was killed by SIGKILL" in entry["error"]["message"]
    assert_clean(completed)


def test_a_forked_probe_that_signals_its_parent_is_measured(fake) -> None:
    fake.write(with_beta("import os, signal\nos.kill(os.getppid(), signal.SIGTERM)\n"))
    # End to end: should the probe not be forked, its parent is aoinspect, not the test run.
    completed = console_script(fake, "-p", "pkg", "--isolation", "fork", "resolve", "alpha", "beta",
                               "--format", "json", "--timeout", "10", timeout=30)
    assert completed.returncode == 0, completed.stderr
    assert [entry["ok"] for entry in one_json_document(completed.stdout)["results"]] == [True, True]


# --- issue 12, 4: closed standard descriptors ---------------------------------------------------


@pytest.mark.parametrize("closed", ["<&-", "2>&-", "<&- 2>&-", ">&-", "<&- >&- 2>&-"])
def test_closed_standard_descriptors(fake, tmp_path, closed: str) -> None:
    fake.write(lazy_package("pkg"))
    output, status = tmp_path / "out.json", tmp_path / "status"
    redirect = closed if ">&-" in closed.split() else f"{closed} >{output}"
    env = {**os.environ, **fake.env, "STATUS": str(status)}
    subprocess.run(["sh", "-c", f'"$0" -p pkg check --format json {redirect}; echo "$?" >"$STATUS"',
                    str(CONSOLE_SCRIPT)], env=env, cwd=fake.root, timeout=60, capture_output=True)
    assert status.read_text().strip() == "0"
    if ">&-" not in closed.split():
        doc = json.loads(output.read_text())
        assert doc["exit_code"] == 0
        assert doc["isolation"]["mode"] == "fork" and doc["isolation"]["reason"] is None


# --- issue 12, 12: --python problems -------------------------------------------------------------


def fake_interpreter(tmp_path: Path, name: str, script: str) -> Path:
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(0o755)
    return path


def test_an_interpreter_printing_bytes_that_are_not_utf8_is_a_usage_error(fake, tmp_path) -> None:
    python = fake_interpreter(tmp_path, "bytes", "printf '\\377\\376 3 11\\n'\n")
    completed = aoinspect(fake, "--python", str(python), "--format", "json", "list")
    assert completed.returncode == 2
    assert "not a Python interpreter" in one_json_document(completed.stdout)["error"]["message"]
    assert_clean(completed)


def test_a_hanging_interpreter_obeys_the_timeout_and_is_group_killed(fake, tmp_path) -> None:
    python = fake_interpreter(tmp_path, "hangs", "sleep 1000 &\nsleep 1000\n")
    started = time.monotonic()
    completed = aoinspect(fake, "--python", str(python), "--timeout", str(HANG_TIMEOUT), "--format", "json", "list")
    assert time.monotonic() - started < HANG_TIMEOUT + 5
    assert completed.returncode == 2
    assert f"within {HANG_TIMEOUT:g} s" in one_json_document(completed.stdout)["error"]["message"]
    assert_clean(completed)  # and no_leftovers: neither sleep is left


def test_an_environment_listing_that_is_no_object_is_ignored(fake, tmp_path) -> None:
    fake.write(lazy_package("pkg"))
    python = fake_interpreter(
        tmp_path, "lists",
        f'case "$*" in *child/distributions.py*) echo "[1, 2]"; exit 0;; esac\nexec "{sys.executable}" "$@"\n',
    )
    completed = aoinspect(fake, "--python", str(python), "-p", "pkg", "resolve", "alpha", "--format", "json")
    assert completed.returncode == 0, completed.stderr
    assert one_json_document(completed.stdout)["results"][0]["ok"] is True
    assert_clean(completed)


def test_a_json_py_in_the_working_directory_cannot_hijack_the_distribution_reader(fake, tmp_path, monkeypatch) -> None:
    fake.write(lazy_package("pkg"))
    workdir = tmp_path / "work"
    workdir.mkdir()
    (workdir / "json.py").write_text("import time\ntime.sleep(60)\n")
    python = tmp_path / "python-by-another-path"
    python.symlink_to(sys.executable)
    monkeypatch.chdir(workdir)
    started = time.monotonic()
    completed = aoinspect(fake, "--python", str(python), "-p", "pkg", "resolve", "alpha", "--format", "json",
                          "--timeout", "20")
    assert time.monotonic() - started < 15
    assert completed.returncode == 0, completed.stderr
    assert_clean(completed)


# --- issue 21: bounds and processes --------------------------------------------------------------


def test_the_version_check_ends_what_the_interpreter_started(fake, tmp_path) -> None:
    """A fake interpreter that starts a ``setsid`` daemon while it answers ``--python``'s version
    check: the daemon leaves the check's process group at once, so only the subreaper sees it."""
    fake.write(lazy_package("pkg"))
    pid_file = tmp_path / "daemon"
    python = fake_interpreter(
        tmp_path, "python",
        f'case "$*" in *version_info*) setsid sh -c \'echo $$ >"{pid_file}.tmp" && mv "{pid_file}.tmp" "{pid_file}"'
        f'; exec sleep 1000\' &\n  while [ ! -s "{pid_file}" ]; do :; done;; esac\nexec "{fake.python}" "$@"\n',
    )
    completed = aoinspect(fake, "--python", str(python), "-p", "pkg", "resolve", "alpha", "--format", "json")
    assert completed.returncode == 0, completed.stderr
    assert not pid_alive(int(pid_file.read_text()))  # and no_leftovers checks the rest
    assert_clean(completed)


@pytest.mark.parametrize("isolation", ["auto", "spawn"])
@pytest.mark.parametrize("how", ["setsid", "setpgrp", "daemon"])
def test_a_lone_probe_ends_what_left_its_group(fake, tmp_path, how: str, isolation: str) -> None:
    """One name, one spawned probe, no fork server (the CLI starts it before it has imported the
    rest of itself): what the package's import started outside the probe's group ends with it.
    The console script, since that start is what an in-process run skips with --probe-python."""
    fake.write({"escape.py": ESCAPE_SCRIPT, **with_beta("", ESCAPE.format(how=how))})
    pid_dir = tmp_path / "pids"
    pid_dir.mkdir()
    os.environ["PID_DIR"] = str(pid_dir)
    try:
        completed = console_script(fake, "-p", "pkg", "--isolation", isolation, "resolve", "beta", "--format", "json")
    finally:
        del os.environ["PID_DIR"]
    assert completed.returncode == 0, completed.stderr
    assert one_json_document(completed.stdout)["isolation"]["mode"] == "spawn"
    escaped = escaped_pids(pid_dir)
    assert escaped
    assert not [pid for pid in escaped if pid_alive(pid)]
    assert_clean(completed)


@pytest.mark.parametrize("isolation", ["fork", "spawn"])
def test_a_recursion_limit_set_at_import_is_the_packages_not_the_probes(fake, isolation: str) -> None:
    """``sys.setrecursionlimit(50)`` at import: a plain interpreter imports and accesses the package
    under it, and so does the probe, whose own work (its imports, its report) keeps its own limit;
    the frames the probe adds below each access do not count against the package's."""
    fake.write(with_beta("X = 1\n", init_extra="\nimport sys\nsys.setrecursionlimit(50)\n"))
    code = "import pkg, sys; pkg.alpha; pkg.beta; from pkg import *; print(sys.getrecursionlimit())"
    bare = subprocess.run([fake.python, "-c", code], env={**os.environ, **fake.env}, capture_output=True,
                          cwd=fake.root, timeout=60)
    assert (bare.returncode, bare.stdout) == (0, b"50\n"), bare.stderr
    completed = aoinspect(fake, "-p", "pkg", "--isolation", isolation, "check", "--format", "json")
    doc = one_json_document(completed.stdout)
    assert completed.returncode == 0, doc["findings"]
    assert_clean(completed)


HEADROOM = '''
import os, sys
def _headroom(depth=0):
    try:
        return _headroom(depth + 1)
    except RecursionError:
        return depth
with open(os.environ["HEADROOM"], "a") as _stream:
    _stream.write(__name__ + " " + str(_headroom()) + "\\n")
'''


@pytest.mark.parametrize("isolation", ["fork", "spawn"])
def test_the_package_recurses_as_deep_as_in_a_plain_interpreter(fake, tmp_path, isolation: str) -> None:
    """How deep the package's code can recurse inside a lazy access, two imports down, is what a
    plain ``python -c`` gives it, to the frame: the probe's own frames (and, before 3.12, its
    builtin calls) do not count against the package's limit. A limit set in the middle of a
    measured step (here, the import) holds for the rest of that step as set, a few frames short."""
    fake.write(with_beta(HEADROOM + "from pkg import gamma\n", init_prefix="import sys\nsys.setrecursionlimit(120)\n",
                         init_extra=HEADROOM) | {"pkg/gamma.py": HEADROOM})
    bare_file, probe_file = tmp_path / "bare", tmp_path / "probe"
    subprocess.run([fake.python, "-c", "import pkg; pkg.beta"], check=True, cwd=fake.root, timeout=60,
                   env={**os.environ, **fake.env, "HEADROOM": str(bare_file)})
    os.environ["HEADROOM"] = str(probe_file)
    try:
        completed = aoinspect(fake, "-p", "pkg", "--isolation", isolation, "resolve", "beta", "--format", "json")
    finally:
        del os.environ["HEADROOM"]
    assert completed.returncode == 0, completed.stderr
    probe, bare = (dict(line.split() for line in path.read_text().splitlines()) for path in (probe_file, bare_file))
    accessed = ("pkg.beta", "pkg.gamma")
    assert [probe[name] for name in accessed] == [bare[name] for name in accessed]
    assert int(bare["pkg"]) - 8 <= int(probe["pkg"]) <= int(bare["pkg"])


# The alarm set at import (ITIMER_REAL, the timer signal.alarm sets, in fractions of a second), and
# how long importing each slow module takes: one well within it, all of them together past it.
PICKLE_ALARM_S, SLOW_IMPORT_S, PICKLED_NAMES = 0.3, 0.04, 10


def alarm_and_slow_pickles(count: int) -> dict[str, str]:
    """An alarm at import (PICKLE_ALARM_S), and ``count`` lazy functions whose ``pickle.dumps``
    each imports a module that takes SLOW_IMPORT_S: one name at a time, every plain interpreter
    finishes well within the alarm; all of them in one process would not."""
    assert SLOW_IMPORT_S < PICKLE_ALARM_S / 4 and count * SLOW_IMPORT_S > PICKLE_ALARM_S
    names = ", ".join(f'"f{index}"' for index in range(count))
    init = f'''import signal
signal.setitimer(signal.ITIMER_REAL, {PICKLE_ALARM_S})
__all__ = [{names}]

def _make(index):
    def function():
        pass
    function.__module__ = f"pkg.slow{{index}}"
    function.__qualname__ = "function"
    return function

def __getattr__(name):
    if name in __all__:
        value = globals()[name] = _make(int(name[1:]))
        return value
    raise AttributeError(name)

def __dir__():
    return sorted(list(globals()) + __all__)
'''
    files = {"pkg/__init__.py": init}
    for index in range(count):
        files[f"pkg/slow{index}.py"] = (f"import time\ntime.sleep({SLOW_IMPORT_S})\n"
                                        f"from pkg import f{index} as function\n")
    return files


@pytest.mark.parametrize("isolation", ["fork", "spawn"])
def test_an_alarm_set_at_import_rings_for_no_name_a_plain_interpreter_would_finish(fake, isolation: str) -> None:
    """check pickles (and unpickles) a batch of names in one probe: each name gets the package's
    timers as a fresh ``python -c`` would have them, not what the names before it left, so an
    alarm set at import gives no false probe-failed finding."""
    fake.write(alarm_and_slow_pickles(PICKLED_NAMES))
    last = f"pkg.f{PICKLED_NAMES - 1}"
    bare = subprocess.run([fake.python, "-c", f"import pkg, pickle; pickle.loads(pickle.dumps({last}))"],
                          env={**os.environ, **fake.env}, capture_output=True, cwd=fake.root, timeout=60)
    assert bare.returncode == 0, bare.stderr
    completed = aoinspect(fake, "-p", "pkg", "--isolation", isolation, "check", "--format", "json")
    doc = one_json_document(completed.stdout)
    assert completed.returncode == 0, doc["findings"]
    assert doc["isolation"]["mode"] == isolation
    assert_clean(completed)
