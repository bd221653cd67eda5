"""The pytest plugin, exercised with pytest's own pytester on a sample project."""

from __future__ import annotations

import textwrap

# The sample runs need no Hypothesis: its plugin, loaded through its entry point, costs each of
# them about a second (two on a loaded machine) and nothing here is about it.
NO_HYPOTHESIS = ("-p", "no:hypothesispytest")

SAMPLE_PACKAGE = {
    "mypkg/__init__.py": """
        __all__ = ["io", "stats"]

        def __getattr__(name):
            if name in __all__:
                import importlib
                return importlib.import_module("." + name, __name__)
            raise AttributeError(name)
    """,
    "mypkg/io.py": "import mypkg._formats\n",
    "mypkg/_formats.py": "import json\n",
    "mypkg/stats.py": "import decimal\n",
    "crashpkg/__init__.py": """
        __all__ = ["boom"]

        def __getattr__(name):
            if name == "boom":
                import os
                os._exit(3)
            raise AttributeError(name)
    """,
}

SAMPLE_TESTS = '''
def test_io_is_light(aoinspect):
    result = aoinspect.resolve("mypkg", "io")
    assert result.ok and result.via_getattr
    assert "decimal" not in result.modules
    assert "mypkg._formats" in result.modules

def test_stats_is_light(aoinspect):
    result = aoinspect.resolve("mypkg", "stats")
    assert "decimal" not in result.modules

def test_stats_has_no_stdlib(aoinspect):
    assert "(stdlib)" not in aoinspect.resolve("mypkg", "stats").distributions

def test_list_and_check(aoinspect):
    assert [name.name for name in aoinspect.list("mypkg").names] == ["io", "stats"]
    report = aoinspect.check("mypkg", forbid=("decimal",), ignore=("star-import", "missing-dir"))
    assert report.ok, report.findings
    assert not aoinspect.check("mypkg", forbid_on=(("stats", "decimal"),)).ok

def test_a_probe_failure_fails_its_test(aoinspect):
    report = aoinspect.check("crashpkg")
    assert report.ok, [finding.rule for finding in report.findings]

def test_the_next_use_after_a_probe_failure_works(aoinspect):
    assert aoinspect.resolve("mypkg", "io").ok
'''


def write_sample(pytester) -> None:  # type: ignore[no-untyped-def]
    for relative, source in SAMPLE_PACKAGE.items():
        path = pytester.path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))
    pytester.makepyfile(test_sample=SAMPLE_TESTS)


def test_fixture_passes_and_fails_as_expected(pytester) -> None:
    write_sample(pytester)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", *NO_HYPOTHESIS)
    result.assert_outcomes(passed=3, failed=3)
    output = result.stdout.str()
    assert "probe-failed" in output
    assert "module 'decimal' was loaded: 1 module(s), by these chains of importers:" in output
    assert "mypkg.stats -> decimal" in output
    assert "distribution '(stdlib)' was loaded" in output


def test_plugin_is_inert_unless_used(pytester) -> None:
    pytester.makepyfile(test_plain="def test_nothing():\n    assert True\n")
    result = pytester.runpytest_subprocess("--trace-config", "-p", "no:cacheprovider", *NO_HYPOTHESIS)
    result.assert_outcomes(passed=1)
    assert "aoinspect" in result.stdout.str()  # registered through the pytest11 entry point, and inert


def test_plain_run_imports_no_trace_machinery(pytester) -> None:
    # Without --aoinspect-trace (and outside `aoinspect trace`) the plugin leaves the tracer and
    # its report code unimported: every pytest run in an environment with aoinspect pays for it.
    pytester.makepyfile(test_plain="def test_nothing():\n    pass\n")
    pytester.makeconftest("""
        import sys

        def pytest_unconfigure(config):
            loaded = sorted(name for name in sys.modules if name.startswith(("aoinspect.tracing", "aoinspect.child")))
            print("AOINSPECT-LOADED", loaded)
    """)
    result = pytester.runpytest_subprocess("-s", "-p", "no:cacheprovider", *NO_HYPOTHESIS)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["AOINSPECT-LOADED []"])
