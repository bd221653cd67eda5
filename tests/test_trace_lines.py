"""``aoinspect trace`` names, for every load, the program's own line (the last line of the
program's code before control went into a library), the chain of lines from there to the line
that imported, and a named cause; one record per load, the same count in every view, one
``--forbid`` finding per line. The program runs in ``proj/``; the fake libraries are in
``site/``, outside it, as installed libraries are."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from aoinspect.commands.trace import run_trace
from aoinspect.models.trace import (
    CAUSE_CODEC,
    CAUSE_COMPILED_MODULE,
    CAUSE_EXEC,
    CAUSE_INTERPRETER,
    CAUSE_LINE,
    CAUSE_PARENT_PACKAGE,
    CAUSES,
    TraceOptions,
)
from aoinspect.render import RenderOptions, render

if TYPE_CHECKING:
    from aoinspect.models.trace import Frame, TracedLoad, TraceReport

LIBRARY = {
    # A library that imports inside its own functions, two calls away from the program.
    "lib/__init__.py": """\
        def build():
            return _helper()
        def _helper():
            import colorsys
            return colorsys
        def encode():
            return "x".encode("idna")
        def run_string():
            exec("import this_is_execd")
        """,
    "this_is_execd.py": "",
    # A package whose __getattr__ reaches the import through a helper function.
    "lazyhelp/__init__.py": """\
        def _import_heavy():
            import importlib
            return importlib.import_module("lazyhelp.heavy")
        def __getattr__(name):
            if name == "heavy":
                return _import_heavy()
            raise AttributeError(name)
        """,
    "lazyhelp/heavy.py": "",
    "outer/__init__.py": "",
    "outer/inner.py": "value = 1\n",
    # A package whose __init__ imports the submodule being imported: ``import selfpkg.sub``.
    "selfpkg/__init__.py": "import selfpkg.sub\n",
    "selfpkg/sub.py": "",
    "bigpkg/__init__.py": "from bigpkg import a, b, c\n",
    "bigpkg/a.py": "", "bigpkg/b.py": "", "bigpkg/c.py": "",
    "latehook/__init__.py": """\
        import atexit
        def _at_exit():
            import colorsys
        atexit.register(_at_exit)
        """,
    "broken.py": "raise ImportError('no')\n",
}


@pytest.fixture
def project(tmp_path: Path, fake, monkeypatch: pytest.MonkeyPatch) -> Path:  # type: ignore[no-untyped-def]
    fake.write(LIBRARY)
    directory = tmp_path / "proj"
    directory.mkdir()
    monkeypatch.chdir(directory)
    for key, value in fake.env.items():
        monkeypatch.setenv(key, value)
    return directory


def write(directory: Path, name: str, source: str) -> str:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source))
    return str(path)


def trace(*program: str, projects: tuple[str, ...] = (), options: TraceOptions | None = None) -> TraceReport:
    with run_trace(program, projects=projects) as running:
        report = running.report(options)
    assert report.returncode == 0, report.ending
    # Every load the program began has a named cause; "the interpreter itself" is for none of them.
    assert [load.module for load in report.loads if load.cause not in CAUSES or load.cause == CAUSE_INTERPRETER] == []
    return report


def load_of(report: TraceReport, module: str) -> TracedLoad:
    found = [load for load in report.loads if load.module == module]
    assert len(found) == 1, [load.module for load in report.loads]
    return found[0]


def at(frame: Frame | None) -> tuple[str, int] | None:
    return (Path(frame.file).name, frame.line) if frame is not None else None


def test_a_library_importing_in_its_own_function_is_put_on_the_programs_line(project: Path) -> None:
    write(project, "app.py", """\
        import lib
        x = 1
        lib.build()
        """)
    report = trace("app.py")
    colorsys = load_of(report, "colorsys")
    assert at(colorsys.trigger) == ("__init__.py", 4)  # lib's ``import colorsys``, as before
    assert at(colorsys.own) == ("app.py", 3) and colorsys.own is not None
    assert colorsys.own.source == "lib.build()"
    assert [(frame.function, frame.line) for frame in colorsys.chain] == [("build", 2)]
    assert colorsys.cause == CAUSE_LINE
    text = render(report, "text", RenderOptions())
    assert "app.py:3  lib.build()" in text
    assert "colorsys (from " in text and "lib/__init__.py:4)" in text
    why = render(report, "text", RenderOptions(why="colorsys")).splitlines()
    start = next(number for number, line in enumerate(why) if line.startswith("Why colorsys was loaded"))
    assert why[start + 1] == "  app.py:3  lib.build()"
    assert why[start + 2].endswith("lib/__init__.py:2  return _helper()")
    assert why[start + 3].endswith("lib/__init__.py:4  import colorsys  ->  colorsys")


@pytest.mark.parametrize("owned", [False, True], ids=["a library", "the program's own package"])
def test_a_getattr_that_imports_through_a_helper_records_the_hop(project: Path, fake, owned: bool) -> None:  # type: ignore[no-untyped-def]
    if owned:  # the same package, in the program's own directory
        for name in ("lazyhelp/__init__.py", "lazyhelp/heavy.py"):
            write(project, name, (fake.root / name).read_text())
    write(project, "app.py", """\
        import lazyhelp
        value = lazyhelp.heavy
        """)
    heavy = load_of(trace("app.py"), "lazyhelp.heavy")
    assert heavy.hop is not None and heavy.hop.function == "lazyhelp.__getattr__"
    assert heavy.hop.attribute == "heavy"
    assert heavy.trigger is not None and heavy.trigger.function == "_import_heavy"
    # The program's own line is the innermost: the helper's, when the package is the program's.
    assert at(heavy.own) == (("__init__.py", 3) if owned else ("app.py", 2))
    assert heavy.via is None  # ``lazyhelp.heavy`` calls nothing: no builtin was the way in


@pytest.mark.parametrize(("statement", "module", "importer"), [
    ("import inspect", "ast", "inspect.py"),
    ("import dataclasses", "inspect", "dataclasses.py"),
])
def test_module_level_imports_of_helper_modules_are_their_lines(project: Path, statement: str, module: str,
                                                                 importer: str) -> None:
    report = trace("-c", statement)
    load = load_of(report, module)
    assert load.trigger is not None and Path(load.trigger.file).name == importer
    assert load.trigger.function == "<module>" and load.cause == CAUSE_LINE
    assert at(load.own) == ("<string>", 1)
    assert all(load.cause != CAUSE_INTERPRETER for load in report.loads)


def test_a_parent_package_is_put_on_the_submodule_import(project: Path) -> None:
    write(project, "app.py", "from outer.inner import value\n")
    report = trace("app.py")
    outer = load_of(report, "outer")
    assert outer.cause == CAUSE_PARENT_PACKAGE
    assert at(outer.trigger) == ("app.py", 1) and at(outer.own) == ("app.py", 1)
    assert "parent package of outer.inner" in render(report, "tree", RenderOptions())


def test_an_execd_string_names_the_line_that_execd_it(project: Path) -> None:
    write(project, "app.py", """\
        import lib
        exec("import colorsys")
        lib.run_string()
        """)
    report = trace("app.py")
    colorsys = load_of(report, "colorsys")
    assert colorsys.cause == CAUSE_EXEC and at(colorsys.trigger) == ("<string>", 1)
    assert at(colorsys.own) == ("app.py", 2)
    by_library = load_of(report, "this_is_execd")
    assert by_library.cause == CAUSE_EXEC and at(by_library.own) == ("app.py", 3)
    assert [frame.function for frame in by_library.chain] == ["run_string"]  # the line that exec'd it
    assert "exec'd at <string>:1 by app.py:2" in render(report, "text", RenderOptions())


def test_a_codec_search_is_put_on_the_call_that_looked_the_codec_up(project: Path) -> None:
    write(project, "app.py", """\
        import lib
        lib.encode()
        """)
    idna = load_of(trace("app.py"), "encodings.idna")
    assert idna.cause == CAUSE_CODEC
    assert idna.trigger is not None and idna.trigger.function == "encode"  # not encodings/__init__.py
    assert at(idna.own) == ("app.py", 2)


def test_a_compiled_modules_init_is_named(project: Path) -> None:
    report = trace("-c", "import decimal")
    inits = [load for load in report.loads if load.cause == CAUSE_COMPILED_MODULE]
    if not inits:
        pytest.skip("this Python's _decimal imports nothing in its init")
    assert all(at(load.own) == ("<string>", 1) for load in inits)


def test_a_nested_import_of_the_module_being_imported_is_one_load(project: Path) -> None:
    report = trace("-c", "import selfpkg.sub")
    assert [load.module for load in report.loads] == ["selfpkg", "selfpkg.sub"]
    package, sub = report.loads
    assert package.parent_index is None and package.cause == CAUSE_PARENT_PACKAGE
    assert sub.parent_index == package.index and sub.trigger is not None and sub.trigger.line == 1
    assert report.module_count == 2


def test_forbid_reports_one_finding_per_line(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(project, "app.py", """\
        import bigpkg
        import colorsys
        """)
    report = trace("app.py", options=TraceOptions(forbid=("bigpkg*", "colorsys")))
    messages = [finding.message for finding in report.findings]
    assert len(messages) == 2, messages
    assert messages[0].startswith("the program imports bigpkg and 3 more it matches (bigpkg.a, bigpkg.b, bigpkg.c), "
                                  "forbidden by 'bigpkg*'")
    assert messages[0].endswith("app.py:1.")
    assert all(finding.rule == "forbidden-import" and finding.name is None for finding in report.findings)
    # On the program's line, relative to the repository's root: the git work tree around it ...
    monkeypatch.delenv("GITHUB_WORKSPACE", raising=False)
    (tmp_path / ".git").mkdir()
    github = render(report, "github", RenderOptions())
    assert github.count("file=proj/app.py,line=1") == 1 and github.count("file=proj/app.py,line=2") == 1
    sarif = json.loads(render(report, "sarif", RenderOptions()))
    assert [result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for result in sarif["runs"][0]["results"]] == ["proj/app.py", "proj/app.py"]
    # ... or $GITHUB_WORKSPACE.
    monkeypatch.setenv("GITHUB_WORKSPACE", str(project))
    assert render(report, "github", RenderOptions()).count("file=app.py,line=") == 2


def test_every_view_counts_the_same_modules(project: Path) -> None:
    write(project, "app.py", """\
        import sys, types
        import bigpkg
        sys.modules["made_by_hand"] = types.ModuleType("made_by_hand")
        try:
            import broken
        except ImportError:
            pass
        """)
    report = trace("app.py")
    assert "made_by_hand" in report.inserted and [load.module for load in report.failed_loads] == ["broken"]
    count = report.module_count
    assert count == len({load.module for load in report.loaded} | set(report.inserted))
    assert json.loads(render(report, "json", RenderOptions()))["modules"] == count
    for fmt in ("text", "markdown", "tree", "svg"):
        assert f"{count} modules loaded" in render(report, fmt, RenderOptions()), fmt
    assert "1 failed import" in render(report, "text", RenderOptions())
    assert f'"modules":{count},"failed":1' in render(report, "html", RenderOptions())  # the page shows the JSON's


def test_a_module_programs_own_files_are_its_package(project: Path, fake) -> None:  # type: ignore[no-untyped-def]
    fake.write({
        "mymain/__init__.py": "",
        "mymain/__main__.py": "from mymain import work\nwork.run()\n",
        "mymain/work.py": "import lib\ndef run():\n    lib.build()\n",
    })
    colorsys = load_of(trace("-m", "mymain"), "colorsys")
    assert colorsys.own is not None and colorsys.own.file.endswith("mymain/work.py") and colorsys.own.line == 3


CONSOLE_SCRIPT = """\
    #!/usr/bin/python
    # -*- coding: utf-8 -*-
    import re
    import sys
    from toolpkg.cli import main
    if __name__ == "__main__":
        sys.argv[0] = re.sub(r"(-script\\.pyw|\\.exe)?$", "", sys.argv[0])
        sys.exit(main())
    """


def test_a_console_scripts_own_files_are_its_entry_points_package(project: Path, fake, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    fake.write({"toolpkg/__init__.py": "",
                "toolpkg/cli.py": "import lib\ndef main():\n    lib.build()\n    return 0\n"})
    script = write(tmp_path, "bin/tool", CONSOLE_SCRIPT)
    colorsys = load_of(trace(script), "colorsys")
    assert colorsys.own is not None and colorsys.own.file.endswith("toolpkg/cli.py") and colorsys.own.line == 3


def test_project_adds_a_directory_of_the_programs_own(project: Path, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    extra = tmp_path / "extra"
    write(extra, "extra_pkg.py", "import lib\ndef go():\n    lib.build()\n")
    monkeypatch.setenv("PYTHONPATH", f"{extra}{os.pathsep}{os.environ['PYTHONPATH']}")
    write(project, "app.py", "import extra_pkg\nextra_pkg.go()\n")
    plain = load_of(trace("app.py"), "colorsys")
    assert at(plain.own) == ("app.py", 2)
    with_project = load_of(trace("app.py", projects=(str(extra),)), "colorsys")
    assert at(with_project.own) == ("extra_pkg.py", 3)


def test_a_load_with_no_frame_of_the_programs_own_says_so(project: Path) -> None:
    report = trace("-c", "import latehook")
    late = load_of(report, "colorsys")  # imported by an atexit hook, after the program ended
    assert late.own is None and late.trigger is not None and late.trigger.function == "_at_exit"
    text = render(report, "text", RenderOptions())
    assert "(no frame of the program's own on the stack)" in text
    assert "colorsys (from " in text


@pytest.mark.parametrize("options", [(), ("-B",)])
def test_the_tracers_own_code_is_cached_as_the_import_system_caches_a_module(
        project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, options: tuple[str, ...]) -> None:
    """Compiling the tracer was most of what tracing a short program cost: its bytecode is kept
    where the import system keeps a module's (here under PYTHONPYCACHEPREFIX), unless -B."""
    monkeypatch.delenv("PYTHONDONTWRITEBYTECODE", raising=False)
    monkeypatch.setenv("PYTHONPYCACHEPREFIX", str(tmp_path / "pycache"))
    for _ in range(2):  # the second run reads what the first wrote
        report = trace(*options, "-c", "import colorsys")
        assert [load.module for load in report.loads] == ["colorsys"]
    cached = sorted(path.name for path in (tmp_path / "pycache").rglob("*.pyc"))
    if options:
        assert cached == []
    else:
        assert {name.partition(".")[0] for name in cached} >= {"tracer", "protocol", "recorder"}


def test_installed_distributions_below_the_working_directory_are_not_the_programs(
        project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A virtual environment in the checkout holds libraries, not the program's code."""
    site = project / ".venv" / "lib" / "python3" / "site-packages"
    write(site, "venvlib.py", "def build():\n    import colorsys\n")
    monkeypatch.setenv("PYTHONPATH", f"{site}{os.pathsep}{os.environ['PYTHONPATH']}")
    write(project, "app.py", "import venvlib\nvenvlib.build()\n")
    colorsys = load_of(trace("app.py"), "colorsys")
    assert at(colorsys.own) == ("app.py", 2) and at(colorsys.trigger) == ("venvlib.py", 2)
