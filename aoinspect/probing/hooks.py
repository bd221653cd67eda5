"""What a command may give the sessions the engine opens, besides their settings: an observer
of every probe planned and finished (a progress line), and a probe it started early
(``aoinspect.probing.lifecycle.start_early``).

Settings say how to measure and are plain data; these hooks are how a command watches and
helps, so that no UI object rides inside ``ProbeSettings``. This module imports nothing: the
CLI reaches it before the engine, and the runner and the sessions call it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence


class MeasuringRefused(Exception):
    """A probe would have started in a run that may only read the cache (``may_measure``)."""


class SessionHooks:
    """The default does nothing; a command overrides what it needs. Called from worker
    threads: implementations must be thread-safe."""

    def planned(self, count: int) -> None:
        """``count`` more probes will run (or come from the cache)."""

    def finished(self, count: int, label: str) -> None:
        """``count`` probes finished; ``label`` names the last one."""

    def claim(self, python: str, fields: Sequence[str]) -> Any:
        """A probe of exactly this interpreter and request, already started (a
        ``runner.StartedProbe``: typed loosely, as the runner imports this module), or None."""
        del python, fields
        return None

    def early_probe(self) -> Any:
        """The probe the command started before any session opened (a ``runner.EarlyProbe``:
        typed loosely, as the runner imports this module), or None. A session reads when it
        started: for the cache (files changed after it) and the stray sweep (what it orphaned)."""
        return None

    def early_cache(self) -> Any:
        """The ``ProbeCache`` the command opened before any session (``lifecycle.start_early``
        reads it to know whether to start its probe; typed loosely, as the cache imports more
        than this module may), or None: a session of the same directory, interpreter and package
        uses it rather than reading and verifying the file a second time."""
        return None

    def may_measure(self) -> bool:
        """Whether a session may start a probe; a pass that may only read the cache says no."""
        return True

    def cache_closed(self, cache: Any) -> None:
        """A session is over and ``cache`` (its ``ProbeCache``) says what it served, what it
        measured and what the results served depend on (a report memo keeps them)."""
        del cache

    def distributions(self, key: Any) -> Any:
        """The index of installed distributions (an ``aoinspect.distributions.DistributionIndex``,
        typed loosely) an earlier pass of this command read for ``key``, or None: the pass that
        keeps a warm report after a cold run annotates with the cold run's."""
        del key
        return None

    def keep_distributions(self, key: Any, index: Any) -> None:
        """``index`` was read for ``key``: a later pass of this command may use it (``distributions``)."""
        del key, index

    def close(self) -> None:
        """The command is over, however it ended: let go of whatever no session used."""


NO_HOOKS = SessionHooks()
