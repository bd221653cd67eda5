"""``--format junit``: check's findings as JUnit XML, for CI test reporters (GitLab, Jenkins,
GitHub). One test case per rule and subject (the package, or a declared name); a failing
finding is a failure, a warning that does not fail the run is written to the case's output."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from xml.etree import ElementTree as ET

from aoinspect import rules, schema
from aoinspect.models import CheckReport, Failure

if TYPE_CHECKING:
    from aoinspect.render import RenderOptions, Report

_PER_NAME = frozenset(rule.id for rule in rules.RULES if rule.per_name)


def render_junit(report: Report, options: RenderOptions) -> str:
    if isinstance(report, Failure):
        return _document(report.package, [(f"aoinspect.{report.command}", report.kind, report.message, True)])
    if not isinstance(report, CheckReport):
        raise TypeError("the junit format shows check reports")
    failing = set(report.failing())
    names = [name.name for name in report.names]
    subjects: list[str | None] = [None, *names]
    cases: list[tuple[str, str, str | None, bool]] = []
    seen: set[tuple[str, str | None]] = set()
    rules = list(dict.fromkeys([*report.rules, *(finding.rule for finding in report.findings)]))
    for rule in rules:
        for subject in subjects if rule in _PER_NAME else [None]:
            found = [f for f in report.findings if f.rule == rule and (f.name == subject or rule not in _PER_NAME)]
            found = [f for f in found if f.severity != schema.SEVERITY_INFO]
            if (rule, subject) in seen:
                continue
            seen.add((rule, subject))
            message = "\n".join(f"{f.severity}: {f.message}" for f in found) or None
            cases.append((f"{report.package}.{subject}" if subject else report.package, rule, message,
                          any(f in failing for f in found)))
    return _document(report.package, cases)


# Characters XML 1.0 does not allow at all, even escaped: C0 controls but tab, newline and
# carriage return; lone surrogates; U+FFFE and U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml(text: str) -> str:
    """``text`` as XML 1.0 can hold it: forbidden characters written out as ``\\xNN``/``\\uNNNN``."""
    return _NOT_XML.sub(lambda match: match.group().encode("unicode_escape", "backslashreplace").decode("ascii"), text)


def _document(package: str, cases: list[tuple[str, str, str | None, bool]]) -> str:
    package = _xml(package)
    cases = [(_xml(classname), _xml(rule), None if message is None else _xml(message), failed)
             for classname, rule, message, failed in cases]
    failures = sum(1 for case in cases if case[3])
    suite = ET.Element("testsuite", {
        "name": f"aoinspect check {package}", "tests": str(len(cases)), "failures": str(failures), "errors": "0",
    })
    for classname, rule, message, failed in cases:
        case = ET.SubElement(suite, "testcase", {"classname": classname, "name": rule})
        if failed:
            failure = ET.SubElement(case, "failure", {"message": (message or rule).splitlines()[0], "type": rule})
            failure.text = message
        elif message:
            ET.SubElement(case, "system-out").text = message
    suites = ET.Element("testsuites", {"tests": str(len(cases)), "failures": str(failures)})
    suites.append(suite)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode")
