"""Use cases: run the probes a command needs and build its typed report.

Each public function here is one command's work (``list_names``, ``resolve_names``,
``check_package``, ...); the CLI calls exactly one of them and renders what it returns.
"""

from __future__ import annotations

import contextlib
import functools
import os
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence, TypeVar

from aoinspect import models, outcomes
from aoinspect.child import protocol
from aoinspect.declarations import lazy_subpackages, read_declarations, submodules_on_disk
from aoinspect.errors import InvalidName, PackageImportFailed, ProbeFailed
from aoinspect.models import CheckOptions, CheckReport, DeclaredName, ListReport, ResolveReport
from aoinspect.planning import Outcome, Plan
from aoinspect.probing import results, wire
from aoinspect.probing.session import BatchHint, Session, open_session
from aoinspect.probing.wire import ProbeRequest, ProbeSettings
from aoinspect.records import Record, replace, set_field

if TYPE_CHECKING:
    from aoinspect import predicting, rules
    from aoinspect.distributions import DistributionIndex
    from aoinspect.models import Declarations, Finding, ImportResult, ModuleLoad, PackageInfo, Resolution, Snapshot
    from aoinspect.probing.cache import ProbeCache
    from aoinspect.probing.hooks import SessionHooks
    from aoinspect.probing.wire import ProbeRun
    from aoinspect.rules import CheckContext

ReportT = TypeVar("ReportT", ResolveReport, ListReport, CheckReport)

__all__ = ["ProbeSettings", "check_package", "list_names", "probe_settings", "resolve_all", "resolve_names",
           "snapshot"]


def probe_settings(
    *, python: str | None = None, timeout: float = 60.0, jobs: int = 1, isolation: str = "auto",
    cache_dir: str | None = None, no_cache: bool = False,
) -> ProbeSettings:
    """A command's settings, checked before any probe starts: ``python`` (None: this
    interpreter) must be Python 3.9+; the cache is ``cache_dir``, else the one beside the
    nearest pyproject.toml (``aoinspect.probing.cache.find_cache_dir``), else none with ``no_cache``."""
    import sys

    from aoinspect.errors import InvalidSetting
    from aoinspect.probing.runner import check_interpreter

    if python is not None:
        problem = check_interpreter(python, timeout)
        if problem:
            raise InvalidSetting(problem)
    # An explicit directory may be a symlink (resolved here); the default one may not be (find_cache_dir).
    directory = None
    if not no_cache:
        from aoinspect.probing.cache import find_cache_dir  # not imported at all by a run without the cache

        directory = os.path.realpath(cache_dir) if cache_dir else find_cache_dir(os.getcwd())
    return ProbeSettings(python=python or sys.executable, timeout=timeout, jobs=jobs, isolation=isolation,
                         cache_dir=directory)


# A name travels as one argv word to a spawned probe, and Linux refuses words over 128 KiB.
MAX_NAME_BYTES = 100_000


def validate_names(names: Iterable[str]) -> tuple[str, ...]:
    """Names are dotted attribute names (``nn.quantized``); anything else is a usage error,
    reported before any probe starts. Names are never evaluated, only looked up."""
    checked = []
    for name in names:
        if _too_long(name):
            raise InvalidName(f"a name of {len(name)} characters is longer than aoinspect accepts "
                              f"({MAX_NAME_BYTES} bytes in UTF-8).")
        if not _is_attribute_name(name):
            raise InvalidName(
                f"{name!r} is not a valid attribute name: use identifiers separated by dots, "
                "such as 'quantization' or 'nn.quantized'."
            )
        checked.append(name)
    return tuple(checked)


def _is_attribute_name(name: str) -> bool:
    return bool(name) and not _too_long(name) and all(part.isidentifier() for part in name.split("."))


def _too_long(name: str) -> bool:
    return len(name) * 4 > MAX_NAME_BYTES and len(name.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES


def validate_package(package: str) -> str:
    if _too_long(package):
        raise InvalidName(f"a package name of {len(package)} characters is longer than aoinspect accepts.")
    if not _is_attribute_name(package):
        raise InvalidName(f"{package!r} is not a valid module name.")
    return package


class Declared(Record):
    """The package right after import, what it declares statically, and every declared name."""

    info: PackageInfo
    declarations: Declarations
    names: tuple[DeclaredName, ...]
    annotation_only: tuple[str, ...] = ()  # TYPE_CHECKING imports that declare no lazy name
    lazy_packages: tuple[str, ...] = ()  # subpackages with a lazy path of their own
    notes: tuple[str, ...] = ()

    def __init__(
        self, info: PackageInfo, declarations: Declarations, names: tuple[DeclaredName, ...],
        annotation_only: tuple[str, ...] = (), lazy_packages: tuple[str, ...] = (), notes: tuple[str, ...] = (),
    ) -> None:
        _set = set_field
        _set(self, "info", info)
        _set(self, "declarations", declarations)
        _set(self, "names", names)
        _set(self, "annotation_only", annotation_only)
        _set(self, "lazy_packages", lazy_packages)
        _set(self, "notes", notes)

    @property
    def lazy(self) -> list[str]:
        """The declared names to resolve: absent after import, and identifiers. ``__all__`` can
        hold any string, and a dotted one (``quantizers.pipe_quant_config``) is no attribute of
        the package: ``from PKG import *`` looks it up whole. ``invalid-all`` reports those."""
        return [name.name for name in self.names if not name.loaded_at_import and name.name.isidentifier()]

    @property
    def eager(self) -> list[str]:
        return [name.name for name in self.names if name.loaded_at_import]


def _declared(session: Session, package: str) -> Declared:
    """Import the package once in a child, describe it, and read its declarations; when a
    declaration depends on what the package's lazy path serves, ask that path in a probe of its own."""
    early = _EarlyDeclarations(session.settings, package)
    (run,) = session.run([ProbeRequest(protocol.MODE_INSPECT, package)])
    info = results.package_info(run, package)
    read = early.result(info)
    if read is None:
        declarations, on_disk = read_declarations(package, info.file), submodules_on_disk(info.search_path)
    else:
        declarations, on_disk = read
    candidates = _served_candidates(info, declarations, on_disk)
    served: frozenset[str] = frozenset()
    notes: list[str] = []
    if candidates and info.has_getattr:
        served, problem = _ask_lazy_path(session, package, info, candidates)
        if problem:
            notes.append(problem)
    lazy_packages = lazy_subpackages(info.search_path)
    names, annotation_only = _classified(info, declarations, on_disk, served, lazy_packages)
    return Declared(info, declarations, names, annotation_only, lazy_packages, tuple(notes))


class _EarlyDeclarations:
    """The package's declarations and the modules of its directory, read in a thread while the
    child that describes it starts (its server imports the package first), from the file this
    interpreter's path finds; taken only if that is the file and ``__path__`` the child reports
    (what they are read from, as if read after it)."""

    def __init__(self, settings: ProbeSettings, package: str) -> None:
        import sys
        import threading

        self._package = package
        self._read: tuple[str, tuple[str, ...] | None, Declarations, tuple[str, ...]] | None = None
        self._thread: threading.Thread | None = None
        if settings.python == sys.executable:
            self._thread = threading.Thread(target=self._reading, name="aoinspect-declarations", daemon=True)
            self._thread.start()

    def _reading(self) -> None:
        from aoinspect.declarations import find_init
        from aoinspect.probing.cache import unrecorded

        try:
            with unrecorded():  # where the file is, a guess: the child says
                init = find_init(self._package)
            if init is None:
                return
            search = (os.path.dirname(init),) if os.path.basename(init) == "__init__.py" else None
            self._read = (init, search, read_declarations(self._package, init), submodules_on_disk(search))
        except Exception:  # noqa: BLE001 - read again once the child answered, which raises it as before
            self._read = None

    def result(self, info: PackageInfo) -> tuple[Declarations, tuple[str, ...]] | None:
        if self._thread is None:
            return None
        self._thread.join()
        read = self._read
        if read is None or read[0] != info.file or read[1] != (
                None if info.search_path is None else tuple(info.search_path)):
            return None
        return read[2], read[3]


def _dir_added(info: PackageInfo) -> tuple[str, ...]:
    """The names ``dir(PACKAGE)`` lists beyond the namespace: what the package's ``__dir__`` adds
    (ibis lists its backends there), dunders aside."""
    if not info.dir_names:
        return ()
    # Only a __dir__ of the package's own (PEP 562's, or its module class's) adds anything: dir() of
    # an object that stands in sys.modules for the package (sh) lists its class's methods too.
    if "__dir__" not in info.namespace and info.mechanism != protocol.MECHANISM_CLASS_GETATTR:
        return ()
    return tuple(sorted(name for name in info.dir_names - info.namespace
                        if not (name.startswith("__") and name.endswith("__"))))


def _served_candidates(info: PackageInfo, declarations: Declarations, on_disk: Sequence[str]) -> tuple[str, ...]:
    """Names declared only if the package's lazy path serves them: a ``TYPE_CHECKING`` import
    that nothing else makes a lazy name, and a submodule on disk that no declaration lists."""
    listed = {*info.all.names, *declarations.stub, *_dir_added(info)}
    disk = set(on_disk)
    explicit = set(declarations.type_checking_explicit)
    static = [name for name in declarations.type_checking if name not in listed | disk | explicit]
    undeclared = [name for name in on_disk if name not in listed and name not in declarations.type_checking]
    return tuple(dict.fromkeys([*static, *undeclared]))


def _ask_lazy_path(
    session: Session, package: str, info: PackageInfo, names: Sequence[str],
) -> tuple[frozenset[str], str | None]:
    """The names the package's ``__getattr__`` serves, called directly in a probe of its own. A
    lazy path that also serves (or fails on) a name nobody declared serves anything: what it
    says of the others then declares nothing."""
    from aoinspect.rules.lazy import UNKNOWN_NAME

    (run,) = session.run([ProbeRequest(protocol.MODE_ASK, package, (*names, UNKNOWN_NAME))])
    section = run.get(wire.AskSection)
    if section is None:
        failure = results.probe_failed(run, f"asking {package}.__getattr__ which names it serves")
        return frozenset(), f"names the lazy path may serve were not asked about: {failure.message}"
    unknown = section.answers.get(UNKNOWN_NAME)
    if unknown is None or unknown.served or unknown.error is not None:
        return frozenset(), None
    served = set()
    for name in names:
        answer = section.answers.get(name)
        if answer is None:
            continue
        # A value from the package's own globals is no lazy path; an error is one that failed.
        if answer.error is not None or (answer.served and (answer.via_import or name not in info.namespace)):
            served.add(name)
    return frozenset(served), None


def _classified(
    info: PackageInfo, declarations: Declarations, on_disk: Sequence[str], served: frozenset[str],
    lazy_packages: Sequence[str],
) -> tuple[tuple[DeclaredName, ...], tuple[str, ...]]:
    """Every declared name in declaration order, and the ``TYPE_CHECKING`` imports that declare
    none. A name is declared by ``__all__``, by a lazy loader's stub, by the package's
    ``__dir__`` beyond its namespace, by a ``TYPE_CHECKING`` import when it is a submodule, is
    re-exported explicitly (``X as X``) or is served by the lazy path, and by the lazy path
    alone for a submodule it serves (torch's ``_lazy_modules``). Private names count alike."""
    disk = set(on_disk)
    explicit = set(declarations.type_checking_explicit)
    all_names = set(info.all.names)
    stub = set(declarations.stub)
    dir_added = _dir_added(info)
    sources: dict[str, list[str]] = {}
    annotation_only = []
    for source, declared in (
        (models.DECLARED_IN_ALL, info.all.names),
        (models.DECLARED_IN_TYPE_CHECKING, declarations.type_checking),
        (models.DECLARED_IN_STUB, declarations.stub),
        (models.DECLARED_IN_DIR, dir_added),
        (models.DECLARED_IN_GETATTR, sorted(name for name in served if name in disk)),
        (models.DECLARED_IN_LAZY_MODULES, declarations.lazy_modules),
    ):
        for name in declared:
            if source == models.DECLARED_IN_TYPE_CHECKING and not (
                name in all_names or name in disk or name in explicit or name in served or name in stub
                or name in dir_added
            ):
                if name not in info.namespace:  # one the import binds anyway is no puzzle
                    annotation_only.append(name)
                continue
            if source == models.DECLARED_IN_GETATTR and name in sources:
                continue  # declared already: the lazy path only serves it
            places = sources.setdefault(name, [])
            if source not in places:
                places.append(source)
    lines = dict(declarations.lines)
    lazy = set(lazy_packages)
    names = tuple(
        DeclaredName(name=name, declared_in=tuple(places), submodule=name in disk,
                     loaded_at_import=name in info.namespace and name not in info.shim_proxies,
                     mechanism=_serving(info, name), declared_at=lines.get(name), lazy_package=name in lazy)
        for name, places in sources.items()
    )
    return names, tuple(dict.fromkeys(annotation_only))


def _serving(info: PackageInfo, name: str) -> str:
    """What serves a declared name: a PEP 810 shim's proxy bound at import, the namespace, or the
    package's lazy path."""
    if name in info.shim_proxies:
        return protocol.MECHANISM_LAZY_IMPORT_SHIM
    return protocol.MECHANISM_ATTRIBUTE if name in info.namespace else info.mechanism


def declared_names(info: PackageInfo, declarations: Declarations) -> tuple[DeclaredName, ...]:
    """Every declared name, read without asking the lazy path (see ``_classified``)."""
    return _classified(info, declarations, submodules_on_disk(info.search_path), frozenset(), ())[0]


def matching(names: Sequence[str], patterns: Sequence[str], package: str | None = None) -> list[str]:
    """The names matching one of the glob ``patterns`` (``--names``), or all without patterns.

    With ``package``, patterns that match none of ``names`` raise :class:`NoNameMatched`: a typo
    in ``--names`` (or a name renamed since the configuration was written) must not turn a check
    into one that checks nothing and passes.
    """
    if not patterns:
        return list(names)
    from fnmatch import fnmatchcase

    selected = [name for name in names if any(fnmatchcase(name, pattern) for pattern in patterns)]
    if not selected and package is not None:
        from aoinspect.errors import NoNameMatched

        given = ", ".join(repr(pattern) for pattern in patterns)
        raise NoNameMatched(f"--names {given} matches none of the {len(names)} lazy name(s) of {package} "
                            "(globs are case-sensitive); nothing would be measured.")
    return selected


def _resolve_request(package: str, name: str) -> ProbeRequest:
    return ProbeRequest(protocol.MODE_RESOLVE, package, (name,))


def _resolution_reader(name: str) -> Callable[[Sequence[ProbeRun]], Resolution]:
    return lambda runs: results.merged_resolution(runs, name)


# --- the commands ------------------------------------------------------------------------------


def list_names(
    settings: ProbeSettings, package: str, *, include_undeclared: bool = False, resolve: bool = False,
    repeat: int = 1, names_matching: Sequence[str] = (), hooks: SessionHooks | None = None,
) -> ListReport:
    """The package's declared names, where each is declared, and what ``import PACKAGE`` loaded;
    with ``resolve``, also what accessing each name not loaded at import materializes."""
    with _distribution_index(settings, hooks) as index:
        report = _list(settings, package, include_undeclared, resolve, repeat, names_matching, hooks)
        return _with_distributions(report, index)


def _list(
    settings: ProbeSettings, package: str, include_undeclared: bool, resolve: bool, repeat: int,
    names_matching: Sequence[str], hooks: SessionHooks | None,
) -> ListReport:
    with open_session(settings, validate_package(package), hooks=hooks) as session:
        declared = _declared(session, package)
        undeclared = None
        if include_undeclared:
            known = {name.name for name in declared.names}
            undeclared = tuple(name for name in submodules_on_disk(declared.info.search_path) if name not in known)
        names = declared.names
        resolutions = None
        if resolve:
            resolutions = _resolve(session, package, matching(declared.lazy, names_matching, package),
                                   repeat).results
            # What actually served each name, where it was measured.
            served = {result.name: result.mechanism for result in resolutions if result.ok}
            names = tuple(replace(name, mechanism=served.get(name.name, name.mechanism)) for name in names)
        return ListReport(package, declared.info.imported, names, undeclared, resolutions, session.isolation,
                          notes=_notes(declared, package), lazy_packages=declared.lazy_packages)


def resolve_names(
    settings: ProbeSettings, package: str, names: Sequence[str], *, repeat: int = 1, distributions: bool = True,
    hooks: SessionHooks | None = None,
) -> ResolveReport:
    """Access each NAME in its own fresh interpreter (``repeat`` times) and report what it
    materialized; ``distributions`` attributes every module to the distribution providing it."""
    validate_package(package)
    names = tuple(dict.fromkeys(validate_names(names)))  # a NAME given twice is measured and listed once
    with _maybe_distribution_index(settings, distributions, hooks) as index:
        with open_session(settings, package, probes=len(names) * repeat, hooks=hooks) as session:
            report = _resolve(session, package, names, repeat)
        report = _with_declared_suggestions(report)
        return _with_distributions(report, index) if index else report


def _with_declared_suggestions(report: ResolveReport) -> ResolveReport:
    """"Did you mean" drawn from the names the package declares statically too: torch's ``onnx``
    is in no ``__all__`` and no ``__dir__``, only in its ``TYPE_CHECKING`` block."""
    missed = [result for result in report.results if result.rejected_as_attribute_error and "." not in result.name]
    if not missed:
        return report
    from aoinspect.declarations import find_init, read_all_literal

    init = find_init(report.package)
    if init is None:
        return report
    declarations = read_declarations(report.package, init)
    # Only what declares a lazy name without asking the lazy path: no name kept for annotations.
    on_disk = set(submodules_on_disk([os.path.dirname(init)])) if os.path.basename(init).startswith("__init__.") \
        else set()
    static = [name for name in declarations.type_checking
              if name in on_disk or name in declarations.type_checking_explicit]
    declared = [*read_all_literal(init), *static, *declarations.stub]
    changed = {}
    for result in missed:
        suggested = results.suggestions(result.name, [*result.suggestions, *declared])
        if suggested != result.suggestions:
            changed[result.name] = replace(result, suggestions=suggested)
    return replace(report, results=tuple(changed.get(result.name, result) for result in report.results))


def resolve_all(
    settings: ProbeSettings, package: str, *, repeat: int = 1, distributions: bool = True,
    hooks: SessionHooks | None = None,
) -> ResolveReport:
    """Resolve every name the package declares."""
    with _maybe_distribution_index(settings, distributions, hooks) as index:
        with open_session(settings, validate_package(package), hooks=hooks) as session:
            declared = _declared(session, package)
            names = [name.name for name in declared.names if _is_attribute_name(name.name)]
            report = _resolve(session, package, names, repeat)
        return _with_distributions(report, index) if index else report


def _distribution_index(
    settings: ProbeSettings, hooks: SessionHooks | None = None,
) -> contextlib.AbstractContextManager[DistributionIndex]:
    """Installed distributions (of the inspected interpreter's environment), read while the
    probes run rather than after them; a context manager that stops reading when the command
    ends, however it ends. What this interpreter reads in-process is read once a command
    (``hooks``): the pass that keeps a warm report after a cold run annotates with the cold run's."""
    import sys

    from aoinspect.distributions import DistributionIndex

    python = None if settings.python == sys.executable else settings.python
    if python is not None or hooks is None:
        return DistributionIndex(python, settings.timeout, settings.cache_dir).prefetch()
    key = (settings.timeout, settings.cache_dir)
    index: DistributionIndex | None = hooks.distributions(key)
    if index is None:
        # Its reader leaves nothing behind: closing it does nothing, so it may outlive the pass.
        index = DistributionIndex(None, settings.timeout, settings.cache_dir).prefetch()
        hooks.keep_distributions(key, index)
    return contextlib.nullcontext(index)


def _maybe_distribution_index(
    settings: ProbeSettings, wanted: bool, hooks: SessionHooks | None = None,
) -> contextlib.AbstractContextManager[DistributionIndex | None]:
    return _distribution_index(settings, hooks) if wanted else contextlib.nullcontext()


def _resolve(session: Session, package: str, names: Sequence[str], repeat: int) -> ResolveReport:
    plan = Plan()
    planned = [plan.add(_resolve_request(package, name), _resolution_reader(name), repeat=repeat) for name in names]
    plan.run(session)
    # Every resolve probe measured the import on its way there: merge them all.
    runs = [run for outcome in planned for run in outcome.runs]
    imported = results.import_result(runs, package) if runs else _declared(session, package).info.imported
    return ResolveReport(package, imported, tuple(outcome.value for outcome in planned), repeat, session.isolation)


def snapshot(settings: ProbeSettings, package: str, *, hooks: SessionHooks | None = None) -> Snapshot:
    """What ``import PACKAGE`` and each lazy name materialize, for a baseline file."""
    from aoinspect import baseline

    with open_session(settings, validate_package(package), hooks=hooks) as session:
        declared = _declared(session, package)
        report = _resolve(session, package, declared.lazy, 1)
        isolation = session.isolation
    failed = next((result for result in report.results if result.probe_failed), None)
    if failed is not None and failed.error is not None:
        raise ProbeFailed(failed.error.message)
    return replace(baseline.snapshot_of(package, declared.info.imported, report.results), isolation=isolation)


def check_package(
    settings: ProbeSettings, package: str, options: CheckOptions | None = None, *, hooks: SessionHooks | None = None,
) -> CheckReport:
    """Verify the lazy contract, and the CI contracts in ``options``: every finding under a
    stable rule id (``aoinspect.rules``)."""
    from aoinspect import baseline

    options = options or CheckOptions()
    for name, _pattern in options.forbid_on:
        validate_names([name])
    validate_names(budget.name for budget in (*options.max_modules, *options.max_import_ms) if budget.name)
    recorded = baseline.read_baseline(options.baseline) if options.baseline and not options.update_baseline else None
    kept = None
    if options.baseline and options.update_baseline:
        baseline.check_writable(options.baseline)
        if options.names and os.path.exists(options.baseline):
            # Only the names --names selects are measured: the baseline keeps what it says of the others.
            kept = baseline.read_baseline(options.baseline)
    with _distribution_index(settings, hooks) as index:
        if options.max_import_ms:
            settings = replace(settings, cache_dir=None)  # time budgets judge times measured now
        with open_session(settings, validate_package(package), hooks=hooks) as session:
            report = _check(session, package, options, recorded, kept)
        if options.recursive:
            report = _with_subpackages(settings, report, options, hooks)
        return _with_distributions(report, index)


def _with_subpackages(
    settings: ProbeSettings, report: CheckReport, options: CheckOptions, hooks: SessionHooks | None = None,
) -> CheckReport:
    """The report with each lazy subpackage of the package checked too, one level down, in a
    session of its own: its names, results and findings prefixed by the subpackage (``llms.OpenAI``
    is what ``PKG.llms.OpenAI`` is reached by), its notes too. The contracts about the package
    itself (a baseline, budgets, --forbid-on, --names) stay the package's. A subpackage that
    cannot be imported is the package's name failing to resolve (exit 1), not the package failing
    to import (exit 3); why a subpackage's results were measured again is kept when the package's
    were all read from the cache."""
    from aoinspect import rules

    file = report.file
    if file is None or not os.path.basename(file).startswith("__init__."):
        return report
    sub_options = replace(options, forbid_on=(), max_modules=(), max_import_ms=(), baseline=None,
                          update_baseline=False, names=(), recursive=False)
    names, resolutions, findings = list(report.names), list(report.resolutions), list(report.findings)
    notes, rules_run = list(report.notes), list(report.rules)
    isolation = report.isolation
    for sub in lazy_subpackages([os.path.dirname(file)]):
        with open_session(settings, f"{report.package}.{sub}", hooks=hooks) as session:
            checked = _check(session, f"{report.package}.{sub}", sub_options, None)

        def prefixed(name: str | None, sub: str = sub) -> str:
            return f"{sub}.{name}" if name else sub

        names.extend(replace(name, name=prefixed(name.name)) for name in checked.names)
        resolutions.extend(replace(result, name=prefixed(result.name)) for result in checked.resolutions)
        for finding in checked.findings:
            if finding.rule == rules.IMPORT_FAILED.id:
                if any(known.rule == rules.RESOLVE_FAILED.id and known.name == sub for known in findings):
                    continue  # the package's own resolve-failed for this name says it already
                findings.append(rules.RESOLVE_FAILED.finding(
                    sub, f"{report.package}.{sub} is a lazy subpackage that cannot be imported: {finding.message}"))
            else:
                findings.append(replace(finding, name=prefixed(finding.name)))
        notes.extend(f"{sub}: {note}" for note in checked.notes)
        rules_run.extend(rule for rule in checked.rules if rule not in rules_run)
        if isolation is not None and isolation.cache_miss is None and checked.isolation is not None \
                and checked.isolation.cache_miss is not None:
            isolation = replace(isolation, cache_miss=f"{sub}: {checked.isolation.cache_miss}")
    findings.sort(key=_finding_order)
    return replace(report, names=tuple(names), resolutions=tuple(resolutions), findings=tuple(findings),
                   notes=tuple(notes), rules=tuple(rules_run), isolation=isolation)


def _finding_order(finding: Finding) -> tuple[int, str, str]:
    order = {outcomes.SEVERITY_ERROR: 0, outcomes.SEVERITY_WARNING: 1}
    return order.get(finding.severity, 2), finding.rule, finding.name or ""


def _check(
    session: Session, package: str, options: CheckOptions, recorded: Snapshot | None, kept: Snapshot | None = None,
) -> CheckReport:
    from aoinspect import rules

    active = [rule for rule in rules.RULES if rule.enabled(options) and rule.id not in options.ignore]
    # Beside the fork server, which imports the package as the predicting child does first.
    early = _PredictingChild.early(session, package, options)
    try:
        return _checked(session, package, options, recorded, kept, active, early)
    finally:
        if early is not None:
            early.stop()  # ended already, unless nothing took it


def _checked(
    session: Session, package: str, options: CheckOptions, recorded: Snapshot | None, kept: Snapshot | None,
    active: list[rules.Rule], early: _PredictingChild | None,
) -> CheckReport:
    from aoinspect import baseline, rules
    from aoinspect.rules import CheckContext
    from aoinspect.rules.base import shown
    from aoinspect.rules.contracts import current_snapshot

    evaluated = tuple(rule.id for rule in active)
    try:
        declared = _declared(session, package)
    except (PackageImportFailed, ProbeFailed) as exc:
        rule = rules.IMPORT_FAILED if isinstance(exc, PackageImportFailed) else rules.PROBE_FAILED
        return CheckReport(package, None, (), (), (rule.finding(None, exc.message),), options.strict,
                           session.isolation, evaluated)
    context = CheckContext(package, declared.info, declared.declarations, declared.names,
                           matching(declared.lazy, options.names, package), declared.eager, options,
                           recorded, timeout=session.settings.timeout, python=session.settings.python,
                           isolation=session.settings.isolation)
    plan = Plan()
    # Names a contract is about are measured too, declared or not.
    asked = [name for name, _pattern in options.forbid_on] + [
        budget.name for budget in (*options.max_modules, *options.max_import_ms) if budget.name
    ]
    predicting = _Predicting.start(session, package, context, options, asked, early)
    predicted: dict[str, Resolution] = {}
    for name in dict.fromkeys([*context.lazy, *asked]):
        if predicting is not None and name in predicting.kept:
            context.resolutions[name] = _ready(predicting.kept[name])
        elif predicting is not None and name in predicting.names:
            # Measured unless predicted; which, the predicting child (running beside the first
            # probes, every other rule's that does not need resolutions) says.
            context.resolutions[name] = plan.later(
                [predicting.outcome(plan)], predicting.requests(name), predicting.reader(name))
        else:
            context.resolutions[name] = plan.add(_resolve_request(package, name), _resolution_reader(name),
                                                 repeat=options.repeat)
    if predicting is not None and predicting.names:
        # The probes that load the whole package need no name's own fork, only what touching every
        # name costs, which the predicting child says: they run beside the forks it leaves.
        context.whole_package_after = [predicting.outcome(plan), *(
            outcome for name, outcome in context.resolutions.items() if name not in predicting.names)]
    for rule in active:
        if rule.plan is not None:
            context.planned[rule.id] = rule.plan(rule, context, plan)
    try:
        plan.run(session)
    finally:
        if predicting is not None:
            predicting.stop()
    if predicting is not None:
        predicted = predicting.predicted
        if predicting.kept and not predicting.names:
            context.notes.append(
                f"{len(predicting.kept)} name(s) kept the sets an earlier run predicted from the executed-import "
                "graph (nothing their predictions read changed), not measured in forks of their own. "
                "'check --exact' measures every name in its own fork.")
    context.imported = _check_import(session, package, options, context)
    _verify(session, context)
    # Names _verify measured (a wrong sample's suspects) are judged as measured from here on.
    predicted = {name: value for name, value in predicted.items() if name in context.resolutions
                 and context.resolutions[name].ready and getattr(context.resolutions[name].value, "predicted", False)}

    findings = _findings(active, context)
    # A predicted set never fails a run on its own: what a finding that would fail the run (an
    # error, or a warning under --strict) says of a predicted name is measured in the name's own
    # fork first, and the rules judge the measured set. A warning that cannot fail the run is
    # judged on the predicted set, and the report says so.
    doubted = {finding.name for finding in findings if finding.name in predicted and _fails(finding, options)}
    if predicted and any(finding.name is None and _fails(finding, options) for finding in findings):
        # A finding about many names at once (not-cached over a whole package): the names it is about.
        doubted.update(finding.name for finding in _findings_per_name(active, context) if finding.name in predicted)
    if doubted:
        confirm = Plan()
        for name in sorted(doubted):
            context.resolutions[name] = confirm.add(_resolve_request(package, name), _resolution_reader(name))
        confirm.run(session)
        context.notes.append(f"{len(doubted)} predicted name(s) with a finding were measured in their own forks "
                             f"before being judged: {shown(sorted(doubted))}.")
        findings = _findings(active, context)
    if predicted and any(finding.severity == outcomes.SEVERITY_WARNING and (
            finding.name is None or finding.name in predicted) for finding in findings):
        judged = sorted({finding.name for finding in _findings_per_name(active, context)
                         if finding.name in predicted and finding.name not in doubted
                         and finding.severity == outcomes.SEVERITY_WARNING})
        if judged:
            context.notes.append(
                f"{len(judged)} predicted name(s) have warnings judged on their predicted sets, which cannot "
                f"fail this run: {shown(judged)}. '--strict' measures them in their own forks first, "
                "'check --exact' every name.")
    _keep_predictions(session, context)
    if options.update_baseline and options.baseline:
        snapshot = current_snapshot(context)
        if kept is not None:
            names = {**dict(kept.names), **dict(snapshot.names)}
            snapshot = replace(snapshot, names=tuple(sorted(names.items())))
        baseline.write_baseline(options.baseline, snapshot)
        findings.append(rules.BASELINE.finding(None, f"wrote the baseline {options.baseline}."))
    findings = [finding for finding in findings if finding.rule not in options.ignore]
    findings.sort(key=_finding_order)
    resolutions = tuple(outcome.value for outcome in context.resolutions.values())
    return CheckReport(package, context.imported, declared.names, resolutions, tuple(findings), options.strict,
                       session.isolation, evaluated, declared.info.file,
                       notes=(*_notes(declared, package, options.recursive), *context.notes))


def _fails(finding: Finding, options: CheckOptions) -> bool:
    """Whether ``finding`` fails the run (as ``CheckReport.failing`` says)."""
    return finding.severity == outcomes.SEVERITY_ERROR or (
        options.strict and finding.severity == outcomes.SEVERITY_WARNING)


def _findings_per_name(active: Sequence[rules.Rule], context: CheckContext) -> list[Finding]:
    """The findings, one per name where a rule gives one about many names at once."""
    context.per_name = True
    try:
        return _findings(active, context)
    finally:
        context.per_name = False


def _findings(active: Sequence[rules.Rule], context: CheckContext) -> list[Finding]:
    findings: list[Finding] = []
    for rule in active:
        if rule.find is not None:
            findings.extend(rule.find(rule, context))
    return findings


def _verify(session: Session, context: CheckContext) -> None:
    """Compare each verified prediction with its name's own fork: a disagreement is shown, and the
    measured set (the one the resolutions hold) wins. One found among the sampled names, which the
    graph gave no reason to doubt, means the graph missed how this package loads: every predicted
    name is then measured in its own fork too."""
    from aoinspect import predicting
    from aoinspect.rules.base import shown

    predictions = context.verifying
    if predictions is None:
        return
    measured = {name: [load.module for load in outcome.value.materialized]
                for name, outcome in context.resolutions.items()
                if name in predictions.names and not outcome.value.predicted and outcome.value.ok}
    found = predicting.disagreements(predictions, measured)
    if not found:
        context.notes.append(f"all {len(measured)} verified prediction(s) agreed with the names' own forks.")
        return
    context.notes.append(f"{len(found)} of {len(measured)} verified prediction(s) disagreed with the name's own "
                         f"fork (the measured set is reported): {'; '.join(str(item) for item in found[:5])}.")
    unexpected = [item for item in found if not predictions.names[item.name].risks]
    while unexpected:
        # The names that may be wrong the same way (None: any name may be) are measured too, and
        # compared in turn: what they find wrong widens it again.
        suspected = predicting.suspects(predictions, unexpected)
        left = [name for name, outcome in context.resolutions.items() if outcome.value.predicted
                and (suspected is None or name in suspected)]
        if not left:
            return
        plan = Plan()
        for name in left:
            context.resolutions[name] = plan.add(_resolve_request(context.package, name), _resolution_reader(name))
        plan.run(session)
        names = shown([item.name for item in unexpected])
        if suspected is None:
            context.notes.append(f"a sampled prediction the graph gave no reason to doubt was wrong ({names}): the "
                                 f"{len(left)} other predicted name(s) were measured in their own forks too.")
            return
        context.notes.append(f"a sampled prediction the graph gave no reason to doubt was wrong ({names}): the "
                             f"{len(left)} predicted name(s) that reach what loaded its missing modules were measured "
                             "in their own forks too.")
        measured = {name: [load.module for load in context.resolutions[name].value.materialized] for name in left
                    if context.resolutions[name].value.ok}
        unexpected = list(predicting.disagreements(predictions, measured))


def _ready(value: Resolution) -> Outcome[Resolution]:
    outcome: Outcome[Resolution] = Outcome(lambda runs: value)
    outcome._set(())
    return outcome


class _Predicting:
    """The predicting child of one check, run in a thread beside the plan's first stage (the
    probes of the rules that need no resolution), and what it predicts (``aoinspect.predicting``):
    each name of ``names`` is then measured in a fork of its own or given its predicted set."""

    def __init__(self, session: Session, package: str, context: CheckContext, names: list[str],
                 kept: dict[str, Resolution], early: _PredictingChild | None = None) -> None:
        self.session, self.package, self.context = session, package, context
        self.names = frozenset(names)
        self.kept = kept
        self.predicted: dict[str, Resolution] = dict(kept)
        self._order = names
        self._outcome: Outcome[None] | None = None
        settings = session.settings
        timeout = settings.timeout * (1 + len(names) // 100)
        if not names:
            self._child = None
        elif early is not None:
            self._child = early
            early.send(names, timeout)
        else:
            self._child = _PredictingChild(settings.python, package, names, timeout)

    @classmethod
    def start(cls, session: Session, package: str, context: CheckContext, options: CheckOptions,
              asked: Sequence[str], early: _PredictingChild | None = None) -> _Predicting | None:
        """Start predicting the lazy names' sets, where check predicts (``_predicts``), for names the
        cache does not hold, unless no more names than the verified sample's minimum are left.
        ``early``: the predicting child started before the names were known, which is told them.
        None: every name is measured."""
        from aoinspect import predicting

        if not _predicts(session, options):
            return None  # nor was one started early
        cache = session.cache
        names = [name for name in context.lazy if name not in asked
                 and (cache is None or not cache.has(_resolve_request(package, name).fields()))]
        kept = _kept_predictions(cache, names)
        names = [name for name in names if name not in kept]
        if len(names) <= predicting.SAMPLE_MINIMUM:
            if early is not None:
                early.stop()  # now, rather than holding the package it imported while the plan runs
            return cls(session, package, context, [], kept) if kept else None
        return cls(session, package, context, names, kept, early)

    def stop(self) -> None:
        """End the predicting child if it still runs (the plan was interrupted: its group is
        killed, as a probe's), and wait for its thread."""
        if self._child is not None:
            self._child.stop()

    def outcome(self, plan: Plan) -> Outcome[None]:
        if self._outcome is None:
            self._outcome = plan.beside(self._finish)
        return self._outcome

    def _finish(self) -> None:
        """Once the first stage ran: wait for the child, then decide which names are predicted."""
        from aoinspect import predicting
        from aoinspect.rules.base import shown

        result = self._child.result() if self._child is not None else None
        context, package = self.context, self.package
        if isinstance(result, ProbeFailed):
            context.notes.append(f"no set was predicted ({result.message}); every name was measured in its own fork.")
            return
        if isinstance(result, BaseException):
            raise result
        if result is None:
            return
        predictions: predicting.Predictions = result
        verified = set(predicting.to_verify(predictions))
        verified.update(name for name, prediction in predictions.names.items() if prediction.second_error is not None)
        mechanisms = {name.name: name.mechanism for name in context.names}
        shared = _SharedLoads()
        self.predicted.update({name: _predicted_resolution(prediction, mechanisms.get(name, protocol.MECHANISM_NONE),
                                                           shared)
                               for name, prediction in predictions.names.items() if name not in verified})
        context.verifying = predictions  # compared with the measured sets once the plan has run
        # The verified names' forks, ordered and grouped by their predictions (only an order).
        self.session.hint_batches({name: BatchHint(predictions.names[name].modules,
                                                   len(predictions.names[name].modules)) for name in verified})
        risky = sorted(name for name in verified if predictions.names[name].risks)
        sampled = sorted(verified - set(risky))
        risky_shown = f" ({shown(risky)})" if risky else ""
        context.notes.append(
            f"{len(self.predicted)} of {len(self._order) + len(self.kept)} name(s) were predicted from the "
            f"executed-import graph (one child imported {package} and touched every name), not measured in forks of "
            f"their own; {len(verified)} were measured in their own forks: {len(risky)} whose prediction may not "
            f"hold{risky_shown}, {len(sampled)} sampled (seed {predicting.DEFAULT_SEED}: {shown(sampled)}). "
            "'check --exact' measures every name in its own fork.")

    def requests(self, name: str) -> Callable[[], Sequence[ProbeRequest]]:
        request = _resolve_request(self.package, name)
        return lambda: () if name in self.predicted else (request,)

    def reader(self, name: str) -> Callable[[Sequence[ProbeRun]], Resolution]:
        measured = _resolution_reader(name)
        return lambda runs: self.predicted[name] if name in self.predicted else measured(runs)


def _predicts(session: Session, options: CheckOptions) -> bool:
    """Whether check predicts names' sets: by default; not under ``--exact`` (``--isolation
    fork-each``) or any isolation but the default, with ``--repeat``, time budgets or
    ``--update-baseline`` (which measure)."""
    return bool(options.predict and session.settings.isolation == "auto" and options.repeat == 1
                and not options.max_import_ms and not options.update_baseline)


class _PredictingChild:
    """The predicting child (``predicting.record_predictions``), run in a thread of its own. Started
    with its names, or ``early``: before the names are known, beside the fork server, which imports
    the package as it does; it is then told them through a FIFO once its import is done
    (``protocol.NAMES_LATER``), and ended if no name is predicted after all."""

    def __init__(self, python: str, package: str, names: Sequence[str] | None, timeout: float) -> None:
        """``names``: None to be told them later (``send``), ``timeout`` counted from now then."""
        import threading
        import time

        from aoinspect.probing import runner
        from aoinspect.probing.session import NamesLater

        self.package = package
        self._result: Any = None
        self._pid: int | None = None  # the child's, once started
        self._lock = threading.Lock()
        self._stopping = False  # a child that starts from then on is ended at once
        self._started_at = time.monotonic()
        self._deadline: float | None = None  # a child told its names later: when it is given up
        self._timed_out: float | None = None  # the timeout it did not end within, if so
        self._workdir: str | None = None
        self._later: NamesLater | None = None
        wait = timeout
        if names is None:
            self._workdir = runner.make_workdir("aoinspect-names-")
            try:
                self._later = NamesLater(os.path.join(self._workdir, "names"))
            except OSError:
                runner.remove_workdir(self._workdir)
                raise
            names = (protocol.NAMES_LATER + self._later.path,)
            wait = _UNTIL_TOLD  # the deadline is set once the names are known, and kept here (result)
        self._thread = threading.Thread(target=self._record, name="aoinspect-predict", daemon=True,
                                        args=(python, names, wait))
        self._thread.start()

    @classmethod
    def early(cls, session: Session, package: str, options: CheckOptions) -> _PredictingChild | None:
        """The predicting child started before the names are known, where check will most likely
        predict: it predicts, may start probes, and no result of this package is cached yet (a
        cold run: a warm run, whose names the cache holds, predicts none). None: it starts, if it
        does, once the names are known."""
        if not (_predicts(session, options) and not options.names and session.hooks.may_measure()
                and (session.cache is None or session.cache.holds_nothing())):
            return None
        if session.cache is not None:
            session.cache.mark_started()  # files it reads from now on may be read changed
        try:
            return cls(session.settings.python, package, None, session.settings.timeout)
        except OSError:  # no FIFO can be made here (a TMPDIR on a file system without them)
            return None

    def _record(self, python: str, names: Sequence[str], timeout: float) -> None:
        from aoinspect import predicting

        try:
            self._result = predicting.record_predictions(self.package, names, python=python, timeout=timeout,
                                                         started=self._started)
        except ProbeFailed as exc:
            self._result = exc
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread, which raises it
            self._result = exc

    def _started(self, pid: int) -> None:
        with self._lock:
            self._pid = pid
            stopping = self._stopping
        if stopping:
            from aoinspect.probing import runner

            runner.kill_group(pid)

    def send(self, names: Sequence[str], timeout: float) -> None:
        """Tell the child started early its names; it ends within ``timeout`` of its start."""
        assert self._later is not None
        self._deadline = self._started_at + timeout
        self._later.send(names)

    def result(self) -> Any:
        """The child's predictions, once it ended: ``predicting.Predictions``, or the exception
        it raised (``ProbeFailed``: it said nothing usable)."""
        if self._deadline is not None:
            import time

            self._thread.join(max(0.0, self._deadline - time.monotonic()))
            if self._thread.is_alive():
                self._timed_out = self._deadline - self._started_at
                self.stop()
        self._thread.join()
        if self._timed_out is not None and isinstance(self._result, BaseException):
            return ProbeFailed(f"the predicting child of {self.package} did not end within {self._timed_out:g} s.")
        return self._result

    def stop(self) -> None:
        """End the child if it still runs (its group is killed, as a probe's), and wait for the thread."""
        from aoinspect.probing import runner

        with self._lock:
            self._stopping = True
            pid = self._pid
        if self._thread.is_alive() and pid is not None:
            runner.kill_group(pid)
        later, self._later = self._later, None
        if later is not None:
            later.close()  # a child still reading its names reads the FIFO's end: none
        self._thread.join()
        if self._workdir is not None:
            runner.remove_workdir(self._workdir)
            self._workdir = None


# How long a predicting child told its names later waits for them at most (``_PredictingChild``):
# its own deadline is kept by the parent once it knows them.
_UNTIL_TOLD = 24 * 3600.0


def _kept_predictions(cache: ProbeCache | None, names: Sequence[str]) -> dict[str, Resolution]:
    """Predicted results an earlier run kept, for names whose prediction read no file changed since
    (those this process kept itself are taken as they are, not read back from their documents)."""
    if cache is None:
        return {}
    shared = _SharedLoads()
    kept = {}
    for name in names:
        result = cache.get_predicted(name, functools.partial(_from_kept, name=name, shared=shared))
        if isinstance(result, models.Resolution) and result.name == name:
            kept[name] = replace(result, from_cache=True)
    return kept


def _keep_predictions(session: Session, context: CheckContext) -> None:
    """Keep this run's predicted results in the cache, each with the files its prediction read:
    a change to one of them (a module of its reach, its lazy path) predicts or measures it again."""
    predictions = context.verifying
    if session.cache is None or predictions is None:
        return
    forms = _KeptForms()
    results = {}
    for name, outcome in context.resolutions.items():
        result = outcome.value
        prediction = predictions.names.get(name)
        if prediction is not None and result.predicted and not result.from_cache:
            results[name] = (forms.of(result), prediction.files, result)
    session.cache.put_predicted(results)


class _KeptForms:
    """Predicted results as the cache keeps them: what ``_predicted_resolution`` made, written
    compactly (the name's modules in order, each one's parent: its index among them, -1 for none,
    or the name of a module not among them; and depth). A check of huggingface_hub keeps a hundred
    thousand loads, in 40 sets that names share (``_SharedLoads``): each set is one object, which
    the cache writes once (``ProbeCache.put_predicted``)."""

    def __init__(self) -> None:
        self._plain: dict[int, tuple[ModuleLoad, bool]] = {}  # by identity: whether a prediction made it
        self._sets: dict[int, tuple[tuple[ModuleLoad, ...], dict[str, list[Any]] | None]] = {}

    def of(self, result: Resolution) -> dict[str, Any] | None:
        """``result``'s kept form, or None if it is not what a prediction makes (then it is not kept)."""
        from aoinspect.models import Step

        if len(result.steps) != 1:
            return None
        step = result.steps[0]
        loads = step.materialized
        described = result.object
        if result != models.Resolution(result.name, True, None, (Step(result.name, step.mechanism, loads, (), 0.0),),
                                       cached=result.cached, object=described, predicted=True):
            return None
        written = self._sets.get(id(loads))
        if written is None:  # kept alive in _sets: no id is reused
            written = self._sets[id(loads)] = (loads, self._loads(loads))
        if written[1] is None:
            return None
        return {"name": result.name, "mechanism": step.mechanism, "cached": result.cached,
                "object": None if described is None else [described.type, described.repr, described.is_module],
                "loads": written[1]}

    def _loads(self, loads: tuple[ModuleLoad, ...]) -> dict[str, list[Any]] | None:
        modules = [load.module for load in loads]
        position = {module: index for index, module in enumerate(modules)}
        if len(position) != len(modules):
            return None
        plain = self._plain
        for load in loads:
            known = plain.get(id(load))
            if known is None:
                known = plain[id(load)] = (load, load == models.ModuleLoad(load.module, load.parent, load.depth,
                                                                           0.0, 0.0))
            if not known[1]:
                return None
        return {"modules": modules,
                "parents": [-1 if load.parent is None else position.get(load.parent, load.parent) for load in loads],
                "depths": [load.depth for load in loads]}


def _from_kept(stored: Any, name: str, shared: _SharedLoads) -> Resolution | None:
    """The predicted result ``_KeptForms`` wrote, or None if it is not one (an authenticated
    document, checked cheaply in case of a bug), its loads ``shared`` with other names'."""
    from aoinspect.models import ObjectInfo, Step

    try:
        described, mechanism, cached = stored["object"], stored["mechanism"], stored["cached"]
        if not (stored["name"] == name and type(mechanism) is str and (cached is None or type(cached) is bool)):
            return None
        if described is not None:
            kind, shown, is_module = described
            if not (type(kind) is str and type(shown) is str and type(is_module) is bool):
                return None
            described = ObjectInfo(kind, shown, is_module)
        loads = shared.read(stored["loads"])
    except (KeyError, TypeError, ValueError):
        return None
    if loads is None:
        return None
    return models.Resolution(name, True, None, (Step(name, mechanism, loads, (), 0.0),), cached=cached,
                             object=described, predicted=True)


class _SharedLoads:
    """The loads of predicted results, each made once for all the names of a check, and their
    sets: most names load the same modules in the same places (huggingface_hub's 493 predicted
    names: 100,129 loads, 9,230 distinct, in 40 distinct sets), and what is made of a load or a
    set (its attribution to distributions, its kept form) is then made once too."""

    def __init__(self) -> None:
        self._loads: dict[tuple[str, str | None, int], ModuleLoad] = {}
        self._sets: dict[tuple[int, ...], tuple[ModuleLoad, ...]] = {}
        self._read: dict[int, tuple[Any, tuple[ModuleLoad, ...] | None]] = {}  # by the kept form's identity
        # By the identity of a prediction's parents (kept alive here): names that share a walk
        # (``predicting.predict``) share its parents mapping, and so its loads.
        self.walks: dict[int, tuple[Any, tuple[ModuleLoad, ...]]] = {}

    def load(self, module: str, parent: str | None, depth: int) -> ModuleLoad:
        key = (module, parent, depth)
        load = self._loads.get(key)
        if load is None:
            load = self._loads[key] = models.ModuleLoad(module, parent, depth, 0.0, 0.0)
        return load

    def of(self, loads: list[ModuleLoad]) -> tuple[ModuleLoad, ...]:
        """``loads`` (made by ``load``, which keeps them alive: their ids are theirs) as one tuple."""
        key = tuple(map(id, loads))
        found = self._sets.get(key)
        if found is None:
            found = self._sets[key] = tuple(loads)
        return found

    def read(self, kept: Any) -> tuple[ModuleLoad, ...] | None:
        """The loads ``_KeptForms`` wrote as ``kept``, or None if it is not what it writes; once
        for all the names whose documents share it (one object: ``cache._unshared``)."""
        known = self._read.get(id(kept))
        if known is None:
            known = self._read[id(kept)] = (kept, self._made(kept))
        return known[1]

    def _made(self, kept: Any) -> tuple[ModuleLoad, ...] | None:
        try:
            modules, parents, depths = kept["modules"], kept["parents"], kept["depths"]
            if not (type(modules) is list and type(parents) is list and type(depths) is list
                    and len(modules) == len(parents) == len(depths)
                    and all(type(module) is str for module in modules)
                    and all(type(depth) is int and depth >= 0 for depth in depths)):
                return None
            count = len(modules)
            loads = []
            for module, parent, depth in zip(modules, parents, depths):
                if type(parent) is int:
                    if not -1 <= parent < count:
                        return None
                    parent = None if parent == -1 else modules[parent]
                elif type(parent) is not str:
                    return None
                loads.append(self.load(module, parent, depth))
        except (KeyError, TypeError, ValueError):
            return None
        return self.of(loads)


def _predicted_resolution(prediction: predicting.Prediction, mechanism: str,
                          shared: _SharedLoads | None = None) -> Resolution:
    """The result ``prediction`` gives a name, its loads ``shared`` with other names'."""
    from aoinspect.models import ObjectInfo, Step

    parents = prediction.parents
    depths: dict[str, int] = {}

    def bounded_depth(module: str) -> int:
        steps, parent = 0, parents.get(module)
        while parent is not None and steps < len(parents):
            steps, parent = steps + 1, parents.get(parent)
        return steps

    def depth(module: str) -> int:
        # Each module's depth once, from its parent's: the chain is walked once per name.
        chain: list[str] = []
        current: str | None = module
        while current is not None and current not in depths:
            if len(chain) > len(parents):
                return bounded_depth(module)  # a cycle: counted as far as there are modules
            chain.append(current)
            current = parents.get(current)
        below = -1 if current is None else depths[current]
        for item in reversed(chain):
            below += 1
            depths[item] = below
        return depths[module]

    shared = _SharedLoads() if shared is None else shared
    walked = shared.walks.get(id(parents))
    if walked is None:
        loads = [shared.load(module, parent, depth(module)) for module, parent in parents.items()]
        walked = shared.walks[id(parents)] = (parents, shared.of(loads))
    described = ObjectInfo(*prediction.object) if prediction.object is not None else None
    return models.Resolution(prediction.name, True, None,
                             (Step(prediction.name, mechanism, walked[1], (), 0.0),),
                             cached=prediction.cached, object=described, predicted=True)


def _notes(declared: Declared, package: str, recursive: bool = False) -> tuple[str, ...]:
    """What static reading could not see, and what it found that is no lazy name, for the report to say."""
    from aoinspect.rules.base import shown

    notes = list(declared.notes)
    problem = declared.declarations.unreadable
    if problem is not None:
        notes.insert(0, f"no static declarations read: {problem}")
    if declared.annotation_only:
        notes.append(f"{len(declared.annotation_only)} name(s) imported under TYPE_CHECKING only for annotations "
                     f"are no lazy names (not in __all__, not re-exported as 'X as X', not served by the lazy "
                     f"path): {shown(list(declared.annotation_only))}.")
    if declared.lazy_packages and not declared.lazy and not recursive:
        itself = "declares no lazy names" if declared.names else "declares no names"
        notes.append(f"{package} {itself} itself, but {len(declared.lazy_packages)} of its subpackages are lazy "
                     f"packages: {shown(list(declared.lazy_packages))}; 'aoinspect check --recursive {package}' "
                     "checks them too.")
    return tuple(notes)


def _check_import(session: Session, package: str, options: CheckOptions, context: CheckContext) -> ImportResult:
    """``import PACKAGE`` merged over the resolve probes; time budgets take the fastest of
    ``--repeat`` imports, so measure it again in fresh interpreters when asked to."""
    runs = [run for outcome in context.resolutions.values() for run in outcome.runs]
    if options.repeat > 1 and any(budget.name is None for budget in options.max_import_ms):
        request = ProbeRequest(protocol.MODE_RESOLVE, package)
        runs += session.run_fresh([request] * (options.repeat - 1))
    return results.import_result(runs, package) if runs else context.info.imported


def _annotated(result: Resolution, index: DistributionIndex) -> Resolution:
    """Every module of ``result`` attributed to its distribution (or the stdlib), with shares."""
    steps = tuple(replace(step, materialized=index.annotate(step.materialized)) for step in result.steps)
    observed = index.annotate(result.observed)
    if len(steps) == 1:
        # One step's loads as they are: the tuple names share, which the index summarizes once.
        return replace(result, steps=steps, observed=observed, distributions=index.summarize(steps[0].materialized))
    annotated = replace(result, steps=steps, observed=observed)
    return replace(annotated, distributions=index.summarize(annotated.materialized))


def _with_distributions(report: ReportT, index: DistributionIndex) -> ReportT:
    """The same report with every module attributed, whichever command made it: ``threading``
    is stdlib in check's and list's JSON as in resolve's."""
    changes: dict[str, Any] = {}
    if report.imported is not None:
        changes["imported"] = replace(report.imported, materialized=index.annotate(report.imported.materialized))
    for field in ("results", "resolutions"):
        results = getattr(report, field, None)
        if results is not None:
            changes[field] = tuple(_annotated(result, index) for result in results)
    return replace(report, **changes)
