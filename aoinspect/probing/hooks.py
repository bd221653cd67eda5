"""What a command may give the sessions the engine opens, besides their settings: an observer
of every probe planned and finished (a progress line), and a probe it started early.

Settings say how to measure and are plain data; these hooks are how a command watches and
helps, so that no UI object rides inside ``ProbeSettings``. This module imports nothing heavy:
the CLI reaches it before the engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from aoinspect.probing.runner import StartedProbe as StartedProbe  # what ``claim`` hands back


class SessionHooks:
    """The default does nothing; a command overrides what it needs. Called from worker
    threads: implementations must be thread-safe."""

    def planned(self, count: int) -> None:
        """``count`` more probes will run (or come from the cache)."""

    def finished(self, count: int, label: str) -> None:
        """``count`` probes finished; ``label`` names the last one."""

    def claim(self, python: str, fields: Sequence[str]) -> StartedProbe | None:
        """A probe of exactly this interpreter and request, already started, or None."""
        del python, fields
        return None

    def close(self) -> None:
        """The command is over, however it ended: let go of whatever no session used."""


NO_HOOKS = SessionHooks()


def start_early(
    python: str, package: str, mode: str, names: Sequence[str], *, cache_dir: str | None = None,
    no_cache: bool = False,
) -> SessionHooks | None:
    """Start the one probe a command is about to need (``mode`` is a request mode, e.g.
    ``"resolve"``), so that the child's start overlaps with the command's own imports; None
    when the cache (``cache_dir``, else the default one, unless ``no_cache``) already holds its
    result or the request is not well formed (the engine then reports it). The caller discards
    what no session claimed: hand the hooks returned to the engine, and ``close`` them at the end."""
    import os

    from aoinspect.child import protocol

    if mode not in protocol.REQUEST_MODES:
        raise ValueError(f"unknown probe mode {mode!r}")
    if not all(part.isidentifier() for name in (package, *names) for part in name.split(".")):
        return None
    fields = protocol.encode_request(mode, package, 0, tuple(names))
    if not no_cache:
        from aoinspect.cache import ProbeCache, find_cache_dir

        if ProbeCache(cache_dir or find_cache_dir(os.getcwd()), python, package).has(fields):
            return None
    from aoinspect.probing.runner import EarlyProbe

    return EarlyProbe(python, fields)


def end_everything() -> None:
    """The last line of defence on the way out of the CLI (a signal, an error): every child a
    probe started is killed and every directory of ours removed. Nothing to do, and nothing
    imported, when no probe ever started."""
    import sys

    runner = sys.modules.get("aoinspect.probing.runner")
    if runner is None:
        return
    from aoinspect.probing import reaper

    reaper.kill_started()
    runner.remove_all_workdirs()
