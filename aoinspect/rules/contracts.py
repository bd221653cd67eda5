"""CI contracts on top of the lazy contract, each turned on by its option: forbidden imports,
budgets, a baseline, thread races."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aoinspect import baseline, outcomes
from aoinspect.child import protocol
from aoinspect.models import Finding, import_chain
from aoinspect.patterns import matches
from aoinspect.probing import wire
from aoinspect.probing.wire import ProbeRequest
from aoinspect.rules import fakes
from aoinspect.rules.base import Rule, example
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
    rule: Rule, loads: Sequence[ModuleLoad], patterns: Iterable[str], name: str | None, what: str,
    located: Callable[[ModuleLoad], str | None] | None = None,
) -> Iterator[Finding]:
    """One finding per loaded module a pattern matches, with the chain that brought it in: for
    ``check --forbid``/``--forbid-on`` and ``trace --forbid`` alike (``located``: where the chain
    began, for a traced program's line)."""
    patterns = list(patterns)
    for load in loads:
        hit = next((pattern for pattern in patterns if matches(load.module, pattern)), None)
        if hit is not None:
            chain = " -> ".join(import_chain(loads, load.module))
            where = located(load) if located is not None else None
            at = f", from {where}" if where else ""
            yield rule.finding(name, f"{what} imports {load.module}, forbidden by {hit!r}: {chain}{at}.")


def _forbidden_import(rule: Rule, context: CheckContext) -> Iterator[Finding]:
    options = context.options
    yield from forbidden(rule, context.import_result.materialized, options.forbid, None, _what(context, None))
    for name, pattern in options.forbid_on:
        result = context.resolution(name)
        yield from forbidden(rule, result.materialized, [pattern], name, _what(context, name))


FORBIDDEN_IMPORT = Rule(
    "forbidden-import", outcomes.SEVERITY_ERROR, "`--forbid` / `--forbid-on` matched a loaded module",
    "import the module lazily, where it is used (the chain shows who imports it)",
    find=_forbidden_import, enabled=lambda options: bool(options.forbid or options.forbid_on), per_name=True,
    option="--forbid, --forbid-on",
    what="With `--forbid PATTERN`, reports each module that `import PKG` loads and PATTERN matches; with "
         "`--forbid-on NAME:PATTERN`, each one that accessing `PKG.NAME` loads. Patterns are fnmatch-style and "
         "cover submodules: `numpy` and `numpy.*` alike match numpy and everything under it. One finding per "
         "module, with the chain of imports that brought it in.",
    why="It turns \"importing our package must not load torch\" into a test that fails in CI, before a release "
        "makes every user pay for it. Such imports come back through a new convenience import or a dependency's "
        "own eager imports, two or three modules away; the chain says where.",
    example=example(
        {"pkg/__init__.py": """
            from pkg.plotting import plot
         """,
         "pkg/plotting.py": """
            import heavyplot


            def plot(data):
                return heavyplot.draw(data)
         """,
         "heavyplot/__init__.py": """
            def draw(data):
                return None
         """},
        "-p pkg check --forbid heavyplot",
        "error  forbidden-import: import pkg imports heavyplot, forbidden by 'heavyplot': pkg -> "
        "pkg.plotting -> heavyplot.",
    ),
)


# --- budgets -----------------------------------------------------------------------------------


def module_budget(rule: Rule, budget: Budget, count: int, what: str) -> Iterator[Finding]:
    if count > budget.limit:
        yield rule.finding(budget.name, f"{what} materializes {count} modules; the budget is {budget.limit:g}.")


def time_budget(rule: Rule, budget: Budget, measured_ms: float, samples: int, what: str) -> Iterator[Finding]:
    if measured_ms > budget.limit:
        measured = f"{measured_ms:.1f} ms" + (f" (the fastest of {samples} runs)" if samples > 1 else "")
        yield rule.finding(budget.name, f"{what} takes {measured}; the budget is {budget.limit:g} ms.")


def _budget_exceeded(rule: Rule, context: CheckContext) -> Iterator[Finding]:
    imported = context.import_result
    for budget in context.options.max_modules:
        what = _what(context, budget.name)
        if budget.name is None:
            yield from module_budget(rule, budget, len(imported.materialized), what)
        elif context.resolution(budget.name).ok:
            yield from module_budget(rule, budget, len(context.resolution(budget.name).materialized), what)
    for budget in context.options.max_import_ms:
        what = _what(context, budget.name)
        if budget.name is None:
            yield from time_budget(rule, budget, imported.min_elapsed_ms, imported.repeats, what)
        elif context.resolution(budget.name).ok:
            result = context.resolution(budget.name)
            yield from time_budget(rule, budget, result.min_elapsed_ms, result.repeats, what)


BUDGET_EXCEEDED = Rule(
    "budget-exceeded", outcomes.SEVERITY_ERROR, "`--max-modules` / `--max-import-ms` exceeded",
    "load less at that step, or raise the budget on purpose",
    find=_budget_exceeded, enabled=lambda options: bool(options.max_modules or options.max_import_ms),
    per_name=True, option="--max-modules, --max-import-ms",
    what="With `--max-modules N`, reports an `import PKG` that materializes more than N modules (PKG itself "
         "included); with `--max-modules NAME:N`, an access of `PKG.NAME` that does. `--max-import-ms [NAME:]MS` "
         "does the same with the time of that step in milliseconds, the fastest of `--repeat` runs, measured afresh "
         "(time budgets bypass the cache).",
    why="Import cost grows one reasonable-looking import at a time, and nobody notices until start-up is slow. A "
        "budget makes the growth a decision: the run fails on the pull request that crosses it. Module counts are "
        "exact and stable across machines; times are not, so time budgets need headroom and `--repeat`.",
    example=example(
        {"pkg/__init__.py": """
            from pkg import plotting, stats
         """, **fakes.FUNCTION_MODULES},
        "-p pkg check --max-modules 2",
        "error  budget-exceeded: import pkg materializes 3 modules; the budget is 2.",
    ),
)


# --- the baseline ------------------------------------------------------------------------------

_BASELINE_ABOUT = (
    "`baseline.json` was written by `aoinspect -p pkg check --baseline baseline.json --update-baseline` when "
    "`pkg` also imported `pkg._compat` and `pkg.stats` imported nothing; since then `pkg._compat` is gone and "
    "`pkg.stats` imports `pkg._linalg`."
)
_BASELINE_EXAMPLE = {
    "baseline.json": """
        {
          "aoinspect_baseline": 1,
          "import": [
            "pkg",
            "pkg._compat",
            "pkg.stats"
          ],
          "names": {},
          "package": "pkg"
        }
    """,
    "pkg/__init__.py": """
        from pkg.stats import fit
    """,
    "pkg/stats.py": "import pkg._linalg\n\n\n" + fakes.STATS,
    "pkg/_linalg.py": "",
}


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
    "new-import", outcomes.SEVERITY_ERROR, "a module the `--baseline` did not have",
    "drop the new import, or record it with `--update-baseline`",
    find=_new_import, enabled=lambda options: bool(options.baseline), per_name=True, option="--baseline",
    what="With `--baseline FILE` (written by `aoinspect snapshot` or `check --update-baseline`), compares what "
         "`import PKG` and each lazy name load now with what the baseline recorded, and reports the modules that "
         "are new: one finding for `import PKG` and one per name.",
    why="A baseline committed next to the code makes every new import a visible change: the pull request that "
        "adds one fails until the baseline is updated in the same pull request, where a reviewer sees it. Budgets "
        "catch growth in numbers; a baseline catches which module came in.",
    example=example(
        _BASELINE_EXAMPLE, "-p pkg check --baseline baseline.json",
        "error  new-import: import pkg now imports 1 module(s) the baseline did not have: pkg._linalg.",
        about=_BASELINE_ABOUT,
    ),
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
    "baseline", outcomes.SEVERITY_INFO, "modules gone since the baseline, names it lacks, updates",
    "nothing to fix: `--update-baseline` records the change",
    find=_baseline_notes, enabled=lambda options: bool(options.baseline), option="--baseline",
    what="With `--baseline FILE`, notes what is not a regression: modules that `import PKG` or a lazy name no "
         "longer load (good news), lazy names the baseline does not have yet, and, with `--update-baseline`, that "
         "the file was written.",
    why="A baseline that is not updated when imports go away keeps allowing them to come back unnoticed. The note "
        "says when the recorded state is out of date in the good direction, so that the improvement can be locked "
        "in.",
    example=example(
        _BASELINE_EXAMPLE, "-p pkg check --baseline baseline.json",
        "info  baseline: good news: import pkg no longer imports pkg._compat; --update-baseline records "
        "it.",
        about=_BASELINE_ABOUT,
    ),
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
    "thread-unsafe", outcomes.SEVERITY_ERROR, "`--threads`: an access raised, or threads got different objects",
    "guard the first access with a lock, or import under the import lock (`importlib.import_module`)",
    find=_thread_unsafe, plan=_plan_races, enabled=lambda options: options.threads > 0, per_name=True,
    option="--threads",
    what="With `--threads N`, accesses each lazy name from N threads released at the same moment, in a fresh "
         "interpreter after `import PKG`. Reports a name when some of those accesses raised (how many, and the "
         "first exception) and when the threads got more than one distinct object.",
    why="The first access of a lazy name runs code, and a web server or a thread pool may run it from several "
        "threads at once. An unguarded check-then-create builds two registries, two caches or two class objects "
        "(then `isinstance` fails across threads), or lets a thread see a half-initialized module. The import "
        "system's own lock protects `importlib.import_module`, not the code around it.",
    example=example(
        {"pkg/__init__.py": """
            import time

            __all__ = ["registry"]


            def __getattr__(name):
                if name == "registry":
                    time.sleep(0.2)  # building it takes a while
                    globals()["registry"] = value = {}
                    return value
                raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


            def __dir__():
                return [*globals(), *__all__]
         """},
        "-p pkg check --threads 8",
        "error  thread-unsafe (registry): 8 threads accessing pkg.registry at once got 8 different "
        "objects.",
    ),
)
