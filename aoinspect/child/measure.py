"""What a probe's child runs: imports PACKAGE and measures each step (and, as ``serve``, the
fork server that forks a fresh copy of itself per probe).

Run as ``python -c BOOTSTRAP measure.py RESULT_PATH MODE PACKAGE THREADS [NAME ...]`` (see
``aoinspect.probing.runner.BOOTSTRAP``), so that the child is a ``python -c`` in every respect:
the current directory first on ``sys.path`` and nothing of aoinspect's own directory on it,
which also lets another interpreter (``--python``) run this file without aoinspect installed.
Running it as ``python measure.py ...`` works too. It imports PACKAGE, measures what each step
adds to ``sys.modules`` and reports on RESULT_PATH as JSON lines (``protocol.py``), one section
per line, so that a child that dies half-way still leaves what it measured before dying.

Beyond the rules of this folder (``__init__.py``): names arrive as data and are only ever used
with ``getattr``/``__import__``; the probe ends with ``os._exit`` so that threads, ``atexit``
handlers and finalizers left behind by the package cannot hang or pollute the run.
"""

import sys

REPR_LIMIT = 300

_modules = sys.modules
_STARTUP_MODULES = list(_modules)  # reported, so that tests can hold the probe to the rule above


def _load_os():  # os, or posix/nt when the interpreter runs without site
    return _modules.get("os") or _modules.get("posix") or _modules.get("nt")


_os = _load_os()
_bootstrap = _modules["_frozen_importlib"]
_ModuleType = type(sys)


def _bound(module, name):
    return getattr(module, name, None)


# What the fork server and its monitors call, taken before the package is imported: the package
# may replace ``os.fork``, ``os.killpg``, ``os.write``... with anything, and the server must keep
# working as if it had not. ``_signal`` is loaded by every interpreter at start-up.
_fork = _bound(_os, "fork")
_getpid = _bound(_os, "getpid")
_unlink = _bound(_os, "unlink")
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
_getitimer = _bound(_signal_module, "getitimer")
_SIGCHLD = _bound(_signal_module, "SIGCHLD")
_SIG_IGN = _bound(_signal_module, "SIG_IGN")
_getpid = _bound(_os, "getpid")
_SIG_DFL = _bound(_signal_module, "SIG_DFL")
_TIMERS = tuple(
    which for which in (_bound(_signal_module, "ITIMER_REAL"), _bound(_signal_module, "ITIMER_VIRTUAL"),
                        _bound(_signal_module, "ITIMER_PROF"))
    if which is not None
)
_open = open  # the package may replace builtins.open; the reporter keeps the real one
_PROBE_FILE = globals().get("__file__") or (sys.argv[1] if sys.argv[0] == "-c" else "<probe>")
_CHILD_DIR = _PROBE_FILE[: max(_PROBE_FILE.rfind("/"), _PROBE_FILE.rfind("\\")) + 1]


def _sibling(name):
    """Load ``NAME.py`` from this folder as a module object that is never put in
    ``sys.modules``, so that nothing of the probe shows in the measured diff."""
    path = _CHILD_DIR + name + ".py"
    try:  # the cached bytecode, as the bootstrap reads this file's (``runner.BOOTSTRAP``)
        code = _modules["_frozen_importlib_external"].SourceFileLoader(name, path).get_code(name)
    except Exception:  # noqa: BLE001
        code = None
    if code is None:
        with _open(path, "rb") as stream:
            code = compile(stream.read(), path, "exec")
    module = _ModuleType("aoinspect_child_" + name)
    module.__file__ = path
    exec(code, module.__dict__)
    (module if name == "protocol" else protocol).hide(code, path)
    return module



protocol = _sibling("protocol")
# This file's own code, running now: the import system does the same to code it has just loaded.
protocol.hide(sys._getframe().f_code, _PROBE_FILE)
recorder_module = _sibling("recorder")
_keeper = _sibling("keeper")
_pickling = _sibling("pickling")  # shared with check's predicting child (predict.py)
_ignore_parent_signals = _keeper.ignore_parent_signals
_restore_handlers = _keeper.restore_handlers
_clock = recorder_module.clock
ImportRecorder = recorder_module.ImportRecorder
_getrecursionlimit = sys.getrecursionlimit
_setrecursionlimit = sys.setrecursionlimit
_getframe = sys._getframe
# The probe's own work (reporting, describing, the modules it imports to probe with) runs with
# at least this recursion limit, whatever the package set: ``sys.setrecursionlimit(50)`` at import
# must not break the probe where a plain ``python -c`` works.
_OWN_LIMIT = max(_getrecursionlimit(), 1000)


class _RecursionLimit:
    """The package's recursion limit, as a plain ``python -c`` would have it, apart from the probe's."""

    package = _getrecursionlimit()
    set_to = None  # what a measured step was given; anything else at its end the package set


def _depth(frame):
    depth = 0
    while frame is not None:
        depth += 1
        frame = frame.f_back
    return depth


# Before 3.12 a call of a builtin counts against the recursion limit too: the bootstrap's exec()
# is always below the probe, and a step made with a builtin (getattr, __import__) where plain code
# uses an opcode (``pkg.name``, ``import pkg``) adds one more.
_BUILTIN_CALL_DEPTH = 1 if sys.version_info < (3, 12) else 0


def _package_limit_on(caller_depth, through_builtin):
    """A measured step begins: the package's limit, raised by the frames the probe stands on
    beyond a plain ``python -c``'s one (its code runs that much deeper here)."""
    extra = caller_depth - 1 + _BUILTIN_CALL_DEPTH * (1 + through_builtin)
    limit = _RecursionLimit.package + max(0, extra)
    try:
        _setrecursionlimit(limit)
        _RecursionLimit.set_to = limit
    except BaseException:  # noqa: BLE001 - too low for this depth: keep what is set
        _RecursionLimit.set_to = None


def _own_limit_on():
    """A measured step ended: note a limit the package set during it, and take the probe's own."""
    now = _getrecursionlimit()
    if _RecursionLimit.set_to is not None and now != _RecursionLimit.set_to:
        _RecursionLimit.package = now
    _RecursionLimit.set_to = None
    try:
        _setrecursionlimit(max(_OWN_LIMIT, now))
    except BaseException:  # noqa: BLE001
        pass


class Measurement(recorder_module.Measurement):  # type: ignore[name-defined]  # loaded by _sibling
    """The recorder's measurement, with the package's recursion limit inside the step and the
    probe's own outside it."""

    def __init__(self, recorder, through_builtin=False):
        """``through_builtin``: the step calls a builtin where plain code would not."""
        _package_limit_on(_depth(_getframe(1)), through_builtin)
        super().__init__(recorder)

    def finish(self):
        _own_limit_on()
        return super().finish()
_CHILD_FILES = tuple(protocol.hidden_name(path) for path in (_PROBE_FILE, _CHILD_DIR + "protocol.py",
                                                                _CHILD_DIR + "recorder.py"))


def Reporter(path):
    """The writer of PATH, with the run's secret: read from its file, which is removed at once,
    before the package runs (where the parent wrote none, lines carry none)."""
    token = ""
    secret = path + protocol.TOKEN_SUFFIX
    try:
        with _open(secret, "rb") as stream:
            token = stream.read(64).decode("ascii", "replace")
        _reads.discard(secret)  # the probe's own file, not one the package read
        _unlink(secret)
    except BaseException:  # noqa: BLE001 - no secret: a probe run by hand
        pass
    return protocol.Reporter(path, _open, token)


# --- every file the import and the access open for reading (for the parent's cache) ----------------
#
# Not only modules: a stub read by a lazy loader, a distribution's ``entry_points.txt``, a data
# file. An audit hook (3.8+, no import) sees every ``open``; it records the path and nothing else,
# and can never raise into the package. Compiled bytecode is left out (the import system checks
# it against its source, which is tracked), and so are pseudo-files.

READS_LIMIT = 20000  # beyond this many files, the run is not cached (``None`` is reported)
_reads = set()  # type: set[str]
_reads_overflow = []  # type: list[bool]
_getcwd = _bound(_os, "getcwd")
_SKIPPED_PREFIXES = ("/proc/", "/dev/", "/sys/")


# A directory the package lists (a plugin folder, ``pkgutil.iter_modules``) is read whole: any name
# added to or removed from it may change what the package imports, not only a name an import can
# see. It is reported as the read of ``DIR/.``, whose state (the directory's own size, mtime and
# ctime) any change to the listing moves. The import system's own listings (``FileFinder``) are
# not the package's: a directory on the path changes a result only by a module, which the cache
# already tells.
_LISTING_EVENTS = ("os.listdir", "os.scandir")
_IMPORT_SYSTEM = ("importlib._bootstrap_external", "_frozen_importlib_external")
_getframe = sys._getframe


def _note_listing(args):
    path = args[0] if args else None
    if path is None:
        path = "."
    elif type(path) is bytes:
        path = path.decode(sys.getfilesystemencoding(), "surrogateescape")
    elif type(path) is not str:
        return  # a descriptor, or a path-like object whose code the probe does not run
    caller = _getframe(2)
    if caller.f_globals.get("__name__") in _IMPORT_SYSTEM:
        return
    cwd = _getcwd()
    if not path.startswith("/"):
        path = cwd if path in (".", "./") else cwd + "/" + path
    path = path.rstrip("/") or "/"
    for entry in sys.path:
        # A directory on sys.path is listed for its modules and distributions (importlib.metadata,
        # pkg_resources, pkgutil): the names an import can see, which the cache already tells.
        if (type(entry) is str and (entry.rstrip("/") or "/") == path) or (entry in ("", ".") and path == cwd):
            return
    _note_open("open", (path + "/." if path != "/" else "/.", "r", 0))


def _note_open(event, args):
    if event != "open":
        if event in _LISTING_EVENTS:
            try:
                _note_listing(args)
            except BaseException:  # noqa: BLE001 - never fail the package's listing
                pass
        return
    try:
        path, mode, flags = args
        if type(mode) is str:
            if "r" not in mode and "+" not in mode:
                return
        elif flags & 3 == 1:  # O_WRONLY
            return
        if type(path) is bytes:
            path = path.decode(sys.getfilesystemencoding(), "surrogateescape")
        elif type(path) is not str:
            if not type(path).__module__.startswith("pathlib"):
                return  # an int descriptor, or a path-like object whose code the probe does not run
            path = str(path)
        if not path.startswith("/") and path[1:3] not in (":\\", ":/"):
            path = _getcwd() + "/" + path
        if "__pycache__" in path or path.startswith(_SKIPPED_PREFIXES):
            return
        if len(_reads) >= READS_LIMIT:
            _reads_overflow.append(True)
        else:
            _reads.add(path)
    except BaseException:  # noqa: BLE001 - never fail the package's open
        pass


def _take_reads():
    """The files opened for reading since the last call; None if there were too many to keep."""
    taken = None if _reads_overflow else sorted(_reads)
    _reads.clear()
    del _reads_overflow[:]
    return taken


def _search_candidates():
    """Directories the interpreter would put on ``sys.path`` if they existed (the user
    site-packages): one created later changes what an import finds."""
    site = _modules.get("site")
    user_site = getattr(site, "USER_SITE", None) if site is not None else None
    if getattr(site, "ENABLE_USER_SITE", None) is False or type(user_site) is not str or user_site in sys.path:
        return []
    return [user_site]


# --- looking at what the package hands us, without running its code ------------------------------
#
# Between the start and the end of a measured step the probe runs no code of the package beyond
# the access itself. ``type()`` cannot be overridden, so values are inspected only through their
# type, the type's own dictionaries and the module ``__dict__`` slot; ``isinstance`` (which reads
# ``__class__``), ``getattr`` on the value, ``repr`` and ``dir`` run only after a step's diff is
# taken, inside an observation whose loads are reported apart.

_FunctionType = type(_load_os)
_module_dict = _ModuleType.__dict__["__dict__"].__get__
_type_dict = type.__dict__["__dict__"].__get__
_type_mro = type.__dict__["__mro__"].__get__
_type_attribute = type.__getattribute__


def _is_module(value):
    return issubclass(type(value), _ModuleType)


def _namespace(value):
    """A module's ``__dict__``, read from its slot (no ``__getattribute__``), else None."""
    if issubclass(type(value), _ModuleType):
        try:
            return _module_dict(value)
        except BaseException:  # noqa: BLE001
            return None
    return None


def _files_of(names):
    """``{module: __file__}`` for the named modules, read from their dict slot (no code of the
    package runs); None for a module without a file (built in, frozen, a namespace package)."""
    files = {}
    for name in names:
        namespace = _namespace(_modules.get(name))
        file = namespace.get("__file__") if namespace is not None else None
        files[name] = file if type(file) is str else None
    return files


def _class_lookup(kind, name):
    """``name`` as the type's MRO defines it, or _MISSING; reads class dictionaries only."""
    try:
        for klass in _type_mro(kind):
            if klass is object or klass is _ModuleType:
                continue
            namespace = _type_dict(klass)
            if name in namespace:
                return namespace[name]
    except BaseException:  # noqa: BLE001
        pass
    return _MISSING


def _is_lazy_module_type(kind):
    """``importlib.util.LazyLoader``'s module class: its first attribute access executes it."""
    try:
        return _type_attribute(kind, "__name__") == "_LazyModule" and \
            _type_attribute(kind, "__module__") == "importlib.util"
    except BaseException:  # noqa: BLE001
        return False


def _hook_mechanism(hook):
    """A module ``__getattr__`` is lazy_loader's ``attach`` when that package defined it."""
    if type(hook) is _FunctionType:
        module = hook.__module__
        if type(module) is str and (module == "lazy_loader" or module.startswith("lazy_loader.")):
            return protocol.MECHANISM_LAZY_LOADER
    return protocol.MECHANISM_MODULE_GETATTR


def package_mechanism(module):
    """How a package serves names absent from its namespace, judged from its shape."""
    kind = type(module)
    if _is_lazy_module_type(kind):
        return protocol.MECHANISM_LAZY_MODULE
    namespace = _namespace(module)
    if namespace is None:
        has_hook = _class_lookup(kind, "__getattr__") is not _MISSING
        return protocol.MECHANISM_PROXY if has_hook else protocol.MECHANISM_NONE
    if _class_lookup(kind, "__getattr__") is not _MISSING:
        return protocol.MECHANISM_CLASS_GETATTR
    hook = namespace.get("__getattr__")
    return _hook_mechanism(hook) if hook is not None else protocol.MECHANISM_NONE


_LAZY_MODULES_TYPES = (list, tuple, set, frozenset)


def is_shim_proxy(namespace, value):
    """Whether ``value``, bound in the module ``namespace``, is a PEP 810 shim's proxy: the module
    declares ``__lazy_modules__`` and the value is an object (no module, class or function) whose
    class intercepts attribute access, as lazy-importer's ``_Proxy`` does. Read from types and
    class dicts only: a proxy's ``__class__`` would load it."""
    if type(namespace.get("__lazy_modules__")) not in _LAZY_MODULES_TYPES:
        return False
    kind = type(value)
    if issubclass(kind, (_ModuleType, type)) or kind is _FunctionType:
        return False
    # Written in Python: every builtin type (str, dict...) has a __getattribute__ slot of its own.
    return type(_class_lookup(kind, "__getattribute__")) is _FunctionType \
        or type(_class_lookup(kind, "__getattr__")) is _FunctionType


def shim_proxies(module):
    """The names of ``module``'s namespace bound to a PEP 810 shim's proxy (``is_shim_proxy``)."""
    namespace = _namespace(module)
    if namespace is None or type(namespace.get("__lazy_modules__")) not in _LAZY_MODULES_TYPES:
        return []
    return [name for name, value in list(namespace.items()) if type(name) is str and is_shim_proxy(namespace, value)]


def reify_name(holder, part):
    """The attribute that uses the shim's proxy bound at ``holder.part`` once, so that it loads
    what it stands for, as PEP 810 loads a lazy name on its first use: ``__class__`` through a
    ``__getattribute__`` of its own (lazy-importer's), else a name only a ``__getattr__`` sees.
    Read from the type before the access."""
    namespace = _namespace(holder)
    value = namespace.get(part, _MISSING) if namespace is not None else _MISSING
    if type(_class_lookup(type(value), "__getattribute__")) is _FunctionType:
        return "__class__"
    return "__aoinspect_reify__"


def rebound(holder, part, value):
    """What the shim rebound ``holder.part`` to once its proxy ``value`` loaded, or the proxy."""
    namespace = _namespace(holder)
    found = namespace.get(part, _MISSING) if namespace is not None else _MISSING
    return value if found is _MISSING else found


def access(holder, part):
    """``holder.part`` as a program's use of it: a shim's proxy is used once (``reify_name``)."""
    if step_mechanism(holder, part) != protocol.MECHANISM_LAZY_IMPORT_SHIM:
        return getattr(holder, part)
    reify = reify_name(holder, part)
    value = getattr(holder, part)
    getattr(value, reify, None)
    return rebound(holder, part, value)


def step_mechanism(holder, part):
    """What will serve ``holder.part``, decided before the access and without running any of
    the package's code."""
    kind = type(holder)
    if _is_lazy_module_type(kind):
        return protocol.MECHANISM_LAZY_MODULE  # the access executes the module first
    namespace = _namespace(holder)
    if namespace is not None and part in namespace:
        if is_shim_proxy(namespace, namespace[part]):
            return protocol.MECHANISM_LAZY_IMPORT_SHIM
        return protocol.MECHANISM_ATTRIBUTE
    if _class_lookup(kind, part) is not _MISSING:
        return protocol.MECHANISM_ATTRIBUTE
    if namespace is None:
        try:
            instance = object.__getattribute__(holder, "__dict__")
            if type(instance) is dict and part in instance:
                return protocol.MECHANISM_ATTRIBUTE
        except BaseException:  # noqa: BLE001
            pass
        has_hook = _class_lookup(kind, "__getattr__") is not _MISSING
        custom = _class_lookup(kind, "__getattribute__") is not _MISSING
        return protocol.MECHANISM_PROXY if has_hook or custom else protocol.MECHANISM_ATTRIBUTE
    if _class_lookup(kind, "__getattr__") is not _MISSING:
        return protocol.MECHANISM_CLASS_GETATTR
    hook = namespace.get("__getattr__")
    return _hook_mechanism(hook) if hook is not None else protocol.MECHANISM_NONE


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
        module = _type_attribute(kind, "__module__")
        qualname = _type_attribute(kind, "__qualname__")
    except BaseException:  # noqa: BLE001
        return "object"
    if type(module) is not str or type(qualname) is not str:
        return "object"
    return qualname if module == "builtins" else module + "." + qualname


# Read from the exception types' own slots: a subclass's properties never run.
_syntax_filename = SyntaxError.__dict__["filename"].__get__
_syntax_lineno = SyntaxError.__dict__["lineno"].__get__
_traceback_of = BaseException.__dict__["__traceback__"].__get__
_import_error_name = ImportError.__dict__["name"].__get__


def _location(exc):
    """Innermost frame outside this probe and the frozen import machinery."""
    if issubclass(type(exc), SyntaxError):
        try:
            filename, lineno = _syntax_filename(exc), _syntax_lineno(exc)
            if type(filename) is str and filename:
                return f"{filename}:{lineno}"
        except BaseException:  # noqa: BLE001 - the package's exception class may define anything
            pass
    found = None
    # The traceback as the interpreter keeps it: a subclass may turn ``__traceback__`` into a
    # property that raises.
    tb = _traceback_of(exc)
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename not in _CHILD_FILES and not filename.startswith("<frozen"):
            found = f"{filename}:{tb.tb_lineno}"
        tb = tb.tb_next
    return found


def _describe_error(exc):
    """The exception as plain Python would show it. Only ``type()`` and the exception types'
    own slots are asked about the object: ``isinstance`` consults ``__class__``, which the
    package's class may make raise."""
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
        missing = _import_error_name(exc)
        error["missing_module"] = missing if type(missing) is str else None
    return error


def _module_repr(module, namespace):
    """``<module 'x' from 'path'>`` from the module's dict: the package's ``__repr__`` and a
    LazyLoader module's first attribute access never run."""
    name = namespace.get("__name__")
    file = namespace.get("__file__")
    name_text = repr(name) if type(name) is str else "?"
    if type(file) is str:
        return "<module " + name_text + " from " + repr(file) + ">"
    return "<module " + name_text + ">"


def _describe_object(value):
    namespace = _namespace(value)
    text = _module_repr(value, namespace) if namespace is not None else _safe_text(repr, value)
    return {"type": _type_name(value), "repr": text[:REPR_LIMIT], "is_module": namespace is not None}


_MISSING = object()


# --- warnings the package shows ------------------------------------------------------------------
#
# A bare ``python -c`` shows the package's warnings on stderr, which the probe's parent keeps to
# itself; so the probe notes each warning that reaches display, as data. It imports nothing for
# that: once the package has loaded ``warnings`` (or at start, where it is loaded already), the
# module's display hook ``_showwarnmsg`` is wrapped, and the wrapper only appends to a list.


WARNING_LIMIT = 100  # warnings noted per probe: a package may show one in a loop


class WarningLog:
    """The warnings shown since the probe started, as ``[category, message, file, line]``."""

    def __init__(self):
        self.shown = []
        self._wrappers = []

    def watch(self, recorder):
        if not self._wrap():
            recorder.when_loaded["warnings"] = self._wrap

    def _wrap(self):
        namespace = _namespace(_modules.get("warnings"))
        if namespace is None:
            return False
        show = namespace.get("_showwarnmsg")
        display = namespace.get("_showwarnmsg_impl")
        if not issubclass(type(show), _FunctionType) or show in self._wrappers:
            return True  # a warnings module of another shape, or one already watched
        shown = self.shown

        def _showwarnmsg(msg):
            # Not a warning ``catch_warnings(record=True)`` collects instead of showing it.
            if namespace.get("_showwarnmsg_impl") is display and len(shown) < WARNING_LIMIT:
                try:
                    shown.append((msg.category, msg.message, msg.filename, msg.lineno))
                except BaseException:  # noqa: BLE001
                    pass
            return show(msg)

        self._wrappers.append(_showwarnmsg)
        namespace["_showwarnmsg"] = _showwarnmsg
        return True

    def since(self, first):
        """The warnings shown from the ``first``-th on, as JSON-ready dictionaries."""
        described = []
        for category, message, filename, lineno in self.shown[first:]:
            try:
                name = _type_attribute(category, "__name__") if issubclass(type(category), type) else None
            except BaseException:  # noqa: BLE001
                name = None
            described.append({
                "category": name if type(name) is str else _type_name(message),
                "message": _safe_text(str, message, 2000),
                "filename": filename if type(filename) is str else None,
                "lineno": lineno if type(lineno) is int else None,
            })
        return described


# --- the phases ----------------------------------------------------------------------------------


def import_package(package, recorder, reporter, warning_log):
    """``import PACKAGE`` as a statement would, then look the package up as ``PACKAGE`` would."""
    search_path = [entry for entry in sys.path if type(entry) is str]
    first_warning = len(warning_log.shown)
    measurement = Measurement(recorder, through_builtin=True)
    failure = None
    module = None
    try:
        module = __import__(package)
        for part in package.split(".")[1:]:
            module = getattr(module, part)
    except BaseException as exc:  # noqa: BLE001 - SystemExit and friends are the package's
        failure = exc
    report = measurement.finish()
    report["ok"] = failure is None
    report["error"] = None if failure is None else _describe_error(failure)
    report["threads"] = len(sys._current_frames())
    report["python"] = list(sys.version_info[:3])
    report["startup_modules"] = _STARTUP_MODULES
    report["files"] = _files_of(_STARTUP_MODULES + [load["module"] for load in report["materialized"]])
    report["sys_path"] = search_path
    report["warnings"] = warning_log.since(first_warning)
    report["search"] = _search_candidates()
    report["reads"] = _take_reads()
    reporter.send(protocol.SECTION_IMPORT, report)
    return failure is None, module


def describe_package(module, reporter):
    """What the package declares and exposes, right after import (nothing here is measured)."""
    namespace = _namespace(module)
    if namespace is None:  # an object the package put in sys.modules in its own place (sh does)
        try:
            namespace = object.__getattribute__(module, "__dict__")
        except BaseException:  # noqa: BLE001
            namespace = None
        if type(namespace) is not dict:
            namespace = {}
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
    names = [name for name in namespace if type(name) is str]
    dir_error = None
    try:
        dir_names = [name for name in dir(module) if type(name) is str]
    except BaseException as exc:  # noqa: BLE001
        dir_names = None
        dir_error = _describe_error(exc)
    mechanism = package_mechanism(module)
    reporter.send(protocol.SECTION_PACKAGE, {
        "file": file if type(file) is str else None,
        "path": path_list,
        "all": all_report,
        "namespace": names,
        "dir": dir_names,
        "dir_error": dir_error,
        "has_getattr": mechanism not in (protocol.MECHANISM_NONE, protocol.MECHANISM_ATTRIBUTE),
        "mechanism": mechanism,
        "is_module": _is_module(module),
        "shim_proxies": shim_proxies(module),
    })


_GETATTR_MECHANISMS = (
    protocol.MECHANISM_MODULE_GETATTR, protocol.MECHANISM_CLASS_GETATTR, protocol.MECHANISM_LAZY_LOADER,
)


def resolve(module, name, recorder, reporter):
    """Access ``PACKAGE.NAME`` one attribute at a time, measuring each step; then, outside the
    steps, look at the result (a second access, a description) and report what that loaded."""
    reporter.send(protocol.SECTION_RESOLVE, measure_name(module, name, recorder))


def measure_name(module, name, recorder, watch=None):
    """The resolve section of ``PACKAGE.NAME``; ``watch`` (an ImportWatch) sees the accesses."""
    parts = name.split(".")
    chain = [module]
    steps = []
    failure = None
    already_loaded = True
    for part in parts:
        holder = chain[-1]
        mechanism = step_mechanism(holder, part)
        already_loaded = already_loaded and mechanism == protocol.MECHANISM_ATTRIBUTE
        # A shim's proxy is used once within the step (PEP 810 loads a lazy name on first use),
        # right here: a function of the probe's between the two would cost the package a frame.
        reify = reify_name(holder, part) if mechanism == protocol.MECHANISM_LAZY_IMPORT_SHIM else None
        measurement = Measurement(recorder, through_builtin=True)
        try:
            if watch is None:
                value = getattr(holder, part)
                if reify is not None:
                    getattr(value, reify, None)
            else:
                with watch:
                    value = getattr(holder, part)
                    if reify is not None:
                        getattr(value, reify, None)
            if reify is not None:
                value = rebound(holder, part, value)
        except BaseException as exc:  # noqa: BLE001 - sys.exit() in the package is a failed access
            failure = exc
        step = measurement.finish()
        step["name"] = part
        step["mechanism"] = mechanism
        steps.append(step)
        if failure is not None:
            break
        chain.append(value)
    # Everything below may run the package's code: it is measured apart, as the observation.
    observation = Measurement(recorder)
    result = {"name": name, "steps": steps, "error": None, "already_loaded": already_loaded,
              "cached": None, "object": None, "candidates": None}
    if failure is None:
        result["cached"], second_error = _second_access(chain, parts)
        if second_error is not None:
            result["second_error"] = second_error
        result["object"] = _describe_object(chain[-1])
    else:
        result["error"] = _describe_error(failure)
        result["candidates"] = _candidates(chain[-1])
    result["observed"] = observation.finish()["materialized"]
    result["files"] = _files_of([load["module"] for step in steps for load in step["materialized"]]
                                + [load["module"] for load in result["observed"]])
    return result


def _second_access(chain, parts):
    """``(cached, error)``: is a second access free? It is when it asks the import system for
    nothing (no ``import`` statement, no ``import_module`` call, not even of a module already
    loaded) and returns the very object the first one did, whatever the globals hold (a
    ``functools.cache``d ``__getattr__`` stores nothing there). ``error``: what a second access
    raised (a ``__getattr__`` that forgets a name once it served it), or None."""
    watch = ImportWatch()
    before = len(_modules)
    try:
        with watch:
            value = chain[0]
            for part in parts:
                value = getattr(value, part)
    except BaseException as exc:  # noqa: BLE001 - the package's to raise, ours to report
        return False, _describe_error(exc)
    return (len(_modules) == before and not watch.requested and not watch.modules and value is chain[-1]), None


def _candidates(holder):
    """Every name the failed lookup could have meant, for "did you mean" suggestions."""
    names: list = []
    namespace = _namespace(holder)
    if namespace is not None:
        declared = namespace.get("__all__")
        if type(declared) in (list, tuple):
            names.extend(item for item in declared if type(item) is str)
    try:
        names.extend(item for item in dir(holder) if type(item) is str and not item.startswith("__"))
    except BaseException:  # noqa: BLE001
        pass
    return names


class ImportWatch:
    """Which modules the import system hands out while it is installed: ``import`` statements
    and ``__import__`` (with their from-lists), and ``importlib.import_module``, whether or not
    the module was loaded already."""

    def __init__(self):
        self.modules: list = []
        self.requested: list = []  # every module asked for by name, ``a.b.c`` for ``import a.b.c``

    def __enter__(self):
        builtins = _modules["builtins"]
        self._builtins = builtins
        self._original_import = builtins.__import__
        self._original_gcd = getattr(_bootstrap, "_gcd_import")  # noqa: B009
        modules = self.modules
        requested = self.requested
        original_import = self._original_import
        original_gcd = self._original_gcd

        def __import__(name, globals=None, locals=None, fromlist=(), level=0):
            module = original_import(name, globals, locals, fromlist, level)
            modules.append(module)
            requested.append(_modules.get(name) if not fromlist and not level and type(name) is str else module)
            namespace = _namespace(module)
            if fromlist and namespace is not None:
                prefix = namespace.get("__name__")
                for item in fromlist:
                    if type(item) is str and type(prefix) is str:
                        sub = _modules.get(prefix + "." + item)
                        if sub is not None:
                            modules.append(sub)
                            requested.append(sub)
            return module

        def _gcd_import(name, package=None, level=0):
            module = original_gcd(name, package, level)
            modules.append(module)
            requested.append(module)
            return module

        builtins.__import__ = __import__
        setattr(_bootstrap, "_gcd_import", _gcd_import)  # noqa: B010
        return self

    def __exit__(self, *exc_info):
        self._builtins.__import__ = self._original_import
        setattr(_bootstrap, "_gcd_import", self._original_gcd)  # noqa: B010
        return False


# --- exact batching --------------------------------------------------------------------------------
#
# ``resolve-batch`` measures its first name, A, exactly as ``resolve`` does, in a fresh fork. A
# later name, B, is measured in the same process only when this shows that a fresh fork would
# measure for B exactly what it measured for A:
#   - A's access raised nothing, removed nothing, left one thread, and loaded the import subtrees
#     of the modules R1, R2, ... whose imports it began itself, in that order (none, one module M,
#     or M and the modules M's own lazy attributes loaded); looking at its value loaded nothing;
#   - before B, the package's namespace is put back as it was right after import, but for the
#     bindings the import system made for the modules A loaded (importing M makes them again),
#     and the containers the package's lazy path can reach without running its code (in the
#     namespace, the hook's globals, closure and defaults) hold what they held after import;
#   - B's access begins no import, loads and removes nothing, and asks the import system
#     (``ImportWatch``) for R1, R2, ... in that order, each before any module of its subtree, and
#     for no other module not loaded at import;
#   - looking at B's value loads nothing and leaves one thread.
# A fresh fork's access of B then starts from the state the lazy path reads, asks for R1 first
# and loads its subtree, then R2 and its subtree, ..., as A's did. Anything else ends the batch:
# B and the names after it are reported unmeasured and the parent measures them in fresh forks.
# The first import B begins ends this probe at once, so that nothing of B's load is paid here.

_CONTAINERS = (dict, list, set, frozenset, tuple)


def _container_ids(value, into, depth):
    """Appends the identities of what ``value`` holds, two levels down; only exact builtin
    containers are looked into, so no code of the package runs."""
    kind = type(value)
    if kind not in _CONTAINERS or depth > 2:
        return
    into.append(len(value))
    if kind is dict:
        keys = list(value)
        values = list(value.values())
        into.extend(map(id, keys))
        into.extend(map(id, values))
    else:
        values = list(value)
        into.extend(map(id, values))
    for item in values:
        if type(item) in _CONTAINERS:
            _container_ids(item, into, depth + 1)


class _PackageState:
    """What the package's lazy path can read without running its code, as it was right after
    import: the package namespace, and the containers in it and in the hook's globals, closure
    and defaults."""

    def __init__(self, module):
        self.namespace = _namespace(module)
        self.saved = dict(self.namespace) if self.namespace is not None else None
        self.places: list = []  # containers to watch: namespaces and cells
        hooks = []
        if self.namespace is not None:
            hooks.append(self.namespace.get("__getattr__"))
        hooks.append(_class_lookup(type(module), "__getattr__"))
        for hook in hooks:
            if type(hook) is not _FunctionType:
                continue
            hook_globals = hook.__globals__
            if hook_globals is not self.namespace:
                self.places.append(hook_globals)
            for cell in hook.__closure__ or ():
                try:
                    self.places.append(cell.cell_contents)
                except ValueError:  # an empty cell
                    pass
            self.places.append(hook.__defaults__)
            self.places.append(hook.__kwdefaults__)
        self.fingerprint = self._fingerprint()

    def _fingerprint(self):
        ids: list = []
        if self.saved is not None:
            for value in self.saved.values():
                _container_ids(value, ids, 0)
        for place in self.places:
            ids.append(id(place))
            _container_ids(place, ids, 0)
        return ids

    def unchanged(self):
        return self._fingerprint() == self.fingerprint

    def restore(self, kept):
        """Put the namespace back as it was after import, keeping the names in ``kept``."""
        namespace, saved = self.namespace, self.saved
        if namespace is None or saved is None:
            return
        for key in [key for key in namespace if key not in saved and key not in kept]:
            del namespace[key]
        for key, value in saved.items():
            if namespace.get(key, _MISSING) is not value:
                namespace[key] = value


def _import_bindings(module, namespace, loaded):
    """Names in the package's namespace bound to a module A loaded, by the import system."""
    prefix = namespace.get("__name__")
    if type(prefix) is not str:
        return set()
    kept = set()
    for key, value in list(namespace.items()):
        if type(key) is str and prefix + "." + key in loaded and _modules.get(prefix + "." + key) is value:
            kept.add(key)
    return kept


def _subtrees(result):
    """``[(root, its subtree's modules), ...]`` in the order A's access began them, or None when
    A's measurement cannot serve as a batch's source."""
    if result["error"] is not None or len(result["steps"]) != 1 or result["observed"]:
        return None
    step = result["steps"][0]
    if step["removed"]:
        return None
    subtrees = []
    for load in step["materialized"]:
        if load["parent"] is None:
            subtrees.append((load["module"], {load["module"]}))
        elif subtrees and load["parent"] in subtrees[-1][1]:
            subtrees[-1][1].add(load["module"])
        else:
            return None
    return subtrees


class _Tripwire:
    """Ends the probe at the first import a batched access begins, reporting what is left."""

    def __init__(self, reporter, names):
        self.reporter = reporter
        self.names = names
        self.index = 0

    def __call__(self, module_name):
        _end_batch(self.reporter, self.names[self.index:], "began importing " + str(module_name))
        self.reporter.send(protocol.SECTION_DONE, {})
        _flush_and_exit()


def _end_batch(reporter, unmeasured, reason, served_by=None):
    reporter.send(protocol.SECTION_BATCH, {"unmeasured": list(unmeasured), "reason": reason,
                                           "served_by": served_by})


def resolve_batch(module, names, recorder, reporter):
    """Measure ``names[0]`` as ``resolve`` does, then each next name in this same process for as
    long as the rules above show it exact (see the comment above)."""
    if not names:
        _end_batch(reporter, [], None)
        return
    state = _PackageState(module)
    at_import = set(_modules)
    first = measure_name(module, names[0], recorder)
    reporter.send(protocol.SECTION_RESOLVE, first)
    subtrees = _subtrees(first) if "." not in names[0] else None
    if subtrees is None or state.namespace is None:
        _end_batch(reporter, names[1:], "the first name cannot be a batch's source")
        return
    source = first["steps"][0]
    loaded = {load["module"] for load in source["materialized"]}
    root = subtrees[0][0] if subtrees else None
    kept = _import_bindings(module, state.namespace, loaded)
    tripwire = _Tripwire(reporter, names)
    for index in range(1, len(names)):
        _next_name()
        name = names[index]
        tripwire.index = index
        reason = _batch_blocker(module, name, state, kept)
        if reason is not None:
            _end_batch(reporter, names[index:], reason, root)
            return
        events = len(recorder.events)
        modules_before = list(_modules)
        watch = ImportWatch()
        recorder.tripwire = tripwire
        try:
            result = measure_name(module, name, recorder, watch)
        finally:
            recorder.tripwire = None
        reason = _batched_access_problem(result, watch, at_import, subtrees)
        if reason is None and (len(recorder.events) != events or list(_modules) != modules_before):
            reason = "its access changed sys.modules"
        if reason is None and len(sys._current_frames()) != 1:
            reason = "a thread was left running"
        if reason is not None:
            _end_batch(reporter, names[index:], reason, root)
            return
        step = dict(source)
        step["name"] = name
        step["mechanism"] = result["steps"][0]["mechanism"]
        result["steps"] = [step]
        result["files"] = first["files"]
        result["batched_after"] = names[0]
        reporter.send(protocol.SECTION_RESOLVE, result)
    _end_batch(reporter, [], None, root)


def _batch_blocker(module, name, state, kept):
    """Why ``name`` cannot be measured in this process any more, before its access, or None."""
    if "." in name:
        return "a dotted name is measured on its own"
    if len(sys._current_frames()) != 1:
        return "a thread was left running"
    state.restore(kept)
    if not state.unchanged():
        return "the package's lazy path holds state that an access changed"
    if step_mechanism(module, name) not in _GETATTR_MECHANISMS:
        return "the name is not served by the package's __getattr__"
    return None


def _batched_access_problem(result, watch, at_import, subtrees):
    """Why a batched access is not known to equal a fresh fork's, or None."""
    if result["error"] is not None:
        return "its access raised"
    if len(result["steps"]) != 1 or result["observed"]:
        return "its access or its value loaded modules"
    step = result["steps"][0]
    if step["materialized"] or step["removed"]:
        return "its access changed sys.modules"
    names = {id(value): key for key, value in list(_modules.items())}
    asked = [names.get(id(module)) for module in watch.requested]
    if None in asked:
        return "it asked for a module that is not in sys.modules"
    beyond = [name for name in asked if type(name) is str and name not in at_import]
    # What a fresh fork would load, request by request: a module not loaded yet must be the
    # next root, and brings its subtree.
    loaded_then = set()
    position = 0
    for name in beyond:
        if name in loaded_then:
            continue
        if position == len(subtrees) or subtrees[position][0] != name:
            return "it asked for " + name + " where the first name's access began another import"
        loaded_then.update(subtrees[position][1])
        position += 1
    if position != len(subtrees):
        return "it did not ask for " + subtrees[position][0]
    return None


PLAN_ATTEMPTS = 4


class _Planned(BaseException):
    """Stops an access at the first module it asks for that is not loaded yet."""


class _FirstRequest:
    """While installed, the first request for a module not in ``sys.modules`` raises
    ``_Planned`` before anything loads, and its absolute name is kept in ``found``."""

    def __init__(self, recorder):
        self.recorder = recorder
        self.found: str | None = None

    def _stop(self, name):
        if self.found is None:
            self.found = name
        raise _Planned()

    def _absolute(self, name, package, level):
        if not level:
            return name
        try:
            return _bootstrap._resolve_name(name, package, level)
        except BaseException:  # noqa: BLE001
            return None

    def __enter__(self):
        builtins = _modules["builtins"]
        self._builtins = builtins
        self._original_import = original_import = builtins.__import__
        self._original_gcd = original_gcd = getattr(_bootstrap, "_gcd_import")  # noqa: B009
        stop, absolute = self._stop, self._absolute

        def __import__(name, globals=None, locals=None, fromlist=(), level=0):
            if type(name) is str:
                package = None
                if level and type(globals) is dict:
                    try:
                        package = _bootstrap._calc___package__(globals)
                    except BaseException:  # noqa: BLE001
                        package = None
                target = absolute(name, package, level)
                if target is not None and target not in _modules:
                    stop(target)
                if target is not None and fromlist:
                    for item in fromlist:
                        if type(item) is str and item != "*" and target + "." + item not in _modules:
                            namespace = _namespace(_modules.get(target))
                            if namespace is not None and item not in namespace:
                                stop(target + "." + item)
            return original_import(name, globals, locals, fromlist, level)

        def _gcd_import(name, package=None, level=0):
            target = absolute(name, package, level) if type(name) is str else None
            if target is not None and target not in _modules:
                stop(target)
            return original_gcd(name, package, level)

        builtins.__import__ = __import__
        setattr(_bootstrap, "_gcd_import", _gcd_import)  # noqa: B010
        self.recorder.tripwire = stop
        return self

    def __exit__(self, *exc_info):
        self._builtins.__import__ = self._original_import
        setattr(_bootstrap, "_gcd_import", self._original_gcd)  # noqa: B010
        self.recorder.tripwire = None
        return False


def plan_names(module, names, recorder, reporter):
    """For each one-part name, the first module its access asks for that is not loaded yet,
    found by stopping the access right there: a hint for grouping names into batches. Nothing
    is measured; the parent never trusts these hints for a result."""
    state = _PackageState(module)
    own = state.namespace.get("__name__") if state.namespace is not None else None
    first = {}
    for name in names:
        if "." in name or type(own) is not str:
            continue
        for _attempt in range(PLAN_ATTEMPTS):
            state.restore(())
            request = _FirstRequest(recorder)
            try:
                with request:
                    access(module, name)
            except BaseException:  # noqa: BLE001 - _Planned, or whatever the package raised
                pass
            found = request.found
            first[name] = found
            if found is None or found == own or found.startswith(own + "."):
                break
            # A module outside the package (``importlib``, a dependency) says little about
            # which of the package's modules serves the name: load it, and look again.
            try:
                __import__(found)
            except BaseException:  # noqa: BLE001
                break
    reporter.send(protocol.SECTION_PLAN, {"first_import": first})


def ask_getattr(module, names, reporter):
    """Call the package's lazy path (its module or class ``__getattr__``) directly for each
    name: does it serve the name through the import system? A value that is a module the import
    system handed out, or an attribute of one (other than the package itself), was; a value
    taken from the package's own globals was not."""
    kind = type(module)
    namespace = _namespace(module) or {}
    class_hook = _class_lookup(kind, "__getattr__")
    module_hook = namespace.get("__getattr__")
    answers: dict = {}
    for name in names:
        answer = {"served": False, "via_import": False, "error": None}
        answers[name] = answer
        if class_hook is _MISSING and module_hook is None:
            continue
        watch = ImportWatch()
        try:
            with watch:
                value = class_hook(module, name) if class_hook is not _MISSING else module_hook(name)
        except BaseException as exc:  # noqa: BLE001
            if not issubclass(type(exc), AttributeError):
                answer["error"] = _describe_error(exc)
            continue
        answer["served"] = True
        # ``import a.b as c`` hands out ``a`` and then reads ``b`` off it: what was asked for counts too.
        answer["via_import"] = _handed_out(value, name, watch.modules + watch.requested, module)
    reporter.send(protocol.SECTION_ASK, {"answers": answers})


def _handed_out(value, name, handed, package):
    for candidate in handed:
        if candidate is package or candidate is None:
            continue
        if candidate is value:
            return True
        namespace = _namespace(candidate)
        if namespace is not None and namespace.get(name, _MISSING) is value:
            return True
    return False


def star_import(module, recorder, reporter):
    """What ``from PACKAGE import *`` would do: look up every name of ``__all__`` (or every
    public name), as the ``IMPORT_STAR`` opcode does."""
    namespace = _namespace(module) or {}
    measurement = Measurement(recorder, through_builtin=True)
    failure = None
    try:
        declared = namespace.get("__all__")
        if declared is None:
            declared = [name for name in list(namespace) if type(name) is str and not name.startswith("_")]
        for name in declared:
            getattr(module, name)
    except BaseException as exc:  # noqa: BLE001
        failure = exc
    report = measurement.finish()
    report["error"] = None if failure is None else _describe_error(failure)
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
                value = access(value, part)
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


# --- what tools that look at the package do to it ---------------------------------------------
#
# dir(), hasattr() probes, inspect.getmodule, pickle and TAB completion: each runs the package's
# code on purpose, inside a measurement, in a probe of its own.

_slot = _pickling.slot
_global_kind = _pickling.global_kind


def _measured(recorder, call, *arguments):
    """``call(*arguments)`` inside a measurement: its value (None if it raised) and a report of
    what it loaded, how long it took and what it raised."""
    measurement = Measurement(recorder)
    value = None
    failure = None
    try:
        value = call(*arguments)
    except BaseException as exc:  # noqa: BLE001 - what the tool would have got
        failure = exc
    report = measurement.finish()
    report["error"] = None if failure is None else _describe_error(failure)
    return value, report


def _lookup(module, name):
    value = module
    for part in name.split("."):
        value = getattr(value, part)
    return value


def list_dir(module, recorder, reporter):
    """``dir(PACKAGE)``: IPython, debuggers and help() call it on anything they show."""
    names, report = _measured(recorder, dir, module)
    report["count"] = len(names) if type(names) is list else None
    reporter.send(protocol.SECTION_DIR, report)


def probe_attributes(module, names, recorder, reporter):
    """``hasattr(PACKAGE, NAME)`` for each NAME that tools probe on any object they are given."""
    probes = []
    for name in names:
        answer, report = _measured(recorder, hasattr, module, name)
        report["name"] = name
        report["answer"] = answer if type(answer) is bool else None
        probes.append(report)
    reporter.send(protocol.SECTION_HASATTR, {"probes": probes})


_GETMODULE_SUBJECT = "def subject():\n    pass\n"


def walk_modules(recorder, reporter):
    """``inspect.getmodule`` on code of a module unrelated to the package: it has no
    ``__module__``, so getmodule reads ``__file__`` of every module in ``sys.modules``, as
    IPython's tracebacks, debuggers and ``inspect.getsource`` do."""
    import inspect  # loads modules of its own: before the measured window, never inside it

    namespace: dict = {}
    exec(compile(_GETMODULE_SUBJECT, "<aoinspect: a module unrelated to the package>", "exec"), namespace)
    code = namespace["subject"].__code__
    lazy = [name for name, value in list(_modules.items()) if _is_lazy_module_type(type(value))]
    _found, report = _measured(recorder, inspect.getmodule, code)
    report["executed"] = [name for name in lazy if not _is_lazy_module_type(type(_modules.get(name)))]
    reporter.send(protocol.SECTION_GETMODULE, report)


# The completer's name for the package: the text completed is ``PACKAGE.`` whatever the package
# is called, and the package's own name is never evaluated.
_COMPLETION_KEY = "PACKAGE"


def complete_attributes(module, recorder, reporter):
    """What pressing TAB after ``PACKAGE.`` in the standard REPL does: ``rlcompleter`` lists
    ``dir()`` and looks every name up to mark callables."""
    modules: dict = _modules
    saved = modules.get("readline", _MISSING)
    # rlcompleter binds itself to readline when it can, and readline may write to the terminal.
    modules["readline"] = None
    try:
        import rlcompleter
    finally:
        if saved is _MISSING:
            del modules["readline"]
        else:
            modules["readline"] = saved
    completer = rlcompleter.Completer({_COMPLETION_KEY: module})

    def press_tab():
        matches: list = []
        while True:
            match = completer.complete(_COMPLETION_KEY + ".", len(matches))
            if match is None:
                return matches
            matches.append(match)

    matches, report = _measured(recorder, press_tab)
    report["matches"] = len(matches) if type(matches) is list else 0
    reporter.send(protocol.SECTION_COMPLETE, report)


def _text_or_none(value):
    return value if type(value) is str else None


def pickle_names(module, names, recorder, reporter):
    """``pickle.dumps(PACKAGE.NAME)`` for each NAME that is a class or a function, with the
    ``__module__`` and ``__qualname__`` it is pickled under."""
    import pickle

    for index, name in enumerate(names):
        if index:
            _next_name()
        result = {"name": name, "kind": None, "module": None, "qualname": None, "data": None, "error": None,
                  "resolve_error": None, "materialized": []}
        try:
            value = _lookup(module, name)
        except BaseException as exc:  # noqa: BLE001
            result["resolve_error"] = _describe_error(exc)
            reporter.send(protocol.SECTION_PICKLE, result)
            continue
        kind = _global_kind(value)
        if kind is not None:
            result["kind"] = kind
            result["module"] = _text_or_none(_slot(value, "__module__"))
            result["qualname"] = _text_or_none(_slot(value, "__qualname__"))
            data, report = _measured(recorder, pickle.dumps, value)
            result["materialized"] = report["materialized"]
            result["error"] = report["error"]
            result["data"] = _pickling.sent(data, protocol.PICKLE_LIMIT)
        reporter.send(protocol.SECTION_PICKLE, result)


def _global_name(value):
    kind = _global_kind(value)
    if kind is None:
        return "a " + _type_name(value) + " object"
    module, qualname = _slot(value, "__module__"), _slot(value, "__qualname__")
    if type(module) is str and type(qualname) is str:
        return module + "." + qualname
    return "a " + kind


def unpickle_names(module, fields, recorder, reporter):
    """``pickle.loads`` of each ``NAME:HEX`` in turn, in this interpreter where no lazy name has
    been accessed yet; then, after all of them, ``PACKAGE.NAME``: is it the object unpickled?"""
    import pickle

    loaded = []
    for index, field in enumerate(fields):
        if index:
            _next_name()
        name, _separator, data = field.partition(protocol.PICKLE_SEPARATOR)
        value, report = _measured(recorder, pickle.loads, bytes.fromhex(data))
        loaded.append((name, value, report))
    for name, value, report in loaded:
        result = {"name": name, "materialized": report["materialized"], "error": report["error"], "same": None,
                  "got": None, "resolve_error": None}
        if report["error"] is None:
            result["got"] = _global_name(value)
            try:
                result["same"] = _lookup(module, name) is value
            except BaseException as exc:  # noqa: BLE001
                result["resolve_error"] = _describe_error(exc)
        reporter.send(protocol.SECTION_UNPICKLE, result)


def run_request(module, fields, recorder, reporter):
    """Everything after ``import PACKAGE``, as the request's fields (``protocol.py``) ask."""
    before = set(_modules)
    try:
        mode, _package, threads, names = protocol.decode_request(fields)
        if mode == protocol.MODE_INSPECT:
            describe_package(module, reporter)
        elif mode == protocol.MODE_RESOLVE:
            for index, name in enumerate(names):
                if index:
                    _next_name()
                resolve(module, name, recorder, reporter)
        elif mode == protocol.MODE_RESOLVE_BATCH:
            resolve_batch(module, names, recorder, reporter)
        elif mode == protocol.MODE_PLAN:
            plan_names(module, names, recorder, reporter)
        elif mode == protocol.MODE_ASK:
            ask_getattr(module, names, reporter)
        elif mode == protocol.MODE_STAR:
            star_import(module, recorder, reporter)
            if len(names) == 1 and names[0].startswith(protocol.NAMES_LATER):
                names = _names_later(names[0][len(protocol.NAMES_LATER):])
            if names:
                # The pickle rule's names, which the star import (and their own lookups) load once.
                _next_name()
                pickle_names(module, names, recorder, reporter)
        elif mode == protocol.MODE_RACE:
            for name in names:
                race(module, threads, name, reporter)
        elif mode == protocol.MODE_DIR:
            list_dir(module, recorder, reporter)
        elif mode == protocol.MODE_HASATTR:
            probe_attributes(module, names, recorder, reporter)
        elif mode == protocol.MODE_GETMODULE:
            walk_modules(recorder, reporter)
        elif mode == protocol.MODE_COMPLETE:
            complete_attributes(module, recorder, reporter)
        elif mode == protocol.MODE_PICKLE:
            pickle_names(module, names, recorder, reporter)
        elif mode == protocol.MODE_UNPICKLE:
            unpickle_names(module, names, recorder, reporter)
    except BaseException as exc:  # noqa: BLE001 - reported, never raised into the package's output
        reporter.send(protocol.SECTION_INTERNAL, {"error": _describe_error(exc)})
    finally:
        # Every file behind what the request loaded, measured or not (``dir()``, a star import).
        reporter.send(protocol.SECTION_DONE, {"files": _files_of([name for name in list(_modules)
                                                                  if name not in before]),
                                              "reads": _take_reads()})


def _names_later(path):
    """The names to pickle, which the parent sends once it knows them (``protocol.NAMES_LATER``):
    the probe waits here, after the star import, as it would have waited to start."""
    try:
        return protocol.read_names_later(path, _open)
    finally:
        _reads.discard(path)  # the probe's own pipe, not a file the package read


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


# The interval timers (``signal.alarm``...) as the package's import left them, when it set any: a
# request of several names gives each the time a fresh ``python -c`` would give it, not what the
# names before it left (pickling 20 names in one probe must not ring an alarm that no plain
# ``pickle.dumps`` of one name would).
_PACKAGE_TIMERS: list = []


def _keep_package_timers(timers):
    _PACKAGE_TIMERS[:] = timers


def _read_timers():
    """The running interval timers, as ``_pause_timers`` returns them, left running."""
    running = []
    for which in _TIMERS:
        try:
            delay, interval = _getitimer(which)
        except BaseException:  # noqa: BLE001
            continue
        if delay or interval:
            running.append((which, delay, interval))
    return running


def _next_name():
    """A request's next name begins: the package's timers as a fresh interpreter has them."""
    if _PACKAGE_TIMERS:
        _resume_timers(_PACKAGE_TIMERS)


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


def serve(package, control_fd, status_fd, recorder, reporter, warning_log):
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
    imported, module = import_package(package, recorder, reporter, warning_log)
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
                monitor = _fork_quietly()
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


_FORK_WARNS = sys.version_info >= (3, 12)
_FORK_WARNING = "This process (pid=%d) is multi-threaded, use of fork() may lead to deadlocks in the child."


def _fork_quietly():
    """``fork()`` for the server, without the DeprecationWarning that Python 3.12+ gives when the
    process has other threads (native ones count: OpenBLAS starts some at import). Showing it
    would change the server every later probe is forked from: 3.13 imports ``warnings`` to show
    it, and every version records it in ``__main__.__warningregistry__``."""
    warnings = _modules.get("warnings") or _modules.get("_warnings")
    filters = getattr(warnings, "filters", None)
    if not _FORK_WARNS or type(filters) is not list:
        return _fork()
    namespace = globals()  # the module the warning would be attributed to: the caller of fork
    had_registry = "__warningregistry__" in namespace
    # Only this warning, for this process: a plain string in a filter must match exactly, and a
    # warning the package's at-fork handlers emit is still the package's to show.
    message = _FORK_WARNING % (_getpid(),)
    ignore = ("ignore", message, DeprecationWarning, None, 0)
    filters.insert(0, ignore)
    try:
        return _fork()
    finally:  # in the server and in the new child alike
        if filters and filters[0] is ignore:
            del filters[0]
        if not had_registry:
            namespace.pop("__warningregistry__", None)


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
                _keep_package_timers(timers)
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


def _below_a_keeper():
    """Go on under a keeper (``keeper.below``), forking as the server does."""
    _keeper.below(_fork_quietly)  # a thread a .pth file started must not make 3.12+ warn


def main(argv):
    """``argv``: RESULT_PATH followed by a request's fields, or RESULT_PATH ``serve`` PACKAGE
    CONTROL_FD STATUS_FD."""
    _below_a_keeper()
    result_path, request = argv[0], argv[1:]
    # Look like ``python -c``: the current directory first on sys.path, and argv[0] "-c".
    if sys.argv[0] != "-c" and not getattr(sys.flags, "safe_path", False):
        sys.path[0] = ""
    sys.argv[:] = ["-c"]
    reporter = Reporter(result_path)
    recorder = ImportRecorder()
    recorder.install()
    warning_log = WarningLog()
    warning_log.watch(recorder)
    _add_audit_hook = getattr(sys, "addaudithook", None)
    if _add_audit_hook is not None:
        _add_audit_hook(_note_open)
    if request[0] == protocol.MODE_SERVE:
        serve(request[1], int(request[2]), int(request[3]), recorder, reporter, warning_log)
        return
    imported, module = import_package(request[1], recorder, reporter, warning_log)
    _keep_package_timers(_read_timers())
    if imported:
        run_request(module, request, recorder, reporter)
    else:
        reporter.send(protocol.SECTION_DONE, {})


if __name__ == "__main__":
    try:
        main(sys.argv[2:] if sys.argv[0] == "-c" else sys.argv[1:])
    finally:
        _flush_and_exit()
