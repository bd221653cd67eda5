"""A deferral simulated as PEP 810 defines it: run ENTRY (``import PACKAGE`` by default) with a chosen
set of import statements made lazy, and report the modules loaded and where each lazy import was
first reified. Child code: see ``__init__.py`` for the rules it keeps.

Run as ``python -c BOOTSTRAP defer.py RESULT_PATH REQUEST_PATH`` (``aoinspect.deferral``). The
request file holds tab-separated lines, text in hex: ``entry CODE``, ``argv WORD...`` for a program
(``script.py ARGS``, ``-m MODULE ARGS`` or ``-c ARGS``), ``deadline SECONDS`` (each scenario's),
then per scenario ``scenario`` followed by its ``defer FILE LINE`` lines. Each scenario runs in a
fork of this process, which has loaded nothing beyond a bare ``python -c``, and reports one
``defer`` section; one that hangs, is killed or exits first is reported ``incomplete`` by this
process.

How a statement is made lazy, faithfully: the module's source is compiled anew, in a throwaway fork
(``ast`` and ``symtable`` are loaded there, never in the measured process), with

* the statement replaced by a call that binds each name it would bind to a lazy object (as PEP 810
  puts a lazy object in the module's namespace);
* every load of such a name that the interpreter resolves in the module's namespace (module level,
  class bodies, and functions where ``symtable`` says the name is global, not a local, a parameter
  or a closure's) replaced by a call that returns the value, reifying a lazy object first and
  binding the result in its place; ``f(x)``, ``x is y`` and ``isinstance(o, x)`` reify as
  ``x.attr`` does;
* annotations left alone under ``from __future__ import annotations`` (never evaluated), and match
  patterns (dotted names only): a lazy object read there, or through ``eval`` or ``globals()``,
  reifies when an attribute is read from it.

The module's class gains a ``__getattribute__`` that reifies a lazy object read as an attribute
from elsewhere (``pkg.x``, ``from pkg import x``), as PEP 810 does. The compiled code reaches the
import system through ``SourceFileLoader.get_code``, for the files concerned only.
"""

import sys

_modules = sys.modules
_STARTUP = frozenset(_modules)
_ModuleType = type(sys)
_open = open
_builtins = _modules["builtins"]
_getframe = sys._getframe
_external = _modules["_frozen_importlib_external"]
_marshal = _modules["marshal"]
_imp = _modules["_imp"]
_get_ident = _modules["_thread"].get_ident


def _load_os():
    return _modules.get("os") or _modules.get("posix") or _modules.get("nt")


_os = _load_os()
_fork = getattr(_os, "fork", None)
_exit = _os._exit
_waitpid = getattr(_os, "waitpid", None)
_signal_module = _modules.get("_signal")
_alarm = getattr(_signal_module, "alarm", None)
_setitimer = getattr(_signal_module, "setitimer", None)
_ITIMER_REAL = getattr(_signal_module, "ITIMER_REAL", 0)
_set_handler = getattr(_signal_module, "signal", None)
_kill = getattr(_os, "kill", None)
_SIGALRM = getattr(_signal_module, "SIGALRM", 14)
_HERE = globals().get("__file__") or (sys.argv[1] if sys.argv[0] == "-c" else "<defer>")
_CHILD_DIR = _HERE[: max(_HERE.rfind("/"), _HERE.rfind("\\")) + 1]


def _sibling(name):
    path = _CHILD_DIR + name + ".py"
    try:  # the cached bytecode, as measure.py's siblings are read (compiling them cost each child ms)
        code = _modules["_frozen_importlib_external"].SourceFileLoader(name, path).get_code(name)
    except Exception:  # noqa: BLE001
        code = None
    if code is None:
        with _open(path, "rb") as stream:
            code = compile(stream.read(), path, "exec")
    module = _ModuleType("aoinspect_child_" + name)
    module.__file__ = path
    exec(code, module.__dict__)
    (module if name == "protocol" else protocol).hide(code, path)
    return module


protocol = _sibling("protocol")
protocol.hide(_getframe().f_code, _HERE)
_recorder = _sibling("recorder")
_keeper = _sibling("keeper")
_clock_ns = _recorder.clock_ns
_OWN_FILES = frozenset({protocol.hidden_name(_HERE), protocol.hidden_name(_CHILD_DIR + "protocol.py"),
                        protocol.hidden_name(_CHILD_DIR + "recorder.py")})

# The names the rewritten code calls; they live in builtins, so the module's namespace holds
# nothing PEP 810 would not put there.
LAZY_IMPORT = "__aoinspect_lazy_import__"
LAZY_LOAD = "__aoinspect_lazy_load__"
# How a rewritten load finds the name: in the module's namespace, or (a class body's own name)
# in the class namespace first, as LOAD_NAME does.
IN_GLOBALS = 0
IN_CLASS_FIRST = 1

# Why a requested statement is not deferred.
NOT_FOUND = "no import statement at this line"
UNREADABLE = "the file cannot be read or compiled"


def _real(path):
    os_path = getattr(_os, "path", None)
    if os_path is None:
        return path
    try:
        return os_path.realpath(path)
    except BaseException:  # noqa: BLE001
        return path


# --- the rewrite (in a throwaway fork: ast and symtable are loaded there only) ---------------------


def _reason_for(stack, node):
    import ast

    for parent in stack:
        if isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            return "in a function"
    for parent in stack:
        if isinstance(parent, ast.ClassDef):
            return "in a class"
    for parent in stack:
        if type(parent).__name__ in ("Try", "TryStar"):
            return "inside try/except"
    if isinstance(node, ast.ImportFrom):
        if any(alias.name == "*" for alias in node.names):
            return "star import"
        if node.module == "__future__" and not node.level:
            return "__future__"
    return None


def _imports_at(tree, lines):
    """(node, reason or None) for each import statement starting at one of ``lines``."""
    import ast

    found = []

    def walk(node, stack):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                if child.lineno in lines:
                    found.append((child, _reason_for(stack, child)))
            else:
                walk(child, [*stack, child])

    walk(tree, [])
    return found


def _spec(node):
    """What a deferred statement binds and how to reify each name: ``[kind, module, level,
    [[name, asname or None], ...]]``."""
    import ast

    aliases = [[alias.name, alias.asname] for alias in node.names]
    if isinstance(node, ast.Import):
        return ["import", None, 0, aliases]
    return ["from", node.module or "", node.level, aliases]


def _bound(spec):
    kind, _module, _level, aliases = spec
    if kind == "import":
        return [asname or name.partition(".")[0] for name, asname in aliases]
    return [asname or name for name, asname in aliases]


def _bound_in(nodes):
    """Names a function (or comprehension) binds itself, nested scopes left out: the fallback
    when ``symtable`` has no table for it."""
    import ast

    bound, declared = set(), set()
    stack = list(nodes)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            bound.add(node.id)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            declared.update(node.names)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update(alias.asname or alias.name.partition(".")[0] for alias in node.names)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
            continue
        if isinstance(node, ast.Lambda):
            continue
        stack.extend(ast.iter_child_nodes(node))
    return bound - declared


class _Scope:
    def __init__(self, kind, table, parent, bound=None):
        self.kind = kind  # "module", "class", "function" or "comprehension" (inlined: no table)
        self.table = table
        self.parent = parent
        self.bound = bound or set()
        self._children = None

    def child(self, kind, name, line):
        if self.table is None:
            return None
        if self._children is None:
            self._children = {}
            for table in self.table.get_children():
                table_kind = table.get_type()
                key = (str(getattr(table_kind, "value", table_kind)), table.get_name(), table.get_lineno())
                self._children.setdefault(key, []).append(table)
        tables = self._children.get((kind, name, line))
        return tables.pop(0) if tables else None


def _resolve(scope, name):
    """IN_GLOBALS, IN_CLASS_FIRST, or None when a load of ``name`` in ``scope`` does not reach the
    module's namespace (a local, a parameter, a closure's variable)."""
    if scope.kind == "module":
        return IN_GLOBALS
    if scope.kind == "comprehension":
        if name in scope.bound:
            return None
        return _resolve_function_like(scope.parent, name)
    table = scope.table
    if table is None:
        if name in scope.bound:
            return IN_CLASS_FIRST if scope.kind == "class" else None
        return _resolve_function_like(scope.parent, name)
    try:
        symbol = table.lookup(name)
    except KeyError:
        return IN_GLOBALS
    if scope.kind == "class":
        if symbol.is_declared_global():
            return IN_GLOBALS
        if symbol.is_free():
            return None
        return IN_CLASS_FIRST if symbol.is_local() else IN_GLOBALS
    return IN_GLOBALS if symbol.is_global() else None


def _resolve_function_like(scope, name):
    """As a function nested in ``scope`` sees ``name``: class namespaces are skipped."""
    while scope is not None and scope.kind == "class":
        scope = scope.parent
    if scope is None or scope.kind == "module":
        return IN_GLOBALS
    return _resolve(scope, name)


def _rewrite(tree, table, deferred, lazy_names, future_annotations):
    """``tree`` with each statement of ``deferred`` (id(node) -> statement index) replaced and
    each load of ``lazy_names`` that reaches the module's namespace rewritten."""
    import ast

    def lazy_load(node, how):
        call = ast.Call(ast.Name(LAZY_LOAD, ast.Load()), [ast.Constant(node.id), ast.Constant(how)], [])
        return ast.copy_location(call, node)

    class Rewriter(ast.NodeTransformer):
        def __init__(self):
            self.scope = _Scope("module", table, None)

        def enter(self, kind, name, line, bound_nodes):
            table = self.scope.child(kind, name, line)
            if table is None and kind == "function" and name in ("listcomp", "setcomp", "dictcomp", "genexpr"):
                self.scope = _Scope("comprehension", None, self.scope, _bound_in(bound_nodes))
            else:
                self.scope = _Scope(kind, table, self.scope, _bound_in(bound_nodes) if table is None else None)

        def leave(self):
            self.scope = self.scope.parent

        def visit_Import(self, node):
            index = deferred.get(id(node))
            if index is None:
                return node
            call = ast.Call(ast.Name(LAZY_IMPORT, ast.Load()), [ast.Constant(index)], [])
            return ast.copy_location(ast.Expr(call), node)

        visit_ImportFrom = visit_Import

        def visit_match_case(self, node):
            # A pattern may only name values by dotted names: a lazy one is left to _Lazy.__getattr__.
            if node.guard is not None:
                node.guard = self.visit(node.guard)
            node.body = [self.visit(item) for item in node.body]
            return node

        def visit_Name(self, node):
            if isinstance(node.ctx, ast.Load) and node.id in lazy_names:
                how = _resolve(self.scope, node.id)
                if how is not None:
                    return lazy_load(node, how)
            return node

        def visit_AugAssign(self, node):
            target = node.target
            node.value = self.visit(node.value)
            if isinstance(target, ast.Name) and target.id in lazy_names:
                how = _resolve(self.scope, target.id)
                if how is not None:  # x += v reads x first: x = <x, reified> + v
                    value = ast.BinOp(lazy_load(target, how), node.op, node.value)
                    return ast.copy_location(ast.Assign([ast.Name(target.id, ast.Store())], value), node)
            node.target = self.visit(target)
            return node

        def visit_AnnAssign(self, node):
            node.target = self.visit(node.target)
            if node.value is not None:
                node.value = self.visit(node.value)
            if not future_annotations:
                node.annotation = self.visit(node.annotation)
            return node

        def annotations(self, arguments):
            if future_annotations:
                return
            for arg in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs,
                        arguments.vararg, arguments.kwarg):
                if arg is not None and arg.annotation is not None:
                    arg.annotation = self.visit(arg.annotation)

        def defaults(self, arguments):
            arguments.defaults = [self.visit(value) for value in arguments.defaults]
            arguments.kw_defaults = [None if value is None else self.visit(value) for value in arguments.kw_defaults]

        def visit_FunctionDef(self, node):
            node.decorator_list = [self.visit(item) for item in node.decorator_list]
            self.defaults(node.args)
            self.annotations(node.args)
            if node.returns is not None and not future_annotations:
                node.returns = self.visit(node.returns)
            self.enter("function", node.name, node.lineno, [node.args, *node.body])
            node.body = [self.visit(item) for item in node.body]
            self.leave()
            return node

        visit_AsyncFunctionDef = visit_FunctionDef

        def visit_Lambda(self, node):
            self.defaults(node.args)
            self.enter("function", "lambda", node.lineno, [node.args, node.body])
            node.body = self.visit(node.body)
            self.leave()
            return node

        def visit_ClassDef(self, node):
            node.decorator_list = [self.visit(item) for item in node.decorator_list]
            node.bases = [self.visit(item) for item in node.bases]
            node.keywords = [self.visit(item) for item in node.keywords]
            self.enter("class", node.name, node.lineno, node.body)
            node.body = [self.visit(item) for item in node.body]
            self.leave()
            return node

        def comprehension(self, node, name, parts):
            first = node.generators[0]
            first.iter = self.visit(first.iter)  # evaluated in the enclosing scope
            targets = [generator.target for generator in node.generators]
            self.enter("function", name, node.lineno, targets)
            for index, generator in enumerate(node.generators):
                generator.target = self.visit(generator.target)
                if index:
                    generator.iter = self.visit(generator.iter)
                generator.ifs = [self.visit(item) for item in generator.ifs]
            for part in parts:
                setattr(node, part, self.visit(getattr(node, part)))
            self.leave()
            return node

        def visit_ListComp(self, node):
            return self.comprehension(node, "listcomp", ("elt",))

        def visit_SetComp(self, node):
            return self.comprehension(node, "setcomp", ("elt",))

        def visit_GeneratorExp(self, node):
            return self.comprehension(node, "genexpr", ("elt",))

        def visit_DictComp(self, node):
            return self.comprehension(node, "dictcomp", ("key", "value"))

    tree = Rewriter().visit(tree)
    return ast.fix_missing_locations(tree)


def compile_scenario(requested):
    """``(codes, specs, refused)`` for one scenario: ``requested`` maps a file to the lines
    whose statements to defer; ``codes`` maps each file's real path to its rewritten code,
    ``specs`` lists ``[file, line, spec]`` by statement index, ``refused`` ``[file, line,
    reason]``."""
    import ast
    import symtable
    from importlib.util import decode_source

    codes, specs, refused = {}, [], []  # type: dict, list, list
    for path, lines in requested.items():
        try:
            with _open(path, "rb") as stream:
                source = decode_source(stream.read())
            tree = ast.parse(source, path)
            table = symtable.symtable(source, path, "exec")
        except Exception:  # noqa: BLE001
            refused.extend([path, line, UNREADABLE] for line in sorted(lines))
            continue
        found = _imports_at(tree, lines)
        seen = {node.lineno for node, _reason in found}
        refused.extend([path, line, NOT_FOUND] for line in sorted(lines - seen))
        deferred, lazy_names = {}, set()
        for node, reason in found:
            if reason is not None:
                refused.append([path, node.lineno, reason])
                continue
            spec = _spec(node)
            deferred[id(node)] = len(specs)
            specs.append([path, node.lineno, spec])
            lazy_names.update(_bound(spec))
        if not deferred:
            continue
        future_annotations = any(
            isinstance(node, ast.ImportFrom) and node.module == "__future__"
            and any(alias.name == "annotations" for alias in node.names) for node in tree.body)
        tree = _rewrite(tree, table, deferred, lazy_names, future_annotations)
        codes[_real(path)] = compile(tree, path, "exec", dont_inherit=True)
    return codes, specs, refused


# --- the run ------------------------------------------------------------------------------------------


class _Lazy:
    """A lazy object in a module's namespace: one name a deferred statement binds. Its fields are
    named so as not to hide a module's attributes: read as ``x.attr`` where the rewrite could not
    reach (a match pattern, ``eval``, ``globals()[...]``), it reifies then and answers for the value."""

    __slots__ = ("_aoinspect_index", "_aoinspect_name", "_aoinspect_namespace", "_aoinspect_reifying",
                 "_aoinspect_which")

    def __init__(self, index, which, name, namespace):
        self._aoinspect_index = index  # the statement's
        self._aoinspect_which = which  # its alias
        self._aoinspect_name = name
        self._aoinspect_namespace = namespace  # the module's globals
        self._aoinspect_reifying = None  # the thread reifying it, while one does

    def __getattr__(self, attribute):
        return getattr(_reify(self, _getframe(1)), attribute)

    def __repr__(self):
        return "<lazy import " + repr(self._aoinspect_name) + ">"


class _State:
    """The run's: the deferred statements, their first reifications, the module classes made."""

    def __init__(self):
        self.specs = []  # type: list
        self.executed = set()  # type: set  # indexes of the deferred statements that ran
        self.reified = {}  # type: dict  # statement index -> [name, file, line, during import, error or None]
        self.classes = {}  # type: dict  # a module class -> its subclass that reifies on attribute access


_state = _State()


def _user_frame(frame):
    """The first frame from ``frame`` outward that is not the import system's or ours."""
    while frame is not None:
        filename = frame.f_code.co_filename
        if filename not in _OWN_FILES and not filename.startswith("<frozen importlib"):
            return frame
        frame = frame.f_back
    return None


def _during_import(frame):
    """Whether a module body other than ``__main__``'s is on the stack: an import is running."""
    while frame is not None:
        code = frame.f_code
        if code.co_name == "<module>" and code.co_filename not in _OWN_FILES \
                and frame.f_globals.get("__name__") != "__main__":
            return True
        frame = frame.f_back
    return False


def _describe(exc):
    return type(exc).__name__ + ": " + str(exc)


def _reify(lazy, frame):
    """Import what ``lazy`` stands for, as the eager statement would have, bind it in its place,
    and note where the first reification of its statement happened."""
    frame = _user_frame(frame)
    first = lazy._aoinspect_index not in _state.reified
    if first:
        _state.reified[lazy._aoinspect_index] = [
            lazy._aoinspect_name, frame.f_code.co_filename if frame is not None else None,
            (frame.f_lineno or 0) if frame is not None else 0, _during_import(frame), None,
        ]
    namespace = lazy._aoinspect_namespace
    kind, module, level, aliases = _state.specs[lazy._aoinspect_index][2]
    name, asname = aliases[lazy._aoinspect_which]
    outer, lazy._aoinspect_reifying = lazy._aoinspect_reifying, _get_ident()
    try:
        importer = _builtins.__import__
        if kind == "import":
            top = importer(name, namespace, namespace, None, 0)
            value = top
            if asname:
                for part in name.split(".")[1:]:
                    value = _import_from(value, part)
        else:
            value = _import_from(importer(module, namespace, namespace, (name,), level), name)
    except BaseException as exc:
        if first:
            _state.reified[lazy._aoinspect_index][4] = _describe(exc)
        raise
    finally:
        lazy._aoinspect_reifying = outer
    if namespace.get(lazy._aoinspect_name) is lazy:
        namespace[lazy._aoinspect_name] = value
    return value


def _import_from(module, name):
    """IMPORT_FROM: the attribute, else the submodule in ``sys.modules`` (a circular import)."""
    try:
        return getattr(module, name)
    except AttributeError:
        pass
    full = getattr(module, "__name__", None)
    if type(full) is str and full + "." + name in _modules:
        return _modules[full + "." + name]
    raise ImportError("cannot import name " + repr(name) + " from " + repr(full))


def lazy_import(index):
    """A deferred statement runs: bind a lazy object for each name it binds."""
    namespace = _getframe(1).f_globals
    _state.executed.add(index)
    spec = _state.specs[index][2]
    for which, name in enumerate(_bound(spec)):
        namespace[name] = _Lazy(index, which, name, namespace)
    name = namespace.get("__name__")
    module = _modules.get(name) if type(name) is str else None
    if module is not None and getattr(module, "__dict__", None) is namespace:
        _reify_on_attribute_access(module)


def lazy_load(name, how):
    """A load of ``name`` the rewrite routed here: its value, a lazy object reified first."""
    frame = _getframe(1)
    if how == IN_CLASS_FIRST:
        local = frame.f_locals
        if name in local:
            return local[name]
    namespace = frame.f_globals
    try:
        value = namespace[name]
    except KeyError:
        builtins = namespace.get("__builtins__", _builtins)
        found = builtins.get(name, namespace) if type(builtins) is dict else getattr(builtins, name, namespace)
        if found is namespace:
            raise NameError("name " + repr(name) + " is not defined") from None
        return found
    if type(value) is _Lazy:
        return _reify(value, frame)
    return value


def _reify_on_attribute_access(module):
    base = type(module)
    if base in _state.classes.values():
        return
    subclass = _state.classes.get(base)
    if subclass is None:
        original = getattr(base, "__getattribute__")  # noqa: B009 - the class's, called with the module

        def __getattribute__(self, name):
            value = original(self, name)
            if type(value) is _Lazy:
                if value._aoinspect_reifying == _get_ident():  # the import system asking while it reifies it
                    raise AttributeError(name)
                return _reify(value, _getframe(1))
            return value

        protocol.hide(__getattribute__.__code__, _HERE)
        subclass = type(base.__name__, (base,), {"__getattribute__": __getattribute__})
        _state.classes[base] = subclass
    try:
        module.__class__ = subclass
    except TypeError:
        pass


def _base_name(path):
    return path[max(path.rfind("/"), path.rfind("\\")) + 1:]


def _install(codes):
    loader = _external.SourceFileLoader
    original = loader.get_code
    fix = getattr(_imp, "_fix_co_filename", None)
    # Only a file with one of these names can be one of ``codes``: the others skip realpath.
    names = frozenset(_base_name(path) for path in codes)

    def get_code(self, fullname):
        path = self.get_filename(fullname)
        code = codes.get(_real(path)) if _base_name(path) in names else None
        if code is None:
            return original(self, fullname)
        if fix is not None:
            fix(code, path)
        return code

    protocol.hide(get_code.__code__, _HERE)
    loader.get_code = get_code
    setattr(_builtins, LAZY_IMPORT, lazy_import)
    setattr(_builtins, LAZY_LOAD, lazy_load)


def _hidden_runpy():
    """``runpy``, loaded and then taken out of ``sys.modules`` with what it loaded: a program run
    with ``-m`` that imports them gets them afresh, and they count as its own."""
    before = set(_modules)
    import runpy

    for name in [name for name in _modules if name not in before]:
        del _modules[name]
    return runpy


def _entry(entry, argv, main, codes):
    """What runs as ``__main__``: ENTRY, or the program ``argv`` names, set up as ``python``
    would (``sys.argv``, ``sys.path[0]``, ``__file__``)."""
    if argv:
        sys.argv[:] = argv
    if not argv or argv[0] == "-c":
        code = compile(entry, "<string>", "exec")
        return lambda: exec(code, main.__dict__)
    if argv[0] == "-m":
        runpy = _hidden_runpy()
        name = argv[1]
        del sys.argv[1]
        return lambda: runpy._run_module_as_main(name)
    script = argv[0]
    sys.path[0] = script[: max(script.rfind("/"), script.rfind("\\"))] or "/"
    main.__file__ = script
    code = codes.get(_real(script))  # the script's own statements deferred: its rewritten code
    if code is None:
        with _open(script, "rb") as stream:
            code = compile(stream.read(), script, "exec")
    return lambda: exec(code, main.__dict__)


def run_scenario(index, compiled, entry, argv, reporter):
    codes, specs, refused = compiled
    _state.specs = specs
    _install(codes)
    main = _ModuleType("__main__")
    main.__builtins__ = _builtins
    _modules["__main__"] = main
    error = None
    run = _entry(entry, argv, main, codes)
    started = _clock_ns()
    try:
        run()
    except BaseException as exc:  # noqa: BLE001 - the entry's own failure is a result
        error = _describe(exc)
    elapsed = _clock_ns() - started
    modules = sorted(name for name in list(_modules) if name not in _STARTUP)
    reified = [[specs[i][0], specs[i][1], *_state.reified[i]] for i in sorted(_state.reified)]
    reporter.send(protocol.SECTION_DEFER, {
        "index": index, "python": "{}.{}".format(*sys.version_info[:2]), "modules": modules, "reified": reified,
        "elapsed_ns": elapsed, "error": error, "refused": refused,
        "deferred": [[spec[0], spec[1]] for spec in specs],
        "executed": [[specs[i][0], specs[i][1]] for i in sorted(_state.executed)], "incomplete": None,
    })


def _read_request(path):
    entry, argv, scenarios, seconds = "import sys", None, [], 0.0  # type: str, object, list, float
    with _open(path, "rb") as stream:
        lines = stream.read().decode("ascii").split("\n")
    for line in lines:
        fields = line.split("\t")
        if fields[0] == "entry":
            entry = bytes.fromhex(fields[1]).decode("utf-8")
        elif fields[0] == "argv":
            argv = [bytes.fromhex(field).decode("utf-8") for field in fields[1:]]
        elif fields[0] == "deadline":
            seconds = float(fields[1])
        elif fields[0] == "scenario":
            scenarios.append({})
        elif fields[0] == "defer" and scenarios:
            scenarios[-1].setdefault(bytes.fromhex(fields[1]).decode("utf-8"), set()).add(int(fields[2]))
    return entry, argv, scenarios, seconds


def _wait(pid):
    """The fork's wait status, or None."""
    try:
        return _waitpid(pid, 0)[1]
    except BaseException:  # noqa: BLE001
        return None


def _set_alarm(seconds):
    """SIGALRM in ``seconds`` (0: none), to the microsecond where setitimer exists; whole seconds,
    rounded up, where only alarm does."""
    if _setitimer is not None:
        _setitimer(_ITIMER_REAL, seconds)
    elif _alarm is not None:
        _alarm(-int(-seconds // 1))


def _grace(seconds):
    """How long past its deadline a scenario that took SIGALRM over is killed: as long again, a
    second at most."""
    return min(seconds, 1.0)


def _wait_bounded(pid, seconds):
    """``(wait status or None, killed for its deadline)``: a scenario that took SIGALRM over (its
    own deadline) is killed ``_grace`` after it, by this process's own alarm."""
    if not seconds or (_alarm is None and _setitimer is None) or _set_handler is None:
        return _wait(pid), False
    overdue = []

    def on_alarm(number, frame):
        overdue.append(True)
        try:
            _kill(pid, 9)
        except BaseException:  # noqa: BLE001 - already gone
            pass

    previous = _set_handler(_SIGALRM, on_alarm)
    try:
        _set_alarm(seconds + _grace(seconds))
        status = _wait(pid)
    finally:
        _set_alarm(0)
        _set_handler(_SIGALRM, previous)
    return status, bool(overdue)


def _reported(result_path, index):
    """Whether the scenario's own section reached the result file (its last lines)."""
    marker = ('"index":' + str(index) + ",").encode("ascii")
    try:
        with _open(result_path, "rb") as stream:
            lines = stream.read().split(b"\n")
    except BaseException:  # noqa: BLE001
        return False
    return any(marker in line and b'"section":"defer"' in line for line in lines[-3:])


def _incomplete(index, compiled, status, seconds, overdue=False):
    """The section of a scenario that ended without reporting: killed, timed out, or exited."""
    _codes, specs, refused = compiled
    if status is None:
        why = "its process could not be waited for"
    elif status & 0x7F:
        number = status & 0x7F
        why = ("it ran past its deadline of " + format(seconds, "g") + " s") if number == _SIGALRM or overdue \
            else "it was killed by signal " + str(number)
    else:
        why = "it exited with status " + str(status >> 8) + " before reporting"
    return {
        "index": index, "python": "{}.{}".format(*sys.version_info[:2]), "modules": [], "reified": [],
        "elapsed_ns": 0, "error": None, "refused": refused, "deferred": [[spec[0], spec[1]] for spec in specs],
        "executed": [], "incomplete": why,
    }


def _compiled_in_a_fork(scenarios, result_path):
    """Each scenario's ``(codes, specs, refused)``, compiled in a fork so that what the rewrite
    loads never reaches this process; in this process (then hidden again) without fork."""
    if _fork is None:
        before = set(_modules)
        compiled = [compile_scenario(scenario) for scenario in scenarios]
        for name in [name for name in _modules if name not in before]:
            del _modules[name]
        return compiled
    path = result_path + ".compiled"
    pid = _fork()
    if pid == 0:
        try:
            data = _marshal.dumps([compile_scenario(scenario) for scenario in scenarios])
            with _open(path, "wb") as stream:
                stream.write(data)
        finally:
            _exit(0)
    _wait(pid)
    try:
        with _open(path, "rb") as stream:
            compiled = _marshal.loads(stream.read())
    finally:
        try:
            _os.unlink(path)
        except BaseException:  # noqa: BLE001
            pass
    return [tuple(item) for item in compiled]


def main(argv):
    result_path, request_path = argv[0], argv[1]
    _keeper.below()  # what the entry sends its parent reaches the keeper, not aoinspect
    if sys.argv[0] != "-c" and not getattr(sys.flags, "safe_path", False):
        sys.path[0] = ""
    sys.argv[:] = ["-c"]
    token = ""
    try:
        with _open(result_path + protocol.TOKEN_SUFFIX, "rb") as stream:
            token = stream.read(64).decode("ascii", "replace")
        _os.unlink(result_path + protocol.TOKEN_SUFFIX)
    except BaseException:  # noqa: BLE001 - run by hand
        pass
    reporter = protocol.Reporter(result_path, _open, token)
    try:
        entry, argv, scenarios, seconds = _read_request(request_path)
        compiled = _compiled_in_a_fork(scenarios, result_path)
        if _fork is None:
            if scenarios:
                run_scenario(0, compiled[0], entry, argv, reporter)
        else:
            # This process waits for each scenario: what a scenario sends its parent must not end it.
            handlers = _keeper.ignore_parent_signals()
            for index, scenario in enumerate(compiled):
                pid = _fork()
                if pid == 0:
                    try:
                        _keeper.restore_handlers(handlers)
                        if seconds:
                            _set_alarm(seconds)  # the scenario's deadline: SIGALRM ends it
                        run_scenario(index, scenario, entry, argv, reporter)
                    finally:
                        _flush_and_exit()
                status, overdue = _wait_bounded(pid, seconds)
                if not _reported(result_path, index):
                    reporter.send(protocol.SECTION_DEFER, _incomplete(index, scenario, status, seconds, overdue))
        reporter.send(protocol.SECTION_DONE, {})
    except BaseException as exc:  # noqa: BLE001
        reporter.send(protocol.SECTION_INTERNAL, {"error": {"type": type(exc).__name__, "message": str(exc)}})


def _flush_and_exit():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001
            pass
    _exit(0)


if __name__ == "__main__":
    try:
        main(sys.argv[2:] if sys.argv[0] == "-c" else sys.argv[1:])
    finally:
        _flush_and_exit()
