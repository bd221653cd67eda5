"""A probe session: every probe one command needs for one package, run either by spawning a
fresh interpreter per probe, or by a fork server that imports the package once and forks a
fresh copy of itself per probe.

Both give each probe exactly the state a fresh ``python -c "import PACKAGE"`` has; the fork
server only skips paying for the package's import again and again.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import select
import threading
import time
from typing import TYPE_CHECKING, NamedTuple

from aoinspect.child import protocol
from aoinspect.models import Isolation
from aoinspect.probing import ensure_std_fds, reaper, runner, wire
from aoinspect.probing.hooks import NO_HOOKS, MeasuringRefused
from aoinspect.probing.runner import Children
from aoinspect.probing.wire import ProbeRequest, ProbeRun, ProbeSettings
from aoinspect.records import replace

if TYPE_CHECKING:
    import subprocess
    from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence

    from aoinspect.probing.cache import ProbeCache
    from aoinspect.probing.hooks import SessionHooks

ISOLATION_FORK = "fork"  # fork server; names one module serves share a probe where that is exact
ISOLATION_FORK_EACH = "fork-each"  # fork server; every name in its own fresh fork
ISOLATION_SPAWN = "spawn"
FORKING = (ISOLATION_FORK, ISOLATION_FORK_EACH)
# Names per batch: a few batches per worker, so that both cores stay busy to the end.
BATCHES_PER_JOB = 3
BATCH_MIN, BATCH_MAX = 8, 256
# The grouping hint is only worth this long: a package whose lazy path hangs is measured ungrouped.
PLAN_TIMEOUT = 10.0
# How long a fork server may take to go away once told to; it has nothing left to do.
SHUTDOWN_GRACE = 5.0
# How long a healthy fork server takes, at most, to take a request and say it forked a probe
# for it (one fork, two status lines). A server silent for longer is taken for broken: the
# probe runs in a fresh interpreter instead, and so do all the session's later probes.
STARTED_DEADLINE = 2.0
# A probe started on a guess (``Session.prefetch``) runs this much nicer than aoinspect until a
# request takes it: where the cores are busy, the predicting child and the probes already asked
# for go first; where one is idle, the guess has it whole.
GUESS_NICENESS = 10
# The lanes guesses run on, one probe at a time each: a star import waiting for its names (and
# what its run leads to: the unpickle probe) on one, every other guess on the other, so that the
# chain star import -> unpickle does not wait behind the completion probe, nor it behind them;
# and a third for the guesses a stage makes once it starts (``Plan.guess``'s ``at``: the unpickle
# probe, from the predicting child's pickles), which wait behind neither.
LANE_OTHERS, LANE_STAR, LANE_STAGED = 0, 1, 2


class SpawnSession:
    """One fresh interpreter per probe."""

    def __init__(self, settings: ProbeSettings, children: Children, reason: str | None = None,
                 hooks: SessionHooks = NO_HOOKS) -> None:
        self.settings = settings
        self.hooks = hooks
        self.children = children
        self.isolation = Isolation(ISOLATION_SPAWN, reason)

    def run(self, requests: Sequence[ProbeRequest]) -> list[ProbeRun]:
        return run_fresh(self.settings, self.children, requests, self.hooks)

    def close(self) -> None:
        pass


class _Pending:
    """One request sent to the fork server, until its child ends."""

    __slots__ = ("abandoned", "done", "pid", "started", "status")

    def __init__(self, done: threading.Event, pid: int | None = None, status: int | None = None,
                 started: threading.Event | None = None, abandoned: bool = False) -> None:
        self.done = done
        self.pid = pid
        self.status = status
        self.started = started
        self.abandoned = abandoned  # run in a fresh interpreter instead: kill the forked copy if it shows up


class LateDeadline:
    """The deadline of a probe started before the request that gives it one (``Session.prefetch``):
    unknown (None) until a request adopts the probe, then that request's deadline, counted from
    then (what the probe did before, and any wait for its names, is the parent's delay, not the
    probe's); 0 ends it at once (nobody asked for it, or the session closes)."""

    __slots__ = ("niced", "pid", "seconds")  # niced: runs GUESS_NICENESS nicer; the probe's, once started; its deadline

    # How often a probe whose deadline is still unknown looks again; a probe runs this long anyway.
    POLL_S = 0.05

    def __init__(self) -> None:
        self.seconds: float | None = None
        self.pid: int | None = None
        self.niced = True

    def wait(self, done: threading.Event) -> tuple[bool, float]:
        """Wait for ``done`` until the deadline, once known: (timed out, the deadline). The
        deadline is looked at again while it runs: a session that closes ends the probe."""
        known_at: float | None = None  # when a request gave the deadline
        while True:
            seconds = self.seconds
            if seconds is not None:
                if known_at is None:
                    known_at = time.monotonic()
                left = known_at + seconds - time.monotonic() if seconds else 0.0
                if left <= 0:
                    return not done.is_set(), seconds
                if done.wait(min(left, self.POLL_S)):
                    return False, seconds
            elif done.wait(self.POLL_S):
                return False, 0.0


class ForkSession:
    """Talks to ``measure.py ... serve``: one line per request on a control pipe, ``started`` and
    ``ended`` lines back on a status pipe, results in a file per probe."""

    def __init__(self, settings: ProbeSettings, package: str, children: Children,
                 hooks: SessionHooks = NO_HOOKS) -> None:
        self.settings = settings
        self.hooks = hooks
        self.package = package
        self.children = children
        self.workdir = runner.make_workdir("aoinspect-server-")
        self.import_path = os.path.join(self.workdir, "import.jsonl")
        self.log_path = os.path.join(self.workdir, "output.log")
        self._ids = itertools.count()
        self._pending: dict[str, _Pending] = {}
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()  # one request line at a time, whole
        self._ready = threading.Event()
        self._said_ready = False  # a "ready" line came: not merely the status pipe's end
        self._closed = False
        self._control = self._status = -1
        self.process: subprocess.Popen[bytes] | None = None
        self.server_timed_out = True
        self.broken: str | None = None  # why the server stopped being used, once it did
        self.hints: Mapping[str, BatchHint] = {}  # ``Session.hint_batches``
        try:
            self._start_server()
        except BaseException:
            # An interrupt or a signal while starting: leave no server and no directory.
            self.close()
            raise

    def _start_server(self) -> None:
        settings = self.settings
        self.token = runner.write_token(self.import_path)
        control_read, self._control = os.pipe()
        self._status, status_write = os.pipe()
        try:
            with open(self.log_path, "wb") as log:
                self.process = runner.start_child(
                    runner.probe_command(settings.python, self.import_path, protocol.MODE_SERVE, self.package,
                                         str(control_read), str(status_write)),
                    stdout=log, stderr=log, pass_fds=(control_read, status_write),
                )
        finally:
            os.close(control_read)
            os.close(status_write)
        # Never block on a server that stopped reading: writes wait with a deadline instead.
        os.set_blocking(self._control, False)
        self.children.register(self.process.pid)
        threading.Thread(target=self._read_status, name="aoinspect-status", daemon=True).start()
        self.server_timed_out = not self._wait_ready(settings.timeout)
        sections, problem = runner.read_result(self.import_path)
        sections, forged = wire.genuine(sections, self.token)
        self.server_raw = tuple(sections)
        self.server_sections, self.server_protocol_error = wire.parse_all(sections)
        self.server_protocol_error = problem or forged or self.server_protocol_error
        server = next((item for item in self.server_sections if isinstance(item, wire.ServerSection)), None)
        self.imported = next((item for item in self.server_sections if isinstance(item, wire.ImportSection)), None)
        self.can_fork = bool(server and server.can_fork) and self.process.poll() is None
        self.batching = settings.isolation != ISOLATION_FORK_EACH
        self._forked = Isolation(
            ISOLATION_FORK if self.batching else ISOLATION_FORK_EACH,
            python_threads=server.python_threads if server else None,
            native_threads=server.native_threads if server else None,
        )

    @property
    def isolation(self) -> Isolation:
        if self.broken is not None:
            return Isolation(ISOLATION_SPAWN, f"the fork server stopped working ({self.broken}); "
                             "probes from then on ran in fresh interpreters",
                             self._forked.python_threads, self._forked.native_threads)
        return self._forked

    # --- the status pipe ---------------------------------------------------------------------

    def _read_status(self) -> None:
        buffered = b""
        while True:
            try:
                chunk = os.read(self._status, 4096)
            except OSError:
                chunk = b""
            if not chunk:
                break
            buffered += chunk
            while b"\n" in buffered:
                line, buffered = buffered.split(b"\n", 1)
                self._on_status(line.decode("ascii", errors="replace").split())
        self._ready.set()
        with self._lock:
            for pending in self._pending.values():
                # A request the server read but died before forking for is answered too: its
                # caller must not wait out STARTED_DEADLINE for a "started" that cannot come.
                if pending.started is not None:
                    pending.started.set()
                pending.done.set()

    def _on_status(self, words: list[str]) -> None:
        if words == ["ready"]:
            self._said_ready = True
            self._ready.set()
            return
        if len(words) != 3:
            return
        kind, request_id, value = words
        with self._lock:
            pending = self._pending.get(request_id)
        if pending is None:
            return
        if kind == "started":
            pending.pid = int(value)
            self.children.register(pending.pid)
            if pending.started is not None:
                pending.started.set()
            if pending.abandoned:
                runner.kill_group(pending.pid)
        elif kind == "failed":  # the server could not fork for it: run it elsewhere
            if pending.started is not None:
                pending.started.set()
            pending.done.set()
        elif kind == "ended":
            pending.status = int(value)
            if pending.pid is not None:
                self.children.unregister(pending.pid)
            pending.done.set()

    def _wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        assert self.process is not None
        while not self._ready.wait(0.05):
            if self.process.poll() is not None:
                return True  # ended early: it said what it could in its import file
            if time.monotonic() > deadline:
                return False
        return True

    # --- running probes ----------------------------------------------------------------------

    def run(self, requests: Sequence[ProbeRequest]) -> list[ProbeRun]:
        if not self.batching:
            return runner.map_requests(self.settings.jobs, self._run_counted, requests, self.children)
        units = _batch_units(requests, self.settings.jobs, self._first_imports, self.hints)
        return _Units(self, requests, units).run()

    def _first_imports(self, names: Sequence[str]) -> Mapping[str, str | None]:
        """Which module each name's access asks for first (``probe.plan_names``): names are
        grouped by it, so that a batch's names are neighbours. Only an order: every batched
        measurement proves itself, whatever this said."""
        if len(names) < 2:
            return {}
        request = ProbeRequest(protocol.MODE_PLAN, self.package, tuple(names))
        plan = self._run_one(request, min(self.settings.timeout, PLAN_TIMEOUT)).get(wire.PlanSection)
        return plan.first_import if plan is not None else {}

    def _run_batch(self, requests: Sequence[ProbeRequest]) -> tuple[list[ProbeRun], int]:
        """Single-name resolve requests, measured by one ``resolve-batch`` probe: it measures as
        many of them as it can show exact (``probe.resolve_batch``), from the first on; the runs
        of those, and how many they are. The rest go to the next probe, which starts from a
        fresh fork (``_Units``)."""
        if len(requests) == 1:
            return [self._run_counted(requests[0])], 1
        names = tuple(request.names[0] for request in requests)
        batch = self._run_one(ProbeRequest(protocol.MODE_RESOLVE_BATCH, self.package, names))
        if batch.protocol_error is not None:
            # Something else wrote to the result file: trust none of it, measure one by one.
            return [self._run_counted(request) for request in requests], len(requests)
        runs: list[ProbeRun] = []
        measured = [section for section in batch.sections if isinstance(section, wire.ResolveSection)]
        measured_raw = [line for line in batch.raw if line.get(protocol.SECTION_KEY) == protocol.SECTION_RESOLVE]
        count = 0
        for section, line, request in zip(measured, measured_raw, requests):
            if section.name != request.names[0]:
                break
            if count and section.batched_after == requests[0].names[0] and len(section.steps) == 1:
                # The child copied the first name's loads: share its records, not copies.
                section = replace(section, steps=(replace(section.steps[0],
                                                          materialized=measured[0].steps[0].materialized),),
                                  files=measured[0].files)
            done = {protocol.SECTION_KEY: protocol.SECTION_DONE}
            runs.append(replace(batch, request=request, sections=(*self.server_sections, section,
                                                                   wire.DoneSection()),
                                raw=(*self.server_raw, line, done)))
            count += 1
        if count == 0:
            # The first name is measured exactly as a resolve probe would: this is its run.
            runs.append(replace(batch, request=requests[0]))
            count = 1
        _advance(self.hooks, count, requests[count - 1])
        return runs, count

    def _run_counted(self, request: ProbeRequest) -> ProbeRun:
        run = self._run_one(request)
        _advance(self.hooks, 1, request)
        return run

    def _run_one(self, request: ProbeRequest, timeout: float | None = None,
                 late: LateDeadline | None = None) -> ProbeRun:
        """``late``: a prefetched probe's deadline (``Session.prefetch``), set once a request adopts
        it; such a probe is never run again in a fresh interpreter here, its adopter decides."""
        if self.broken is not None:
            if late is not None:
                return _not_run(request)
            return runner.run_probe(self.settings, request, self.children, self.hooks)
        request_id = str(next(self._ids))
        result_path = os.path.join(self.workdir, f"{request_id}.jsonl")
        token = runner.write_token(result_path)
        pending = _Pending(threading.Event(), started=threading.Event())
        with self._lock:
            self._pending[request_id] = pending
        # Hex fields: whatever a name or path holds, it cannot break the line protocol.
        fields = (request_id, result_path, *request.fields())
        line = "\t".join(field.encode("utf-8", "surrogatepass").hex() for field in fields) + "\n"
        answer_within = min(STARTED_DEADLINE, self.settings.timeout)
        answer_by = time.monotonic() + answer_within
        problem = self._send(line.encode("ascii"), answer_by)
        if problem is None:
            assert pending.started is not None
            if not pending.started.wait(max(0.0, answer_by - time.monotonic())) and not pending.done.is_set():
                problem = f"no answer to a request within {answer_within:g} s"
        if problem is not None:
            if late is not None:
                with self._lock:
                    self.broken = self.broken or problem
                    pending.abandoned = True
                if pending.pid is not None:
                    runner.kill_group(pending.pid)
                return _not_run(request)
            return self._instead(request, pending, problem)
        deadline = timeout or request.deadline(self.settings)
        if late is not None and pending.pid is not None:
            late.pid = pending.pid
            if late.niced:
                _set_niceness(pending.pid, _own_niceness() + GUESS_NICENESS)
                if not late.niced:  # promoted meanwhile (``Session.promote_guesses``)
                    _set_niceness(pending.pid, _own_niceness())
        if late is None:
            timed_out = not pending.done.wait(deadline)
        else:
            timed_out, deadline = late.wait(pending.done)
        if timed_out and pending.pid is not None:
            runner.kill_group(pending.pid)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pending.pid, reaper.SIGKILL)
            pending.done.wait(SHUTDOWN_GRACE)
        if pending.status is None and not timed_out:
            # The status pipe closed before the probe's end was reported: the server died.
            if late is not None:
                with self._lock:
                    self.broken = self.broken or "it ended while a probe ran"
                return _not_run(request)
            return self._instead(request, pending, "it ended while a probe ran")
        returncode = None if pending.status is None else os.waitstatus_to_exitcode(pending.status)
        sections, read_problem = runner.read_result(result_path)
        # What is wrong with the server's own lines (the import every probe shares) is wrong with all.
        run = wire.make_run(request, sections, returncode, timed_out, deadline,
                            runner.tail(self.log_path), shared=self.server_sections,
                            read_problem=read_problem or self.server_protocol_error, token=token,
                            shared_raw=self.server_raw)
        for leftover in (result_path, result_path + protocol.TOKEN_SUFFIX):
            with contextlib.suppress(OSError):
                os.remove(leftover)
        if late is not None and not timed_out and returncode is not None and returncode < 0 and not run.completed:
            return _not_run(request)  # its adopter runs it again, as below
        if not timed_out and returncode is not None and returncode < 0 and not run.completed:
            # Killed by a signal in a forked copy: measure again in a fresh interpreter before
            # calling it a failure (forking a process with native threads is not always safe).
            retried = runner.run_probe(self.settings, request, self.children, self.hooks)
            return replace(retried, retried_after=run.how_it_ended())
        return run

    def _send(self, data: bytes, deadline: float) -> str | None:
        """Write one request line whole, under a lock, so that lines longer than the pipe's
        buffer from several workers never interleave; None, or why the server is unusable."""
        with self._write_lock:
            if self.broken is not None:
                return self.broken
            view = memoryview(data)
            while view:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    # Half a line may be in the pipe: nothing more can be sent after it.
                    self.broken = "it stopped reading requests"
                    return self.broken
                try:
                    _readable, writable, _errors = select.select([], [self._control], [], remaining)
                    if writable:
                        view = view[os.write(self._control, view):]
                except BlockingIOError:
                    continue
                except OSError as exc:
                    self.broken = f"its request pipe failed: {exc.strerror or exc}"
                    return self.broken
        return None

    def _instead(self, request: ProbeRequest, pending: _Pending, problem: str) -> ProbeRun:
        """The server failed this request: stop using it, and run the request in a fresh
        interpreter, as spawn would have from the start."""
        with self._lock:
            self.broken = self.broken or problem
            pending.abandoned = True
            pid = pending.pid
        if pid is not None:
            runner.kill_group(pid)
        return runner.run_probe(self.settings, request, self.children, self.hooks)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        # Probes still running (an interrupt, an error in the CLI) would keep the server waiting.
        with self._lock:
            running = [p.pid for p in self._pending.values() if p.pid is not None and not p.done.is_set()]
        for pid in running:
            runner.kill_group(pid)
        if self._control >= 0:
            with contextlib.suppress(OSError):
                os.close(self._control)
        process = self.process
        if process is not None:
            if self._said_ready and not self.server_timed_out and self.broken is None:
                # Told to stop, a healthy server that is not stuck in the import ends at once.
                # One whose status pipe closed before it said ready (the package closed the
                # descriptor, or replaced the process with os.exec*) may still be running
                # anything: it is not waited for.
                import subprocess  # imported already: the server was started with it

                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(SHUTDOWN_GRACE)
            runner.kill_group(process.pid)
            process.wait()
            reaper.unregister(process.pid)
            self.children.unregister(process.pid)
        if self._status >= 0:
            with contextlib.suppress(OSError):
                os.close(self._status)
        runner.remove_workdir(self.workdir)


def _own_niceness() -> int:
    try:
        return os.getpriority(os.PRIO_PROCESS, 0)
    except (OSError, AttributeError):
        return 0


def _may_lower_niceness() -> bool:
    """Whether this process may set a probe's niceness back to its own after raising it: root
    (CAP_SYS_NICE, as near as can be told), or RLIMIT_NICE allows it."""
    try:
        if os.geteuid() == 0:
            return True
        import resource

        soft = resource.getrlimit(resource.RLIMIT_NICE)[0]
    except (OSError, AttributeError, ImportError, ValueError):
        return False
    return soft == resource.RLIM_INFINITY or 20 - soft <= _own_niceness()


def _set_niceness(pid: int, niceness: int) -> None:
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, pid, niceness)


def _later_key(request: ProbeRequest) -> tuple[str, ...]:
    """What a star import's probe whose names come later is known by until a request takes it."""
    return (protocol.NAMES_LATER, request.mode, request.package)


def _not_run(request: ProbeRequest) -> ProbeRun:
    """A prefetched probe that did not measure (the server failed it): its adopter runs it as usual."""
    return ProbeRun(request, (), None, False, 0.0, protocol_error=_NOT_RUN)


_NOT_RUN = "prefetched, not run"


def _without_raw(run: ProbeRun) -> ProbeRun:
    """The run without its raw lines, once the cache has them: a check of thousands of names
    would otherwise hold every result twice."""
    return replace(run, raw=()) if run.raw else run


def _advance(hooks: SessionHooks, count: int, request: ProbeRequest) -> None:
    hooks.finished(count, " ".join(request.names) or request.mode)


class BatchHint(NamedTuple):
    """What a name's access is expected to load (``Session.hint_batches``): names of one ``group``
    (the same predicted set) most likely measure in one batch probe; ``cost``, in any unit, orders
    the units, the costliest first. Only an order: every batched measurement proves itself."""

    group: Hashable
    cost: float


class _Units:
    """The units of work of one ``ForkSession.run``, on ``settings.jobs`` workers that share
    them: a worker takes the next unit, and what a batch probe leaves of its unit goes back to
    the front, halved while another worker waits for work, so that the names a batch cannot
    measure together (each then costs a fork of its own) do not queue behind one worker while
    the other has nothing left to do. Every batched measurement proves itself, so how units are
    cut changes how many forks run, never what is measured."""

    def __init__(self, session: ForkSession, requests: Sequence[ProbeRequest], units: list[list[int]]) -> None:
        self.session, self.requests = session, requests
        self.work = list(units)
        self.runs: dict[int, ProbeRun] = {}
        self.changed = threading.Condition()
        self.busy = self.waiting = 0
        self.failed = False

    def run(self) -> list[ProbeRun]:
        jobs = max(1, min(self.session.settings.jobs, len(self.requests)))
        runner.map_requests(jobs, self._work, range(jobs), self.session.children)
        return [self.runs[index] for index in range(len(self.requests)) if index in self.runs]

    def _take(self) -> list[int] | None:
        with self.changed:
            while not self.work and self.busy and not self.failed:
                self.waiting += 1
                self.changed.wait()
                self.waiting -= 1
            if not self.work or self.failed:
                return None
            self.busy += 1
            return self.work.pop(0)

    def _work(self, _worker: int) -> None:
        try:
            while (unit := self._take()) is not None:
                left: list[int] = []
                try:
                    runs, count = self.session._run_batch([self.requests[index] for index in unit])
                    self.runs.update(zip(unit, runs))
                    left = unit[count:]
                finally:
                    with self.changed:
                        self.busy -= 1
                        if len(left) > 1 and self.waiting:
                            middle = (len(left) + 1) // 2
                            self.work[:0] = [left[:middle], left[middle:]]
                        elif left:
                            self.work.insert(0, left)
                        self.changed.notify_all()
        except BaseException:
            with self.changed:
                self.failed = True
                self.changed.notify_all()
            raise


def _batch_units(
    requests: Sequence[ProbeRequest], jobs: int, first_imports: Callable[[Sequence[str]], Mapping[str, str | None]],
    hints: Mapping[str, BatchHint] | None = None,
) -> list[list[int]]:
    """Request indices in units of work: one-name resolves grouped by the module their access
    asks for first (``first_imports``), in runs of such groups; everything else alone. A name
    asked for twice (``--repeat``) is measured in its own probes. Where ``hints`` know every
    such name (``Session.hint_batches``), names are grouped by them instead, a unit a group,
    the costliest first, so that no long probe starts last while the other worker idles."""
    seen: dict[tuple[str, ...], int] = {}
    for request in requests:
        seen[request.names] = seen.get(request.names, 0) + (request.mode == protocol.MODE_RESOLVE)
    batchable = [
        index for index, request in enumerate(requests)
        if request.mode == protocol.MODE_RESOLVE and len(request.names) == 1 and "." not in request.names[0]
        and seen[request.names] == 1
    ]
    chosen = set(batchable)
    units = [[index] for index in range(len(requests)) if index not in chosen]
    if hints and batchable and all(requests[index].names[0] in hints for index in batchable):
        return units + _hinted_units(requests, batchable, jobs, hints)
    if len(batchable) <= jobs * 2:
        # Few names: running them side by side beats saving a fork or two.
        return units + [[index] for index in batchable]
    first = first_imports([requests[index].names[0] for index in batchable])
    groups: dict[object, list[int]] = {}
    for index in batchable:
        hint = first.get(requests[index].names[0])
        groups.setdefault(hint if hint is not None else ("alone", index), []).append(index)
    size = -(-len(batchable) // max(1, jobs * BATCHES_PER_JOB))
    size = max(BATCH_MIN, min(BATCH_MAX, size))
    unit: list[int] = []
    for group in groups.values():
        unit.extend(group)
        if len(unit) >= size:
            units.append(unit)
            unit = []
    if unit:
        units.append(unit)
    return units


def _hinted_units(requests: Sequence[ProbeRequest], batchable: Sequence[int], jobs: int,
                  hints: Mapping[str, BatchHint]) -> list[list[int]]:
    """``batchable``'s units by ``hints``: a unit a group (each name alone when they are few, as
    ``_batch_units`` does), the costliest first."""
    def hint(index: int) -> BatchHint:
        return hints[requests[index].names[0]]

    groups: dict[Hashable, list[int]] = {}
    for index in batchable:
        groups.setdefault(hint(index).group if len(batchable) > jobs * 2 else index, []).append(index)
    return sorted(groups.values(), key=lambda unit: -hint(unit[0]).cost)


def _server_outcome_runs(session: ForkSession, requests: Sequence[ProbeRequest]) -> list[ProbeRun]:
    """The server's import hung or failed: every probe's would too. Report that, at once."""
    return [
        ProbeRun(request, session.server_sections, None, session.server_timed_out, session.settings.timeout,
                 runner.tail(session.log_path), session.server_protocol_error)
        for request in requests
    ]


def run_fresh(
    settings: ProbeSettings, children: Children, requests: Sequence[ProbeRequest], hooks: SessionHooks = NO_HOOKS,
) -> list[ProbeRun]:
    """Each request in a fresh interpreter, up to ``settings.jobs`` at a time, in order."""
    def run_counted(request: ProbeRequest) -> ProbeRun:
        run = runner.run_probe(settings, request, children, hooks)
        _advance(hooks, 1, request)
        return run

    return runner.map_requests(settings.jobs, run_counted, requests, children)


class _Prefetched:
    """A request ``Session.prefetch`` guessed: queued, then running in the prefetch thread, then
    measured (``run``; None: it failed to be, and is run again when asked for)."""

    __slots__ = ("asked", "done", "lane", "late", "names", "request", "run", "started", "then")

    def __init__(self, request: ProbeRequest, then: Callable[[ProbeRun], Sequence[ProbeRequest]] | None,
                 names: NamesLater | None = None, lane: int = LANE_OTHERS) -> None:
        self.request = request
        self.then = then
        self.names = names  # where a star import's names go, once a request asks for them
        self.lane = lane  # the lane it runs on, and what its run leads to after it
        self.asked: ProbeRequest | None = None  # the request that took it
        self.late = LateDeadline()
        self.started = False
        self.done = threading.Event()
        self.run: ProbeRun | None = None


class NamesLater:
    """The FIFO a star import's probe started on a guess reads the names to pickle from
    (``protocol.NAMES_LATER``): held open here for reading and writing, so that neither side
    ever waits for the other to open it, and written from a thread of its own, so that a probe
    that stopped reading never holds up the parent."""

    def __init__(self, path: str) -> None:
        os.mkfifo(path, 0o600)
        self.path = path
        self.fd = os.open(path, os.O_RDWR | os.O_NONBLOCK)
        self._stop = threading.Event()
        self._writer: threading.Thread | None = None

    def send(self, names: Sequence[str]) -> None:
        data = "\n".join(names).encode("utf-8", "surrogatepass")
        self._writer = threading.Thread(target=self._write, args=(b"%d\n" % len(data) + data,),
                                        name="aoinspect-names", daemon=True)
        self._writer.start()

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view and not self._stop.is_set():
            try:
                _readable, writable, _errors = select.select([], [self.fd], [], LateDeadline.POLL_S)
                if writable:
                    view = view[os.write(self.fd, view):]
            except BlockingIOError:
                continue
            except OSError:
                return

    def close(self) -> None:
        self._stop.set()
        if self._writer is not None:
            self._writer.join()
        with contextlib.suppress(OSError):
            os.close(self.fd)


class Session:
    """The probes of one command, on one package, with the isolation that fits. It owns every
    child it starts (``children``) and ends them all when it closes."""

    def __init__(
        self, settings: ProbeSettings, package: str, probes: int | None = None, hooks: SessionHooks = NO_HOOKS,
    ) -> None:
        """``probes``: how many probes the command will run, when it knows."""
        ensure_std_fds()
        self.settings = settings
        self.hooks = hooks
        self.package = package
        self.children = Children()
        # Processes that escape a probe's process group are ended when probes have ended.
        self._strays_since = reaper.boot_ticks()
        early = hooks.early_probe()  # a lone probe the CLI started before this session
        if early is not None:
            self._strays_since = min(self._strays_since, early.strays_since)
        self._reaping = reaper.acquire()
        self._fork: ForkSession | None = None
        self._spawn: SpawnSession | None = None
        self._import_outcome_final = False
        # Requests guessed before they were asked for (``prefetch``), by their fields.
        self._prefetched: dict[tuple[str, ...], _Prefetched] = {}
        self._adopted: list[_Prefetched] = []  # those a request took (``_adopt``)
        self._prefetch_queues: tuple[list[_Prefetched], ...] = ([], [], [])  # by lane
        self._prefetch_lock = threading.Lock()
        self._prefetch_threads: list[threading.Thread | None] = [None, None, None]
        self._prefetch_closed = False
        self._prefetch_held = False  # inside ``guessing``: the guesses start once all are queued
        # Until ``promote_guesses``; only where the niceness can be given back (lowering it needs
        # privilege): a guess a stage takes must not run nicer than the probes beside it.
        self._guesses_niced = _may_lower_niceness()
        self.cache: ProbeCache | None = None
        if settings.cache_dir is not None:
            from aoinspect.probing.cache import ProbeCache

            opened = hooks.early_cache()  # read by the CLI's start_early already: not read twice
            if isinstance(opened, ProbeCache) and (opened.directory, opened.python, opened.package) == (
                    settings.cache_dir, settings.python, package):
                self.cache = opened
            else:
                self.cache = ProbeCache(settings.cache_dir, settings.python, package, runner.run_bounded)
            if early is not None and early.started_ns is not None:
                self.cache.mark_started(early.started_ns)
        if settings.isolation == ISOLATION_SPAWN:
            self._spawn = SpawnSession(settings, self.children, "asked for with --isolation spawn", hooks)
        elif not hasattr(os, "fork"):
            self._spawn = SpawnSession(settings, self.children, "this platform cannot fork", hooks)
        elif probes == 1 and settings.isolation not in FORKING:
            self._spawn = SpawnSession(settings, self.children, "a single probe: a fork server would only add a step",
                                       hooks)

    def _mark_start(self) -> None:
        """A probe is about to start: files changed from now on may be read changed (the cache)."""
        if not self.hooks.may_measure():
            raise MeasuringRefused(self.package)
        if self.cache is not None and self.cache.started_ns is None:
            self.cache.mark_started()

    def _start(self) -> None:
        if self._fork is not None or self._spawn is not None:
            return
        self._mark_start()
        fork = ForkSession(self.settings, self.package, self.children, self.hooks)
        if fork.can_fork:
            self._fork = fork
            return
        fork.close()
        imported_ok = fork.imported is not None and fork.imported.ok
        if (fork.server_timed_out and not imported_ok) or (fork.imported is not None and not fork.imported.ok):
            self._fork, self._import_outcome_final = fork, True
            return
        threads = fork.isolation.python_threads
        if threads is not None and threads > 1:
            reason = f"importing {self.package} left {threads - 1} Python thread(s) running; forking them is unsafe"
        elif fork.server_timed_out:
            reason = "the fork server imported the package but never said it was ready"
        else:
            reason = "the fork server could not start"
        self._spawn = SpawnSession(self.settings, self.children, reason, self.hooks)

    @property
    def isolation(self) -> Isolation:
        """How the probes were isolated, and why the cache could not serve them all (if so)."""
        cache_miss = self.cache.miss if self.cache is not None else None
        if self._fork is None and self._spawn is None and self.cache is not None and self.cache.hits:
            mode = self.settings.isolation if self.settings.isolation in (*FORKING, ISOLATION_SPAWN) else ISOLATION_FORK
            return Isolation(mode, "every result came from the cache", cache_miss=cache_miss)
        self._start()
        if self._spawn is not None:
            isolation = self._spawn.isolation
        else:
            assert self._fork is not None
            isolation = self._fork.isolation
        return replace(isolation, cache_miss=cache_miss) if cache_miss is not None else isolation

    def run(self, requests: Sequence[ProbeRequest]) -> list[ProbeRun]:
        self.hooks.planned(len(requests))
        if self.cache is None:
            return [_without_raw(run) for run in self._run_or_adopt(requests)]
        # A request asked for more than once (--repeat) is measured every time.
        asked: dict[tuple[str, ...], int] = {}
        for request in requests:
            asked[tuple(request.fields())] = asked.get(tuple(request.fields()), 0) + 1
        runs: list[ProbeRun | None] = [
            self.cache.get(request, self.settings.timeout) if asked[tuple(request.fields())] == 1 else None
            for request in requests
        ]
        missing = [index for index, run in enumerate(runs) if run is None]
        self.hooks.finished(len(requests) - len(missing), "(cached)")
        if missing:
            measured = self._run_or_adopt([requests[index] for index in missing])
            self.cache.put([run for run in measured if asked[tuple(run.request.fields())] == 1])
            for index, run in zip(missing, measured):
                runs[index] = _without_raw(run)
        return [run for run in runs if run is not None]

    def _run_or_adopt(self, requests: Sequence[ProbeRequest]) -> list[ProbeRun]:
        """The runs of ``requests``: a prefetched probe measured each one ``prefetch`` guessed
        (it gets the request's deadline, from when it is taken), the others are run now, beside it."""
        adopted = self._adopt(requests)
        if not adopted:
            return self._run(requests)
        rest = [index for index in range(len(requests)) if index not in adopted]
        runs: list[ProbeRun | None] = [None] * len(requests)
        for index, run in zip(rest, self._run([requests[index] for index in rest]) if rest else []):
            runs[index] = run
        for index, prefetched in adopted.items():
            prefetched.done.wait()
            request = requests[index]
            measured = prefetched.run
            if measured is None or measured.protocol_error == _NOT_RUN:
                (measured,) = self._run([request])
            else:
                measured = replace(measured, request=request, timeout=request.deadline(self.settings))
                _advance(self.hooks, 1, request)
            runs[index] = measured
        return [run for run in runs if run is not None]

    def _adopt(self, requests: Sequence[ProbeRequest]) -> dict[int, _Prefetched]:
        """The prefetched probes that measure ``requests`` (by index), each given its request's
        deadline; a guessed request not started yet is taken off the queue: it runs as usual.
        A guess stands for the one request of its mode that a stage asks for: one of a mode asked
        for here that none of ``requests`` matches guessed wrong, and is ended."""
        if not self._prefetched:
            return {}
        adopted = {}
        with self._prefetch_lock:
            for index, request in enumerate(requests):
                prefetched = self._prefetched.pop(tuple(request.fields()), None)
                if prefetched is None and request.mode == protocol.MODE_STAR and request.names:
                    # A star import started before its names were known: they go to it now.
                    prefetched = self._prefetched.pop(_later_key(request), None)
                if prefetched is None:
                    continue
                if not prefetched.started:
                    self._unqueue(prefetched)
                    continue
                prefetched.asked = request
                prefetched.late.seconds = request.deadline(self.settings)
                self._adopted.append(prefetched)
                self._promote(prefetched)
                if prefetched.names is not None:
                    prefetched.names.send(request.names)
                adopted[index] = prefetched
            modes = {request.mode for request in requests}
            for fields, wrong in list(self._prefetched.items()):
                if wrong.request.mode in modes:
                    del self._prefetched[fields]
                    if wrong.started:
                        wrong.late.seconds = 0.0
                    else:
                        self._unqueue(wrong)
        return adopted

    def _unqueue(self, prefetched: _Prefetched) -> None:
        """Take a guess that has not started off its lane (under ``_prefetch_lock``)."""
        self._prefetch_queues[prefetched.lane].remove(prefetched)
        if prefetched.names is not None:
            prefetched.names.close()

    def prefetch(self, requests: Sequence[ProbeRequest],
                 then: Callable[[ProbeRun], Sequence[ProbeRequest]] | None = None, *, own_lane: bool = False) -> None:
        """Start ``requests`` now, one at a time in a thread of their own beside whatever else
        runs, on the guess that a later ``run`` asks for exactly them (the same fields): that
        ``run`` takes the measurement rather than making it again. Each is a fresh fork of the
        same server, so it measures what the later probe would have; its deadline is the asking
        request's, counted from when it is taken. ``then(run)``: more guesses (with no ``then`` of
        their own), from what one of ``requests`` measured. Guesses nobody asks for are ended
        when the session closes. Only with a working fork server and more than one job (guesses
        run on lanes, ``LANE_STAR`` and ``LANE_OTHERS``, one probe at a time each, niced until
        ``promote_guesses``; ``own_lane``: on ``LANE_STAGED``, a guess a stage makes), and never
        for a request the cache holds."""
        if self._prefetch_closed or self.settings.jobs < 2 or not self.hooks.may_measure():
            return
        self._mark_start()
        self._start()
        fork = self._fork
        if fork is None or self._import_outcome_final or fork.broken is not None:
            return
        self._queue_prefetch(requests, then, LANE_STAGED if own_lane else LANE_OTHERS)

    def hint_batches(self, hints: Mapping[str, BatchHint]) -> None:
        """How the names the next ``run`` measures are expected to batch (``BatchHint``), where
        the caller knows better than the fork server's ``plan`` probe (a prediction)."""
        if self._fork is not None:
            self._fork.hints = hints

    def promote_guesses(self) -> None:
        """What the guesses stood aside for (``GUESS_NICENESS``) is over (the plan's first stage
        ran, and with it the predicting child): from now on every guess, running or to come,
        has this process's own niceness, as the probes asked for beside it."""
        with self._prefetch_lock:
            self._guesses_niced = False
            for prefetched in self._prefetched.values():
                self._promote(prefetched)

    def _promote(self, prefetched: _Prefetched) -> None:
        late = prefetched.late
        if late.niced:
            late.niced = False
            if late.pid is not None and not prefetched.done.is_set():  # not a pid the system gave again
                # Back to this process's own, where allowed: lowering it needs privilege.
                _set_niceness(late.pid, _own_niceness())

    def _queue_prefetch(self, requests: Sequence[ProbeRequest],
                        then: Callable[[ProbeRun], Sequence[ProbeRequest]] | None, lane: int = LANE_OTHERS) -> None:
        with self._prefetch_lock:
            if self._prefetch_closed:
                return
            for request in requests:
                names = None
                # The star import (now; its names to pickle once asked for, which it waits for)
                # on a lane of its own, where it holds up no other guess.
                on = LANE_STAR if request.mode == protocol.MODE_STAR else lane
                if request.names == (protocol.NAMES_LATER,):
                    fields = _later_key(request)
                    if fields in self._prefetched:
                        continue
                    assert self._fork is not None
                    names = NamesLater(os.path.join(self._fork.workdir, f"names-{len(self._prefetched)}"))
                    request = replace(request, names=(protocol.NAMES_LATER + names.path,))
                else:
                    fields = tuple(request.fields())
                    if fields in self._prefetched or (self.cache is not None and self.cache.has(fields)):
                        continue
                prefetched = _Prefetched(request, then, names, on)
                prefetched.late.niced = self._guesses_niced
                self._prefetched[fields] = prefetched
                self._prefetch_queues[on].append(prefetched)
            self._start_prefetched()

    def _start_prefetched(self) -> None:
        if self._prefetch_held:
            return
        for lane, queue in enumerate(self._prefetch_queues):
            thread = self._prefetch_threads[lane]
            if queue and (thread is None or not thread.is_alive()):
                thread = threading.Thread(target=self._run_prefetched, args=(lane,),
                                          name="aoinspect-prefetch", daemon=True)
                self._prefetch_threads[lane] = thread
                thread.start()

    @contextlib.contextmanager
    def guessing(self) -> Iterator[None]:
        """Guesses made inside (``prefetch``) start once all are queued, so that a star import
        waiting for its names (queued last) holds up none of them."""
        self._prefetch_held = True
        try:
            yield
        finally:
            with self._prefetch_lock:
                self._prefetch_held = False
                if not self._prefetch_closed:
                    self._start_prefetched()

    def _run_prefetched(self, lane: int) -> None:
        fork = self._fork
        assert fork is not None
        queue = self._prefetch_queues[lane]
        while True:
            with self._prefetch_lock:
                if not queue or self._prefetch_closed:
                    return
                prefetched = queue.pop(0)
                prefetched.started = True
            try:
                measured = fork._run_one(prefetched.request, late=prefetched.late)
                if prefetched.asked is not None:
                    measured = replace(measured, request=prefetched.asked)
                prefetched.run = measured
            except BaseException:  # noqa: BLE001 - its adopter runs it again, and says what fails
                prefetched.run = None
            finally:
                if prefetched.names is not None:
                    prefetched.names.close()
                try:
                    # The guesses this run leads to are queued before its adopter hears of it: the
                    # stage that asks for them may come next, and would find none to take.
                    run = prefetched.run
                    if prefetched.then is not None and run is not None and run.completed:
                        try:
                            more = prefetched.then(run)
                        except BaseException:  # noqa: BLE001 - a guess, nothing more: the plan asks as usual
                            more = ()
                        self._queue_prefetch(more, None, lane)
                finally:
                    prefetched.done.set()

    def _end_prefetch(self) -> None:
        """End the guesses nobody asked for: queued ones are dropped, a running one is killed."""
        with self._prefetch_lock:
            self._prefetch_closed = True
            for queue in self._prefetch_queues:
                for prefetched in queue:
                    if prefetched.names is not None:
                        prefetched.names.close()
                queue.clear()
            for prefetched in (*self._prefetched.values(), *self._adopted):
                prefetched.late.seconds = 0.0  # an interrupt: a probe a stage took ends too
            self._prefetched.clear()
        for thread in self._prefetch_threads:
            if thread is not None:
                thread.join(SHUTDOWN_GRACE)

    def _run(self, requests: Sequence[ProbeRequest]) -> list[ProbeRun]:
        self._mark_start()
        self._start()
        try:
            if self._import_outcome_final:
                assert self._fork is not None
                return _server_outcome_runs(self._fork, requests)
            if self._spawn is not None:
                return self._spawn.run(requests)
            assert self._fork is not None
            return self._fork.run(requests)
        finally:
            self._end_strays()

    def run_fresh(self, requests: Sequence[ProbeRequest]) -> list[ProbeRun]:
        """Run in fresh interpreters whatever the isolation: repeated measurements of the import."""
        try:
            return run_fresh(self.settings, self.children, requests, self.hooks)
        finally:
            self._end_strays()

    def _end_strays(self) -> None:
        """No probe of this session runs now: whatever a probe left outside its process group
        (re-parented to this process, a subreaper) goes too."""
        if self._reaping:
            reaper.end_strays(self._strays_since)

    def close(self) -> None:
        try:
            self._end_prefetch()
            if self.cache is not None:
                self.cache.flush()
                self.hooks.cache_closed(self.cache)
            for session in (self._fork, self._spawn):
                if session is not None:
                    session.close()
        finally:
            self.children.stop()
            self._end_strays()
            if self._reaping:
                self._reaping = False
                reaper.release()


@contextlib.contextmanager
def open_session(
    settings: ProbeSettings, package: str, probes: int | None = None, hooks: SessionHooks | None = None,
) -> Iterator[Session]:
    session = Session(settings, package, probes, hooks or NO_HOOKS)
    try:
        yield session
    finally:
        session.close()

