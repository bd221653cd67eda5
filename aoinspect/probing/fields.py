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
    from aoinspect.files import UnreadableFile, read_regular_file

    try:
        data = read_regular_file(path, RESULT_LIMIT)
    except UnreadableFile as exc:
        if isinstance(exc.__cause__, FileNotFoundError):
            return [], None
        return [], f"the result file is unreadable: {exc.reason}"
    sections = []
    read_line = JsonLines()
    for line in data.split(b"\n"):
        if not line:
            continue
        try:
            value = read_line(line)
        except (ValueError, RecursionError):
            continue
        if isinstance(value, dict):
            sections.append(value)
    return sections, None


# What ``json.loads`` gives for the constants JSON lacks (as ``json.decoder``'s parse_constant).
_CONSTANTS = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}


class JsonLines:
    """``json.loads`` of one line, through the C scanner ``json`` itself uses, configured as
    ``json.loads`` configures it, without importing ``json`` (its package, decoder, encoder and
    scanner: a millisecond and a half of every command that reads a child's lines). A line the
    scanner does not take whole, as UTF-8 text, goes to ``json.loads`` itself: what is read, and
    what is refused and how, stays ``json``'s."""

    # The attributes the C scanner reads, as ``json.JSONDecoder()`` sets them.
    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = _CONSTANTS.__getitem__

    def __init__(self) -> None:
        try:
            import _json

            self._scan: Any = _json.make_scanner(self)  # type: ignore[arg-type]
        except (ImportError, AttributeError):  # an interpreter without the C accelerator
            self._scan = None

    def __call__(self, line: bytes) -> Any:
        if self._scan is not None:
            try:
                text = line.decode("utf-8").strip(" \t\n\r")  # json's whitespace, nothing more
                value, end = self._scan(text, 0)
                if end == len(text):
                    return value
            except Exception:  # noqa: BLE001  # json.loads below says what is wrong
                pass
        import json

        return json.loads(line)
