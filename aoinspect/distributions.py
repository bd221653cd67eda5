"""Attribute modules to the installed distributions that provide them.

Runs in the CLI process, after the probes, and only for outputs that show distributions:
reading every installed distribution's metadata is the slowest thing aoinspect does itself.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from typing import TYPE_CHECKING, Iterable

from aoinspect.models import DistributionShare, ModuleLoad

if TYPE_CHECKING:
    from collections.abc import Mapping

KIND_INSTALLED = "installed"
KIND_STDLIB = "stdlib"
KIND_LOCAL = "local"
STDLIB_NAME = "(stdlib)"
LOCAL_NAME = "(local)"


class DistributionIndex:
    """Top-level import names to distribution names and versions, read once on first use."""

    def __init__(self) -> None:
        self._providers: Mapping[str, list[str]] | None = None
        self._versions: dict[str, str | None] = {}
        self._stdlib = frozenset(getattr(sys, "stdlib_module_names", ())) | frozenset(sys.builtin_module_names)

    def _provider_map(self) -> Mapping[str, list[str]]:
        if self._providers is None:
            import importlib_metadata

            self._providers = importlib_metadata.packages_distributions()
        return self._providers

    def provider(self, module: str) -> str | None:
        top = module.partition(".")[0]
        if top in self._stdlib:
            return None
        names = self._provider_map().get(top)
        return sorted(names)[0] if names else None

    def is_stdlib(self, module: str) -> bool:
        return module.partition(".")[0] in self._stdlib

    def version(self, distribution: str) -> str | None:
        if distribution not in self._versions:
            import importlib_metadata

            try:
                self._versions[distribution] = importlib_metadata.version(distribution)
            except importlib_metadata.PackageNotFoundError:
                self._versions[distribution] = None
        return self._versions[distribution]

    def annotate(self, loads: Iterable[ModuleLoad]) -> tuple[ModuleLoad, ...]:
        return tuple(
            replace(load, distribution=self.provider(load.module), stdlib=self.is_stdlib(load.module))
            for load in loads
        )

    def summarize(self, loads: Iterable[ModuleLoad]) -> tuple[DistributionShare, ...]:
        """One share per distribution (and stdlib, and local), the most expensive first."""
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
        return tuple(shares)
