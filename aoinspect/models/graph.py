"""Typed, frozen results of ``aoinspect graph``: every import request an entry made (hits
included), who made it, and the modules that were loaded. ``aoinspect.graphing`` builds them
and answers questions about them (reachability); the graph renderers only read them."""

from __future__ import annotations

import sys

from aoinspect import outcomes
from aoinspect.records import Record, set_field

# How a request was made (the child's ``KIND_*``).
KIND_IMPORT = "import"  # an ``import a.b`` statement (``__import__`` without a fromlist)
KIND_FROM = "from"  # a ``from a import b`` statement (``__import__`` with a fromlist)
KIND_IMPORT_MODULE = "import_module"  # ``importlib.import_module`` (``importlib._bootstrap._gcd_import``)
KIND_OTHER = "other"  # an import the import system began that no wrapper saw (C code, a replaced __import__)
KINDS = (KIND_IMPORT, KIND_FROM, KIND_IMPORT_MODULE, KIND_OTHER)
# Where the asking frame ran: a module body, a class body, a function, or no Python frame at all.
SCOPES = ("module", "class", "function", "native")
# How the entry ended.
ENDINGS = ("returned", "exit", "exception", "os._exit", "exec", "timeout")


def is_stdlib(name: str | None) -> bool:
    """A module of the standard library (as this interpreter lists its top-level names)."""
    return name is not None and name.partition(".")[0] in sys.stdlib_module_names


class ImportRequest(Record):
    """One import request: an ``import`` statement, ``__import__`` or ``importlib.import_module``
    call, made while the entry ran; a request made again from the same place is one request
    with a ``count``."""

    index: int  # order in which requests were first made
    owner: str | None  # the module whose import body was running; None: the entry itself
    file: str | None  # the asking frame's file; None: no Python frame asked (an extension module)
    line: int
    scope: str  # "module", "class", "function" or "native" (SCOPES)
    statement: str  # the request as written: ``from . import x``, ``import a.b``, ``importlib.import_module('a')``
    target: str  # the module asked for, absolute (relative forms resolved)
    names: tuple[str, ...]  # ``from target import NAMES``
    level: int  # leading dots of a relative import
    hit: bool  # the target (and every submodule named) was loaded already: nothing to load
    duration_ns: int  # the first time it was made
    loaded: tuple[str, ...]  # modules it loaded itself (not those their own bodies imported)
    submodules: tuple[str, ...] = ()  # NAMES that are submodules of the target, fully qualified
    kind: str = KIND_IMPORT  # KINDS
    count: int = 1  # times made from this place
    failed: bool = False  # it raised, and its target was not loaded
    start_ns: int = 0  # since the recorder started

    def __init__(
        self, index: int, owner: str | None, file: str | None, line: int, scope: str, statement: str, target: str,
        names: tuple[str, ...], level: int, hit: bool, duration_ns: int, loaded: tuple[str, ...],
        submodules: tuple[str, ...] = (), kind: str = KIND_IMPORT, count: int = 1, failed: bool = False,
        start_ns: int = 0,
    ) -> None:
        _set = set_field
        _set(self, "index", index)
        _set(self, "owner", owner)
        _set(self, "file", file)
        _set(self, "line", line)
        _set(self, "scope", scope)
        _set(self, "statement", statement)
        _set(self, "target", target)
        _set(self, "names", names)
        _set(self, "level", level)
        _set(self, "hit", hit)
        _set(self, "duration_ns", duration_ns)
        _set(self, "loaded", loaded)
        _set(self, "submodules", submodules)
        _set(self, "kind", kind)
        _set(self, "count", count)
        _set(self, "failed", failed)
        _set(self, "start_ns", start_ns)

    @property
    def targets(self) -> tuple[str, ...]:
        """The modules this request needs loaded: the target and the submodules it names."""
        return (self.target, *self.submodules)

    @property
    def location(self) -> str:
        return f"{self.file}:{self.line}" if self.file is not None else f"<{self.owner or 'entry'}>"


class GraphModule(Record):
    """A module loaded while the entry ran (in ``sys.modules`` when it ended)."""

    name: str
    file: str | None
    loaded_by: int | None  # the request that loaded it (or was running when it appeared), or None
    by_other_means: bool  # it appeared in sys.modules without an import of its name
    owner: str | None = None  # by other means: the module that was loading when it appeared (None: the entry)

    def __init__(
        self, name: str, file: str | None, loaded_by: int | None, by_other_means: bool, owner: str | None = None,
    ) -> None:
        _set = set_field
        _set(self, "name", name)
        _set(self, "file", file)
        _set(self, "loaded_by", loaded_by)
        _set(self, "by_other_means", by_other_means)
        _set(self, "owner", owner)


class ImportGraph(Record):
    """The executed-import graph of one entry: ``import PACKAGE``, ``--entry CODE`` or a program."""

    package: str  # the package graphed ("" for a program)
    python: str  # the child interpreter's version
    entry: str  # the code run (``import PACKAGE``, --entry CODE), or the program as given to python
    baseline: tuple[str, ...]  # modules loaded before the entry ran, sorted
    requests: tuple[ImportRequest, ...]
    modules: tuple[GraphModule, ...]  # in the order they were loaded
    ending: str = "returned"  # ENDINGS: returned, exit (SystemExit), exception, os._exit, exec, timeout
    error: str | None = None  # the exception the entry raised (or a non-zero exit), if any
    elapsed_ns: int = 0
    cwd: str = ""  # the working directory it was recorded in: paths below it are shown relative to it

    def __init__(
        self, package: str, python: str, entry: str, baseline: tuple[str, ...], requests: tuple[ImportRequest, ...],
        modules: tuple[GraphModule, ...], ending: str = "returned", error: str | None = None, elapsed_ns: int = 0,
        cwd: str = "",
    ) -> None:
        _set = set_field
        _set(self, "package", package)
        _set(self, "python", python)
        _set(self, "entry", entry)
        _set(self, "baseline", baseline)
        _set(self, "requests", requests)
        _set(self, "modules", modules)
        _set(self, "ending", ending)
        _set(self, "error", error)
        _set(self, "elapsed_ns", elapsed_ns)
        _set(self, "cwd", cwd)

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def exit_code(self) -> int:
        if self.ending == "timeout":
            return outcomes.EXIT_TRACE_TIMEOUT
        return outcomes.EXIT_OK if self.ok else outcomes.EXIT_IMPORT_FAILED

    @property
    def module_names(self) -> frozenset[str]:
        return frozenset(module.name for module in self.modules)

    def request(self, index: int) -> ImportRequest:
        return self.requests[index]
