"""check at scale (aoinspect.predicting): each name's set predicted from the executed-import graph
equals what the name's own fork loads wherever the prediction is not flagged as needing a fork;
check predicts by default, measures the flagged names and a seeded sample, measures a predicted
name before judging a finding about it, and predicts nothing under --exact."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
from typing import Any

import pytest

from aoinspect import predicting
from tests.helpers import document
from tests.test_batching import BREAKERS, SERVED

# The cases whose lazy path keeps state between calls or reads sys.modules: a name touched after
# another may load less than in its own fork, and each is flagged. ("binds neighbours" is not: the
# predicting child unbinds a name an earlier access bound before touching it.)
CHECK = ("check", "--ignore", "whole-package", "--format", "json")  # predicting is check's default
ORDER_DEPENDENT = {"global flag", "mutated cache", "closure state", "reads sys.modules"}


def _measured(invoke: Any, package: str, names: list[str]) -> dict[str, list[str]]:
    doc = document(invoke("-p", package, "--no-cache", "--isolation", "fork-each", "resolve", *names,
                          "--format", "json"))
    return {result["name"]: [load["module"] for load in result["materialized"]] for result in doc["results"]}


@pytest.mark.parametrize("case", BREAKERS)
def test_predictions_equal_one_fork_per_name_unless_flagged(invoke, fake, case: str) -> None:
    fake.write(BREAKERS[case])
    names = list(SERVED)
    predictions = predicting.record_predictions("pkg", names, env={**os.environ, **fake.env})
    disagreeing = {item.name for item in predicting.disagreements(predictions, _measured(invoke, "pkg", names))}
    flagged = set(predictions.risky)
    assert disagreeing <= flagged  # a wrong prediction is always one check measures in its fork
    if case in ORDER_DEPENDENT:
        assert flagged == set(names)
    else:
        # a2, served by pkg.m's own __getattr__, is not flagged: that __getattr__ asked for its
        # import during a2's access, so nothing it loads was cached out of sight.
        assert disagreeing == set() and flagged == set()


def _many_names(count: int = 30, extra: str = "") -> dict[str, str]:
    names = [f"m{index}" for index in range(count)]
    files = {"pkg/__init__.py": textwrap.dedent(f'''
        import importlib
        __all__ = {names!r}

        def __dir__():
            return __all__

        def __getattr__(name):
            if name in __all__:
                return importlib.import_module("." + name, __name__)
            raise AttributeError(name)
    ''') + extra}
    for index, name in enumerate(names):
        files[f"pkg/{name}.py"] = ("import json\n", "import decimal\n", "import fractions\n", "X = 1\n")[index % 4]
    return files


def test_check_predicts_the_names_beyond_the_sample_and_verifies_the_sample(invoke, fake) -> None:
    fake.write(_many_names())
    doc = document(invoke("-p", "pkg", "--no-cache", *CHECK))
    predicted = {result["name"] for result in doc["results"] if result.get("predicted")}
    assert len(predicted) == 30 - predicting.SAMPLE_MINIMUM
    assert any("verified prediction(s) agreed" in note for note in doc["notes"])
    exact = document(invoke("-p", "pkg", "--no-cache", *CHECK, "--exact"))
    assert exact["isolation"]["mode"] == "fork-each"
    assert not any(result.get("predicted") for result in exact["results"])

    def sets(report: dict[str, Any]) -> dict[str, set[str]]:
        return {result["name"]: {load["module"] for load in result["materialized"]} for result in report["results"]}

    assert sets(doc) == sets(exact)
    # --predict, which asked for it before it was the default, still does the same.
    asked = document(invoke("-p", "pkg", "--no-cache", *CHECK, "--predict"))
    assert {result["name"] for result in asked["results"] if result.get("predicted")} == predicted


def _watched_children(monkeypatch: pytest.MonkeyPatch) -> list[tuple[tuple[str, ...], Any]]:
    """Each predicting child's names as it was started with, and what it gave (or raised)."""
    real = predicting.record_predictions
    children: list[tuple[tuple[str, ...], Any]] = []

    def watched(package: str, names: Any, **kwargs: Any) -> predicting.Predictions:
        try:
            predictions = real(package, names, **kwargs)
        except Exception as exc:
            children.append((tuple(names), exc))
            raise
        children.append((tuple(names), predictions))
        return predictions

    monkeypatch.setattr(predicting, "record_predictions", watched)
    return children


def _sets_and_notes(report: dict[str, Any]) -> Any:
    return ({result["name"]: (bool(result.get("predicted")), [load["module"] for load in result["materialized"]])
             for result in report["results"]}, report["findings"], report["notes"])


def test_a_cold_check_starts_the_predicting_child_before_the_names_are_known(invoke, fake, monkeypatch) -> None:
    """It starts beside the fork server and is told the names once the package is described: the
    report is the one of a child started with them."""
    from aoinspect import engine
    from aoinspect.child import protocol

    fake.write(_many_names())
    children = _watched_children(monkeypatch)
    early = document(invoke("-p", "pkg", "--no-cache", *CHECK))
    ((names, predictions),) = children
    assert len(names) == 1 and names[0].startswith(protocol.NAMES_LATER)
    assert [name for name in predictions.names] == [f"m{index}" for index in range(30)]
    children.clear()
    monkeypatch.setattr(engine._PredictingChild, "early", classmethod(lambda cls, *args: None))
    told = document(invoke("-p", "pkg", "--no-cache", *CHECK))
    assert [names for names, _predictions in children] == [tuple(f"m{index}" for index in range(30))]
    assert _sets_and_notes(early) == _sets_and_notes(told)


def test_a_predicting_child_started_early_for_too_few_names_is_ended(invoke, fake, monkeypatch, no_leftovers) -> None:
    from aoinspect.errors import ProbeFailed

    fake.write(_many_names(predicting.SAMPLE_MINIMUM))
    children = _watched_children(monkeypatch)
    doc = document(invoke("-p", "pkg", "--no-cache", *CHECK))
    assert not any(result.get("predicted") for result in doc["results"])
    ((_names, ended),) = children
    assert isinstance(ended, ProbeFailed)  # ended before it was told any name, its directory and FIFO gone


def test_a_warm_check_starts_no_predicting_child_before_the_names_are_known(fake, cached_cli, monkeypatch) -> None:
    root = fake.write(_many_names())
    cold = cached_cli(*CHECK)
    (root / "pkg" / "m3.py").write_text("import colorsys\n")  # the warm report kept is stale: a run
    children = _watched_children(monkeypatch)
    again = cached_cli(*CHECK)
    assert children == [] and len(again["results"]) == len(cold["results"])


def test_a_predicting_child_told_its_names_later_keeps_its_deadline(fake, monkeypatch, no_leftovers) -> None:
    from aoinspect import engine
    from aoinspect.errors import ProbeFailed

    files = _many_names(2)
    files["pkg/m1.py"] = "import time\ntime.sleep(60)\n"
    fake.write(files)
    for variable, value in fake.env.items():
        monkeypatch.setenv(variable, value)
    child = engine._PredictingChild(fake.python, "pkg", None, 0.5)
    child.send(["m0", "m1"], 0.5)
    result = child.result()
    child.stop()
    assert isinstance(result, ProbeFailed)
    assert result.message == "the predicting child of pkg did not end within 0.5 s."


def test_a_finding_on_a_predicted_name_is_measured_before_it_is_judged(invoke, fake) -> None:
    # Every name is one that a second access imports again: not-cached would name each predicted one.
    files = _many_names(12)
    files["pkg/__init__.py"] = files["pkg/__init__.py"].replace(
        'return importlib.import_module("." + name, __name__)',
        'return importlib.import_module("." + name, __name__).X if name == "m3" else '
        'importlib.import_module("." + name, __name__)')
    files["pkg/m3.py"] = "class X:\n    pass\n"
    for index in range(12, 30):
        files[f"pkg/m{index}.py"] = "X = 1\n"
    files["pkg/__init__.py"] = files["pkg/__init__.py"].replace(
        "__all__ = ", "__all__ = [f'm{i}' for i in range(30)] or ")
    fake.write(files)
    doc = document(invoke("-p", "pkg", "--no-cache", *CHECK, "--strict"))  # the warning would fail the run
    flagged = [finding for finding in doc["findings"] if finding["rule"] == "not-cached"]
    assert [finding["name"] for finding in flagged] == ["m3"]
    (m3,) = [result for result in doc["results"] if result["name"] == "m3"]
    assert not m3.get("predicted")
    assert any(result.get("predicted") for result in doc["results"])


def test_a_name_whose_access_raises_is_measured(invoke, fake) -> None:
    files = _many_names()
    files["pkg/m5.py"] = "raise RuntimeError('m5 is broken')\n"
    fake.write(files)
    predictions = predicting.record_predictions("pkg", [f"m{index}" for index in range(30)],
                                                env={**os.environ, **fake.env})
    assert predictions.names["m5"].risks[0] == predicting.RISK_RAISED
    assert not any(prediction.risks for name, prediction in predictions.names.items() if name != "m5")
    assert "m5" in predicting.to_verify(predictions)


def test_the_sample_is_seeded_and_at_least_its_minimum(invoke, fake) -> None:
    fake.write(_many_names(30))
    predictions = predicting.record_predictions("pkg", [f"m{index}" for index in range(30)],
                                                env={**os.environ, **fake.env})
    first = predicting.to_verify(predictions, seed=1)
    assert first == predicting.to_verify(predictions, seed=1)
    assert len(first) == predicting.SAMPLE_MINIMUM
    assert len(predicting.to_verify(predictions, minimum=2, share=0.5)) == 15


@pytest.mark.real
@pytest.mark.parametrize("package_name", ["numpy", "scipy"])
def test_real_packages_predicted_equal_one_fork_per_name(package_name: str) -> None:
    if importlib.util.find_spec(package_name) is None:
        pytest.skip(f"{package_name} is not installed")
    from click.testing import CliRunner

    from aoinspect.cli import cli

    env = {"PYTHONHASHSEED": "0"}
    listed = document(CliRunner().invoke(cli, ["-p", package_name, "list", "--format", "json"], env=env))
    names = [name["name"] for name in listed["names"] if not name["loaded_at_import"] and name["name"].isidentifier()]
    predictions = predicting.record_predictions(package_name, names, env={**os.environ, **env})
    doc = document(CliRunner().invoke(cli, ["-p", package_name, "--no-cache", "--isolation", "fork-each",
                                            "resolve", *names, "--format", "json"], env=env))
    measured = {result["name"]: [load["module"] for load in result["materialized"]] for result in doc["results"]}
    wrong = {item.name for item in predicting.disagreements(predictions, measured)}
    # Every wrong prediction is one check measures in its own fork: flagged (numpy.random's C-level
    # `import threading` and scipy.linalg's of scipy.fft are seen: see the "C code" order-free case).
    assert wrong <= set(predictions.risky)


def test_a_wrong_prediction_in_the_sample_has_every_name_measured(invoke, fake, monkeypatch) -> None:
    from dataclasses import replace

    real = predicting.record_predictions

    def forgetful(*args: Any, **kwargs: Any) -> predicting.Predictions:
        # Predictions that the graph gives no reason to doubt, yet wrong: every set left empty.
        predictions = real(*args, **kwargs)
        return replace(predictions, names={name: replace(prediction, modules=frozenset(), parents={})
                                           for name, prediction in predictions.names.items()})

    monkeypatch.setattr(predicting, "record_predictions", forgetful)
    fake.write(_many_names())
    doc = document(invoke("-p", "pkg", "--no-cache", *CHECK))
    assert not any(result.get("predicted") for result in doc["results"])
    assert any("were measured in their own forks too" in note for note in doc["notes"])
    loaded = {result["name"]: {load["module"] for load in result["materialized"]} for result in doc["results"]}
    assert "decimal" in loaded["m1"] and loaded["m3"] == {"pkg.m3"}


@pytest.fixture
def cached_cli(fake: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Run the CLI on ``pkg`` in-process with the cache on, in a working directory of its own and
    under a known key: ``run(*args)`` is the JSON document it printed."""
    from click.testing import CliRunner

    from aoinspect.cli import cli
    from aoinspect.probing import cache

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv(cache.KEY_VARIABLE, "0123456789abcdef" * 4)

    def run(*args: str) -> dict[str, Any]:
        env: dict[str, str | None] = {**fake.env, "AOINSPECT_NO_CACHE": None}
        return document(CliRunner().invoke(cli, ["-p", "pkg", *args], env=env, catch_exceptions=False))

    return run


def test_predicted_results_are_kept_and_a_changed_file_redoes_only_the_names_that_reach_it(
        fake, cached_cli) -> None:
    root = fake.write(_many_names(60))

    def run() -> dict[str, dict[str, Any]]:
        return {item["name"]: item for item in cached_cli(*CHECK)["results"]}

    cold = run()
    predicted = {name for name, item in cold.items() if item.get("predicted")}
    assert predicted and not any(item["from_cache"] for item in cold.values())
    warm = run()
    assert {name for name, item in warm.items() if not item["from_cache"]} == set()
    assert {name for name, item in warm.items() if item.get("predicted")} == predicted
    # m4, m8, ... import json: edit m4 alone, and only m4 is measured or predicted again.
    edited = sorted(predicted, key=lambda name: int(name[1:]))[0]
    (root / "pkg" / f"{edited}.py").write_text("import colorsys\n")
    again = run()
    assert {name for name, item in again.items() if not item["from_cache"]} == {edited}
    assert "colorsys" in {load["module"] for load in again[edited]["materialized"]}


def test_kept_predictions_read_back_equal_what_their_run_held_and_share_their_files_states(
        fake, cached_cli, tmp_path) -> None:
    """The cold run's replay serves the predictions it holds rather than reading them back: a warm
    run that reads them from the document prints the same report. The document keeps each file's
    state once for every name that read it (each set of them once); a damaged kept prediction is
    done again, never served."""
    from aoinspect.probing import cache
    from tests.test_cache import forget_reports, read_signed, write_signed

    fake.write(_many_names(40))
    cached_cli(*CHECK)
    replayed = cached_cli(*CHECK)  # the report index the cold run's replay wrote
    assert all(result["from_cache"] for result in replayed["results"])
    forget_reports(tmp_path)
    assert cached_cli(*CHECK) == replayed  # read from the document
    (path,) = tmp_path.rglob(f"v{cache.VERSION}/pkg/*.json")
    document_ = read_signed(path)
    kept = sorted(key for key in document_["entries"] if key.startswith("predicted:"))
    assert len(kept) == sum(1 for result in replayed["results"] if result.get("predicted"))
    paths = [path for path, _state in document_["states"]]
    assert len(paths) == len(set(paths))
    groups = [document_["groups"][document_["entries"][key]["files"]] for key in kept]
    assert all(set(group) <= set(range(len(paths))) for group in groups)
    document_["entries"][kept[0]]["predicted"]["mechanism"] = 5
    write_signed(path, document_)
    forget_reports(tmp_path)
    again = {result["name"]: result for result in cached_cli(*CHECK)["results"]}
    name = kept[0].partition(":")[2]
    assert {item for item, result in again.items() if not result["from_cache"]} == {name}
    before = {result["name"]: result for result in replayed["results"]}
    assert {load["module"] for load in again[name]["materialized"]} == \
        {load["module"] for load in before[name]["materialized"]}


def _order_free(module_m: str, module_n: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """A package whose a1 loads pkg.m and b1 pkg.n (touched in that order by the predicting child)."""
    files = {
        "pkg/__init__.py": textwrap.dedent('''
            import importlib
            SERVED = {"a1": "m", "b1": "n"}
            __all__ = list(SERVED)

            def __getattr__(name):
                if name not in SERVED:
                    raise AttributeError(name)
                return getattr(importlib.import_module("." + SERVED[name], __name__), name)
        '''),
        "pkg/m.py": module_m + "a1 = 1\n",
        "pkg/n.py": module_n + "b1 = 1\n",
    }
    files.update(extra or {})
    return files


ORDER_FREE_LAZY = textwrap.dedent('''
    import importlib, sys, types

    class _Lazy(types.ModuleType):
        def __getattr__(self, name):
            if name != "x2":
                raise AttributeError(name)
            value = importlib.import_module("._two", __name__).x2
            setattr(self, name, value)
            return value

    sys.modules[__name__].__class__ = _Lazy
''')
# Imports that look order-dependent and are not: each is predicted, unflagged, and equal to the fork.
LAZY_SUBPACKAGE = {
    # Serves x1 and x2 from submodules named otherwise, and keeps what it served.
    "pkg/lazy/__init__.py": textwrap.dedent('''
        import importlib
        WHERE = {"x1": "_one", "x2": "_two"}

        def __getattr__(name):
            if name not in WHERE:
                raise AttributeError(name)
            value = getattr(importlib.import_module("." + WHERE[name], __name__), name)
            globals()[name] = value
            return value
    '''),
    "pkg/lazy/_one.py": "import decimal\nx1 = 1\n",
    "pkg/lazy/_two.py": "import fractions\nx2 = 2\n",
}
ORDER_FREE = {
    # An optional dependency that is not installed: the ImportError is the same in any order.
    "missing optional dependency": _order_free(
        "try:\n    import aoinspect_absent_module\nexcept ImportError:\n    import decimal\n",
        "try:\n    from pkg import aoinspect_absent_module\nexcept ImportError:\n    import fractions\n"),
    # b1's module asks for x2, which a1's module had served with x1 in one statement before.
    "several names served at once": _order_free("from pkg.lazy import x1, x2\n", "from pkg.lazy import x2\n",
                                                LAZY_SUBPACKAGE),
    # A module with a __getattr__ binds its names by a star import: no hop through its __getattr__.
    "star import beside __getattr__": _order_free("from pkg.star import Thing\n", "from pkg.star import Other\n", {
        "pkg/star/__init__.py": "from ._impl import *\n\ndef __getattr__(name):\n    import decimal\n"
                                "    raise AttributeError(name)\n",
        "pkg/star/_impl.py": "import colorsys\nThing = 1\nOther = 2\n",
    }),
    # b1's from-import is served by pkg's __getattr__ taking ``log`` from pkg.sub, where the import
    # system bound the submodule after a1 loaded it: in b1's fork pkg.sub's __getattr__ imports it.
    "submodule bound after its package's body": _order_free("from pkg.sub import log\n", "from pkg import log\n", {
        "pkg/__init__.py": textwrap.dedent('''
            import importlib
            SERVED = {"a1": "m", "b1": "n"}
            __all__ = list(SERVED)

            def __getattr__(name):
                if name == "log":
                    return getattr(importlib.import_module(".sub", __name__), "log")
                if name not in SERVED:
                    raise AttributeError(name)
                return getattr(importlib.import_module("." + SERVED[name], __name__), name)
        '''),
        "pkg/sub/__init__.py": "import importlib\n\ndef __getattr__(name):\n    if name == 'log':\n"
                               "        return importlib.import_module('.log', __name__)\n"
                               "    raise AttributeError(name)\n",
        "pkg/sub/log.py": "import decimal\n",
    }),
    # A module subclass's __getattr__ (transformers' _LazyModule) that keeps what it served.
    "module subclass's __getattr__": _order_free("from pkg.lazy import x2\n", "from pkg.lazy import x2\n", {
        "pkg/lazy/__init__.py": ORDER_FREE_LAZY,
        "pkg/lazy/_two.py": "import fractions\nx2 = 2\n",
    }),
    # A function both modules call reads an attribute that pkg.lazy serves and keeps (no import
    # request at all once kept): the predicting child unbinds what it kept before each name.
    "attribute served and kept by a module subclass": _order_free(
        "from pkg import helper\nhelper.use()\n", "from pkg import helper\nhelper.use()\n", {
            "pkg/helper.py": "def use():\n    from pkg import lazy\n    return lazy.x2\n",
            "pkg/lazy/__init__.py": ORDER_FREE_LAZY,
            "pkg/lazy/_two.py": "import fractions\nx2 = 2\n",
        }),
    # b1 returns pkg.sub itself (served as a submodule), which holds a module named sub too.
    "a submodule returned whole": _order_free("import pkg.sub.b1\n", "X = 1\n", {
        "pkg/__init__.py": _order_free("", "")["pkg/__init__.py"].replace(
            "    return getattr(importlib.import_module", "    if name == 'b1':\n"
            "        return importlib.import_module('.sub', __name__)\n    return getattr(importlib.import_module"),
        "pkg/sub/__init__.py": "def __getattr__(name):\n    raise AttributeError(name)\n",
        "pkg/sub/b1.py": "import fractions\n",
    }),
    # A read of sys.modules for a module no access ever loads answers alike in any order.
    "reads sys.modules for a module never loaded": _order_free(
        "import sys\nif 'aoinspect_absent_module' in sys.modules:\n    import decimal\n",
        "import sys\nif 'aoinspect_absent_module' not in sys.modules:\n    import fractions\n"),
    # C code's import of a module a1 loaded first (a Cython module's ``import threading`` as it
    # initialises, which the import system runs under _call_with_frames_removed) reaches no import
    # wrapper: the predicting child sees it by its spec's read.
    "C code importing a module loaded before": _order_free(
        "import decimal\n",
        "import ctypes\nfrom importlib import _bootstrap\n_import = ctypes.pythonapi.PyImport_ImportModuleLevel\n"
        "_import.restype = ctypes.py_object\n"
        "_import.argtypes = [ctypes.c_char_p, ctypes.py_object, ctypes.py_object, ctypes.py_object, ctypes.c_int]\n"
        "_bootstrap._call_with_frames_removed(_import, b'decimal', None, None, None, 0)\n"),
    # multiprocessing puts __main__ in sys.modules again as __mp_main__, whatever was loaded before.
    "a module of the standard library inserts one": _order_free("import multiprocessing\n", "X = 1\n"),
    # b1 reads a submodule off a package whose __getattr__ serves it (transformers' decorator reads
    # ``transformers.models.auto.configuration_auto``): a1's import had bound it, not b1's fork's.
    "submodule read off a package that serves it": _order_free(
        "import pkg.lazy._two\n", "import pkg.lazy\npkg.lazy._two\n", {
            "pkg/lazy/__init__.py": "import importlib\n\ndef __getattr__(name):\n    if name == '_two':\n"
                                    "        return importlib.import_module('._two', __name__)\n"
                                    "    raise AttributeError(name)\n",
            "pkg/lazy/_two.py": "import fractions\n",
        }),
    # The same off numpy's shape of __getattr__, which imports the submodule "as" itself: unbound,
    # it would ask itself again down to the recursion limit; in b1's fork the import binds it first.
    "submodule read off a package that imports it as itself": _order_free(
        "import pkg.lazy._two\n", "import pkg.lazy\npkg.lazy._two\n", {
            "pkg/lazy/__init__.py": "def __getattr__(name):\n    if name == '_two':\n"
                                    "        import pkg.lazy._two as _two\n        return _two\n"
                                    "    raise AttributeError(name)\n",
            "pkg/lazy/_two.py": "import fractions\n",
        }),
}


@pytest.mark.parametrize("case", ORDER_FREE)
def test_imports_that_only_look_order_dependent_are_predicted_unflagged(invoke, fake, case: str) -> None:
    fake.write(ORDER_FREE[case])
    names = ["a1", "b1"]
    predictions = predicting.record_predictions("pkg", names, env={**os.environ, **fake.env})
    assert predicting.disagreements(predictions, _measured(invoke, "pkg", names)) == ()
    assert {name: prediction.risks for name, prediction in predictions.names.items()} == {"a1": (), "b1": ()}


def test_a_read_of_sys_modules_for_a_module_another_name_loads_is_flagged(invoke, fake) -> None:
    fake.write(_order_free("import decimal\n", "import sys\nif 'decimal' in sys.modules:\n    import fractions\n"))
    predictions = predicting.record_predictions("pkg", ["a1", "b1"], env={**os.environ, **fake.env})
    assert predictions.names["a1"].risks == ()
    assert predictions.names["b1"].risks == (predicting.RISK_READS_MODULES.format(module="pkg.n"),)


def test_a_lazy_attribute_served_and_kept_before_is_served_again_for_the_name_that_finds_it(invoke, fake) -> None:
    # pkg.m's __getattr__ keeps a2 once served (a2's own access); b1's module then finds it bound:
    # the predicting child unbinds it for that import, so that serving it again shows what it loads.
    fake.write(_order_free(
        "def __getattr__(name):\n    if name == 'a2':\n        import decimal\n        globals()[name] = 2\n"
        "        return 2\n    raise AttributeError(name)\n",
        "from pkg.m import a2\n",
        {"pkg/__init__.py": _order_free("", "")["pkg/__init__.py"].replace('"b1": "n"', '"a2": "m", "b1": "n"')}))
    names = ["a2", "b1"]
    predictions = predicting.record_predictions("pkg", names, env={**os.environ, **fake.env})
    assert predicting.disagreements(predictions, _measured(invoke, "pkg", names)) == ()
    assert "decimal" in predictions.names["b1"].modules and not predictions.risky


def test_a_package_wide_finding_that_would_fail_has_every_predicted_name_it_covers_measured_first(invoke, fake) -> None:
    # No name is ever kept (lazy_loader.attach's shape): one not-cached finding covers them all,
    # and none of the names it covers may be judged on a predicted set.
    files = _many_names(30)
    files["pkg/__init__.py"] = files["pkg/__init__.py"].replace(
        'return importlib.import_module("." + name, __name__)',
        'return importlib.import_module("." + name, __name__).X')
    for index in range(30):
        files[f"pkg/m{index}.py"] = "X = 1\n"
    fake.write(files)
    doubted = 30 - predicting.SAMPLE_MINIMUM  # the sample was measured anyway
    doc = document(invoke("-p", "pkg", "--no-cache", *CHECK, "--strict"))  # the warning would fail the run
    (finding,) = [finding for finding in doc["findings"] if finding["rule"] == "not-cached"]
    assert finding["name"] is None and "30 lazy names" in finding["message"]
    assert not any(result.get("predicted") for result in doc["results"])
    assert any(f"{doubted} predicted name(s) with a finding were measured" in note for note in doc["notes"])
    # Without --strict a warning cannot fail the run: it is judged on the predicted sets, and said to be.
    lenient = document(invoke("-p", "pkg", "--no-cache", *CHECK))
    (finding,) = [finding for finding in lenient["findings"] if finding["rule"] == "not-cached"]
    assert finding["name"] is None and "30 lazy names" in finding["message"]
    assert sum(1 for result in lenient["results"] if result.get("predicted")) == doubted
    assert any(f"{doubted} predicted name(s) have warnings judged on their predicted sets" in note
               for note in lenient["notes"])


def test_a_warm_check_of_predicted_names_is_served_whole_and_says_they_were_predicted(
        fake, cached_cli, tmp_path, monkeypatch) -> None:
    from aoinspect.probing import cache

    fake.write(_many_names(40))

    def run() -> dict[str, Any]:
        return cached_cli(*CHECK)

    run()
    # The cold run kept every result, predictions included: it left the report a warm run prints.
    assert list(tmp_path.rglob(f"*{cache.REPORT_SUFFIX}"))
    warm = run()
    assert all(result["from_cache"] for result in warm["results"])
    assert warm["isolation"].get("cache_miss") is None  # nothing was measured
    assert any("kept the sets an earlier run predicted" in note for note in warm["notes"])
    reads = []
    real = cache._read_document
    monkeypatch.setattr(cache, "_read_document", lambda *args: reads.append(args[0]) or real(*args))
    assert run() == warm
    assert [path.endswith(cache.REPORT_SUFFIX) for path in reads] == [True]


def test_a_kept_prediction_is_the_result_it_was_for_every_rule(fake, cached_cli, tmp_path, monkeypatch) -> None:
    """Every rule on, the pickling one included, which asks whether a value is a module: the cold
    run's own replay serves the whole report from the cache (a kept prediction that lost what it
    returned would have pickling ask for a probe the cold run never ran), and a warm run reads
    only the report index."""
    from aoinspect.probing import cache

    fake.write(_many_names(30))

    def run() -> dict[str, Any]:
        return cached_cli("check", "--format", "json")

    cold = run()
    assert any(result.get("predicted") for result in cold["results"])
    assert list(tmp_path.rglob(f"*{cache.REPORT_SUFFIX}"))
    reads = []
    real = cache._read_document
    monkeypatch.setattr(cache, "_read_document", lambda *args: reads.append(args[0]) or real(*args))
    warm = run()
    assert [path.endswith(cache.REPORT_SUFFIX) for path in reads] == [True]
    assert warm["findings"] == cold["findings"]


@pytest.mark.parametrize(("body", "served"), [
    ("    if name == 'main':\n        return 1\n    raise AttributeError(name)\n", {"main"}),
    ("    '''Doc.'''\n    if name in ('a', 'b') or name == 'c':\n        return 1\n"
     "    elif name == 'd':\n        return 2\n    raise AttributeError(name)\n", {"a", "b", "c", "d"}),
    ("    if name in WHERE:\n        return 1\n    raise AttributeError(name)\n", None),
    ("    if name == 'main':\n        return 1\n    return globals()[name]\n", None),
])
def test_a_getattr_that_spells_out_its_names_serves_no_other(tmp_path, body: str, served: set[str] | None) -> None:
    # httpx2's __getattr__ serves only ``main``: huggingface_hub's ``httpx`` (the module itself) is no hop through it.
    path = tmp_path / "module.py"
    path.write_text("WHERE = {}\n\ndef __getattr__(name):\n" + body)
    scanner = predicting._Scanner()
    assert scanner.may_serve(str(path), "httpx") is (served is None)
    assert all(scanner.may_serve(str(path), name) for name in served or ())


@pytest.mark.parametrize(("content", "held"), [
    (b"_cython_3_1\0cython_runtime\0", {"_cython_3_1", "cython_runtime"}),
    (b"\0x_cython_3_1\0_cython_3_1y\0", set()),  # inside longer strings: not one of its own
    (b"_cython_3_1x\0_cython_3_1", {"_cython_3_1"}),  # a second occurrence, at the end
    (b"", set()),
])
def test_an_extension_holds_a_name_only_as_a_string_of_its_own(tmp_path, content: bytes, held: set[str]) -> None:
    # Cython's shared _cython_3_x is predicted for a name whose extensions name it (predict's
    # names_in_binary), whichever candidate the scanner read the file for first.
    path = tmp_path / "module.so"
    path.write_bytes(content)
    scanner = predicting._Scanner()
    scanner.binary_candidates = frozenset({"cython_runtime"})
    assert {name for name in ("_cython_3_1", "cython_runtime") if scanner.names_in_binary(str(path), name)} == held
    assert not scanner.names_in_binary(str(tmp_path / "absent.so"), "_cython_3_1")


def test_a_wrong_sampled_prediction_has_the_names_that_share_its_cause_measured(invoke, fake) -> None:
    # pkg.conf.get imports fractions once and keeps it (sysconfig.get_config_vars' shape): in the
    # predicting child only the first module whose body calls it is seen importing fractions.
    files = _many_names(60)
    files["pkg/conf.py"] = ("_KEPT = []\n\ndef get():\n    if not _KEPT:\n        import fractions\n"
                            "        _KEPT.append(fractions)\n    return _KEPT[0]\n")
    callers = {f"m{index}" for index in range(0, 60, 3)}
    for name in callers:
        files[f"pkg/{name}.py"] = "from pkg import conf\nconf.get()\n"
    fake.write(files)
    doc = document(invoke("-p", "pkg", "--no-cache", *CHECK))
    results = {result["name"]: result for result in doc["results"]}
    # m0, touched first, was seen importing fractions: its prediction holds.
    assert not any(results[name].get("predicted") for name in callers - {"m0"})
    assert all("fractions" in {load["module"] for load in results[name]["materialized"]} for name in callers)
    # The others keep their predictions, beyond the sample.
    assert len([name for name, result in results.items() if result.get("predicted")]) > 20
    assert any("that reach what loaded its missing modules" in note for note in doc["notes"])


def test_a_dotted_name_takes_its_next_part_from_a_module_on_its_path(invoke, fake) -> None:
    # b1.x3: pkg's __getattr__ serves b1 (a subpackage a1 loaded) and b1's class __getattr__ serves
    # x3 with no import (transformers' placeholder for a missing backend): predicted, unflagged, and
    # equal to its fork (transformers flagged 722 such names, models.X.Y, before; this small shape
    # did not reproduce that flag, so it holds the behaviour rather than the fix).
    fake.write(_order_free("import pkg.b1\n", "", {
        "pkg/__init__.py": _order_free("", "")["pkg/__init__.py"].replace(
            "    return getattr(importlib.import_module", "    if name == 'b1':\n"
            "        return importlib.import_module('.b1', __name__)\n    return getattr(importlib.import_module"),
        "pkg/b1/__init__.py": ORDER_FREE_LAZY.replace('if name != "x2"', 'if name != "x3"').replace(
            'importlib.import_module("._two", __name__).x2', "object()"),
    }))
    names = ["a1", "b1.x3"]
    predictions = predicting.record_predictions("pkg", names, env={**os.environ, **fake.env})
    assert predicting.disagreements(predictions, _measured(invoke, "pkg", names)) == ()
    assert not predictions.risky, {name: p.risks for name, p in predictions.names.items()}
    assert "pkg.b1" in predictions.graph.module_names and predictions.names["b1.x3"].object is not None


def test_a_hop_into_a_getattr_that_keeps_results_in_a_dict_of_its_own_is_flagged(invoke, fake) -> None:
    # pkg.mid's __getattr__ keeps what it served in _cache: only the first name's access imports
    # pkg._heavy, every later name's fork does too. Unbinding the module's namespace does not
    # reset that dict, so the names that hop through it may not hold (found in review).
    fake.write({
        "pkg/__init__.py": textwrap.dedent("""
            __all__ = ["n0", "n1", "n2"]
            def __getattr__(name):
                if name in __all__:
                    import pkg.mid
                    return pkg.mid.thing
                raise AttributeError(name)
        """),
        "pkg/_heavy.py": "import json, decimal\nvalue = 1\n",
        "pkg/mid.py": textwrap.dedent("""
            _cache = {}
            def __getattr__(name):
                if name.startswith("thing"):
                    if name not in _cache:
                        import pkg._heavy
                        _cache[name] = pkg._heavy.value
                    return _cache[name]
                raise AttributeError(name)
        """),
    })
    names = ["n0", "n1", "n2"]
    predictions = predicting.record_predictions("pkg", names, env={**os.environ, **fake.env})
    disagreeing = {item.name for item in predicting.disagreements(predictions, _measured(invoke, "pkg", names))}
    assert disagreeing == {"n1", "n2"}
    assert disagreeing <= set(predictions.risky)


def test_the_note_on_warnings_judged_on_predicted_sets_counts_only_names_still_predicted(invoke, fake) -> None:
    # The shape above, with a lazy path that keeps nothing (not-cached warns of every name): the
    # names a wrong sample had measured are judged on their measured sets, and the note says so
    # of the others only (found in review: it counted the measured ones too).
    files = _many_names(60)
    files["pkg/__init__.py"] = files["pkg/__init__.py"].replace(
        'return importlib.import_module("." + name, __name__)',
        'return importlib.import_module("." + name, __name__).X')
    files["pkg/conf.py"] = ("_KEPT = []\n\ndef get():\n    if not _KEPT:\n        import fractions\n"
                            "        _KEPT.append(fractions)\n    return _KEPT[0]\n")
    for index in range(60):
        files[f"pkg/m{index}.py"] = ("from pkg import conf\nconf.get()\n" if index % 3 == 0 else "") + "X = 1\n"
    fake.write(files)
    doc = document(invoke("-p", "pkg", "--no-cache", *CHECK))
    still = [result["name"] for result in doc["results"] if result.get("predicted")]
    assert any("that reach what loaded its missing modules" in note for note in doc["notes"])
    assert 0 < len(still) < 60 - predicting.SAMPLE_MINIMUM
    (note,) = [note for note in doc["notes"] if "have warnings judged on their predicted sets" in note]
    assert note.startswith(f"{len(still)} predicted name(s)")


@pytest.mark.parametrize(("source", "may_read"), [
    ('if "IPython" in sys.modules:\n    pass\n', True),
    ("names = [name for name in sys.modules]\n", True),
    ("for name in list(sys.modules.keys()):\n    pass\n", True),
    ("found = (sys.modules).copy()\n", True),
    ("found = (sys.modules\n    .items())\n", True),
    ('found = name in (\n    sys.modules)\n', True),
    ('found = name in (  # which\n    sys.modules)\n', True),
    ("found = name not in \\\n    sys.modules\n", True),
    ("found = a < sys.modules in b\n", True),
    ("found = a == sys.modules in b\n", True),
    ("found = a is not sys.modules\n", True),
    ("found = name.lower()in sys.modules\n", True),
    ("sys.modules[__name__] = Module()\n", False),
    ("x = 1\nmodules = sys.modules\n", False),
    ("this = sys.modules[__name__]\nthat = sys.modules.get(name)\n", False),
    ("x = 1  # sys.modules is set below\n\nsys.modules[__name__].x = 1\n", True),
    ("x = 1\n\nsys.modules[__name__].x = 1\n", False),
    ("setattr(sys.modules[__name__], 'x', 1)\n", False),
])
def test_the_text_filter_parses_every_file_that_may_read_sys_modules(source: str, may_read: bool) -> None:
    """A file ``_may_read_sys_modules`` clears is not parsed: it must never clear one that
    ``_reads_sys_modules`` finds a read in (the cases it passes are ones it need not parse)."""
    import ast

    reads = any(predicting._reads_sys_modules(node) for node in ast.walk(ast.parse(source)))
    assert reads <= may_read
    assert predicting._may_read_sys_modules(source.encode()) is may_read


# Runs the predicting child's ``run`` as its bootstrap does, with its _Unbinder counted: prints how
# many names it unbound and how many times it looked at a module, over every name.
_COUNTING_CHILD = '''
import sys
def _main():
    path, result, package, names = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    child = type(sys)("aoinspect_child_predict")
    child.__file__ = path
    child.__builtins__ = dict(vars(sys.modules["builtins"]))
    with open(path, "rb") as stream:
        exec(compile(stream.read(), path, "exec"), child.__dict__)
    made = []
    class Counting(child._Unbinder):
        def __init__(self, *arguments):
            super().__init__(*arguments)
            made.append(self)
        def restore(self):
            self.taken = len(self.unbound)
            super().restore()
    child._Unbinder = Counting
    child.run(result, package, names)
    unbinder = made[0]
    print(unbinder.taken, unbinder.looked_at)
_main()
'''


def _keeping_package(count: int, failing: int) -> dict[str, str]:
    """A package like transformers: a module subclass whose ``__getattr__`` keeps every name it
    serves (each from a module of its own, which asks for a shared name served and kept too), and
    names whose backend is missing, which raise every time."""
    names = [f"n{index}" for index in range(count)]
    files = {"pkg/__init__.py": f'''
        import importlib, sys
        __all__ = {names + [f"bad{index}" for index in range(failing)]!r}

        class _Lazy(type(sys)):
            def __getattr__(self, name):
                if name.startswith("bad"):
                    raise ImportError(name + " needs a backend that is not installed")
                if name == "shared" or name in __all__:
                    value = importlib.import_module("._" + name, __name__).VALUE
                    setattr(self, name, value)
                    return value
                raise AttributeError(name)

        sys.modules[__name__].__class__ = _Lazy
        ''',
             "pkg/_shared.py": "VALUE = 'shared'\n"}
    files.update({f"pkg/_{name}.py": "from pkg import shared\nVALUE = shared + '-' + __name__\n" for name in names})
    return files


def _counted_child(fake: Any, tmp_path: Any, count: int, failing: int) -> tuple[int, int]:
    """(names unbound, looks at a module) over every name."""
    fake.write(_keeping_package(count, failing))
    names = [f"n{index}" for index in range(count)] + [f"bad{index}" for index in range(failing)]
    result = tmp_path / f"predict-{count}.jsonl"
    completed = subprocess.run([sys.executable, "-c", _COUNTING_CHILD, predicting.PREDICT_FILE, str(result), "pkg",
                                *names], env={**os.environ, **fake.env}, cwd=tmp_path, capture_output=True, text=True,
                               check=True, timeout=120)
    unbound, looks = (int(part) for part in completed.stdout.split())
    return unbound, looks


def test_the_predicting_child_unbinds_what_each_access_kept_once_not_again_before_every_later_name(
        fake, tmp_path) -> None:
    # Putting back every name a module kept after each name and taking it again before the next made
    # transformers' 7,328 names quadratic (and a look at each of its 700 lazy modules in Python
    # before every name): what is unbound and what is looked at grows with what the accesses bind.
    for count in (40, 80):
        unbound, looks = _counted_child(fake, tmp_path, count, count // 2)
        # Each n-name is kept once, and "shared", served again for every n-name, once each time
        # (count * (count + 1) / 2 when every kept name was taken again before every later name);
        # the package's namespace is looked at once after each access that bound a name (the
        # failing names bind none), not every module with a __getattr__ before every name.
        assert unbound == 2 * count
        assert looks <= count + 1
    # ... and each name still has its own serve of "shared" in view, as in its own fork.
    names = [f"n{index}" for index in range(80)] + [f"bad{index}" for index in range(40)]
    predictions = predicting.record_predictions("pkg", names, env={**os.environ, **fake.env})
    for index in range(80):
        assert {"pkg._shared", f"pkg._n{index}"} <= predictions.names[f"n{index}"].modules
    assert all(predictions.names[f"bad{index}"].error for index in range(40))


def test_a_child_that_hangs_pickling_keeps_its_predictions(fake) -> None:
    """The predicting child pickles after it sent its predictions: a package whose pickling hangs
    (here, the module a function names as its own imports forever) loses the pickles, which only
    made a guess, not the predictions."""
    fake.write({
        "pkg/__init__.py": ("def __getattr__(name):\n"
                            "    if name == 'work':\n"
                            "        from pkg.impl import work\n"
                            "        return work\n"
                            "    raise AttributeError(name)\n"),
        "pkg/impl.py": "def work():\n    pass\nwork.__module__ = 'pkg.hangs'\n",
        "pkg/hangs.py": "import threading\nthreading.Event().wait()\n",
    })
    predictions = predicting.record_predictions("pkg", ["work"], timeout=6.0, env={**os.environ, **fake.env})
    assert predictions.names["work"].modules == frozenset({"pkg.impl"})
    assert not predictions.pickles


@pytest.mark.parametrize("left_bound", [False, True])
def test_a_name_bound_while_another_goes_is_unbound_for_the_next_name(invoke, fake, left_bound: bool) -> None:
    # A's access binds A and drops a name its body bound: pkg's namespace keeps its length, yet the
    # _Unbinder looks at it again (its last key is another) and B's ``pkg.A`` is served anew,
    # loading decimal as in a fresh process. ``left_bound``: S first binds pkg.sub, which pkg's
    # __getattr__ does not serve, so the _Unbinder leaves it bound (the same length after S and A).
    fake.write({
        "pkg/__init__.py": textwrap.dedent('''
            _placeholder = 1

            def __getattr__(name):
                if name == "S":
                    from . import sub
                    return sub.S
                if name == "A":
                    globals().pop("_placeholder", None)
                    import decimal
                    globals()["A"] = 2
                    return 2
                if name == "B":
                    from pkg._b import B
                    return B
                raise AttributeError(name)
        '''),
        "pkg/sub.py": "S = 1\n",
        "pkg/_b.py": "import pkg\nB = pkg.A\n",
    })
    names = ["S", "A", "B"] if left_bound else ["A", "B"]
    predictions = predicting.record_predictions("pkg", names, env={**os.environ, **fake.env})
    measured = _measured(invoke, "pkg", names)
    assert "decimal" in measured["B"]
    disagreeing = {item.name for item in predicting.disagreements(predictions, measured)}
    assert disagreeing <= set(predictions.risky), (disagreeing, predictions.risky)
    assert "decimal" in predictions.names["B"].modules


@pytest.mark.parametrize("spelled", ["__getattr__", "__\uff47etattr__"])  # NFKC: the same identifier
def test_a_getattr_spelled_otherwise_is_still_read_for_its_state(tmp_path, spelled: str) -> None:
    # Python folds identifiers to NFKC: a fullwidth "g" defines the same module __getattr__, and
    # a file that does not spell the ASCII bytes is parsed all the same for its kept state.
    path = tmp_path / "module.py"
    path.write_text(f"_seen = set()\n\ndef {spelled}(name):\n    global _seen\n    _seen = _seen | {{name}}\n"
                    "    import decimal\n    return 1\n", encoding="utf-8")
    namespace: dict[str, object] = {}
    exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), namespace)
    assert "__getattr__" in namespace
    assert predicting._Scanner().lazy_path_state(str(path)) is not None


def test_a_check_where_no_fifo_can_be_made_still_predicts(invoke, fake, monkeypatch, no_leftovers) -> None:
    # A cold check tells its early predicting child the names through a FIFO: where none can be
    # made (a TMPDIR on a file system without them), the child starts once the names are known,
    # and nothing is left behind.
    fake.write(_many_names())

    def refuse(path: Any, mode: int = 0o666) -> None:
        raise PermissionError(1, "Operation not permitted", path)

    monkeypatch.setattr(os, "mkfifo", refuse)
    result = invoke("-p", "pkg", "--no-cache", "--jobs", "1", *CHECK)
    assert result.exit_code in (0, 1), result.output[-300:]


def test_the_early_childs_cost_leaves_out_its_wait_for_the_names(invoke, fake, monkeypatch) -> None:
    # What importing and touching every name took (graph.elapsed_ns: the whole-package probes'
    # deadline, and the note that quotes it) leaves out the early child's wait for its names.
    from aoinspect import engine

    fake.write(_many_names())
    children = _watched_children(monkeypatch)
    start = engine._Predicting.start

    def slow(*args: Any, **kwargs: Any) -> Any:
        import time

        time.sleep(3)  # the parent describing a big package meanwhile
        return start(*args, **kwargs)

    monkeypatch.setattr(engine._Predicting, "start", slow)
    invoke("-p", "pkg", "--no-cache", *CHECK)
    ((_names, predictions),) = children
    assert predictions.graph.elapsed_ns / 1e9 < 2
