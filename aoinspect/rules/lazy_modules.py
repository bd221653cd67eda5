"""PEP 810's ``__lazy_modules__``, checked: entries that select no import statement, entries whose
import is undone during the import anyway, and (on request) eager imports that would save much.
``aoinspect advise`` shows the same three on the import lines (its github and sarif formats)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from aoinspect import outcomes
from aoinspect.rules.base import Rule, example

if TYPE_CHECKING:
    from collections.abc import Iterator

    from aoinspect.models import Finding
    from aoinspect.rules.base import CheckContext

MARKER = b"__lazy_modules__"
SOURCE_LIMIT = 16 * 1024 * 1024  # larger .py files are data, not declarations


def shown(path: str) -> str:
    """A path below the working directory, relative to it (as CI annotations and people read it)."""
    relative = os.path.relpath(path)
    return path if relative.startswith(os.pardir) else relative.replace(os.sep, "/")


def package_files(context: CheckContext) -> list[tuple[str, str, bool]]:
    """(file, module, is_package) of every ``.py`` file of the package."""
    init = context.info.file
    if not init or not init.endswith(".py"):
        return []
    if os.path.basename(init) != "__init__.py":
        return [(init, context.package, False)]
    root = os.path.dirname(init)
    files = []
    for directory, subdirectories, names in os.walk(root):
        subdirectories[:] = sorted(name for name in subdirectories if name.isidentifier())
        relative = os.path.relpath(directory, root)
        prefix = context.package if relative == os.curdir else f"{context.package}.{relative.replace(os.sep, '.')}"
        for name in sorted(names):
            if not name.endswith(".py"):
                continue
            if name == "__init__.py":
                files.append((os.path.join(directory, name), prefix, True))
            elif name[:-3].isidentifier():
                files.append((os.path.join(directory, name), f"{prefix}.{name[:-3]}", False))
    return files


def declaring_files(context: CheckContext) -> list[tuple[str, str, bool]]:
    """The package's files that mention ``__lazy_modules__`` (most files are never parsed)."""
    from aoinspect.files import read_regular_file

    found = []
    for file, module, is_package in package_files(context):
        try:  # a regular file of a sane size only: a FIFO named x.py would block, a huge one cost
            if MARKER not in read_regular_file(file, SOURCE_LIMIT):
                continue
        except OSError:  # UnreadableFile too
            continue
        found.append((file, module, is_package))
    return found


_DECLARATIONS = "lazy_modules.declarations"


def _declarations(context: CheckContext) -> list[tuple[str, str, Any, tuple[Any, ...]]]:
    """(file, module, its __lazy_modules__, its import statements) of each declaring file: read
    once a check (every file of mne's is read to find the few that declare), whichever rule asks."""
    from aoinspect import pep810

    known: list[tuple[str, str, Any, tuple[Any, ...]]] | None = context.derived.get(_DECLARATIONS)
    if known is not None:
        return known
    declared = []
    for file, module, is_package in declaring_files(context):
        lazy_modules = pep810.read_lazy_modules(file, module, is_package)
        if lazy_modules is not None:
            declared.append((file, module, lazy_modules, pep810.scan_module(file, module, is_package)))
    context.derived[_DECLARATIONS] = declared
    return declared


def closest_entry(stale: Any, statements: Any) -> str | None:
    """The entry a stale one was probably meant to be: the closest spelling of an entry that
    selects an allowed statement of the file (a truncated ``a.b.c`` is closer to ``a.b.cd`` than
    to ``a``), else pep810's first suggestion."""
    import difflib

    names = sorted({entry for statement in statements if statement.allowed for entry in statement.entries})
    close = difflib.get_close_matches(stale.entry, names, n=1, cutoff=0.6)
    return close[0] if close else (stale.suggestions[0] if stale.suggestions else None)


def _stale(rule: Rule, context: CheckContext) -> Iterator[Finding]:
    from aoinspect import pep810

    for _file, module, lazy_modules, statements in _declarations(context):
        for stale in pep810.stale_entries(lazy_modules, statements):
            closest = closest_entry(stale, statements)
            hint = f"; did you mean {closest!r}?" if closest else ""
            yield rule.finding(None, f"{stale.entry!r} in __lazy_modules__ of {module} ({shown(stale.file)}:"
                                     f"{stale.line}) {stale.reason}{hint}")


STALE_LAZY_ENTRY = Rule(
    "stale-lazy-entry", outcomes.SEVERITY_ERROR, "a `__lazy_modules__` entry selects no import statement",
    "spell the entry as the fully qualified module the import names (`aoinspect advise` prints the exact entry "
    "of each statement), or remove it",
    find=_stale,
    what="Reads `__lazy_modules__` in each file of the package that assigns it (a list, tuple or set of strings) "
         "and reports each entry that makes none of that file's import statements lazy: it selects none, or only "
         "ones PEP 810 keeps eager (in `try`, a function, a class), or only ones above the assignment (an entry is "
         "read as each import runs). An entry selects a statement "
         "when it equals, exactly, the fully qualified module the statement imports: `import a.b` and `from a.b "
         "import c` are selected by `\"a.b\"`, `from . import x` in package `p` by `\"p\"`, `from .m import y` by "
         "`\"p.m\"`.",
    why="PEP 810 matches entries by string equality, and an entry that matches nothing is silently ignored: on "
        "Python 3.15 the import it was meant for stays eager, and nothing says so. Truncated dotted names "
        "(`\"a.b\"` for `from a.b.c import x`), misspellings and relative imports written as they read "
        "(`\".m\"`) are the usual causes.",
    example=example(
        {"pkg/__init__.py": """
            __lazy_modules__ = ["pkg.stat"]

            from pkg.stats import fit
         """, "pkg/stats.py": "def fit(data):\n    return data\n"},
        "-p pkg check",
        "error  stale-lazy-entry: 'pkg.stat' in __lazy_modules__ of pkg (pkg/__init__.py:1) selects no import "
        "statement of the file (entries match fully qualified module names exactly); did you mean 'pkg.stats'?",
    ),
)


def _reified(rule: Rule, context: CheckContext) -> Iterator[Finding]:
    declared: list[Any] = []
    for _file, _module, lazy_modules, statements in _declarations(context):
        entries = set(lazy_modules.entries)
        declared.extend(statement for statement in statements
                        if statement.allowed and statement.entry in entries)
    if not declared:
        return  # most packages: no file of theirs mentions __lazy_modules__, no child runs
    from aoinspect import deferral

    result = deferral.simulate(context.package, tuple(declared), python=context.python, timeout=context.timeout)
    if result.incomplete is not None:
        # What the run did not report, no rule can judge: the probe failed, and says so (exit 4).
        from aoinspect.rules.lazy import PROBE_FAILED

        yield PROBE_FAILED.finding(None, f"importing {context.package} with its __lazy_modules__ entries deferred "
                                         f"gave no result: {result.incomplete}.")
        return
    seen = set()
    for reification in result.reified:
        key = (reification.statement_file, reification.statement_line)
        if not reification.during_import or key in seen:
            continue
        seen.add(key)
        statement = next((statement for statement in declared if (statement.file, statement.line) == key), None)
        entry = statement.entry if statement is not None else "?"
        yield rule.finding(None, f"{entry!r} is in __lazy_modules__, but {shown(reification.file or '?')}:"
                                 f"{reification.line} uses what {shown(reification.statement_file)}:"
                                 f"{reification.statement_line} imports "
                                 "during the import, so deferring it saves nothing")


LAZY_ENTRY_REIFIED = Rule(
    "lazy-entry-reified", outcomes.SEVERITY_WARNING, "a declared lazy import is used at import anyway",
    "move the use out of module level (into the function that needs it), or drop the entry",
    find=_reified,
    what="Imports the package in a fresh interpreter with the imports its `__lazy_modules__` entries select "
         "deferred as PEP 810 defers them (any load of the bound name reifies it: an attribute access, a call, "
         "`isinstance`, a decorator, a base class, a default value, an annotation evaluated at import), and reports "
         "each one that is reified before the import finishes, with the line that used it. Runs only for packages "
         "that declare `__lazy_modules__`; on Python 3.14+ annotations are not evaluated at import.",
    why="A lazy import that is used at module level is loaded during the import all the same: the declaration "
        "promises a saving that does not happen, and costs a proxy on every Python that honours it.",
    example=example(
        {"pkg/__init__.py": """
            __lazy_modules__ = ["pkg.stats"]

            from pkg.stats import fit

            DEFAULT = fit([1, 2])
         """, "pkg/stats.py": "def fit(data):\n    return data\n"},
        "-p pkg check",
        "warning  lazy-entry-reified: 'pkg.stats' is in __lazy_modules__, but pkg/__init__.py:5 uses what "
        "pkg/__init__.py:3 imports during the import, so deferring it saves nothing",
    ),
)


def _candidate(rule: Rule, context: CheckContext) -> Iterator[Finding]:
    from aoinspect import graphing, pep810

    threshold = context.options.suggest_lazy
    if threshold is None:
        return
    graph = graphing.record_graph(context.package, python=context.python, timeout=context.timeout)
    by_file: dict[str, list[Any]] = {}
    for request in graph.requests:
        if request.file and request.owner is not None:
            by_file.setdefault(os.path.realpath(request.file), []).append(request)
    for file, module, is_package in package_files(context):
        requests = by_file.get(os.path.realpath(file))
        if not requests:
            continue
        lazy_modules = pep810.read_lazy_modules(file, module, is_package)
        declared = set(lazy_modules.entries) if lazy_modules is not None else set()
        for statement in pep810.scan_module(file, module, is_package):
            if not statement.allowed or statement.entry in declared:
                continue
            end = statement.end_line or statement.line
            indices = [request.index for request in requests if statement.line <= request.line <= end]
            if not indices:
                continue
            saved = graphing.saved_if_deferred(graph, indices)
            if len(saved) > threshold:
                yield rule.finding(None, f"{statement.text.splitlines()[0]} ({shown(file)}:{statement.line}) is eager; "
                                         f"deferring it would save {len(saved)} modules (more than "
                                         f"{threshold:g}): add {statement.entry!r} to __lazy_modules__ of "
                                         f"{module}, after checking with aoinspect advise that nothing uses it "
                                         "at import")


LAZY_CANDIDATE = Rule(
    "lazy-candidate", outcomes.SEVERITY_WARNING, "`--suggest-lazy N`: an eager import would save more",
    "add the entry `aoinspect advise` prints to the module's `__lazy_modules__` (it says whether the import is "
    "used at import time, what the deferral saves in time and what it would delay)",
    find=_candidate, enabled=lambda options: options.suggest_lazy is not None, option="--suggest-lazy",
    what="With `--suggest-lazy N`, records the executed-import graph of `import PKG` in one fresh interpreter and "
         "reports each import statement of the package's files that PEP 810 allows lazy, that no "
         "`__lazy_modules__` entry selects, and whose deferral alone would stop more than N modules from loading "
         "(reachability in the graph without that statement's edges: a module another import keeps loaded does "
         "not count). Off unless asked for: a module count is no verdict, `aoinspect advise` also checks that the "
         "name is not used during the import and times the saving.",
    why="An import of a heavy module that is only used inside functions costs every user at start-up. PEP 810 "
        "lets the package defer it with one entry in `__lazy_modules__`, which older Pythons ignore.",
    example=example(
        {"pkg/__init__.py": """
            from pkg import stats


            def fit(data):
                return stats.fit(data)
         """, "pkg/stats.py": "import pkg._linalg\n\n\ndef fit(data):\n    return data\n", "pkg/_linalg.py": ""},
        "-p pkg check --suggest-lazy 1",
        "warning  lazy-candidate: from pkg import stats (pkg/__init__.py:1) is eager; deferring it would save 2 "
        "modules (more than 1): add 'pkg' to __lazy_modules__ of pkg, after checking with aoinspect advise that "
        "nothing uses it at import",
    ),
)
