"""Reading what a child sends: a result file's JSON lines, ``ProtocolError`` and the field
readers every section parser uses (``aoinspect.probing.wire`` for the probes,
``aoinspect.probing.wire_trace`` for ``aoinspect trace``). A module of its own so that the trace's
command imports neither the probes' runner nor their records."""

from __future__ import annotations

from typing import Any, Mapping


class ProtocolError(ValueError):
    """A result line that is not what the protocol says the child sends."""


def read_field(raw: Mapping[str, Any], key: str, kinds: type | tuple[type, ...], default: Any = ...) -> Any:
    value = raw.get(key, default)
    if value is ...:
        raise ProtocolError(f"the field {key!r} is missing")
    if value is None and default is None:
        return None
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in _as_tuple(kinds)):
        raise ProtocolError(f"the field {key!r} is a {type(value).__name__}")
    return value


def _as_tuple(kinds: type | tuple[type, ...]) -> tuple[type, ...]:
    return kinds if isinstance(kinds, tuple) else (kinds,)


def read_strings(raw: Mapping[str, Any], key: str, *, optional: bool = False) -> tuple[str, ...] | None:
    value = read_field(raw, key, list, None if optional else ...)
    if value is None:
        return None
    if not all(isinstance(item, str) for item in value):
        raise ProtocolError(f"the field {key!r} holds something other than strings")
    return tuple(value)


# A result file larger than this was not written by the probe alone: it is not read.
RESULT_LIMIT = 256 * 1024 * 1024


def read_sections(path: str) -> list[dict[str, Any]]:
    """The complete JSON lines of a result file; a line cut short by a dying child is dropped."""
    return read_result(path)[0]


def read_result(path: str) -> tuple[list[dict[str, Any]], str | None]:
    """The complete JSON lines of a result file, and why it could not be read, if so. The
    package runs in the child and may replace the file: only a regular file is read, without
    blocking (a FIFO), and only up to RESULT_LIMIT bytes (``/dev/zero``)."""
    import json

    from aoinspect.files import UnreadableFile, read_regular_file

    try:
        data = read_regular_file(path, RESULT_LIMIT)
    except UnreadableFile as exc:
        if isinstance(exc.__cause__, FileNotFoundError):
            return [], None
        return [], f"the result file is unreadable: {exc.reason}"
    sections = []
    for line in data.split(b"\n"):
        if not line:
            continue
        try:
            value = json.loads(line)
        except (ValueError, RecursionError):
            continue
        if isinstance(value, dict):
            sections.append(value)
    return sections, None
