"""The lazy contract: names import on demand, unknown names are rejected cleanly, nothing lazy
is imported eagerly, and the declarations agree with each other."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, TypeVar

from aoinspect import schema
from aoinspect.child import protocol
from aoinspect.models import Finding
from aoinspect.probing import results, wire
from aoinspect.probing.wire import ProbeRequest
from aoinspect.rules.base import Rule, shown

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
    "import-failed", schema.SEVERITY_ERROR, "PKG cannot be imported (exit 3)",
    "make `import PKG` work in a fresh interpreter; the message says what it raised",
    exit_code=schema.EXIT_IMPORT_FAILED,
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
        elif getattr(value, "probe_failed", False) and value.error is not None:
            yield rule.finding(value.name, value.error.message)


PROBE_FAILED = Rule(
    "probe-failed", schema.SEVERITY_ERROR, "a probe timed out or crashed (exit 4)",
    "look at what the access does in a fresh interpreter: it hung, crashed or exited",
    find=_probe_failures, per_name=True, exit_code=schema.EXIT_PROBE_FAILED,
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
                                 f"{shown(duplicates)}.", schema.SEVERITY_WARNING)
    odd = [repr(name) for name in dict.fromkeys(declared.names) if not name.isidentifier()]
    if odd:
        yield rule.finding(None, f"{package}.__all__ lists {len(odd)} name(s) that are not identifiers: "
                                 f"{shown(odd)}; 'from {package} import *' binds each under a name no code can "
                                 "use, or fails if the package cannot serve it, and type checkers and "
                                 "documentation tools reject them.", schema.SEVERITY_WARNING)


INVALID_ALL = Rule(
    "invalid-all", schema.SEVERITY_ERROR, "__all__ is not a list of unique strings",
    "make __all__ a list or tuple of unique identifier strings", find=_invalid_all,
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
    "declaration-mismatch", schema.SEVERITY_ERROR,
    "a lazy name in __all__ is missing from the TYPE_CHECKING block or stub",
    "import each lazy name of __all__ in the TYPE_CHECKING block (or stub), so type checkers see it",
    find=_declaration_mismatch,
)


def _missing_dir(rule: Rule, context: CheckContext) -> Iterator[Finding]:
    package, info = context.package, context.info
    if info.dir_error is not None:
        yield rule.finding(None, f"dir({package}) raises {info.dir_error}{_where(info.dir_error.location)}; tab "
                                 "completion and introspection cannot list its names.")
        return
    if info.dir_names is None or not context.lazy:
        return
    missing = [name for name in context.lazy if name not in info.dir_names]
    if missing:
        yield rule.finding(None, f"dir({package}) does not list the lazy name(s) {shown(missing)}; define a module "
                                 "__dir__ so that tab completion and introspection can see them.")


MISSING_DIR = Rule(
    "missing-dir", schema.SEVERITY_WARNING, "dir(PKG) does not list the lazy names",
    "define a module __dir__ that returns the lazy names too", find=_missing_dir,
)


# --- accessing the declared names --------------------------------------------------------------


def _lazy_resolutions(context: CheckContext) -> Iterator[Resolution]:
    for name in context.lazy:
        resolution = context.resolution(name)
        if not resolution.probe_failed:
            yield resolution


def _resolve_failed(rule: Rule, context: CheckContext) -> Iterator[Finding]:
    for resolution in _lazy_resolutions(context):
        if resolution.error is not None:
            yield rule.finding(resolution.name, f"{context.package}.{resolution.name} is declared but accessing it "
                                                f"raised {resolution.error}{_where(resolution.error.location)}.")


RESOLVE_FAILED = Rule(
    "resolve-failed", schema.SEVERITY_ERROR, "a declared name fails to resolve",
    "make the access work, or stop declaring the name", find=_resolve_failed, per_name=True,
)


def _not_cached(rule: Rule, context: CheckContext) -> Iterator[Finding]:
    names = [result.name for result in _lazy_resolutions(context) if result.error is None and result.cached is False]
    if len(names) > MANY_NAMES:
        # One finding for a whole package that never caches (lazy_loader.attach's pattern).
        yield rule.finding(None, f"{len(names)} lazy names of {context.package} ({shown(names)}) call __getattr__ "
                                 "again on every access; set the attribute (or let the import system do it) on first "
                                 "access.")
        return
    for name in names:
        yield rule.finding(name, f"a second access to {context.package}.{name} calls __getattr__ again or imports "
                                 "more; set the attribute (or let the import system do it) on first access.")


NOT_CACHED = Rule(
    "not-cached", schema.SEVERITY_WARNING, "a second access calls __getattr__ again",
    "store the value in the module's globals on first access", find=_not_cached, per_name=True,
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
    "unknown-accepted", schema.SEVERITY_ERROR, "an unknown name returns a value",
    "raise AttributeError from __getattr__ for names it does not serve",
    find=_unknown_accepted, plan=_plan_unknown,
)


def _wrong_exception(rule: Rule, context: CheckContext) -> Iterator[Finding]:
    resolution = _unknown(rule, context)
    if resolution is not None and resolution.error is not None and not resolution.rejected_as_attribute_error:
        yield rule.finding(UNKNOWN_NAME, f"looking up an unknown name raises {resolution.error}"
                                         f"{_where(resolution.error.location)}, not AttributeError; hasattr() and "
                                         "getattr(obj, name, default) will raise instead of answering.")


WRONG_EXCEPTION = Rule(
    "wrong-exception", schema.SEVERITY_ERROR, "an unknown name raises something other than AttributeError",
    "raise AttributeError from __getattr__ for names it does not serve",
    find=_wrong_exception, plan=_plan_unknown,
)


def _rejection_side_effect(rule: Rule, context: CheckContext) -> Iterator[Finding]:
    resolution = _unknown(rule, context)
    if resolution is not None and resolution.materialized:
        modules = [load.module for load in resolution.materialized]
        yield rule.finding(UNKNOWN_NAME, f"looking up the unknown name {context.package}.{UNKNOWN_NAME} imported "
                                         f"{len(modules)} module(s): {shown(modules, 10)}.")


REJECTION_SIDE_EFFECT = Rule(
    "rejection-side-effect", schema.SEVERITY_ERROR, "looking up an unknown name imports modules",
    "decide whether __getattr__ serves a name before importing anything",
    find=_rejection_side_effect, plan=_plan_unknown,
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
    "star-import", schema.SEVERITY_WARNING, "`from PKG import *` loads lazy names",
    "leave lazy names out of __all__, or accept that a star import loads them",
    find=_star_import,
    plan=section_plan(protocol.MODE_STAR, wire.StarSection, "running 'from {package} import *'"),
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
    "eager-import", schema.SEVERITY_ERROR, "a lazy name is already loaded by `import PKG`",
    "remove the eager import (the chain in the message shows who imports it), or stop declaring the name lazy "
    "if the package needs it at import",
    find=_eager_import, plan=_plan_eager, per_name=True,
)
