"""``aoinspect trace``: the program runs as under plain ``python`` (argv, sys.path[0], __main__,
stdin, stdout, exit code, sys.modules), and every load is attributed to the right line, hop,
introspection call and thread, even when the program crashes or hangs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from aoinspect.child import protocol
from aoinspect.tracing.program import InvalidProgram, parse_program

# Prints what a program can observe of how it was started, reads stdin, and exits with the
# code given as its last argument.
OBSERVER = '''
import sys, json
line = sys.stdin.readline()
main = sys.modules["__main__"]
print(json.dumps({
    "argv": sys.argv, "path0": sys.path[0], "orig_argv": getattr(sys, "orig_argv", None)[1:],
    "main": sorted(vars(main)), "file": getattr(main, "__file__", None), "name": __name__,
    "loader": type(getattr(main, "__loader__", None)).__name__, "spec": getattr(__spec__, "name", None),
    "stdin": line, "modules": sorted(sys.modules),
}))
sys.stdout.flush()
sys.exit(int(sys.argv[-1]))
'''


def run(
    program: list[str], *options: str, cwd: Path, env: dict[str, str], stdin: str = "", traced: bool = True,
    timeout: float = 60,
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any] | None]:
    """Run PROGRAM under ``aoinspect trace`` (or bare), returning the run and the JSON report."""
    report = cwd / "aoinspect-report.json"
    if traced:
        command = [sys.executable, "-m", "aoinspect", "trace", "--format", "json", "-o", str(report), *options,
                   "--", *program]
    else:
        command = [sys.executable, *program]
    completed = subprocess.run(command, cwd=cwd, env={**os.environ, **env}, input=stdin, capture_output=True,
                               text=True, timeout=timeout)
    document = json.loads(report.read_text()) if traced else None
    if traced:
        report.unlink()
    return completed, document


def load_of(document: dict[str, Any], module: str) -> dict[str, Any]:
    return next(load for load in document["loads"] if load["module"] == module)


@pytest.fixture
def project(tmp_path: Path, fake) -> Path:  # type: ignore[no-untyped-def]
    fake.write({"observer_mod.py": OBSERVER, "pkg_main/__init__.py": "", "pkg_main/__main__.py": OBSERVER})
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "observer.py").write_text(OBSERVER)
    return tmp_path


@pytest.mark.parametrize("form", [
    ["scripts/observer.py", "a b", "--flag", "3"],
    ["-m", "observer_mod", "x", "0"],
    ["-m", "pkg_main", "5"],
    ["-c", OBSERVER, "arg", "7"],
])
def test_the_program_sees_what_plain_python_shows_it(project: Path, fake, form: list[str]) -> None:  # type: ignore[no-untyped-def]
    bare, _ = run(form, cwd=project, env=fake.env, stdin="hello\n", traced=False)
    traced, document = run(form, cwd=project, env=fake.env, stdin="hello\n")
    assert bare.returncode == int(form[-1])
    assert traced.returncode == bare.returncode
    assert json.loads(traced.stdout) == json.loads(bare.stdout)  # argv, path0, __main__, stdin, sys.modules
    assert traced.stderr == bare.stderr == ""
    assert document is not None
    assert document["complete"] and document["returncode"] == bare.returncode
    assert load_of(document, "json")["trigger"]["line"] == 2


def test_the_report_goes_to_stderr_after_the_program(project: Path, fake) -> None:  # type: ignore[no-untyped-def]
    completed = subprocess.run(
        [sys.executable, "-m", "aoinspect", "trace", "--", "-c", "import json; print('out')"], cwd=project,
        env={**os.environ, **fake.env}, capture_output=True, text=True, timeout=60,
    )
    assert completed.returncode == 0
    assert completed.stdout == "out\n"
    assert "lines that started imports" in completed.stderr
    assert "<string>:1  import json; print('out')" in completed.stderr


LAZY_FILES = {
    "lazypkg/__init__.py": """
        def __getattr__(name):
            if name in ("alpha", "beta"):
                import importlib
                return importlib.import_module("." + name, __name__)
            raise AttributeError(name)
    """,
    "lazypkg/alpha.py": "import lazypkg._alpha_dep\n",
    "lazypkg/_alpha_dep.py": "",
    "lazypkg/beta.py": "",
    "heavy.py": "import heavy_dep\n",
    "heavy_dep.py": "",
}

LAZY_PROGRAM = '''\
import lazypkg
value = lazypkg.alpha
if hasattr(lazypkg, "beta"):
    pass
import importlib.util, sys
spec = importlib.util.find_spec("heavy")
spec.loader = importlib.util.LazyLoader(spec.loader)
module = importlib.util.module_from_spec(spec)
sys.modules["heavy"] = module
spec.loader.exec_module(module)
import inspect
def where_am_i(): pass
inspect.getmodule(where_am_i.__code__)
import threading
def worker():
    import colorsys
thread = threading.Thread(target=worker, name="worker")
thread.start(); thread.join()
'''


def test_lazy_hasattr_getmodule_and_thread_loads_name_their_line(tmp_path: Path, fake) -> None:  # type: ignore[no-untyped-def]
    fake.write(LAZY_FILES)
    (tmp_path / "app.py").write_text(LAZY_PROGRAM)
    completed, document = run(["app.py"], cwd=tmp_path, env=fake.env)
    assert completed.returncode == 0, completed.stderr
    assert document is not None
    app = str(tmp_path / "app.py")

    alpha = load_of(document, "lazypkg.alpha")
    assert (alpha["trigger"]["file"], alpha["trigger"]["line"]) == (app, 2)
    assert alpha["trigger"]["source"] == "value = lazypkg.alpha"
    assert alpha["hop"]["function"] == "lazypkg.__getattr__" and alpha["hop"]["attribute"] == "alpha"
    assert alpha["via"] is None
    nested = load_of(document, "lazypkg._alpha_dep")
    assert nested["parent"] == "lazypkg.alpha" and nested["trigger"]["line"] == 1

    beta = load_of(document, "lazypkg.beta")
    assert (beta["trigger"]["file"], beta["trigger"]["line"]) == (app, 3)
    assert beta["hop"]["attribute"] == "beta"
    if sys.version_info >= (3, 11):
        assert beta["trigger"]["expression"] == 'hasattr(lazypkg, "beta")'
    assert beta["via"] == "hasattr"

    heavy = load_of(document, "heavy_dep")  # heavy's body ran when inspect.getmodule touched it
    assert (heavy["trigger"]["file"], heavy["trigger"]["line"]) == (app, 13)
    assert heavy["via"] == "inspect.getmodule"
    # Before 3.11 a code object has no qualified name: the hop names the method alone.
    qualified = "_LazyModule.__getattribute__" if sys.version_info >= (3, 11) else ".__getattribute__"
    assert heavy["hop"]["function"].endswith(qualified)

    colorsys = load_of(document, "colorsys")
    assert colorsys["thread"] == "worker"
    assert (colorsys["trigger"]["line"], colorsys["trigger"]["function"]) == (16, "worker")
    assert load_of(document, "json" if "json" in {load["module"] for load in document["loads"]} else "inspect")


def test_long_modules_and_repeated_calls_name_the_right_line(tmp_path: Path, fake) -> None:  # type: ignore[no-untyped-def]
    """Far into a long code object the tracer finds lines from a table, stepping forward and
    searching back (a loop, a second call): each load must still name its own line."""
    count, padding = 120, 100
    modules = {f"longmods/m{index}.py": "" for index in range(count)}
    fake.write({**modules, "longmods/__init__.py": "", "longmods/t100.py": "", "longmods/t110.py": ""})
    body = "".join(f"import longmods.m{index}  # line {index + 1}\n" for index in range(count - 20))
    function = ["def load(first, last):", "    import importlib"] + ["    first += 0"] * padding + [
        "    for index in range(first, last):",
        "        importlib.import_module('longmods.m%d' % index)",
        "    importlib.import_module('longmods.t%d' % first)",
        "",
        "load(100, 110)",
        "load(110, 120)",
    ]
    (tmp_path / "long_app.py").write_text(body + "\n".join(function) + "\n")
    loop_line = count - 20 + 2 + padding + 2
    completed, document = run(["long_app.py"], cwd=tmp_path, env=fake.env)
    assert completed.returncode == 0, completed.stderr
    assert document is not None
    for index in range(count - 20):
        assert load_of(document, f"longmods.m{index}")["trigger"]["line"] == index + 1
    for index in range(count - 20, count):
        trigger = load_of(document, f"longmods.m{index}")["trigger"]
        assert (trigger["line"], trigger["function"]) == (loop_line, "load")
    for tail in ("longmods.t100", "longmods.t110"):
        assert load_of(document, tail)["trigger"]["line"] == loop_line + 1


def test_views_why_and_focus(tmp_path: Path, fake) -> None:  # type: ignore[no-untyped-def]
    fake.write(LAZY_FILES)
    (tmp_path / "app.py").write_text(LAZY_PROGRAM)
    env = {**os.environ, **fake.env}
    why = subprocess.run([sys.executable, "-m", "aoinspect", "trace", "--why", "lazypkg._alpha_dep", "--", "app.py"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert "  app.py:2  value = lazypkg.alpha  ->  lazypkg.alpha  (via lazypkg.__getattr__('alpha'))" in why.stderr
    assert "lazypkg/alpha.py:1  import lazypkg._alpha_dep  ->  lazypkg._alpha_dep" in why.stderr
    focus = subprocess.run([sys.executable, "-m", "aoinspect", "trace", "--focus", "lazypkg", "--", "app.py"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert "lazypkg: 4 modules" in focus.stderr
    assert "app.py:3  if hasattr(lazypkg, \"beta\"):" in focus.stderr


@pytest.mark.parametrize(("ending", "code", "incomplete"), [
    ("import os; os.abort()", 128 + 6, "killed by SIGABRT"),
    ("import os; os._exit(3)", 3, "os._exit(3)"),
    ("import os, sys; os.execv(sys.executable, [sys.executable, '-c', 'pass'])", 0, "os.exec"),
])
def test_a_program_that_dies_mid_run_leaves_its_trace(tmp_path: Path, fake, ending: str, code: int,  # type: ignore[no-untyped-def]
                                                      incomplete: str) -> None:
    completed, document = run(["-c", f"import json\nimport colorsys\n{ending}\nimport decimal\n"], cwd=tmp_path,
                              env=fake.env)
    assert completed.returncode == code
    assert document is not None
    assert not document["complete"] and incomplete in document["incomplete"]
    modules = {load["module"] for load in document["loads"]}
    assert {"json", "colorsys"} <= modules
    assert "decimal" not in modules


def test_a_hang_past_the_timeout_is_killed_and_keeps_the_trace(tmp_path: Path, fake) -> None:  # type: ignore[no-untyped-def]
    fake.write({"hangs.py": "import time\ntime.sleep(60)\n"})
    # Killed at the timeout: 0.5 s is ample for colorsys to load first, even on a loaded machine.
    completed, document = run(["-c", "import colorsys\nimport hangs\n"], "--timeout", "0.5", cwd=tmp_path,
                              env=fake.env)
    assert completed.returncode == 124
    assert document is not None
    assert document["timed_out"] and not document["complete"]
    hangs = load_of(document, "hangs")
    assert hangs["finished"] is False and hangs["trigger"]["line"] == 2
    assert load_of(document, "colorsys")["finished"]


HANGS_WITH_CHILDREN = """
import os, subprocess, time
pids = [subprocess.Popen(["sleep", "77"]).pid, subprocess.Popen(["sleep", "78"], start_new_session=True).pid]
middle = os.fork()
if middle == 0:  # a daemon, double-forked into a session of its own
    daemon = os.fork()
    if daemon == 0:
        os.setsid()
        time.sleep(79)
        os._exit(0)
    with open(os.environ["PID_FILE"] + ".daemon", "w") as stream:
        stream.write(str(daemon))
    os._exit(0)
os.waitpid(middle, 0)
with open(os.environ["PID_FILE"] + ".daemon") as stream:
    pids.append(int(stream.read()))
with open(os.environ["PID_FILE"], "w") as stream:
    stream.write(" ".join(map(str, pids)))
time.sleep(60)
"""


def test_the_timeout_ends_what_the_program_started_too(tmp_path: Path, fake) -> None:  # type: ignore[no-untyped-def]
    """A child, a child in a session of its own and a double-forked daemon: none outlives the
    deadline (a program that ends on its own keeps them, as under plain python)."""
    from tests.helpers import pid_alive

    fake.write({"hangs_with_children.py": HANGS_WITH_CHILDREN})
    pid_file = tmp_path / "pids"
    completed, _document = run(["-c", "import hangs_with_children"], "--timeout", "0.5", cwd=tmp_path,
                               env={**fake.env, "PID_FILE": str(pid_file)})
    assert completed.returncode == 124
    pids = [int(pid) for pid in pid_file.read_text().split()]
    assert len(pids) == 3 and not [pid for pid in pids if pid_alive(pid)]


def test_an_exception_keeps_python_s_traceback_and_exit_code(tmp_path: Path, fake) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "boom.py").write_text("import colorsys\n\nraise ValueError('boom')\n")
    bare, _ = run(["boom.py"], cwd=tmp_path, env=fake.env, traced=False)
    traced, document = run(["boom.py"], cwd=tmp_path, env=fake.env)
    assert traced.returncode == bare.returncode == 1
    assert traced.stderr == bare.stderr  # no frame of aoinspect's in the traceback
    assert document is not None and document["ending"] == "raised ValueError: boom (exit status 1)"
    assert document["complete"]


def test_a_command_with_a_syntax_error_fails_as_under_python(tmp_path: Path) -> None:
    bare, _ = run(["-c", "x ="], cwd=tmp_path, env={}, traced=False)
    traced, document = run(["-c", "x ="], cwd=tmp_path, env={})
    assert traced.returncode == bare.returncode == 1
    assert traced.stderr == bare.stderr  # python's message alone, no frame of the tracer's
    assert document is not None and document["ending"].startswith("raised SyntaxError")


@pytest.mark.parametrize(("program_code", "expected"), [(0, 1), (3, 3)])
def test_a_broken_contract_fails_a_successful_program_only(tmp_path: Path, fake, program_code: int,  # type: ignore[no-untyped-def]
                                                           expected: int) -> None:
    completed, document = run(["-c", f"import colorsys, sys; sys.exit({program_code})"], "--forbid", "colorsys",
                              "--max-modules", "100", cwd=tmp_path, env=fake.env)
    assert completed.returncode == expected
    assert document is not None
    (finding,) = document["findings"]
    assert finding["rule"] == "forbidden-import" and "<string>:1" in finding["message"]


def test_a_broken_contract_is_annotated_at_the_line_that_loaded_it(tmp_path: Path, fake) -> None:  # type: ignore[no-untyped-def]
    """--format github and sarif: the finding points at the program's own line."""
    (tmp_path / "app.py").write_text("import sys\n\nimport colorsys\n")
    command = [sys.executable, "-m", "aoinspect", "trace", "--forbid", "colorsys", "--format"]
    github = subprocess.run([*command, "github", "--", "app.py"], cwd=tmp_path, env={**os.environ, **fake.env},
                            capture_output=True, text=True, timeout=60)
    assert github.returncode == 1
    assert github.stderr.startswith("::error file=app.py,line=3,title=aoinspect forbidden-import::")
    sarif = subprocess.run([*command, "sarif", "--", "app.py"], cwd=tmp_path, env={**os.environ, **fake.env},
                           capture_output=True, text=True, timeout=60)
    (result,) = json.loads(sarif.stderr)["runs"][0]["results"]
    assert result["ruleId"] == "forbidden-import"
    assert result["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "app.py", "uriBaseId": "%SRCROOT%"}, "region": {"startLine": 3}}


def test_subprocesses_are_counted_not_followed(tmp_path: Path, fake) -> None:  # type: ignore[no-untyped-def]
    program = "import subprocess, sys, os\nsubprocess.run([sys.executable, '-c', 'import decimal'])\n" \
              "os.system('true')\n"
    completed, document = run(["-c", program], cwd=tmp_path, env=fake.env)
    assert completed.returncode == 0
    assert document is not None and document["subprocesses"] == 2
    assert "decimal" not in {load["module"] for load in document["loads"]}


# The sample runs need no Hypothesis: its plugin, loaded through its entry point, costs each of
# them about a second (two on a loaded machine) and nothing here is about it.
NO_HYPOTHESIS = ("-p", "no:hypothesispytest")

PYTEST_TESTS = '''
import colorsys

def test_light():
    pass

def test_heavy():
    import tabnanny

def test_fixture_loads(heavy_fixture):
    pass
'''

PYTEST_CONFTEST = '''
import pytest

@pytest.fixture
def heavy_fixture():
    import fractions
'''


def test_pytest_attribution_under_aoinspect_trace(pytester) -> None:  # type: ignore[no-untyped-def]
    pytester.makepyfile(test_sample=PYTEST_TESTS)
    pytester.makeconftest(PYTEST_CONFTEST)
    completed, document = run(["-m", "pytest", "-p", "no:cacheprovider", *NO_HYPOTHESIS, "-q"], cwd=pytester.path,
                              env={})
    assert completed.returncode == 0, completed.stdout
    assert document is not None
    assert (load_of(document, "tabnanny")["test"], load_of(document, "tabnanny")["phase"]) == \
        ("test_sample.py::test_heavy", "call")
    assert (load_of(document, "fractions")["test"], load_of(document, "fractions")["phase"]) == \
        ("test_sample.py::test_fixture_loads", "setup")
    assert (load_of(document, "colorsys")["test"], load_of(document, "colorsys")["phase"]) == \
        ("test_sample.py", "collection")


def test_pytest_plugin_traces_in_process(pytester) -> None:  # type: ignore[no-untyped-def]
    pytester.makepyfile(test_sample=PYTEST_TESTS)
    pytester.makeconftest(PYTEST_CONFTEST)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", *NO_HYPOTHESIS, "--aoinspect-trace")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines([
        "*aoinspect: import time by test*",
        "* ms  test_sample.py::test_heavy (call * ms)",
    ])
    assert "test_sample.py::test_fixture_loads (setup" in result.stdout.str()


@pytest.mark.parametrize(("words", "kind", "target", "argv"), [
    (["app.py", "-x", "--y"], "script", "app.py", ("app.py", "-x", "--y")),
    (["-m", "pytest", "-q"], "module", "pytest", ("-m", "pytest", "-q")),
    (["-mpytest"], "module", "pytest", ("-m", "pytest")),
    (["-c", "print(1)", "a"], "command", "print(1)", ("-c", "print(1)", "a")),
    (["-X", "dev", "-u", "app.py"], "script", "app.py", ("app.py",)),
])
def test_program_forms(words: list[str], kind: str, target: str, argv: tuple[str, ...]) -> None:
    program = parse_program(words)
    assert (program.kind, program.target, program.argv) == (kind, target, argv)


@pytest.mark.parametrize("words", [[], ["-c"], ["-m"], ["-i", "app.py"], ["-"]])
def test_programs_python_would_not_run_are_usage_errors(words: list[str]) -> None:
    with pytest.raises(InvalidProgram):
        parse_program(words)


def test_the_tracer_sends_its_sections_by_their_constants() -> None:
    # That every section has a parser, and the reverse: tests/test_child.py.
    source = (Path(protocol.__file__).parent / "tracer.py").read_text()
    for section in ("SECTION_TRACE_START", "SECTION_TRACE_LOADS", "SECTION_TRACE_SPAWN", "SECTION_TRACE_END"):
        assert f"protocol.{section}" in source


def test_the_tracer_imports_nothing_at_module_level() -> None:
    """Child rules: a bare interpreter's sys.modules is unchanged by loading the tracer."""
    code = textwrap.dedent(f"""
        import sys
        before = set(sys.modules)
        path = {str(Path(protocol.__file__).parent / "tracer.py")!r}
        module = type(sys)("t"); module.__file__ = path
        exec(compile(open(path).read(), path, "exec"), module.__dict__)
        print(sorted(set(sys.modules) - before))
    """)
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert completed.stdout.strip() == "[]"


def test_each_view_reads_only_what_it_shows_and_shows_the_same(tmp_path: Path, fake, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """`aoinspect trace` reads the source files of the loads its view shows, and looks up
    distributions for the formats that show them only: every format and view prints what it
    would print with every line read and every distribution known."""
    from aoinspect import formats
    from aoinspect.commands.trace import SHOW_DISTRIBUTIONS
    from aoinspect.render import RenderOptions, render
    from aoinspect.render.trace import lines_shown
    from aoinspect.tracing import report as trace_report
    from aoinspect.tracing.run import TraceRun

    fake.write(LAZY_FILES)
    (tmp_path / "app.py").write_text(LAZY_PROGRAM)
    monkeypatch.chdir(tmp_path)
    for name, value in fake.env.items():
        monkeypatch.setenv(name, value)
    built: list[tuple[Any, ...]] = []
    real_build = trace_report.build_report

    def keep(*args: Any, **kwargs: Any) -> Any:
        built.append(args)
        return real_build(*args, **kwargs)

    monkeypatch.setattr(trace_report, "build_report", keep)
    full = TraceRun(sys.executable, parse_program(["app.py"])).report()
    assert any(load.load.stdlib for load in full.loads)
    program, sections, returncode, timeout, options, index, problem = built[0]
    views = [RenderOptions(), RenderOptions(top=1), RenderOptions(focus="lazypkg"),
             RenderOptions(why="lazypkg._alpha_dep"), RenderOptions(depth=1)]
    for fmt in formats.names_for("trace"):
        for view in views:
            lean = real_build(program, sections, returncode, timeout, options,
                              index if fmt in SHOW_DISTRIBUTIONS else None, problem, shown=lines_shown(fmt, view))
            assert render(lean, fmt, view) == render(full, fmt, view), (fmt, view)
    # The default text view read neither lazypkg's files (its loads ran below the program's
    # lines) nor a distribution.
    lean = real_build(program, sections, returncode, timeout, options, None, problem,
                      shown=lines_shown("text", RenderOptions()))
    nested = next(load for load in lean.loads if load.module == "lazypkg._alpha_dep")
    assert nested.trigger is not None and nested.trigger.source is None
    assert next(load for load in full.loads if load.module == "lazypkg._alpha_dep").trigger.source
    assert not any(load.load.distribution or load.load.stdlib for load in lean.loads)


def test_the_program_s_process_is_waited_for_as_popen_waits() -> None:
    """trace starts the program with os.posix_spawnp (subprocess is not imported first): its exit
    status, a wait that times out (None, the program still running) and a signal that killed it
    (negative) come back as from subprocess.Popen."""
    from aoinspect.tracing.run import _start

    exited = _start([sys.executable, "-c", "import sys; sys.exit(5)"])
    assert exited.wait() == 5 and exited.returncode == 5 and exited.wait(0.01) == 5
    sleeping = _start([sys.executable, "-c", "import time; time.sleep(60)"])
    assert sleeping.wait(0.05) is None and sleeping.returncode is None
    os.kill(sleeping.pid, 9)
    assert sleeping.wait(30) == -9
