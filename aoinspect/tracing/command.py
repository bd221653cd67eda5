"""``aoinspect trace``'s work, apart from its command line: check PROGRAM and the interpreter,
run the program under the tracer, and return the report (``aoinspect.cli`` renders it)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from aoinspect.tracing.models import TraceOptions, TraceReport

# How long another interpreter may take to say which version it is.
INTERPRETER_CHECK_SECONDS = 30.0


def run_trace(
    words: Sequence[str], *, python: str | None = None, timeout: float | None = None,
    options: TraceOptions | None = None,
) -> TraceReport:
    """Run PROGRAM (``words``, as ``python`` takes them) with ``python`` (None: this interpreter)
    to its end or ``timeout``. A PROGRAM python would not run and an interpreter that is not
    Python 3.9+ are usage errors (``AoinspectError`` of kind ``usage``), raised before anything runs."""
    from aoinspect.errors import InvalidSetting
    from aoinspect.tracing.program import parse_program

    program = parse_program(tuple(words))
    interpreter = sys.executable
    if python is not None:
        from aoinspect.probing.runner import check_interpreter

        problem = check_interpreter(python, INTERPRETER_CHECK_SECONDS)
        if problem:
            raise InvalidSetting(problem)
        interpreter = python
    from aoinspect.tracing.run import trace_program

    return trace_program(interpreter, program, timeout=timeout, options=options)
