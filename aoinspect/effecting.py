"""What importing a module does to the rest of the interpreter, observed in a fresh child
(``child/observe.py`` with ``child/effects.py``): ``advise`` lists it as what deferring an import of
that module would delay or cancel, and an import that fails alone as a risk."""

from __future__ import annotations

import ast
import os
import sys
from dataclasses import dataclass

from aoinspect.errors import ProbeFailed

OBSERVE_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "child", "observe.py")
RESULT_LIMIT = 4 * 1024 * 1024


@dataclass(frozen=True)
class Observed:
    changes: tuple[tuple[str, str], ...]  # (kind, detail), kinds in protocol.EFFECT_KINDS order
    error: str | None  # importing the targets alone raised this: "ImportError: ..."


def observe(targets: tuple[str, ...], *, python: str | None = None, timeout: float = 60.0) -> Observed:
    """Import ``targets`` in a fresh ``python`` (None: this one) and report what that changed."""
    import tempfile

    from aoinspect.files import UnreadableFile, read_regular_file
    from aoinspect.probing.runner import reaping_strays, run_bounded

    with tempfile.TemporaryDirectory(prefix="aoinspect-observe-") as workdir:
        result_path = os.path.join(workdir, "result")
        command = [python or sys.executable, "-X", "utf8", OBSERVE_FILE, result_path, *targets]
        with reaping_strays():
            _returncode, _output, timed_out = run_bounded(command, timeout)
        if timed_out:
            raise ProbeFailed(f"importing {', '.join(targets)} to observe its effects took more than {timeout:g} s.")
        try:
            text = read_regular_file(result_path, RESULT_LIMIT).decode("utf-8", errors="replace")
            result = ast.literal_eval(text)
        except (UnreadableFile, ValueError, SyntaxError, MemoryError, RecursionError):
            return Observed((), f"the child importing {', '.join(targets)} ended without reporting")
    changes = tuple((str(kind), str(detail)) for kind, detail in result.get("changes", ()) if detail is not None)
    error = result.get("error")
    return Observed(changes, error if isinstance(error, str) else None)
