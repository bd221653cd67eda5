"""The command line: parse options, call one engine function, render, exit with its code.

Only Click is imported at start-up; the engine, the renderers and package metadata are
imported by the command that needs them, so that ``aoinspect --help`` stays cheap.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any, Callable

import click

if TYPE_CHECKING:
    from aoinspect.models import CheckReport, ListReport, ResolveReport
    from aoinspect.runner import ProbeSettings

EXIT_CODES_HELP = """\b
Exit codes:
  0  everything asked for succeeded
  1  a name was rejected or failed to resolve, or check found an error
  2  usage error (including a NAME that is not a valid attribute name)
  3  the package could not be imported
  4  a probe failed: it timed out, crashed, or ended without reporting
"""

DEFAULT_PACKAGE = "ao"
DEFAULT_TIMEOUT = 60.0
# Kept here rather than imported from aoinspect.render, so that --help imports nothing else.
ALL_FORMATS = ("text", "json", "tree", "dot", "mermaid", "svg")
COMMAND_FORMATS = {"list": ("text", "json"), "check": ("text", "json"), "resolve": ALL_FORMATS}


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    import importlib_metadata

    click.echo(f"aoinspect {importlib_metadata.version('aoinspect')}")
    ctx.exit(0)


def _common_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """Options every command takes; given after the command they override the group's."""
    options = [
        click.option("-p", "--package", metavar="PKG", default=None,
                     help=f"Importable package or module to inspect (default: {DEFAULT_PACKAGE})."),
        click.option("--format", "fmt", type=click.Choice(ALL_FORMATS), default=None,
                     help="Output format (default: text); resolve also draws tree, dot, mermaid and svg."),
        click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=None,
                     metavar="SECONDS", help=f"Time limit for each probe (default: {DEFAULT_TIMEOUT:g})."),
        click.option("-j", "--jobs", type=click.IntRange(min=1), default=None, metavar="N",
                     help="Probes to run at once (default: the number of CPUs)."),
        click.option("--isolation", type=click.Choice(["auto", "fork", "spawn"]), default=None,
                     help="fork: import PKG once and fork a fresh copy per probe; spawn: a new "
                          "interpreter per probe; auto (default): fork where it is safe."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


@click.group(epilog=EXIT_CODES_HELP, context_settings={"help_option_names": ["-h", "--help"]})
@_common_options
@click.option("--debug", is_flag=True, help="Show Python tracebacks of aoinspect's own errors.")
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_print_version,
              help="Show the version and exit.")
@click.pass_context
def cli(ctx: click.Context, package: str | None, fmt: str | None, timeout: float | None,
        jobs: int | None, isolation: str | None, debug: bool) -> None:
    """Show what importing a lazy package, and each attribute access, actually loads.

    Every measurement runs in a fresh child interpreter and equals what a bare
    `python -c "import PKG; PKG.NAME"` adds to sys.modules.
    """
    ctx.obj = {"package": package, "fmt": fmt, "timeout": timeout, "jobs": jobs, "isolation": isolation,
               "debug": debug}


class _Invocation:
    """The effective options of one command: its own, else the group's, else the defaults."""

    def __init__(self, ctx: click.Context, command: str, **own: Any) -> None:
        group = ctx.obj or {}

        def pick(key: str, default: Any) -> Any:
            if own.get(key) is not None:
                return own[key]
            if group.get(key) is not None:
                return group[key]
            return default

        self.ctx = ctx
        self.command = command
        self.package: str = pick("package", DEFAULT_PACKAGE)
        self.fmt: str = pick("fmt", "text")
        self.timeout: float = pick("timeout", DEFAULT_TIMEOUT)
        self.jobs: int = pick("jobs", os.cpu_count() or 1)
        self.isolation: str = pick("isolation", "auto")
        self.debug: bool = bool(group.get("debug"))
        self.render_options: dict[str, Any] = {}
        allowed = COMMAND_FORMATS[command]
        if self.fmt not in allowed:
            raise click.UsageError(
                f"{command} prints {', '.join(allowed)}; --format {self.fmt} is for resolve.", ctx=ctx
            )

    def settings(self) -> ProbeSettings:
        from aoinspect.runner import ProbeSettings

        return ProbeSettings(python=sys.executable, timeout=self.timeout, jobs=self.jobs, isolation=self.isolation)

    def run(self, produce: Callable[[ProbeSettings], ListReport | ResolveReport | CheckReport]) -> None:
        """The one error funnel: render the report, or the failure, and exit with its code."""
        from aoinspect.errors import AoinspectError
        from aoinspect.models import Failure
        from aoinspect.render import RenderOptions, render
        from aoinspect.runner import kill_all

        color = self.fmt == "text" and "NO_COLOR" not in os.environ and sys.stdout.isatty()
        options = RenderOptions(color=color, **self.render_options)
        try:
            report = produce(self.settings())
        except AoinspectError as exc:
            if self.debug:
                raise
            failure = Failure(self.command, self.package, exc.kind, exc.message, exc.exit_code, exc.error)
            self._fail(failure, render)
        except KeyboardInterrupt:
            kill_all()
            click.echo("aoinspect: interrupted", err=True)
            self.ctx.exit(130)
        except Exception as exc:
            kill_all()
            if self.debug:
                raise
            message = f"internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)"
            self._fail(Failure(self.command, self.package, "internal", message, 4), render)
        click.echo(render(report, self.fmt, options))
        self.ctx.exit(report.exit_code)

    def _fail(self, failure: Any, render: Callable[..., str]) -> None:
        if self.fmt == "json":
            click.echo(render(failure, "json"))
        click.echo(f"aoinspect: {failure.message}", err=True)
        self.ctx.exit(failure.exit_code)


_repeat_option = click.option(
    "--repeat", type=click.IntRange(min=1), default=1, metavar="N", show_default=True,
    help="Run each probe N times in fresh interpreters; times are medians, with minimums.",
)


@cli.command("list", epilog=EXIT_CODES_HELP)
@_common_options
@click.option("--all", "include_undeclared", is_flag=True,
              help="Also list submodules on disk that no declaration exports.")
@click.option("--resolve", "resolve", is_flag=True,
              help="Also resolve each lazy name and show its module count and total time.")
@_repeat_option
@click.pass_context
def list_command(
    ctx: click.Context, /, include_undeclared: bool, resolve: bool, repeat: int, **options: Any
) -> None:
    """List the lazy names PKG declares, where, and whether `import PKG` already loads them.

    Names come from __all__, from `if TYPE_CHECKING:` blocks (read statically) and from a
    stub read by a lazy loader. Without --resolve, PKG is imported once, in a child, and
    nothing else.
    """
    from aoinspect import engine

    invocation = _Invocation(ctx, "list", **options)
    invocation.run(lambda settings: engine.list_names(
        settings, invocation.package, include_undeclared=include_undeclared, resolve=resolve, repeat=repeat))


@cli.command("resolve", epilog=EXIT_CODES_HELP)
@_common_options
@click.argument("names", nargs=-1, metavar="NAME [NAME ...]")
@click.option("--all", "resolve_all", is_flag=True, help="Resolve every name PKG declares.")
@_repeat_option
@click.option("--top", type=click.IntRange(min=0), default=20, show_default=True, metavar="N",
              help="text: how many of the heaviest modules to show (0: all).")
@click.option("--sort", type=click.Choice(["cumulative", "self", "name", "order"]), default="cumulative",
              show_default=True, help="text: how to order the module table (order: as imports began).")
@click.option("--depth", type=click.IntRange(min=1), default=None, metavar="N",
              help="tree: show N levels, collapse the rest.")
@click.pass_context
def resolve_command(
    ctx: click.Context, /, names: tuple[str, ...], resolve_all: bool, repeat: int, top: int, sort: str,
    depth: int | None, **options: Any,
) -> None:
    """Access PKG.NAME for each NAME, each in a fresh interpreter, and show what it loaded.

    NAME may be dotted (nn.quantized): each attribute is then accessed in turn, and each
    step is reported. Names that start with '-' go after '--'.
    """
    from aoinspect import engine

    if not names and not resolve_all:
        raise click.UsageError("give at least one NAME, or --all.", ctx=ctx)
    invocation = _Invocation(ctx, "resolve", **options)
    invocation.render_options = {"top": top, "sort": sort, "depth": depth}
    if resolve_all:
        invocation.run(lambda settings: engine.resolve_all(settings, invocation.package, repeat=repeat))
    else:
        invocation.run(lambda settings: engine.resolve_names(settings, invocation.package, names, repeat=repeat))


@cli.command("check", epilog=EXIT_CODES_HELP)
@_common_options
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@click.pass_context
def check_command(ctx: click.Context, /, strict: bool, **options: Any) -> None:
    """Check PKG's lazy contract: names import on demand, unknown names are rejected.

    \b
    Rules (errors fail the run; warnings too with --strict):
      import-failed          PKG cannot be imported (exit 3)
      eager-import           a lazy name is already loaded by `import PKG`
      resolve-failed         a declared name fails to resolve
      wrong-exception        an unknown name raises something other than AttributeError
      unknown-accepted       an unknown name returns a value
      rejection-side-effect  looking up an unknown name imports modules
      declaration-mismatch   TYPE_CHECKING block or stub disagrees with __all__
      invalid-all            __all__ is not a list of unique strings
      probe-failed           a probe timed out or crashed (exit 4)
      not-cached             (warning) a second access calls __getattr__ again
      missing-dir            (warning) dir(PKG) does not list the lazy names
    """
    from aoinspect import engine

    invocation = _Invocation(ctx, "check", **options)
    invocation.run(lambda settings: engine.check_package(settings, invocation.package, strict=strict))


def main() -> None:
    cli(prog_name="aoinspect")
