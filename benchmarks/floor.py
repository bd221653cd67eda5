"""The least CPU a cold ``check`` can spend by issue 25's own design, and the ratio that allows here.

    python benchmarks/floor.py [PKG ...]      (default: benchmarks/run.py's real packages, when installed)

A cold check must, whatever its code: start the CLI (Python and Click); import the package in its
fork server; run one interpreter that touches every declared name (the predicting child: at least
one eager interpreter); touch the whole package in three forks (the star import, TAB completion and
unpickling each load every name); and measure in forks of their own the names it verifies (the seeded
sample of max(5%, 20), the names whose prediction may not hold, and every name whose access raises,
which a fork confirms before the run fails; names measured with the same set share one fork, as a
batch probe lets them).

Each piece is measured bare (a plain ``getattr`` in a plain fork, nothing recorded), and its CPU
(user + system) summed. Divided by the cores, that is the least wall time any implementation of the
design can take on this machine, shown against one eager interpreter timed as ``run.py`` times it
(wall, median of three) and against the row's target. The names verified are the ones a cold
``check --format json`` of this aoinspect verifies (its results with ``predicted`` unset).
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time

from run import EAGER_TOUCH, REAL_PACKAGES, TOUCH, importable, lazy_names

FORKS = TOUCH + """
import json, os, resource, sys
package = __import__(sys.argv[1])
names, alone = json.loads(sys.stdin.read())  # too long for one argument (128 KB) on transformers

def fork(body):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    pid = os.fork()
    if pid == 0:
        try:
            body()
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime

whole = sorted(fork(lambda: [touch(package, name) for name in names]) for _ in range(3))[1]
verify = sum(fork(lambda name=name: touch(package, name)) for name in alone)
print(json.dumps([whole, verify]))
"""


def cpu(command: list[str], runs: int = 3) -> float:
    """Median CPU seconds (user + system) of ``command`` and its children."""
    spent = []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        spent.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return statistics.median(spent)


def wall(command: list[str], runs: int = 3) -> float:
    spent = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        spent.append(time.perf_counter() - started)
    return statistics.median(spent)


def verified_forks(tool: list[str], package: str) -> tuple[int, list[str]]:
    """How many names a cold check verifies, and one name per fork they need: each name whose
    access raised alone, the others one per distinct measured set."""
    completed = subprocess.run([*tool, "--no-cache", "-p", package, "check", "--format", "json"],
                               capture_output=True, text=True, check=False)
    results = [result for result in json.loads(completed.stdout)["results"] if result.get("predicted") is None]
    alone, sets = [], {}
    for result in results:
        if result.get("error") is not None:
            alone.append(result["name"])
        else:
            sets.setdefault(frozenset(load["module"] for load in result.get("materialized") or ()), result["name"])
    return len(results), alone + list(sets.values())


def main(packages: list[str]) -> None:
    python, tool = sys.executable, [sys.executable, "-m", "aoinspect"]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    print(f"{cores} cores; CPU seconds, medians of 3\n")
    header = (f"{'package':<16} {'names':>5} {'verified':>8} {'forks':>5} {'cli':>5} {'server':>6} {'child':>6} "
              f"{'3 whole':>7} {'verify':>6} {'floor':>6} {'/cores':>6} {'eager':>6} {'floor':>6} {'target':>6}")
    print(header)
    for package in packages:
        if not importable(package):
            print(f"{package} is not installed: skipped")
            continue
        names = lazy_names(tool, package, dict(os.environ), os.getcwd())
        verified, forks = verified_forks(tool, package)
        start = cpu([python, "-c", "import click"])
        server = cpu([python, "-c", f"import {package}"])
        child = cpu([python, "-c", EAGER_TOUCH, package, *names])
        measured = subprocess.run([python, "-c", FORKS, package], input=json.dumps([names, forks]),
                                  capture_output=True, text=True, check=True).stdout
        whole, verify = json.loads(measured.strip().splitlines()[-1])
        floor = start + server + child + 3 * whole + verify
        eager = wall([python, "-c", EAGER_TOUCH, package, *names])
        target = REAL_PACKAGES.get(package, 4.0)
        print(f"{package:<16} {len(names):>5} {verified:>8} {len(forks):>5} {start:>5.2f} {server:>6.2f} {child:>6.2f} "
              f"{3 * whole:>7.2f} {verify:>6.2f} {floor:>6.2f} {floor / cores:>5.2f}s {eager:>5.2f}s "
              f"{floor / cores / eager:>5.2f}x {target:>5g}x")


if __name__ == "__main__":
    main(sys.argv[1:] or list(REAL_PACKAGES))
