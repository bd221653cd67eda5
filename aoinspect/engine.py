"""Use cases: run the probes a command needs and build its typed report.

Each public function here is one command's work (``list_names``, ``resolve_names``,
``check_package``); the CLI calls exactly one of them and renders what it returns.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from aoinspect import contracts, schema
from aoinspect.declarations import read_declarations, submodules_on_disk
from aoinspect.errors import InvalidName, PackageImportFailed, ProbeFailed
from aoinspect.models import (
    AllDeclaration,
    CheckOptions,
    CheckReport,
    Declarations,
    ErrorInfo,
    Finding,
    ImportResult,
    LazyName,
    ListReport,
    ModuleLoad,
    ObjectInfo,
    PackageInfo,
    Resolution,
    ResolveReport,
    Snapshot,
    Step,
    loads_from_raw,
)
from aoinspect.runner import ProbeRequest, ProbeRun, ProbeSettings
from aoinspect.session import Session, open_session

if TYPE_CHECKING:
    from aoinspect.distributions import DistributionIndex

# Looked up by check to see how the package treats a name it does not declare.
UNKNOWN_NAME = "aoinspect_unknown_name"


def validate_names(names: Iterable[str]) -> tuple[str, ...]:
    """Names are dotted attribute names (``nn.quantized``); anything else is a usage error,
    reported before any probe starts. Names are never evaluated, only looked up."""
    checked = []
    for name in names:
        if not _is_attribute_name(name):
            raise InvalidName(
                f"{name!r} is not a valid attribute name: use identifiers separated by dots, "
                "such as 'quantization' or 'nn.quantized'."
            )
        checked.append(name)
    return tuple(checked)


def _is_attribute_name(name: str) -> bool:
    return bool(name) and all(part.isidentifier() for part in name.split("."))


def _lazy(names: Iterable[LazyName]) -> list[str]:
    """The declared names to resolve: absent after import, and names an access could use
    (``__all__`` can hold any string; ``invalid-all`` reports the others)."""
    return [name.name for name in names if not name.loaded_at_import and _is_attribute_name(name.name)]


def validate_package(package: str) -> str:
    if not _is_attribute_name(package):
        raise InvalidName(f"{package!r} is not a valid module name.")
    return package


# --- the commands ------------------------------------------------------------------------------


def list_names(
    settings: ProbeSettings, package: str, *, include_undeclared: bool = False, resolve: bool = False,
    repeat: int = 1,
) -> ListReport:
    """The package's lazy names, where each is declared, and what ``import PACKAGE`` loaded;
    with ``resolve``, also what accessing each name not loaded at import materializes."""
    with open_session(settings, validate_package(package)) as session:
        info = _inspect(session, package)
        declarations = read_declarations(package, info.file)
        names = lazy_names(info, declarations)
        undeclared = None
        if include_undeclared:
            declared = {name.name for name in names}
            undeclared = tuple(
                name for name in submodules_on_disk(info.search_path) if name not in declared
            )
        resolutions = None
        if resolve:
            resolutions = _resolve(session, package, _lazy(names), repeat).results
        return ListReport(package, info.imported, names, undeclared, resolutions, session.isolation)


def resolve_names(
    settings: ProbeSettings, package: str, names: Sequence[str], *, repeat: int = 1, distributions: bool = True,
) -> ResolveReport:
    """Access each NAME in its own fresh interpreter (``repeat`` times) and report what it
    materialized; ``distributions`` attributes every module to the distribution providing it."""
    validate_package(package)
    names = validate_names(names)
    index = _distribution_index(settings) if distributions else None
    with open_session(settings, package, probes=len(names) * repeat) as session:
        report = _resolve(session, package, names, repeat)
    return _with_distributions(report, index) if index else report


def _distribution_index(settings: ProbeSettings) -> DistributionIndex:
    """Installed distributions (of the inspected interpreter's environment), read while the
    probes run rather than after them."""
    import sys

    from aoinspect.distributions import DistributionIndex

    python = None if settings.python == sys.executable else settings.python
    return DistributionIndex(python).prefetch()


def resolve_all(settings: ProbeSettings, package: str, *, repeat: int = 1, distributions: bool = True) -> ResolveReport:
    """Resolve every name the package declares."""
    index = _distribution_index(settings) if distributions else None
    with open_session(settings, validate_package(package)) as session:
        info = _inspect(session, package)
        names = lazy_names(info, read_declarations(package, info.file))
        report = _resolve(session, package, [name.name for name in names if _is_attribute_name(name.name)], repeat)
    return _with_distributions(report, index) if index else report


def _resolve(session: Session, package: str, names: Sequence[str], repeat: int) -> ResolveReport:
    requests = [ProbeRequest("resolve", package, (name,)) for name in names for _ in range(repeat)]
    runs = session.run(requests)
    imported = _import_result(runs, package) if runs else _inspect(session, package).imported
    results = tuple(
        _merged_resolution(runs[index * repeat:(index + 1) * repeat], name) for index, name in enumerate(names)
    )
    return ResolveReport(package, imported, results, repeat, session.isolation)


def check_package(settings: ProbeSettings, package: str, options: CheckOptions | None = None) -> CheckReport:
    """Verify the lazy contract, and the CI contracts in ``options``: every finding under a
    stable rule id."""
    options = options or CheckOptions()
    for name, _pattern in options.forbid_on:
        validate_names([name])
    validate_names(budget.name for budget in (*options.max_modules, *options.max_import_ms) if budget.name)
    baseline = contracts.read_baseline(options.baseline) if options.baseline and not options.update_baseline else None
    with open_session(settings, validate_package(package)) as session:
        return _check(session, package, options, baseline)


def snapshot(settings: ProbeSettings, package: str) -> Snapshot:
    """What ``import PACKAGE`` and each lazy name materialize, for a baseline file."""
    with open_session(settings, validate_package(package)) as session:
        info = _inspect(session, package)
        lazy = _lazy(lazy_names(info, read_declarations(package, info.file)))
        runs = session.run([ProbeRequest("resolve", package, (name,)) for name in lazy])
    resolutions = [_resolution(run, name) for run, name in zip(runs, lazy)]
    failed = next((result for result in resolutions if result.probe_failed), None)
    if failed is not None and failed.error is not None:
        raise ProbeFailed(failed.error.message)
    return contracts.snapshot_of(package, info.imported, resolutions)


def _check(session: Session, package: str, options: CheckOptions, baseline: Snapshot | None) -> CheckReport:
    rules = schema.LAZY_CONTRACT_RULES + options.rules
    try:
        info = _inspect(session, package)
    except (PackageImportFailed, ProbeFailed) as exc:
        rule = schema.RULE_IMPORT_FAILED if isinstance(exc, PackageImportFailed) else schema.RULE_PROBE_FAILED
        finding = Finding(rule, schema.SEVERITY_ERROR, None, exc.message)
        return CheckReport(package, None, (), (), (finding,), options.strict, session.isolation, rules)
    declarations = read_declarations(package, info.file)
    names = lazy_names(info, declarations)
    lazy = _lazy(names)
    eager = [name.name for name in names if name.loaded_at_import]
    # Names a contract is about are measured too, declared or not.
    asked = [name for name, _pattern in options.forbid_on] + [
        budget.name for budget in (*options.max_modules, *options.max_import_ms) if budget.name
    ]
    measured = list(dict.fromkeys([*lazy, *asked]))
    repeat = options.repeat

    requests = [ProbeRequest("resolve", package, (name,)) for name in measured for _ in range(repeat)]
    unknown_at = len(requests)
    requests.append(ProbeRequest("resolve", package, (UNKNOWN_NAME,)))
    requests.append(ProbeRequest("star", package))
    race_at = len(requests)
    if options.threads:
        requests.extend(ProbeRequest("race", package, (str(options.threads), name)) for name in lazy)
    ask_at = len(requests)
    if eager and info.has_getattr:
        requests.append(ProbeRequest("ask", package, tuple(eager)))
    runs = session.run(requests)
    # Time budgets take the fastest of --repeat imports: measure the import again if needed.
    import_runs = list(runs[:unknown_at])
    if repeat > 1 and any(budget.name is None for budget in options.max_import_ms):
        import_runs += session.run_fresh([ProbeRequest("resolve", package)] * (repeat - 1))
    imported = _import_result(import_runs, package) if import_runs else info.imported

    resolutions = tuple(
        _merged_resolution(runs[index * repeat:(index + 1) * repeat], name) for index, name in enumerate(measured)
    )
    by_name = {result.name: result for result in resolutions}
    findings: list[Finding] = []
    findings.extend(_declaration_findings(package, info, declarations))
    for resolution in resolutions:
        if resolution.name in lazy or resolution.probe_failed:
            findings.extend(_resolution_findings(package, resolution))
    findings.extend(_unknown_name_findings(package, _resolution(runs[unknown_at], UNKNOWN_NAME)))
    findings.extend(contracts.star_findings(package, runs[unknown_at + 1].section("star"), lazy))
    for offset, name in enumerate(lazy if options.threads else ()):
        findings.extend(contracts.race_findings(package, runs[race_at + offset].section("race"), name))
    if eager and info.has_getattr:
        findings.extend(_eager_findings(package, info, eager, runs[ask_at]))
    findings.extend(_dir_findings(package, info, lazy))
    findings.extend(_contract_findings(package, options, imported, by_name, lazy, baseline))
    if options.update_baseline and options.baseline:
        contracts.write_baseline(
            options.baseline, contracts.snapshot_of(package, imported, (by_name[name] for name in lazy))
        )
        findings.append(Finding(schema.RULE_BASELINE, schema.SEVERITY_INFO, None,
                                f"wrote the baseline {options.baseline}."))
    findings = [finding for finding in findings if finding.rule not in options.ignore]
    order = {schema.SEVERITY_ERROR: 0, schema.SEVERITY_WARNING: 1}
    findings.sort(key=lambda finding: (order.get(finding.severity, 2), finding.rule, finding.name or ""))
    rules = tuple(rule for rule in rules if rule not in options.ignore)
    return CheckReport(package, imported, names, resolutions, tuple(findings), options.strict,
                       session.isolation, rules)


def _contract_findings(
    package: str,
    options: CheckOptions,
    imported: ImportResult,
    by_name: dict[str, Resolution],
    lazy: list[str],
    baseline: Snapshot | None,
) -> list[Finding]:
    findings = contracts.forbidden(imported.materialized, options.forbid, None, f"import {package}")
    for name, pattern in options.forbid_on:
        result = by_name[name]
        findings += contracts.forbidden(result.materialized, [pattern], name, f"{package}.{name}")
    for budget in options.max_modules:
        if budget.name is None:
            findings += contracts.module_budget(budget, len(imported.materialized), f"import {package}")
        elif by_name[budget.name].ok:
            findings += contracts.module_budget(
                budget, len(by_name[budget.name].materialized), f"{package}.{budget.name}"
            )
    for budget in options.max_import_ms:
        if budget.name is None:
            findings += contracts.time_budget(budget, imported.min_elapsed_ms, imported.repeats, f"import {package}")
        elif by_name[budget.name].ok:
            result = by_name[budget.name]
            findings += contracts.time_budget(
                budget, result.min_elapsed_ms, result.repeats, f"{package}.{budget.name}"
            )
    if baseline is not None:
        current = contracts.snapshot_of(package, imported, (by_name[name] for name in lazy))
        findings += contracts.baseline_findings(package, baseline, current)
    return findings


# --- building blocks ---------------------------------------------------------------------------


def median(values: Sequence[float]) -> float:
    """The median; ``statistics`` would cost more to import than the whole computation."""
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def _inspect(session: Session, package: str) -> PackageInfo:
    """Import the package once in a child and describe what it declares and exposes."""
    (run,) = session.run([ProbeRequest("inspect", package)])
    imported = _import_result([run], package)
    raw = run.section("package")
    if raw is None:
        raise _probe_failed(run, f"describing {package}")
    raw_all = raw.get("all") or {}
    return PackageInfo(
        imported=imported,
        file=raw.get("file"),
        search_path=tuple(raw["path"]) if raw.get("path") is not None else None,
        all=AllDeclaration(
            kind=str(raw_all.get("kind", "missing")),
            type=str(raw_all.get("type", "")),
            names=tuple(raw_all.get("names", ())),
            invalid=tuple(raw_all.get("invalid", ())),
        ),
        namespace=frozenset(raw.get("namespace", ())),
        dir_names=frozenset(raw["dir"]) if raw.get("dir") is not None else None,
        dir_error=ErrorInfo.from_raw(raw["dir_error"]) if raw.get("dir_error") else None,
        has_getattr=bool(raw.get("has_getattr")),
    )


def lazy_names(info: PackageInfo, declarations: Declarations) -> tuple[LazyName, ...]:
    """Every declared name, in declaration order: ``__all__`` first, then the static ones."""
    sources: dict[str, list[str]] = {}
    for source, declared in (
        (schema.DECLARED_IN_ALL, info.all.names),
        (schema.DECLARED_IN_TYPE_CHECKING, declarations.type_checking),
        (schema.DECLARED_IN_STUB, declarations.stub),
    ):
        for name in declared:
            places = sources.setdefault(name, [])
            if source not in places:
                places.append(source)
    on_disk = set(submodules_on_disk(info.search_path))
    return tuple(
        LazyName(
            name=name,
            declared_in=tuple(places),
            submodule=name in on_disk,
            loaded_at_import=name in info.namespace,
        )
        for name, places in sources.items()
    )


def _import_result(runs: Sequence[ProbeRun], package: str) -> ImportResult:
    """``import PACKAGE`` as every probe that got that far measured it, times merged over
    them; raises if the import failed, or if no probe got that far."""
    # A fork server measured the import once and shares that section with every probe.
    raws = list({id(raw): raw for raw in (run.section("import") for run in runs) if raw is not None}.values())
    if not raws:
        raise _probe_failed(runs[0], f"importing {package}")
    for raw in raws:
        if not raw.get("ok"):
            error = ErrorInfo.from_raw(raw.get("error") or {})
            raise PackageImportFailed(_import_failure_message(package, error), error)
    loads, unstable = _merge_loads([loads_from_raw(raw.get("materialized", [])) for raw in raws])
    elapsed = [float(raw.get("elapsed_ms", 0.0)) for raw in raws]
    first = raws[0]
    return ImportResult(
        package=package,
        materialized=loads,
        removed=tuple(first.get("removed", ())),
        elapsed_ms=median(elapsed),
        threads=int(first.get("threads", 1)),
        python=".".join(str(part) for part in first.get("python") or []),
        min_elapsed_ms=min(elapsed),
        repeats=len(raws),
        unstable=unstable,
    )


def _merge_loads(samples: Sequence[Sequence[ModuleLoad]]) -> tuple[tuple[ModuleLoad, ...], tuple[str, ...]]:
    """One list of loads from several measurements of the same step: the first one's tree,
    median and minimum times, and the modules that not every measurement loaded."""
    first = tuple(samples[0])
    if len(samples) == 1:
        return first, ()
    by_module = [{load.module: load for load in sample} for sample in samples]
    everywhere = set(by_module[0]).intersection(*by_module[1:])
    anywhere = set(by_module[0]).union(*by_module[1:])
    unstable = tuple(sorted(anywhere - everywhere))
    merged = []
    for load in first:
        same = [loads[load.module] for loads in by_module if load.module in loads]
        self_times = [sample.self_ms for sample in same]
        cumulative_times = [sample.cumulative_ms for sample in same]
        merged.append(replace(
            load,
            self_ms=median(self_times),
            cumulative_ms=median(cumulative_times),
            min_self_ms=min(self_times),
            min_cumulative_ms=min(cumulative_times),
        ))
    return tuple(merged), unstable


def _merged_resolution(runs: Sequence[ProbeRun], name: str) -> Resolution:
    results = [_resolution(run, name) for run in runs]
    failed = next((result for result in results if result.probe_failed), None)
    if failed is not None:
        return replace(failed, repeats=len(results))
    first = results[0]
    if len(results) == 1:
        return first
    steps = []
    unstable: set[str] = set()
    for index, step in enumerate(first.steps):
        samples = [result.steps[index] for result in results if len(result.steps) > index]
        loads, unstable_here = _merge_loads([sample.materialized for sample in samples])
        unstable.update(unstable_here)
        elapsed = [sample.elapsed_ms for sample in samples]
        steps.append(replace(
            step, materialized=loads, elapsed_ms=median(elapsed), min_elapsed_ms=min(elapsed)
        ))
    if any(len(result.steps) != len(first.steps) or result.ok != first.ok for result in results):
        unstable.add(f"(the outcome of {name} differs between repeats)")
    return replace(first, steps=tuple(steps), repeats=len(results), unstable=tuple(sorted(unstable)))


def _with_distributions(report: ResolveReport, index: DistributionIndex) -> ResolveReport:
    imported = replace(report.imported, materialized=index.annotate(report.imported.materialized))
    results = []
    for result in report.results:
        steps = tuple(replace(step, materialized=index.annotate(step.materialized)) for step in result.steps)
        annotated = replace(result, steps=steps)
        results.append(replace(annotated, distributions=index.summarize(annotated.materialized)))
    return replace(report, imported=imported, results=tuple(results))


def _import_failure_message(package: str, error: ErrorInfo) -> str:
    if error.type in ("ModuleNotFoundError", "ImportError") and error.missing_module:
        if error.missing_module == package or package.startswith(error.missing_module + "."):
            return f"cannot import {package}: no module named {error.missing_module!r}."
        return (
            f"cannot import {package}: it needs the module {error.missing_module!r}, "
            f"which is not installed ({error})."
        )
    where = f" at {error.location}" if error.location else ""
    return f"cannot import {package}: {error}{where}."


def _probe_failed(run: ProbeRun, stage: str) -> ProbeFailed:
    internal = run.section("internal")
    if internal is not None:
        error = ErrorInfo.from_raw(internal.get("error") or {})
        return ProbeFailed(f"the probe failed while {stage}: {error}.", error)
    message = f"the probe {run.how_it_ended()} while {stage}."
    tail = run.output_tail.strip().splitlines()[-3:]
    if tail and not run.timed_out:
        message += " Its last output: " + " | ".join(line.strip() for line in tail)
    return ProbeFailed(message)


def _resolution(run: ProbeRun, name: str) -> Resolution:
    raw = run.section("resolve")
    if raw is None:
        failure = _probe_failed(run, f"accessing {run.request.package}.{name}")
        return Resolution(
            name=name,
            ok=False,
            error=ErrorInfo("ProbeFailed", failure.message),
            probe_failed=True,
            retried=_retried(run),
        )
    steps = tuple(
        Step(
            name=step["name"],
            via_getattr=bool(step.get("via_getattr")),
            materialized=loads_from_raw(step.get("materialized", [])),
            removed=tuple(step.get("removed", ())),
            elapsed_ms=float(step.get("elapsed_ms", 0.0)),
            min_elapsed_ms=float(step.get("elapsed_ms", 0.0)),
        )
        for step in raw.get("steps", [])
    )
    raw_error = raw.get("error")
    error = ErrorInfo.from_raw(raw_error) if raw_error else None
    raw_object = raw.get("object")
    return Resolution(
        name=name,
        ok=error is None,
        error=error,
        steps=steps,
        already_loaded=bool(raw.get("already_loaded")) and error is None,
        cached=raw.get("cached"),
        object=ObjectInfo(raw_object["type"], raw_object["repr"], bool(raw_object.get("is_module")))
        if raw_object
        else None,
        suggestions=_suggestions(name, raw.get("candidates")),
        rejected_as_attribute_error=bool(raw_error and raw_error.get("is_attribute_error")),
        retried=_retried(run),
    )


def _retried(run: ProbeRun) -> str | None:
    how = run.extra.get("retried_after")
    return f"the forked probe {how}; measured again in a fresh interpreter" if how else None


def _suggestions(name: str, candidates: list[Any] | None) -> tuple[str, ...]:
    if not candidates:
        return ()
    import difflib

    last = name.rsplit(".", 1)[-1]
    pool = list(dict.fromkeys(str(candidate) for candidate in candidates))
    return tuple(difflib.get_close_matches(last, pool, n=3, cutoff=0.6))


# --- check's rules -----------------------------------------------------------------------------


def _declaration_findings(package: str, info: PackageInfo, declarations: Declarations) -> list[Finding]:
    findings = []
    declared_all = info.all
    if declared_all.kind == "other":
        findings.append(Finding(
            schema.RULE_INVALID_ALL, schema.SEVERITY_ERROR, None,
            f"{package}.__all__ is a {declared_all.type}, not a list or tuple of strings.",
        ))
    if declared_all.invalid:
        findings.append(Finding(
            schema.RULE_INVALID_ALL, schema.SEVERITY_ERROR, None,
            f"{package}.__all__ holds items that are not strings ({', '.join(declared_all.invalid)}); "
            f"'from {package} import *' raises TypeError.",
        ))
    for name in declared_all.duplicates:
        findings.append(Finding(
            schema.RULE_INVALID_ALL, schema.SEVERITY_WARNING, name,
            f"{package}.__all__ lists {name!r} more than once.",
        ))
    for name in dict.fromkeys(declared_all.names):
        if not name.isidentifier():
            findings.append(Finding(
                schema.RULE_INVALID_ALL, schema.SEVERITY_ERROR, None,
                f"{package}.__all__ lists {name!r}, which is not an identifier; "
                f"'from {package} import *' cannot bind it.",
            ))
    if declared_all.kind in ("list", "tuple"):
        runtime = set(declared_all.names)
        static_sources = []
        if declarations.type_checking_found:
            static_sources.append(("the TYPE_CHECKING block", declarations.type_checking))
        if declarations.stub_path:
            static_sources.append((f"the stub {declarations.stub_path}", declarations.stub))
        for source, names in static_sources:
            static = set(names)
            for name in sorted(static - runtime):
                findings.append(Finding(
                    schema.RULE_DECLARATION_MISMATCH, schema.SEVERITY_ERROR, name,
                    f"{name!r} is declared in {source} but not in {package}.__all__.",
                ))
            for name in sorted(runtime - static):
                findings.append(Finding(
                    schema.RULE_DECLARATION_MISMATCH, schema.SEVERITY_ERROR, name,
                    f"{name!r} is in {package}.__all__ but not declared in {source}.",
                ))
    return findings


def _resolution_findings(package: str, resolution: Resolution) -> list[Finding]:
    name = resolution.name
    if resolution.probe_failed:
        message = resolution.error.message if resolution.error else "the probe failed"
        return [Finding(schema.RULE_PROBE_FAILED, schema.SEVERITY_ERROR, name, message)]
    if resolution.error is not None:
        where = f" at {resolution.error.location}" if resolution.error.location else ""
        return [Finding(
            schema.RULE_RESOLVE_FAILED, schema.SEVERITY_ERROR, name,
            f"{package}.{name} is declared but accessing it raised {resolution.error}{where}.",
        )]
    if resolution.cached is False:
        return [Finding(
            schema.RULE_NOT_CACHED, schema.SEVERITY_WARNING, name,
            f"a second access to {package}.{name} calls __getattr__ again or imports more; "
            "set the attribute (or let the import system do it) on first access.",
        )]
    return []


def _unknown_name_findings(package: str, resolution: Resolution) -> list[Finding]:
    name = resolution.name
    if resolution.probe_failed:
        message = resolution.error.message if resolution.error else "the probe failed"
        return [Finding(schema.RULE_PROBE_FAILED, schema.SEVERITY_ERROR, name, message)]
    findings = []
    if resolution.error is None:
        kind = resolution.object.type if resolution.object else "a value"
        findings.append(Finding(
            schema.RULE_UNKNOWN_ACCEPTED, schema.SEVERITY_ERROR, name,
            f"looking up the undeclared name {package}.{name} returned {kind} instead of raising "
            "AttributeError.",
        ))
    elif not resolution.rejected_as_attribute_error:
        where = f" at {resolution.error.location}" if resolution.error.location else ""
        findings.append(Finding(
            schema.RULE_WRONG_EXCEPTION, schema.SEVERITY_ERROR, name,
            f"looking up an unknown name raises {resolution.error}{where}, not AttributeError; "
            "hasattr() and getattr(obj, name, default) will raise instead of answering.",
        ))
    if resolution.materialized:
        modules = ", ".join(load.module for load in resolution.materialized[:10])
        more = len(resolution.materialized) - 10
        findings.append(Finding(
            schema.RULE_REJECTION_SIDE_EFFECT, schema.SEVERITY_ERROR, name,
            f"looking up the unknown name {package}.{name} imported {len(resolution.materialized)} "
            f"module(s): {modules}" + (f" and {more} more" if more > 0 else "") + ".",
        ))
    return findings


def _eager_findings(package: str, info: PackageInfo, eager: list[str], run: ProbeRun) -> list[Finding]:
    raw = run.section("ask")
    if raw is None:
        failure = _probe_failed(run, f"asking {package}.__getattr__ about eager names")
        return [Finding(schema.RULE_PROBE_FAILED, schema.SEVERITY_ERROR, None, failure.message)]
    answers = raw.get("answers", {})
    findings = []
    for name in eager:
        if not (answers.get(name) or {}).get("served"):
            continue
        importer = info.imported.importer_of(f"{package}.{name}")
        by = f" (imported by {importer})" if importer else ""
        findings.append(Finding(
            schema.RULE_EAGER_IMPORT, schema.SEVERITY_ERROR, name,
            f"{package}.{name} is declared lazy (its __getattr__ serves it) but 'import {package}' "
            f"already loads it{by}.",
        ))
    return findings


def _dir_findings(package: str, info: PackageInfo, lazy: list[str]) -> list[Finding]:
    if info.dir_error is not None:
        where = f" at {info.dir_error.location}" if info.dir_error.location else ""
        return [Finding(
            schema.RULE_MISSING_DIR, schema.SEVERITY_WARNING, None,
            f"dir({package}) raises {info.dir_error}{where}; tab completion and introspection cannot list "
            "its names.",
        )]
    if info.dir_names is None or not lazy:
        return []
    missing = [name for name in lazy if name not in info.dir_names]
    if not missing:
        return []
    return [Finding(
        schema.RULE_MISSING_DIR, schema.SEVERITY_WARNING, None,
        f"dir({package}) does not list the lazy name(s) {', '.join(missing)}; define a module "
        "__dir__ so that tab completion and introspection can see them.",
    )]
