"""The failures the engine raises; the CLI turns each into one message and one exit code."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aoinspect import outcomes

if TYPE_CHECKING:
    from aoinspect.models import ErrorInfo


class AoinspectError(Exception):
    """Base class: a run that could not produce the report it was asked for."""

    exit_code = outcomes.EXIT_PROBE_FAILED
    kind = "error"

    def __init__(self, message: str, error: ErrorInfo | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.error = error


class InvalidName(AoinspectError):
    """A NAME that is not a (dotted) attribute name; rejected before any probe starts."""

    exit_code = outcomes.EXIT_USAGE
    kind = "usage"


class InvalidSetting(AoinspectError):
    """A setting that cannot work, such as a ``--python`` that is not Python 3.9+: found before
    anything runs."""

    exit_code = outcomes.EXIT_USAGE
    kind = "usage"


class NoNameMatched(AoinspectError):
    """``--names`` globs that match none of the package's lazy names: a check that would check nothing."""

    exit_code = outcomes.EXIT_USAGE
    kind = "usage"


class PackageImportFailed(AoinspectError):
    """``import PACKAGE`` raised in the child."""

    exit_code = outcomes.EXIT_IMPORT_FAILED
    kind = "import-failed"


class ProbeFailed(AoinspectError):
    """A child timed out, crashed, or ended without reporting."""

    exit_code = outcomes.EXIT_PROBE_FAILED
    kind = "probe-failed"
