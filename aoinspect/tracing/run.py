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
import shutil
import signal
import subprocess
import tempfile
import threading
from typing import TYPE_CHECKING, Any

from aoinspect.probing.runner import CHILD_DIR, read_sections
from aoinspect.probing.wire import parse_all
from aoinspect.tracing.report import build_report

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from aoinspect.models.trace import TraceOptions, TraceReport
    from aoinspect.tracing.program import Program

# Run as a script: its file name keeps its frame out of the warnings machinery's way (see it).
TRACE_ENTRY = os.path.join(CHILD_DIR, "trace_importlib_bootstrap.py")
IGNORED_SIGNALS = ("SIGINT", "SIGQUIT")
FORWARDED_SIGNALS = ("SIGTERM", "SIGHUP", "SIGUSR1", "SIGUSR2")


def trace_command(python: str, program: Program, result_path: str, projects: Sequence[str] = ()) -> list[str]:
    """The child's command line; ``projects``: more directories whose files are the program's own."""
    joined = os.pathsep.join(os.path.abspath(path) for path in projects)
    return [python, *program.interpreter_options, TRACE_ENTRY, result_path, joined, *program.argv]


def trace_program(
    python: str, program: Program, *, timeout: float | None = None, options: TraceOptions | None = None,
    distributions: bool = True, projects: Sequence[str] = (),
) -> TraceReport:
    """Run PROGRAM to its end (or ``timeout``) under the tracer and report what it loaded."""
    from aoinspect.probing import reaper

    workdir = tempfile.mkdtemp(prefix="aoinspect-trace-")
    # With a deadline, whatever the program started ends with it: as a child subreaper (Linux),
    # aoinspect gets back the processes the program orphans, setsid'd and double-forked ones too.
    since = reaper.boot_ticks()
    reaping = timeout is not None and reaper.acquire()
    try:
        result_path = os.path.join(workdir, "trace.jsonl")
        process = subprocess.Popen(trace_command(python, program, result_path, projects), close_fds=False)
        with _signals_for(process):
            try:
                returncode: int | None = process.wait(timeout)
            except subprocess.TimeoutExpired:
                _end_with_everything_it_started(process, since)
                returncode = None
        sections, problem = parse_all(read_sections(result_path))
    finally:
        if reaping:
            reaper.release()
        shutil.rmtree(workdir, ignore_errors=True)
    index = None
    if distributions:
        import sys

        from aoinspect.distributions import DistributionIndex

        index = DistributionIndex(None if python == sys.executable else python)
    return build_report(program, sections, returncode, timeout, options, index, problem)


def _end_with_everything_it_started(process: subprocess.Popen[bytes], since: int) -> None:
    """The program ran past --timeout: kill it and its descendants, then whatever it orphaned
    that came back to this process (``reaper``). A program that ends on its own keeps what it
    started running, as under plain ``python``."""
    from aoinspect.probing import reaper

    reaper.kill_tree(process.pid)
    process.wait()
    reaper.end_strays(since)


@contextlib.contextmanager
def _signals_for(process: subprocess.Popen[bytes]) -> Iterator[None]:
    """Leave SIGINT/SIGQUIT to the child, pass the others on; only the main thread can."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

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
