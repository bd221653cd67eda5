"""Children: starting them, owning them, talking to them (see the README's "How it works")."""

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
