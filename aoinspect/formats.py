"""Which output formats exist, which report kind prints which, and the extension of each.

A minimal stand-in for the renderer registry (issue 20): the sets come from
``schema.COMMAND_FORMATS`` and ``schema.FAILURE_FORMATS``; the CLI asks only these four things.
"""

from __future__ import annotations

import os

from aoinspect import schema

ALL: tuple[str, ...] = schema.FORMATS

# A file's extension, lower-cased, and the format it asks for (``-o report.html``).
EXTENSIONS = {
    ".txt": "text",
    ".text": "text",
    ".json": "json",
    ".xml": "junit",
    ".html": "html",
    ".htm": "html",
    ".md": "markdown",
    ".markdown": "markdown",
    ".sarif": "sarif",
    ".svg": "svg",
    ".dot": "dot",
    ".gv": "dot",
    ".mmd": "mermaid",
    ".mermaid": "mermaid",
}


def names_for(kind: str) -> tuple[str, ...]:
    """The formats a report of ``kind`` (a command: list, resolve, check, ...) is printed in."""
    return schema.COMMAND_FORMATS[kind]


def renders_failures(fmt: str) -> bool:
    """Whether ``fmt`` also shows a run that produced no report (the others leave it to stderr)."""
    return fmt in schema.FAILURE_FORMATS


def guess_format(path: str) -> str | None:
    """The format ``path``'s extension names (``.sarif.json`` reads as SARIF), or None."""
    lowered = os.path.basename(path).lower()
    if lowered.endswith(".sarif.json"):
        return "sarif"
    return EXTENSIONS.get(os.path.splitext(lowered)[1])
