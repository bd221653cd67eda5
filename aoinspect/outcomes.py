"""How a run ends, as other programs read it: exit codes and the severities of findings.

Kept in one module, imported by the CLI at start-up (it imports nothing), so that the docs, the
renderers and the tests quote the same values. Rule ids live with their rules (``aoinspect.rules``),
the JSON documents' version with their codec (``aoinspect.documents.SCHEMA_VERSION``).
"""

from __future__ import annotations

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
