"""``--format json``: one document per run, versioned by ``"schema"`` (see the README)."""

from __future__ import annotations

import json
from typing import Any

from aoinspect import schema
from aoinspect.models import (
    CheckReport,
    ErrorInfo,
    Failure,
    ImportResult,
    LazyName,
    ListReport,
    ModuleLoad,
    Resolution,
    ResolveReport,
    Step,
)


def render_json(report: ListReport | ResolveReport | CheckReport | Failure, *, color: bool = False) -> str:
    del color  # JSON is never coloured
    # ASCII-only, so that the document survives any terminal or pipe encoding.
    return json.dumps(to_document(report), indent=2)


def to_document(report: ListReport | ResolveReport | CheckReport | Failure) -> dict[str, Any]:
    if isinstance(report, Failure):
        document = _header(report.command, report.package, ok=False, exit_code=report.exit_code)
        document["error"] = {
            "kind": report.kind,
            "message": report.message,
            **({"exception": _error(report.error)} if report.error else {}),
        }
        return document
    if isinstance(report, ResolveReport):
        document = _header("resolve", report.package, report.ok, report.exit_code)
        document["import"] = _import(report.imported)
        document["results"] = [_resolution(result) for result in report.results]
        return document
    if isinstance(report, ListReport):
        document = _header("list", report.package, report.ok, report.exit_code)
        document["import"] = _import(report.imported)
        document["names"] = [_lazy_name(name) for name in report.names]
        if report.undeclared_submodules is not None:
            document["undeclared_submodules"] = list(report.undeclared_submodules)
        return document
    document = _header("check", report.package, report.ok, report.exit_code)
    document["strict"] = report.strict
    document["import"] = _import(report.imported) if report.imported else None
    document["names"] = [_lazy_name(name) for name in report.names]
    document["results"] = [_resolution(result) for result in report.resolutions]
    document["findings"] = [
        {"rule": finding.rule, "severity": finding.severity, "name": finding.name, "message": finding.message}
        for finding in report.findings
    ]
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
    }


def _import(imported: ImportResult) -> dict[str, Any]:
    return {
        "materialized": [_load(load) for load in imported.materialized],
        "removed": list(imported.removed),
        "elapsed_ms": imported.elapsed_ms,
        "threads": imported.threads,
        "python": imported.python,
    }


def _step(step: Step) -> dict[str, Any]:
    return {
        "name": step.name,
        "via_getattr": step.via_getattr,
        "materialized": [_load(load) for load in step.materialized],
        "removed": list(step.removed),
        "elapsed_ms": step.elapsed_ms,
    }


def _resolution(result: Resolution) -> dict[str, Any]:
    return {
        "name": result.name,
        "ok": result.ok,
        "error": _error(result.error),
        "probe_failed": result.probe_failed,
        "suggestions": list(result.suggestions),
        "already_loaded": result.already_loaded,
        "via_getattr": result.via_getattr,
        "cached": result.cached,
        "object": {"type": result.object.type, "repr": result.object.repr} if result.object else None,
        "materialized": [_load(load) for load in result.materialized],
        "removed": list(result.removed),
        "elapsed_ms": result.elapsed_ms,
        "steps": [_step(step) for step in result.steps],
    }


def _lazy_name(name: LazyName) -> dict[str, Any]:
    return {
        "name": name.name,
        "declared_in": list(name.declared_in),
        "submodule": name.submodule,
        "loaded_at_import": name.loaded_at_import,
    }
