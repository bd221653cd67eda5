"""``aoinspect diff``, ``render`` and ``rule``: the commands that read reports or the rules and
run no probe. The group (``aoinspect.cli``) imports this module only when one of them runs, is
completed, or its options are read from ``[tool.aoinspect]``."""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from aoinspect import formats
from aoinspect.commands.options import (
    Command,
    RuleId,
    depth_option,
    format_option_for,
    option,
    output_option,
    terminal_columns,
    top_option,
)
from aoinspect.commands.path import (
    Invocation,
    say,
)


class _DiffCommand(Command):
    extra_hint = staticmethod(lambda _ctx, _extra: "diff compares two reports: aoinspect diff OLD.json NEW.json.")


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


class _Parsed(click.ParamType):  # type: ignore[type-arg]
    """A value of ``aoinspect.diff`` that its own parser reads from a word (``parse_fail_on``,
    ``parse_threshold``); one already parsed (a default, a configured value) passes as it is.
    The parser is imported only when a value is converted: ``diff --help`` imports no diff."""

    def __init__(self, name: str, parser: str, kind: str) -> None:
        self.name = name
        self.parser = parser
        self.kind = kind

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from aoinspect import diff

        if isinstance(value, getattr(diff, self.kind)):
            return value
        try:
            return getattr(diff, self.parser)(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


@click.command("diff", cls=_DiffCommand, epilog=DIFF_HELP)
@click.argument("old", metavar="OLD.json")
@click.argument("new", metavar="NEW.json")
@format_option_for("diff")
@output_option
@option("--threshold", type=_Parsed("threshold", "parse_threshold", "Threshold"), default="10%,1ms",
         show_default=True, metavar="PCT%,MSms",
         help="Noise threshold for time changes: relative and absolute, both to be exceeded.")
@option("--fail-on", multiple=True, metavar="CONDITION", type=_Parsed("condition", "parse_fail_on", "FailOn"),
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


@click.command("render", cls=Command)
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
@option("--lazy-keyword", is_flag=True, default=False,
        help="advise patch: `lazy` keywords instead of __lazy_modules__ blocks.")
@click.pass_context
def render_command(ctx: click.Context, /, report_path: str, top: int, sort: str, depth: int | None,
                   focus: str | None, why: str | None, lazy_keyword: bool, **_options: Any) -> None:
    """Render REPORT.json, saved from any command's --format json, again in any format its
    command prints, with the same view options; nothing is run or measured again.

    The output is what the command printed in that format, and the exit code its exit code.
    A failure document (a run that produced no report) renders as the command showed it.
    """
    from aoinspect import documents
    from aoinspect.render import RenderOptions, render

    report = documents.load(report_path)  # an unreadable document: the funnel says why, exit 2
    kind = formats.kind_of(report)
    command = report.command if kind == "failure" else kind
    invocation = Invocation(ctx, "render", kind=command)
    fmt = invocation.fmt
    if kind == "failure" and not formats.renders_failure_of(fmt, command):
        say(report.message)
        ctx.exit(report.exit_code)
    to_terminal = invocation.output is None and sys.stdout.isatty()
    width = terminal_columns(100) if to_terminal else 100
    options = RenderOptions(color=fmt == "text" and to_terminal and "NO_COLOR" not in os.environ,
                            width=max(width, 60), top=top, sort=sort, depth=depth, focus=focus, why=why,
                            lazy_keyword=lazy_keyword)
    invocation.emit(render(report, fmt, options))
    if kind == "failure":
        say(report.message)
    ctx.exit(report.exit_code)


# --- rule: a rule's documentation; runs nothing ----------------------------------------------


@click.command("rule", cls=Command)
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
