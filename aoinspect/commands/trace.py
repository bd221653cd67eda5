"""The ``aoinspect trace`` command: parse options, run the program under the tracer, render
the report to a file or stderr, and exit with the program's code. Imports only Click at
module level: ``aoinspect --help`` loads this file."""

from __future__ import annotations

import sys
from typing import Any

import click

from aoinspect import schema

TRACE_HELP_EPILOG = """\b
Exit code: the program's own (128+N when a signal N killed it), or:
  1    the program succeeded but --forbid/--max-modules/--max-import-ms failed
       (a program that failed keeps its own code: it says more)
  2    usage error (PROGRAM is not something python runs)
  4    aoinspect itself could not run the program
  124  the program ran past --timeout and was killed
"""


@click.command("trace", epilog=TRACE_HELP_EPILOG,
               context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.argument("program", nargs=-1, type=click.UNPROCESSED, metavar="-- PROGRAM")
@click.option("--python", metavar="PATH", default=None, envvar="AOINSPECT_PYTHON",
              help="Run the program with this interpreter (3.9+); also AOINSPECT_PYTHON.")
@click.option("--format", "fmt", type=click.Choice(schema.COMMAND_FORMATS["trace"]), default=None,
              help="Report format (default: text).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default=None, metavar="FILE",
              help="Write the report to FILE (default: stderr, after the program ends).")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=None, metavar="SECONDS",
              help="Kill the program after SECONDS (exit 124); the trace up to then is kept.")
@click.option("--focus", metavar="PKG", default=None, help="text: only the loads of PKG's modules, and their lines.")
@click.option("--why", metavar="MODULE", default=None,
              help="text: the chain from the program's line to MODULE, one hop a line.")
@click.option("--top", type=click.IntRange(min=0), default=20, show_default=True, metavar="N",
              help="text: how many lines to show (0: all).")
@click.option("--depth", type=click.IntRange(min=1), default=None, metavar="N", help="tree: show N levels.")
@click.option("--forbid", multiple=True, metavar="PATTERN",
              help="Fail when the program loads a module matching PATTERN (as check's). Repeatable.")
@click.option("--max-modules", type=click.IntRange(min=0), default=None, metavar="N",
              help="Fail when the program loads more than N modules.")
@click.option("--max-import-ms", type=click.FloatRange(min=0), default=None, metavar="MS",
              help="Fail when the program spends more than MS milliseconds importing.")
@click.pass_context
def trace_command(
    ctx: click.Context, /, program: tuple[str, ...], python: str | None, fmt: str | None, output: str | None,
    timeout: float | None, focus: str | None, why: str | None, top: int, depth: int | None,
    forbid: tuple[str, ...], max_modules: int | None, max_import_ms: float | None,
) -> None:
    """Run PROGRAM as `python PROGRAM` would and show which of its lines loaded which modules.

    PROGRAM is what you would give python, after --: `script.py ARGS`, `-m module ARGS` or
    `-c CODE ARGS`, optionally after interpreter options such as -X dev. The program keeps
    the terminal (stdin, stdout, stderr, signals); the report goes to -o FILE or, once the
    program ends, to stderr. Every module load is attributed to the line that triggered it,
    through lazy __getattr__ hops and introspection such as hasattr or inspect.getmodule.
    """
    from aoinspect.errors import AoinspectError
    from aoinspect.tracing.models import TraceOptions
    from aoinspect.tracing.program import parse_program

    group: dict[str, Any] = ctx.obj or {}
    fmt = fmt or (group.get("fmt") if group.get("fmt") in schema.COMMAND_FORMATS["trace"] else None) or "text"
    python = python or group.get("python")
    try:
        parsed = parse_program(program)
    except AoinspectError as exc:
        raise click.UsageError(exc.message, ctx=ctx) from None
    interpreter = sys.executable
    if python is not None:
        from aoinspect.probing.runner import check_interpreter

        problem = check_interpreter(python)
        if problem:
            raise click.BadParameter(problem, ctx=ctx, param_hint="'--python'")
        interpreter = python
    options = TraceOptions(forbid=forbid, max_modules=max_modules, max_import_ms=max_import_ms)
    try:
        from aoinspect.render import RenderOptions, render
        from aoinspect.tracing.run import trace_program

        report = trace_program(interpreter, parsed, timeout=timeout, options=options)
        text = render(report, fmt, RenderOptions(top=top, depth=depth, focus=focus, why=why))
    except Exception as exc:
        if group.get("debug"):
            raise
        click.echo(f"aoinspect: internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)",
                   err=True)
        ctx.exit(schema.EXIT_PROBE_FAILED)
    if output is not None:
        with open(output, "w", encoding="utf-8") as stream:
            stream.write(text + "\n")
    else:
        click.echo(text, err=True)
    ctx.exit(report.exit_code)
