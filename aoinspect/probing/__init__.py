"""Children: starting them, owning them, talking to them (see the README's "How it works").

The words, as the code uses them:

* A **probe** is one measurement in a fresh child interpreter: a ``wire.ProbeRequest`` (import
  PACKAGE, then perhaps access names, in one of ``protocol.REQUEST_MODES``) that comes back as a
  ``wire.ProbeRun``. The engine and the rules ask for probes through a ``planning.Plan``.
* **probing** (this package) is the parent's side of probes: ``session`` runs them (a fork
  server, or one interpreter per probe) and owns their children, ``runner`` starts one child and
  enforces its deadline, ``reaper`` ends what a child left behind, ``wire`` parses what children
  send, ``results`` turns runs into models, ``cache`` keeps runs for the next command.
* The **child** (``aoinspect/child/``) is the inspected interpreter's side: ``measure.py`` is the
  program a probe's child runs (and the fork server), ``trace.py`` and ``tracer.py`` what
  ``aoinspect trace`` runs, ``distributions.py`` the reader of another interpreter's
  distributions.
"""

from __future__ import annotations

import os


def ensure_std_fds() -> None:
    """Put /dev/null on standard descriptors that are closed (``aoinspect <&- >&-``), so that
    pipes and files opened later never land on 0, 1 or 2 and get clobbered by a child's
    redirections."""
    for descriptor in (0, 1, 2):
        try:
            os.fstat(descriptor)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != descriptor:
                os.dup2(null, descriptor)
                os.close(null)
