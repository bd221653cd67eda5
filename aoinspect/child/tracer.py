"""``aoinspect trace``'s child: runs PROGRAM exactly as ``python`` would, with a recorder that
notes, for every import that begins, its parent import, thread, times, and the frames that
triggered it. Child code: see ``__init__.py`` for the rules it keeps; the pytest plugin also
imports it to trace a test session in-process.

Records travel as ``trace-loads`` sections appended to the result file (a batch is a list of
records written as its ``ascii``, a JSON string; the parent reads it as ``ast.literal_eval`` would), in batches: when an
import that no other import was running around finishes, when 64 are pending or 0.1 s has
passed, and before ``os._exit`` and ``os.exec*``. A top-level import is also written when it
begins, so that a program that hangs or is killed inside one still shows where.

A record is a flat list, laid out as ``protocol`` describes (``aoinspect.probing.wire``
reads it): ``[index, module, parent index or -1, start ns, end ns or None, loaded, file, line,
function, module]`` (the last four: the trigger's, or ``None, 0, None, None``; a negative line:
the trigger is the program's own line), and only when one
is not empty ``[positions, hop, via, context, thread id, thread name]`` with ``positions`` the
trigger instruction's ``[line, end line, column, end column]``, ``hop = [function, attribute,
file, line]`` and ``via = [function, file, line]``. Each field kept out of the common record
and each float turned into an integer makes the record cheaper to build and to write.
"""

import sys

_modules = sys.modules
_bootstrap = _modules["_frozen_importlib"]
_get_ident = _modules["_thread"].get_ident
_allocate_lock = _modules["_thread"].allocate_lock
_getframe = sys._getframe


def _load_os():  # os, or posix/nt when the interpreter runs without site
    return _modules.get("os") or _modules.get("posix") or _modules.get("nt")


_open = open
_ModuleType = type(sys)
# The functions of os as they are now: a program that replaces os.getpid, os.write or os.fstat
# (its right) must not break the tracer, which writes records after it.
_os = _ModuleType("aoinspect_child_os")
_os.__dict__.update(vars(_load_os()))
_HERE = globals().get("__file__") or ""
_CHILD_DIR = _HERE[: max(_HERE.rfind("/"), _HERE.rfind("\\")) + 1]


def _compiled(path, name):
    with _open(path, "rb") as stream:
        return compile(stream.read(), path, "exec")


# How the child's files become code: the bootstrap hands over its cached way (``__code_of__``);
# imported in-process (the pytest plugin), they are compiled.
_code_of = globals().get("code_of_child_file") or _compiled


def _sibling(name):
    path = _CHILD_DIR + name + ".py"
    code = _code_of(path, "aoinspect_child_" + name)
    module = _ModuleType("aoinspect_child_" + name)
    module.__file__ = path
    exec(code, module.__dict__)
    (module if name == "protocol" else protocol).hide(code, path)
    return module



protocol = _sibling("protocol")
# This file's own code, running now: the import system does the same to code it has just loaded.
protocol.hide(_getframe().f_code, _HERE)
_recorder = _sibling("recorder")
clock = _recorder.clock
clock_ns = _recorder.clock_ns
# The entry script's own name already holds what the warnings machinery skips.
ENTRY_SCRIPT = "trace_importlib_bootstrap.py"
_OWN_FILES = frozenset({protocol.hidden_name(_HERE), _CHILD_DIR + ENTRY_SCRIPT,
                        protocol.hidden_name(_CHILD_DIR + "recorder.py"),
                        protocol.hidden_name(_CHILD_DIR + "protocol.py")})

# How a frame takes part in an import. The walk from the import upwards skips the import system,
# the lazy machinery, introspection helpers and the other ways in (their functions: a helper
# module's body is code like any other) and stops at the trigger, the first other frame; then
# it goes on to the program's own line (``PROGRAM``), or stops where the import running around
# this one began (the tracer's wrapper, ``OWN``): a nested load's own line is its parent's.
IMPORT_SYSTEM = 0
LAZY = 1
INTROSPECTION = 2
USER = 3
OWN = 4  # the tracer's own frames: the wrapper of the import running around this one, or run()
PROGRAM = 5  # user code in the program's own files (``OwnFiles``)
HELPER = 6  # importlib's own .py files and runpy: their functions are ways in
CODEC = 7  # encodings/__init__.py: its search function imports the codec a lookup asked for
STRING = 8  # code compiled from a string (``-c``, exec, eval): whose it is depends on the frame
WAYS_IN = (LAZY, INTROSPECTION, HELPER, CODEC)

# Functions through which an attribute access becomes an import: PEP 562 and class
# ``__getattr__``, ``importlib.util._LazyModule.__getattribute__``, proxies' loaders.
LAZY_FUNCTIONS = frozenset({"__getattr__", "__getattribute__", "__load__", "__get_proxied__", "_load_module"})
LAZY_PACKAGES = ("lazy_loader", "lazy_import", "apipkg", "demandimport")
# Standard-library modules that touch attributes on the caller's behalf: named as the way in.
INTROSPECTION_MODULES = frozenset({
    "inspect", "pickle", "copy", "copyreg", "rlcompleter", "pydoc", "doctest", "pkgutil", "pprint",
    "unittest.mock", "dataclasses",
})
HELPER_FILES = ("importlib/__init__.py", "importlib/_bootstrap.py", "importlib/_bootstrap_external.py",
                "importlib/util.py", "importlib/_abc.py", "importlib/machinery.py", "runpy.py")
CODEC_FILE = "encodings/__init__.py"
FROZEN_IMPORT_SYSTEM = frozenset({"<frozen importlib._bootstrap>", "<frozen importlib._bootstrap_external>",
                                  "<frozen zipimport>"})
FROZEN_HELPERS = frozenset({"importlib", "runpy", "zipimport"})
# Where installed distributions live: below the working directory (a virtual environment in the
# checkout) they are still not the program's own, unless they hold its -m or console-script package.
INSTALLED = ("/site-packages/", "/dist-packages/")
# Named causes (``aoinspect.models.trace.CAUSES``) the child decides; "line" is the default.
CAUSE_PARENT_PACKAGE = "parent-package"
CAUSE_COMPILED_MODULE = "compiled-module"
CAUSE_EXEC = "exec"
CAUSE_CODEC = "codec-search"
CAUSE_PROGRAM_START = "program-start"
CAUSE_INTERPRETER = "interpreter"
# Subprocesses are not followed, only counted: these audit events start one (``os.spawn*`` and
# the other ``exec*`` raise them too), or end the program's trace (``os.exec``). An audit hook
# leaves the ``os`` functions as they are, so the program cannot tell it is traced by them.
PROCESS_EVENTS = frozenset({"os.fork", "os.forkpty", "os.system", "os.posix_spawn", "os.exec", "subprocess.Popen"})
LAZY_LOOKAHEAD = 4  # frames above a program's function that imported, looked at for a lazy hop
FLUSH_PENDING = 64
LINES_AFTER = 4  # imports from one module body after which its line table is kept (3.10+)
FLUSH_NS = 100_000_000  # 0.1 s
# The names a fresh ``__main__`` holds; the bootstrap's own are removed before the program runs.
FRESH_MAIN = frozenset({"__name__", "__doc__", "__package__", "__loader__", "__spec__", "__annotations__",
                        "__builtins__"})


def _stdlib_dir():
    found = getattr(sys, "_stdlib_dir", None)
    if not found:
        os_module = _modules.get("os")
        found = getattr(os_module, "__file__", None) or ""
        found = found[: max(found.rfind("/"), found.rfind("\\"))]
    return found.replace("\\", "/")


STDLIB_DIR = _stdlib_dir()
_HAS_QUALNAME = hasattr(_stdlib_dir.__code__, "co_qualname")
_HAS_POSITIONS = hasattr(_stdlib_dir.__code__, "co_positions")
_HAS_LINES = hasattr(_stdlib_dir.__code__, "co_lines")


def classify_file(filename):
    """The part a file plays: ``IMPORT_SYSTEM``, ``OWN``, ``STRING``, ``LAZY``, ``HELPER``,
    ``CODEC``, ``INTROSPECTION`` or ``USER`` (``OwnFiles`` tells ``PROGRAM`` among the last)."""
    if filename in FROZEN_IMPORT_SYSTEM:
        return IMPORT_SYSTEM
    if filename in _OWN_FILES:
        return OWN
    if filename.startswith("<"):
        if not filename.startswith("<frozen "):
            return STRING
        # 3.11+ freezes some of the standard library: importlib.util, runpy, codecs, os, ...
        return HELPER if filename[8:-1] in FROZEN_HELPERS or filename.startswith("<frozen importlib.") else USER
    path = filename.replace("\\", "/")
    for package in LAZY_PACKAGES:
        if "/" + package + "/" in path:
            return LAZY
    if STDLIB_DIR and path.startswith(STDLIB_DIR + "/"):
        relative = path[len(STDLIB_DIR) + 1:]
        if relative in HELPER_FILES:
            return HELPER
        if relative == CODEC_FILE:
            return CODEC
        if relative.endswith(".py"):
            module = relative[:-3].replace("/", ".")
            if module.endswith(".__init__"):
                module = module[:-9]
            if module in INTROSPECTION_MODULES:
                return INTROSPECTION
    return USER


class OwnFiles:
    """Which files are the program's own: below the script's directory, the working directory or
    a ``--project`` path (never the standard library, nor installed distributions there), those of
    the ``-m`` module's or the console script's top-level package wherever it is installed, and
    ``__main__``'s."""

    def __init__(self, roots, packages):
        self.roots = tuple(_directory(root) for root in roots if root)
        self.packages = frozenset(package for package in packages if package)

    def __call__(self, path, module):
        """Whether ``path`` (``/``-separated), the file of module ``module``, is the program's."""
        if module == "__main__":
            return True
        if type(module) is str and module.partition(".")[0] in self.packages:
            return True
        if STDLIB_DIR and path.startswith(STDLIB_DIR + "/"):
            return False
        for root in self.roots:
            if path.startswith(root):
                rest = path[len(root) - 1:]
                return not any(part in rest for part in INSTALLED)
        return False


def _directory(path):
    path = path.replace("\\", "/")
    return path if path.endswith("/") else path + "/"


def console_script_package(source):
    """The top-level package behind a console script's entry point, for the launchers pip, uv
    and distlib write (``from black import patched_main`` ... ``sys.exit(patched_main())``)."""
    try:
        text = source.decode("utf-8")
    except (UnicodeDecodeError, AttributeError):
        return None
    lines = text.splitlines()
    if len(lines) > 20 or "sys.exit(" not in text:
        return None
    for line in lines:
        words = line.split()
        if len(words) == 4 and words[0] == "from" and words[2] == "import":
            return words[1].partition(".")[0]
    return None


def _qualname(code):
    return code.co_qualname if _HAS_QUALNAME else code.co_name


def _positions(frame):
    """``[line, end line, column, end column]`` of the instruction the frame is executing."""
    if not _HAS_POSITIONS:
        return None
    target = frame.f_lasti // 2
    if target < 0:
        return None
    for index, position in enumerate(frame.f_code.co_positions()):
        if index == target:
            return list(position)
    return None


def _function_of(frame):
    module = frame.f_globals.get("__name__")
    function = _qualname(frame.f_code)
    return module + "." + function if type(module) is str else function


def _extras(trigger, hop, via, context, ident, thread, hop_above, own, chain, cause):
    """A record's last nine fields (from ``protocol.TRACE_SHORT_RECORD`` on): rare, so kept off the
    common path. ``own`` is a frame further out than the trigger that is the program's own line,
    or None (the trigger is, as its negative line says, or the parent import has it, or none is)."""
    return [
        _positions(trigger) if trigger is not None and not hop_above and (hop is not None or via is not None)
        else None,
        ([*_hop(hop), True] if hop_above else _hop(hop)) if hop is not None else None,
        [_function_of(via), via.f_code.co_filename, via.f_lineno or 0] if via is not None else None,
        context, None if thread is None else ident, thread,
        None if own is None else _plain_frame(own),
        _chain(chain) if chain else None,
        cause,
    ]


CHAIN_KEPT = 8  # of a longer chain, this many lines nearest each end


def _chain(frames):
    """Frames collected from the trigger outwards, as ``[file, line, function, module]`` lists,
    outermost first; a long one keeps its ends."""
    if len(frames) > 2 * CHAIN_KEPT:
        frames = frames[:CHAIN_KEPT] + frames[-CHAIN_KEPT:]
    return [_plain_frame(frame) for frame in reversed(frames)]


def _plain_frame(frame):
    code = frame.f_code
    return [code.co_filename, frame.f_lineno or 0, _qualname(code), frame.f_globals.get("__name__")]


class LineFinder:
    """The line a frame is running, for frames far into a long code object. ``f_lineno`` walks
    the code's line table from its start on every call, so a module of N import statements
    costs N**2 / 2 steps; once a code object has triggered a few imports far from its start,
    its table becomes a list (``co_lines``, 3.10+) and later lookups step forward from where
    the last one ended."""

    FAR = 512  # f_lasti, in bytes, beyond which f_lineno's walk costs more than a lookup here
    BUILD_AFTER = 4  # far lookups in one code object before its table is built
    CACHED_CODES = 32
    FORWARD_STEPS = 16

    def __init__(self):
        # id(code) -> [code, co_lines() as a list or None, far lookups so far, last index];
        # the code object is held so that its id is not reused while it is cached.
        self._tables = {}
        self.line = self._line if _HAS_LINES else self._plain

    @staticmethod
    def _plain(frame, code):
        return frame.f_lineno or 0

    def _line(self, frame, code):
        entry = self._tables.get(id(code))
        if entry is None or entry[0] is not code:
            tables = self._tables
            if len(tables) >= self.CACHED_CODES:
                tables.clear()
            tables[id(code)] = [code, None, 1, 0]
            return frame.f_lineno or 0
        ranges = entry[1]
        lasti = frame.f_lasti
        if ranges is None:
            entry[2] += 1
            if entry[2] < self.BUILD_AFTER:
                return frame.f_lineno or 0
            ranges = entry[1] = list(code.co_lines())
            index = _last_starting_at(ranges, lasti)
        else:
            index = entry[3]
            if lasti < ranges[index][0]:
                index = _last_starting_at(ranges, lasti)  # a loop went back, or another call
            else:
                steps = self.FORWARD_STEPS
                while ranges[index][1] <= lasti:
                    index += 1
                    steps -= 1
                    if index == len(ranges) or not steps:
                        index = _last_starting_at(ranges, lasti)
                        break
        found = ranges[index]
        if found[0] <= lasti < found[1] and found[2] is not None:
            entry[3] = index
            return found[2]
        return frame.f_lineno or 0


def _last_starting_at(ranges, lasti):
    """The index of the last of ``ranges`` (``(start, end, line)``, in order) that starts at or
    before ``lasti``, or 0."""
    low, high = 0, len(ranges)
    while low < high:
        middle = (low + high) // 2
        if ranges[middle][0] <= lasti:
            low = middle + 1
        else:
            high = middle
    return low - 1 if low else 0


def _hop(frame):
    """The lazy frame that turned an attribute access into an import, with the attribute."""
    code = frame.f_code
    attribute = None
    try:
        local = frame.f_locals
        for name in code.co_varnames[: code.co_argcount]:
            value = local.get(name)
            if type(value) is str:
                attribute = value
                break
    except BaseException:  # noqa: BLE001 - a frame's locals may hold anything
        pass
    return [_function_of(frame), attribute, code.co_filename, frame.f_lineno or 0]


class Tracer:
    """Wraps ``_find_and_load`` (which ``import`` statements, ``__import__`` and
    ``importlib.import_module`` all reach for a module not yet loaded) to record each import
    that begins. With a ``result_path`` records go to that file in batches; without one
    (the pytest plugin, in-process) they are kept in ``kept``."""

    def __init__(self, result_path, own_files=None, command_caller=None):
        self.result_path = result_path
        self.own_files = own_files if own_files is not None else OwnFiles([_os.getcwd()], ())
        # The frame that runs the ``-c`` program (``run``'s): the code it runs is not an exec'd string.
        self.command_caller = command_caller
        self.kept = []
        self.pending = []
        self.context = None  # set by the pytest plugin: [node id, phase]
        self.seen = set()
        self.spawned = 0
        self.origin = clock_ns()
        self.pid = _os.getpid()
        self.main_thread = _get_ident()
        self._stacks = {}
        self._file_kinds = {}
        self._lock = _allocate_lock()
        self._last_flush = 0
        self._startup = frozenset(_modules)
        self._fd = None  # the result file, opened on the first write
        self._inode = None
        self._original = getattr(_bootstrap, "_find_and_load")  # noqa: B009
        self._installed = False

    # --- recording ---

    def install(self):
        original = self._original
        stacks = self._stacks
        pending = self.pending
        seen = self.seen
        modules = _modules
        timer = clock_ns
        origin = self.origin
        get_ident = _get_ident
        getframe = _getframe
        counter = iter(range(1 << 62))
        tracer = self
        main_thread = self.main_thread
        main_stack = stacks.setdefault(main_thread, [])
        thread_name = self._thread_name
        kinds = self._file_kinds
        lazy_functions = LAZY_FUNCTIONS
        has_qualname = _HAS_QUALNAME
        far_line = LineFinder().line
        far = LineFinder.FAR
        has_lines = _HAS_LINES
        extras = _extras
        short_record = protocol.TRACE_SHORT_RECORD
        rendered = self.result_path is not None  # records written as text, built as each ends
        main_bodies = []  # type: ignore[var-annotated] # beside main_stack: the module body found importing at that depth, or None

        own_files = self.own_files
        command_caller = self.command_caller
        # The import system's frames are told by their globals, not their code: reading a frame's
        # f_code raises an audit event ("object.__getattr__"), which calls every audit hook (the
        # tracer's own too) in Python, several times an import. Frames of other globals are
        # classified by their file (``kinds``), where zipimport's and any other import system's are.
        bootstrap_globals = vars(_bootstrap)
        external = _modules.get("_frozen_importlib_external")
        external_globals = vars(external) if external is not None else bootstrap_globals
        for module in (_bootstrap, _modules.get("_frozen_importlib_external")):
            function = getattr(module, "_call_with_frames_removed", None)
            if function is not None:  # checked before the walk reaches it: known from the start
                kinds[function.__code__.co_filename] = IMPORT_SYSTEM

        def file_kind(frame, filename):
            kind = classify_file(filename)
            if kind == USER and own_files(filename.replace("\\", "/"), frame.f_globals.get("__name__")):
                kind = PROGRAM
            kinds[filename] = kind
            return kind

        def lazy_caller(frame):
            """A lazy function among the few frames above a function of the program's own that
            imported: a ``__getattr__`` of the program's package that imports through a helper."""
            steps = LAZY_LOOKAHEAD
            while frame is not None and steps:
                code = frame.f_code
                kind = kinds.get(code.co_filename)
                if kind == OWN:
                    return None
                if kind != IMPORT_SYSTEM:
                    if code.co_name in lazy_functions:
                        return frame
                    steps -= 1
                frame = frame.f_back
            return None

        def _find_and_load(name, import_):
            if name in modules:
                return original(name, import_)
            # The trigger: the innermost frame outside the import system, the lazy machinery and
            # the other ways in (the walk is short: the caller, or three frames above it); then the
            # program's own line, unless the import running around this one began at it.
            frame = getframe(1)
            while frame is not None:  # the import system's own frames, told by their globals
                globals_ = frame.f_globals
                if globals_ is not bootstrap_globals and globals_ is not external_globals:
                    break
                frame = frame.f_back  # type: ignore[assignment]
            if not main_stack:
                return general(name, import_, frame)
            # Most imports come from the body of the module being imported around them, which
            # ``general`` classified at its first import: only the line is new (that frame runs
            # on the main thread, whose stack this is; another thread finds no frame of its own
            # there, and main_bodies is never shorter than main_stack: pushed first, popped last).
            body = main_bodies[-1]
            if body is None or frame is not body[0] or tracer.context is not None:
                return general(name, import_, frame)
            lasti = frame.f_lasti
            found = body[9]
            if found is not None and found[0] <= lasti:
                # The body runs forward: its line is a few of its line table's ranges on.
                lines = body[8]
                while found is not None and found[1] <= lasti:
                    found = next(lines, None)
                body[9] = found
                line = found[2] if found is not None and found[2] is not None else frame.f_lineno or 0
            else:
                line = (frame.f_lineno or 0) if lasti < far else far_line(frame, body[1])
                if has_lines and body[8] is None:
                    body[10] += 1
                    if body[10] == LINES_AFTER:  # a body of many imports: read on through its table
                        lines = body[8] = body[1].co_lines()
                        found = next(lines, None)
                        while found is not None and found[1] <= lasti:
                            found = next(lines, None)
                        body[9] = found
            if not line:
                return general(name, import_, frame)
            record = [next(counter), name, main_stack[-1][0], timer() - origin, None, False, body[3],
                      -line if body[2] else line, body[4], body[5]]
            seen.add(name)
            main_bodies.append(None)
            main_stack.append(record)
            try:
                return original(name, import_)
            finally:
                now = timer() - origin
                main_stack.pop()
                main_bodies.pop()
                # As ascii(record) writes it, its repeated fields written once for the body; the
                # record itself is done with (only those of imports still running are read again).
                pending.append(f"[{record[0]}, {name!a}, {record[2]}, {record[3]}, {now}, {name in modules}, "
                               f"{body[6]}, {record[7]}, {body[7]}]")
                if len(pending) >= FLUSH_PENDING or now - tracer._last_flush > FLUSH_NS:
                    tracer.flush()

        def general(name, import_, frame):
            """An import the fast path above does not cover: the whole walk."""
            first = frame
            ident = get_ident()
            if ident == main_thread:
                stack = main_stack
                bodies = main_bodies
                thread = None
            else:
                stack = stacks.get(ident)
                if stack is None:
                    stack = stacks[ident] = []
                bodies = None
                thread = thread_name(ident)
            trigger = own = hop = via = chain = cause = trigger_code = None
            at_body = False
            hop_above = False
            while frame is not None:
                globals_ = frame.f_globals
                if globals_ is bootstrap_globals or globals_ is external_globals:
                    frame = frame.f_back  # the common case, kept quick
                    continue
                code = frame.f_code
                kind = kinds.get(code.co_filename)
                if kind == IMPORT_SYSTEM:
                    frame = frame.f_back  # the common case, kept quick
                    continue
                if kind is None:
                    kind = file_kind(frame, code.co_filename)
                if kind == OWN:
                    break  # the wrapper of the import running around this one, or run()
                function = code.co_name
                if kind == STRING:
                    if function == "<module>" and (command_caller is None or frame.f_back is not command_caller):
                        if trigger is None:
                            cause = CAUSE_EXEC  # a string exec'd: the line that exec'd it is further out
                        kind = USER
                    elif function in lazy_functions:
                        kind = LAZY
                    else:
                        kind = PROGRAM if frame.f_globals.get("__name__") == "__main__" else USER
                elif function == "<module>":
                    if kind != USER and kind != PROGRAM:
                        kind = USER  # a helper module's body is code like any other
                elif function in lazy_functions:
                    kind = LAZY
                if kind in (USER, PROGRAM):
                    if trigger is None:
                        back = frame.f_back
                        if function == "<module>" and back is not None and (
                                back.f_globals is bootstrap_globals or back.f_globals is external_globals
                                or kinds.get(back.f_code.co_filename) == IMPORT_SYSTEM):
                            if not stack:
                                # A module body the import system runs while no import is under
                                # way: a LazyLoader module executing on first access, or
                                # exec_module called by hand. The line that set it off is further out.
                                frame = frame.f_back
                                continue
                            at_body = frame is first
                            if kind != PROGRAM:
                                trigger = frame
                                trigger_code = code
                                break  # the body of the module being imported: its own line is the import's
                        trigger = frame
                        trigger_code = code
                        if kind == PROGRAM:
                            own = True
                            if function != "<module>" and hop is None:
                                hop = lazy_caller(frame.f_back)
                                hop_above = hop is not None
                            break
                    elif kind == PROGRAM:
                        own = frame  # True, or the frame further out
                        break
                    elif chain is None:
                        chain = [frame]
                    else:
                        chain.append(frame)
                elif trigger is None:
                    if kind == LAZY:
                        hop = frame
                    elif kind == INTROSPECTION:
                        via = frame
                    elif kind == CODEC:
                        cause = CAUSE_CODEC
                elif kind == LAZY:
                    if hop is None:
                        hop = frame  # a __getattr__ that reached the import through helper functions
                        hop_above = True
                elif kind == INTROSPECTION and via is None and hop is not None:
                    via = frame
                frame = frame.f_back
            if trigger is None and cause is None:
                if frame is None:
                    cause = CAUSE_INTERPRETER
                elif stack:
                    # Between this import and the one around it ran no Python code of a module:
                    # that import needed its parent package first, or ran a compiled module's init.
                    cause = CAUSE_PARENT_PACKAGE if stack[-1][1].startswith(name + ".") else CAUSE_COMPILED_MODULE
                else:
                    cause = CAUSE_PROGRAM_START
            parent = stack[-1][0] if stack else -1
            if trigger is not None:
                code = trigger_code  # set with the trigger
                line = (trigger.f_lineno or 0) if trigger.f_lasti < far else far_line(trigger, code)
                if own is True:
                    # The trigger is the program's own line: said without the extras (a line 0 with them).
                    own = None if line else trigger
                    line = -line
                record = [next(counter), name, parent, timer() - origin, None, False,
                          code.co_filename, line,  # type: ignore[union-attr]
                          code.co_qualname if has_qualname else code.co_name,  # type: ignore[union-attr]
                          trigger.f_globals.get("__name__")]
            else:
                record = [next(counter), name, parent, timer() - origin, None, False, None, 0, None, None]
            context = tracer.context
            if hop is not None or via is not None or thread is not None or context is not None or own is not None \
                    or chain is not None or cause is not None:
                record += extras(trigger, hop, via, context, ident, thread, hop_above, own, chain, cause)
            body = None
            if at_body and rendered and bodies is not None and len(record) == short_record:
                # [frame, code, own line, file, function, module, the three as text, and once it has
                # imported LINES_AFTER modules its co_lines() and the range of its last import,
                # how many it has imported]
                bodies[-1] = body = [first, code, own is None and line < 0, record[6], record[8], record[9],
                                     ascii(record[6]), ascii(record[8]) + ", " + ascii(record[9]), None, None, 0]
            seen.add(name)
            if not stack:
                tracer.flush(record)
            if bodies is not None:
                bodies.append(None)
            stack.append(record)
            try:
                return original(name, import_)
            finally:
                now = timer() - origin
                record[4] = now  # protocol.TRACE_END_NS
                loaded = record[5] = name in modules  # loaded
                stack.pop()
                if bodies is not None:
                    bodies.pop()
                if not rendered:
                    pending.append(record)
                elif body is None:
                    pending.append(ascii(record))
                else:
                    pending.append(f"[{record[0]}, {name!a}, {record[2]}, {record[3]}, {now}, {loaded}, {body[6]}, "
                                   f"{record[7]}, {body[7]}]")
                if not stack or len(pending) >= FLUSH_PENDING or now - tracer._last_flush > FLUSH_NS:
                    tracer.flush()

        setattr(_find_and_load, "aoinspect_tracer", self)  # noqa: B010 - how the pytest plugin finds it
        setattr(_bootstrap, "_find_and_load", _find_and_load)  # noqa: B010
        self._installed = True

    def uninstall(self):
        if self._installed:
            setattr(_bootstrap, "_find_and_load", self._original)  # noqa: B010
            self._installed = False

    def _thread_name(self, ident):
        threading = _modules.get("threading")
        running = getattr(threading, "_active", {}).get(ident) if threading is not None else None
        name = getattr(running, "_name", None)
        return name if type(name) is str else "thread " + str(ident)

    # --- reporting ---

    def flush(self, begun=None, unfinished=False):
        """Write the pending records (and ``begun``, a top-level import that just began, or
        with ``unfinished`` every import still running); never raises."""
        if self.result_path is None:
            batch = self.pending[:]
            del self.pending[: len(batch)]
            self.kept.extend(batch)
            return
        if _os.getpid() != self.pid or not self._lock.acquire(False):
            return  # a forked child's records are not ours to write; another thread is writing
        try:
            batch = self.pending[:]
            del self.pending[: len(batch)]
            if begun is not None:
                batch.append(ascii(begun))
            if unfinished:
                for stack in list(self._stacks.values()):
                    batch.extend(ascii(record) for record in stack if record[protocol.TRACE_END_NS] is None)
            if batch:
                # Each record is its ascii(), written as it ended (``install``): ascii writes a list
                # of plain values in C, many times faster than protocol.encode; the parent reads it
                # back with ast.literal_eval, which builds literals and nothing else whatever the
                # text holds (marshal would be faster still, but marshal.loads is not hardened
                # against crafted data, and the program this child runs can write into the file).
                # Being ASCII, with control characters escaped, the batch is a JSON string once
                # its backslashes and double quotes are.
                data = "[" + ", ".join(batch) + "]"
                if "\\" in data or '"' in data:  # seldom: a quote or an escape in a name
                    data = data.replace("\\", "\\\\").replace('"', '\\"')
                self._write_string(protocol.SECTION_TRACE_LOADS, "records", data)
            self._last_flush = clock_ns() - self.origin
        except BaseException:  # noqa: BLE001 - a full disk must not break the program
            pass
        finally:
            self._lock.release()

    def send(self, section, payload):
        if self.result_path is None or _os.getpid() != self.pid:
            return
        try:
            self._write(section, payload)
        except BaseException:  # noqa: BLE001
            pass

    def _write(self, section, payload):
        payload[protocol.SECTION_KEY] = section
        self._write_line(protocol.encode(payload) + "\n")

    def _write_string(self, section, field, body):
        """A section of one field whose value is ``body``, already a JSON string's body (ASCII,
        escaped), which ``protocol.encode`` would scan again."""
        self._write_line('{"' + protocol.SECTION_KEY + '":"' + section + '","' + field + '":"' + body + '"}\n')

    def _write_line(self, line):
        data = line.encode("ascii")
        fd = self._descriptor()
        while data:
            data = data[_os.write(fd, data):]

    def _descriptor(self):
        """The result file, kept open; the program may close descriptors it did not open and
        reuse their numbers, so the file behind the number is checked before every write."""
        fd = self._fd
        if fd is not None:
            try:
                if _os.fstat(fd).st_ino == self._inode:
                    return fd
            except OSError:
                pass
        fd = _os.open(self.result_path, _os.O_WRONLY | _os.O_APPEND | _os.O_CREAT, 0o600)
        self._fd = fd
        self._inode = _os.fstat(fd).st_ino
        return fd

    def finish(self, how, detail, startup):
        """The program's main code ended (``how``: returned, exit, exception, os._exit, exec)."""
        inserted = [name for name in list(_modules) if name not in self.seen and name not in startup]
        self.flush(unfinished=True)
        self.send(protocol.SECTION_TRACE_END, {"how": how, "detail": detail, "spawned": self.spawned,
                                               "inserted": inserted})

    # --- subprocesses, os._exit, exec ---

    def watch_process_events(self, startup):
        """Count the processes the program starts and write the trace out before ``os.exec*``
        and ``os._exit``. An audit hook sees every process event but ``os._exit``'s (Python
        3.9-3.13 raise none for it): ``_exit`` alone is wrapped, the same wrapper in ``os`` and in
        ``posix`` (``os._exit is posix._exit`` holds; its type is a Python function's)."""
        self._startup = startup
        watched = PROCESS_EVENTS
        spawn = self._spawn

        def audit(event, args):
            if event in watched:
                spawn(event, args)

        sys.addaudithook(audit)
        real = getattr(_os, "_exit", None)
        if real is None:
            return
        wrapper = self._wrap(real, "os._exit")
        for name in ("os", "posix", "nt"):
            module = _modules.get(name)
            if module is not None and getattr(module, "_exit", None) is real:
                setattr(module, "_exit", wrapper)  # noqa: B010

    def _wrap(self, real, event):
        tracer = self

        def _exit(*args, **kwargs):
            tracer._spawn(event, args)
            return real(*args, **kwargs)

        _exit.__module__ = getattr(real, "__module__", None) or "posix"
        _exit.__name__ = real.__name__
        _exit.__qualname__ = getattr(real, "__qualname__", real.__name__)
        _exit.__doc__ = real.__doc__
        return _exit

    def _spawn(self, event, args):
        if _os.getpid() != self.pid:
            return
        if event == "os._exit":
            self.finish(event, str(args[0]) if args else "", self._startup)
            return
        if event == "os.exec":
            self.finish("exec", str(args[0]) if args else "", self._startup)
            return
        try:
            caller = _getframe(2).f_code.co_filename
        except BaseException:  # noqa: BLE001
            caller = ""
        if event == "os.posix_spawn" and caller.endswith("subprocess.py"):
            return  # Popen's own posix_spawn: counted as subprocess.Popen
        self.spawned += 1
        self.send(protocol.SECTION_TRACE_SPAWN, {"event": event, "count": self.spawned})


# --- running the program as ``python`` would ------------------------------------------------------


def _parse(program):
    """``("command", CODE, argv)``, ``("module", NAME, argv)`` or ``("script", PATH, argv)``."""
    first = program[0] if program else ""
    for flag, kind in (("-c", "command"), ("-m", "module")):
        if first == flag and len(program) > 1:
            return kind, program[1], [flag, *program[2:]]
        if first.startswith(flag) and len(first) > 2:
            return kind, first[2:], [flag, *program[1:]]
    return "script", first, list(program)


def _strip(traceback, exc=None):
    """The traceback without this file's frames, as plain ``python`` would print it: those in
    front (the tracer running the program) and those inside it (the import wrapper, under every
    import that raised), in EXC's chained exceptions too."""
    while traceback is not None and traceback.tb_frame.f_code.co_filename in _OWN_FILES:
        traceback = traceback.tb_next
    _unlink_own_frames(traceback)
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        exc = exc.__cause__ if exc.__cause__ is not None else exc.__context__
        if exc is not None:
            exc.__traceback__ = _strip(exc.__traceback__)
    return traceback


def _unlink_own_frames(traceback):
    while traceback is not None:
        following = traceback.tb_next
        while following is not None and following.tb_frame.f_code.co_filename in _OWN_FILES:
            following = following.tb_next
        if following is not traceback.tb_next:
            try:
                traceback.tb_next = following
            except (TypeError, ValueError):  # not writable before 3.7: leave it as it is
                return
        traceback = following


_COMMAND_LOADS_LINECACHE = sys.version_info >= (3, 13)


def _keep_command_source(code, source):
    """3.13's ``python -c`` keeps the command's source for tracebacks (``linecache``, under
    ``<string>``): the tracer does the same for the program's command."""
    linecache = _modules.get("linecache")
    if linecache is None or not _COMMAND_LOADS_LINECACHE:
        return
    cache = getattr(linecache, "cache", None)
    if type(cache) is dict:
        cache["<string>"] = (len(source), None, [line + "\n" for line in source.splitlines()], "<string>")
    register = getattr(linecache, "_register_code", None)  # where newer versions keep it
    if register is not None:
        try:
            register(code, source, "<string>")
        except Exception:  # noqa: BLE001 - a private function: its shape may change
            pass


def run(result_path, program, projects=()):
    """Run PROGRAM in this interpreter with the tracer installed; return as the program
    ends, or let its ``SystemExit`` or exception end the interpreter as it would have.
    ``projects``: directories whose files are the program's own besides those it implies."""
    main = _modules["__main__"]
    namespace = main.__dict__
    for key in list(namespace):
        if key not in FRESH_MAIN:
            del namespace[key]
    kind, target, argv = _parse(program)
    archive = kind == "script" and _is_archive_or_directory(target)
    if kind == "module" or archive:
        import runpy  # ``python -m`` imports it before the program starts: not the program's load
    path0 = None
    if kind == "module":
        path0 = _os.getcwd()
    elif kind == "script":
        path = _path()
        path0 = path.abspath(target) if archive else path.dirname(path.realpath(target))
    # Running the entry script put its directory first on sys.path, where PROGRAM's start puts
    # its own (nothing under -P or -I, which 3.11 has imply -P).
    if sys.path and not (getattr(sys.flags, "safe_path", False) or sys.flags.isolated):
        sys.path[0] = "" if path0 is None else path0
    sys.argv[:] = argv
    if hasattr(sys, "orig_argv"):
        sys.orig_argv = [sys.orig_argv[0], *program]
    if kind == "command":
        namespace["__loader__"] = _bootstrap.BuiltinImporter  # ``python -c``'s, where the script had its own
        if _COMMAND_LOADS_LINECACHE:
            import linecache  # noqa: F401 - 3.13's ``python -c`` loads it for the command's source
    startup = frozenset(_modules)
    tracer = Tracer(result_path, _own_files(kind, target, path0, archive, projects),
                    _getframe() if kind == "command" else None)
    tracer.send(protocol.SECTION_TRACE_START, {
        "python": list(sys.version_info[:3]), "pid": tracer.pid, "kind": kind, "stdlib": STDLIB_DIR,
    })
    tracer.watch_process_events(startup)
    tracer.install()
    try:
        if kind == "command":
            if _COMMAND_LOADS_LINECACHE:
                code = compile(target, "<string>", "exec", dont_inherit=True)
                _keep_command_source(code, target)
                exec(code, namespace)
            else:
                # Compiled by exec, as ``python -c`` compiles it: the builtin compile() would first
                # create the ~120 classes of the ast module (PyAST_Check), a third of a bare start.
                exec(target, namespace)
        elif kind == "module":
            getattr(runpy, "_run_module_as_main")(target, True)  # noqa: B009 - what python -m calls
        elif archive:
            getattr(runpy, "_run_module_as_main")("__main__", False)  # noqa: B009
        else:
            _run_script(target, namespace)
    except SystemExit as exc:
        tracer.finish("exit", _describe_exit(exc), startup)
        raise
    except BaseException as exc:
        failure = exc  # ``exc`` is unbound when the except clause ends; the hook runs later
        tracer.finish("exception", type(exc).__name__ + (": " + _safe_str(exc) if exc.args else ""), startup)
        stripped = _strip(exc.__traceback__, exc)
        exc.__traceback__ = stripped
        program_hook = sys.excepthook

        def excepthook(kind, value, traceback):
            # Once: the program's own hook prints the traceback without our frames.
            if sys.excepthook is excepthook:
                sys.excepthook = program_hook
            if value is failure:
                # Frames were added in front again on the way out: print from the program's own.
                value.__traceback__ = traceback = stripped
            program_hook(kind, value, traceback)

        sys.excepthook = excepthook
        raise
    tracer.finish("returned", "", startup)


def split_projects(text):
    """The ``--project`` directories, as the parent joins them (``os.pathsep``)."""
    return [path for path in text.split(";" if sys.platform == "win32" else ":") if path]


def _own_files(kind, target, path0, archive, projects):
    """The program's own files (``OwnFiles``): the working directory, ``projects``, the script's
    directory (or archive), and the package of ``-m`` or of a console script's entry point."""
    roots = [_os.getcwd(), *projects]
    packages = []
    if kind == "module":
        packages.append(target.partition(".")[0])
    elif kind == "script":
        roots.append(path0)
        if not archive:
            try:
                with _open(target, "rb") as stream:
                    packages.append(console_script_package(stream.read(4096)))
            except OSError:
                pass
    return OwnFiles(roots, packages)


def _run_script(path, namespace):
    absolute = _path().abspath(path)
    try:
        with _open(path, "rb") as stream:
            source = stream.read()
    except OSError as exc:
        sys.stderr.write(f"{sys.executable}: can't open file {absolute!r}: [Errno {exc.errno}] {exc.strerror}\n")
        raise SystemExit(2) from None
    namespace["__file__"] = absolute
    namespace["__cached__"] = None
    loaders = _modules["_frozen_importlib_external"]
    namespace["__loader__"] = loaders.SourceFileLoader("__main__", absolute)
    exec(compile(source, absolute, "exec", dont_inherit=True), namespace)


def _describe_exit(exc):
    code = exc.code
    if code is None:
        return "0"
    return str(code) if type(code) is int else "1"


def _safe_str(value):
    try:
        text = str(value)
    except BaseException:  # noqa: BLE001
        return "<unprintable>"
    return text if len(text) <= 300 else text[:297] + "..."


def _path():
    found = _modules.get("os.path")
    if found is None:  # an interpreter started without os (-S, -I on some platforms)
        import posixpath as found
    return found


def _is_archive_or_directory(path):
    if _path().isdir(path):
        return True
    try:
        with _open(path, "rb") as stream:
            return stream.read(4) == b"PK\x03\x04"
    except OSError:
        return False
