"""The trace's records as the parent reads them (aoinspect/probing/wire_trace.py): the common
records matched as text give exactly what ``ast.literal_eval`` gives, whatever their names hold,
and anything else is still read (or refused) as a literal."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from aoinspect.probing.fields import ProtocolError
from aoinspect.probing.wire_trace import parse_trace_loads, parse_trace_sections, trace_record

NAMES = ["json.decoder", "a'b", 'a"b', "a'\"b", "tab\there", "new\nline", "back\\slash", "ünï", "\ud800",
         "x'], [2, 'forged", "", "None", "True"]


def _section(batch: list[object]) -> dict[str, object]:
    return {"section": "trace-loads", "records": ascii(batch)}


def _expected(batch: list[object]) -> tuple[object, ...]:
    return tuple(trace_record(item) for item in ast.literal_eval(repr(batch)))


def test_common_records_read_as_text_equal_the_literal_reading() -> None:
    batch: list[object] = []
    for index, name in enumerate(NAMES):
        batch.append([index, name, index - 1, 10 * index, None if index % 3 else 10 * index + 5, index % 2 == 0,
                      f"/src/{name}.py", -7 if index % 4 else 3, f"{name}.<module>", name or None])
        batch.append([100 + index, name, -1, 0, 1, True, None, 0, None, None])
    parsed = parse_trace_loads(_section(batch)).records
    assert parsed == _expected(batch)
    assert [record.module for record in parsed[::2]] == NAMES  # names are data, never fields
    assert parse_trace_loads(_section([])).records == ()


def test_a_long_record_among_common_ones_is_read_alone() -> None:
    from aoinspect.probing.wire_trace import _short_records

    long = [5, "pkg.sub", -1, 1, 2, True, "/p.py", 3, "f", "p", [3, 3, 0, 4], ["pkg.__getattr__", "sub", "/p.py", 9],
            None, ["test_x", "call"], None, None, ["/own.py", 1, "<module>", "__main__"], None, "exec"]
    chained = [6, "c", 5, 1, 2, False, "/c.py", 4, "g", "c", None, None, ["hasattr", "/o.py", 2], None, 7, "T-1",
               None, [["/o.py", 2, "<module>", "__main__"], ["/lib.py", 9, "lib.f", None]], None]
    batch: list[object] = [[1, "a", -1, 0, 1, True, None, 0, None, None], long, chained,
                           [2, "b", -1, 0, None, True, "/b.py", -2, "h", "b"]]
    assert _short_records(repr(batch)) == list(_expected(batch))
    parsed = parse_trace_loads(_section(batch)).records
    assert parsed == _expected(batch)
    assert parsed[1].hop is not None and parsed[1].hop.attribute == "sub" and parsed[1].context == ("test_x", "call")
    assert [frame.file for frame in parsed[2].chain] == ["/o.py", "/lib.py"] and parsed[2].thread == "T-1"


@pytest.mark.parametrize("text", [
    "[[1, 'a', -1, 0, 1, True, None, 0, None, None], [1",  # cut short
    "[[1, 'a', -1, 0, 1, True, None, 0, None, None]] + [1]",  # an expression, not a literal
    "[[1, 'a', -1, 0, 1, True, None, 0, None, None]]]",
    "[[01, 'a', -1, 0, 1, True, None, 0, None, None]]",  # not a Python literal
    "[[1, 'a', -1, 0, 1, True, None, 0, None, __import__('os')]]",
    "[[1, b'a', -1, 0, 1, True, None, 0, None, None]]",  # bytes, not a name
    "[[1, 'a', -1, 0, 1, 1, None, 0, None, None]]",  # a number where a bool belongs
    "[[1, 'a', -1, 0, 1, True, '/f.py', 0, None, None]]",  # a trigger without a function
    "[[1, 'a', -1, 0, 1, True, None, 0, None, None, [[[1]]]]]",  # nested deeper than any record
    "[[1, 'a', -1, 0, 1, True, None, 0, None, None, None, None, None, None, None, None, None, None, 1e9]]",
])
def test_what_is_not_a_batch_of_records_is_refused(text: str) -> None:
    with pytest.raises(ProtocolError):
        parse_trace_loads({"section": "trace-loads", "records": text})


def test_a_probes_section_in_a_trace_is_left_out_and_an_unknown_one_is_a_problem() -> None:
    sections, problem = parse_trace_sections([{"section": "done", "files": {}}, _section([])])
    assert len(sections) == 1 and problem is None
    sections, problem = parse_trace_sections([{"section": "forged"}, _section([])])
    assert len(sections) == 1 and problem == "unknown section 'forged'"


def test_the_common_records_are_matched_as_text() -> None:
    from aoinspect.probing.wire_trace import _short_records

    batch = [[index, name, -1, 0, 1, True, f"/{name}.py", 2, "f", name] for index, name in enumerate(NAMES)]
    assert _short_records(repr(batch)) == list(_expected(batch))


def test_the_trace_command_imports_neither_other_reports_models_nor_the_probes_wire(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = (
        "import sys, runpy\n"
        "sys.argv = ['aoinspect', 'trace', '--', '-c', 'pass']\n"
        "try:\n"
        "    runpy.run_module('aoinspect', run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(' '.join(sorted(name for name in sys.modules if name.startswith('aoinspect.'))))\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path)
    loaded = set(completed.stdout.split())
    assert {"aoinspect.models.trace", "aoinspect.probing.wire_trace", "aoinspect.render.trace"} <= loaded
    assert not loaded & {"aoinspect.models.core", "aoinspect.probing.wire", "aoinspect.probing.runner",
                         "aoinspect.render.text"}
