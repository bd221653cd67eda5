"""Where the test suite's CPU goes: per test file, the CPU of the test process, of the children it
collected (every interpreter a test starts, with whatever those started and collected in turn)
and how many processes each kind of child accounts for.

The suite is CPU-bound on two cores, and most of its CPU is spent in child interpreters; this is
the measurement that says which files and which kinds of children to cut first.

    AOINSPECT_SUITE_CPU=/tmp/suite-cpu pytest -p benchmarks.suite_cpu     # records, one file a worker
    python benchmarks/suite_cpu.py /tmp/suite-cpu                         # the table

A child is counted where the test process starts it (``subprocess``, ``os.posix_spawn``,
``os.exec*``: an audit hook), and named by what it runs (``measure.py serve``, ``graph.py``, the
console script...); the forks a fork server makes and the children of a console-script run are
not counted, but their CPU is in "child" once they are collected. Only the time a test itself
runs is counted (setup, call and teardown), not the workers' start and collection.
"""

from __future__ import annotations

import collections
import json
import os
import resource
import sys
import time
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

OUTPUT = "AOINSPECT_SUITE_CPU"
# What a child runs -> its kind; the first that matches names it.
KINDS = (
    ("measure.py", "probe"), ("graph.py", "graph"), ("defer.py", "defer"), ("observe.py", "observe"),
    ("predict.py", "predict"), ("trace_importlib_bootstrap.py", "tracer"), ("tracer.py", "tracer"),
    ("distributions.py", "distributions"), ("effects.py", "effects"), ("bin/aoinspect", "console script"),
    ("-m aoinspect", "console script"), ("-mpytest", "pytest"), ("-m pytest", "pytest"),
    ("sys.version_info[:2]", "version check"), ("_before = set(sys.modules)", "line-deletion oracle"),
)
_started: collections.Counter[str] = collections.Counter()


def kind(argv: list[str]) -> str:
    line = " ".join(str(word) for word in argv)
    for marker, name in KINDS:
        if marker in line:
            if name == "probe":
                return "probe serve" if " serve " in line + " " else "probe"
            return name
    return "other interpreter" if "python" in os.path.basename(str(argv[0])) else "other program"


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event == "subprocess.Popen":
        _started[kind(list(args[1]) if isinstance(args[1], (list, tuple)) else [str(args[1])])] += 1
    elif event in ("os.posix_spawn", "os.exec"):
        _started[kind(list(args[1]))] += 1


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get(OUTPUT):
        sys.addaudithook(_audit)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    directory = os.environ.get(OUTPUT)
    if not directory:
        yield
        return
    _started.clear()
    wall, own, children = time.monotonic(), _cpu(resource.RUSAGE_SELF), _cpu(resource.RUSAGE_CHILDREN)
    yield
    record = {"test": item.nodeid, "wall": time.monotonic() - wall, "self": _cpu(resource.RUSAGE_SELF) - own,
              "child": _cpu(resource.RUSAGE_CHILDREN) - children, "started": dict(_started)}
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, f"tests-{os.getpid()}.jsonl"), "a", encoding="utf-8") as stream:
        stream.write(json.dumps(record) + "\n")


def summary(directory: str) -> str:
    records = []
    for name in sorted(os.listdir(directory)):
        if name.startswith("tests-") and name.endswith(".jsonl"):
            with open(os.path.join(directory, name), encoding="utf-8") as stream:
                records.extend(json.loads(line) for line in stream if line.strip())
    files: dict[str, list[float]] = collections.defaultdict(lambda: [0, 0.0, 0.0, 0])
    kinds: collections.Counter[str] = collections.Counter()
    for record in records:
        row = files[record["test"].split("::")[0]]
        row[0] += 1
        row[1] += record["self"]
        row[2] += record["child"]
        row[3] += sum(record["started"].values())
        kinds.update(record["started"])
    own, child = sum(row[1] for row in files.values()), sum(row[2] for row in files.values())
    lines = [f"{len(records)} tests: {own:.1f} s CPU in the test processes, {child:.1f} s in their children, "
             f"{sum(kinds.values())} children started",
             "children started, by kind: " + ", ".join(f"{name} {count}" for name, count in kinds.most_common()),
             "", f"{'file':<40} {'tests':>5} {'self s':>7} {'child s':>7} {'started':>7}"]
    for name, (tests, mine, theirs, started) in sorted(files.items(), key=lambda item: -(item[1][1] + item[1][2])):
        lines.append(f"{name:<40} {tests:>5.0f} {mine:>7.1f} {theirs:>7.1f} {started:>7.0f}")
    return "\n".join(lines)


if __name__ == "__main__":
    print(summary(sys.argv[1]))
