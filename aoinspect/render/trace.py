"""``aoinspect trace``'s own renderers: text (the lines of the program that cost the most import
time, or ``--focus`` / ``--why`` views), tree, svg and markdown. json, html, github and sarif are
the shared renderers (see ``aoinspect.formats``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, List, Tuple

from aoinspect.models.trace import (
    CAUSE_CODEC,
    CAUSE_COMPILED_MODULE,
    CAUSE_EXEC,
    CAUSE_INTERPRETER,
    CAUSE_PARENT_PACKAGE,
    CAUSE_PROGRAM_START,
)
from aoinspect.render import counted

if TYPE_CHECKING:
    from aoinspect.models.trace import Frame, TracedLoad, TraceReport
    from aoinspect.render import RenderOptions


# --- helpers -------------------------------------------------------------------------------------


def shown_path(report: TraceReport, file: str) -> str:
    """Paths below the program's working directory are shown relative to it."""
    prefix = report.cwd.rstrip("/") + "/"
    return file[len(prefix):] if report.cwd and file.startswith(prefix) else file


NO_OWN_LINE = "(no frame of the program's own on the stack)"
# What stands where a load has no line to show, by its cause.
WITHOUT_LINE = {
    CAUSE_INTERPRETER: "(the interpreter itself)",
    CAUSE_PROGRAM_START: "(the program's start: python finding the program)",
    CAUSE_COMPILED_MODULE: "(a compiled module's initialisation)",
    CAUSE_CODEC: "(a codec search)",
    CAUSE_PARENT_PACKAGE: "(a submodule's import)",
}


def where(report: TraceReport, frame: Frame | None, cause: str | None = None) -> str:
    if frame is None:
        return WITHOUT_LINE.get(cause or CAUSE_INTERPRETER, "(the interpreter itself)")
    return f"{shown_path(report, frame.file)}:{frame.line}"


def own_place(report: TraceReport, load: TracedLoad) -> str:
    """The program's own line of a load, or what stands for it when it has none."""
    if load.own is not None:
        return where(report, load.own)
    return WITHOUT_LINE.get(load.cause or "", NO_OWN_LINE)


def same_line(first: Frame | None, second: Frame | None) -> bool:
    """Whether two frames are on one line (whatever else was read of them)."""
    if first is None or second is None:
        return first is second
    return (first.file, first.line) == (second.file, second.line)


def way_in(load: TracedLoad) -> str:
    """``via hasattr -> ao.__getattr__('x')``: how an attribute access became this import."""
    parts = [part for part in (load.via, str(load.hop) if load.hop else None) if part]
    return "via " + " -> ".join(parts) if parts else ""


def cause_note(report: TraceReport, load: TracedLoad, parent: TracedLoad | None = None,
               trigger_shown: bool = True) -> str:
    """What began a load, when its line alone does not say: ``exec'd by app.py:3`` (``exec'd at
    <string>:1 by app.py:3`` where the trigger is not shown beside it)."""
    if load.cause == CAUSE_EXEC:
        by = load.chain[-1] if load.chain else load.own
        at = "" if trigger_shown else f" at {where(report, load.trigger)}"
        return f"exec'd{at}" + (f" by {where(report, by)}" if by else "")
    if load.cause == CAUSE_CODEC:
        return "codec search"
    if load.cause == CAUSE_PARENT_PACKAGE:
        return f"parent package of {parent.module}" if parent is not None else "parent package"
    if load.cause == CAUSE_COMPILED_MODULE:
        return f"initialisation of compiled module {parent.module}" if parent is not None else "compiled module's init"
    return ""


def how(report: TraceReport, load: TracedLoad, parent: TracedLoad | None = None, from_line: bool = False) -> str:
    """A load's way in and cause, and (``from_line``) the library line that imported it when
    that is not the program's own line."""
    notes = [cause_note(report, load, parent, trigger_shown=not from_line)]
    if from_line and load.trigger is not None and not same_line(load.trigger, load.own) and load.cause != CAUSE_EXEC:
        notes.append(f"from {where(report, load.trigger)}")
    noted = "; ".join(note for note in notes if note)
    return " ".join(part for part in (way_in(load), f"({noted})" if noted else "") if part)


def descendants(report: TraceReport) -> dict[int, list[TracedLoad]]:
    children: dict[int, list[TracedLoad]] = {}
    for load in report.loads:
        if load.parent_index is not None:
            children.setdefault(load.parent_index, []).append(load)
    return children


def count_loaded(load: TracedLoad, children: dict[int, list[TracedLoad]], keep: Callable[[TracedLoad], bool]) -> int:
    stack = [load]
    count = 0
    while stack:
        current = stack.pop()
        count += 0 if current.failed or not keep(current) else 1
        stack.extend(children.get(current.index, ()))
    return count


def in_package(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


Row = Tuple[float, int, str, "Frame | None", List["TracedLoad"]]


def by_line(report: TraceReport, entries: list[TracedLoad], keep: Callable[[TracedLoad], bool]) -> list[Row]:
    """Entries grouped by the program's own line: (cumulative ms, modules, place, line, entries),
    costliest first. An access and an import on the same line are rows of their own."""
    children = descendants(report)
    groups: dict[tuple[str, int, bool] | str, list[TracedLoad]] = {}
    for load in entries:
        access = load.hop is not None or load.via is not None
        key = (load.own.file, load.own.line, access) if load.own is not None else own_place(report, load)
        groups.setdefault(key, []).append(load)
    rows: list[Row] = []
    for members in groups.values():
        total = round(sum(member.load.cumulative_ms for member in members), 4)
        modules = sum(count_loaded(member, children, keep) for member in members)
        rows.append((total, modules, own_place(report, members[0]), members[0].own, members))
    # Lines ranked by the import time they began; an import and an access on one line stay
    # together, in the order they ran.
    line_total: dict[str, float] = {}
    for row in rows:
        line_total[row[2]] = line_total.get(row[2], 0.0) + row[0]
    rows.sort(key=lambda row: (-line_total[row[2]], row[2], row[4][0].index))
    return rows


def modules_loaded(report: TraceReport) -> str:
    """``52 modules loaded (2 put in sys.modules without an import), 1 failed import``: the count
    every view shows (``TraceReport.module_count``)."""
    text = f"{counted(report.module_count, 'module')} loaded"
    if report.inserted:
        text += f" ({len(report.inserted)} put in sys.modules without an import)"
    failed = len(report.failed_loads)
    return text + (f", {counted(failed, 'failed import')}" if failed else "")


# --- what a view shows, so that the report reads no more ------------------------------------------


def lines_shown(fmt: str, options: RenderOptions) -> Callable[[TraceReport], list[TracedLoad]] | None:
    """Which loads' source lines (and the calls read from them) ``fmt`` shows with these
    options, as a function of a sketch of the report; None: every load's. ``aoinspect trace``
    reads the files of these loads only: the text view of a program of 800 loads shows a dozen
    lines, and reading the 280 files behind all of them cost more than the rest of the report.
    tests/test_trace.py holds each view's output equal to the one with every line read."""
    if fmt in ("markdown", "github", "sarif"):  # places (file:line) only, never a line's text
        return lambda report: []
    if fmt != "text":
        return None

    def shown(report: TraceReport) -> list[TracedLoad]:
        if options.why:
            return why_chain(report, options.why) or []
        rows = _focus_rows(report, options.focus)[1] if options.focus else _line_rows(report)
        return [member for row in rows[: options.top or None] for member in row[4][:4]]

    return shown


# --- text ----------------------------------------------------------------------------------------


def render_text(report: TraceReport, options: RenderOptions) -> str:
    lines = [
        f"aoinspect trace: {' '.join(report.program)}",
        f"Python {report.python}: {modules_loaded(report)}, {report.total_ms:.2f} ms importing; "
        f"the program {report.ending}.",
    ]
    if options.why:
        lines += ["", *_why(report, options.why)]
    elif options.focus:
        lines += ["", *_focus(report, options.focus, options.top)]
    else:
        lines += ["", *_lines(report, options.top), *_tests(report, options.top)]
    lines += _footer(report)
    return "\n".join(lines)


def _table(report: TraceReport, rows: list[Row], top: int) -> list[str]:
    by_index = {load.index: load for load in report.loads}
    lines = [f"{'cumul ms':>9} {'modules':>7}  where"]
    for total, modules, place, line, members in rows[: top or None]:  # lines_shown: what this shows
        source = f"  {line.source}" if line and line.source else ""
        thread = f"  [thread {members[0].thread}]" if members[0].thread != "MainThread" else ""
        access = "  (attribute access)" if members[0].hop is not None or members[0].via is not None else ""
        lines.append(f"{total:9.2f} {modules:7d}  {place}{source}{access}{thread}")
        described = []
        for member in members[:4]:
            parent = by_index.get(member.parent_index) if member.parent_index is not None else None
            detail = how(report, member, parent, from_line=True)
            failed = " (failed)" if member.failed else ""
            described.append(f"{member.module}{failed}" + (f" {detail}" if detail else ""))
        more = f", +{len(members) - 4} more" if len(members) > 4 else ""
        lines.append(f"{'':18}  {', '.join(described)}{more}")
    if top and len(rows) > top:
        lines.append(f"{'':18}  ... {len(rows) - top} more lines (--top 0 shows all)")
    return lines


def _lines(report: TraceReport, top: int) -> list[str]:
    rows = _line_rows(report)
    if not rows:
        return ["The program loaded no modules beyond the interpreter's own."]
    lines = ["The program's lines that started imports, by cumulative import time:"]
    return lines + _table(report, rows, top)


def _line_rows(report: TraceReport) -> list[Row]:
    roots = [load for load in report.loads if load.parent_index is None]
    return by_line(report, roots, lambda load: True)


def _focus_rows(report: TraceReport, package: str) -> tuple[list[TracedLoad], list[Row]]:
    """The loads of ``package`` no other of its loads ran around, and their rows."""
    def keep(load: TracedLoad) -> bool:
        return in_package(load.module, package)

    by_index = {load.index: load for load in report.loads}
    entries = [
        load for load in report.loads
        if keep(load) and not (load.parent_index is not None and keep(by_index[load.parent_index]))
    ]
    return entries, by_line(report, entries, keep)


def _focus(report: TraceReport, package: str, top: int) -> list[str]:
    entries, rows = _focus_rows(report, package)
    if not entries:
        return [f"The program loaded no module of {package}."]
    count = sum(1 for load in report.loaded if in_package(load.module, package))
    total = sum(load.load.cumulative_ms for load in entries)
    lines = [f"{package}: {counted(count, 'module')}, {total:.2f} ms importing; the lines that loaded them:"]
    return lines + _table(report, rows, top)


def why_chain(report: TraceReport, module: str) -> list[TracedLoad] | None:
    by_index = {load.index: load for load in report.loads}
    target = next((load for load in report.loads if load.module == module), None)
    if target is None:
        return None
    chain = [target]
    while chain[-1].parent_index is not None and chain[-1].parent_index in by_index:
        chain.append(by_index[chain[-1].parent_index])
    return list(reversed(chain))


def _why(report: TraceReport, module: str) -> list[str]:
    chain = why_chain(report, module)
    if chain is None:
        near = sorted(load.module for load in report.loaded if module in load.module)[:5]
        hint = f" (loaded: {', '.join(near)})" if near else ""
        return [f"{module} was not loaded{hint}."]
    lines = [f"Why {module} was loaded ({chain[-1].load.cumulative_ms:.2f} ms), from the program's line down:"]
    root = chain[0]
    if root.own is None:
        lines.append(f"  {own_place(report, root)}")
    elif not same_line(root.own, root.trigger):
        lines.append(_why_line(report, root.own))
    parent = None
    for load in chain:
        for frame in load.chain:
            lines.append(_why_line(report, frame))
        detail = "; ".join(part for part in (way_in(load), cause_note(report, load, parent)) if part)
        place = where(report, load.trigger, load.cause)
        source = f"  {load.trigger.source}" if load.trigger and load.trigger.source else ""
        lines.append(f"  {place}{source}  ->  {load.module}" + (f"  ({detail})" if detail else ""))
        parent = load
    return lines


def _why_line(report: TraceReport, frame: Frame) -> str:
    source = f"  {frame.source}" if frame.source else ""
    return f"  {where(report, frame)}{source}"


def _tests(report: TraceReport, top: int) -> list[str]:
    per_test: dict[str, dict[str, float]] = {}
    for load in report.loads:
        if load.test is not None and (load.parent_index is None or _context_root(report, load)):
            phases = per_test.setdefault(load.test, {})
            phases[load.phase or ""] = phases.get(load.phase or "", 0.0) + load.load.cumulative_ms
    if not per_test:
        return []
    ranked = sorted(per_test.items(), key=lambda item: -sum(item[1].values()))
    lines = ["", "Tests that pulled in the most import time:", f"{'ms':>9}  test (phase ms)"]
    for test, phases in ranked[: top or None]:
        detail = ", ".join(f"{phase} {ms:.2f}" for phase, ms in phases.items())
        lines.append(f"{sum(phases.values()):9.2f}  {test} ({detail})")
    return lines


def _context_root(report: TraceReport, load: TracedLoad) -> bool:
    """A load whose parent import began under another test or phase counts for its own."""
    parent = next((other for other in report.loads if other.index == load.parent_index), None)
    return parent is None or (parent.test, parent.phase) != (load.test, load.phase)


def _footer(report: TraceReport) -> list[str]:
    lines = [""]
    lines.append(f"{report.subprocesses} subprocess(es) started (not followed)." if report.subprocesses
                 else "No subprocesses started.")
    if report.incomplete:
        lines.append(f"INCOMPLETE: {report.incomplete}.")
    for finding in report.findings:
        lines.append(f"{finding.severity}: {finding.rule}: {finding.message}")
    return lines


# --- tree ----------------------------------------------------------------------------------------


def render_tree(report: TraceReport, options: RenderOptions) -> str:
    children = descendants(report)
    by_index = {load.index: load for load in report.loads}
    lines = [f"{' '.join(report.program)}  {modules_loaded(report)}, {report.total_ms:.2f} ms importing",
             f"{'self ms':>9} {'cumul ms':>9}  module  <- trigger"]

    def walk(loads: list[TracedLoad], prefix: str, level: int) -> None:
        for position, load in enumerate(loads):
            last = position == len(loads) - 1
            kids = children.get(load.index, [])
            hidden = options.depth is not None and level + 1 >= options.depth and kids
            suffix = f"  (+{len(kids)} below)" if hidden else ""
            parent = by_index.get(load.parent_index) if load.parent_index is not None else None
            detail = how(report, load, parent)
            trigger = f"  <- {where(report, load.trigger, load.cause)}" + (f" {detail}" if detail else "")
            lines.append(f"{load.load.self_ms:9.2f} {load.load.cumulative_ms:9.2f}  {prefix}{'└─ ' if last else '├─ '}"
                         f"{load.module}{' (failed)' if load.failed else ''}{suffix}{trigger}")
            if not hidden:
                walk(kids, prefix + ("   " if last else "│  "), level + 1)

    walk([load for load in report.loads if load.parent_index is None], "", 0)
    return "\n".join(lines + _footer(report)[1:])


# --- svg -----------------------------------------------------------------------------------------


def render_svg(report: TraceReport, options: RenderOptions) -> str:
    """An icicle chart as resolve draws one: the program on top, each import below the one
    that was running when it began, as wide as its cumulative time; triggers in the tooltips."""
    from aoinspect.render.svg import HEADING, MARGIN, ROW, WIDTH, _box, escape

    children = descendants(report)
    roots = [load for load in report.loads if load.parent_index is None]
    total = report.total_ms
    scale = WIDTH / total if total > 0 else 0.0
    top = MARGIN
    title = f"{' '.join(report.program)}: {modules_loaded(report)}, {total:.2f} ms importing"
    parts = [f'<text class="heading" x="{MARGIN:g}" y="{top + 15:g}">{escape(title)}</text>']
    row_top = top + HEADING
    parts.append(_box(MARGIN, row_top, WIDTH, "program", title, "access", None))
    depth = 0
    stack: list[tuple[list[TracedLoad], float, int]] = [(roots, MARGIN, 1)]
    while stack:
        loads, x, level = stack.pop()
        depth = max(depth, level)
        for load in loads:
            width = load.load.cumulative_ms * scale
            detail = how(report, load)
            tooltip = (f"{load.module}: self {load.load.self_ms:.3f} ms, cumulative {load.load.cumulative_ms:.3f} ms, "
                       f"from {where(report, load.trigger, load.cause)}" + (f" {detail}" if detail else ""))
            parts.append(_box(x, row_top + level * ROW, width, load.module, tooltip, None, load.load))
            stack.append((children.get(load.index, []), x, level + 1))
            x += width
    height = top + HEADING + (depth + 1) * ROW + MARGIN
    header = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH + 2 * MARGIN:g}" height="{height:g}" '
        f'viewBox="0 0 {WIDTH + 2 * MARGIN:g} {height:g}" font-family="monospace" font-size="11">'
    )
    style = (
        "<style>rect{stroke:#fff;stroke-width:0.5}text{pointer-events:none}"
        ".access{fill:#555}.heading{font-size:13px;font-weight:bold}</style>"
    )
    del options
    return "\n".join([header, style, *parts, "</svg>"])


def render_markdown(report: TraceReport, options: RenderOptions) -> str:
    """For a step summary: the program's lines that cost most import time, and the heaviest loads."""
    from aoinspect.render.markdown import cell, code, folded, ms, table

    verdict = "ok" if report.ok else f"exit code {report.exit_code}"
    lines = [f"### aoinspect trace {code(' '.join(report.program))}: {verdict}", "",
             f"{modules_loaded(report)}, {report.total_ms:.1f} ms importing"
             + ("; **incomplete**: " + cell(report.ending) if report.incomplete else "") + "", ""]
    roots = [load for load in report.loads if load.parent_index is None]
    ranked = by_line(report, roots, lambda load: True)[: options.top or None]
    rows = [(code(place) + (" (attribute access)" if members[0].hop is not None or members[0].via is not None else ""),
             str(modules), ms(total),
             ", ".join(code(load.module) for load in members[:5]) + (" ..." if len(members) > 5 else ""))
            for total, modules, place, _line, members in ranked]
    lines += table(("line", "modules", "cumulative ms", "imports"), rows, right=(1, 2))
    heaviest = sorted(report.loads, key=lambda load: -load.load.cumulative_ms)
    body = table(("module", "self ms", "cumulative ms", "triggered at", "program's line"),
                 [(code(load.module), ms(load.load.self_ms), ms(load.load.cumulative_ms),
                   code(where(report, load.trigger, load.cause)), code(own_place(report, load)))
                  for load in heaviest], right=(1, 2))
    lines += ["", *folded(f"All {len(heaviest)} loads, heaviest first", body)]
    for finding in report.findings:
        lines.append(f"- **{cell(finding.severity)}** {code(finding.rule)}: {cell(finding.message)}")
    return "\n".join(lines).rstrip() + "\n"
