"""Processes that leave their probe's process group: found and ended.

A package can start a process that calls ``setsid()`` or ``setpgrp()``, or double-forks into a
daemon; killing the probe's process group misses it. On Linux the process running aoinspect's
sessions becomes a *child subreaper* (``prctl(PR_SET_CHILD_SUBREAPER)``, called through
``ctypes`` here in the CLI process, never in a probe): every descendant orphaned by its parent
is then re-parented to it instead of to init, so once a batch of probes has ended, every child
of this process that aoinspect did not start itself is a leftover of a probe. Each such stray
is killed with everything below it and reaped.

Limits: without ``prctl`` (macOS, Windows, a sandbox that forbids it) escaped processes are
re-parented to init and only the process-group kill applies. In a process that also starts
children of its own (the pytest plugin), a child that another thread starts *while a session is
open*, without aoinspect, cannot be told apart from a stray; aoinspect only ever considers
children that started after the session opened.
"""

from __future__ import annotations

import _signal  # type: ignore[import-not-found]  # the built-in behind signal: its enums cost a start-up
import contextlib
import os
import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

PR_SET_CHILD_SUBREAPER = 36
PR_GET_CHILD_SUBREAPER = 37
# A stray that forks as fast as it is killed: give up after this many sweeps.
SWEEPS = 20

SIGKILL: int = _signal.SIGKILL

_lock = threading.Lock()
# Held while a child is started and registered, and while strays are looked for: a child being
# started by another thread is never mistaken for a stray.
_starting = threading.Lock()
_started: set[int] = set()  # children aoinspect started itself (every Popen goes through here)
_holders = 0  # open sessions that need this process to be a subreaper
_we_set_it = False


@contextlib.contextmanager
def starting() -> Iterator[None]:
    """Start a child and ``register`` it inside this block."""
    with _starting:
        yield


def register(pid: int) -> None:
    """``pid`` is a child aoinspect started: never a stray."""
    with _lock:
        _started.add(pid)


def unregister(pid: int) -> None:
    with _lock:
        _started.discard(pid)


def kill_started() -> None:
    """On the way out of the CLI: end every child aoinspect started that still runs, whichever
    thread started it (the distribution reader works in the background), group and all."""
    with _lock:
        started = list(_started)
    for pid in started:
        with contextlib.suppress(OSError):
            os.killpg(pid, SIGKILL)


def _prctl(option: int, value: int) -> int | None:
    """``prctl(option, value)``'s result, or None where it cannot be called."""
    if not os.path.exists("/proc/self/stat"):
        return None
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        if option == PR_GET_CHILD_SUBREAPER:
            answer = ctypes.c_int(0)
            if libc.prctl(option, ctypes.byref(answer), 0, 0, 0) != 0:
                return None
            return answer.value
        return int(libc.prctl(option, value, 0, 0, 0))
    except (OSError, AttributeError, ImportError):
        return None


def acquire() -> bool:
    """Make this process a subreaper while a session is open; True if it is one."""
    global _holders, _we_set_it
    with _lock:
        _holders += 1
        if _holders > 1:
            return _we_set_it or _prctl(PR_GET_CHILD_SUBREAPER, 0) == 1
        if _prctl(PR_GET_CHILD_SUBREAPER, 0) == 1:
            return True  # someone else made it one (a test harness, a container init)
        _we_set_it = _prctl(PR_SET_CHILD_SUBREAPER, 1) == 0
        return _we_set_it


def release() -> None:
    """The last open session is closing: stop being a subreaper if it was aoinspect's doing."""
    global _holders, _we_set_it
    with _lock:
        _holders = max(0, _holders - 1)
        if _holders == 0 and _we_set_it:
            _prctl(PR_SET_CHILD_SUBREAPER, 0)
            _we_set_it = False


def boot_ticks() -> int:
    """Now, in the clock ticks since boot that ``/proc/PID/stat`` counts start times in."""
    try:
        with open("/proc/uptime", "rb") as stream:
            uptime = float(stream.read().split()[0])
        return int(uptime * os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return 0


def has_children() -> bool:
    """Whether this process has any child at all, running or ended and not yet collected (any
    thread's: Linux lets every thread wait for the whole group's children, and an orphan handed
    to a subreaper becomes the group's). One ``waitid`` that collects nothing, against the
    hundred reads of ``/proc`` a ``process_table`` takes: with no child there is no descendant,
    hence no stray, and most sweeps end here (every probe collected, nothing escaped)."""
    waitid = getattr(os, "waitid", None)
    if waitid is None:  # pragma: no cover - platforms without waitid: assume there may be some
        return True
    try:
        waitid(os.P_ALL, 0, os.WEXITED | os.WSTOPPED | os.WCONTINUED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return False
    except OSError:
        return True
    return True


def process_table() -> dict[int, tuple[int, int, str]]:
    """Every visible process: pid -> (parent pid, start time in ticks, state letter)."""
    table: dict[int, tuple[int, int, str]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return table
    for entry in entries:
        if not entry.isdigit():
            continue
        # os.open and one read, not open(): a file object costs more than the kernel's answer,
        # and every session's end reads the whole table (a hundred processes: 5 ms -> 3 ms).
        try:
            descriptor = os.open(f"/proc/{entry}/stat", os.O_RDONLY)
        except OSError:
            continue
        try:
            data = os.read(descriptor, 4096)  # a few hundred bytes: pid, (comm, 64 at most), 50 numbers
        except OSError:
            continue
        finally:
            os.close(descriptor)
        # The command name is in parentheses and may hold anything: read after the last one.
        fields = data[data.rfind(b")") + 2:].split(None, 20)
        try:
            table[int(entry)] = (int(fields[1]), int(fields[19]), fields[0].decode("ascii", "replace"))
        except (IndexError, ValueError):
            continue
    return table


def descendants(pid: int, table: dict[int, tuple[int, int, str]] | None = None) -> list[int]:
    """Every process below ``pid``, parents before their children."""
    if table is None and pid == os.getpid() and not has_children():
        return []
    table = process_table() if table is None else table
    children: dict[int, list[int]] = {}
    for child, (parent, _start, _state) in table.items():
        children.setdefault(parent, []).append(child)
    found: list[int] = []
    queue = list(children.get(pid, ()))
    seen = set(queue)
    while queue:
        current = queue.pop(0)
        found.append(current)
        for child in children.get(current, ()):
            if child not in seen:
                seen.add(child)
                queue.append(child)
    return found


def kill_tree(pid: int, table: dict[int, tuple[int, int, str]] | None = None) -> list[int]:
    """SIGKILL ``pid`` and every process below it, whatever their process groups; their pids."""
    tree = [pid, *descendants(pid, table)]
    for member in tree:
        with contextlib.suppress(OSError):
            os.kill(member, SIGKILL)
    return tree


def end_strays(since: int) -> list[int]:
    """Kill and reap every child of this process that aoinspect did not start and that
    started at ``since`` (boot ticks) or later, with all of its descendants. Returns their pids."""
    me = os.getpid()
    ended: list[int] = []
    for _sweep in range(SWEEPS):
        with _starting:
            if not has_children():  # nothing can have been re-parented to this process
                break
            table = process_table()
            with _lock:
                ours = set(_started)
            strays = [pid for pid, (parent, start, _state) in table.items()
                      if parent == me and pid not in ours and start >= since]
            for stray in strays:
                ended.extend(kill_tree(stray, table))
        if not strays:
            break
        for stray in strays:
            _reap(stray)
        time.sleep(0.005)  # let the killed re-parent their children to us before the next sweep
    return ended


def _reap(pid: int) -> None:
    """Collect a killed child, waiting briefly: SIGKILL takes effect at once, but not instantly."""
    deadline = time.monotonic() + 1.0
    while True:
        try:
            done, _status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return
        if done or time.monotonic() > deadline:
            return
        time.sleep(0.001)
