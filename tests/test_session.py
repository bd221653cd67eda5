"""Sessions own their children: a failure or an interrupt ends that session's probes only, and
the next session in the same process starts clean (the pytest plugin and any library caller
run many)."""

from __future__ import annotations

import os
import sys

import pytest

from aoinspect.child import protocol
from aoinspect.engine import check_package, resolve_names
from aoinspect.probing import runner
from aoinspect.probing.hooks import SessionHooks
from aoinspect.probing.lifecycle import start_early
from aoinspect.probing.session import open_session
from aoinspect.probing.wire import ProbeRequest, ProbeSettings
from tests.packages import lazy_package


@pytest.fixture
def pkg(fake, monkeypatch):  # type: ignore[no-untyped-def]
    fake.write(lazy_package("pkg", beta="import os\nos._exit(3)\n"))
    monkeypatch.setenv("PYTHONPATH", fake.env["PYTHONPATH"])
    return fake


@pytest.mark.parametrize("isolation", ["fork", "spawn"])
def test_a_probe_failure_then_a_clean_resolve_in_one_process(pkg, isolation) -> None:  # type: ignore[no-untyped-def]
    settings = ProbeSettings(sys.executable, timeout=30, jobs=2, isolation=isolation)
    report = check_package(settings, "pkg")
    assert any(finding.rule == "probe-failed" and finding.name == "beta" for finding in report.findings)
    (alpha,) = resolve_names(settings, "pkg", ["alpha"], distributions=False).results
    assert alpha.ok and not alpha.probe_failed
    assert "pkg.alpha" in alpha.modules


def test_a_failed_worker_stops_its_own_session_only(pkg, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A worker that raises (as Ctrl-C does) ends that session's children; the next resolve in the
    same process is not killed on sight, as it was when the stop was a module-level flag."""
    settings = ProbeSettings(sys.executable, timeout=30, jobs=2, isolation="spawn")
    real = runner.run_probe

    def failing(settings, request, children, hooks):  # type: ignore[no-untyped-def]
        if request.names == ("alpha",):
            raise RuntimeError("a worker broke")
        return real(settings, request, children, hooks)

    monkeypatch.setattr(runner, "run_probe", failing)
    with pytest.raises(RuntimeError, match="a worker broke"):
        resolve_names(settings, "pkg", ["alpha", "__name__"], distributions=False)
    monkeypatch.setattr(runner, "run_probe", real)
    (alpha,) = resolve_names(settings, "pkg", ["alpha"], distributions=False).results
    assert alpha.ok, alpha.error


def test_closing_a_session_kills_what_it_started_and_nothing_else(pkg) -> None:  # type: ignore[no-untyped-def]
    settings = ProbeSettings(sys.executable, timeout=30, isolation="fork")
    with open_session(settings, "pkg") as first, open_session(settings, "pkg") as second:
        first.run([])  # starts its fork server
        second.run([])
        first.children.stop()
        assert first.children is not second.children
        (run,) = second.run([ProbeRequest("resolve", "pkg", ("alpha",))])
        assert run.completed


class Recorder(SessionHooks):
    """Hooks that remember what the sessions told them (from worker threads: lists append atomically)."""

    def __init__(self) -> None:
        self.planned_counts: list[int] = []
        self.finished_counts: list[int] = []
        self.claims: list[tuple[str, ...]] = []

    def planned(self, count: int) -> None:
        self.planned_counts.append(count)

    def finished(self, count: int, label: str) -> None:
        self.finished_counts.append(count)

    def claim(self, python, fields):  # type: ignore[no-untyped-def]
        self.claims.append(tuple(fields))
        return None


@pytest.mark.parametrize("isolation", ["fork", "spawn"])
def test_the_engine_tells_its_hooks_of_every_probe(pkg, isolation) -> None:  # type: ignore[no-untyped-def]
    """Progress reaches the sessions through the hooks handed to the engine, not through settings."""
    hooks = Recorder()
    settings = ProbeSettings(sys.executable, timeout=30, jobs=2, isolation=isolation)
    resolve_names(settings, "pkg", ["alpha", "__name__"], distributions=False, hooks=hooks)
    assert sum(hooks.planned_counts) == sum(hooks.finished_counts) == 2
    if isolation == "spawn":  # every spawned probe first asks whether one was started early
        assert sorted(fields[-1] for fields in hooks.claims) == ["__name__", "alpha"]


def test_a_probe_started_early_is_claimed_by_the_session(pkg) -> None:  # type: ignore[no-untyped-def]
    early = start_early(sys.executable, "pkg", "resolve", ["alpha"], no_cache=True)
    assert early is not None
    settings = ProbeSettings(sys.executable, timeout=30, isolation="spawn")
    try:
        (alpha,) = resolve_names(settings, "pkg", ["alpha"], distributions=False, hooks=early).results
        assert alpha.ok and "pkg.alpha" in alpha.modules
        fields = protocol.encode_request("resolve", "pkg", 0, ("alpha",))
        assert early.claim(sys.executable, fields) is None  # claimed once, by that probe
    finally:
        early.close()
    assert start_early(sys.executable, "pkg", "resolve", ["not valid"], no_cache=True) is None


class CacheOnly(SessionHooks):
    def may_measure(self) -> bool:
        return False


@pytest.mark.parametrize("isolation", ["fork", "spawn"])
def test_a_session_that_may_only_read_the_cache_starts_no_probe(pkg, isolation, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The pass that makes a warm run's report after a cold one (``commands.path._Replay``) may
    start no child: a probe it would need stops it instead."""
    from aoinspect.probing.hooks import MeasuringRefused

    started: list[object] = []
    for name in ("start_child", "spawn_child"):  # every child aoinspect starts goes through one of them
        real = getattr(runner, name)
        monkeypatch.setattr(runner, name,
                            lambda *args, real=real, **kwargs: started.append(args) or real(*args, **kwargs))
    settings = ProbeSettings(sys.executable, timeout=30, isolation=isolation)
    with pytest.raises(MeasuringRefused), open_session(settings, "pkg", hooks=CacheOnly()) as session:
        session.run([ProbeRequest("resolve", "pkg", ("alpha",))])
    assert started == []


# Run in a fresh interpreter: the test process may have children of other tests to collect.
CHILDREN_SEEN = """
import os, subprocess, sys
from aoinspect.probing import reaper, runner

seen = [reaper.has_children()]
child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
seen.append(reaper.has_children())  # running
child.stdin.close()
os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)
seen.append(reaper.has_children())  # ended, not collected yet
child.wait()
seen.append(reaper.has_children())
assert reaper.acquire()
since = reaper.boot_ticks()
escaping = "import os, time\\nif os.fork() == 0:\\n    os.setsid()\\n    time.sleep(60)\\nos._exit(0)"
parent = runner.start_child([sys.executable, "-c", escaping])
parent.wait()
reaper.unregister(parent.pid)
seen.append(reaper.has_children())  # its escaped child, handed to this subreaper
ended = reaper.end_strays(since)
seen.append(reaper.has_children())
print(seen, len(ended))
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="strays are handed back to a subreaper on Linux only")
def test_a_sweep_that_finds_no_child_reads_no_process_table(no_leftovers) -> None:  # type: ignore[no-untyped-def]
    """``reaper.has_children`` (one waitid) lets sweeps skip the process table: it must see a
    running child, an ended one not yet collected, and an orphan a probe left behind, which the
    sweep then ends; and nothing once all are gone."""
    import subprocess

    completed = subprocess.run([sys.executable, "-c", CHILDREN_SEEN], capture_output=True, text=True, timeout=60,
                               check=False)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split() == ["[False,", "True,", "True,", "False,", "True,", "False]", "1"]


@pytest.fixture
def guessed(fake, monkeypatch, tmp_path):  # type: ignore[no-untyped-def]
    """``pkg`` whose alpha, once its import begins, says so through a FIFO (the test reads it:
    the guessed probe runs), then runs ``tail``; and that FIFO's reader."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)

    def write(tail: str = "") -> ProbeRequest:
        fake.write(lazy_package("pkg", alpha=f"with open({str(fifo)!r}, 'w') as fifo:\n    fifo.write('alpha')\n"
                                             + tail))
        monkeypatch.setenv("PYTHONPATH", fake.env["PYTHONPATH"])
        return ProbeRequest("resolve", "pkg", ("alpha",))

    def started() -> None:
        with open(fifo) as reader:
            assert reader.read() == "alpha"

    return write, started


def test_a_guessed_probe_is_the_run_of_the_request_that_asks_for_it(guessed, no_leftovers) -> None:  # type: ignore[no-untyped-def]
    write, started = guessed
    guess = write()
    asked = ProbeRequest("resolve", "pkg", ("alpha",), min_deadline=45.0)
    with open_session(ProbeSettings(sys.executable, timeout=30, jobs=2, isolation="fork"), "pkg") as session:
        session.prefetch([guess])
        started()
        (run,) = session.run([asked])  # a second probe would wait for a reader of the FIFO: it timed out
    assert run.completed and run.request is asked and run.timeout == 45.0
    assert "pkg.alpha" in [load.module for load in run.sections[-2].steps[0].materialized]


def test_a_guessed_probe_has_the_deadline_of_its_request_from_when_it_is_taken(guessed, no_leftovers) -> None:  # type: ignore[no-untyped-def]
    write, started = guessed
    guess = write("import time\ntime.sleep(60)\n")
    with open_session(ProbeSettings(sys.executable, timeout=1.0, jobs=2, isolation="fork"), "pkg") as session:
        session.prefetch([guess])
        started()
        (run,) = session.run([guess])
    assert run.timed_out and run.timeout == 1.0


def test_a_guess_that_ran_past_its_deadline_before_it_was_taken_gets_the_whole_deadline(
        fake, monkeypatch, tmp_path, no_leftovers) -> None:  # type: ignore[no-untyped-def]
    # What a guess did before a stage took it (waiting for its names, for the predicting child) is
    # the parent's delay: counted from the guess's start, it timed out the moment it was taken.
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    fake.write(lazy_package("pkg", alpha=f"import time\ntime.sleep(1.5)\nwith open({str(fifo)!r}, 'w') as fifo:\n"
                                         "    fifo.write('alpha')\ntime.sleep(0.3)\n"))
    monkeypatch.setenv("PYTHONPATH", fake.env["PYTHONPATH"])
    guess = ProbeRequest("resolve", "pkg", ("alpha",))
    with open_session(ProbeSettings(sys.executable, timeout=1.0, jobs=2, isolation="fork"), "pkg") as session:
        session.prefetch([guess])
        with open(fifo) as reader:  # 1.5 s after the guess started: past its 1 s deadline
            assert reader.read() == "alpha"
        (run,) = session.run([guess])
    assert run.completed and not run.timed_out


def test_the_guesses_a_guess_leads_to_are_queued_before_its_stage_hears_of_it(fake, monkeypatch, tmp_path,
                                                                              no_leftovers) -> None:  # type: ignore[no-untyped-def]
    # The stage after the star import asks for the unpickle probe the star import's run leads to
    # (``then``): were the star import's run known first, that stage ran the probe itself, and
    # the guess queued a moment later measured it a second time.
    import time

    imports, fifo = tmp_path / "imports", tmp_path / "fifo"
    os.mkfifo(fifo)
    fake.write(lazy_package("pkg", alpha=f"with open({str(fifo)!r}, 'w') as fifo:\n    fifo.write('alpha')\n",
                            beta=f"with open({str(imports)!r}, 'a') as log:\n    log.write('beta\\n')\n"))
    monkeypatch.setenv("PYTHONPATH", fake.env["PYTHONPATH"])
    first, second = ProbeRequest("resolve", "pkg", ("alpha",)), ProbeRequest("resolve", "pkg", ("beta",))

    def then(run: object) -> list[ProbeRequest]:
        time.sleep(0.3)  # what reading the run takes; the stage must not go on meanwhile
        return [second]

    with open_session(ProbeSettings(sys.executable, timeout=30, jobs=2, isolation="fork"), "pkg") as session:
        session.prefetch([first], then)
        with open(fifo) as reader:  # the guess runs: the stage takes it
            assert reader.read() == "alpha"
        (alpha,) = session.run([first])
        (beta,) = session.run([second])
        for lane in session._prefetch_threads:  # every guess made of the first run has run
            if lane is not None:
                lane.join()
    assert alpha.completed and beta.completed
    assert imports.read_text().split() == ["beta"]  # one probe measured beta


def test_a_guess_nobody_asks_for_is_ended_with_the_session(guessed, no_leftovers) -> None:  # type: ignore[no-untyped-def]
    write, started = guessed
    guess = write("import time\ntime.sleep(60)\n")
    with open_session(ProbeSettings(sys.executable, timeout=60, jobs=2, isolation="fork"), "pkg") as session:
        session.prefetch([guess])
        started()
        (run,) = session.run([ProbeRequest("resolve", "pkg", ("beta",))])
    assert run.completed  # and the guess, which would sleep for a minute, is gone (no_leftovers)


def test_a_star_import_started_before_its_names_pickles_those_asked_for(guessed, no_leftovers) -> None:  # type: ignore[no-untyped-def]
    """The star import's probe started on a guess reads the names to pickle once a request
    asks for them (``protocol.NAMES_LATER``): its run is that request's."""
    from aoinspect.probing import wire

    write, started = guessed
    write()
    asked = ProbeRequest("star", "pkg", ("beta", "alpha"))
    with open_session(ProbeSettings(sys.executable, timeout=30, jobs=2, isolation="fork"), "pkg") as session:
        session.prefetch([ProbeRequest("star", "pkg", (protocol.NAMES_LATER,))])
        started()  # the star import reached alpha: the probe runs, waiting for its names
        (run,) = session.run([asked])
    assert run.completed and run.request is asked
    assert [section.name for section in run.sections if isinstance(section, wire.PickleSection)] == ["beta", "alpha"]


def test_a_star_import_guessed_after_another_guess_starts_beside_it(pkg, monkeypatch, no_leftovers) -> None:  # type: ignore[no-untyped-def]
    """The star import's guess (and the unpickle probe it leads to) has a lane of its own: it
    does not wait behind another guess that is still running (the completion probe's)."""
    import threading

    from aoinspect.probing.session import ForkSession, _not_run

    release, star_started = threading.Event(), threading.Event()

    def run_one(self: ForkSession, request: ProbeRequest, *args: object, **kwargs: object) -> object:
        if request.mode == "star":
            star_started.set()
        else:
            release.wait(30)
        return _not_run(request)

    monkeypatch.setattr(ForkSession, "_run_one", run_one)
    with open_session(ProbeSettings(sys.executable, timeout=30, jobs=2, isolation="fork"), "pkg") as session:
        session.prefetch([ProbeRequest("complete", "pkg")])
        session.prefetch([ProbeRequest("star", "pkg", (protocol.NAMES_LATER,))])
        try:
            assert star_started.wait(30)
        finally:
            release.set()


def test_hinted_names_are_batched_by_their_hints_the_costliest_first() -> None:
    """Where the caller knows how names batch (a prediction), the fork server is not asked to
    plan them: a unit a hinted group, the costliest unit first; other requests alone, first."""
    from aoinspect.probing.session import BatchHint, _batch_units

    names = ["a", "b", "c", "d", "e", "f"]
    requests = [ProbeRequest("complete", "pkg"), *(ProbeRequest("resolve", "pkg", (name,)) for name in names)]
    hints = {"a": BatchHint("cheap", 1), "b": BatchHint("dear", 9), "c": BatchHint("cheap", 1),
             "d": BatchHint("alone", 5), "e": BatchHint("dear", 9), "f": BatchHint("none", 0)}

    def no_plan(names: object) -> dict[str, str | None]:
        raise AssertionError("hinted names need no plan probe")

    assert _batch_units(requests, 2, no_plan, hints) == [[0], [2, 5], [4], [1, 3], [6]]
    # Few names: each alone, side by side, the costliest first.
    assert _batch_units(requests[:4], 2, no_plan, hints) == [[0], [2], [1], [3]]
