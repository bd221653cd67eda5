"""Module patterns, as ``--forbid``, ``diff --fail-on added:PATTERN`` and the pytest plugin take
them."""

from __future__ import annotations

import fnmatch


def matches(module: str, pattern: str) -> bool:
    """fnmatch-style, where ``numpy`` and ``numpy.*`` alike cover numpy and its submodules."""
    base = pattern[:-2] if pattern.endswith(".*") else pattern
    return fnmatch.fnmatchcase(module, base) or fnmatch.fnmatchcase(module, base + ".*")
