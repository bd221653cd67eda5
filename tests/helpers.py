"""Small helpers the test modules share: reading a run's JSON document, ``-X importtime``'s tree,
whether a process is alive. Fake packages are in ``tests/packages.py``, hand-made reports and
documents in ``tests/documents.py``; no test module imports another."""

from __future__ import annotations

import json
import subprocess
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from click.testing import Result


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
