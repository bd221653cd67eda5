"""Baseline files: what ``import PACKAGE`` and each lazy name materialize, as sorted sets, written
by ``aoinspect snapshot`` (or ``check --update-baseline``) and read by ``check --baseline``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

from aoinspect import schema
from aoinspect.errors import AoinspectError
from aoinspect.models import Snapshot

if TYPE_CHECKING:
    from aoinspect.models import ImportResult, Resolution

BASELINE_FORMAT = 1


class BaselineError(AoinspectError):
    """The baseline file cannot be read or is not one ``aoinspect snapshot`` wrote."""

    exit_code = schema.EXIT_USAGE
    kind = "usage"


def snapshot_of(package: str, imported: ImportResult, resolutions: Iterable[Resolution]) -> Snapshot:
    return Snapshot(
        package=package,
        imported=tuple(sorted(imported.module_names)),
        names=tuple(sorted(
            (result.name, tuple(sorted({load.module for load in result.materialized}))) for result in resolutions
        )),
    )


def snapshot_document(snapshot: Snapshot) -> dict[str, Any]:
    """The baseline file: sorted, no timings, so that it diffs well in review."""
    return {
        "aoinspect_baseline": BASELINE_FORMAT,
        "package": snapshot.package,
        "import": list(snapshot.imported),
        "names": {name: list(modules) for name, modules in snapshot.names},
    }


def write_baseline(path: str, snapshot: Snapshot) -> None:
    """Write the baseline atomically: a new file next to ``path``, renamed over it. A symlink
    named ``path`` is replaced by the new file (its target is left as it was), and a run that
    fails half-way leaves the old baseline intact."""
    import json
    import os
    import tempfile

    text = json.dumps(snapshot_document(snapshot), indent=2, sort_keys=True) + "\n"
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
    """The baseline in ``path``, validated in full against what ``snapshot_document`` writes."""
    import json

    from aoinspect.files import BASELINE_LIMIT, UnreadableFile, read_regular_file

    try:
        data = read_regular_file(path, BASELINE_LIMIT)
    except UnreadableFile as exc:
        raise BaselineError(f"cannot read the baseline {path}: {exc.reason} (baselines are read from regular "
                            f"files of at most {BASELINE_LIMIT} bytes).") from exc
    try:
        document = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise BaselineError(f"the baseline {path} is not valid JSON: {_short(exc)}.") from exc
    problem = _schema_problem(document)
    if problem is not None:
        raise BaselineError(f"{path} is not a baseline written by 'aoinspect snapshot': {problem}.")
    return Snapshot(
        package=document["package"],
        imported=tuple(document["import"]),
        names=tuple((name, tuple(modules)) for name, modules in sorted(document["names"].items())),
    )


def _schema_problem(document: Any) -> str | None:
    """What makes ``document`` not a baseline, or None."""
    if not isinstance(document, dict):
        return "the document is not a JSON object"
    if document.get("aoinspect_baseline") != BASELINE_FORMAT:
        return f"'aoinspect_baseline' is not {BASELINE_FORMAT}"
    if not isinstance(document.get("package", ""), str):
        return "'package' is not a string"
    document.setdefault("package", "")
    imported = document.setdefault("import", [])
    if not _is_string_list(imported):
        return "'import' is not a list of module names"
    names = document.setdefault("names", {})
    if not isinstance(names, dict):
        return "'names' is not an object of name: [modules]"
    for name, modules in names.items():
        if not _is_string_list(modules):
            return f"'names' -> {name!r} is not a list of module names"
    return None


def _is_string_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _short(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "it is nested too deeply to read"
    return str(exc)
