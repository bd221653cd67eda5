"""The command line: parse options, call one engine function, render, exit with its code.

Only Click is imported at start-up; the engine, the renderers and package metadata are
imported by the command that needs them, so that ``aoinspect --help`` stays cheap.
"""

from __future__ import annotations

import os
import shutil
import sys
from typing import TYPE_CHECKING, Any, Callable

import click

from aoinspect import formats, schema  # constants and the format registry only: cheap enough for --help

if TYPE_CHECKING:
    from aoinspect.models import CheckReport, Failure, ListReport, ResolveReport, Snapshot
    from aoinspect.probing.wire import ProbeSettings

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
# A week: beyond it waits overflow the platform's timers, and no probe should need longer.
MAX_TIMEOUT = 7 * 24 * 3600.0


class _Seconds(click.ParamType):  # type: ignore[type-arg]
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


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    import importlib_metadata

    click.echo(f"aoinspect {importlib_metadata.version('aoinspect')}")
    ctx.exit(schema.EXIT_OK)


# [tool.aoinspect] keys: the long option names, for the whole tool or for check alone.
CONFIG_GLOBAL_KEYS = {"package": "package", "python": "python", "timeout": "timeout", "jobs": "jobs",
                      "isolation": "isolation", "format": "fmt"}
CONFIG_CHECK_KEYS = {"strict": "strict", "forbid": "forbid", "forbid-on": "forbid_on", "max-modules": "max_modules",
                     "max-import-ms": "max_import_ms", "baseline": "baseline", "threads": "threads",
                     "repeat": "repeat", "update-baseline": "update_baseline", "ignore": "ignore",
                     "names": "names"}
CONFIG_LISTS = {"forbid", "forbid-on", "max-modules", "max-import-ms", "ignore", "names"}


def _load_config(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """Read ``[tool.aoinspect]`` from --config FILE, or from the nearest pyproject.toml upwards
    from the current directory, into Click's default map: options given on the command line
    still win."""
    from aoinspect.config import ConfigError, find_pyproject, read_tool_table

    path = value or find_pyproject(os.getcwd())
    if path is None or ctx.resilient_parsing:
        return value
    try:
        table = read_tool_table(path, required=value is not None)
    except ConfigError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=_param) from None
    defaults: dict[str, Any] = {}
    check: dict[str, Any] = {}
    for key, setting in table.items():
        if key not in CONFIG_GLOBAL_KEYS and key not in CONFIG_CHECK_KEYS:
            known = ", ".join(sorted([*CONFIG_GLOBAL_KEYS, *CONFIG_CHECK_KEYS]))
            raise click.BadParameter(
                f"unknown key {key!r} in [tool.aoinspect] of {path} (known keys: {known}).", ctx=ctx, param=_param
            )
        if key in CONFIG_LISTS and not isinstance(setting, list):
            setting = [setting]
        # Values reach Click as the words of a command line would: a TOML type no word can
        # stand for (a table, a date, a nested array; an array where one value goes) is a usage
        # error naming the key, not a crash in Click's conversion.
        words = [_config_word(item) for item in (setting if key in CONFIG_LISTS else [setting])]
        if None in words:
            wanted = "strings or numbers" if key in CONFIG_LISTS else "a string, a number or a boolean"
            raise click.BadParameter(f"{key} in [tool.aoinspect] of {path} must be {wanted}, not {setting!r}.",
                                     ctx=ctx, param=_param)
        if key in CONFIG_GLOBAL_KEYS:
            defaults[CONFIG_GLOBAL_KEYS[key]] = words if key in CONFIG_LISTS else words[0]
        else:
            check[CONFIG_CHECK_KEYS[key]] = words if key in CONFIG_LISTS else words[0]
    defaults["check"] = check
    ctx.default_map = defaults
    return path


def _config_word(value: object) -> str | None:
    """A ``[tool.aoinspect]`` value as a command-line word, or None for a type no word stands for."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    return None


def _common_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """Options every command takes; given after the command they override the group's."""
    options = [
        click.option("-p", "--package", metavar="PKG", default=None,
                     help=f"Importable package or module to inspect (default: {DEFAULT_PACKAGE})."),
        click.option("--python", metavar="PATH", default=None, envvar="AOINSPECT_PYTHON",
                     help="Run every probe with this interpreter (3.9+), e.g. another venv's python; "
                          "also AOINSPECT_PYTHON. Default: the one running aoinspect."),
        click.option("--format", "fmt", type=click.Choice(formats.ALL), default=None,
                     help=formats.option_help(("list", "resolve", "check", "snapshot"))),
        click.option("--timeout", type=_Seconds(), default=None,
                     metavar="SECONDS", help=f"Time limit for each probe (default: {DEFAULT_TIMEOUT:g})."),
        click.option("-j", "--jobs", type=click.IntRange(min=1), default=None, metavar="N",
                     help="Probes to run at once (default: the number of CPUs)."),
        click.option("--cache-dir", metavar="DIR", default=None, envvar="AOINSPECT_CACHE_DIR",
                     help="Keep results in DIR (default: .aoinspect_cache beside the nearest pyproject.toml, "
                          "else in the current directory); also AOINSPECT_CACHE_DIR."),
        click.option("--no-cache", "no_cache", is_flag=True, default=None, envvar="AOINSPECT_NO_CACHE",
                     help="Measure everything again and keep nothing (also AOINSPECT_NO_CACHE=1)."),
        click.option("--isolation", type=click.Choice(["auto", "fork", "fork-each", "spawn"]), default=None,
                     help="fork: import PKG once and fork a fresh copy per probe, measuring the names one "
                          "module serves in one probe where that is provably exact; fork-each: a fresh "
                          "fork for every name; spawn: a new interpreter per probe; auto (default): fork "
                          "where it is safe."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


class _Group(click.Group):
    """The command group, with Click's own usage errors sent through the same funnel as the
    engine's: under ``--format json`` (or junit) they too print one document on stdout."""

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        arguments = list(sys.argv[1:] if args is None else args)
        if not standalone_mode:
            return super().main(arguments, prog_name, complete_var, standalone_mode, **extra)
        try:
            returned = super().main(arguments, prog_name, complete_var, standalone_mode=False, **extra)
        except click.ClickException as exc:
            _usage_failure(exc, arguments)
            sys.exit(exc.exit_code)
        except BrokenPipeError:
            # A reader that went away (``| head``): as Click's standalone mode, exit quietly.
            sys.stdout = None  # nothing more can be written there
            sys.exit(1)
        except click.Abort as exc:
            if isinstance(exc.__context__, KeyboardInterrupt):
                click.echo("aoinspect: interrupted", err=True)
                sys.exit(schema.EXIT_INTERRUPTED)
            click.echo("Aborted!", err=True)
            sys.exit(1)
        sys.exit(returned if isinstance(returned, int) else schema.EXIT_OK)


def _say(message: str) -> None:
    """``aoinspect: MESSAGE`` on stderr; the message may quote the package, so no line of it may
    start a CI runner's workflow command (aoinspect.render.escape)."""
    from aoinspect.render.escape import message as safe

    click.echo(safe(f"aoinspect: {message}"), err=True)


def _usage_failure(exc: click.ClickException, arguments: list[str]) -> None:
    """Show Click's message on stderr, as Click would; and with ``--format json`` or ``junit``
    (on the command line or in the configuration), the failure as one document on stdout."""
    from aoinspect.models import Failure
    from aoinspect.render import render

    exc.show()
    command, fmt, package = _parsed_enough(exc, arguments)
    if fmt in ("json", "junit") and (fmt == "json" or command == "check"):
        failure = Failure(command or "aoinspect", package, "usage", exc.format_message(), exc.exit_code)
        click.echo(render(failure, fmt))


def _parsed_enough(exc: click.ClickException, arguments: list[str]) -> tuple[str | None, str | None, str]:
    """The command, the format and the package of a command line Click refused, read as far as
    it can be: from the options it parsed, else from the words themselves."""
    words = arguments[: arguments.index("--")] if "--" in arguments else arguments
    command = next((word for word in words if word in formats.KINDS), None)
    fmt: str | None = None
    package = DEFAULT_PACKAGE
    for index, word in enumerate(words):
        following = words[index + 1] if index + 1 < len(words) else None
        if word == "--format" and following is not None:
            fmt = following
        elif word.startswith("--format="):
            fmt = word.partition("=")[2]
        elif word in ("-p", "--package") and following is not None:
            package = following
        elif word.startswith("--package="):
            package = word.partition("=")[2]
    ctx = getattr(exc, "ctx", None)
    root = ctx.find_root() if ctx is not None else None
    if fmt is None and root is not None and root.default_map:
        configured = root.default_map.get("fmt")
        fmt = configured if isinstance(configured, str) else None
    if fmt is None and command == "snapshot":
        fmt = "json"
    return command, fmt, package


@click.group(cls=_Group, epilog=EXIT_CODES_HELP, context_settings={"help_option_names": ["-h", "--help"]})
@_common_options
@click.option("--debug", is_flag=True, help="Show Python tracebacks of aoinspect's own errors.")
@click.option("--config", type=click.Path(dir_okay=False), default=None, is_eager=True, expose_value=False,
              callback=_load_config, metavar="FILE",
              help="Read [tool.aoinspect] from FILE (default: the nearest pyproject.toml upwards).")
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_print_version,
              help="Show the version and exit.")
@click.pass_context
def cli(ctx: click.Context, package: str | None, python: str | None, fmt: str | None, timeout: float | None,
        jobs: int | None, isolation: str | None, debug: bool, cache_dir: str | None, no_cache: bool | None) -> None:
    """Show what importing a lazy package, and each attribute access, actually loads.

    Every measurement runs in a fresh child interpreter and equals what a bare
    `python -c "import PKG; PKG.NAME"` adds to sys.modules.
    """
    ctx.obj = {"package": package, "python": python, "fmt": fmt, "timeout": timeout, "jobs": jobs,
               "isolation": isolation, "debug": debug, "cache_dir": cache_dir, "no_cache": no_cache}


class _Invocation:
    """The effective options of one command: its own, else the group's, else the defaults."""

    def __init__(self, ctx: click.Context, command: str, **own: Any) -> None:
        group = ctx.obj or {}

        def given_here(key: str) -> bool:
            """A value the command got from its own environment variable (AOINSPECT_PYTHON) yields to
            one given on the group's command line: the command line wins over the environment."""
            source = ctx.get_parameter_source(key)
            parent = ctx.parent.get_parameter_source(key) if ctx.parent is not None else None
            from_environment = source is click.core.ParameterSource.ENVIRONMENT
            return not (from_environment and parent is click.core.ParameterSource.COMMANDLINE)

        def pick(key: str, default: Any) -> Any:
            if own.get(key) is not None and given_here(key):
                return own[key]
            if group.get(key) is not None:
                return group[key]
            return default

        self.ctx = ctx
        self.command = command
        self.package: str = pick("package", DEFAULT_PACKAGE)
        self.fmt: str = pick("fmt", "json" if command == "snapshot" else "text")
        self.timeout: float = pick("timeout", DEFAULT_TIMEOUT)
        self.jobs: int = pick("jobs", os.cpu_count() or 1)
        self.isolation: str = pick("isolation", "auto")
        self.python: str | None = pick("python", None)
        self.cache_dir: str | None = None
        if not pick("no_cache", False):
            from aoinspect.probing.cache import find_cache_dir

            self.cache_dir = pick("cache_dir", None) or find_cache_dir(os.getcwd())
        self.debug: bool = bool(group.get("debug"))
        self.render_options: dict[str, Any] = {}
        self.early: Any = None
        self.progress: Any = None
        if self.fmt != "json" and sys.stderr.isatty():
            from aoinspect.progress import Progress

            self.progress = Progress(sys.stderr, shutil.get_terminal_size((100, 24)).columns)
        allowed = formats.names_for(command)
        if self.fmt not in allowed:
            raise click.UsageError(f"{command} prints {', '.join(allowed)}, not {self.fmt}.", ctx=ctx)

    def settings(self) -> ProbeSettings:
        from aoinspect.probing.runner import check_interpreter
        from aoinspect.probing.wire import ProbeSettings

        python = sys.executable
        if self.python is not None:
            problem = check_interpreter(self.python, self.timeout)
            if problem:
                raise click.BadParameter(problem, ctx=self.ctx, param_hint="'--python'")
            python = self.python
        return ProbeSettings(python=python, timeout=self.timeout, jobs=self.jobs, isolation=self.isolation,
                             cache_dir=self.cache_dir, progress=self.progress, early=self.early)

    def start_early(self, mode: str, names: tuple[str, ...]) -> None:
        """Start the one probe this command will run now, before the engine is imported, unless
        the cache already holds its result: the child's start overlaps with the CLI's."""
        from aoinspect.child import protocol

        if self.python is not None or self.isolation not in ("auto", "spawn"):
            return
        if not all(part.isidentifier() for name in (self.package, *names) for part in name.split(".")):
            return  # the engine reports it as a usage error
        fields = protocol.encode_request(mode, self.package, 0, names)
        if self.cache_dir is not None:
            from aoinspect.probing.cache import ProbeCache

            if ProbeCache(self.cache_dir, sys.executable, self.package).has(fields):
                return
        from aoinspect.probing.runner import EarlyProbe

        self.early = EarlyProbe(sys.executable, fields)

    def run(self, produce: Callable[[ProbeSettings], ListReport | ResolveReport | CheckReport | Snapshot]) -> None:
        """The one error funnel: render the report, or the failure, and exit with its code."""
        from aoinspect.errors import AoinspectError
        from aoinspect.models import Failure
        from aoinspect.render import RenderOptions, render

        color = self.fmt == "text" and "NO_COLOR" not in os.environ and sys.stdout.isatty()
        width = shutil.get_terminal_size((100, 24)).columns if sys.stdout.isatty() else 100
        options = RenderOptions(color=color, width=max(width, 60), **self.render_options)
        settings = self.settings()
        try:
            try:
                report = produce(settings)
            finally:
                if self.progress is not None:
                    self.progress.close()
                if self.early is not None:
                    self.early.discard()
        except AoinspectError as exc:
            if self.debug:
                raise
            failure = Failure(self.command, self.package, exc.kind, exc.message, exc.exit_code, exc.error)
            self._fail(failure, render)
        except KeyboardInterrupt:
            # The session already ended its children on the way out.
            self.interrupted()
        except Terminated as exc:
            self.interrupted(exc.signum)
        except Exception as exc:
            if self.debug:
                raise
            message = f"internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)"
            self._fail(Failure(self.command, self.package, "internal", message, schema.EXIT_PROBE_FAILED), render)
        click.echo(render(report, self.fmt, options))
        self.ctx.exit(report.exit_code)

    def interrupted(self, signum: int | None = None) -> None:
        """Ctrl-C, or SIGTERM/SIGHUP (``signum``): the sessions ended their children on the way out."""
        if self.early is not None:
            self.early.discard()
        if signum is None:
            click.echo("aoinspect: interrupted", err=True)
            self.ctx.exit(schema.EXIT_INTERRUPTED)
        click.echo(f"aoinspect: ended by signal {signum}", err=True)
        self.ctx.exit(128 + signum)

    def _fail(self, failure: Failure, render: Callable[..., str]) -> None:
        if formats.renders_failure_of(self.fmt, self.command):
            click.echo(render(failure, self.fmt))
        _say(failure.message)
        self.ctx.exit(failure.exit_code)


_names_option = click.option(
    "--names", "names_matching", multiple=True, metavar="GLOB",
    help="Measure only the lazy names matching GLOB (fnmatch, e.g. 'Bert*'). Repeatable.",
)
# Every repeat of every name is a probe request held in memory before the first runs: an
# unbounded N (100,000,000 took 1.5 GB within a second) would exhaust the machine, not measure.
MAX_REPEAT = 1000
_repeat_option = click.option(
    "--repeat", type=click.IntRange(min=1, max=MAX_REPEAT), default=1, metavar="N", show_default=True,
    help=f"Run each probe N times in fresh interpreters (at most {MAX_REPEAT}); times are medians, with minimums.",
)


@cli.command("list", epilog=EXIT_CODES_HELP)
@_common_options
@click.option("--all", "include_undeclared", is_flag=True,
              help="Also list submodules on disk that no declaration exports.")
@click.option("--resolve", "resolve", is_flag=True,
              help="Also resolve each lazy name and show its module count and total time.")
@_repeat_option
@_names_option
@click.pass_context
def list_command(
    ctx: click.Context, /, include_undeclared: bool, resolve: bool, repeat: int, names_matching: tuple[str, ...],
    **options: Any,
) -> None:
    """List the lazy names PKG declares, where, and whether `import PKG` already loads them.

    Names come from __all__, from `if TYPE_CHECKING:` blocks (read statically) and from a
    stub read by a lazy loader. Without --resolve, PKG is imported once, in a child, and
    nothing else.
    """
    from aoinspect import engine

    invocation = _Invocation(ctx, "list", **options)
    invocation.run(lambda settings: engine.list_names(
        settings, invocation.package, include_undeclared=include_undeclared, resolve=resolve, repeat=repeat,
        names_matching=names_matching))


def _complete_names(ctx: click.Context, _param: click.Parameter, incomplete: str) -> list[str]:
    from aoinspect.completion import complete_names

    package = ctx.params.get("package") or (ctx.parent.params.get("package") if ctx.parent else None)
    return complete_names(package or DEFAULT_PACKAGE, incomplete)


@cli.command("resolve", epilog=EXIT_CODES_HELP)
@_common_options
@click.argument("names", nargs=-1, metavar="NAME [NAME ...]", shell_complete=_complete_names)
@click.option("--all", "resolve_all", is_flag=True, help="Resolve every name PKG declares.")
@_repeat_option
@click.option("--top", type=click.IntRange(min=0), default=20, show_default=True, metavar="N",
              help="text: how many of the heaviest modules to show (0: all).")
@click.option("--sort", type=click.Choice(schema.SORT_KEYS), default=schema.SORT_KEYS[0],
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
    if not names and not resolve_all:
        raise click.UsageError("give at least one NAME, or --all.", ctx=ctx)
    invocation = _Invocation(ctx, "resolve", **options)
    if len(names) == 1 and not resolve_all and repeat == 1:
        from aoinspect.child import protocol

        invocation.start_early(protocol.MODE_RESOLVE, names)
    # From here a child may run: Ctrl-C at any point ends it and exits 130, as it does later on.
    try:
        from aoinspect import engine

        invocation.render_options = {"top": top, "sort": sort, "depth": depth}
        if resolve_all:
            invocation.run(lambda settings: engine.resolve_all(settings, invocation.package, repeat=repeat))
        else:
            invocation.run(lambda settings: engine.resolve_names(settings, invocation.package, names, repeat=repeat))
    except KeyboardInterrupt:
        invocation.interrupted()


def _budgets(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> tuple[tuple[str | None, float], ...]:
    """``N`` limits ``import PKG``; ``NAME:N`` limits accessing NAME."""
    budgets = []
    for value in values:
        name, _, limit = str(value).rpartition(":")
        try:
            number = float(limit)
        except ValueError:
            raise click.BadParameter(f"{value!r} is not N or NAME:N.", ctx=ctx, param=param) from None
        if not 0 <= number < float("inf"):  # also refuses nan, which no count or time exceeds
            raise click.BadParameter(f"{value!r}: a budget is a finite number, 0 or more.", ctx=ctx, param=param)
        budgets.append((name or None, number))
    return tuple(budgets)


def _name_patterns(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    pairs = []
    for value in values:
        name, separator, pattern = str(value).partition(":")
        if not separator or not name or not pattern:
            raise click.BadParameter(f"{value!r} is not NAME:PATTERN.", ctx=ctx, param=param)
        pairs.append((name, pattern))
    return tuple(pairs)


def _rule_ids(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> tuple[str, ...]:
    from aoinspect.rules import BY_ID, unknown_rule

    for value in values:
        if value not in BY_ID:
            raise click.BadParameter(unknown_rule(value), ctx=ctx, param=param)
    return tuple(values)


class _CheckCommand(click.Command):
    """``check --help`` lists the rules from the registry; only asking for help loads it."""

    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from aoinspect.rules import help_table

        super().format_help_text(ctx, formatter)
        formatter.write_paragraph()
        with formatter.indentation():
            formatter.write_text("\b\n" + help_table())


@cli.command("check", cls=_CheckCommand, epilog=EXIT_CODES_HELP)
@_common_options
@click.option("--strict", is_flag=True, default=None, help="Fail on warnings too.")
@click.option("--forbid", multiple=True, metavar="PATTERN",
              help="Fail when `import PKG` loads a module matching PATTERN (fnmatch; 'numpy' also covers "
                   "'numpy.*'). Repeatable.")
@click.option("--forbid-on", multiple=True, metavar="NAME:PATTERN", callback=_name_patterns,
              help="Fail when accessing NAME loads a module matching PATTERN. Repeatable.")
@click.option("--max-modules", multiple=True, metavar="[NAME:]N", callback=_budgets,
              help="Most modules `import PKG` (or accessing NAME) may load. Repeatable.")
@click.option("--max-import-ms", multiple=True, metavar="[NAME:]MS", callback=_budgets,
              help="Most milliseconds `import PKG` (or accessing NAME) may take: the fastest of --repeat "
                   "runs. Repeatable.")
@click.option("--baseline", type=click.Path(dir_okay=False), default=None, metavar="FILE",
              help="Fail on modules that the baseline (from `aoinspect snapshot`) did not have.")
@click.option("--update-baseline", is_flag=True, help="Rewrite the --baseline FILE from this run.")
@click.option("--threads", type=click.IntRange(min=0), default=0, metavar="N",
              help="Also access each lazy name from N threads at once (default: off).")
@click.option("--repeat", type=click.IntRange(min=1, max=MAX_REPEAT), default=1, metavar="N", show_default=True,
              help=f"Measure each name N times (at most {MAX_REPEAT}); time budgets use the fastest.")
@click.option("--ignore", multiple=True, metavar="RULE", callback=_rule_ids,
              help="Do not report RULE (e.g. star-import). Repeatable.")
@click.option("--names", "names", multiple=True, metavar="GLOB",
              help="Measure only the lazy names matching GLOB (fnmatch, e.g. 'Bert*'). Repeatable.")
@click.pass_context
def check_command(
    ctx: click.Context, /, strict: bool | None, forbid: tuple[str, ...], forbid_on: tuple[tuple[str, str], ...],
    max_modules: tuple[tuple[str | None, float], ...], max_import_ms: tuple[tuple[str | None, float], ...],
    baseline: str | None, update_baseline: bool, threads: int, repeat: int, ignore: tuple[str, ...],
    names: tuple[str, ...], **options: Any,
) -> None:
    """Check PKG's lazy contract: names import on demand, unknown names are rejected;
    and the contracts given as options: forbidden imports, budgets, a baseline.
    """
    from aoinspect import engine
    from aoinspect.models import Budget, CheckOptions

    if update_baseline and not baseline:
        raise click.UsageError("--update-baseline needs --baseline FILE.", ctx=ctx)
    invocation = _Invocation(ctx, "check", **options)
    check_options = CheckOptions(
        strict=bool(strict),
        forbid=forbid,
        forbid_on=forbid_on,
        max_modules=tuple(Budget(limit, name) for name, limit in max_modules),
        max_import_ms=tuple(Budget(limit, name) for name, limit in max_import_ms),
        baseline=baseline,
        update_baseline=update_baseline,
        threads=threads,
        repeat=repeat,
        ignore=ignore,
        names=names,
    )
    invocation.run(lambda settings: engine.check_package(settings, invocation.package, check_options))


@cli.command("snapshot", epilog=EXIT_CODES_HELP)
@_common_options
@click.pass_context
def snapshot_command(ctx: click.Context, /, **options: Any) -> None:
    """Print what `import PKG` and each lazy name load, as a baseline for `check --baseline`.

    The document is sorted and holds no timings, so that it diffs well in review:
    `aoinspect snapshot > aoinspect.lock.json`.
    """
    from aoinspect import engine

    invocation = _Invocation(ctx, "snapshot", **options)
    invocation.run(lambda settings: engine.snapshot(settings, invocation.package))


# --- diff (issue 16): compares two JSON reports; runs no probe ---------------------------------

DIFF_HELP = """\b
--threshold: a time change counts when it reaches both parts, e.g. 10%,1ms (the default),
  20% or 5ms (the part left out is 0).
\b
--fail-on CONDITION (repeatable; exit 1 when any holds):
  new-errors        a new error finding, a NAME that resolved and now fails, or a run that now fails
  new-findings      a new error or warning finding
  added[:PATTERN]   a module added to `import PKG` or to a NAME (matching PATTERN: fnmatch,
                    'numpy' also covers 'numpy.*')
  more-modules:N    `import PKG` or a NAME loads at least N more modules
  time-ratio:R      `import PKG` or a NAME takes at least R times as long (R > 1), and more
                    than the threshold's milliseconds
  any               any change the diff reports
\b
Exit codes:
  0  no --fail-on condition holds
  1  a --fail-on condition holds
  2  usage error: an unreadable file, not a JSON report, or reports of two different commands
"""


def _fail_on(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> tuple[Any, ...]:
    from aoinspect.diff import parse_fail_on

    try:
        return tuple(parse_fail_on(value) for value in values)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None


def _threshold(ctx: click.Context, param: click.Parameter, value: str) -> Any:
    from aoinspect.diff import parse_threshold

    try:
        return parse_threshold(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None


@cli.command("diff", epilog=DIFF_HELP)
@click.argument("old", metavar="OLD.json")
@click.argument("new", metavar="NEW.json")
@click.option("--format", "fmt", type=click.Choice(formats.names_for("diff")), default=None,
              help="Output format (default: text).")
@click.option("--threshold", default="10%,1ms", show_default=True, callback=_threshold, metavar="PCT%,MSms",
              help="Noise threshold for time changes: relative and absolute, both to be exceeded.")
@click.option("--fail-on", multiple=True, metavar="CONDITION", callback=_fail_on,
              help="Exit 1 when CONDITION holds (see below). Repeatable.")
@click.pass_context
def diff_command(ctx: click.Context, /, old: str, new: str, fmt: str | None, threshold: Any,
                 fail_on: tuple[Any, ...]) -> None:
    """Compare two JSON reports of the same command, OLD.json and NEW.json: modules added and
    removed for `import PKG` and per NAME, time and module-count changes, new and resolved findings.

    Reports come from `aoinspect resolve|check|list|snapshot --format json`, e.g. on the base and
    the head of a pull request.
    """
    from aoinspect.diff import DocumentError, compare, read_report
    from aoinspect.render import render
    from aoinspect.render.diff import render_diff_failure

    fmt = fmt or (ctx.obj or {}).get("fmt") or "text"
    allowed = formats.names_for("diff")
    if fmt not in allowed:
        raise click.UsageError(f"diff prints {', '.join(allowed)}, not {fmt}.", ctx=ctx)
    try:
        result = compare(read_report(old), read_report(new), threshold, fail_on)
    except DocumentError as exc:
        failure = render_diff_failure(exc.message, fmt)
        if failure is not None:
            click.echo(failure)
        click.echo(f"aoinspect: {exc.message}", err=True)
        ctx.exit(exc.exit_code)
    click.echo(render(result, fmt))
    ctx.exit(result.exit_code)


# --- render: a saved report again, in any format of its kind; runs nothing ------------------------


@cli.command("render")
@click.argument("report_path", metavar="REPORT.json", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(formats.ALL), default=None,
              help="Output format (default: from -o FILE's extension, else the command's own default).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default=None, metavar="FILE",
              help="Write the output to FILE (default: stdout).")
@click.option("--top", type=click.IntRange(min=0), default=20, show_default=True, metavar="N",
              help="text: how many of the heaviest modules (trace: lines) to show (0: all).")
@click.option("--sort", type=click.Choice(schema.SORT_KEYS), default=schema.SORT_KEYS[0], show_default=True,
              help="text: how to order resolve's module table.")
@click.option("--depth", type=click.IntRange(min=1), default=None, metavar="N", help="tree: show N levels.")
@click.option("--focus", metavar="PKG", default=None, help="trace text: only the loads of PKG's modules.")
@click.option("--why", metavar="MODULE", default=None, help="trace text: the chain from the program's line to MODULE.")
@click.pass_context
def render_command(ctx: click.Context, /, report_path: str, fmt: str | None, output: str | None, top: int, sort: str,
                   depth: int | None, focus: str | None, why: str | None) -> None:
    """Render REPORT.json, saved from any command's --format json, again in any format its
    command prints, with the same view options; nothing is run or measured again.

    The output is what the command printed in that format, and the exit code its exit code.
    A failure document (a run that produced no report) renders as the command showed it.
    """
    from aoinspect import documents
    from aoinspect.render import RenderOptions, render

    try:
        report = documents.load(report_path)
    except documents.DocumentError as exc:
        click.echo(f"aoinspect: {exc.message}", err=True)
        ctx.exit(exc.exit_code)
    kind = formats.kind_of(report)
    command = report.command if kind == "failure" else kind
    allowed = formats.names_for(command) or formats.ALL
    configured = (ctx.obj or {}).get("fmt")
    fmt = (fmt or (formats.guess_format(output) if output else None)
           or (configured if configured in allowed else None) or ("json" if command == "snapshot" else "text"))
    if fmt not in allowed:
        raise click.UsageError(f"{command} prints {', '.join(allowed)}, not {fmt}.", ctx=ctx)
    if kind == "failure" and not formats.renders_failure_of(fmt, command):
        _say(report.message)
        ctx.exit(report.exit_code)
    to_terminal = output is None and sys.stdout.isatty()
    width = shutil.get_terminal_size((100, 24)).columns if to_terminal else 100
    options = RenderOptions(color=fmt == "text" and to_terminal and "NO_COLOR" not in os.environ,
                            width=max(width, 60), top=top, sort=sort, depth=depth, focus=focus, why=why)
    text = render(report, fmt, options)
    if output is None:
        click.echo(text)
    else:
        with open(output, "w", encoding="utf-8") as stream:
            stream.write(text + "\n")
    if kind == "failure":
        _say(report.message)
    ctx.exit(report.exit_code)


@cli.command("rule")
@click.argument("rule_id", metavar="[RULE]", required=False)
@click.option("--all", "every_rule", is_flag=True, help="Print the documentation of every rule.")
def rule_command(rule_id: str | None, every_rule: bool) -> None:
    """Print the documentation of RULE, a rule of `check`: what it checks, why it matters, an
    example and the fix (Markdown). Without RULE, list the rules.

    Runs nothing: the documentation comes from the rules themselves.
    """
    from aoinspect.rules import BY_ID, RULES, help_table, unknown_rule
    from aoinspect.rules.docs import rule_page

    if rule_id is not None and rule_id not in BY_ID:
        raise click.BadParameter(unknown_rule(rule_id), param_hint="RULE")
    if rule_id is not None:
        click.echo(rule_page(BY_ID[rule_id]), nl=False)
    elif every_rule:
        click.echo("\n".join(rule_page(rule) for rule in RULES), nl=False)
    else:
        click.echo(help_table())


class Terminated(BaseException):
    """SIGTERM, SIGHUP or SIGINT: unwinds like Ctrl-C, so that every session ends its children
    and removes its directories on the way out; the exit status is then 128 + the signal."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


CLEANUP_SIGNALS = ("SIGTERM", "SIGHUP", "SIGINT")


def _on_signal(signum: int, _frame: Any) -> None:
    import signal

    for name in CLEANUP_SIGNALS:  # a second signal must not interrupt the cleanup
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_IGN)
    raise Terminated(signum)


def _prepare_process() -> None:
    """What the console script does before parsing anything: /dev/null on closed standard
    descriptors (``aoinspect <&- >&- 2>&-``), so that no pipe or file of ours lands on 0, 1 or 2;
    and cleanup on the signals that end a CI job (``timeout(1)``, a cancelled run, a closed
    terminal)."""
    import signal

    from aoinspect.probing import ensure_std_fds  # the package's __init__: os alone

    ensure_std_fds()
    if sys.stdout is None or sys.stderr is None:  # Python gives None for descriptors closed at start
        sys.stdout = sys.stdout or open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
        sys.stderr = sys.stderr or open(2, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
    for name in CLEANUP_SIGNALS:
        if hasattr(signal, name) and signal.getsignal(getattr(signal, name)) != signal.SIG_IGN:
            signal.signal(getattr(signal, name), _on_signal)


def main() -> None:
    _prepare_process()
    try:
        cli(prog_name="aoinspect")
    except Terminated as exc:
        sys.exit(128 + exc.signum)
    finally:
        if "aoinspect.probing.runner" in sys.modules:
            sys.modules["aoinspect.probing.reaper"].kill_started()
            sys.modules["aoinspect.probing.runner"].remove_all_workdirs()


# ``aoinspect trace`` lives with the rest of the tracer; its module imports only Click.
from aoinspect.commands.trace import trace_command  # noqa: E402

cli.add_command(trace_command)
