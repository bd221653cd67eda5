"""Small helpers the test modules share: a directory of fake packages (``FakePackages``, what the
``fake`` fixture gives), reading a run's JSON document, ``-X importtime``'s tree, whether a process
is alive. Fake packages are in ``tests/packages.py``, hand-made reports and
documents in ``tests/documents.py``; no test module imports another."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    from click.testing import Result


@dataclass
class FakePackages:
    """A directory on the children's ``PYTHONPATH`` to write fake packages into."""

    root: Path
    python: str = sys.executable  # the interpreter children run: --probe-python for tests marked probe

    def write(self, files: dict[str, str]) -> Path:
        """Write ``{"pkg/__init__.py": source, ...}`` below the root (sources are dedented)."""
        for relative, source in files.items():
            path = self.root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(source), encoding="utf-8")
        return self.root

    @property
    def env(self) -> dict[str, str]:
        """For children, and for the CLI: AOINSPECT_PYTHON is its --python."""
        existing = os.environ.get("PYTHONPATH")
        env = {"PYTHONPATH": str(self.root) + (os.pathsep + existing if existing else ""),
               # Every test measures afresh; the cache's own tests turn it on.
               "AOINSPECT_NO_CACHE": "1"}
        if self.python != sys.executable:
            env["AOINSPECT_PYTHON"] = self.python
        return env


def document(result: Result) -> dict[str, Any]:
    """The one JSON document a ``--format json`` run printed on stdout."""
    value = json.loads(result.stdout)
    assert isinstance(value, dict)
    return value


def pid_alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie has ended)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"
    except FileNotFoundError:
        return False


def escaped_pids(pid_dir: Path) -> list[int]:
    """The pids the escape script (``test_hostile.ESCAPE_SCRIPT``) said it runs as, from ``pid_dir``:
    it writes each to a ``.tmp`` file it then renames, so a process ended before the rename (aoinspect
    may end a child while it starts one) left a ``.tmp`` behind, and no pid to look for."""
    return [int(path.read_text()) for path in pid_dir.iterdir() if path.suffix != ".tmp"]


def importtime_entries(stderr: str) -> list[tuple[str, int]]:
    """``(module, nesting level)`` for every import that ``-X importtime`` timed, in its order
    (children before their parent). The header and untimed lines are skipped: Python 3.14's
    ``-X importtime=2`` also lists modules that were already loaded, with "cached" for times."""
    entries = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or line.count("|") != 2:
            continue
        self_us, cumulative_us, name = line[len("import time:"):].split("|")
        if not (self_us.strip().isdigit() and cumulative_us.strip().isdigit()):
            continue
        entries.append((name.strip(), (len(name) - len(name.lstrip()) - 1) // 2))
    return entries


def importtime_parents(python: str, code: str, env: dict[str, str]) -> dict[str, str | None]:
    """Parent of every module ``python -X importtime -c CODE`` timed: the next entry one level up."""
    stderr = subprocess.run(
        [python, "-X", "importtime", "-c", code], env=env, capture_output=True, text=True, check=True
    ).stderr
    entries = importtime_entries(stderr)
    parents: dict[str, str | None] = {}
    for index, (name, level) in enumerate(entries):
        parents[name] = next((other for other, depth in entries[index + 1:] if depth < level), None)
    return parents
