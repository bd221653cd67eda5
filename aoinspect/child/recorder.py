"""The import recorder: which imports began, in what order, under which import, and how long
each took. Child code (see ``__init__.py`` for the rules it keeps)."""

import sys

_modules = sys.modules
_bootstrap = _modules["_frozen_importlib"]
_get_ident = _modules["_thread"].get_ident


def _load_time():
    time_module = _modules.get("time")
    if time_module is not None:
        return time_module
    # Some interpreters start without ``time``; borrow it, then hide it again so that a
    # package that imports ``time`` still shows it in its diff.
    import time as borrowed

    del _modules["time"]
    return borrowed


_time = _load_time()
clock = _time.perf_counter
clock_ns = _time.perf_counter_ns  # an int: its repr is several times cheaper than a float's


class ImportEvent:
    """One import that began: a module not yet in ``sys.modules`` was asked for."""

    __slots__ = ("depth", "end", "module", "modules_at_end", "modules_at_start", "parent", "start")

    def __init__(self, module, parent, depth, start, modules_at_start):
        self.module = module
        self.parent = parent  # index of the import running when this one began, or -1
        self.depth = depth
        self.start = start
        self.end = 0.0
        self.modules_at_start = modules_at_start  # len(sys.modules) when it began
        self.modules_at_end = 0


class ImportRecorder:
    """Wraps ``_find_and_load``, the one function both ``import`` statements and
    ``importlib.import_module`` go through for a module that is not loaded yet, to learn the
    order in which imports *began*, which import was in progress when each began (its parent),
    and how long each took. ``sys.modules`` itself only shows the order in which they finished.
    """

    def __init__(self):
        self.events = []
        self.tripwire = None  # called with a module's name before any import begins, when set
        self.when_loaded = {}  # module name -> called with no argument once an import of it ends
        self._stacks = {}
        self._original = getattr(_bootstrap, "_find_and_load")  # noqa: B009

    def install(self):
        original = self._original
        events = self.events
        stacks = self._stacks
        modules = _modules
        timer = clock
        get_ident = _get_ident
        new_event = ImportEvent
        recorder = self
        when_loaded = self.when_loaded

        def _find_and_load(name, import_):
            if name in modules:
                return original(name, import_)
            if recorder.tripwire is not None:
                recorder.tripwire(name)
            stack = stacks.get(get_ident())
            if stack is None:
                stack = stacks[get_ident()] = []
            event = new_event(name, stack[-1] if stack else -1, len(stack), timer(), len(modules))
            stack.append(len(events))
            events.append(event)
            try:
                return original(name, import_)
            finally:
                event.end = timer()
                event.modules_at_end = len(modules)
                stack.pop()
                if name in when_loaded:
                    when_loaded[name]()

        setattr(_bootstrap, "_find_and_load", _find_and_load)  # noqa: B010

    def loads(self, first_event, added, start_len):
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
        # A module's import can begin twice: numpy.__config__ begins importing
        # numpy._core._multiarray_umath, which first imports its parent package, whose __init__
        # imports the same module again and runs it. The module sits where its import first
        # began (-X importtime's outer line); whatever either import began hangs under it, and
        # its self time is what both spent outside their children.
        first_seen = {}  # name -> the first import of it to begin: its place in the tree
        loaded_by = {}  # name -> the last one: it ran the module and put it in sys.modules
        for index in range(first_event, last_event):
            name = events[index].module
            if name in added_set:
                if name not in first_seen:
                    first_seen[name] = index
                loaded_by[name] = index

        def materialized_ancestor(parent):
            # The module of the nearest enclosing import that materialized (an import that
            # failed is not in the diff), or None: the access itself.
            while parent >= first_event and events[parent].module not in first_seen:
                parent = events[parent].parent
            return events[parent].module if parent >= first_event else None

        entries = []  # (order key, name, parent module, start, end)
        for name, index in first_seen.items():
            event = events[index]
            entries.append((index, name, materialized_ancestor(event.parent), event.start, event.end))
        next_finisher = [-1] * len(added)
        upcoming = -1
        for position in range(len(added) - 1, -1, -1):
            next_finisher[position] = upcoming
            if added[position] in loaded_by:
                upcoming = loaded_by[added[position]]
        length_then = start_len
        for position, name in enumerate(added):
            if name in loaded_by:
                length_then = events[loaded_by[name]].modules_at_end
                continue
            # The imports that began before sys.modules held length_then entries (a binary
            # search: the length at each begin only grows, but for modules a package removes).
            low, high = first_event, last_event
            while low < high:
                middle = (low + high) // 2
                if events[middle].modules_at_start <= length_then:
                    low = middle + 1
                else:
                    high = middle
            parent = next_finisher[position]
            while parent >= first_event and events[parent].modules_at_start > length_then:
                parent = events[parent].parent
            entries.append((low - 0.5, name, materialized_ancestor(parent), 0.0, 0.0))
            length_then += 1
        entries.sort(key=lambda entry: entry[0])

        spent: dict = {}  # module -> time in all its imports
        child_time: dict = {}  # module -> time in the imports that began inside them
        for index in range(first_event, last_event):
            event = events[index]
            if event.module in first_seen:
                duration = event.end - event.start
                spent[event.module] = spent.get(event.module, 0.0) + duration
                parent = materialized_ancestor(event.parent)
                if parent is not None:
                    child_time[parent] = child_time.get(parent, 0.0) + duration
        depth_of: dict = {}
        loads = []
        for _key, name, parent, start, end in entries:
            depth = depth_of[parent] + 1 if parent is not None else 0
            depth_of[name] = depth
            own = spent.get(name, 0.0) - child_time.get(name, 0.0)
            load = {
                "module": name,
                "parent": parent,
                "depth": depth,
                "self_ms": round(max(own, 0.0) * 1000.0, 4),
                "cumulative_ms": round((end - start) * 1000.0, 4),
            }
            if _made_in_memory(_modules.get(name)):
                load["generated"] = True
            loads.append(load)
        return loads


_object_getattribute = object.__getattribute__


def _made_in_memory(module):
    """A module built from no file (``importlib.util.spec_from_loader`` with no origin, or a
    ``ModuleType`` put in ``sys.modules``): no ``__file__``, no ``__path__``, and a spec, if
    any, that names no origin. Read from its dict slot: no code of the package runs."""
    try:
        namespace = _object_getattribute(module, "__dict__")
    except BaseException:  # noqa: BLE001
        return False
    if type(namespace) is not dict or namespace.get("__file__") is not None or "__path__" in namespace:
        return False
    spec = namespace.get("__spec__")
    if spec is None:
        return True
    try:
        return _object_getattribute(spec, "origin") is None
    except BaseException:  # noqa: BLE001
        return False


class Measurement:
    """A ``sys.modules`` diff around one step, with the recorder's view of the same step."""

    def __init__(self, recorder):
        self.recorder = recorder
        self.before = set(_modules)
        self.first_event = len(recorder.events)
        self.start = clock()
        self.elapsed = 0.0

    def finish(self):
        self.elapsed = clock() - self.start
        after = list(_modules)
        before = self.before
        after_set = set(after)
        added = [name for name in after if name not in before]
        return {
            "materialized": self.recorder.loads(self.first_event, added, len(before)),
            "removed": sorted([name for name in before if name not in after_set]),
            "elapsed_ms": round(self.elapsed * 1000.0, 4),
        }
