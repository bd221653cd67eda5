"""The child's door: the rules of aoinspect/child/ (stdlib only, Python 3.9, nothing imported at
module level but sys, nothing of the parent) and the wire between the two worlds (every section
the child can send has a parser, and every parser a section the child sends)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from aoinspect.child import protocol
from aoinspect.probing import wire
from aoinspect.probing.runner import CHILD_DIR

CHILD_FILES = sorted(Path(CHILD_DIR).glob("*.py"))


def test_the_child_folder_holds_the_child_code() -> None:
    assert {path.name for path in CHILD_FILES} >= {"__init__.py", "measure.py", "protocol.py", "recorder.py",
                                                    "distributions.py"}


@pytest.mark.parametrize("path", CHILD_FILES, ids=lambda path: path.name)
def test_child_files_parse_as_python_3_9(path: Path) -> None:
    ast.parse(path.read_text(encoding="utf-8"), filename=str(path), feature_version=(3, 9))


@pytest.mark.parametrize("path", CHILD_FILES, ids=lambda path: path.name)
def test_child_files_import_only_sys_at_module_level_and_nothing_of_the_parent(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Import):
            assert [alias.name for alias in node.names] == ["sys"], f"{path.name}:{node.lineno}"
        assert not isinstance(node, ast.ImportFrom), f"{path.name}:{node.lineno} imports at module level"
    stdlib = set(sys.stdlib_module_names)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0 and node.module, f"{path.name}:{node.lineno}: no relative imports in the child"
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            assert name.partition(".")[0] in stdlib, f"{path.name}:{node.lineno} imports {name}"


def sections_the_probe_sends() -> set[str]:
    """``reporter.send(protocol.SECTION_X, ...)`` calls in the child (and the tracer's batched
    ``_write`` and ``_write_string``), by constant."""
    sent = set()
    for path in CHILD_FILES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr in ("send", "_write", "_write_string"):
                first = node.args[0]
                if isinstance(first, ast.Name) and first.id == "section":
                    continue  # a writer forwarding what its caller sent
                assert isinstance(first, ast.Attribute) and first.attr.startswith("SECTION_"), (
                    f"{path.name}:{node.lineno}: sections are sent by their protocol constant")
                sent.add(getattr(protocol, first.attr))
    return sent


def test_every_section_has_a_parser_and_every_parser_a_section() -> None:
    assert set(wire.PARSERS) == set(protocol.SECTIONS)
    assert sections_the_probe_sends() == set(protocol.SECTIONS)


def test_unknown_sections_and_modes_are_errors_that_say_so() -> None:
    with pytest.raises(wire.ProtocolError, match="unknown section 'forged'"):
        wire.parse({"section": "forged"})
    with pytest.raises(wire.ProtocolError, match="section 'server'"):
        wire.parse({"section": "server", "python_threads": "many"})
    with pytest.raises(ValueError, match="unknown probe mode"):
        wire.ProbeRequest("teleport", "ao")
    with pytest.raises(ValueError, match="unknown mode"):
        protocol.decode_request(["teleport", "ao", "0"])
    assert protocol.decode_request(protocol.encode_request("race", "ao", 4, ("nn",))) == ("race", "ao", 4, ["nn"])


_GRAPH_REQUEST = [0, "pkg", "/pkg/__init__.py", 7, "module", "from", "sub", "pkg", "pkg.sub", ["a"], 1, False, 10,
                  20, ["pkg.sub"], [], 1, False]


@pytest.mark.parametrize(("field", "value"), [
    (0, True), (1, 5), (2, b"/pkg/__init__.py"), (3, "7"), (4, "global"), (5, "eval"), (6, None), (7, 1),
    (8, ["pkg.sub"]), (9, "a"), (9, ["a", 1]), (10, -1), (11, 0), (12, 1.5), (13, None), (14, [None]),
    (15, ("pkg.sub.a",)), (16, 0), (17, None),
])
def test_a_graph_request_of_the_wrong_shape_is_refused(field: int, value: object) -> None:
    section = {"section": protocol.SECTION_GRAPH, "requests": [_GRAPH_REQUEST], "modules": [], "ending": "returned",
               "baseline": []}
    request = wire.parse(section).requests[0]  # type: ignore[attr-defined]
    assert (request.target, request.names, request.statement, request.loaded) == (
        "pkg.sub", ("a",), "from .sub import a", ("pkg.sub",))
    broken = list(_GRAPH_REQUEST)
    broken[field] = value
    with pytest.raises(wire.ProtocolError, match="graph request holds the wrong types"):
        wire.parse({**section, "requests": [broken]})
    with pytest.raises(wire.ProtocolError, match="not a list of 18 fields"):
        wire.parse({**section, "requests": [broken[:-1]]})


def test_a_run_with_a_line_outside_the_protocol_is_a_probe_failure() -> None:
    from aoinspect.probing import results

    request = wire.ProbeRequest(protocol.MODE_RESOLVE, "ao", ("nn",))
    run = wire.make_run(request, [{"section": "resolve", "name": "nn"}], 0, False, 5.0, "")
    resolution = results.resolution(run, "nn")
    assert resolution.probe_failed
    assert resolution.error is not None and "protocol does not allow" in resolution.error.message
