"""The probe: imports PACKAGE in the child and measures each step.

Run as ``python -c BOOTSTRAP probe.py RESULT_PATH MODE PACKAGE THREADS [NAME ...]`` (see
``aoinspect.probing.runner.BOOTSTRAP``), so that the child is a ``python -c`` in every respect:
the current directory first on ``sys.path`` and nothing of aoinspect's own directory on it,
which also lets another interpreter (``--python``) run this file without aoinspect installed.
Running it as ``python probe.py ...`` works too. It imports PACKAGE, measures what each step
adds to ``sys.modules`` and reports on RESULT_PATH as JSON lines (``protocol.py``), one section
per line, so that a child that dies half-way still leaves what it measured before dying.

Beyond the rules of this folder (``__init__.py``): names arrive as data and are only ever used
with ``getattr``/``__import__``; the probe ends with ``os._exit`` so that threads, ``atexit``
handlers and finalizers left behind by the package cannot hang or pollute the run.
"""

import sys

REPR_LIMIT = 300
CANDIDATE_LIMIT = 2000

_modules = sys.modules
_STARTUP_MODULES = list(_modules)  # reported, so that tests can hold the probe to the rule above


def _load_os():  # os, or posix/nt when the interpreter runs without site
    return _modules.get("os") or _modules.get("posix") or _modules.get("nt")


_os = _load_os()
_ModuleType = type(sys)


def _bound(module, name):
    return getattr(module, name, None)


# What the fork server and its monitors call, taken before the package is imported: the package
# may replace ``os.fork``, ``os.killpg``, ``os.write``... with anything, and the server must keep
# working as if it had not. ``_signal`` is loaded by every interpreter at start-up.
_fork = _bound(_os, "fork")
_killpg = _bound(_os, "killpg")
_write = _bound(_os, "write")
_read = _bound(_os, "read")
_close = _bound(_os, "close")
_waitpid = _bound(_os, "waitpid")
_waitid = _bound(_os, "waitid")
_setpgid = _bound(_os, "setpgid")
_exit = _bound(_os, "_exit")
_WNOHANG = _bound(_os, "WNOHANG")
_P_PID = _bound(_os, "P_PID")
_WEXITED = _bound(_os, "WEXITED")
_WNOWAIT = _bound(_os, "WNOWAIT")
_signal_module = _modules.get("_signal")
_set_handler = _bound(_signal_module, "signal")
_setitimer = _bound(_signal_module, "setitimer")
_SIGCHLD = _bound(_signal_module, "SIGCHLD")
_SIG_IGN = _bound(_signal_module, "SIG_IGN")
# Signals a probe may send its parent: for a forked probe that is its monitor, which must live
# to report how the probe ended (a spawned probe's parent is aoinspect, which cleans up and exits).
_PARENT_SIGNALS = tuple(
    number for number in (_bound(_signal_module, "SIGTERM"), _bound(_signal_module, "SIGHUP"),
                          _bound(_signal_module, "SIGINT"))
    if number is not None
)
_SIG_DFL = _bound(_signal_module, "SIG_DFL")
_TIMERS = tuple(
    which for which in (_bound(_signal_module, "ITIMER_REAL"), _bound(_signal_module, "ITIMER_VIRTUAL"),
                        _bound(_signal_module, "ITIMER_PROF"))
    if which is not None
)
_exception_traceback = BaseException.__dict__["__traceback__"].__get__
_open = open  # the package may replace builtins.open; the reporter keeps the real one
_PROBE_FILE = globals().get("__file__") or (sys.argv[1] if sys.argv[0] == "-c" else "<probe>")
_CHILD_DIR = _PROBE_FILE[: max(_PROBE_FILE.rfind("/"), _PROBE_FILE.rfind("\\")) + 1]


def _sibling(name):
    """Load ``NAME.py`` from this folder as a module object that is never put in
    ``sys.modules``, so that nothing of the probe shows in the measured diff."""
    path = _CHILD_DIR + name + ".py"
    with _open(path, "rb") as stream:
        code = compile(stream.read(), path, "exec")
    module = _ModuleType("aoinspect_child_" + name)
    module.__file__ = path
    exec(code, module.__dict__)
    return module


protocol = _sibling("protocol")
recorder_module = _sibling("recorder")
_clock = recorder_module.clock
ImportRecorder = recorder_module.ImportRecorder
Measurement = recorder_module.Measurement
_CHILD_FILES = (_PROBE_FILE, _CHILD_DIR + "protocol.py", _CHILD_DIR + "recorder.py")


def Reporter(path):
    return protocol.Reporter(path, _open)


# --- safe descriptions of whatever the package hands us ------------------------------------------


def _safe_text(render, value, limit=REPR_LIMIT):
    try:
        text = render(value)
        if type(text) is not str:
            raise TypeError("not a string")
    except BaseException:  # noqa: BLE001 - the package's __repr__/__str__ may raise anything
        return "<unrepresentable " + _type_name(value) + " object>"
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return text


def _type_name(value):
    kind = type(value)
    try:
        module = type.__getattribute__(kind, "__module__")
        qualname = type.__getattribute__(kind, "__qualname__")
    except BaseException:  # noqa: BLE001
        return "object"
    if type(module) is not str or type(qualname) is not str:
        return "object"
    return qualname if module == "builtins" else module + "." + qualname


def _location(exc):
    """Innermost frame outside this probe and the frozen import machinery."""
    if issubclass(type(exc), SyntaxError):
        try:
            filename, lineno = exc.filename, exc.lineno
            if type(filename) is str and filename and type(lineno) is int:
                return f"{filename}:{lineno}"
        except BaseException:  # noqa: BLE001 - the package's exception class may define anything
            pass
    found = None
    # The traceback as the interpreter keeps it: a subclass may turn ``__traceback__`` into
    # a property that raises.
    tb = _exception_traceback(exc)
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename not in _CHILD_FILES and not filename.startswith("<frozen"):
            found = f"{filename}:{tb.tb_lineno}"
        tb = tb.tb_next
    return found


def _describe_error(exc):
    """The exception as plain Python would show it. Only ``type()`` is asked about the
    object: ``isinstance`` consults ``__class__``, which the package's class may make raise."""
    kind = type(exc)
    try:
        location = _location(exc)
    except BaseException:  # noqa: BLE001
        location = None
    error = {
        "type": _type_name(exc),
        "message": _safe_text(str, exc, 2000),
        "location": location,
        "is_attribute_error": issubclass(kind, AttributeError),
    }
    if issubclass(kind, ImportError):
        try:
            missing = exc.name
        except BaseException:  # noqa: BLE001
            missing = None
        error["missing_module"] = missing if type(missing) is str else None
    return error


def _describe_object(value):
    return {
        "type": _type_name(value),
        "repr": _safe_text(repr, value),
        "is_module": issubclass(type(value), _ModuleType),
    }


# --- watching __getattr__ ------------------------------------------------------------------------


class GetattrSpy:
    """Records calls to the module-level ``__getattr__`` (PEP 562) of the modules it watches."""

    def __init__(self):
        self.calls: list = []
        self._restore: list = []

    def watch(self, obj):
        if not issubclass(type(obj), _ModuleType):
            return
        namespace = obj.__dict__
        original = namespace.get("__getattr__")
        if original is None or getattr(original, "_aoinspect_spy", False):
            return
        calls = self.calls
        module_id = id(obj)

        def __getattr__(name):
            calls.append((module_id, name))
            return original(name)

        setattr(__getattr__, "_aoinspect_spy", True)  # noqa: B010
        namespace["__getattr__"] = __getattr__
        self._restore.append((namespace, original))

    def called(self, obj, name, since=0):
        key = (id(obj), name)
        return any(call == key for call in self.calls[since:])

    def restore(self):
        for namespace, original in reversed(self._restore):
            namespace["__getattr__"] = original
        self._restore = []


# --- the phases ----------------------------------------------------------------------------------


def import_package(package, recorder, reporter):
    """``import PACKAGE`` as a statement would, then look the package up as ``PACKAGE`` would."""
    measurement = Measurement(recorder)
    error = None
    module = None
    try:
        module = __import__(package)
        for part in package.split(".")[1:]:
            module = getattr(module, part)
    except BaseException as exc:  # noqa: BLE001 - SystemExit and friends are the package's
        error = _describe_error(exc)
    report = measurement.finish()
    report["ok"] = error is None
    report["error"] = error
    report["threads"] = len(sys._current_frames())
    report["python"] = list(sys.version_info[:3])
    report["startup_modules"] = _STARTUP_MODULES
    reporter.send(protocol.SECTION_IMPORT, report)
    return error is None, module


def describe_package(module, reporter):
    """What the package declares and exposes, right after import."""
    namespace = getattr(module, "__dict__", {})
    file = namespace.get("__file__")
    path = namespace.get("__path__")
    try:
        path_list = None if path is None else [entry for entry in path if type(entry) is str]
    except BaseException:  # noqa: BLE001
        path_list = None
    all_value = namespace.get("__all__", _MISSING)
    if all_value is _MISSING:
        all_report = {"kind": "missing", "names": [], "invalid": []}
    else:
        kind = type(all_value).__name__
        try:
            items = list(all_value) if type(all_value) in (list, tuple) else []
        except BaseException:  # noqa: BLE001
            items = []
        all_report = {
            "kind": kind if type(all_value) in (list, tuple) else "other",
            "type": _type_name(all_value),
            "names": [item for item in items if type(item) is str],
            "invalid": [_safe_text(repr, item, 80) for item in items if type(item) is not str],
        }
    dir_error = None
    try:
        dir_names = [name for name in dir(module) if type(name) is str]
    except BaseException as exc:  # noqa: BLE001
        dir_names = None
        dir_error = _describe_error(exc)
    reporter.send(protocol.SECTION_PACKAGE, {
        "file": file if type(file) is str else None,
        "path": path_list,
        "all": all_report,
        "namespace": [name for name in namespace if type(name) is str],
        "dir": dir_names,
        "dir_error": dir_error,
        "has_getattr": callable(namespace.get("__getattr__")),
        "is_module": isinstance(module, _ModuleType),
    })


_MISSING = object()


def resolve(module, name, recorder, reporter):
    """Access ``PACKAGE.NAME`` one attribute at a time, then once more to see if it is cached."""
    spy = GetattrSpy()
    parts = name.split(".")
    chain = [module]
    steps = []
    error = None
    already_loaded = True
    for part in parts:
        holder = chain[-1]
        already_loaded = already_loaded and part in getattr(holder, "__dict__", {})
        spy.watch(holder)
        measurement = Measurement(recorder)
        try:
            value = getattr(holder, part)
        except BaseException as exc:  # noqa: BLE001 - sys.exit() in the package is a failed access
            error = _describe_error(exc)
        step = measurement.finish()
        step["name"] = part
        step["via_getattr"] = spy.called(holder, part)
        steps.append(step)
        if error is not None:
            break
        chain.append(value)
    result: dict = {"name": name, "steps": steps, "error": error, "already_loaded": already_loaded,
              "cached": None, "same_object": None, "object": None, "candidates": None}
    if error is None:
        # A second access must be served from the namespace: no __getattr__ call, no imports.
        since = len(spy.calls)
        before = set(_modules)
        try:
            holder = module
            for part in parts:
                holder = getattr(holder, part)
            same = holder is chain[-1]
        except BaseException:  # noqa: BLE001
            same = False
        new_modules = any(name not in before for name in list(_modules))
        result["cached"] = len(spy.calls) == since and not new_modules
        result["same_object"] = same
    spy.restore()
    if error is None:
        result["object"] = _describe_object(chain[-1])
    else:
        result["candidates"] = _candidates(chain[-1])
    reporter.send(protocol.SECTION_RESOLVE, result)


def _candidates(holder):
    """Names the failed lookup could have meant, for "did you mean" suggestions."""
    names: list = []
    try:
        declared = getattr(holder, "__dict__", {}).get("__all__")
        if isinstance(declared, (list, tuple)):
            names.extend(item for item in declared if type(item) is str)
        names.extend(item for item in dir(holder) if type(item) is str and not item.startswith("__"))
    except BaseException:  # noqa: BLE001
        pass
    return names[:CANDIDATE_LIMIT]


def ask_getattr(module, names, reporter):
    """Call the package's ``__getattr__`` directly: would it serve these names too?"""
    hook = getattr(module, "__dict__", {}).get("__getattr__")
    answers: dict = {}
    for name in names:
        if not callable(hook):
            answers[name] = {"served": False, "error": None}
            continue
        try:
            hook(name)
            answers[name] = {"served": True, "error": None}
        except AttributeError:
            answers[name] = {"served": False, "error": None}
        except BaseException as exc:  # noqa: BLE001
            answers[name] = {"served": False, "error": _describe_error(exc)}
    reporter.send(protocol.SECTION_ASK, {"answers": answers})


def star_import(module, recorder, reporter):
    """What ``from PACKAGE import *`` would do: look up every name of ``__all__`` (or every
    public name), as the ``IMPORT_STAR`` opcode does."""
    spy = GetattrSpy()
    spy.watch(module)
    measurement = Measurement(recorder)
    error = None
    try:
        namespace = getattr(module, "__dict__", {})
        declared = namespace.get("__all__")
        if declared is None:
            declared = [name for name in list(namespace) if type(name) is str and not name.startswith("_")]
        for name in declared:
            getattr(module, name)
    except BaseException as exc:  # noqa: BLE001
        error = _describe_error(exc)
    report = measurement.finish()
    spy.restore()
    report["via_getattr"] = sorted({name for _module, name in spy.calls if type(name) is str})
    report["error"] = error
    reporter.send(protocol.SECTION_STAR, report)


def race(module, count, name, reporter):
    """Look ``PACKAGE.NAME`` up from ``count`` threads released at the same moment."""
    import threading  # this probe measures no imports, so it may load what it needs

    parts = name.split(".")
    barrier = threading.Barrier(count)
    outcomes: list = [None] * count

    def look_up(index):
        try:
            barrier.wait()
            value = module
            for part in parts:
                value = getattr(value, part)
            # Keep the object itself: an id alone could be reused once the object is freed.
            outcomes[index] = {"ok": True, "object": value}
        except BaseException as exc:  # noqa: BLE001
            outcomes[index] = {"ok": False, "error": _describe_error(exc)}

    threads = [threading.Thread(target=look_up, args=(index,), daemon=True) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    objects = {id(outcome["object"]) for outcome in outcomes if outcome and outcome["ok"]}
    errors = [outcome["error"] for outcome in outcomes if outcome and not outcome["ok"]]
    reporter.send(protocol.SECTION_RACE,
                  {"name": name, "threads": count, "distinct_objects": len(objects), "errors": errors})


def run_request(module, fields, recorder, reporter):
    """Everything after ``import PACKAGE``, as the request's fields (``protocol.py``) ask."""
    try:
        mode, _package, threads, names = protocol.decode_request(fields)
        if mode == protocol.MODE_INSPECT:
            describe_package(module, reporter)
        elif mode == protocol.MODE_RESOLVE:
            for name in names:
                resolve(module, name, recorder, reporter)
        elif mode == protocol.MODE_ASK:
            ask_getattr(module, names, reporter)
        elif mode == protocol.MODE_STAR:
            star_import(module, recorder, reporter)
        elif mode == protocol.MODE_RACE:
            for name in names:
                race(module, threads, name, reporter)
    except BaseException as exc:  # noqa: BLE001 - reported, never raised into the package's output
        reporter.send(protocol.SECTION_INTERNAL, {"error": _describe_error(exc)})
    finally:
        reporter.send(protocol.SECTION_DONE, {})


def _native_threads():
    """OS threads of this process (OpenBLAS and friends start their own at import)."""
    try:
        with _open("/proc/self/status", "rb") as status:
            for line in status.read().split(b"\n"):
                if line.startswith(b"Threads:"):
                    return int(line.split()[1])
    except BaseException:  # noqa: BLE001
        pass
    return -1


def _say(fd, line):
    """One status line to the CLI; shorter than PIPE_BUF, so never interleaved."""
    _write(fd, line.encode("ascii"))


def _pause_timers():
    """Cancel the interval timers (``signal.alarm``, ``setitimer``) the package's import set, and
    return them: they belong to each probe, not to the server, which they would kill."""
    paused = []
    for which in _TIMERS:
        try:
            delay, interval = _setitimer(which, 0)
        except BaseException:  # noqa: BLE001
            continue
        if delay or interval:
            paused.append((which, delay, interval))
    return paused


def _resume_timers(paused):
    """In a forked probe: the timers ``python -c "import PACKAGE"`` would still have running."""
    for which, delay, interval in paused:
        try:
            _setitimer(which, delay, interval)
        except BaseException:  # noqa: BLE001
            pass


def _own_sigchld():
    """SIGCHLD as the package left it; the server and monitors themselves need the default
    (``SIG_IGN`` would have the kernel reap probes before their status is read)."""
    try:
        return _set_handler(_SIGCHLD, _SIG_DFL)
    except BaseException:  # noqa: BLE001
        return None


def _restore_sigchld(handler):
    if handler is not None:
        try:
            _set_handler(_SIGCHLD, handler)
        except BaseException:  # noqa: BLE001
            pass


def _ignore_parent_signals():
    """In a monitor: ignore what its probe may send its parent; returns the dispositions to
    give back to the probe."""
    saved = []
    for number in _PARENT_SIGNALS:
        try:
            saved.append((number, _set_handler(number, _SIG_IGN)))
        except BaseException:  # noqa: BLE001
            pass
    return saved


def _restore_handlers(saved):
    for number, handler in saved:
        try:
            _set_handler(number, handler)
        except BaseException:  # noqa: BLE001
            pass


def serve(package, control_fd, status_fd, recorder, reporter):
    """The fork server: import PACKAGE once, then fork a fresh copy of this process for every
    request, so that each starts from exactly the state ``python -c "import PACKAGE"`` has.

    Requests arrive on ``control_fd`` as lines of tab-separated, hex-encoded UTF-8 fields
    ``ID RESULT_PATH`` followed by the request's fields (``protocol.encode_request``).
    A monitor process is forked per request; it forks the probe, reports ``started ID PID``
    and ``ended ID WAIT_STATUS`` on ``status_fd``, and kills the probe's process group.
    The server itself does nothing between import and fork, so it has nothing to undo.
    """
    os = _os
    os.set_inheritable(control_fd, False)
    os.set_inheritable(status_fd, False)
    imported, module = import_package(package, recorder, reporter)
    timers = _pause_timers()
    sigchld = _own_sigchld()
    python_threads = len(sys._current_frames())
    can_fork = imported and python_threads == 1 and _fork is not None and _waitid is not None
    reporter.send(protocol.SECTION_SERVER, {"python_threads": python_threads, "native_threads": _native_threads(),
                             "can_fork": can_fork})
    _say(status_fd, "ready\n")
    if not can_fork:
        return
    monitors = 0
    pending = b""
    while True:
        chunk = _read(control_fd, 65536)
        if not chunk:
            break
        pending += chunk
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            fields = [bytes.fromhex(field).decode("utf-8", "surrogatepass") for field in line.decode().split("\t")]
            try:
                monitor = _fork()
            except OSError:
                _say(status_fd, "failed " + fields[0] + " fork\n")
                continue
            if monitor == 0:
                _monitor(module, fields, control_fd, status_fd, recorder, timers, sigchld)
            monitors += 1
        while monitors and _waitpid(-1, _WNOHANG)[0]:
            monitors -= 1
    while monitors:
        _waitpid(-1, 0)
        monitors -= 1


def _monitor(module, fields, control_fd, status_fd, recorder, timers, sigchld):
    request_id, result_path, request = fields[0], fields[1], fields[2:]
    try:
        handlers = _ignore_parent_signals()
        child = _fork()
        if child == 0:
            try:
                _close(control_fd)
                _close(status_fd)
                _setpgid(0, 0)
                _restore_handlers(handlers)
                _restore_sigchld(sigchld)
                _resume_timers(timers)
                run_request(module, request, recorder, Reporter(result_path))
            finally:
                _flush_and_exit()
        try:
            _setpgid(child, child)
        except OSError:
            pass
        _say(status_fd, "started " + request_id + " " + str(child) + "\n")
        _waitid(_P_PID, child, _WEXITED | _WNOWAIT)
        try:
            _killpg(child, 9)  # whatever the probe left running in its group
        except OSError:
            pass
        status = _waitpid(child, 0)[1]
        _say(status_fd, "ended " + request_id + " " + str(status) + "\n")
    except BaseException:  # noqa: BLE001 - said, so that the CLI runs the request elsewhere
        try:
            _say(status_fd, "failed " + request_id + " monitor\n")
        except BaseException:  # noqa: BLE001
            pass
    finally:
        _exit(0)


def _flush_and_exit():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001
            pass
    _exit(0)


def main(argv):
    """``argv``: RESULT_PATH followed by a request's fields, or RESULT_PATH ``serve`` PACKAGE
    CONTROL_FD STATUS_FD."""
    result_path, request = argv[0], argv[1:]
    # Look like ``python -c``: the current directory first on sys.path, and argv[0] "-c".
    if sys.argv[0] != "-c" and not getattr(sys.flags, "safe_path", False):
        sys.path[0] = ""
    sys.argv[:] = ["-c"]
    reporter = Reporter(result_path)
    recorder = ImportRecorder()
    recorder.install()
    if request[0] == protocol.MODE_SERVE:
        serve(request[1], int(request[2]), int(request[3]), recorder, reporter)
        return
    imported, module = import_package(request[1], recorder, reporter)
    if imported:
        run_request(module, request, recorder, reporter)
    else:
        reporter.send(protocol.SECTION_DONE, {})


if __name__ == "__main__":
    try:
        main(sys.argv[2:] if sys.argv[0] == "-c" else sys.argv[1:])
    finally:
        _flush_and_exit()
