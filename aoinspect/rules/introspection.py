"""The package under introspection: what tools that look at it (IPython, debuggers, inspect,
pickle, the REPL's TAB completion) make it load or raise, each measured in a fresh probe after
``import PKG``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, TypeVar

from aoinspect import outcomes
from aoinspect.child import protocol
from aoinspect.probing import wire
from aoinspect.probing.wire import ProbeRequest
from aoinspect.rules import fakes
from aoinspect.rules.base import Rule, example, plain, shown
from aoinspect.rules.lazy import (
    StarProbe,
    probe_failure,
    section_plan,
    star_probe,
    whole_package_deadline,
    whole_package_plan,
)

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from aoinspect.models import ErrorInfo, Finding, ModuleLoad
    from aoinspect.planning import Outcome, Plan
    from aoinspect.probing.wire import ProbeRun
    from aoinspect.rules.base import CheckContext

# The attributes tools look up with hasattr() or getattr(obj, name, default) on any object they
# are given, and who does: dunder-probe asks the package for each (the README lists them).
PROBED_ATTRIBUTES: dict[str, str] = {
    "__wrapped__": "inspect.unwrap and inspect.signature",
    "__signature__": "inspect.signature",
    "__origin__": "typing.get_origin and typing-aware libraries",
    "__test__": "doctest and pytest collection",
    "_fields": "namedtuple checks in serializers and pretty printers",
    "_ipython_display_": "IPython's display",
    "_ipython_canary_method_should_not_exist_": "IPython's display",
    "_repr_html_": "IPython and Jupyter rich display",
    "_repr_mimebundle_": "IPython and Jupyter rich display",
    "_repr_pretty_": "IPython's pretty printer",
    "__array_interface__": "numpy.asarray",
    "__array_struct__": "numpy.asarray",
    "__array__": "numpy.asarray",
    "__length_hint__": "length-hint checks",
    "__iter__": "iterability checks",
    "__path__": "the import system and pkgutil",  # a package has one: True is a fine answer
}
# Lazy names pickled (and unpickled) per probe where the graph cannot say they are independent: one
# probe imports them all.
PICKLE_BATCH = 50

S = TypeVar("S", wire.DirSection, wire.HasattrSection, wire.GetmoduleSection, wire.CompleteSection)



def _finding(rule: Rule, name: str | None, message: str) -> Finding:
    """The finding, with the fix a maintainer would make."""
    return rule.finding(name, f"{message.rstrip('. ')}. Fix: {plain(rule.fix)}.")


def _where(error: ErrorInfo) -> str:
    return f" at {error.location}" if error.location else ""


def _names(loads: Sequence[ModuleLoad]) -> list[str]:
    return [load.module for load in loads]


def _imports(loads: Sequence[ModuleLoad], *, by_name: bool = False) -> str:
    """``imports 2 module(s) (a, b)``, for messages: in the order the imports began, or by name
    where that order is the order of a set of strings (it changes with the hash seed)."""
    names = sorted(_names(loads)) if by_name else _names(loads)
    return f"imports {len(loads)} module(s) ({shown(names)})"


def _measured(rule: Rule, context: CheckContext, kind: type[S]) -> S | None:
    """The rule's section, unless its probe failed (probe-failed reports that)."""
    section = context.planned[rule.id].value
    return section if isinstance(section, kind) else None


# --- dir(PKG) -----------------------------------------------------------------------------------


def _dir_loads(rule: Rule, context: CheckContext) -> Iterator[Finding]:
    section = _measured(rule, context, wire.DirSection)
    if section is None:
        return
    package, loads = context.package, section.materialized
    if section.error is not None:
        after = f" after it {_imports(loads)}" if loads else ""
        yield _finding(rule, None, f"dir({package}) raises {section.error}{_where(section.error)}{after}; IPython, "
                                 "debuggers and help() call it on whatever they show.")
    elif loads:
        yield _finding(rule, None, f"dir({package}) {_imports(loads)} in {section.elapsed_ms:.1f} ms; IPython, "
                                 "debuggers and help() call it on whatever they show.")


DIR_LOADS = Rule(
    "dir-loads", outcomes.SEVERITY_WARNING, "`dir(PKG)` imports or raises",
    "make `__dir__` return the names without importing anything (from `__all__` or a static list)",
    find=_dir_loads, plan=section_plan(protocol.MODE_DIR, wire.DirSection, "running dir({package})"),
    what="Calls `dir(PKG)` in a fresh interpreter after `import PKG` and reports the modules it imported (with the "
         "time it took) or the exception it raised (with what it had imported by then).",
    why="IPython, debuggers, `help()` and TAB completion call `dir()` on whatever they show: a `__dir__` that "
        "imports the lazy parts to list their names loads them the moment someone looks at the package, and one "
        "that raises breaks those tools.",
    example=example(
        {"pkg/__init__.py": fakes.LAZY_SUBMODULES.replace(
            "def __dir__():\n", "def __dir__():\n    from . import plotting, stats  # to list their names too\n\n"
        ).replace("[*globals(), *__all__]", "[*globals(), *__all__, *plotting.__all__, *stats.__all__]"),
         "pkg/plotting.py": '__all__ = ["plot"]\n\n\n' + fakes.PLOTTING,
         "pkg/stats.py": '__all__ = ["fit"]\n\n\n' + fakes.STATS},
        "-p pkg check",
        "warning  dir-loads: dir(pkg) imports 2 module(s) (pkg.plotting, pkg.stats) in 0.9 ms; IPython, "
        "debuggers and help() call it on whatever they show. Fix: make __dir__ return the names without "
        "importing anything (from __all__ or a static list).",
    ),
)


# --- hasattr(PKG, ...) for what tools probe -----------------------------------------------------


def _dunder_probe(rule: Rule, context: CheckContext) -> Iterator[Finding]:
    section = _measured(rule, context, wire.HasattrSection)
    if section is None:
        return
    package = context.package
    # One finding per kind of failure: a __getattr__ that imports any name raises for all of them.
    raised: dict[tuple[str, str | None], list[wire.AttributeProbe]] = {}
    for probe in section.probes:
        if probe.error is not None:
            raised.setdefault((probe.error.type, probe.error.location), []).append(probe)
    for probes in raised.values():
        first = probes[0]
        assert first.error is not None
        also = [repr(probe.name) for probe in probes[1:]]
        yield _finding(rule, None, f"hasattr({package}, {first.name!r}) raises {first.error}{_where(first.error)} "
                                 f"instead of returning False ({PROBED_ATTRIBUTES.get(first.name, 'tools')} probe it "
                                 "on any object)" + (f"; so do {shown(also)}" if also else "") + ".")
    for probe in section.probes:
        if probe.materialized:
            yield _finding(rule, None, f"hasattr({package}, {probe.name!r}) {_imports(probe.materialized)}; "
                                     f"{PROBED_ATTRIBUTES.get(probe.name, 'tools')} probe it on any object.")


DUNDER_PROBE = Rule(
    "dunder-probe", outcomes.SEVERITY_ERROR,
    "`hasattr(PKG, NAME)` for a name tools probe (`__wrapped__`, ...) raises or imports",
    "make `__getattr__` raise `AttributeError` for names it does not serve before importing anything",
    find=_dunder_probe,
    plan=section_plan(protocol.MODE_HASATTR, wire.HasattrSection, "probing hasattr({package}, ...)",
                      tuple(PROBED_ATTRIBUTES)),
    what="Calls `hasattr(PKG, NAME)` in a fresh interpreter after `import PKG`, for each name that tools look up "
         "on any object they are given: " + ", ".join(f"`{name}`" for name in PROBED_ATTRIBUTES) + " (a package "
         "has `__path__`: `True` is a fine answer there). Reports the lookups that raised, one finding per kind of "
         "exception and where it was raised, and each lookup that imported modules.",
    why="`inspect.unwrap` and `inspect.signature`, `typing.get_origin`, doctest and pytest collection, IPython's "
        "display and pretty printer, `numpy.asarray` and serializers all ask these questions of the package when "
        "it passes through them. A `__getattr__` that imports or raises for them turns looking at the package "
        "into loading it, or into a crash far from the package's code.",
    example=example(
        {"pkg/__init__.py": """
            import importlib

            __all__ = ["fit", "plot"]


            def __getattr__(name):
                compat = importlib.import_module("pkg._compat")  # where the old names live on
                return getattr(compat, name)


            def __dir__():
                return [*globals(), *__all__]
         """,
         "pkg/_compat.py": fakes.STATS + "\n\n" + fakes.PLOTTING},
        "-p pkg check",
        "error  dunder-probe: hasattr(pkg, '__wrapped__') imports 1 module(s) (pkg._compat); "
        "inspect.unwrap and inspect.signature probe it on any object. Fix: make __getattr__ raise "
        "AttributeError for names it does not serve before importing anything.",
    ),
)


# --- inspect.getmodule --------------------------------------------------------------------------


def _getmodule_loads(rule: Rule, context: CheckContext) -> Iterator[Finding]:
    section = _measured(rule, context, wire.GetmoduleSection)
    if section is None:
        return
    walk = f"after 'import {context.package}': it reads __file__ of every module in sys.modules"
    if section.executed:
        walk += f", which executed the LazyLoader module(s) {shown(list(section.executed))}"
    callers = "IPython's tracebacks, debuggers and inspect.getsource call it."
    if section.error is not None:
        after = f" after it {_imports(section.materialized)}" if section.materialized else ""
        yield _finding(rule, None, f"inspect.getmodule raises {section.error}{_where(section.error)}{after} {walk}. "
                                 f"{callers}")
    elif section.materialized:
        yield _finding(rule, None, f"inspect.getmodule {_imports(section.materialized)} {walk}. {callers}")


GETMODULE_LOADS = Rule(
    "getmodule-loads", outcomes.SEVERITY_ERROR,
    "`inspect.getmodule`'s walk of `sys.modules` imports or raises",
    "keep `LazyLoader` modules and proxies out of `sys.modules` until first use (serve them from a module "
    "`__getattr__`), and let `__file__` be read without loading anything",
    find=_getmodule_loads,
    plan=section_plan(protocol.MODE_GETMODULE, wire.GetmoduleSection,
                      "running inspect.getmodule after 'import {package}'"),
    what="Runs `inspect.getmodule` in a fresh interpreter after `import PKG`, on code of a module unrelated to "
         "the package, which makes it read `__file__` of every module in `sys.modules`. Reports the modules that "
         "walk imported, naming the `importlib.util.LazyLoader` modules it executed, or the exception it raised.",
    why="A `LazyLoader` module or a proxy placed in `sys.modules` loads, or fails, on its first attribute access, "
        "and `__file__` is one. IPython's tracebacks, debuggers and `inspect.getsource` call "
        "`inspect.getmodule`: the first traceback shown in a session then loads every such module, or the "
        "traceback itself fails.",
    example=example(
        {"pkg/__init__.py": """
            import importlib.util
            import sys


            def _lazy(name):
                # The LazyLoader recipe of importlib's documentation.
                spec = importlib.util.find_spec(name)
                loader = importlib.util.LazyLoader(spec.loader)
                spec.loader = loader
                module = importlib.util.module_from_spec(spec)
                sys.modules[name] = module
                loader.exec_module(module)
                return module


            stats = _lazy("pkg.stats")
            __all__ = ["stats"]
         """,
         "pkg/stats.py": "import pkg._linalg\n\n\n" + fakes.STATS,
         "pkg/_linalg.py": ""},
        "-p pkg check",
        "error  getmodule-loads: inspect.getmodule imports 1 module(s) (pkg._linalg) after 'import pkg': "
        "it reads __file__ of every module in sys.modules, which executed the LazyLoader module(s) "
        "pkg.stats. IPython's tracebacks, debuggers and inspect.getsource call it. Fix: keep LazyLoader "
        "modules and proxies out of sys.modules until first use (serve them from a module __getattr__), "
        "and let __file__ be read without loading anything.",
    ),
)


# --- pickle round trips -------------------------------------------------------------------------


P = TypeVar("P", wire.PickleSection, wire.UnpickleSection)


@dataclass
class Round:
    """What the probes of one step of the round trip said: each name's section, the failures of
    the probes that said nothing (probe-failed reports them), the names of each probe that did,
    and how many names shared each name's probe."""

    sections: dict[str, Any] = field(default_factory=dict)
    failures: list[tuple[tuple[str, ...], Finding]] = field(default_factory=list)
    groups: list[tuple[str, ...]] = field(default_factory=list)
    shared: dict[str, int] = field(default_factory=dict)
    retry: list[tuple[str, ...]] = field(default_factory=list)  # names to pickle again, failure unsaid

    @property
    def failed(self) -> tuple[Finding, ...]:
        return tuple(finding for _names, finding in self.failures)

    def merged(self, other: Round) -> Round:
        return Round({**self.sections, **other.sections}, [*self.failures, *other.failures],
                     [*self.groups, *other.groups], {**self.shared, **other.shared}, [*self.retry, *other.retry])

    def read(self, kind: type[P], runs: Sequence[ProbeRun], stage: str) -> Round:
        """This round with what ``runs`` said (``stage``: what a probe that failed was doing)."""
        for run in runs:
            names = tuple(field.partition(protocol.PICKLE_SEPARATOR)[0] for field in run.request.names)
            if not names:
                continue
            if not run.completed:
                self.failures.append((names, probe_failure(run, f"{stage}{names[0]}, ...")))
                continue
            self.groups.append(names)
            for section in run.sections:
                if isinstance(section, kind):
                    self.sections[section.name] = section
                    self.shared[section.name] = len(names)
        return self


def _plan_pickle(rule: Rule, context: CheckContext, plan: Plan) -> dict[str, Outcome[Round]]:
    """Once the lazy names resolved, pickle those that are not modules (``_pickle_groups``): by
    default all in the star import's probe, once that has loaded them; then unpickle what each
    probe pickled in another, fresh one. A name with an error from a probe it shared is then
    pickled and unpickled again in probes of its own, and the finding is what those say."""
    groups = _Groups(context)
    star = star_probe(context, plan)
    star.pickle = groups.first
    star.guess_pickle = groups.guess
    star.then = lambda run: _unpickle_guess(context, run)
    if context.whole_package_after is not None:
        # Where check predicts: as soon as the star import's probe is sent its names, which the
        # predicting child pickled too, rather than once that probe has pickled them.
        plan.guess(lambda: _unpickle_predicted(context, groups), at=star.outcome)
    package = context.package

    def reader(kind: type[P], doing: str) -> Callable[[Sequence[ProbeRun]], Round]:
        return lambda runs: Round().read(kind, runs, f"{doing} {package}.")

    pickled = plan.later([context.resolutions[name] for name in context.lazy], groups.requests,
                         reader(wire.PickleSection, "pickling"))
    first = plan.later([pickled, star.outcome], tuple, lambda runs: _first_round(context, pickled.value, star))
    retried = plan.later([first], _retried(context, first), reader(wire.PickleSection, "pickling"))
    merged = plan.later([retried], tuple, lambda runs: first.value.merged(retried.value))
    unpickled = plan.later([merged], _unpickle_requests(context, merged), reader(wire.UnpickleSection, "unpickling"))
    again = _Again(rule, context, merged, unpickled)
    pickled_again = plan.later([unpickled], again.pickle_requests, reader(wire.PickleSection, "pickling"))
    unpickled_again = plan.later([pickled_again], _unpickle_requests(context, pickled_again),
                                 reader(wire.UnpickleSection, "unpickling"))
    return {"pickle": merged, "unpickle": unpickled, "pickle again": pickled_again,
            "unpickle again": unpickled_again}


def _retried(context: CheckContext, first: Outcome[Round]) -> Callable[[], Sequence[ProbeRequest]]:
    """The names of a star import's probe that failed, and of a pickle probe of more than 50
    names that failed, pickled again 50 to a probe, so that one name that crashes its probe costs
    the others no more than it did in batches of 50; the failure is not reported (the star
    import's is, by star-import)."""
    def build() -> Sequence[ProbeRequest]:
        done = first.value
        failed = [(names, finding) for names, finding in done.failures if len(names) > PICKLE_BATCH]
        done.failures = [failure for failure in done.failures if failure not in failed]
        retried = [*done.retry, *(names for names, _finding in failed)]
        done.retry = []
        if not retried:
            return []
        deadline = whole_package_deadline(context)
        return [ProbeRequest(protocol.MODE_PICKLE, context.package, names[start:start + PICKLE_BATCH],
                             min_deadline=deadline)
                for names in retried for start in range(0, len(names), PICKLE_BATCH)]

    return build


def _first_round(context: CheckContext, pickled: Round, star: StarProbe) -> Round:
    """What the pickle probes and the star import's probe pickled, held to the measured results:
    a name the star import's probe pickled on its prediction's word that its own fork found no
    picklable value is left out, and one it left out on that word is pickled again. When the
    star import's probe failed, its names are pickled again, 50 to a probe; its failure is the
    star import's."""
    names = star.pickled
    runs = star.outcome.runs
    if names and not (runs and runs[0].completed):
        pickled.retry.append(names)
        return pickled
    if names:
        pickled.read(wire.PickleSection, runs, "")
    if _shared(context):
        # The star import's probe chose its names before every fork had said what it measured.
        wanted = _picklable(context, context.lazy)
        for name in set(names) - set(wanted):
            pickled.sections.pop(name, None)
        missed = tuple(name for name in wanted if name not in names)
        if missed:
            pickled.retry.append(missed)
    return pickled


class _Groups:
    """The names to pickle, in groups a probe each (``_pickle_groups``): by default one group,
    which goes to the star import's probe."""

    def __init__(self, context: CheckContext) -> None:
        self.context = context
        self._groups: list[list[str]] | None = None

    def _made(self) -> list[list[str]]:
        if self._groups is None:
            self._groups = _pickle_groups(self.context, _picklable(self.context, self.context.lazy))
        return self._groups

    def first(self) -> Sequence[str]:
        groups = self._made()
        return groups[0] if groups and _shared(self.context) else ()

    def guess(self) -> Sequence[str]:
        """What ``first`` will most likely say, asked before the predicting child said what each
        name is: a name not measured yet is guessed picklable unless it is a submodule."""
        if not _shared(self.context):
            return ()
        submodules = {name.name for name in self.context.names if name.submodule}
        return _picklable(self.context, self.context.lazy, lambda name: name not in submodules)

    def requests(self) -> Sequence[ProbeRequest]:
        groups = self._made()
        if self.first():
            groups = groups[1:]
        deadline = whole_package_deadline(self.context)
        return [ProbeRequest(protocol.MODE_PICKLE, self.context.package, tuple(group), min_deadline=deadline)
                for group in groups]


def _shared(context: CheckContext) -> bool:
    """Whether every name is pickled in one probe, the star import's: by default (an error found
    there is measured again alone), not when an ``--isolation`` was asked for (``--exact``). A
    choice of the options, never of what was measured: a warm run plans the probes a cold run
    ran, and the cache answers them."""
    return context.isolation == "auto"


def _pickle_groups(context: CheckContext, names: Sequence[str]) -> list[list[str]]:
    """The names in groups pickled by one probe each: all in one by default, so that the
    package's names are loaded once, not once per 50 names; 50 to a group under ``--isolation``."""
    if _shared(context):
        return [list(names)] if names else []
    return [list(names[start:start + PICKLE_BATCH]) for start in range(0, len(names), PICKLE_BATCH)]


def _picklable(context: CheckContext, names: Sequence[str],
               guessed: Callable[[str], bool] | None = None) -> list[str]:
    """A name that failed to resolve is resolve-failed's; a module pickles by value or not at all.
    A name still being measured in its own fork (the star import's probe runs beside those) is
    judged by its prediction (by ``guessed`` when given); ``_first_round`` holds the pickles to
    the measured results."""
    picklable = []
    for name in names:
        if context.resolutions[name].ready:
            resolution = context.resolution(name)
            described = resolution.object
            if resolution.ok and resolution.error is None and described is not None and not described.is_module:
                picklable.append(name)
            continue
        if guessed is not None:
            if guessed(name):
                picklable.append(name)
            continue
        prediction = context.verifying.names.get(name) if context.verifying is not None else None
        if prediction is not None and prediction.error is None and prediction.object is not None \
                and not prediction.object[2]:
            picklable.append(name)
    return picklable


def _unpickle_requests(context: CheckContext, pickled: Outcome[Round]) -> Callable[[], Sequence[ProbeRequest]]:
    """One unpickle probe for each probe that pickled, with what it pickled."""
    def build() -> Sequence[ProbeRequest]:
        return [ProbeRequest(protocol.MODE_UNPICKLE, context.package, fields,
                             min_deadline=whole_package_deadline(context))
                for fields in _unpickle_fields(pickled.value)]

    return build


def _unpickle_fields(done: Round) -> list[tuple[str, ...]]:
    """The fields of each unpickle probe: ``NAME:HEX`` of what one probe pickled."""
    requests = []
    for names in done.groups:
        fields = tuple(f"{name}{protocol.PICKLE_SEPARATOR}{section.data}" for name in names
                       if (section := done.sections.get(name)) is not None and section.data is not None
                       and section.error is None)
        if fields:
            requests.append(fields)
    return requests


def _unpickle_guess(context: CheckContext, star: ProbeRun) -> Sequence[ProbeRequest]:
    """The unpickle probe the star import's probe (``star``, started on a guess) will most likely
    lead to: the one ``_first_round`` asks for when the measured results take no name away from
    what that probe pickled, nor add one."""
    done = Round().read(wire.PickleSection, [star], "")
    return [ProbeRequest(protocol.MODE_UNPICKLE, context.package, fields) for fields in _unpickle_fields(done)]


def _unpickle_predicted(context: CheckContext, groups: _Groups) -> Sequence[ProbeRequest]:
    """The unpickle probe ``_first_round`` will most likely lead to, guessed once the star import's
    probe is sent its names (``groups.first``): the predicting child's pickles of those names, in
    their order, where that child pickled every one of them the same way (``Predictions.pickles``).
    The probe that asks adopts it only if its fields are these, byte for byte."""
    pickles = context.verifying.pickles if context.verifying is not None else {}
    names = groups.first()
    if not names or any(name not in pickles for name in names):
        return []
    fields = tuple(f"{name}{protocol.PICKLE_SEPARATOR}{data}" for name in names
                   if (data := pickles[name]) is not None)
    return [ProbeRequest(protocol.MODE_UNPICKLE, context.package, fields)] if fields else []


class _Again:
    """What is pickled and unpickled again, in probes of its own, before it is reported: a name
    whose error came from a probe it shared with other names, alone; and the names of an
    unpickling probe of more than 50 names that failed, 50 to a probe. A warning about a value
    made inside a function is left as it is: no order of accesses gives pickle a path to it."""

    def __init__(self, rule: Rule, context: CheckContext, pickled: Outcome[Round],
                 unpickled: Outcome[Round]) -> None:
        self.rule, self.context, self.pickled, self.unpickled = rule, context, pickled, unpickled

    def pickle_requests(self) -> Sequence[ProbeRequest]:
        pickled, unpickled = self.pickled.value, self.unpickled.value
        failed = [(names, finding) for names, finding in unpickled.failures if len(names) > PICKLE_BATCH]
        unpickled.failures = [failure for failure in unpickled.failures if failure not in failed]
        batches = [names[start:start + PICKLE_BATCH] for names, _finding in failed
                   for start in range(0, len(names), PICKLE_BATCH)]
        again = {name for batch in batches for name in batch}
        for name, section in pickled.sections.items():
            if pickled.shared.get(name, 1) < 2 or name in again:
                continue
            finding = _roundtrip_finding(self.rule, self.context, name, section, unpickled.sections.get(name))
            if finding is not None and finding.severity == outcomes.SEVERITY_ERROR:
                batches.append((name,))
        if not batches:
            return []
        deadline = whole_package_deadline(self.context)
        return [ProbeRequest(protocol.MODE_PICKLE, self.context.package, batch, min_deadline=deadline)
                for batch in batches]


def _pickle_roundtrip(rule: Rule, context: CheckContext) -> Iterator[Finding]:
    planned = context.planned[rule.id]
    pickled = dict(planned["pickle"].value.sections)
    unpickled = dict(planned["unpickle"].value.sections)
    for run in planned["pickle again"].runs:
        for name in run.request.names:
            # Measured again: what those probes said is the answer, whatever it is.
            pickled.pop(name, None)
            unpickled.pop(name, None)
    pickled.update(planned["pickle again"].value.sections)
    unpickled.update(planned["unpickle again"].value.sections)
    for name, section in pickled.items():
        finding = _roundtrip_finding(rule, context, name, section, unpickled.get(name))
        if finding is not None:
            yield finding


def _roundtrip_finding(rule: Rule, context: CheckContext, name: str, pickled: wire.PickleSection,
                       loaded: wire.UnpickleSection | None) -> Finding | None:
    package = context.package
    if pickled.kind is None or pickled.resolve_error is not None:
        return None
    what = f"{package}.{name}"
    if pickled.error is not None and pickled.qualname and "<locals>" in pickled.qualname.split("."):
        # Made inside a function: pickle reaches it by no path, lazy or not, and it may be a
        # stand-in for a missing optional dependency (transformers' without torch). True,
        # but not laziness's doing: a warning, with its own fix.
        return rule.finding(name, f"pickle.dumps({what}) raises {pickled.error}: the {pickled.kind} is made "
                                  f"inside a function ({pickled.module}.{pickled.qualname}), so pickle "
                                  "reaches it by no path, lazy or not. Fix: define it at module level if it "
                                  "must pickle; a stand-in for a missing optional dependency can be left "
                                  "as it is.", outcomes.SEVERITY_WARNING)
    path = f"{pickled.module}.{pickled.qualname}" if pickled.module and pickled.qualname else "?"
    leads = f"{what} (a {pickled.kind}) pickles as {path} (its __module__ and __qualname__)"
    if pickled.error is not None:
        return _finding(rule, name, f"pickle.dumps({what}) raises {pickled.error}; the {pickled.kind}'s "
                                    f"__module__ and __qualname__ ({path}) do not lead back to it.")
    if loaded is None:
        return None
    after = f"; unpickling {_imports(loaded.materialized)}" if loaded.materialized else ""
    if loaded.error is not None:
        return _finding(rule, name, f"{leads}, but pickle.loads in a fresh interpreter, where {what} was not "
                                    f"accessed, raises {loaded.error}{_where(loaded.error)}{after}.")
    if loaded.resolve_error is not None:
        return _finding(rule, name, f"after pickle.loads of {what} in a fresh interpreter, accessing {what} "
                                    f"raises {loaded.resolve_error}{_where(loaded.resolve_error)}{after}.")
    if loaded.same is False:
        return _finding(rule, name, f"{leads}, but pickle.loads in a fresh interpreter gives back "
                                    f"{loaded.got or 'another object'}, not {what}{after}.")
    return None


PICKLE_ROUNDTRIP = Rule(
    "pickle-roundtrip", outcomes.SEVERITY_ERROR,
    "a lazy class or function does not round-trip through pickle",
    "set `__module__` and `__qualname__` of the class or function to where it is defined or to its public path "
    "(`PKG.NAME`), or import it from there",
    find=_pickle_roundtrip, plan=_plan_pickle, per_name=True, whole_package=True,
    what="Takes the lazy names whose values are classes or functions, resolves them and pickles them in one "
         "interpreter (`pickle.dumps`), then unpickles them in another, fresh one where no lazy name was accessed "
         "(`pickle.loads`, then `PKG.NAME`, compared by identity). By default every name is pickled in one probe, "
         "the one of `from PKG import *`, after the star import has loaded the names, and unpickled in one more; "
         f"under `--isolation` (`--exact`), {PICKLE_BATCH} names go to a probe. An error found in a probe shared "
         "with other names is measured again in probes of the name's own, which the finding reports. Reports a value "
         "that does not pickle, does not unpickle, or unpickles as another object, naming its `__module__` and "
         "`__qualname__` and what unpickling imported. One made inside a function (`<locals>` in its "
         "`__qualname__`) cannot pickle by any path, lazy or not: a warning.",
    why="pickle stores classes and functions by reference, `__module__` plus `__qualname__`, and `multiprocessing`, "
        "`concurrent.futures`, joblib, Dask and Ray pickle them to send work to other processes, which start fresh. "
        "A lazy package often points `__module__` at a public path that only holds the value after the first "
        "access, so the worker fails where the parent worked.",
    example=example(
        {"pkg/__init__.py": """
            __all__ = ["Model"]


            def __getattr__(name):
                if name == "Model":
                    from . import models
                    from ._impl import Model

                    models.Model = Model  # published under its public path on first access
                    return Model
                raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


            def __dir__():
                return [*globals(), *__all__]
         """,
         "pkg/models.py": '''
            """The public home of the models, filled in on first access."""
         ''',
         "pkg/_impl.py": """
            class Model:
                pass


            Model.__module__ = "pkg.models"
         """},
        "-p pkg check",
        "error  pickle-roundtrip (Model): pkg.Model (a class) pickles as pkg.models.Model (its "
        "__module__ and __qualname__), but pickle.loads in a fresh interpreter, where pkg.Model was not "
        "accessed, raises AttributeError: Can't get attribute 'Model' on <module 'pkg.models' from "
        "'pkg/models.py'>; unpickling imports 1 module(s) (pkg.models). Fix: set __module__ and "
        "__qualname__ of the class or function to where it is defined or to its public path (PKG.NAME), "
        "or import it from there.",
    ),
)


# --- TAB completion in the standard REPL --------------------------------------------------------


def _completion_loads(rule: Rule, context: CheckContext) -> Iterator[Finding]:
    section = _measured(rule, context, wire.CompleteSection)
    if section is None:
        return
    press = f"pressing TAB after '{context.package}.' in the standard REPL (rlcompleter)"
    loads = section.materialized
    if section.error is not None:
        after = f" after it {_imports(loads, by_name=True)}" if loads else ""
        # Not what rule.fix says ("nothing, unless it is slow"): here completion is broken.
        yield rule.finding(None, f"{press} raises {section.error}{_where(section.error)}{after}; the REPL shows no "
                                 f"completions. Fix: {COMPLETION_RAISES_FIX}.")
    elif loads:
        yield _finding(rule, None, f"{press} looks up {section.matches} names and {_imports(loads, by_name=True)} in "
                                 f"{section.elapsed_ms:.0f} ms.")


COMPLETION_RAISES_FIX = (
    "let every name dir(PKG) lists be looked up without raising (getattr may raise only AttributeError), and "
    "give callables a signature inspect.signature can read (the completer catches nothing else: openai's "
    "proxies answer __signature__ with another proxy)"
)

COMPLETION_LOADS = Rule(
    "completion-loads", outcomes.SEVERITY_INFO, "what pressing TAB after `PKG.` loads",
    "nothing, unless it is slow: completion looks up every name `dir(PKG)` lists; keep what those names import "
    "cheap, or list fewer of them",
    find=_completion_loads, whole_package=True,
    plan=whole_package_plan(protocol.MODE_COMPLETE, wire.CompleteSection, "completing '{package}.'"),
    what="Completes `PKG.` as the standard REPL does when TAB is pressed (`rlcompleter`, without readline), in a "
         "fresh interpreter after `import PKG`: it lists `dir(PKG)` and looks every name up to mark the callables. "
         "When that imported modules, reports how many names it looked up, those modules and the time; when it "
         "raised, that the REPL shows no completions at all.",
    why="A `__dir__` that lists the lazy names (as it should: `missing-dir`) makes TAB load them all, which is the "
        "price of completion and usually fine: an info finding that never fails a run. When a lookup raises "
        "anything but `AttributeError`, or a callable has a signature `inspect.signature` cannot read (openai's "
        "proxies answer `__signature__` with another proxy), the completer gives up and shows nothing.",
    example=example(
        {"pkg/__init__.py": fakes.LAZY_SUBMODULES, "pkg/plotting.py": fakes.PLOTTING, "pkg/stats.py": fakes.STATS},
        "-p pkg check",
        "info  completion-loads: pressing TAB after 'pkg.' in the standard REPL (rlcompleter) looks up 3 "
        "names and imports 2 module(s) (pkg.plotting, pkg.stats) in 0 ms. Fix: nothing, unless it is "
        "slow: completion looks up every name dir(PKG) lists; keep what those names import cheap, or "
        "list fewer of them.",
    ),
)
