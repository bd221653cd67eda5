"""From probe runs to results: the typed sections of one or more runs, and how each run ended,
read into ``ImportResult``, ``PackageInfo`` and ``Resolution``. Repeated runs of one request
are merged here (median and minimum times, modules not every repeat loaded)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aoinspect.errors import PackageImportFailed, ProbeFailed
from aoinspect.models import AllDeclaration, ErrorInfo, ImportResult, PackageInfo, Resolution
from aoinspect.probing import wire
from aoinspect.records import replace

if TYPE_CHECKING:
    from collections.abc import Sequence

    from aoinspect.models import ModuleLoad
    from aoinspect.probing.wire import ProbeRun


def median(values: Sequence[float]) -> float:
    """The median; ``statistics`` would cost more to import than the whole computation."""
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def probe_failed(run: ProbeRun, stage: str) -> ProbeFailed:
    """Why ``run`` produced nothing to read, as the error the engine raises or reports."""
    internal = run.get(wire.InternalSection)
    if internal is not None:
        return ProbeFailed(f"the probe failed while {stage}: {internal.error}.", internal.error)
    message = f"the probe {run.how_it_ended()} while {stage}."
    if run.timed_out:
        message = message[:-1] + " (--timeout SECONDS raises the deadline)."
    tail = run.output_tail.strip().splitlines()[-3:]
    if tail and not run.timed_out:
        message += " Its last output: " + " | ".join(line.strip() for line in tail)
    return ProbeFailed(message)


def import_result(runs: Sequence[ProbeRun], package: str) -> ImportResult:
    """``import PACKAGE`` as every probe that got that far measured it, times merged over
    them; raises if the import failed, or if no probe got that far."""
    # A fork server measured the import once and shares that section with every probe.
    found = {id(section): section for section in (run.get(wire.ImportSection) for run in runs) if section}
    measured = list(found.values())
    if not measured:
        raise probe_failed(runs[0], f"importing {package}")
    for section in measured:
        if not section.ok:
            error = section.error or ErrorInfo("Exception", "")
            raise PackageImportFailed(import_failure_message(package, error), error)
    loads, unstable = merge_loads([section.materialized for section in measured])
    elapsed = [section.elapsed_ms for section in measured]
    first = measured[0]
    return ImportResult(
        package=package,
        materialized=loads,
        removed=first.removed,
        elapsed_ms=median(elapsed),
        threads=first.threads,
        python=first.python,
        min_elapsed_ms=min(elapsed),
        repeats=len(measured),
        unstable=unstable,
        warnings=first.warnings,
    )


def package_info(run: ProbeRun, package: str) -> PackageInfo:
    """The package as an ``inspect`` probe described it right after import."""
    imported = import_result([run], package)
    described = run.get(wire.PackageSection)
    if described is None:
        raise probe_failed(run, f"describing {package}")
    return PackageInfo(
        imported=imported,
        file=described.file,
        search_path=described.path,
        all=AllDeclaration(described.all.kind, described.all.type, described.all.names, described.all.invalid),
        namespace=frozenset(described.namespace),
        dir_names=frozenset(described.dir) if described.dir is not None else None,
        dir_error=described.dir_error,
        has_getattr=described.has_getattr,
        mechanism=described.mechanism,
        shim_proxies=frozenset(described.shim_proxies),
    )


def merge_loads(samples: Sequence[Sequence[ModuleLoad]]) -> tuple[tuple[ModuleLoad, ...], tuple[str, ...]]:
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


def resolution(run: ProbeRun, name: str) -> Resolution:
    """One access of ``PACKAGE.NAME``, or the probe failure that kept it from being measured."""
    measured = run.get(wire.ResolveSection)
    retried = f"the forked probe {run.retried_after}; measured again in a fresh interpreter" \
        if run.retried_after else None
    if measured is None or run.protocol_error is not None:
        failure = probe_failed(run, f"accessing {run.request.package}.{name}")
        return Resolution(name=name, ok=False, error=ErrorInfo("ProbeFailed", failure.message), probe_failed=True,
                          retried=retried)
    error = measured.error
    return Resolution(
        name=name,
        ok=error is None,
        error=error,
        steps=measured.steps,
        already_loaded=measured.already_loaded and error is None,
        cached=measured.cached,
        second_error=measured.second_error,
        object=measured.object,
        # "Did you mean" only for a name that was not found (not for one whose module failed).
        # Of the step that failed: 'quantizers' in 'quantizers.pipe_quant_config' when it is missing.
        suggestions=suggestions(".".join(step.name for step in measured.steps) or name, measured.candidates)
        if measured.rejected_as_attribute_error else (),
        rejected_as_attribute_error=measured.rejected_as_attribute_error,
        retried=retried,
        observed=measured.observed,
        from_cache=run.from_cache,
    )


def merged_resolution(runs: Sequence[ProbeRun], name: str) -> Resolution:
    """One access measured ``len(runs)`` times: median and minimum times, and what differed."""
    results = [resolution(run, name) for run in runs]
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
        loads, unstable_here = merge_loads([sample.materialized for sample in samples])
        unstable.update(unstable_here)
        elapsed = [sample.elapsed_ms for sample in samples]
        steps.append(replace(step, materialized=loads, elapsed_ms=median(elapsed), min_elapsed_ms=min(elapsed)))
    if any(len(result.steps) != len(first.steps) or result.ok != first.ok for result in results):
        unstable.add(f"(the outcome of {name} differs between repeats)")
    return replace(first, steps=tuple(steps), repeats=len(results), unstable=tuple(sorted(unstable)))


def suggestions(name: str, candidates: Sequence[str]) -> tuple[str, ...]:
    """"Did you mean" for a name that failed to resolve."""
    if not candidates:
        return ()
    import difflib

    last = name.rsplit(".", 1)[-1]
    # An attribute name, never the one that failed: a dotted entry of __all__ is no attribute, and
    # may be the very name typed (diffusers' 'quantizers.pipe_quant_config').
    pool = [candidate for candidate in dict.fromkeys(candidates) if candidate.isidentifier() and candidate != last]
    if len(pool) > LARGE_POOL:
        # Thousands of names (transformers) cost difflib 75 ms a failed name: look among those
        # that begin with the same letter, as a typo rarely changes the first one.
        initial = last[:1].lower()
        pool = [candidate for candidate in pool if candidate[:1].lower() == initial]
    return tuple(difflib.get_close_matches(last, pool, n=3, cutoff=0.6))


LARGE_POOL = 2000


def import_failure_message(package: str, error: ErrorInfo) -> str:
    if error.type in ("ModuleNotFoundError", "ImportError") and error.missing_module:
        if error.missing_module == package or package.startswith(error.missing_module + "."):
            return f"cannot import {package}: no module named {error.missing_module!r}."
        return (
            f"cannot import {package}: it needs the module {error.missing_module!r}, "
            f"which is not installed ({error})."
        )
    where = f" at {error.location}" if error.location else ""
    return f"cannot import {package}: {error}{where}."
