"""``aoinspect graph``: record the executed-import graph of ``import PKG`` (or ``--entry CODE``, or
``-- PROGRAM``) in one child and print it. Built from the one command path
(``aoinspect.commands.path``); the group loads this module only when ``graph`` runs, is completed
or is configured."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from aoinspect.commands.options import (
    Command,
    Seconds,
    format_option_for,
    option,
    package_option,
    python_option,
)
from aoinspect.commands.path import Invocation

if TYPE_CHECKING:
    from aoinspect.models.graph import ImportGraph

GRAPH_TIMEOUT = 60.0
GRAPH_HELP_EPILOG = """\b
Exit codes:
  0  the graph was recorded and the entry ran to its end
  2  usage error
  3  the entry raised (or the program exited non-zero); the graph up to then is printed
  4  the child crashed or reported nothing
  124  the entry was still running near --timeout (a server): the graph of its start-up
       so far is printed
"""
PROGRAM_KEY = "aoinspect.graph.program"  # ctx.meta: the words after ``--``, when there is one


class GraphCommand(Command):
    """Words after ``--`` are PROGRAM, whatever they look like; the words before, PKG."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if "--" in args:
            split = args.index("--")
            ctx.meta[PROGRAM_KEY] = tuple(args[split + 1:])
            args = args[:split]
        return super().parse_args(ctx, args)


@click.command("graph", cls=GraphCommand, epilog=GRAPH_HELP_EPILOG)
@click.argument("package_argument", metavar="[PKG]", required=False, default=None)
@package_option
@python_option
@format_option_for("graph")
@option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default=None, metavar="FILE",
         config=False, help="Write the report to FILE instead of stdout; without --format, FILE's extension picks it.")
@option("--entry", metavar="CODE", default=None,
         help="Run CODE (as python -c runs it) instead of `import PKG`, e.g. 'import PKG.cli'.")
@option("--timeout", type=Seconds(), default=None, metavar="SECONDS",
         help=f"Stop the entry after SECONDS and print the graph so far (default: {GRAPH_TIMEOUT:g}).")
@click.pass_context
def graph_command(ctx: click.Context, /, entry: str | None, **_options: Any) -> None:
    """Record every import request `import PKG` makes, hits included, and who made it.

    One child runs `import PKG` (or --entry CODE, or PROGRAM after --: `script.py ARGS`,
    `-m module ARGS` or `-c CODE ARGS`) with every import statement, `__import__` and
    `importlib.import_module` call recorded: the line that asked, the module whose import
    body was running (the request's owner), the resolved target, whether it was already
    loaded (a hit) and what it loaded. `--format json` is the graph other tools read.
    """
    from aoinspect.render import RenderOptions, render

    program = ctx.meta.get(PROGRAM_KEY)
    invocation = Invocation(ctx, "graph")  # settles PKG: the argument, -p, the configuration, else ao
    if program is not None:  # a program names no package unless one was given
        invocation.package = str(ctx.params.get("package_argument") or ctx.params.get("package") or "")
    if program is not None and entry is not None:
        raise click.UsageError("give --entry CODE or -- PROGRAM, not both.", ctx=ctx)
    graph = run_graph(invocation.package, entry=entry, program=program, python=invocation.value("python"),
                      timeout=invocation.value("timeout") or GRAPH_TIMEOUT)
    invocation.emit(render(graph, invocation.fmt, RenderOptions()))
    ctx.exit(graph.exit_code)


def run_graph(package: str, *, entry: str | None = None, program: tuple[str, ...] | None = None,
              python: str | None = None, timeout: float = GRAPH_TIMEOUT) -> ImportGraph:
    """Check the interpreter and PROGRAM (usage errors), then record the graph."""
    from aoinspect.errors import InvalidSetting
    from aoinspect.graphing import record_graph

    options: tuple[str, ...] = ()
    words: tuple[str, ...] | None = None
    if program is not None:
        from aoinspect.tracing.program import parse_program

        parsed = parse_program(program)
        options, words = parsed.interpreter_options, parsed.argv
    if python is not None:
        from aoinspect.probing.runner import check_interpreter

        problem = check_interpreter(python)
        if problem:
            raise InvalidSetting(problem)
    return record_graph(package, entry=entry, program=words, python=python, timeout=timeout,
                        interpreter_options=options)
