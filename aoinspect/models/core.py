"""Typed, frozen results built from what the probes report (``aoinspect.models`` names them all).
Renderers only read these."""

from __future__ import annotations

from aoinspect import outcomes
from aoinspect.child import protocol
from aoinspect.child.protocol import (
    MECHANISM_ATTRIBUTE,
    MECHANISM_CLASS_GETATTR,
    MECHANISM_LAZY_IMPORT_SHIM,
    MECHANISM_LAZY_LOADER,
    MECHANISM_LAZY_MODULE,
    MECHANISM_MODULE_GETATTR,
    MECHANISM_NONE,
    MECHANISM_PROXY,
)
from aoinspect.models.loads import ModuleLoad, import_chain
from aoinspect.records import Record, set_field

# How a step of an access was served: the child decides (child/protocol.py MECHANISM_*).
GETATTR_MECHANISMS = (MECHANISM_MODULE_GETATTR, MECHANISM_CLASS_GETATTR, MECHANISM_LAZY_LOADER)
MECHANISM_LABELS = {
    MECHANISM_ATTRIBUTE: "plain attribute",
    MECHANISM_MODULE_GETATTR: "via module __getattr__",
    MECHANISM_CLASS_GETATTR: "via the module class's __getattr__",
    MECHANISM_LAZY_LOADER: "via lazy_loader",
    MECHANISM_LAZY_MODULE: "LazyLoader module executing",
    MECHANISM_PROXY: "via a proxy object",
    MECHANISM_LAZY_IMPORT_SHIM: "via a __lazy_modules__ shim's proxy",
    MECHANISM_NONE: "no lazy path",
}

# Where a lazy name can be declared (the ``declared_in`` values).
DECLARED_IN_ALL = "__all__"
DECLARED_IN_TYPE_CHECKING = "TYPE_CHECKING"
DECLARED_IN_STUB = "stub"
DECLARED_IN_DIR = "__dir__"  # the package's __dir__ lists it beyond its namespace
DECLARED_IN_GETATTR = "__getattr__"  # a submodule the package's lazy path serves (torch's _lazy_modules)
DECLARED_IN_LAZY_MODULES = "__lazy_modules__"  # bound by an import that __lazy_modules__ selects (PEP 810)


class ErrorInfo(Record):
    """An exception raised by the inspected package, described without keeping the object."""

    type: str
    message: str
    location: str | None = None
    missing_module: str | None = None
    is_attribute_error: bool = False

    def __init__(
        self, type: str, message: str, location: str | None = None, missing_module: str | None = None,
        is_attribute_error: bool = False,
    ) -> None:
        _set = set_field
        _set(self, "type", type)
        _set(self, "message", message)
        _set(self, "location", location)
        _set(self, "missing_module", missing_module)
        _set(self, "is_attribute_error", is_attribute_error)

    def __str__(self) -> str:
        return f"{self.type}: {self.message}" if self.message else self.type


class DistributionShare(Record):
    """How many of a result's modules, and how much of its time, one distribution accounts for.

    ``kind`` is "installed" (``name`` and ``version`` from its metadata), "stdlib" or "local"
    (no installed distribution provides it: the current directory, ``PYTHONPATH``, ...).
    """

    name: str
    version: str | None
    kind: str
    modules: int
    self_ms: float

    def __init__(self, name: str, version: str | None, kind: str, modules: int, self_ms: float) -> None:
        _set = set_field
        _set(self, "name", name)
        _set(self, "version", version)
        _set(self, "kind", kind)
        _set(self, "modules", modules)
        _set(self, "self_ms", self_ms)


class Distributions(tuple):  # type: ignore[type-arg]  # of DistributionShare
    """A result's distribution shares; ``"numpy" in shares`` asks by distribution name, so a test
    can say ``assert "numpy" not in result.distributions``."""

    loads: tuple[ModuleLoad, ...] = ()  # the modules behind the shares, for explanations

    def __contains__(self, item: object) -> bool:
        if isinstance(item, str):
            return any(share.name == item for share in self)
        return tuple.__contains__(self, item)

    def modules_of(self, name: str) -> list[ModuleLoad]:
        if name == "(stdlib)":
            return [load for load in self.loads if load.stdlib]
        if name == "(generated)":
            return [load for load in self.loads if load.generated]
        if name == "(local)":
            return [load for load in self.loads if not (load.stdlib or load.generated or load.distribution)]
        return [load for load in self.loads if load.distribution == name]


class ModuleNames(frozenset):  # type: ignore[type-arg]  # of str
    """The names of the modules a result materialized; remembers where each came from."""

    loads: tuple[ModuleLoad, ...] = ()

    @classmethod
    def of(cls, loads: tuple[ModuleLoad, ...]) -> ModuleNames:
        names = cls(load.module for load in loads)
        names.loads = loads
        return names


NO_DISTRIBUTIONS = Distributions()


class Isolation(Record):
    """How a run isolated its probes ("fork" or "spawn"), and why it fell back to spawning."""

    mode: str
    reason: str | None = None
    python_threads: int | None = None
    native_threads: int | None = None
    cache_miss: str | None = None  # why the cache could not serve every result (the first reason)

    def __init__(
        self, mode: str, reason: str | None = None, python_threads: int | None = None,
        native_threads: int | None = None, cache_miss: str | None = None,
    ) -> None:
        _set = set_field
        _set(self, "mode", mode)
        _set(self, "reason", reason)
        _set(self, "python_threads", python_threads)
        _set(self, "native_threads", native_threads)
        _set(self, "cache_miss", cache_miss)


class WarningInfo(Record):
    """A warning the package's code showed, as ``python`` would print it on stderr."""

    category: str
    message: str
    filename: str | None = None
    lineno: int | None = None

    def __init__(self, category: str, message: str, filename: str | None = None, lineno: int | None = None) -> None:
        _set = set_field
        _set(self, "category", category)
        _set(self, "message", message)
        _set(self, "filename", filename)
        _set(self, "lineno", lineno)

    def __str__(self) -> str:
        where = f" ({self.filename}:{self.lineno})" if self.filename is not None else ""
        return f"{self.category}: {self.message}{where}"


class ImportResult(Record):
    """What ``import PACKAGE`` alone materialized."""

    package: str
    materialized: tuple[ModuleLoad, ...]
    removed: tuple[str, ...]
    elapsed_ms: float
    threads: int
    python: str
    min_elapsed_ms: float = 0.0
    repeats: int = 1
    unstable: tuple[str, ...] = ()
    warnings: tuple[WarningInfo, ...] = ()  # shown while it ran, as a bare ``python -c`` shows them

    def __init__(
        self, package: str, materialized: tuple[ModuleLoad, ...], removed: tuple[str, ...], elapsed_ms: float,
        threads: int, python: str, min_elapsed_ms: float = 0.0, repeats: int = 1, unstable: tuple[str, ...] = (),
        warnings: tuple[WarningInfo, ...] = (),
    ) -> None:
        _set = set_field
        _set(self, "package", package)
        _set(self, "materialized", materialized)
        _set(self, "removed", removed)
        _set(self, "elapsed_ms", elapsed_ms)
        _set(self, "threads", threads)
        _set(self, "python", python)
        _set(self, "min_elapsed_ms", min_elapsed_ms)
        _set(self, "repeats", repeats)
        _set(self, "unstable", unstable)
        _set(self, "warnings", warnings)

    @property
    def module_names(self) -> frozenset[str]:
        return frozenset(load.module for load in self.materialized)

    def importer_of(self, module: str) -> str | None:
        """The module whose execution imported ``module``, where the probe saw it.

        A package imported because one of its own submodules was (``import a.b.c`` begins
        with ``a.b.c``, which imports ``a.b`` first) was asked for by whatever imported the
        submodule, so the walk goes up past the package's own submodules.
        """
        importers = import_chain(self.materialized, module)[:-1]
        while importers and importers[-1].startswith(module + "."):
            importers.pop()
        return importers[-1] if importers else None


class AllDeclaration(Record):
    """The runtime value of ``PACKAGE.__all__``, with what is wrong with it."""

    kind: str  # "list", "tuple", "missing" or "other"
    type: str
    names: tuple[str, ...]
    invalid: tuple[str, ...]  # reprs of items that are not strings

    def __init__(self, kind: str, type: str, names: tuple[str, ...], invalid: tuple[str, ...]) -> None:
        _set = set_field
        _set(self, "kind", kind)
        _set(self, "type", type)
        _set(self, "names", names)
        _set(self, "invalid", invalid)

    @property
    def duplicates(self) -> tuple[str, ...]:
        seen: set[str] = set()
        repeated: list[str] = []
        for name in self.names:
            if name in seen and name not in repeated:
                repeated.append(name)
            seen.add(name)
        return tuple(repeated)


class PackageInfo(Record):
    """The package as the probe saw it right after import."""

    imported: ImportResult
    file: str | None
    search_path: tuple[str, ...] | None
    all: AllDeclaration
    namespace: frozenset[str]
    dir_names: frozenset[str] | None
    has_getattr: bool
    dir_error: ErrorInfo | None = None  # what dir(PACKAGE) raised, if it did
    mechanism: str = "none"  # how it serves names absent from its namespace (child.protocol.MECHANISM_*)
    # Names bound at import to a PEP 810 shim's proxy (lazy-importer's ``__lazy_modules__``): in the
    # namespace, yet nothing of them is loaded until they are used.
    shim_proxies: frozenset[str] = frozenset()

    def __init__(
        self, imported: ImportResult, file: str | None, search_path: tuple[str, ...] | None, all: AllDeclaration,
        namespace: frozenset[str], dir_names: frozenset[str] | None, has_getattr: bool,
        dir_error: ErrorInfo | None = None, mechanism: str = "none", shim_proxies: frozenset[str] = frozenset(),
    ) -> None:
        _set = set_field
        _set(self, "imported", imported)
        _set(self, "file", file)
        _set(self, "search_path", search_path)
        _set(self, "all", all)
        _set(self, "namespace", namespace)
        _set(self, "dir_names", dir_names)
        _set(self, "has_getattr", has_getattr)
        _set(self, "dir_error", dir_error)
        _set(self, "mechanism", mechanism)
        _set(self, "shim_proxies", shim_proxies)


class DeclaredName(Record):
    """A name the package declares (lazy or not: see ``loaded_at_import``), and where."""

    name: str
    declared_in: tuple[str, ...]
    submodule: bool
    loaded_at_import: bool
    mechanism: str = protocol.MECHANISM_NONE  # what serves it: the package's lazy path, or "attribute"
    declared_at: str | None = None  # "file:line" of its declaration, when read statically
    lazy_package: bool = False  # a subpackage with a lazy path of its own (check --recursive checks it)

    def __init__(
        self, name: str, declared_in: tuple[str, ...], submodule: bool, loaded_at_import: bool,
        mechanism: str = protocol.MECHANISM_NONE, declared_at: str | None = None, lazy_package: bool = False,
    ) -> None:
        _set = set_field
        _set(self, "name", name)
        _set(self, "declared_in", declared_in)
        _set(self, "submodule", submodule)
        _set(self, "loaded_at_import", loaded_at_import)
        _set(self, "mechanism", mechanism)
        _set(self, "declared_at", declared_at)
        _set(self, "lazy_package", lazy_package)


class Declarations(Record):
    """Names declared statically: in a ``TYPE_CHECKING`` block, and in a stub a lazy loader reads."""

    type_checking: tuple[str, ...] = ()
    # Those re-exported explicitly (``from PKG import x as x``): lazy names whatever serves them.
    type_checking_explicit: tuple[str, ...] = ()
    type_checking_found: bool = False
    type_checking_star: bool = False  # it star-imports from the package: it declares more than it names
    # Every name the blocks bind for a type checker (imports from anywhere, assignments such as
    # filelock's `AsyncFileLock = AsyncSoftFileLock`, definitions): what declaration-mismatch needs.
    type_checking_bound: tuple[str, ...] = ()
    stub: tuple[str, ...] = ()
    stub_path: str | None = None
    # Names bound by the imports that the module's literal ``__lazy_modules__`` selects (PEP 810:
    # lazy on 3.15, and under a shim such as lazy-importer before it).
    lazy_modules: tuple[str, ...] = ()
    unreadable: str | None = None  # why a file could not be read statically: then none of its names count
    lines: tuple[tuple[str, str], ...] = ()  # (name, "file:line") where each name is declared

    def __init__(
        self, type_checking: tuple[str, ...] = (), type_checking_explicit: tuple[str, ...] = (),
        type_checking_found: bool = False, type_checking_star: bool = False, type_checking_bound: tuple[str, ...] = (),
        stub: tuple[str, ...] = (), stub_path: str | None = None, lazy_modules: tuple[str, ...] = (),
        unreadable: str | None = None, lines: tuple[tuple[str, str], ...] = (),
    ) -> None:
        _set = set_field
        _set(self, "type_checking", type_checking)
        _set(self, "type_checking_explicit", type_checking_explicit)
        _set(self, "type_checking_found", type_checking_found)
        _set(self, "type_checking_star", type_checking_star)
        _set(self, "type_checking_bound", type_checking_bound)
        _set(self, "stub", stub)
        _set(self, "stub_path", stub_path)
        _set(self, "lazy_modules", lazy_modules)
        _set(self, "unreadable", unreadable)
        _set(self, "lines", lines)


class ObjectInfo(Record):
    """What an access returned: its type and a repr that could not crash."""

    type: str
    repr: str
    is_module: bool

    def __init__(self, type: str, repr: str, is_module: bool) -> None:
        _set = set_field
        _set(self, "type", type)
        _set(self, "repr", repr)
        _set(self, "is_module", is_module)


class Step(Record):
    """One attribute of a dotted name: ``nn`` then ``quantized`` for ``nn.quantized``."""

    name: str
    mechanism: str  # what served it: a child.protocol.MECHANISM_* value
    materialized: tuple[ModuleLoad, ...]
    removed: tuple[str, ...]
    elapsed_ms: float
    min_elapsed_ms: float = 0.0

    def __init__(
        self, name: str, mechanism: str, materialized: tuple[ModuleLoad, ...], removed: tuple[str, ...],
        elapsed_ms: float, min_elapsed_ms: float = 0.0,
    ) -> None:
        _set = set_field
        _set(self, "name", name)
        _set(self, "mechanism", mechanism)
        _set(self, "materialized", materialized)
        _set(self, "removed", removed)
        _set(self, "elapsed_ms", elapsed_ms)
        _set(self, "min_elapsed_ms", min_elapsed_ms)

    @property
    def via_getattr(self) -> bool:
        """Served by a ``__getattr__``: the module's, its class's, or lazy_loader's."""
        return self.mechanism in GETATTR_MECHANISMS


class Resolution(Record):
    """The outcome of accessing ``PACKAGE.NAME`` in a fresh interpreter."""

    name: str
    ok: bool
    error: ErrorInfo | None
    steps: tuple[Step, ...] = ()
    already_loaded: bool = False
    cached: bool | None = None
    object: ObjectInfo | None = None
    suggestions: tuple[str, ...] = ()
    probe_failed: bool = False
    rejected_as_attribute_error: bool = False
    repeats: int = 1
    unstable: tuple[str, ...] = ()  # modules that some repeats loaded and others did not
    distributions: Distributions = NO_DISTRIBUTIONS
    retried: str | None = None  # why a forked probe was measured again in a fresh interpreter
    observed: tuple[ModuleLoad, ...] = ()  # loaded by looking at the result, after the access
    from_cache: bool = False  # read from .aoinspect_cache, measured by an earlier run
    second_error: ErrorInfo | None = None  # what a second access raised, after a first that did not
    predicted: bool = False  # predicted from the executed-import graph, not measured in a fork of its own

    def __init__(
        self, name: str, ok: bool, error: ErrorInfo | None, steps: tuple[Step, ...] = (), already_loaded: bool = False,
        cached: bool | None = None, object: ObjectInfo | None = None, suggestions: tuple[str, ...] = (),
        probe_failed: bool = False, rejected_as_attribute_error: bool = False, repeats: int = 1,
        unstable: tuple[str, ...] = (), distributions: Distributions = NO_DISTRIBUTIONS, retried: str | None = None,
        observed: tuple[ModuleLoad, ...] = (), from_cache: bool = False, second_error: ErrorInfo | None = None,
        predicted: bool = False,
    ) -> None:
        _set = set_field
        _set(self, "name", name)
        _set(self, "ok", ok)
        _set(self, "error", error)
        _set(self, "steps", steps)
        _set(self, "already_loaded", already_loaded)
        _set(self, "cached", cached)
        _set(self, "object", object)
        _set(self, "suggestions", suggestions)
        _set(self, "probe_failed", probe_failed)
        _set(self, "rejected_as_attribute_error", rejected_as_attribute_error)
        _set(self, "repeats", repeats)
        _set(self, "unstable", unstable)
        _set(self, "distributions", distributions)
        _set(self, "retried", retried)
        _set(self, "observed", observed)
        _set(self, "from_cache", from_cache)
        _set(self, "second_error", second_error)
        _set(self, "predicted", predicted)

    @property
    def mechanism(self) -> str:
        """What served the last step (``nn.quantized``: ``quantized``)."""
        return self.steps[-1].mechanism if self.steps else protocol.MECHANISM_NONE

    @property
    def modules(self) -> ModuleNames:
        """The names of the modules the access materialized (``"numpy" in result.modules``)."""
        return ModuleNames.of(self.materialized)

    @property
    def via_getattr(self) -> bool:
        return any(step.via_getattr for step in self.steps)

    @property
    def materialized(self) -> tuple[ModuleLoad, ...]:
        return tuple(load for step in self.steps for load in step.materialized)

    @property
    def removed(self) -> tuple[str, ...]:
        return tuple(name for step in self.steps for name in step.removed)

    @property
    def elapsed_ms(self) -> float:
        return sum(step.elapsed_ms for step in self.steps)

    @property
    def min_elapsed_ms(self) -> float:
        return sum(step.min_elapsed_ms for step in self.steps)

    @property
    def exit_code(self) -> int:
        if self.probe_failed:
            return outcomes.EXIT_PROBE_FAILED
        return outcomes.EXIT_OK if self.ok else outcomes.EXIT_FINDINGS


class Finding(Record):
    """One broken promise, under a stable rule id (see ``aoinspect.rules``)."""

    rule: str
    severity: str
    name: str | None
    message: str
    exit_code: int = outcomes.EXIT_FINDINGS  # when it fails the run

    def __init__(
        self, rule: str, severity: str, name: str | None, message: str, exit_code: int = outcomes.EXIT_FINDINGS,
    ) -> None:
        _set = set_field
        _set(self, "rule", rule)
        _set(self, "severity", severity)
        _set(self, "name", name)
        _set(self, "message", message)
        _set(self, "exit_code", exit_code)


class ResolveReport(Record):
    """What ``aoinspect resolve`` found: ``import PKG``, then each NAME's access."""

    package: str
    imported: ImportResult
    results: tuple[Resolution, ...]
    repeats: int = 1
    isolation: Isolation | None = None

    def __init__(
        self, package: str, imported: ImportResult, results: tuple[Resolution, ...], repeats: int = 1,
        isolation: Isolation | None = None,
    ) -> None:
        _set = set_field
        _set(self, "package", package)
        _set(self, "imported", imported)
        _set(self, "results", results)
        _set(self, "repeats", repeats)
        _set(self, "isolation", isolation)

    @property
    def ok(self) -> bool:
        return all(result.ok for result in self.results)

    @property
    def exit_code(self) -> int:
        return max((result.exit_code for result in self.results), default=outcomes.EXIT_OK)


class ListReport(Record):
    """What ``aoinspect list`` found: the lazy names PKG declares, where, and what ``import PKG`` loads."""

    package: str
    imported: ImportResult
    names: tuple[DeclaredName, ...]
    undeclared_submodules: tuple[str, ...] | None = None
    resolutions: tuple[Resolution, ...] | None = None  # with --resolve: one per lazy name
    isolation: Isolation | None = None
    notes: tuple[str, ...] = ()  # what the report could not see, said plainly
    lazy_packages: tuple[str, ...] = ()  # subpackages with a lazy path of their own, declared or not

    ok = True
    exit_code = outcomes.EXIT_OK

    def __init__(
        self, package: str, imported: ImportResult, names: tuple[DeclaredName, ...],
        undeclared_submodules: tuple[str, ...] | None = None, resolutions: tuple[Resolution, ...] | None = None,
        isolation: Isolation | None = None, notes: tuple[str, ...] = (), lazy_packages: tuple[str, ...] = (),
    ) -> None:
        _set = set_field
        _set(self, "package", package)
        _set(self, "imported", imported)
        _set(self, "names", names)
        _set(self, "undeclared_submodules", undeclared_submodules)
        _set(self, "resolutions", resolutions)
        _set(self, "isolation", isolation)
        _set(self, "notes", notes)
        _set(self, "lazy_packages", lazy_packages)


class Budget(Record):
    """A limit on what ``import PACKAGE`` (``name`` None) or accessing one name may cost."""

    limit: float
    name: str | None = None

    def __init__(self, limit: float, name: str | None = None) -> None:
        _set = set_field
        _set(self, "limit", limit)
        _set(self, "name", name)


class CheckOptions(Record):
    """What ``check`` verifies beyond the lazy contract itself."""

    strict: bool = False
    forbid: tuple[str, ...] = ()
    forbid_on: tuple[tuple[str, str], ...] = ()  # (name, pattern)
    max_modules: tuple[Budget, ...] = ()
    max_import_ms: tuple[Budget, ...] = ()
    baseline: str | None = None
    update_baseline: bool = False
    threads: int = 0
    repeat: int = 1
    ignore: tuple[str, ...] = ()  # rule ids not to report
    names: tuple[str, ...] = ()  # glob patterns: measure only the lazy names matching one (all when empty)
    recursive: bool = False  # check the lazy subpackages too, in the same run
    suggest_lazy: float | None = None  # lazy-candidate: eager imports whose deferral saves more modules
    predict: bool = False  # predict names' sets from the executed-import graph (aoinspect.predicting)

    def __init__(
        self, strict: bool = False, forbid: tuple[str, ...] = (), forbid_on: tuple[tuple[str, str], ...] = (),
        max_modules: tuple[Budget, ...] = (), max_import_ms: tuple[Budget, ...] = (), baseline: str | None = None,
        update_baseline: bool = False, threads: int = 0, repeat: int = 1, ignore: tuple[str, ...] = (),
        names: tuple[str, ...] = (), recursive: bool = False, suggest_lazy: float | None = None, predict: bool = False,
    ) -> None:
        _set = set_field
        _set(self, "strict", strict)
        _set(self, "forbid", forbid)
        _set(self, "forbid_on", forbid_on)
        _set(self, "max_modules", max_modules)
        _set(self, "max_import_ms", max_import_ms)
        _set(self, "baseline", baseline)
        _set(self, "update_baseline", update_baseline)
        _set(self, "threads", threads)
        _set(self, "repeat", repeat)
        _set(self, "ignore", ignore)
        _set(self, "names", names)
        _set(self, "recursive", recursive)
        _set(self, "suggest_lazy", suggest_lazy)
        _set(self, "predict", predict)


class Snapshot(Record):
    """What ``import PACKAGE`` and each lazy name materialize, as sets: a baseline file."""

    package: str
    imported: tuple[str, ...]
    names: tuple[tuple[str, tuple[str, ...]], ...]
    isolation: Isolation | None = None  # how the run that took it isolated its probes

    ok = True
    exit_code = outcomes.EXIT_OK

    def __init__(
        self, package: str, imported: tuple[str, ...], names: tuple[tuple[str, tuple[str, ...]], ...],
        isolation: Isolation | None = None,
    ) -> None:
        _set = set_field
        _set(self, "package", package)
        _set(self, "imported", imported)
        _set(self, "names", names)
        _set(self, "isolation", isolation)


class CheckReport(Record):
    """What ``aoinspect check`` found: the names, their resolutions and every rule's findings."""

    package: str
    imported: ImportResult | None
    names: tuple[DeclaredName, ...]
    resolutions: tuple[Resolution, ...]
    findings: tuple[Finding, ...]
    strict: bool = False
    isolation: Isolation | None = None
    rules: tuple[str, ...] = ()  # every rule id this run evaluated
    file: str | None = None  # the package's __init__.py (or module file): where package-wide findings point
    notes: tuple[str, ...] = ()  # what the report could not see, said plainly

    def __init__(
        self, package: str, imported: ImportResult | None, names: tuple[DeclaredName, ...],
        resolutions: tuple[Resolution, ...], findings: tuple[Finding, ...], strict: bool = False,
        isolation: Isolation | None = None, rules: tuple[str, ...] = (), file: str | None = None,
        notes: tuple[str, ...] = (),
    ) -> None:
        _set = set_field
        _set(self, "package", package)
        _set(self, "imported", imported)
        _set(self, "names", names)
        _set(self, "resolutions", resolutions)
        _set(self, "findings", findings)
        _set(self, "strict", strict)
        _set(self, "isolation", isolation)
        _set(self, "rules", rules)
        _set(self, "file", file)
        _set(self, "notes", notes)

    def failing(self) -> tuple[Finding, ...]:
        """The findings that fail the run: errors, and warnings too under ``--strict``."""
        return tuple(
            finding
            for finding in self.findings
            if finding.severity == outcomes.SEVERITY_ERROR
            or (self.strict and finding.severity == outcomes.SEVERITY_WARNING)
        )

    @property
    def ok(self) -> bool:
        return not self.failing()

    @property
    def exit_code(self) -> int:
        return max((finding.exit_code for finding in self.failing()), default=outcomes.EXIT_OK)


class Failure(Record):
    """A run that produced no report, as the renderers show it."""

    command: str
    package: str
    kind: str
    message: str
    exit_code: int
    error: ErrorInfo | None = None

    ok = False

    def __init__(
        self, command: str, package: str, kind: str, message: str, exit_code: int, error: ErrorInfo | None = None,
    ) -> None:
        _set = set_field
        _set(self, "command", command)
        _set(self, "package", package)
        _set(self, "kind", kind)
        _set(self, "message", message)
        _set(self, "exit_code", exit_code)
        _set(self, "error", error)
