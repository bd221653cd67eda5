"""The command line: parse options, call one engine function, render, exit with its code.

One path for every command: the options are objects (``_Option``) that also name their
``[tool.aoinspect]`` keys; ``_Invocation`` settles each value (command line, environment,
configuration, default) and where the report goes (``-o FILE``, its format guessed from the
extension); and ``_Group`` is the one error funnel: usage errors, the engine's errors, internal
errors and signals each become one message and one exit code, the same in every command.

Only Click is imported at start-up; the engine, the renderers and the tracer are imported by
the command that needs them, so that ``aoinspect --help`` stays cheap.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any, Callable, NoReturn

import click

from aoinspect import formats, schema  # constants only: cheap enough for --help
from aoinspect.probing.hooks import SessionHooks  # a base class, nothing imported with it

if TYPE_CHECKING:
    from collections.abc import Sequence

    from aoinspect.models import CheckReport, ErrorInfo, ListReport, ResolveReport, Snapshot
    from aoinspect.probing.hooks import StartedProbe
    from aoinspect.probing.wire import ProbeSettings

    Report = ListReport | ResolveReport | CheckReport | Snapshot

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
# Every repeat of every name is a probe request held in memory before the first runs: an
# unbounded N (100,000,000 took 1.5 GB within a second) would exhaust the machine, not measure.
MAX_REPEAT = 1000
# Where a command's ``_Invocation`` waits for the error funnel (``click.Context.meta``).
INVOCATION = "aoinspect.invocation"


# --- option types: one per kind of value, shared by every command that takes it ---------------


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


class _Budget(click.ParamType):  # type: ignore[type-arg]
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


class _NamePattern(click.ParamType):  # type: ignore[type-arg]
    name = "name-pattern"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> tuple[str, str]:
        if isinstance(value, tuple):
            return value
        name, separator, pattern = str(value).partition(":")
        if not separator or not name or not pattern:
            self.fail(f"{value!r} is not NAME:PATTERN.", param, ctx)
        return name, pattern


class _RuleId(click.ParamType):  # type: ignore[type-arg]
    name = "rule"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from aoinspect.rules import BY_ID

        if value not in BY_ID:
            self.fail(f"{value!r} is not a rule id ({', '.join(BY_ID)}).", param, ctx)
        return str(value)


class _Option(click.Option):
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


def _option(*decls: str, **kwargs: Any) -> Callable[[Any], Any]:
    return click.option(*decls, cls=_Option, **kwargs)


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from aoinspect import __version__  # kept equal to the distribution's by a test: no metadata read

    click.echo(f"aoinspect {__version__}")
    ctx.exit(schema.EXIT_OK)


# --- [tool.aoinspect]: keys are the options' long names ----------------------------------------


def _config_keys(command: click.Command) -> dict[str, _Option]:
    return {param.key: param for param in command.params if isinstance(param, _Option) and param.config}


def _load_config(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Read ``[tool.aoinspect]`` from --config FILE, or from the nearest pyproject.toml upwards
    from the current directory, into Click's default map: options given on the command line
    still win. Top-level keys are the group's options (every command that has them with the same
    meaning) and check's; ``[tool.aoinspect.COMMAND]`` holds any option of one command and wins
    over the top level."""
    from aoinspect.config import ConfigError, find_pyproject, read_tool_table

    path = value or find_pyproject(os.getcwd())
    if path is None or ctx.resilient_parsing:
        return value
    try:
        table = read_tool_table(path, required=value is not None)
    except ConfigError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None
    group = ctx.command
    assert isinstance(group, click.Group)
    commands = group.commands
    global_keys = _config_keys(group)
    top_level = {**_config_keys(commands["check"]), **global_keys}
    defaults: dict[str, Any] = {}
    per_command: dict[str, dict[str, Any]] = {name: {} for name in commands}
    for key, setting in table.items():
        if key in commands and isinstance(setting, dict):
            continue  # a command's sub-table, below
        option = top_level.get(key)
        if option is None:
            known = ", ".join(sorted(top_level))
            raise click.BadParameter(
                f"unknown key {key!r} in [tool.aoinspect] of {path} (known keys: {known}; and a "
                f"[tool.aoinspect.COMMAND] table for one command's options).", ctx=ctx, param=param)
        words = _config_value(option, key, setting, f"[tool.aoinspect] of {path}", ctx, param)
        if key in global_keys:
            defaults[option.name or key] = words
        else:
            per_command["check"][option.name or key] = words
    for name, command in commands.items():
        sub_table = table.get(name)
        if not isinstance(sub_table, dict):
            continue
        keys = _config_keys(command)
        for key, setting in sub_table.items():
            option = keys.get(key)
            if option is None:
                raise click.BadParameter(
                    f"unknown key {key!r} in [tool.aoinspect.{name}] of {path} (known keys: "
                    f"{', '.join(sorted(keys))}).", ctx=ctx, param=param)
            where = f"[tool.aoinspect.{name}] of {path}"
            per_command[name][option.name or key] = _config_value(option, key, setting, where, ctx, param)
    defaults.update({name: values for name, values in per_command.items() if values})
    ctx.default_map = defaults
    return path


def _config_value(option: _Option, key: str, setting: Any, where: str, ctx: click.Context,
                  param: click.Parameter) -> Any:
    """A configured value as the words of a command line would give it: a TOML type no word can
    stand for (a table, a date, a nested array; an array where one value goes) is a usage error
    naming the key, not a crash in Click's conversion."""
    many = option.multiple
    if many and not isinstance(setting, list):
        setting = [setting]
    words = [_config_word(item) for item in (setting if many else [setting])]
    if None in words:
        wanted = "strings or numbers" if many else "a string, a number or a boolean"
        raise click.BadParameter(f"{key} in {where} must be {wanted}, not {setting!r}.", ctx=ctx, param=param)
    return words if many else words[0]


def _config_word(value: object) -> str | None:
    """A ``[tool.aoinspect]`` value as a command-line word, or None for a type no word stands for."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    return None


# --- the options, each defined once ------------------------------------------------------------

_package_option = _option("-p", "--package", metavar="PKG", default=None,
                          help=f"Importable package or module to inspect (default: {DEFAULT_PACKAGE}).")
_python_option = _option("--python", metavar="PATH", default=None, envvar="AOINSPECT_PYTHON",
                         help="Run every probe (or the traced program) with this interpreter (3.9+), e.g. "
                              "another venv's python; also AOINSPECT_PYTHON. Default: the one running aoinspect.")
_format_option = _option("--format", "fmt", type=click.Choice(formats.ALL), default=None,
                         help="Output format (default: text; snapshot: json; guessed from -o FILE's extension); "
                              "resolve also draws tree, dot, mermaid and svg; html and markdown for reports; "
                              "check also prints junit, github and sarif.")
_output_option = _option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default=None,
                         metavar="FILE", config=False,
                         help="Write the report to FILE instead of stdout; without --format, FILE's extension "
                              "picks it (.json, .html, .md, .xml: junit, .sarif, .svg, ...).")
_probe_options = [
    _package_option,
    _python_option,
    _format_option,
    _option("--timeout", type=_Seconds(), default=None, metavar="SECONDS",
            help=f"Time limit for each probe (default: {DEFAULT_TIMEOUT:g})."),
    _option("-j", "--jobs", type=click.IntRange(min=1), default=None, metavar="N",
            help="Probes to run at once (default: the number of CPUs)."),
    _option("--cache-dir", metavar="DIR", default=None, envvar="AOINSPECT_CACHE_DIR",
            help="Keep results in DIR (default: .aoinspect_cache beside the nearest pyproject.toml, "
                 "else in the current directory); also AOINSPECT_CACHE_DIR."),
    _option("--no-cache", "no_cache", is_flag=True, default=None, envvar="AOINSPECT_NO_CACHE",
            help="Measure everything again and keep nothing (also AOINSPECT_NO_CACHE=1)."),
    _option("--isolation", type=click.Choice(["auto", "fork", "fork-each", "spawn"]), default=None,
            help="fork: import PKG once and fork a fresh copy per probe, measuring the names one "
                 "module serves in one probe where that is provably exact; fork-each: a fresh "
                 "fork for every name; spawn: a new interpreter per probe; auto (default): fork "
                 "where it is safe."),
]


def _apply(options: list[Callable[[Any], Any]]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorate(function: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            function = option(function)
        return function
    return decorate


def _format_option_for(command: str) -> Callable[[Any], Any]:
    """A command's --format: the one option type (every format, so that a bad value reads the
    same everywhere), its help naming what this command prints."""
    printed = formats.names_for(command)
    default = "json" if command == "snapshot" else "text"
    return _option("--format", "fmt", type=click.Choice(formats.ALL), default=None, metavar="FORMAT",
                   help=f"{', '.join(printed)} (default: {default}; without --format, -o FILE's extension "
                        "picks it).")


def _common_options(command: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Options every command that probes a package takes; given after the command they
    override the group's."""
    options = [_format_option_for(command) if option is _format_option else option for option in _probe_options]
    return _apply([*options, _output_option])


def _forbid_option(what: str) -> Callable[[Any], Any]:
    return _option("--forbid", multiple=True, metavar="PATTERN",
                   help=f"Fail when {what} loads a module matching PATTERN (fnmatch; 'numpy' also covers "
                        "'numpy.*'). Repeatable.")


def _budget_options(what: str, *, named: bool) -> list[Callable[[Any], Any]]:
    """``--max-modules`` and ``--max-import-ms``: one parser (``_Budget``) for check and trace."""
    metavar, repeatable = ("[NAME:]", " Repeatable.") if named else ("", "")
    on_name = " (or accessing NAME)" if named else ""
    return [
        _option("--max-modules", type=_Budget(named), multiple=named, default=None if not named else (),
                metavar=f"{metavar}N", help=f"Most modules {what}{on_name} may load.{repeatable}"),
        _option("--max-import-ms", type=_Budget(named), multiple=named, default=None if not named else (),
                metavar=f"{metavar}MS",
                help=f"Most milliseconds {what}{on_name} may spend importing"
                     + (": the fastest of --repeat runs." if named else ".") + repeatable),
    ]


def _package_argument(function: Callable[..., Any]) -> Callable[..., Any]:
    """``aoinspect list PKG``: the package where users type it; -p and the configuration otherwise."""
    return click.argument("package_argument", metavar="[PKG]", required=False, default=None)(function)


# --- the error funnel --------------------------------------------------------------------------


class Terminated(BaseException):
    """SIGTERM, SIGHUP or SIGINT: unwinds like Ctrl-C, so that every session ends its children
    and removes its directories on the way out; the exit status is then 128 + the signal."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class _Group(click.Group):
    """The command group and the one error funnel. ``main`` turns Click's usage errors, and
    ``invoke`` every other way a command can end early (the engine's errors, aoinspect's own,
    Ctrl-C and signals), into one message on stderr, one exit code and, in formats that show
    failures, one document where the report would have gone."""

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

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort, BrokenPipeError):
            raise  # Click's, and a reader gone away (``| head``): ``main`` ends those
        except KeyboardInterrupt:
            _interrupted(ctx, None)
        except Terminated as exc:
            _interrupted(ctx, exc.signum)
        except Exception as exc:
            from aoinspect.errors import AoinspectError

            if ctx.params.get("debug"):
                raise
            invocation: _Invocation | None = ctx.meta.get(INVOCATION)
            if isinstance(exc, AoinspectError):
                kind, message, exit_code, error = exc.kind, exc.message, exc.exit_code, exc.error
            else:
                kind, exit_code, error = "internal", schema.EXIT_PROBE_FAILED, None
                message = f"internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)"
            if invocation is None:
                click.echo(f"aoinspect: {message}", err=True)
                ctx.exit(exit_code)
            invocation.fail(kind, message, exit_code, error)

    def resolve_command(self, ctx: click.Context, args: list[str]) -> Any:
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as exc:
            word = args[0] if args else ""
            if "No such command" not in exc.message or word.startswith("-"):
                raise
            hint = _command_hint(word, list(self.commands))
            raise click.UsageError(f"{exc.message}\nHint: {hint}", ctx=ctx) from None


def _command_hint(word: str, commands: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(word, commands, n=1)
    if close:
        return f"Did you mean '{close[0]}'?"
    return (f"To inspect the package {word}: aoinspect list {word}, aoinspect check {word}, "
            f"or aoinspect resolve -p {word} NAME ...")


class _Command(click.Command):
    """A command whose usage errors name the right spelling when words are left over."""

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


def _takes_one_package(ctx: click.Context, extra: str) -> str:
    package = ctx.params.get("package_argument") or "PKG"
    command = ctx.info_name
    return (f"{command} takes one PKG. To measure names of {package}: aoinspect resolve -p {package} {extra}"
            + (f"; or aoinspect {command} {package} --names GLOB" if command in ("check", "list") else "") + ".")


class _PackageCommand(_Command):
    extra_hint = staticmethod(_takes_one_package)


class _DiffCommand(_Command):
    extra_hint = staticmethod(lambda _ctx, _extra: "diff compares two reports: aoinspect diff OLD.json NEW.json.")


def _failure_document(command: str | None, package: str, fmt: str | None, kind: str, message: str,
                      exit_code: int, error: ErrorInfo | None = None) -> str | None:
    """The failure as a document in ``fmt``, where that format shows failures and the command
    prints it; else None (the message on stderr says it all)."""
    if command == "diff":
        from aoinspect.render.diff import render_diff_failure

        return render_diff_failure(message, fmt) if fmt else None
    if fmt is None or not formats.renders_failures(fmt) or fmt not in formats.names_for(command or "check"):
        return None
    if command is None and fmt != "json":
        return None
    from aoinspect.models import Failure
    from aoinspect.render import render

    return render(Failure(command or "aoinspect", package, kind, message, exit_code, error), fmt)


def _usage_failure(exc: click.ClickException, arguments: list[str]) -> None:
    """Show Click's message on stderr, as Click would; and where the format shows failures (on
    the command line or in the configuration), the failure as one document on stdout."""
    exc.show()
    ctx = getattr(exc, "ctx", None)
    invocation: _Invocation | None = ctx.meta.get(INVOCATION) if ctx is not None else None
    command: str | None
    fmt: str | None
    if invocation is not None:
        command, fmt, package = invocation.command, invocation.fmt, invocation.package
    else:
        command, fmt, package = _parsed_enough(exc, arguments)
    document = _failure_document(command, package, fmt, "usage", exc.format_message(), exc.exit_code)
    if document is not None:
        click.echo(document)


def _parsed_enough(exc: click.ClickException, arguments: list[str]) -> tuple[str | None, str | None, str]:
    """The command, the format and the package of a command line Click refused, read as far as
    it can be: from the options it parsed, else from the words themselves."""
    words = arguments[: arguments.index("--")] if "--" in arguments else arguments
    command = next((word for word in words if word in schema.COMMAND_FORMATS), None)
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


def _interrupted(ctx: click.Context, signum: int | None) -> NoReturn:
    """Ctrl-C, or SIGTERM/SIGHUP (``signum``): the sessions ended their children on the way out."""
    invocation: _Invocation | None = ctx.meta.get(INVOCATION)
    if invocation is not None:
        invocation.hooks.close()
    if signum is None:
        click.echo("aoinspect: interrupted", err=True)
        ctx.exit(schema.EXIT_INTERRUPTED)
    click.echo(f"aoinspect: ended by signal {signum}", err=True)
    ctx.exit(128 + signum)


# --- one command's settings, output and failures -----------------------------------------------

_SOURCE_RANK = {
    click.core.ParameterSource.COMMANDLINE: 0,
    click.core.ParameterSource.ENVIRONMENT: 2,
    click.core.ParameterSource.DEFAULT_MAP: 4,
}


def _setting(ctx: click.Context, name: str, default: Any = None) -> tuple[Any, int]:
    """The effective value of option ``name`` and how it was given (0-1 on the command line):
    the command's command line, the group's, the environment, the command's configuration, the
    group's (unless the command's option does not ``inherit``), else ``default``."""
    candidates: list[tuple[int, Any]] = []
    own = next((param for param in ctx.command.params if param.name == name), None)
    contexts = [(0, ctx)]
    if ctx.parent is not None and (own is None or getattr(own, "inherit", True)):
        contexts.append((1, ctx.parent))
    for offset, context in contexts:
        value = context.params.get(name)
        source = context.get_parameter_source(name)
        if value is None or source is None:
            continue
        candidates.append((_SOURCE_RANK.get(source, 6) + offset, value))
    if not candidates:
        return default, 7
    rank, value = min(candidates, key=lambda candidate: candidate[0])
    return value, rank


class _CommandHooks(SessionHooks):
    """What the CLI gives the engine's sessions: its parts, each hooks of its own (the progress
    line, the probe it started early), told everything in turn."""

    def __init__(self) -> None:
        self.parts: list[SessionHooks] = []

    def planned(self, count: int) -> None:
        for part in self.parts:
            part.planned(count)

    def finished(self, count: int, label: str) -> None:
        for part in self.parts:
            part.finished(count, label)

    def claim(self, python: str, fields: Sequence[str]) -> StartedProbe | None:
        return next((started for part in self.parts if (started := part.claim(python, fields)) is not None), None)

    def close(self) -> None:
        """The command is over: clear the progress line; end the early probe if nothing claimed it."""
        for part in self.parts:
            part.close()


class _Invocation:
    """The effective options of one command (``_setting``), where its report goes, and how it
    fails; the error funnel finds it in the context."""

    def __init__(self, ctx: click.Context, command: str, package: str = "") -> None:
        self.ctx = ctx
        self.command = command
        self.output: str | None = ctx.params.get("output")
        self.package: str = package
        self.fmt = "text"  # until the format is settled: usage errors on the way show as text
        self.hooks = _CommandHooks()
        self.render_options: dict[str, Any] = {}  # the command's view options (--top, --sort, --depth)
        ctx.meta[INVOCATION] = self
        if "package" in ctx.params:  # until the argument is checked: what a failure names
            self.package = str(ctx.params.get("package_argument") or self.value("package", DEFAULT_PACKAGE))
        self.fmt = self._format()
        if "package" in ctx.params:
            self.package = self._package()

    def value(self, name: str, default: Any = None) -> Any:
        return _setting(self.ctx, name, default)[0]

    def _package(self) -> str:
        typed = self.ctx.params.get("package_argument")
        given, rank = _setting(self.ctx, "package", DEFAULT_PACKAGE)
        if typed is not None and rank == 0 and given != typed:
            raise click.UsageError(f"two packages: {typed} and -p {given}; give one.", ctx=self.ctx)
        return str(typed or given)

    def _format(self) -> str:
        given, rank = _setting(self.ctx, "fmt", None)
        default = "json" if self.command == "snapshot" else "text"
        guessed = formats.guess_format(self.output) if self.output and rank > 1 else None
        fmt = str(guessed or given or default)
        allowed = formats.names_for(self.command)
        if fmt not in allowed:
            source = f" (guessed from {self.output}; give --format)" if guessed else ""
            raise click.UsageError(f"{self.command} prints {', '.join(allowed)}, not {fmt}{source}.", ctx=self.ctx)
        return fmt

    @property
    def debug(self) -> bool:
        return bool(self.ctx.find_root().params.get("debug"))

    # -- probes

    def settings(self) -> ProbeSettings:
        from aoinspect import engine

        return engine.probe_settings(
            python=self.value("python"), timeout=self.value("timeout", DEFAULT_TIMEOUT),
            jobs=self.value("jobs", os.cpu_count() or 1), isolation=self.value("isolation", "auto"),
            cache_dir=self.value("cache_dir"), no_cache=bool(self.value("no_cache", False)),
        )

    def start_early(self, mode: str, names: tuple[str, ...]) -> None:
        """Start the one probe this command will run now, before the engine is imported, unless
        the cache already holds its result: the child's start overlaps with the CLI's."""
        from aoinspect.probing.hooks import start_early

        if self.value("python") is not None or self.value("isolation", "auto") not in ("auto", "spawn"):
            return
        early = start_early(sys.executable, self.package, mode, names, cache_dir=self.value("cache_dir"),
                            no_cache=bool(self.value("no_cache", False)))
        if early is not None:
            self.hooks.parts.append(early)

    def run(self, produce: Callable[[ProbeSettings, SessionHooks], Report],
            then: Callable[[Report], None] | None = None) -> NoReturn:
        """Run the engine, render the report where it goes, and exit with its code; failures
        go to the funnel (``_Group.invoke``)."""
        import shutil

        from aoinspect.render import RenderOptions, render

        to_terminal = self.output is None and sys.stdout.isatty()
        color = self.fmt == "text" and "NO_COLOR" not in os.environ and to_terminal
        width = shutil.get_terminal_size((100, 24)).columns if to_terminal else 100
        options = RenderOptions(color=color, width=max(width, 60), **self.render_options)
        if self.fmt != "json" and sys.stderr.isatty():
            from aoinspect.progress import Progress

            self.hooks.parts.append(Progress(sys.stderr, shutil.get_terminal_size((100, 24)).columns))
        try:
            report = produce(self.settings(), self.hooks)
        finally:
            self.hooks.close()
        self.emit(render(report, self.fmt, options))
        if then is not None:
            then(report)
        self.ctx.exit(report.exit_code)

    # -- output

    def emit(self, text: str) -> None:
        """The report, to -o FILE, else to stdout (trace: stderr, the program has stdout)."""
        if self.output is None:
            click.echo(text, err=self.command == "trace")
            return
        try:
            with open(self.output, "w", encoding="utf-8") as stream:
                stream.write(text + "\n")
        except OSError as exc:
            raise click.BadParameter(f"cannot write {self.output}: {exc.strerror or exc}.", ctx=self.ctx,
                                     param_hint="'-o' / '--output'") from None

    def fail(self, kind: str, message: str, exit_code: int, error: ErrorInfo | None = None) -> NoReturn:
        document = _failure_document(self.command, self.package, self.fmt, kind, message, exit_code, error)
        if document is not None:
            import contextlib

            with contextlib.suppress(click.BadParameter):  # the message below still says what went wrong
                self.emit(document)
        click.echo(f"aoinspect: {message}", err=True)
        self.ctx.exit(exit_code)


# --- the group ---------------------------------------------------------------------------------


@click.group(cls=_Group, epilog=EXIT_CODES_HELP, context_settings={"help_option_names": ["-h", "--help"]})
@_apply(_probe_options)
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


_names_option = _option(
    "--names", "names_matching", multiple=True, metavar="GLOB",
    help="Measure only the lazy names matching GLOB (fnmatch, e.g. 'Bert*'). Repeatable.",
)
_repeat_option = _option(
    "--repeat", type=click.IntRange(min=1, max=MAX_REPEAT), default=1, metavar="N", show_default=True,
    help=f"Run each probe N times in fresh interpreters (at most {MAX_REPEAT}); times are medians, with minimums.",
)
_top_option = _option("--top", type=click.IntRange(min=0), default=20, show_default=True, metavar="N",
                      help="text: how many of the heaviest modules (trace: lines) to show (0: all).")
_depth_option = _option("--depth", type=click.IntRange(min=1), default=None, metavar="N",
                        help="tree: show N levels, collapse the rest.")


@cli.command("list", cls=_PackageCommand, epilog=EXIT_CODES_HELP)
@_package_argument
@_common_options("list")
@_option("--all", "include_undeclared", is_flag=True,
         help="Also list submodules on disk that no declaration exports.")
@_option("--resolve", "resolve", is_flag=True,
         help="Also resolve each lazy name and show its module count and total time.")
@_repeat_option
@_names_option
@click.pass_context
def list_command(
    ctx: click.Context, /, include_undeclared: bool, resolve: bool, repeat: int, names_matching: tuple[str, ...],
    **_options: Any,
) -> None:
    """List the lazy names PKG declares, where, and whether `import PKG` already loads them.

    Names come from __all__, from `if TYPE_CHECKING:` blocks (read statically) and from a
    stub read by a lazy loader. Without --resolve, PKG is imported once, in a child, and
    nothing else. PKG: the argument, else -p, else the configured package, else ao.
    """
    from aoinspect import engine

    invocation = _Invocation(ctx, "list")
    invocation.run(lambda settings, hooks: engine.list_names(
        settings, invocation.package, include_undeclared=include_undeclared, resolve=resolve, repeat=repeat,
        names_matching=names_matching, hooks=hooks))


def _complete_names(ctx: click.Context, _param: click.Parameter, incomplete: str) -> list[str]:
    from aoinspect.completion import complete_names

    package = ctx.params.get("package") or (ctx.parent.params.get("package") if ctx.parent else None)
    return complete_names(package or DEFAULT_PACKAGE, incomplete)


def _misplaced_packages(invocation: _Invocation, report: Report) -> None:
    """``aoinspect resolve networkx``: a NAME the package rejected that is a module of its own
    gets a hint naming the spelling that inspects it."""
    from aoinspect.completion import find_init

    for result in getattr(report, "results", ()):
        name = result.name
        if result.ok or "." in name or name == invocation.package or find_init(name) is None:
            continue
        click.echo(f"aoinspect: hint: {name} is not a name of {invocation.package} but a package of its own: "
                   f"aoinspect list {name}, or aoinspect resolve -p {name} NAME ...", err=True)


@cli.command("resolve", cls=_Command, epilog=EXIT_CODES_HELP)
@_common_options("resolve")
@click.argument("names", nargs=-1, metavar="NAME [NAME ...]", shell_complete=_complete_names)
@_option("--all", "resolve_all", is_flag=True, help="Resolve every name PKG declares.")
@_repeat_option
@_top_option
@_option("--sort", type=click.Choice(schema.SORT_KEYS), default=schema.SORT_KEYS[0],
         show_default=True, help="text: how to order the module table (order: as imports began).")
@_depth_option
@click.pass_context
def resolve_command(
    ctx: click.Context, /, names: tuple[str, ...], resolve_all: bool, repeat: int, top: int, sort: str,
    depth: int | None, **_options: Any,
) -> None:
    """Access PKG.NAME for each NAME, each in a fresh interpreter, and show what it loaded.

    NAME may be dotted (nn.quantized): each attribute is then accessed in turn, and each
    step is reported. Names that start with '-' go after '--'. PKG: -p PKG, before or
    after the command.
    """
    if not names and not resolve_all:
        raise click.UsageError("give at least one NAME, or --all.", ctx=ctx)
    invocation = _Invocation(ctx, "resolve")
    if len(names) == 1 and not resolve_all and repeat == 1:
        invocation.start_early("resolve", names)
    # From here a child may run: Ctrl-C at any point ends it and exits 130 (the funnel).
    from aoinspect import engine

    invocation.render_options = {"top": top, "sort": sort, "depth": depth}
    if resolve_all:
        invocation.run(lambda settings, hooks: engine.resolve_all(
            settings, invocation.package, repeat=repeat, hooks=hooks))
    else:
        invocation.run(lambda settings, hooks: engine.resolve_names(
            settings, invocation.package, names, repeat=repeat, hooks=hooks),
            then=lambda report: _misplaced_packages(invocation, report))


class _CheckCommand(_PackageCommand):
    """``check --help`` lists the rules from the registry; only asking for help loads it."""

    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from aoinspect.rules import help_table

        super().format_help_text(ctx, formatter)
        formatter.write_paragraph()
        with formatter.indentation():
            formatter.write_text("\b\n" + help_table())


@cli.command("check", cls=_CheckCommand, epilog=EXIT_CODES_HELP)
@_package_argument
@_common_options("check")
@_option("--strict", is_flag=True, default=None, help="Fail on warnings too.")
@_forbid_option("`import PKG`")
@_option("--forbid-on", multiple=True, metavar="NAME:PATTERN", type=_NamePattern(),
         help="Fail when accessing NAME loads a module matching PATTERN. Repeatable.")
@_apply(_budget_options("`import PKG`", named=True))
@_option("--baseline", type=click.Path(dir_okay=False), default=None, metavar="FILE",
         help="Fail on modules that the baseline (from `aoinspect snapshot`) did not have.")
@_option("--update-baseline", is_flag=True, help="Rewrite the --baseline FILE from this run.")
@_option("--threads", type=click.IntRange(min=0), default=0, metavar="N",
         help="Also access each lazy name from N threads at once (default: off).")
@_option("--repeat", type=click.IntRange(min=1, max=MAX_REPEAT), default=1, metavar="N", show_default=True,
         help=f"Measure each name N times (at most {MAX_REPEAT}); time budgets use the fastest.")
@_option("--ignore", multiple=True, metavar="RULE", type=_RuleId(),
         help="Do not report RULE (e.g. star-import). Repeatable.")
@_option("--names", "names", multiple=True, metavar="GLOB",
         help="Measure only the lazy names matching GLOB (fnmatch, e.g. 'Bert*'). Repeatable.")
@click.pass_context
def check_command(
    ctx: click.Context, /, strict: bool | None, forbid: tuple[str, ...], forbid_on: tuple[tuple[str, str], ...],
    max_modules: tuple[tuple[str | None, float], ...], max_import_ms: tuple[tuple[str | None, float], ...],
    baseline: str | None, update_baseline: bool, threads: int, repeat: int, ignore: tuple[str, ...],
    names: tuple[str, ...], **_options: Any,
) -> None:
    """Check PKG's lazy contract: names import on demand, unknown names are rejected;
    and the contracts given as options: forbidden imports, budgets, a baseline.
    """
    from aoinspect import engine
    from aoinspect.models import Budget, CheckOptions

    if update_baseline and not baseline:
        raise click.UsageError("--update-baseline needs --baseline FILE.", ctx=ctx)
    invocation = _Invocation(ctx, "check")
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
    invocation.run(lambda settings, hooks: engine.check_package(
        settings, invocation.package, check_options, hooks=hooks))


@cli.command("snapshot", cls=_PackageCommand, epilog=EXIT_CODES_HELP)
@_package_argument
@_common_options("snapshot")
@click.pass_context
def snapshot_command(ctx: click.Context, /, **_options: Any) -> None:
    """Print what `import PKG` and each lazy name load, as a baseline for `check --baseline`.

    The document is sorted and holds no timings, so that it diffs well in review:
    `aoinspect snapshot > aoinspect.lock.json`, or `aoinspect snapshot PKG -o aoinspect.lock.json`.
    """
    from aoinspect import engine

    invocation = _Invocation(ctx, "snapshot")
    invocation.run(lambda settings, hooks: engine.snapshot(settings, invocation.package, hooks=hooks))


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


class _FailOn(click.ParamType):  # type: ignore[type-arg]
    name = "condition"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from aoinspect.diff import FailOn, parse_fail_on

        if isinstance(value, FailOn):
            return value
        try:
            return parse_fail_on(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


class _Threshold(click.ParamType):  # type: ignore[type-arg]
    name = "threshold"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from aoinspect.diff import Threshold, parse_threshold

        if isinstance(value, Threshold):
            return value
        try:
            return parse_threshold(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


@cli.command("diff", cls=_DiffCommand, epilog=DIFF_HELP)
@click.argument("old", metavar="OLD.json")
@click.argument("new", metavar="NEW.json")
@_format_option_for("diff")
@_output_option
@_option("--threshold", type=_Threshold(), default="10%,1ms", show_default=True, metavar="PCT%,MSms",
         help="Noise threshold for time changes: relative and absolute, both to be exceeded.")
@_option("--fail-on", multiple=True, metavar="CONDITION", type=_FailOn(),
         help="Exit 1 when CONDITION holds (see below). Repeatable.")
@click.pass_context
def diff_command(ctx: click.Context, /, old: str, new: str, threshold: Any, fail_on: tuple[Any, ...],
                 **_options: Any) -> None:
    """Compare two JSON reports of the same command, OLD.json and NEW.json: modules added and
    removed for `import PKG` and per NAME, time and module-count changes, new and resolved findings.

    Reports come from `aoinspect resolve|check|list|snapshot --format json`, e.g. on the base and
    the head of a pull request.
    """
    from aoinspect.diff import compare, read_report
    from aoinspect.render.diff import render_diff

    invocation = _Invocation(ctx, "diff")
    result = compare(read_report(old), read_report(new), threshold, fail_on)
    invocation.emit(render_diff(result, invocation.fmt))
    ctx.exit(result.exit_code)


# --- trace: runs a program under the tracer ----------------------------------------------------

TRACE_HELP_EPILOG = """\b
Exit code: the program's own (128+N when a signal N killed it), or:
  1    the program succeeded but --forbid/--max-modules/--max-import-ms failed
       (a program that failed keeps its own code: it says more)
  2    usage error (PROGRAM is not something python runs)
  4    aoinspect itself could not run the program
  124  the program ran past --timeout and was killed
"""


@cli.command("trace", cls=_Command, epilog=TRACE_HELP_EPILOG,
             context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.argument("program", nargs=-1, type=click.UNPROCESSED, metavar="-- PROGRAM")
@_python_option
@_format_option_for("trace")
@_option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default=None, metavar="FILE",
         config=False, help="Write the report to FILE (default: stderr, after the program ends); without "
                            "--format, FILE's extension picks it.")
@_option("--timeout", type=_Seconds(), default=None, metavar="SECONDS", inherit=False,
         help="Kill the program after SECONDS (exit 124); the trace up to then is kept. Not the probes' "
              "--timeout: configured in [tool.aoinspect.trace] only.")
@_option("--focus", metavar="PKG", default=None, help="text: only the loads of PKG's modules, and their lines.")
@_option("--why", metavar="MODULE", default=None,
         help="text: the chain from the program's line to MODULE, one hop a line.")
@_top_option
@_depth_option
@_forbid_option("the program")
@_apply(_budget_options("the program", named=False))
@click.pass_context
def trace_command(
    ctx: click.Context, /, program: tuple[str, ...], focus: str | None, why: str | None, top: int,
    depth: int | None, forbid: tuple[str, ...], max_modules: tuple[None, float] | None,
    max_import_ms: tuple[None, float] | None, **_options: Any,
) -> None:
    """Run PROGRAM as `python PROGRAM` would and show which of its lines loaded which modules.

    PROGRAM is what you would give python, after --: `script.py ARGS`, `-m module ARGS` or
    `-c CODE ARGS`, optionally after interpreter options such as -X dev. The program keeps
    the terminal (stdin, stdout, stderr, signals); the report goes to -o FILE or, once the
    program ends, to stderr. Every module load is attributed to the line that triggered it,
    through lazy __getattr__ hops and introspection such as hasattr or inspect.getmodule.
    """
    from aoinspect.render import RenderOptions, render
    from aoinspect.tracing.command import run_trace
    from aoinspect.tracing.models import TraceOptions

    invocation = _Invocation(ctx, "trace")
    # Without contracts the rules (and their registry) are not even imported.
    options = TraceOptions(forbid=forbid, max_modules=max_modules[1] if max_modules else None,
                           max_import_ms=max_import_ms[1] if max_import_ms else None)
    report = run_trace(program, python=invocation.value("python"), timeout=invocation.value("timeout"),
                       options=options if options != TraceOptions() else None)
    invocation.emit(render(report, invocation.fmt, RenderOptions(top=top, depth=depth, focus=focus, why=why)))
    ctx.exit(report.exit_code)


# --- the process -------------------------------------------------------------------------------

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
    from aoinspect.probing.hooks import end_everything

    _prepare_process()
    try:
        cli(prog_name="aoinspect")
    except Terminated as exc:
        sys.exit(128 + exc.signum)
    finally:
        end_everything()
