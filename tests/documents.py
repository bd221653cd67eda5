"""Hand-made reports for the renderers (``REPORT``, a ``ResolveReport`` of ``ao.quantization``) and
JSON documents shaped like ``--format json`` output, for the report renderers and diff."""

from __future__ import annotations

import copy
from typing import Any

from aoinspect.models import DistributionShare, ImportResult, ModuleLoad, ObjectInfo, Resolution, ResolveReport, Step

HOSTILE_NAME = "</script><script>alert(1)</script>"


def load(module: str, parent: str | None, depth: int, self_ms: float, cumulative_ms: float,
         distribution: str | None = None, stdlib: bool = False, **extra: Any) -> dict[str, Any]:
    return {"module": module, "parent": parent, "depth": depth, "self_ms": self_ms, "cumulative_ms": cumulative_ms,
            "min_self_ms": self_ms, "min_cumulative_ms": cumulative_ms, "distribution": distribution,
            "stdlib": stdlib, **extra}


def total(loads: list[dict[str, Any]]) -> float:
    return round(sum(item["cumulative_ms"] for item in loads if item["depth"] == 0), 4)


def resolution(name: str, loads: list[dict[str, Any]], ok: bool = True,
               error: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "ok": ok, "error": error, "probe_failed": False, "retried": None, "suggestions": [],
            "already_loaded": False, "via_getattr": True, "cached": True if ok else None, "object": None,
            "materialized": loads, "removed": [], "elapsed_ms": total(loads) + 0.1,
            "min_elapsed_ms": total(loads) + 0.1, "total_ms": total(loads), "repeats": 1, "unstable": [],
            "distributions": [], "steps": []}


def imported(loads: list[dict[str, Any]]) -> dict[str, Any]:
    return {"materialized": loads, "removed": [], "elapsed_ms": total(loads) + 0.2, "min_elapsed_ms": total(loads),
            "total_ms": total(loads), "repeats": 1, "unstable": [], "threads": 1, "python": "3.11.7"}


def header(command: str, ok: bool = True, exit_code: int = 0, package: str = "pkg") -> dict[str, Any]:
    return {"schema": 1, "command": command, "package": package, "ok": ok, "exit_code": exit_code, "error": None,
            "isolation": {"mode": "fork", "reason": None, "python_threads": 1, "native_threads": 1}}


IMPORT_LOADS = [
    load("pkg", None, 0, 1.0, 3.0),
    load("pkg._config", "pkg", 1, 2.0, 2.0),
]
ALPHA_LOADS = [
    load("pkg.alpha", None, 0, 1.0, 10.0),
    load("numpy", "pkg.alpha", 1, 4.0, 8.0, distribution="numpy"),
    load("numpy.linalg", "numpy", 2, 3.0, 3.0, distribution="numpy"),
    load("json", "numpy", 2, 1.0, 1.0, stdlib=True),
]
BETA_LOADS = [load("pkg.beta", None, 0, 0.5, 0.5)]


def resolve_document() -> dict[str, Any]:
    return {**header("resolve"), "repeats": 1, "import": imported(copy.deepcopy(IMPORT_LOADS)),
            "results": [resolution("alpha", copy.deepcopy(ALPHA_LOADS)),
                        resolution("beta", copy.deepcopy(BETA_LOADS))]}


def check_document(findings: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    findings = findings if findings is not None else [
        {"rule": "forbidden-import", "severity": "error", "name": "alpha",
         "message": "pkg.alpha imports numpy.linalg, forbidden by 'numpy': pkg.alpha -> numpy -> numpy.linalg."},
        {"rule": "missing-dir", "severity": "warning", "name": None,
         "message": "dir(pkg) does not list the lazy names alpha, beta."},
    ]
    failing = any(finding["severity"] == "error" for finding in findings)
    return {**header("check", ok=not failing, exit_code=1 if failing else 0), "strict": False,
            "import": imported(copy.deepcopy(IMPORT_LOADS)),
            "names": [{"name": name, "declared_in": ["__all__"], "submodule": True, "loaded_at_import": False}
                      for name in ("alpha", "beta")],
            "results": [resolution("alpha", copy.deepcopy(ALPHA_LOADS)),
                        resolution("beta", copy.deepcopy(BETA_LOADS))],
            "findings": findings}


def snapshot_document() -> dict[str, Any]:
    return {"schema": 1, "command": "snapshot", "package": "pkg", "ok": True, "exit_code": 0, "error": None,
            "aoinspect_baseline": 1, "import": ["pkg", "pkg._config"],
            "names": {"alpha": ["json", "numpy", "numpy.linalg", "pkg.alpha"], "beta": ["pkg.beta"]}}


def list_document() -> dict[str, Any]:
    return {**header("list"), "import": imported(copy.deepcopy(IMPORT_LOADS)),
            "names": [{"name": "alpha", "declared_in": ["__all__", "TYPE_CHECKING"], "submodule": True,
                       "loaded_at_import": False}],
            "undeclared_submodules": ["_private"]}


def big_document(modules: int = 10_000, fanout: int = 6) -> dict[str, Any]:
    """A resolve document whose one name loads ``modules`` modules in a tree ``fanout`` wide, from 8 distributions."""
    loads: list[dict[str, Any]] = []
    children: dict[int, list[int]] = {}
    for index in range(modules):
        parent = None if index == 0 else (index - 1) // fanout
        children.setdefault(parent if parent is not None else -1, []).append(index)
    cumulative: dict[int, float] = {}
    for index in reversed(range(modules)):
        self_ms = 0.05 + (index * 7919 % 100) / 400
        cumulative[index] = self_ms + sum(cumulative[child] for child in children.get(index, []))
    depth = {0: 0}
    for index in range(1, modules):
        depth[index] = depth[(index - 1) // fanout] + 1
    for index in range(modules):
        parent = None if index == 0 else (index - 1) // fanout
        cumulative_ms = round(cumulative[index], 4)
        self_ms = round(cumulative[index] - sum(cumulative[child] for child in children.get(index, [])), 4)
        loads.append(load(f"dist{index % 8}.mod{index}", None if parent is None else f"dist{parent % 8}.mod{parent}",
                          depth[index], self_ms, cumulative_ms, distribution=f"dist{index % 8}"))
    return {**header("resolve", package="big"), "repeats": 1, "import": imported([load("big", None, 0, 1.0, 1.0)]),
            "results": [resolution("everything", loads)]}


def trace_document() -> dict[str, Any]:
    """What a trace might carry: module loads with the line that triggered them."""
    document = resolve_document()
    for item in document["results"][0]["materialized"]:
        item["trigger"] = {"file": "app/main.py", "line": 12, "function": "handler",
                           "source": f"import {item['module']}"}
    document["command"] = "trace"
    return document


def _shown(cell: str) -> str:
    """The text a GFM table cell shows: a code span's content, or the cell unescaped."""
    import html
    import re

    if re.fullmatch(r"`[^`]+`", cell):
        return cell[1:-1]
    return html.unescape(re.sub(r"\\(.)", r"\1", cell.replace("<br>", "\n")))


def markdown_tables(markdown: str) -> list[list[list[str]]]:
    """The GFM tables in ``markdown``: rows of cells, unescaped back to the text they show.

    Asserts the table syntax on the way: every row has the header's number of cells, and the
    second line is the delimiter row.
    """
    import re

    tables: list[list[list[str]]] = []
    current: list[list[str]] | None = None
    for line in markdown.splitlines():
        if not line.startswith("|"):
            current = None
            continue
        assert line.endswith("|") and not line.endswith("\\|"), line
        cells = [part.strip() for part in re.split(r"(?<!\\)\|", line[1:-1])]
        if current is None:
            current = [[_shown(cell) for cell in cells]]
            tables.append(current)
            continue
        assert len(cells) == len(current[0]), line
        if len(current) == 1:
            assert all(re.fullmatch(r"-{3,}:?", cell) for cell in cells), line
            current.append(["<delimiter>"])
            continue
        current.append([_shown(cell) for cell in cells])
    return [[table[0], *table[2:]] for table in tables]


# --- a report (models, not JSON) ---------------------------------------------------------------


def module_load(module: str, parent: str | None, depth: int, self_ms: float, cumulative_ms: float) -> ModuleLoad:
    return ModuleLoad(module, parent, depth, self_ms, cumulative_ms, self_ms, cumulative_ms,
                      distribution="aoinspect" if module.startswith("ao") else None, stdlib=module == "math")


LOADS = (
    module_load("ao.quantization", None, 0, 1.0, 6.0),
    module_load("ao.quantization.observer", "ao.quantization", 1, 1.5, 2.0),
    module_load("math", "ao.quantization.observer", 2, 0.5, 0.5),
    module_load("ao.nn", "ao.quantization", 1, 3.0, 3.0),
)
IMPORTED = ImportResult("ao", (module_load("ao", None, 0, 1.0, 1.0),), (), 1.0, 1, "3.11.7")
REPORT = ResolveReport("ao", IMPORTED, (
    Resolution(
        name="quantization",
        ok=True,
        error=None,
        steps=(Step("quantization", "module-getattr", LOADS, (), 6.5, 6.5),),
        cached=True,
        object=ObjectInfo("module", "<module 'ao.quantization'>", True),
        distributions=(
            DistributionShare("aoinspect", "0.1.0", "installed", 3, 5.5),
            DistributionShare("(stdlib)", None, "stdlib", 1, 0.5),
        ),
    ),
))
