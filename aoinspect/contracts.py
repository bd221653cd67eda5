"""CI contracts on top of the lazy contract: forbidden imports, budgets, baselines, thread races
and star imports. Pure functions from measurements to findings."""

from __future__ import annotations

import fnmatch
import json
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

from aoinspect import schema
from aoinspect.errors import AoinspectError
from aoinspect.models import Budget, Finding, ModuleLoad, Snapshot, import_chain

if TYPE_CHECKING:
    from aoinspect.models import ImportResult, Resolution

BASELINE_FORMAT = 1


class BaselineError(AoinspectError):
    """The baseline file cannot be read or is not one ``aoinspect snapshot`` wrote."""

    exit_code = schema.EXIT_USAGE
    kind = "usage"


def matches(module: str, pattern: str) -> bool:
    """fnmatch-style, where ``numpy`` and ``numpy.*`` alike cover numpy and its submodules."""
    base = pattern[:-2] if pattern.endswith(".*") else pattern
    return fnmatch.fnmatchcase(module, base) or fnmatch.fnmatchcase(module, base + ".*")


def forbidden(
    loads: Sequence[ModuleLoad], patterns: Iterable[str], name: str | None, what: str
) -> list[Finding]:
    findings = []
    patterns = list(patterns)
    for load in loads:
        hit = next((pattern for pattern in patterns if matches(load.module, pattern)), None)
        if hit is None:
            continue
        findings.append(Finding(
            schema.RULE_FORBIDDEN_IMPORT, schema.SEVERITY_ERROR, name,
            f"{what} imports {load.module}, forbidden by {hit!r}: {' -> '.join(import_chain(loads, load.module))}.",
        ))
    return findings


def module_budget(budget: Budget, count: int, what: str) -> list[Finding]:
    if count <= budget.limit:
        return []
    return [Finding(
        schema.RULE_BUDGET_EXCEEDED, schema.SEVERITY_ERROR, budget.name,
        f"{what} materializes {count} modules; the budget is {budget.limit:g}.",
    )]


def time_budget(budget: Budget, measured_ms: float, samples: int, what: str) -> list[Finding]:
    if measured_ms <= budget.limit:
        return []
    measured = f"{measured_ms:.1f} ms" + (f" (the fastest of {samples} runs)" if samples > 1 else "")
    return [Finding(
        schema.RULE_BUDGET_EXCEEDED, schema.SEVERITY_ERROR, budget.name,
        f"{what} takes {measured}; the budget is {budget.limit:g} ms.",
    )]


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
    with open(path, "w", encoding="utf-8") as stream:
        json.dump(snapshot_document(snapshot), stream, indent=2, sort_keys=True)
        stream.write("\n")


def read_baseline(path: str) -> Snapshot:
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


def baseline_findings(package: str, baseline: Snapshot, current: Snapshot) -> list[Finding]:
    findings = []
    subjects: list[tuple[str | None, tuple[str, ...], tuple[str, ...] | None]] = [
        (None, current.imported, baseline.imported)
    ]
    recorded = dict(baseline.names)
    subjects.extend((name, modules, recorded.get(name)) for name, modules in current.names)
    for name, now, before in subjects:
        what = f"import {package}" if name is None else f"{package}.{name}"
        if before is None:
            findings.append(Finding(
                schema.RULE_BASELINE, schema.SEVERITY_INFO, name,
                f"{what} is not in the baseline; --update-baseline records it.",
            ))
            continue
        added = sorted(set(now) - set(before))
        removed = sorted(set(before) - set(now))
        if added:
            findings.append(Finding(
                schema.RULE_NEW_IMPORT, schema.SEVERITY_ERROR, name,
                f"{what} now imports {len(added)} module(s) the baseline did not have: {', '.join(added)}.",
            ))
        if removed:
            findings.append(Finding(
                schema.RULE_BASELINE, schema.SEVERITY_INFO, name,
                f"good news: {what} no longer imports {', '.join(removed)}; --update-baseline records it.",
            ))
    return findings


def race_findings(package: str, raw: Mapping[str, Any] | None, name: str) -> list[Finding]:
    if raw is None:
        return []
    errors = raw.get("errors") or []
    findings = []
    if errors:
        first = errors[0]
        findings.append(Finding(
            schema.RULE_THREAD_UNSAFE, schema.SEVERITY_ERROR, name,
            f"{len(errors)} of {raw.get('threads')} threads accessing {package}.{name} at once raised; the "
            f"first: {first.get('type')}: {first.get('message')} at {first.get('location')}.",
        ))
    if int(raw.get("distinct_objects") or 0) > 1:
        findings.append(Finding(
            schema.RULE_THREAD_UNSAFE, schema.SEVERITY_ERROR, name,
            f"{raw.get('threads')} threads accessing {package}.{name} at once got "
            f"{raw.get('distinct_objects')} different objects.",
        ))
    return findings


def star_findings(package: str, raw: Mapping[str, Any] | None, lazy: Sequence[str]) -> list[Finding]:
    if raw is None:
        return []
    triggered = [name for name in raw.get("via_getattr") or [] if name in set(lazy)]
    if not triggered:
        return []
    modules = [load["module"] for load in raw.get("materialized") or []]
    shown = ", ".join(modules[:8]) + (f" and {len(modules) - 8} more" if len(modules) > 8 else "")
    return [Finding(
        schema.RULE_STAR_IMPORT, schema.SEVERITY_WARNING, None,
        f"'from {package} import *' loads the lazy name(s) {', '.join(triggered)}, importing "
        f"{len(modules)} module(s): {shown}.",
    )]
