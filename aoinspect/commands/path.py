"""The one command path: what every running command of ``aoinspect`` goes through.

The options every command is built from are in ``aoinspect.commands.options``. Here,
``Invocation`` settles each value (command line, environment, configuration, default),
where the report goes (``-o FILE``, its format guessed from the extension) and how a failure
shows; ``CommandHooks`` is what a command hands the engine (a progress line, a probe started
early). ``aoinspect.cli`` (the group, the error funnel) and the commands of this package
(``package``, ``reports``, ``trace``) import it; ``aoinspect --help`` does not.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any, Callable, NoReturn

import click

from aoinspect import formats
from aoinspect.commands.options import (
    DEFAULT_PACKAGE,
    DEFAULT_TIMEOUT,
    INVOCATION,
    terminal_columns,
)
from aoinspect.probing.hooks import SessionHooks  # a base class, nothing imported with it

if TYPE_CHECKING:
    from collections.abc import Sequence

    from aoinspect.models import CheckReport, ErrorInfo, ListReport, ResolveReport, Snapshot
    from aoinspect.probing.lifecycle import ReportMemo
    from aoinspect.probing.wire import ProbeSettings

    Report = ListReport | ResolveReport | CheckReport | Snapshot


def say(message: str) -> None:
    """``aoinspect: MESSAGE`` on stderr; the message may quote the package, so no line of it may
    start a CI runner's workflow command (aoinspect.render.escape)."""
    from aoinspect.render.escape import message as safe

    click.echo(safe(f"aoinspect: {message}"), err=True)


def failure_document(command: str | None, package: str, fmt: str | None, kind: str, message: str,
                     exit_code: int, error: ErrorInfo | None = None) -> str | None:
    """The failure as a document in ``fmt``, where the format registry says that format shows
    the command's failures; else None (the message on stderr says it all)."""
    if fmt is None or fmt not in formats.FORMATS or not formats.renders_failure_of(fmt, command or "aoinspect"):
        return None
    if command is not None and command not in formats.KINDS:
        return None  # a command that makes no report of its own (render): the message says it all
    from aoinspect.models import Failure
    from aoinspect.render import render

    return render(Failure(command or "aoinspect", package, kind, message, exit_code, error), fmt)


# --- one command's settings, output and failures -----------------------------------------------

_SOURCE_RANK = {
    click.core.ParameterSource.COMMANDLINE: 0,
    click.core.ParameterSource.ENVIRONMENT: 2,
    click.core.ParameterSource.DEFAULT_MAP: 4,
}


def setting(ctx: click.Context, name: str, default: Any = None) -> tuple[Any, int]:
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


class CommandHooks(SessionHooks):
    """What the CLI gives the engine's sessions: its parts, each hooks of its own (the progress
    line, the probe it started early), told everything in turn."""

    def __init__(self) -> None:
        self.parts: list[SessionHooks] = []
        self.indexes: dict[Any, Any] = {}  # what keep_distributions kept, for the replay too

    def planned(self, count: int) -> None:
        for part in self.parts:
            part.planned(count)

    def finished(self, count: int, label: str) -> None:
        for part in self.parts:
            part.finished(count, label)

    def claim(self, python: str, fields: Sequence[str]) -> Any:
        return next((started for part in self.parts if (started := part.claim(python, fields)) is not None), None)

    def early_probe(self) -> Any:
        return next((early for part in self.parts if (early := part.early_probe()) is not None), None)

    def early_cache(self) -> Any:
        return next((cache for part in self.parts if (cache := part.early_cache()) is not None), None)

    def cache_closed(self, cache: Any) -> None:
        for part in self.parts:
            part.cache_closed(cache)

    def distributions(self, key: Any) -> Any:
        return self.indexes.get(key)

    def keep_distributions(self, key: Any, index: Any) -> None:
        self.indexes[key] = index

    def close(self) -> None:
        """The command is over: clear the progress line; end the early probe if nothing claimed it."""
        for part in self.parts:
            part.close()


class _ClosedCaches(SessionHooks):
    """Collects the cache of every session the command opened, once it closed."""

    def __init__(self) -> None:
        self.caches: list[Any] = []

    def cache_closed(self, cache: Any) -> None:
        self.caches.append(cache)


class _Replay(_ClosedCaches):
    """The hooks of a pass that reads the caches of the run before it, in order, and may start
    no probe."""

    def __init__(self, caches: Sequence[Any], indexes: dict[Any, Any]) -> None:
        super().__init__()
        self._unused = list(caches)
        self._indexes = indexes  # the run's: what it read of installed distributions, read once

    def early_cache(self) -> Any:
        return self._unused.pop(0) if self._unused else None

    def distributions(self, key: Any) -> Any:
        return self._indexes.get(key)

    def may_measure(self) -> bool:
        return False


class Invocation:
    """The effective options of one command (``setting``), where its report goes, and how it
    fails; the error funnel finds it in the context."""

    def __init__(self, ctx: click.Context, command: str, package: str = "", kind: str | None = None) -> None:
        """``kind``: the report kind printed, when it is not the command's (``render``)."""
        self.ctx = ctx
        self.command = command
        self.kind = kind or command
        self.output: str | None = ctx.params.get("output")
        self.package: str = package
        self.fmt = "text"  # until the format is settled: usage errors on the way show as text
        self.hooks = CommandHooks()
        self.render_options: dict[str, Any] = {}  # the command's view options (--top, --sort, --depth)
        self._kept: ReportMemo | None = None  # where a warm run finds this report (serve_kept)
        ctx.meta[INVOCATION] = self
        if "package" in ctx.params:  # until the argument is checked: what a failure names
            self.package = str(ctx.params.get("package_argument") or self.value("package", DEFAULT_PACKAGE))
        self.fmt = self._format()
        if "package" in ctx.params:
            self.package = self._package()

    def value(self, name: str, default: Any = None) -> Any:
        return setting(self.ctx, name, default)[0]

    def _package(self) -> str:
        typed = self.ctx.params.get("package_argument")
        given, rank = setting(self.ctx, "package", DEFAULT_PACKAGE)
        if typed is not None and rank == 0 and given != typed:
            raise click.UsageError(f"two packages: {typed} and -p {given}; give one.", ctx=self.ctx)
        return str(typed or given)

    def _format(self) -> str:
        given, rank = setting(self.ctx, "fmt", None)
        default = "json" if self.kind == "snapshot" else "text"
        guessed = formats.guess_format(self.output) if self.output and rank > 1 else None
        fmt = str(guessed or given or default)
        allowed = formats.names_for(self.kind) or formats.ALL  # a failure of no command: any format
        if fmt not in allowed:
            source = f" (guessed from {self.output}; give --format)" if guessed else ""
            raise click.UsageError(f"{self.kind} prints {', '.join(allowed)}, not {fmt}{source}.", ctx=self.ctx)
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
        from aoinspect.probing.lifecycle import start_early

        if self.value("python") is not None or self.value("isolation", "auto") not in ("auto", "spawn"):
            return
        early = start_early(sys.executable, self.package, mode, names, cache_dir=self.value("cache_dir"),
                            no_cache=bool(self.value("no_cache", False)))
        if early is not None:
            self.hooks.parts.append(early)

    def _view(self) -> tuple[bool, int]:
        """Whether the report is painted, and its width."""
        to_terminal = self.output is None and sys.stdout.isatty()
        color = self.fmt == "text" and "NO_COLOR" not in os.environ and to_terminal
        return color, max(terminal_columns(100) if to_terminal else 100, 60)

    def serve_kept(self, memo: dict[str, Any]) -> None:
        """Print the report a warm run of this command with these settled options (``memo``) kept,
        and exit, if everything it was made from is unchanged (``ReportMemo``); else note where
        this run keeps its own. Before any probe starts or the engine is imported."""
        kept = self._memo(memo, *self._view())
        self._kept = kept
        served = kept.read() if kept is not None else None
        if served is not None:
            self.hooks.close()
            self.emit(served[0])
            self.ctx.exit(served[1])

    def run(self, produce: Callable[[ProbeSettings, SessionHooks], Report],
            then: Callable[[Report], bool] | None = None, memo: dict[str, Any] | None = None) -> NoReturn:
        """Run the engine, render the report where it goes, and exit with its code; failures
        go to the funnel (``aoinspect.cli._Group.invoke``). ``then``: what to say after the
        report, true if it said anything. ``memo``: the command's settled options, when its
        report may be kept whole for a warm run to print (``ReportMemo``, ``serve_kept``): such a
        run reads that one file, checks what it was made from, and imports no engine; a report
        followed by more (``then``) is not kept."""
        color, width = self._view()
        if memo is not None and self._kept is None:
            self.serve_kept(memo)
        kept = self._kept if memo is not None else None
        import contextlib

        from aoinspect.render import RenderOptions, render

        caches = _ClosedCaches()
        self.hooks.parts.append(caches)
        try:
            with kept.recording() if kept is not None else contextlib.nullcontext():
                report = produce(self.settings(), self.hooks)
        finally:
            self.hooks.close()
        render_options = RenderOptions(color=color, width=width, **self.render_options)
        text = render(report, self.fmt, render_options)
        self.emit(text)
        said = then(report) if then is not None else False
        exit_code = report.exit_code
        del report  # a second report may be made below: not both at once
        if kept is not None and not said and not kept.write(text, exit_code, caches.caches):
            self._replay(produce, kept, caches.caches, lambda warm: render(warm, self.fmt, render_options))
        self.ctx.exit(exit_code)

    def _replay(self, produce: Callable[[ProbeSettings, SessionHooks], Report], kept: ReportMemo,
                caches: Sequence[Any], rendered: Callable[[Report], str]) -> None:
        """After a run that measured and kept every result: the report a warm run will print,
        made now from the same caches without starting any probe, and kept, so that the first
        warm run is as quick as the next."""
        if not caches or not any(cache.measured for cache in caches) or any(
                cache.unkept or cache.key is None for cache in caches):
            return  # nothing measured: a second pass would read what this one read
        for cache in caches:
            cache.served_afresh()
        replay = _Replay(caches, self.hooks.indexes)
        try:
            with kept.recording():
                warm = produce(self.settings(), replay)
            kept.write(rendered(warm), warm.exit_code, replay.caches)
        except Exception:  # noqa: BLE001 - MeasuringRefused, or anything else: the report printed stands
            return
        finally:
            replay.close()

    def _memo(self, options: dict[str, Any], color: bool, width: int) -> ReportMemo | None:
        """Where this run's whole report is kept, for a cache in use and this interpreter."""
        if self.value("python") is not None or self.value("no_cache", False):
            return None
        from aoinspect.probing.lifecycle import report_memo

        request = {
            "command": self.command, "kind": self.kind, "options": options, "format": self.fmt, "color": color,
            "width": width, "view": self.render_options, "timeout": self.value("timeout", DEFAULT_TIMEOUT),
            "jobs": self.value("jobs", os.cpu_count() or 1), "isolation": self.value("isolation", "auto"),
        }
        return report_memo(self.package, request, cache_dir=self.value("cache_dir"))

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
        document = failure_document(self.command, self.package, self.fmt, kind, message, exit_code, error)
        if document is not None:
            import contextlib

            with contextlib.suppress(click.BadParameter):  # the message below still says what went wrong
                self.emit(document)
        from aoinspect.render.escape import message as safe  # the message may quote the package

        click.echo(safe(f"aoinspect: {message}"), err=True)
        self.ctx.exit(exit_code)
