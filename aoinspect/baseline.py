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
    import json

    with open(path, "w", encoding="utf-8") as stream:
        json.dump(snapshot_document(snapshot), stream, indent=2, sort_keys=True)
        stream.write("\n")


def read_baseline(path: str) -> Snapshot:
    import json

    try:
        with open(path, encoding="utf-8") as stream:
            document = json.load(stream)
    except OSError as exc:
        raise BaselineError(f"cannot read the baseline {path}: {exc.strerror or exc}.") from exc
    except ValueError as exc:
        raise BaselineError(f"the baseline {path} is not valid JSON: {exc}.") from exc
    if not isinstance(document, dict) or document.get("aoinspect_baseline") != BASELINE_FORMAT:
        raise BaselineError(f"{path} is not a baseline written by 'aoinspect snapshot'.")
    names = document.get("names") or {}
    return Snapshot(
        package=str(document.get("package", "")),
        imported=tuple(document.get("import") or ()),
        names=tuple((str(name), tuple(modules)) for name, modules in sorted(names.items())),
    )


