"""A progress line on stderr for commands that run many probes: how many are done, the name
being measured and an estimate of the time left. Drawn only on a terminal; the CLI decides."""

from __future__ import annotations

import threading
import time
from typing import TextIO

from aoinspect.probing.hooks import SessionHooks

# Fewer probes than this finish before a bar would tell anyone anything.
MINIMUM_PROBES = 5
REDRAW_SECONDS = 0.1
BAR_WIDTH = 24


class Progress(SessionHooks):
    """Counts probes as sessions plan and finish them (the hooks a command hands the engine);
    thread-safe (probes finish in workers)."""

    def __init__(self, stream: TextIO, width: int = 100, minimum: int = MINIMUM_PROBES) -> None:
        self.stream = stream
        self.width = width
        self.minimum = minimum
        self.total = 0
        self.done = 0
        self.started = time.monotonic()
        self._drawn = 0.0
        self._shown = False
        self._lock = threading.Lock()

    def planned(self, count: int) -> None:
        """``count`` more probes will run."""
        with self._lock:
            self.total += count

    def finished(self, count: int, label: str) -> None:
        """``count`` probes finished; ``label`` names the last one."""
        with self._lock:
            self.done += count
            now = time.monotonic()
            if self.total < self.minimum or (now - self._drawn < REDRAW_SECONDS and self.done < self.total):
                return
            self._drawn = now
            self._draw(self.line(label, now))

    def line(self, label: str, now: float) -> str:
        done, total = min(self.done, self.total), max(self.total, 1)
        filled = BAR_WIDTH * done // total
        elapsed = now - self.started
        eta = f"{_duration(elapsed * (total - done) / done)} left" if done else ""
        text = f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{total} {eta} {label}"
        return text[: self.width - 1]

    def _draw(self, text: str) -> None:
        self.stream.write("\r" + text.ljust(self.width - 1))
        self.stream.flush()
        self._shown = True

    def close(self) -> None:
        """Clear the line, so that the report starts on a clean terminal."""
        with self._lock:
            if self._shown:
                self.stream.write("\r" + " " * (self.width - 1) + "\r")
                self.stream.flush()
                self._shown = False


def _duration(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"
