"""The names other programs rely on: exit codes, JSON schema version, rule ids, severities.

Kept in one module so that the README, the renderers and the tests quote the same values.
"""

from __future__ import annotations

SCHEMA_VERSION = 1

# Exit codes. When several outcomes happen in one run, the most severe wins; the codes are
# ordered so that "most severe" is simply the largest.
EXIT_OK = 0
EXIT_FINDINGS = 1  # a name was rejected or failed to resolve, or check found an error
EXIT_USAGE = 2  # Click's own usage errors, and names that are not valid attribute names
EXIT_IMPORT_FAILED = 3  # the target package could not be imported
EXIT_PROBE_FAILED = 4  # a probe timed out, crashed or ended without reporting

SEVERITY_ERROR = "error"
SEVERITY_WARNING = "warning"
SEVERITY_INFO = "info"  # good news and notes: never fails a run, not even under --strict

# check rules: stable ids used in JSON output.
RULE_IMPORT_FAILED = "import-failed"
RULE_EAGER_IMPORT = "eager-import"
RULE_RESOLVE_FAILED = "resolve-failed"
RULE_WRONG_EXCEPTION = "wrong-exception"
RULE_UNKNOWN_ACCEPTED = "unknown-accepted"
RULE_REJECTION_SIDE_EFFECT = "rejection-side-effect"
RULE_DECLARATION_MISMATCH = "declaration-mismatch"
RULE_INVALID_ALL = "invalid-all"
RULE_NOT_CACHED = "not-cached"
RULE_MISSING_DIR = "missing-dir"
RULE_PROBE_FAILED = "probe-failed"
RULE_FORBIDDEN_IMPORT = "forbidden-import"
RULE_BUDGET_EXCEEDED = "budget-exceeded"
RULE_NEW_IMPORT = "new-import"
RULE_BASELINE = "baseline"  # info: modules gone since the baseline, names it lacks, updates
RULE_THREAD_UNSAFE = "thread-unsafe"
RULE_STAR_IMPORT = "star-import"

# The lazy-contract rules every check evaluates; the CI contracts (forbid, budgets, baseline,
# threads) add theirs when asked for.
LAZY_CONTRACT_RULES = (
    RULE_IMPORT_FAILED, RULE_INVALID_ALL, RULE_DECLARATION_MISMATCH, RULE_WRONG_EXCEPTION,
    RULE_UNKNOWN_ACCEPTED, RULE_REJECTION_SIDE_EFFECT, RULE_MISSING_DIR, RULE_STAR_IMPORT,
    RULE_EAGER_IMPORT, RULE_RESOLVE_FAILED, RULE_NOT_CACHED, RULE_PROBE_FAILED,
)
# Rules that judge one name at a time (JUnit gets a test case per rule and name for these).
PER_NAME_RULES = (
    RULE_EAGER_IMPORT, RULE_RESOLVE_FAILED, RULE_NOT_CACHED, RULE_PROBE_FAILED, RULE_FORBIDDEN_IMPORT,
    RULE_BUDGET_EXCEEDED, RULE_NEW_IMPORT, RULE_THREAD_UNSAFE,
)

# Where a lazy name can be declared (the ``declared_in`` values).
DECLARED_IN_ALL = "__all__"
DECLARED_IN_TYPE_CHECKING = "TYPE_CHECKING"
DECLARED_IN_STUB = "stub"
