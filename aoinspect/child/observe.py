"""Run ``python observe.py RESULT KIND TARGET ARGS...``: run the entry (KIND ``command``: code as
``python -c`` runs it; ``module``: as ``-m``; ``script``: a file) and write to RESULT what each
module's own execution did to the rest of the interpreter (``effects.py``): deferring an import
that stops the module from loading delays or cancels that. Child code (``__init__.py`` says its
rules).

A module's own effects are those seen while its body ran, less those of the modules its body
imported (each attributed to itself). RESULT gets one Python literal:
``{"effects": {module: [(kind, detail), ...]}, "error": None or "Type: message"}``.
"""

import sys

_modules = sys.modules
_ModuleType = type(sys)
_bootstrap = _modules["_frozen_importlib"]
_open = open  # the package may replace builtins.open, os._exit...: ours are taken first
_os = _modules.get("os") or _modules.get("posix") or _modules.get("nt")
_exit = getattr(_os, "_exit", None)
_unlink = getattr(_os, "unlink", None)
_getcwd = getattr(_os, "getcwd", None)
_HERE = __file__ if isinstance(globals().get("__file__"), str) else sys.argv[0]
_CHILD_DIR = _HERE[: max(_HERE.rfind("/"), _HERE.rfind("\\")) + 1]


def _sibling(name):
    """``NAME.py`` of this folder as a module object never put in ``sys.modules``."""
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
    return module


def _attributing(effects, own):
    """Wrap the bootstrap's ``_load_unlocked`` (every module's execution goes through it) so that
    each module's own effects land in ``own``."""
    original = _bootstrap._load_unlocked
    stack: list = []

    def _load_unlocked(spec):
        name = spec.name
        before = effects.snapshot()
        stack.append([])
        try:
            return original(spec)
        finally:
            nested = stack.pop()
            found = effects.changes(before, effects.snapshot())
            mine = []
            for change in found:
                if change in nested:
                    nested.remove(change)
                else:
                    mine.append(change)
            if mine:
                own[name] = own.get(name, []) + mine
            if stack:
                stack[-1].extend(found)

    _bootstrap._load_unlocked = _load_unlocked


def _run(kind, target, arguments):
    # A fresh __main__ for the entry, as ``python -c`` has: this file's own functions keep theirs.
    main = _ModuleType("__main__")
    main.__builtins__ = _modules["builtins"]
    _modules["__main__"] = main
    if kind == "command":
        sys.argv[:] = ["-c", *arguments]
        sys.path[0] = ""  # as ``python -c``: not this file's folder
        exec(compile(target, "<string>", "exec"), main.__dict__)
    elif kind == "module":
        sys.argv[:] = [target, *arguments]
        sys.path[0] = _getcwd() if _getcwd is not None else ""  # as ``python -m``
        __import__("runpy")._run_module_as_main(target, True)
    else:
        sys.argv[:] = [target, *arguments]
        sys.path[0] = target[: max(target.rfind("/"), target.rfind("\\"))] or "."
        __import__("runpy").run_path(target, run_name="__main__")


def _token(result_path):
    """The secret the parent left for this run (``protocol.TOKEN_SUFFIX``), read and removed
    before the entry runs: a result without it on its first line is forged."""
    path = result_path + ".token"
    try:
        with _open(path, "rb") as stream:
            token = stream.read(64).decode("ascii", "replace")
        _unlink(path)
        return token
    except BaseException:  # noqa: BLE001 - run by hand
        return ""


def _text(value):
    try:
        return str(value)
    except BaseException:  # noqa: BLE001 - a hostile __str__
        return "<unprintable>"


def main(argv):
    """Ends the process (``os._exit``): what the entry left running cannot keep it alive."""
    _sibling("keeper").below()  # what the entry sends its parent reaches the keeper, not aoinspect
    try:
        _observe(argv)
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except BaseException:  # noqa: BLE001
                pass
        _exit(0)


def _observe(argv):
    result_path, kind, target, arguments = argv[0], argv[1], argv[2], argv[3:]
    token = _token(result_path)
    effects = _sibling("effects")
    effects.install()
    own: dict = {}
    _attributing(effects, own)
    error = None
    try:
        _run(kind, target, arguments)
    except SystemExit as exc:
        try:
            if exc.code not in (None, 0):
                error = "SystemExit: " + _text(exc.code)
        except BaseException:  # noqa: BLE001 - a code whose __eq__ raises
            error = "SystemExit: <unprintable>"
    except BaseException as exc:  # noqa: BLE001 - whatever the entry raises is the answer
        text = _text(exc)
        error = type(exc).__name__ + (": " + text.splitlines()[0][:300] if text else "")
    found = {_text(name): [(_text(kind_), None if detail is None else _text(detail)) for kind_, detail in changes]
             for name, changes in own.items()}
    with _open(result_path, "w", encoding="utf-8") as stream:
        stream.write(token + "\n" + repr({"effects": found, "error": error}))


if __name__ == "__main__":
    main(sys.argv[1:])
