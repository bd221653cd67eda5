"""The command line: parse options, call one engine function, render, exit with its code.

One path for every command (``aoinspect.commands.path``): the options are objects (``Option``,
in ``aoinspect.commands.options``) that also name their ``[tool.aoinspect]`` keys, read here;
``Invocation`` settles each value (command line, environment, configuration, default) and where
the report goes (``-o FILE``, its format guessed from the extension); and ``_Group`` here is the
one error funnel: usage errors, the engine's errors, internal errors and signals each become one
message and one exit code, the same in every command.

Only Click, the option objects and the format registry are imported at start-up. The commands
live in ``aoinspect.commands`` (``package``: list, resolve, check, snapshot; ``reports``: diff,
render, rule; ``trace``) and the group loads one only when it runs, is completed or has its keys
in ``[tool.aoinspect]``: ``aoinspect --help`` lists them from ``COMMANDS``. The engine, the
renderers and the tracer are imported by the command that needs them.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any, NoReturn

import click

from aoinspect import formats, outcomes  # constants and the format registry only: cheap enough for --help
from aoinspect.commands.options import (
    DEFAULT_PACKAGE,
    EXIT_CODES_HELP,
    INVOCATION,
    Context,
    FilePath,
    Option,
    UntranslatedHelp,
    apply_options,
    probe_options,
)

if TYPE_CHECKING:
    from aoinspect.commands.path import Invocation

# The commands, each loaded from its module only when it runs, is completed or has its options
# read from [tool.aoinspect]: name -> (module, attribute, the short help `aoinspect --help` shows).
# tests/test_startup.py holds the short help equal to the loaded command's.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "advise": ("aoinspect.commands.advise", "advise_command",
               "Say which import statements of PKG to make lazy (PEP 810), what each saves, and whether it is "
               "safe."),
    "check": ("aoinspect.commands.package", "check_command",
              "Check PKG's lazy contract: names import on demand, unknown names are rejected; and the "
              "contracts given as options: forbidden imports, budgets, a baseline."),
    "diff": ("aoinspect.commands.reports", "diff_command", "Compare two JSON reports of the same command, "
             "OLD.json and NEW.json: modules added and removed for `import PKG` and per NAME, time and "
             "module-count changes, new and resolved findings."),
    "graph": ("aoinspect.commands.graph", "graph_command",
              "Record every import request `import PKG` makes, hits included, and who made it."),
    "list": ("aoinspect.commands.package", "list_command",
             "List the lazy names PKG declares, where, and whether `import PKG` already loads them."),
    "render": ("aoinspect.commands.reports", "render_command",
               "Render REPORT.json, saved from any command's --format json, again in any format its command "
               "prints, with the same view options; nothing is run or measured again."),
    "resolve": ("aoinspect.commands.package", "resolve_command",
                "Access PKG.NAME for each NAME, each in a fresh interpreter, and show what it loaded."),
    "rule": ("aoinspect.commands.reports", "rule_command", "Print the documentation of RULE, a rule of `check`: "
             "what it checks, why it matters, an example and the fix (Markdown)."),
    "snapshot": ("aoinspect.commands.package", "snapshot_command",
                 "Print what `import PKG` and each lazy name load, as a baseline for `check --baseline`."),
    "trace": ("aoinspect.commands.trace", "trace_command",
              "Run PROGRAM as `python PROGRAM` would and show which of its lines loaded which modules."),
}


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
    assert isinstance(group, _Group)
    # Only the commands whose keys the file holds are loaded: check, whose options are top-level
    # keys too, when there is a top-level key; each command that has a table of its own.
    sub_tables = {name for name in COMMANDS if isinstance(table.get(name), dict)}
    commands = {name: group.load(name) for name in COMMANDS
                if name in sub_tables or (name == "check" and len(table) > len(sub_tables))}
    global_keys = _config_keys(group)
    top_level = {**(_config_keys(commands["check"]) if "check" in commands else {}), **global_keys}
    defaults: dict[str, Any] = {}
    per_command: dict[str, dict[str, Any]] = {name: {} for name in COMMANDS}
    for key, setting in table.items():
        if key in COMMANDS and isinstance(setting, dict):
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


class _Group(UntranslatedHelp, click.Group):
    """The command group and the one error funnel. ``main`` turns Click's usage errors, and
    ``invoke`` every other way a command can end early (the engine's errors, aoinspect's own,
    Ctrl-C and signals), into one message on stderr, one exit code and, in formats that show
    failures, one document where the report would have gone.

    Its commands are loaded lazily (Click's "lazy subcommands"): ``list_commands`` names them
    from ``COMMANDS`` and ``get_command`` imports the module of one only when it is needed, so
    that ``aoinspect --help`` and ``--version`` build none of their options. ``commands`` stays
    empty, so that a reader of it (sphinx-click) asks ``list_commands`` and ``get_command``."""

    context_class = Context

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._loaded: dict[str, click.Command] = {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self.load(cmd_name) if cmd_name in COMMANDS else None

    def load(self, name: str) -> click.Command:
        """The command ``name``, its module imported on first use."""
        command = self._loaded.get(name)
        if command is None:
            module, attribute, _short_help = COMMANDS[name]
            __import__(module)  # not importlib.import_module, which -X importtime does not see
            command = self._loaded[name] = getattr(sys.modules[module], attribute)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The commands and their short help, from ``COMMANDS``: listing them loads none."""
        from gettext import gettext  # as Click's own, already imported

        limit = formatter.width - 6 - max(len(name) for name in COMMANDS)
        # A bare command holding only the help shortens it as Click shortens the real one's.
        rows = [(name, click.Command(name, help=COMMANDS[name][2], add_help_option=False).get_short_help_str(limit))
                for name in self.list_commands(ctx)]
        with formatter.section(gettext("Commands")):
            formatter.write_dl(rows)

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
                from aoinspect.commands.path import say

                say(message)
                ctx.exit(exit_code)
            invocation.fail(kind, message, exit_code, error)

    def resolve_command(self, ctx: click.Context, args: list[str]) -> Any:
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as exc:
            word = args[0] if args else ""
            if "No such command" not in exc.message or word.startswith("-"):
                raise
            hint = _command_hint(word, self.list_commands(ctx))
            raise click.UsageError(f"{exc.message}\nHint: {hint}", ctx=ctx) from None


def _command_hint(word: str, commands: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(word, commands, n=1)
    if close:
        return f"Did you mean '{close[0]}'?"
    return (f"To inspect the package {word}: aoinspect list {word}, aoinspect check {word}, "
            f"or aoinspect resolve -p {word} NAME ...")


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
    from aoinspect.commands.path import failure_document

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
@click.option("--config", type=FilePath(), default=None, is_eager=True, expose_value=False,
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


# --- the process -------------------------------------------------------------------------------

CLEANUP_SIGNALS = ("SIGTERM", "SIGHUP", "SIGINT")


def _on_signal(signum: int, _frame: Any) -> None:
    import _signal  # type: ignore[import-not-found]

    for name in CLEANUP_SIGNALS:  # a second signal must not interrupt the cleanup
        if hasattr(_signal, name):
            _signal.signal(getattr(_signal, name), _signal.SIG_IGN)
    raise Terminated(signum)


def _prepare_process() -> None:
    """What the console script does before parsing anything: /dev/null on closed standard
    descriptors (``aoinspect <&- >&- 2>&-``), so that no pipe or file of ours lands on 0, 1 or 2;
    and cleanup on the signals that end a CI job (``timeout(1)``, a cancelled run, a closed
    terminal)."""
    # The built-in _signal, not signal: its enum wrappers cost a start-up what no handler needs.
    import _signal

    from aoinspect.probing import ensure_std_fds  # the package's __init__: os alone

    ensure_std_fds()
    if sys.stdout is None or sys.stderr is None:  # Python gives None for descriptors closed at start
        sys.stdout = sys.stdout or open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
        sys.stderr = sys.stderr or open(2, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
    for name in CLEANUP_SIGNALS:
        if hasattr(_signal, name) and _signal.getsignal(getattr(_signal, name)) != _signal.SIG_IGN:
            _signal.signal(getattr(_signal, name), _on_signal)


# `aoinspect --help` as Click renders it at the usual width, saved beside this file: printing it
# skips Click's formatting (textwrap and a wrap of every help text: a tenth of a bare start-up).
# Its first line is the key of the sources that make the page (the group's options, the command
# table, the formats); a page whose key no longer matches is not used, and tests/test_startup.py
# holds the saved page equal to Click's (`pytest tests/test_startup.py --update-golden` rewrites it).
HELP_PAGE = "help.txt"
HELP_PAGE_SOURCES = ("cli.py", "commands/options.py", "formats.py")
HELP_PAGE_COLUMNS = 80  # Click's widest page: any terminal at least this wide gets the same one


def help_page_key() -> str:
    """The sources the help page is made from, as one checksum: cheap enough to compute at start-up."""
    import zlib

    here = os.path.dirname(os.path.abspath(__file__))
    checksum = 0
    for name in HELP_PAGE_SOURCES:
        with open(os.path.join(here, name), "rb") as stream:
            checksum = zlib.crc32(stream.read(), checksum)
    return f"{checksum:08x}"


def _saved_help_page() -> str | None:
    """The saved ``aoinspect --help``, when it is what Click would print here and now."""
    from aoinspect.commands.options import terminal_columns

    if terminal_columns(HELP_PAGE_COLUMNS) < HELP_PAGE_COLUMNS:
        return None
    try:
        with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), HELP_PAGE), encoding="utf-8") as stream:
            key, _, page = stream.read().partition("\n")
        return page if key == help_page_key() else None
    except OSError:  # not shipped (a zip, a frozen build): Click renders it
        return None


def _print_and_exit(text: str) -> NoReturn:
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:  # a reader gone away (| head): as Click's echo in _Group.main
        sys.stdout = None
        sys.exit(1)
    sys.exit(outcomes.EXIT_OK)


def main() -> None:
    _prepare_process()
    # The two answers that need no parsing skip Click's: what --version prints (_print_version),
    # and the saved help page where it is Click's.
    if sys.argv[1:] == ["--version"]:
        from aoinspect import __version__

        _print_and_exit(f"aoinspect {__version__}\n")
    if sys.argv[1:] in (["--help"], ["-h"]):
        page = _saved_help_page()
        if page is not None:
            _print_and_exit(page)
    try:
        cli(prog_name="aoinspect")
    except Terminated as exc:
        sys.exit(128 + exc.signum)
    finally:
        if "aoinspect.probing.runner" in sys.modules:  # no child starts without it: else nothing to end
            from aoinspect.probing.lifecycle import end_everything

            end_everything()

