"""The command line: parse options, call one engine function, render, exit with its code.

One path for every command (``aoinspect.commands.path``): the options are objects (``Option``)
that also name their ``[tool.aoinspect]`` keys, read here; ``Invocation`` settles each value
(command line, environment, configuration, default) and where the report goes (``-o FILE``, its
format guessed from the extension); and ``_Group`` here is the one error funnel: usage errors,
the engine's errors, internal errors and signals each become one message and one exit code, the
same in every command.

Only Click is imported at start-up; the engine, the renderers and the tracer are imported by
the command that needs them, so that ``aoinspect --help`` stays cheap.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any, NoReturn

import click

from aoinspect import formats, outcomes  # constants and the format registry only: cheap enough for --help
from aoinspect.commands.path import (
    DEFAULT_PACKAGE,
    INVOCATION,
    MAX_JOBS,
    MAX_REPEAT,
    Command,
    Invocation,
    NamePattern,
    Option,
    RuleId,
    apply_options,
    budget_options,
    common_options,
    depth_option,
    failure_document,
    forbid_option,
    format_option_for,
    names_option,
    option,
    output_option,
    package_argument,
    probe_options,
    repeat_option,
    top_option,
)

if TYPE_CHECKING:
    from aoinspect.commands.path import Report

EXIT_CODES_HELP = """\b
Exit codes:
  0  everything asked for succeeded
  1  a name was rejected or failed to resolve, or check found an error
  2  usage error (including a NAME that is not a valid attribute name)
  3  the package could not be imported
  4  a probe failed: it timed out, crashed, or ended without reporting
"""

def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from aoinspect import __version__  # kept equal to the distribution's by a test: no metadata read

    click.echo(f"aoinspect {__version__}")
    ctx.exit(outcomes.EXIT_OK)


# --- [tool.aoinspect]: keys are the options' long names ----------------------------------------


def _config_keys(command: click.Command) -> dict[str, Option]:
    return {param.key: param for param in command.params if isinstance(param, Option) and param.config}


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


def _config_value(option: Option, key: str, setting: Any, where: str, ctx: click.Context,
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
                sys.exit(outcomes.EXIT_INTERRUPTED)
            click.echo("Aborted!", err=True)
            sys.exit(1)
        sys.exit(returned if isinstance(returned, int) else outcomes.EXIT_OK)

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
            invocation: Invocation | None = ctx.meta.get(INVOCATION)
            if isinstance(exc, AoinspectError):
                kind, message, exit_code, error = exc.kind, exc.message, exc.exit_code, exc.error
            else:
                kind, exit_code, error = "internal", outcomes.EXIT_PROBE_FAILED, None
                message = f"internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)"
            if invocation is None:
                _say(message)
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


def _takes_one_package(ctx: click.Context, extra: str) -> str:
    package = ctx.params.get("package_argument") or "PKG"
    command = ctx.info_name
    return (f"{command} takes one PKG. To measure names of {package}: aoinspect resolve -p {package} {extra}"
            + (f"; or aoinspect {command} {package} --names GLOB" if command in ("check", "list") else "") + ".")


class _PackageCommand(Command):
    extra_hint = staticmethod(_takes_one_package)


class _DiffCommand(Command):
    extra_hint = staticmethod(lambda _ctx, _extra: "diff compares two reports: aoinspect diff OLD.json NEW.json.")


def _say(message: str) -> None:
    """``aoinspect: MESSAGE`` on stderr; the message may quote the package, so no line of it may
    start a CI runner's workflow command (aoinspect.render.escape)."""
    from aoinspect.render.escape import message as safe

    click.echo(safe(f"aoinspect: {message}"), err=True)


def _usage_failure(exc: click.ClickException, arguments: list[str]) -> None:
    """Show Click's message on stderr, as Click would; and where the format shows failures (on
    the command line or in the configuration), the failure as one document on stdout."""
    exc.show()
    ctx = getattr(exc, "ctx", None)
    invocation: Invocation | None = ctx.meta.get(INVOCATION) if ctx is not None else None
    command: str | None
    fmt: str | None
    if invocation is not None:
        command, fmt, package = invocation.command, invocation.fmt, invocation.package
    else:
        command, fmt, package = _parsed_enough(exc, arguments)
    document = failure_document(command, package, fmt, "usage", exc.format_message(), exc.exit_code)
    if document is not None:
        click.echo(document)


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


def _interrupted(ctx: click.Context, signum: int | None) -> NoReturn:
    """Ctrl-C, or SIGTERM/SIGHUP (``signum``): the sessions ended their children on the way out."""
    invocation: Invocation | None = ctx.meta.get(INVOCATION)
    if invocation is not None:
        invocation.hooks.close()
    if signum is None:
        click.echo("aoinspect: interrupted", err=True)
        ctx.exit(outcomes.EXIT_INTERRUPTED)
    click.echo(f"aoinspect: ended by signal {signum}", err=True)
    ctx.exit(128 + signum)


# --- the group ---------------------------------------------------------------------------------


@click.group(cls=_Group, epilog=EXIT_CODES_HELP, context_settings={"help_option_names": ["-h", "--help"]})
@apply_options(probe_options)
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


def _with_progress(invocation: Invocation) -> Invocation:
    """On a terminal, and not for JSON, a progress line on stderr: one more part of the hooks
    the command hands the engine."""
    if invocation.fmt != "json" and sys.stderr.isatty():
        import shutil

        from aoinspect.progress import Progress

        invocation.hooks.parts.append(Progress(sys.stderr, shutil.get_terminal_size((100, 24)).columns))
    return invocation


@cli.command("list", cls=_PackageCommand, epilog=EXIT_CODES_HELP)
@package_argument
@common_options("list")
@option("--all", "include_undeclared", is_flag=True,
         help="Also list submodules on disk that no declaration exports.")
@option("--resolve", "resolve", is_flag=True,
         help="Also resolve each lazy name and show its module count and total time.")
@repeat_option
@names_option
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

    invocation = _with_progress(Invocation(ctx, "list"))
    invocation.run(lambda settings, hooks: engine.list_names(
        settings, invocation.package, include_undeclared=include_undeclared, resolve=resolve, repeat=repeat,
        names_matching=names_matching, hooks=hooks))


def _complete_names(ctx: click.Context, _param: click.Parameter, incomplete: str) -> list[str]:
    from aoinspect.completion import complete_names

    package = ctx.params.get("package") or (ctx.parent.params.get("package") if ctx.parent else None)
    return complete_names(package or DEFAULT_PACKAGE, incomplete)


def _misplaced_packages(invocation: Invocation, report: Report) -> None:
    """``aoinspect resolve networkx``: a NAME the package rejected that is a module of its own
    gets a hint naming the spelling that inspects it."""
    from aoinspect.completion import find_init

    for result in getattr(report, "results", ()):
        name = result.name
        if result.ok or "." in name or name == invocation.package or find_init(name) is None:
            continue
        click.echo(f"aoinspect: hint: {name} is not a name of {invocation.package} but a package of its own: "
                   f"aoinspect list {name}, or aoinspect resolve -p {name} NAME ...", err=True)


@cli.command("resolve", cls=Command, epilog=EXIT_CODES_HELP)
@common_options("resolve")
@click.argument("names", nargs=-1, metavar="NAME [NAME ...]", shell_complete=_complete_names)
@option("--all", "resolve_all", is_flag=True, help="Resolve every name PKG declares.")
@repeat_option
@top_option
@option("--sort", type=click.Choice(formats.SORT_KEYS), default=formats.SORT_KEYS[0],
         show_default=True, help="text: how to order the module table (order: as imports began).")
@depth_option
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
    invocation = _with_progress(Invocation(ctx, "resolve"))
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
            formatter.write_text("\b\n" + help_table(presets=True))


@cli.command("check", cls=_CheckCommand, epilog=EXIT_CODES_HELP)
@package_argument
@common_options("check")
@option("--strict", is_flag=True, default=None, help="Fail on warnings too.")
@forbid_option("`import PKG`")
@option("--forbid-on", multiple=True, metavar="NAME:PATTERN", type=NamePattern(),
         help="Fail when accessing NAME loads a module matching PATTERN. Repeatable.")
@apply_options(budget_options("`import PKG`", named=True))
@option("--baseline", type=click.Path(dir_okay=False), default=None, metavar="FILE",
         help="Fail on modules that the baseline (from `aoinspect snapshot`) did not have.")
@option("--update-baseline", is_flag=True, help="Rewrite the --baseline FILE from this run.")
@option("--threads", type=click.IntRange(min=0, max=MAX_JOBS), default=0, metavar="N",
         help=f"Also access each lazy name from N threads at once (default: off; at most {MAX_JOBS}).")
@option("--repeat", type=click.IntRange(min=1, max=MAX_REPEAT), default=1, metavar="N", show_default=True,
         help=f"Measure each name N times (at most {MAX_REPEAT}); time budgets use the fastest.")
@option("--ignore", multiple=True, metavar="RULE", type=RuleId(presets=True),
         help="Do not run RULE (e.g. star-import), nor its probes. Repeatable. 'whole-package' leaves out every "
              "probe that loads the whole package (star import, TAB completion, pickling): a quick run.")
@option("--names", "names", multiple=True, metavar="GLOB",
         help="Measure only the lazy names matching GLOB (fnmatch, e.g. 'Bert*'). Repeatable.")
@option("--recursive", is_flag=True, default=None,
         help="Also check each subpackage that has a lazy path of its own (one level down); its findings "
              "are prefixed by the subpackage.")
@click.pass_context
def check_command(
    ctx: click.Context, /, strict: bool | None, forbid: tuple[str, ...], forbid_on: tuple[tuple[str, str], ...],
    max_modules: tuple[tuple[str | None, float], ...], max_import_ms: tuple[tuple[str | None, float], ...],
    baseline: str | None, update_baseline: bool, threads: int, repeat: int, ignore: tuple[str, ...],
    names: tuple[str, ...], recursive: bool | None, **_options: Any,
) -> None:
    """Check PKG's lazy contract: names import on demand, unknown names are rejected;
    and the contracts given as options: forbidden imports, budgets, a baseline.
    """
    from aoinspect import engine
    from aoinspect.models import Budget, CheckOptions
    from aoinspect.rules import ignored_rules

    if update_baseline and not baseline:
        raise click.UsageError("--update-baseline needs --baseline FILE.", ctx=ctx)
    invocation = _with_progress(Invocation(ctx, "check"))
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
        ignore=ignored_rules(ignore),
        names=names,
        recursive=bool(recursive),
    )
    invocation.run(lambda settings, hooks: engine.check_package(
        settings, invocation.package, check_options, hooks=hooks))


@cli.command("snapshot", cls=_PackageCommand, epilog=EXIT_CODES_HELP)
@package_argument
@common_options("snapshot")
@click.pass_context
def snapshot_command(ctx: click.Context, /, **_options: Any) -> None:
    """Print what `import PKG` and each lazy name load, as a baseline for `check --baseline`.

    The document is sorted and holds no timings, so that it diffs well in review:
    `aoinspect snapshot > aoinspect.lock.json`, or `aoinspect snapshot PKG -o aoinspect.lock.json`.
    """
    from aoinspect import engine

    invocation = _with_progress(Invocation(ctx, "snapshot"))
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
  2  usage error: an unreadable file, not a valid JSON report (a value out of bounds, a name
     listed twice, NaN), reports of two different commands, or a bad option value
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
@format_option_for("diff")
@output_option
@option("--threshold", type=_Threshold(), default="10%,1ms", show_default=True, metavar="PCT%,MSms",
         help="Noise threshold for time changes: relative and absolute, both to be exceeded.")
@option("--fail-on", multiple=True, metavar="CONDITION", type=_FailOn(),
         help="Exit 1 when CONDITION holds (see below). Repeatable.")
@click.pass_context
def diff_command(ctx: click.Context, /, old: str, new: str, threshold: Any, fail_on: tuple[Any, ...],
                 **_options: Any) -> None:
    """Compare two JSON reports of the same command, OLD.json and NEW.json: modules added and
    removed for `import PKG` and per NAME, time and module-count changes, new and resolved findings.

    Reports come from `aoinspect resolve|check|list|snapshot|trace --format json`, e.g. on the base
    and the head of a pull request.
    """
    from aoinspect.diff import compare, read_report
    from aoinspect.render import render

    invocation = Invocation(ctx, "diff")
    result = compare(read_report(old), read_report(new), threshold, fail_on)
    invocation.emit(render(result, invocation.fmt))
    ctx.exit(result.exit_code)


# --- render: a saved report again, in any format of its kind; runs nothing ------------------------


@cli.command("render", cls=Command)
@click.argument("report_path", metavar="REPORT.json", type=click.Path(dir_okay=False))
@option("--format", "fmt", type=click.Choice(formats.ALL), default=None,
        help="Output format (default: from -o FILE's extension, else the command's own default).")
@output_option
@top_option
@option("--sort", type=click.Choice(formats.SORT_KEYS), default=formats.SORT_KEYS[0], show_default=True,
        help="text: how to order resolve's module table.")
@depth_option
@option("--focus", metavar="PKG", default=None, help="trace text: only the loads of PKG's modules.")
@option("--why", metavar="MODULE", default=None, help="trace text: the chain from the program's line to MODULE.")
@click.pass_context
def render_command(ctx: click.Context, /, report_path: str, top: int, sort: str, depth: int | None,
                   focus: str | None, why: str | None, **_options: Any) -> None:
    """Render REPORT.json, saved from any command's --format json, again in any format its
    command prints, with the same view options; nothing is run or measured again.

    The output is what the command printed in that format, and the exit code its exit code.
    A failure document (a run that produced no report) renders as the command showed it.
    """
    import shutil

    from aoinspect import documents
    from aoinspect.render import RenderOptions, render

    report = documents.load(report_path)  # an unreadable document: the funnel says why, exit 2
    kind = formats.kind_of(report)
    command = report.command if kind == "failure" else kind
    invocation = Invocation(ctx, "render", kind=command)
    fmt = invocation.fmt
    if kind == "failure" and not formats.renders_failure_of(fmt, command):
        _say(report.message)
        ctx.exit(report.exit_code)
    to_terminal = invocation.output is None and sys.stdout.isatty()
    width = shutil.get_terminal_size((100, 24)).columns if to_terminal else 100
    options = RenderOptions(color=fmt == "text" and to_terminal and "NO_COLOR" not in os.environ,
                            width=max(width, 60), top=top, sort=sort, depth=depth, focus=focus, why=why)
    invocation.emit(render(report, fmt, options))
    if kind == "failure":
        _say(report.message)
    ctx.exit(report.exit_code)


# --- rule: a rule's documentation; runs nothing ----------------------------------------------


@cli.command("rule", cls=Command)
@click.argument("rule_id", metavar="[RULE]", required=False, type=RuleId())
@click.option("--all", "every_rule", is_flag=True, help="Print the documentation of every rule.")
def rule_command(rule_id: str | None, every_rule: bool) -> None:
    """Print the documentation of RULE, a rule of `check`: what it checks, why it matters, an
    example and the fix (Markdown). Without RULE, list the rules.

    Runs nothing: the documentation comes from the rules themselves.
    """
    from aoinspect.rules import BY_ID, RULES, help_table
    from aoinspect.rules.docs import rule_page

    if rule_id is not None:
        click.echo(rule_page(BY_ID[rule_id]), nl=False)
    elif every_rule:
        click.echo("\n".join(rule_page(rule) for rule in RULES), nl=False)
    else:
        click.echo(help_table())


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
    from aoinspect.probing.lifecycle import end_everything

    _prepare_process()
    try:
        cli(prog_name="aoinspect")
    except Terminated as exc:
        sys.exit(128 + exc.signum)
    finally:
        end_everything()


# ``aoinspect trace`` is built from the same path, in the commands package.
from aoinspect.commands.trace import trace_command  # noqa: E402

cli.add_command(trace_command)
