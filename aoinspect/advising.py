"""``aoinspect advise``'s engine: from the executed-import graph to one piece of advice per import
statement, with measured savings.

1. One child records the executed-import graph (``graphing.record_graph``).
2. The package's files (a program's: its own files) are read statically (``pep810``): every
   import statement, whether PEP 810 allows it lazy, the ``__lazy_modules__`` entry selecting it.
3. Each executed statement is matched to its requests in the graph; what deferring it alone saves
   is reachability without those edges (``graphing.saved_if_deferred``), and when nothing, the
   chain that keeps the target loaded (``graphing.kept_loaded_by``).
4. The candidates are deferred under PEP 810 semantics in a child (``deferral.simulate``): a
   statement whose name is used during the import is undone there (the line is named) and saves
   nothing. The recommended set is simulated again, as a set, until nothing in it is undone.
5. Effects: each candidate's targets run in a fresh child that records what they change
   (``child/effects.py``): deferring the statement delays or cancels that.
6. Timing (``timing.Harness``): the recommended set, then the candidates, largest module saving
   first, within ``--budget``.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from aoinspect import outcomes
from aoinspect.models import Finding
from aoinspect.models.advise import (
    KEEP,
    LAZY,
    NOT_ALLOWED,
    Advice,
    AdviseReport,
    Effect,
    EntryAdvice,
    FailCondition,
    Place,
    StaleEntry,
    Timing,
)
from aoinspect.rules.lazy_modules import LAZY_CANDIDATE, LAZY_ENTRY_REIFIED, STALE_LAZY_ENTRY, closest_entry

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

DEFAULT_TIMEOUT = 60.0


@dataclass(eq=False)  # each statement once: identity is equality (and a dictionary key)
class _Candidate:
    """One executed import statement, while its advice is worked out."""

    statement: Any  # pep810.ImportStatement
    requests: tuple[int, ...]  # its requests in the graph
    saved: frozenset[str] = frozenset()
    reified: Place | None = None
    kept_by: tuple[Place, ...] = ()
    effects: tuple[Effect, ...] = ()
    risks: list[str] = field(default_factory=list)
    declared: bool = False
    only_hits: bool = False  # every request of it found its target loaded and loaded nothing: it saves nothing
    timing: Timing | None = None
    decision: str = KEEP
    reason: str = ""

    @property
    def harmful(self) -> bool:
        """Deferring it would not be harmless: it is used during the import, delays an effect, or is risky."""
        return self.reified is not None or bool(self.effects) or bool(self.risks)

    @property
    def key(self) -> tuple[str, int]:
        return (self.statement.file, self.statement.line)


def advise(
    package: str | None, *, entry: str | None = None, program: Sequence[str] = (), python: str | None = None,
    timeout: float = DEFAULT_TIMEOUT, budget: float = 30.0, fail_on: Sequence[FailCondition] = (),
) -> AdviseReport:
    """The advice for ``import PACKAGE`` (or ``entry`` code, or ``python PROGRAM``: the program's
    own files) on ``python`` (None: this interpreter)."""
    from aoinspect import graphing

    interpreter = python
    if interpreter is not None:
        from aoinspect.errors import InvalidSetting
        from aoinspect.probing.runner import check_interpreter

        problem = check_interpreter(interpreter, 30.0)
        if problem:
            raise InvalidSetting(problem)
    graph = graphing.record_graph(package or "", entry=entry, program=tuple(program) or None, python=interpreter,
                                  timeout=timeout)
    if graph.ending == "timeout":
        from aoinspect.errors import ProbeFailed

        raise ProbeFailed(f"{graph.entry} did not end within --timeout {timeout:g} s ({graph.error}).")
    if not graph.ok:
        from aoinspect.errors import PackageImportFailed

        raise PackageImportFailed(f"{graph.entry} failed: {graph.error}")
    statements = _statements(package, graph, program)
    candidates = _match(graph, statements)
    savings = _Savings(graph)
    for candidate in candidates:
        candidate.declared = bool(candidate.statement.declared or candidate.statement.lazy_keyword)
        _judge_statically(graph, savings, candidate)
    # Declared ones too, saving or not: on 3.15 they are lazy, and one used during the import is
    # what `check`'s lazy-entry-reified and --fail-on reified-entry report.
    movable = [candidate for candidate in candidates
               if candidate.saved or (candidate.declared and candidate.statement.allowed)]
    notes: list[str] = []
    simulated: frozenset[str] | None = None
    if movable:
        simulated = _simulate(package, graph, movable, entry=entry, program=program, python=interpreter,
                              timeout=timeout)
        note = _observe(package, [candidate for candidate in movable if candidate.reified is None], entry=entry,
                        program=program, python=interpreter, timeout=timeout)
        if note:
            notes.append(note)
    _star_risks(graph, candidates)
    for candidate in candidates:
        _decide(candidate, "run" if program else "import", frozenset(graph.baseline))
    entries = _entries(savings, candidates)
    _entry_vetoes(candidates, entries)
    recommended = tuple((entry_advice.module, entry_advice.entry) for entry_advice in entries
                        if entry_advice.decision == LAZY and not entry_advice.declared)
    combined_saved: frozenset[str] = frozenset()
    combined: Timing | None = None
    # Every statement the recommended entries select, those that save nothing alone included: the set as adopted.
    chosen = [candidate for candidate in candidates if candidate.statement.allowed and _entries_of(candidate.statement)
              and all((candidate.statement.module, name) in recommended for name in _entries_of(candidate.statement))]
    if chosen:
        combined_saved = savings([index for candidate in chosen for index in candidate.requests])
        if simulated is not None and {candidate.key for candidate in chosen} == {
                candidate.key for candidate in movable if candidate.saved}:
            # The simulation deferred exactly this set: what it loaded is the measurement.
            combined_saved = graph.module_names - simulated - frozenset(graph.baseline) - savings.aliases
    timed = _time(package, chosen, candidates, entries, entry=entry, program=program, python=interpreter,
                  timeout=timeout, budget=budget, notes=notes)
    combined = timed.pop(None, None)
    for candidate in candidates:
        candidate.timing = timed.get(candidate.key)
    entries = [replace(entry_advice, timing=timed.get((entry_advice.file, entry_advice.entry)) or (
        timed.get((entry_advice.file, entry_advice.lines[0])) if len(entry_advice.lines) == 1 else None))
        for entry_advice in entries]
    unmeasured = [candidate for candidate in candidates if candidate.saved and candidate.timing is None]
    if unmeasured and budget > 0:
        notes.append(f"{len(unmeasured)} candidates were not timed within --budget {budget:g} s; raise it to "
                     "time them.")
    if program:
        notes.append("the program was run several times: once recorded, then deferred and undeferred.")
    advice = tuple(_advice(candidate) for candidate in candidates)
    report = AdviseReport(
        package=package or "", python=graph.python, lazy_annotations=_lazy_annotations(graph.python),
        advice=advice, entries=tuple(entries), stale=tuple(_stale(statements)), recommended=recommended,
        combined_saved=tuple(sorted(combined_saved)), combined=combined,
        modules=len(graph.modules) - len(savings.aliases),
        entry_code=entry, program=tuple(program), budget_s=budget, notes=tuple(notes), fail_on=tuple(fail_on),
    )
    return replace(report, findings=tuple(failed_conditions(report)))


def _lazy_annotations(version: str) -> bool:
    try:
        major, minor = (int(part) for part in version.split(".")[:2])
    except ValueError:
        return False
    return (major, minor) >= (3, 14)


# --- statements and their requests --------------------------------------------------------------


def _statements(package: str | None, graph: Any, program: Sequence[str]) -> tuple[Any, ...]:
    """The import statements of the files the run executed: the package's (its modules in the
    graph), or a program's own (loaded from below the working directory, outside any
    environment's site-packages, and its script). Files that did not run are not read: rich has
    a hundred, its import runs four."""
    from aoinspect import pep810

    root = os.path.realpath(os.getcwd()) + os.sep
    found: list[Any] = []
    seen: set[str] = set()
    aliases = _aliases(graph)
    for module in graph.modules:
        file = module.file
        if not file or not file.endswith(".py"):
            continue
        if module.name in aliases:
            continue  # the file is another module's, and its statements are advised there
        if package:
            if module.name != package and not module.name.startswith(package + "."):
                continue
        else:
            real = os.path.realpath(file)
            if not real.startswith(root) or "site-packages" in real:
                continue
        if file in seen:
            continue
        seen.add(file)
        try:
            found.extend(pep810.scan_module(file, module.name, os.path.basename(file) == "__init__.py"))
        except (OSError, SyntaxError, ValueError):
            continue  # a file that changed since it ran, or that is not Python source
    script = _script(program)
    if script is not None and script not in seen and os.path.abspath(script) not in seen:
        found.extend(pep810.scan_module(os.path.abspath(script), "__main__", False))
    return tuple(found)


def _aliases(graph: Any) -> frozenset[str]:
    """The names in ``sys.modules`` that are another key for a module imported under its own name
    (requests.packages puts urllib3's modules under ``requests.packages.urllib3``): not modules of
    their own, neither loaded nor saved."""
    imported_as = {os.path.realpath(module.file): module.name for module in graph.modules
                   if module.file and not module.by_other_means}
    return frozenset(module.name for module in graph.modules if module.by_other_means and module.file
                     and imported_as.get(os.path.realpath(module.file), module.name) != module.name)


def _script(program: Sequence[str]) -> str | None:
    words = [word for word in program if not word.startswith("-")]
    if program and words and words[0].endswith(".py") and os.path.isfile(words[0]):
        return words[0]
    return None


def _same_file(left: str, right: str) -> bool:
    return left == right or os.path.realpath(left) == os.path.realpath(right)


def _match(graph: Any, statements: Sequence[Any]) -> list[_Candidate]:
    """The statements the run executed, each with its requests (same file, a line of the
    statement), in file and line order."""
    by_file: dict[str, list[Any]] = {}
    for request in graph.requests:
        if request.file:
            by_file.setdefault(os.path.realpath(request.file), []).append(request)
    candidates = []
    for statement in statements:
        requests = by_file.get(os.path.realpath(statement.file), ())
        end = statement.end_line or statement.line
        indices = tuple(request.index for request in requests if statement.line <= request.line <= end)
        if indices:
            candidates.append(_Candidate(statement, indices))
    candidates.sort(key=lambda candidate: candidate.key)
    return candidates


def _stale(statements: Sequence[Any]) -> Iterable[StaleEntry]:
    from aoinspect import pep810

    by_file: dict[str, list[Any]] = {}
    for statement in statements:
        by_file.setdefault(statement.file, []).append(statement)
    for file, in_file in sorted(by_file.items()):
        lazy_modules = pep810.read_lazy_modules(file, in_file[0].module, os.path.basename(file) == "__init__.py")
        if lazy_modules is None:
            continue
        for stale in pep810.stale_entries(lazy_modules, in_file):
            yield StaleEntry(in_file[0].module, file, stale.line, stale.entry, stale.reason,
                             closest_entry(stale, in_file))


# --- judging -------------------------------------------------------------------------------------


def _place(request: Any) -> Place:
    return Place(request.file or f"<{request.owner or 'entry'}>", request.line, request.owner,
                 request.statement or None)


class _Savings:
    """``graphing.saved_if_deferred`` for one graph, its full reach computed once and each set of
    requests once (an entry of one statement asks what its statement asked)."""

    def __init__(self, graph: Any) -> None:
        from aoinspect import graphing

        self.graph = graph
        self.aliases = _aliases(graph)
        self.everything = graphing.reachable(graph) - self.aliases
        self.known: dict[frozenset[int], frozenset[str]] = {}

    def __call__(self, indices: Iterable[int]) -> frozenset[str]:
        from aoinspect import graphing

        key = frozenset(indices)
        if key not in self.known:
            self.known[key] = self.everything - graphing.reachable(self.graph, key)
        return self.known[key]


def _judge_statically(graph: Any, saved: _Savings, candidate: _Candidate) -> None:
    """What the graph alone says: the modules its deferral saves, else what keeps them loaded."""
    from aoinspect import graphing

    if not candidate.statement.allowed:
        return
    requests = [graph.requests[index] for index in candidate.requests]
    if all(request.hit and not request.loaded for request in requests) and not any(
            module.by_other_means and module.loaded_by in candidate.requests for module in graph.modules):
        # A hit loads nothing, and what it needs was loaded earlier by requests made before it, which
        # stay when it is deferred: nothing is saved, and the chain is the one that loaded the target.
        candidate.only_hits = True
        candidate.kept_by = _load_chain(graph, requests[0])
        return
    candidate.saved = saved(candidate.requests)
    if not candidate.saved:
        chain = graphing.kept_loaded_by(graph, candidate.requests[0])
        # The entry's own request (``import PKG`` in ``<string>``) starts every chain: it says nothing.
        candidate.kept_by = tuple(_place(request) for request in chain if request.owner is not None)


def _load_chain(graph: Any, request: Any) -> tuple[Place, ...]:
    """The requests that first loaded a hit's target, from the package's own line outwards: what
    keeps it loaded when the hit is deferred (``graphing.kept_loaded_by``'s answer, found without
    a walk of the whole graph)."""
    by_name = {module.name: module for module in graph.modules}
    wanted = (request.submodules or (request.target,))[0]
    chain = []
    seen: set[int] = set()
    module = by_name.get(wanted)
    while module is not None and module.loaded_by is not None and module.loaded_by not in seen:
        seen.add(module.loaded_by)
        loader = graph.requests[module.loaded_by]
        if loader.owner is None:
            break  # the entry's own request: it says nothing
        chain.append(_place(loader))
        module = by_name.get(loader.owner)
    return tuple(reversed(chain))


def _simulate(
    package: str | None, graph: Any, movable: list[_Candidate], *, entry: str | None, program: Sequence[str],
    python: str | None, timeout: float,
) -> frozenset[str] | None:
    """Defer the candidates together under PEP 810 semantics; a statement whose name is used
    during the import is undone there: it saves nothing, and its line is named. The others are
    deferred again without it until none is undone. A run that fails is split: each candidate
    alone, and those whose deferral makes the entry fail are kept, with the error as their risk.
    Returns the modules the last run loaded (the remaining set, deferred together), or None."""
    from aoinspect import deferral

    remaining = list(movable)
    options: dict[str, Any] = {"entry": entry, "program": tuple(program) or None, "python": python,
                               "timeout": timeout}
    for _attempt in range(6):
        if not remaining:
            return None
        result = deferral.simulate(package or "", [candidate.statement for candidate in remaining], **options)
        if result.error is not None:
            breaking = _breaking(package, remaining, result.error, options)
            for candidate, error in breaking.items():
                candidate.risks.append(f"deferred, the import fails: {error}")
                candidate.saved = frozenset()
            remaining = [candidate for candidate in remaining if candidate not in breaking]
            continue
        undone: dict[tuple[str, int], Any] = {}
        for reification in result.reified:
            key = (os.path.realpath(reification.statement_file), reification.statement_line)
            # A program's run is what is advised on: a name its own code uses later is loaded all the same.
            if reification.error is not None or reification.during_import or program:
                undone.setdefault(key, reification)
        if not undone:
            # The simulation is the measurement: what it still loaded is not saved, reported or not
            # (a program's own script is not rewritten: its uses are seen only here).
            for candidate in remaining:
                candidate.saved = candidate.saved - result.modules
            return result.modules
        still = []
        for candidate in remaining:
            undoing = undone.get((os.path.realpath(candidate.statement.file), candidate.statement.line))
            if undoing is None:
                still.append(candidate)
                continue
            reification = undoing
            if reification.error is not None:
                candidate.risks.append(f"reified at {reification.file}:{reification.line}, it raises "
                                       f"{reification.error} (a circular import, a missing module)")
            if reification.during_import or program:
                candidate.reified = Place(reification.file or "<unknown>", reification.line)
            candidate.saved = frozenset()
        remaining = still
    return None


def _breaking(package: str | None, group: list[_Candidate], error: str,
              options: dict[str, Any]) -> dict[_Candidate, str]:
    """The candidates whose deferral makes the entry fail (``group`` deferred together failed
    with ``error``), found by halving: every level's halves run in one child (a fork each), so a
    few culprits among many cost a few children, not one run per candidate. Halves that only
    fail together are all returned, with the error they make together."""
    from aoinspect import deferral

    found: dict[_Candidate, str] = {}
    failing = [(group, error)]
    while failing:
        split = [(members, together, [members[:len(members) // 2], members[len(members) // 2:]])
                 for members, together in failing]
        halves = [half for _members, _together, parts in split for half in parts]
        runs = iter(deferral.simulate_each(package or "", [[member.statement for member in half] for half in halves],
                                           **options))
        failing = []
        for members, together, parts in split:
            broken = [(half, run.error) for half, run in ((half, next(runs)) for half in parts)
                      if run.error is not None]
            if not broken:  # each half works alone: they fail only together
                found.update(dict.fromkeys(members, together))
            for half, half_error in broken:
                if len(half) == 1:
                    found[half[0]] = half_error or together
                else:
                    failing.append((half, half_error or together))
    return found


def _observe(
    package: str | None, candidates: list[_Candidate], *, entry: str | None, program: Sequence[str],
    python: str | None, timeout: float,
) -> str | None:
    """Run the entry once more in a child that attributes each change to the rest of the
    interpreter (atexit, signal handlers, sys.path, registries...) to the module whose body made
    it: deferring a statement delays or cancels the effects of the modules it stops loading.
    Returns a note when the child could not tell."""
    from aoinspect import effecting

    if not candidates:
        return None
    if program:
        kind, target, arguments = effecting.program_entry(program)
    else:
        kind, target, arguments = effecting.COMMAND, entry if entry is not None else f"import {package}", ()
    observed = effecting.observe(kind, target, arguments, python=python, timeout=timeout)
    for candidate in candidates:
        candidate.effects = tuple(Effect(kind_, detail) for kind_, detail in observed.of(candidate.saved))
    if observed.error is not None:
        return f"the run that observed side effects ended with {observed.error}; effects may be missing."
    return None


def _star_risks(graph: Any, candidates: list[_Candidate]) -> None:
    """A module that another module star-imports has every lazy import reified by that import."""
    stars: dict[str, list[Any]] = {}
    for request in graph.requests:
        if "*" in (request.names or ()):
            stars.setdefault(request.target, []).append(request)
    exported: dict[str, frozenset[str] | None] = {}
    for candidate in candidates:
        statement = candidate.statement
        if not statement.allowed or statement.module not in stars:
            continue  # kept eager anyway (__future__, try, a star import itself): nothing to reify
        if statement.file not in exported:
            exported[statement.file] = _dunder_all(statement.file)
        names = exported[statement.file]
        # ``import *`` takes the names of __all__, else every public one: a lazy import bound to
        # another name is not touched by it.
        if not any(name in names if names is not None else not name.startswith("_") for name in statement.bound):
            continue
        for request in stars[statement.module][:1]:
            candidate.risks.append(f"{statement.module} is star-imported at {request.file}:{request.line}, "
                                   "which reifies the lazy imports whose names it takes")


def _dunder_all(file: str) -> frozenset[str] | None:
    """The module's ``__all__`` when it is a literal list or tuple of strings assigned once at
    module level (None: no ``__all__``, or one read only by running the module)."""
    import ast

    try:
        with open(file, encoding="utf-8") as stream:
            tree = ast.parse(stream.read())
    except (OSError, SyntaxError, ValueError, UnicodeDecodeError):
        return None
    found: frozenset[str] | None = None
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
            node, (ast.AugAssign, ast.AnnAssign)) else []
        if not any(isinstance(target, ast.Name) and target.id == "__all__" for target in targets):
            continue
        if found is not None or not isinstance(node, (ast.Assign, ast.AnnAssign)) or node.value is None:
            return None  # assigned twice, or extended: read only by running it
        try:
            value = ast.literal_eval(node.value)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return None
        if not isinstance(value, (list, tuple)) or not all(isinstance(name, str) for name in value):
            return None
        found = frozenset(value)
    return found


def _decide(candidate: _Candidate, during: str, started_with: frozenset[str] = frozenset()) -> None:
    statement = candidate.statement
    if not statement.allowed:
        candidate.decision, candidate.reason = NOT_ALLOWED, statement.reason or "PEP 810 does not allow it here"
    elif candidate.reified is not None:
        candidate.decision = KEEP
        candidate.reason = f"used during the {during} at {candidate.reified.location}: deferring it saves nothing"
    elif candidate.risks and not candidate.saved:
        candidate.decision = KEEP
        failing = [risk for risk in candidate.risks if risk.startswith("deferred, the import fails")]
        candidate.reason = ("deferring it breaks the import: " if failing else "saves nothing; risky: ") + "; ".join(
            failing or candidate.risks)
    elif not candidate.saved:
        candidate.decision = KEEP
        if candidate.kept_by:
            candidate.reason = "saves nothing: the target stays loaded via " + " -> ".join(
                place.location for place in candidate.kept_by)
        elif started_with and set(candidate.statement.targets) <= started_with:
            candidate.reason = "saves nothing: the interpreter loads its target at start-up"
        else:
            candidate.reason = "saves nothing: the target stays loaded"
    elif candidate.effects:
        candidate.decision = KEEP
        candidate.reason = "deferring it would delay what its target does at import"
    elif candidate.risks:
        candidate.decision = KEEP
        candidate.reason = "risky: " + "; ".join(candidate.risks)
    else:
        candidate.decision = LAZY
        candidate.reason = f"saves {len(candidate.saved)} module{'' if len(candidate.saved) == 1 else 's'}"


def _entries(savings: _Savings, candidates: list[_Candidate]) -> list[EntryAdvice]:
    """Per module and entry: every statement of that file the entry selects, deferred together."""

    groups: dict[tuple[str, str, str], list[_Candidate]] = {}
    for candidate in candidates:
        statement = candidate.statement
        if statement.allowed:
            for entry in _entries_of(statement):
                groups.setdefault((statement.module, statement.file, entry), []).append(candidate)
    entries = []
    for (module, file, entry), members in groups.items():
        # A member that saves nothing is made lazy harmlessly; one used during the import, that
        # delays an effect or is risky keeps the whole entry out.
        decision = LAZY if any(member.decision == LAZY for member in members) and not any(
            member.harmful for member in members) else KEEP
        # Hits alone save nothing together either: the first loader of each target is not among them.
        saved = frozenset() if all(member.only_hits for member in members) else savings(
            [index for member in members for index in member.requests])
        if any(member.reified is not None for member in members):
            saved = frozenset()
        entries.append(EntryAdvice(module, file, entry, tuple(member.statement.line for member in members), decision,
                                   tuple(sorted(saved)), None, any(member.declared for member in members)))
    return entries


def _entries_of(statement: Any) -> tuple[str, ...]:
    """Every entry a statement needs (``import a, b``: "a" and "b")."""
    return tuple(statement.entries) or ((statement.entry,) if statement.entry else ())


def _entry_vetoes(candidates: list[_Candidate], entries: list[EntryAdvice]) -> None:
    """An entry makes every statement it selects in its file lazy: a statement that could be
    lazy is kept when its entry also selects one whose deferral would not be harmless."""
    kept = {(entry.file, entry.entry): entry for entry in entries if entry.decision != LAZY}
    harmful = {candidate.key for candidate in candidates if candidate.harmful}
    for candidate in candidates:
        entry = next((kept[key] for name in _entries_of(candidate.statement)
                      if (key := (candidate.statement.file, name)) in kept), None)
        if candidate.decision == LAZY and entry is not None:
            others = [line for line in entry.lines if (candidate.statement.file, line) in harmful]
            candidate.decision = KEEP
            candidate.reason = (f"its entry {entry.entry!r} also selects line {', '.join(map(str, others))}, "
                                "which must stay eager")


# --- timing --------------------------------------------------------------------------------------


def _time(
    package: str | None, chosen: list[_Candidate], candidates: list[_Candidate], entries: list[EntryAdvice], *,
    entry: str | None,
    program: Sequence[str], python: str | None, timeout: float, budget: float, notes: list[str],
) -> dict[Any, Timing]:
    """The recommended set first (key None), then each entry that selects several statements
    (key: file, entry), then each candidate with a saving, largest first (key: file, line)."""
    from aoinspect import deferral
    from aoinspect.timing import Harness

    def run(statements: object) -> float:
        deferred = () if statements is None else statements
        result = deferral.simulate(package or "", deferred, entry=entry, program=tuple(program) or None,  # type: ignore[arg-type]
                                   python=python, timeout=timeout)
        if result.error is not None:
            raise deferral.SimulationFailed(f"a timing run failed: {result.error}")
        return float(result.elapsed_ns) / 1e6

    queue: list[tuple[Any, object]] = []
    if len(chosen) > 1:
        queue.append((None, tuple(candidate.statement for candidate in chosen)))
    for selecting in entries:  # an entry that selects several statements defers them together
        members = [candidate for candidate in candidates if candidate.statement.file == selecting.file
                   and candidate.statement.line in selecting.lines]
        if selecting.decision == LAZY and len(members) > 1:
            queue.append(((selecting.file, selecting.entry), tuple(member.statement for member in members)))
    ranked = sorted((candidate for candidate in candidates if candidate.saved and candidate.reified is None),
                    key=lambda candidate: (-len(candidate.saved), candidate.key))
    queue.extend((candidate.key, (candidate.statement,)) for candidate in ranked)
    try:
        timings: dict[Any, Timing] = Harness(run, time.monotonic).measure(queue, budget)
    except deferral.SimulationFailed as exc:
        notes.append(f"nothing was timed: {exc.message}")
        return {}
    if len(chosen) == 1 and chosen[0].key in timings:
        timings[None] = timings[chosen[0].key]
    return timings


# --- the report ----------------------------------------------------------------------------------


def _advice(candidate: _Candidate) -> Advice:
    statement = candidate.statement
    return Advice(
        module=statement.module, file=statement.file, line=statement.line, text=statement.text.splitlines()[0]
        if statement.text else "", decision=candidate.decision, reason=candidate.reason,
        entry=", ".join(_entries_of(statement)) if statement.allowed else None, targets=tuple(statement.targets),
        saved=tuple(sorted(candidate.saved)), timing=candidate.timing, reified=candidate.reified,
        kept_by=candidate.kept_by, effects=candidate.effects, risks=tuple(candidate.risks),
        declared=candidate.declared,
    )


def failed_conditions(report: AdviseReport) -> list[Finding]:
    """One error finding per ``--fail-on`` condition that holds, under the ``check`` rule that
    says the same (its documentation is SARIF's), named by the statement's ``file:line`` (the
    annotations put it on that line)."""
    findings: list[Finding] = []
    for condition in report.fail_on:
        if condition.kind == "stale-entry":
            findings.extend(Finding(STALE_LAZY_ENTRY.id, outcomes.SEVERITY_ERROR, f"{stale.file}:{stale.line}",
                                    f"--fail-on {condition.text}: {stale.entry!r} in __lazy_modules__ of "
                                    f"{stale.module} {stale.reason}")
                            for stale in report.stale)
        elif condition.kind == "reified-entry":
            findings.extend(Finding(LAZY_ENTRY_REIFIED.id, outcomes.SEVERITY_ERROR, row.location,
                                    f"--fail-on {condition.text}: {row.entry!r} is declared lazy but "
                                    f"{row.reified.location} uses it during the import")
                            for row in report.advice if row.declared and row.reified is not None)
        else:
            for row in report.advice:
                if row.decision != LAZY or row.declared:
                    continue
                if condition.kind == "saving-modules" and len(row.saved) > condition.limit:
                    amount = f"{len(row.saved)} module{'' if len(row.saved) == 1 else 's'}"
                elif (condition.kind == "saving-ms" and row.timing is not None and not row.timing.within_noise
                      and row.timing.saved_ms > condition.limit):
                    amount = str(row.timing)
                else:
                    continue
                findings.append(Finding(LAZY_CANDIDATE.id, outcomes.SEVERITY_ERROR, row.location,
                                        f"--fail-on {condition.text}: deferring {row.text} would save {amount}; "
                                        f"add {row.entry!r} to __lazy_modules__ of {row.module}"))
    return findings

