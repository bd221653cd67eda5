"""The executed-import graph (``aoinspect/child/graph.py``, ``aoinspect/graphing.py``): every
import request is recorded, hits included, with its owner, place and resolved target; the
modules equal a bare interpreter's; what deferring a request saves equals what deleting its
line saves (``tests/oracle.py``); and the chain that keeps a target loaded is named."""

from __future__ import annotations

import json
import os
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from aoinspect.graphing import (
    chain_text,
    kept_loaded_by,
    reachable,
    record_graph,
    requests_at,
    saved_if_deferred,
)
from aoinspect.models.graph import GraphModule, ImportGraph, ImportRequest
from tests.oracle import modules_loaded, modules_without_line, modules_without_lines

if TYPE_CHECKING:
    from collections.abc import Iterator

# The child's side: .ci/matrix runs these under every Python with --probe-python.
pytestmark = pytest.mark.probe

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
# (file, line) of every import statement whose deletion leaves the import working (line 8: in a function).
DELETABLE = [
    ("kp/__init__.py", 1), ("kp/__init__.py", 2), ("kp/__init__.py", 5), ("kp/__init__.py", 6), ("kp/__init__.py", 8),
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
def python(pytestconfig: pytest.Config) -> str:
    """The interpreter the graph's children and the oracle's run: --probe-python, else this one."""
    return str(pytestconfig.getoption("--probe-python") or sys.executable)


@pytest.fixture(scope="module")
def kept_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write(tmp_path_factory.mktemp("site"), KEPT)


@pytest.fixture(scope="module")
def kept(kept_root: Path, python: str) -> Iterator[ImportGraph]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYTHONPATH", str(kept_root))
        yield record_graph("kp", python=python)


def at(graph: ImportGraph, root: Path, file: str, line: int) -> ImportRequest:
    """The request made from ``file:line`` (the first, for a line with several)."""
    path = str(root / file)
    return next(request for request in graph.requests if request.file == path and request.line == line)


def test_the_modules_are_a_bare_interpreters_and_all_reachable(kept: ImportGraph, kept_root: Path,
                                                                python: str) -> None:
    assert kept.ok and kept.ending == "returned"
    assert kept.module_names == modules_loaded(kept_root, "import kp", python)
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
def test_the_saving_equals_deleting_the_line(kept: ImportGraph, kept_root: Path, tmp_path: Path, python: str,
                                             file: str, line: int) -> None:
    request = at(kept, kept_root, file, line)
    assert saved_if_deferred(kept, [request.index]) == modules_without_line(tmp_path, kept_root, file, line,
                                                                          "import kp", python)


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


OTHER_MEANS = {
    "om/__init__.py": """\
        import sys, types
        from . import maker
        sys.modules["om.direct"] = types.ModuleType("om.direct")
        from . import lazy
        lazy.thing
        from .lazy import other
        """,
    "om/maker.py": """\
        import sys, types
        sys.modules["om.fake"] = types.ModuleType("om.fake")
        import colorsys
        """,
    # A __getattr__ that puts a module in sys.modules: in om's body (line 5), then during the
    # request of line 6, a hit.
    "om/lazy.py": """\
        import sys, types
        def __getattr__(name):
            sys.modules["om.made_" + name] = types.ModuleType("om.made_" + name)
            return 1
        """,
}


def test_modules_that_appear_by_other_means_are_hung_where_they_appeared(tmp_path: Path, python: str) -> None:
    root = write(tmp_path / "site", OTHER_MEANS)
    graph = graph_of(root, "om", python)
    assert graph.module_names == modules_loaded(root, "import om", python)
    by_name = {module.name: module for module in graph.modules}
    assert (by_name["om.fake"].by_other_means, by_name["om.fake"].owner) == (True, "om.maker")
    assert (by_name["om.direct"].by_other_means, by_name["om.direct"].owner) == (True, "om")
    made = by_name["om.made_thing"]
    assert (made.by_other_means, made.owner, made.loaded_by) == (True, "om", None)
    during = by_name["om.made_other"]
    request = at(graph, root, "om/__init__.py", 6)
    assert request.hit and (during.by_other_means, during.loaded_by) == (True, request.index)
    # (the import system's own hasattr(lazy, "__path__") made one more: om.made___path__)
    assert saved_if_deferred(graph, [request.index]) == modules_without_line(
        tmp_path, root, "om/__init__.py", 6, "import om", python) >= {"om.made_other"}
    assert not by_name["om.maker"].by_other_means
    maker = at(graph, root, "om/__init__.py", 2)
    assert saved_if_deferred(graph, [maker.index]) == modules_without_line(
        tmp_path, root, "om/__init__.py", 2, "import om", python) >= {"om.maker", "om.fake", "colorsys"}


THREADED = {
    "tp/__init__.py": "from . import starter\nimport tp.plain\n",
    "tp/starter.py": """\
        import threading
        worker = threading.Thread(target=lambda: __import__("colorsys"))
        worker.start()
        worker.join()
        """,
    "tp/plain.py": "import threading\n",
}


def test_an_import_in_a_thread_a_module_started_belongs_to_that_module(tmp_path: Path, python: str) -> None:
    root = write(tmp_path / "site", THREADED)
    graph = graph_of(root, "tp", python)
    assert graph.module_names == modules_loaded(root, "import tp", python)
    in_thread = next(request for request in graph.requests if request.target == "colorsys")
    assert (in_thread.owner, in_thread.scope) == ("tp.starter", "function")
    starter = at(graph, root, "tp/__init__.py", 1)
    assert saved_if_deferred(graph, [starter.index]) == modules_without_line(
        tmp_path, root, "tp/__init__.py", 1, "import tp", python) >= {"tp.starter", "colorsys"}


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


# --- hostile packages: builtins.__import__ replaced --------------------------------------------

HOOKED = {
    "hk/__init__.py": """\
        import builtins
        _previous = builtins.__import__
        def _hook(name, globals=None, locals=None, fromlist=(), level=0):
            return _previous(name, globals, locals, fromlist, level)
        builtins.__import__ = _hook
        from . import after
        import hk.other
        from hk import after as again
        """,
    "hk/after.py": "import wave\n",
    "hk/other.py": "import hk.after\nimport colorsys\n",
    # importlib.__import__ never calls builtins.__import__: only importlib's own _gcd_import.
    "hr/__init__.py": """\
        import builtins
        import importlib
        builtins.__import__ = importlib.__import__
        from . import after
        import hr.other
        """,
    "hr/after.py": "import wave\n",
    "hr/other.py": "from hr import after\nimport colorsys\n",
    # An object with __call__, whose attributes are not to be asked for.
    "hc/__init__.py": """\
        import builtins
        class Hook:
            def __init__(self, previous):
                self.previous = previous
            def __call__(self, name, globals=None, locals=None, fromlist=(), level=0):
                return self.previous(name, globals, locals, fromlist, level)
            def __getattr__(self, name):
                raise RuntimeError("asked for " + name)
            def __eq__(self, other):
                raise RuntimeError("compared")
            __hash__ = object.__hash__
        builtins.__import__ = Hook(builtins.__import__)
        from . import after
        import hc.other
        """,
    "hc/after.py": "import wave\n",
    "hc/other.py": "from hc import after\nimport colorsys\n",
}


@pytest.fixture(scope="module")
def hooked_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write(tmp_path_factory.mktemp("hooked"), HOOKED)


def graph_of(root: Path, package: str, python: str) -> ImportGraph:
    """The graph of ``import PACKAGE`` with ``root`` on the child's PYTHONPATH (``env``: ours is left as it is)."""
    return record_graph(package, python=python, env={**os.environ, "PYTHONPATH": str(root)})


@pytest.mark.parametrize("package", ["hk", "hr", "hc"])
def test_a_package_that_replaces_builtins_import_is_still_seen_whole(hooked_root: Path, tmp_path: Path, python: str,
                                                                     package: str) -> None:
    graph = graph_of(hooked_root, package, python)
    assert graph.ok, graph.error
    assert graph.module_names == modules_loaded(hooked_root, f"import {package}", python)
    assert reachable(graph) == graph.module_names
    lines = {"hk": (6, 7), "hr": (4, 5), "hc": (13, 14)}[package]
    for line in lines:
        made = requests_at(graph, str(hooked_root / package / "__init__.py"), line)
        assert {request.owner for request in made} == {package}
        assert saved_if_deferred(graph, [request.index for request in made]) == modules_without_line(
            tmp_path, hooked_root, f"{package}/__init__.py", line, f"import {package}", python)
    # The hit on after from other.py is seen through the hook, at its own line.
    kept_by = at(graph, hooked_root, f"{package}/other.py", 1)
    assert kept_by.owner == f"{package}.other" and kept_by.hit
    first = next(request for request in requests_at(graph, str(hooked_root / package / "__init__.py"), lines[0])
                 if f"{package}.after" in request.targets)
    assert saved_if_deferred(graph, [first.index]) == frozenset()
    statement = [request.index for request in requests_at(graph, first.file or "", first.line)]
    keeping = kept_loaded_by(graph, first.index, deferred=statement)[-1]  # hk's line 8, or hr.other's line 1
    assert keeping.index not in statement and f"{package}.after" in keeping.targets
    assert (keeping.file or "").startswith(str(hooked_root))


def test_the_hook_itself_is_not_taken_for_the_asking_line(hooked_root: Path, python: str) -> None:
    graph = graph_of(hooked_root, "hk", python)
    hook_line = str(hooked_root / "hk/__init__.py"), 4
    assert not [request for request in graph.requests if (request.file, request.line) == hook_line]
    again = at(graph, hooked_root, "hk/__init__.py", 8)
    assert again.hit and again.submodules == ("hk.after",)


# --- the module set, against the probing machinery's fork server and fresh interpreters ---------


@pytest.mark.parametrize("isolation", ["fork", "spawn"])
def test_the_graph_loads_what_resolve_measures(invoke, fake, isolation: str) -> None:  # type: ignore[no-untyped-def]
    from tests.helpers import document

    doc = document(invoke("--isolation", isolation, "resolve", "quantization", "--format", "json"))
    assert doc["isolation"]["mode"] == isolation
    measured = {load["module"] for load in doc["import"]["materialized"]}
    measured |= {load["module"] for load in doc["results"][0]["materialized"]}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYTHONPATH", fake.env["PYTHONPATH"])
        graph = record_graph("ao", entry="import ao; ao.quantization", python=fake.python)
    assert graph.module_names == measured
    assert reachable(graph) == measured


# --- a real package -------------------------------------------------------------------------------


@pytest.mark.real
def test_clicks_import_inspect_statements_save_what_deleting_them_saves(tmp_path: Path) -> None:
    """click imports inspect in three files: deferring one saves nothing (the others keep it),
    deferring all three saves inspect and what it imports, as deleting the three lines does."""
    click = pytest.importorskip("click")
    package_dir = Path(click.__file__).parent
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYTHONPATH", str(package_dir.parent))
        graph = record_graph("click")
    made = [request for request in graph.requests
            if request.target == "inspect" and request.owner and request.owner.startswith("click")]
    assert len(made) >= 2 and all(request.scope == "module" for request in made)
    assert all(saved_if_deferred(graph, [request.index]) == frozenset() for request in made)
    assert all(kept_loaded_by(graph, request.index) for request in made)
    together = saved_if_deferred(graph, [request.index for request in made])
    assert "inspect" in together
    lines: list[tuple[Path | str, int]] = [(str(request.file), request.line) for request in made]
    assert together == modules_without_lines(tmp_path, package_dir, lines, "import click")


# --- the command ------------------------------------------------------------------------------


def test_the_command_prints_the_graph_and_fails_with_the_entry(invoke, fake,  # type: ignore[no-untyped-def]
                                                               tmp_path: Path) -> None:
    from tests.helpers import document

    fake.write({"broken/__init__.py": "import colorsys\nraise RuntimeError('no')\n"})
    text = invoke("graph", "broken")
    assert text.exit_code == 3 and text.stderr == ""
    assert "the entry ended with RuntimeError: no" in text.stdout
    doc = document(invoke("graph", "broken", "--format", "json"))
    assert doc["entry_error"] == "RuntimeError: no" and doc["error"] is None and doc["modules_loaded"] == 1
    assert [module["name"] for module in doc["modules"]] == ["colorsys"]
    saved = tmp_path / "broken.json"
    saved.write_text(json.dumps(doc), encoding="utf-8")
    again = invoke("render", str(saved))
    assert again.exit_code == 3 and "the entry ended with RuntimeError: no" in again.stdout


def test_the_command_takes_a_program_or_an_entry(invoke, fake, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from tests.helpers import document

    fake.write(KEPT)
    script = tmp_path / "start.py"
    script.write_text("import sys\nimport kp.alpha\nprint('hello')\n", encoding="utf-8")
    doc = document(invoke("graph", "--format", "json", "--", str(script)))
    assert doc["package"] == "" and doc["entry"] == str(script) and doc["ok"]
    first = doc["requests"][0]
    assert (first["file"], first["line"], first["statement"], first["hit"]) == (str(script), 1, "import sys", True)
    assert "kp.heavy" in {module["name"] for module in doc["modules"]}
    doc = document(invoke("graph", "kp", "--entry", "import kp.dyn", "--format", "json"))
    assert doc["entry"] == "import kp.dyn" and doc["requests"][0]["target"] == "kp.dyn"
    both = invoke("graph", "--entry", "import kp", "--", "-c", "import kp")
    assert both.exit_code == 2 and "not both" in both.stderr
    module = document(invoke("graph", "--format", "json", "--", "-m", "kp.dyn"))
    assert module["ok"] and "fractions" in {item["name"] for item in module["modules"]}


@pytest.mark.parametrize(("code", "ending", "error"), [
    ("import colorsys, os; os._exit(0)", "os._exit", None),
    ("import colorsys, os; os._exit(4)", "os._exit", "os._exit(4)"),
    ("import colorsys, os, sys; os.execv(sys.executable, [sys.executable, '-c', 'pass'])", "exec", None),
    ("import colorsys, os\nif os.fork() == 0:\n    import wave\n    os._exit(0)\nos.wait()", "returned", None),
])
def test_a_program_that_ends_without_returning_still_reports(code: str, ending: str, error: str | None,
                                                             python: str) -> None:
    graph = record_graph("", program=("-c", code), python=python)
    assert (graph.ending, graph.error) == (ending, error)
    assert "colorsys" in graph.module_names and "wave" not in graph.module_names


def test_a_program_still_running_near_the_timeout_gives_the_graph_of_its_start(python: str) -> None:
    graph = record_graph("", program=("-c", "import colorsys, time\ntime.sleep(60)\nimport wave"), python=python,
                         timeout=0.5)
    assert graph.ending == "timeout" and graph.exit_code == 124 and graph.error == "still running after 0.4 s"
    assert "colorsys" in graph.module_names and "wave" not in graph.module_names


REPEATED = {
    "rp/__init__.py": """\
        import importlib

        def use():
            from rp import late
            from rp import sub
            import rp.sub
            importlib.import_module("rp.sub")

        import rp.sub
        for _ in range(3):
            use()
        """,
    "rp/sub.py": "",
    "rp/late.py": "",
}


def test_a_request_made_again_is_counted_and_keeps_what_its_first_time_loaded(tmp_path: Path, python: str) -> None:
    """A function that imports each time it is called: each place is one request, counted, and the
    first call's import of a module not yet loaded is the one that loaded it."""
    root = write(tmp_path / "site", REPEATED)
    graph = graph_of(root, "rp", python)
    made = {line: at(graph, root, "rp/__init__.py", line) for line in (4, 5, 6, 7)}
    assert [made[line].count for line in (4, 5, 6, 7)] == [3, 3, 3, 3]
    assert not made[4].hit and made[4].loaded == ("rp.late",)
    assert made[5].hit and made[6].hit and made[7].hit
    assert graph.module_names == modules_loaded(root, "import rp", python)
