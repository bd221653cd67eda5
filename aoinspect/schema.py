"""The names other programs rely on: exit codes, JSON schema version, severities.

Rule ids live with their rules, in ``aoinspect.rules``.

Kept in one module so that the README, the renderers and the tests quote the same values.
"""

from __future__ import annotations

from aoinspect.child.protocol import (
    MECHANISM_ATTRIBUTE,
    MECHANISM_CLASS_GETATTR,
    MECHANISM_LAZY_LOADER,
    MECHANISM_LAZY_MODULE,
    MECHANISM_MODULE_GETATTR,
    MECHANISM_NONE,
    MECHANISM_PROXY,
)

SCHEMA_VERSION = 3  # 2: mechanisms, observed loads; 3: check's rules, diff's ok_*/error_* (CHANGELOG.md)

# Exit codes. When several outcomes happen in one run, the most severe wins; the codes are
# ordered so that "most severe" is simply the largest.
EXIT_OK = 0
EXIT_FINDINGS = 1  # a name was rejected or failed to resolve, or check found an error
EXIT_USAGE = 2  # Click's own usage errors, and names that are not valid attribute names
EXIT_IMPORT_FAILED = 3  # the target package could not be imported
EXIT_PROBE_FAILED = 4  # a probe timed out, crashed or ended without reporting
EXIT_INTERRUPTED = 130  # Ctrl-C: 128 + SIGINT, as shells report it
# ``aoinspect trace`` exits with the program's own code; these are its own outcomes.
EXIT_TRACE_TIMEOUT = 124  # the program ran past --timeout and was killed (as GNU timeout(1) exits)

SEVERITY_ERROR = "error"
SEVERITY_WARNING = "warning"
SEVERITY_INFO = "info"  # good news and notes: never fails a run, not even under --strict

# How a step of an access was served: the child decides (child/protocol.py MECHANISM_*).
GETATTR_MECHANISMS = (MECHANISM_MODULE_GETATTR, MECHANISM_CLASS_GETATTR, MECHANISM_LAZY_LOADER)
MECHANISM_LABELS = {
    MECHANISM_ATTRIBUTE: "plain attribute",
    MECHANISM_MODULE_GETATTR: "via module __getattr__",
    MECHANISM_CLASS_GETATTR: "via the module class's __getattr__",
    MECHANISM_LAZY_LOADER: "via lazy_loader",
    MECHANISM_LAZY_MODULE: "LazyLoader module executing",
    MECHANISM_PROXY: "via a proxy object",
    MECHANISM_NONE: "no lazy path",
}

# Where a lazy name can be declared (the ``declared_in`` values).
DECLARED_IN_ALL = "__all__"
DECLARED_IN_TYPE_CHECKING = "TYPE_CHECKING"
DECLARED_IN_STUB = "stub"
DECLARED_IN_DIR = "__dir__"  # the package's __dir__ lists it beyond its namespace
DECLARED_IN_GETATTR = "__getattr__"  # a submodule the package's lazy path serves (torch's _lazy_modules)

# How resolve's text table can be ordered ("order": as the imports began).
SORT_KEYS = ("cumulative", "self", "name", "order")
