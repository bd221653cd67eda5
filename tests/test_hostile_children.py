"""Hostile packages against issue 23's children: the executed-import graph (``graph``, and
``check``'s candidate rule), the PEP 810 deferral simulation and the effects observer (``advise``,
and ``check``'s lazy_modules rules). The same promise as tests/test_hostile.py's probes: nothing
the package does reaches aoinspect's output or process, every child has a deadline, nothing is
left running or on disk, and no traceback without --debug.

Every package here is ``pkg``: ``import colorsys`` (a candidate to defer, declared in
``__lazy_modules__`` so that ``check`` starts the simulation), then the hostile code.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.helpers import escaped_pids, pid_alive
from tests.test_hostile import ESCAPE_SCRIPT, HANG_TIMEOUT, aoinspect, assert_clean, console_script, one_json_document

pytestmark = [pytest.mark.probe, pytest.mark.usefixtures("no_leftovers")]


def package(hostile: str, *, declared: bool = True) -> dict[str, str]:
    head = '__lazy_modules__ = ["colorsys"]\n' if declared else ""
    return {"pkg/__init__.py": head + "import colorsys\n" + hostile + "\nVALUE = 1\n"}


def graph(fake, *args: str):  # type: ignore[no-untyped-def]
    return aoinspect(fake, "graph", "pkg", "--format", "json", *args)


def advise(fake, *args: str):  # type: ignore[no-untyped-def]
    return aoinspect(fake, "advise", "pkg", "--budget", "0", "--format", "json", *args)


def check(fake, *args: str):  # type: ignore[no-untyped-def]
    return aoinspect(fake, "-p", "pkg", "check", "--format", "json", *args)


def graph_modules(stdout: bytes) -> set[str]:
    return {module["name"] for module in one_json_document(stdout)["modules"]}


def advice(stdout: bytes) -> list[dict]:  # type: ignore[type-arg]
    rows = one_json_document(stdout)["advice"]
    assert isinstance(rows, list)
    return rows


# --- output noise ------------------------------------------------------------------------------

NOISE = '''
import os, sys
print('{"schema": 1, "fake": "json from print"}')
print("to stderr", file=sys.stderr)
sys.stdout.flush()
os.write(1, b'\\xff\\xfe not utf-8 {"ok": true}\\n')
os.write(2, b"raw stderr\\n")
'''


def test_noise_never_reaches_graph_or_advise_or_check(fake) -> None:
    fake.write(package(NOISE))
    ran = graph(fake)
    assert ran.returncode == 0, ran.stderr
    assert "colorsys" in graph_modules(ran.stdout)
    assert ran.stderr == b""
    ran = advise(fake)
    assert ran.returncode == 0, ran.stderr
    assert any(row["text"] == "import colorsys" for row in advice(ran.stdout))
    assert ran.stderr == b""
    ran = check(fake)
    assert ran.returncode in (0, 1), ran.stderr
    one_json_document(ran.stdout)
    assert b"fake" not in ran.stderr and b"raw stderr" not in ran.stderr


# --- the entry ends the process ----------------------------------------------------------------

EXITS = {
    "sys.exit(3)": "import sys\nsys.exit(3)",
    "os._exit(3)": "import os\nos._exit(3)",
    "BaseException": "class Boom(BaseException):\n    pass\nraise Boom('boom')",
    "KeyboardInterrupt": "raise KeyboardInterrupt",
    "GeneratorExit": "raise GeneratorExit('x')",
    "SystemExit(obj)": "class Odd:\n    def __str__(self):\n        raise ValueError\n"
                       "    __repr__ = __str__\nraise SystemExit(Odd())",
}


@pytest.mark.parametrize("case", sorted(EXITS))
def test_an_entry_that_exits_or_raises_is_reported_with_exit_3(fake, case: str) -> None:
    fake.write(package(EXITS[case]))
    ran = graph(fake)
    assert ran.returncode == 3, ran.stderr
    document = one_json_document(ran.stdout)
    assert "colorsys" in graph_modules(ran.stdout) and document["ending"] in ("exit", "exception", "os._exit")
    assert_clean(ran)
    ran = advise(fake)
    assert ran.returncode == 3, ran.stderr
    assert_clean(ran)


# --- crashes and hangs -------------------------------------------------------------------------


def test_a_segfault_is_a_failed_child_with_exit_4(fake) -> None:
    fake.write(package("import ctypes\nctypes.string_at(0)"))
    for ran in (graph(fake), advise(fake)):
        assert ran.returncode == 4, ran.stderr
        assert_clean(ran)


HANGS = {
    "busy": "while True:\n    pass",
    "sleep": "import time\ntime.sleep(1000)",
    # Takes SIGALRM over (and ignores it): the child's own stop cannot fire, the deadline does.
    "alarm taken": "import signal, time\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\ntime.sleep(1000)",
    # Resets the interval timer the child's own stop used.
    "timer reset": "import signal, time\nsignal.setitimer(signal.ITIMER_REAL, 0)\ntime.sleep(1000)",
}


@pytest.mark.parametrize("case", sorted(HANGS))
def test_graph_of_a_hang_ends_at_the_timeout(fake, case: str) -> None:
    """124 with the graph of the start-up: the child's keeper sends the stop, which a program that
    takes SIGALRM over cannot take away (before, it was killed at the deadline: exit 4)."""
    fake.write(package(HANGS[case]))
    started = time.monotonic()
    ran = graph(fake, "--timeout", "1")  # the stop at 0.8 s, the kill at 1: room for a loaded machine
    elapsed = time.monotonic() - started
    assert ran.returncode == 124, ran.stderr
    assert "colorsys" in graph_modules(ran.stdout)
    assert elapsed < 20
    assert_clean(ran)


@pytest.mark.parametrize("case", sorted(HANGS))
def test_advise_on_a_hang_fails_at_the_timeout_with_exit_4(fake, case: str) -> None:
    fake.write(package(HANGS[case]))
    ran = advise(fake, "--timeout", str(HANG_TIMEOUT))
    assert ran.returncode == 4, ran.stderr
    assert_clean(ran)


# Hangs, SIGALRM taken over, in the simulation's scenarios that defer ``import colorsys`` (it is not
# in sys.modules yet): the scenario the rows and findings below are about; the others report.
IN_THE_SIMULATION_ONLY = (
    "import signal, sys, time\n"
    "if b'defer.py' in open('/proc/self/cmdline', 'rb').read() and 'colorsys' not in sys.modules:\n"
    "    signal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
    "    time.sleep(1000)"
)


def test_a_scenario_that_takes_sigalrm_over_is_ended_at_its_deadline(fake) -> None:
    """The simulation's own process bounds each scenario (a second past its alarm): the rows say
    the deferred run ran past its deadline. Before, the scenario outlived its alarm and the whole
    simulation was killed at the parent's deadline (exit 4, after 10 s and more)."""
    fake.write(package(IN_THE_SIMULATION_ONLY))
    ran = advise(fake, "--timeout", "0.5")  # the graph and the observer must finish in it
    assert ran.returncode == 0, ran.stderr
    row = next(row for row in advice(ran.stdout) if row["text"] == "import colorsys")
    assert row["decision"] == "keep" and any("ran past its deadline" in risk for risk in row["risks"]), row
    assert_clean(ran)


def test_check_reports_a_simulation_that_gave_no_result_as_a_failed_probe(fake) -> None:
    """Before, lazy-entry-reified found nothing in a run that never reported, and check exited 0."""
    fake.write(package(IN_THE_SIMULATION_ONLY))
    ran = check(fake, "--timeout", "0.5")
    assert ran.returncode == 4, ran.stderr
    assert any("__lazy_modules__ entries deferred gave no result: it ran past its deadline" in finding["message"]
               for finding in one_json_document(ran.stdout)["findings"] if finding["rule"] == "probe-failed")
    assert_clean(ran)


def test_check_on_a_hang_in_a_declaring_package_ends(fake) -> None:
    fake.write(package(HANGS["alarm taken"]))
    ran = check(fake, "--timeout", str(HANG_TIMEOUT))
    assert ran.returncode == 4, ran.stderr
    one_json_document(ran.stdout)
    assert_clean(ran)


# --- processes left behind ---------------------------------------------------------------------

ESCAPE = '''
import os, subprocess, sys, time
_pid_file = os.path.join(os.environ["PID_DIR"], "{how}-" + str(os.getpid()))
subprocess.Popen([sys.executable, os.path.join(os.path.dirname(__file__), "..", "escape.py"), "{how}", _pid_file])
while not os.path.exists(_pid_file):  # go on only once it has escaped
    time.sleep(0.01)
'''
FORK_LEFT = '''
import os, time
if os.fork() == 0:
    time.sleep(1000)
    os._exit(0)
'''


THREAD_LEFT = "import threading, time\nthreading.Thread(target=time.sleep, args=(1000,)).start()"


@pytest.mark.parametrize("left", [FORK_LEFT, THREAD_LEFT], ids=["fork", "thread"])
def test_what_the_entry_leaves_running_does_not_keep_a_child_alive(fake, left: str) -> None:
    """Each child ends with os._exit once it has reported: a thread or fork still running does not
    make it wait for the deadline (before, the observer waited for the thread and was killed)."""
    fake.write(package(left))
    for ran in (graph(fake, "--timeout", "3"), advise(fake, "--timeout", "3")):
        assert ran.returncode == 0, ran.stderr
        assert_clean(ran)


@pytest.mark.parametrize("how", ["setsid", "daemon"])
def test_processes_that_leave_the_group_are_ended(fake, tmp_path, how: str) -> None:
    fake.write({"escape.py": ESCAPE_SCRIPT, **package(ESCAPE.format(how=how))})
    pid_dir = tmp_path / "pids"
    pid_dir.mkdir()
    os.environ["PID_DIR"] = str(pid_dir)
    try:
        ran_graph, ran_advise, ran_check = graph(fake), advise(fake), check(fake)
    finally:
        del os.environ["PID_DIR"]
    assert ran_graph.returncode == 0 and ran_advise.returncode == 0, (ran_graph.stderr, ran_advise.stderr)
    assert ran_check.returncode in (0, 1), ran_check.stderr
    escaped = escaped_pids(pid_dir)
    assert len(escaped) >= 4  # graph, the simulation's scenarios, the observer, check's children
    assert not [pid for pid in escaped if pid_alive(pid)]  # and no_leftovers checks the rest


# --- the os module replaced --------------------------------------------------------------------

REPLACED_OS = '''
import os
def _nothing(*args, **kwargs):
    return None
for _name in ("write", "kill", "killpg", "_exit", "close", "unlink", "fork", "waitpid", "getpid", "open"):
    setattr(os, _name, _nothing)
import posix
for _name in ("write", "kill", "_exit", "waitpid"):
    setattr(posix, _name, _nothing)
import builtins
builtins.open = _nothing
'''


def test_an_entry_that_replaces_os_functions_is_still_reported(fake) -> None:
    fake.write(package(REPLACED_OS))
    ran = graph(fake)
    assert ran.returncode == 0, ran.stderr
    assert "colorsys" in graph_modules(ran.stdout)
    ran = advise(fake)
    assert ran.returncode == 0, ran.stderr
    assert any(row["text"] == "import colorsys" for row in advice(ran.stdout))
    # The observer wrote its result with the open it took first, not the entry's.
    assert one_json_document(ran.stdout)["notes"] == []
    ran = check(fake)
    assert ran.returncode in (0, 1), ran.stderr


# --- signals to the parent ---------------------------------------------------------------------


@pytest.mark.parametrize("signame", ["SIGTERM", "SIGINT", "SIGHUP"])
def test_a_package_that_signals_its_parent_does_not_reach_aoinspect(fake, signame: str) -> None:
    """The parent of every child is a keeper (or, for a forked scenario, the simulation's own
    process), which ignores the signal: aoinspect finishes its report (before, it ended 143)."""
    fake.write(package(f"import os, signal\nos.kill(os.getppid(), signal.{signame})"))
    for command in (["graph", "pkg"], ["advise", "pkg", "--budget", "0"], ["-p", "pkg", "check"]):
        completed = console_script(fake, *command, "--format", "json", timeout=60)
        assert completed.returncode in ((0, 1) if "check" in command else (0,)), (command, completed.stderr)
        document = one_json_document(completed.stdout)
        if command[0] == "graph":
            assert "colorsys" in {module["name"] for module in document["modules"]}
        assert_clean(completed)


def test_a_package_that_signals_its_parent_then_hangs_is_a_timed_out_child(fake) -> None:
    fake.write(package("import os, signal, time\nos.kill(os.getppid(), signal.SIGTERM)\ntime.sleep(1000)"))
    completed = console_script(fake, "graph", "pkg", "--format", "json", "--timeout", "1", timeout=60)
    assert completed.returncode == 124, completed.stderr
    completed = console_script(fake, "advise", "pkg", "--budget", "0", "--format", "json", "--timeout",
                               str(HANG_TIMEOUT), timeout=60)
    assert completed.returncode in (3, 4), completed.stderr
    assert_clean(completed)


# --- forged results: names are data -------------------------------------------------------------

# Finds the child's result file on its command line, writes what a genuine report would say
# there, then dies so that no genuine report follows.
FORGER = '''
import os, signal
_argv = open("/proc/self/cmdline", "rb").read().split(b"\\0")
_result = next((arg.decode() for arg in _argv if arg.endswith((b".jsonl", b"/result"))), None)
if _result is not None:
    with open(_result, "a") as _stream:
        if _result.endswith("/result"):
            _stream.write(repr({"effects": {"colorsys": [("atexit", "FORGED-EFFECT")]}, "error": None}))
        else:
            _line = {"section": "graph", "python": [3, 11, 0], "baseline": [], "requests": [],
                     "modules": [], "ending": "returned", "error": None, "elapsed_ns": 1}
            _stream.write(__import__("json").dumps(_line) + "\\n")
    os.kill(os.getpid(), signal.SIGKILL)
'''


def test_a_forged_result_is_not_believed(fake) -> None:
    fake.write(package(FORGER))
    ran = graph(fake)
    assert ran.returncode == 4, ran.stdout  # the forgery would have been a graph with no module
    assert_clean(ran)
    ran = advise(fake)
    assert b"FORGED-EFFECT" not in ran.stdout and b"FORGED-EFFECT" not in ran.stderr
    assert ran.returncode == 4, ran.stderr
    assert_clean(ran)


def test_a_forged_observation_alone_is_not_believed(fake) -> None:
    """Only the observer's child forges (the graph and the simulation are genuine): advise still
    reports, without the forged effect."""
    fake.write(package('import sys\nif any(arg.endswith("observe.py") for arg in open("/proc/self/cmdline").read()'
                       '.split("\\0")):\n' + "\n".join("    " + line for line in FORGER.splitlines())))
    ran = advise(fake)
    assert ran.returncode == 0, ran.stderr
    assert b"FORGED-EFFECT" not in ran.stdout
    assert_clean(ran)


def test_no_directory_is_left_when_the_children_fail(fake, no_leftovers: Path) -> None:
    fake.write(package("import ctypes\nctypes.string_at(0)"))
    for ran in (graph(fake), advise(fake), check(fake)):
        assert ran.returncode == 4
    assert not list(no_leftovers.iterdir())


def test_a_package_that_signals_its_parent_does_not_reach_check_predict(fake) -> None:
    """``check --predict``'s child runs under the keeper too: the signal a package sends its parent
    at import does not end aoinspect, and the names are still predicted."""
    names = [f"m{index}" for index in range(25)]
    files = {f"pkg/{name}.py": "VALUE = 1\n" for name in names}
    files["pkg/__init__.py"] = (
        "import os, signal\nos.kill(os.getppid(), signal.SIGTERM)\n"
        f"__all__ = {names!r}\n"
        "def __getattr__(name):\n"
        "    if name in __all__:\n"
        "        import importlib\n"
        "        return importlib.import_module('.' + name, __name__)\n"
        "    raise AttributeError(name)\n"
        "def __dir__():\n"
        "    return sorted(set(globals()) | set(__all__))\n"
    )
    fake.write(files)
    completed = console_script(fake, "-p", "pkg", "check", "--predict", "--format", "json", timeout=60)
    assert completed.returncode in (0, 1), completed.stderr
    document = one_json_document(completed.stdout)
    assert any(result.get("predicted") for result in document["results"])
    assert_clean(completed)
