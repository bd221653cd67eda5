"""The ``aoinspect`` pytest fixture: import contracts in a test suite, measured as the CLI
measures them. Registered through the ``pytest11`` entry point; it does nothing until a test
asks for the fixture.

    def test_io_stays_light(aoinspect):
        result = aoinspect.resolve("mypkg", "io")
        assert "numpy" not in result.distributions
        assert "pandas" not in result.modules

A failing ``in``/``not in`` assertion on ``result.distributions`` or ``result.modules`` prints
the chain of importers that led to each offending module.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from aoinspect.models import CheckReport, ListReport, Resolution
    from aoinspect.probing.wire import ProbeSettings


class Inspector:
    """What the fixture hands a test: one method per command, returning the CLI's own result
    objects (see ``aoinspect.models``)."""

    def __init__(self, python: str | None = None, timeout: float = 60.0, jobs: int | None = None) -> None:
        self.python = python or sys.executable
        self.timeout = timeout
        self.jobs = jobs or os.cpu_count() or 1

    def _settings(self) -> ProbeSettings:
        from aoinspect.probing.wire import ProbeSettings

        return ProbeSettings(python=self.python, timeout=self.timeout, jobs=self.jobs)

    def resolve(self, package: str, name: str, *, repeat: int = 1) -> Resolution:
        """``PACKAGE.NAME`` accessed in a fresh interpreter (see ``aoinspect resolve``)."""
        from aoinspect import engine

        (result,) = engine.resolve_names(self._settings(), package, [name], repeat=repeat).results
        return result

    def list(self, package: str) -> ListReport:
        """The declared lazy names of ``package`` (see ``aoinspect list``)."""
        from aoinspect import engine

        return engine.list_names(self._settings(), package)

    def check(self, package: str, **options: Any) -> CheckReport:
        """``aoinspect check``; keyword arguments are the fields of ``CheckOptions``
        (``forbid=("numpy",)``, ``strict=True``, ...)."""
        from aoinspect import engine
        from aoinspect.models import Budget, CheckOptions

        for key in ("max_modules", "max_import_ms"):
            if key in options:
                options[key] = tuple(
                    budget if isinstance(budget, Budget) else Budget(float(budget[1]), budget[0])
                    if isinstance(budget, tuple) else Budget(float(budget))
                    for budget in options[key]
                )
        return engine.check_package(self._settings(), package, CheckOptions(**options))


# --- --aoinspect-trace: import time by test (aoinspect.tracing.pytest_trace) ----------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("aoinspect").addoption(
        "--aoinspect-trace", action="store_true", default=False,
        help="Attribute every module load to the test and phase (collection, setup, call, teardown) that "
             "began it, and list the tests that pulled in the most import time.",
    )


def pytest_configure(config: pytest.Config) -> None:
    # Under `aoinspect trace` the attribution costs nothing extra and lands in its report. Without
    # either, the trace machinery is not even imported: a plain pytest run pays nothing for it.
    if config.getoption("aoinspect_trace") or _tracer_running():
        from aoinspect.tracing.pytest_trace import TracePlugin

        config.pluginmanager.register(TracePlugin(summary=config.getoption("aoinspect_trace")), "aoinspect-trace")


def _tracer_running() -> bool:
    """Whether ``aoinspect trace``'s tracer is installed in this interpreter (the attribute
    ``aoinspect.tracing.pytest_trace.running_tracer`` reads), checked without importing it."""
    find_and_load = getattr(sys.modules["_frozen_importlib"], "_find_and_load", None)
    return getattr(find_and_load, "aoinspect_tracer", None) is not None


@pytest.fixture
def aoinspect() -> Inspector:
    """Measure what imports load, each access in a fresh interpreter."""
    return Inspector()


def pytest_assertrepr_compare(op: str, left: object, right: object) -> list[str] | None:
    from aoinspect.models import Distributions, ModuleNames, import_chain

    if op not in ("in", "not in") or not isinstance(left, str):
        return None
    if isinstance(right, Distributions):
        offending = right.modules_of(left)
        what = f"distribution {left!r}"
    elif isinstance(right, ModuleNames):
        offending = [load for load in right.loads if load.module == left or load.module.startswith(left + ".")]
        what = f"module {left!r}"
    else:
        return None
    loads = right.loads
    if op == "in":
        return [f"{what} was not loaded ({len(loads)} modules were)"]
    lines = [f"{what} was loaded: {len(offending)} module(s), by these chains of importers:"]
    lines.extend(f"  {' -> '.join(import_chain(loads, load.module))}" for load in offending[:10])
    if len(offending) > 10:
        lines.append(f"  ... and {len(offending) - 10} more")
    return lines

