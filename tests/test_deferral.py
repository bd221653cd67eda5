"""aoinspect/deferral.py and child/defer.py: deferral simulated under PEP 810's semantics, held to
the line-deletion oracle (``tests/oracle.py``): for every deferred statement not used during the
import, the modules it saves are exactly those deleting its line saves; for one used during the
import, the saving is empty and the reifying file:line is named. Many statements run in one child
(a fork each)."""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from aoinspect import deferral, pep810
from tests.oracle import _copy, modules_loaded, modules_without_lines

if TYPE_CHECKING:
    from tests.helpers import FakePackages

LEAVES = {
    # Modules the cases import: each loads one more of its own, so a saving is never a single name.
    **{f"{name}.py": f"import {name}_dep\nVALUE = 1\nclass Base: pass\nclass K: pass\nT = int\n"
                     f"def register(f): return f\ndef setup(): return 1\nthing = object()\nSENTINEL = None\n"
       for name in ("deco_mod", "base_mod", "default_mod", "call_mod", "ann_mod", "fx_mod", "isinst_mod", "is_mod",
                    "fun_mod", "never_mod", "with_mod", "shared_mod", "try_mod", "cls_mod", "fn_mod", "fxfun_mod")},
    **{f"{name}_dep.py": "" for name in ("deco_mod", "base_mod", "default_mod", "call_mod", "ann_mod", "fx_mod",
                                          "isinst_mod", "is_mod", "fun_mod", "never_mod", "with_mod", "shared_mod",
                                          "try_mod", "cls_mod", "fn_mod", "fxfun_mod")},
    "dotpkg/__init__.py": "",
    "dotpkg/inner/__init__.py": "import dotpkg.helper\n",
    "dotpkg/inner/leaf.py": "X = 1\n",
    "dotpkg/helper.py": "",
    "dotpkg/other.py": "import never_mod_dep\n",
    "star_mod.py": "import star_mod_dep\nA = 1\n",
    "star_mod_dep.py": "",
}

# (module file, line of the statement, how it is used at import: None, or the line that reifies it)
CASES = {
    "p/__init__.py": """\
        from . import decorated, based, defaulted, called, annotated, fx, isinst, same, functions_only
        from . import never, rel, dotted, withblock, shared, kept, eager
    """,
    "p/decorated.py": "import deco_mod\n@deco_mod.register\ndef f(): pass\n",
    "p/based.py": "import base_mod\nclass K(base_mod.Base): pass\n",
    "p/defaulted.py": "import default_mod\ndef f(x=default_mod.VALUE): return x\n",
    "p/called.py": "import call_mod\ncall_mod.setup()\n",
    "p/annotated.py": "import ann_mod\nx: ann_mod.T = 1\n",
    "p/fx.py": "from fx_mod import thing\ndef f(o): return o\nf(thing)\n",
    "p/isinst.py": "from isinst_mod import K\nOK = isinstance(1, K)\n",
    "p/same.py": "from is_mod import SENTINEL\nSAME = SENTINEL is None\n",
    "p/functions_only.py": """\
        import fun_mod
        from fxfun_mod import thing
        def use(): return fun_mod.VALUE
        def call(f): return f(thing), isinstance(1, thing.__class__)
        def shadow(fun_mod=None): return fun_mod
        def local():
            fun_mod = 1
            return fun_mod
        class C:
            fun_mod = 2
            y = fun_mod
        comp = [fun_mod for fun_mod in range(2)]
        RESULTS = (shadow(), local(), C.y, comp)
    """,
    "p/never.py": "import never_mod\n",
    "p/rel.py": "from . import relsub\nfrom .relpkg import thing as renamed\n",
    "p/relsub.py": "import fn_mod\n",
    "p/relpkg/__init__.py": "import cls_mod\nthing = 1\n",
    "p/dotted.py": "import dotpkg.inner.leaf\nimport dotpkg.other as do\n",
    "p/withblock.py": "with open(__file__, 'rb'):\n    import with_mod\n",
    "p/shared.py": "import shared_mod\n",
    "p/kept.py": "import shared_mod\nVALUE = shared_mod.VALUE\n",
    "p/eager.py": """\
        from __future__ import annotations
        try:
            import try_mod
        except ImportError:
            pass
        from star_mod import *
        class C:
            import cls_mod
        def f():
            import fn_mod
    """,
}

USED_AT_IMPORT = {  # statement -> the line that reifies it during the import
    ("p/decorated.py", 1): 2, ("p/based.py", 1): 2, ("p/defaulted.py", 1): 2, ("p/called.py", 1): 2,
    ("p/fx.py", 1): 3, ("p/isinst.py", 1): 2, ("p/same.py", 1): 2, ("p/kept.py", 1): 2,
}
ANNOTATION = ("p/annotated.py", 1)  # evaluated at import before 3.14 (PEP 649)
NOT_USED_AT_IMPORT = [
    ("p/functions_only.py", 1), ("p/functions_only.py", 2), ("p/never.py", 1), ("p/rel.py", 1), ("p/rel.py", 2),
    ("p/dotted.py", 1), ("p/dotted.py", 2), ("p/withblock.py", 2), ("p/shared.py", 1),
]
REFUSED = {("p/eager.py", 1): "__future__", ("p/eager.py", 3): "inside try/except", ("p/eager.py", 6): "star import",
           ("p/eager.py", 8): "in a class", ("p/eager.py", 10): "in a function"}


def _write(root: Path, files: dict[str, str]) -> None:
    for relative, source in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source), encoding="utf-8")


@pytest.fixture
def site(fake: FakePackages, monkeypatch: pytest.MonkeyPatch) -> Path:
    _write(fake.root, {**LEAVES, **CASES})
    monkeypatch.setenv("PYTHONPATH", str(fake.root))
    return fake.root


def _version(python: str) -> tuple[int, int]:
    import subprocess

    out = subprocess.run([python, "-c", "import sys; print(*sys.version_info[:2])"], capture_output=True,
                         text=True, check=True).stdout
    major, minor = out.split()
    return int(major), int(minor)


def oracle_saving(tmp_path: Path, root: Path, statements: list[tuple[str, int]], entry: str,
                  python: str) -> frozenset[str]:
    """What deleting every one of ``statements`` from a copy of ``root`` stops ``entry`` loading."""
    return modules_without_lines(tmp_path, root, list(statements), entry, python)


@pytest.mark.probe
def test_each_saving_equals_the_line_deletion_oracle_and_a_used_import_names_its_line(
        site: Path, fake: FakePackages, tmp_path: Path) -> None:
    python = fake.python
    version = _version(python)
    used = dict(USED_AT_IMPORT)
    not_used = list(NOT_USED_AT_IMPORT)
    if version < (3, 14):
        used[ANNOTATION] = 2
    else:
        not_used.append(ANNOTATION)
    candidates = list(used) + not_used
    refs = [(str(site / file), line) for file, line in candidates]
    base, *deferred = deferral.simulate_each("p", [[], *([ref] for ref in refs)], python=python)
    assert base.error is None and base.reified == () and base.python == "{}.{}".format(*version)
    assert base.modules == modules_loaded(site, "import p", python)  # nothing deferred: a bare interpreter's set
    for (file, line), ref, run in zip(candidates, refs, deferred):
        assert run.error is None, (file, line, run.error)
        assert run.deferred == (ref,)
        saving = base.modules - run.modules
        reification = run.reification_of(*ref)
        if (file, line) in used:
            assert saving == frozenset(), (file, line)
            assert reification is not None and reification.during_import, (file, line)
            assert (reification.file, reification.line) == (ref[0], used[file, line]), (file, line)
        else:
            assert reification is None, (file, line, reification)
            assert saving == oracle_saving(tmp_path, site, [(file, line)], "import p", python), (file, line)
            if (file, line) != ("p/shared.py", 1):  # kept loaded by p/kept.py: saves nothing, as the oracle says
                assert saving, (file, line)


@pytest.mark.probe
def test_spawn_gives_what_fork_gives(site: Path, fake: FakePackages) -> None:
    refs = [[(str(site / file), line)] for file, line in [*list(USED_AT_IMPORT)[:2], *NOT_USED_AT_IMPORT[:4]]]
    forked = deferral.simulate_each("p", [[], *refs], python=fake.python, isolation=deferral.FORK)
    spawned = deferral.simulate_each("p", [[], *refs], python=fake.python, isolation=deferral.SPAWN)
    assert [(run.modules, run.reified, run.deferred) for run in spawned] == [
        (run.modules, run.reified, run.deferred) for run in forked]
    with pytest.raises(ValueError, match="isolation is one of"):
        deferral.simulate_each("p", [[]], isolation="thread")


@pytest.mark.probe
def test_statements_pep_810_keeps_eager_are_refused_and_save_nothing(site: Path, fake: FakePackages) -> None:
    refs = [(str(site / file), line) for file, line in REFUSED]
    base, run = deferral.simulate_each("p", [[], refs], python=fake.python)
    assert {(file, line): reason for file, line, reason in run.refused} == {
        (str(site / file), line): reason for (file, line), reason in REFUSED.items()}
    assert run.deferred == () and run.modules == base.modules


@pytest.mark.probe
def test_all_candidates_deferred_together_equal_the_oracle_as_a_set(site: Path, fake: FakePackages,
                                                                     tmp_path: Path) -> None:
    statements = [statement for statement in NOT_USED_AT_IMPORT if statement != ("p/shared.py", 1)]
    base, run = deferral.simulate_each("p", [[], [(str(site / f), n) for f, n in statements]], python=fake.python)
    assert run.reified == ()
    assert base.modules - run.modules == oracle_saving(tmp_path, site, statements, "import p", fake.python)


@pytest.mark.probe
@pytest.mark.parametrize(("statement", "entry", "name", "module"), [
    (("p/never.py", 1), "import p.never\nm = p.never.never_mod\nassert m.VALUE == 1 and "
                        "p.never.__dict__['never_mod'] is m", "never_mod", "never_mod"),
    (("p/rel.py", 1), "import p.rel\nm = p.rel.relsub\nassert m.__name__ == 'p.relsub' and "
                      "p.rel.__dict__['relsub'] is m", "relsub", "p.relsub"),
    (("p/rel.py", 2), "from p.rel import renamed\nassert renamed == 1", "renamed", "p.relpkg"),
])
def test_access_from_outside_reifies_and_rebinds(site: Path, fake: FakePackages, statement: tuple[str, int],
                                                 entry: str, name: str, module: str) -> None:
    ref = (str(site / statement[0]), statement[1])
    before = deferral.simulate("p", [ref], python=fake.python)
    assert module not in before.modules
    run = deferral.simulate("p", [ref], entry=entry, python=fake.python)
    assert run.error is None
    reification = run.reification_of(*ref)
    assert reification is not None and not reification.during_import
    assert (reification.file, reification.line, reification.name) == ("<string>", entry.count("\n"), name)
    assert module in run.modules


# PEP 810's own examples, simulated.
PEP_EXAMPLES = {
    "pep/__init__.py": """\
        import sys
        import json
        from json import dumps
        BEFORE = "json" in sys.modules
        def go():
            return json.dumps({"hello": "world"}), "json" in sys.modules
        def go_from():
            return dumps([1])
    """,
}


@pytest.mark.probe
@pytest.mark.parametrize(("entry", "reified_at"), [
    # "lazy import json": nothing is loaded until the name is used, then it is.
    ("import pep, sys\nassert pep.BEFORE is False and 'json' not in sys.modules\n"
     "assert pep.go() == ('{\"hello\": \"world\"}', True)", 6),
    # "lazy from json import dumps": the same for a from-import.
    ("import pep\nassert pep.go_from() == '[1]'", 8),
])
def test_pep_810_examples(fake: FakePackages, monkeypatch: pytest.MonkeyPatch, entry: str, reified_at: int) -> None:
    _write(fake.root, PEP_EXAMPLES)
    monkeypatch.setenv("PYTHONPATH", str(fake.root))
    init = str(fake.root / "pep/__init__.py")
    line = 2 if "go()" in entry else 3
    run = deferral.simulate("pep", [(init, 2), (init, 3)], entry=entry, python=fake.python)
    assert run.error is None
    reification = run.reification_of(init, line)
    assert reification is not None and (reification.line, reification.during_import) == (reified_at, False)


@pytest.mark.probe
def test_an_import_error_moves_to_first_use(fake: FakePackages, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(fake.root, {"moves/__init__.py": "import not_installed_anywhere\ndef use():\n"
                                            "    return not_installed_anywhere.x\n"})
    monkeypatch.setenv("PYTHONPATH", str(fake.root))
    ref = (str(fake.root / "moves/__init__.py"), 1)
    eager, imported, used = (
        deferral.simulate("moves", [], python=fake.python),
        deferral.simulate("moves", [ref], python=fake.python),
        deferral.simulate("moves", [ref], entry="import moves\nmoves.use()", python=fake.python),
    )
    assert eager.error is not None and eager.error.startswith("ModuleNotFoundError")
    assert imported.error is None
    assert used.error is not None and used.error.startswith("ModuleNotFoundError")
    reification = used.reification_of(*ref)
    assert reification is not None and reification.line == 3 and not reification.during_import
    assert reification.error is not None and "not_installed_anywhere" in reification.error


CIRCULAR = {
    # Eager: m's line 1 imports t, which imports z before m defines run, so z skips the call.
    # Lazy: z calls m.run() at import, which reifies helper: t then imports ZCONST from z,
    # which is still being initialized.
    "circ/__init__.py": "",
    "circ/m.py": "from .t import helper\ndef run():\n    return helper()\nfrom . import z\n",
    "circ/t.py": "from .z import ZCONST\ndef helper():\n    return ZCONST\n",
    "circ/z.py": "from . import m\nif hasattr(m, 'run'):\n    RESULT = m.run()\nZCONST = 1\n",
}


@pytest.mark.probe
def test_a_circular_import_that_fails_when_reified(fake: FakePackages, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(fake.root, CIRCULAR)
    monkeypatch.setenv("PYTHONPATH", str(fake.root))
    ref = (str(fake.root / "circ/m.py"), 1)
    eager, lazy = deferral.simulate_each("circ.m", [[], [ref]], python=fake.python)
    assert eager.error is None
    assert lazy.error is not None and lazy.error.startswith("ImportError")
    reification = lazy.reification_of(*ref)
    assert reification is not None and reification.during_import and reification.line == 3
    assert reification.error is not None and "circular import" in reification.error


@pytest.mark.probe
def test_an_existing_declaration_with_a_truncated_entry(fake: FakePackages, monkeypatch: pytest.MonkeyPatch,
                                                        tmp_path: Path) -> None:
    _write(fake.root, {**LEAVES, "decl/__init__.py": """\
        __lazy_modules__ = ["dotpkg.inner", "never_mod"]
        import dotpkg.inner.leaf
        import never_mod
    """})
    monkeypatch.setenv("PYTHONPATH", str(fake.root))
    init = str(fake.root / "decl/__init__.py")
    statements = pep810.scan_module(init, "decl", True)
    lazy = pep810.read_lazy_modules(init)
    assert lazy is not None
    (stale,) = pep810.stale_entries(lazy, statements)
    assert (stale.entry, stale.suggestions) == ("dotpkg.inner", ("dotpkg.inner.leaf",))
    declared = [statement for statement in statements if statement.declared]
    assert [statement.line for statement in declared] == [3]
    base, run = deferral.simulate_each("decl", [[], declared], python=fake.python)
    assert "dotpkg.inner.leaf" in run.modules  # the truncated entry left it eager
    assert base.modules - run.modules == oracle_saving(tmp_path, fake.root, [("decl/__init__.py", 3)], "import decl",
                                                       fake.python)


@pytest.mark.probe
@pytest.mark.parametrize("kind", ["script", "-m", "-c"])
def test_a_program(fake: FakePackages, monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    main = "import app\nimport sys\nsys.exit(0 if app.main() == 1 and sys.argv[1:] == ['x'] else 1)\n"
    _write(fake.root, {**LEAVES, "app/__init__.py": "import never_mod\ndef main():\n    return never_mod.VALUE\n",
                       "run_app.py": main})
    monkeypatch.setenv("PYTHONPATH", str(fake.root))
    program = {"script": [str(fake.root / "run_app.py"), "x"], "-m": ["-m", "run_app", "x"],
               "-c": ["-c", main, "x"]}[kind]
    ref = (str(fake.root / "app/__init__.py"), 1)
    run = deferral.simulate("app", [ref], program=program, python=fake.python)
    assert run.error == "SystemExit: 0"
    assert "runpy" not in run.modules
    reification = run.reification_of(*ref)
    assert reification is not None and not reification.during_import and reification.line == 3


def _pythons() -> list[str]:
    found = sorted(str(path) for path in Path("/root/.pyenv/versions").glob("3.*/bin/python")
                   if path.parent.parent.name.split(".")[1].isdigit()
                   and int(path.parent.parent.name.split(".")[1]) >= 9)
    return found or [sys.executable]


@pytest.mark.parametrize("python", _pythons(), ids=lambda path: Path(path).parent.parent.name)
def test_scoping_and_reification_on_every_interpreter(python: str, fake: FakePackages, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """symtable-correct scoping (a parameter, a local, a closure, a class attribute, a
    comprehension's variable of the same name are not the global) and reification by f(x) and
    isinstance, on each interpreter the probe supports."""
    if not os.access(python, os.X_OK):
        pytest.skip(f"{python} is not installed")
    _write(fake.root, {**LEAVES, "p/__init__.py": CASES["p/functions_only.py"], "q/__init__.py": CASES["p/fx.py"],
                       "r/__init__.py": CASES["p/isinst.py"], "s/__init__.py": "import p, q, r\n"})
    monkeypatch.setenv("PYTHONPATH", str(fake.root))
    refs = [(str(fake.root / name), line) for name, line in
            (("p/__init__.py", 1), ("p/__init__.py", 2), ("q/__init__.py", 1), ("r/__init__.py", 1))]
    base, shadowed, fx, isinst = deferral.simulate_each("s", [[], refs[:2], [refs[2]], [refs[3]]], python=python)
    assert shadowed.reified == ()
    assert base.modules - shadowed.modules == oracle_saving(
        tmp_path, fake.root, [("p/__init__.py", 1), ("p/__init__.py", 2)], "import s", python)
    assert [(item.line, item.during_import) for item in fx.reified] == [(3, True)]
    assert [(item.line, item.during_import) for item in isinst.reified] == [(2, True)]
    assert fx.modules == base.modules == isinst.modules


@pytest.mark.skipif(not os.environ.get("AOINSPECT_TEST_PYTHON315"), reason="AOINSPECT_TEST_PYTHON315 names no 3.15")
def test_the_generated_patch_under_native_pep_810(fake: FakePackages, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The __lazy_modules__ patch applied, run by a real 3.15: what it loads equals the simulation."""
    import subprocess

    python = os.environ["AOINSPECT_TEST_PYTHON315"]
    _write(fake.root, {**LEAVES, "p/__init__.py": CASES["p/functions_only.py"]})
    init = fake.root / "p/__init__.py"
    statements = [s for s in pep810.scan_module(str(init), "p", True) if s.allowed]
    patch = pep810.lazy_modules_patch(statements, root=str(fake.root))
    patched = _copy(tmp_path, fake.root)
    subprocess.run(["patch", "-p1", "-d", str(patched)], input=patch, text=True, check=True, capture_output=True)
    native = modules_loaded(patched, "import p", python)
    monkeypatch.setenv("PYTHONPATH", str(fake.root))
    simulated = deferral.simulate("p", statements, python=python)
    assert native == simulated.modules


@pytest.mark.real
def test_clicks_import_inspect_against_the_oracle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The issue's hand check: deferring click's ``import inspect`` lines saves what deleting them
    saves (a static tool credited it with 38 ms)."""
    click = pytest.importorskip("click")
    package_dir = Path(click.__file__).parent
    statements = [s for s in pep810.scan_package(str(package_dir)) if s.entries == ("inspect",) and s.allowed]
    if not statements:
        pytest.skip("this click has no module-level import inspect")
    site = tmp_path / "site"
    root = _copy(tmp_path, package_dir)
    root.rename(site)
    monkeypatch.setenv("PYTHONPATH", str(site))
    copied = [(str(site / "click" / Path(s.file).relative_to(package_dir)), s.line) for s in statements]
    base, run = deferral.simulate_each("click", [[], copied])
    assert base.error is None and run.error is None
    oracle = oracle_saving(tmp_path, site / "click", [(file, line) for file, line in copied], "import click",
                           sys.executable)
    reified = [item for item in run.reified if item.during_import]
    if reified:  # used at import: nothing saved, and the line that used it is named
        assert base.modules - run.modules == frozenset() and all(item.line for item in reified)
    else:
        assert base.modules - run.modules == oracle and "inspect" in oracle


@pytest.mark.probe
def test_a_scenario_that_hangs_or_dies_is_incomplete_and_the_others_still_report(
        fake: FakePackages, monkeypatch: pytest.MonkeyPatch, no_leftovers: Path) -> None:
    _write(fake.root, {**LEAVES, "bad/__init__.py": """\
        import os
        import never_mod
        import fun_mod
        import deco_mod
        if False:
            import base_mod
        if never_mod.VALUE == 2:
            while True:
                pass
        if fun_mod.VALUE == 2:
            os._exit(3)
        if deco_mod.VALUE == 2:
            os.kill(os.getpid(), 9)
    """, "two.py": "VALUE = 2\n"})
    monkeypatch.setenv("PYTHONPATH", str(fake.root))
    init = str(fake.root / "bad/__init__.py")
    # Deferring one of them and rebinding its module to ``two`` (through sys.modules) picks the failure.
    scenarios = [[(init, 2)], [], [(init, 6)]]
    runs = []
    for name in ("never_mod", "fun_mod", "deco_mod"):
        entry = f"import sys, two\nsys.modules[{name!r}] = two\nimport bad"
        runs.append(deferral.simulate_each("bad", [[(init, 2), (init, 6)]], entry=entry, python=fake.python,
                                           timeout=0.3)[0])
    hang, exit_, killed = runs
    assert hang.incomplete == "it ran past its deadline of 0.3 s"  # not rounded to whole seconds
    assert exit_.incomplete == "it exited with status 3 before reporting"
    assert killed.incomplete == "it was killed by signal 9"
    assert all(run.error == f"the run gave no result: {run.incomplete}" for run in runs)
    fine, base, never_ran = deferral.simulate_each("bad", scenarios, python=fake.python)
    assert fine.incomplete is None and fine.executed == ((init, 2),)
    assert never_ran.deferred == ((init, 6),) and never_ran.executed == ()
    assert base.modules - never_ran.modules == frozenset()


@pytest.mark.probe
@pytest.mark.parametrize(("source", "needs"), [
    ("import never_mod\ndef kind(v):\n    match v:\n        case never_mod.VALUE:\n            return 1\n"
     "        case _:\n            return 0\nRESULT = kind(1)\n", (3, 10)),
    ("import never_mod\nRESULT = eval('never_mod').VALUE\n", (3, 9)),
    ("import never_mod\nRESULT = globals()['never_mod'].VALUE\n", (3, 9)),
])
def test_loads_the_rewrite_cannot_reach_reify_on_attribute_access(
        fake: FakePackages, monkeypatch: pytest.MonkeyPatch, source: str, needs: tuple[int, int]) -> None:
    """A match pattern may only hold dotted names, and eval or globals() read the namespace
    directly: the lazy object then reifies when an attribute is read from it."""
    if _version(fake.python) < needs:
        pytest.skip("needs a newer interpreter")
    _write(fake.root, {**LEAVES, "m/__init__.py": source})
    monkeypatch.setenv("PYTHONPATH", str(fake.root))
    ref = (str(fake.root / "m/__init__.py"), 1)
    run = deferral.simulate("m", [ref], entry="import m\nassert m.RESULT == 1", python=fake.python)
    assert run.error is None
    reification = run.reification_of(*ref)
    assert reification is not None and reification.during_import


@pytest.mark.probe
def test_a_scripts_own_statements_are_deferred_too(fake: FakePackages, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(fake.root, {**LEAVES, "tool.py": "import never_mod\nimport fun_mod\nprint(fun_mod.VALUE)\n"})
    monkeypatch.setenv("PYTHONPATH", str(fake.root))
    script = str(fake.root / "tool.py")
    base, run = deferral.simulate_each("tool", [[], [(script, 1), (script, 2)]], program=[script],
                                       python=fake.python)
    assert run.error is None and run.executed == ((script, 1), (script, 2))
    assert base.modules - run.modules == {"never_mod", "never_mod_dep"}
    assert [(item.name, item.line, item.during_import) for item in run.reified] == [("fun_mod", 3, False)]


@pytest.mark.probe
def test_a_star_import_of_a_module_reifies_its_lazy_names(fake: FakePackages,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    _write(fake.root, {**LEAVES, "lz/__init__.py": "import never_mod\nfrom fun_mod import VALUE\n"})
    monkeypatch.setenv("PYTHONPATH", str(fake.root))
    init = str(fake.root / "lz/__init__.py")
    run = deferral.simulate("lz", [(init, 1), (init, 2)], entry="from lz import *\nassert VALUE == 1",
                            python=fake.python)
    assert run.error is None
    assert [(item.name, item.file, item.line) for item in run.reified] == [
        ("never_mod", "<string>", 1), ("VALUE", "<string>", 1)]


@pytest.mark.real
@pytest.mark.parametrize("name", ["click", "rich"])
def test_every_statement_of_a_real_package_deferred_at_once(name: str) -> None:
    """The rewrite holds on real code: every module-level statement of the package deferred, the
    import still succeeds, nothing is refused but what PEP 810 refuses, and it loads less."""
    module = pytest.importorskip(name)
    statements = [s for s in pep810.scan_package(os.path.dirname(module.__file__ or "")) if s.allowed]
    base, run = deferral.simulate_each(name, [[], statements])
    assert base.error is None and run.error is None
    assert [reason for _file, _line, reason in run.refused] == []
    assert run.executed and set(run.executed) <= set(run.deferred)
    assert run.modules < base.modules


@pytest.mark.probe
def test_reification_goes_through_a_replaced_builtins_import(fake: FakePackages,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """PEP 810 reifies through ``__import__`` as the eager statement would: a package's own
    replacement sees it (the hostile case of issue 23's graph)."""
    _write(fake.root, {**LEAVES, "hook/__init__.py": """\
        import builtins
        SEEN = []
        _original = builtins.__import__
        def _hooked(name, *args, **kwargs):
            SEEN.append(name)
            return _original(name, *args, **kwargs)
        builtins.__import__ = _hooked
        from . import user
    """, "hook/user.py": "import never_mod\ndef use():\n    return never_mod.VALUE\n"})
    monkeypatch.setenv("PYTHONPATH", str(fake.root))
    ref = (str(fake.root / "hook/user.py"), 1)
    entry = "import hook\nassert 'never_mod' not in hook.SEEN\nhook.user.use()\nassert 'never_mod' in hook.SEEN"
    run = deferral.simulate("hook", [ref], entry=entry, python=fake.python)
    assert run.error is None
    reification = run.reification_of(*ref)
    assert reification is not None and reification.line == 3 and not reification.during_import
