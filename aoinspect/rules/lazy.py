"""The lazy contract: names import on demand, unknown names are rejected cleanly, nothing lazy
is imported eagerly, and the declarations agree with each other."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, TypeVar

from aoinspect import models, outcomes
from aoinspect.child import protocol
from aoinspect.errors import PackageImportFailed, ProbeFailed
from aoinspect.models import Finding
from aoinspect.probing import results, wire
from aoinspect.probing.wire import ProbeRequest
from aoinspect.rules import fakes
from aoinspect.rules.base import Rule, example, shown

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from aoinspect.models import Resolution
    from aoinspect.planning import Outcome, Plan
    from aoinspect.probing.wire import ProbeRun
    from aoinspect.rules.base import CheckContext

S = TypeVar("S", bound=wire.Section)

# More per-name findings of one kind than this become one finding about the package.
MANY_NAMES = 10
# Looked up by check to see how the package treats a name it does not declare.
UNKNOWN_NAME = "aoinspect_unknown_name"


def _where(location: str | None) -> str:
    return f" at {location}" if location else ""


# --- import-failed and probe-failed: raised by the engine and by the rules below ----------------

IMPORT_FAILED = Rule(
    PackageImportFailed.kind, outcomes.SEVERITY_ERROR, "PKG cannot be imported",
    "make `import PKG` work in a fresh interpreter; the message says what it raised",
    what="`check` starts by importing PKG in a fresh interpreter, as `python -c \"import PKG\"` would. When that "
         "import raises, or PKG cannot be found, nothing else can be measured: `check` reports this one finding, "
         "with what the import raised (naming the missing module when one is missing), and exits with 3. `list`, "
         "`resolve` and `snapshot` fail the same way, with the same exit code.",
    why="Every user of the package starts with this import: a package that fails at `import PKG` fails for all of "
        "them, whatever it makes lazy. In a lazy package the usual cause is an import of an optional or compiled "
        "dependency that the lazy path was meant to defer and that `__init__.py` still makes eagerly.",
    example=example(
        {"pkg/__init__.py": """
            from pkg._speedups import fit  # a compiled extension, not built in this environment
        """},
        "-p pkg check",
        "error  import-failed: cannot import pkg: it needs the module 'pkg._speedups', which is not "
        "installed (ModuleNotFoundError: No module named 'pkg._speedups').",
    ),
    exit_code=PackageImportFailed.exit_code,
)


def _probe_failures(rule: Rule, context: CheckContext) -> Iterator[Finding]:
    """Every planned probe that failed, once: the resolutions, and what other rules planned
    (their readers return a probe-failed finding instead of a measurement)."""
    for name, outcome in context.resolutions.items():
        resolution = outcome.value
        if resolution.probe_failed:
            yield rule.finding(name, resolution.error.message if resolution.error else "the probe failed")
    seen: set[int] = set()
    planned = [item for value in context.planned.values()
               for item in (value.values() if isinstance(value, dict) else [value])]
    for outcome in planned:
        if outcome is None or id(outcome) in seen:
            continue
        seen.add(id(outcome))
        value = outcome.value
        if isinstance(value, Finding) and value.rule == rule.id:
            yield value
        elif isinstance(getattr(value, "failed", None), tuple):  # a round of several probes (pickling)
            yield from (finding for finding in value.failed if finding.rule == rule.id)
        elif getattr(value, "probe_failed", False) and value.error is not None:
            yield rule.finding(value.name, value.error.message)


PROBE_FAILED = Rule(
    ProbeFailed.kind, outcomes.SEVERITY_ERROR, "a probe timed out or crashed",
    "look at what the access does in a fresh interpreter: it hung, crashed or exited",
    what="Every measurement runs in a fresh child interpreter under a deadline (`--timeout`, 60 s by default; the "
         "probes that load the whole package get the larger of `--timeout` and 3 x what `import PKG` and every lazy "
         "name's access took, plus 10 s). A message about a timeout names `--timeout`, which raises the deadline. "
         "When a child times out, is killed by a signal (a crash in an extension module), ends the process "
         "(`os._exit`) or ends without sending its report, `check` reports it once per probe: for the access of a "
         "name, the finding names the name; for the probes of other rules (`from PKG import *`, `dir(PKG)`, TAB "
         "completion, pickling, threads) it says what the probe was doing. What that probe would have measured is "
         "not judged by any other rule. A probe-failed finding makes `check` exit with 4. A failure of the first "
         "probe, `import PKG` itself, is the run's only finding and is reported even under `--ignore probe-failed`, "
         "which drops the others.",
    why="A name whose access hangs, crashes or ends the interpreter does so in every program that touches it, "
        "IPython and test suites included, and not always where it shows: `from PKG import *` and TAB completion "
        "reach it too. And what a probe did not report, `check` cannot judge: a run with a failed probe is no clean "
        "bill of health, which is why it has an exit code of its own.",
    example=example(
        {"pkg/__init__.py": fakes.LAZY_SUBMODULES,
         "pkg/plotting.py": """
            import ctypes

            ctypes.string_at(0)  # a broken extension module: reads address 0
         """,
         "pkg/stats.py": fakes.STATS},
        "-p pkg check",
        "error  probe-failed: the probe was killed by SIGSEGV while running 'from pkg import *'.\n"
        "error  probe-failed: the probe was killed by SIGSEGV while completing 'pkg.'.\n"
        "error  probe-failed (plotting): the probe was killed by SIGSEGV while accessing pkg.plotting.",
    ),
    find=_probe_failures, per_name=True, exit_code=ProbeFailed.exit_code,
)


def probe_failure(run: ProbeRun, stage: str, name: str | None = None) -> Finding:
    return PROBE_FAILED.finding(name, results.probe_failed(run, stage).message)


def section_reader(kind: type[S], stage: str) -> Callable[[Sequence[ProbeRun]], S | Finding]:
    """A reader of a rule's probe: its section of ``kind``, or the probe failure (during
    ``stage``) that probe-failed then reports."""
    def read(runs: Sequence[ProbeRun]) -> S | Finding:
        section = runs[0].get(kind)
        return section if section is not None else probe_failure(runs[0], stage)

    return read


def section_plan(
    mode: str, kind: type[S], stage: str, names: Sequence[str] = (),
) -> Callable[[Rule, CheckContext, Plan], Outcome[S | Finding]]:
    """The plan of a rule that runs one probe of ``mode`` (with ``names``) after ``import PKG``
    and reads its section of ``kind``; ``stage``, with ``{package}`` in it, says what the probe
    was doing should it fail."""
    def plan_it(rule: Rule, context: CheckContext, plan: Plan) -> Outcome[S | Finding]:
        del rule
        return plan.add(ProbeRequest(mode, context.package, tuple(names)),
                        section_reader(kind, stage.format(package=context.package)))

    return plan_it


# --- probes that load the whole package ---------------------------------------------------------
#
# `from PKG import *`, TAB completion and pickling load every lazy name in one probe, where
# --timeout is sized for one access: librosa's star import takes 20 s in a bare interpreter, and
# more beside other probes. Such a probe runs once the names were measured (where check predicts,
# once the predicting child has touched them all), and its deadline is the larger of --timeout and
# this multiple of what importing PKG and accessing each lazy name took (as the resolve probes or
# the predicting child measured them), plus this margin.
WHOLE_PACKAGE_FACTOR = 3
WHOLE_PACKAGE_MARGIN_S = 10.0
WHOLE_PACKAGE_PROBES = "from PKG import *, TAB completion and pickling"


def whole_package_after(context: CheckContext) -> list[Outcome[Any]]:
    """What the probes that load the whole package wait for: ``CheckContext.whole_package_after``."""
    after = context.whole_package_after
    return list(context.resolutions.values()) if after is None else after


def whole_package_deadline(context: CheckContext) -> float:
    """``max(--timeout, 3 x (import PKG + every lazy name's access) + 10 s)``, in seconds, computed
    once for every such probe; says so in the report's notes when it is longer than ``--timeout``."""
    if context.whole_package_s is None:
        context.whole_package_s = _whole_package_deadline(context)
    return context.whole_package_s


def _whole_package_deadline(context: CheckContext) -> float:
    # The names measured so far: where check predicts, these probes may run beside the forks of
    # the names it did not predict, and the predicting child's cost stands for theirs.
    measured = (context.resolution(name) for name in context.lazy if context.resolutions[name].ready)
    cost_s = (context.info.imported.elapsed_ms
              + sum(resolution.elapsed_ms for resolution in measured if not resolution.probe_failed)) / 1000
    if context.verifying is not None:
        # Predicted names took no time of their own: the predicting child, which imported the
        # package and touched every name, says what that costs.
        cost_s = max(cost_s, context.verifying.graph.elapsed_ns / 1e9)
    elif not all(context.resolutions[name].ready for name in context.lazy):
        # The predicting child said nothing, and the names' forks run beside: a --timeout for them all.
        cost_s += context.timeout
    deadline = max(context.timeout, WHOLE_PACKAGE_FACTOR * cost_s + WHOLE_PACKAGE_MARGIN_S)
    if deadline > context.timeout:
        note = (f"the probes that load the whole package ({WHOLE_PACKAGE_PROBES.replace('PKG', context.package)}) "
                f"had {deadline:.0f} s each rather than --timeout's {context.timeout:g} s: {WHOLE_PACKAGE_FACTOR} x "
                f"the {cost_s:.1f} s that importing {context.package} and accessing its lazy names took, plus "
                f"{WHOLE_PACKAGE_MARGIN_S:g} s.")
        if note not in context.notes:
            context.notes.append(note)
    return deadline


def whole_package_plan(
    mode: str, kind: type[S], stage: str,
) -> Callable[[Rule, CheckContext, Plan], Outcome[S | Finding]]:
    """The plan of a rule whose one probe of ``mode`` loads the whole package: like
    ``section_plan``'s, but run once the lazy names were measured, under
    ``whole_package_deadline``."""
    def plan_it(rule: Rule, context: CheckContext, plan: Plan) -> Outcome[S | Finding]:
        del rule

        def build() -> Sequence[ProbeRequest]:
            return [ProbeRequest(mode, context.package, min_deadline=whole_package_deadline(context))]

        if context.whole_package_after is not None:
            # It waits for the predicting child only for its deadline: started beside that child.
            plan.guess(lambda: [ProbeRequest(mode, context.package)])
        return plan.later(whole_package_after(context), build,
                          section_reader(kind, stage.format(package=context.package)))

    return plan_it


class StarProbe:
    """The probe of ``from PKG import *``, run once the lazy names were measured (``whole_package_after``),
    under ``whole_package_deadline``. Once the star import has loaded the package's names, the
    same probe pickles the names a rule hands it (``pickle``: pickle-roundtrip's, by default),
    rather than a probe of their own loading them all again."""

    def __init__(self, context: CheckContext, plan: Plan) -> None:
        self.context = context
        self.wanted = False  # star-import reads it: run it even with nothing to pickle
        self.pickle: Callable[[], Sequence[str]] = tuple
        # Where the predicting child runs, the probe is started beside it (``Plan.guess``): its
        # names to pickle (whether ``pickle`` will give any is guessed) are sent once known, and
        # ``then`` guesses the probes its run leads to.
        self.guess_pickle: Callable[[], Sequence[str]] = tuple
        self.then: Callable[[ProbeRun], Sequence[ProbeRequest]] | None = None
        read = section_reader(wire.StarSection, f"running 'from {context.package} import *'")
        self.outcome: Outcome[wire.StarSection | Finding | None] = plan.later(
            whole_package_after(context), self._requests, lambda runs: read(runs) if runs else None)
        if context.whole_package_after is not None:
            plan.guess(self._guessed, lambda run: self.then(run) if self.then is not None else ())

    def _requests(self) -> Sequence[ProbeRequest]:
        names = tuple(self.pickle())
        if not (names or self.wanted):
            return []
        return [ProbeRequest(protocol.MODE_STAR, self.context.package, names,
                             min_deadline=whole_package_deadline(self.context))]

    def _guessed(self) -> Sequence[ProbeRequest]:
        """The star import itself, and its names once the request that takes it knows them:
        which names were picklable is what the predicting child says."""
        if self.guess_pickle():
            return [ProbeRequest(protocol.MODE_STAR, self.context.package, (protocol.NAMES_LATER,))]
        return [ProbeRequest(protocol.MODE_STAR, self.context.package)] if self.wanted else []

    @property
    def pickled(self) -> tuple[str, ...]:
        """The names the probe was asked to pickle, once it ran."""
        runs = self.outcome.runs
        return runs[0].request.names if runs else ()


def star_probe(context: CheckContext, plan: Plan, *, wanted: bool = False) -> StarProbe:
    """The check's one star-import probe, whichever rule asks first; ``wanted``: the caller reads
    the star import's measurement (else the probe runs only if it has names to pickle)."""
    probe = plan.shared("star-import", lambda: StarProbe(context, plan))
    probe.wanted = probe.wanted or wanted
    return probe


# --- what __all__ and the static declarations say ----------------------------------------------


def _invalid_all(rule: Rule, context: CheckContext) -> Iterator[Finding]:
    package, declared = context.package, context.info.all
    if declared.kind == "other":
        yield rule.finding(None, f"{package}.__all__ is a {declared.type}, not a list or tuple of strings.")
    if declared.invalid:
        yield rule.finding(None, f"{package}.__all__ holds items that are not strings "
                                 f"({', '.join(declared.invalid)}); 'from {package} import *' raises TypeError.")
    # One finding for each kind of fault, however many names it concerns: transformers' __all__
    # holds thousands of dotted names and hundreds of repeats.
    if declared.duplicates:
        duplicates = [repr(name) for name in dict.fromkeys(declared.duplicates)]
        yield rule.finding(None, f"{package}.__all__ lists {len(duplicates)} name(s) more than once: "
                                 f"{shown(duplicates)}.", outcomes.SEVERITY_WARNING)
    odd = [repr(name) for name in dict.fromkeys(declared.names) if not name.isidentifier()]
    if odd:
        yield rule.finding(None, f"{package}.__all__ lists {len(odd)} name(s) that are not identifiers: "
                                 f"{shown(odd)}; 'from {package} import *' binds each under a name no code can "
                                 "use, or fails if the package cannot serve it, and type checkers and "
                                 "documentation tools reject them.", outcomes.SEVERITY_WARNING)


INVALID_ALL = Rule(
    "invalid-all", outcomes.SEVERITY_ERROR, "`__all__` is not a list of unique strings",
    "make `__all__` a list or tuple of unique identifier strings", find=_invalid_all,
    what="Reads `PKG.__all__` after `import PKG`. An error when it is not a list or tuple (a set, a string, a "
         "dictionary), or when it holds items that are not strings. A warning when it lists a name more than once, "
         "or names that are not identifiers (`models.vit`): one finding for each kind of fault, however many names "
         "it concerns. A package without `__all__` is not judged.",
    why="`from PKG import *` raises `TypeError` on an item that is not a string and binds a name that is not an "
        "identifier where no code can use it. A set has no order, so documentation tools and `dir()` list the "
        "names differently from run to run; and type checkers, linters and documentation generators read "
        "`__all__` as a list or tuple of names and reject the rest. The lazy rules of `check` read it too: it is "
        "where most lazy packages declare their names.",
    example=example(
        {"pkg/__init__.py": fakes.LAZY_FUNCTIONS.replace('__all__ = ["fit", "plot"]', '__all__ = {"fit", "plot"}'),
         **fakes.FUNCTION_MODULES},
        "-p pkg check",
        "error  invalid-all: pkg.__all__ is a set, not a list or tuple of strings.",
    ),
)


def _declaration_mismatch(rule: Rule, context: CheckContext) -> Iterator[Finding]:
    package, declared, declarations = context.package, context.info.all, context.declarations
    if declared.kind not in ("list", "tuple"):
        return
    runtime = set(declared.names)
    # Type checkers need no static import for a name the package imports eagerly: they read that.
    seen_anyway = {name.name for name in context.names if name.loaded_at_import}
    # (source, its names, whether it must list all of __all__, whether __all__ must list all of it).
    # A TYPE_CHECKING block may declare lazy names that __all__ leaves out on purpose, so that
    # `from PKG import *` does not load them; a lazy loader's stub is what __all__ is built from.
    static_sources: list[tuple[str, Sequence[str], bool, bool]] = []
    if declarations.type_checking_found:
        # A block that star-imports from the package declares more than it names.
        # A type checker sees whatever the block binds, not only what it imports from the package.
        static_sources.append(("the TYPE_CHECKING block",
                               (*declarations.type_checking, *declarations.type_checking_bound),
                               not declarations.type_checking_star, False))
    if declarations.stub_path:
        static_sources.append((f"the stub {declarations.stub_path}", declarations.stub, True, True))
    for source, names, complete, exhaustive in static_sources:
        static = set(names)
        for name in sorted(static - runtime) if exhaustive else ():
            yield rule.finding(name, f"{name!r} is declared in {source} but not in {package}.__all__; add it to "
                                     "__all__, or drop the import if it is not public.")
        if not complete:
            continue
        for name in sorted(runtime - static - seen_anyway):
            yield rule.finding(name, f"{name!r} is in {package}.__all__ but not declared in {source}; import it "
                                     "there so that type checkers and IDEs see it.")


DECLARATION_MISMATCH = Rule(
    "declaration-mismatch", outcomes.SEVERITY_ERROR,
    "a lazy name in `__all__` is missing from the `TYPE_CHECKING` block or stub",
    "import each lazy name of `__all__` in the `TYPE_CHECKING` block (or stub), so type checkers see it",
    find=_declaration_mismatch,
    what="Compares `__all__` (a list or tuple) with the static declarations type checkers read. Each name of "
         "`__all__` that `import PKG` does not load must be imported in the package's `if TYPE_CHECKING:` block, "
         "when it has one that star-imports nothing from the package, and in the lazy loader's stub "
         "(`__init__.pyi`, lazy_loader's pattern), when it has one. The stub must also declare nothing beyond "
         "`__all__`; a `TYPE_CHECKING` block may, for lazy names left out of `__all__` on purpose. One finding per "
         "name.",
    why="A type checker or an IDE never runs `__getattr__`: it knows a lazy name only from a static import. A name "
        "missing there is `Any` or an error in every project that uses it, and autocompletion does not offer it. "
        "A stub name missing from `__all__` is one that type checkers accept and the package may not serve.",
    example=example(
        {"pkg/__init__.py": "from typing import TYPE_CHECKING\n\n"
                            "if TYPE_CHECKING:\n"
                            "    from pkg.plotting import plot\n\n" + fakes.LAZY_FUNCTIONS,
         **fakes.FUNCTION_MODULES},
        "-p pkg check",
        "error  declaration-mismatch (fit): 'fit' is in pkg.__all__ but not declared in the "
        "TYPE_CHECKING block; import it there so that type checkers and IDEs see it.",
    ),
)


def _missing_dir(rule: Rule, context: CheckContext) -> Iterator[Finding]:
    package, info = context.package, context.info
    if info.dir_error is not None:
        yield rule.finding(None, f"dir({package}) raises {info.dir_error}{_where(info.dir_error.location)}; tab "
                                 "completion and introspection cannot list its names.")
        return
    if info.dir_names is None or not context.lazy:
        return
    # Only names an access serves: listing one whose access raises (resolve-failed's) would offer
    # TAB completion a name that fails.
    missing = [resolution.name for resolution in _lazy_resolutions(context)
               if resolution.error is None and resolution.name not in info.dir_names]
    if missing:
        yield rule.finding(None, f"dir({package}) does not list the lazy name(s) {shown(missing)}; define a module "
                                 "__dir__ so that tab completion and introspection can see them.")


MISSING_DIR = Rule(
    "missing-dir", outcomes.SEVERITY_WARNING, "`dir(PKG)` does not list the lazy names",
    "define a module `__dir__` that returns the lazy names too", find=_missing_dir,
    what="Calls `dir(PKG)` right after `import PKG` and looks for the lazy names in it: the declared names that "
         "the import did not load (those `--names` selects) and whose access works. One finding lists those "
         "missing; another says so when `dir(PKG)` raises instead. A name whose access raises is not asked for "
         "(`resolve-failed` reports it): listing it would offer TAB completion a name that fails.",
    why="A module `__getattr__` makes names reachable but not visible: `dir()`, TAB completion in IPython and the "
        "REPL, `help()` and other introspection tools list what `dir(PKG)` returns, so the lazy names look absent. "
        "PEP 562 gives modules `__dir__` for this.",
    example=example(
        {"pkg/__init__.py": fakes.LAZY_FUNCTIONS.split("\n\n\ndef __dir__")[0] + "\n", **fakes.FUNCTION_MODULES},
        "-p pkg check",
        "warning  missing-dir: dir(pkg) does not list the lazy name(s) fit, plot; define a module "
        "__dir__ so that tab completion and introspection can see them.",
    ),
)


# --- accessing the declared names --------------------------------------------------------------


def _lazy_resolutions(context: CheckContext) -> Iterator[Resolution]:
    for name in context.lazy:
        resolution = context.resolution(name)
        if not resolution.probe_failed:
            yield resolution


def _resolve_failed(rule: Rule, context: CheckContext) -> Iterator[Finding]:
    # A name that only __dir__ lists, whose access raises ImportError, is an optional extra not
    # installed (ibis lists every backend it has an entry point for): one note for all of them.
    dir_only = {name.name for name in context.names if name.declared_in == (models.DECLARED_IN_DIR,)}
    optional = []
    for resolution in _lazy_resolutions(context):
        if resolution.error is None:
            continue
        if resolution.name in dir_only and resolution.error.type in ("ImportError", "ModuleNotFoundError"):
            optional.append(resolution)
            continue
        yield rule.finding(resolution.name, f"{context.package}.{resolution.name} is declared but accessing it "
                                            f"raised {resolution.error}{_where(resolution.error.location)}.")
    if optional:
        names = [resolution.name for resolution in optional]
        first = optional[0].error
        said = str(first).strip().splitlines()[0] if first is not None else ""
        yield rule.finding(None, f"{len(names)} name(s) that only {context.package}.__dir__ lists raise ImportError "
                                 f"when accessed, as optional extras that are not installed do: {shown(names)} "
                                 f"({names[0]}: {said}).", outcomes.SEVERITY_INFO)


RESOLVE_FAILED = Rule(
    "resolve-failed", outcomes.SEVERITY_ERROR, "a declared name fails to resolve",
    "make the access work, or stop declaring the name", find=_resolve_failed, per_name=True,
    what="Accesses each lazy name (`PKG.NAME`, a declared name that `import PKG` did not load) in a fresh "
         "interpreter after `import PKG`, and reports each access that raised, with the exception and where it was "
         "raised. `SystemExit` raised by the access counts; a probe that crashed or hung is `probe-failed`'s. An "
         "entry of `__all__` that is not an identifier (`quantizers.pipe_quant_config`) is no name of the package "
         "and is not accessed: `invalid-all` warns about it. Names that only the package's `__dir__` lists and "
         "whose access raises `ImportError` (ibis lists a backend for every optional extra, installed or not) are "
         "one info finding instead.",
    why="A name the package declares (in `__all__`, a `TYPE_CHECKING` block, a stub or its `__dir__`) is one "
        "users, type checkers and `from PKG import *` expect to work. A lazy import defers the error to the first "
        "access, often far from the import and in production: the missing optional dependency that an eager "
        "import would have reported at once.",
    example=example(
        {"pkg/__init__.py": fakes.LAZY_SUBMODULES,
         "pkg/plotting.py": """
            import heavyplot  # an optional dependency, not installed


            def plot(data):
                return heavyplot.draw(data)
         """,
         "pkg/stats.py": fakes.STATS},
        "-p pkg check",
        "error  resolve-failed (plotting): pkg.plotting is declared but accessing it raised "
        "ModuleNotFoundError: No module named 'heavyplot' at pkg/plotting.py:1.",
    ),
)


def _not_cached(rule: Rule, context: CheckContext) -> Iterator[Finding]:
    names = [result.name for result in _lazy_resolutions(context)
             if result.error is None and result.cached is False and result.second_error is None]
    if len(names) > MANY_NAMES and not context.per_name:
        # One finding for a whole package that never caches (lazy_loader.attach's pattern).
        yield rule.finding(None, f"{len(names)} lazy names of {context.package} ({shown(names)}) call __getattr__ "
                                 "again on every access; set the attribute (or let the import system do it) on first "
                                 "access.")
        return
    for name in names:
        yield rule.finding(name, f"a second access to {context.package}.{name} calls __getattr__ again or imports "
                                 "more; set the attribute (or let the import system do it) on first access.")


NOT_CACHED = Rule(
    "not-cached", outcomes.SEVERITY_WARNING, "a second access calls `__getattr__` again",
    "store the value in the module's globals on first access", find=_not_cached, per_name=True,
    what="After the first access of each lazy name, accesses it again and judges what that costs: it is cached "
         "when it asks the import system for nothing (no `import` statement, no `importlib.import_module` call, "
         "not even of a module already loaded) and returns the very object the first access returned, whatever the "
         "module's globals hold (a `__getattr__` wrapped in `functools.cache`, matplotlib's pattern, stores nothing "
         "there and is cached). One finding per name that is not; one for the whole package when more than ten "
         "names are not (lazy_loader's pattern for attributes). A second access that raises is "
         "`second-access-fails`'s.",
    why="A module `__getattr__` runs on every access of a name that is not in the module's globals. Uncached, each "
        "`PKG.NAME` in a loop repeats the lookup (an `import_module` call, a dictionary walk, sometimes a lock), "
        "which costs far more than an attribute read, and a value made anew on each access is not the object the "
        "last one returned. A submodule is cached by the import system; a function or class taken from one is not.",
    example=example(
        {"pkg/__init__.py": fakes.LAZY_FUNCTIONS, **fakes.FUNCTION_MODULES}, "-p pkg check",
        "warning  not-cached (fit): a second access to pkg.fit calls __getattr__ again or imports more; "
        "set the attribute (or let the import system do it) on first access.\n"
        "warning  not-cached (plot): a second access to pkg.plot calls __getattr__ again or imports "
        "more; set the attribute (or let the import system do it) on first access.",
    ),
)


def _second_access_fails(rule: Rule, context: CheckContext) -> Iterator[Finding]:
    for resolution in _lazy_resolutions(context):
        error = resolution.second_error
        if resolution.error is None and error is not None:
            yield rule.finding(resolution.name, f"the first access to {context.package}.{resolution.name} works but "
                                                f"a second one raises {error}{_where(error.location)}; keep serving "
                                                "the name after its first access (store it in the module's "
                                                "globals), rather than forgetting it.")


SECOND_ACCESS_FAILS = Rule(
    "second-access-fails", outcomes.SEVERITY_ERROR, "a lazy name works once, then raises",
    "serve the name on every access: store the value in the module's globals on first access, and do not drop "
    "the entry that serves it", find=_second_access_fails, per_name=True,
    what="After the first access of each lazy name worked, accesses it again in the same interpreter and reports "
         "each second access that raised, with the exception and where it was raised: a `__getattr__` (the "
         "module's, or its class's as in the `lazy-imports` package's `LazyModule`) that pops the name from its "
         "table of deferred names when it serves it, but keeps the value somewhere other than the module's "
         "namespace, answers `PKG.NAME` once, then `AttributeError`. (`LazyModule` itself sets the attribute "
         "before it pops the entry: a second access finds it, and is cached.)",
    why="Every program that touches the name twice breaks: `PKG.NAME` in a loop, two modules that each use it, "
        "`hasattr(PKG, NAME)` after a first use (it answers `False`), `from PKG import NAME` in a second module. "
        "The first access, which tests usually exercise, works, so the error shows far from its cause.",
    example=example(
        {"pkg/__init__.py": """
            import importlib

            __all__ = ["fit", "plot"]
            _DEFERRED = {"fit": "pkg.stats", "plot": "pkg.plotting"}
            _LOADED = {}


            def __getattr__(name):
                try:
                    module = _DEFERRED.pop(name)  # served once, then forgotten
                except KeyError:
                    raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
                _LOADED[name] = value = getattr(importlib.import_module(module), name)
                return value


            def __dir__():
                return [*globals(), *__all__]
         """, **fakes.FUNCTION_MODULES},
        "-p pkg check",
        "error  second-access-fails (fit): the first access to pkg.fit works but a second one raises "
        "AttributeError: module 'pkg' has no attribute 'fit' at pkg/__init__.py:12; keep serving the name after "
        "its first access (store it in the module's globals), rather than forgetting it.\n"
        "error  second-access-fails (plot): the first access to pkg.plot works but a second one raises "
        "AttributeError: module 'pkg' has no attribute 'plot' at pkg/__init__.py:12; keep serving the name after "
        "its first access (store it in the module's globals), rather than forgetting it.",
    ),
)


# --- an undeclared name ------------------------------------------------------------------------


def _plan_unknown(rule: Rule, context: CheckContext, plan: Plan) -> Outcome[Resolution]:
    del rule
    request = ProbeRequest(protocol.MODE_RESOLVE, context.package, (UNKNOWN_NAME,))
    return plan.add(request, lambda runs: results.resolution(runs[0], UNKNOWN_NAME), key="unknown-name")


def _unknown(rule: Rule, context: CheckContext) -> Resolution | None:
    """The undeclared name's resolution, unless its probe failed (probe-failed reports that)."""
    resolution: Resolution = context.planned[rule.id].value
    return None if resolution.probe_failed else resolution


def _unknown_accepted(rule: Rule, context: CheckContext) -> Iterator[Finding]:
    resolution = _unknown(rule, context)
    if resolution is not None and resolution.error is None:
        kind = resolution.object.type if resolution.object else "a value"
        yield rule.finding(UNKNOWN_NAME, f"looking up the undeclared name {context.package}.{UNKNOWN_NAME} returned "
                                         f"{kind} instead of raising AttributeError.")


UNKNOWN_ACCEPTED = Rule(
    "unknown-accepted", outcomes.SEVERITY_ERROR, "an unknown name returns a value",
    "raise `AttributeError` from `__getattr__` for names it does not serve",
    find=_unknown_accepted, plan=_plan_unknown,
    what=f"Looks up a name the package does not declare, `PKG.{UNKNOWN_NAME}`, in a fresh interpreter after "
         "`import PKG`, and reports it when the lookup returns a value instead of raising `AttributeError`.",
    why="Code asks modules for attributes they may lack: `hasattr(PKG, name)`, `getattr(PKG, name, default)`, "
        "`inspect`, IPython's display, pytest's and doctest's collection, numpy's array protocols. A package that "
        "answers every name tells them all that it has everything, and a typo (`PKG.fti`) is a silent `None` "
        "instead of an `AttributeError` naming it.",
    example=example(
        {"pkg/__init__.py": fakes.LAZY_FUNCTIONS.replace(
            'raise AttributeError(f"module {__name__!r} has no attribute {name!r}")', "return None"),
         **fakes.FUNCTION_MODULES},
        "-p pkg check",
        "error  unknown-accepted (aoinspect_unknown_name): looking up the undeclared name "
        "pkg.aoinspect_unknown_name returned NoneType instead of raising AttributeError.",
    ),
)


def _wrong_exception(rule: Rule, context: CheckContext) -> Iterator[Finding]:
    resolution = _unknown(rule, context)
    if resolution is not None and resolution.error is not None and not resolution.rejected_as_attribute_error:
        yield rule.finding(UNKNOWN_NAME, f"looking up an unknown name raises {resolution.error}"
                                         f"{_where(resolution.error.location)}, not AttributeError; hasattr() and "
                                         "getattr(obj, name, default) will raise instead of answering.")


WRONG_EXCEPTION = Rule(
    "wrong-exception", outcomes.SEVERITY_ERROR, "an unknown name raises something other than `AttributeError`",
    "raise `AttributeError` from `__getattr__` for names it does not serve",
    find=_wrong_exception, plan=_plan_unknown,
    what=f"Looks up a name the package does not declare, `PKG.{UNKNOWN_NAME}`, in a fresh interpreter after "
         "`import PKG`, and reports it when the lookup raises an exception that is not an `AttributeError` "
         "(`KeyError` from a table of lazy names, `ModuleNotFoundError` from importing the name as a submodule; "
         "a subclass of `AttributeError` is fine), "
         "with the exception and where it was raised.",
    why="`hasattr()` and `getattr(obj, name, default)` catch `AttributeError` and nothing else: with any other "
        "exception they raise instead of answering. Every tool that probes objects for optional attributes "
        "(`inspect`, IPython, pytest, doctest, numpy, serializers) then fails on the package.",
    example=example(
        {"pkg/__init__.py": """
            import importlib

            __all__ = ["fit", "plot"]
            _SOURCES = {"fit": "pkg.stats", "plot": "pkg.plotting"}


            def __getattr__(name):
                return getattr(importlib.import_module(_SOURCES[name]), name)


            def __dir__():
                return [*globals(), *__all__]
        """, **fakes.FUNCTION_MODULES},
        "-p pkg check",
        "error  wrong-exception (aoinspect_unknown_name): looking up an unknown name raises KeyError: "
        "'aoinspect_unknown_name' at pkg/__init__.py:8, not AttributeError; hasattr() and getattr(obj, "
        "name, default) will raise instead of answering.",
    ),
)


def _rejection_side_effect(rule: Rule, context: CheckContext) -> Iterator[Finding]:
    resolution = _unknown(rule, context)
    if resolution is not None and resolution.materialized:
        modules = [load.module for load in resolution.materialized]
        yield rule.finding(UNKNOWN_NAME, f"looking up the unknown name {context.package}.{UNKNOWN_NAME} imported "
                                         f"{len(modules)} module(s): {shown(modules, 10)}.")


REJECTION_SIDE_EFFECT = Rule(
    "rejection-side-effect", outcomes.SEVERITY_ERROR, "looking up an unknown name imports modules",
    "decide whether `__getattr__` serves a name before importing anything",
    find=_rejection_side_effect, plan=_plan_unknown,
    what=f"Looks up a name the package does not declare, `PKG.{UNKNOWN_NAME}`, in a fresh interpreter after "
         "`import PKG`, and reports the modules that lookup imported, whether it then raised `AttributeError` or "
         "not.",
    why="Tools probe every object they are given for attributes it does not have (`hasattr(obj, '__wrapped__')`, "
        "`_repr_html_`, `__array__`...). When rejecting an unknown name imports the heavy part of the package, the "
        "first such probe loads what the lazy design was meant to defer, in every session that only displayed or "
        "inspected the package.",
    example=example(
        {"pkg/__init__.py": """
            import importlib

            __all__ = ["fit", "plot"]


            def __getattr__(name):
                api = importlib.import_module("pkg.api")  # defines every public name
                try:
                    return getattr(api, name)
                except AttributeError:
                    raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None


            def __dir__():
                return [*globals(), *__all__]
         """,
         "pkg/api.py": """
            def fit(data):
                return sum(data) / len(data)


            def plot(data):
                return None
         """},
        "-p pkg check",
        "error  rejection-side-effect (aoinspect_unknown_name): looking up the unknown name "
        "pkg.aoinspect_unknown_name imported 1 module(s): pkg.api.",
    ),
)


# --- from PKG import * -------------------------------------------------------------------------


def _star_import(rule: Rule, context: CheckContext) -> Iterator[Finding]:
    star = context.planned[rule.id].value
    if not isinstance(star, wire.StarSection):
        return
    modules = [load.module for load in star.materialized]
    if star.error is not None:
        after = f", after importing {len(modules)} module(s): {shown(modules)}" if modules else ""
        yield rule.finding(None, f"'from {context.package} import *' raises {star.error}"
                                 f"{_where(star.error.location)}{after}; every name of __all__ must resolve "
                                 "(leave out of __all__ the names whose access raises).")
        return
    # The star import looks up every name of __all__: each lazy one is loaded, whatever serves it;
    # all of them, not only those --names measures.
    lazy = {name.name for name in context.names if not name.loaded_at_import}
    triggered = [name for name in dict.fromkeys(context.info.all.names) if name in lazy]
    if not modules or not triggered:
        return
    yield rule.finding(None, f"'from {context.package} import *' loads {len(triggered)} lazy name(s) "
                             f"({shown(triggered)}), importing {len(modules)} module(s): {shown(modules)}.")


STAR_IMPORT = Rule(
    "star-import", outcomes.SEVERITY_WARNING, "`from PKG import *` loads lazy names",
    "leave lazy names out of `__all__`, or accept that a star import loads them",
    find=_star_import, whole_package=True,
    plan=lambda rule, context, plan: star_probe(context, plan, wanted=True).outcome,
    what="Runs `from PKG import *` in a fresh interpreter after `import PKG`. It looks up every name of `__all__`, "
         "so every lazy name listed there is loaded, whatever serves it and whichever names `--names` selects: the "
         "finding lists those names and the modules the star import imported. It also reports a star import that "
         "raises (a name of `__all__` whose access fails), with what it had imported by then.",
    why="A star import in a notebook, a `conftest.py` or another package's `__init__.py` silently undoes the lazy "
        "design: it pays for every lazy name at once. That may be acceptable, which is why this is a warning; the "
        "finding says what it costs. A star import that raises breaks every such use.",
    example=example(
        {"pkg/__init__.py": fakes.LAZY_SUBMODULES, "pkg/plotting.py": fakes.PLOTTING, "pkg/stats.py": fakes.STATS},
        "-p pkg check",
        "warning  star-import: 'from pkg import *' loads 2 lazy name(s) (plotting, stats), importing 2 "
        "module(s): pkg.plotting, pkg.stats.",
    ),
)


# --- declared names that import PKG already loaded ---------------------------------------------


def _plan_eager(rule: Rule, context: CheckContext, plan: Plan) -> Outcome[wire.AskSection | Finding] | None:
    del rule
    if not (context.eager and context.info.has_getattr):
        return None
    return plan.add(ProbeRequest(protocol.MODE_ASK, context.package, tuple(context.eager)),
                    section_reader(wire.AskSection, f"asking {context.package}.__getattr__ about eager names"))


def _eager_import(rule: Rule, context: CheckContext) -> Iterator[Finding]:
    outcome = context.planned.get(rule.id)
    if outcome is None:
        return
    answers = outcome.value
    if not isinstance(answers, wire.AskSection):
        return  # the probe failed: probe-failed reports it
    for name in context.eager:
        answer = answers.answers.get(name)
        if answer is None or not answer.via_import:
            continue  # a globals() fallback is not a lazy path
        importer = context.info.imported.importer_of(f"{context.package}.{name}")
        by = f" (imported by {importer})" if importer else ""
        yield rule.finding(name, f"{context.package}.{name} is declared lazy (its __getattr__ imports it) but "
                                 f"'import {context.package}' already loads it{by}, so the lazy path is never "
                                 "taken; remove that eager import, or, if the package needs it at import, stop "
                                 "declaring it lazy.")


EAGER_IMPORT = Rule(
    "eager-import", outcomes.SEVERITY_ERROR, "a lazy name is already loaded by `import PKG`",
    "remove the eager import (the chain in the message shows who imports it), or stop declaring the name lazy "
    "if the package needs it at import",
    find=_eager_import, plan=_plan_eager, per_name=True,
    what="Looks at the declared names that are already in the package's namespace right after `import PKG`. When "
         "the package has a lazy path (a module or class `__getattr__`) and that path, called directly for the "
         "name in a fresh interpreter, serves it through the import system, the name was meant to be lazy and is "
         "not: the finding names the module that imported it, when it is known. A name that `__getattr__` would not "
         "serve, or serves from `globals()`, is eager by design (numpy's `__all__` is full of them) and not reported.",
    why="The lazy path is never taken, so `import PKG` pays for the module on every start while the code reads as "
        "if it did not. It usually comes from a convenience import added to `__init__.py` later, or from another "
        "eager module that imports the lazy one.",
    example=example(
        {"pkg/__init__.py": fakes.LAZY_SUBMODULES
                            + "\n\nfrom . import stats  # convenient: pkg.stats.fit without an import\n",
         "pkg/plotting.py": fakes.PLOTTING, "pkg/stats.py": fakes.STATS},
        "-p pkg check",
        "error  eager-import (stats): pkg.stats is declared lazy (its __getattr__ imports it) but "
        "'import pkg' already loads it (imported by pkg), so the lazy path is never taken; remove that "
        "eager import, or, if the package needs it at import, stop declaring it lazy.",
    ),
)
