"""``aoinspect.records``: a ``Record`` behaves as the ``@dataclass(frozen=True)`` class of the same
fields would, for every record aoinspect defines; and the JSON line reader of
``aoinspect.probing.fields`` reads what ``json.loads`` reads, and refuses what it refuses."""

from __future__ import annotations

import copy
import dataclasses
import importlib
import inspect
import json
import pickle

import pytest

from aoinspect import records
from aoinspect.child import protocol
from aoinspect.probing.fields import JsonLines
from aoinspect.probing.wire import ProbeRequest

# Every module that defines records: the test finds each Record subclass in them.
MODULES = ("aoinspect.models.loads", "aoinspect.models.core", "aoinspect.models.graph", "aoinspect.models.trace",
           "aoinspect.probing.wire", "aoinspect.engine", "aoinspect.render")


def _records() -> list[type[records.Record]]:
    found = []
    for name in MODULES:
        module = importlib.import_module(name)
        found += [value for value in vars(module).values()
                  if isinstance(value, type) and issubclass(value, records.Record) and value.__module__ == name]
    return found


def _sample(record: type[records.Record], seed: int) -> dict[str, object]:
    """A value for each field, different for each seed (the types do not matter to a record, but
    for a field its ``__init__`` checks)."""
    values: dict[str, object] = {name: f"{name}-{seed}" for name in record._field_names}
    if record is ProbeRequest:
        values["mode"] = protocol.REQUEST_MODES[seed]
    return values


def _parameters(cls: type) -> list[tuple[str, str, object]]:
    """Each parameter of ``cls()``: name, annotation, default (a default factory's value)."""
    fields = {field.name: field for field in dataclasses.fields(cls)}
    return [(name, str(parameter.annotation), fields[name].default_factory() if  # type: ignore[misc]
             fields[name].default_factory is not dataclasses.MISSING else parameter.default)
            for name, parameter in inspect.signature(cls).parameters.items()]


@pytest.mark.parametrize("record", _records(), ids=lambda record: record.__qualname__)
def test_a_record_is_the_frozen_dataclass_of_its_fields(record: type[records.Record]) -> None:
    genuine = records._as_dataclass(record)
    assert _parameters(record) == _parameters(genuine)
    assert [(f.name, f.default) for f in dataclasses.fields(record)] == [
        (f.name, f.default) for f in dataclasses.fields(genuine)]
    assert record.__match_args__ == genuine.__match_args__  # type: ignore[attr-defined]
    values, other = _sample(record, 1), _sample(record, 2)
    ours, theirs = record(**values), genuine(**values)
    assert repr(ours) == repr(theirs)
    assert hash(ours) == hash(theirs)
    assert ours == record(**values) and ours != record(**other) and ours != theirs
    assert dataclasses.is_dataclass(ours) and dataclasses.asdict(ours) == dataclasses.asdict(theirs)
    assert dataclasses.replace(ours, **other) == record(**other)
    assert records.replace(ours, **other) == record(**other)
    assert records.field_names(ours) == tuple(values)
    assert pickle.loads(pickle.dumps(ours)) == ours and copy.deepcopy(ours) == ours
    name = record._field_names[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(ours, name, "changed")
    with pytest.raises(dataclasses.FrozenInstanceError):
        delattr(ours, name)
    assert record.__doc__ and not record.__doc__.startswith(record.__name__ + "(")


@pytest.mark.parametrize("record", _records(), ids=lambda record: record.__qualname__)
def test_a_record_built_with_its_defaults_pickles_and_copies(record: type[records.Record]) -> None:
    # A defaulted mapping is the record's own dict, as a dataclass's default_factory made it, not
    # the shared read-only marker (which cannot be pickled; found in review).
    required = {field.name for field in dataclasses.fields(record)
                if field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING}
    ours = record(**{name: value for name, value in _sample(record, 1).items() if name in required})
    assert pickle.loads(pickle.dumps(ours)) == ours and copy.deepcopy(ours) == ours
    assert "mappingproxy" not in repr(ours)


def test_a_record_whose_init_does_not_match_its_fields_is_refused() -> None:
    with pytest.raises(TypeError, match="must take the fields"):
        class Swapped(records.Record):
            first: int
            second: int

            def __init__(self, second: int, first: int) -> None:
                object.__setattr__(self, "first", first)
                object.__setattr__(self, "second", second)
    with pytest.raises(TypeError, match="with the class's defaults"):
        class OtherDefault(records.Record):
            only: int = 1

            def __init__(self, only: int = 2) -> None:
                object.__setattr__(self, "only", only)


@pytest.mark.parametrize("line", [
    b'{"a": [1, 2.5, NaN, -Infinity, "\\u00e9", null, true]}', b'  {"b": {}} \r', b'{"a": 1} x', b'\xef\xbb\xbf{"a":1}',
    b'{"a": "\xed\xa0\x80"}', b"[" * 100000, b'{"a":1', b"1e400", b'"\x01"', b"\xff\xfe{\x00}\x00",
    b"{\x00}\x00\x00\x00", b'{"a": 01}', b"", b"  ",
])
def test_json_lines_reads_as_json_loads(line: bytes) -> None:
    def outcome(read: object) -> str:
        try:
            return repr(read(line))  # type: ignore[operator]
        except Exception as exc:  # the kind of refusal is what is compared
            return type(exc).__name__

    assert outcome(JsonLines()) == outcome(json.loads)
