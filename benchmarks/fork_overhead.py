"""What a fork probe costs beyond the package's own work: the CPU (user + sys) of the forked probe
against the bare equivalent forked from a plain interpreter that imported the package, side by
side (interleaved rounds, medians).

    env -u PYTHONDONTWRITEBYTECODE /tmp/realvenv/bin/python benchmarks/fork_overhead.py mne fit_dipole

Two long-lived workers import PACKAGE: one as the fork server does (``measure.py`` loaded as the
runner loads it, the import recorder, the warning log and the audit hook installed, the package
imported by ``import_package``), one plainly. For each probe kind both fork a child and report
its CPU from ``wait4``:

- ``null``: a resolve request with no names (the probe's fixed cost) against an empty fork;
- ``star``: MODE_STAR against ``from PACKAGE import *``;
- ``complete``: MODE_COMPLETE against an ``rlcompleter`` loop over ``PACKAGE.``;
- ``unpickle``: MODE_UNPICKLE of every public class and function against ``pickle.loads`` of
  each, then ``getattr(PACKAGE, NAME)``;
- ``resolve``: MODE_RESOLVE of NAME against ``getattr(PACKAGE, NAME)``.

The probe side runs ``run_request`` as a monitor's child does (its own process group, the paused
timers resumed), writing its result file, whose size is shown.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KINDS = ("null", "star", "complete", "unpickle", "resolve")


def _child_cpu(pid: int) -> float:
    _pid, _status, usage = os.wait4(pid, 0)
    return usage.ru_utime + usage.ru_stime


def _probe_worker(package: str) -> None:
    path = os.path.join(ROOT, "aoinspect", "child", "measure.py")
    code = sys.modules["_frozen_importlib_external"].SourceFileLoader("-", path).get_code("-")
    child: dict[str, Any] = {"__name__": "measure", "__file__": path}
    exec(code, child)
    protocol = child["protocol"]
    sys.argv[:] = ["-c"]
    scratch = tempfile.mkdtemp(prefix="fork-overhead-")
    reporter = child["Reporter"](os.path.join(scratch, "import"))
    recorder = child["ImportRecorder"]()
    recorder.install()
    warning_log = child["WarningLog"]()
    warning_log.watch(recorder)
    sys.addaudithook(child["_note_open"])
    imported, module = child["import_package"](package, recorder, reporter, warning_log)
    if not imported:
        raise SystemExit("the probe worker could not import " + package)
    timers = child["_pause_timers"]()
    sigchld = child["_own_sigchld"]()
    modes = {"null": protocol.MODE_RESOLVE, "star": protocol.MODE_STAR, "complete": protocol.MODE_COMPLETE,
             "unpickle": protocol.MODE_UNPICKLE, "resolve": protocol.MODE_RESOLVE}
    for count, line in enumerate(sys.stdin):
        kind, argument = line.rstrip("\n").split("\t", 1)
        names: tuple[str, ...] = ()
        if kind == "unpickle":
            with open(argument) as stream:
                names = tuple(json.load(stream))
        elif kind == "resolve":
            names = (argument,)
        fields = protocol.encode_request(modes[kind], package, 0, names)
        result = os.path.join(scratch, f"probe-{count}")
        pid = os.fork()
        if pid == 0:
            try:
                os.setpgid(0, 0)
                child["_restore_sigchld"](sigchld)
                child["_resume_timers"](timers)
                child["_keep_package_timers"](timers)
                child["run_request"](module, fields, recorder, child["Reporter"](result))
            finally:
                child["_flush_and_exit"]()
        cpu = _child_cpu(pid)
        size = os.path.getsize(result)
        os.unlink(result)
        print(f"{cpu} {size}", flush=True)
    shutil.rmtree(scratch, ignore_errors=True)


def _lookup(module: Any, name: str) -> Any:
    value = module
    for part in name.split("."):
        value = getattr(value, part)
    return value


def _bare(package: str, module: Any, kind: str, argument: str) -> None:
    if kind == "star":
        exec(f"from {package} import *", {})
    elif kind == "complete":
        sys.modules["readline"] = None  # type: ignore[assignment]  # as the probe keeps readline out
        import rlcompleter

        del sys.modules["readline"]
        completer = rlcompleter.Completer({"PACKAGE": module})
        index = 0
        while completer.complete("PACKAGE.", index) is not None:
            index += 1
    elif kind == "unpickle":
        import pickle

        with open(argument) as stream:
            fields = json.load(stream)
        loaded = []
        for field in fields:
            name, _separator, data = field.partition(":")
            with contextlib.suppress(BaseException):  # as the probe reports it and goes on
                loaded.append((name, pickle.loads(bytes.fromhex(data))))
        for name, _value in loaded:
            with contextlib.suppress(BaseException):
                _lookup(module, name)
    elif kind == "resolve":
        _lookup(module, argument)
    elif kind == "pickles":  # the unpickle probe's input, made once
        import pickle

        names = getattr(module, "__all__", None) or [name for name in dir(module) if not name.startswith("_")]
        pickles = []
        for name in names:
            try:
                value = getattr(module, name)
                if isinstance(value, type) or type(value).__name__ in ("function", "builtin_function_or_method"):
                    pickles.append(name + ":" + pickle.dumps(value).hex())
            except BaseException:  # noqa: BLE001 - a name that does not pickle is not sent
                pass
        with open(argument, "w") as stream:
            json.dump(pickles, stream)


def _bare_worker(package: str) -> None:
    import importlib

    module = importlib.import_module(package)
    for line in sys.stdin:
        kind, argument = line.rstrip("\n").split("\t", 1)
        pid = os.fork()
        if pid == 0:
            try:
                _bare(package, module, kind, argument)
            except BaseException as exc:  # noqa: BLE001
                sys.stderr.write(f"bare {kind}: {exc!r}\n")
            finally:
                os._exit(0)
        print(f"{_child_cpu(pid)} 0", flush=True)


def main(argv: list[str]) -> None:
    if len(argv) < 2:
        raise SystemExit("usage: fork_overhead.py PACKAGE NAME [ROUNDS] [KIND,KIND...]")
    package, name = argv[0], argv[1]
    rounds = int(argv[2]) if len(argv) > 2 else 3
    kinds = argv[3].split(",") if len(argv) > 3 else list(KINDS)
    environment = dict(os.environ)
    environment.pop("PYTHONDONTWRITEBYTECODE", None)
    workers = {role: subprocess.Popen([sys.executable, __file__, "--" + role, package], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, text=True, env=environment)
               for role in ("probe", "bare")}

    def ask(role: str, kind: str, argument: str = "") -> tuple[float, int]:
        worker = workers[role]
        assert worker.stdin is not None and worker.stdout is not None
        worker.stdin.write(kind + "\t" + argument + "\n")
        worker.stdin.flush()
        cpu, size = worker.stdout.readline().split()
        return float(cpu), int(size)

    handle, pickles = tempfile.mkstemp(prefix="fork-overhead-", suffix=".json")
    os.close(handle)
    ask("bare", "pickles", pickles)
    measured: dict[tuple[str, str], list[float]] = {(role, kind): [] for role in workers for kind in kinds}
    sizes: dict[str, int] = {}
    for index in range(rounds):
        for kind in kinds:
            argument = pickles if kind == "unpickle" else name if kind == "resolve" else ""
            for role in ("probe", "bare") if index % 2 == 0 else ("bare", "probe"):
                cpu, size = ask(role, kind, argument)
                measured[role, kind].append(cpu)
                if role == "probe":
                    sizes[kind] = size
    for worker in workers.values():
        assert worker.stdin is not None
        worker.stdin.close()
        worker.wait()
    with open(pickles) as stream:
        count = len(json.load(stream))
    os.unlink(pickles)
    print(f"{package}: {rounds} rounds, {count} pickles; CPU of the forked child, medians")
    for kind in kinds:
        probe, bare = statistics.median(measured["probe", kind]), statistics.median(measured["bare", kind])
        ratio = probe / bare if bare else 0.0
        print(f"{kind:<9} probe {probe:.3f} s  bare {bare:.3f} s  ratio {ratio:.2f}  overhead {probe - bare:+.3f} s"
              f"  result {sizes[kind]} bytes")


if __name__ == "__main__":
    if sys.argv[1] == "--probe":
        _probe_worker(sys.argv[2])
    elif sys.argv[1] == "--bare":
        _bare_worker(sys.argv[2])
    else:
        main(sys.argv[1:])
