"""``aoinspect advise``: which import statements of PKG (or of a program's own files) PEP 810 lets
be lazy, what deferring each saves, measured, and whether it is safe. Built from the one command
path (``aoinspect.commands.path``); the engine is ``aoinspect.advising``. Loaded by the group
only when ``advise`` runs, is completed or is configured."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

import click

from aoinspect.commands.options import (
    Command,
    Seconds,
    format_option_for,
    option,
    output_option,
    package_argument,
    package_option,
    python_option,
    terminal_columns,
)
from aoinspect.commands.path import Invocation

if TYPE_CHECKING:
    from aoinspect.models.advise import FailCondition

# Where the words after ``--`` wait for the command (``click.Context.meta``).
PROGRAM = "aoinspect.advise.program"
DEFAULT_BUDGET = 30.0

ADVISE_HELP_EPILOG = """\b
Exit codes:
  0  the advice was made (and no --fail-on condition held)
  1  a --fail-on condition held
  2  usage error
  3  the package (or the program) failed to import or run
  4  a child failed: it timed out, crashed, or ended without reporting
"""


class FailOn(click.ParamType):  # type: ignore[type-arg]
    """``saving>5ms``, ``saving>10`` (modules), ``stale-entry``, ``reified-entry``: parsed by the model's parser."""

    name = "condition"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> FailCondition:
        from aoinspect.models.advise import FailCondition, parse_fail_on

        if isinstance(value, FailCondition):
            return value
        try:
            return parse_fail_on(str(value))
        except ValueError as exc:
            self.fail(f"{exc}.", param, ctx)


class AdviseCommand(Command):
    """``advise [PKG] [OPTIONS] [-- PROGRAM]``: the words after the first ``--`` are the program,
    whatever they look like."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if "--" in args:
            at = args.index("--")
            ctx.meta[PROGRAM] = tuple(args[at + 1:])
            args = args[:at]
        return super().parse_args(ctx, args)


@click.command("advise", cls=AdviseCommand, epilog=ADVISE_HELP_EPILOG)
@package_argument
@package_option
@python_option
@format_option_for("advise")
@output_option
@option("--entry", "entry_code", metavar="CODE", default=None,
        help="Advise on running CODE (e.g. 'import PKG.cli') instead of `import PKG`; PKG still says whose "
             "files are advised on.")
@option("--budget", type=click.FloatRange(min=0, max=7 * 24 * 3600.0), default=DEFAULT_BUDGET, show_default=True,
        metavar="SECONDS",
        help="Time for the timing children (fresh interpreters, deferred and undeferred interleaved); the "
             "candidates that save the most modules are measured first, the rest say 'not measured'. 0: time "
             "nothing.")
@option("--timeout", type=Seconds(), default=None, metavar="SECONDS",
        help="Time limit for each child (default: 60).")
@option("--fail-on", "fail_on", type=FailOn(), multiple=True, metavar="CONDITION",
        help="Exit 1 when CONDITION holds: saving>MSms (an eager import whose deferral saves more than MS, "
             "measured), saving>N (more than N modules), stale-entry (a __lazy_modules__ entry that selects "
             "nothing), reified-entry (a declared entry undone during the import). Repeatable.")
@option("--lazy-keyword", is_flag=True, default=False,
        help="patch: add `lazy` to each recommended statement (projects that require Python 3.15) instead "
             "of a __lazy_modules__ block.")
@click.pass_context
def advise_command(
    ctx: click.Context, /, entry_code: str | None, budget: float, fail_on: tuple[FailCondition, ...],
    lazy_keyword: bool, **_options: Any,
) -> None:
    """Say which import statements of PKG to make lazy (PEP 810), what each saves, and whether it is safe.

    Every import statement executed while importing PKG (or running --entry CODE, or `advise --
    PROGRAM`: the program's own files) gets one row: whether PEP 810 allows it lazy there, the exact
    __lazy_modules__ entry that selects it, the modules that stop loading when it alone is deferred
    (or the chain that keeps them loaded), where deferral would be undone during the import, the
    time saved measured in fresh children, and what deferring it would delay (atexit, signal
    handlers, sys.path, registries...). `--format patch` prints the __lazy_modules__ blocks. With
    -- PROGRAM the program is run several times: once recorded, then deferred and undeferred.
    """
    from aoinspect import advising
    from aoinspect.render import RenderOptions, render

    program: tuple[str, ...] = ctx.meta.get(PROGRAM, ())
    invocation = Invocation(ctx, "advise")
    given_package = ctx.params.get("package_argument") or invocation.value("package")
    package = None if program and not given_package else invocation.package
    if program:
        click.echo("aoinspect: advise runs the program several times: once recorded, then deferred and "
                   "undeferred for each candidate it times.", err=True)
    report = advising.advise(
        package, entry=entry_code, program=program, python=invocation.value("python"),
        timeout=invocation.value("timeout") or 60.0, budget=budget, fail_on=fail_on,
    )
    to_terminal = invocation.output is None and sys.stdout.isatty()
    width = terminal_columns(100) if to_terminal else 100
    color = invocation.fmt == "text" and "NO_COLOR" not in os.environ and to_terminal
    invocation.emit(render(report, invocation.fmt,
                           RenderOptions(color=color, width=max(width, 60), lazy_keyword=lazy_keyword)))
    ctx.exit(report.exit_code)
