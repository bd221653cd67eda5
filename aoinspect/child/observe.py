"""Run ``python observe.py RESULT MODULE...``: import each MODULE in this fresh interpreter and
write to RESULT what importing them did to the rest of the interpreter (``effects.py``): what
deferring an import of them would delay or cancel. Child code (``__init__.py`` says its rules).

RESULT gets one Python literal: ``{"changes": [(kind, detail), ...], "error": None or "Type: message"}``.
"""

import sys

_modules = sys.modules
_ModuleType = type(sys)
_HERE = __file__ if isinstance(globals().get("__file__"), str) else sys.argv[0]
_CHILD_DIR = _HERE[: max(_HERE.rfind("/"), _HERE.rfind("\\")) + 1]


def _sibling(name):
    """``NAME.py`` of this folder as a module object never put in ``sys.modules``."""
    path = _CHILD_DIR + name + ".py"
    with open(path, "rb") as stream:
        code = compile(stream.read(), path, "exec")
    module = _ModuleType("aoinspect_child_" + name)
    module.__file__ = path
    exec(code, module.__dict__)
    return module


def main(argv):
    result_path, targets = argv[0], argv[1:]
    effects = _sibling("effects")
    effects.install()
    before = effects.snapshot()
    error = None
    try:
        for target in targets:
            __import__(target)
    except BaseException as exc:  # noqa: BLE001 - whatever the target raises is the answer
        error = type(exc).__name__ + ": " + str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
    after = effects.snapshot()
    found = [(str(kind), None if detail is None else str(detail)) for kind, detail in effects.changes(before, after)]
    with open(result_path, "w", encoding="utf-8") as stream:
        stream.write(repr({"changes": found, "error": error}))


if __name__ == "__main__":
    main(sys.argv[1:])
