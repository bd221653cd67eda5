"""The CLI's two moments outside any command's engine call: a probe started early, before the
engine is imported, so that the child's start overlaps with the CLI's own; and, on the way out
of the process, every child ended and every directory of ours removed. Cheap to import:
everything it needs is imported when it is called."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

from aoinspect.probing.hooks import SessionHooks  # imports nothing itself

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from aoinspect.probing.cache import ReportMemo as ReportMemo


def start_early(
    python: str, package: str, mode: str, names: Sequence[str], *, cache_dir: str | None = None,
    no_cache: bool = False,
) -> SessionHooks | None:
    """Start the one probe a command is about to need (``mode`` is a request mode, e.g.
    ``"resolve"``), so that the child's start overlaps with the command's own imports; None
    when the cache (``cache_dir``, else the default one, unless ``no_cache``) already holds its
    result or the request is not well formed (the engine then reports it). The caller discards
    what no session claimed: hand the hooks returned to the engine, and ``close`` them at the end."""
    from aoinspect.child import protocol

    if mode not in protocol.REQUEST_MODES:
        raise ValueError(f"unknown probe mode {mode!r}")
    if not all(part.isidentifier() for name in (package, *names) for part in name.split(".")):
        return None
    fields = protocol.encode_request(mode, package, 0, tuple(names))
    started = None
    cache = None
    if not no_cache:
        from aoinspect.probing.cache import ProbeCache, find_cache_dir, start_boundary

        directory = os.path.realpath(cache_dir) if cache_dir else find_cache_dir(os.getcwd())
        cache = ProbeCache(directory, python, package)
        if cache.has(fields):
            return EarlyCache(cache)  # the session reads the result from this cache, read once
        started = start_boundary()  # files changed after this make the probe's result unfit to keep
    from aoinspect.probing.runner import EarlyProbe

    return EarlyProbe(python, fields, started, cache)


def report_memo(package: str, request: Mapping[str, Any], *, cache_dir: str | None = None) -> ReportMemo:
    """Where a command's whole report is kept for ``request`` (its settled options) in the cache
    ``cache_dir`` (else the default one), so that a warm run prints it before the engine is
    imported (``cache.ReportMemo``)."""
    from aoinspect.probing.cache import ReportMemo, find_cache_dir

    directory = os.path.realpath(cache_dir) if cache_dir else find_cache_dir(os.getcwd())
    return ReportMemo(directory, package, request)


class EarlyCache(SessionHooks):
    """The cache ``start_early`` read, handed to the session (``SessionHooks.early_cache``)."""

    def __init__(self, cache: object) -> None:
        self.cache = cache

    def early_cache(self) -> object:
        return self.cache


def end_everything() -> None:
    """The last line of defence on the way out of the CLI (a signal, an error): every child a
    probe started is killed and every directory of ours removed. Nothing to do, and nothing
    imported, when no probe ever started."""
    runner = sys.modules.get("aoinspect.probing.runner")
    if runner is None:
        return
    from aoinspect.probing import reaper

    reaper.kill_started()
    runner.remove_all_workdirs()
