"""What ``pickle`` saves by reference, and how a value is pickled for the unpickle probe: shared by
the probes (``measure.py``'s ``pickle_names``) and ``check``'s predicting child (``predict.py``),
whose pickles are the same bytes wherever the package gives the same value the same
``__module__`` and ``__qualname__``. Child code (see ``__init__.py`` for the rules it keeps)."""

import sys

_ModuleType = type(sys)
_FunctionType = type(lambda: None)
_BuiltinFunctionType = type(len)
_type_dict = type.__dict__["__dict__"].__get__
_SLOT_DESCRIPTORS = (type(_FunctionType.__dict__["__module__"]), type(_FunctionType.__dict__["__qualname__"]))


def slot(value, name):
    """``value.name`` from a slot of the value's type (a function's ``__module__``, a class's
    ``__qualname__``), or None: nothing of the package runs."""
    kind = type(value)
    # A class's metaclass dictionary holds its own ``__module__`` string: read type's slot.
    descriptor = _type_dict(type if issubclass(kind, type) else kind).get(name)
    if type(descriptor) not in _SLOT_DESCRIPTORS:
        return None
    try:
        return descriptor.__get__(value, kind)
    except BaseException:  # noqa: BLE001
        return None


def global_kind(value):
    """"class" or "function" for what pickle saves as a reference by name, else None."""
    kind = type(value)
    if issubclass(kind, type):
        return "class"
    if kind is _FunctionType:
        return "function"
    # A builtin function of a module; a builtin bound to an instance pickles as a method.
    if kind is _BuiltinFunctionType:
        owner = slot(value, "__self__")
        if owner is None or issubclass(type(owner), _ModuleType):
            return "function"
    return None


def sent(data, limit):
    """What the unpickle probe is sent of ``pickle.dumps``'s ``data`` (hex), or None: not bytes,
    or more than ``limit`` of them."""
    return data.hex() if type(data) is bytes and len(data) <= limit else None
