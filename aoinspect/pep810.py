"""PEP 810 read statically: every import statement of a module, whether PEP 810 lets it be lazy
where it stands, the exact ``__lazy_modules__`` entry that selects it, the declarations a module
already has, and the patches that adopt it.

The rules (PEP 810, Python 3.15), as they apply here:

* ``lazy`` is allowed only at module scope: not in a function, a class body, a ``try`` statement
  (any of its parts), not for a star import and not for ``from __future__``. Inside ``with``,
  ``if``, ``for`` and ``while`` at module level it is allowed.
* ``__lazy_modules__`` is a container of fully qualified module names, matched by exact string
  equality against the module each statement names: ``import a.b.c`` is selected by
  ``"a.b.c"`` (not ``"a"``), ``from a.b import c`` by ``"a.b"``, and a relative import by its
  resolved name: ``from . import x`` in package ``p`` by ``"p"``, ``from .sub import y`` by
  ``"p.sub"``. An entry selects that module name for the whole file, so one entry may select
  several statements. It is read when each import runs: an entry only selects the statements
  after the assignment.

Pure and parent-side: files are read and parsed, never run.
"""

from __future__ import annotations

import ast
import copy
import difflib
import io
import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Sequence

if TYPE_CHECKING:
    from collections.abc import Iterator

LAZY_MODULES = "__lazy_modules__"

# Why PEP 810 keeps a statement eager (``ImportStatement.reason``).
IN_FUNCTION = "in a function"
IN_CLASS = "in a class"
IN_TRY = "inside try/except"
STAR_IMPORT = "star import"
FUTURE_IMPORT = "__future__"
REASONS = (IN_FUNCTION, IN_CLASS, IN_TRY, STAR_IMPORT, FUTURE_IMPORT)

# ``ImportStatement.kind``
KIND_IMPORT = "import"  # import a.b [as c]
KIND_FROM = "from"  # from a.b import c [as d]

# ``lazy import`` and ``lazy from`` (3.15 syntax) in a file an older parser reads: the keyword is
# taken out, and the statement remembered as written lazy.
_LAZY_KEYWORD = re.compile(r"^([ \t]*)lazy([ \t]+(?:import|from)[ \t])", re.MULTILINE)


@dataclass(frozen=True)
class ImportStatement:
    """One import statement of a module, as PEP 810 sees it."""

    module: str  # the module whose file holds it
    file: str
    line: int
    end_line: int
    text: str  # the statement's source
    kind: str  # KIND_IMPORT or KIND_FROM
    level: int  # dots of a relative import; 0 for an absolute one
    targets: tuple[str, ...]  # the fully qualified modules it imports (with ``from``: submodules found on disk too)
    bound: tuple[str, ...]  # the names it binds in the module's namespace (empty for a star import)
    entry: str | None  # the exact __lazy_modules__ entry that selects it (the first, see ``entries``)
    allowed: bool  # PEP 810 allows it lazy where it stands
    reason: str | None  # why not (one of REASONS), or None
    entries: tuple[str, ...] = ()  # every entry it needs: ``import a, b`` needs "a" and "b"
    column: int = 0  # where the statement starts on ``line``: where ``lazy`` goes
    declared: bool = False  # the module's own __lazy_modules__, assigned above it, makes it lazy on 3.15
    lazy_keyword: bool = False  # written ``lazy import`` / ``lazy from`` already
    type_checking: bool = False  # under ``if TYPE_CHECKING:``: never runs, so deferring it saves nothing

    @property
    def location(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class LazyModules:
    """A module's own ``__lazy_modules__`` assignment."""

    entries: tuple[str, ...]
    line: int
    end_line: int = 0
    file: str = ""
    literal: bool = True  # a list/set/tuple (or frozenset/set/list/tuple call) of strings, read without running


@dataclass(frozen=True)
class StaleEntry:
    """An entry of ``__lazy_modules__`` that makes nothing lazy."""

    entry: str
    file: str
    line: int  # of the __lazy_modules__ assignment
    reason: str
    suggestions: tuple[str, ...] = ()  # entries that would select the statement it was probably meant for


# --- reading -------------------------------------------------------------------------------------


def _read_source(path: str) -> tuple[str, frozenset[int]]:
    """The file's text, parseable by this interpreter, and the lines whose statements were
    written ``lazy``."""
    with open(path, "rb") as stream:
        data = stream.read()
    text = data.decode("utf-8", errors="replace")
    try:
        compile(text, path, "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
        return text, frozenset()
    except SyntaxError:
        pass
    lazy_lines: set[int] = set()

    def blank(match: re.Match[str]) -> str:
        lazy_lines.add(text.count("\n", 0, match.start()) + 1)
        return match.group(1) + match.group(2).lstrip()

    return _LAZY_KEYWORD.sub(blank, text), frozenset(lazy_lines)


def _parse(path: str) -> tuple[ast.Module, str, frozenset[int]]:
    text, lazy_lines = _read_source(path)
    return ast.parse(text, filename=path), text, lazy_lines


def resolve_relative(module: str | None, level: int, package: str) -> str:
    """The absolute name ``from <dots><module>`` names in ``package`` (as importlib resolves it)."""
    if level == 0:
        return module or ""
    bits = package.rsplit(".", level - 1) if package else [""]
    if len(bits) < level or not bits[0]:
        raise ValueError(f"a relative import of level {level} goes beyond the top-level package of {package!r}")
    base = bits[0]
    return f"{base}.{module}" if module else base


def _package_of(module_name: str, is_package: bool) -> str:
    return module_name if is_package else module_name.rpartition(".")[0]


def _root_of(path: str, module_name: str, is_package: bool) -> tuple[str, str] | None:
    """(top-level name, its directory) for a module of a package, found from the file's place."""
    package = _package_of(module_name, is_package)
    if not package:
        return None
    directory = os.path.dirname(os.path.abspath(path))
    for _ in range(package.count(".")):
        directory = os.path.dirname(directory)
    return package.partition(".")[0], directory


def _is_submodule(root: tuple[str, str] | None, module: str, name: str) -> bool:
    """Whether ``module.name`` is a module on disk below ``root``."""
    if root is None:
        return False
    top, directory = root
    parts = f"{module}.{name}".split(".")
    if parts[0] != top:
        return False
    base = os.path.join(directory, *parts[1:])
    return os.path.isfile(base + ".py") or os.path.isdir(base)


def _enclosing_reason(stack: Sequence[ast.AST]) -> str | None:
    if any(isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) for node in stack):
        return IN_FUNCTION
    if any(isinstance(node, ast.ClassDef) for node in stack):
        return IN_CLASS
    try_types: tuple[type, ...] = (ast.Try, *((ast.TryStar,) if hasattr(ast, "TryStar") else ()))
    if any(isinstance(node, try_types) for node in stack):
        return IN_TRY
    return None


def _import_nodes(tree: ast.Module) -> Iterator[tuple[ast.Import | ast.ImportFrom, tuple[ast.AST, ...]]]:
    """Every import statement of the tree, with the nodes that enclose it (outermost first)."""

    def walk(node: ast.AST, stack: tuple[ast.AST, ...]) -> Iterator[tuple[ast.Import | ast.ImportFrom,
                                                                             tuple[ast.AST, ...]]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                yield child, stack
            else:
                yield from walk(child, (*stack, child))

    yield from walk(tree, ())


def _segment(lines: Sequence[str], node: ast.stmt) -> str:
    """``ast.get_source_segment`` over lines split once (its columns are UTF-8 byte offsets)."""
    end_line, end_col = node.end_lineno, node.end_col_offset
    if end_line is None or end_col is None:
        return ""
    first, last = node.lineno - 1, end_line - 1
    if first == last:
        return lines[first].encode()[node.col_offset:end_col].decode()
    return "".join([lines[first].encode()[node.col_offset:].decode(), *lines[first + 1:last],
                    lines[last].encode()[:end_col].decode()])


def scan_module(path: str, module_name: str, is_package: bool) -> tuple[ImportStatement, ...]:
    """Every import statement of the file at ``path`` (the module ``module_name``; ``is_package``
    for a package's ``__init__.py``), in source order."""
    tree, text, lazy_lines = _parse(path)
    return _scan_tree(tree, text, lazy_lines, path, module_name, is_package)


def _scan_tree(
    tree: ast.Module, text: str, lazy_lines: frozenset[int], path: str, module_name: str, is_package: bool,
) -> tuple[ImportStatement, ...]:
    package = _package_of(module_name, is_package)
    root = _root_of(path, module_name, is_package)
    declaration = _lazy_modules_of(tree, path, module_name, is_package)
    lines = io.StringIO(text, newline="").readlines()  # split once: ast.get_source_segment splits per call
    statements = []
    for node, stack in _import_nodes(tree):
        reason = _enclosing_reason(stack)
        line, end_line = node.lineno, node.end_lineno or node.lineno
        segment = _segment(lines, node)
        if isinstance(node, ast.Import):
            kind, level = KIND_IMPORT, 0
            entries = tuple(alias.name for alias in node.names)
            targets = entries
            bound = tuple(alias.asname or alias.name.partition(".")[0] for alias in node.names)
        else:
            kind, level = KIND_FROM, node.level
            star = any(alias.name == "*" for alias in node.names)
            bound = () if star else tuple(alias.asname or alias.name for alias in node.names)
            try:
                base = resolve_relative(node.module, node.level, package)
            except ValueError:  # beyond the top-level package: it fails when it runs, lazy or not
                entries = targets = ()
            else:
                entries = (base,)
                targets = (base, *(f"{base}.{alias.name}" for alias in node.names
                                   if not star and _is_submodule(root, base, alias.name)))
            if reason is None and star:
                reason = STAR_IMPORT
            if reason is None and node.module == "__future__" and node.level == 0:
                reason = FUTURE_IMPORT
        declared = reason is None and bool(entries) and declaration is not None and declaration.line < line \
            and all(entry in declaration.entries for entry in entries)
        statements.append(ImportStatement(
            module=module_name, file=path, line=line, end_line=end_line,
            text="lazy " + segment if line in lazy_lines else segment, kind=kind, level=level,
            targets=targets, bound=bound, entry=entries[0] if entries else None, allowed=reason is None,
            reason=reason, entries=entries,
            column=node.col_offset, declared=declared, lazy_keyword=line in lazy_lines,
            type_checking=any(_is_type_checking(parent) and _within(parent.body, node)  # type: ignore[attr-defined]
                              for parent in stack),
        ))
    return tuple(statements)


def _is_type_checking(node: ast.AST) -> bool:
    """``if TYPE_CHECKING:`` or ``if typing.TYPE_CHECKING:`` (its body, not its else)."""
    if not isinstance(node, ast.If):
        return False
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _within(body: list[ast.stmt], target: ast.AST) -> bool:
    return any(found is target for statement in body for found in ast.walk(statement))


def scan_package(name_or_dir: str, *, search_path: Sequence[str] | None = None) -> tuple[ImportStatement, ...]:
    """Every import statement of every module of a package (a directory, a single ``.py`` file,
    or a top-level name looked up on ``search_path``, else this process's ``sys.path``), files in
    sorted order. Nothing is imported."""
    location = _locate(name_or_dir, search_path)
    statements: list[ImportStatement] = []
    for path, module_name, is_package in _modules_below(*location):
        try:
            statements.extend(scan_module(path, module_name, is_package))
        except (SyntaxError, ValueError, OSError):
            continue  # a file Python could not import either: it has no statements to make lazy
    return tuple(statements)


def _locate(name_or_dir: str, search_path: Sequence[str] | None) -> tuple[str, str]:
    """(the package's directory or module file, its name)."""
    if os.path.isdir(name_or_dir) or os.path.isfile(name_or_dir):
        path = os.path.abspath(name_or_dir)
        stem = os.path.basename(path)
        return path, stem[:-3] if stem.endswith(".py") else stem
    import sys

    top = name_or_dir.partition(".")[0]
    for directory in search_path if search_path is not None else sys.path:
        base = os.path.join(directory or os.getcwd(), top)
        if os.path.isfile(os.path.join(base, "__init__.py")) or (os.path.isdir(base) and search_path is not None):
            found = base
            break
        if os.path.isfile(base + ".py"):
            found = base + ".py"
            break
    else:
        raise FileNotFoundError(f"no package {top!r} found on the path")
    rest = name_or_dir.split(".")[1:]
    if rest:
        found = os.path.join(found, *rest)
        if not os.path.isdir(found):
            found += ".py"
    return found, name_or_dir


def _modules_below(path: str, name: str) -> Iterator[tuple[str, str, bool]]:
    if os.path.isfile(path):
        yield path, name, False
        return
    for directory, subdirectories, files in os.walk(path):
        subdirectories[:] = sorted(d for d in subdirectories if d.isidentifier())
        relative = os.path.relpath(directory, path)
        prefix = name if relative == "." else name + "." + relative.replace(os.sep, ".")
        for file in sorted(files):
            if not file.endswith(".py"):
                continue
            stem = file[:-3]
            if stem == "__init__":
                yield os.path.join(directory, file), prefix, True
            elif stem.isidentifier():
                yield os.path.join(directory, file), f"{prefix}.{stem}", False


def read_lazy_modules(path: str, module_name: str | None = None, is_package: bool = False) -> LazyModules | None:
    """The module's own ``__lazy_modules__`` assignment at module level (the first one), or None.
    ``literal`` is False when its value cannot be read without running the module. Given the
    module's name, entries written ``f"{__spec__.parent}.x"`` (or with ``__package__``,
    ``__name__``), as packaging writes them, are read too."""
    tree, _text, _lazy = _parse(path)
    return _lazy_modules_of(tree, path, module_name, is_package)


def _lazy_modules_of(tree: ast.Module, path: str, module_name: str | None = None,
                     is_package: bool = False) -> LazyModules | None:
    for node in _module_level(tree.body):
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        if not any(isinstance(target, ast.Name) and target.id == LAZY_MODULES for target in targets):
            continue
        if module_name is not None:
            value = _names_substituted(value, {
                "__name__": module_name, "__package__": _package_of(module_name, is_package),
                "__spec__.parent": _package_of(module_name, is_package)})
        entries = _literal_strings(value)
        return LazyModules(
            entries=entries or (), line=node.lineno, end_line=node.end_lineno or node.lineno, file=path,
            literal=entries is not None,
        )
    return None


def _module_level(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Statements at module scope, in order, into the blocks that keep it (not functions or classes)."""
    for node in body:
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        for field in ("body", "orelse", "finalbody"):
            yield from _module_level(getattr(node, field, None) or [])
        for handler in getattr(node, "handlers", None) or []:
            yield from _module_level(handler.body)


def _names_substituted(value: ast.expr, names: dict[str, str]) -> ast.expr:
    """``value`` with each f-string made only of text and the module's own ``names``
    (``f"{__spec__.parent}._ranges"``) replaced by the string it makes."""

    class Substitute(ast.NodeTransformer):
        def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.AST:
            parts = []
            for part in node.values:
                if isinstance(part, ast.Constant) and isinstance(part.value, str):
                    parts.append(part.value)
                elif isinstance(part, ast.FormattedValue) and part.conversion in (-1, None) \
                        and part.format_spec is None and ast.unparse(part.value) in names:
                    parts.append(names[ast.unparse(part.value)])
                else:
                    return node
            return ast.copy_location(ast.Constant("".join(parts)), node)

    return Substitute().visit(copy.deepcopy(value))  # type: ignore[no-any-return]


def _literal_strings(value: ast.expr) -> tuple[str, ...] | None:
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) \
            and value.func.id in ("frozenset", "set", "list", "tuple") and len(value.args) <= 1 and not value.keywords:
        if not value.args:
            return ()
        value = value.args[0]
    try:
        items = ast.literal_eval(value)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    if not isinstance(items, (list, tuple, set, frozenset)) or not all(isinstance(item, str) for item in items):
        return None
    return tuple(sorted(items)) if isinstance(items, (set, frozenset)) else tuple(items)


def selected_by(entry: str, statements: Iterable[ImportStatement]) -> tuple[ImportStatement, ...]:
    """The statements ``entry`` selects (exact match against each statement's module names)."""
    return tuple(statement for statement in statements if entry in statement.entries)


def stale_entries(lazy: LazyModules, statements: Sequence[ImportStatement]) -> tuple[StaleEntry, ...]:
    """Entries of ``lazy`` (one file's ``__lazy_modules__``) that make no statement of that file
    (``statements``, as ``scan_module`` read it) lazy: they name no statement, or only ones PEP 810
    keeps eager, or only ones above the assignment."""
    own = [statement for statement in statements if not lazy.file or statement.file == lazy.file]
    names = sorted({entry for statement in own if statement.allowed for entry in statement.entries})
    stale = []
    for entry in lazy.entries:
        chosen = selected_by(entry, own)
        if any(statement.allowed and statement.line > lazy.line for statement in chosen):
            continue
        if not chosen:
            reason = "selects no import statement of the file (entries match fully qualified module names exactly)"
        elif not any(statement.allowed for statement in chosen):
            where = sorted({statement.reason or "" for statement in chosen})
            reason = "selects only imports PEP 810 keeps eager (" + ", ".join(where) + ")"
        else:
            reason = f"selects only imports above the assignment at line {lazy.line}"
        suggestions = tuple(name for name in names if name.startswith(entry + ".") or entry.startswith(name + "."))
        if not suggestions:
            suggestions = tuple(difflib.get_close_matches(entry, names, n=3))
        stale.append(StaleEntry(entry, lazy.file, lazy.line, reason, tuple(s for s in suggestions if s != entry)))
    return tuple(stale)


# --- patches -------------------------------------------------------------------------------------


def lazy_modules_patch(
    statements: Iterable[ImportStatement], *, root: str | None = None, drop: Iterable[str] = (),
) -> str:
    """A unified diff that makes ``statements`` lazy on Python 3.15 through each file's
    ``__lazy_modules__`` (eager, as now, on older Pythons): the entries of the allowed ones are
    added to the file's own assignment (its other entries kept, those in ``drop`` removed), or a
    new assignment goes after the docstring and ``from __future__`` imports, above every import
    (an assignment below an import it selects moves there: it is read as each import runs).
    Paths in the diff are relative to ``root`` when given."""
    dropped = set(drop)
    by_file: dict[str, list[ImportStatement]] = {}
    for statement in statements:
        if statement.allowed and statement.entries and not statement.lazy_keyword:
            by_file.setdefault(statement.file, []).append(statement)
    patches = []
    for path in sorted(by_file):
        tree, _text, _lazy = _parse(path)
        lines = _original_lines(path)
        existing = _lazy_modules_of(tree, path, by_file[path][0].module,
                                    os.path.basename(path) == "__init__.py")
        wanted = {entry for statement in by_file[path] for entry in statement.entries}
        kept = [entry for entry in (existing.entries if existing is not None else ()) if entry not in dropped]
        entries = kept + sorted(wanted - set(kept))
        first = min(statement.line for statement in by_file[path])
        if existing is not None and existing.line < first and wanted <= set(kept) \
                and len(kept) == len(existing.entries):
            continue  # declared already, all of them: the file stays as it is
        new_lines = list(lines)
        if existing is not None and existing.literal and existing.line < first:
            indent = lines[existing.line - 1][: len(lines[existing.line - 1]) - len(lines[existing.line - 1].lstrip())]
            new_lines[existing.line - 1:existing.end_line] = [indent + line for line in _block(entries)]
        elif existing is not None and existing.line < first:
            # A value read only by running it: extended below it, not shadowed by a block above it.
            indent = lines[existing.line - 1][: len(lines[existing.line - 1]) - len(lines[existing.line - 1].lstrip())]
            block = _block(sorted(wanted))
            block.insert(1, f"    *{LAZY_MODULES},\n")
            new_lines[existing.end_line:existing.end_line] = [indent + line for line in block]
        else:
            if existing is not None and existing.literal:
                # Read as each import runs: below the first import it selects, it comes too late for it.
                del new_lines[existing.line - 1:existing.end_line]
            at = _insertion_line(tree, lines)
            new_lines[at:at] = _block(entries)
        patches.append(_diff(path, lines, new_lines, root))
    return "".join(patches)


def _block(entries: Sequence[str]) -> list[str]:
    return [f"{LAZY_MODULES} = [\n", *(f"    {entry!r},\n".replace("'", '"') for entry in entries), "]\n"]


def _insertion_line(tree: ast.Module, lines: Sequence[str]) -> int:
    """The index of the line above which a module-level block goes: after the docstring and the
    ``from __future__`` imports (which must come first), else after a shebang and coding line."""
    after = 0
    for index, node in enumerate(tree.body):
        is_docstring = index == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) \
            and isinstance(node.value.value, str)
        is_future = isinstance(node, ast.ImportFrom) and node.module == "__future__" and node.level == 0
        if not (is_docstring or is_future):
            break
        after = node.end_lineno or node.lineno
    if after == 0:
        while after < len(lines) and lines[after].startswith("#") and (
                (after == 0 and lines[after].startswith("#!")) or "coding" in lines[after]):
            after += 1
    return after


def lazy_keyword_patch(statements: Iterable[ImportStatement], *, root: str | None = None) -> str:
    """A unified diff that writes ``lazy`` before each allowed statement (for projects that
    require Python 3.15). Paths in the diff are relative to ``root`` when given."""
    by_file: dict[str, list[ImportStatement]] = {}
    for statement in statements:
        if statement.allowed and not statement.lazy_keyword:
            by_file.setdefault(statement.file, []).append(statement)
    patches = []
    for path in sorted(by_file):
        lines = _original_lines(path)
        new_lines = list(lines)
        for statement in sorted(by_file[path], key=lambda s: (s.line, s.column), reverse=True):
            line = new_lines[statement.line - 1]
            new_lines[statement.line - 1] = line[:statement.column] + "lazy " + line[statement.column:]
        patches.append(_diff(path, lines, new_lines, root))
    return "".join(patches)


def _original_lines(path: str) -> list[str]:
    """The file as it is (``_parse`` takes ``lazy`` keywords out; a line's place stays the same)."""
    with open(path, "rb") as stream:
        return stream.read().decode("utf-8", errors="replace").splitlines(keepends=True)


def _diff(path: str, old: Sequence[str], new: Sequence[str], root: str | None) -> str:
    shown = os.path.relpath(path, root) if root else path
    shown = shown.replace(os.sep, "/")
    old = _terminated(old)
    new = _terminated(new)
    return "".join(difflib.unified_diff(old, new, fromfile=f"a/{shown}", tofile=f"b/{shown}"))


def _terminated(lines: Sequence[str]) -> list[str]:
    result = list(lines)
    if result and not result[-1].endswith("\n"):
        result[-1] += "\n"
    return result

