"""Fake packages, as ``{path: source}`` maps for the ``fake`` fixture (``fake.write(...)``): the
well-behaved lazy package most tests start from (``lazy_package``), one package per rule of
``check`` built to break it (``RULE_BREAKERS``), and fakes that reproduce the lazy mechanisms of
real packages, each naming the package whose pattern it copies. The one place for fakes that more
than one test module uses."""

from __future__ import annotations

import textwrap

LAZY_INIT = textwrap.dedent('''
    from typing import TYPE_CHECKING

    if TYPE_CHECKING:
        from {pkg} import alpha as alpha, beta as beta

    __all__ = ["alpha", "beta"]


    def __getattr__(name):
        if name in __all__:
            import importlib

            return importlib.import_module("." + name, __name__)
        raise AttributeError(f"module {{__name__!r}} has no attribute {{name!r}}")


    def __dir__():
        return sorted(list(globals()) + __all__)
''')


def lazy_package(
    pkg: str, alpha: str = "VALUE = 1\n", beta: str = "VALUE = 2\n", init: str | None = None
) -> dict[str, str]:
    """A well-behaved lazy package with two names; override a part to break it."""
    return {
        f"{pkg}/__init__.py": init if init is not None else LAZY_INIT.format(pkg=pkg),
        f"{pkg}/alpha.py": alpha,
        f"{pkg}/beta.py": beta,
    }


def with_beta(beta: str, init_extra: str = "", init_prefix: str = "") -> dict[str, str]:
    """``pkg``, the lazy package, whose ``beta`` runs BETA, with code before or after its __init__."""
    return lazy_package("pkg", beta=beta, init=init_prefix + LAZY_INIT.format(pkg="pkg") + init_extra)


_GETATTR_TAIL = textwrap.dedent('''
    __all__ = ["alpha", "beta"]

    def __dir__():
        return sorted(list(globals()) + __all__)
''')

# One ``pkg`` per rule of ``check`` (tests/test_rules.py), built to break it; "rule (how)" when a
# rule has more than one.
RULE_BREAKERS = {
    "eager-import": lazy_package("pkg", init=LAZY_INIT.format(pkg="pkg") + "\nfrom . import alpha\n"),
    "resolve-failed": lazy_package("pkg", beta="raise RuntimeError('beta is broken')\n"),
    "wrong-exception": lazy_package("pkg", init=LAZY_INIT.format(pkg="pkg").replace(
        "raise AttributeError(", "raise KeyError(")),
    "unknown-accepted": lazy_package("pkg", init=LAZY_INIT.format(pkg="pkg").replace(
        "raise AttributeError(f\"module {__name__!r} has no attribute {name!r}\")", "return None")),
    "rejection-side-effect": lazy_package("pkg", init=LAZY_INIT.format(pkg="pkg").replace(
        "raise AttributeError(", "import pkg.heavy\n    raise AttributeError(")
    ) | {"pkg/heavy.py": "X = 1\n"},
    "declaration-mismatch": lazy_package("pkg", init=LAZY_INIT.format(pkg="pkg").replace(
        "beta as beta", "gamma as gamma")),
    "invalid-all": lazy_package("pkg", init=LAZY_INIT.format(pkg="pkg").replace(
        '__all__ = ["alpha", "beta"]', '__all__ = ["alpha", "beta", "alpha", 7]')),
    "not-cached": {"pkg/__init__.py": textwrap.dedent('''
        def __getattr__(name):
            if name in __all__:
                return object()
            raise AttributeError(name)
    ''') + _GETATTR_TAIL},
    "missing-dir": lazy_package("pkg", init=LAZY_INIT.format(pkg="pkg").split("def __dir__")[0]),
    "missing-dir (dir raises)": lazy_package("pkg", init=LAZY_INIT.format(pkg="pkg").replace(
        "return sorted(list(globals()) + __all__)", "raise RuntimeError('no dir')")),
    "probe-failed": lazy_package("pkg", beta="import os\nos._exit(0)\n"),
    "second-access-fails": {"pkg/__init__.py": textwrap.dedent('''
        _unserved = {"alpha": 1, "beta": 2}  # popped when served, never stored: lazy-imports' pattern


        def __getattr__(name):
            if name in _unserved:
                return _unserved.pop(name)
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    ''') + _GETATTR_TAIL},
}

# Names that import each other and a shared private module (tests/test_probe.py, test_isolation.py).
INTERDEPENDENT = {
    "tangle/__init__.py": '''
        __all__ = ["left", "right", "solo"]

        def __getattr__(name):
            if name in __all__:
                import importlib
                return importlib.import_module("." + name, __name__)
            raise AttributeError(name)
    ''',
    "tangle/left.py": "import json\nfrom tangle import right\nfrom tangle._shared import helper\n",
    "tangle/right.py": "import tangle._shared\nimport decimal\n",
    "tangle/_shared.py": "import fractions\ndef helper():\n    return 1\n",
    "tangle/solo.py": "import importlib\nmod = importlib.import_module('tangle._shared')\n",
}

# --- the lazy mechanisms of real packages (tests/test_mechanisms.py, test_introspection.py) ------

# Modules each mechanism's lazy target imports when it runs: stdlib modules a bare interpreter
# does not load at start-up, so that a missed load shows as a wrong module set.
HEAVY = "import colorsys, fractions\nVALUE = 1\n"

# openai's LazyProxy: a module attribute that is an object loading its target on any attribute
# access, including __class__ (so isinstance() on it runs the package's code).
PROXY = {
    "proxied/__init__.py": """
        from ._proxy import ChatProxy

        chat = ChatProxy()
        __all__ = ["chat"]
    """,
    "proxied/_proxy.py": """
        class LazyProxy:
            def __load__(self):
                import importlib
                return importlib.import_module("proxied.resources")

            def __getattr__(self, attr):
                return getattr(self.__load__(), attr)

            @property
            def __class__(self):
                return type(self.__load__())

            def __repr__(self):
                return repr(self.__load__())


        class ChatProxy(LazyProxy):
            pass
    """,
    "proxied/resources.py": HEAVY + "completions = 'completions'\n",
}

# importlib.util.LazyLoader (what lazy_loader.load uses): the module is in sys.modules at once
# and executes on its first attribute access.
LAZY_MODULE = {
    "deferred/__init__.py": """
        import importlib.util
        import sys


        def _lazy(name):
            spec = importlib.util.find_spec(name)
            loader = importlib.util.LazyLoader(spec.loader)
            spec.loader = loader
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            loader.exec_module(module)
            return module


        heavy = _lazy("deferred.heavy")
        __all__ = ["heavy"]
    """,
    "deferred/heavy.py": HEAVY + "X = 'x'\n",
}

# transformers' _LazyModule: the package replaces itself in sys.modules with an instance of a
# ModuleType subclass whose class-level __getattr__ imports on demand.
CLASS_GETATTR = {
    "classlazy/__init__.py": """
        import sys
        from typing import TYPE_CHECKING

        from ._lazy import LazyModule

        if TYPE_CHECKING:
            from . import configuration, modeling
            from .configuration import Config
            from .modeling import Model
        else:
            sys.modules[__name__] = LazyModule(
                __name__, __file__, {"configuration": ["Config"], "modeling": ["Model"]}, __spec__
            )
    """,
    "classlazy/_lazy.py": """
        import importlib
        from types import ModuleType


        class LazyModule(ModuleType):
            def __init__(self, name, file, structure, spec):
                super().__init__(name)
                self._class_to_module = {item: module for module, items in structure.items() for item in items}
                self.__all__ = list(structure) + list(self._class_to_module)
                self.__file__ = file
                self.__spec__ = spec
                self.__path__ = [file.rsplit("/", 1)[0]]

            def __dir__(self):
                return list(super().__dir__()) + self.__all__

            def __getattr__(self, name):
                if name in self._class_to_module:
                    module = importlib.import_module("." + self._class_to_module[name], self.__name__)
                    value = getattr(module, name)
                elif name in self.__all__:
                    value = importlib.import_module("." + name, self.__name__)
                else:
                    raise AttributeError(f"module {self.__name__} has no attribute {name}")
                setattr(self, name, value)
                return value
    """,
    "classlazy/configuration.py": "import colorsys\nclass Config: pass\n",
    "classlazy/modeling.py": "import fractions\nfrom .configuration import Config\nclass Model: pass\n",
}

# The module __class__ swap the Python docs show (sys.modules[__name__].__class__ = ...).
CLASS_SWAP = {
    "swapped/__init__.py": """
        import sys
        import types

        __all__ = ["heavy"]


        class _Lazy(types.ModuleType):
            def __getattr__(self, name):
                if name == "heavy":
                    import importlib
                    return importlib.import_module(".heavy", __name__)
                raise AttributeError(name)


        sys.modules[__name__].__class__ = _Lazy
    """,
    "swapped/heavy.py": HEAVY,
}

# scientific-python's lazy_loader.attach, reduced to what it does: a module __getattr__ built by
# another package. A stand-in ``lazy_loader`` is written beside it.
LAZY_LOADER = {
    "lazy_loader/__init__.py": """
        import importlib


        def attach(package_name, submodules=(), submod_attrs=None):
            submod_attrs = submod_attrs or {}
            attr_to_modules = {attr: mod for mod, attrs in submod_attrs.items() for attr in attrs}
            __all__ = sorted(set(submodules) | set(attr_to_modules))

            def __getattr__(name):
                if name in submodules:
                    return importlib.import_module(f"{package_name}.{name}")
                if name in attr_to_modules:
                    module = importlib.import_module(f"{package_name}.{attr_to_modules[name]}")
                    return getattr(module, name)
                raise AttributeError(f"No {package_name} attribute {name}")

            def __dir__():
                return __all__

            return __getattr__, __dir__, list(__all__)
    """,
    "attached/__init__.py": """
        import lazy_loader as lazy

        __getattr__, __dir__, __all__ = lazy.attach(__name__, submodules=["heavy"], submod_attrs={"util": ["tool"]})
    """,
    "attached/heavy.py": HEAVY,
    "attached/util.py": "import colorsys\ndef tool(): pass\n",
}

# scikit-learn's __getattr__: submodules through the import system, everything else from the
# package's own globals, so names already imported by the package are not lazy at all.
GLOBALS_FALLBACK = {
    "fallback/__init__.py": """
        import importlib as _importlib
        from typing import TYPE_CHECKING

        from ._config import get_config
        from . import eager

        if TYPE_CHECKING:
            from . import heavy

        _submodules = ["eager", "heavy"]
        __all__ = ["get_config", "eager", "heavy"]


        def __getattr__(name):
            if name in _submodules:
                return _importlib.import_module(f"fallback.{name}")
            try:
                return globals()[name]
            except KeyError:
                raise AttributeError(f"module 'fallback' has no attribute {name!r}") from None
    """,
    "fallback/_config.py": "def get_config():\n    return {}\n",
    "fallback/eager.py": "",
    "fallback/heavy.py": HEAVY,
}

# Declarations written the ways real packages write them (pydantic, huggingface_hub, openai).
DECLARED_STATICALLY = {
    "declared/__init__.py": """
        import importlib
        import typing
        from typing import TYPE_CHECKING as _TC

        if _TC:
            from .alpha import Alpha
            from .alpha import Helper as PublicHelper
            from declared.deep.inner import Inner
            import declared.beta
            from types import ModuleType  # from outside the package: declares nothing
            if typing.TYPE_CHECKING:
                from .gamma import Gamma
            try:
                from .delta import Delta
            except ImportError:
                pass

        __all__ = ["Alpha", "PublicHelper", "Inner", "beta", "Gamma", "Delta"]

        _where = {"Alpha": "alpha", "PublicHelper": "alpha", "Inner": "deep.inner", "Gamma": "gamma",
                  "Delta": "delta"}


        def __getattr__(name):
            if name == "beta":
                return importlib.import_module(".beta", __name__)
            if name in _where:
                module = importlib.import_module("." + _where[name], __name__)
                return getattr(module, "Helper" if name == "PublicHelper" else name)
            raise AttributeError(name)
    """,
    "declared/alpha.py": "class Alpha: pass\nclass Helper: pass\n",
    "declared/beta.py": "",
    "declared/gamma.py": "class Gamma: pass\n",
    "declared/delta.py": "class Delta: pass\n",
    "declared/deep/__init__.py": "",
    "declared/deep/inner.py": "class Inner: pass\n",
}

# numpy.__config__'s pattern: a module's import begins, its parent package is imported first,
# and the parent's __init__ imports the same module again, which loads it.
REENTERED = {
    "reenter/__init__.py": "from . import config\n",
    "reenter/config.py": "from reenter.core._umath import VALUE\n",
    "reenter/core/__init__.py": "from . import multiarray\n",
    "reenter/core/multiarray.py": "from . import _umath\nimport colorsys\n",
    "reenter/core/_umath.py": "import fractions\nVALUE = 1\n",
}

# --- under introspection (tests/test_introspection.py): one package per tool that breaks it ------

# A __dir__ that imports what it lists, to be sure the names exist.
DIR_IMPORTS = {
    "dirloads/__init__.py": """
        import importlib

        __all__ = ["heavy"]


        def __getattr__(name):
            if name in __all__:
                return importlib.import_module("." + name, __name__)
            raise AttributeError(name)


        def __dir__():
            for name in __all__:
                importlib.import_module("." + name, __name__)
            return sorted(list(globals()) + __all__)
    """,
    "dirloads/heavy.py": HEAVY,
}

# six, textual, langchain: a __getattr__ that imports whatever it is asked for, so that
# hasattr(pkg, "__wrapped__") raises ModuleNotFoundError instead of returning False.
IMPORTS_ANY_NAME = {
    "anyname/__init__.py": """
        import importlib


        def __getattr__(name):
            return importlib.import_module("." + name, __name__)
    """,
    "anyname/heavy.py": HEAVY,
}

# A __getattr__ that loads its table of lazy names before it looks the name up: the first
# probed dunder imports it.
LOADS_BEFORE_DECIDING = {
    "registry/__init__.py": """
        def __getattr__(name):
            from ._table import NAMES

            if name in NAMES:
                import importlib
                return importlib.import_module("." + name, __name__)
            raise AttributeError(name)
    """,
    "registry/_table.py": HEAVY + "NAMES = ['heavy']\n",
    "registry/heavy.py": "",
}

# A proxy registered in sys.modules (a compatibility alias): inspect.getmodule's walk reads its
# __class__ and __file__, which load the module it stands for.
PROXY_IN_SYS_MODULES = {
    "aliased/__init__.py": """
        import sys


        class _ModuleProxy:
            def _load(self):
                import importlib
                return importlib.import_module("aliased._legacy")

            def __getattr__(self, name):
                return getattr(self._load(), name)

            @property
            def __class__(self):
                return type(self._load())


        sys.modules["aliased.compat"] = _ModuleProxy()
    """,
    "aliased/_legacy.py": HEAVY,
}

# transformers 12549's pattern: a lazy class whose __module__ names the module that serves it
# only once the lazy name was accessed; a class made by a factory (its __qualname__ is local);
# a class made anew on every access.
PICKLE_ASTRAY = {
    "astray/__init__.py": """
        import importlib

        __all__ = ["Widget", "Made", "Fresh", "Model", "helper"]


        def __getattr__(name):
            if name == "Widget":
                from . import public
                from ._impl import Widget
                public.Widget = Widget  # only now does the path in Widget.__module__ hold it
                return Widget
            if name == "Made":
                from ._impl import make
                return make()
            if name == "Fresh":
                return type("Fresh", (), {"__module__": __name__})
            if name in ("Model", "helper"):
                return getattr(importlib.import_module("._impl", __name__), name)
            raise AttributeError(name)


        def __dir__():
            return sorted(list(globals()) + __all__)
    """,
    "astray/public.py": "",
    "astray/_impl.py": """
        import colorsys


        class Widget:
            pass


        Widget.__module__ = "astray.public"


        def make():
            class Made:
                pass
            return Made


        class Model:
            pass


        def helper():
            pass
    """,
}


def warning_package(stacklevel: int, at: str) -> dict[str, str]:
    """``warnpkg``, which calls ``warnings.warn("old", DeprecationWarning, stacklevel=STACKLEVEL)``
    in its ``__init__.py`` (``at="import"``, as langchain-community does) or in its ``__getattr__``
    serving the lazy name ``lazy`` (``at="access"``). ``filters`` is ``warnings.filters`` as
    the package finds them, in short."""
    warn = f'warnings.warn("old", DeprecationWarning, stacklevel={stacklevel})'
    at_import, at_access = (warn, "pass") if at == "import" else ("pass", warn)
    return {
        "warnpkg/__init__.py": f'''
            import warnings

            __all__ = ["lazy"]
            {at_import}


            def __getattr__(name):
                if name == "lazy":
                    {at_access}
                    from warnpkg import _lazy

                    return _lazy
                if name == "filters":
                    return " ".join(f"{{action}}:{{category.__name__}}:{{getattr(module, 'pattern', module)}}"
                                    for action, _message, category, module, _line in warnings.filters)
                raise AttributeError(name)
            ''',
        "warnpkg/_lazy.py": "VALUE = 1\n",
    }


# --- findings that were noise on real packages (tests/test_rules.py) ------------------------------

# diffusers' _LazyModule: __all__ is built from an import structure whose keys may be dotted
# module paths ("quantizers.pipe_quant_config"), which is no attribute of the package.
DOTTED_ALL = {
    "dotted/__init__.py": """
        import importlib

        _import_structure = {"quantizers.pipe_quant_config": ["PipelineQuantizationConfig"], "models": ["Model"]}
        __all__ = [*_import_structure, *(name for names in _import_structure.values() for name in names)]
        _owner = {name: module for module, names in _import_structure.items() for name in names}


        def __getattr__(name):
            if name in _owner:
                value = getattr(importlib.import_module("." + _owner[name], __name__), name)
                globals()[name] = value
                return value
            if name in _import_structure:
                return importlib.import_module("." + name, __name__)
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


        def __dir__():
            return [*globals(), *__all__]
    """,
    "dotted/quantizers/__init__.py": "",
    "dotted/quantizers/pipe_quant_config.py": "class PipelineQuantizationConfig:\n    pass\n",
    "dotted/models.py": "class Model:\n    pass\n",
}

# plotly: a lazy name whose access fails ("templates") is missing from __dir__, and so is one that
# works ("gamma"): only the second belongs in dir(PKG).
FAILING_NOT_IN_DIR = lazy_package("failing", beta="raise RuntimeError('beta is broken')\n", init=textwrap.dedent('''
    import importlib

    __all__ = ["alpha", "beta", "gamma"]


    def __getattr__(name):
        if name in __all__:
            return importlib.import_module("." + name, __name__)
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


    def __dir__():
        return [*globals(), "alpha"]
''')) | {"failing/gamma.py": "VALUE = 3\n"}

# matplotlib: _api.caching_module_getattr wraps the lookup in functools.cache, so a second access
# imports nothing and returns the same object though the globals never hold it ("fit"); "plot"
# is looked up again, import_module and all, on every access: truly not cached.
FUNCTOOLS_CACHED = {
    "cachedga/__init__.py": """
        import functools
        import importlib

        __all__ = ["fit", "plot"]


        @functools.lru_cache(maxsize=None)
        def _lookup(name):
            return getattr(importlib.import_module("cachedga.stats"), name)


        def __getattr__(name):
            if name == "fit":
                return _lookup(name)
            if name == "plot":
                return getattr(importlib.import_module("cachedga.plotting"), name)
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


        def __dir__():
            return [*globals(), *__all__]
    """,
    "cachedga/stats.py": "def fit(data):\n    return data\n",
    "cachedga/plotting.py": "def plot(data):\n    return None\n",
}

# The lazy-imports package: the deferred entry is popped when served and the value kept
# elsewhere, so a second access raises AttributeError ("fit"); "plot" is stored in the globals.
FORGETFUL = {
    "forgetful/__init__.py": """
        import importlib

        __all__ = ["fit", "plot"]
        _deferred = {"fit": "forgetful.stats", "plot": "forgetful.plotting"}
        _loaded = {}


        def __getattr__(name):
            try:
                module = _deferred.pop(name)
            except KeyError:
                raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
            value = getattr(importlib.import_module(module), name)
            if name == "plot":
                globals()[name] = value
            else:
                _loaded[name] = value
            return value


        def __dir__():
            return [*globals(), *__all__]
    """,
    "forgetful/stats.py": "def fit(data):\n    return data\n",
    "forgetful/plotting.py": "def plot(data):\n    return None\n",
}

# lazy-imports' LazyModule, with its cache moved aside: a ModuleType subclass in sys.modules whose
# class __getattr__ pops the name-mangled deferred entry and keeps the value in a dict of its own
# instead of setting the attribute (the release keeps it with setattr, and is cached), so
# `forgetmod.fit; forgetmod.fit` raises AttributeError the second time.
FORGETFUL_MODULE_CLASS = {
    "forgetmod/__init__.py": """
        import importlib
        import sys
        from types import ModuleType


        class LazyModule(ModuleType):
            def __init__(self, name, deferred):
                super().__init__(name)
                self.__deferred_attrs = dict(deferred)
                self.__resolved = {}

            def __dir__(self):
                return [*super().__dir__(), *self.__deferred_attrs]

            def __getattr__(self, name):
                target = self.__deferred_attrs.get(name)
                if target is None:
                    raise AttributeError(f"lazy module {self.__name__} has no attribute {name}")
                value = getattr(importlib.import_module(target, self.__name__), name)
                self.__resolved[name] = value
                self.__deferred_attrs.pop(name)
                return value


        module = LazyModule(__name__, {"fit": ".stats", "plot": ".plotting"})
        module.__file__, module.__path__, module.__all__ = __file__, __path__, ["fit", "plot"]
        sys.modules[__name__] = module
    """,
    "forgetmod/stats.py": "def fit(data):\n    return data\n",
    "forgetmod/plotting.py": "def plot(data):\n    return None\n",
}

# librosa: each lazy name takes a while to load, and `from PKG import *` (or TAB completion) pays
# for all of them in one probe: longer than a --timeout that each access fits in.
# 6 x SLOW_NAME_S is over the test's --timeout (SLOW_STAR_TIMEOUT_S); each name leaves the rest for a
# loaded machine. (Every second here is waited for twice, by `import *` and by TAB completion, in
# fork and in spawn.)
SLOW_NAMES = ("one", "two", "three", "four", "five", "six")
SLOW_NAME_S, SLOW_STAR_TIMEOUT_S = 0.08, 0.4
SLOW_STAR = {
    "slowstar/__init__.py": f"""
        import importlib

        __all__ = {list(SLOW_NAMES)!r}


        def __getattr__(name):
            if name in __all__:
                return importlib.import_module("." + name, __name__)
            raise AttributeError(f"module {{__name__!r}} has no attribute {{name!r}}")


        def __dir__():
            return [*globals(), *__all__]
    """,
    **{f"slowstar/{name}.py": f"import time\n\ntime.sleep({SLOW_NAME_S})  # a heavy module\n" for name in SLOW_NAMES},
}

# --- lazy names that no __all__ lists (issue 22: tests/test_declarations.py) ---------------------

# ibis's pattern: eager names in __all__; backends served by __getattr__ and listed only in __dir__,
# one of them an optional extra that is not installed.
DIR_LISTED = {
    "dirlisted/__init__.py": """
        import importlib

        __all__ = ["connect"]
        _BACKENDS = ("duckdb", "sqlite", "spark")


        def connect():
            return None


        def __getattr__(name):
            if name in _BACKENDS:
                module = importlib.import_module(f"dirlisted.backends.{name}")
                globals()[name] = module
                return module
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


        def __dir__():
            return sorted([*globals(), *_BACKENDS])
    """,
    "dirlisted/backends/__init__.py": "",
    "dirlisted/backends/duckdb.py": HEAVY,
    "dirlisted/backends/sqlite.py": "VALUE = 2\n",
    "dirlisted/backends/spark.py": "raise ImportError('the spark backend needs: pip install dirlisted[spark]')\n",
}

# langchain-community's pattern: the top level declares nothing; some subpackages are lazy
# packages of their own (a __getattr__ over a table), another is a plain package.
_LAZY_SUBPACKAGE = """
    import importlib

    __all__ = ["{name}"]


    def __getattr__(name):
        if name in __all__:
            value = getattr(importlib.import_module(".impl", __name__), name)
            globals()[name] = value
            return value
        raise AttributeError(f"module {{__name__!r}} has no attribute {{name!r}}")


    def __dir__():
        return sorted([*globals(), *__all__])
"""
LAZY_SUBPACKAGES = {
    "community/__init__.py": '"""Declares nothing itself."""\n',
    "community/llms/__init__.py": _LAZY_SUBPACKAGE.format(name="OpenAI"),
    "community/llms/impl.py": "import colorsys\n\n\nclass OpenAI:\n    pass\n",
    "community/chat_models/__init__.py": _LAZY_SUBPACKAGE.format(name="ChatModel"),
    "community/chat_models/impl.py": "raise ImportError('chat_models needs an optional dependency')\n",
    "community/utils/__init__.py": "VALUE = 1\n",
}

# torch's pattern: TYPE_CHECKING imports only for annotations (Device), private submodules
# re-exported explicitly (_dynamo) or served by the lazy path alone (_inductor, in _lazy_modules),
# and a dead lazy entry (_export: lazy, but the eager `export` imports it).
TORCH_LIKE = {
    "torchish/__init__.py": """
        import importlib
        from typing import TYPE_CHECKING

        from torchish import export

        if TYPE_CHECKING:
            from torchish.types import Device

        __all__ = ["tensor", "export"]


        def tensor(data: "Device") -> list:
            return list(data)


        if TYPE_CHECKING:
            from torchish import _dynamo as _dynamo, onnx as onnx
        else:
            _lazy_modules = {
                "_dynamo",
                "_inductor",
                "_export",
                "onnx",
            }

            def __getattr__(name):
                if name in _lazy_modules:
                    return importlib.import_module(f".{name}", __name__)
                raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    """,
    "torchish/types.py": "Device = str\n",
    "torchish/export.py": "from torchish import _export\n",
    "torchish/_export.py": "VALUE = 1\n",
    "torchish/_dynamo.py": HEAVY,
    "torchish/_inductor.py": "import colorsys\n",
    "torchish/onnx.py": "VALUE = 3\n",
    "torchish/_utils.py": "VALUE = 4\n",
}

# torch's _remote_module_non_scriptable: a module built in memory, from no file, on first access.
GENERATED_MODULE = {
    "generating/__init__.py": """
        def __getattr__(name):
            if name == "template":
                import importlib.util
                import sys

                spec = importlib.util.spec_from_loader("_generating_template", loader=None)
                module = importlib.util.module_from_spec(spec)
                exec("VALUE = 1", module.__dict__)
                sys.modules[spec.name] = module
                globals()[name] = module
                return module
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    """,
}

# lazy-importer on 3.11-3.14 (a PEP 810 shim): inside `with lazy_importer():`, an import whose
# module __lazy_modules__ lists binds a proxy (lazy_importer._imports._Proxy) in place of the
# module or object, through its own builtins.__import__; the proxy's __getattribute__ and
# __call__ import the module on the first use and rebind every name bound to the proxy. Without
# the shim, `shimmed` shows "4 declared names (0 lazy)", each "loaded at import" as an attribute.
LAZY_IMPORT_SHIM = {
    "shimmed/__init__.py": """
        __lazy_modules__ = ["json", "shimmed.tools", "shimmed.heavy"]
        __all__ = ["json", "Tool", "VALUE", "VERSION"]

        from ._shim import lazy_importer

        with lazy_importer():
            import json
            from .tools import Tool
            from .heavy import VALUE

        VERSION = "1.0"
    """,
    "shimmed/_shim.py": """
        import builtins
        import contextlib
        import importlib


        class _Proxy:
            def __init__(self, module, attribute, namespace):
                object.__setattr__(self, "_request", (module, attribute, namespace))

            def _resolve(self):
                module, attribute, namespace = object.__getattribute__(self, "_request")
                value = importlib.import_module(module)
                if attribute is not None:
                    value = getattr(value, attribute)
                for name, bound in list(namespace.items()):
                    if bound is self:
                        namespace[name] = value
                return value

            def __getattribute__(self, name):
                return getattr(_Proxy._resolve(self), name)

            def __call__(self, *args, **kwargs):
                return _Proxy._resolve(self)(*args, **kwargs)


        class _FromImport:
            def __init__(self, module, namespace):
                self._request = (module, namespace)

            def __getattribute__(self, name):
                module, namespace = object.__getattribute__(self, "_request")
                return _Proxy(module, name, namespace)


        @contextlib.contextmanager
        def lazy_importer():
            previous = builtins.__import__

            def lazy_import(name, globals=None, locals=None, fromlist=(), level=0):
                absolute = f"{globals['__package__']}.{name}" if level == 1 else name
                if absolute in globals.get("__lazy_modules__", ()):
                    if fromlist:
                        return _FromImport(absolute, globals)
                    return _Proxy(absolute, None, globals)
                return previous(name, globals, locals, fromlist, level)

            builtins.__import__ = lazy_import
            try:
                yield
            finally:
                builtins.__import__ = previous
    """,
    "shimmed/tools.py": "import fractions\n\n\nclass Tool:\n    pass\n",
    "shimmed/heavy.py": "import decimal\n\nVALUE = 1\n",
}
