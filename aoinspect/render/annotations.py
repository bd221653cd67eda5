"""``--format github`` and ``--format sarif``: check's findings where CI shows them, on a file and line.

A finding has a source location when the name it is about failed with an exception that has
one (``error.location``, ``file:line``), or when its message names a ``file.py:line`` (a
trace's: the program's own line). Paths under the repository's root (``$GITHUB_WORKSPACE`` in
Actions, else the git work tree) are made relative to it, as both formats expect. Findings
without a location are still reported, on no file.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping

from aoinspect import outcomes
from aoinspect.models import Failure
from aoinspect.render import escape

if TYPE_CHECKING:
    from aoinspect.models import Finding
    from aoinspect.render import RenderOptions, Report

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVELS = {  # severity -> (GitHub command, SARIF level)
    outcomes.SEVERITY_ERROR: ("error", "error"),
    outcomes.SEVERITY_WARNING: ("warning", "warning"),
    outcomes.SEVERITY_INFO: ("notice", "note"),
}
_LOCATION_IN_TEXT = re.compile(r"([^\s'\"():,]+\.pyi?):(\d+)")


@dataclass(frozen=True)
class Annotation:
    rule: str
    severity: str
    name: str | None
    message: str
    file: str | None = None
    line: int | None = None

    @property
    def title(self) -> str:
        return f"{self.rule} ({self.name})" if self.name else self.rule


def located_findings(report: Report, root: str | None) -> list[Annotation]:
    """A check's (or trace's) findings with their source locations; a failed run is one error annotation."""
    if isinstance(report, Failure):
        file, line = _location(report.error.location if report.error else None, root)
        return [Annotation(report.kind or "error", outcomes.SEVERITY_ERROR, None, report.message, file, line)]
    if type(report).__name__ == "AdviseReport":
        from aoinspect.render.advise import annotations_of

        return [Annotation(rule, severity, None, message, *_location(where, root))
                for rule, severity, where, message in annotations_of(report)]  # type: ignore[arg-type]
    located = {result.name: result.error.location for result in getattr(report, "resolutions", ())
               if result.error is not None and result.error.location}
    # The source files the report itself knows (a trace's trigger lines, check's exceptions),
    # longest first: a message that names one is about that file, whatever its name holds ("a,b:c.py").
    known = sorted({frame.location for load in getattr(report, "loads", ())
                    for frame in (load.trigger, getattr(load, "own", None))
                    if frame is not None and frame.file.endswith((".py", ".pyi"))}
                   | set(located.values()), key=len, reverse=True)
    unserved = {result.name for result in getattr(report, "resolutions", ())
                if result.error is not None and result.error.is_attribute_error}
    declared_at = {name.name: name.declared_at for name in getattr(report, "names", ()) if name.declared_at}
    package_file = getattr(report, "file", None)
    found = []
    for finding in getattr(report, "findings", ()):
        where = None
        if finding.name in declared_at and _about_declaration(finding, finding.name in unserved):
            where = declared_at[finding.name]  # the line to change is the declaration, not the lazy path's raise
        if where is None and finding.name is not None:
            where = located.get(finding.name)
        if where is None:
            where = next((place for place in known if _names(finding.message, place)), None)
        if where is None:
            match = _LOCATION_IN_TEXT.search(finding.message)
            where = f"{match.group(1)}:{match.group(2)}" if match else None
        if where is None and isinstance(package_file, str):
            where = f"{package_file}:1"  # about the package as a whole: its __init__.py
        file, line = _location(where, root)
        found.append(Annotation(finding.rule, finding.severity, finding.name, finding.message, file, line))
    return found


def _names(message: str, place: str) -> bool:
    """Whether ``message`` names ``place`` (``file:line``) whole: not ``x.py:31`` for ``x.py:3``."""
    return re.search(rf"(?:^|(?<=[\s'\"(])){re.escape(place)}(?!\d)", message) is not None


def _about_declaration(finding: Finding, unserved: bool) -> bool:
    """Whether the declaration is what a finding asks to change: names that disagree between
    declarations, a dead lazy entry, a declared name that nothing serves (AttributeError)."""
    from aoinspect.rules.lazy import DECLARATION_MISMATCH, EAGER_IMPORT, RESOLVE_FAILED

    return finding.rule in (DECLARATION_MISMATCH.id, EAGER_IMPORT.id) or (finding.rule == RESOLVE_FAILED.id
                                                                         and unserved)


def _location(where: object, root: str | None) -> tuple[str | None, int | None]:
    if not isinstance(where, str):
        return None, None
    path, _, line = where.rpartition(":")
    if not path or not line.isdigit():
        return None, None
    if root and os.path.isabs(path):
        relative = os.path.relpath(path, root)
        if not relative.startswith(os.pardir):
            path = relative
    return path.replace(os.sep, "/"), int(line)


def workspace() -> str:
    """The repository's root, which annotations' paths are relative to: ``$GITHUB_WORKSPACE``,
    else the git work tree around the working directory, else the working directory."""
    found = os.environ.get("GITHUB_WORKSPACE")
    if found:
        return found
    here = os.getcwd()
    directory = here
    while True:
        if os.path.exists(os.path.join(directory, ".git")):
            return directory
        parent = os.path.dirname(directory)
        if parent == directory:
            return here
        directory = parent


# --- GitHub workflow commands --------------------------------------------------------------------


# A workflow command's message and property values (the runner's rules: aoinspect.render.escape).
escape_data = escape.command_data
escape_property = escape.command_property


def render_github(report: Report, options: RenderOptions) -> str:
    del options
    return github_annotations(report, workspace())


def github_commands(document: Mapping[str, Any], root: str | None) -> str:
    """The workflow commands of a saved JSON document (read through ``aoinspect.documents``)."""
    from aoinspect.documents import decode

    return github_annotations(decode(document), root)


def github_annotations(report: Report, root: str | None) -> str:
    lines = []
    for annotation in located_findings(report, root):
        properties = []
        # The runner splits "file==x.py" as file, x.py: a path that starts with "=" cannot be named.
        if annotation.file and not annotation.file.startswith("="):
            properties.append(f"file={escape_property(annotation.file)}")
            if annotation.line:
                properties.append(f"line={annotation.line}")
        properties.append(f"title={escape_property('aoinspect ' + annotation.title)}")
        command = _LEVELS.get(annotation.severity, ("error", "error"))[0]
        lines.append(f"::{command} {','.join(properties)}::{escape_data(annotation.message)}")
    return "\n".join(lines)


# --- SARIF 2.1.0 ---------------------------------------------------------------------------------


def _sarif_rule(rule_id: str) -> dict[str, Any]:
    from aoinspect.rules import BY_ID
    from aoinspect.rules.docs import sarif_descriptor

    rule = BY_ID.get(rule_id)
    if rule is None:
        return {"id": rule_id, "name": rule_id, "shortDescription": {"text": f"aoinspect check rule {rule_id}"}}
    level = _LEVELS.get(rule.severity, ("error", "error"))[1]
    # Descriptions, help and helpUri come from the rule's own documentation.
    return {"id": rule.id, "name": rule.id, **sarif_descriptor(rule), "defaultConfiguration": {"level": level}}


def render_sarif(report: Report, options: RenderOptions) -> str:
    del options
    return escape.json_output(json.dumps(sarif_of(report, workspace()), indent=2))


def _artifact_location(path: str) -> dict[str, str]:
    """A SARIF artifactLocation: a URI, as the format asks (``file://`` for a file outside the
    checkout, percent-encoded relative to ``%SRCROOT%`` for one inside it)."""
    from pathlib import Path, PurePosixPath
    from urllib.parse import quote

    path = escape.valid_unicode(path)  # a lone surrogate has no UTF-8 to percent-encode
    if os.path.isabs(path):
        return {"uri": Path(path).as_uri()}
    return {"uri": quote(PurePosixPath(Path(path)).as_posix()), "uriBaseId": "%SRCROOT%"}


def sarif_log(document: Mapping[str, Any], root: str | None) -> dict[str, Any]:
    """The SARIF log of a saved JSON document (read through ``aoinspect.documents``)."""
    from aoinspect.documents import decode

    return sarif_of(decode(document), root)


def sarif_of(report: Report, root: str | None) -> dict[str, Any]:
    found = located_findings(report, root)
    rules = list(dict.fromkeys(annotation.rule for annotation in found))
    results = []
    for annotation in found:
        result: dict[str, Any] = {
            "ruleId": annotation.rule,
            "ruleIndex": rules.index(annotation.rule),
            "level": _LEVELS.get(annotation.severity, ("error", "error"))[1],
            "message": {"text": annotation.message or annotation.rule},
        }
        if annotation.file:
            location: dict[str, Any] = {"artifactLocation": _artifact_location(annotation.file)}
            if annotation.line:
                location["region"] = {"startLine": annotation.line}
            result["locations"] = [{"physicalLocation": location}]
        if annotation.name:
            result["properties"] = {"name": annotation.name, "package": getattr(report, "package", None)}
        results.append(result)
    driver = {
        "name": "aoinspect",
        "informationUri": "https://pypi.org/project/aoinspect/",
        "rules": [_sarif_rule(rule) for rule in rules],
    }
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [{"tool": {"driver": driver}, "results": results}]}
