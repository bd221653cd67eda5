"""``check``'s predicting child: imports a package and touches every name it is given, one after
another in this one interpreter, while ``graph.py``'s recorder records every import request
(hits included). Between two names the recorder forgets which requests it has seen, so that a
request each name makes is recorded for that name, and the range of each name's requests is
kept: the parent (``aoinspect.predicting``) cuts the requests the entry
itself made into each name's own, and predicts from the graph what each name loads alone.

Run as ``python -c PREDICT_BOOTSTRAP predict.py RESULT_PATH PACKAGE NAME...``. Child code: see
``__init__.py`` for the rules it keeps. It sends the ``graph`` section (``graph.py``'s, of
``import PACKAGE`` and every access) and a ``predict`` section: the modules loaded by the import,
and for each name the range of requests it made, whether its access raised, and which modules
appeared meanwhile; with what the recorder noted for prediction alone (``failures``: the module a
failed request found missing; ``served``: what serving each ``from`` name asked for; ``bound``:
the names each module with a ``__getattr__`` bound in its import body).
"""

import sys

_modules = sys.modules
_ModuleType = type(sys)
_open = open
_object_getattribute = object.__getattribute__
_MISSING = object()
_HERE = globals().get("__file__") or "<predict>"
_CHILD_DIR = _HERE[: max(_HERE.rfind("/"), _HERE.rfind("\\")) + 1]


def _load_graph():
    """``graph.py`` as a module object of its own, never in ``sys.modules`` (as its bootstrap loads it)."""
    path = _CHILD_DIR + "graph.py"
    try:
        code = _modules["_frozen_importlib_external"].SourceFileLoader("graph", path).get_code("graph")
    except Exception:  # noqa: BLE001
        code = None
    if code is None:
        with _open(path, "rb") as stream:
            code = compile(stream.read(), path, "exec")
    module = _ModuleType("aoinspect_child_graph")
    module.__file__ = path
    module.__builtins__ = dict(vars(_modules["builtins"]))
    exec(code, module.__dict__)
    return module


def _described(value):
    """``[type, repr, is_module]`` of what an access returned, as the resolve probe describes it."""
    try:
        kind = type(value)
        module, qualname = getattr(kind, "__module__", "?"), getattr(kind, "__qualname__", "?")
        type_name = qualname if module == "builtins" else module + "." + qualname
    except BaseException:  # noqa: BLE001
        type_name = "?"
    is_module = isinstance(value, _ModuleType)
    try:
        text = f"<module {value.__name__!r}>" if is_module else repr(value)
    except BaseException:  # noqa: BLE001
        text = "<unprintable>"
    return [type_name, text[:200] if type(text) is str else "?", is_module]


def _guarded(hook, prefix):
    """``hook``, a module's own ``__getattr__``, made to answer a call for a name it is already
    serving with the submodule of that name: numpy's ``import numpy.random as random`` in its
    ``__getattr__`` asks for the attribute again, which an unbound submodule would send down
    ``__getattr__`` until the recursion limit (in a fresh interpreter the import binds it first)."""
    serving = set()

    def __getattr__(name):
        if name in serving:
            found = _modules.get(prefix + name) if type(name) is str else None
            if found is None:
                raise AttributeError(name)
            __getattr__.reentered = True
            return found
        serving.add(name)
        try:
            return hook(name)
        finally:
            serving.discard(name)

    __getattr__.reentered = False
    return __getattr__


# How a module's ``__getattr__`` serves a submodule bound on it since its body ended (``_serves_submodule``).
SERVES_NOT, SERVES, SERVES_GUARDED = 0, 1, 2


def _serves_submodule(graph, module, namespace, key, submodule, guard):
    """Whether ``module``'s ``__getattr__`` serves its submodule ``key`` (``submodule``, loaded and
    bound on it since its body ended) when it is not bound: transformers' ``_LazyModule`` imports
    it, and a package whose ``__getattr__`` does not would break if it were unbound. Asked once, with
    the binding taken away meanwhile: its import is a hit, outside every name's requests. A module's
    own ``__getattr__`` is asked through ``guard`` (``_guarded``); one of its class that calls
    itself again does not serve it."""
    hook = graph._module_getattr(module, namespace)
    code = getattr(hook, "__code__", None)
    if code is None:
        return SERVES_NOT
    own = guard is not None and namespace.get("__getattr__") is hook
    calls = [0]

    def count(frame, event, _argument):
        if event == "call" and frame.f_code is code:
            calls[0] += 1
            if calls[0] > 1:
                raise AttributeError(key)

    value = namespace.pop(key)
    previous = sys.gettrace()
    if own:
        guard.reentered = False
        namespace["__getattr__"] = guard
    else:
        sys.settrace(count)
    try:
        served = guard(key) if own else hook(module, key)
    except BaseException:  # noqa: BLE001 - it does not serve it
        served = None
    finally:
        if own:
            if namespace.get("__getattr__") is guard:
                namespace["__getattr__"] = hook
        else:
            sys.settrace(previous)
        namespace[key] = value
    if served is not submodule or calls[0] > 1:
        return SERVES_NOT
    return SERVES_GUARDED if own and guard.reentered else SERVES


def _unbind_kept(bound, bound_sets, graph=None, serving=None, guards=None, namespaces=None):
    """Before a name's access: unbind from each module with a ``__getattr__`` what it served and
    kept since its body ended (transformers' ``_LazyModule`` keeps every name it served), so that
    an access that needs it has it served again, in view (an attribute access makes no import
    request the recorder could follow). A submodule bound on it since is unbound too when its
    ``__getattr__`` serves it (``getattr(transformers.models.auto, "configuration_auto")`` in
    a decorator every configuration module calls: only the first would be seen importing it).
    Returns ``(namespace, key, value)`` to put back after the access where it was not bound again,
    and ``(namespace, hook, guard)`` for each module whose ``__getattr__`` is guarded meanwhile.
    ``namespaces`` (module name -> (module, its ``__dict__``)) keeps each module's namespace
    between calls, read again only when ``sys.modules`` holds another module by that name."""
    kept = []
    guarded = []  # type: list[tuple[dict, object, object]]
    if namespaces is None:
        namespaces = {}
    for module_name, described in bound.items():
        module = _modules.get(module_name)
        if module is None:
            continue
        known = namespaces.get(module_name)
        if known is not None and known[0] is module:
            namespace = known[1]
        else:
            try:
                namespace = _object_getattribute(module, "__dict__")
            except BaseException:  # noqa: BLE001
                namespace = None
            namespaces[module_name] = (module, namespace)
        if type(namespace) is not dict or len(namespace) <= len(described[1]):
            continue
        names = bound_sets.get(module_name)
        if names is None:
            names = bound_sets[module_name] = set(described[1])
        # What it bound since its body ended, found in C (a module's namespace has hundreds of
        # names, and every module with a ``__getattr__`` is looked at before every name).
        try:
            extra = namespace.keys() - names
        except BaseException:  # noqa: BLE001 - a key that cannot be compared: looked at one by one
            extra = [key for key in namespace if key not in names]
        if not extra:
            continue
        if len(extra) > 1:
            # In the namespace's order, as they were: bound since its body ended, they are at its
            # end (with what was bound again since), so it is walked from the end.
            wanted = len(extra)
            ordered = []
            for key in reversed(namespace):
                if key in extra:
                    ordered.append(key)
                    if len(ordered) == wanted:
                        break
            ordered.reverse()
            extra = ordered
        prefix = module_name + "."
        for key in extra:
            if type(key) is not str:
                continue
            submodule = _modules.get(prefix + key)
            if submodule is None:
                kept.append((namespace, key, namespace.pop(key)))
            elif serving is not None and namespace[key] is submodule:
                hook = namespace.get("__getattr__")
                guard = guards.get(module_name) if hook is not None else None
                if hook is not None and guard is None:
                    guard = guards[module_name] = _guarded(hook, prefix)
                serves = serving.get(prefix + key)
                if serves is None:
                    serves = serving[prefix + key] = _serves_submodule(graph, module, namespace, key, submodule,
                                                                       guard)
                if serves == SERVES_GUARDED and hook is not guard \
                        and not any(item[0] is namespace for item in guarded):
                    namespace["__getattr__"] = guard
                    guarded.append((namespace, hook, guard))
                if serves != SERVES_NOT:
                    kept.append((namespace, key, namespace.pop(key)))
    return kept, guarded


def run(result_path, package, names, graph=None):
    graph = graph or _load_graph()
    reporter = graph.protocol.Reporter(result_path, _open, graph._token(result_path))
    namespace = _modules["__main__"].__dict__
    for key in [key for key in namespace if key not in ("__name__", "__doc__", "__package__", "__loader__",
                                                      "__spec__", "__annotations__", "__builtins__")]:
        del namespace[key]
    if sys.path and not getattr(sys.flags, "safe_path", False):
        sys.path[0] = ""  # as ``python -c`` has it
    sys.argv[:] = ["-c"]
    namespace["__loader__"] = graph._bootstrap.BuiltinImporter
    baseline = frozenset(_modules)
    recorder = graph.GraphRecorder(baseline)
    recorder.failures, recorder.served, recorder.bound = {}, [], {}
    recorder.native_hits = True
    ending = graph.Ending(recorder, reporter, baseline, graph.clock_ns())
    ending.watch()
    recorder.install()
    error = None
    try:
        exec(compile("import " + package, "<string>", "exec", dont_inherit=True), namespace)
    except BaseException as exc:  # noqa: BLE001 - the import's failure is part of the report
        error = graph._describe(exc)
    imported = sorted(name for name in list(_modules) if type(name) is str and name not in baseline)
    outcomes = []
    target = _modules.get(package)
    if error is None:
        known = set(_modules)
        requests = recorder.requests
        try:
            found = _object_getattribute(target, "__dict__")
        except BaseException:  # noqa: BLE001
            found = None
        attributes = found if type(found) is dict else None
        initial = set(attributes) if attributes is not None else set()
        bound_sets = {}  # type: dict[str, set[str]]
        serving = {}  # type: dict[str, int]
        guards = {}  # type: dict[str, object]  # module -> its own __getattr__, guarded (_guarded)
        namespaces = {}  # type: dict[str, tuple[object, object]]
        for name in names:
            kept, guarded = _unbind_kept(recorder.bound, bound_sets, graph, serving, guards, namespaces)
            # A request this name makes is this name's, whoever made it before (the serves
            # _unbind_kept asked for included).
            recorder.by_key = {}
            start = len(requests)
            count = len(_modules)
            failed = described = None
            # A name an earlier name's access bound (pydantic binds a module's neighbours) is
            # unbound for its own access, so that its lazy path runs and its requests are seen;
            # the binding is put back if the access does not make it again.
            first = name.split(".")[0]
            bound_before = False
            unbound = _MISSING
            if attributes is not None and first in attributes and first not in initial:
                try:
                    unbound = attributes.pop(first)
                except BaseException:  # noqa: BLE001
                    bound_before = True
            try:
                value = target
                for part in name.split("."):
                    value = getattr(value, part)
                described = _described(value)
            except BaseException as exc:  # noqa: BLE001 - a name that fails is verified in a fork
                failed = graph._describe(exc)
                value = None
            end = len(requests)
            if unbound is not _MISSING and attributes is not None and first not in attributes:
                attributes[first] = unbound
            appeared = []
            if len(_modules) != count:
                for module in list(_modules):
                    if module not in known:
                        known.add(module)
                        if type(module) is str:
                            appeared.append(module)
            cached = second_error = None
            if failed is None and "." not in name:
                # The second access ``not-cached`` judges: no request made, the same object back.
                recorder.by_key = {}
                try:
                    again = getattr(target, name)
                    cached = again is value and len(requests) == end
                except BaseException as exc:  # noqa: BLE001
                    second_error = graph._describe(exc)
            for namespace, key, kept_value in kept:
                if key not in namespace:
                    namespace[key] = kept_value
            for namespace, hook, guard in guarded:
                if namespace.get("__getattr__") is guard:
                    namespace["__getattr__"] = hook
            outcomes.append([name, failed, appeared, start, end, described, cached, second_error,
                             bound_before])
    ending.report("exception" if error is not None else "returned", error)
    reporter.send(graph.protocol.SECTION_PREDICT,
                  {"imported": imported, "names": outcomes, "error": error,
                   "failures": [[index, missing] for index, missing in recorder.failures.items()],
                   "served": recorder.served, "bound": recorder.bound})
    if error is None:
        # After the graph and the predictions were sent, with the recorder gone: nothing pickling
        # loads is any name's, and a package that ends the process here costs the pickles alone.
        _send_pickles(graph, reporter, target, outcomes)


def _send_pickles(graph, reporter, target, outcomes):
    """``pickle.dumps(PACKAGE.NAME)`` of each name touched, as the star import's probe pickles it
    for the unpickle probe (``measure.pickle_names``): the hex sent, or None where that probe sends
    none (not a class or function, an error, too long). The parent guesses the unpickle probe from it."""
    import pickle

    pickling = graph._sibling("pickling")
    limit = graph.protocol.PICKLE_LIMIT
    pickles = []
    for outcome in outcomes:
        name, failed, data = outcome[0], outcome[1], None
        if failed is None:  # an access that raised: that probe's most likely raises, and sends nothing
            try:
                value = target
                for part in name.split("."):
                    value = getattr(value, part)
                if pickling.global_kind(value) is not None:
                    data = pickling.sent(pickle.dumps(value), limit)
            except BaseException:  # noqa: BLE001 - that probe sends nothing of it either
                data = None
        pickles.append([name, data])
    reporter.send(graph.protocol.SECTION_PICKLES, {"names": pickles})


def main(argv):
    """``argv``: RESULT_PATH PACKAGE NAME... Ends the process."""
    exit_ = getattr(_modules.get("posix") or _modules.get("nt"), "_exit")  # noqa: B009
    graph = _load_graph()
    # What the package sends its parent (a signal to getppid()) reaches the keeper, not aoinspect.
    graph._keeper.below()
    try:
        run(argv[0], argv[1], argv[2:], graph)
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except BaseException:  # noqa: BLE001
                pass
        exit_(0)
