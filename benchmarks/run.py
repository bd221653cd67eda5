"""Benchmark aoinspect against the hand-written alternatives, side by side, in one run.

    python benchmarks/run.py [--repeat N] [--only TEXT ...] [--real-repeat N] [--real PKG ...] [--no-real]
                             [--suite DIR]
    python benchmarks/run.py --agreement [PKG ...]   (predicted sets against one fork per name)

Start-up alone (the four start-up rows and their floors): --only "aoinspect --" --only "resolve" --no-real

trace (issue 24's targets): --only trace --no-real [--suite path/to/more_itertools-X.Y.Z]. The
traced interpreter's own figure (the CPU time its imports take, as the program measures it) sits
beside the whole command users run (`aoinspect trace -- PROGRAM`, CLI start and report included),
in wall and CPU time: `-c pass` against `python -c "import click"`, the generated program,
`import scipy.stats` when scipy is installed, and with --suite a test suite in DIR.

Every command runs N times, interleaved with the commands it is compared with, so that a
noisy, shared machine slows all of them alike; the table shows medians and their ratios.
Plain Python, no dependency beyond an installed aoinspect (run it with that interpreter).

``advise`` runs on rich (else pydantic) with ``--budget 0`` against one bare import of it.

Real packages (pydantic, huggingface_hub, mne, librosa, transformers, each when installed) are
checked cold (an empty cache of their own) against one eager interpreter that imports the package
and touches every lazy name, and warm (the cache filled, nothing changed) against ``python -c
"import PKG"`` plus ``python -c "import click"`` (a bare import plus Click's start-up, issue 25's
floor); each row also reports the CLI process's own peak RSS and the whole process tree's peak
(PSS and RSS summed over the CLI and every child, sampled every 50 ms in one more cold run of its
own, not a timed one).
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

TRACE_TARGET = 1.15  # the whole `aoinspect trace -- PROGRAM` against a bare run of PROGRAM (issue 24)
# Cold target: one eager interpreter that touches every name (issue 25's).
REAL_PACKAGES = {"pydantic": 3.0, "huggingface_hub": 3.0, "mne": 3.0, "librosa": 4.0, "transformers": 4.0}
# --agreement: packages with a module __getattr__ whose predicted sets are compared with one fork
# per name; the sampled ones compare a seeded sample of their names.
AGREEMENT_PACKAGES = ("numpy", "scipy", "pydantic", "huggingface_hub", "openai", "sklearn", "mne", "transformers",
                      "diffusers", "librosa")
AGREEMENT_SAMPLED = {"transformers": 300, "diffusers": 300}
WARM_TARGET = 1.5
ADVISE_PACKAGES = ("rich", "pydantic")  # advise's row: the first installed
RSS_LIMIT_KB = 1024 * 1024
# Runs aoinspect in this process and reports its own peak RSS (KB) on stderr as it exits.
RSS_WRAPPER = """
import atexit, resource, sys
atexit.register(lambda: sys.stderr.write("\\nmaxrss %d\\n" % resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
sys.argv = ["aoinspect", *sys.argv[1:]]
from aoinspect.cli import main
main()
"""

# What any Click program pays for its --help (option objects, gettext, textwrap): the floor of
# `aoinspect --help`, which imports none of its commands.
BARE_CLICK_GROUP = """
import click

@click.group(context_settings={"help_option_names": ["-h", "--help"]}, epilog="Exit codes: 0 1 2 3 4")
@click.option("-p", "--package", metavar="PKG", help="Importable package or module to inspect.")
@click.option("--python", metavar="PATH", help="Run every probe with this interpreter.")
@click.option("--format", type=click.Choice(["text", "json", "markdown", "html"]), help="Output format.")
@click.option("--timeout", type=float, metavar="SECONDS", help="Time limit for each probe.")
@click.option("-j", "--jobs", type=click.IntRange(min=1, max=256), metavar="N", help="Probes to run at once.")
@click.option("--cache-dir", metavar="DIR", help="Keep results in DIR.")
@click.option("--no-cache", is_flag=True, help="Measure everything again and keep nothing.")
@click.option("--isolation", type=click.Choice(["auto", "fork", "fork-each", "spawn"]), help="How probes run.")
@click.option("--debug", is_flag=True, help="Show Python tracebacks.")
@click.option("--config", type=click.Path(dir_okay=False), metavar="FILE", help="Read FILE.")
@click.version_option("0")
def group(**_options):
    \"\"\"Show what importing a lazy package, and each attribute access, actually loads.\"\"\"

for name in ("check", "diff", "list", "render", "resolve", "rule", "snapshot", "trace"):
    group.add_command(click.Command(name, help=f"The {name} command, in a sentence of a few words."))
group()
"""

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
    cpu: bool = False  # also a row of CPU time (the commands' own and their children's, user + system)
    cwd: str | None = None  # where the commands run (default: the benchmark's directory)
    cpu_ours: list[float] = field(default_factory=list)
    cpu_theirs: list[float] = field(default_factory=list)


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


def timed(commands: list[list[str]], env: dict[str, str], cwd: str, reported: bool = False,
          cpu: list[float] | None = None) -> float:
    """Wall time of running ``commands`` one after the other, or, with ``reported``, the sum
    of the seconds each prints; with ``cpu``, their CPU time (user + system, their children's
    included) is appended to it."""
    # getrusage, not os.times: the latter counts in clock ticks (10 ms), coarser than the rows it measures.
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    total = 0.0
    for command in commands:
        completed = subprocess.run(command, env=env, cwd=cwd, capture_output=True)
        if completed.returncode not in (0, 1):
            raise SystemExit(f"{' '.join(command[:6])} failed: {completed.stderr.decode()[-2000:]}")
        if reported:
            total += float(completed.stdout.decode().split()[-1])
    elapsed = time.perf_counter() - started
    if cpu is not None:
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return total if reported else elapsed


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


def lazy_names(tool: list[str], package: str, env: dict[str, str], cwd: str) -> list[str]:
    completed = subprocess.run([*tool, "--no-cache", "-p", package, "list", "--format", "json"], env=env, cwd=cwd,
                               capture_output=True, text=True, check=True)
    import json

    return [name["name"] for name in json.loads(completed.stdout)["names"]
            if not name["loaded_at_import"] and all(part.isidentifier() for part in name["name"].split("."))]


# One name touched as a user's code would (``package.a.b``); what it raises is no concern here.
TOUCH = """
def touch(package, name):
    try:
        value = package
        for part in name.split("."):
            value = getattr(value, part)
    except Exception:
        pass
"""
EAGER_TOUCH = TOUCH + """
import sys
package = __import__(sys.argv[1])
for name in sys.argv[2:]:
    touch(package, name)
"""


def tree_memory(root: int) -> tuple[int, int]:
    """(sum of RSS, sum of PSS) in KB of ``root`` and every descendant now (Linux /proc; PSS
    shares a page among the processes that map it, so a fork server's children are not counted
    again for what they share with it)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as stream:
                    fields = stream.read().rsplit(b")", 1)[1].split()
                parents[int(entry)] = int(fields[1])
            except (OSError, IndexError, ValueError):
                continue
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, ppid in parents.items():
            if ppid == parent and pid not in tree:
                tree.add(pid)
                frontier.append(pid)
    rss = pss = 0
    for pid in tree:
        try:
            with open(f"/proc/{pid}/smaps_rollup", "rb") as stream:
                for line in stream:
                    if line.startswith(b"Rss:"):
                        rss += int(line.split()[1])
                    elif line.startswith(b"Pss:"):
                        pss += int(line.split()[1])
        except OSError:
            continue
    return rss, pss


TREE_PEAKS: list[tuple[int, int]] = []  # per timed_rss run: the whole tree's peak (RSS sum, PSS sum), KB


def timed_rss(python: str, arguments: list[str], env: dict[str, str], cwd: str,
              sample_tree: bool = False) -> tuple[float, int]:
    """Wall time of the CLI run in-process by ``RSS_WRAPPER``, and its own peak RSS in KB; with
    ``sample_tree``, the whole process tree's peak (sampled every 50 ms) goes to TREE_PEAKS. A
    sampled run is not one to time: reading every process's ``smaps_rollup`` walks its page tables
    under its memory lock, on the cores the run needs (a cold check of huggingface_hub took 14.0 s
    sampled, 5.4 s not)."""
    import threading

    started = time.perf_counter()
    process = subprocess.Popen([python, "-c", RSS_WRAPPER, *arguments], env=env, cwd=cwd, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    peak = [0, 0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.05):
            rss, pss = tree_memory(process.pid)
            peak[0], peak[1] = max(peak[0], rss), max(peak[1], pss)

    sampler = threading.Thread(target=sample, daemon=True)
    if sample_tree and os.path.isdir("/proc"):
        sampler.start()
    _stdout, stderr = process.communicate()
    done.set()
    elapsed = time.perf_counter() - started
    if sampler.is_alive():
        sampler.join()
    if sample_tree:
        TREE_PEAKS.append((peak[0], peak[1]))
    if process.returncode not in (0, 1) or "maxrss" not in stderr:
        raise SystemExit(f"aoinspect {' '.join(arguments[:6])} failed: {stderr[-2000:]}")
    return elapsed, int(stderr.rsplit("maxrss", 1)[1].split()[0])


def real_package_cases(tool: list[str], python: str, workdir: Path, packages: list[str], repeat: int,
                       memory: list[str], check: tuple[str, ...] = ("check",)) -> list[Case]:
    """Cold and warm check rows for the real packages that are installed; RSS lines. A cold run
    starts from an empty cache directory of its own, which the warm runs then use."""
    import resource

    cases: list[Case] = []
    env = dict(os.environ)
    cwd = str(workdir)
    for package in packages:
        if not importable(package):
            print(f"{package} is not installed: skipping its rows\n")
            continue
        names = lazy_names(tool, package, env, cwd)
        eager = [[python, "-c", EAGER_TOUCH, package, *names]]
        cold_target = REAL_PACKAGES.get(package, 4.0)
        label = " ".join(check)
        cold = Case(f"{label} {package}, cold ({len(names)} names)", [], eager, "one eager interpreter",
                    f"<= {cold_target:g}x", lambda ours, theirs, limit=cold_target: ours / theirs <= limit, [], [])
        # The floor of a warm run: a bare import plus Click's start-up, two interpreters back to back
        # (as the resolve rows add `python -c "import click"` to their bare access).
        floor = [[python, "-c", f"import {package}"], [python, "-c", "import click"]]
        warm = Case(f"{label} {package}, warm", [], floor,
                    f'python -c "import {package}" + python -c "import click"', f"<= {WARM_TARGET:g}x",
                    lambda ours, theirs: ours / theirs <= WARM_TARGET, [], [])
        peaks = []
        tree_peaks = []
        for round_ in range(repeat):
            cache = str(workdir / f"cache-{package}-{round_}")
            elapsed, peak = timed_rss(python, ["--cache-dir", cache, "-p", package, *check], env, cwd)
            peaks.append(peak)
            cold.times_ours.append(elapsed)
            cold.times_theirs.append(timed(cold.theirs, env, cwd))
            warm.times_ours.append(timed([[*tool, "--cache-dir", cache, "-p", package, *check]], env, cwd))
            warm.times_theirs.append(timed(warm.theirs, env, cwd))
        cases += [cold, warm]
        # The tree's memory, from one more cold run of its own (sampling would slow a timed one).
        timed_rss(python, ["--cache-dir", str(workdir / f"cache-{package}-memory"), "-p", package, *check], env,
                  cwd, sample_tree=True)
        tree_peaks.append(TREE_PEAKS[-1])
        line = f"peak RSS of the CLI process, check {package} ({len(names)} names): {max(peaks) / 1024:.0f} MB"
        tree_rss, tree_pss = max(peak for peak, _pss in tree_peaks), max(pss for _rss, pss in tree_peaks)
        line += (f"; whole process tree at its peak (sampled every 50 ms): {tree_pss / 1024:.0f} MB PSS, "
                 f"{tree_rss / 1024:.0f} MB RSS summed (pages a fork shares counted in each)")
        if package == "transformers":
            line += f"; tree target < {RSS_LIMIT_KB // 1024} MB PSS: {'yes' if tree_pss < RSS_LIMIT_KB else 'NO'}"
        if package == "transformers":
            subset_names = sum(1 for name in names if name[:1] in "ABC")
            _elapsed, subset = timed_rss(python, ["--no-cache", "-p", package, "check", "--names", "[ABC]*"], env,
                                         cwd)
            line += (f"; {subset / 1024:.0f} MB for the {subset_names} names matching [ABC]*, so "
                     f"{(max(peaks) - subset) / max(1, len(names) - subset_names):.1f} KB a further name; "
                     f"target < {RSS_LIMIT_KB // 1024} MB: {'yes' if max(peaks) < RSS_LIMIT_KB else 'NO'}")
        memory.append(line)
    largest = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if memory:
        memory.append(f"largest process the benchmark waited for (a probe, a fork server or the CLI): "
                      f"{largest / 1024:.0f} MB")
    return cases


def agreement(tool: list[str], packages: list[str], sample: dict[str, int], seed: int = 0) -> None:
    """Predicted sets (``aoinspect.predicting``) against one fork per name, package by package:
    how many agree, how many were flagged for a fork of their own, and every disagreement."""
    import json
    import random

    from aoinspect import predicting

    env = {**os.environ, "PYTHONHASHSEED": "0"}
    cwd = tempfile.mkdtemp(prefix="aoinspect-agreement-")
    rows = [("package", "names", "compared", "agree", "flagged", "disagree", "of them flagged", "predict s",
             "forks s")]
    notes = []
    for package in packages:
        if not importable(package):
            print(f"{package} is not installed: skipped")
            continue
        names = lazy_names(tool, package, env, cwd)
        chosen = names if package not in sample else sorted(random.Random(seed).sample(names, min(len(names),
                                                                                              sample[package])))
        started = time.perf_counter()
        predictions = predicting.record_predictions(package, chosen, env=env, timeout=1200)
        predicted_s = time.perf_counter() - started
        started = time.perf_counter()
        completed = subprocess.run([*tool, "--no-cache", "-p", package, "--isolation", "fork-each", "--timeout", "300",
                                    "resolve", *chosen, "--format", "json"], env=env, cwd=cwd, capture_output=True,
                                   text=True)
        forks_s = time.perf_counter() - started
        results = json.loads(completed.stdout)["results"]
        measured = {result["name"]: [load["module"] for load in result["materialized"]] for result in results
                    if result["ok"]}
        found = predicting.disagreements(predictions, measured)
        flagged = set(predictions.risky)
        rows.append((package, str(len(names)), str(len(measured)), str(len(measured) - len(found)),
                     str(len(flagged & set(measured))), str(len(found)),
                     str(sum(1 for item in found if item.name in flagged)), f"{predicted_s:.1f}", f"{forks_s:.1f}"))
        for item in found:
            why = "; ".join(predictions.names[item.name].risks[:2]) or "NOT FLAGGED"
            notes.append(f"{package}.{item} [{why}]")
        print("  ".join(rows[-1]), *notes[-len(found):] if found else (), sep="\n", flush=True)  # as it goes
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    for note in notes:
        print(note)
    shutil.rmtree(cwd, ignore_errors=True)


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5, help="runs of every command (default: 5)")
    parser.add_argument("--only", metavar="TEXT", action="append", default=None,
                        help="run only the rows whose label contains TEXT (e.g. 'trace'); may be given again")
    parser.add_argument("--real-repeat", type=int, default=3, help="runs of each real-package check (default: 3)")
    parser.add_argument("--real", nargs="*", default=list(REAL_PACKAGES), metavar="PKG",
                        help="real packages to check, when installed (default: all four)")
    parser.add_argument("--no-real", action="store_true", help="skip the real packages")
    parser.add_argument("--suite", metavar="DIR", default=None,
                        help="also trace a test suite: `python -m pytest -q` in DIR (an unpacked sdist, e.g. "
                             "more-itertools'), bare and under `aoinspect trace`")
    parser.add_argument("--predict", action="store_true",
                        help="the real packages' rows run check --predict (the default of check now: the same)")
    parser.add_argument("--exact", action="store_true",
                        help="the real packages' rows run check --isolation fork (every name measured, batched "
                             "where exact: check's default before it predicted)")
    parser.add_argument("--agreement", nargs="*", default=None, metavar="PKG",
                        help="only compare predicted sets with one fork per name (default: every package of "
                             f"{', '.join(AGREEMENT_PACKAGES)} that is installed)")
    arguments = parser.parse_args()
    if arguments.agreement is not None:
        agreement(aoinspect_command(), arguments.agreement or list(AGREEMENT_PACKAGES), AGREEMENT_SAMPLED)
        return
    # Like an installed wheel: bytecode compiled (PYTHONDONTWRITEBYTECODE would otherwise make
    # every run compile aoinspect's sources again).
    import compileall

    import aoinspect

    compileall.compile_dir(os.path.dirname(aoinspect.__file__), quiet=1)
    tool = aoinspect_command()
    python = sys.executable
    workdir = Path(tempfile.mkdtemp(prefix="aoinspect-bench-"))
    try:
        package = generate_package(workdir)
        env = {**os.environ, "PYTHONPATH": str(workdir) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        per_name = [[python, "-c", f"import {package}; {package}.{name}"]
                    for name in (f"name{index}" for index in range(LAZY_NAMES))]
        eager = [[python, "-c", f"import {package}\nfor name in {package}.__all__: getattr({package}, name)"]]
        cold = [*tool, "--no-cache"]  # every row measures afresh, but for the warm ones
        cases = [
            Case(f"check, generated {LAZY_NAMES}-name package", [*cold, "-p", package, "check"], per_name,
                 "one interpreter per name", ">= 5x faster", lambda ours, theirs: theirs / ours >= 5, [], []),
            Case(f"check, generated {LAZY_NAMES}-name package", [*cold, "-p", package, "check"], eager,
                 "one eager interpreter", "<= 4x", lambda ours, theirs: ours / theirs <= 4, [], []),
        ]
        if importable("torch.ao"):
            cases.append(Case("check torch.ao", [*cold, "-p", "torch.ao", "check"],
                              [[python, "-c", "import torch.ao"]], 'python -c "import torch.ao"', "<= 1.3x",
                              lambda ours, theirs: ours / theirs <= 1.3, [], []))
        else:
            print("torch is not installed: skipping the torch.ao case\n")
        # Start-up: what the CLI costs before a command starts, against Click's own import.
        click_start = Case("aoinspect --help", [*tool, "--help"], [[python, "-c", "import click"]],
                           'python -c "import click"', "<= 1.1x", lambda ours, theirs: ours / theirs <= 1.1, [], [],
                           runs_per_round=5, cpu=True)  # its Click start-up's CPU: the resolve rows' floor
        # Click's own floor for a help page: a bare group of the same shape (nine options, eight
        # commands), imported as a module so that its bytecode is cached like aoinspect's.
        (workdir / "bare_click_group.py").write_text(BARE_CLICK_GROUP)
        click_help = Case("aoinspect --help, against a bare Click group's --help", [*tool, "--help"],
                          [[python, "-c", "import sys; sys.argv[1:] = ['--help']; import bare_click_group"]],
                          "a bare Click group's --help", "<= 1.05x", lambda ours, theirs: ours / theirs <= 1.05,
                          [], [], runs_per_round=5)
        version = Case("aoinspect --version", [*tool, "--version"], [[python, "-c", "import click"]],
                       'python -c "import click"', "<= 1.1x", lambda ours, theirs: ours / theirs <= 1.1, [], [],
                       runs_per_round=5)
        resolve = Case("resolve quantization", [*cold, "resolve", "quantization"],
                       [[python, "-c", "import ao; ao.quantization"]], 'python -c "import ao; ao.quantization"',
                       "<= 1.25x (that + click)", lambda ours, theirs: True, [], [], runs_per_round=5, cpu=True)
        resolve_warm = Case("resolve quantization, cached", [*tool, "--cache-dir", str(workdir / "cache"), "resolve",
                                                             "quantization"],
                            [[python, "-c", "import ao; ao.quantization"]], 'python -c "import ao; ao.quantization"',
                            "<= 1.25x (that + click)", lambda ours, theirs: True, [], [], runs_per_round=5,
                            cpu=True)
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
        # The command users run, start to end (CLI start, the program, the report on stderr), beside
        # the traced interpreter's own figure above.
        traced_whole = Case(
            f"trace a program ({EAGER_MODULES + 1 + LAZY_NAMES * (MODULES_PER_NAME + 1)} modules), whole command",
            [*tool, "trace", "--", "-c", PROGRAM_TIMER], [[python, "-c", PROGRAM_TIMER]], "the same program, bare",
            f"<= {TRACE_TARGET:g}x", lambda ours, theirs: ours / theirs <= TRACE_TARGET, [], [], cpu=True)
        trace_pass = Case("trace -- -c pass", [*tool, "trace", "--", "-c", "pass"], [[python, "-c", "import click"]],
                          'python -c "import click"', "<= 1.5x", lambda ours, theirs: ours / theirs <= 1.5, [], [],
                          runs_per_round=5, cpu=True)
        cases += [resolve, resolve_warm, click_start, click_help, version, instrumentation, traced, traced_whole,
                  trace_pass]
        if importable("scipy.stats"):
            program = ["-c", "import scipy.stats"]
            cases.append(Case('trace -- -c "import scipy.stats"', [*tool, "trace", "--", *program],
                              [[python, *program]], 'python -c "import scipy.stats"', f"<= {TRACE_TARGET:g}x",
                              lambda ours, theirs: ours / theirs <= TRACE_TARGET, [], [], cpu=True))
        else:
            print("scipy is not installed: skipping the trace scipy.stats row\n")
        if arguments.suite:
            suite = ["-m", "pytest", "-q", "-p", "no:cacheprovider"]
            cases.append(Case(f"trace -- -m pytest in {os.path.basename(os.path.abspath(arguments.suite))}",
                              [*tool, "trace", "--", *suite], [[python, *suite]], "the same test run, bare",
                              f"<= {TRACE_TARGET:g}x", lambda ours, theirs: ours / theirs <= TRACE_TARGET, [], [],
                              cpu=True, cwd=arguments.suite))
        # advise: the graph, the deferral simulation and the effects, one child each (--budget 0:
        # no timing children, whose number the user chooses), against one bare import.
        advised = next((name for name in ADVISE_PACKAGES if importable(name)), None)
        if advised is None:
            print(f"none of {', '.join(ADVISE_PACKAGES)} is installed: skipping the advise row\n")
        else:
            cases.append(Case(f"advise {advised} --budget 0", [*tool, "advise", advised, "--budget", "0"],
                              [[python, "-c", f"import {advised}"]], f'python -c "import {advised}"', "<= 30x",
                              lambda ours, theirs: ours / theirs <= 30, [], []))
        if arguments.only:
            cases = [case for case in cases
                     if any(text in case.label for text in arguments.only) or case is click_start]
        cwd = str(workdir)
        timed([resolve_warm.ours], env, cwd)  # fills its cache
        for _ in range(arguments.repeat):
            for case in cases:
                for _ in range(case.runs_per_round):
                    where = case.cwd or cwd
                    case.times_ours.append(timed([case.ours], env, where, case.reports_its_time,
                                                 case.cpu_ours if case.cpu else None))
                    case.times_theirs.append(timed(case.theirs, env, where, case.reports_its_time,
                                                   case.cpu_theirs if case.cpu else None))
        click_median = median(click_start.times_theirs)
        for case in (resolve, resolve_warm):
            case.check = lambda ours, theirs: ours <= 1.25 * (theirs + click_median)
        memory: list[str] = []
        if not arguments.no_real:
            cases += real_package_cases(tool, python, workdir, arguments.real, arguments.real_repeat, memory,
                                        ("check", "--predict") if arguments.predict
                                        else ("--isolation", "fork", "check") if arguments.exact else ("check",))
        print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
              f"{platform.system()} {platform.release()}; {arguments.repeat} interleaved rounds "
              f"(5 runs a round for the quick commands); medians\n")
        rows = [("aoinspect", "median s", "compared with", "median s", "ratio", "target", "met")]
        for case in cases:
            ours, theirs = median(case.times_ours), median(case.times_theirs)
            if case.target.startswith(">="):
                ratio = f"{theirs / ours:.1f}x faster"
            elif case in (resolve, resolve_warm):
                ratio = f"{ours / (theirs + click_median):.2f}x of {(theirs + click_median) * 1000:.0f} ms"
            else:
                ratio = f"{ours / theirs:.2f}x"
            rows.append((case.label, f"{ours:.3f}", case.theirs_label, f"{theirs:.3f}", ratio, case.target,
                         "yes" if case.check(ours, theirs) else "NO"))
            if case.cpu_ours:
                # CPU: what the command costs the machine; its CLI start runs beside the program on a
                # second core, so this ratio is above the wall time's. Shown, not judged.
                ours, theirs = median(case.cpu_ours), median(case.cpu_theirs)
                if case in (resolve, resolve_warm):  # the floor: the bare access plus Click's start-up
                    floor = theirs + median(click_start.cpu_theirs)
                    ratio = f"{ours / floor:.2f}x of {floor * 1000:.0f} ms"
                else:
                    ratio = f"{ours / theirs:.2f}x"
                rows.append((f"{case.label} (CPU)", f"{ours:.3f}", case.theirs_label, f"{theirs:.3f}", ratio,
                             "(shown)", "-"))
        widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
        for row in rows:
            print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
        if memory:
            print()
        for line in memory:
            print(line)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
