"""Read lazy-name declarations statically, and find submodules on disk, without importing.

Runs in the CLI process on files the probe located; nothing here executes package code.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Iterable, Iterator

from aoinspect.models import Declarations

if TYPE_CHECKING:
    import ast

_TYPING_MODULES = ("typing", "typing_extensions")


def read_declarations(package: str, init_file: str | None) -> Declarations:
    """Names that ``init_file`` declares in ``if TYPE_CHECKING:`` blocks, and in the stub that a
    lazy loader (``lazy_loader.attach_stub``) reads, if it calls one."""
    if init_file is None or not init_file.endswith((".py", ".pyw")):
        return Declarations()
    tree, problem = _parse_explained(init_file)
    if tree is None:
        return Declarations(unreadable=problem)
    blocks = list(_type_checking_blocks(tree))
    imports = [item for block in blocks for item in _imports_from_package(block, package)]
    type_checking = _unique(name for name, _explicit, _line in imports)
    explicit = _unique(name for name, is_explicit, _line in imports if is_explicit)
    lines = {name: f"{init_file}:{line}" for name, _explicit, line in reversed(imports)}
    incomplete = any(star_imports_inside(block, package) for block in blocks)
    bound = _unique(name for block in blocks for name in _names_bound(block))
    stub_path = os.path.splitext(init_file)[0] + ".pyi"
    stub_names: tuple[str, ...] = ()
    if _calls_attach_stub(tree) and os.path.isfile(stub_path):
        stub_tree = _parse(stub_path)
        if stub_tree is not None:
            stub_imports = list(_imports_from_package(stub_tree.body, package))
            stub_names = _unique(name for name, _explicit, _line in stub_imports)
            for name, _explicit, line in reversed(stub_imports):
                lines.setdefault(name, f"{stub_path}:{line}")
    else:
        stub_path = ""
    selected = list(lazy_modules_bindings(tree, package))
    for name, line in selected:
        lines.setdefault(name, f"{init_file}:{line}")
    # Where __all__ or a table of the lazy path names each name, when no import declares it.
    for name, line in _string_constants(tree):
        lines.setdefault(name, f"{init_file}:{line}")
    for name, line in _all_entries(tree):
        lines[name] = f"{init_file}:{line}"  # a name of __all__ is declared there first of all
    return Declarations(
        type_checking=type_checking,
        type_checking_explicit=explicit,
        type_checking_found=bool(blocks),
        type_checking_star=incomplete,
        type_checking_bound=bound,
        stub=stub_names,
        stub_path=stub_path or None,
        lines=tuple(sorted(lines.items())),
        lazy_modules=_unique(name for name, _line in selected),
    )


def lazy_modules_entries(tree: ast.Module) -> frozenset[str] | None:
    """The strings of the module's literal ``__lazy_modules__`` (a list, tuple or set assigned at
    module level; the last assignment wins), or None when it has none."""
    import ast

    entries: frozenset[str] | None = None
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if node.value is None or not any(isinstance(t, ast.Name) and t.id == "__lazy_modules__" for t in targets):
                continue
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                continue
            if isinstance(value, (list, tuple, set, frozenset)):
                entries = frozenset(item for item in value if isinstance(item, str))
    return entries


def lazy_modules_bindings(tree: ast.Module, package: str) -> Iterator[tuple[str, int]]:
    """The names (with their lines) bound by the imports of a package's ``__init__.py`` that its
    ``__lazy_modules__`` selects, as PEP 810 selects them: an import at module scope (in ``if``
    and ``with`` blocks too; not in a function, a class or ``try``, not a star or ``__future__``
    import) whose fully qualified module is an entry. ``import a.b`` is selected by ``"a.b"`` and
    binds ``a``; ``from .sub import x`` by ``"PKG.sub"``; ``from . import x`` by ``"PKG"``."""
    import ast

    entries = lazy_modules_entries(tree)
    if not entries:
        return
    pending: list[ast.stmt] = list(tree.body)
    while pending:
        node = pending.pop(0)
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in entries:
                    yield alias.asname or alias.name.split(".")[0], node.lineno
        elif isinstance(node, ast.ImportFrom):
            module = _absolute_module(package, node.module, node.level)
            if module in entries and module != "__future__":
                for alias in node.names:
                    if alias.name != "*":
                        yield alias.asname or alias.name, node.lineno
        elif isinstance(node, (ast.If, ast.With)):
            pending[:0] = [*node.body, *getattr(node, "orelse", [])]


def _absolute_module(package: str, module: str | None, level: int) -> str | None:
    """The module a ``from`` import in the package's ``__init__.py`` names, fully qualified."""
    if not level:
        return module
    parts = package.split(".")
    if level - 1 >= len(parts):
        return None
    base = ".".join(parts[: len(parts) - (level - 1)])
    return f"{base}.{module}" if module else base


def read_all_literal(init_file: str) -> list[str]:
    """``__all__`` as the module assigns it literally (``=`` and ``+=``), read without running it."""
    import ast

    tree = _parse(init_file)
    names: list[str] = []
    for node in tree.body if tree is not None else ():
        expression: ast.expr | None
        if isinstance(node, ast.Assign):
            targets, expression = node.targets, node.value
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets, expression = [node.target], node.value
        else:
            continue
        if expression is None or not any(isinstance(target, ast.Name) and target.id == "__all__" for target in targets):
            continue
        try:
            value = ast.literal_eval(expression)
        except ValueError:
            continue
        if isinstance(value, (list, tuple)):
            if not isinstance(node, ast.AugAssign):
                names = []
            names.extend(item for item in value if isinstance(item, str))
    return names


def submodules_on_disk(search_path: Iterable[str] | None) -> tuple[str, ...]:
    """Names of the modules and packages directly inside a package's ``__path__``."""
    if not search_path:
        return ()
    import pkgutil  # imported here: plain resolve never needs it, and it is not cheap

    return tuple(sorted({info.name for info in pkgutil.iter_modules(list(search_path))}))


def find_init(package: str) -> str | None:
    """The file ``import package`` would run, found the way ``python -c`` would look for it (in
    this interpreter's path), without running anything."""
    from importlib.machinery import PathFinder

    search = [os.getcwd(), *os.environ.get("PYTHONPATH", "").split(os.pathsep), *sys.path[1:]]
    locations: list[str] | None = [entry for entry in search if entry]
    spec = None
    prefix = ""
    for part in package.split("."):
        if locations is None:
            return None
        spec = PathFinder.find_spec(prefix + part, locations)
        if spec is None:
            return None
        locations = list(spec.submodule_search_locations or []) or None
        prefix += part + "."
    return spec.origin if spec is not None and spec.has_location else None


def _parse(path: str) -> ast.Module | None:
    return _parse_explained(path)[0]


# Before 3.11, turning a parse into ``ast`` objects recurses in C without a limit: a chain of about
# 150,000 operators (``1+1+...``, ``a.b.c...``) overflows the C stack and kills the interpreter,
# where 3.11+ raise RecursionError. Each link takes at least two characters, so a source below
# this size cannot hold a chain that deep; a larger one is first parsed in a throwaway child.
_CRASH_FREE_BYTES = 200_000


def _parses_without_crashing(source: bytes) -> bool:
    import subprocess

    try:
        completed = subprocess.run(
            [sys.executable, "-I", "-c", "import ast, sys; ast.parse(sys.stdin.buffer.read())"],
            input=source, capture_output=True, timeout=30, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return completed.returncode >= 0  # a SyntaxError exits 1; a crash ends by a signal


def _parse_explained(path: str) -> tuple[ast.Module | None, str | None]:
    """The syntax tree of ``path``, or None and why not. Only a regular file of bounded size is
    read (a package's ``__file__`` may name a FIFO or ``/dev/zero``), and a source the parser
    cannot handle (nested too deeply, too large) simply declares nothing statically."""
    import ast

    from aoinspect.files import SOURCE_LIMIT, read_regular_file

    try:
        source = read_regular_file(path, SOURCE_LIMIT)
    except OSError as exc:
        return None, f"cannot read {path}: {getattr(exc, 'reason', None) or exc.strerror or exc}"
    if sys.version_info < (3, 11) and len(source) > _CRASH_FREE_BYTES and not _parses_without_crashing(source):
        return None, f"cannot parse {path}: this Python's parser crashes on it (nested too deeply)"
    try:
        return ast.parse(source, filename=path), None
    except (SyntaxError, ValueError) as exc:
        return None, f"cannot parse {path}: {type(exc).__name__}: {exc}"
    except (RecursionError, MemoryError) as exc:
        return None, f"cannot parse {path}: {type(exc).__name__} (nested too deeply or too large)"


def _type_checking_aliases(tree: ast.Module) -> tuple[set[str], set[str]]:
    """Local names bound to ``TYPE_CHECKING`` itself, and to the ``typing`` modules."""
    import ast

    flags = {"TYPE_CHECKING"}
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in _TYPING_MODULES:
            flags.update(alias.asname or alias.name for alias in node.names if alias.name == "TYPE_CHECKING")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in _TYPING_MODULES:
                    modules.add(alias.asname or alias.name)
    return flags, modules


def _type_checking_blocks(tree: ast.Module) -> Iterator[list[ast.stmt]]:
    """The bodies of ``if TYPE_CHECKING:`` (under any alias) at module level, also nested in
    other ``if``/``try``/``with`` blocks; never inside functions or classes."""
    import ast

    flags, modules = _type_checking_aliases(tree)

    def is_flag(test: ast.expr) -> bool:
        if isinstance(test, ast.Name):
            return test.id in flags
        return (
            isinstance(test, ast.Attribute)
            and test.attr == "TYPE_CHECKING"
            and isinstance(test.value, ast.Name)
            and test.value.id in modules
        )

    pending: list[ast.stmt] = list(tree.body)
    while pending:
        node = pending.pop(0)
        if isinstance(node, ast.If) and is_flag(node.test):
            yield node.body
            continue
        for field in ("body", "orelse", "finalbody", "handlers"):
            children = getattr(node, field, None)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) or not children:
                continue
            for child in children:
                pending.extend(child.body if isinstance(child, ast.ExceptHandler) else [child])


def _imports_from_package(body: list[ast.stmt], package: str) -> Iterator[tuple[str, bool, int]]:
    """What an import from inside the package declares, with whether it re-exports explicitly
    (``X as X``) and its line: ``from . import x``, ``from .sub import x``, ``from .sub import x
    as y``, ``from PACKAGE.a.b import x`` and ``import PACKAGE.sub`` (``sub``, or its alias), in
    nested blocks too. Imports from outside the package (``from types import ModuleType``,
    ``from .. import x``) declare nothing, nor does a star import."""
    import ast

    for statement in body:
        for node in ast.walk(statement):
            if isinstance(node, ast.ImportFrom):
                inside = (node.level == 1) or (
                    node.level == 0 and (node.module == package or (node.module or "").startswith(package + "."))
                )
                if inside:
                    for alias in node.names:
                        if alias.name != "*":
                            yield alias.asname or alias.name, alias.asname == alias.name, node.lineno
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith(package + "."):
                        short = alias.name[len(package) + 1:].split(".")[0]
                        yield alias.asname or short, alias.asname == short, node.lineno


def _all_entries(tree: ast.Module) -> Iterator[tuple[str, int]]:
    """Each string of a literal ``__all__`` (``=``, ``+=``, ``.append``/``.extend`` of literals),
    with its line."""
    import ast

    for node in tree.body:
        values: list[ast.expr] = []
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if node.value is not None and any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
                values.append(node.value)
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            func = node.value.func
            if (isinstance(func, ast.Attribute) and func.attr in ("append", "extend")
                    and isinstance(func.value, ast.Name) and func.value.id == "__all__"):
                values.extend(node.value.args)
        for value in values:
            for part in ast.walk(value):
                if isinstance(part, ast.Constant) and isinstance(part.value, str):
                    yield part.value, part.lineno


def _string_constants(tree: ast.Module) -> Iterator[tuple[str, int]]:
    """Every identifier-like string in the module, with its line (torch's ``_lazy_modules``)."""
    import ast

    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.isidentifier():
            yield node.value, node.lineno


def lazy_subpackages(search_path: Iterable[str] | None) -> tuple[str, ...]:
    """The subpackages directly inside a package's ``__path__`` that are lazy packages themselves:
    their ``__init__.py`` binds a module ``__getattr__`` (a ``def``, or lazy_loader's
    ``__getattr__, __dir__, __all__ = lazy.attach(...)``) or puts a module object of its own class
    in ``sys.modules[__name__]`` (transformers' ``_LazyModule``). Read statically, never imported."""
    found = []
    for directory in search_path or ():
        try:
            entries = sorted(os.listdir(directory))
        except OSError:
            continue
        for entry in entries:
            init = os.path.join(directory, entry, "__init__.py")
            if entry.isidentifier() and os.path.isfile(init) and entry not in found:
                tree = _parse(init)
                if tree is not None and _binds_lazy_path(tree):
                    found.append(entry)
    return tuple(found)


def _binds_lazy_path(tree: ast.Module) -> bool:
    import ast

    pending: list[ast.stmt] = list(tree.body)
    while pending:
        node = pending.pop(0)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == "__getattr__":
            return True
        if isinstance(node, ast.Assign):
            for target in node.targets:
                for part in ast.walk(target):
                    if isinstance(part, ast.Name) and part.id == "__getattr__":
                        return True
                    if (isinstance(part, ast.Subscript) and isinstance(part.value, ast.Attribute)
                            and part.value.attr == "modules" and isinstance(part.slice, ast.Name)
                            and part.slice.id == "__name__"):
                        return True
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for field in ("body", "orelse", "finalbody", "handlers"):
            for child in getattr(node, field, None) or ():
                pending.extend(child.body if isinstance(child, ast.ExceptHandler) else [child])
    return False


def _names_bound(body: list[ast.stmt]) -> Iterator[str]:
    """Every name a block binds, as a type checker reads it: imports from anywhere, assignments
    (``AsyncFileLock = AsyncSoftFileLock``), annotated names, definitions; in nested blocks too,
    never inside functions or classes."""
    import ast

    pending = list(body)
    while pending:
        node = pending.pop(0)
        if isinstance(node, ast.Import):
            yield from (alias.asname or alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            yield from (alias.asname or alias.name for alias in node.names if alias.name != "*")
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for part in ast.walk(target):
                    if isinstance(part, ast.Name):
                        yield part.id
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            yield node.name
        else:
            for field in ("body", "orelse", "finalbody", "handlers"):
                for child in getattr(node, field, None) or ():
                    pending.extend(child.body if isinstance(child, ast.ExceptHandler) else [child])


def star_imports_inside(body: list[ast.stmt], package: str) -> bool:
    """Whether the block star-imports from inside the package: what it declares is then more
    than its names say (transformers' ``from .modeling_bert import *``)."""
    import ast

    return any(
        isinstance(node, ast.ImportFrom) and any(alias.name == "*" for alias in node.names)
        and (node.level == 1 or (node.module or "").startswith(package))
        for statement in body for node in ast.walk(statement)
    )


def _calls_attach_stub(tree: ast.Module) -> bool:
    import ast

    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name == "attach_stub":
                return True
    return False


def _unique(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(names))
