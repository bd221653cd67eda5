"""``--format junit``: check's findings as JUnit XML, for CI test reporters (GitLab, Jenkins,
GitHub). One test case per rule and subject (the package, or a declared name); a failing
finding is a failure, a warning that does not fail the run is written to the case's output. When
``import PACKAGE`` itself failed, the rules it kept from running are skipped, not passed."""

from __future__ import annotations

from typing import TYPE_CHECKING
from xml.etree import ElementTree as ET

from aoinspect import outcomes, rules
from aoinspect.models import CheckReport, Failure
from aoinspect.render import escape

if TYPE_CHECKING:
    from aoinspect.render import RenderOptions, Report

_PER_NAME = frozenset(rule.id for rule in rules.RULES if rule.per_name)


def render_junit(report: Report, options: RenderOptions) -> str:
    if isinstance(report, Failure):
        return _document(report.package, [(f"aoinspect.{report.command}", report.kind, report.message, True, None)])
    if not isinstance(report, CheckReport):
        raise TypeError("the junit format shows check reports")
    failing = set(report.failing())
    names = [name.name for name in report.names]
    subjects: list[str | None] = [None, *names]
    cases: list[_Case] = []
    seen: set[tuple[str, str | None]] = set()
    rules = list(dict.fromkeys([*report.rules, *(finding.rule for finding in report.findings)]))
    # The import failed (its finding says how): the rules it kept from running are skipped.
    skipped = None if report.imported is not None else f"not evaluated: import {report.package} did not succeed"
    for rule in rules:
        for subject in subjects if rule in _PER_NAME else [None]:
            found = [f for f in report.findings if f.rule == rule and (f.name == subject or rule not in _PER_NAME)]
            found = [f for f in found if f.severity != outcomes.SEVERITY_INFO]
            if (rule, subject) in seen:
                continue
            seen.add((rule, subject))
            message = "\n".join(f"{f.severity}: {f.message}" for f in found) or None
            cases.append((f"{report.package}.{subject}" if subject else report.package, rule, message,
                          any(f in failing for f in found), None if found else skipped))
    return _document(report.package, cases)


# Text XML 1.0 can hold: forbidden characters written out (aoinspect.render.escape; the whole
# document is then made free of workflow commands by render()).
_xml = escape.xml_text


# classname, rule, message, failed, why skipped
_Case = tuple[str, str, "str | None", bool, "str | None"]


def _document(package: str, cases: list[_Case]) -> str:
    package = _xml(package)
    cases = [(_xml(classname), _xml(rule), None if message is None else _xml(message), failed,
              None if skipped is None else _xml(skipped))
             for classname, rule, message, failed, skipped in cases]
    failures = sum(1 for case in cases if case[3])
    skips = sum(1 for case in cases if case[4] is not None)
    suite = ET.Element("testsuite", {
        "name": f"aoinspect check {package}", "tests": str(len(cases)), "failures": str(failures), "errors": "0",
        "skipped": str(skips),
    })
    for classname, rule, message, failed, skipped in cases:
        case = ET.SubElement(suite, "testcase", {"classname": classname, "name": rule})
        if skipped is not None:
            ET.SubElement(case, "skipped", {"message": skipped})
        elif failed:
            failure = ET.SubElement(case, "failure", {"message": next(iter((message or rule).splitlines()), ""),
                                                        "type": rule})
            failure.text = message
        elif message:
            ET.SubElement(case, "system-out").text = message
    suites = ET.Element("testsuites", {"tests": str(len(cases)), "failures": str(failures)})
    suites.append(suite)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode")
