"""``--format json``: one document per run, versioned by ``"schema"`` (see the README)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aoinspect import schema
from aoinspect.models import (
    DeclaredName,
    DistributionShare,
    ErrorInfo,
    Failure,
    ImportResult,
    Isolation,
    ListReport,
    ModuleLoad,
    Resolution,
    ResolveReport,
    Snapshot,
    Step,
    total_ms,
)

if TYPE_CHECKING:
    from aoinspect.render import RenderOptions, Report


def render_json(report: Report, options: RenderOptions) -> str:
    del options  # JSON always holds everything, uncoloured
    # ASCII-only, so that the document survives any terminal or pipe encoding.
    if isinstance(report, Snapshot):
        # A baseline file: sorted keys, no timings, so that it diffs well in review.
        return json.dumps(to_document(report), indent=2, sort_keys=True)
    return json.dumps(to_document(report), indent=2)


def to_document(report: Report) -> dict[str, Any]:
    if isinstance(report, Snapshot):
        from aoinspect.baseline import snapshot_document

        return {**_header("snapshot", report.package, True, report.exit_code),
                "isolation": _isolation(report.isolation), **snapshot_document(report)}
    if isinstance(report, Failure):
        document = _header(report.command, report.package, ok=False, exit_code=report.exit_code)
        document["isolation"] = None  # no session measured anything
        document["error"] = {
            "kind": report.kind,
            "message": report.message,
            **({"exception": _error(report.error)} if report.error else {}),
        }
        return document
    if isinstance(report, ResolveReport):
        document = _header("resolve", report.package, report.ok, report.exit_code)
        document["isolation"] = _isolation(report.isolation)
        document["repeats"] = report.repeats
        document["import"] = _import(report.imported)
        document["results"] = [_resolution(result) for result in report.results]
        return document
    if isinstance(report, ListReport):
        document = _header("list", report.package, report.ok, report.exit_code)
        document["isolation"] = _isolation(report.isolation)
        document["import"] = _import(report.imported)
        document["names"] = [_declared_name(name) for name in report.names]
        if report.undeclared_submodules is not None:
            document["undeclared_submodules"] = list(report.undeclared_submodules)
        if report.resolutions is not None:
            document["results"] = [_resolution(result) for result in report.resolutions]
        document["notes"] = list(report.notes)
        return document
    document = _header("check", report.package, report.ok, report.exit_code)
    document["isolation"] = _isolation(report.isolation)
    document["strict"] = report.strict
    document["file"] = report.file
    document["import"] = _import(report.imported) if report.imported else None
    document["names"] = [_declared_name(name) for name in report.names]
    document["results"] = [_resolution(result) for result in report.resolutions]
    document["findings"] = [
        {"rule": finding.rule, "severity": finding.severity, "name": finding.name, "message": finding.message}
        for finding in report.findings
    ]
    document["notes"] = list(report.notes)
    return document


def _header(command: str, package: str, ok: bool, exit_code: int) -> dict[str, Any]:
    return {
        "schema": schema.SCHEMA_VERSION,
        "command": command,
        "package": package,
        "ok": ok,
        "exit_code": exit_code,
        "error": None,
    }


def _isolation(isolation: Isolation | None) -> dict[str, Any] | None:
    if isolation is None:
        return None
    return {
        "mode": isolation.mode,
        "reason": isolation.reason,
        "python_threads": isolation.python_threads,
        "native_threads": isolation.native_threads,
    }


def _error(error: ErrorInfo | None) -> dict[str, Any] | None:
    if error is None:
        return None
    return {"type": error.type, "message": error.message, "location": error.location}


def _load(load: ModuleLoad) -> dict[str, Any]:
    return {
        "module": load.module,
        "parent": load.parent,
        "depth": load.depth,
        "self_ms": load.self_ms,
        "cumulative_ms": load.cumulative_ms,
        "min_self_ms": load.min_self_ms,
        "min_cumulative_ms": load.min_cumulative_ms,
        "distribution": load.distribution,
        "stdlib": load.stdlib,
        "generated": load.generated,
    }


def _share(share: DistributionShare) -> dict[str, Any]:
    return {
        "name": share.name,
        "version": share.version,
        "kind": share.kind,
        "modules": share.modules,
        "self_ms": share.self_ms,
    }


def _import(imported: ImportResult) -> dict[str, Any]:
    return {
        "materialized": [_load(load) for load in imported.materialized],
        "removed": list(imported.removed),
        "elapsed_ms": imported.elapsed_ms,
        "min_elapsed_ms": imported.min_elapsed_ms,
        "total_ms": total_ms(imported.materialized),
        "repeats": imported.repeats,
        "unstable": list(imported.unstable),
        "threads": imported.threads,
        "python": imported.python,
        "warnings": [{"category": shown.category, "message": shown.message, "filename": shown.filename,
                      "lineno": shown.lineno} for shown in imported.warnings],
    }


def _step(step: Step) -> dict[str, Any]:
    return {
        "name": step.name,
        "mechanism": step.mechanism,
        "via_getattr": step.via_getattr,
        "materialized": [_load(load) for load in step.materialized],
        "removed": list(step.removed),
        "elapsed_ms": step.elapsed_ms,
        "min_elapsed_ms": step.min_elapsed_ms,
        "total_ms": total_ms(step.materialized),
    }


def _resolution(result: Resolution) -> dict[str, Any]:
    return {
        "name": result.name,
        "ok": result.ok,
        "error": _error(result.error),
        "probe_failed": result.probe_failed,
        "retried": result.retried,
        "from_cache": result.from_cache,
        "suggestions": list(result.suggestions),
        "already_loaded": result.already_loaded,
        "mechanism": result.mechanism,
        "via_getattr": result.via_getattr,
        "cached": result.cached,
        "object": {"type": result.object.type, "repr": result.object.repr} if result.object else None,
        "materialized": [_load(load) for load in result.materialized],
        "removed": list(result.removed),
        "elapsed_ms": result.elapsed_ms,
        "min_elapsed_ms": result.min_elapsed_ms,
        "total_ms": total_ms(result.materialized),
        "repeats": result.repeats,
        "unstable": list(result.unstable),
        "distributions": [_share(share) for share in result.distributions],
        "steps": [_step(step) for step in result.steps],
        "observed": [_load(load) for load in result.observed],
    }


def _declared_name(name: DeclaredName) -> dict[str, Any]:
    return {
        "name": name.name,
        "declared_in": list(name.declared_in),
        "submodule": name.submodule,
        "loaded_at_import": name.loaded_at_import,
        "mechanism": name.mechanism,
    }
