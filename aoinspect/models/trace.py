"""Typed, frozen results of ``aoinspect trace``; the trace renderers only read these."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aoinspect import outcomes
from aoinspect.records import Record, set_field

if TYPE_CHECKING:
    from aoinspect.models import Finding, ModuleLoad


# What began a load (``TracedLoad.cause``), named for every load recorded after the program started.
CAUSE_LINE = "line"  # the trigger line ran an import statement or a call that imported
CAUSE_PARENT_PACKAGE = "parent-package"  # a submodule's import needed its parent package first
CAUSE_COMPILED_MODULE = "compiled-module"  # the initialisation of a compiled (or builtin) module imported it
CAUSE_EXEC = "exec"  # code run by exec()/eval() of a string; the trigger is that code, chain[-1] the exec'ing line
CAUSE_CODEC = "codec-search"  # a codec lookup (str.encode, socket.getaddrinfo, ...) made encodings import it
CAUSE_PROGRAM_START = "program-start"  # python -m or a zip/directory program: runpy finding the program
CAUSE_INTERPRETER = "interpreter"  # no Python frame asked: the interpreter itself
CAUSES = (CAUSE_LINE, CAUSE_PARENT_PACKAGE, CAUSE_COMPILED_MODULE, CAUSE_EXEC, CAUSE_CODEC, CAUSE_PROGRAM_START,
          CAUSE_INTERPRETER)


class Frame(Record):
    """Where a load was triggered: the innermost frame outside the import system, the lazy
    machinery and the introspection helpers."""

    file: str
    line: int
    function: str
    module: str | None = None
    source: str | None = None  # the stripped source line, read by the parent after the run
    expression: str | None = None  # the expression being evaluated, where Python says (3.11+)

    def __init__(
        self, file: str, line: int, function: str, module: str | None = None, source: str | None = None,
        expression: str | None = None,
    ) -> None:
        _set = set_field
        _set(self, "file", file)
        _set(self, "line", line)
        _set(self, "function", function)
        _set(self, "module", module)
        _set(self, "source", source)
        _set(self, "expression", expression)

    @property
    def location(self) -> str:
        return f"{self.file}:{self.line}"


class Hop(Record):
    """The lazy function that turned an attribute access into an import:
    ``ao.__getattr__('quantization')``."""

    function: str
    attribute: str | None
    file: str
    line: int

    def __init__(self, function: str, attribute: str | None, file: str, line: int) -> None:
        _set = set_field
        _set(self, "function", function)
        _set(self, "attribute", attribute)
        _set(self, "file", file)
        _set(self, "line", line)

    def __str__(self) -> str:
        return f"{self.function}({self.attribute!r})" if self.attribute is not None else f"{self.function}()"


class TracedLoad(Record):
    """One import the program began, in the import tree, with what triggered it."""

    index: int  # order in which the imports began
    load: ModuleLoad  # module, parent, depth, times, distribution
    parent_index: int | None
    thread: str
    start_ms: float  # since the tracer started
    finished: bool  # False: the program ended (or was killed) while this import ran
    failed: bool  # the import raised: the module was not in sys.modules after it
    trigger: Frame | None
    hop: Hop | None
    via: str | None  # the introspection function or builtin that was the way in (hasattr, ...)
    test: str | None = None  # pytest node id, with the pytest plugin's --aoinspect-trace
    phase: str | None = None  # collection, setup, call or teardown
    # The program's own line: the innermost frame on the stack in the program's own files (see
    # ``OwnFiles`` in child/tracer.py); None when the stack held none (an atexit hook, a thread
    # the interpreter started, the program's start): the text views say so.
    own: Frame | None = None
    # The lines between ``own`` and ``trigger`` (neither included), outermost first: how control
    # went from the program's line into the library that imported. For a load nested in another
    # import, only those since that import's module began running (the chain continues in the
    # parent's). For an ``exec``'d trigger the last is the line that exec'd it (or ``own`` is).
    chain: tuple[Frame, ...] = ()
    cause: str | None = None  # one of CAUSES: what kind of thing began this load

    def __init__(
        self, index: int, load: ModuleLoad, parent_index: int | None, thread: str, start_ms: float, finished: bool,
        failed: bool, trigger: Frame | None, hop: Hop | None, via: str | None, test: str | None = None,
        phase: str | None = None, own: Frame | None = None, chain: tuple[Frame, ...] = (), cause: str | None = None,
    ) -> None:
        _set = set_field
        _set(self, "index", index)
        _set(self, "load", load)
        _set(self, "parent_index", parent_index)
        _set(self, "thread", thread)
        _set(self, "start_ms", start_ms)
        _set(self, "finished", finished)
        _set(self, "failed", failed)
        _set(self, "trigger", trigger)
        _set(self, "hop", hop)
        _set(self, "via", via)
        _set(self, "test", test)
        _set(self, "phase", phase)
        _set(self, "own", own)
        _set(self, "chain", chain)
        _set(self, "cause", cause)

    @property
    def module(self) -> str:
        return self.load.module


class TraceOptions(Record):
    """Contracts on the traced program, as ``check`` has for a package."""

    forbid: tuple[str, ...] = ()
    max_modules: float | None = None  # parsed as check's budgets are (``aoinspect.cli``)
    max_import_ms: float | None = None

    def __init__(
        self, forbid: tuple[str, ...] = (), max_modules: float | None = None, max_import_ms: float | None = None,
    ) -> None:
        _set = set_field
        _set(self, "forbid", forbid)
        _set(self, "max_modules", max_modules)
        _set(self, "max_import_ms", max_import_ms)


class TraceReport(Record):
    """What ``aoinspect trace`` found: the program, each load it began, how it ended, the findings."""

    program: tuple[str, ...]
    python: str
    loads: tuple[TracedLoad, ...]
    subprocesses: int
    ending: str  # how the program ended, for people: "exited with status 0", "was killed by SIGKILL"
    returncode: int | None  # the program's exit status; negative: killed by that signal; None: timed out
    timed_out: bool
    incomplete: str | None  # why the trace stops short of the program's end, or None
    inserted: tuple[str, ...] = ()  # modules the program put in sys.modules without importing them
    findings: tuple[Finding, ...] = ()
    cwd: str = ""  # the program's working directory: text views show paths below it relative to it

    def __init__(
        self, program: tuple[str, ...], python: str, loads: tuple[TracedLoad, ...], subprocesses: int, ending: str,
        returncode: int | None, timed_out: bool, incomplete: str | None, inserted: tuple[str, ...] = (),
        findings: tuple[Finding, ...] = (), cwd: str = "",
    ) -> None:
        _set = set_field
        _set(self, "program", program)
        _set(self, "python", python)
        _set(self, "loads", loads)
        _set(self, "subprocesses", subprocesses)
        _set(self, "ending", ending)
        _set(self, "returncode", returncode)
        _set(self, "timed_out", timed_out)
        _set(self, "incomplete", incomplete)
        _set(self, "inserted", inserted)
        _set(self, "findings", findings)
        _set(self, "cwd", cwd)

    @property
    def complete(self) -> bool:
        return self.incomplete is None

    @property
    def loaded(self) -> tuple[TracedLoad, ...]:
        """The loads that put a module in sys.modules (failed imports left out)."""
        return tuple(load for load in self.loads if not load.failed)

    @property
    def module_count(self) -> int:
        """The modules the program added to ``sys.modules``: each loaded module once, and those it
        inserted without an import. Every view (text, JSON, markdown, HTML) says this number."""
        return len({load.module for load in self.loaded} | set(self.inserted))

    @property
    def failed_loads(self) -> tuple[TracedLoad, ...]:
        """The imports that raised: counted apart from the modules loaded."""
        return tuple(load for load in self.loads if load.failed)

    @property
    def total_ms(self) -> float:
        """Time spent importing: the cumulative times of the imports no other import ran around."""
        return round(sum(load.load.cumulative_ms for load in self.loads if load.parent_index is None), 4)

    @property
    def program_exit_code(self) -> int:
        if self.timed_out or self.returncode is None:
            return outcomes.EXIT_TRACE_TIMEOUT
        if self.returncode < 0:
            return 128 - self.returncode  # as shells report a signal
        return self.returncode

    @property
    def ok(self) -> bool:
        return not self.findings and self.program_exit_code == outcomes.EXIT_OK

    @property
    def exit_code(self) -> int:
        """The program's exit code; a broken contract fails a program that succeeded (1)."""
        code = self.program_exit_code
        if code == outcomes.EXIT_OK and self.findings:
            return outcomes.EXIT_FINDINGS
        return code
