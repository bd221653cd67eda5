"""A child started with ``os.posix_spawnp`` and waited for as ``subprocess.Popen`` waits for one:
both a fresh probe (``probing.runner.spawn_child``) and trace's program (``tracing.run``) start
this way, so that neither imports subprocess (and selectors, signal's enums) before its child
can begin. Only ``os`` and ``time`` are imported here."""

from __future__ import annotations

import os
import time

# Reset to their defaults in the child, as ``subprocess.Popen`` does (Python ignores SIGPIPE and
# SIGXFSZ in itself).
RESTORED_SIGNALS = ("SIGPIPE", "SIGXFZ", "SIGXFSZ")
# How often a wait with a deadline looks at the child: as ``subprocess.Popen.wait`` does, from
# the first of these, doubling, up to the second.
POLL_FIRST_SECONDS = 0.0005
POLL_MOST_SECONDS = 0.05


def restored_signals() -> list[int]:
    """The numbers of ``RESTORED_SIGNALS`` this platform has, for ``posix_spawnp``'s ``setsigdef``."""
    import _signal  # type: ignore[import-not-found]  # the built-in behind signal, without its enums

    return [getattr(_signal, name) for name in RESTORED_SIGNALS if hasattr(_signal, name)]


class Spawned:
    """A process started by ``os.posix_spawnp``, waited for as ``subprocess.Popen`` waits."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def wait(self, timeout: float | None = None) -> int | None:
        """Its exit status (negative: the signal that killed it), or None once ``timeout`` passed."""
        if timeout is None:
            return self._poll(0)
        deadline = time.monotonic() + timeout
        delay = POLL_FIRST_SECONDS
        while True:
            returncode = self._poll(os.WNOHANG)
            if returncode is not None:
                return returncode
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            delay = min(delay * 2, remaining, POLL_MOST_SECONDS)
            time.sleep(delay)

    def _poll(self, flags: int) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, flags)
            except ChildProcessError:
                # Someone else collected it (SIGCHLD ignored): dead, its status unknown, as Popen says.
                pid, status = self.pid, 0
            if pid == self.pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode
