"""The parent's side of the wire: typed probe requests and runs, and one parser per section the
child can send (``SECTION_*`` in ``aoinspect.child.protocol``), each turning a raw JSON line into
a typed, frozen record. Nothing past this module sees a raw dict.

The child is untrusted (the inspected package runs in it and can write to its result file), so
every field is checked: a line that does not hold what its section promises raises
``ProtocolError``, and a probe that sent one is reported as failed, saying so.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Callable, Mapping, TypeVar, Union

from aoinspect.child import protocol
from aoinspect.models import ErrorInfo, ModuleLoad, ObjectInfo, Step, WarningInfo
from aoinspect.models.graph import ENDINGS as GRAPH_ENDINGS
from aoinspect.models.graph import KIND_FROM, KIND_IMPORT, KIND_IMPORT_MODULE, GraphModule, ImportRequest
from aoinspect.models.graph import KINDS as GRAPH_KINDS
from aoinspect.models.graph import SCOPES as GRAPH_SCOPES
from aoinspect.probing.fields import ProtocolError as ProtocolError  # re-exported: the parent's callers catch it here
from aoinspect.probing.fields import read_field as _field
from aoinspect.probing.fields import read_strings as _strings
from aoinspect.probing.wire_trace import (
    TraceEndSection,
    TraceLoadsSection,
    TraceSpawnSection,
    TraceStartSection,
    parse_trace_end,
    parse_trace_loads,
    parse_trace_spawn,
    parse_trace_start,
)
from aoinspect.records import Record, replace, set_field

if TYPE_CHECKING:
    from collections.abc import Sequence


# --- the records -----------------------------------------------------------------------------

# The default of a mapping field: one empty mapping no one can change, shared by every record.
_NO_FILES: Mapping[str, str | None] = MappingProxyType({})
_EMPTY: Mapping[Any, Any] = MappingProxyType({})


def _fresh(mapping: Mapping[Any, Any]) -> Mapping[Any, Any]:
    """A record's own empty dict for a defaulted mapping (a frozen dataclass's default_factory
    gave one): the shared read-only default is a marker, neither picklable nor a dict."""
    return {} if mapping is _EMPTY or mapping is _NO_FILES else mapping


class ImportSection(Record):
    """``import PACKAGE``, measured once per child (once per fork server)."""

    ok: bool
    error: ErrorInfo | None
    materialized: tuple[ModuleLoad, ...]
    removed: tuple[str, ...]
    elapsed_ms: float
    threads: int
    python: str
    # module -> its __file__, the start-up modules' too
    files: Mapping[str, str | None] = _NO_FILES
    sys_path: tuple[str, ...] = ()  # the child's sys.path before the import
    warnings: tuple[WarningInfo, ...] = ()  # shown during the import

    def __init__(
        self, ok: bool, error: ErrorInfo | None, materialized: tuple[ModuleLoad, ...], removed: tuple[str, ...],
        elapsed_ms: float, threads: int, python: str, files: Mapping[str, str | None] = _NO_FILES,
        sys_path: tuple[str, ...] = (), warnings: tuple[WarningInfo, ...] = (),
    ) -> None:
        _set = set_field
        _set(self, "ok", ok)
        _set(self, "error", error)
        _set(self, "materialized", materialized)
        _set(self, "removed", removed)
        _set(self, "elapsed_ms", elapsed_ms)
        _set(self, "threads", threads)
        _set(self, "python", python)
        _set(self, "files", _fresh(files))
        _set(self, "sys_path", sys_path)
        _set(self, "warnings", warnings)


class ServerSection(Record):
    """The fork server right after import: can it fork safely?"""

    python_threads: int
    native_threads: int
    can_fork: bool

    def __init__(self, python_threads: int, native_threads: int, can_fork: bool) -> None:
        _set = set_field
        _set(self, "python_threads", python_threads)
        _set(self, "native_threads", native_threads)
        _set(self, "can_fork", can_fork)


class AllSection(Record):
    """``PACKAGE.__all__`` as the child read it: its kind, type, names and the invalid ones."""

    kind: str  # "list", "tuple", "missing" or "other"
    type: str
    names: tuple[str, ...]
    invalid: tuple[str, ...]

    def __init__(self, kind: str, type: str, names: tuple[str, ...], invalid: tuple[str, ...]) -> None:
        _set = set_field
        _set(self, "kind", kind)
        _set(self, "type", type)
        _set(self, "names", names)
        _set(self, "invalid", invalid)


class PackageSection(Record):
    """The package as the probe saw it right after import."""

    file: str | None
    path: tuple[str, ...] | None
    all: AllSection
    namespace: tuple[str, ...]
    dir: tuple[str, ...] | None
    dir_error: ErrorInfo | None
    has_getattr: bool
    mechanism: str
    is_module: bool
    shim_proxies: tuple[str, ...] = ()  # names bound to a PEP 810 shim's proxy (lazy-importer)

    def __init__(
        self, file: str | None, path: tuple[str, ...] | None, all: AllSection, namespace: tuple[str, ...],
        dir: tuple[str, ...] | None, dir_error: ErrorInfo | None, has_getattr: bool, mechanism: str, is_module: bool,
        shim_proxies: tuple[str, ...] = (),
    ) -> None:
        _set = set_field
        _set(self, "file", file)
        _set(self, "path", path)
        _set(self, "all", all)
        _set(self, "namespace", namespace)
        _set(self, "dir", dir)
        _set(self, "dir_error", dir_error)
        _set(self, "has_getattr", has_getattr)
        _set(self, "mechanism", mechanism)
        _set(self, "is_module", is_module)
        _set(self, "shim_proxies", shim_proxies)


class ResolveSection(Record):
    """One NAME accessed a step at a time."""

    name: str
    steps: tuple[Step, ...]
    error: ErrorInfo | None
    rejected_as_attribute_error: bool
    already_loaded: bool
    cached: bool | None
    object: ObjectInfo | None
    candidates: tuple[str, ...]
    observed: tuple[ModuleLoad, ...]  # loaded by looking at the result, after the access
    files: Mapping[str, str | None] = _NO_FILES  # module -> __file__, of what the access loaded
    batched_after: str | None = None  # measured in the probe that measured this name first
    second_error: ErrorInfo | None = None  # what a second access raised, after a first that did not

    def __init__(
        self, name: str, steps: tuple[Step, ...], error: ErrorInfo | None, rejected_as_attribute_error: bool,
        already_loaded: bool, cached: bool | None, object: ObjectInfo | None, candidates: tuple[str, ...],
        observed: tuple[ModuleLoad, ...], files: Mapping[str, str | None] = _NO_FILES,
        batched_after: str | None = None, second_error: ErrorInfo | None = None,
    ) -> None:
        _set = set_field
        _set(self, "name", name)
        _set(self, "steps", steps)
        _set(self, "error", error)
        _set(self, "rejected_as_attribute_error", rejected_as_attribute_error)
        _set(self, "already_loaded", already_loaded)
        _set(self, "cached", cached)
        _set(self, "object", object)
        _set(self, "candidates", candidates)
        _set(self, "observed", observed)
        _set(self, "files", _fresh(files))
        _set(self, "batched_after", batched_after)
        _set(self, "second_error", second_error)


class Answer(Record):
    """How a module ``__getattr__`` answered one name the child asked it for."""

    served: bool  # __getattr__ returned a value for the name
    via_import: bool  # ... handed to it by the import system
    error: ErrorInfo | None  # what it raised, other than AttributeError

    def __init__(self, served: bool, via_import: bool, error: ErrorInfo | None) -> None:
        _set = set_field
        _set(self, "served", served)
        _set(self, "via_import", via_import)
        _set(self, "error", error)


class AskSection(Record):
    """``__getattr__`` called directly, for each name asked about."""

    answers: Mapping[str, Answer]

    def __init__(self, answers: Mapping[str, Answer]) -> None:
        _set = set_field
        _set(self, "answers", answers)


class StarSection(Record):
    """``from PACKAGE import *``."""

    materialized: tuple[ModuleLoad, ...]
    error: ErrorInfo | None

    def __init__(self, materialized: tuple[ModuleLoad, ...], error: ErrorInfo | None) -> None:
        _set = set_field
        _set(self, "materialized", materialized)
        _set(self, "error", error)


class RaceSection(Record):
    """One name accessed from several threads at once (``MODE_RACE``)."""

    name: str
    threads: int
    distinct_objects: int
    errors: tuple[ErrorInfo, ...]

    def __init__(self, name: str, threads: int, distinct_objects: int, errors: tuple[ErrorInfo, ...]) -> None:
        _set = set_field
        _set(self, "name", name)
        _set(self, "threads", threads)
        _set(self, "distinct_objects", distinct_objects)
        _set(self, "errors", errors)


class DirSection(Record):
    """``dir(PACKAGE)``, measured."""

    materialized: tuple[ModuleLoad, ...]
    elapsed_ms: float
    error: ErrorInfo | None
    count: int | None  # how many names it listed

    def __init__(
        self, materialized: tuple[ModuleLoad, ...], elapsed_ms: float, error: ErrorInfo | None, count: int | None,
    ) -> None:
        _set = set_field
        _set(self, "materialized", materialized)
        _set(self, "elapsed_ms", elapsed_ms)
        _set(self, "error", error)
        _set(self, "count", count)


class AttributeProbe(Record):
    """``hasattr(PACKAGE, name)``, measured."""

    name: str
    answer: bool | None  # None: it raised
    materialized: tuple[ModuleLoad, ...]
    error: ErrorInfo | None

    def __init__(
        self, name: str, answer: bool | None, materialized: tuple[ModuleLoad, ...], error: ErrorInfo | None,
    ) -> None:
        _set = set_field
        _set(self, "name", name)
        _set(self, "answer", answer)
        _set(self, "materialized", materialized)
        _set(self, "error", error)


class HasattrSection(Record):
    """What the child's ``hasattr`` probes on the package found."""

    probes: tuple[AttributeProbe, ...]

    def __init__(self, probes: tuple[AttributeProbe, ...]) -> None:
        _set = set_field
        _set(self, "probes", probes)


class GetmoduleSection(Record):
    """``inspect.getmodule`` walking ``sys.modules``, measured."""

    materialized: tuple[ModuleLoad, ...]
    elapsed_ms: float
    error: ErrorInfo | None
    executed: tuple[str, ...]  # LazyLoader modules in sys.modules that the walk executed

    def __init__(
        self, materialized: tuple[ModuleLoad, ...], elapsed_ms: float, error: ErrorInfo | None,
        executed: tuple[str, ...],
    ) -> None:
        _set = set_field
        _set(self, "materialized", materialized)
        _set(self, "elapsed_ms", elapsed_ms)
        _set(self, "error", error)
        _set(self, "executed", executed)


class CompleteSection(Record):
    """The standard REPL completing ``PACKAGE.``, measured."""

    materialized: tuple[ModuleLoad, ...]
    elapsed_ms: float
    error: ErrorInfo | None
    matches: int

    def __init__(
        self, materialized: tuple[ModuleLoad, ...], elapsed_ms: float, error: ErrorInfo | None, matches: int,
    ) -> None:
        _set = set_field
        _set(self, "materialized", materialized)
        _set(self, "elapsed_ms", elapsed_ms)
        _set(self, "error", error)
        _set(self, "matches", matches)


class PickleSection(Record):
    """``pickle.dumps(PACKAGE.NAME)``, for a name whose value is a class or a function."""

    name: str
    kind: str | None  # "class", "function", or None: neither, not pickled
    module: str | None  # its __module__ and __qualname__: where unpickling will look for it
    qualname: str | None
    data: str | None  # the pickle, in hex
    materialized: tuple[ModuleLoad, ...]  # loaded by pickling it
    error: ErrorInfo | None  # raised by pickling it
    resolve_error: ErrorInfo | None  # raised by accessing it

    def __init__(
        self, name: str, kind: str | None, module: str | None, qualname: str | None, data: str | None,
        materialized: tuple[ModuleLoad, ...], error: ErrorInfo | None, resolve_error: ErrorInfo | None,
    ) -> None:
        _set = set_field
        _set(self, "name", name)
        _set(self, "kind", kind)
        _set(self, "module", module)
        _set(self, "qualname", qualname)
        _set(self, "data", data)
        _set(self, "materialized", materialized)
        _set(self, "error", error)
        _set(self, "resolve_error", resolve_error)


class UnpickleSection(Record):
    """``pickle.loads`` in a fresh interpreter, then ``PACKAGE.NAME``."""

    name: str
    materialized: tuple[ModuleLoad, ...]  # loaded by unpickling it
    error: ErrorInfo | None  # raised by unpickling it
    same: bool | None  # the unpickled object is PACKAGE.NAME
    got: str | None  # what unpickling gave back
    resolve_error: ErrorInfo | None  # raised by accessing PACKAGE.NAME afterwards

    def __init__(
        self, name: str, materialized: tuple[ModuleLoad, ...], error: ErrorInfo | None, same: bool | None,
        got: str | None, resolve_error: ErrorInfo | None,
    ) -> None:
        _set = set_field
        _set(self, "name", name)
        _set(self, "materialized", materialized)
        _set(self, "error", error)
        _set(self, "same", same)
        _set(self, "got", got)
        _set(self, "resolve_error", resolve_error)


class BatchSection(Record):
    """The end of a batched resolve: the names it left for fresh forks, and why."""

    unmeasured: tuple[str, ...]
    reason: str | None
    served_by: str | None

    def __init__(self, unmeasured: tuple[str, ...], reason: str | None, served_by: str | None) -> None:
        _set = set_field
        _set(self, "unmeasured", unmeasured)
        _set(self, "reason", reason)
        _set(self, "served_by", served_by)


class PlanSection(Record):
    """For each name, the first module its access asks for that is not loaded (a grouping hint)."""

    first_import: Mapping[str, str | None]

    def __init__(self, first_import: Mapping[str, str | None]) -> None:
        _set = set_field
        _set(self, "first_import", first_import)


class InternalSection(Record):
    """The probe's own code failed."""

    error: ErrorInfo

    def __init__(self, error: ErrorInfo) -> None:
        _set = set_field
        _set(self, "error", error)


class DoneSection(Record):
    """The child went to the end of its request."""

    files: Mapping[str, str | None] = _NO_FILES  # module -> __file__, of all it loaded

    def __init__(self, files: Mapping[str, str | None] = _NO_FILES) -> None:
        _set = set_field
        _set(self, "files", _fresh(files))


class DeferSection(Record):
    """One scenario of a simulated deferral (child/defer.py)."""

    index: int
    python: str  # "3.12": the interpreter the result is for
    modules: tuple[str, ...]  # loaded while the entry ran (beyond a bare interpreter's start)
    # [statement file, statement line, name, file, line, during import, error or None], first per statement
    reified: tuple[tuple[str, int, str, str | None, int, bool, str | None], ...]
    elapsed_ns: int
    error: str | None  # the entry failed: "Type: message"
    refused: tuple[tuple[str, int, str], ...]  # statements not deferred: file, line, why
    deferred: tuple[tuple[str, int], ...]
    executed: tuple[tuple[str, int], ...] = ()  # the deferred statements that ran (bound their lazy names)
    incomplete: str | None = None  # why the scenario ended without a result (a deadline, a signal, an exit)

    def __init__(
        self, index: int, python: str, modules: tuple[str, ...],
        reified: tuple[tuple[str, int, str, str | None, int, bool, str | None], ...], elapsed_ns: int,
        error: str | None, refused: tuple[tuple[str, int, str], ...], deferred: tuple[tuple[str, int], ...],
        executed: tuple[tuple[str, int], ...] = (), incomplete: str | None = None,
    ) -> None:
        _set = set_field
        _set(self, "index", index)
        _set(self, "python", python)
        _set(self, "modules", modules)
        _set(self, "reified", reified)
        _set(self, "elapsed_ns", elapsed_ns)
        _set(self, "error", error)
        _set(self, "refused", refused)
        _set(self, "deferred", deferred)
        _set(self, "executed", executed)
        _set(self, "incomplete", incomplete)


class GraphSection(Record):
    """``aoinspect graph``'s child (child/graph.py): every import request the entry made, and the
    modules loaded, already typed; ``aoinspect.graphing`` adds what the parent knows."""

    python: str
    baseline: tuple[str, ...]
    requests: tuple[ImportRequest, ...]
    modules: tuple[GraphModule, ...]
    ending: str
    error: str | None
    elapsed_ns: int

    def __init__(
        self, python: str, baseline: tuple[str, ...], requests: tuple[ImportRequest, ...],
        modules: tuple[GraphModule, ...], ending: str, error: str | None, elapsed_ns: int,
    ) -> None:
        _set = set_field
        _set(self, "python", python)
        _set(self, "baseline", baseline)
        _set(self, "requests", requests)
        _set(self, "modules", modules)
        _set(self, "ending", ending)
        _set(self, "error", error)
        _set(self, "elapsed_ns", elapsed_ns)


class TouchedName(Record):
    """One name ``check``'s predicting child touched (child/predict.py): what its access made."""

    name: str
    error: str | None  # what the access raised
    appeared: tuple[str, ...]  # modules new in sys.modules after it, in that child
    start: int  # its requests are the graph's [start, end)
    end: int
    object: tuple[str, str, bool] | None  # (type, repr, is a module) of what it returned
    cached: bool | None  # a second access asked for nothing and returned the same object
    second_error: str | None
    bound_before: bool  # an earlier access bound it, and it could not be unbound

    def __init__(
        self, name: str, error: str | None, appeared: tuple[str, ...], start: int, end: int,
        object: tuple[str, str, bool] | None, cached: bool | None, second_error: str | None, bound_before: bool,
    ) -> None:
        _set = set_field
        _set(self, "name", name)
        _set(self, "error", error)
        _set(self, "appeared", appeared)
        _set(self, "start", start)
        _set(self, "end", end)
        _set(self, "object", object)
        _set(self, "cached", cached)
        _set(self, "second_error", second_error)
        _set(self, "bound_before", bound_before)


class PredictSection(Record):
    """``check``'s predicting child: what ``import PACKAGE`` loaded, and each name it touched."""

    imported: tuple[str, ...]
    names: tuple[TouchedName, ...]
    error: str | None
    # request index -> the module a ModuleNotFoundError named ("" when another error ended it)
    failures: Mapping[int, str] = _EMPTY
    # (request index, name, first request, end): the requests serving that ``from`` name made
    served: tuple[tuple[int, str, int, int], ...] = ()
    # module with a ``__getattr__`` -> the names its import body bound
    bound: Mapping[str, frozenset[str]] = _EMPTY
    getattr_files: Mapping[str, str] = _EMPTY  # module -> the file of its ``__getattr__``

    def __init__(
        self, imported: tuple[str, ...], names: tuple[TouchedName, ...], error: str | None,
        failures: Mapping[int, str] = _EMPTY, served: tuple[tuple[int, str, int, int], ...] = (),
        bound: Mapping[str, frozenset[str]] = _EMPTY, getattr_files: Mapping[str, str] = _EMPTY,
    ) -> None:
        _set = set_field
        _set(self, "imported", imported)
        _set(self, "names", names)
        _set(self, "error", error)
        _set(self, "failures", _fresh(failures))
        _set(self, "served", served)
        _set(self, "bound", _fresh(bound))
        _set(self, "getattr_files", _fresh(getattr_files))


class PicklesSection(Record):
    """``check``'s predicting child, after ``PredictSection``: each name it touched, with its
    pickle as the star import's probe sends it to the unpickle probe (hex; None: it sends none)."""

    pickles: Mapping[str, str | None]

    def __init__(self, pickles: Mapping[str, str | None]) -> None:
        set_field(self, "pickles", pickles)


Section = Union[
    ImportSection, ServerSection, PackageSection, ResolveSection, AskSection, StarSection, RaceSection,
    DirSection, HasattrSection, GetmoduleSection, CompleteSection, PickleSection, UnpickleSection,
    BatchSection, PlanSection, InternalSection, DoneSection, TraceStartSection, TraceLoadsSection,
    TraceSpawnSection, TraceEndSection, DeferSection, GraphSection, PredictSection, PicklesSection,
]


# --- field readers -----------------------------------------------------------------------------


def _mechanism(raw: Mapping[str, Any]) -> str:
    value = _field(raw, "mechanism", str)
    if value not in protocol.MECHANISMS:
        raise ProtocolError(f"unknown mechanism {value!r}")
    return str(value)


def _number(raw: Mapping[str, Any], key: str) -> float:
    value = _field(raw, key, (int, float), 0.0)
    return float(value) if value is not None else 0.0


def _error(raw: Any) -> ErrorInfo:
    if not isinstance(raw, dict):
        raise ProtocolError("an error is not an object")
    return ErrorInfo(
        type=_field(raw, "type", str),
        message=_field(raw, "message", str),
        location=_field(raw, "location", str, None),
        missing_module=_field(raw, "missing_module", str, None),
        is_attribute_error=bool(_field(raw, "is_attribute_error", bool, False)),
    )


def _warnings(raw: Mapping[str, Any]) -> tuple[WarningInfo, ...]:
    shown = []
    for item in _field(raw, "warnings", list, []):
        if not isinstance(item, dict):
            raise ProtocolError("a warning is not an object")
        shown.append(WarningInfo(
            category=_field(item, "category", str),
            message=_field(item, "message", str),
            filename=_field(item, "filename", str, None),
            lineno=_field(item, "lineno", int, None),
        ))
    return tuple(shown)


def _optional_error(raw: Mapping[str, Any], key: str) -> ErrorInfo | None:
    value = raw.get(key)
    return None if value is None else _error(value)


def _files(raw: Mapping[str, Any]) -> Mapping[str, str | None]:
    value = _field(raw, "files", dict, {})
    if not all(isinstance(file, str) or file is None for file in value.values()):
        raise ProtocolError("the field 'files' maps a module to something other than a path")
    return value or _NO_FILES


def _loads(raw: Mapping[str, Any], key: str) -> tuple[ModuleLoad, ...]:
    loads = []
    for item in _field(raw, key, list, []):
        if type(item) is dict:
            # The common case, checked in one go: a check of thousands of names reads a hundred
            # thousand of these; anything unusual takes the field-by-field path below.
            module, parent, depth = item.get("module"), item.get("parent"), item.get("depth", 0)
            self_ms, cumulative_ms = item.get("self_ms", 0.0), item.get("cumulative_ms", 0.0)
            if (type(module) is str and (parent is None or type(parent) is str) and type(depth) is int
                    and type(self_ms) in (int, float) and type(cumulative_ms) in (int, float)):
                loads.append(ModuleLoad(module=module, parent=parent, depth=depth, self_ms=float(self_ms),
                                        cumulative_ms=float(cumulative_ms), min_self_ms=float(self_ms),
                                        min_cumulative_ms=float(cumulative_ms),
                                        generated=item.get("generated") is True))
                continue
        if not isinstance(item, dict):
            raise ProtocolError(f"an entry of {key!r} is not an object")
        self_ms = _number(item, "self_ms")
        cumulative_ms = _number(item, "cumulative_ms")
        loads.append(ModuleLoad(
            module=_field(item, "module", str),
            parent=_field(item, "parent", str, None),
            depth=int(_field(item, "depth", int, 0)),
            self_ms=self_ms,
            cumulative_ms=cumulative_ms,
            min_self_ms=self_ms,
            min_cumulative_ms=cumulative_ms,
            generated=item.get("generated") is True,
        ))
    return tuple(loads)


# --- one parser per section --------------------------------------------------------------------


def _import(raw: Mapping[str, Any]) -> ImportSection:
    python = _field(raw, "python", list, [])
    return ImportSection(
        ok=_field(raw, "ok", bool),
        error=_optional_error(raw, "error"),
        materialized=_loads(raw, "materialized"),
        removed=_strings(raw, "removed") or (),
        elapsed_ms=_number(raw, "elapsed_ms"),
        threads=int(_field(raw, "threads", int, 1)),
        python=".".join(str(part) for part in python),
        files=_files(raw),
        sys_path=_strings(raw, "sys_path", optional=True) or (),
        warnings=_warnings(raw),
    )


def _server(raw: Mapping[str, Any]) -> ServerSection:
    return ServerSection(
        python_threads=int(_field(raw, "python_threads", int)),
        native_threads=int(_field(raw, "native_threads", int)),
        can_fork=_field(raw, "can_fork", bool),
    )


def _package(raw: Mapping[str, Any]) -> PackageSection:
    declared = _field(raw, "all", dict)
    return PackageSection(
        file=_field(raw, "file", str, None),
        path=_strings(raw, "path", optional=True),
        all=AllSection(
            kind=_field(declared, "kind", str),
            type=_field(declared, "type", str, ""),
            names=_strings(declared, "names") or (),
            invalid=_strings(declared, "invalid") or (),
        ),
        namespace=_strings(raw, "namespace") or (),
        dir=_strings(raw, "dir", optional=True),
        dir_error=_optional_error(raw, "dir_error"),
        has_getattr=_field(raw, "has_getattr", bool),
        mechanism=_mechanism(raw),
        is_module=_field(raw, "is_module", bool),
        shim_proxies=_strings(raw, "shim_proxies", optional=True) or (),
    )


def _resolve(raw: Mapping[str, Any]) -> ResolveSection:
    steps = []
    for step in _field(raw, "steps", list):
        if not isinstance(step, dict):
            raise ProtocolError("a step is not an object")
        elapsed = _number(step, "elapsed_ms")
        steps.append(Step(
            name=_field(step, "name", str),
            mechanism=_mechanism(step),
            materialized=_loads(step, "materialized"),
            removed=_strings(step, "removed") or (),
            elapsed_ms=elapsed,
            min_elapsed_ms=elapsed,
        ))
    error = _optional_error(raw, "error")
    described = raw.get("object")
    if described is not None and not isinstance(described, dict):
        raise ProtocolError("the field 'object' is not an object")
    return ResolveSection(
        name=_field(raw, "name", str),
        steps=tuple(steps),
        error=error,
        rejected_as_attribute_error=bool(error and error.is_attribute_error),
        already_loaded=_field(raw, "already_loaded", bool),
        cached=_field(raw, "cached", bool, None),
        object=ObjectInfo(_field(described, "type", str), _field(described, "repr", str),
                          _field(described, "is_module", bool)) if described else None,
        candidates=_strings(raw, "candidates", optional=True) or (),
        observed=_loads(raw, "observed"),
        files=_files(raw),
        batched_after=_field(raw, "batched_after", str, None),
        second_error=_optional_error(raw, "second_error"),
    )


def _ask(raw: Mapping[str, Any]) -> AskSection:
    answers = {}
    for name, answer in _field(raw, "answers", dict).items():
        if not isinstance(answer, dict):
            raise ProtocolError("an answer is not an object")
        answers[name] = Answer(served=_field(answer, "served", bool), via_import=_field(answer, "via_import", bool),
                               error=_optional_error(answer, "error"))
    return AskSection(answers)


def _star(raw: Mapping[str, Any]) -> StarSection:
    return StarSection(
        materialized=_loads(raw, "materialized"),
        error=_optional_error(raw, "error"),
    )


def _race(raw: Mapping[str, Any]) -> RaceSection:
    return RaceSection(
        name=_field(raw, "name", str),
        threads=int(_field(raw, "threads", int)),
        distinct_objects=int(_field(raw, "distinct_objects", int)),
        errors=tuple(_error(error) for error in _field(raw, "errors", list)),
    )


def _dir(raw: Mapping[str, Any]) -> DirSection:
    return DirSection(
        materialized=_loads(raw, "materialized"),
        elapsed_ms=_number(raw, "elapsed_ms"),
        error=_optional_error(raw, "error"),
        count=_field(raw, "count", int, None),
    )


def _hasattr(raw: Mapping[str, Any]) -> HasattrSection:
    probes = []
    for probe in _field(raw, "probes", list):
        if not isinstance(probe, dict):
            raise ProtocolError("an attribute probe is not an object")
        probes.append(AttributeProbe(
            name=_field(probe, "name", str),
            answer=_field(probe, "answer", bool, None),
            materialized=_loads(probe, "materialized"),
            error=_optional_error(probe, "error"),
        ))
    return HasattrSection(tuple(probes))


def _getmodule(raw: Mapping[str, Any]) -> GetmoduleSection:
    return GetmoduleSection(
        materialized=_loads(raw, "materialized"),
        elapsed_ms=_number(raw, "elapsed_ms"),
        error=_optional_error(raw, "error"),
        executed=_strings(raw, "executed") or (),
    )


def _complete(raw: Mapping[str, Any]) -> CompleteSection:
    return CompleteSection(
        materialized=_loads(raw, "materialized"),
        elapsed_ms=_number(raw, "elapsed_ms"),
        error=_optional_error(raw, "error"),
        matches=int(_field(raw, "matches", int, 0)),
    )


def _pickle_data(raw: Mapping[str, Any]) -> str | None:
    data = _field(raw, "data", str, None)
    if data is None:
        return None
    if len(data) > 2 * protocol.PICKLE_LIMIT:
        raise ProtocolError("the pickle is longer than a reference by name can be")
    bytes.fromhex(data)  # a ValueError for anything but hex: a ProtocolError in parse()
    return str(data)


def _pickle(raw: Mapping[str, Any]) -> PickleSection:
    kind = _field(raw, "kind", str, None)
    if kind not in (None, "class", "function"):
        raise ProtocolError(f"unknown kind {kind!r}")
    return PickleSection(
        name=_field(raw, "name", str),
        kind=kind,
        module=_field(raw, "module", str, None),
        qualname=_field(raw, "qualname", str, None),
        data=_pickle_data(raw),
        materialized=_loads(raw, "materialized"),
        error=_optional_error(raw, "error"),
        resolve_error=_optional_error(raw, "resolve_error"),
    )


def _unpickle(raw: Mapping[str, Any]) -> UnpickleSection:
    return UnpickleSection(
        name=_field(raw, "name", str),
        materialized=_loads(raw, "materialized"),
        error=_optional_error(raw, "error"),
        same=_field(raw, "same", bool, None),
        got=_field(raw, "got", str, None),
        resolve_error=_optional_error(raw, "resolve_error"),
    )


def _batch(raw: Mapping[str, Any]) -> BatchSection:
    return BatchSection(
        unmeasured=_strings(raw, "unmeasured") or (),
        reason=_field(raw, "reason", str, None),
        served_by=_field(raw, "served_by", str, None),
    )


def _plan(raw: Mapping[str, Any]) -> PlanSection:
    first = _field(raw, "first_import", dict)
    if not all(isinstance(module, str) or module is None for module in first.values()):
        raise ProtocolError("the field 'first_import' maps a name to something other than a module")
    return PlanSection(first)


def _internal(raw: Mapping[str, Any]) -> InternalSection:
    return InternalSection(_error(raw.get("error")))


def _done(raw: Mapping[str, Any]) -> DoneSection:
    return DoneSection(_files(raw))


def _defer(raw: Mapping[str, Any]) -> DeferSection:
    reified = []
    for item in _field(raw, "reified", list):
        if not (isinstance(item, list) and len(item) == 7):
            raise ProtocolError("a reification is not a list of 7")
        file, line, name, where, at, during, error = item
        if not (isinstance(file, str) and isinstance(line, int) and isinstance(name, str)
                and isinstance(where, (str, type(None))) and isinstance(at, int) and isinstance(during, bool)
                and isinstance(error, (str, type(None)))):
            raise ProtocolError("a reification holds a field of the wrong type")
        reified.append((file, line, name, where, at, during, error))
    refused = []
    for item in _field(raw, "refused", list):
        if not (isinstance(item, list) and len(item) == 3 and isinstance(item[0], str) and isinstance(item[1], int)
                and isinstance(item[2], str)):
            raise ProtocolError("a refused statement is not [file, line, reason]")
        refused.append((item[0], item[1], item[2]))
    deferred, executed = _places(raw, "deferred"), _places(raw, "executed")
    return DeferSection(
        index=_field(raw, "index", int), python=_field(raw, "python", str), modules=_strings(raw, "modules") or (),
        reified=tuple(reified), elapsed_ns=_field(raw, "elapsed_ns", int), error=_field(raw, "error", str, None),
        refused=tuple(refused), deferred=deferred, executed=executed,
        incomplete=_field(raw, "incomplete", str, None),
    )


def _places(raw: Mapping[str, Any], key: str) -> tuple[tuple[str, int], ...]:
    places = []
    for item in _field(raw, key, list, []):
        if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], str) and isinstance(item[1], int)):
            raise ProtocolError(f"an item of {key!r} is not [file, line]")
        places.append((item[0], item[1]))
    return tuple(places)


GRAPH_REQUEST_FIELDS = 18  # child/graph.py's ``Request.as_list``


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _optional_str(value: Any) -> bool:
    return value is None or isinstance(value, str)


def _str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _statement(kind: str, name: str, package: str | None, target: str, names: tuple[str, ...], level: int) -> str:
    """The request as it was written: what the wrappers saw, before resolution."""
    if kind == KIND_FROM:
        return f"from {'.' * level}{name} import {', '.join(names)}"
    if kind == KIND_IMPORT:
        return f"import {'.' * level}{name}" if not level else f"__import__({name!r}, level={level})"
    if kind == KIND_IMPORT_MODULE:
        if level or package is not None:
            return f"importlib.import_module({'.' * level + name!r}, {package!r})"
        return f"importlib.import_module({name!r})"
    return f"import {target} (by the import system)"


_NONE_OR_STR = (str, type(None))
_is_str = str.__instancecheck__


def _graph_request(value: Any) -> ImportRequest:
    # Read once per request of the predicting child (thousands of them): exact type tests,
    # short-circuited, as what JSON decodes has no subclasses.
    if type(value) is not list or len(value) != GRAPH_REQUEST_FIELDS:
        raise ProtocolError(f"a graph request is not a list of {GRAPH_REQUEST_FIELDS} fields")
    (index, owner, file, line, scope, kind, name, package, target, names, level, hit, start, duration, loaded,
     submodules, count, failed) = value
    if not (type(index) is int and type(owner) in _NONE_OR_STR and type(file) in _NONE_OR_STR
            and type(line) is int and scope in GRAPH_SCOPES and kind in GRAPH_KINDS and type(name) is str
            and type(package) in _NONE_OR_STR and type(target) in _NONE_OR_STR
            and type(names) is list and all(map(_is_str, names)) and type(level) is int and level >= 0
            and type(hit) is bool and type(start) is int and type(duration) is int
            and type(loaded) is list and all(map(_is_str, loaded))
            and type(submodules) is list and all(map(_is_str, submodules))
            and type(count) is int and count >= 1 and type(failed) is bool):
        raise ProtocolError("a graph request holds the wrong types")
    resolved = target if target is not None else "." * level + name
    named = tuple(names)
    return ImportRequest(
        index=index, owner=owner, file=file, line=line, scope=scope,
        statement=_statement(kind, name, package, resolved, named, level), target=resolved,
        names=named, level=level, hit=hit, duration_ns=max(duration, 0), loaded=tuple(loaded),
        submodules=tuple(submodules), kind=kind, count=count, failed=failed, start_ns=max(start, 0),
    )


def _graph_module(value: Any) -> GraphModule:
    if not isinstance(value, list) or len(value) != 5:
        raise ProtocolError("a graph module is not a list of 5 fields")
    name, file, loaded_by, by_other_means, owner = value
    if not (isinstance(name, str) and _optional_str(file) and (loaded_by is None or _is_int(loaded_by))
            and isinstance(by_other_means, bool) and _optional_str(owner)):
        raise ProtocolError("a graph module holds the wrong types")
    return GraphModule(name, file, loaded_by, by_other_means, owner)


def _graph(raw: Mapping[str, Any]) -> GraphSection:
    requests = tuple(_graph_request(item) for item in _field(raw, "requests", list))
    if [request.index for request in requests] != list(range(len(requests))):
        raise ProtocolError("graph requests are not numbered in order")
    modules = tuple(_graph_module(item) for item in _field(raw, "modules", list))
    for module in modules:
        if module.loaded_by is not None and not 0 <= module.loaded_by < len(requests):
            raise ProtocolError(f"module {module.name!r} names a request that is not there")
    ending = _field(raw, "ending", str)
    if ending not in GRAPH_ENDINGS:
        raise ProtocolError(f"unknown ending {ending!r}")
    error = _field(raw, "error", (str, type(None)), None)
    return GraphSection(
        python=".".join(str(part) for part in _field(raw, "python", list, [])),
        baseline=tuple(sorted(_strings(raw, "baseline") or ())),
        requests=requests,
        modules=modules,
        ending=ending,
        error=error,
        elapsed_ns=max(int(_field(raw, "elapsed_ns", int, 0)), 0),
    )


def _touched(value: Any) -> TouchedName:
    if not isinstance(value, list) or len(value) != 9:
        raise ProtocolError("a touched name is not a list of 9 fields")
    name, error, appeared, start, end, described, cached, second_error, bound_before = value
    if not (isinstance(name, str) and _optional_str(error) and _str_list(appeared) and _is_int(start)
            and _is_int(end) and 0 <= start <= end and (cached is None or isinstance(cached, bool))
            and _optional_str(second_error) and isinstance(bound_before, bool)):
        raise ProtocolError("a touched name holds the wrong types")
    if described is not None and not (isinstance(described, list) and len(described) == 3
                                      and isinstance(described[0], str) and isinstance(described[1], str)
                                      and isinstance(described[2], bool)):
        raise ProtocolError("a touched name's object is malformed")
    return TouchedName(name, error, tuple(appeared), start, end,
                       (described[0], described[1], described[2]) if described is not None else None,
                       cached, second_error, bound_before)


def _predict(raw: Mapping[str, Any]) -> PredictSection:
    failures = {}
    for item in _field(raw, "failures", list, []):
        if not (isinstance(item, list) and len(item) == 2 and _is_int(item[0]) and isinstance(item[1], str)):
            raise ProtocolError("a failed request of the predicting child is malformed")
        failures[item[0]] = item[1]
    served = []
    for item in _field(raw, "served", list, []):
        if not (isinstance(item, list) and len(item) == 4 and _is_int(item[0]) and isinstance(item[1], str)
                and _is_int(item[2]) and _is_int(item[3]) and 0 <= item[2] <= item[3]):
            raise ProtocolError("a served name of the predicting child is malformed")
        served.append((item[0], item[1], item[2], item[3]))
    bound, getattr_files = {}, {}
    for module, described in _field(raw, "bound", dict, {}).items():
        if not (isinstance(described, list) and len(described) == 2 and _optional_str(described[0])
                and _str_list(described[1])):
            raise ProtocolError("the names a module bound are malformed")
        bound[module] = frozenset(described[1])
        if described[0] is not None:
            getattr_files[module] = described[0]
    return PredictSection(
        imported=_strings(raw, "imported") or (),
        names=tuple(_touched(item) for item in _field(raw, "names", list)),
        error=_field(raw, "error", (str, type(None)), None),
        failures=failures, served=tuple(served), bound=bound, getattr_files=getattr_files,
    )


def _pickles(raw: Mapping[str, Any]) -> PicklesSection:
    pickles = {}
    for item in _field(raw, "names", list):
        if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], str) and _optional_str(item[1])):
            raise ProtocolError("a pickle of the predicting child is malformed")
        pickles[item[0]] = item[1]
    return PicklesSection(pickles)


PARSERS: dict[str, Callable[[Mapping[str, Any]], Section]] = {
    protocol.SECTION_IMPORT: _import,
    protocol.SECTION_SERVER: _server,
    protocol.SECTION_PACKAGE: _package,
    protocol.SECTION_RESOLVE: _resolve,
    protocol.SECTION_ASK: _ask,
    protocol.SECTION_STAR: _star,
    protocol.SECTION_RACE: _race,
    protocol.SECTION_DIR: _dir,
    protocol.SECTION_HASATTR: _hasattr,
    protocol.SECTION_GETMODULE: _getmodule,
    protocol.SECTION_COMPLETE: _complete,
    protocol.SECTION_PICKLE: _pickle,
    protocol.SECTION_UNPICKLE: _unpickle,
    protocol.SECTION_BATCH: _batch,
    protocol.SECTION_PLAN: _plan,
    protocol.SECTION_INTERNAL: _internal,
    protocol.SECTION_DONE: _done,
    protocol.SECTION_TRACE_START: parse_trace_start,
    protocol.SECTION_TRACE_LOADS: parse_trace_loads,
    protocol.SECTION_TRACE_SPAWN: parse_trace_spawn,
    protocol.SECTION_TRACE_END: parse_trace_end,
    protocol.SECTION_DEFER: _defer,
    protocol.SECTION_GRAPH: _graph,
    protocol.SECTION_PREDICT: _predict,
    protocol.SECTION_PICKLES: _pickles,
}


def parse(raw: Mapping[str, Any]) -> Section:
    """The typed record of one result line; raises ProtocolError for anything else."""
    name = raw.get(protocol.SECTION_KEY)
    parser = PARSERS.get(name) if isinstance(name, str) else None
    if parser is None:
        raise ProtocolError(f"unknown section {name!r}")
    try:
        return parser(raw)
    except (TypeError, ValueError, AttributeError) as exc:  # ProtocolError is a ValueError
        raise ProtocolError(f"section {name!r}: {exc}") from None


def parse_all(raws: Sequence[Mapping[str, Any]]) -> tuple[tuple[Section, ...], str | None]:
    """The typed sections of a result file, and what was wrong with the first bad one."""
    sections = []
    problem = None
    for raw in raws:
        try:
            sections.append(parse(raw))
        except ProtocolError as exc:
            problem = problem or str(exc)
    return tuple(sections), problem


# --- requests and runs ------------------------------------------------------------------------


class ProbeSettings(Record):
    """How to run probes: which interpreter, for how long, how many at once."""

    python: str
    timeout: float = 60.0
    jobs: int = 1
    isolation: str = "auto"  # "fork", "fork-each", "spawn" or "auto"
    cache_dir: str | None = None  # where results are cached (``aoinspect.probing.cache``), None for no cache

    def __init__(
        self, python: str, timeout: float = 60.0, jobs: int = 1, isolation: str = "auto", cache_dir: str | None = None,
    ) -> None:
        _set = set_field
        _set(self, "python", python)
        _set(self, "timeout", timeout)
        _set(self, "jobs", jobs)
        _set(self, "isolation", isolation)
        _set(self, "cache_dir", cache_dir)


class ProbeRequest(Record):
    """What one probe does after ``import PACKAGE`` (``protocol.MODE_*``)."""

    mode: str
    package: str
    names: tuple[str, ...] = ()
    threads: int = 0  # MODE_RACE: how many threads access each name at once
    # Seconds the probe gets at least, whatever --timeout says (a probe that loads the whole
    # package: ``rules.lazy.whole_package_deadline``); not part of what the probe does.
    min_deadline: float = 0.0
    _not_compared = frozenset(("min_deadline",))

    def __init__(
        self, mode: str, package: str, names: tuple[str, ...] = (), threads: int = 0, min_deadline: float = 0.0,
    ) -> None:
        if mode not in protocol.REQUEST_MODES:
            raise ValueError(f"unknown probe mode {mode!r}")
        _set = set_field
        _set(self, "mode", mode)
        _set(self, "package", package)
        _set(self, "names", names)
        _set(self, "threads", threads)
        _set(self, "min_deadline", min_deadline)

    def deadline(self, settings: ProbeSettings) -> float:
        """How long this probe may run: ``--timeout``, or its own longer deadline."""
        return max(settings.timeout, self.min_deadline)

    def fields(self) -> list[str]:
        return list(protocol.encode_request(self.mode, self.package, self.threads, self.names))


S = TypeVar("S", bound=Section)


class ProbeRun(Record):
    """What one child reported, as typed sections, and how it ended."""

    request: ProbeRequest
    sections: tuple[Section, ...]
    returncode: int | None
    timed_out: bool
    timeout: float
    output_tail: str = ""
    protocol_error: str | None = None  # the first result line that broke the protocol
    retried_after: str | None = None  # how a forked probe ended before it was run again
    from_cache: bool = False  # read from the cache, not measured by this run
    raw: tuple[Mapping[str, Any], ...] = ()  # the lines, for the cache
    _not_compared = _not_shown = frozenset(("raw",))

    def __init__(
        self, request: ProbeRequest, sections: tuple[Section, ...], returncode: int | None, timed_out: bool,
        timeout: float, output_tail: str = "", protocol_error: str | None = None, retried_after: str | None = None,
        from_cache: bool = False, raw: tuple[Mapping[str, Any], ...] = (),
    ) -> None:
        _set = set_field
        _set(self, "request", request)
        _set(self, "sections", sections)
        _set(self, "returncode", returncode)
        _set(self, "timed_out", timed_out)
        _set(self, "timeout", timeout)
        _set(self, "output_tail", output_tail)
        _set(self, "protocol_error", protocol_error)
        _set(self, "retried_after", retried_after)
        _set(self, "from_cache", from_cache)
        _set(self, "raw", raw)

    def get(self, kind: type[S]) -> S | None:
        """The first section of this type, if the child sent one."""
        for section in self.sections:
            if isinstance(section, kind):
                return section
        return None

    @property
    def completed(self) -> bool:
        return self.get(DoneSection) is not None and not self.timed_out

    def how_it_ended(self) -> str:
        """A short phrase for messages: "timed out after 5 s", "was killed by SIGSEGV", ..."""
        if self.timed_out:
            return f"timed out after {self.timeout:g} s"
        if self.protocol_error is not None:
            return f"sent a result the protocol does not allow ({self.protocol_error})"
        code = self.returncode
        if code is None:
            return "did not finish"
        if code < 0:
            try:
                import signal  # only for a child a signal ended: its enums cost a start-up

                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            return f"was killed by {name}"
        return f"exited with status {code} without reporting"


def genuine(raws: Sequence[dict[str, Any]], token: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """The lines the probe wrote: those carrying the run's secret (``protocol.TOKEN_KEY``); and
    what was wrong with the others, if any."""
    if token is None:
        return list(raws), None
    kept = [raw for raw in raws if raw.get(protocol.TOKEN_KEY) == token]
    forged = len(raws) - len(kept)
    return kept, (f"{forged} line(s) of its result file were not written by the probe" if forged else None)


def make_run(
    request: ProbeRequest, raws: Sequence[dict[str, Any]], returncode: int | None, timed_out: bool, timeout: float,
    output_tail: str, shared: tuple[Section, ...] = (), read_problem: str | None = None, token: str | None = None,
    shared_raw: tuple[Mapping[str, Any], ...] = (),
) -> ProbeRun:
    """A ProbeRun from the raw lines of a result file (after ``shared``: a fork server's);
    ``read_problem``: why the result file itself could not be read; ``token``: the run's secret,
    which every line the probe wrote carries."""
    raws, forged = genuine(raws, token)
    parsed, problem = parse_all(raws)
    problem = read_problem or forged or problem
    return ProbeRun(request, shared + parsed, returncode, timed_out, timeout, output_tail, problem,
                    raw=(*shared_raw, *raws))


def replace_from_cache(run: ProbeRun) -> ProbeRun:
    """``run``, marked as read from the cache."""
    return replace(run, from_cache=True, raw=())
