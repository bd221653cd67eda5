"""``aoinspect trace``: run PROGRAM under the tracer and render the report to -o FILE or, once
the program has ended, to stderr; exit with the program's code. Built from the one command path
(``aoinspect.commands.path``): the same option types, configuration, output and error funnel as
every command. Loaded by the group only when ``trace`` runs, is completed or is configured."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from aoinspect.commands.options import (
    Command,
    FilePath,
    Seconds,
    apply_options,
    budget_options,
    depth_option,
    forbid_option,
    format_option_for,
    option,
    python_option,
    top_option,
)
from aoinspect.commands.path import (
    Invocation,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from aoinspect.tracing.run import TraceRun

# The formats that show where each module came from: the others never look distributions up.
# tests/test_trace.py holds every other format's output equal with and without them.
SHOW_DISTRIBUTIONS = ("json", "html", "svg")

# How long another interpreter may take to say which version it is.
INTERPRETER_CHECK_SECONDS = 30.0

TRACE_HELP_EPILOG = """\b
Exit code: the program's own (128+N when a signal N killed it), or:
  1    the program succeeded but --forbid/--max-modules/--max-import-ms failed
       (a program that failed keeps its own code: it says more)
  2    usage error (PROGRAM is not something python runs)
  4    aoinspect itself could not run the program
  124  the program ran past --timeout and was killed
"""


@click.command("trace", cls=Command, epilog=TRACE_HELP_EPILOG,
             context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.argument("program", nargs=-1, type=click.UNPROCESSED, metavar="-- PROGRAM")
@python_option
@format_option_for("trace")
@option("-o", "--output", type=FilePath(writable=True), default=None, metavar="FILE",
         config=False, help="Write the report to FILE (default: stderr, after the program ends); without "
                            "--format, FILE's extension picks it.")
@option("--timeout", type=Seconds(), default=None, metavar="SECONDS", inherit=False,
         help="Kill the program after SECONDS (exit 124); the trace up to then is kept. Not the probes' "
              "--timeout: configured in [tool.aoinspect.trace] only.")
@option("--focus", metavar="PKG", default=None, help="text: only the loads of PKG's modules, and their lines.")
@option("--why", metavar="MODULE", default=None,
         help="text: the chain from the program's line to MODULE, one hop a line.")
@option("--project", "projects", multiple=True, type=FilePath(dir_okay=True, file_okay=False), metavar="PATH",
        config=False,
        help="A directory whose files are the program's own, besides the script's directory, the working "
             "directory and the -m or console script's package (may be given again): the views attribute each "
             "load to the last line in these files before control went into a library.")
@top_option
@depth_option
@forbid_option("the program")
@apply_options(budget_options("the program", named=False))
@click.pass_context
def trace_command(
    ctx: click.Context, /, program: tuple[str, ...], focus: str | None, why: str | None, top: int,
    depth: int | None, forbid: tuple[str, ...], max_modules: tuple[None, float] | None,
    max_import_ms: tuple[None, float] | None, projects: tuple[str, ...], **_options: Any,
) -> None:
    """Run PROGRAM as `python PROGRAM` would and show which of its lines loaded which modules.

    PROGRAM is what you would give python, after --: `script.py ARGS`, `-m module ARGS` or
    `-c CODE ARGS`, optionally after interpreter options such as -X dev. The program keeps
    the terminal (stdin, stdout, stderr, signals); the report goes to -o FILE or, once the
    program ends, to stderr. Every module load is attributed to the program's own line that
    began it (the last line of its code before control went into a library) and to the line
    that imported it, through lazy __getattr__ hops and introspection such as hasattr or
    inspect.getmodule.
    """
    invocation = Invocation(ctx, "trace")
    fmt = invocation.fmt
    # The program starts first: the report's machinery is imported while it runs.
    with run_trace(program, python=invocation.value("python"), timeout=invocation.value("timeout"),
                   projects=projects) as running:
        from aoinspect.render import RenderOptions, render
        from aoinspect.render.trace import lines_shown

        view = RenderOptions(top=top, depth=depth, focus=focus, why=why)
        options = None
        if forbid or max_modules or max_import_ms:  # without contracts the rules are not even imported
            from aoinspect.models.trace import TraceOptions

            options = TraceOptions(forbid=forbid, max_modules=max_modules[1] if max_modules else None,
                                   max_import_ms=max_import_ms[1] if max_import_ms else None)
        report = running.report(options, distributions=fmt in SHOW_DISTRIBUTIONS,
                                shown=lines_shown(fmt, view))
    invocation.emit(render(report, fmt, view))
    ctx.exit(report.exit_code)


def run_trace(
    words: Sequence[str], *, python: str | None = None, timeout: float | None = None, projects: Sequence[str] = (),
) -> TraceRun:
    """Start PROGRAM (``words``, as ``python`` takes them) with ``python`` (None: this
    interpreter), to run to its end or ``timeout`` (``TraceRun.report()`` waits for it);
    ``projects``: more directories whose files are the program's own. A
    PROGRAM python would not run and an interpreter that is not Python 3.9+ are usage errors
    (``AoinspectError`` of kind ``usage``), raised before anything runs."""
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
    from aoinspect.tracing.run import TraceRun

    return TraceRun(interpreter, program, timeout, projects)
