"""Run PROGRAM in a child interpreter under the tracer, as ``python`` would run it, and read
what the tracer recorded.

Unlike a probe, the child owns the terminal: it inherits stdin, stdout, stderr, the working
directory, the environment and the process group, so Ctrl-C reaches it from the terminal as it
would reach ``python``. While it runs, aoinspect ignores SIGINT and SIGQUIT itself (the program
decides what they mean) and passes SIGTERM, SIGHUP, SIGUSR1 and SIGUSR2 on to it. The trace
travels apart from all that, in a result file in a private temporary directory.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from typing import TYPE_CHECKING, Any, Callable

from aoinspect.files import private_directory, remove_directory
from aoinspect.processes import Spawned, restored_signals

if TYPE_CHECKING:
    from collections.abc import Collection, Iterator, Sequence
    from typing import Protocol

    from aoinspect.models.trace import TracedLoad, TraceOptions, TraceReport
    from aoinspect.tracing.program import Program

    class _Process(Protocol):
        """The program's process, as ``TraceRun`` uses it."""

        pid: int

        @property
        def returncode(self) -> int | None:
            """The exit status once waited for, else None."""

        def wait(self, timeout: float | None = None) -> int | None:
            """The exit status (negative: the signal that killed it), or None once ``timeout`` passed."""


# Run as a script: its file name keeps its frame out of the warnings machinery's way (see it).
# Spelled out rather than taken from aoinspect.probing.runner: the child starts before anything
# heavier than this module is imported.
TRACE_ENTRY = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "child",
                           "trace_importlib_bootstrap.py")
IGNORED_SIGNALS = ("SIGINT", "SIGQUIT")
FORWARDED_SIGNALS = ("SIGTERM", "SIGHUP", "SIGUSR1", "SIGUSR2")


def trace_command(python: str, program: Program, result_path: str, projects: Sequence[str] = ()) -> list[str]:
    """The child's command line; ``projects``: more directories whose files are the program's own."""
    joined = os.pathsep.join(os.path.abspath(path) for path in projects)
    return [python, *program.interpreter_options, TRACE_ENTRY, result_path, joined, *program.argv]


def trace_program(
    python: str, program: Program, *, timeout: float | None = None, options: TraceOptions | None = None,
    distributions: bool = True, shown: Callable[[TraceReport], Collection[TracedLoad] | None] | None = None,
    projects: Sequence[str] = (),
) -> TraceReport:
    """Run PROGRAM to its end (or ``timeout``) under the tracer and report what it loaded
    (``TraceRun``, started and finished at once)."""
    return TraceRun(python, program, timeout, projects).report(options, distributions=distributions, shown=shown)


class TraceRun:
    """PROGRAM under the tracer, started by the constructor, so that whoever waits for it can
    import what it needs for the report while the program runs (the CLI's start overlaps the
    program's); ``report()`` waits for its end and reads the trace. Signals are the child's (see
    the module's docstring) from the start to the end of ``report()``."""

    def __init__(self, python: str, program: Program, timeout: float | None = None,
                 projects: Sequence[str] = ()) -> None:
        self.python = python
        self.program = program
        self.timeout = timeout
        self._workdir: str | None = private_directory("aoinspect-trace-")
        # With a deadline, whatever the program started ends with it: as a child subreaper (Linux),
        # aoinspect gets back the processes the program orphans, setsid'd and double-forked ones too.
        # Without one nothing is ended, and the reaper is not even imported.
        self._since = 0
        self._reaping = False
        if timeout is not None:
            from aoinspect.probing import reaper

            self._since = reaper.boot_ticks()
            self._reaping = reaper.acquire()
        self._deadline = None if timeout is None else time.monotonic() + timeout
        self._result_path = os.path.join(self._workdir, "trace.jsonl")
        self._signals = contextlib.ExitStack()
        try:
            self.process = _start(trace_command(python, program, self._result_path, projects))
            self._signals.enter_context(_signals_for(self.process))
        except BaseException:
            self._clean_up()
            raise

    def report(
        self, options: TraceOptions | None = None, *, distributions: bool = True,
        shown: Callable[[TraceReport], Collection[TracedLoad] | None] | None = None,
    ) -> TraceReport:
        """Wait for the program's end and build its report. ``distributions`` False: no load's
        distribution is looked up (a view that shows none); ``shown``: the loads whose source
        lines the view shows (None: all), so that only their files are read."""
        try:
            # While the program runs: the code that reads and reports its trace (read_sections'
            # own imports too, which it makes when called).
            import aoinspect.files  # noqa: F401
            from aoinspect.probing.fields import read_sections
            from aoinspect.probing.wire_trace import parse_trace_sections
            from aoinspect.tracing.report import build_report

            index = None
            if distributions:
                from aoinspect.distributions import DistributionIndex

                index = DistributionIndex(None if self.python == sys.executable else self.python)
            returncode = self._wait()
            sections, problem = parse_trace_sections(read_sections(self._result_path))
        finally:
            self._clean_up()
        return build_report(self.program, sections, returncode, self.timeout, options, index, problem, shown=shown)

    def __enter__(self) -> TraceRun:
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Whatever went wrong in aoinspect before ``report()``, the program still ends as
        under ``python`` (or at its deadline) and leaves nothing behind."""
        if self._workdir is not None:
            try:
                self._wait()
            finally:
                self._clean_up()

    def _wait(self) -> int | None:
        remaining = None if self._deadline is None else max(self._deadline - time.monotonic(), 0.0)
        returncode = self.process.wait(remaining)
        if returncode is None:
            _end_with_everything_it_started(self.process, self._since)
        return returncode

    def _clean_up(self) -> None:
        self._signals.close()
        if self._reaping:
            from aoinspect.probing import reaper

            self._reaping = False
            reaper.release()
        if self._workdir is not None:
            remove_directory(self._workdir)  # the tracer's result file, and what the program wrote there
            self._workdir = None


def _start(command: list[str]) -> _Process:
    """The program's process, inheriting everything from this one as ``subprocess.Popen(command,
    close_fds=False)`` would. Where ``os.posix_spawnp`` exists it starts it, so that the program
    starts without subprocess (and selectors, signal's enums) imported first: a few ms of every
    trace, before the program can begin."""
    if os.name != "posix" or not hasattr(os, "posix_spawnp"):
        return _Popen(command)
    return Spawned(os.posix_spawnp(command[0], command, os.environ, setsigdef=restored_signals()))


class _Popen:
    """``subprocess.Popen``, where ``os.posix_spawnp`` is missing, waited for as ``Spawned``."""

    def __init__(self, command: list[str]) -> None:
        import subprocess

        self._process = subprocess.Popen(command, close_fds=False)
        self.pid = self._process.pid

    @property
    def returncode(self) -> int | None:
        return self._process.returncode

    def wait(self, timeout: float | None = None) -> int | None:
        import subprocess

        try:
            return self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None


def _end_with_everything_it_started(process: _Process, since: int) -> None:
    """The program ran past --timeout: kill it and its descendants, then whatever it orphaned
    that came back to this process (``reaper``). A program that ends on its own keeps what it
    started running, as under plain ``python``."""
    from aoinspect.probing import reaper

    reaper.kill_tree(process.pid)
    process.wait()
    reaper.end_strays(since)


@contextlib.contextmanager
def _signals_for(process: _Process) -> Iterator[None]:
    """Leave SIGINT/SIGQUIT to the child, pass the others on; only the main thread can."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    import _signal as signal  # type: ignore[import-not-found]  # the built-in behind signal: its enums cost more

    def forward(number: int, _frame: object) -> None:
        if process.returncode is None:
            os.kill(process.pid, number)

    previous: dict[int, Any] = {}
    handlers = [(name, signal.SIG_IGN) for name in IGNORED_SIGNALS] + [(name, forward) for name in FORWARDED_SIGNALS]
    try:
        for name, handler in handlers:
            number = getattr(signal, name, None)
            if number is not None:
                previous[number] = signal.signal(number, handler)
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
