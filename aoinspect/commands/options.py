"""The options every command of ``aoinspect`` is built from, and all the group needs at start-up.

Options are objects (``Option``) defined once and shared, so that the same bad value gets the
same message in every command and each option names its ``[tool.aoinspect]`` key (its long
name). With them: the option types, the commands' class (``Command``) and context (``Context``:
help as wide as the terminal, measured without shutil). ``aoinspect --help`` imports this module
and not ``path`` (the ``Invocation``, what a running command needs); it imports only Click and
the format registry.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Callable

import click

from aoinspect import formats

DEFAULT_PACKAGE = "ao"
DEFAULT_TIMEOUT = 60.0
# A week: beyond it waits overflow the platform's timers, and no probe should need longer.
MAX_TIMEOUT = 7 * 24 * 3600.0
# Every repeat of every name is a probe request held in memory before the first runs: an
# unbounded N (100,000,000 took 1.5 GB within a second) would exhaust the machine, not measure.
MAX_REPEAT = 1000
# Probes at once (-j) and threads per name (check --threads): beyond a few hundred nothing runs
# faster, and 10**8 spent a minute and gigabytes before failing.
MAX_JOBS = 256
# Where a command's ``Invocation`` waits for the error funnel (``click.Context.meta``).
INVOCATION = "aoinspect.invocation"


# --- option types: one per kind of value, shared by every command that takes it ---------------


class Seconds(click.ParamType):  # type: ignore[type-arg]
    """A finite, positive number of seconds up to MAX_TIMEOUT: ``nan`` compares false with
    every bound, and ``inf`` or ``1e10`` overflow the timers that enforce it."""

    name = "seconds"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        import math

        try:
            seconds = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number of seconds.", param, ctx)
        if not math.isfinite(seconds) or not 0 < seconds <= MAX_TIMEOUT:
            self.fail(f"{value!r} is not a number of seconds above 0 and at most {MAX_TIMEOUT:g}.", param, ctx)
        return seconds


class BudgetType(click.ParamType):  # type: ignore[type-arg]
    """``N`` limits ``import PKG`` (or the traced program); ``NAME:N`` limits accessing NAME, where
    the command measures names (``named``). Check's and trace's budgets alike."""

    name = "budget"

    def __init__(self, named: bool = True) -> None:
        self.named = named

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> tuple[str | None, float]:
        if isinstance(value, tuple):
            return value
        name, _, limit = str(value).rpartition(":")
        try:
            number = float(limit)
        except ValueError:
            self.fail(f"{value!r} is not N or NAME:N.", param, ctx)
        if not 0 <= number < float("inf"):  # also refuses nan, which no count or time exceeds
            self.fail(f"{value!r}: a budget is a finite number, 0 or more.", param, ctx)
        if name and not self.named:
            self.fail(f"{value!r}: this budget is for the whole program, N without NAME:.", param, ctx)
        return name or None, number


class NamePattern(click.ParamType):  # type: ignore[type-arg]
    name = "name-pattern"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> tuple[str, str]:
        if isinstance(value, tuple):
            return value
        name, separator, pattern = str(value).partition(":")
        if not separator or not name or not pattern:
            self.fail(f"{value!r} is not NAME:PATTERN.", param, ctx)
        return name, pattern


class RuleId(click.ParamType):  # type: ignore[type-arg]
    """A rule id; with ``presets``, also the name of a set of rules (``--ignore whole-package``)."""

    name = "rule"

    def __init__(self, presets: bool = False) -> None:
        self.presets = presets

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from aoinspect.rules import BY_ID, PRESETS, unknown_rule

        if value not in BY_ID and not (self.presets and value in PRESETS):
            self.fail(unknown_rule(str(value), presets=self.presets), param, ctx)
        return str(value)


class FilePath(click.ParamType):  # type: ignore[type-arg]
    """``click.Path(dir_okay=False, ...)``, made when a value is first checked: click.Path's
    constructor asks gettext for its name, which imports locale (0.7 ms of a 45 ms start), and
    neither --help nor --version checks a path. Everything is click.Path's own."""

    name = "file"

    def __init__(self, **options: Any) -> None:
        self.options = {"dir_okay": False, **options}
        self._path: click.Path | None = None

    @property
    def path(self) -> click.Path:
        if self._path is None:
            self._path = click.Path(**self.options)
        return self._path

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        return self.path.convert(value, param, ctx)

    def get_metavar(self, param: click.Parameter, ctx: click.Context) -> str | None:
        return self.path.get_metavar(param, ctx)

    def shell_complete(self, ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
        return self.path.shell_complete(ctx, param, incomplete)

    def to_info_dict(self) -> Any:  # click.Path's, whatever its shape
        return self.path.to_info_dict()


class Option(click.Option):
    """An option that is also a ``[tool.aoinspect]`` key: its long name (``config=False``: it is
    none). ``inherit=False`` marks a command's option that shares a name with one of the
    group's but not its meaning (trace's ``--timeout`` bounds the program, not a probe): it
    takes neither the group's value nor the top-level key, only its command's sub-table."""

    def __init__(self, *args: Any, config: bool = True, inherit: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.config = config
        self.inherit = inherit

    @property
    def key(self) -> str:
        return max(self.opts, key=len).lstrip("-")


def option(*decls: str, **kwargs: Any) -> Callable[[Any], Any]:
    return click.option(*decls, cls=Option, **kwargs)


# --- the options, each defined once ------------------------------------------------------------

package_option = option("-p", "--package", metavar="PKG", default=None,
                          help=f"Importable package or module to inspect (default: {DEFAULT_PACKAGE}).")
python_option = option("--python", metavar="PATH", default=None, envvar="AOINSPECT_PYTHON",
                         help="Run every probe (or the traced program) with this interpreter (3.9+), e.g. "
                              "another venv's python; also AOINSPECT_PYTHON. Default: the one running aoinspect.")
format_option = option("--format", "fmt", type=click.Choice(formats.ALL), default=None,
                       help=formats.option_help(("list", "resolve", "check", "snapshot"))
                       + " Without it, -o FILE's extension picks the format.")
output_option = option("-o", "--output", type=FilePath(writable=True), default=None,
                         metavar="FILE", config=False,
                         help="Write the report to FILE instead of stdout; without --format, FILE's extension "
                              "picks it (.json, .html, .md, .xml: junit, .sarif, .svg, ...).")
probe_options = [
    package_option,
    python_option,
    format_option,
    option("--timeout", type=Seconds(), default=None, metavar="SECONDS",
            help=f"Time limit for each probe (default: {DEFAULT_TIMEOUT:g}); check's probes that load the whole "
                 "package get at least 3 x what the import and the lazy names took, plus 10 s."),
    option("-j", "--jobs", type=click.IntRange(min=1, max=MAX_JOBS), default=None, metavar="N",
            help=f"Probes to run at once (default: the number of CPUs; at most {MAX_JOBS})."),
    option("--cache-dir", metavar="DIR", default=None, envvar="AOINSPECT_CACHE_DIR",
            help="Keep results in DIR (default: .aoinspect_cache beside the nearest pyproject.toml, "
                 "else in the current directory); also AOINSPECT_CACHE_DIR."),
    option("--no-cache", "no_cache", is_flag=True, default=None, envvar="AOINSPECT_NO_CACHE",
            help="Measure everything again and keep nothing (also AOINSPECT_NO_CACHE=1)."),
    option("--isolation", type=click.Choice(["auto", "fork", "fork-each", "spawn"]), default=None,
            help="fork: import PKG once and fork a fresh copy per probe, measuring the names one "
                 "module serves in one probe where that is provably exact; fork-each: a fresh "
                 "fork for every name; spawn: a new interpreter per probe; auto (default): fork "
                 "where it is safe."),
]


def apply_options(options: list[Callable[[Any], Any]]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorate(function: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            function = option(function)
        return function
    return decorate


def format_option_for(command: str) -> Callable[[Any], Any]:
    """A command's --format: the one option type (every format, so that a bad value reads the
    same everywhere), its help naming what this command prints."""
    printed = formats.names_for(command)
    default = "json" if command == "snapshot" else "text"
    return option("--format", "fmt", type=click.Choice(formats.ALL), default=None, metavar="FORMAT",
                   help=f"{', '.join(printed)} (default: {default}; without --format, -o FILE's extension "
                        "picks it).")


def common_options(command: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Options every command that probes a package takes; given after the command they
    override the group's."""
    options = [format_option_for(command) if option is format_option else option for option in probe_options]
    return apply_options([*options, output_option])


def forbid_option(what: str) -> Callable[[Any], Any]:
    return option("--forbid", multiple=True, metavar="PATTERN",
                   help=f"Fail when {what} loads a module matching PATTERN (fnmatch; 'numpy' also covers "
                        "'numpy.*'). Repeatable.")


def budget_options(what: str, *, named: bool) -> list[Callable[[Any], Any]]:
    """``--max-modules`` and ``--max-import-ms``: one parser (``BudgetType``) for check and trace."""
    metavar, repeatable = ("[NAME:]", " Repeatable.") if named else ("", "")
    on_name = " (or accessing NAME)" if named else ""
    return [
        option("--max-modules", type=BudgetType(named), multiple=named, default=None if not named else (),
                metavar=f"{metavar}N", help=f"Most modules {what}{on_name} may load.{repeatable}"),
        option("--max-import-ms", type=BudgetType(named), multiple=named, default=None if not named else (),
                metavar=f"{metavar}MS",
                help=f"Most milliseconds {what}{on_name} may spend importing"
                     + (": the fastest of --repeat runs." if named else ".") + repeatable),
    ]


def package_argument(function: Callable[..., Any]) -> Callable[..., Any]:
    """``aoinspect list PKG``: the package where users type it; -p and the configuration otherwise."""
    return click.argument("package_argument", metavar="[PKG]", required=False, default=None)(function)


names_option = option(
    "--names", "names_matching", multiple=True, metavar="GLOB",
    help="Measure only the lazy names matching GLOB (fnmatch, e.g. 'Bert*'). Repeatable.",
)
repeat_option = option(
    "--repeat", type=click.IntRange(min=1, max=MAX_REPEAT), default=1, metavar="N", show_default=True,
    help=f"Run each probe N times in fresh interpreters (at most {MAX_REPEAT}); times are medians, with minimums.",
)
top_option = option("--top", type=click.IntRange(min=0), default=20, show_default=True, metavar="N",
                      help="text: how many of the heaviest modules (trace: lines) to show (0: all).")
depth_option = option("--depth", type=click.IntRange(min=1), default=None, metavar="N",
                        help="tree: show N levels, collapse the rest.")


EXIT_CODES_HELP = """\b
Exit codes:
  0  everything asked for succeeded
  1  a name was rejected or failed to resolve, or check found an error
  2  usage error (including a NAME that is not a valid attribute name)
  3  the package could not be imported
  4  a probe failed: it timed out, crashed, or ended without reporting
"""


# --- the command class, failure documents -----------------------------------------------------


def terminal_columns(fallback: int) -> int:
    """``shutil.get_terminal_size((fallback, 24)).columns`` without importing shutil (and bz2,
    lzma and zlib with it) at start-up: COLUMNS, else the terminal of stdout, else ``fallback``."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or fallback


class Context(click.Context):
    """Click's context, whose help is as wide as Click makes it, measured without shutil."""

    def make_formatter(self) -> click.HelpFormatter:
        from click import formatting

        width = self.terminal_width or formatting.FORCED_WIDTH
        if width is None:
            width = max(min(terminal_columns(80), self.max_content_width or 80) - 2, 50)
        return self.formatter_class(width=width, max_width=self.max_content_width)


# Click's own help text for the help option, which Click looks up through gettext: the first
# lookup imports locale and searches for catalogues, a millisecond of every command that runs.
HELP_OPTION_TEXT = "Show this message and exit."


class UntranslatedHelp(click.Command):
    """A command (or group) whose help option is Click's, with Click's English text given rather
    than looked up in gettext's catalogues, which Click ships none of."""

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        names = self.get_help_option_names(ctx)
        if not names or not self.add_help_option or getattr(self, "_help_option", False) is not None:
            return super().get_help_option(ctx)  # made already, none asked for, or a Click that keeps none
        # As click.help_option makes it (whose default text is looked up even when one is given).
        storage = getattr(click.core, "_HELP_OPTION_STORAGE_NAME", None)  # Click 8.5: its value's own name
        help_option = click.Option([*names, *((storage,) if storage else ())], is_flag=True, expose_value=False,
                                   is_eager=True, help=HELP_OPTION_TEXT, callback=_show_help)
        self._help_option = help_option
        return help_option


def _show_help(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    """The help option's callback, as Click's: print the help page and exit."""
    if value and not ctx.resilient_parsing:
        click.echo(ctx.get_help(), color=ctx.color)
        ctx.exit()


class Command(UntranslatedHelp):
    """A command whose usage errors name the right spelling when words are left over."""

    context_class = Context
    extra_hint: Callable[[click.Context, str], str] | None = None

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            hint = type(self).extra_hint
            if hint is None or "unexpected extra argument" not in exc.message:
                raise
            extra = exc.message.partition("(")[2].rpartition(")")[0]
            raise click.UsageError(f"{exc.message}\nHint: {hint(ctx, extra)}", ctx=ctx) from None
