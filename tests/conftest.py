"""Fixtures: fake packages written under tmp_path and handed to children through PYTHONPATH."""

from __future__ import annotations

import json
import os
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from aoinspect.cli import cli

pytest_plugins = ["pytester"]


@dataclass
class FakePackages:
    root: Path

    def write(self, files: dict[str, str]) -> Path:
        """Write ``{"pkg/__init__.py": source, ...}`` below the root (sources are dedented)."""
        for relative, source in files.items():
            path = self.root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(source), encoding="utf-8")
        return self.root

    @property
    def env(self) -> dict[str, str]:
        existing = os.environ.get("PYTHONPATH")
        return {"PYTHONPATH": str(self.root) + (os.pathsep + existing if existing else "")}


@pytest.fixture(autouse=True)
def _no_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test measures afresh and leaves no .aoinspect_cache behind; the cache's own tests
    turn it on."""
    monkeypatch.setenv("AOINSPECT_NO_CACHE", "1")


@pytest.fixture
def fake(tmp_path: Path) -> FakePackages:
    root = tmp_path / "site"
    root.mkdir()
    return FakePackages(root)


@pytest.fixture
def invoke(fake: FakePackages):  # type: ignore[no-untyped-def]
    """Run the CLI in-process; children see the fake packages through PYTHONPATH."""

    def run(*args: str) -> Result:
        runner = CliRunner()
        return runner.invoke(cli, list(args), env=fake.env, catch_exceptions=False)

    return run


def document(result: Result) -> dict[str, Any]:
    """The one JSON document a ``--format json`` run printed on stdout."""
    value = json.loads(result.stdout)
    assert isinstance(value, dict)
    return value


LAZY_INIT = textwrap.dedent('''
    from typing import TYPE_CHECKING

    if TYPE_CHECKING:
        from {pkg} import alpha as alpha, beta as beta

    __all__ = ["alpha", "beta"]


    def __getattr__(name):
        if name in __all__:
            import importlib

            return importlib.import_module("." + name, __name__)
        raise AttributeError(f"module {{__name__!r}} has no attribute {{name!r}}")


    def __dir__():
        return sorted(list(globals()) + __all__)
''')


def lazy_package(
    pkg: str, alpha: str = "VALUE = 1\n", beta: str = "VALUE = 2\n", init: str | None = None
) -> dict[str, str]:
    """A well-behaved lazy package with two names; override a part to break it."""
    return {
        f"{pkg}/__init__.py": init if init is not None else LAZY_INIT.format(pkg=pkg),
        f"{pkg}/alpha.py": alpha,
        f"{pkg}/beta.py": beta,
    }
