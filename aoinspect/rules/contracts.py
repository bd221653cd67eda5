"""CI contracts on top of the lazy contract, each turned on by its option: forbidden imports,
budgets, a baseline, thread races."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aoinspect import baseline, schema
from aoinspect.child import protocol
from aoinspect.models import Finding, import_chain
from aoinspect.patterns import matches
from aoinspect.probing import wire
from aoinspect.probing.wire import ProbeRequest
from aoinspect.rules.base import Rule
from aoinspect.rules.lazy import probe_failure

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence

    from aoinspect.models import Budget, ModuleLoad, Snapshot
    from aoinspect.planning import Outcome, Plan
    from aoinspect.probing.wire import ProbeRun
    from aoinspect.rules.base import CheckContext


def _what(context: CheckContext, name: str | None) -> str:
    return f"import {context.package}" if name is None else f"{context.package}.{name}"


# --- forbidden imports -------------------------------------------------------------------------


def forbidden(
    rule: Rule, loads: Sequence[ModuleLoad], patterns: Iterable[str], name: str | None, what: str
) -> Iterator[Finding]:
    patterns = list(patterns)
    for load in loads:
        hit = next((pattern for pattern in patterns if matches(load.module, pattern)), None)
        if hit is not None:
            chain = " -> ".join(import_chain(loads, load.module))
            yield rule.finding(name, f"{what} imports {load.module}, forbidden by {hit!r}: {chain}.")


def _forbidden_import(rule: Rule, context: CheckContext) -> Iterator[Finding]:
    options = context.options
    yield from forbidden(rule, context.import_result.materialized, options.forbid, None, _what(context, None))
    for name, pattern in options.forbid_on:
        result = context.resolution(name)
        yield from forbidden(rule, result.materialized, [pattern], name, _what(context, name))


FORBIDDEN_IMPORT = Rule(
    "forbidden-import", schema.SEVERITY_ERROR, "--forbid / --forbid-on matched a loaded module",
    "import the module lazily, where it is used (the chain shows who imports it)",
    find=_forbidden_import, enabled=lambda options: bool(options.forbid or options.forbid_on), per_name=True,
    option="--forbid, --forbid-on",
)


# --- budgets -----------------------------------------------------------------------------------


def _module_budget(rule: Rule, budget: Budget, count: int, what: str) -> Iterator[Finding]:
    if count > budget.limit:
        yield rule.finding(budget.name, f"{what} materializes {count} modules; the budget is {budget.limit:g}.")


def _time_budget(rule: Rule, budget: Budget, measured_ms: float, samples: int, what: str) -> Iterator[Finding]:
    if measured_ms > budget.limit:
        measured = f"{measured_ms:.1f} ms" + (f" (the fastest of {samples} runs)" if samples > 1 else "")
        yield rule.finding(budget.name, f"{what} takes {measured}; the budget is {budget.limit:g} ms.")


def _budget_exceeded(rule: Rule, context: CheckContext) -> Iterator[Finding]:
    imported = context.import_result
    for budget in context.options.max_modules:
        what = _what(context, budget.name)
        if budget.name is None:
            yield from _module_budget(rule, budget, len(imported.materialized), what)
        elif context.resolution(budget.name).ok:
            yield from _module_budget(rule, budget, len(context.resolution(budget.name).materialized), what)
    for budget in context.options.max_import_ms:
        what = _what(context, budget.name)
        if budget.name is None:
            yield from _time_budget(rule, budget, imported.min_elapsed_ms, imported.repeats, what)
        elif context.resolution(budget.name).ok:
            result = context.resolution(budget.name)
            yield from _time_budget(rule, budget, result.min_elapsed_ms, result.repeats, what)


BUDGET_EXCEEDED = Rule(
    "budget-exceeded", schema.SEVERITY_ERROR, "--max-modules / --max-import-ms exceeded",
    "load less at that step, or raise the budget on purpose",
    find=_budget_exceeded, enabled=lambda options: bool(options.max_modules or options.max_import_ms),
    per_name=True, option="--max-modules, --max-import-ms",
)


# --- the baseline ------------------------------------------------------------------------------


def current_snapshot(context: CheckContext) -> Snapshot:
    return baseline.snapshot_of(
        context.package, context.import_result, (context.resolution(name) for name in context.lazy)
    )


def _baseline_changes(context: CheckContext) -> Iterator[tuple[str | None, list[str], list[str] | None]]:
    """(name, modules added, modules removed; None when the baseline lacks the name)."""
    recorded = context.baseline
    if recorded is None:
        return
    current = current_snapshot(context)
    before_by_name = dict(recorded.names)
    subjects: list[tuple[str | None, tuple[str, ...], tuple[str, ...] | None]] = [
        (None, current.imported, recorded.imported)
    ]
    subjects.extend((name, modules, before_by_name.get(name)) for name, modules in current.names)
    for name, now, before in subjects:
        if before is None:
            yield name, [], None
        else:
            yield name, sorted(set(now) - set(before)), sorted(set(before) - set(now))


def _new_import(rule: Rule, context: CheckContext) -> Iterator[Finding]:
    for name, added, _removed in _baseline_changes(context):
        if added:
            yield rule.finding(name, f"{_what(context, name)} now imports {len(added)} module(s) the baseline did "
                                     f"not have: {', '.join(added)}.")


NEW_IMPORT = Rule(
    "new-import", schema.SEVERITY_ERROR, "a module the --baseline did not have",
    "drop the new import, or record it with --update-baseline",
    find=_new_import, enabled=lambda options: bool(options.baseline), per_name=True, option="--baseline",
)


def _baseline_notes(rule: Rule, context: CheckContext) -> Iterator[Finding]:
    for name, _added, removed in _baseline_changes(context):
        what = _what(context, name)
        if removed is None:
            yield rule.finding(name, f"{what} is not in the baseline; --update-baseline records it.")
        elif removed:
            yield rule.finding(name, f"good news: {what} no longer imports {', '.join(removed)}; "
                                     "--update-baseline records it.")


BASELINE = Rule(
    "baseline", schema.SEVERITY_INFO, "(info) modules gone since the baseline, names it lacks, updates",
    "nothing to fix: --update-baseline records the change",
    find=_baseline_notes, enabled=lambda options: bool(options.baseline), option="--baseline",
)


# --- thread races ------------------------------------------------------------------------------


def _plan_races(rule: Rule, context: CheckContext, plan: Plan) -> dict[str, Outcome[wire.RaceSection | Finding]]:
    del rule
    threads = context.options.threads

    def reader(name: str) -> Callable[[Sequence[ProbeRun]], wire.RaceSection | Finding]:
        def read(runs: Sequence[ProbeRun]) -> wire.RaceSection | Finding:
            race = runs[0].get(wire.RaceSection)
            if race is not None and runs[0].completed:
                return race
            return probe_failure(runs[0], f"accessing {context.package}.{name} from {threads} threads at once", name)
        return read

    return {
        name: plan.add(ProbeRequest(protocol.MODE_RACE, context.package, (name,), threads=threads),
                       reader(name))
        for name in context.lazy
    }


def _thread_unsafe(rule: Rule, context: CheckContext) -> Iterator[Finding]:
    for name, outcome in context.planned[rule.id].items():
        race = outcome.value
        if not isinstance(race, wire.RaceSection):
            continue  # probe-failed reports it
        what = f"{context.package}.{name}"
        if race.errors:
            first = race.errors[0]
            yield rule.finding(name, f"{len(race.errors)} of {race.threads} threads accessing {what} at once raised; "
                                     f"the first: {first} at {first.location}.")
        if race.distinct_objects > 1:
            yield rule.finding(name, f"{race.threads} threads accessing {what} at once got {race.distinct_objects} "
                                     "different objects.")


THREAD_UNSAFE = Rule(
    "thread-unsafe", schema.SEVERITY_ERROR, "--threads: an access raised, or threads got different objects",
    "guard the first access with a lock, or import under the import lock (importlib.import_module)",
    find=_thread_unsafe, plan=_plan_races, enabled=lambda options: options.threads > 0, per_name=True,
    option="--threads",
)
