"""From the tracer's sections to a ``TraceReport``: the import tree with times, source lines
read here rather than in the child, distributions, and the contracts' findings."""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any, Callable

from aoinspect.models import ModuleLoad
from aoinspect.models.trace import (
    CAUSE_INTERPRETER,
    CAUSE_LINE,
    CAUSE_PARENT_PACKAGE,
    Frame,
    Hop,
    TracedLoad,
    TraceReport,
)
from aoinspect.probing import wire_trace as wire
from aoinspect.records import field_names, replace

if TYPE_CHECKING:
    from collections.abc import Collection, Sequence

    from aoinspect.distributions import DistributionIndex
    from aoinspect.models import Finding
    from aoinspect.models.trace import TraceOptions
    from aoinspect.tracing.program import Program

# A call being evaluated (``hasattr(pkg, "x")``): the callee is a builtin or C function (a Python
# one would have had its own frame), and it was the way in.
_CALL = r"\s*([A-Za-z_][\w.]*)\s*\("  # patterns compiled on first use (``re`` caches them)
# Without instruction positions (3.9, 3.10): introspection builtins named on the line.
_BUILTIN_ON_LINE = r"\b(hasattr|getattr|dir|vars|help)\s*\("


class SourceLines:
    """Source lines of the files the trace names, each file read once; ``<string>`` is the
    program's ``-c`` code. With ``files``, only those are read (the others have no lines)."""

    def __init__(self, command: str | None, files: Collection[str] | None = None) -> None:
        self.command = command.splitlines() if command is not None else None
        self.files = files

    def lines(self, file: str) -> list[str]:
        if file == "<string>" and self.command is not None:
            return self.command
        if file.startswith("<") or (self.files is not None and file not in self.files):
            return []
        import linecache

        return linecache.getlines(file)

    def line(self, file: str, number: int) -> str | None:
        lines = self.lines(file)
        return lines[number - 1].strip() if 0 < number <= len(lines) else None

    def expression(self, file: str, positions: tuple[int, int, int, int] | None) -> str | None:
        """The source text of an instruction (columns are UTF-8 byte offsets)."""
        if positions is None:
            return None
        first, last, start, end = positions
        lines = self.lines(file)
        if not (0 < first <= last <= len(lines)) or start < 0 or end < 0:
            return None
        chunk = [line.rstrip("\n").encode() for line in lines[first - 1:last]]
        chunk[-1] = chunk[-1][:end]
        chunk[0] = chunk[0][start:]
        text = b"\n".join(chunk).decode(errors="replace").strip()
        return text or None


def build_report(
    program: Program, sections: Sequence[object], returncode: int | None, timeout: float | None,
    options: TraceOptions | None, index: DistributionIndex | None, problem: str | None = None, *,
    shown: Callable[[TraceReport], Collection[TracedLoad] | None] | None = None,
) -> TraceReport:
    """The report of a trace. ``shown``, given a first sketch of the report (no source line
    read, no distribution), names the loads whose source lines the view will show (None: all):
    only their files are read."""
    start = next((section for section in sections if isinstance(section, wire.TraceStartSection)), None)
    ends = [section for section in sections if isinstance(section, wire.TraceEndSection)]
    end = ends[-1] if ends else None
    spawned = max([section.count for section in sections if isinstance(section, wire.TraceSpawnSection)], default=0)
    records: dict[int, wire.TraceRecord] = {}
    for section in sections:
        if isinstance(section, wire.TraceLoadsSection):
            for record in section.records:
                known = records.get(record.index)
                if known is None or known.end is None:
                    records[record.index] = record
    command = program.target if program.kind == "command" else None
    ordered = [records[key] for key in sorted(records)]
    if shown is None:
        loads = _loads(ordered, SourceLines(command), index)
    else:
        # A sketch of the report, without a file read or a distribution looked up, tells which
        # loads the view shows; then only their files are read, and only their frames rebuilt.
        sketch = _loads(ordered, SourceLines(command, ()), None)
        wanted = shown(_report(program, start, end, returncode, timeout, problem, spawned, sketch))
        if wanted is None:
            loads = _loads(ordered, SourceLines(command), index)
        else:
            sources = SourceLines(command, {frame.file for load in wanted for frame in frames_of(load)})
            if index is not None:
                loads = _loads(ordered, sources, index)
            else:
                raw = {record.index: record for record in ordered}
                shown_indexes = {load.index for load in wanted}
                loads = tuple(_with_sources(load, raw[load.index], sources) if load.index in shown_indexes else load
                              for load in sketch)
    report = _report(program, start, end, returncode, timeout, problem, spawned, loads)
    if options is not None:
        report = replace(report, findings=tuple(contract_findings(report, options)))
    return report


def _report(
    program: Program, start: wire.TraceStartSection | None, end: wire.TraceEndSection | None,
    returncode: int | None, timeout: float | None, problem: str | None, spawned: int, loads: tuple[TracedLoad, ...],
) -> TraceReport:
    timed_out = returncode is None
    return TraceReport(
        program=(*program.interpreter_options, *program.argv),
        python=start.python if start else "",
        loads=loads,
        subprocesses=spawned,
        ending=_ending(end, returncode, timeout),
        returncode=returncode,
        timed_out=timed_out,
        incomplete=_incomplete(end, returncode, timeout, loads, problem),
        inserted=end.inserted if end else (),
        cwd=os.getcwd(),
    )


def _with_sources(load: TracedLoad, record: wire.TraceRecord, sources: SourceLines) -> TracedLoad:
    """``load`` of the sketch with its frames read again from ``sources`` (a field's raw frame of
    the same name gives the expression too), and the call read from its trigger's expression."""
    changes: dict[str, Any] = {}
    for name in field_names(load):
        value, raw = getattr(load, name), getattr(record, name, None)
        if isinstance(value, Frame):
            changes[name] = (_frame(raw, sources) if isinstance(raw, wire.RawFrame)
                                   else replace(value, source=sources.line(value.file, value.line)))
        elif isinstance(value, tuple) and value and all(isinstance(item, Frame) for item in value):
            raws = raw if isinstance(raw, tuple) and len(raw) == len(value) else None
            changes[name] = tuple(
                _frame(item_raw, sources) if isinstance(item_raw, wire.RawFrame)
                else replace(item, source=sources.line(item.file, item.line))
                for item, item_raw in zip(value, raws or (None,) * len(value))
            )
    trigger = changes.get("trigger", load.trigger)
    changes["via"] = _via(record, trigger if isinstance(trigger, Frame) else None)
    return replace(load, **changes)


def frames_of(load: TracedLoad) -> list[Frame]:
    """Every frame a load holds (its trigger, and any other line it names), whatever its fields."""
    found: list[Frame] = []
    for name in field_names(load):
        value = getattr(load, name)
        for item in value if isinstance(value, tuple) else (value,):
            if isinstance(item, Frame):
                found.append(item)
    return found


def _loads(
    records: list[wire.TraceRecord], sources: SourceLines, index: DistributionIndex | None,
) -> tuple[TracedLoad, ...]:
    if not records:
        return ()
    stopped = max(max(record.start, record.end or 0.0) for record in records)
    by_index = {record.index: record for record in records}
    parent_of = {record.index: record.parent if record.parent in by_index else -1 for record in records}
    # One record per load: an import whose module a nested import of itself loaded (``import a.b``
    # whose parent package ``a`` imports ``a.b``) only waited; its children move up to its parent.
    waited = _satisfied_by_nested(records, parent_of, by_index)
    for record in records:
        parent = parent_of[record.index]
        while parent in waited:
            parent = parent_of[parent]
        parent_of[record.index] = parent
    depth: dict[int, int] = {}
    cumulative: dict[int, float] = {}
    children_time: dict[int, float] = {}
    for record in records:
        if record.index in waited:
            continue
        parent = parent_of[record.index]
        depth[record.index] = depth[parent] + 1 if parent >= 0 else 0
        cumulative[record.index] = max((record.end if record.end is not None else stopped) - record.start, 0.0)
        if parent >= 0:
            children_time[parent] = children_time.get(parent, 0.0) + cumulative[record.index]
    kept = [record for record in records if record.index not in waited]
    module_loads = []
    for record in kept:
        importer = by_index.get(parent_of[record.index])
        self_ms = round(max(cumulative[record.index] - children_time.get(record.index, 0.0), 0.0) * 1000, 4)
        cumulative_ms = round(cumulative[record.index] * 1000, 4)
        # One run: its times are the minima too.
        module_loads.append(ModuleLoad(
            module=record.module,
            parent=importer.module if importer is not None else None,
            depth=depth[record.index],
            self_ms=self_ms,
            cumulative_ms=cumulative_ms,
            min_self_ms=self_ms,
            min_cumulative_ms=cumulative_ms,
        ))
    if index is not None:
        module_loads = list(index.annotate(module_loads))
    # The frames of every record, the waited ones too: a parent package's import takes its trigger
    # from the submodule import that needed it, and a nested load's own line is its parent's.
    triggers: dict[int, Frame | None] = {}
    owns: dict[int, Frame | None] = {}
    causes: dict[int, str] = {}
    for record in records:
        around = record.parent if record.parent in by_index else -1
        trigger = _frame(record.trigger, sources)
        cause = record.cause or (CAUSE_LINE if trigger is not None else CAUSE_INTERPRETER)
        if trigger is None and cause == CAUSE_PARENT_PACKAGE and around >= 0:
            trigger = triggers[around]
        if record.own == wire.OWN_IS_TRIGGER:
            own = trigger
        elif isinstance(record.own, wire.RawFrame):
            own = _frame(record.own, sources)
        else:
            own = owns[around] if around >= 0 else None
        triggers[record.index], owns[record.index], causes[record.index] = trigger, own, cause
    traced = []
    for record, load in zip(kept, module_loads):
        trigger = triggers[record.index]
        parent = parent_of[record.index]
        traced.append(TracedLoad(
            index=record.index,
            load=load,
            parent_index=parent if parent >= 0 else None,
            thread=record.thread or "MainThread",
            start_ms=round(record.start * 1000, 4),
            finished=record.end is not None,
            failed=record.end is not None and not record.loaded,
            trigger=trigger,
            hop=_hop(record.hop),
            via=_via(record, trigger),
            test=record.context[0] if record.context else None,
            phase=record.context[1] if record.context else None,
            own=owns[record.index],
            chain=_chain(record.chain, sources) if record.chain else (),
            cause=causes[record.index],
        ))
    return tuple(traced)


def _satisfied_by_nested(
    records: list[wire.TraceRecord], parent_of: dict[int, int], by_index: dict[int, wire.TraceRecord],
) -> set[int]:
    """The records whose module a nested import of the same module loaded while they waited."""
    waited = set()
    for record in records:
        if not record.loaded:
            continue
        parent = parent_of[record.index]
        while parent >= 0:
            if by_index[parent].module == record.module:
                waited.add(parent)
                break
            parent = parent_of[parent]
    return waited


def _frame(raw: wire.RawFrame | None, sources: SourceLines) -> Frame | None:
    if raw is None:
        return None
    return Frame(raw.file, raw.line, raw.function, raw.module, sources.line(raw.file, raw.line),
                 sources.expression(raw.file, raw.positions))


def _chain(raws: tuple[wire.RawFrame, ...], sources: SourceLines) -> tuple[Frame, ...]:
    return tuple(frame for frame in (_frame(raw, sources) for raw in raws) if frame is not None)


def _hop(raw: wire.RawFrame | None) -> Hop | None:
    return Hop(raw.function, raw.attribute, raw.file, raw.line) if raw is not None else None


def _via(record: wire.TraceRecord, trigger: Frame | None) -> str | None:
    """The introspection function (``inspect.getmodule``) or builtin (``hasattr``) that led
    from the trigger line into the lazy machinery (not guessed from the trigger's line when the
    hop is further out: the line that reached it is another)."""
    if record.via is not None:
        return record.via.function
    if record.hop is not None and record.hop.outer:
        return None
    if trigger is None or (record.hop is None and trigger.expression is None):
        return None
    if trigger.expression is not None:
        call = re.match(_CALL, trigger.expression)
        return call.group(1) if call and trigger.expression.endswith(")") else None
    on_line = re.search(_BUILTIN_ON_LINE, trigger.source or "")
    return on_line.group(1) if on_line else None


def _signal_name(number: int) -> str:
    import signal  # only for a program a signal ended: its enums cost half a millisecond to import

    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _ending(end: wire.TraceEndSection | None, returncode: int | None, timeout: float | None) -> str:
    if returncode is None:
        return f"timed out after {timeout:g} s and was killed"
    if returncode < 0:
        return f"was killed by {_signal_name(-returncode)}"
    if end is not None and end.how == "os._exit":
        return f"called os._exit({end.detail})"
    if end is not None and end.how == "exec":
        return f"replaced itself with os.exec* ({end.detail})"
    if end is not None and end.how == "exception":
        return f"raised {end.detail} (exit status {returncode})"
    return f"exited with status {returncode}"


def _incomplete(
    end: wire.TraceEndSection | None, returncode: int | None, timeout: float | None, loads: Sequence[TracedLoad],
    problem: str | None,
) -> str | None:
    if returncode is None:
        return f"the program ran past --timeout {timeout:g} s and was killed; the trace stops there"
    if returncode < 0:
        return f"the program was killed by {_signal_name(-returncode)}; the trace stops there"
    if problem is not None:
        return f"the result file held a line the protocol does not allow ({problem})"
    if end is None:
        return "the tracer did not see the program's main code end"
    if end.how == "os._exit":
        return f"the program called os._exit({end.detail}): no atexit handlers or thread shutdown ran after it"
    if end.how == "exec":
        return "the program replaced itself with os.exec*: what the new program loads is not traced"
    unfinished = [load.module for load in loads if not load.finished]
    if unfinished:
        return f"{len(unfinished)} import(s) never finished: {', '.join(unfinished[:5])}"
    return None


def contract_findings(report: TraceReport, options: TraceOptions) -> list[Finding]:
    """``--forbid``, ``--max-modules`` and ``--max-import-ms``, judged by ``check``'s own rules."""
    from aoinspect.models import Budget
    from aoinspect.rules.contracts import BUDGET_EXCEEDED, module_budget, time_budget

    what = "the program"
    findings = forbidden_findings(report, options.forbid, what)
    if options.max_modules is not None:
        findings += module_budget(BUDGET_EXCEEDED, Budget(options.max_modules), report.module_count, what)
    if options.max_import_ms is not None:
        findings += time_budget(BUDGET_EXCEEDED, Budget(options.max_import_ms), report.total_ms, 1, what)
    return findings


MODULES_NAMED = 5  # of the submodules a forbidden import brought, the message names this many


def forbidden_findings(report: TraceReport, patterns: Sequence[str], what: str) -> list[Finding]:
    """One ``forbidden-import`` finding per pattern per line of the program (its own line, see
    ``TracedLoad.own``): the outermost module the pattern matched, the chain that brought it and the
    matched modules it brought with it. Worded and identified as ``check``'s (no name), so that
    ``diff`` pairs a finding with itself from run to run."""
    from aoinspect.models import import_chain
    from aoinspect.patterns import matches
    from aoinspect.rules.contracts import FORBIDDEN_IMPORT

    loaded = report.loaded
    modules = [load.load for load in loaded]
    by_index = {load.index: load for load in report.loads}
    findings = []
    for pattern in patterns:
        groups: dict[tuple[str, int] | None, list[TracedLoad]] = {}
        for load in loaded:
            if matches(load.module, pattern):
                key = (load.own.file, load.own.line) if load.own is not None else None
                groups.setdefault(key, []).append(load)
        for members in groups.values():
            tops = [load for load in members if not _below_match(load, by_index, pattern)]
            first = (tops or members)[0]
            others = [load.module for load in members if load is not first]
            brought = ""
            if others:
                named = ", ".join(others[:MODULES_NAMED]) + (", ..." if len(others) > MODULES_NAMED else "")
                brought = f" and {len(others)} more it matches ({named})"
            chain = " -> ".join(import_chain(modules, first.module))
            at = f", from {first.own.location}" if first.own is not None else ", from no line of the program's own"
            findings.append(FORBIDDEN_IMPORT.finding(
                None, f"{what} imports {first.module}{brought}, forbidden by {pattern!r}: {chain}{at}."))
    return findings


def _below_match(load: TracedLoad, by_index: dict[int, TracedLoad], pattern: str) -> bool:
    """Whether an import around ``load`` was of a module ``pattern`` matches too."""
    from aoinspect.patterns import matches

    parent = load.parent_index
    while parent is not None and parent in by_index:
        if matches(by_index[parent].module, pattern):
            return True
        parent = by_index[parent].parent_index
    return False
