"""``aoinspect list``, ``resolve``, ``check`` and ``snapshot``: the commands that probe a package.
Each parses its options, hands the engine one call through ``Invocation`` and lets the one
command path render and exit. The group (``aoinspect.cli``) imports this module only when one of
them runs, is completed, or its options are read from ``[tool.aoinspect]``."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from aoinspect import formats
from aoinspect.commands.options import (
    DEFAULT_PACKAGE,
    EXIT_CODES_HELP,
    MAX_JOBS,
    MAX_REPEAT,
    Command,
    FilePath,
    NamePattern,
    RuleId,
    apply_options,
    budget_options,
    common_options,
    depth_option,
    forbid_option,
    names_option,
    option,
    package_argument,
    repeat_option,
    terminal_columns,
    top_option,
)
from aoinspect.commands.path import (
    Invocation,
)

if TYPE_CHECKING:
    from aoinspect.commands.path import Report
    from aoinspect.probing.hooks import SessionHooks
    from aoinspect.probing.wire import ProbeSettings

def _takes_one_package(ctx: click.Context, extra: str) -> str:
    package = ctx.params.get("package_argument") or "PKG"
    command = ctx.info_name
    return (f"{command} takes one PKG. To measure names of {package}: aoinspect resolve -p {package} {extra}"
            + (f"; or aoinspect {command} {package} --names GLOB" if command in ("check", "list") else "") + ".")


class _PackageCommand(Command):
    extra_hint = staticmethod(_takes_one_package)


def _with_progress(invocation: Invocation) -> Invocation:
    """On a terminal, and not for JSON, a progress line on stderr: one more part of the hooks
    the command hands the engine."""
    if invocation.fmt != "json" and sys.stderr.isatty():
        from aoinspect.progress import Progress

        invocation.hooks.parts.append(Progress(sys.stderr, terminal_columns(100)))
    return invocation


@click.command("list", cls=_PackageCommand, epilog=EXIT_CODES_HELP)
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


def _misplaced_packages(invocation: Invocation, report: Report) -> bool:
    """``aoinspect resolve networkx``: a NAME the package rejected that is a module of its own
    gets a hint naming the spelling that inspects it; whether one did."""
    from aoinspect.completion import find_init

    hinted = False
    for result in getattr(report, "results", ()):
        name = result.name
        if result.ok or "." in name or name == invocation.package or find_init(name) is None:
            continue
        click.echo(f"aoinspect: hint: {name} is not a name of {invocation.package} but a package of its own: "
                   f"aoinspect list {name}, or aoinspect resolve -p {name} NAME ...", err=True)
        hinted = True
    return hinted


@click.command("resolve", cls=Command, epilog=EXIT_CODES_HELP)
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
    invocation.render_options = {"top": top, "sort": sort, "depth": depth}
    # A repeated measurement is measured every time: no report is kept.
    memo = {"names": names, "all": resolve_all} if repeat == 1 else None
    if memo is not None:
        invocation.serve_kept(memo)
    if len(names) == 1 and not resolve_all and repeat == 1:
        invocation.start_early("resolve", names)
    # From here a child may run: Ctrl-C at any point ends it and exits 130 (the funnel).
    from aoinspect import engine

    if resolve_all:
        invocation.run(lambda settings, hooks: engine.resolve_all(
            settings, invocation.package, repeat=repeat, hooks=hooks), memo=memo)
    else:
        invocation.run(lambda settings, hooks: engine.resolve_names(
            settings, invocation.package, names, repeat=repeat, hooks=hooks),
            then=lambda report: _misplaced_packages(invocation, report), memo=memo)


class _CheckCommand(_PackageCommand):
    """``check --help`` lists the rules from the registry; only asking for help loads it."""

    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from aoinspect.rules import help_table

        super().format_help_text(ctx, formatter)
        formatter.write_paragraph()
        with formatter.indentation():
            formatter.write_text("\b\n" + help_table(presets=True))


@click.command("check", cls=_CheckCommand, epilog=EXIT_CODES_HELP)
@package_argument
@common_options("check")
@option("--strict", is_flag=True, default=None, help="Fail on warnings too.")
@forbid_option("`import PKG`")
@option("--forbid-on", multiple=True, metavar="NAME:PATTERN", type=NamePattern(),
         help="Fail when accessing NAME loads a module matching PATTERN. Repeatable.")
@apply_options(budget_options("`import PKG`", named=True))
@option("--baseline", type=FilePath(), default=None, metavar="FILE",
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
@option("--suggest-lazy", type=click.FloatRange(min=0), default=None, metavar="N",
         help="Warn on each eager import of PKG's files whose deferral (PEP 810 __lazy_modules__) would stop more "
              "than N modules loading (default: off; `aoinspect advise` says more).")
@option("--predict", is_flag=True, default=False, hidden=True,
        help="The default: predict most names' sets (see --exact).")
@option("--exact", is_flag=True, default=False,
        help="Measure every name in its own fork (as --isolation fork-each). By default most names' sets are "
             "predicted from the executed-import graph of one child that touches every name, and the names a "
             "prediction may not hold for, a seeded sample and any name with a finding are measured in their "
             "own forks.")
@click.pass_context
def check_command(
    ctx: click.Context, /, strict: bool | None, forbid: tuple[str, ...], forbid_on: tuple[tuple[str, str], ...],
    max_modules: tuple[tuple[str | None, float], ...], max_import_ms: tuple[tuple[str | None, float], ...],
    baseline: str | None, update_baseline: bool, threads: int, repeat: int, ignore: tuple[str, ...],
    names: tuple[str, ...], recursive: bool | None, suggest_lazy: float | None, predict: bool, exact: bool,
    **_options: Any,
) -> None:
    """Check PKG's lazy contract: names import on demand, unknown names are rejected;
    and the contracts given as options: forbidden imports, budgets, a baseline.
    """
    del predict  # the default
    if update_baseline and not baseline:
        raise click.UsageError("--update-baseline needs --baseline FILE.", ctx=ctx)
    invocation = _with_progress(Invocation(ctx, "check"))

    def produce(settings: ProbeSettings, hooks: SessionHooks) -> Report:
        from dataclasses import replace

        from aoinspect import engine
        from aoinspect.models import Budget, CheckOptions
        from aoinspect.rules import ignored_rules

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
            suggest_lazy=suggest_lazy,
            predict=not exact,  # --predict: the default, kept for the scripts that asked for it
        )
        return engine.check_package(replace(settings, isolation="fork-each") if exact else settings,
                                    invocation.package, check_options, hooks=hooks)

    # A run that measures afresh by definition (time budgets, --repeat) or writes a file keeps no
    # report; any other is keyed by its options as given (no rule registry imported to settle them).
    # --suggest-lazy's graph child runs outside the session (its result is not cached): a warm run
    # would start it again, and the report would depend on its temporary directory.
    memoized = not (update_baseline or max_import_ms or repeat > 1 or suggest_lazy is not None)
    settled = {"strict": strict, "forbid": forbid, "forbid_on": forbid_on, "max_modules": max_modules,
               "baseline": baseline, "threads": threads, "ignore": ignore, "names": names, "recursive": recursive,
               "suggest_lazy": suggest_lazy, "exact": exact}
    invocation.run(produce, memo=settled if memoized else None)


@click.command("snapshot", cls=_PackageCommand, epilog=EXIT_CODES_HELP)
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
