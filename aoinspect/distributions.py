"""Attribute modules to the installed distributions that provide them.

Runs in the CLI process, after the probes, and only for outputs that show distributions:
reading every installed distribution's metadata is the slowest thing aoinspect does itself.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any, Iterable

from aoinspect.child import distributions as reader
from aoinspect.models import Distributions, DistributionShare, ModuleLoad

if TYPE_CHECKING:
    from aoinspect.probing.runner import Children

KIND_INSTALLED = "installed"
KIND_STDLIB = "stdlib"
KIND_LOCAL = "local"
KIND_GENERATED = "generated"
STDLIB_NAME = "(stdlib)"
LOCAL_NAME = "(local)"
GENERATED_NAME = "(generated)"
# Modules an interpreter or an extension makes at run time, from no file of the user's.
GENERATED = ("__main__", "__mp_main__", "cython_runtime")
GENERATED_PREFIXES = ("_cython_",)


def is_generated(module: str) -> bool:
    return module in GENERATED or module.startswith(GENERATED_PREFIXES)


# How long ``close`` waits for the stopped reader's thread to clean up after its child.
CLOSE_GRACE = 5.0


class DistributionIndex:
    """Top-level import names to the distributions that provide them, with versions.

    ``importlib_metadata.packages_distributions()`` would answer too, but it checks that every
    file of every installed distribution exists; reading each distribution's ``top_level.txt``
    (or the paths in its ``RECORD``) until every name asked about is found is many times faster.
    """

    def __init__(self, python: str | None = None, timeout: float = 60.0, cache_dir: str | None = None) -> None:
        """``python``: ask that interpreter's environment instead of this one's, within ``timeout``;
        ``cache_dir``: keep what was read there (``aoinspect.probing.cache``), for as long as the
        environment's directories are unchanged."""
        self._python = python
        self._timeout = timeout
        self._cache_dir = cache_dir
        self._providers: dict[str, str | None] = {}
        self._versions: dict[str, str | None] = {}
        # For another interpreter, replaced by its own list once it answers (modules come and go
        # between versions: asyncore left in 3.12, tomllib came in 3.11).
        self._stdlib = frozenset(reader.stdlib_names())
        self._everything: dict[str, Any] | None = None  # top-level name -> Distribution
        self._annotated: dict[int, tuple[tuple[ModuleLoad, ...], tuple[ModuleLoad, ...]]] = {}
        # What annotate made of each load (by identity, the load kept alive with it), and of each top-level name.
        self._annotated_loads: dict[int, tuple[ModuleLoad, ModuleLoad]] = {}
        self._by_top: dict[str, tuple[str | None, bool, bool, bool]] = {}
        self._summaries: dict[int, tuple[tuple[ModuleLoad, ...], Distributions]] = {}
        self._prefetch: threading.Thread | None = None
        # The other interpreter's reader, for ``close`` to end.
        self._children: Children | None = None
        if python is not None:
            from aoinspect.probing.runner import Children

            self._children = Children()

    def prefetch(self) -> DistributionIndex:
        """Read which distribution installs which top-level names, in a background thread, so
        that it overlaps with the probes; lookups wait for it."""
        self._prefetch = threading.Thread(target=self._read_everything, name="aoinspect-metadata", daemon=True)
        self._prefetch.start()
        return self

    def close(self) -> None:
        """Stop reading, whatever it has got to, so that nothing of it (a process, a temporary
        directory) outlives the command that started it, which may be ending with an error: end
        the other interpreter's reader, then give its thread a moment to remove its directory.
        Only a moment: a command ending on Ctrl-C may have been interrupted inside an import and
        left that module's import lock held, and a thread importing it would wait for ever. The
        in-process reader leaves nothing behind, and is not waited for at all."""
        if self._children is None:
            return
        self._children.stop()
        if self._prefetch is not None:
            self._prefetch.join(CLOSE_GRACE)

    def __enter__(self) -> DistributionIndex:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


    def _read_everything(self) -> None:
        if self._cache_dir is not None and self._python is None:
            from aoinspect.probing.cache import DistributionsCache

            cache = DistributionsCache(self._cache_dir)
            everything = cache.read()
            if everything is None:
                everything = self._read_uncached()
                cache.write({top: _pair(found) for top, found in everything.items()})
            self._everything = everything
            return
        self._everything = self._read_uncached()

    def _read_uncached(self) -> dict[str, Any]:
        if self._python is not None:
            answered, stdlib = _ask_interpreter(self._python, self._timeout, self._children)
            if stdlib:
                self._stdlib = stdlib
            return answered
        installed = _metadata_directories()
        if installed is None:
            import importlib_metadata

            installed = list(importlib_metadata.distributions())
        everything: dict[str, Any] = {}
        for distribution in installed:
            for top in reader.top_level_names(distribution):
                everything.setdefault(top, distribution)
        return everything

    def _read(self) -> dict[str, Any]:
        if self._prefetch is not None:
            self._prefetch.join()
        if self._everything is None:
            self._read_everything()
        assert self._everything is not None
        return self._everything

    def _find(self, tops: set[str]) -> None:
        if self._python is not None:
            self._read()  # its standard library, before anything is called stdlib
        wanted = {top for top in tops if top not in self._providers and top not in self._stdlib}
        if not wanted:
            return
        self._read()
        assert self._everything is not None
        for top in wanted:
            distribution = self._everything.get(top)
            if distribution is None:
                self._providers[top] = None
                continue
            name, version = distribution if isinstance(distribution, tuple) else reader.name_and_version(distribution)
            self._versions.setdefault(name, version)
            self._providers[top] = name

    def is_stdlib(self, module: str) -> bool:
        if self._python is not None:
            self._read()
        top = module.partition(".")[0]
        # The build's configuration module is named per platform, so the list cannot hold it.
        return top in self._stdlib or top.startswith("_sysconfigdata_")

    def version(self, distribution: str) -> str | None:
        if distribution not in self._versions:
            import importlib_metadata

            try:
                self._versions[distribution] = importlib_metadata.version(distribution)
            except importlib_metadata.PackageNotFoundError:
                self._versions[distribution] = None
        return self._versions[distribution]

    def annotate(self, loads: Iterable[ModuleLoad]) -> tuple[ModuleLoad, ...]:
        shared = loads if isinstance(loads, tuple) else None
        if shared is not None and id(shared) in self._annotated:
            # Names measured in one batch share their loads: annotate them once.
            original, annotated = self._annotated[id(shared)]
            if original is shared:
                return annotated
        loads = tuple(loads)
        # Each load once, by identity: predicted names share their loads (engine._predicted_resolution);
        # each is kept alive in done, so no id is reused.
        done = self._annotated_loads
        get = done.get
        by_top = self._by_top
        annotated_loads = []
        for load in loads:
            pair = get(id(load))
            if pair is None:
                top = load.module.partition(".")[0]
                found = by_top.get(top)
                if found is None:
                    self._find({top})
                    # Whether a module is generated is decided by its top-level name (is_generated).
                    stdlib = self.is_stdlib(top)
                    found = by_top[top] = (None if stdlib else self._providers.get(top), stdlib, is_generated(top),
                                           top.startswith(GENERATED_PREFIXES))
                # The child says which modules came from no file; one no distribution or the stdlib
                # claims is generated rather than local (torch's _remote_module_non_scriptable).
                generated = (found[2] if top == load.module else found[3]) or (
                    load.generated and found[0] is None and not found[1])
                if load.distribution == found[0] and load.stdlib == found[1] and load.generated == generated:
                    pair = (load, load)  # annotated already (read back from the cache)
                else:
                    pair = (load, ModuleLoad(
                        module=load.module, parent=load.parent, depth=load.depth, self_ms=load.self_ms,
                        cumulative_ms=load.cumulative_ms, min_self_ms=load.min_self_ms,
                        min_cumulative_ms=load.min_cumulative_ms, distribution=found[0], stdlib=found[1],
                        generated=generated,
                    ))
                done[id(load)] = pair
            annotated_loads.append(pair[1])
        annotated = tuple(annotated_loads)
        if shared is not None and len(shared) > 1:
            self._annotated[id(shared)] = (shared, annotated)
        return annotated

    def summarize(self, loads: Iterable[ModuleLoad]) -> Distributions:
        """One share per distribution (and stdlib, and local), the most expensive first."""
        shared = loads if type(loads) is tuple else None
        if shared is not None:
            # Predicted names share their loads (annotate's result for a shared tuple): once a tuple.
            known = self._summaries.get(id(shared))
            if known is not None and known[0] is shared:
                return known[1]
        loads = tuple(loads)
        totals: dict[tuple[str, str], list[float]] = {}
        for load in loads:
            if load.stdlib:
                key = (KIND_STDLIB, STDLIB_NAME)
            elif load.generated:
                key = (KIND_GENERATED, GENERATED_NAME)
            elif load.distribution:
                key = (KIND_INSTALLED, load.distribution)
            else:
                key = (KIND_LOCAL, LOCAL_NAME)
            count_and_time = totals.setdefault(key, [0, 0.0])
            count_and_time[0] += 1
            count_and_time[1] += load.self_ms
        shares = [
            DistributionShare(
                name=name,
                version=self.version(name) if kind == KIND_INSTALLED else None,
                kind=kind,
                modules=int(count),
                self_ms=round(self_ms, 4),
            )
            for (kind, name), (count, self_ms) in totals.items()
        ]
        shares.sort(key=lambda share: (-share.self_ms, share.name))
        result = Distributions(shares)
        result.loads = loads
        if shared is not None:
            self._summaries[id(shared)] = (shared, result)
        return result


class _MetadataDirectory:
    """An installed distribution's ``.dist-info`` (or ``.egg-info``) directory, read as
    importlib_metadata's ``PathDistribution`` reads it, without importing importlib_metadata
    (email, zipfile, pathlib: most of what a cold single resolve's own process spends)."""

    __slots__ = ("path",)

    def __init__(self, path: str) -> None:
        self.path = path

    def read_text(self, filename: str) -> str | None:
        try:
            with open(os.path.join(self.path, filename), encoding="utf-8") as stream:
                return stream.read()
        except (OSError, ValueError):
            return None

    def _full(self) -> Any:
        import pathlib

        import importlib_metadata

        return importlib_metadata.PathDistribution(pathlib.Path(self.path))

    @property
    def metadata(self) -> Any:
        return self._full().metadata

    @property
    def version(self) -> str | None:
        return self._full().version  # type: ignore[no-any-return]


def _metadata_directories() -> list[Any] | None:
    """The distributions ``importlib_metadata.distributions()`` finds, in its order (``sys.path``
    order; in a directory, the listing's, grouped by normalized name), when
    every one is a metadata directory in a plain directory on ``sys.path`` and no finder but the
    standard one supplies distributions; else None (a zip, an egg, an egg-info file, a finder of
    its own: importlib_metadata reads them)."""
    import importlib.machinery
    import re
    import sys

    standard = (importlib.machinery.PathFinder, sys.modules.get("importlib_metadata"))
    if any(hasattr(finder, "find_distributions") and finder is not standard[0]
           and not (standard[1] is not None and isinstance(finder, standard[1].MetadataPathFinder))
           for finder in sys.meta_path):
        return None
    found: list[Any] = []
    for entry in sys.path:
        directory = entry or "."
        try:
            children = os.listdir(directory)
        except (OSError, ValueError):
            if os.path.exists(directory):
                return None  # a zip on sys.path
            continue
        # As importlib_metadata's lookup: grouped by normalized name, in the listing's order.
        groups: dict[str, list[Any]] = {}
        for child in children:
            lowered = child.lower()
            if lowered.endswith((".dist-info", ".egg-info")):
                path = os.path.join(directory, child)
                if not os.path.isdir(path):
                    return None
                name = re.sub(r"[-_.]+", "_", lowered.rpartition(".")[0].partition("-")[0])
                groups.setdefault(name, []).append(_MetadataDirectory(path))
            elif lowered.endswith(".egg"):
                return None
        for group in groups.values():
            found.extend(group)
    return found


def _pair(found: Any) -> tuple[str, str | None]:
    return found if isinstance(found, tuple) else reader.name_and_version(found)


def _ask_interpreter(
    python: str, timeout: float = 60.0, children: Children | None = None,
) -> tuple[dict[str, Any], frozenset[str]]:
    """Top-level names to (name, version), as the environment of ``python`` sees them, and its
    standard library's names: it runs ``child/distributions.py`` through the probe's bootstrap, so nothing
    needs installing there.

    It runs as every probe does (its own process group, killed whole, within ``timeout``), from
    an empty directory of its own: as ``python -c`` it puts its working directory first on
    ``sys.path``, and a ``json.py`` there would otherwise be imported in place of the real one.
    ``children``: whoever may stop it early.
    Whatever it prints that is not the expected JSON object is ignored."""
    import json

    from aoinspect.probing.runner import BOOTSTRAP, make_workdir, remove_workdir, run_bounded

    nothing: tuple[dict[str, Any], frozenset[str]] = ({}, frozenset())
    workdir = make_workdir()
    try:
        returncode, output, timed_out = run_bounded([python, "-c", BOOTSTRAP, reader.__file__], timeout,
                                                    cwd=workdir, children=children)
        if timed_out or returncode != 0:
            return nothing
        answer = json.loads(output.decode("utf-8"))
    except (OSError, ValueError, RecursionError):
        return nothing  # attribution is a courtesy: without it every module is "local"
    finally:
        remove_workdir(workdir)
    if not isinstance(answer, dict) or not isinstance(answer.get("distributions"), dict):
        return nothing
    stdlib = answer.get("stdlib")
    tops = {
        top: (pair[0], pair[1])
        for top, pair in answer["distributions"].items()
        if isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)
        and (pair[1] is None or isinstance(pair[1], str))
    }
    names = frozenset(name for name in stdlib if isinstance(name, str)) if isinstance(stdlib, list) else frozenset()
    return tops, names
