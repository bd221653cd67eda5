"""One definition per JSON document aoinspect writes: how a typed report is written, how a saved
document is read back into that report (checked, naming the first thing that is wrong), and the
JSON Schema of each, all from the same field lists.

The kinds: ``list``, ``resolve``, ``check``, ``snapshot``, ``trace``, ``diff``, ``graph``, and ``failure``
(a run that produced no report); the baseline file ``check --baseline`` reads is ``baseline``.
Keys a report derives from its fields (``ok``, ``exit_code``, ``total_ms``, ``via_getattr``...)
are written and, when present, type-checked on reading, never trusted.

``python -m aoinspect.documents --write-schemas`` writes ``schemas/KIND.schema.json``.
"""

from __future__ import annotations

import json
import math
import operator
from dataclasses import replace
from typing import Any, Callable, ClassVar, Mapping, NoReturn

from aoinspect import outcomes
from aoinspect.child import protocol
from aoinspect.errors import AoinspectError, PackageImportFailed, ProbeFailed
from aoinspect.formats import kind_of
from aoinspect.models import (
    CheckReport,
    DeclaredName,
    Distributions,
    DistributionShare,
    ErrorInfo,
    Failure,
    Finding,
    ImportResult,
    Isolation,
    ListReport,
    ModuleLoad,
    ObjectInfo,
    Resolution,
    ResolveReport,
    Snapshot,
    Step,
    WarningInfo,
    total_ms,
)
from aoinspect.models.advise import (
    Advice,
    AdviseReport,
    Effect,
    EntryAdvice,
    Place,
    StaleEntry,
    Timing,
)
from aoinspect.models.advise import (
    parse_fail_on as parse_advise_fail_on,
)
from aoinspect.models.diff import Diff, FindingRef, Side, Subject, SubjectChange, Threshold, parse_fail_on
from aoinspect.models.graph import GraphModule, ImportGraph, ImportRequest, is_stdlib
from aoinspect.models.trace import Frame, Hop, TracedLoad, TraceReport

# The version of every JSON document aoinspect writes (CHANGELOG.md says what each added).
SCHEMA_VERSION = 3  # 2: mechanisms, observed loads; 3: check's rules, diff's ok_*/error_* (CHANGELOG.md)
# Documents of these schema versions can be read: 2 and 3 only added keys, which are given their
# defaults when absent (a base branch's older report still compares and renders).
READABLE_SCHEMAS = (1, 2, SCHEMA_VERSION)
BASELINE_FORMAT = 1
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

# The bounds of what a document holds, so that no number read can overflow a conversion, hide a
# change (NaN compares false with everything) or be written back as a token that is not JSON.
MAX_COUNT = 10**9  # modules, depths, repeats, threads
MAX_MS = 10**9  # any time in milliseconds (11.6 days: beyond the longest timeout, a week)
MAX_INTEGER = 2**53 - 1  # any other integer (exit codes, line numbers): what every JSON reader holds exactly
MAX_INTEGER_DIGITS = 20  # a longer integer is refused before Python converts it (its cost grows with length)


class DocumentError(AoinspectError):
    """A file that is not a JSON document aoinspect wrote, or not one of the expected kind."""

    exit_code = outcomes.EXIT_USAGE
    kind = "usage"


class Invalid(Exception):
    """Where a document is wrong, and how; the caller adds which file it is."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where} {problem}")
        self.where = where
        self.problem = problem


# --- the vocabulary ------------------------------------------------------------------------------

REQUIRED: Any = object()  # a Field's default: the key must be present


def _at(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


class Kind:
    """The JSON type of a value: how to write it, read it back (checked) and describe it.
    ``plain``, where a kind has it, says whether ``decode`` would return the value as it is: the
    common case, checked without building the path an error would name (a kept check of
    huggingface_hub decodes a million scalars)."""

    plain: Callable[[Any], bool] | None = None

    def encode(self, value: Any) -> Any:
        return value

    def decode(self, value: Any, where: str) -> Any:
        raise NotImplementedError

    def json_schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError


class Scalar(Kind):
    _NAMES: ClassVar[dict[str, str]] = {"string": "a string", "integer": "an integer", "number": "a number",
                                        "boolean": "true or false", "null": "null"}

    def __init__(self, json_type: str, const: Any = REQUIRED) -> None:
        self.json_type = json_type
        self.const = const
        if const is REQUIRED:  # stricter than _fits (no subclasses): anything else takes decode's way
            self.plain = {"string": lambda value: type(value) is str,
                          "boolean": lambda value: value is True or value is False,
                          "null": lambda value: value is None,
                          "integer": lambda value: type(value) is int,
                          "number": lambda value: type(value) is int or type(value) is float}[json_type]

    def _fits(self, value: Any) -> bool:
        if self.json_type == "string":
            return isinstance(value, str)
        if self.json_type == "boolean":
            return isinstance(value, bool)
        if self.json_type == "null":
            return value is None
        if isinstance(value, bool):
            return False
        return isinstance(value, int) or (self.json_type == "number" and isinstance(value, float))

    def decode(self, value: Any, where: str) -> Any:
        if not self._fits(value):
            raise Invalid(where, f"is not {self._NAMES[self.json_type]}")
        if self.const is not REQUIRED and value != self.const:
            raise Invalid(where, f"is not {json.dumps(self.const)}")
        return value

    def json_schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        if self.const is not REQUIRED:
            return {"const": self.const}
        return {"type": self.json_type}


class Bounded(Scalar):
    """A finite integer or number (never a boolean) from ``minimum`` to ``maximum``."""

    def __init__(self, json_type: str, minimum: int, maximum: int | None) -> None:
        super().__init__(json_type)
        self.minimum = minimum
        self.maximum = maximum
        if maximum is not None:  # a float in range is finite
            self.plain = (lambda value: type(value) is int and minimum <= value <= maximum) \
                if json_type == "integer" else \
                (lambda value: (type(value) is int or type(value) is float) and minimum <= value <= maximum)
        else:
            self.plain = None

    def decode(self, value: Any, where: str) -> Any:
        value = super().decode(value, where)
        if isinstance(value, float) and not math.isfinite(value):
            raise Invalid(where, "is not a finite number")
        if value < self.minimum or (self.maximum is not None and value > self.maximum):
            if self.maximum is None:
                raise Invalid(where, f"is not at least {self.minimum}")
            raise Invalid(where, f"is not between {self.minimum} and {self.maximum}")
        return value

    def json_schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        bounds = {"minimum": self.minimum} if self.maximum is None else {"minimum": self.minimum,
                                                                          "maximum": self.maximum}
        return {"type": self.json_type, **bounds}


def readable_schema(value: object) -> bool:
    """A ``schema`` value aoinspect reads: an integer, not ``true`` (== 1) or ``2.0`` (== 2)."""
    return type(value) is int and value in READABLE_SCHEMAS


class Version(Kind):
    """The ``schema`` key: any readable version is read; the JSON Schema describes the current one."""

    def encode(self, value: Any) -> Any:
        return SCHEMA_VERSION

    def decode(self, value: Any, where: str) -> Any:
        if not readable_schema(value):
            raise Invalid(where, f"is not a schema version aoinspect reads ({', '.join(map(str, READABLE_SCHEMAS))})")
        return value

    def json_schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        return {"const": SCHEMA_VERSION}


VERSION = Version()
STRING, BOOLEAN, NULL = (Scalar(name) for name in ("string", "boolean", "null"))
COUNT = Bounded("integer", 0, MAX_COUNT)
MS = Bounded("number", 0, MAX_MS)
INTEGER = Bounded("integer", -MAX_INTEGER, MAX_INTEGER)
RATIO = Bounded("number", 0, None)  # finite: a ratio, or a threshold's parts


_WRITTEN_AS_IS = (Scalar, Bounded)  # kinds whose encode is Kind's: the value itself


class Nullable(Kind):
    def __init__(self, inner: Kind) -> None:
        self.inner = inner
        check = inner.plain
        if check is not None:
            self.plain = lambda value: value is None or check(value)

    def encode(self, value: Any) -> Any:
        return None if value is None else self.inner.encode(value)

    def decode(self, value: Any, where: str) -> Any:
        return None if value is None else self.inner.decode(value, where)

    def json_schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        inner = self.inner.json_schema(defs)
        if set(inner) == {"type"}:
            return {"type": [inner["type"], "null"]}
        return {"anyOf": [inner, {"type": "null"}]}


# What the top-level ``encode`` under way made of each ``shared`` array, by the tuple's identity
# (kept alive with it): one list per call, whatever thread makes it.
_ENCODED: list[dict[int, tuple[Any, list[Any]]]] = []


class Array(Kind):
    """A list of ``item``; with ``unique``, the attribute no two items may share (a NAME's result
    listed twice would otherwise leave one of them out of a diff). ``shared``: the same tuple is
    written once per document and its list repeated (predicted names share their loads:
    huggingface_hub's 493 predicted names, 100,000 loads in 40 tuples)."""

    def __init__(self, item: Kind, unique: str | None = None, shared: bool = False) -> None:
        self.item = item
        self.unique = unique
        self.shared = shared

    def encode(self, value: Any) -> Any:
        if self.shared and _ENCODED and type(value) is tuple:
            encoded = _ENCODED[-1]
            known = encoded.get(id(value))
            if known is None:
                known = encoded[id(value)] = (value, [self.item.encode(item) for item in value])
            return known[1]
        return [self.item.encode(item) for item in value]

    def decode(self, value: Any, where: str) -> tuple[Any, ...]:
        if not isinstance(value, list):
            raise Invalid(where, "is not a list")
        items = tuple(self.item.decode(item, f"{where}[{index}]") for index, item in enumerate(value))
        if self.unique is not None:
            first: dict[Any, int] = {}
            for index, item in enumerate(items):
                key = getattr(item, self.unique)
                if key in first:
                    raise Invalid(f"{where}[{index}].{self.unique}",
                                  f"repeats {json.dumps(key)}, already at {where}[{first[key]}]")
                first[key] = index
        return items

    def json_schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        return {"type": "array", "items": self.item.json_schema(defs)}


class Mapping_(Kind):
    """An object of any keys, each holding an ``item``: a snapshot's name -> modules."""

    def __init__(self, item: Kind) -> None:
        self.item = item

    def encode(self, value: Any) -> Any:
        return {key: self.item.encode(item) for key, item in value}

    def decode(self, value: Any, where: str) -> tuple[tuple[str, Any], ...]:
        if not isinstance(value, dict):
            raise Invalid(where, "is not an object")
        return tuple((key, self.item.decode(item, f"{where}.{key}")) for key, item in value.items())

    def json_schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        return {"type": "object", "additionalProperties": self.item.json_schema(defs)}


class Field:
    """One key of an object: its kind, how to read it off the typed value, and its default when a
    document lacks it (``REQUIRED``: none). ``omit`` leaves the key out of some documents."""

    def __init__(self, key: str, kind: Kind, get: str | Callable[[Any], Any] | None = None,
                 default: Any = REQUIRED, omit: Callable[[Any], bool] | None = None, doc: str | None = None) -> None:
        self.key = key
        self.kind = kind
        attribute = key if get is None else get
        self.get: Callable[[Any], Any] = operator.attrgetter(attribute) if isinstance(attribute, str) else attribute
        self.default = default
        self.omit = omit
        self.doc = doc


class Struct(Kind):
    """A JSON object with known keys, written from and read into one typed value."""

    def __init__(self, name: str, fields: list[Field], build: Callable[[dict[str, Any]], Any], doc: str) -> None:
        self.name = name
        self.fields = fields
        self.build = build
        self.doc = doc

    def encode(self, value: Any) -> dict[str, Any]:
        # A scalar is written as it is: no call per scalar (a kept check writes a million).
        return {field.key: item if type(field.kind) in _WRITTEN_AS_IS else field.kind.encode(item)
                for field in self.fields if field.omit is None or not field.omit(value)
                for item in (field.get(value),)}

    def decode(self, value: Any, where: str) -> Any:
        if not isinstance(value, dict):
            raise Invalid(where or "the document", "is not an object")
        values: dict[str, Any] = {}
        for field in self.fields:
            key = field.key
            if key in value:
                item = value[key]
                plain = field.kind.plain
                values[key] = item if plain is not None and plain(item) else field.kind.decode(item, _at(where, key))
            elif field.default is REQUIRED:
                raise Invalid(_at(where, field.key), "is missing")
            else:
                values[field.key] = field.default
        try:
            return self.build(values)
        except (ValueError, OverflowError) as exc:
            raise Invalid(where or "the document", f"is not consistent: {exc}") from None

    def object_schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        properties = {}
        for field in self.fields:
            described = field.kind.json_schema(defs)
            if field.doc:
                described = {**described, "description": field.doc}
            properties[field.key] = described
        return {
            "title": self.name,
            "description": self.doc,
            "type": "object",
            "properties": properties,
            "required": [field.key for field in self.fields if field.omit is None],
            "additionalProperties": False,
        }

    def json_schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        if self.name not in defs:
            defs[self.name] = None  # taken: a struct that contains itself refers to itself
            defs[self.name] = self.object_schema(defs)
        return {"$ref": f"#/$defs/{self.name}"}


# --- the parts -----------------------------------------------------------------------------------

ERROR_INFO = Struct("ErrorInfo", [
    Field("type", STRING),
    Field("message", STRING),
    Field("location", Nullable(STRING), default=None, doc="file:line where it was raised, when known"),
], lambda v: ErrorInfo(v["type"], v["message"], v["location"]),
    "An exception raised by the inspected package.")

MODULE_LOAD = Struct("ModuleLoad", [
    Field("module", STRING),
    Field("parent", Nullable(STRING), default=None, doc="the module whose execution imported it"),
    Field("depth", COUNT),
    Field("self_ms", MS),
    Field("cumulative_ms", MS),
    Field("min_self_ms", MS, default=0.0),
    Field("min_cumulative_ms", MS, default=0.0),
    Field("distribution", Nullable(STRING), default=None),
    Field("stdlib", BOOLEAN, default=False),
    Field("generated", BOOLEAN, default=False, doc="made at run time, not read from a file"),
], lambda v: ModuleLoad(**v),
    "One module that appeared in sys.modules, placed in the import tree; with --repeat the times are "
    "medians and min_* the minimums.")

SHARE = Struct("DistributionShare", [
    Field("name", STRING),
    Field("version", Nullable(STRING)),
    Field("kind", STRING, doc="installed, stdlib or local"),
    Field("modules", COUNT),
    Field("self_ms", MS),
], lambda v: DistributionShare(**v), "How many modules, and how much self time, one distribution accounts for.")

LOADS = Array(MODULE_LOAD, shared=True)

STEP = Struct("Step", [
    Field("name", STRING),
    Field("mechanism", STRING, default=protocol.MECHANISM_NONE),
    Field("via_getattr", BOOLEAN, default=None),
    Field("materialized", LOADS),
    Field("removed", Array(STRING), default=()),
    Field("elapsed_ms", MS),
    Field("min_elapsed_ms", MS, default=0.0),
    Field("total_ms", MS, lambda step: total_ms(step.materialized), default=None),
], lambda v: Step(v["name"], v["mechanism"], v["materialized"], v["removed"], v["elapsed_ms"], v["min_elapsed_ms"]),
    "One attribute of a dotted name: nn then quantized for nn.quantized.")


def _loads_of(result: Resolution) -> tuple[ModuleLoad, ...]:
    """Every step's loads: one step's tuple as it is (written once with the step's)."""
    return result.steps[0].materialized if len(result.steps) == 1 else result.materialized


def _build_resolution(v: dict[str, Any]) -> Resolution:
    steps = v["steps"]
    if not steps and (v["materialized"] or v["removed"]):
        # A hand-made or trimmed document that lists loads but no steps: one step holds them.
        steps = (Step(v["name"], v["mechanism"], v["materialized"], v["removed"], v["elapsed_ms"] or 0.0,
                      v["min_elapsed_ms"] or 0.0),)
    shares = Distributions(v["distributions"])
    shares.loads = tuple(load for step in steps for load in step.materialized)
    return Resolution(
        name=v["name"], ok=v["ok"], error=v["error"], steps=steps, already_loaded=v["already_loaded"],
        cached=v["cached"], object=v["object"], suggestions=v["suggestions"], probe_failed=v["probe_failed"],
        repeats=v["repeats"], unstable=v["unstable"], distributions=shares, retried=v["retried"],
        observed=v["observed"], from_cache=v["from_cache"], second_error=v["second_error"],
        predicted=v["predicted"],
    )


RESOLUTION = Struct("Resolution", [
    Field("name", STRING),
    Field("ok", BOOLEAN),
    Field("error", Nullable(ERROR_INFO), default=None),
    Field("probe_failed", BOOLEAN, default=False),
    Field("retried", Nullable(STRING), default=None, doc="why a forked probe was measured again in a fresh "
                                                          "interpreter"),
    Field("from_cache", BOOLEAN, default=False, doc="read from .aoinspect_cache, measured by an earlier run"),
    Field("predicted", BOOLEAN, default=False, omit=lambda result: not result.predicted,
          doc="predicted from the executed-import graph (aoinspect.predicting), not measured in a fork of its own"),
    Field("suggestions", Array(STRING), default=()),
    Field("already_loaded", BOOLEAN, default=False),
    Field("mechanism", STRING, default=protocol.MECHANISM_NONE, doc="what served the last step"),
    Field("via_getattr", BOOLEAN, default=None),
    Field("cached", Nullable(BOOLEAN), default=None),
    Field("second_error", Nullable(ERROR_INFO), default=None, omit=lambda result: result.second_error is None,
          doc="what a second access raised, after a first that did not"),
    Field("object", Nullable(Struct("ObjectInfo", [Field("type", STRING), Field("repr", STRING)],
                                    lambda v: ObjectInfo(v["type"], v["repr"], False),
                                    "What the access returned.")), default=None),
    Field("materialized", LOADS, _loads_of, default=(), doc="every step's loads, in order"),
    Field("removed", Array(STRING), default=()),
    Field("elapsed_ms", MS, default=None),
    Field("min_elapsed_ms", MS, default=None),
    Field("total_ms", MS, lambda result: total_ms(result.materialized), default=None),
    Field("repeats", COUNT, default=1),
    Field("unstable", Array(STRING), default=(), doc="modules some repeats loaded and others did not"),
    Field("distributions", Array(SHARE), default=()),
    Field("steps", Array(STEP), default=()),
    Field("observed", LOADS, default=(), doc="loaded by looking at the result, after the access"),
], _build_resolution, "The outcome of accessing PACKAGE.NAME in a fresh interpreter.")

WARNING = Struct("Warning", [
    Field("category", STRING, doc="the warning's class, e.g. DeprecationWarning"),
    Field("message", STRING),
    Field("filename", Nullable(STRING), default=None, doc="where the warnings machinery attributed it"),
    Field("lineno", Nullable(INTEGER), default=None),
], lambda v: WarningInfo(**v), "A warning the package's code showed, as python prints it on stderr.")

IMPORT = Struct("ImportResult", [
    Field("materialized", LOADS),
    Field("removed", Array(STRING), default=()),
    Field("elapsed_ms", MS),
    Field("min_elapsed_ms", MS, default=0.0),
    Field("total_ms", MS, lambda imported: total_ms(imported.materialized), default=None),
    Field("repeats", COUNT, default=1),
    Field("unstable", Array(STRING), default=()),
    Field("threads", COUNT, default=0),
    Field("python", STRING, default=""),
    Field("warnings", Array(WARNING), default=(), doc="warnings shown while it ran, as a bare python shows them"),
], lambda v: ImportResult("", v["materialized"], v["removed"], v["elapsed_ms"], v["threads"], v["python"],
                          v["min_elapsed_ms"], v["repeats"], v["unstable"], v["warnings"]),
    "What `import PACKAGE` alone materialized.")

ISOLATION = Struct("Isolation", [
    Field("mode", STRING, doc="fork or spawn"),
    Field("reason", Nullable(STRING), default=None, doc="why the run fell back to spawning"),
    Field("python_threads", Nullable(COUNT), default=None),
    Field("native_threads", Nullable(COUNT), default=None),
    Field("cache_miss", Nullable(STRING), default=None, omit=lambda isolation: isolation.cache_miss is None,
          doc="why the cache could not serve every result: the first reason (which key part or file changed); "
              "absent when it served them all or is off"),
], lambda v: Isolation(**v), "How a run isolated its probes.")

DECLARED_NAME = Struct("DeclaredName", [
    Field("name", STRING),
    Field("declared_in", Array(STRING), doc="__all__, TYPE_CHECKING, stub, __dir__, __getattr__, __lazy_modules__"),
    Field("submodule", BOOLEAN),
    Field("loaded_at_import", BOOLEAN),
    Field("mechanism", STRING, default=protocol.MECHANISM_NONE),
    Field("declared_at", Nullable(STRING), default=None, doc="file:line of its declaration, if read statically"),
    Field("lazy_package", BOOLEAN, default=False, doc="a subpackage with a lazy path of its own"),
], lambda v: DeclaredName(**v), "A name the package declares, and where.")


# The two rules whose findings are the engine's errors: their ids are the errors' kinds.
_ERROR_EXIT_CODES = {error.kind: error.exit_code for error in (PackageImportFailed, ProbeFailed)}


def _finding_exit_code(rule: str) -> int:
    """A finding fails the run with its rule's exit code (import-failed 3, probe-failed 4, else 1)."""
    return _ERROR_EXIT_CODES.get(rule, outcomes.EXIT_FINDINGS)


FINDING = Struct("Finding", [
    Field("rule", STRING),
    Field("severity", STRING, doc="error, warning or info"),
    Field("name", Nullable(STRING), default=None, doc="the declared name it is about; null: the package"),
    Field("message", STRING),
], lambda v: Finding(v["rule"], v["severity"], v["name"], v["message"], _finding_exit_code(v["rule"])),
    "One broken promise, under a stable rule id.")


def _header(command: str) -> list[Field]:
    return [
        Field("schema", VERSION, lambda report: SCHEMA_VERSION, doc="the document's version"),
        Field("command", Scalar("string", command), lambda report: command),
        Field("package", STRING),
        Field("ok", BOOLEAN, default=None),
        Field("exit_code", INTEGER, default=None),
        Field("error", NULL, lambda report: None, default=None, doc="null: the run produced its report"),
    ]


# --- the documents -------------------------------------------------------------------------------


def _with_package(imported: ImportResult, package: str) -> ImportResult:
    return replace(imported, package=package)


LIST = Struct("ListDocument", [
    *_header("list"),
    Field("isolation", Nullable(ISOLATION), default=None),
    Field("import", IMPORT, "imported"),
    Field("names", Array(DECLARED_NAME, unique="name")),
    Field("undeclared_submodules", Array(STRING), omit=lambda report: report.undeclared_submodules is None,
          default=None, doc="with --all: submodules on disk that no declaration exports"),
    Field("results", Array(RESOLUTION, unique="name"), "resolutions", omit=lambda report: report.resolutions is None,
          default=None, doc="with --resolve: one per lazy name"),
    Field("notes", Array(STRING), default=()),
    Field("lazy_packages", Array(STRING), default=(), doc="subpackages with a lazy path of their own"),
], lambda v: ListReport(v["package"], _with_package(v["import"], v["package"]), v["names"],
                        v["undeclared_submodules"], v["results"], v["isolation"], v["notes"], v["lazy_packages"]),
    "aoinspect list --format json")

RESOLVE = Struct("ResolveDocument", [
    *_header("resolve"),
    Field("isolation", Nullable(ISOLATION), default=None),
    Field("repeats", COUNT, default=1),
    Field("import", IMPORT, "imported"),
    Field("results", Array(RESOLUTION, unique="name")),
], lambda v: ResolveReport(v["package"], _with_package(v["import"], v["package"]), v["results"], v["repeats"],
                           v["isolation"]),
    "aoinspect resolve --format json")

CHECK = Struct("CheckDocument", [
    *_header("check"),
    Field("isolation", Nullable(ISOLATION), default=None),
    Field("strict", BOOLEAN, default=False),
    Field("file", Nullable(STRING), default=None, doc="the package's __init__.py: where package-wide findings point"),
    Field("import", Nullable(IMPORT), "imported", doc="null: the import failed"),
    Field("names", Array(DECLARED_NAME, unique="name")),
    Field("results", Array(RESOLUTION, unique="name"), "resolutions"),
    Field("findings", Array(FINDING)),
    Field("notes", Array(STRING), default=()),
    Field("rules", Array(STRING), default=(), doc="every rule id this run evaluated"),
], lambda v: CheckReport(v["package"], v["import"] and _with_package(v["import"], v["package"]), v["names"],
                         v["results"], v["findings"], v["strict"], v["isolation"], v["rules"], v["file"], v["notes"]),
    "aoinspect check --format json")

_BASELINE_FIELDS = [
    Field("aoinspect_baseline", Scalar("integer", BASELINE_FORMAT), lambda snapshot: BASELINE_FORMAT),
    Field("package", STRING, default=""),
    Field("import", Array(STRING), "imported", default=()),
    Field("names", Mapping_(Array(STRING)), default=(), doc="each lazy name: the modules accessing it loads"),
]


def _build_snapshot(v: dict[str, Any]) -> Snapshot:
    return Snapshot(v["package"], v["import"], tuple(sorted(v["names"])), v.get("isolation"))


SNAPSHOT = Struct("SnapshotDocument", [
    *_header("snapshot"),
    Field("isolation", Nullable(ISOLATION), default=None),
    *_BASELINE_FIELDS[:1], *_BASELINE_FIELDS[2:],  # its package is the header's
], _build_snapshot,
    "aoinspect snapshot: what import PACKAGE and each lazy name load, sorted, without timings; "
    "also a baseline for check --baseline")

BASELINE = Struct("Baseline", _BASELINE_FIELDS, _build_snapshot,
                  "The baseline file check --baseline reads and --update-baseline writes")

_EXCEPTION = Field("exception", ERROR_INFO, lambda failure: failure.error, default=None,
                   omit=lambda failure: failure.error is None)


def _no_package(failure: Failure) -> bool:
    return failure.command == "diff"  # diff compares two files: no package


FAILURE = Struct("FailureDocument", [
    Field("schema", VERSION, lambda report: SCHEMA_VERSION),
    Field("command", STRING, doc="the command that failed (aoinspect: not known)"),
    Field("package", STRING, default="", omit=_no_package),
    Field("ok", Scalar("boolean", False), lambda report: False),
    Field("exit_code", INTEGER),
    Field("error", Struct("FailureError", [
        Field("kind", STRING, doc="usage, import-failed, probe-failed, internal, ..."),
        Field("message", STRING),
        _EXCEPTION,
    ], lambda v: v, "Why the run produced no report."), lambda failure: failure),
    Field("isolation", Nullable(ISOLATION), lambda report: None, default=None, omit=_no_package),
], lambda v: Failure(v["command"], v["package"], v["error"]["kind"], v["error"]["message"], v["exit_code"],
                     v["error"]["exception"]),
    "A run that produced no report: any command's --format json (and junit, html, ...) on failure")

FRAME = Struct("Frame", [
    Field("file", STRING),
    Field("line", INTEGER),
    Field("function", STRING),
    Field("module", Nullable(STRING), default=None),
    Field("source", Nullable(STRING), default=None, doc="the stripped source line"),
    Field("expression", Nullable(STRING), default=None, doc="the expression being evaluated (3.11+)"),
], lambda v: Frame(**v), "Where a load was triggered: the innermost frame outside the import system.")

HOP = Struct("Hop", [
    Field("function", STRING),
    Field("attribute", Nullable(STRING)),
    Field("file", STRING),
    Field("line", INTEGER),
    Field("text", STRING, str, default=None),
], lambda v: Hop(v["function"], v["attribute"], v["file"], v["line"]),
    "The lazy function that turned an attribute access into an import.")


def _build_traced(v: dict[str, Any]) -> TracedLoad:
    load = ModuleLoad(v["module"], v["parent"], v["depth"], v["self_ms"], v["cumulative_ms"], v["self_ms"],
                      v["cumulative_ms"], v["distribution"], v["stdlib"])
    return TracedLoad(v["index"], load, v["parent_index"], v["thread"], v["start_ms"], v["finished"], v["failed"],
                      v["trigger"], v["hop"], v["via"], v["test"], v["phase"], v["own"], v["chain"], v["cause"])


TRACED_LOAD = Struct("TracedLoad", [
    Field("index", INTEGER, doc="order in which the imports began"),
    Field("module", STRING),
    Field("parent", Nullable(STRING), lambda traced: traced.load.parent),
    Field("parent_index", Nullable(INTEGER)),
    Field("depth", COUNT, lambda traced: traced.load.depth),
    Field("thread", STRING),
    Field("start_ms", MS),
    Field("self_ms", MS, lambda traced: traced.load.self_ms),
    Field("cumulative_ms", MS, lambda traced: traced.load.cumulative_ms),
    Field("distribution", Nullable(STRING), lambda traced: traced.load.distribution, default=None),
    Field("stdlib", BOOLEAN, lambda traced: traced.load.stdlib, default=False),
    Field("finished", BOOLEAN, doc="false: the program ended while this import ran"),
    Field("failed", BOOLEAN),
    Field("trigger", Nullable(FRAME)),
    Field("hop", Nullable(HOP), default=None),
    Field("via", Nullable(STRING), default=None, doc="the introspection function that was the way in"),
    Field("test", Nullable(STRING), default=None, doc="pytest node id"),
    Field("phase", Nullable(STRING), default=None),
    Field("own", Nullable(FRAME), default=None,
          doc="the program's own line: the innermost frame in the program's files; null: none on the stack"),
    Field("chain", Array(FRAME), default=(), doc="the lines between own and trigger, outermost first"),
    Field("cause", Nullable(STRING), default=None,
          doc="line, parent-package, compiled-module, exec, codec-search, program-start or interpreter"),
], _build_traced, "One import the program began, with what triggered it.")

TRACE_FINDING = Struct("TraceFinding", [
    Field("rule", STRING),
    Field("severity", STRING),
    Field("message", STRING),
], lambda v: Finding(v["rule"], v["severity"], None, v["message"]), "A broken --forbid or budget.")

TRACE = Struct("TraceDocument", [
    Field("schema", VERSION, lambda report: SCHEMA_VERSION),
    Field("command", Scalar("string", "trace"), lambda report: "trace"),
    Field("program", Array(STRING), doc="what was given to python"),
    Field("python", STRING),
    Field("ok", BOOLEAN, default=None),
    Field("exit_code", INTEGER, default=None),
    Field("returncode", Nullable(INTEGER), doc="negative: killed by that signal; null: timed out"),
    Field("ending", STRING),
    Field("timed_out", BOOLEAN),
    Field("complete", BOOLEAN, default=None),
    Field("incomplete", Nullable(STRING), default=None, doc="why the trace stops short"),
    Field("subprocesses", COUNT, default=0),
    Field("modules", COUNT, lambda report: report.module_count, default=None,
          doc="modules added to sys.modules: loaded ones once each, and those inserted without an import"),
    Field("failed", COUNT, lambda report: len(report.failed_loads), default=None, doc="imports that raised"),
    Field("total_ms", MS, default=None),
    Field("cwd", STRING, default=""),
    Field("loads", Array(TRACED_LOAD)),
    Field("inserted", Array(STRING), default=()),
    Field("findings", Array(TRACE_FINDING), default=()),
], lambda v: TraceReport(v["program"], v["python"], v["loads"], v["subprocesses"], v["ending"], v["returncode"],
                         v["timed_out"], v["incomplete"], v["inserted"], v["findings"], v["cwd"]),
    "aoinspect trace --format json")


# --- graph's document ---------------------------------------------------------------------------

NS_PER_MS = 1_000_000


def _ms(ns: int) -> float:
    """Milliseconds to the nanosecond: read back, the very same integer (the text rounds it)."""
    return round(ns / NS_PER_MS, 6)


def _ns(ms: float) -> int:
    return round(ms * NS_PER_MS)


IMPORT_REQUEST = Struct("ImportRequest", [
    Field("index", COUNT, doc="order in which requests were first made"),
    Field("owner", Nullable(STRING), doc="the module whose import body was running; null: the entry itself"),
    Field("file", Nullable(STRING), doc="the file of the frame that asked; null: no Python frame (an extension)"),
    Field("line", INTEGER),
    Field("scope", STRING, doc="module, class, function or native: where the asking frame ran"),
    Field("kind", STRING, doc="import, from, import_module, or other (seen only by the import system)"),
    Field("statement", STRING, doc="the request as written, relative forms as given"),
    Field("target", STRING, doc="the module asked for, absolute"),
    Field("names", Array(STRING), default=(), doc="from TARGET import NAMES"),
    Field("submodules", Array(STRING), default=(), doc="NAMES that are submodules, fully qualified"),
    Field("level", COUNT, default=0),
    Field("hit", BOOLEAN, doc="everything asked for was loaded already"),
    Field("failed", BOOLEAN, default=False),
    Field("count", COUNT, default=1, doc="times made from this place"),
    Field("loaded", Array(STRING), default=(), doc="modules this request loaded itself"),
    Field("start_ms", MS, lambda request: _ms(request.start_ns), default=0.0),
    Field("duration_ms", MS, lambda request: _ms(request.duration_ns), default=0.0),
    Field("stdlib", BOOLEAN, lambda request: is_stdlib(request.target) or is_stdlib(request.owner), default=False,
          doc="made by or for the standard library"),
], lambda v: ImportRequest(v["index"], v["owner"], v["file"], v["line"], v["scope"], v["statement"], v["target"],
                           v["names"], v["level"], v["hit"], _ns(v["duration_ms"]), v["loaded"], v["submodules"],
                           v["kind"], v["count"], v["failed"], _ns(v["start_ms"])),
    "One import request made while the entry ran (hits included).")

GRAPH_MODULE = Struct("GraphModule", [
    Field("name", STRING),
    Field("file", Nullable(STRING), default=None),
    Field("loaded_by", Nullable(COUNT), doc="the request that loaded it (or was running when it appeared)"),
    Field("by_other_means", BOOLEAN, doc="it appeared in sys.modules without an import of its name"),
    Field("owner", Nullable(STRING), default=None, doc="by other means: the module loading when it appeared"),
    Field("stdlib", BOOLEAN, lambda module: is_stdlib(module.name), default=False),
], lambda v: GraphModule(v["name"], v["file"], v["loaded_by"], v["by_other_means"], v["owner"]),
    "A module loaded while the entry ran.")


def _build_graph(v: dict[str, Any]) -> ImportGraph:
    requests = v["requests"]
    if [request.index for request in requests] != list(range(len(requests))):
        raise ValueError("requests are not numbered 0, 1, 2, ... in order")
    for module in v["modules"]:
        if module.loaded_by is not None and module.loaded_by >= len(requests):
            raise ValueError(f"module {module.name!r} names request {module.loaded_by}, which is not there")
    return ImportGraph(v["package"], v["python"], v["entry"], v["baseline"], requests, v["modules"], v["ending"],
                       v["entry_error"], _ns(v["elapsed_ms"]), v["cwd"])


GRAPH = Struct("GraphDocument", [
    Field("schema", VERSION, lambda report: SCHEMA_VERSION),
    Field("command", Scalar("string", "graph"), lambda report: "graph"),
    Field("package", STRING, doc="empty for a program"),
    Field("entry", STRING, doc="the code run (import PKG, --entry CODE) or the program given to python"),
    Field("python", STRING),
    Field("ok", BOOLEAN, default=None),
    Field("exit_code", INTEGER, default=None),
    Field("ending", STRING, doc="returned, exit or exception"),
    Field("error", NULL, lambda report: None, default=None, doc="null: the run produced a report"),
    Field("entry_error", Nullable(STRING), "error", default=None,
          doc="what the entry raised (or its non-zero exit); not `error`, which marks a run with no report"),
    Field("elapsed_ms", MS, lambda graph: _ms(graph.elapsed_ns), default=0.0),
    Field("cwd", STRING, default=""),
    Field("modules_loaded", COUNT, lambda graph: len(graph.modules), default=None),
    Field("hits", COUNT, lambda graph: sum(1 for request in graph.requests if request.hit), default=None),
    Field("baseline", Array(STRING), doc="modules loaded before the entry ran"),
    Field("requests", Array(IMPORT_REQUEST, unique="index")),
    Field("modules", Array(GRAPH_MODULE, unique="name")),
], _build_graph, "aoinspect graph --format json")


# --- diff's document -----------------------------------------------------------------------------


def _ratio(change: SubjectChange) -> float | None:
    return None if change.ratio is None else round(change.ratio, 4)


def _side_of(change: SubjectChange, before: bool, attribute: str) -> Any:
    subject = change.before if before else change.after
    return None if subject is None else getattr(subject, attribute)


def _build_change(v: dict[str, Any]) -> SubjectChange:

    def subject(side: str) -> Subject | None:
        if not v[f"in_{side}"]:
            return None
        ok = v[f"ok_{side}"]
        return Subject(v["name"], frozenset(), v[f"total_ms_{side}"], True if ok is None else ok, v[f"error_{side}"],
                       count=v[f"modules_{side}"])

    return SubjectChange(v["name"], subject("old"), subject("new"), v["added"], v["removed"], v["time_changed"])


SUBJECT_CHANGE = Struct("SubjectChange", [
    Field("name", Nullable(STRING), doc="null: import PACKAGE (a trace: the program)"),
    Field("changed", BOOLEAN, default=None),
    Field("in_old", BOOLEAN, lambda change: change.before is not None),
    Field("in_new", BOOLEAN, lambda change: change.after is not None),
    Field("added", Array(STRING)),
    Field("removed", Array(STRING)),
    Field("modules_old", Nullable(COUNT), "modules_before", default=None),
    Field("modules_new", Nullable(COUNT), "modules_after", default=None),
    Field("total_ms_old", Nullable(MS), "ms_before", default=None),
    Field("total_ms_new", Nullable(MS), "ms_after", default=None),
    Field("ratio", Nullable(RATIO), _ratio, default=None),
    Field("time_changed", BOOLEAN, default=False),
    Field("newly_failing", BOOLEAN, default=None),
    Field("newly_ok", BOOLEAN, default=None),
    Field("ok_old", Nullable(BOOLEAN), lambda change: _side_of(change, True, "ok"), default=None),
    Field("ok_new", Nullable(BOOLEAN), lambda change: _side_of(change, False, "ok"), default=None),
    Field("error_old", Nullable(STRING), lambda change: _side_of(change, True, "error"), default=None),
    Field("error_new", Nullable(STRING), lambda change: _side_of(change, False, "error"), default=None),
], _build_change, "What changed for import PACKAGE or one NAME.")

FINDING_REF = Struct("DiffFinding", [
    Field("rule", STRING),
    Field("severity", STRING),
    Field("name", Nullable(STRING), default=None),
    Field("message", STRING),
], lambda v: _finding_ref(**v), "A finding only one of the two reports has.")


def _finding_ref(**values: Any) -> Any:

    return FindingRef(**values)


def _side_struct(name: str) -> Struct:
    return Struct(name, [
        Field("path", STRING),
        Field("package", STRING, doc="a trace's: python PROGRAM"),
        Field("error", Nullable(STRING), default=None, doc="the run produced no report: why"),
    ], lambda v: v, "One of the two reports compared.")


def _fail_on(text: str) -> Any:

    return parse_fail_on(text)


def _build_diff(v: dict[str, Any]) -> Diff:

    old, new = (Side(side["path"], v["compared"], side["package"], (), (), side["error"]) for side in (v["old"],
                                                                                                        v["new"]))
    conditions = tuple(_fail_on(text) for text in v["fail_on"])
    threshold = Threshold(v["threshold"]["ratio"], v["threshold"]["ms"])
    return Diff(old, new, threshold, v["subjects"], v["new_findings"], v["resolved_findings"], conditions, v["failed"])


DIFF = Struct("DiffDocument", [
    Field("schema", VERSION, lambda report: SCHEMA_VERSION),
    Field("command", Scalar("string", "diff"), lambda report: "diff"),
    Field("ok", BOOLEAN, default=None),
    Field("exit_code", INTEGER, default=None),
    Field("error", NULL, lambda report: None, default=None),
    Field("compared", STRING, lambda diff: diff.new.command, doc="the command whose reports were compared"),
    Field("old", _side_struct("DiffSide"), lambda diff: diff.old),
    Field("new", _side_struct("DiffSide"), lambda diff: diff.new),
    Field("threshold", Struct("Threshold", [Field("ratio", RATIO), Field("ms", RATIO)], lambda v: v,
                              "A time change counts when it reaches both."), lambda diff: diff.threshold),
    Field("subjects", Array(SUBJECT_CHANGE, unique="name")),
    Field("new_findings", Array(FINDING_REF), default=()),
    Field("resolved_findings", Array(FINDING_REF), default=()),
    Field("fail_on", Array(STRING), lambda diff: [condition.text for condition in diff.conditions], default=()),
    Field("failed", Array(Struct("FailedCondition", [
        Field("condition", STRING, lambda pair: pair[0].text),
        Field("reason", STRING, lambda pair: pair[1]),
    ], lambda v: (_fail_on(v["condition"]), v["reason"]), "A --fail-on condition that held, and why.")),
        default=()),
], _build_diff, "aoinspect diff --format json")

# --- advise's document ---------------------------------------------------------------------------


TIMING = Struct("Timing", [
    Field("saved_ms", Bounded("number", -MAX_MS, MAX_MS), doc="median of the per-round differences"),
    Field("spread_ms", MS, doc="half the interquartile range of those differences"),
    Field("undeferred_ms", MS),
    Field("deferred_ms", MS),
    Field("runs", COUNT, doc="rounds, each an undeferred and a deferred child"),
    Field("within_noise", BOOLEAN, default=None),
], lambda v: Timing(v["saved_ms"], v["spread_ms"], v["undeferred_ms"], v["deferred_ms"], v["runs"]),
    "Time saved by deferring, measured in fresh children interleaved with the undeferred import.")

PLACE = Struct("Place", [
    Field("file", STRING),
    Field("line", INTEGER),
    Field("module", Nullable(STRING), default=None),
    Field("text", Nullable(STRING), default=None),
], lambda v: Place(**v), "A line of source.")

EFFECT = Struct("Effect", [
    Field("kind", STRING, doc="atexit, signal, sys.path, meta_path, warnings, logging, codecs, thread, ..."),
    Field("detail", STRING),
], lambda v: Effect(**v), "What the target did when it ran that deferral would delay or cancel.")

ADVICE = Struct("Advice", [
    Field("module", STRING, doc="the module whose file holds the statement"),
    Field("file", STRING),
    Field("line", INTEGER),
    Field("text", STRING),
    Field("decision", STRING, doc="lazy, keep or not allowed"),
    Field("reason", STRING),
    Field("entry", Nullable(STRING), doc="the __lazy_modules__ entry that selects it"),
    Field("targets", Array(STRING), default=()),
    Field("saved", Array(STRING), default=(), doc="modules that stop loading when it alone is deferred"),
    Field("timing", Nullable(TIMING), default=None, doc="null: not measured"),
    Field("reified", Nullable(PLACE), default=None, doc="where deferral is undone during the import"),
    Field("kept_by", Array(PLACE), default=(), doc="the chain that keeps the target loaded anyway"),
    Field("effects", Array(EFFECT), default=()),
    Field("risks", Array(STRING), default=()),
    Field("declared", BOOLEAN, default=False, doc="its entry is already in __lazy_modules__"),
], lambda v: Advice(**v), "One import statement executed during the import.")

ENTRY_ADVICE = Struct("EntryAdvice", [
    Field("module", STRING),
    Field("file", STRING),
    Field("entry", STRING),
    Field("lines", Array(INTEGER)),
    Field("decision", STRING),
    Field("saved", Array(STRING), default=()),
    Field("timing", Nullable(TIMING), default=None),
    Field("declared", BOOLEAN, default=False),
], lambda v: EntryAdvice(**v), "One __lazy_modules__ entry: the statements it selects, together.")

STALE_ENTRY = Struct("StaleEntry", [
    Field("module", STRING),
    Field("file", STRING),
    Field("line", INTEGER),
    Field("entry", STRING),
    Field("reason", STRING, default="selects no import statement of the file"),
    Field("closest", Nullable(STRING), default=None),
], lambda v: StaleEntry(**v), "An existing __lazy_modules__ entry that selects no statement.")

ADVISE = Struct("AdviseDocument", [
    Field("schema", VERSION, lambda report: SCHEMA_VERSION),
    Field("command", Scalar("string", "advise"), lambda report: "advise"),
    Field("package", STRING),
    Field("ok", BOOLEAN, default=None),
    Field("exit_code", INTEGER, default=None),
    Field("python", STRING, doc="the target interpreter's version: the results hold for it"),
    Field("lazy_annotations", BOOLEAN, doc="annotations are evaluated lazily there (PEP 649, 3.14+)"),
    Field("entry_code", Nullable(STRING), default=None),
    Field("program", Array(STRING), default=()),
    Field("modules", COUNT, default=0, doc="modules the undeferred import loads"),
    Field("budget_s", MS, default=0.0),
    Field("advice", Array(ADVICE)),
    Field("entries", Array(ENTRY_ADVICE), default=()),
    Field("stale", Array(STALE_ENTRY), default=()),
    Field("recommended", Array(Struct("Recommended", [
        Field("module", STRING, lambda pair: pair[0]),
        Field("entry", STRING, lambda pair: pair[1]),
    ], lambda v: (v["module"], v["entry"]), "One entry of the recommended set.")), default=()),
    Field("combined_saved", Array(STRING), default=()),
    Field("combined", Nullable(TIMING), default=None, doc="the recommended set's saving, measured as a set"),
    Field("notes", Array(STRING), default=()),
    Field("fail_on", Array(STRING), lambda report: [condition.text for condition in report.fail_on], default=()),
    Field("findings", Array(Struct("AdviseFinding", [
        Field("rule", STRING),
        Field("severity", STRING),
        Field("location", Nullable(STRING), "name", default=None, doc="file:line of the import statement or entry"),
        Field("message", STRING),
    ], lambda v: Finding(v["rule"], v["severity"], v["location"], v["message"]), "A --fail-on condition that held.")),
        default=()),
], lambda v: AdviseReport(
    v["package"], v["python"], v["lazy_annotations"], v["advice"], v["entries"], v["stale"], v["recommended"],
    v["combined_saved"], v["combined"], v["modules"], v["entry_code"], v["program"], v["budget_s"], v["notes"],
    tuple(_advise_fail_on(text) for text in v["fail_on"]), v["findings"]),
    "aoinspect advise --format json")


def _advise_fail_on(text: str) -> Any:
    try:
        return parse_advise_fail_on(text)
    except ValueError as exc:
        raise Invalid("fail_on", f"holds {exc}") from None


# Every document kind; a typed report's kind is formats.kind_of(report).
KINDS: dict[str, Struct] = {
    "list": LIST, "resolve": RESOLVE, "check": CHECK, "snapshot": SNAPSHOT, "trace": TRACE, "diff": DIFF,
    "graph": GRAPH, "advise": ADVISE, "failure": FAILURE,
}
SCHEMA_FILES: dict[str, Struct] = {**KINDS, "baseline": BASELINE}


# --- writing and reading -------------------------------------------------------------------------


def encode(report: object) -> dict[str, Any]:
    """The JSON document of a typed report, as ``--format json`` prints it (a list of loads that
    several places share is one list object: copy before changing one)."""
    _ENCODED.append({})
    try:
        return KINDS[kind_of(report)].encode(report)
    finally:
        _ENCODED.pop()


def dumps(report: object) -> str:
    """``--format json``: ASCII-only, so that the document survives any terminal or pipe encoding;
    never ``NaN`` or ``Infinity``, which are not JSON (a ValueError instead)."""
    if kind_of(report) == "snapshot":
        # A baseline file: sorted keys, no timings, so that it diffs well in review.
        return json.dumps(encode(report), indent=2, sort_keys=True, allow_nan=False)
    return json.dumps(encode(report), indent=2, allow_nan=False)


def document_kind(document: Mapping[str, Any]) -> str | None:
    """Which kind a document says it is (a failure, whatever its command), or None."""
    if document.get("error") is not None:
        return "failure"
    command = document.get("command")
    return command if isinstance(command, str) and command in KINDS and command != "failure" else None


def decode(document: object, source: str = "the document") -> Any:
    """The typed report a JSON document holds, checked in full; ``DocumentError`` names ``source``
    and the first part that is wrong."""
    if not isinstance(document, dict):
        raise DocumentError(f"{source}: the document is not an object.")
    if not readable_schema(document.get("schema")):
        raise DocumentError(
            f"{source} is not an aoinspect JSON report of schema {', '.join(map(str, READABLE_SCHEMAS[:-1]))} "
            f"or {READABLE_SCHEMAS[-1]} (its schema is {document.get('schema')!r})."
        )
    kind = document_kind(document)
    if kind is None:
        known = ", ".join(name for name in KINDS if name != "failure")
        raise DocumentError(f"{source}: {document.get('command')!r} is not a report aoinspect writes ({known}).")
    return decode_as(kind, document, source)


def decode_as(kind: str, document: object, source: str = "the document") -> Any:
    try:
        return SCHEMA_FILES[kind].decode(document, "")
    except Invalid as exc:
        raise DocumentError(f"{source}: {exc.where} {exc.problem}.") from None
    except RecursionError:
        raise DocumentError(f"{source} is nested too deeply to read.") from None


def load(path: str, limit: int = 256 * 1024 * 1024) -> Any:
    """Read, parse and decode the report in ``path``: a regular file of at most ``limit`` bytes."""
    return decode(parse(path, limit), path)


def parse(path: str, limit: int) -> object:
    """The JSON value in ``path``, a regular file of at most ``limit`` bytes, or ``DocumentError``."""
    from aoinspect.files import UnreadableFile, read_regular_file

    try:
        data = read_regular_file(path, limit)
    except UnreadableFile as exc:
        if exc.reason.startswith("larger than"):
            raise DocumentError(f"{path} is larger than {limit // 2**20} MiB.") from None
        if exc.reason == "not a regular file":
            raise DocumentError(f"{path} is not a regular file.") from None
        raise DocumentError(f"cannot read {path}: {exc.reason}.") from None
    try:
        return loads(data)
    except NotJSON as exc:
        raise DocumentError(f"{path} is not a document aoinspect reads: {exc}.") from None
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise DocumentError(f"{path} is not valid JSON: {exc}.") from None


class NotJSON(ValueError):
    """Text that Python's json module would read but that is not JSON aoinspect wrote: ``NaN``,
    ``Infinity``, a number beyond any a report holds, a key given twice in one object."""


def loads(data: bytes | str) -> object:
    """The JSON value of ``data``, read strictly: ``NotJSON`` (a ValueError) for anything that is
    not interchangeable JSON, before it can become an ``inf``, a ``nan`` or a slow huge integer."""
    return json.loads(data.decode("utf-8") if isinstance(data, bytes) else data, parse_constant=_constant,
                      parse_int=_integer, parse_float=_finite, object_pairs_hook=_object)


def _constant(name: str) -> NoReturn:
    raise NotJSON(f"{name} is not a JSON number")


def _integer(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_INTEGER_DIGITS:
        raise NotJSON(f"an integer of {digits} digits is larger than any a report holds")
    return int(text)


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        shown = text if len(text) <= 24 else text[:20] + "..."
        raise NotJSON(f"{shown} is too large to be a finite number")
    return number


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) < len(pairs):  # Python keeps the last; which one did the writer mean?
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise NotJSON(f"the key {json.dumps(key)} appears twice in one object")
            seen.add(key)
    return document


# --- JSON Schema ---------------------------------------------------------------------------------


def json_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema (2020-12) of one document kind, from the same fields the codec uses."""
    struct = SCHEMA_FILES[kind]
    defs: dict[str, Any] = {}
    body = struct.object_schema(defs)
    return {"$schema": JSON_SCHEMA_DIALECT, "$id": f"{kind}.schema.json", **body,
            **({"$defs": dict(sorted(defs.items()))} if defs else {})}


def schema_text(kind: str) -> str:
    return json.dumps(json_schema(kind), indent=2) + "\n"


def write_schemas(directory: str) -> list[str]:
    import os

    os.makedirs(directory, exist_ok=True)
    written = []
    for kind in SCHEMA_FILES:
        path = os.path.join(directory, f"{kind}.schema.json")
        with open(path, "w", encoding="utf-8") as stream:
            stream.write(schema_text(kind))
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    import argparse
    import os

    parser = argparse.ArgumentParser(prog="python -m aoinspect.documents", description=__doc__.splitlines()[0])
    parser.add_argument("--write-schemas", metavar="DIR", nargs="?",
                        const=os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "schemas"),
                        help="write KIND.schema.json for every document kind into DIR (default: the repository's "
                             "schemas/)")
    arguments = parser.parse_args(argv)
    if arguments.write_schemas is None:
        parser.print_help()
        return 2
    for path in write_schemas(arguments.write_schemas):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
