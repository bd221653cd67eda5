"""The parent's side of ``aoinspect trace``'s wire: one parser per section the tracer sends
(``SECTION_TRACE_*`` in ``aoinspect.child.protocol``, written by child/tracer.py), each turning a
raw JSON line into a typed record. Apart from ``aoinspect.probing.wire`` (which names these too)
so that the trace's command imports neither the probes' records nor the report models.

The records are plain classes with ``__slots__``, not frozen dataclasses: nothing past
``aoinspect.tracing.report`` sees them, and generating a dataclass costs more at import than
the trace's own parsing of a short program. The program the tracer runs can write into the
result file: every field is checked, and a line that does not hold what its section promises
raises ``ProtocolError``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Callable, Mapping, Union

from aoinspect.child import protocol
from aoinspect.probing.fields import ProtocolError, read_field, read_strings

if TYPE_CHECKING:
    from collections.abc import Sequence


class _Record:
    """Equality and a repr from the slots, for tests and debugging."""

    __slots__ = ()

    def _values(self) -> tuple[Any, ...]:
        names: tuple[str, ...] = type(self).__slots__
        return tuple(getattr(self, name) for name in names)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Record) and type(other) is type(self) and self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        names: tuple[str, ...] = type(self).__slots__
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in names)
        return f"{type(self).__name__}({fields})"


class TraceStartSection(_Record):
    """The traced interpreter, and how the program was given."""

    __slots__ = ("kind", "pid", "python", "stdlib")

    def __init__(self, python: str, pid: int, kind: str, stdlib: str) -> None:
        self.python = python
        self.pid = pid
        self.kind = kind  # "script", "module" or "command"
        self.stdlib = stdlib


class RawFrame(_Record):
    """A frame as the tracer saw it: no source line yet (the parent reads those)."""

    __slots__ = ("attribute", "file", "function", "line", "module", "outer", "positions")

    def __init__(
        self, file: str, line: int, function: str, module: str | None = None,
        positions: tuple[int, int, int, int] | None = None, attribute: str | None = None, outer: bool = False,
    ) -> None:
        self.file = file
        self.line = line
        self.function = function
        self.module = module
        # ``(line, end line, column, end column)`` of the instruction running (3.11+, lazy loads only)
        self.positions = positions
        self.attribute = attribute  # a hop: the attribute the lazy function was asked for
        self.outer = outer  # a hop further out than the trigger (a __getattr__ that imported through helpers)


OWN_IS_TRIGGER = "trigger"


class TraceRecord(_Record):
    """One import that began; ``end`` is None while (or if forever) it was still running."""

    __slots__ = (
        "cause",
        "chain",
        "context",
        "end",
        "hop",
        "index",
        "loaded",
        "module",
        "own",
        "parent",
        "start",
        "thread",
        "thread_id",
        "trigger",
        "via",
    )

    def __init__(
        self, index: int, module: str, parent: int, thread_id: int | None, start: float, end: float | None,
        loaded: bool, trigger: RawFrame | None, hop: RawFrame | None, via: RawFrame | None,
        context: tuple[str, str] | None, thread: str | None, own: RawFrame | str | None = None,
        chain: tuple[RawFrame, ...] = (), cause: str | None = None,
    ) -> None:
        self.index = index
        self.module = module
        self.parent = parent  # the index of the import running in the same thread when it began, or -1
        self.thread_id = thread_id  # None for the main thread
        self.start = start  # seconds since the tracer started
        self.end = end
        self.loaded = loaded  # the module was in sys.modules when its import ended
        self.trigger = trigger
        self.hop = hop
        self.via = via
        self.context = context  # (pytest node id, phase) when the pytest plugin said so
        self.thread = thread  # the thread's name; None for the main thread
        # The program's own line: OWN_IS_TRIGGER, a frame further out, or None (its parent's, or none)
        self.own = own
        self.chain = chain  # the lines between own and trigger, outermost first
        self.cause = cause  # a named cause the child decided (None: the trigger line)


class TraceLoadsSection(_Record):
    __slots__ = ("records",)

    def __init__(self, records: tuple[TraceRecord, ...]) -> None:
        self.records = records


class TraceSpawnSection(_Record):
    __slots__ = ("count", "event")

    def __init__(self, event: str, count: int) -> None:
        self.event = event  # the audit event: subprocess.Popen, os.fork, os.system, ...
        self.count = count


class TraceEndSection(_Record):
    """The program's main code ended: "returned", "exit", "exception", "os._exit" or "exec"."""

    __slots__ = ("detail", "how", "inserted", "spawned")

    def __init__(self, how: str, detail: str, spawned: int, inserted: tuple[str, ...]) -> None:
        self.how = how
        self.detail = detail
        self.spawned = spawned
        self.inserted = inserted  # modules put in sys.modules without an import


TraceSection = Union[TraceStartSection, TraceLoadsSection, TraceSpawnSection, TraceEndSection]


# --- the parsers -----------------------------------------------------------------------------


def parse_trace_start(raw: Mapping[str, Any]) -> TraceStartSection:
    return TraceStartSection(
        python=".".join(str(part) for part in read_field(raw, "python", list, [])),
        pid=int(read_field(raw, "pid", int)),
        kind=read_field(raw, "kind", str),
        stdlib=read_field(raw, "stdlib", str, ""),
    )


def _optional_int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ProtocolError("a position is not an integer")
    return value


def _raw_frame(value: Any, kind: str) -> RawFrame | None:
    """A trigger ``[file, line, function, module, positions]``, a hop ``[function, attribute,
    file, line]`` (``true`` after it: further out than the trigger), a via ``[function, file,
    line]`` or an own or chain frame ``[file, line, function, module]``."""
    if value is None:
        return None
    if not isinstance(value, list):
        raise ProtocolError(f"a {kind} is not a list")
    if kind in ("own", "chain") and len(value) == 4:
        file, line, function, module = value
        frame = RawFrame(file, line, function, module)
    elif kind == "trigger" and len(value) == 5:
        file, line, function, module, positions = value
        if positions is not None:
            if not isinstance(positions, list) or len(positions) != 4:
                raise ProtocolError("positions are not four numbers")
            positions = tuple(_optional_int(item) if item is not None else 0 for item in positions)
        frame = RawFrame(file, line, function, module, positions)
    elif kind == "hop" and len(value) in (4, 5):
        function, attribute, file, line = value[:4]
        if len(value) == 5 and value[4] is not True:
            raise ProtocolError("a hop's fifth field is not true")
        frame = RawFrame(file, line, function, attribute=attribute, outer=len(value) == 5)
    elif kind == "via" and len(value) == 3:
        function, file, line = value
        frame = RawFrame(file, line, function)
    else:
        raise ProtocolError(f"a {kind} has {len(value)} fields")
    if not isinstance(frame.file, str) or not isinstance(frame.function, str) or not isinstance(frame.line, int):
        raise ProtocolError(f"a {kind} holds the wrong types")
    for optional in (frame.module, frame.attribute):
        if optional is not None and not isinstance(optional, str):
            raise ProtocolError(f"a {kind} holds the wrong types")
    return frame


NS_PER_SECOND = 1e9  # the tracer writes times as integer nanoseconds


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def trace_record(value: Any) -> TraceRecord:
    """A record in the layout ``protocol.TRACE_*`` describes (10 fields, or 19 with the extras)."""
    if not isinstance(value, list) or len(value) not in (protocol.TRACE_SHORT_RECORD, protocol.TRACE_LONG_RECORD):
        raise ProtocolError("a trace record is not a list of 10 or 19 fields")
    index, module, parent, start, end, loaded, file, line, function, frame_module = value[:protocol.TRACE_SHORT_RECORD]
    positions = hop = via = context = thread_id = thread = None
    own: Any = None
    chain: Any = None
    cause: Any = None
    if len(value) == protocol.TRACE_LONG_RECORD:
        positions, hop, via, context, thread_id, thread, own, chain, cause = value[protocol.TRACE_SHORT_RECORD:]
    context_pair = None
    if context is not None:
        if not (isinstance(context, list) and len(context) == 2 and all(isinstance(item, str) for item in context)):
            raise ProtocolError("a record's context is not [node id, phase]")
        context_pair = (context[0], context[1])
    checks = (
        _is_int(index), isinstance(module, str), _is_int(parent), thread_id is None or _is_int(thread_id),
        _is_int(start), end is None or _is_int(end), isinstance(loaded, bool),
        thread is None or isinstance(thread, str), cause is None or isinstance(cause, str),
        own is None or isinstance(own, list), chain is None or isinstance(chain, list),
    )
    if not all(checks):
        raise ProtocolError("a trace record holds the wrong types")
    trigger_is_own = _is_int(line) and line < 0
    if trigger_is_own:
        line = -line
    trigger = None if file is None else _raw_frame([file, line, function, frame_module, positions], "trigger")
    return TraceRecord(
        index=index, module=module, parent=parent, thread_id=thread_id, start=start / NS_PER_SECOND,
        end=None if end is None else end / NS_PER_SECOND, loaded=loaded, trigger=trigger,
        hop=_raw_frame(hop, "hop"), via=_raw_frame(via, "via"), context=context_pair, thread=thread,
        own=OWN_IS_TRIGGER if trigger_is_own and trigger is not None else _raw_frame(own, "own"),
        chain=tuple(_raw_frame(item, "chain") for item in chain or ()),  # type: ignore[misc]
        cause=cause,
    )


# The common record, ``[index, 'module', parent, start, end, loaded, 'file', line, 'function',
# 'module']`` as ``repr`` writes it, matched as a whole: a batch of these alone is read without
# ``ast.literal_eval`` (most of whose cost is building and walking a syntax tree), the same
# values it would give. A string without a backslash is its own text between the quotes; one
# with is read by ``ast.literal_eval`` alone. Anything else (the long records, a program's
# forgery) is read as before, whole, by ``ast.literal_eval``.
_INT = r"(-?(?:0|[1-9][0-9]*))"
_STR = r"""('(?:[^'\\\x00\n\r]|\\[^\n\r])*'|"(?:[^"\\\x00\n\r]|\\[^\n\r])*")"""
_SHORT_RECORD = (  # compiled on first use (``re`` caches it): a trace of no import never does
    rf"\[{_INT}, {_STR}, {_INT}, {_INT}, (?:{_INT}|None), (True|False), (?:{_STR}|None), {_INT}, "
    rf"(?:{_STR}|None), (?:{_STR}|None)\](, |\]\Z)"
)


# Any other record, its extent found as text (strings whole, lists two deep: a chain is a list of
# frames) and read alone by ``ast.literal_eval``: one long record (a pytest test's, one with a
# chain) does not send the common ones around it the slow way.
_ATOM = r"""(?:None|True|False|-?(?:0|[1-9][0-9]*)|'(?:[^'\\\x00\n\r]|\\[^\n\r])*'|"(?:[^"\\\x00\n\r]|\\[^\n\r])*")"""
_FLAT = rf"\[(?:{_ATOM}(?:, {_ATOM})*)?\]"
_NESTED = rf"\[(?:(?:{_ATOM}|{_FLAT})(?:, (?:{_ATOM}|{_FLAT}))*)?\]"
_ANY_RECORD = rf"(\[(?:{_ATOM}|{_NESTED})(?:, (?:{_ATOM}|{_NESTED}))*\])(, |\]\Z)"


def _string(token: str) -> str:
    if "\\" not in token:
        return token[1:-1]
    import ast

    value = ast.literal_eval(token)
    if not isinstance(value, str):  # a bytes literal cannot match, but say so if it ever did
        raise ProtocolError("a record's string is not a string")
    return value


def _short_records(text: str) -> list[TraceRecord] | None:
    """The batch's records, or None if they are not a list of records as ``repr`` writes them: what
    ``trace_record`` makes of each, a common one (``_SHORT_RECORD``) built here at once (the
    pattern has checked its types), any other (``_ANY_RECORD``) read alone by ``ast.literal_eval``."""
    if text == "[]":
        return []
    if not text.startswith("["):
        return None
    records: list[TraceRecord] = []
    match = re.compile(_SHORT_RECORD).match
    position = 1
    end = len(text)
    while position < end:
        found = match(text, position)
        if found is None:
            other = re.compile(_ANY_RECORD).match(text, position)
            if other is None:
                return None
            import ast

            try:
                records.append(trace_record(ast.literal_eval(other.group(1))))
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError) as exc:
                raise ProtocolError(f"the records are not a literal list ({type(exc).__name__})") from None
            position = other.end()
            if other.group(2) != ", ":
                break
            continue
        index, module, parent, start, stop, loaded, file, line, function, frame_module, after = found.groups()
        trigger = own = None
        number = int(line)
        if file is not None:
            if function is None:
                raise ProtocolError("a trigger holds the wrong types")
            trigger = RawFrame(_string(file), -number if number < 0 else number, _string(function),
                               None if frame_module is None else _string(frame_module))
            own = OWN_IS_TRIGGER if number < 0 else None
        records.append(TraceRecord(
            int(index), _string(module), int(parent), None, int(start) / NS_PER_SECOND,
            None if stop is None else int(stop) / NS_PER_SECOND, loaded == "True", trigger, None, None, None, None,
            own,
        ))
        position = found.end()
        if after != ", ":
            break
    return records if position == end else None


def parse_trace_loads(raw: Mapping[str, Any]) -> TraceLoadsSection:
    """A batch of records, written by the tracer as the ``ascii`` of a list (cheap in the child).
    Common records are matched as text (``_SHORT_RECORD``); any other batch is read by
    ``ast.literal_eval``, which builds literals only, never running anything the text holds. Every
    field's type is checked below: the program the child runs can write into the file."""
    decoded = read_field(raw, "records", str)
    common = _short_records(decoded)
    if common is not None:
        return TraceLoadsSection(tuple(common))
    import ast

    try:
        records = ast.literal_eval(decoded)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError) as exc:
        raise ProtocolError(f"the records are not a literal list ({type(exc).__name__})") from None
    if not isinstance(records, list):
        raise ProtocolError("the records are not a list")
    return TraceLoadsSection(tuple(trace_record(item) for item in records))


def parse_trace_spawn(raw: Mapping[str, Any]) -> TraceSpawnSection:
    return TraceSpawnSection(event=read_field(raw, "event", str), count=int(read_field(raw, "count", int)))


def parse_trace_end(raw: Mapping[str, Any]) -> TraceEndSection:
    return TraceEndSection(
        how=read_field(raw, "how", str),
        detail=read_field(raw, "detail", str, ""),
        spawned=int(read_field(raw, "spawned", int, 0)),
        inserted=read_strings(raw, "inserted") or (),
    )


TRACE_PARSERS: dict[str, Callable[[Mapping[str, Any]], TraceSection]] = {
    protocol.SECTION_TRACE_START: parse_trace_start,
    protocol.SECTION_TRACE_LOADS: parse_trace_loads,
    protocol.SECTION_TRACE_SPAWN: parse_trace_spawn,
    protocol.SECTION_TRACE_END: parse_trace_end,
}


def parse_trace_sections(raws: Sequence[Mapping[str, Any]]) -> tuple[tuple[object, ...], str | None]:
    """The typed sections of a trace's result file, and what was wrong with the first bad one
    (``wire.parse_all`` for the tracer's sections; a probe's section, which no trace reads, is
    left out)."""
    sections: list[object] = []
    problem = None
    for raw in raws:
        name = raw.get(protocol.SECTION_KEY)
        parser = TRACE_PARSERS.get(name) if isinstance(name, str) else None
        try:
            if parser is None:
                if name in protocol.SECTIONS:  # a probe's section: no trace reads it
                    continue
                raise ProtocolError(f"unknown section {name!r}")
            try:
                sections.append(parser(raw))
            except (TypeError, ValueError, AttributeError) as exc:  # ProtocolError is a ValueError
                raise ProtocolError(f"section {name!r}: {exc}") from None
        except ProtocolError as exc:
            problem = problem or str(exc)
    return tuple(sections), problem
