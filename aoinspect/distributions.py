"""Attribute modules to the installed distributions that provide them.

Runs in the CLI process, after the probes, and only for outputs that show distributions:
reading every installed distribution's metadata is the slowest thing aoinspect does itself.
"""

from __future__ import annotations

import sys
import threading
from dataclasses import replace
from typing import Any, Iterable

from aoinspect.models import Distributions, DistributionShare, ModuleLoad

KIND_INSTALLED = "installed"
KIND_STDLIB = "stdlib"
KIND_LOCAL = "local"
STDLIB_NAME = "(stdlib)"
LOCAL_NAME = "(local)"


class DistributionIndex:
    """Top-level import names to the distributions that provide them, with versions.

    ``importlib_metadata.packages_distributions()`` would answer too, but it checks that every
    file of every installed distribution exists; reading each distribution's ``top_level.txt``
    (or the paths in its ``RECORD``) until every name asked about is found is many times faster.
    """

    def __init__(self, python: str | None = None) -> None:
        """``python``: ask that interpreter's environment instead of this one's."""
        self._python = python
        self._providers: dict[str, str | None] = {}
        self._versions: dict[str, str | None] = {}
        self._stdlib = frozenset(getattr(sys, "stdlib_module_names", ())) | frozenset(sys.builtin_module_names)
        self._everything: dict[str, Any] | None = None  # top-level name -> Distribution
        self._prefetch: threading.Thread | None = None

    def prefetch(self) -> DistributionIndex:
        """Read which distribution installs which top-level names, in a background thread, so
        that it overlaps with the probes; lookups wait for it."""
        self._prefetch = threading.Thread(target=self._read_everything, name="aoinspect-metadata", daemon=True)
        self._prefetch.start()
        return self

    def _read_everything(self) -> None:
        if self._python is not None:
            self._everything = _ask_interpreter(self._python)
            return
        import importlib_metadata

        everything: dict[str, Any] = {}
        for distribution in importlib_metadata.distributions():
            for top in _top_level_names(distribution):
                everything.setdefault(top, distribution)
        self._everything = everything

    def _find(self, tops: set[str]) -> None:
        wanted = {top for top in tops if top not in self._providers and top not in self._stdlib}
        if not wanted:
            return
        if self._prefetch is not None:
            self._prefetch.join()
        if self._everything is None:
            self._read_everything()
        assert self._everything is not None
        for top in wanted:
            distribution = self._everything.get(top)
            if distribution is None:
                self._providers[top] = None
                continue
            name, version = distribution if isinstance(distribution, tuple) else _name_and_version(distribution)
            self._versions.setdefault(name, version)
            self._providers[top] = name

    def provider(self, module: str) -> str | None:
        top = module.partition(".")[0]
        if self.is_stdlib(top):
            return None
        self._find({top})
        return self._providers.get(top)

    def is_stdlib(self, module: str) -> bool:
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
        loads = tuple(loads)
        self._find({load.module.partition(".")[0] for load in loads})
        return tuple(
            replace(load, distribution=self.provider(load.module), stdlib=self.is_stdlib(load.module))
            for load in loads
        )

    def summarize(self, loads: Iterable[ModuleLoad]) -> Distributions:
        """One share per distribution (and stdlib, and local), the most expensive first."""
        loads = tuple(loads)
        totals: dict[tuple[str, str], list[float]] = {}
        for load in loads:
            if load.stdlib:
                key = (KIND_STDLIB, STDLIB_NAME)
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
        return result


# Run by another interpreter (--python): its own distributions, with the standard library's
# importlib.metadata (3.8+), as JSON on stdout. Fixed code: nothing is interpolated into it.
_ASK_SCRIPT = """
import json, sys
from importlib import metadata
found = {}
for dist in metadata.distributions():
    text = dist.read_text("top_level.txt")
    if text:
        tops = [line.strip() for line in text.splitlines() if line.strip()]
    else:
        tops = set()
        for line in (dist.read_text("RECORD") or "").splitlines():
            first, _, rest = line.split(",", 1)[0].partition("/")
            if rest and not first.endswith((".dist-info", ".data")) and first not in ("..", "__pycache__"):
                tops.add(first)
            elif not rest and first.endswith(".py"):
                tops.add(first[:-3])
    for top in tops:
        found.setdefault(top, [dist.metadata["Name"], dist.version])
sys.stdout.write(json.dumps(found))
"""


def _ask_interpreter(python: str) -> dict[str, Any]:
    """Top-level names to (name, version), as the environment of ``python`` sees them."""
    import json
    import subprocess

    try:
        completed = subprocess.run([python, "-c", _ASK_SCRIPT], capture_output=True, timeout=60, check=True)
        answer = json.loads(completed.stdout)
    except (OSError, subprocess.SubprocessError, ValueError):
        return {}  # attribution is a courtesy: without it every module is "local"
    return {top: (str(pair[0]), pair[1]) for top, pair in answer.items()}


def _name_and_version(distribution: Any) -> tuple[str, str | None]:
    """``Name`` and ``Version`` from the metadata's first header lines; the full email parser
    that ``distribution.metadata`` uses costs more than everything else here."""
    found: dict[str, str] = {}
    for line in (distribution.read_text("METADATA") or distribution.read_text("PKG-INFO") or "").splitlines():
        if not line.strip():
            break  # the headers end at the first blank line
        key, _, value = line.partition(":")
        if key in ("Name", "Version") and key not in found:
            found[key] = value.strip()
    if "Name" not in found:
        return str(distribution.metadata["Name"]), distribution.version
    return found["Name"], found.get("Version")


def _top_level_names(distribution: Any) -> set[str]:
    """The import names a distribution installs, without touching the files themselves."""
    text = distribution.read_text("top_level.txt")
    if text:
        return {line.strip() for line in text.splitlines() if line.strip()}
    names = set()
    for line in (distribution.read_text("RECORD") or "").splitlines():
        path = line.split(",", 1)[0]
        first, _, rest = path.partition("/")
        if not rest:
            if first.endswith(".py"):
                names.add(first[:-3])
            elif first.endswith((".so", ".pyd")):
                names.add(first.partition(".")[0])
        elif not first.endswith((".dist-info", ".data")) and first not in ("..", "__pycache__"):
            names.add(first)
    return names
