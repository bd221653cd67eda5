"""The executed-import graph (``aoinspect/child/graph.py``, ``aoinspect/graphing.py``): every
import request is recorded, hits included, with its owner, place and resolved target; the
modules equal a bare interpreter's; what deferring a request saves equals what deleting its
line saves (``tests/oracle.py``); and the chain that keeps a target loaded is named."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from aoinspect.graphing import chain_text, kept_loaded_by, reachable, record_graph, saved_if_deferred
from aoinspect.models.graph import GraphModule, ImportGraph, ImportRequest
from tests.oracle import modules_loaded, modules_without_line

if TYPE_CHECKING:
    from collections.abc import Iterator

# A package with each shape the graph must get right; line numbers are referred to below.
KEPT = {
    "kp/__init__.py": """\
        from . import alpha
        from .beta import thing
        import importlib
        importlib.import_module("kp.dyn")
        import kp.circ_a
        import kp.sub.leaf
        def helper():
            import kp.in_function
        helper()
        """,
    "kp/alpha.py": """\
        import kp.heavy
        import wave
        """,
    "kp/beta.py": """\
        import kp.heavy
        thing = 1
        """,
    "kp/heavy.py": "import csv\n",
    "kp/dyn.py": "import fractions\n",
    "kp/circ_a.py": """\
        import kp.circ_b
        VALUE = 1
        """,
    "kp/circ_b.py": "from kp import circ_a\n",
    "kp/sub/__init__.py": "",
    "kp/sub/leaf.py": "from .. import beta\nfrom ..beta import thing\n",
    "kp/in_function.py": "import colorsys\n",
}
# (file, line) of every import statement at module scope whose deletion leaves the import working.
DELETABLE = [
    ("kp/__init__.py", 1), ("kp/__init__.py", 2), ("kp/__init__.py", 5), ("kp/__init__.py", 6),
    ("kp/alpha.py", 1), ("kp/alpha.py", 2), ("kp/beta.py", 1), ("kp/heavy.py", 1), ("kp/dyn.py", 1),
    ("kp/circ_a.py", 1), ("kp/circ_b.py", 1), ("kp/sub/leaf.py", 1), ("kp/sub/leaf.py", 2),
    ("kp/in_function.py", 1),
]


def write(root: Path, files: dict[str, str]) -> Path:
    for relative, source in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def kept_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write(tmp_path_factory.mktemp("site"), KEPT)


@pytest.fixture(scope="module")
def kept(kept_root: Path) -> Iterator[ImportGraph]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYTHONPATH", str(kept_root))
        yield record_graph("kp")


def at(graph: ImportGraph, root: Path, file: str, line: int) -> ImportRequest:
    """The request made from ``file:line`` (the first, for a line with several)."""
    path = str(root / file)
    return next(request for request in graph.requests if request.file == path and request.line == line)


def test_the_modules_are_a_bare_interpreters_and_all_reachable(kept: ImportGraph, kept_root: Path) -> None:
    assert kept.ok and kept.ending == "returned"
    assert kept.module_names == modules_loaded(kept_root, "import kp")
    assert reachable(kept) == kept.module_names
    assert not set(kept.baseline) & kept.module_names


def test_every_request_is_recorded_with_its_owner_place_and_resolved_target(kept: ImportGraph, kept_root: Path) -> None:
    entry = kept.requests[0]
    assert (entry.owner, entry.file, entry.line, entry.statement, entry.hit) == (
        None, "<string>", 1, "import kp", False)
    relative = at(kept, kept_root, "kp/__init__.py", 1)
    assert (relative.owner, relative.scope, relative.statement, relative.target, relative.level) == (
        "kp", "module", "from . import alpha", "kp", 1)
    assert relative.submodules == ("kp.alpha",) and relative.names == ("alpha",)
    attribute = at(kept, kept_root, "kp/__init__.py", 2)
    assert (attribute.target, attribute.submodules, attribute.names) == ("kp.beta", (), ("thing",))
    dotted = at(kept, kept_root, "kp/__init__.py", 6)
    assert dotted.statement == "import kp.sub.leaf" and dotted.loaded == ("kp.sub", "kp.sub.leaf")
    dynamic = at(kept, kept_root, "kp/__init__.py", 4)
    assert (dynamic.kind, dynamic.target, dynamic.statement) == (
        "import_module", "kp.dyn", "importlib.import_module('kp.dyn')")
    in_function = at(kept, kept_root, "kp/__init__.py", 8)
    assert (in_function.owner, in_function.scope, in_function.target) == ("kp", "function", "kp.in_function")
    parent_relative = at(kept, kept_root, "kp/sub/leaf.py", 2)
    assert (parent_relative.owner, parent_relative.target, parent_relative.level) == ("kp.sub.leaf", "kp.beta", 2)


def test_hits_are_recorded(kept: ImportGraph, kept_root: Path) -> None:
    second = at(kept, kept_root, "kp/beta.py", 1)
    assert second.hit and second.loaded == () and second.target == "kp.heavy"
    circular = at(kept, kept_root, "kp/circ_b.py", 1)
    assert circular.hit and circular.owner == "kp.circ_b" and circular.submodules == ("kp.circ_a",)
    first = at(kept, kept_root, "kp/alpha.py", 1)
    assert not first.hit and first.loaded == ("kp.heavy",)


def test_each_module_names_the_request_that_loaded_it(kept: ImportGraph) -> None:
    by_name = {module.name: module for module in kept.modules}
    heavy = by_name["kp.heavy"]
    assert not heavy.by_other_means and heavy.loaded_by is not None
    assert kept.requests[heavy.loaded_by].owner == "kp.alpha"
    assert by_name["kp"].loaded_by == 0


@pytest.mark.parametrize(("file", "line"), DELETABLE, ids=[f"{file}:{line}" for file, line in DELETABLE])
def test_the_saving_equals_deleting_the_line(kept: ImportGraph, kept_root: Path, tmp_path: Path, file: str,
                                             line: int) -> None:
    request = at(kept, kept_root, file, line)
    assert saved_if_deferred(kept, [request.index]) == modules_without_line(tmp_path, kept_root, file, line,
                                                                          "import kp")


def test_a_module_kept_loaded_by_another_import_saves_nothing_and_names_the_chain(kept: ImportGraph,
                                                                                 kept_root: Path) -> None:
    first = at(kept, kept_root, "kp/alpha.py", 1)
    assert saved_if_deferred(kept, [first.index]) == frozenset()
    chain = kept_loaded_by(kept, first.index)
    assert [(request.file, request.line) for request in chain] == [
        ("<string>", 1), (str(kept_root / "kp/__init__.py"), 2), (str(kept_root / "kp/beta.py"), 1)]
    assert chain_text(chain).endswith("kp/__init__.py:2 → " + str(kept_root / "kp/beta.py") + ":1")
    # Deferred together, the two save the module and what it imports.
    both = saved_if_deferred(kept, [first.index, at(kept, kept_root, "kp/beta.py", 1).index])
    assert {"kp.heavy", "csv"} <= both and not both & {"kp.beta", "wave", "kp.alpha"}
    assert kept_loaded_by(kept, at(kept, kept_root, "kp/alpha.py", 2).index) == ()


def test_deferring_the_entry_saves_everything(kept: ImportGraph) -> None:
    entry = kept.requests[0]
    assert saved_if_deferred(kept, [entry.index]) == kept.module_names
    assert kept_loaded_by(kept, entry.index) == ()


# --- reachability on graphs written by hand -----------------------------------------------------


def request(index: int, owner: str | None, target: str, *, submodules: tuple[str, ...] = (),
            hit: bool = False) -> ImportRequest:
    return ImportRequest(index, owner, f"{owner or 'entry'}.py", index + 1, "module", f"import {target}", target, (),
                         0, hit, 0, (), submodules)


def graph(requests: list[ImportRequest], modules: list[str], other_means: tuple[GraphModule, ...] = (),
          baseline: tuple[str, ...] = ()) -> ImportGraph:
    return ImportGraph("p", "3.12", "import p", baseline, tuple(requests),
                       tuple(GraphModule(name, None, None, False) for name in modules) + other_means)


def test_parent_packages_are_edges_and_hits_keep_modules_loaded() -> None:
    made = graph([request(0, None, "p"), request(1, "p", "p.a.b"), request(2, "p.a.b", "q"),
                  request(3, "p", "q", hit=True)], ["p", "p.a", "p.a.b", "q"])
    assert reachable(made) == {"p", "p.a", "p.a.b", "q"}
    assert saved_if_deferred(made, [1]) == {"p.a", "p.a.b"}
    assert saved_if_deferred(made, [3]) == frozenset()
    assert kept_loaded_by(made, 3) == (made.requests[0], made.requests[1], made.requests[2])
    assert saved_if_deferred(made, [1, 3]) == {"p.a", "p.a.b", "q"}


def test_modules_that_appear_by_other_means_go_with_what_made_them() -> None:
    made = graph([request(0, None, "p"), request(1, "p", "p.x")], ["p", "p.x"], (
        GraphModule("p.fake", None, None, True, owner="p.x"), GraphModule("p.during", None, 1, True, owner="p")))
    assert saved_if_deferred(made, [1]) == {"p.x", "p.fake", "p.during"}


def test_a_baseline_module_is_kept_by_the_interpreter() -> None:
    made = graph([request(0, None, "p"), request(1, "p", "os", hit=True)], ["p"], baseline=("os",))
    assert saved_if_deferred(made, [1]) == frozenset()
    assert kept_loaded_by(made, 1) == ()
