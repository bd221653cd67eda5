"""``aoinspect graph``'s child: runs an entry (``import PACKAGE``, ``-c CODE``, a script or ``-m
module``) as ``python`` would, and records EVERY import request made meanwhile, hits included.

Run as ``python -c GRAPH_BOOTSTRAP graph.py RESULT_PATH KIND TARGET [ARG ...]`` (KIND: ``command``,
``module`` or ``script``; ``aoinspect.graphing`` starts it): the bootstrap loads this file as a
module object of its own, with builtins of its own, never put in ``sys.modules``, and calls
``main``; ``run`` empties ``__main__`` before the entry runs in it. Child code: see
``__init__.py`` for the rules it keeps.

An import that finds its module already loaded (a hit) never reaches the import system's loader,
so ``_find_and_load`` alone cannot see it: ``builtins.__import__`` (every ``import`` statement,
and ``__import__`` called from C) and ``importlib._bootstrap._gcd_import`` (``importlib.
import_module``) are wrapped too; ``_find_and_load`` catches the rest (an import C code makes
without ``__import__``, a package that replaced ``builtins.__import__`` with a hook that does not
call ours).

A request's **owner** is the module whose import body was running when it was made: the
innermost ``<module>`` frame that runs a module being imported, or, when an import began inside
that frame and no module frame runs under it (an extension module's initialisation, a loader),
the module that import is loading. The entry's own code owns nothing (``None``). Modules that
appear in ``sys.modules`` without an import of that name are reported as appearing by other
means, with the module that was loading (or the request that was running) at the time.

One ``graph`` section carries the result, written when the entry ends (``protocol.py``); the
child then ends with ``os._exit`` so that what the entry left running cannot keep it alive.
"""

import sys

_modules = sys.modules
_bootstrap = _modules["_frozen_importlib"]
_builtins = _modules["builtins"]
_thread = _modules["_thread"]
_get_ident = _thread.get_ident
_getframe = sys._getframe
_ModuleType = type(sys)
_open = open
_object_getattribute = object.__getattribute__
_module_getattribute = _ModuleType.__getattribute__
_os = _modules.get("os") or _modules.get("posix") or _modules.get("nt")
_unlink = getattr(_os, "unlink", None)
_exit = getattr(_os, "_exit", None)
_getcwd = getattr(_os, "getcwd", None)
_getpid = getattr(_os, "getpid", None)
_HERE = globals().get("__file__") or "<graph>"


_CHILD_DIR = _HERE[: max(_HERE.rfind("/"), _HERE.rfind("\\")) + 1]
_FunctionType = type(lambda: None)
_CO_OPTIMIZED = 0x1  # a function's code (its locals are fast locals); a class body's is not


def _sibling(name):
    """Load ``NAME.py`` from this folder as a module object never put in ``sys.modules``."""
    path = _CHILD_DIR + name + ".py"
    try:
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
protocol.hide(_getframe().f_code, _HERE)
_recorder = _sibling("recorder")
_keeper = _sibling("keeper")
clock_ns = _recorder.clock_ns

# Request kinds (``aoinspect.models.graph`` names them too).
KIND_IMPORT = "import"  # ``import a.b`` (``__import__`` without a fromlist)
KIND_FROM = "from"  # ``from a import b`` (``__import__`` with a fromlist)
KIND_IMPORT_MODULE = "import_module"  # ``importlib.import_module`` (``_gcd_import``)
KIND_OTHER = "other"  # an import the wrappers did not see: only its ``_find_and_load``
# Scopes of the asking frame.
SCOPE_MODULE, SCOPE_CLASS, SCOPE_FUNCTION, SCOPE_NATIVE = "module", "class", "function", "native"

# How a frame takes part: the import system's, ours, or the code of the entry and the packages.
# A module body in importlib's source files (``importlib/__init__.py`` being imported) is not
# the import system at work: only their functions are (``_SYSTEM_SOURCE``).
_SYSTEM, _OWN, _USER, _SYSTEM_SOURCE = 0, 1, 2, 3
_IMPORTLIB_SUFFIXES = ("/importlib/__init__.py", "/importlib/_bootstrap.py", "/importlib/_bootstrap_external.py")
_OWN_FILES = frozenset(protocol.hidden_name(_CHILD_DIR + name + ".py") for name in ("graph", "protocol", "recorder",
                                                                                     "keeper"))


def _classify(filename):
    if filename.startswith("<frozen importlib") or filename.startswith("<frozen zipimport"):
        return _SYSTEM
    if filename in _OWN_FILES:
        return _OWN
    if type(filename) is str and filename.replace("\\", "/").endswith(_IMPORTLIB_SUFFIXES):
        return _SYSTEM_SOURCE
    return _USER


def _module_dict(module):
    try:
        namespace = _object_getattribute(module, "__dict__")
    except BaseException:  # noqa: BLE001
        return None
    return namespace if type(namespace) is dict else None


def _module_getattr(module, namespace):
    """The ``__getattr__`` that serves names ``module`` lacks: its own (PEP 562), or its class's
    when it is a module subclass (transformers' ``_LazyModule``); None when it has none. Read
    without running package code."""
    if namespace is None:
        return None
    hook = namespace.get("__getattr__")
    if hook is not None:
        return hook
    kind = type(module)
    if kind is _ModuleType:
        return None
    for klass in kind.__mro__:
        if klass is _ModuleType:
            return None
        found = klass.__dict__.get("__getattr__")
        if found is not None:
            return found
    return None


def _package_of(globals_):
    """What ``__import__`` resolves a relative name against, read without running package code
    and without the import system's warnings (which it will give itself)."""
    if type(globals_) is not dict:
        return None
    package = globals_.get("__package__")
    if type(package) is str:
        return package
    spec = globals_.get("__spec__")
    if spec is not None:
        try:
            parent = _object_getattribute(spec, "parent")
        except BaseException:  # noqa: BLE001
            parent = None
        if type(parent) is str:
            return parent
    name = globals_.get("__name__")
    if type(name) is not str:
        return None
    return name if "__path__" in globals_ else name.rpartition(".")[0]


def _resolve(name, package, level):
    if not level:
        return name
    if not package:
        return None
    bits = package.rsplit(".", level - 1)
    if len(bits) < level:
        return None
    base = bits[0]
    return base + "." + name if name else base


class Request:
    """One import request (a record, sent as a list: see ``as_list``)."""

    __slots__ = ("count", "duration", "failed", "file", "hit", "index", "kind", "level", "line", "loaded", "name",
                 "names", "owner", "package", "scope", "start", "submodules", "target")

    def as_list(self):
        return [self.index, self.owner, self.file, self.line, self.scope, self.kind, self.name, self.package,
                self.target, list(self.names), self.level, self.hit, self.start, self.duration, self.loaded,
                self.submodules, self.count, self.failed]


class Miss:
    """An import of a module not yet loaded, in progress: the frame of our ``_find_and_load``."""

    __slots__ = ("frame", "name")

    def __init__(self, frame, name):
        self.frame = frame
        self.name = name


_MethodType = type(Miss(None, "").__init__)  # a bound method's type


class GraphRecorder:
    """The wrappers of ``builtins.__import__``, ``_gcd_import`` and ``_find_and_load``, and what
    they saw: the requests, which request loaded each module, and the modules that appeared by
    other means."""

    def __init__(self, baseline):
        self.origin = clock_ns()
        self.requests = []
        self.by_key = {}  # a request made again (a function called many times) is counted, not repeated
        self.loaded_by = {}  # module -> request index
        self.other_means = {}  # module -> [owner, request index or None]
        self.baseline = baseline
        self.known = set(baseline)
        self.expected = len(_modules)
        self.kinds = {}
        self.requests_running = {}  # id(frame of a request wrapper) -> Request
        self.misses_running = {}  # id(frame of our _find_and_load) -> Miss
        # id -> code object of each function a package put in builtins.__import__ (kept alive here,
        # so that its id stays its own): a frame's code is looked up by id, as hashing a code object
        # walks its bytecode, which made hashing every walked frame's code a fifth of the child's work.
        self.hooks = {}
        self.hook_objects = []  # what it put there (kept: their identity is compared)
        self.loading = {}  # module name -> imports of it in progress
        # Names being imported that ``sync`` found in sys.modules: ``expected`` counts them already,
        # so that a nested import's check does not list sys.modules again for every request.
        self.counted_loading = set()
        self.original_import = _builtins.__import__
        self.original_gcd = getattr(_bootstrap, "_gcd_import")  # noqa: B009
        self.original_find = getattr(_bootstrap, "_find_and_load")  # noqa: B009
        self.our_import = None
        self.recording = True
        # What only ``check``'s predicting child (predict.py) asks for, off by default:
        self.failures = None  # request index -> the module a ModuleNotFoundError named, or "" (another error)
        self.served = None  # [request index, name, first request, end]: what serving each ``from`` name asked for
        self.bound = None  # module with a ``__getattr__`` -> [that function's file, the names its body bound]
        self.thread_owners = {}  # thread ident -> the module whose body started it
        self.thread_starters = {}  # _thread's functions as they were
        self.native_hits = False  # see the hits C code makes too (``_watch_native_hits``): predict.py's
        self.spec_class = None  # ModuleSpec, while its ``_initializing`` is ours

    # --- where a request comes from ---

    def _kind(self, code):
        kind = self.kinds.get(code.co_filename)
        if kind is None:
            kind = self.kinds[code.co_filename] = _classify(code.co_filename)
        if kind == _SYSTEM_SOURCE:
            return _USER if code.co_name == "<module>" else _SYSTEM
        return kind

    def _note_hook(self):
        """A Python function a package put in ``builtins.__import__`` over ours: its frames are
        not where a request is made (read without running anything of the package)."""
        current = _builtins.__dict__.get("__import__")
        if current is self.our_import or current is None or any(seen is current for seen in self.hook_objects):
            return
        self.hook_objects.append(current)
        kind = type(current)
        if kind is _FunctionType:
            self._add_hook(current.__code__)
        elif kind is _MethodType and type(current.__func__) is _FunctionType:
            self._add_hook(current.__func__.__code__)
        else:  # an object with __call__: its class's, found without asking the object anything
            for klass in kind.__mro__:
                call = klass.__dict__.get("__call__")
                if call is not None:
                    if type(call) is _FunctionType:
                        self._add_hook(call.__code__)
                    break

    def _add_hook(self, code):
        self.hooks[id(code)] = code

    def locate(self, frame):
        """``(asking frame or None, owner, the Miss whose loading the walk met first or None)``."""
        asking = None
        misses = self.misses_running
        hooks = self.hooks
        kinds = self.kinds
        while frame is not None:
            code = frame.f_code
            kind = kinds.get(code.co_filename)  # ``_kind``'s answer, without its call where it is known
            if kind is None or kind == _SYSTEM_SOURCE:
                kind = self._kind(code)
            if kind == _USER:
                # (hooks: looked up only once a package put one in builtins.__import__)
                if not hooks or id(code) not in hooks:
                    if asking is None:
                        asking = frame
                    if code.co_name == "<module>":
                        namespace = frame.f_globals
                        name = namespace.get("__name__")
                        if name == "__main__":
                            return asking, None, None
                        if type(name) is str and (name in self.loading
                                                  or _module_dict(_modules.get(name)) is namespace):
                            return asking, name, None
            elif kind == _OWN:
                miss = misses.get(id(frame))
                if miss is not None and miss.frame is frame:
                    return asking, miss.name, miss
            frame = frame.f_back
        # No module body below: a thread's own code. Its owner is the module whose import body
        # started the thread (None: the entry, or a thread started before recording).
        return asking, self.thread_owners.get(_get_ident()), None

    def _request_of(self, frame):
        """The request whose wrapper is the first frame outside the import system from ``frame``
        outwards (past the imports of parent packages in progress), or None."""
        running = self.requests_running
        misses = self.misses_running
        while frame is not None:
            kind = self._kind(frame.f_code)
            if kind == _SYSTEM:
                frame = frame.f_back
                continue
            if kind == _OWN:
                request = running.get(id(frame))
                if request is not None:
                    return request
                if id(frame) in misses:
                    frame = frame.f_back
                    continue
            return None
        return None

    @staticmethod
    def _scope(frame):
        if frame is None:
            return SCOPE_NATIVE
        code = frame.f_code
        if code.co_name == "<module>":
            return SCOPE_MODULE
        return SCOPE_FUNCTION if code.co_flags & _CO_OPTIMIZED else SCOPE_CLASS

    # --- modules that appear without an import of their name ---

    def sync(self, owner, request):
        """``sys.modules`` changed beyond what the imports explain: note the new names (appeared by
        other means, under ``owner`` or ``request``) and forget the removed ones."""
        try:
            present_set = set(_modules)  # from the dict itself: its keys' hashes are reused
        except BaseException:  # noqa: BLE001 - changed size meanwhile (another thread)
            return
        # In C: a sync follows nearly every module's load (its body's first request finds it in
        # sys.modules before its import ends), and sys.modules holds thousands of names.
        known = self.known
        fresh = present_set - known
        counted_loading = set()  # names being imported now: known when their import ends
        if fresh:
            loading = self.loading
            counted_loading = {name for name in fresh if name in loading}
            appeared = fresh - counted_loading if counted_loading else fresh
            if appeared:
                known.update(appeared)
                in_order = list(appeared)
                if len(in_order) > 1:  # in sys.modules' order
                    try:
                        in_order = list(filter(appeared.__contains__, list(_modules)))
                    except BaseException:  # noqa: BLE001 - changed size meanwhile (another thread)
                        pass
                for name in in_order:
                    if type(name) is str and name not in self.loaded_by and name not in self.other_means:
                        self.other_means[name] = [owner, None if request is None else request.index]
                        if request is not None:
                            request.loaded.append(name)
        accounted = len(present_set)  # names in sys.modules the recorder knows of, or is importing now
        if len(known) + len(counted_loading) != accounted:
            known.intersection_update(present_set)
        self.counted_loading = counted_loading
        self.expected = accounted

    # --- the wrappers ---

    def _new_request(self, owner, asking, kind, name, package, target, names, level):
        if asking is None:
            file, line, scope = None, 0, SCOPE_NATIVE
        else:
            file, line, scope = asking.f_code.co_filename, asking.f_lineno or 0, self._scope(asking)
        key = (owner, file, line, kind, name, package, names, level)
        known = self.by_key.get(key)
        if known is not None:
            known.count += 1
            return known, False
        request = Request()
        request.index = len(self.requests)
        request.owner = owner
        request.file = file
        request.line = line
        request.scope = scope
        request.kind = kind
        request.name = name
        request.package = package
        request.target = target
        request.names = names
        request.level = level
        request.hit = True
        request.start = clock_ns() - self.origin
        request.duration = 0
        request.loaded = []
        request.submodules = []
        request.count = 1
        request.failed = False
        self.requests.append(request)
        self.by_key[key] = request
        return request, True

    def _call(self, request, fresh, call, arguments, fromlist):
        """Make the request with ``call``: time it, and say what it loaded."""
        target = request.target
        modules = _modules
        if not fresh and len(modules) == self.expected and self._loads_nothing(target, call, arguments):
            # A request made again that finds everything it asks for loaded (a function that
            # imports each time it is called): nothing to time, and no import it begins.
            raised = sys.getrecursionlimit() + 2
            sys.setrecursionlimit(raised)
            try:
                return call(*arguments)
            finally:
                if sys.getrecursionlimit() == raised:
                    sys.setrecursionlimit(raised - 1)
                if len(modules) != self.expected:
                    self.sync(request.owner, request)
        frame = _getframe(0)  # the frame ``_request_of`` finds above the imports this one begins
        if fresh:
            request.hit = target is not None and target in modules
            if request.hit and fromlist:
                # A name the module lacks may be a submodule, which this request would load.
                namespace = _module_dict(modules[target])
                if namespace is not None and "__path__" in namespace:
                    for item in fromlist:
                        if type(item) is str and item != "*" and item not in namespace \
                                and target + "." + item not in modules:
                            request.hit = False
        if len(modules) != self.expected:
            self.sync(request.owner, None)
        running = self.requests_running
        running[id(frame)] = request
        began = clock_ns()
        raised = sys.getrecursionlimit() + 2  # our two frames are ones a plain import does not have
        sys.setrecursionlimit(raised)
        try:
            if fresh and fromlist and self.served is not None and call is self.original_import:
                self._serve_each(request, call, arguments, fromlist, self.served)
            return call(*arguments)
        except BaseException as exc:
            if fresh and (target is None or target not in modules):
                request.failed = True
                if self.failures is not None:
                    missing = getattr(exc, "name", None) if isinstance(exc, ModuleNotFoundError) else None
                    self.failures[request.index] = missing if type(missing) is str else ""
            raise
        finally:
            if sys.getrecursionlimit() == raised:
                sys.setrecursionlimit(raised - 1)
            running.pop(id(frame), None)
            if fresh:
                request.duration = clock_ns() - began
                if fromlist and target is not None:
                    self._submodules(request, fromlist)
            if len(modules) != self.expected:
                self.sync(request.owner, request)

    def _loads_nothing(self, target, call, arguments):
        """Whether making this request again can load nothing: its module and its top package are
        loaded, and each name of a ``from`` (no ``*``) is bound on it already (``_handle_fromlist``
        imports only what is missing)."""
        modules = _modules
        if target is None or target not in modules:
            return False
        if call is self.original_gcd:
            return True
        if call is not self.original_import:
            return False
        if target.partition(".")[0] not in modules:
            return False
        fromlist = arguments[3]
        if not fromlist:
            return True
        if type(fromlist) not in (list, tuple):
            return False
        module = modules[target]
        namespace = _module_dict(module)
        if namespace is None or getattr(type(module), "__getattribute__", None) is not _module_getattribute:
            return False
        if "__path__" not in namespace:
            # A plain module: ``_handle_fromlist`` is not called (unless its ``__getattr__`` serves a ``__path__``).
            return _module_getattr(module, namespace) is None
        return all(type(item) is str and item != "*" and item in namespace for item in fromlist)

    def _serve_each(self, request, call, arguments, fromlist, served):
        """The predicting child's ``from M import a, b``: each name served on its own, in the order
        ``_handle_fromlist`` (a package) or ``IMPORT_FROM`` (a module's ``__getattr__``) serves them,
        so that what serving each one asked for is known (``served``). The full call then finds
        them served."""
        name, globals_, locals_, _fromlist, level = arguments
        requests = self.requests
        missing = served  # a marker no module binds
        for item in fromlist:
            if type(item) is not str or item == "*":
                continue
            target = _modules.get(request.target) if request.target is not None else None
            before = _module_dict(target) if target is not None else None
            kept = before is not None and item in before  # bound already: served before, if ever
            if before is not None and type(target) is _ModuleType and before.get("__getattr__") is None \
                    and (kept or "__path__" not in before):
                # A plain module, loaded, with no ``__getattr__``, that is no package or binds the
                # name already: serving the name from it asks for nothing (``__import__`` returns
                # it as it is, or ``_handle_fromlist`` finds the name), so the call is spared.
                if not kept:
                    served.append([request.index, item, len(requests), len(requests)])
                continue
            unbound = missing
            described = self.bound.get(request.target) if kept and self.bound is not None else None
            if described is not None and item not in described[1] and before is not None \
                    and request.target + "." + item not in _modules:
                # Bound by an earlier serve of its module's ``__getattr__`` (it kept the value, or
                # bound neighbours): unbound, so that it is served again and what that asks for is
                # seen; put back if the serve does not bind it again.
                try:
                    unbound = before.pop(item)
                except BaseException:  # noqa: BLE001
                    unbound = missing
            first = len(requests)
            try:
                module = call(name, globals_, locals_, (item,), level)
                namespace = _module_dict(module)
                if namespace is not None and "__path__" not in namespace and item not in namespace \
                        and _module_getattr(module, namespace) is not None:
                    try:
                        getattr(module, item)
                    except BaseException:  # noqa: BLE001 - IMPORT_FROM raises it again, as the program would see it
                        pass
            finally:
                if unbound is not missing and before is not None and item not in before:
                    before[item] = unbound
            if not kept or unbound is not missing:
                served.append([request.index, item, first, len(requests)])

    def _submodules(self, request, fromlist):
        target = request.target
        namespace = _module_dict(_modules.get(target))
        items = list(fromlist)
        if "*" in items and namespace is not None:
            exported = namespace.get("__all__")
            items = [item for item in exported if type(item) is str] if type(exported) in (list, tuple) else []
        for item in items:
            if type(item) is not str or item == "*":
                continue
            name = target + "." + item
            module = _modules.get(name)
            # The name is the submodule unless the package binds it to something else; a module
            # still being imported is not bound yet, and ``from`` finds it in sys.modules.
            if module is not None and (namespace is None or namespace.get(item, module) is module) \
                    and name not in request.submodules:
                request.submodules.append(name)

    def install(self):
        recorder = self
        original_import = self.original_import
        original_gcd = self.original_gcd
        original_find = self.original_find
        getframe = _getframe
        locate = self.locate
        new_request = self._new_request
        make = self._call
        get_limit = sys.getrecursionlimit
        set_limit = sys.setrecursionlimit
        baseline = self.baseline
        modules = _modules

        def internal(miss, target):
            """A request no Python code made, that is the import system's own: a parent package of
            the import in progress, or a module loaded before the entry (``_io`` to read a file)."""
            if target is None:
                return False
            if miss is not None and miss.name.startswith(target + "."):
                return True
            return target in baseline and target in modules

        def __import__(name, globals=None, locals=None, fromlist=(), level=0):
            if type(name) is not str or type(level) is not int:
                return original_import(name, globals, locals, fromlist, level)
            recorder._note_hook()
            asking, owner, miss = locate(getframe(1))
            package = _package_of(globals) if level else None
            target = _resolve(name, package, level) if level else name
            if asking is None and internal(miss, target):
                return original_import(name, globals, locals, fromlist, level)
            names = ()  # type: tuple[str, ...]
            if fromlist and asking is not None and type(fromlist) in (list, tuple):  # never consume an iterator
                names = tuple(fromlist)
                for item in names:
                    if type(item) is not str:
                        names = tuple(item for item in names if type(item) is str)
                        break
            kind = KIND_FROM if names else KIND_IMPORT
            request, fresh = new_request(owner, asking, kind, name, package, target, names, level)
            return make(request, fresh, original_import, (name, globals, locals, fromlist, level), names)

        def _gcd_import(name, package=None, level=0):
            if type(name) is not str or type(level) is not int:
                return original_gcd(name, package, level)
            asking, owner, miss = locate(getframe(1))
            target = _resolve(name, package if type(package) is str else None, level) if level else name
            if asking is None and internal(miss, target):
                return original_gcd(name, package, level)
            kind, names = KIND_IMPORT_MODULE, ()  # type: tuple[str, tuple[str, ...]]
            caller = getframe(1)
            if caller.f_code.co_name == "__import__" and recorder._kind(caller.f_code) == _SYSTEM:
                # importlib.__import__, which a package put in builtins.__import__: a statement,
                # whose fromlist only that frame holds (its _handle_fromlist asks for nothing
                # already bound, so the hits on submodules would be lost).
                kind, names = statement_of(caller)
            request, fresh = new_request(owner, asking, kind, name,
                                         package if type(package) is str else None, target, names, level)
            return make(request, fresh, original_gcd, (name, package, level), names)

        def statement_of(frame):
            try:
                fromlist = frame.f_locals.get("fromlist")
                names = tuple(item for item in fromlist if type(item) is str) if fromlist else ()
            except BaseException:  # noqa: BLE001 - whatever the package passed
                names = ()
            return (KIND_FROM if names else KIND_IMPORT), names

        def _find_and_load(name, import_):
            modules = _modules
            if name in modules:
                return original_find(name, import_)
            frame = getframe(0)
            request = recorder._request_of(frame.f_back)
            owner = None
            if request is None:
                asking, owner, _miss = locate(frame.f_back)
                request, _fresh = new_request(owner, asking, KIND_OTHER, name, None, name, (), 0)
                request.hit = False
            else:
                owner = request.owner
            if len(modules) != recorder.expected:
                recorder.sync(owner, None)
            miss = Miss(frame, name)
            misses = recorder.misses_running
            misses[id(frame)] = miss
            loading = recorder.loading
            loading[name] = loading.get(name, 0) + 1
            raised = get_limit() + 1  # as for a request: one frame more than a plain import has
            set_limit(raised)
            try:
                return original_find(name, import_)
            finally:
                if get_limit() == raised:
                    set_limit(raised - 1)
                misses.pop(id(frame), None)
                if loading[name] == 1:
                    del loading[name]
                else:
                    loading[name] -= 1
                counted = name in recorder.counted_loading
                if counted and (loading.get(name) is None or name not in modules):
                    recorder.counted_loading.discard(name)  # known below, or gone: counted again
                    recorder.expected -= 1
                if name in modules and name not in recorder.known:
                    if recorder.bound is not None:
                        namespace = _module_dict(modules[name])
                        hook = _module_getattr(modules[name], namespace)
                        if hook is not None:
                            code = getattr(hook, "__code__", None)
                            where = getattr(code, "co_filename", None)
                            recorder.bound[name] = [where if type(where) is str else None,
                                                    [key for key in namespace if type(key) is str]]
                    recorder.known.add(name)
                    recorder.expected += 1
                    if name not in recorder.loaded_by:
                        recorder.loaded_by[name] = request.index
                        request.loaded.append(name)
                    recorder.other_means.pop(name, None)
                if len(modules) != recorder.expected:
                    recorder.sync(name, None)

        self.our_import = __import__
        _builtins.__import__ = __import__
        setattr(_bootstrap, "_gcd_import", _gcd_import)  # noqa: B010
        setattr(_bootstrap, "_find_and_load", _find_and_load)  # noqa: B010
        self._watch_threads()
        if self.native_hits:
            self._watch_native_hits()

    def _watch_threads(self):
        """Wrap ``_thread``'s thread starters (``threading`` binds them when it is imported, which
        a bare interpreter has not done yet), so that a thread started during a module's import
        body is owned by that module. Once recording ends, the wrappers only hand over."""
        recorder = self
        owners = self.thread_owners
        for attribute in ("start_new_thread", "start_joinable_thread"):
            real = getattr(_thread, attribute, None)
            if real is None:
                continue

            def start(function, *args, _real=real, **kwargs):
                if not recorder.recording:
                    return _real(function, *args, **kwargs)
                owner = recorder.locate(_getframe(1))[1]

                def run(*inner, **named):
                    owners[_get_ident()] = owner
                    return function(*inner, **named)

                return _real(run, *args, **kwargs)

            start.__name__ = start.__qualname__ = attribute
            start.__doc__ = getattr(real, "__doc__", None)
            start.__module__ = "_thread"
            self.thread_starters[attribute] = real
            setattr(_thread, attribute, start)

    def _watch_native_hits(self):
        """See the imports C code makes of modules already loaded (a Cython or Pythran module's
        ``import threading`` as it initialises): a hit reaches neither ``__import__`` nor
        ``_find_and_load``, so a module an earlier name loaded hid that edge from every later name.
        CPython's ``PyImport_ImportModuleLevelObject`` (and Cython's own look-up) read the hit
        module's ``__spec__._initializing``: a data descriptor for it on ``ModuleSpec`` sees each
        read, and keeps the value in the spec's own ``__dict__``, so every answer is unchanged."""
        spec_class = getattr(_bootstrap, "ModuleSpec", None)
        if spec_class is None or "_initializing" in spec_class.__dict__:
            return
        recorder = self
        getframe = _getframe

        class Initializing:
            __slots__ = ()

            def __get__(self, spec, owner=None):
                if spec is None:
                    return self
                namespace = _object_getattribute(spec, "__dict__")
                if "_initializing" not in namespace:
                    raise AttributeError("_initializing")
                if recorder.recording:
                    try:
                        frame = getframe(1)
                        # Most reads are the import system's own, from Python: only one under
                        # _call_with_frames_removed may be a hit no wrapper saw (_native_hit).
                        if frame.f_code.co_name == "_call_with_frames_removed":
                            recorder._native_hit(namespace.get("name"), frame)
                    except BaseException:  # noqa: BLE001 - no frame (at shutdown): nothing to record
                        pass
                return namespace["_initializing"]

            def __set__(self, spec, value):
                _object_getattribute(spec, "__dict__")["_initializing"] = value

            def __delete__(self, spec):
                del _object_getattribute(spec, "__dict__")["_initializing"]

        spec_class._initializing = Initializing()
        self.spec_class = spec_class

    def _native_hit(self, name, frame):
        """A read of ``name``'s ``__spec__._initializing`` from ``frame``'s call into C. Only one
        under the import system's ``_call_with_frames_removed`` is taken for a hit no wrapper saw
        (an extension module's initialisation): CPython reads it too for a module subclass's
        attribute that is missing (transformers' ``_LazyModule``), which imports nothing."""
        code = frame.f_code
        if code.co_name != "_call_with_frames_removed" or self._kind(code) != _SYSTEM:
            return
        if type(name) is not str or name in self.baseline or name not in _modules:
            return
        _asking, owner, _miss = self.locate(frame)
        if owner != name:
            self._new_request(owner, None, KIND_OTHER, name, None, name, (), 0)

    def uninstall(self):
        self.recording = False
        if self.spec_class is not None:
            if "_initializing" in self.spec_class.__dict__:
                delattr(self.spec_class, "_initializing")
            self.spec_class = None
        if _builtins.__dict__.get("__import__") is self.our_import:
            _builtins.__import__ = self.original_import
        setattr(_bootstrap, "_gcd_import", self.original_gcd)  # noqa: B010
        setattr(_bootstrap, "_find_and_load", self.original_find)  # noqa: B010

    def modules(self, baseline):
        """``[name, file, loaded_by, by other means, owner]`` for each module added since ``baseline``."""
        described = []
        for name in list(_modules):
            if name in baseline or type(name) is not str:
                continue
            namespace = _module_dict(_modules.get(name))
            file = namespace.get("__file__") if namespace is not None else None
            if name in self.loaded_by:
                described.append([name, file if type(file) is str else None, self.loaded_by[name], False, None])
            else:
                owner, index = self.other_means.get(name, [None, None])
                described.append([name, file if type(file) is str else None, index, True, owner])
        return described


# --- running the entry as ``python`` would ------------------------------------------------------


def _token(path):
    secret = path + protocol.TOKEN_SUFFIX
    try:
        with _open(secret, "rb") as stream:
            token = stream.read(64).decode("ascii", "replace")
        _unlink(secret)
        return token
    except BaseException:  # noqa: BLE001 - no secret: a run by hand
        return ""


def _describe(exc):
    try:
        text = str(exc)
    except BaseException:  # noqa: BLE001
        text = "<unprintable>"
    return type(exc).__name__ + (": " + text[:300] if text else "")


def run(result_path, kind, target, arguments, stop_after=0.0, kept=False):
    """Run the entry with every import request recorded; report when it ends, or after
    ``stop_after`` seconds (0: never) if it is still running (a server's start-up)."""
    reporter = protocol.Reporter(result_path, _open, _token(result_path))
    main = _modules["__main__"]
    namespace = main.__dict__
    for key in [key for key in namespace if key not in ("__name__", "__doc__", "__package__", "__loader__",
                                                      "__spec__", "__annotations__", "__builtins__")]:
        del namespace[key]
    if kind == "module":
        import runpy  # ``python -m`` has it loaded before the module runs: not the entry's
    if sys.path and not getattr(sys.flags, "safe_path", False):
        if kind == "script":
            path = _modules.get("os.path") or _modules["posixpath"]
            sys.path[0] = path.dirname(path.realpath(target))
        else:
            sys.path[0] = "" if kind == "command" else _getcwd()
    sys.argv[:] = (["-c"] if kind == "command" else ["-m"] if kind == "module" else [target]) + list(arguments)
    if kind == "command":
        namespace["__loader__"] = _bootstrap.BuiltinImporter
    baseline = frozenset(_modules)
    recorder = GraphRecorder(baseline)
    started = clock_ns()
    ending = Ending(recorder, reporter, baseline, started)
    ending.watch()
    if stop_after > 0:
        ending.stop_after(stop_after, kept)
    recorder.install()
    try:
        if kind == "command":
            exec(compile(target, "<string>", "exec", dont_inherit=True), namespace)
        elif kind == "module":
            getattr(runpy, "_run_module_as_main")(target, True)  # noqa: B009 - what python -m calls
        else:
            with _open(target, "rb") as stream:
                source = stream.read()
            namespace["__file__"] = target
            exec(compile(source, target, "exec", dont_inherit=True), namespace)
    except SystemExit as exc:
        ending.report("exit", None if exc.code in (None, 0) else _describe(exc))
    except BaseException as exc:  # noqa: BLE001 - the entry's failure is part of the report
        ending.report("exception", _describe(exc))
    ending.report("returned", None)


class Ending:
    """Sends the graph once, when the entry ends: returning, raising, or before ``os._exit`` and
    ``os.exec*`` (which end the process with no ``finally`` run)."""

    def __init__(self, recorder, reporter, baseline, started):
        self.recorder = recorder
        self.reporter = reporter
        self.baseline = baseline
        self.started = started
        self.sent = False
        self.pid = _getpid()

    def report(self, how, error):
        if self.sent or _getpid() != self.pid:  # a forked child's os._exit is not the entry's end
            return
        self.sent = True
        elapsed = clock_ns() - self.started
        recorder = self.recorder
        recorder.uninstall()
        if len(_modules) != recorder.expected:
            recorder.sync(None, None)
        self.reporter.send(protocol.SECTION_GRAPH, {
            "python": list(sys.version_info[:3]),
            "baseline": sorted(name for name in self.baseline if type(name) is str),
            "requests": [request.as_list() for request in list(recorder.requests)],
            "modules": recorder.modules(self.baseline),
            "ending": how,
            "error": error,
            "elapsed_ns": elapsed,
        })

    def stop_after(self, seconds, kept=False):
        """Report the graph so far and end the process after ``seconds``: on the keeper's
        ``STOP_SIGNAL`` when ``kept`` (it sends it then), else on SIGALRM from our own timer (a
        program that sets its own alarm takes it over, and the parent's deadline ends it instead)."""
        signals = _modules.get("_signal")
        if signals is None or not hasattr(signals, "signal"):
            return
        ending = self

        def on_alarm(number, frame):
            try:
                ending.report("timeout", "still running after " + format(seconds, "g") + " s")
            finally:
                _exit(0)

        try:
            if kept:
                signals.signal(_keeper.STOP_SIGNAL, on_alarm)
            elif hasattr(signals, "setitimer") and hasattr(signals, "SIGALRM"):
                signals.signal(signals.SIGALRM, on_alarm)
                signals.setitimer(signals.ITIMER_REAL, seconds)
        except BaseException:  # noqa: BLE001 - not the main thread, or no timers: the deadline alone
            pass

    def watch(self, audit=True):
        """``os._exit`` wrapped (the same wrapper in ``os`` and ``posix``); ``os.exec*`` seen by an
        audit hook, which leaves the function as it is (unless not ``audit``: the hook is called
        for every audited event, each ``frame.f_code`` the recorder reads included)."""
        ending = self
        real = _exit

        def _exit_after_report(*args, **kwargs):
            try:
                ending.report("os._exit", None if args and args[0] == 0 else "os._exit(" + repr(args[0] if args
                                                                                                  else "") + ")")
            except BaseException:  # noqa: BLE001 - the program's exit must happen
                pass
            return real(*args, **kwargs)

        _exit_after_report.__name__ = getattr(real, "__name__", "_exit")
        _exit_after_report.__qualname__ = getattr(real, "__qualname__", "_exit")
        _exit_after_report.__doc__ = getattr(real, "__doc__", None)
        _exit_after_report.__module__ = getattr(real, "__module__", None) or "posix"
        for name in ("os", "posix", "nt"):
            module = _modules.get(name)
            if module is not None and getattr(module, "_exit", None) is real:
                setattr(module, "_exit", _exit_after_report)  # noqa: B010

        def on_event(event, args):
            if event == "os.exec":
                try:
                    ending.report("exec", None)
                except BaseException:  # noqa: BLE001
                    pass

        add_hook = getattr(sys, "addaudithook", None)
        if add_hook is not None and audit:
            add_hook(on_event)


def main(argv):
    """``argv``: RESULT_PATH STOP_AFTER KIND TARGET [ARG ...]. Ends the process."""
    stop_after = float(argv[1])
    # What the entry sends its parent reaches the keeper, not aoinspect; the keeper also sends
    # the stop, which a program that takes SIGALRM or the interval timer over cannot take away.
    kept = _keeper.below(stop_after=stop_after) and stop_after > 0 and _keeper.STOP_SIGNAL is not None
    if kept:  # until ``Ending.stop_after`` takes it: a stop that early finds nothing to report
        _keeper.ignore_signal(_keeper.STOP_SIGNAL)
    try:
        run(argv[0], argv[2], argv[3], argv[4:], stop_after, kept)
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except BaseException:  # noqa: BLE001
                pass
        _exit(0)
