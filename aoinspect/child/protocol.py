"""The wire between the CLI and the child: request modes, result sections, and the child's
writer. Shared by both sides; the parent imports the constants, the child loads this file as a
sibling. Standard library only, Python 3.9+, and nothing imported at module level.

A request is ``MODE PACKAGE THREADS NAME...``: on a spawned child's argv after the result path,
or as one hex-encoded line to the fork server. Results are JSON lines, one section per line,
appended to the request's result file; a ``done`` section closes a run that went to its end.
"""

# The warnings machinery skips frames whose file name holds "importlib" and "_bootstrap" (the
# import system's) when it walks a ``stacklevel`` up the stack. The child's own code objects get
# this suffix on their file name, so that a warning a package emits at import or in an access is
# attributed where ``python -c "import PACKAGE"`` attributes it: to the ``-c`` code in
# ``__main__`` (stack level 2), or past the bottom of the stack, to ``sys`` (stack level 3).
HIDDEN_FROM_WARNINGS = " (aoinspect, skipped by warnings like importlib._bootstrap)"


def hidden_name(path):
    """The file name a child file's code objects carry (``HIDDEN_FROM_WARNINGS``)."""
    return path + HIDDEN_FROM_WARNINGS


def hide(code, path):
    """Rename ``code``, from the child file ``path``, and the code nested in it to
    ``hidden_name(path)``, which the warnings machinery skips: between the package's (or the
    traced program's) frames and what a bare ``python`` would have below them, there are then only
    frames it skips. The import system does the same to code it has just loaded."""
    import sys  # loaded at start-up: nothing is imported

    fix_co_filename = getattr(sys.modules["_imp"], "_fix_co_filename", None)
    if fix_co_filename is not None:
        fix_co_filename(code, hidden_name(path))


# Request modes: what a probe does after ``import PACKAGE``.
MODE_INSPECT = "inspect"  # describe the package (namespace, __all__, dir)
MODE_RESOLVE = "resolve"  # access each NAME in turn, measuring every step
MODE_RESOLVE_BATCH = "resolve-batch"  # the first NAME as resolve, the next ones while provably exact
MODE_PLAN = "plan"  # the first module each NAME's access asks for: how to group names into batches
MODE_ASK = "ask"  # call the package's __getattr__ directly for each NAME
MODE_STAR = "star"  # what ``from PACKAGE import *`` does; then, as MODE_PICKLE, pickle each NAME
MODE_RACE = "race"  # NAME from THREADS threads at once
MODE_SERVE = "serve"  # the fork server: import once, fork a probe per request
# What tools that look at the package do to it, each measured in a fresh probe.
MODE_DIR = "dir"  # dir(PACKAGE)
MODE_HASATTR = "hasattr"  # hasattr(PACKAGE, NAME) for each NAME
MODE_GETMODULE = "getmodule"  # inspect.getmodule on code of an unrelated module (walks sys.modules)
MODE_COMPLETE = "complete"  # the standard REPL completing ``PACKAGE.``
MODE_PICKLE = "pickle"  # pickle.dumps(PACKAGE.NAME) for each NAME that is a class or a function
MODE_UNPICKLE = "unpickle"  # pickle.loads of each ``NAME:HEX``, then PACKAGE.NAME: the same object?

REQUEST_MODES = (
    MODE_INSPECT, MODE_RESOLVE, MODE_ASK, MODE_STAR, MODE_RACE, MODE_DIR, MODE_HASATTR, MODE_GETMODULE,
    MODE_COMPLETE, MODE_PICKLE, MODE_UNPICKLE, MODE_RESOLVE_BATCH, MODE_PLAN,
)
# MODE_UNPICKLE's fields: the name, this separator, the pickle in hex. A pickle of a class or a
# function is a reference by name, far below this many bytes.
PICKLE_SEPARATOR = ":"
PICKLE_LIMIT = 4096
# MODE_STAR's one name field when the names to pickle come later (a probe started on a guess,
# before the parent knows them): this prefix, then the path of a FIFO the probe reads them from
# after the star import, as a count of bytes on a line, then the names, one a line.
NAMES_LATER = "<later>"

# Result sections.
SECTION_IMPORT = "import"  # what ``import PACKAGE`` materialized
SECTION_SERVER = "server"  # the fork server's state after import
SECTION_PACKAGE = "package"  # MODE_INSPECT
SECTION_RESOLVE = "resolve"  # MODE_RESOLVE, one per name
SECTION_ASK = "ask"  # MODE_ASK
SECTION_STAR = "star"  # MODE_STAR
SECTION_RACE = "race"  # MODE_RACE
SECTION_DIR = "dir"  # MODE_DIR
SECTION_HASATTR = "hasattr"  # MODE_HASATTR
SECTION_GETMODULE = "getmodule"  # MODE_GETMODULE
SECTION_COMPLETE = "complete"  # MODE_COMPLETE
SECTION_PICKLE = "pickle"  # MODE_PICKLE, one per name
SECTION_UNPICKLE = "unpickle"  # MODE_UNPICKLE, one per name
SECTION_BATCH = "batch"  # MODE_RESOLVE_BATCH: the names it left for fresh forks, and why
SECTION_PLAN = "plan"  # MODE_PLAN
SECTION_INTERNAL = "internal"  # the probe itself failed: an error in aoinspect's child code
SECTION_DONE = "done"  # the run went to its end
# ``aoinspect trace`` (child/tracer.py): a program run under the import tracer.
SECTION_TRACE_START = "trace-start"  # the interpreter, and what it had loaded before the program
SECTION_TRACE_LOADS = "trace-loads"  # a batch of import records
SECTION_TRACE_SPAWN = "trace-spawn"  # the program started a process (not followed)
SECTION_TRACE_END = "trace-end"  # the program's main code ended, and how
# A deferral simulated under PEP 810 (child/defer.py): one per scenario.
SECTION_DEFER = "defer"
# ``aoinspect graph`` (child/graph.py): every import request the entry made, hits included.
SECTION_GRAPH = "graph"
# check's predicting child (child/predict.py): what importing and touching every name loaded, per name.
SECTION_PREDICT = "predict"
# ... and, after it, each name's pickle as the star import's probe sends it to the unpickle probe.
SECTION_PICKLES = "pickles"

SECTIONS = (
    SECTION_IMPORT, SECTION_SERVER, SECTION_PACKAGE, SECTION_RESOLVE, SECTION_ASK, SECTION_STAR,
    SECTION_RACE, SECTION_DIR, SECTION_HASATTR, SECTION_GETMODULE, SECTION_COMPLETE, SECTION_PICKLE,
    SECTION_UNPICKLE, SECTION_BATCH, SECTION_PLAN, SECTION_INTERNAL, SECTION_DONE,
    SECTION_TRACE_START, SECTION_TRACE_LOADS, SECTION_TRACE_SPAWN, SECTION_TRACE_END, SECTION_DEFER,
    SECTION_GRAPH, SECTION_PREDICT, SECTION_PICKLES,
)
# A trace record's fields (child/tracer.py writes it, probing/wire.py reads it): always the first
# ten, [index, module, parent, start ns, end ns, loaded, file, line, function, frame module]; the
# last nine, [positions, hop, via, context, thread id, thread, own, chain, cause], only when one of
# them is not empty (a load in another thread, through a lazy hop or an introspection helper, under
# the pytest plugin, with the program's own line further out than the trigger, or a named cause
# other than the line). The trigger's line is negative when the trigger is the program's own line;
# ``own`` is a frame ``[file, line, function, module]`` further out that is, or null (the trigger,
# its parent import's, or none); ``chain``: such frames, outermost first. Times are integer
# nanoseconds since the tracer started; a record still running has no end. wire.py unpacks a
# record whole; these name the fields read one at a time.
TRACE_INDEX, TRACE_PARENT, TRACE_START_NS, TRACE_END_NS = 0, 2, 3, 4
TRACE_CONTEXT = 13
TRACE_SHORT_RECORD = 10
TRACE_LONG_RECORD = 19

# How a step of an access was served (the child decides, in probe.step_mechanism).
MECHANISM_ATTRIBUTE = "attribute"  # already in the namespace (or the class): a plain attribute
MECHANISM_MODULE_GETATTR = "module-getattr"  # the module's __getattr__ (PEP 562)
MECHANISM_CLASS_GETATTR = "class-getattr"  # __getattr__ on the module's class (transformers' _LazyModule)
MECHANISM_LAZY_LOADER = "lazy-loader"  # lazy_loader.attach's module __getattr__
MECHANISM_LAZY_MODULE = "lazy-module"  # an importlib.util.LazyLoader module executing on first access
MECHANISM_PROXY = "proxy"  # an object whose own __getattr__/__getattribute__ loads on access
# A proxy bound in a module that declares ``__lazy_modules__``: a PEP 810 shim (lazy-importer on
# 3.11-3.14) bound it at import in place of the module or object; the first use loads it.
MECHANISM_LAZY_IMPORT_SHIM = "lazy-import-shim"
MECHANISM_NONE = "none"  # nothing serves a missing name: it raises AttributeError
MECHANISMS = (
    MECHANISM_ATTRIBUTE, MECHANISM_MODULE_GETATTR, MECHANISM_CLASS_GETATTR, MECHANISM_LAZY_LOADER,
    MECHANISM_LAZY_MODULE, MECHANISM_PROXY, MECHANISM_LAZY_IMPORT_SHIM, MECHANISM_NONE,
)
# The kinds of side effect child/effects.py reports, as ``(kind, detail)`` pairs, in this order: what
# deferring an import would delay or cancel.
EFFECT_KINDS = (
    "atexit", "signal", "sys.path", "sys.meta_path", "sys.path_hooks", "warnings", "logging", "codecs",
    "copyreg", "thread", "environ", "monkeypatch", "registry",
)
# A per-run secret: the parent writes it to RESULT_PATH + TOKEN_SUFFIX, the child reads that file
# and removes it before the package runs, and every line it writes carries the secret under
# TOKEN_KEY. A line without it was not written by the probe.
TOKEN_SUFFIX = ".token"
TOKEN_KEY = "token"
# The key that names a line's section.
SECTION_KEY = "section"


def encode_request(mode: str, package: str, threads: int, names: "tuple[str, ...]") -> "list[str]":
    """The request's fields, in order."""
    return [mode, package, str(threads), *names]


def decode_request(fields):
    """``(mode, package, threads, names)``; raises ValueError for a malformed request."""
    if len(fields) < 3:
        raise ValueError("a request needs MODE PACKAGE THREADS")
    mode = fields[0]
    if mode not in REQUEST_MODES:
        raise ValueError("unknown mode " + repr(mode))
    return mode, fields[1], int(fields[2]), list(fields[3:])


def read_names_later(path, opener):
    """The names a probe or the predicting child started on ``NAMES_LATER`` is told through the FIFO
    at ``path`` (a length line, then the names a line each), read with ``opener`` (the child's own
    ``open``, kept before the package ran); none if the parent cannot say (it ended: the FIFO's end)."""
    try:
        with opener(path, "rb") as stream:
            size = int(stream.readline())
            data = stream.read(size)
    except BaseException:  # noqa: BLE001 - no names: nothing is done with them, the parent reads why
        return []
    return [name for name in data.decode("utf-8", "surrogatepass").split("\n") if name]


# --- JSON, by hand: the child may not import json (it is not loaded in a bare interpreter) ----

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _quote(text):
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


def encode(value):
    """JSON for None, bools, ints, floats, strings, lists, tuples and dicts with string keys;
    ASCII only, NaN and infinities as null."""
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
    if kind is list or kind is tuple or kind is dict:
        return _encode_container(value, {})
    raise TypeError("cannot encode " + kind.__name__)


def _encode_container(value, quoted):
    """``encode`` of a list, tuple or dict, the items' strings and ints written in place and each
    distinct string quoted once (``quoted``): the predicting child's graph is thousands of
    requests that name the same files and modules again and again."""
    if type(value) is dict:
        return "{" + ",".join([_quote(key) + ":" + (_encode_container(item, quoted) if type(item) in _CONTAINERS
                                                      else encode(item)) for key, item in value.items()]) + "}"
    parts = []  # type: list[str]
    add = parts.append
    for item in value:
        kind = type(item)
        if kind is str:
            text = quoted.get(item)
            if text is None:
                text = quoted[item] = _quote(item)
            add(text)
        elif kind is int:
            add(int.__repr__(item))
        elif item is None:
            add("null")
        elif item is True:
            add("true")
        elif item is False:
            add("false")
        elif kind is list and not item:
            add("[]")  # most of a graph request's lists (its names, what it loaded, its submodules)
        elif kind in _CONTAINERS:
            add(_encode_container(item, quoted))
        else:
            add(encode(item))
    return "[" + ",".join(parts) + "]"


_CONTAINERS = (list, tuple, dict)


class Reporter:
    """Appends one JSON line per section to the result file, reopened for every write: the
    package may close descriptors it did not open or change the working directory."""

    def __init__(self, path, opener, token=""):
        self.path = path
        self._open = opener  # the real ``open``, taken before the package could replace it
        self.token = token

    def send(self, section, payload):
        if section not in SECTIONS:
            raise ValueError("unknown section " + repr(section))
        payload = dict(payload)
        payload[SECTION_KEY] = section
        if self.token:
            payload[TOKEN_KEY] = self.token
        line = (encode(payload) + "\n").encode("ascii")
        with self._open(self.path, "ab") as stream:
            stream.write(line)
