"""Side effects of running code (an import, usually) on the rest of the interpreter: what deferring
that import would delay or cancel. Child code (see ``__init__.py`` for the rules it keeps).

    install()                 # once, before the code runs: wraps what can only be seen by wrapping
    before = snapshot()
    ...                       # the code whose effects are wanted
    after = snapshot()
    changes(before, after)    # [(kind, detail), ...], kinds in ``KINDS`` order

Most effects are read from state the interpreter keeps anyway (signal handlers, ``sys.path``,
warnings filters, ``os.environ``, module namespaces...). Three are not readable after the fact and
are seen by wrapping: ``atexit.register`` (the callbacks cannot be listed), ``codecs.register``
(nor can the search functions), and the start of a thread (one that already ended leaves no
trace). Nothing here imports a module: what is not in ``sys.modules`` is read as its default
(no logging handlers, no copyreg entries but its own), so measuring never loads what the measured
code would otherwise load. Every read goes around the objects' own ``__getattr__``, properties and
``__repr__``: a snapshot runs none of the measured package's code.
"""

import sys

_modules = sys.modules
_bootstrap = _modules["_frozen_importlib"]
_thread = _modules["_thread"]
_signal = _modules.get("_signal")
_codecs = _modules["_codecs"]
_get_attribute = object.__getattribute__
_type_dict = type.__dict__["__dict__"].__get__
_type_qualname = type.__dict__["__qualname__"].__get__
_type_module = type.__dict__["__module__"].__get__
_FunctionType = type(lambda: None)
_BuiltinFunctionType = type(len)


class _Bound:
    def method(self):
        """Only its type is used."""


_MethodType = type(_Bound().method)
_ModuleType = type(sys)
_getrecursionlimit = sys.getrecursionlimit
_setrecursionlimit = sys.setrecursionlimit
_current_frames = sys._current_frames
_getframe = sys._getframe

# The kinds of effect, in the order ``changes`` lists them; ``protocol.EFFECT_KINDS`` is the same.
ATEXIT = "atexit"  # a callback registered to run at exit
SIGNAL = "signal"  # a signal handler set or replaced
SYS_PATH = "sys.path"  # an entry added to or removed from sys.path
META_PATH = "sys.meta_path"  # a finder added to or removed from sys.meta_path
PATH_HOOKS = "sys.path_hooks"  # a hook added to or removed from sys.path_hooks
WARNINGS = "warnings"  # a warnings filter added or removed
LOGGING = "logging"  # a handler added to a logger (only when logging is loaded)
CODECS = "codecs"  # a codec search function registered
COPYREG = "copyreg"  # a pickle reducer registered in copyreg's dispatch table
THREAD = "thread"  # a thread started
ENVIRON = "environ"  # an environment variable set, changed or removed (names only, never values)
MONKEYPATCH = "monkeypatch"  # an attribute of another, already loaded, module replaced, added or deleted
REGISTRY = "registry"  # a module-level dict, list or set of another, already loaded, module grew
KINDS = (ATEXIT, SIGNAL, SYS_PATH, META_PATH, PATH_HOOKS, WARNINGS, LOGGING, CODECS, COPYREG, THREAD,
         ENVIRON, MONKEYPATCH, REGISTRY)

# Module-level containers that grow as the interpreter merely works (caches), or that another kind
# already reports; and modules whose containers are the import system's own bookkeeping.
_NOT_REGISTRIES = {
    ("re", "_cache"), ("re", "_cache2"), ("linecache", "cache"), ("encodings", "_cache"),
    ("inspect", "modulesbyfile"), ("inspect", "_filesbymodname"), ("zipimport", "_zip_directory_cache"),
    ("warnings", "filters"), ("warnings", "onceregistry"), ("warnings", "_filters"),
    ("_warnings", "filters"), ("_warnings", "_onceregistry"), ("copyreg", "dispatch_table"),
    ("threading", "_active"), ("threading", "_limbo"), ("threading", "_shutdown_locks"),
    ("threading", "_dangling"), ("logging", "_handlerList"), ("_strptime", "_regex_cache"),
    ("ctypes", "_c_functype_cache"), ("ctypes", "_pointer_type_cache"), ("typing", "_cleanups"),
    ("typing", "_caches"), ("abc", "_abc_registry"), ("tokenize", "_all_string_prefixes"),
}
_BOOKKEEPING_MODULES = {
    "sys", "__main__", "builtins", "_frozen_importlib", "_frozen_importlib_external", "importlib._bootstrap",
    "importlib._bootstrap_external", "_imp", "_thread", "_weakref",
}
_NOT_ATTRIBUTES = {"__warningregistry__", "__builtins__", "__cached__"}
_MISSING = object()
_STDLIB_NAMES = getattr(sys, "stdlib_module_names", None)


def _stdlib_directory():
    codecs_file = getattr(_modules.get("codecs"), "__file__", None) or ""
    return codecs_file[: max(codecs_file.rfind("/"), codecs_file.rfind("\\")) + 1]


def _in_stdlib(module_name):
    """Whether MODULE_NAME is the standard library's (Python 3.9 has no list: its file's folder)."""
    if type(module_name) is not str:
        return False
    if _STDLIB_NAMES is not None:
        return module_name.partition(".")[0] in _STDLIB_NAMES
    module = _modules.get(module_name)
    path = (_namespace(module) or {}).get("__file__") if module is not None else None
    folder = _stdlib_directory()
    return type(path) is str and bool(folder) and path.startswith(folder) and "-packages" not in path


class _Seen:
    """What only wrapping shows, in the order it happened: ``(kind, detail)`` pairs."""

    events: list = []  # noqa: RUF012 - one list for the child's life
    installed = False


def _wrap_registering(module, name, kind):
    original = getattr(module, name, None)
    if original is None or getattr(original, "_aoinspect_wrapped", False):
        return
    events = _Seen.events

    def register(*args, **kwargs):
        result = original(*args, **kwargs)
        caller = _getframe(1).f_globals.get("__name__")
        if args:  # None: the standard library's own (logging registering its shutdown)
            events.append((kind, None if _in_stdlib(caller) else name_of(args[0])))
        return result

    register._aoinspect_wrapped = True
    register.__wrapped__ = original
    register.__name__ = name
    register.__qualname__ = name
    register.__doc__ = getattr(original, "__doc__", None)
    setattr(module, name, register)


def _wrap_atexit(module):
    _wrap_registering(module, "register", ATEXIT)


def _wrap_codecs():
    original = _codecs.register
    _wrap_registering(_codecs, "register", CODECS)
    codecs = _modules.get("codecs")
    if codecs is not None and getattr(codecs, "register", None) is original:
        codecs.register = _codecs.register


def _wrap_thread_starts():
    events = _Seen.events
    for name in ("start_new_thread", "start_new", "start_joinable_thread"):
        original = getattr(_thread, name, None)
        if original is None or getattr(original, "_aoinspect_wrapped", False):
            continue

        def start(function, *args, __original=original, **kwargs):
            result = __original(function, *args, **kwargs)
            events.append((THREAD, _thread_name(function)))  # now: a thread forgets its target as it ends
            return result

        start._aoinspect_wrapped = True
        start.__wrapped__ = original
        start.__name__ = start.__qualname__ = name
        setattr(_thread, name, start)
    threading = _modules.get("threading")
    if threading is not None:  # it took the functions of _thread when it was imported
        namespace = _namespace(threading)
        for private, public in (("_start_new_thread", "start_new_thread"),
                                ("_start_joinable_thread", "start_joinable_thread")):
            if namespace is not None and private in namespace:
                namespace[private] = getattr(_thread, public)


def _wrap_builtin_loading():
    """A builtin module (atexit) loaded later is wrapped as soon as it is created, before the
    code that imported it can use it. One frame more than a plain import has: one more for the
    recursion limit, as the import recorder does."""
    importer = _bootstrap.BuiltinImporter
    original = importer.__dict__.get("exec_module")
    function = getattr(original, "__func__", None)
    if function is None or getattr(function, "_aoinspect_wrapped", False):
        return
    holder = type(original)  # staticmethod or classmethod, as the bootstrap defines it

    def exec_module(*args):
        raised = _getrecursionlimit() + 1
        _setrecursionlimit(raised)
        try:
            result = function(*args)
        finally:
            if _getrecursionlimit() == raised:
                _setrecursionlimit(raised - 1)
        module = args[-1]
        if _namespace(module) is not None and _namespace(module).get("__name__") == "atexit":
            _wrap_atexit(module)
        return result

    exec_module._aoinspect_wrapped = True
    exec_module.__name__ = exec_module.__qualname__ = "exec_module"
    importer.exec_module = holder(exec_module)


def install():
    """Wrap what only wrapping shows (registering with atexit or codecs, starting a thread).
    Idempotent; loads nothing."""
    if _Seen.installed:
        return
    _Seen.installed = True
    atexit = _modules.get("atexit")
    if atexit is not None:
        _wrap_atexit(atexit)
    else:
        _wrap_builtin_loading()
    _wrap_codecs()
    _wrap_thread_starts()


def _is_a(value, cls):
    """``isinstance`` from the type alone: ``isinstance`` falls back on ``value.__class__``, which a
    proxy (openai's, or one standing in ``sys.modules``) answers by loading what it stands for."""
    return issubclass(type(value), cls)


def _namespace(module):
    try:
        namespace = _get_attribute(module, "__dict__")
    except BaseException:  # noqa: BLE001
        return None
    return namespace if type(namespace) is dict else None


def _module_namespaces():
    """``{name: (module, namespace)}`` for the modules in sys.modules, read without running code."""
    found = {}
    for name, module in list(_modules.items()):
        if type(name) is str and _is_a(module, _ModuleType):
            namespace = _namespace(module)
            if namespace is not None:
                found[name] = (module, namespace)
    return found


def _signal_handlers():
    handlers: dict = {}
    if _signal is None:
        return handlers
    getsignal = _signal.getsignal
    for number in range(1, getattr(_signal, "NSIG", 65)):
        try:
            handlers[number] = getsignal(number)
        except BaseException:  # noqa: BLE001 - not a signal on this system
            continue
    return handlers


def _warnings_filters():
    warnings = _modules.get("warnings")
    filters = _namespace(warnings).get("filters") if warnings is not None and _namespace(warnings) else None
    if type(filters) is not list:
        filters = getattr(_modules.get("_warnings"), "filters", None)
    return list(filters) if type(filters) is list else []


def _logging_handlers():
    logging = _modules.get("logging")
    namespace = _namespace(logging) if logging is not None else None
    if namespace is None:
        return {}
    loggers = {}
    root = namespace.get("root")
    if root is not None:
        loggers["root"] = root
    logger_class = namespace.get("Logger")
    manager = _type_dict(logger_class).get("manager") if _is_a(logger_class, type) else None
    logger_dict = (_namespace(manager) or {}).get("loggerDict") if manager is not None else None
    if type(logger_dict) is dict:
        for name, logger in list(logger_dict.items()):
            if type(name) is str:
                loggers[name] = logger
    handlers = {}
    for name, logger in loggers.items():
        state = _namespace(logger)
        attached = state.get("handlers") if state is not None else None
        if type(attached) is list and attached:
            handlers[name] = list(attached)
    return handlers


def _copyreg_table():
    copyreg = _modules.get("copyreg")
    namespace = _namespace(copyreg) if copyreg is not None else None
    table = namespace.get("dispatch_table") if namespace is not None else None
    return dict(table) if type(table) is dict else None


def _environ():
    os = _modules.get("os")
    environ = _namespace(os).get("environ") if os is not None and _namespace(os) else None
    data = (_namespace(environ) or {}).get("_data") if environ is not None else None
    if type(data) is not dict:
        data = getattr(_modules.get("posix") or _modules.get("nt"), "environ", None)
    return dict(data) if type(data) is dict else {}


def _atexit_count():
    atexit = _modules.get("atexit")
    count = getattr(atexit, "_ncallbacks", None) if atexit is not None else None
    try:
        return count() if count is not None else 0
    except BaseException:  # noqa: BLE001
        return 0


_CONTAINERS = (dict, list, set)


def _containers(name, namespace):
    """``{key: len}`` of the module-level dicts, lists and sets that could be registries: not
    caches (a name with "cache" in it, or a known one), nor the import system's bookkeeping, nor
    what another kind reports."""
    if name in _BOOKKEEPING_MODULES:
        return {}
    return {key: len(value) for key, value in namespace.items()
            if type(value) in _CONTAINERS and type(key) is str and "cache" not in key.lower()
            and (name, key) not in _NOT_REGISTRIES}


def snapshot():
    """The state ``changes`` compares: plain data and references, no copies of anything large
    but module namespaces (one shallow dict copy each)."""
    modules = {}
    for name, (module, namespace) in _module_namespaces().items():
        spec = namespace.get("__spec__")
        initializing = False
        if spec is not None:
            try:
                initializing = bool(_namespace(spec) and _namespace(spec).get("_initializing"))
            except BaseException:  # noqa: BLE001
                initializing = False
        modules[name] = (module, namespace, dict(namespace), _containers(name, namespace), initializing)
    return {
        "seen": len(_Seen.events),
        ATEXIT: _atexit_count(),
        SIGNAL: _signal_handlers(),
        SYS_PATH: list(sys.path),
        META_PATH: list(sys.meta_path),
        PATH_HOOKS: list(sys.path_hooks),
        WARNINGS: _warnings_filters(),
        LOGGING: _logging_handlers(),
        COPYREG: _copyreg_table(),
        THREAD: set(_current_frames()),
        ENVIRON: _environ(),
        "modules": modules,
    }


# --- naming things without running their code ------------------------------------------------

def _class_name(cls):
    try:
        module = _type_module(cls)  # the class dict's, or a builtin type's from its C name
        qualname = _type_qualname(cls)
    except BaseException:  # noqa: BLE001
        return "?"
    if type(module) is not str or module == "builtins":
        return qualname
    return module + "." + qualname


def name_of(value):
    """A dotted name for a function, method, class or module; ``an instance of CLASS`` otherwise.
    Reads slots and class dicts only."""
    kind = type(value)
    if kind is _FunctionType:
        module = _get_attribute(value, "__module__")
        qualname = _get_attribute(value, "__qualname__")
        return (module + "." if type(module) is str else "") + qualname
    if issubclass(kind, type):
        return _class_name(value)
    if issubclass(kind, _ModuleType):
        namespace = _namespace(value) or {}
        return str(namespace.get("__name__", "?"))
    if kind is _MethodType:
        return name_of(_get_attribute(value, "__func__"))
    if kind is _BuiltinFunctionType:  # print, posix.remove, [].append: "Class.method" or "module.function"
        try:
            qualname = _get_attribute(value, "__qualname__")
            owner = _get_attribute(value, "__self__")
        except BaseException:  # noqa: BLE001
            return "?"
        return (name_of(owner) + "." if _is_a(owner, _ModuleType) else "") + str(qualname)
    return "an instance of " + _class_name(kind)


def _defined_in(function):
    try:
        return _get_attribute(function, "__module__")
    except BaseException:  # noqa: BLE001
        return None


def _signal_name(number):
    names = [name for name, value in (_namespace(_signal) or {}).items()
             if type(value) is int and value == number and name.startswith("SIG") and not name.startswith("SIG_")
             and name not in ("SIGRTMIN", "SIGRTMAX", "SIGIOT", "SIGCLD", "SIGPOLL")]
    return min(names) if names else "signal " + str(number)


def _handler_name(handler):
    if handler is None:
        return "a handler not set from Python"
    if type(handler) is int:
        return {0: "SIG_DFL", 1: "SIG_IGN"}.get(handler, str(handler))
    return name_of(handler)


def _filter_text(entry):
    if type(entry) is not tuple or len(entry) != 5:
        return "an entry that is not a filter: " + name_of(entry)
    action, message, category, module, line = entry
    parts = [action if type(action) is str else "?", name_of(category) if _is_a(category, type) else "?"]
    for label, pattern in (("message", message), ("module", module)):
        if pattern is not None:
            parts.append(label + "=" + repr(_pattern_text(pattern)))
    if type(line) is int and line:
        parts.append("line=" + str(line))
    return " ".join(parts)


def _pattern_text(pattern):
    """A filter's message or module: a string, or a compiled pattern's source (read from its
    type's own descriptor)."""
    if type(pattern) is str:
        return pattern
    descriptor = _type_dict(type(pattern)).get("pattern")
    try:
        text = descriptor.__get__(pattern) if descriptor is not None else None
    except BaseException:  # noqa: BLE001
        text = None
    return text if type(text) is str else "?"


def _thread_name(function):
    owner = _get_attribute(function, "__self__") if type(function) is _MethodType else _MISSING
    threading = _modules.get("threading")
    thread_class = (_namespace(threading) or {}).get("Thread") if threading is not None else None
    if owner is not _MISSING and _is_a(thread_class, type) and _is_a(owner, thread_class):
        state = _namespace(owner) or {}
        target = state.get("_target")
        running = name_of(target) if target is not None else _class_name(type(owner)) + ".run"
        return str(state.get("_name", "?")) + " running " + running
    return "running " + name_of(function)


def _sequence_changes(kind, before, after, describe):
    """Entries added and removed, by identity (a list entry's ``__eq__`` is never called); a
    string entry counts by value."""
    def key(entry):
        return ("s", entry) if type(entry) is str else ("o", id(entry))

    old_keys = {key(entry) for entry in before}
    new_keys = {key(entry) for entry in after}
    found = [(kind, "added " + describe(entry)) for entry in after if key(entry) not in old_keys]
    found.extend((kind, "removed " + describe(entry)) for entry in before if key(entry) not in new_keys)
    return found


def _path_text(entry):
    return entry if type(entry) is str else name_of(entry)


def _environ_key(key):
    return key.decode("utf-8", "surrogateescape") if type(key) is bytes else str(key)


_PLAIN_DATA = (type(None), bool, int, float, str, bytes, tuple, list, dict, set, frozenset)


def _initialised(old, new):
    """A plain value set where there was None or a value of the same plain type: what a module
    of the standard library does to itself on first use (``tempfile.gettempdir()`` sets
    ``tempfile.tempdir``; ``mimetypes.init()`` rebinds its tables). Replacing a function, a class
    or an object such as ``sys.stdout`` is no set-up."""
    new_type, old_type = type(new), type(old)
    return new_type in _PLAIN_DATA and (old is None or old_type is new_type)


def _module_changes(before, after):
    patched = []
    grown = []
    now = after["modules"]
    for name, (module, _namespace_then, copy, sizes, initializing) in before["modules"].items():
        if initializing or name == "__main__":
            continue  # its own import is still running: its namespace is still being built
        current = now.get(name)
        if current is None or current[0] is not module:
            continue
        real = getattr(module, "__name__", name)
        if real != name and type(real) is str and _modules.get(real) is module:
            continue  # another key for a module seen under its own name (requests.packages.urllib3)
        namespace = current[1]
        get = namespace.get
        changed = [key for key, old in copy.items() if get(key, _MISSING) is not old]
        for key, size in sizes.items():
            value = get(key, _MISSING)
            if value is copy[key] and len(value) > size:
                grown.append((REGISTRY, f"{name}.{key} grew by {len(value) - size}"))
        if not changed and len(namespace) == len(copy):
            continue
        stdlib = _in_stdlib(name) and name != "sys"  # sys sets nothing up lazily
        for key in changed:
            old, new = copy[key], get(key, _MISSING)
            if type(key) is not str or key in _NOT_ATTRIBUTES or (key.startswith("_") and not callable(old)):
                continue  # a private value set lazily: a cache, not a patch
            if new is not _MISSING and stdlib and _initialised(old, new):
                continue  # tempfile.tempdir, mimetypes.types_map: the module's own lazy set-up
            if new is _MISSING:
                patched.append((MONKEYPATCH, f"{name}.{key} deleted"))
            else:
                patched.append((MONKEYPATCH, f"{name}.{key} replaced by {name_of(new)}"))
        if "__getattr__" in copy:
            continue  # a lazy module caches what it serves: new names are its own doing
        for key, new in list(namespace.items()):
            if key in copy or type(key) is not str or key.startswith("_") or key in _NOT_ATTRIBUTES:
                continue
            if _is_a(new, _ModuleType) and _modules.get(name + "." + key) is new:
                continue  # the import system binds a submodule in its package
            patched.append((MONKEYPATCH, f"{name}.{key} added: {name_of(new)}"))
    return patched, grown


def changes(before, after):
    """``[(kind, detail), ...]``: what happened between two snapshots, in ``KINDS`` order."""
    found: list = []
    seen = _Seen.events[before["seen"]:after["seen"]]
    registered = [item for kind, item in seen if kind == ATEXIT]
    found.extend((ATEXIT, item) for item in registered if item is not None)
    unseen = after[ATEXIT] - before[ATEXIT] - len(registered)
    if unseen > 0:
        found.append((ATEXIT, f"{unseen} callback(s) registered out of sight"))
    for number, handler in after[SIGNAL].items():
        old = before[SIGNAL].get(number, _MISSING)
        if handler is not old and handler != old:
            found.append((SIGNAL, _signal_name(number) + ": " + _handler_name(handler)))
    found.extend(_sequence_changes(SYS_PATH, before[SYS_PATH], after[SYS_PATH], _path_text))
    found.extend(_sequence_changes(META_PATH, before[META_PATH], after[META_PATH], name_of))
    found.extend(_sequence_changes(PATH_HOOKS, before[PATH_HOOKS], after[PATH_HOOKS], name_of))
    found.extend(_sequence_changes(WARNINGS, before[WARNINGS], after[WARNINGS], _filter_text))
    for logger, handlers in after[LOGGING].items():
        old = before[LOGGING].get(logger, [])
        for handler in handlers:
            if not any(handler is known for known in old):
                found.append((LOGGING, logger + ": " + name_of(handler).replace("an instance of ", "")))
    found.extend((CODECS, item) for kind, item in seen if kind == CODECS and item is not None)
    table_before, table_after = before[COPYREG], after[COPYREG]
    if table_after is not None:
        for cls, reducer in table_after.items():
            if table_before is not None and table_before.get(cls, _MISSING) is reducer:
                continue
            if _in_stdlib(_defined_in(reducer)):
                continue  # copyreg's own, or re's: the standard library registering as it loads
            found.append((COPYREG, name_of(cls) + ": " + name_of(reducer)))
    started = [item for kind, item in seen if kind == THREAD]
    found.extend((THREAD, item) for item in started)
    unseen_threads = len(after[THREAD] - before[THREAD]) - len(started)
    if unseen_threads > 0:
        found.append((THREAD, f"{unseen_threads} thread(s) started out of sight"))
    environ_before, environ_after = before[ENVIRON], after[ENVIRON]
    for key, value in environ_after.items():
        if key not in environ_before:
            found.append((ENVIRON, "set " + _environ_key(key)))
        elif environ_before[key] != value:
            found.append((ENVIRON, "changed " + _environ_key(key)))
    for key in environ_before:
        if key not in environ_after:
            found.append((ENVIRON, "removed " + _environ_key(key)))
    patched, grown = _module_changes(before, after)
    return found + patched + grown
