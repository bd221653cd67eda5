"""Start probes in fresh child interpreters, enforce timeouts, and collect what they report.

Every child runs in its own session (process group) with stdin closed and stdout/stderr sent
to a log file, so that whatever the inspected package prints, starts or leaves behind cannot
reach aoinspect's output or keep it waiting: the child is waited for by process id with a
deadline, then its whole process group is killed, whether it ended on its own or not.
"""

from __future__ import annotations

import contextlib
import os
import select
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping, Sequence, TypeVar

from aoinspect.child import protocol
from aoinspect.files import private_directory, remove_directory
from aoinspect.probing import reaper
from aoinspect.probing.fields import RESULT_LIMIT as RESULT_LIMIT
from aoinspect.probing.fields import read_result as read_result
from aoinspect.probing.fields import read_sections as read_sections
from aoinspect.probing.hooks import NO_HOOKS, SessionHooks
from aoinspect.probing.reaper import SIGKILL
from aoinspect.processes import Spawned, restored_signals

if TYPE_CHECKING:
    import subprocess

    from aoinspect.probing.wire import ProbeRequest, ProbeRun, ProbeSettings

CHILD_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "child")
MEASURE_FILE = os.path.join(CHILD_DIR, "measure.py")
# The child runs as ``python -c BOOTSTRAP MEASURE_FILE ...``: exactly a ``python -c`` (sys.path,
# sys.flags.safe_path and all), executing measure.py; names only ever travel in argv.
# The probe's bytecode comes from its __pycache__ when there is one (the import system's own
# loader, which is loaded at start-up and touches neither sys.path nor sys.modules): compiling
# measure.py costs a lone resolve about 20 ms. One line: the ``-c`` frame running ``exec`` is the
# frame a package's warnings are attributed to (``protocol.HIDDEN_FROM_WARNINGS``), at line 1
# as in ``python -c "import PACKAGE"``.
BOOTSTRAP = (
    'import sys; exec(sys.modules["_frozen_importlib_external"].SourceFileLoader("-", sys.argv[1]).get_code("-")'
    ' or compile(open(sys.argv[1], "rb").read(), sys.argv[1], "exec"))\n'
)


def probe_command(python: str, *arguments: str) -> list[str]:
    return [python, "-c", BOOTSTRAP, MEASURE_FILE, *arguments]


OLDEST_PYTHON = (3, 9)


def check_interpreter(python: str, timeout: float = 30.0) -> str | None:
    """What is wrong with ``python`` as an interpreter to probe with, or None. It runs before any
    session opens: whatever the interpreter (a wrapper script, anything on PATH) starts that
    leaves its process group is ended here, through the subreaper, as a probe's would be. The
    interpreter running aoinspect, named as it names itself (``sys.executable``), is the one a
    command without ``--python`` probes with unchecked: it is not started to be asked."""
    import sys

    if python == sys.executable:
        return None
    command = [python, "-c", "import sys; print('%d %d' % sys.version_info[:2])"]
    with reaping_strays():
        try:
            returncode, output, timed_out = run_bounded(command, timeout)
        except OSError as exc:
            return f"{python} cannot be run as a Python interpreter: {exc}."
    if timed_out:
        return f"{python} did not report its version within {timeout:g} s."
    try:
        version = tuple(int(part) for part in output.decode("ascii", errors="replace").split())
    except ValueError:
        version = ()
    if returncode != 0 or len(version) != 2:
        return f"{python} is not a Python interpreter (it did not report a version)."
    if version < OLDEST_PYTHON:
        return f"{python} is Python {version[0]}.{version[1]}; aoinspect probes need Python 3.9 or newer."
    return None


@contextlib.contextmanager
def reaping_strays() -> Iterator[int]:
    """Make this process a subreaper for the block; on the way out, end every child of this
    process that started inside it and that aoinspect did not start itself (an orphaned
    descendant of a child it did start). Yields the block's start in boot ticks."""
    since = reaper.boot_ticks()
    reaping = reaper.acquire()
    try:
        yield since
    finally:
        try:
            if reaping:
                reaper.end_strays(since)
        finally:
            reaper.release()


def run_logged(
    command: list[str], timeout: float, log_path: str, *, cwd: str | None = None,
    env: Mapping[str, str] | None = None, started: Callable[[int], None] | None = None,
) -> tuple[int | None, bool]:
    """Run a child that reports through its own result file (the graph's, the predicting one), as
    probes are run: its own process group, killed whole at the end with the strays it left, waited
    for ``timeout`` at most, stdout and stderr to ``log_path``. ``started`` gets its pid (its group's
    id), for a caller in another thread that may have to end it first. Returns (exit status or
    None, timed out); raises OSError if it cannot start."""
    with reaping_strays():
        with open(log_path, "wb") as log:
            process = start_child(command, stdout=log, stderr=log, cwd=cwd, env=dict(env) if env is not None else None)
        if started is not None:
            started(process.pid)
        try:
            return _wait(process, timeout)
        finally:
            kill_group(process.pid)
            process.wait()
            reaper.unregister(process.pid)


# What aoinspect reads of a child's answer on stdout (run_bounded); the rest is dropped.
ANSWER_LIMIT = 64 * 1024 * 1024


def run_bounded(
    command: list[str], timeout: float, cwd: str | None = None, children: Children | None = None,
) -> tuple[int | None, bytes, bool]:
    """Run a helper child (a version check, the distribution reader) as probes are run: its own
    process group, killed whole at the end, waited for ``timeout`` at most, stdout to a file
    (a grandchild holding a pipe open could not keep us waiting), at most ANSWER_LIMIT bytes
    read. Returns (exit status or None, stdout, timed out); raises OSError if it cannot start."""
    workdir = make_workdir()
    try:
        output_path = os.path.join(workdir, "stdout")
        with open(output_path, "wb") as output, open(os.devnull, "wb") as devnull:
            process = start_child(command, stdout=output, stderr=devnull, cwd=cwd)
        if children is not None:
            children.register(process.pid)
        try:
            returncode, timed_out = _wait(process, timeout)
        finally:
            kill_group(process.pid)
            process.wait()
            reaper.unregister(process.pid)
            if children is not None:
                children.unregister(process.pid)
        from aoinspect.files import UnreadableFile, read_regular_file

        try:
            answer = read_regular_file(output_path, ANSWER_LIMIT)
        except UnreadableFile:
            answer = b""
        return returncode, answer, timed_out
    finally:
        remove_workdir(workdir)


def start_child(command: list[str], **options: Any) -> subprocess.Popen[bytes]:
    """Popen ``command`` in a session of its own with stdin closed, registered as aoinspect's
    own child (``reaper``): every child aoinspect starts goes through here (or ``spawn_child``)."""
    import subprocess

    with reaper.starting():
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, start_new_session=True, **options)
        reaper.register(process.pid)
    return process


def spawn_child(command: list[str], output: int) -> Spawned | subprocess.Popen[bytes]:
    """``start_child(command, stdout=output, stderr=output)``, through ``os.posix_spawnp`` where
    it can do all Popen does here (a session of its own, stdin from /dev/null, the signals Python
    ignores restored, every other inherited descriptor closed), so that a lone probe starts
    without subprocess (and selectors, signal's enums) imported first: a fresh probe's child
    starts that much sooner, and a command that needs no other child never imports them."""
    spawn = getattr(os, "posix_spawnp", None)
    inherited = _inherited_descriptors() if spawn is not None and hasattr(os, "waitid") else None
    if spawn is None or inherited is None:
        return start_child(command, stdout=output, stderr=output)
    actions = [(os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0), (os.POSIX_SPAWN_DUP2, output, 1),
               (os.POSIX_SPAWN_DUP2, output, 2), *((os.POSIX_SPAWN_CLOSE, fd) for fd in inherited)]
    with reaper.starting():
        process = Spawned(spawn(command[0], command, os.environ, file_actions=actions, setsid=True,
                                setsigdef=restored_signals()))
        reaper.register(process.pid)
    return process


def _inherited_descriptors() -> list[int] | None:
    """The descriptors above 2 a child would inherit (Popen's close_fds closes them), or None
    where they cannot be listed."""
    try:
        listed = [int(name) for name in os.listdir("/proc/self/fd")]
    except (OSError, ValueError):
        return None
    inherited = []
    for fd in listed:
        try:
            if fd > 2 and os.get_inheritable(fd):
                inherited.append(fd)
        except OSError:  # the listing's own descriptor, closed by now
            continue
    return inherited


_workdirs: set[str] = set()
_workdirs_lock = threading.Lock()


def make_workdir(prefix: str = "aoinspect-") -> str:
    """A private temporary directory, remembered until ``remove_workdir``."""
    path = private_directory(prefix)
    with _workdirs_lock:
        _workdirs.add(path)
    return path


def remove_workdir(path: str) -> None:
    remove_directory(path)
    with _workdirs_lock:
        _workdirs.discard(path)


def remove_all_workdirs() -> None:
    """The last line of defence on the way out (a signal, an interpreter exit): no directory of
    ours is left behind, whatever was interrupted."""
    with _workdirs_lock:
        paths = list(_workdirs)
    for path in paths:
        remove_workdir(path)


OUTPUT_TAIL_BYTES = 4096
T = TypeVar("T")
R = TypeVar("R")


def write_token(result_path: str) -> str:
    """A fresh secret for the probe that will write ``result_path`` (``protocol.TOKEN_SUFFIX``)."""
    token = os.urandom(16).hex()  # secrets.token_hex(16), without importing hmac before the child starts
    descriptor = os.open(result_path + protocol.TOKEN_SUFFIX, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(descriptor, token.encode("ascii"))
    finally:
        os.close(descriptor)
    return token


def run_probe(
    settings: ProbeSettings, request: ProbeRequest, children: Children, hooks: SessionHooks = NO_HOOKS,
) -> ProbeRun:
    """Run one probe in a fresh interpreter and return what it reported: the one ``hooks``
    started early, when it is exactly this probe."""
    started = hooks.claim(settings.python, request.fields())
    return (started or StartedProbe(settings.python, request.fields())).finish(settings, request, children)


class StartedProbe:
    """One probe in a fresh interpreter, from its start; ``finish`` waits for it and reads it.
    Starting is apart so that the CLI can start a lone probe before it has imported the rest of
    itself (``EarlyProbe``)."""

    def __init__(self, python: str, fields: Sequence[str]) -> None:
        self.workdir = make_workdir()
        self.result_path = os.path.join(self.workdir, "result.jsonl")
        self.log_path = os.path.join(self.workdir, "output.log")
        try:
            self.token = write_token(self.result_path)
            with open(self.log_path, "wb") as log:
                self.process = spawn_child(probe_command(python, self.result_path, *fields), log.fileno())
        except BaseException:
            remove_workdir(self.workdir)
            raise

    def finish(self, settings: ProbeSettings, request: ProbeRequest, children: Children) -> ProbeRun:
        from aoinspect.probing.wire import make_run

        try:
            process = self.process
            deadline = request.deadline(settings)
            children.register(process.pid)
            try:
                returncode, timed_out = _wait(process, deadline)
            finally:
                kill_group(process.pid)
                process.wait()
                reaper.unregister(process.pid)
                children.unregister(process.pid)
            sections, problem = read_result(self.result_path)
            return make_run(request, sections, None if timed_out else returncode, timed_out, deadline,
                            tail(self.log_path), read_problem=problem, token=self.token)
        finally:
            remove_workdir(self.workdir)

    def discard(self) -> None:
        kill_group(self.process.pid)
        self.process.wait()
        reaper.unregister(self.process.pid)
        remove_workdir(self.workdir)


class EarlyProbe(SessionHooks):
    """A lone probe the CLI starts as soon as it has read its arguments, so that the child's
    start-up and import overlap with the CLI's own imports. The session that runs exactly this
    request claims it (the hooks' ``claim``); closing the hooks discards it if nothing did (a
    cached result, an error)."""

    def __init__(self, python: str, fields: Sequence[str], started_ns: int | None = None,
                 cache: object = None) -> None:
        self.key = (python, list(fields))
        self.cache = cache  # the ProbeCache start_early read, for the session to use (early_cache)
        self.started_ns = started_ns  # for the cache (``cache.start_boundary``), when it is on
        self._lock = threading.Lock()
        # This process is a subreaper from before the probe starts, not from when the session
        # opens: what the package's import starts and orphans in between comes back to it. The
        # session that claims the probe sweeps for strays from here on (``strays_since``).
        self.strays_since = reaper.boot_ticks()
        self._reaping: bool | None = reaper.acquire()  # None once released
        try:
            self._started: StartedProbe | None = StartedProbe(python, fields)
        except BaseException:
            self._release()
            raise

    def early_probe(self) -> EarlyProbe:
        return self

    def early_cache(self) -> object:
        return self.cache

    def claim(self, python: str, fields: Sequence[str]) -> StartedProbe | None:
        with self._lock:
            if self._started is None or self.key != (python, list(fields)):
                return None
            started, self._started = self._started, None
            return started

    def discard(self) -> None:
        """End the probe if no session claimed it, and what it left; stop being a subreaper."""
        with self._lock:
            started, self._started = self._started, None
        try:
            if started is not None:
                started.discard()
                if self._reaping:
                    reaper.end_strays(self.strays_since)
        finally:
            self._release()

    def _release(self) -> None:
        with self._lock:
            holding, self._reaping = self._reaping is not None, None
        if holding:
            reaper.release()

    close = discard


class Children:
    """The process groups one session started: it kills only these, and after ``stop`` it
    kills any it is handed from then on (a worker that was starting one as the session ended).
    Each session owns its own, so nothing carries over to the next session in the process."""

    def __init__(self) -> None:
        self._groups: set[int] = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    def register(self, group: int) -> None:
        with self._lock:
            self._groups.add(group)
        if self._stopping.is_set():
            kill_group(group)

    def unregister(self, group: int) -> None:
        with self._lock:
            self._groups.discard(group)

    def stop(self) -> None:
        """Kill every group still running, and any registered later."""
        self._stopping.set()
        with self._lock:
            groups = list(self._groups)
        for group in groups:
            kill_group(group)


def map_requests(jobs: int, function: Callable[[R], T], requests: Sequence[R], children: Children) -> list[T]:
    """``function`` over ``requests``, up to ``jobs`` at a time; results keep request order."""
    if len(requests) <= 1 or jobs <= 1:
        return [function(request) for request in requests]
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(max_workers=min(jobs, len(requests)))
    try:
        return list(pool.map(function, requests))
    except BaseException:
        # Ctrl-C, or a failure in one worker: start nothing more, and end what runs, so that
        # the workers (and the pool's shutdown) do not wait for children that hang.
        pool.shutdown(wait=False, cancel_futures=True)
        children.stop()
        raise
    finally:
        pool.shutdown(wait=True)


def _wait(process: Spawned | subprocess.Popen[bytes], timeout: float) -> tuple[int | None, bool]:
    """Wait for the child to end, without reaping it, so that its process-group id stays
    reserved until the group is killed. Returns (exit status, timed out)."""
    deadline = time.monotonic() + timeout
    waitid = getattr(os, "waitid", None)
    if waitid is None:  # pragma: no cover - platforms without waitid: Popen's own polling (spawn_child's)
        import subprocess

        try:
            return process.wait(timeout), False
        except subprocess.TimeoutExpired:
            return None, True
    # Readable once the child has ended: no polling delay between its end and ours.
    pidfd = _pidfd(process.pid)
    delay = 0.0005
    try:
        while True:
            info = waitid(os.P_PID, process.pid, os.WEXITED | os.WNOWAIT | os.WNOHANG)
            if info is not None and info.si_pid == process.pid:
                code = info.si_status
                return (code if info.si_code == os.CLD_EXITED else -code), False
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None, True
            if pidfd is not None:
                select.select([pidfd], [], [], remaining)
            else:
                time.sleep(min(delay, remaining))
                delay = min(delay * 2, 0.02)
    finally:
        if pidfd is not None:
            os.close(pidfd)


def _pidfd(pid: int) -> int | None:
    opener = getattr(os, "pidfd_open", None)
    if opener is None:
        return None
    try:
        return int(opener(pid))
    except OSError:  # an old kernel, or a sandbox that forbids it: poll instead
        return None


def kill_group(group: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, SIGKILL)


def tail(path: str) -> str:
    """The last OUTPUT_TAIL_BYTES of a child's output log (never blocking on what it became)."""
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return ""
    try:
        import stat

        size = os.fstat(descriptor)
        if not stat.S_ISREG(size.st_mode):
            return ""
        os.lseek(descriptor, max(0, size.st_size - OUTPUT_TAIL_BYTES), os.SEEK_SET)
        return os.read(descriptor, OUTPUT_TAIL_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return ""
    finally:
        os.close(descriptor)
