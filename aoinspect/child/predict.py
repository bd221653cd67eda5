"""``check``'s predicting child: imports a package and touches every name it is given, one after
another in this one interpreter, while ``graph.py``'s recorder records every import request
(hits included). Between two names the recorder forgets which requests it has seen, so that a
request each name makes is recorded for that name, and the range of each name's requests is
kept: the parent (``aoinspect.predicting``) cuts the requests the entry
itself made into each name's own, and predicts from the graph what each name loads alone.

Run as ``python -c PREDICT_BOOTSTRAP predict.py RESULT_PATH PACKAGE NAME...``, or with the one name
``protocol.NAMES_LATER`` + a FIFO's path: the names are read from it after the import. Child code: see
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
_object_eq = object.__eq__
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


def _differ(objects, others):
    """Whether two lists of equal length hold another object anywhere, compared in C by identity
    alone: ``object.__eq__`` asks no object anything (``==`` would call a package's ``__eq__``,
    and ``id()``, an audited event, would call the child's audit hook once an object)."""
    return len(objects) != len(others) or NotImplemented in map(_object_eq, objects, others)


def _differing(lengths, others, offset, found):
    """Append to ``found`` the positions (plus ``offset``) where two lists of equal length (ints, or
    a namespace's last keys) differ, by halves compared in C: most names change one or two
    namespaces of hundreds."""
    if lengths == others:
        return
    if len(lengths) <= 8:
        found.extend(offset + position for position, (one, other) in enumerate(zip(lengths, others))
                     if one is not other and one != other)
        return
    middle = len(lengths) // 2
    _differing(lengths[:middle], others[:middle], offset, found)
    _differing(lengths[middle:], others[middle:], offset + middle, found)


def _last_keys(spaces):
    """Each namespace's last key (None when empty), in C."""
    try:
        return list(map(next, map(reversed, spaces), [None] * len(spaces)))
    except BaseException:  # noqa: BLE001 - one changed meanwhile (a thread): each looked at again
        return [object() for _ in spaces]


class _Unbinder:
    """Before each name's access: every module with a ``__getattr__`` made to lack what it served
    and kept since its body ended (transformers' ``_LazyModule`` keeps every name it served), so
    that an access that needs it has it served again, in view (an attribute access makes no import
    request the recorder could follow). A submodule bound on it since is unbound too when its
    ``__getattr__`` serves it (``getattr(transformers.models.auto, "configuration_auto")`` in
    a decorator every configuration module calls: only the first would be seen importing it).

    What it unbinds stays unbound from one name to the next (``restore`` puts it back at the end,
    where nothing bound it again), and a module is looked at only when its namespace grew past
    what its body bound or its last key is another (found in C for all of them at once): the work
    follows what the accesses bind. Putting everything back after each name and taking it again
    before the next made transformers' 7,328 names quadratic (and looking at each of its 722 lazy modules in Python
    before every name cost as much again); each access sees the namespaces it saw then."""

    def __init__(self, graph, bound):
        self.graph = graph
        self.bound = bound  # recorder.bound: module -> [its __getattr__'s file, the names its body bound]
        self.bound_sets = {}  # type: dict[str, set[str]]
        self.serving = {}  # type: dict[str, int]  # submodule -> SERVES_*
        self.guards = {}  # type: dict[str, object]  # module -> its own __getattr__, guarded (_guarded)
        # One entry a module of ``bound``, in its order: its name, the module object (None: not in
        # sys.modules), its namespace ({} when it has none to look at), and the length
        # past which it is looked at: what its body bound, or what it held at the last look when it
        # keeps names left bound (-1: at the next round).
        self.names = []  # type: list[str]
        self.objects = []  # type: list[object]
        self.spaces = []  # type: list[dict]
        self.limits = []  # type: list[int]
        self.lens = []  # type: list[int]  # each namespace's length when the last look ended
        # Each namespace's last key then (the one bound last): a name bound where another went
        # leaves the length as it was, not the last key (held, so that its id is not reused).
        self.lasts = []  # type: list[object]
        self.at = {}  # type: dict[int, int]  # id of a namespace -> its entry (put_back)
        # What is left bound, flat: namespaces, keys, values, submodule names, submodules (_left_changed).
        self.flat = None  # type: tuple[list, list, list, list, list] | None
        self.unbound = []  # type: list[tuple[dict, object, object]]  # (namespace, key, value), in order
        # module -> {key: (value, submodule)} of what was bound since its body ended and is left
        # bound (a submodule its __getattr__ does not serve, a name bound to something else than
        # the submodule of that name): looked at again only when either changed.
        self.left = {}  # type: dict[str, dict[str, tuple[object, object]]]
        self.left_at = {}  # type: dict[int, dict[str, tuple[object, object]]]  # the same, by entry
        # module -> (namespace, guarded submodules unbound): its __getattr__ is guarded while one is.
        self.guarded_keys = {}  # type: dict[str, tuple[dict, list[object]]]
        self.looked_at = 0  # modules looked at (a test holds it to what the accesses bound)

    def _entry(self, index, module):
        """Set entry ``index`` for ``module`` (what ``sys.modules`` holds under its name now)."""
        module_name = self.names[index]
        namespace = None
        if module is not None:
            try:
                namespace = _object_getattribute(module, "__dict__")
            except BaseException:  # noqa: BLE001
                namespace = None
        self.objects[index] = module
        self.lens[index] = -1  # a length no namespace has: looked at again
        self.flat = None
        if type(namespace) is dict:
            self.spaces[index] = namespace
            self.limits[index] = -1 if self.left.get(module_name) else len(self.bound[module_name][1])
            if self.left.get(module_name):
                self.left_at[index] = self.left[module_name]
        else:
            self.spaces[index] = {}
            self.limits[index] = 1 << 62  # nothing to look at
            self.left_at.pop(index, None)

    def _sync_entries(self):
        """Entries for the modules ``bound`` gained, and read again where ``sys.modules`` holds
        another object (compared in C)."""
        names = self.names
        if len(self.bound) != len(names):
            for module_name in list(self.bound)[len(names):]:
                names.append(module_name)
                self.objects.append(None)
                self.spaces.append({})
                self.limits.append(0)
                self.lens.append(-1)
                self.lasts.append(None)
                self._entry(len(names) - 1, _modules.get(module_name))
        current = list(map(_modules.get, names))
        try:
            # In C, where the same object is equal without being asked: only a module put in
            # sys.modules in place of another is asked (``_differ`` would cost as much as the
            # rest of the look every name).
            same = current == self.objects
        except BaseException:  # noqa: BLE001 - a module's own __eq__ raised
            same = False
        if not same:
            for index, (now, was) in enumerate(zip(current, self.objects)):
                if now is not was:
                    self._entry(index, now)

    def _left_changed(self):
        """The entries whose names left bound were bound again, unbound, or whose submodule of
        that name changed (compared in C for all at once, one by one where one did)."""
        flat = self.flat
        if flat is None:
            flat = self.flat = ([], [], [], [], [])
            for index, left in self.left_at.items():
                prefix = self.names[index] + "."
                for key, (value, submodule) in left.items():
                    flat[0].append(self.spaces[index])
                    flat[1].append(key)
                    flat[2].append(value)
                    flat[3].append(prefix + key)
                    flat[4].append(submodule)
        spaces, keys, values, full_names, submodules = flat
        if not keys:
            return ()
        try:
            same = list(map(_modules.get, full_names)) == submodules  # modules: as ``_sync_entries`` compares them
        except BaseException:  # noqa: BLE001
            same = False
        if same and not _differ(list(map(dict.get, spaces, keys)), values):
            return ()
        changed = set()
        for index, left in self.left_at.items():
            namespace, prefix = self.spaces[index], self.names[index] + "."
            for key, (value, submodule) in left.items():
                if namespace.get(key, _MISSING) is not value or _modules.get(prefix + key) is not submodule:
                    changed.add(index)
                    break
        return changed

    def unbind(self):
        """Unbind what the last name's access (or the import) bound. Returns ``(namespace, hook,
        guard)`` for each module whose ``__getattr__`` is guarded for this access (``restore_hooks``)."""
        self._sync_entries()
        spaces, limits = self.spaces, self.limits
        lens = list(map(len, spaces))
        found = []  # type: list[int]
        _differing(lens, self.lens, 0, found)
        # What was left bound is looked at again where it changed (its length alone would not
        # show a name bound again to another object), and so is a namespace whose last key is
        # another (a name bound where one went: the same length). Compared by id, in C: a key's
        # own __eq__ is package code.
        changed = self._left_changed()
        lasts = _last_keys(spaces)
        keyed = []  # type: list[int]
        try:
            _differing(lasts, self.lasts, 0, keyed)
        except BaseException:  # noqa: BLE001 - a key's own __eq__ raised: each looked at
            keyed = list(range(len(spaces)))
        forced = set(changed).union(keyed) if keyed else changed
        order = sorted(set(found).union(forced)) if forced else found
        position = 0
        while position < len(order):
            index = order[position]
            position += 1
            if lens[index] <= limits[index] and index not in forced:
                continue
            self.looked_at += 1
            asked = self._look_at(index, index in changed)
            lens[index] = len(spaces[index])
            lasts[index] = next(reversed(spaces[index]), None)
            if asked:
                # Asking whether its __getattr__ serves a submodule ran package code: the
                # modules after it are measured again, as a look one by one would have seen them.
                now = list(map(len, spaces[index + 1:]))
                more = []  # type: list[int]
                _differing(now, lens[index + 1:], index + 1, more)
                if more:
                    for other in more:
                        lens[other] = now[other - index - 1]
                        lasts[other] = next(reversed(spaces[other]), None)
                    order = sorted(set(order[position:]).union(more))
                    position = 0
        self.lens = lens
        self.lasts = lasts
        guarded = []  # type: list[tuple[dict, object, object]]
        for module_name, (namespace, keys) in self.guarded_keys.items():
            # Guarded while a submodule it serves through its guard is unbound (not bound again).
            hook = namespace.get("__getattr__")
            guard = self.guards.get(module_name)
            if hook is not None and guard is not None and hook is not guard \
                    and any(key not in namespace for key in keys):
                namespace["__getattr__"] = guard
                guarded.append((namespace, hook, guard))
        return guarded

    def _look_at(self, index, changed=True):
        """Unbind what module ``index`` bound since its body ended or the last look; True when
        that asked its ``__getattr__`` (``_serves_submodule``). ``changed``: what it left bound may
        have changed (``_left_changed``)."""
        module_name, module, namespace = self.names[index], self.objects[index], self.spaces[index]
        names = self.bound_sets.get(module_name)
        if names is None:
            names = self.bound_sets[module_name] = set(self.bound[module_name][1])
        # What it bound since its body ended, found in C (a module's namespace has hundreds of names).
        try:
            extra = namespace.keys() - names
        except BaseException:  # noqa: BLE001 - a key that cannot be compared: looked at one by one
            extra = [key for key in namespace if key not in names]
        prefix = module_name + "."
        left = self.left.get(module_name)
        if left and changed:
            for key in [key for key in left if key not in namespace]:
                del left[key]  # unbound meanwhile: looked at as anything else once bound again
                self.flat = None
        if left and extra:
            # What was left bound before, unchanged, is left bound again without a look (taken
            # away in C: a package may leave one bound a name).
            if type(extra) is set:
                extra.difference_update(left)
                if changed:
                    extra.update(key for key, (value, submodule) in left.items()
                                 if namespace[key] is not value or _modules.get(prefix + key) is not submodule)
            else:
                extra = [key for key in extra
                         if not (key in left and left[key][0] is namespace[key]
                                 and left[key][1] is _modules.get(prefix + key))]
        if not extra:
            if left is not None:
                self.limits[index] = len(namespace)
            return False
        if len(extra) > 1:
            # In the namespace's order, as they were: bound since the last look, they are at its
            # end (what is left bound sits before), so it is walked from the end.
            wanted = set(extra)
            ordered = []
            for key in reversed(namespace):
                if key in wanted:
                    ordered.append(key)
                    if len(ordered) == len(wanted):
                        break
            ordered.reverse()
            extra = ordered
        asked = False
        serving = self.serving
        for key in extra:
            if type(key) is not str:
                continue
            value = namespace[key]
            submodule = _modules.get(prefix + key)
            if submodule is None:
                self.unbound.append((namespace, key, namespace.pop(key)))
                continue
            if value is submodule:
                serves = serving.get(prefix + key)
                if serves is None:
                    hook = namespace.get("__getattr__")
                    guard = self.guards.get(module_name) if hook is not None else None
                    if hook is not None and guard is None:
                        guard = self.guards[module_name] = _guarded(hook, prefix)
                    serves = serving[prefix + key] = _serves_submodule(self.graph, module, namespace, key,
                                                                       submodule, guard)
                    asked = True
                if serves != SERVES_NOT:
                    self.unbound.append((namespace, key, namespace.pop(key)))
                    if serves == SERVES_GUARDED and namespace.get("__getattr__") is not None:
                        self.guarded_keys.setdefault(module_name, (namespace, []))[1].append(key)
                    continue
            if left is None:
                left = self.left[module_name] = self.left_at[index] = {}
            flat = self.flat
            if flat is not None and key not in left:
                # Added to what is compared (rebuilt only when an entry changes or goes): a package
                # whose every name binds a submodule its __getattr__ does not serve adds one a name.
                flat[0].append(namespace)
                flat[1].append(key)
                flat[2].append(value)
                flat[3].append(prefix + key)
                flat[4].append(submodule)
            else:
                self.flat = None
            left[key] = (value, submodule)
        if left is not None:
            self.limits[index] = len(namespace)  # looked at again once it grows past what it holds now
        return asked

    def put_back(self, namespace, key, last):
        """``key`` was bound again at ``namespace``'s end, where ``last`` was the last key: when
        that was the last key the last look saw, nothing else moved it (one look fewer a name)."""
        index = self.at.get(id(namespace))
        if index is None or self.spaces[index] is not namespace:
            for index, space in enumerate(self.spaces):
                if space is namespace:
                    self.at[id(namespace)] = index
                    break
            else:
                return
        if self.lasts[index] is last:
            self.lasts[index] = key

    @staticmethod
    def restore_hooks(guarded):
        for namespace, hook, guard in guarded:
            if namespace.get("__getattr__") is guard:
                namespace["__getattr__"] = hook

    def restore(self):
        """Put back what is unbound where nothing bound it again (the value taken last wins)."""
        for namespace, key, value in reversed(self.unbound):
            if key not in namespace:
                namespace[key] = value
        self.unbound = []


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
    # No audit hook for ``os.exec*``: without this child's ``predict`` section the graph alone is
    # of no use (the parent measures every name in its own fork), and the hook, called for every
    # audited event (each ``frame.f_code`` the recorder reads), cost 3% of transformers' child.
    ending.watch(audit=False)
    recorder.install()
    error = None
    try:
        exec(compile("import " + package, "<string>", "exec", dont_inherit=True), namespace)
    except BaseException as exc:  # noqa: BLE001 - the import's failure is part of the report
        error = graph._describe(exc)
    imported = sorted(name for name in list(_modules) if type(name) is str and name not in baseline)
    if len(names) == 1 and names[0].startswith(graph.protocol.NAMES_LATER):
        # Started before the parent knew the names (beside its fork server): they come once it does.
        # The wait is not the package's: what importing and touching every name took leaves it out.
        waited = graph.clock_ns()
        names = graph.protocol.read_names_later(names[0][len(graph.protocol.NAMES_LATER):], _open) \
            if error is None else []
        ending.started += graph.clock_ns() - waited
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
        unbinder = _Unbinder(graph, recorder.bound)
        for name in names:
            guarded = unbinder.unbind()
            # A request this name makes is this name's, whoever made it before (the serves
            # ``unbind`` asked for included).
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
                last = next(reversed(attributes), None)
                attributes[first] = unbound
                unbinder.put_back(attributes, first, last)
            appeared = []
            if len(_modules) != count:
                # Found in C: sys.modules holds thousands of names, and most names load some. What
                # appeared is at its end, in its order: walked from the end until all are found.
                try:
                    fresh = _modules.keys() - known
                except BaseException:  # noqa: BLE001 - changed size meanwhile (another thread)
                    fresh = set(list(_modules)) - known
                if fresh:
                    known.update(fresh)
                    for module in reversed(list(_modules)) if len(fresh) > 1 else fresh:
                        if module in fresh:
                            appeared.append(module)
                            if len(appeared) == len(fresh):
                                break
                    appeared = [module for module in reversed(appeared) if type(module) is str]
            cached = second_error = None
            if failed is None and "." not in name:
                # The second access ``not-cached`` judges: no request made, the same object back.
                recorder.by_key = {}
                try:
                    again = getattr(target, name)
                    cached = again is value and len(requests) == end
                except BaseException as exc:  # noqa: BLE001
                    second_error = graph._describe(exc)
            unbinder.restore_hooks(guarded)
            outcomes.append([name, failed, appeared, start, end, described, cached, second_error,
                             bound_before])
        unbinder.restore()
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
