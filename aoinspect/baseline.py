"""Baseline files: what ``import PACKAGE`` and each lazy name materialize, as sorted sets, written
by ``aoinspect snapshot`` (or ``check --update-baseline``) and read by ``check --baseline``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

from aoinspect import outcomes
from aoinspect.errors import AoinspectError
from aoinspect.models import Snapshot

if TYPE_CHECKING:
    from aoinspect.models import ImportResult, Resolution

class BaselineError(AoinspectError):
    """The baseline file cannot be read or is not one ``aoinspect snapshot`` wrote."""

    exit_code = outcomes.EXIT_USAGE
    kind = "usage"


def snapshot_of(package: str, imported: ImportResult, resolutions: Iterable[Resolution]) -> Snapshot:
    return Snapshot(
        package=package,
        imported=tuple(sorted(imported.module_names)),
        names=tuple(sorted(
            (result.name, tuple(sorted({load.module for load in result.materialized}))) for result in resolutions
        )),
    )


def baseline_text(snapshot: Snapshot) -> str:
    """The baseline file (``documents.BASELINE``): sorted, no timings, so that it diffs well in review."""
    import json

    from aoinspect.documents import BASELINE

    return json.dumps(BASELINE.encode(snapshot), indent=2, sort_keys=True, allow_nan=False) + "\n"


def write_baseline(path: str, snapshot: Snapshot) -> None:
    """Write the baseline atomically: a new file next to ``path``, renamed over it. A symlink
    named ``path`` is replaced by the new file (its target is left as it was), and a run that
    fails half-way leaves the old baseline intact."""
    import os
    import tempfile

    text = baseline_text(snapshot)
    directory = os.path.dirname(os.path.abspath(path))
    try:
        descriptor, temporary = tempfile.mkstemp(prefix=".aoinspect-baseline-", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise BaselineError(f"cannot write the baseline {path}: {exc.strerror or exc}.") from exc
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except OSError as exc:
        raise BaselineError(f"cannot write the baseline {path}: {exc.strerror or exc}.") from exc
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def check_writable(path: str) -> None:
    """Fail before any probe runs when ``--update-baseline`` could not write ``path``."""
    import os

    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise BaselineError(f"cannot write the baseline {path}: the directory {directory} does not exist.")
    if os.path.isdir(path):
        raise BaselineError(f"cannot write the baseline {path}: it is a directory.")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise BaselineError(f"cannot write the baseline {path}: the directory {directory} is not writable.")


def read_baseline(path: str) -> Snapshot:
    """The baseline in ``path``, checked in full by the one decoder (``documents.BASELINE``)."""
    from aoinspect.documents import BASELINE, Invalid, loads
    from aoinspect.files import BASELINE_LIMIT, UnreadableFile, read_regular_file

    try:
        data = read_regular_file(path, BASELINE_LIMIT)
    except UnreadableFile as exc:
        raise BaselineError(f"cannot read the baseline {path}: {exc.reason} (baselines are read from regular "
                            f"files of at most {BASELINE_LIMIT} bytes).") from exc
    try:
        document = loads(data)  # strictly: no NaN, no huge integer, no key twice
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise BaselineError(f"the baseline {path} is not valid JSON: {_short(exc)}.") from exc
    try:
        snapshot: Snapshot = BASELINE.decode(document, "")
    except Invalid as exc:
        raise BaselineError(f"{path} is not a baseline written by 'aoinspect snapshot': "
                            f"{exc.where} {exc.problem}.") from None
    except RecursionError:
        raise BaselineError(f"{path} is not a baseline written by 'aoinspect snapshot': it is nested too deeply "
                            "to read.") from None
    return snapshot


def _short(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "it is nested too deeply to read"
    return str(exc)
