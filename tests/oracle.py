"""The line-deletion oracle: what deleting one import statement from a copy of a fake package
really removes from ``sys.modules``, measured in fresh interpreters. What the graph's
reachability (``aoinspect.graphing.saved_if_deferred``) and the deferral simulation claim is
held equal to it.

Shared by the tests of the graph and of PEP 810's simulation; it imports nothing of aoinspect.
"""

from __future__ import annotations

import ast
import itertools
import os
import shutil
import subprocess
import sys
from pathlib import Path

# Runs ENTRY (argv[1]) as ``python -c`` runs code, then prints the modules it added, one a line.
_MEASURE = (
    "import sys\n"
    "_before = set(sys.modules)\n"
    "exec(compile(sys.argv[1], '<string>', 'exec'), {'__name__': '__main__', '__builtins__': __builtins__})\n"
    "sys.stdout.write('\\n'.join(sorted(set(sys.modules) - _before)))\n"
)
_copies = itertools.count()


def modules_loaded(root: Path, entry: str, python: str = sys.executable, timeout: float = 60.0) -> frozenset[str]:
    """The modules ``entry`` adds to ``sys.modules`` in a fresh interpreter with ``root`` on
    ``PYTHONPATH`` (the entry must succeed)."""
    env = {**os.environ, "PYTHONPATH": str(root), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PYTHONSTARTUP", None)
    done = subprocess.run([python, "-c", _MEASURE, entry], env=env, cwd=str(root), capture_output=True,
                          text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise AssertionError(f"the oracle's entry {entry!r} failed:\n{done.stderr}")
    return frozenset(line for line in done.stdout.splitlines() if line)


def _copy(tmp_path: Path, package_dir: Path) -> Path:
    """A copy of the fakes, as a directory to put on ``PYTHONPATH``: ``package_dir`` itself when it
    is such a root, or the root holding it when it is a package (it has an ``__init__.py``)."""
    root = tmp_path / f"oracle-{next(_copies)}"
    if (package_dir / "__init__.py").exists():
        shutil.copytree(package_dir, root / package_dir.name)
    else:
        shutil.copytree(package_dir, root)
    return root


def _relative(package_dir: Path, file: Path | str) -> Path:
    """``file`` below the copy's root (given absolute, or relative to ``package_dir``)."""
    path = Path(file)
    base = package_dir.parent if (package_dir / "__init__.py").exists() else package_dir
    if path.is_absolute():
        return path.resolve().relative_to(base.resolve())
    if (package_dir / "__init__.py").exists():
        return Path(package_dir.name) / path
    return path


def delete_statement(path: Path, line: int) -> None:
    """Replace the statement that starts on ``line`` (all its lines) with ``pass``, so that blocks
    stay valid and every other line keeps its number."""
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines(keepends=True)
    statement = next((node for node in ast.walk(ast.parse(source)) if isinstance(node, (ast.Import, ast.ImportFrom))
                      and node.lineno == line), None)
    if statement is None:
        raise AssertionError(f"{path}:{line} holds no import statement")
    last = statement.end_lineno or line
    indent = lines[line - 1][: len(lines[line - 1]) - len(lines[line - 1].lstrip())]
    if lines[line - 1][statement.col_offset:].strip() != lines[line - 1].strip():
        raise AssertionError(f"{path}:{line}: the statement shares its line with another")
    lines[line - 1] = indent + "pass\n"
    for number in range(line, last):
        lines[number] = "\n"
    path.write_text("".join(lines), encoding="utf-8")


def modules_without_line(tmp_path: Path, package_dir: Path, file: Path | str, line: int, entry: str,
                         python: str = sys.executable) -> frozenset[str]:
    """The modules that stop being loaded by ``entry`` when the import statement on ``line`` of
    ``file`` is deleted from a copy of the fakes: both sets measured in fresh interpreters.

    ``package_dir``: the directory on the children's ``PYTHONPATH`` (``fake.root``), or one
    package in it; ``file``: absolute, or relative to ``package_dir``."""
    return modules_without_lines(tmp_path, package_dir, [(file, line)], entry, python)


def modules_without_lines(tmp_path: Path, package_dir: Path, lines: list[tuple[Path | str, int]], entry: str,
                          python: str = sys.executable) -> frozenset[str]:
    """``modules_without_line`` for several statements deleted at once (a set deferred together)."""
    package_dir = Path(package_dir)
    untouched = _copy(tmp_path, package_dir)
    edited = _copy(tmp_path, package_dir)
    for file, line in lines:
        delete_statement(edited / _relative(package_dir, file), line)
    return modules_loaded(untouched, entry, python) - modules_loaded(edited, entry, python)
