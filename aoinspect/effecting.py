"""What each module's own execution does to the rest of the interpreter, observed in one fresh
child that runs the entry (``child/observe.py`` with ``child/effects.py``): ``advise`` lists, for
an import statement, the effects of the modules deferring it stops loading, as what deferral
would delay or cancel."""

from __future__ import annotations

import ast
import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aoinspect.errors import ProbeFailed

if TYPE_CHECKING:
    from collections.abc import Sequence

OBSERVE_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "child", "observe.py")
RESULT_LIMIT = 16 * 1024 * 1024
# The kinds of entry (as aoinspect.graphing names them).
COMMAND, MODULE, SCRIPT = "command", "module", "script"


@dataclass(frozen=True)
class Observed:
    effects: dict[str, tuple[tuple[str, str], ...]]  # module -> its own (kind, detail), protocol.EFFECT_KINDS
    error: str | None  # the entry raised this: "ImportError: ..."

    def of(self, modules: Sequence[str] | frozenset[str]) -> tuple[tuple[str, str], ...]:
        """The effects of ``modules``' own execution, each once, in the order of ``modules``."""
        found: dict[tuple[str, str], None] = {}
        for module in sorted(modules):
            found.update(dict.fromkeys(self.effects.get(module, ())))
        return tuple(found)


def program_entry(program: Sequence[str]) -> tuple[str, str, tuple[str, ...]]:
    """``(kind, target, arguments)`` of PROGRAM as ``python`` takes it after its options."""
    first = program[0]
    for flag, kind in (("-c", COMMAND), ("-m", MODULE)):
        if first == flag and len(program) > 1:
            return kind, program[1], tuple(program[2:])
        if first.startswith(flag) and first != flag:
            return kind, first[2:], tuple(program[1:])
    return SCRIPT, os.path.abspath(first), tuple(program[1:])


def observe(kind: str, target: str, arguments: Sequence[str] = (), *, python: str | None = None,
            timeout: float = 60.0) -> Observed:
    """Run the entry (``command`` code, a ``module`` or a ``script``) in a fresh ``python`` (None:
    this one) and report each module's own effects."""
    from aoinspect.files import UnreadableFile, read_regular_file
    from aoinspect.probing import runner

    workdir = runner.make_workdir("aoinspect-observe-")
    try:
        result_path = os.path.join(workdir, "result")
        token = runner.write_token(result_path)
        command = [python or sys.executable, OBSERVE_FILE, result_path, kind, target, *arguments]
        with runner.reaping_strays():
            _returncode, _output, timed_out = runner.run_bounded(command, timeout)
        if timed_out:
            raise ProbeFailed(f"observing the effects of {target} took more than {timeout:g} s: the child was killed.")
        try:
            text = read_regular_file(result_path, RESULT_LIMIT).decode("utf-8", errors="replace")
        except UnreadableFile:
            text = ""
    finally:
        runner.remove_workdir(workdir)
    return _parse(text, token)


UNREPORTED = "the child that observed the effects ended without reporting"


def _parse(text: str, token: str) -> Observed:
    """The child's result, if it carries ``token`` on its first line and is the literal the
    child writes; anything else (a forgery, a partial write) is no report. Names are data."""
    first, _, body = text.partition("\n")
    if not token or first != token:
        return Observed({}, UNREPORTED)
    try:
        result = ast.literal_eval(body)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return Observed({}, UNREPORTED)
    if not isinstance(result, dict) or not isinstance(result.get("effects"), dict):
        return Observed({}, UNREPORTED)
    effects: dict[str, tuple[tuple[str, str], ...]] = {}
    for module, changes in result["effects"].items():
        if not isinstance(changes, (list, tuple)):
            continue
        effects[str(module)] = tuple(
            (str(change[0]), str(change[1])) for change in changes
            if isinstance(change, (list, tuple)) and len(change) == 2 and change[1] is not None)
    error = result.get("error")
    return Observed(effects, error if isinstance(error, str) else None)
