"""``pytest --aoinspect-trace``: every module load attributed to the test node and phase
(collection, setup, call, teardown) in which it began, and the tests that pulled in the most
import time in the terminal summary.

Under ``aoinspect trace -- -m pytest ...`` the tracer is already running in the interpreter: the
plugin only tells it which test and phase are under way, and the attribution lands in
aoinspect's report. Under a plain ``pytest`` it installs the tracer in-process and keeps the
records in memory.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

import pytest

from aoinspect.child import protocol

if TYPE_CHECKING:
    from collections.abc import Generator, Iterator

SUMMARY_TESTS = 10
NS_PER_MS = 1e6  # the tracer's records hold integer nanoseconds


def running_tracer() -> Any:
    """The tracer ``aoinspect trace`` installed in this interpreter, if any."""
    import sys

    return getattr(getattr(sys.modules["_frozen_importlib"], "_find_and_load", None), "aoinspect_tracer", None)


class TracePlugin:
    def __init__(self, summary: bool) -> None:
        self.summary = summary
        self.tracer = running_tracer()
        self.in_process = self.tracer is None
        if self.tracer is None:
            from aoinspect.child.tracer import Tracer

            self.tracer = Tracer(None)  # type: ignore[no-untyped-call]
            self.tracer.install()

    @contextlib.contextmanager
    def _phase(self, nodeid: str, phase: str) -> Iterator[None]:
        previous = self.tracer.context
        self.tracer.context = [nodeid, phase]
        try:
            yield
        finally:
            self.tracer.context = previous

    @pytest.hookimpl(hookwrapper=True)
    def pytest_make_collect_report(self, collector: pytest.Collector) -> Generator[None, None, None]:
        with self._phase(collector.nodeid, "collection"):
            yield

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> Generator[None, None, None]:
        with self._phase(item.nodeid, "setup"):
            yield

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, None, None]:
        with self._phase(item.nodeid, "call"):
            yield

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> Generator[None, None, None]:
        with self._phase(item.nodeid, "teardown"):
            yield

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.summary:
            return
        terminalreporter.write_sep("=", "aoinspect: import time by test")
        if not self.in_process:
            terminalreporter.write_line("the trace, with each load's test and phase, is in aoinspect trace's report")
            return
        self.tracer.flush()
        ranked = import_time_by_test(self.tracer.kept)
        if not ranked:
            terminalreporter.write_line("no test loaded a module")
        for nodeid, phases in ranked[:SUMMARY_TESTS]:
            detail = ", ".join(f"{phase} {ms:.1f} ms" for phase, ms in phases.items())
            terminalreporter.write_line(f"{sum(phases.values()):9.1f} ms  {nodeid} ({detail})")

    def pytest_unconfigure(self) -> None:
        if self.in_process:
            self.tracer.uninstall()


def import_time_by_test(records: list[list[Any]]) -> list[tuple[str, dict[str, float]]]:
    """Per test node, the import time of the loads that began in each of its phases, the
    costliest test first. A load counts once: where its outermost import in that phase began."""
    def context(record: list[Any]) -> Any:
        return record[protocol.TRACE_CONTEXT] if len(record) > protocol.TRACE_CONTEXT else None

    context_of = {record[protocol.TRACE_INDEX]: context(record) for record in records}
    totals: dict[str, dict[str, float]] = {}
    for record in records:
        began_in = context(record)
        end = record[protocol.TRACE_END_NS]
        if began_in is None or context_of.get(record[protocol.TRACE_PARENT]) == began_in or end is None:
            continue
        phases = totals.setdefault(began_in[0], {})
        phases[began_in[1]] = phases.get(began_in[1], 0.0) + (end - record[protocol.TRACE_START_NS]) / NS_PER_MS
    return sorted(totals.items(), key=lambda item: -sum(item[1].values()))
