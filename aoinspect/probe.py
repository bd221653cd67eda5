"""The only code that runs inside the child interpreter.

Run as ``python -c BOOTSTRAP probe.py RESULT_PATH MODE PACKAGE [NAME ...]`` (see
``runner.BOOTSTRAP``), so that the child is a ``python -c`` in every respect: the current
directory first on ``sys.path`` and nothing of aoinspect's own directory on it, which also lets
another interpreter (``--python``) run this file without aoinspect installed. Running it as
``python probe.py ...`` works too. It imports PACKAGE, measures
what each step adds to ``sys.modules`` and reports on RESULT_PATH as JSON lines, one section
per line, so that a child that dies half-way still leaves what it measured before dying.

Rules this file keeps, because the measurement depends on them:

* It imports nothing that a bare interpreter started the same way has not already loaded
  (not even ``__future__`` or ``typing``), so the ``sys.modules`` diff equals the one a plain
  ``python -c "import PACKAGE; PACKAGE.NAME"`` would see. It encodes JSON by hand for the
  same reason.
* Names arrive as data in argv and are only ever used with ``getattr``/``__import__``.
* It never writes to file descriptors 1 or 2 (the package owns those) and reopens the result
  file for every write, because the package may close descriptors it did not open or change
  the working directory.
* It ends with ``os._exit`` so that threads, ``atexit`` handlers and finalizers left behind by
  the package cannot hang or pollute the run.

It must stay valid on Python 3.9 and newer.
"""

import sys

PROTOCOL = 1
REPR_LIMIT = 300
CANDIDATE_LIMIT = 2000

_modules = sys.modules
_STARTUP_MODULES = list(_modules)  # reported, so that tests can hold the probe to the rule above
_bootstrap = _modules["_frozen_importlib"]
_get_ident = _modules["_thread"].get_ident


def _load_os():  # untyped on purpose: os, or posix/nt when the interpreter runs without site
    return _modules.get("os") or _modules.get("posix") or _modules.get("nt")


_os = _load_os()
_ModuleType = type(sys)
_open = open  # the package may replace builtins.open; the reporter keeps the real one
_PROBE_FILE = globals().get("__file__") or (sys.argv[1] if sys.argv[0] == "-c" else "<probe>")


def _load_clock():
    time_module = _modules.get("time")
    if time_module is not None:
        return time_module.perf_counter
    # Some interpreters start without ``time``; borrow it, then hide it again so that a
    # package that imports ``time`` still shows it in its diff.
    import time as borrowed

    del _modules["time"]
    return borrowed.perf_counter


_clock = _load_clock()


# --- JSON, by hand -----------------------------------------------------------------------------

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _quote(text: str) -> str:
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return '"' + text + '"'
    parts = []
    for char in text:
        code = ord(char)
        if char in _ESCAPES:
            parts.append(_ESCAPES[char])
        elif 0x20 <= code < 0x7F:
            parts.append(char)
        elif code > 0xFFFF:
            code -= 0x10000
            parts.append(f"\\u{0xD800 | (code >> 10):04x}\\u{0xDC00 | (code & 0x3FF):04x}")
        else:
            parts.append(f"\\u{code:04x}")
    return '"' + "".join(parts) + '"'


def _encode(value) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    kind = type(value)
    if kind is str:
        return _quote(value)
    if kind is int:
        return int.__repr__(value)
    if kind is float:
        if value != value or value in (float("inf"), float("-inf")):
            return "null"
        return float.__repr__(value)
    if kind is list or kind is tuple:
        return "[" + ",".join([_encode(item) for item in value]) + "]"
    if kind is dict:
        return "{" + ",".join([_quote(k) + ":" + _encode(v) for k, v in value.items()]) + "}"
    raise TypeError("cannot encode " + kind.__name__)


class Reporter:
    """Appends one JSON line per section to the result file."""

    def __init__(self, path: str) -> None:
        self.path = path

    def send(self, section: str, payload: dict) -> None:
        payload = dict(payload)
        payload["section"] = section
        line = (_encode(payload) + "\n").encode("ascii")
        with _open(self.path, "ab") as stream:
            stream.write(line)


# --- safe descriptions of whatever the package hands us ------------------------------------------


def _safe_text(render, value: object, limit: int = REPR_LIMIT) -> str:
    try:
        text = render(value)
        if type(text) is not str:
            raise TypeError("not a string")
    except BaseException:  # noqa: BLE001 - the package's __repr__/__str__ may raise anything
        return "<unrepresentable " + _type_name(value) + " object>"
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return text


def _type_name(value: object) -> str:
    kind = type(value)
    try:
        module = type.__getattribute__(kind, "__module__")
        qualname = type.__getattribute__(kind, "__qualname__")
    except BaseException:  # noqa: BLE001
        return "object"
    if type(module) is not str or type(qualname) is not str:
        return "object"
    return qualname if module == "builtins" else module + "." + qualname


def _location(exc: BaseException) -> "str | None":
    """Innermost frame outside this probe and the frozen import machinery."""
    if isinstance(exc, SyntaxError) and getattr(exc, "filename", None):
        return f"{exc.filename}:{exc.lineno}"
    found = None
    tb = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename != _PROBE_FILE and not filename.startswith("<frozen"):
            found = f"{filename}:{tb.tb_lineno}"
        tb = tb.tb_next
    return found


def _describe_error(exc: BaseException) -> dict:
    error = {
        "type": _type_name(exc),
        "message": _safe_text(str, exc, 2000),
        "location": _location(exc),
        "is_attribute_error": isinstance(exc, AttributeError),
    }
    if isinstance(exc, ImportError):
        missing = getattr(exc, "name", None)
        error["missing_module"] = missing if type(missing) is str else None
    return error


def _describe_object(value: object) -> dict:
    return {
        "type": _type_name(value),
        "repr": _safe_text(repr, value),
        "is_module": isinstance(value, _ModuleType),
    }


# --- import instrumentation ----------------------------------------------------------------------


class ImportRecorder:
    """Wraps ``_find_and_load``, the one function both ``import`` statements and
    ``importlib.import_module`` go through for a module that is not loaded yet, to learn the
    order in which imports *began*, which import was in progress when each began (its parent),
    and how long each took. ``sys.modules`` itself only shows the order in which they finished.
    """

    def __init__(self) -> None:
        self.events: list = []
        self._stacks: dict = {}
        self._original = getattr(_bootstrap, "_find_and_load")  # noqa: B009

    def install(self) -> None:
        original = self._original
        events = self.events
        stacks = self._stacks
        modules = _modules
        clock = _clock
        get_ident = _get_ident

        def _find_and_load(name, import_):
            if name in modules:
                return original(name, import_)
            stack = stacks.get(get_ident())
            if stack is None:
                stack = stacks[get_ident()] = []
            # [name, parent index, depth, start, end, len(sys.modules) at start, at end]
            event = [name, stack[-1] if stack else -1, len(stack), clock(), 0.0, len(modules), 0]
            stack.append(len(events))
            events.append(event)
            try:
                return original(name, import_)
            finally:
                event[4] = clock()
                event[6] = len(modules)
                stack.pop()

        setattr(_bootstrap, "_find_and_load", _find_and_load)  # noqa: B010

    def loads(self, first_event: int, added: list, start_len: int) -> list:
        """Describe the modules in ``added`` (finish order), in the order their imports began.

        A module put into ``sys.modules`` without going through the import system
        (``importlib`` registers ``importlib._bootstrap`` itself) is hung on the innermost
        import running when it appeared. ``sys.modules`` moves every imported module to its end
        when its import finishes, so ``added`` is chronological: such a module appeared after
        the import listed before it (A) finished and before the one after it (B) did. It was
        inserted when ``sys.modules`` held about ``len at A's end + its rank in the gap``
        entries; the innermost import on B's chain that had begun by then is its parent.
        """
        events = self.events
        last_event = len(events)
        added_set = set(added)
        first_seen = {}
        for index in range(first_event, last_event):
            name = events[index][0]
            if name in added_set and name not in first_seen:
                first_seen[name] = index
        materialized_events = set(first_seen.values())

        def materialized_ancestor(parent: int) -> int:
            # A parent whose own import failed is not in the diff: use the nearest ancestor
            # that did materialize, or the access itself (-1).
            while parent >= first_event and parent not in materialized_events:
                parent = events[parent][1]
            return parent if parent >= first_event else -1

        entries: list = []  # (order key, name, parent event, start, end)
        for name, index in first_seen.items():
            event = events[index]
            entries.append((index, name, materialized_ancestor(event[1]), event[3], event[4]))
        next_finisher: list = [-1] * len(added)
        upcoming = -1
        for position in range(len(added) - 1, -1, -1):
            next_finisher[position] = upcoming
            if added[position] in first_seen:
                upcoming = first_seen[added[position]]
        length_then = start_len
        for position, name in enumerate(added):
            if name in first_seen:
                length_then = events[first_seen[name]][6]
                continue
            # The imports that began before sys.modules held length_then entries (a binary
            # search: the length at each begin only grows, but for modules a package removes).
            low, high = first_event, last_event
            while low < high:
                middle = (low + high) // 2
                if events[middle][5] <= length_then:
                    low = middle + 1
                else:
                    high = middle
            parent = next_finisher[position]
            while parent >= first_event and events[parent][5] > length_then:
                parent = events[parent][1]
            entries.append((low - 0.5, name, materialized_ancestor(parent), 0.0, 0.0))
            length_then += 1
        entries.sort(key=lambda entry: entry[0])

        child_time: dict = {}
        for _key, _name, parent, start, end in entries:
            if parent >= 0:
                child_time[parent] = child_time.get(parent, 0.0) + end - start
        depth_of: dict = {}
        loads = []
        for key, name, parent, start, end in entries:
            depth = depth_of[parent] + 1 if parent >= 0 else 0
            depth_of[key] = depth
            cumulative = end - start
            loads.append({
                "module": name,
                "parent": events[parent][0] if parent >= 0 else None,
                "depth": depth,
                "self_ms": round(max(cumulative - child_time.get(key, 0.0), 0.0) * 1000.0, 4),
                "cumulative_ms": round(cumulative * 1000.0, 4),
            })
        return loads


class Measurement:
    """A ``sys.modules`` diff around one step, with the recorder's view of the same step."""

    def __init__(self, recorder: ImportRecorder) -> None:
        self.recorder = recorder
        self.before = set(_modules)
        self.first_event = len(recorder.events)
        self.start = _clock()
        self.elapsed = 0.0

    def finish(self) -> dict:
        self.elapsed = _clock() - self.start
        after = list(_modules)
        before = self.before
        after_set = set(after)
        added = [name for name in after if name not in before]
        return {
            "materialized": self.recorder.loads(self.first_event, added, len(before)),
            "removed": sorted([name for name in before if name not in after_set]),
            "elapsed_ms": round(self.elapsed * 1000.0, 4),
        }


class GetattrSpy:
    """Records calls to the module-level ``__getattr__`` (PEP 562) of the modules it watches."""

    def __init__(self) -> None:
        self.calls: list = []
        self._restore: list = []

    def watch(self, obj: object) -> None:
        if not isinstance(obj, _ModuleType):
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

    def called(self, obj: object, name: str, since: int = 0) -> bool:
        key = (id(obj), name)
        return any(call == key for call in self.calls[since:])

    def restore(self) -> None:
        for namespace, original in reversed(self._restore):
            namespace["__getattr__"] = original
        self._restore = []


# --- the phases ----------------------------------------------------------------------------------


def import_package(package: str, recorder: ImportRecorder, reporter: Reporter) -> "tuple[bool, object]":
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
    reporter.send("import", report)
    return error is None, module


def describe_package(module: object, reporter: Reporter) -> None:
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
    reporter.send("package", {
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


def resolve(module: object, name: str, recorder: ImportRecorder, reporter: Reporter) -> None:
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
    reporter.send("resolve", result)


def _candidates(holder: object) -> list:
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


def ask_getattr(module: object, names: list, reporter: Reporter) -> None:
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
    reporter.send("ask", {"answers": answers})


def star_import(module: object, recorder: ImportRecorder, reporter: Reporter) -> None:
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
    reporter.send("star", report)


def race(module: object, count: int, name: str, reporter: Reporter) -> None:
    """Look ``PACKAGE.NAME`` up from ``count`` threads released at the same moment."""
    import threading  # this probe measures no imports, so it may load what it needs

    parts = name.split(".")
    barrier = threading.Barrier(count)
    outcomes: list = [None] * count

    def look_up(index: int) -> None:
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
    reporter.send("race", {"name": name, "threads": count, "distinct_objects": len(objects), "errors": errors})


def run_request(module: object, mode: str, names: list, recorder: ImportRecorder, reporter: Reporter) -> None:
    """Everything after ``import PACKAGE``: describe it, resolve names, or ask ``__getattr__``."""
    try:
        if mode == "inspect":
            describe_package(module, reporter)
        elif mode == "resolve":
            for name in names:
                resolve(module, name, recorder, reporter)
        elif mode == "ask":
            ask_getattr(module, names, reporter)
        elif mode == "star":
            star_import(module, recorder, reporter)
        elif mode == "race":
            race(module, int(names[0]), names[1], reporter)
    except BaseException as exc:  # noqa: BLE001 - reported, never raised into the package's output
        reporter.send("internal", {"error": _describe_error(exc)})
    finally:
        reporter.send("done", {})


def _native_threads() -> int:
    """OS threads of this process (OpenBLAS and friends start their own at import)."""
    try:
        with _open("/proc/self/status", "rb") as status:
            for line in status.read().split(b"\n"):
                if line.startswith(b"Threads:"):
                    return int(line.split()[1])
    except BaseException:  # noqa: BLE001
        pass
    return -1


def _say(fd: int, line: str) -> None:
    """One status line to the CLI; shorter than PIPE_BUF, so never interleaved."""
    getattr(_os, "write")(fd, line.encode("ascii"))  # noqa: B009


def serve(package: str, control_fd: int, status_fd: int, recorder: ImportRecorder, reporter: Reporter) -> None:
    """The fork server: import PACKAGE once, then fork a fresh copy of this process for every
    request, so that each starts from exactly the state ``python -c "import PACKAGE"`` has.

    Requests arrive on ``control_fd`` as lines of tab-separated, hex-encoded UTF-8 fields
    ``ID MODE RESULT_PATH NAME...``.
    A monitor process is forked per request; it forks the probe, reports ``started ID PID``
    and ``ended ID WAIT_STATUS`` on ``status_fd``, and kills the probe's process group.
    The server itself does nothing between import and fork, so it has nothing to undo.
    """
    os = _os
    os.set_inheritable(control_fd, False)
    os.set_inheritable(status_fd, False)
    imported, module = import_package(package, recorder, reporter)
    python_threads = len(sys._current_frames())
    can_fork = imported and python_threads == 1 and hasattr(os, "fork")
    reporter.send("server", {"python_threads": python_threads, "native_threads": _native_threads(),
                             "can_fork": can_fork})
    _say(status_fd, "ready\n")
    if not can_fork:
        return
    monitors = 0
    pending = b""
    while True:
        chunk = os.read(control_fd, 65536)
        if not chunk:
            break
        pending += chunk
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            fields = [bytes.fromhex(field).decode("utf-8", "surrogatepass") for field in line.decode().split("\t")]
            monitor = _fork()
            if monitor == 0:
                _monitor(module, fields, control_fd, status_fd, recorder)
            monitors += 1
        while monitors and os.waitpid(-1, os.WNOHANG)[0]:
            monitors -= 1
    while monitors:
        os.waitpid(-1, 0)
        monitors -= 1


_FORK_WARNS = sys.version_info >= (3, 12)


def _fork() -> int:
    """``os.fork()`` for the server, without the DeprecationWarning that Python 3.12+ gives when
    the process has other threads (native ones count: OpenBLAS starts some at import). Showing it
    would change the server every later probe is forked from: 3.13 imports ``warnings`` to show
    it, and every version records it in ``__main__.__warningregistry__``."""
    os = _os
    warnings = _modules.get("warnings") or _modules.get("_warnings")
    filters = getattr(warnings, "filters", None)
    if not _FORK_WARNS or type(filters) is not list:
        return os.fork()
    namespace = globals()  # the module the warning would be attributed to: the caller of fork
    had_registry = "__warningregistry__" in namespace
    ignore = ("ignore", None, DeprecationWarning, None, 0)
    filters.insert(0, ignore)
    try:
        return os.fork()
    finally:  # in the server and in the new child alike
        if filters and filters[0] is ignore:
            del filters[0]
        if not had_registry:
            namespace.pop("__warningregistry__", None)


def _monitor(module: object, fields: list, control_fd: int, status_fd: int, recorder: ImportRecorder) -> None:
    os = _os
    request_id, mode, result_path, names = fields[0], fields[1], fields[2], fields[3:]
    try:
        child = os.fork()
        if child == 0:
            os.close(control_fd)
            os.close(status_fd)
            os.setpgid(0, 0)
            run_request(module, mode, names, recorder, Reporter(result_path))
            _flush_and_exit()
        try:
            os.setpgid(child, child)
        except OSError:
            pass
        _say(status_fd, "started " + request_id + " " + str(child) + "\n")
        os.waitid(os.P_PID, child, os.WEXITED | os.WNOWAIT)
        try:
            os.killpg(child, 9)  # whatever the probe left running in its group
        except OSError:
            pass
        status = os.waitpid(child, 0)[1]
        _say(status_fd, "ended " + request_id + " " + str(status) + "\n")
    finally:
        getattr(os, "_exit")(0)  # noqa: B009


def _flush_and_exit() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001
            pass
    getattr(_os, "_exit")(0)  # noqa: B009


def main(argv: list) -> None:
    """``argv``: RESULT_PATH MODE PACKAGE [ARGUMENT ...]."""
    result_path, mode, package = argv[0], argv[1], argv[2]
    arguments = argv[3:]
    # Look like ``python -c``: the current directory first on sys.path, and argv[0] "-c".
    if sys.argv[0] != "-c" and not getattr(sys.flags, "safe_path", False):
        sys.path[0] = ""
    sys.argv[:] = ["-c"]
    reporter = Reporter(result_path)
    recorder = ImportRecorder()
    recorder.install()
    if mode == "serve":
        serve(package, int(arguments[0]), int(arguments[1]), recorder, reporter)
        return
    imported, module = import_package(package, recorder, reporter)
    if imported:
        run_request(module, mode, arguments, recorder, reporter)
    else:
        reporter.send("done", {})


if __name__ == "__main__":
    try:
        main(sys.argv[2:] if sys.argv[0] == "-c" else sys.argv[1:])
    finally:
        _flush_and_exit()
