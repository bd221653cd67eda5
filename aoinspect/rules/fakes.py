"""The small package that the rules' examples break, each in its own way: a ``pkg`` whose
``fit`` and ``plot`` live in ``pkg.stats`` and ``pkg.plotting``. Each rule's documentation shows
the files it writes (``Rule.example``); tests/test_rule_docs.py runs every example again."""

from __future__ import annotations

STATS = '''\
def fit(data):
    return sum(data) / len(data)
'''

PLOTTING = '''\
def plot(data):
    return None
'''

# pkg.fit and pkg.plot: functions served by a module __getattr__ from the submodules that define them.
LAZY_FUNCTIONS = '''\
import importlib

__all__ = ["fit", "plot"]
_SOURCES = {"fit": "pkg.stats", "plot": "pkg.plotting"}


def __getattr__(name):
    if name in _SOURCES:
        return getattr(importlib.import_module(_SOURCES[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return [*globals(), *__all__]
'''

FUNCTION_MODULES = {"pkg/plotting.py": PLOTTING, "pkg/stats.py": STATS}

# pkg.plotting and pkg.stats: submodules a module __getattr__ imports on first access.
LAZY_SUBMODULES = '''\
import importlib

__all__ = ["plotting", "stats"]


def __getattr__(name):
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return [*globals(), *__all__]
'''
