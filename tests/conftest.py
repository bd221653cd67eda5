"""Fixtures: fake packages written under tmp_path and handed to children through PYTHONPATH."""

from __future__ import annotations

import compileall
import contextlib
import importlib.util
import os
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner, Result
from hypothesis import settings


def _compile_own_bytecode() -> None:
    """Write the bytecode of aoinspect (and of ``ao``) beside its source, as ``pip install`` does.

    Every probe a test starts is a fresh interpreter that loads ``aoinspect/child/``'s files, and
    every console-script run loads the CLI's. In an editable install with
    ``PYTHONDONTWRITEBYTECODE=1`` there is no bytecode to read, so each one compiled them from
    source again: 17 ms of a tiny package's 30 ms spawned probe, 40% of the suite's time. Reading
    bytecode changes nothing a probe measures (it happens before the probe watches anything, and an
    installed aoinspect always has it); the fake packages stay uncompiled, as the tests write them.
    Files already compiled are left alone; a read-only installation is left as it is.
    """
    for package in ("aoinspect", "ao"):
        spec = importlib.util.find_spec(package)  # imports nothing: the source may not be compiled yet
        for location in (spec.submodule_search_locations or []) if spec else []:
            compileall.compile_dir(location, quiet=2)


_compile_own_bytecode()  # before this process imports aoinspect, so that it reads the bytecode too

from aoinspect.cli import cli  # noqa: E402
from tests.helpers import FakePackages  # noqa: E402

if TYPE_CHECKING:
    from collections.abc import Iterator

pytest_plugins = ["pytester"]
# How long processes of a finished test may take to go away before they count as left behind.
LEFTOVER_GRACE = 5.0

# The property tests are properties, not benchmarks: hypothesis's 100 examples each in an ordinary
# run; `pytest --hypothesis-profile thorough` draws ten times as many.
settings.register_profile("thorough", max_examples=1000)


@pytest.fixture(autouse=True)
def _no_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test measures afresh and leaves no .aoinspect_cache behind; the cache's own tests
    turn it on."""
    monkeypatch.setenv("AOINSPECT_NO_CACHE", "1")


@pytest.fixture
def no_leftovers(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Fail the test if it leaves a descendant process or a temporary file behind.

    The test gets a temporary directory of its own (``TMPDIR`` for the children, ``tempfile``'s
    for in-process runs), which must be empty afterwards; and this process becomes a child
    subreaper (Linux), so that whatever escapes a child's process group and is orphaned comes back
    to it and is seen. Whatever is left is reported, then killed, so the next test starts clean.
    """
    from aoinspect.probing import reaper

    private = tmp_path_factory.mktemp("tmpdir")  # before TMPDIR changes: pytest's own base stays put
    monkeypatch.setenv("TMPDIR", str(private))
    monkeypatch.setattr(tempfile, "tempdir", str(private))
    reaping = reaper.acquire()
    before = set(reaper.descendants(os.getpid()))
    try:
        yield private
        left = _wait_for_descendants(before, LEFTOVER_GRACE)
    finally:
        _end_descendants(before)
        reaper.release()
    described = {pid: _command_line(pid) for pid in left}
    assert not described, f"processes left behind: {described}"
    assert not list(private.iterdir()), f"temporary files left behind: {sorted(os.listdir(private))}"
    assert reaping or not os.path.exists("/proc/self/stat"), "could not become a subreaper"


def _live_descendants(before: set[int]) -> list[int]:
    from aoinspect.probing import reaper

    if not reaper.has_children():  # no child, no descendant: the whole table need not be read
        return []
    table = reaper.process_table()
    found = []
    for pid in reaper.descendants(os.getpid(), table):
        if pid in before:
            continue
        if table[pid][2] == "Z":  # ended: collect it if it is ours to collect
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
            continue
        found.append(pid)
    return found


def _wait_for_descendants(before: set[int], grace: float) -> list[int]:
    deadline = time.monotonic() + grace
    while True:
        left = _live_descendants(before)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.05)


def _end_descendants(before: set[int]) -> None:
    left = _live_descendants(before)
    for pid in left:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    if left:
        _wait_for_descendants(before, LEFTOVER_GRACE)  # reaps the killed


def _command_line(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as stream:
            return stream.read().replace(b"\0", b" ").decode("utf-8", "replace")[:200]
    except OSError:
        return "?"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--probe-python", metavar="PATH", default=None,
        help="Run the children of tests marked probe with this interpreter (as aoinspect --python "
             "does); the other tests keep the one running pytest. .ci/matrix passes each of 3.9+.",
    )
    parser.addoption(
        "--update-golden", action="store_true", default=False,
        help="Rewrite the expected files of tests/test_golden.py from this run (also AOINSPECT_UPDATE_GOLDEN=1).",
    )
    parser.addoption(
        "--require-real", action="store_true", default=False,
        help="A test marked real that skips (its package is not installed) fails instead: .ci/matrix's "
             "real leg, which installs them, must run every one.",
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_collection(session: pytest.Session) -> Iterator[None]:
    """Keep the assertion-rewritten bytecode of the test modules (``tests/__pycache__``) even
    under ``PYTHONDONTWRITEBYTECODE=1``: each worker rewrote and compiled every test module again
    at each run, 1.5 s of its collection. Only while collecting, so that nothing a test imports
    or runs writes bytecode it would not write anyway."""
    writes = sys.dont_write_bytecode
    sys.dont_write_bytecode = False
    try:
        yield
    finally:
        sys.dont_write_bytecode = writes


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Under ``PYTHONDONTWRITEBYTECODE=1``, keep the assertion-rewritten bytecode of every module
    pytest rewrote outside collection too, for the next run to read: the plugins' (hypothesis,
    xdist, aoinspect's own: pytest rewrites every module of a plugin's distribution) are imported
    before this file is, and the commands' modules when a test first runs one. Each process
    rewrote them from source at every run: 0.5 s of CPU, most of it hypothesis's 75 modules, in
    the main process and in every worker, before its first test. A module whose kept bytecode is
    older than its source is rewritten again; pytest reads only bytecode that matches the source's
    hash. Internals of pytest's: another version that lacks them is simply not helped."""
    if not sys.dont_write_bytecode:
        return  # pytest kept them itself
    try:
        from _pytest.assertion import rewrite

        state = session.config.stash[rewrite.assertstate_key]
        sources = list(state.hook._rewritten_names.values())
        for source in sources:
            cache_dir = rewrite.get_cache_dir(source)
            kept = cache_dir / (source.name[:-3] + rewrite.PYC_TAIL)
            with contextlib.suppress(OSError):
                if kept.stat().st_mtime >= source.stat().st_mtime:
                    continue
            if rewrite.try_makedirs(cache_dir):
                source_hash, code = rewrite._rewrite_test(source, session.config)
                rewrite._write_pyc(state, code, source_hash, kept)
    except (ImportError, AttributeError, KeyError, TypeError, OSError, SyntaxError):
        return


def pytest_configure(config: pytest.Config) -> None:
    """Under --probe-python, that interpreter's bytecode of aoinspect's child code and of ``ao``
    too (each Python version keeps its own), for the same reason as ``_compile_own_bytecode``."""
    other = config.getoption("--probe-python")
    if other and not hasattr(config, "workerinput"):  # once, in the process that starts any workers
        import subprocess

        for package in ("aoinspect.child", "ao"):
            spec = importlib.util.find_spec(package)
            for location in (spec.submodule_search_locations or []) if spec else []:
                subprocess.run([str(other), "-m", "compileall", "-q", location], capture_output=True, check=False)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()  # type: ignore[attr-defined]
    if report.skipped and item.get_closest_marker("real") and item.config.getoption("--require-real"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"marked real, but skipped (--require-real): {reason}"


@pytest.fixture(scope="session")
def probe_python(request: pytest.FixtureRequest) -> str:
    """The interpreter that probe-level tests start their children with."""
    chosen = request.config.getoption("--probe-python")
    return str(chosen) if chosen else sys.executable


@pytest.fixture
def fake(tmp_path: Path, request: pytest.FixtureRequest) -> FakePackages:
    root = tmp_path / "site"
    root.mkdir()
    marked = request.node.get_closest_marker("probe") is not None
    python = request.getfixturevalue("probe_python") if marked else sys.executable
    if python != sys.executable:
        # The default package, ao, is installed with aoinspect; the other interpreter has neither.
        import ao

        (root / "ao").symlink_to(Path(ao.__file__).parent, target_is_directory=True)
    return FakePackages(root, python)


@pytest.fixture
def invoke(fake: FakePackages):  # type: ignore[no-untyped-def]
    """Run the CLI in-process; children see the fake packages through PYTHONPATH."""

    def run(*args: str) -> Result:
        runner = CliRunner()
        return runner.invoke(cli, list(args), env=fake.env, catch_exceptions=False)

    return run
