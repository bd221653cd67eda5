"""Benchmark aoinspect against the hand-written alternatives, side by side, in one run.

    python benchmarks/run.py [--repeat N]

Every command runs N times, interleaved with the commands it is compared with, so that a
noisy, shared machine slows all of them alike; the table shows medians and their ratios.
Plain Python, no dependency beyond an installed aoinspect (run it with that interpreter).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

EAGER_MODULES = 300
LAZY_NAMES = 200
MODULES_PER_NAME = 20


@dataclass
class Case:
    label: str
    ours: list[str]
    theirs: list[list[str]]  # one or more commands run back to back (one interpreter per name)
    theirs_label: str
    target: str
    check: Callable[[float, float], bool]
    times_ours: list[float]
    times_theirs: list[float]
    runs_per_round: int = 1  # quick commands run more often: their medians need more samples
    reports_its_time: bool = False  # the commands print the time to compare (not wall time)


def aoinspect_command() -> list[str]:
    script = Path(sys.executable).with_name("aoinspect")
    return [str(script)] if script.exists() else [sys.executable, "-m", "aoinspect"]


def generate_package(root: Path) -> str:
    """A package whose __init__ imports 300 small modules and declares 200 lazy names, each of
    which pulls in 20 more modules when accessed."""
    package = root / "benchpkg"
    (package / "_eager").mkdir(parents=True)
    (package / "_eager" / "__init__.py").write_text("")
    for index in range(EAGER_MODULES):
        (package / "_eager" / f"m{index}.py").write_text(f"VALUE = {index}\n")
    names = [f"name{index}" for index in range(LAZY_NAMES)]
    for name in names:
        (package / name).mkdir()
        (package / name / "__init__.py").write_text(
            "".join(f"from . import part{part}\n" for part in range(MODULES_PER_NAME))
        )
        for part in range(MODULES_PER_NAME):
            (package / name / f"part{part}.py").write_text(f"VALUE = {part}\n")
    eager_imports = "".join(f"from benchpkg._eager import m{index}\n" for index in range(EAGER_MODULES))
    (package / "__init__.py").write_text(eager_imports + textwrap.dedent(f"""
        __all__ = {names!r}


        def __getattr__(name):
            if name in __all__:
                import importlib

                return importlib.import_module("." + name, __name__)
            raise AttributeError(f"module {{__name__!r}} has no attribute {{name!r}}")


        def __dir__():
            return sorted(list(globals()) + __all__)
    """))
    return "benchpkg"


def importable(module: str) -> bool:
    completed = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True)
    return completed.returncode == 0


def timed(commands: list[list[str]], env: dict[str, str], cwd: str, reported: bool = False) -> float:
    """Wall time of running ``commands`` one after the other, or, with ``reported``, the sum
    of the seconds each prints."""
    started = time.perf_counter()
    total = 0.0
    for command in commands:
        completed = subprocess.run(command, env=env, cwd=cwd, capture_output=True)
        if completed.returncode not in (0, 1):
            raise SystemExit(f"{' '.join(command[:6])} failed: {completed.stderr.decode()[-2000:]}")
        if reported:
            total += float(completed.stdout.decode().split()[-1])
    return total if reported else time.perf_counter() - started


# Imports the generated package and every lazy name, with or without the probe's import
# recorder installed, and prints how long that took inside the interpreter.
IMPORT_TIMER = """
import sys, time
if sys.argv[1] == "instrumented":
    from aoinspect.child import recorder
    recorder.ImportRecorder().install()
start = time.perf_counter()
import benchpkg
for name in benchpkg.__all__:
    getattr(benchpkg, name)
print(time.perf_counter() - start)
"""


# The same import as a program of its own, run bare and under `aoinspect trace`; it prints the
# CPU time its imports took (the tracer's writes included), which a busy machine disturbs less
# than wall time.
PROGRAM_TIMER = """
import time
start = time.process_time()
import benchpkg
for name in benchpkg.__all__:
    getattr(benchpkg, name)
print(time.process_time() - start)
"""


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5, help="runs of every command (default: 5)")
    parser.add_argument("--only", metavar="TEXT", default=None,
                        help="run only the rows whose label contains TEXT (e.g. 'trace')")
    arguments = parser.parse_args()
    tool = aoinspect_command()
    python = sys.executable
    workdir = Path(tempfile.mkdtemp(prefix="aoinspect-bench-"))
    try:
        package = generate_package(workdir)
        env = {**os.environ, "PYTHONPATH": str(workdir) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        per_name = [[python, "-c", f"import {package}; {package}.{name}"]
                    for name in (f"name{index}" for index in range(LAZY_NAMES))]
        eager = [[python, "-c", f"import {package}\nfor name in {package}.__all__: getattr({package}, name)"]]
        cases = [
            Case(f"check, generated {LAZY_NAMES}-name package", [*tool, "-p", package, "check"], per_name,
                 "one interpreter per name", ">= 5x faster", lambda ours, theirs: theirs / ours >= 5, [], []),
            Case(f"check, generated {LAZY_NAMES}-name package", [*tool, "-p", package, "check"], eager,
                 "one eager interpreter", "<= 4x", lambda ours, theirs: ours / theirs <= 4, [], []),
        ]
        if importable("torch.ao"):
            cases.append(Case("check torch.ao", [*tool, "-p", "torch.ao", "check"],
                              [[python, "-c", "import torch.ao"]], 'python -c "import torch.ao"', "<= 1.3x",
                              lambda ours, theirs: ours / theirs <= 1.3, [], []))
        else:
            print("torch is not installed: skipping the torch.ao case\n")
        click_start = Case("--help", [*tool, "--help"], [[python, "-c", "import click"]],
                           'python -c "import click"', "<= 1.3x", lambda ours, theirs: ours / theirs <= 1.3, [], [],
                           runs_per_round=5)
        resolve = Case("resolve quantization", [*tool, "resolve", "quantization"],
                       [[python, "-c", "import ao; ao.quantization"]], 'python -c "import ao; ao.quantization"',
                       "extra <= click start-up", lambda ours, theirs: True, [], [], runs_per_round=5)
        instrumentation = Case(
            f"import with the recorder ({EAGER_MODULES + 1 + LAZY_NAMES * (MODULES_PER_NAME + 1)} modules)",
            [python, "-c", IMPORT_TIMER, "instrumented"], [[python, "-c", IMPORT_TIMER, "bare"]],
            "the same import, bare", "<= 1.1x", lambda ours, theirs: ours / theirs <= 1.1, [], [],
            reports_its_time=True,
        )
        traced = Case(
            f"trace a program ({EAGER_MODULES + 1 + LAZY_NAMES * (MODULES_PER_NAME + 1)} modules)",
            [*tool, "trace", "-o", os.devnull, "--", "-c", PROGRAM_TIMER], [[python, "-c", PROGRAM_TIMER]],
            "the same program, bare", "<= 1.1x", lambda ours, theirs: ours / theirs <= 1.1, [], [],
            reports_its_time=True,
        )
        cases += [resolve, click_start, instrumentation, traced]
        if arguments.only:
            cases = [case for case in cases if arguments.only in case.label or case is click_start]
        cwd = str(workdir)
        for _ in range(arguments.repeat):
            for case in cases:
                for _ in range(case.runs_per_round):
                    case.times_ours.append(timed([case.ours], env, cwd, case.reports_its_time))
                    case.times_theirs.append(timed(case.theirs, env, cwd, case.reports_its_time))
        click_median = median(click_start.times_theirs)
        resolve.check = lambda ours, theirs: ours - theirs <= click_median
        print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
              f"{platform.system()} {platform.release()}; {arguments.repeat} interleaved rounds "
              f"(5 runs a round for the quick commands); medians\n")
        rows = [("aoinspect", "median s", "compared with", "median s", "ratio", "target", "met")]
        for case in cases:
            ours, theirs = median(case.times_ours), median(case.times_theirs)
            if case.target.startswith(">="):
                ratio = f"{theirs / ours:.1f}x faster"
            elif case is resolve:
                ratio = f"+{(ours - theirs) * 1000:.0f} ms vs {click_median * 1000:.0f} ms"
            else:
                ratio = f"{ours / theirs:.2f}x"
            rows.append((case.label, f"{ours:.3f}", case.theirs_label, f"{theirs:.3f}", ratio, case.target,
                         "yes" if case.check(ours, theirs) else "NO"))
        widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
        for row in rows:
            print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
