"""``aoinspect trace``'s own renderers: text (the lines of the program that cost the most import
time, or ``--focus`` / ``--why`` views), tree, svg and markdown. json, html, github and sarif are
the shared renderers (see ``aoinspect.formats``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from aoinspect.render.text import counted

if TYPE_CHECKING:
    from aoinspect.models.trace import Frame, TracedLoad, TraceReport
    from aoinspect.render import RenderOptions


# --- helpers -------------------------------------------------------------------------------------


def shown_path(report: TraceReport, file: str) -> str:
    """Paths below the program's working directory are shown relative to it."""
    prefix = report.cwd.rstrip("/") + "/"
    return file[len(prefix):] if report.cwd and file.startswith(prefix) else file


def where(report: TraceReport, frame: Frame | None) -> str:
    if frame is None:
        return "(the interpreter itself)"
    return f"{shown_path(report, frame.file)}:{frame.line}"


def way_in(load: TracedLoad) -> str:
    """``via hasattr -> ao.__getattr__('x')``: how an attribute access became this import."""
    parts = [part for part in (load.via, str(load.hop) if load.hop else None) if part]
    return "via " + " -> ".join(parts) if parts else ""


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


def by_line(
    report: TraceReport, entries: list[TracedLoad], keep: Callable[[TracedLoad], bool]
) -> list[tuple[float, int, Frame | None, list[TracedLoad]]]:
    """Entries grouped by trigger line: (cumulative ms, modules, trigger, entries), costliest first."""
    children = descendants(report)
    groups: dict[tuple[str, int] | None, list[TracedLoad]] = {}
    for load in entries:
        key = (load.trigger.file, load.trigger.line) if load.trigger else None
        groups.setdefault(key, []).append(load)
    rows = []
    for members in groups.values():
        total = round(sum(member.load.cumulative_ms for member in members), 4)
        modules = sum(count_loaded(member, children, keep) for member in members)
        rows.append((total, modules, members[0].trigger, members))
    rows.sort(key=lambda row: (-row[0], row[3][0].index))
    return rows


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
        return [member for row in rows[: options.top or None] for member in row[3][:4]]

    return shown


# --- text ----------------------------------------------------------------------------------------


def render_text(report: TraceReport, options: RenderOptions) -> str:
    lines = [
        f"aoinspect trace: {' '.join(report.program)}",
        f"Python {report.python}: {counted(len(report.loaded), 'module')} loaded, {report.total_ms:.2f} ms importing; "
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


def _table(report: TraceReport, rows: list[tuple[float, int, Frame | None, list[TracedLoad]]], top: int) -> list[str]:
    lines = [f"{'cumul ms':>9} {'modules':>7}  where"]
    for total, modules, trigger, members in rows[: top or None]:  # lines_shown: what this shows
        place = where(report, trigger)
        source = f"  {trigger.source}" if trigger and trigger.source else ""
        thread = f"  [thread {members[0].thread}]" if members[0].thread != "MainThread" else ""
        lines.append(f"{total:9.2f} {modules:7d}  {place}{source}{thread}")
        described = []
        for member in members[:4]:
            how = way_in(member)
            failed = " (failed)" if member.failed else ""
            described.append(f"{member.module}{failed}" + (f" {how}" if how else ""))
        more = f", +{len(members) - 4} more" if len(members) > 4 else ""
        lines.append(f"{'':18}  {', '.join(described)}{more}")
    if top and len(rows) > top:
        lines.append(f"{'':18}  ... {len(rows) - top} more lines (--top 0 shows all)")
    return lines


def _lines(report: TraceReport, top: int) -> list[str]:
    rows = _line_rows(report)
    if not rows:
        return ["The program loaded no modules beyond the interpreter's own."]
    lines = ["Lines that started imports, by cumulative import time:"]
    return lines + _table(report, rows, top)


def _line_rows(report: TraceReport) -> list[tuple[float, int, Frame | None, list[TracedLoad]]]:
    roots = [load for load in report.loads if load.parent_index is None]
    return by_line(report, roots, lambda load: True)


def _focus_rows(report: TraceReport, package: str) -> tuple[
        list[TracedLoad], list[tuple[float, int, Frame | None, list[TracedLoad]]]]:
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
    for load in chain:
        trigger = load.trigger
        source = f"  {trigger.source}" if trigger and trigger.source else ""
        how = way_in(load)
        lines.append(f"  {where(report, trigger)}{source}  ->  {load.module}" + (f"  ({how})" if how else ""))
    return lines


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
    lines = [f"{' '.join(report.program)}  {len(report.loaded)} modules, {report.total_ms:.2f} ms importing",
             f"{'self ms':>9} {'cumul ms':>9}  module  <- trigger"]

    def walk(loads: list[TracedLoad], prefix: str, level: int) -> None:
        for position, load in enumerate(loads):
            last = position == len(loads) - 1
            kids = children.get(load.index, [])
            hidden = options.depth is not None and level + 1 >= options.depth and kids
            suffix = f"  (+{len(kids)} below)" if hidden else ""
            how = way_in(load)
            trigger = f"  <- {where(report, load.trigger)}" + (f" {how}" if how else "")
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
    title = f"{' '.join(report.program)}: {counted(len(report.loaded), 'module')}, {total:.2f} ms importing"
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
            how = way_in(load)
            tooltip = (f"{load.module}: self {load.load.self_ms:.3f} ms, cumulative {load.load.cumulative_ms:.3f} ms, "
                       f"from {where(report, load.trigger)}" + (f" {how}" if how else ""))
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
             f"{len(report.loaded)} modules, {report.total_ms:.1f} ms importing"
             + ("; **incomplete**: " + cell(report.ending) if report.incomplete else "") + "", ""]
    by_line: dict[str, list[TracedLoad]] = {}
    for load in report.loads:
        if load.load.depth == 0:
            by_line.setdefault(where(report, load.trigger), []).append(load)
    ranked = sorted(by_line.items(), key=lambda item: -sum(load.load.cumulative_ms for load in item[1]))
    rows = [(code(line), str(len(loads)), ms(sum(load.load.cumulative_ms for load in loads)),
             ", ".join(code(load.module) for load in loads[:5]) + (" ..." if len(loads) > 5 else ""))
            for line, loads in ranked[: options.top or None]]
    lines += table(("line", "imports", "cumulative ms", "modules"), rows, right=(1, 2))
    heaviest = sorted(report.loads, key=lambda load: -load.load.cumulative_ms)
    body = table(("module", "self ms", "cumulative ms", "triggered at"),
                 [(code(load.module), ms(load.load.self_ms), ms(load.load.cumulative_ms),
                   code(where(report, load.trigger))) for load in heaviest], right=(1, 2))
    lines += ["", *folded(f"All {len(heaviest)} loads, heaviest first", body)]
    for finding in report.findings:
        lines.append(f"- **{cell(finding.severity)}** {code(finding.rule)}: {cell(finding.message)}")
    return "\n".join(lines).rstrip() + "\n"
