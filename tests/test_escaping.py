"""Outputs carry no commands (aoinspect/render/escape.py): whatever a package puts in its names,
messages and file paths, no line aoinspect prints is a workflow command to GitHub's runner (but
``--format github``'s own annotations, whose data is escaped), Markdown makes no mention or link
live, and JSON, SARIF and XML are valid.

The runner is modelled here from its open-source parser, actions/runner:

- ``src/Runner.Sdk/ProcessInvoker.cs`` reads the step's stdout and stderr with
  ``StreamReader.ReadLine``, which ends a line at ``\\r``, ``\\n`` or ``\\r\\n``;
- ``src/Runner.Worker/Handlers/OutputManager.cs`` (``OnDataReceived``) hands every line that holds
  ``##[`` or ``::`` to ``src/Runner.Worker/ActionCommandManager.cs`` (``TryProcessCommand``), which
  tries ``ActionCommand.TryParseV2`` and then the legacy ``ActionCommand.TryParse``;
- ``src/Runner.Common/ActionCommand.cs`` (read at commit 079cdb1d05fe0ec50f8c51de5a4fa51d0eb189b0):
  ``TryParseV2`` trims leading whitespace (``TrimStart``), needs ``::NAME ...::``, splits the
  properties (after ``Trim``) at ``,`` and each at the first ``=`` (``Split('=', 2,
  RemoveEmptyEntries)``), and unescapes with ``_escapePropertyMappings`` (``%0D``, ``%0A``, ``%3A``,
  ``%2C``, then ``%25``) and the data with ``_escapeDataMappings`` (``%0D``, ``%0A``, then ``%25``);
  ``TryParse`` finds ``##[`` anywhere in the line, the command up to the next ``]``.

A command's name must be registered, but ``::stop-commands::TOKEN`` registers any TOKEN, so the
model takes any non-empty name for a command.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import re
from typing import Any, Iterator
from xml.etree import ElementTree

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from aoinspect import formats, outcomes
from aoinspect.child import protocol
from aoinspect.models import (
    CheckReport,
    DeclaredName,
    Distributions,
    DistributionShare,
    ErrorInfo,
    Failure,
    Finding,
    ImportResult,
    Isolation,
    ListReport,
    ModuleLoad,
    ObjectInfo,
    Resolution,
    ResolveReport,
    Snapshot,
    Step,
    WarningInfo,
)
from aoinspect.models.diff import Diff, FailOn, FindingRef, Side, Subject, SubjectChange, Threshold
from aoinspect.models.graph import GraphModule, ImportGraph, ImportRequest
from aoinspect.models.trace import Frame, Hop, TracedLoad, TraceReport
from aoinspect.render import RenderOptions, escape, render
from aoinspect.render.annotations import located_findings, workspace

# --- GitHub's runner, as its source reads ----------------------------------------------------------

# .NET's char.IsWhiteSpace: what TrimStart and Trim remove.
RUNNER_WHITESPACE = ("\t\n\x0b\x0c\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B)))
                     + "\u2028\u2029\u202f\u205f\u3000")
# What Trim can take off the end of an escaped property value (CR and LF are escaped).
TRIMMED = RUNNER_WHITESPACE.replace("\r", "").replace("\n", "")
DATA_UNESCAPES = (("%0D", "\r"), ("%0A", "\n"), ("%25", "%"))
PROPERTY_UNESCAPES = (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%"))
LEGACY_UNESCAPES = (("%3B", ";"), ("%0D", "\r"), ("%0A", "\n"), ("%5D", "]"), ("%25", "%"))


@dataclasses.dataclass
class Command:
    name: str
    properties: dict[str, str]
    data: str
    legacy: bool = False


def runner_lines(output: str) -> list[str]:
    """The lines the runner reads (StreamReader.ReadLine)."""
    return re.split(r"\r\n|\r|\n", output)


def _unescape(text: str, mappings: tuple[tuple[str, str], ...]) -> str:
    for escaped, token in mappings:
        text = text.replace(escaped, token)
    return text


def _split_once(text: str, separator: str) -> list[str]:
    """.NET's ``text.Split(separator, count: 2, StringSplitOptions.RemoveEmptyEntries)``: empty
    entries dropped, and the separators right after the first entry skipped ("a==b" -> a, b)."""
    positions = [index for index, char in enumerate(text) if char == separator]
    parts: list[str] = []
    current = 0
    for number, position in enumerate(positions):
        if text[current:position]:
            parts.append(text[current:position])
        current = position + 1
        if len(parts) == 1:
            for later in positions[number + 1:]:
                if later != current:
                    break
                current += 1
            break
    if text[current:]:
        parts.append(text[current:])
    return parts


def parse_v2(line: str) -> Command | None:
    """ActionCommand.TryParseV2, any command name registered."""
    message = line.lstrip(RUNNER_WHITESPACE)
    if not message.startswith("::"):
        return None
    end = message.find("::", 2)
    if end < 0:
        return None
    info = message[2:end]
    space = info.find(" ")
    name = info if space < 0 else info[:space]
    if not name:
        return None  # new ActionCommand("") throws: not a command
    properties: dict[str, str] = {}
    if space > 0:
        for part in info[space + 1:].strip(RUNNER_WHITESPACE).split(","):
            pair = _split_once(part, "=") if part else []
            if len(pair) == 2:
                properties[pair[0].lower()] = _unescape(pair[1], PROPERTY_UNESCAPES)
    return Command(name, properties, _unescape(message[end + 2:], DATA_UNESCAPES))


def parse_legacy(line: str) -> Command | None:
    """ActionCommand.TryParse (``##[name key=value;...]data``), any command name registered."""
    start = line.find("##[")
    end = line.find("]", start) if start >= 0 else -1
    if end < 0:
        return None
    info = line[start + 3:end]
    space = info.find(" ")
    name = info if space < 0 else info[:space]
    if not name:
        return None
    properties: dict[str, str] = {}
    if space > 0:
        for part in info[space + 1:].split(";"):
            pair = _split_once(part, "=") if part else []
            if len(pair) == 2:
                properties[pair[0].lower()] = _unescape(pair[1], LEGACY_UNESCAPES)
    return Command(name, properties, _unescape(line[end + 1:], LEGACY_UNESCAPES), legacy=True)


def commands_in(output: str) -> list[Command]:
    """Every command the runner would run, were ``output`` a step's stdout or stderr."""
    found = []
    for line in runner_lines(output):
        if "##[" in line or "::" in line:  # OutputManager's test before it asks the parser
            command = parse_v2(line) or parse_legacy(line)
            if command is not None:
                found.append(command)
    return found


def test_the_model_reads_commands_as_the_runner_does() -> None:
    (mask,) = commands_in("boom\n    ::add-mask::aoinspect")
    assert (mask.name, mask.data) == ("add-mask", "aoinspect")
    (error,) = commands_in("\u3000::error file=a%2Cb%3Ac.py,line=1,title=t%25::m%0Ax%3A")
    assert error.properties == {"file": "a,b:c.py", "line": "1", "title": "t%"} and error.data == "m\nx%3A"
    (legacy,) = commands_in("anything ##[error]forged")
    assert legacy.legacy and (legacy.name, legacy.data) == ("error", "forged")
    (split,) = commands_in("::error file=a,b:c.py::x")  # the unescaped name: a annotated as "a"
    assert split.properties == {"file": "a"}
    assert commands_in("x\r::debug::carriage return") and commands_in("::stop-commands::any-token")
    assert not commands_in("\u200b::add-mask::x") and not commands_in("#\u200b#[error]x")
    assert not commands_in(":: ::x") and not commands_in("::error") and not commands_in("text :: more")


# --- hostile text ----------------------------------------------------------------------------------

PIECES = [
    "::", "::error file=setup.py,line=1::INJECTED", "::add-mask::aoinspect", "::stop-commands::token",
    "::set-output name=x::y", "##[error]legacy", "##[", "##vso[task.logissue type=error]x", "\n", "\r", "\r\n",
    " ", "\t", "\u3000", "\xa0", "\u2028", "\x85", "\x0b", "\x0c", "\x1c", "@octocat", "@org/team", "#1",
    "owner/repo#2", "GH-3", "https://evil.example/x", "www.evil.example", "a@b.example", "%", "%0A", "%25",
    ",", ":", "=", "]", ";", "`", "``", "|", "<", ">", "&", '"', "'", "\\", "*", "_", "[", "(", "\ud800",
    "\udc00", "\x00", "\x07", "\x1b[2J", "\x1b[31m", "\u200b", "\ufeff", "\uffff", "é", "😀", "a,b:c.py",
    "p.py:3", "<string>", "{data}", "</script>", "-->",
]
HOSTILE = st.lists(st.sampled_from(PIECES) | st.text(max_size=3), max_size=6).map("".join)
INJECTION = "boom\n::add-mask::aoinspect\n::error file=setup.py,line=1::INJECTED\n  ##[error]legacy"


def neutral(text: str) -> str:
    """Text as it reads: without the markers the escapes add."""
    return text.replace(escape.MARKER, "")


@pytest.mark.parametrize(("given_text", "printed"), [
    ("boom\n::add-mask::x", "boom\n\u200b::add-mask::x"),
    ("a\n    \t::error::x", "a\n    \t\u200b::error::x"),
    ("::stop-commands::t", "\u200b::stop-commands::t"),
    ("a\r::debug::x", "a\n\u200b::debug::x"),
    ("a\r\n::debug::x", "a\n\u200b::debug::x"),
    ("in the middle :: stays", "in the middle :: stays"),
    ("x ##[error]y ###[z", "x #\u200b#[error]y ##\u200b#[z"),
    ("x ##VSO[task.complete]", "x #\u200b#VSO[task.complete]"),
    ("bell \x07 nul \x00 clear \x1b[2J", "bell \\x07 nul \\x00 clear \\x1b[2J"),
    ("\x1b[31mred\x1b[0m", "\x1b[31mred\x1b[0m"),
    ("lone \ud800", "lone \\ud800"),
])
def test_text_output_neutralises_commands_and_stays_readable(given_text: str, printed: str) -> None:
    assert escape.text(given_text) == printed


@settings(deadline=None)
@given(HOSTILE)
def test_no_text_carries_a_command(text: str) -> None:
    printed = escape.text(text)
    assert commands_in(printed) == []
    assert escape.text(printed) == printed  # once is enough
    printed.encode("utf-8")


@settings(deadline=None)
@given(HOSTILE, HOSTILE, HOSTILE)
def test_command_data_and_properties_round_trip_through_the_runner(data: str, file: str, title: str) -> None:
    line = (f"::error file={escape.command_property(file)},line=3,"
            f"title={escape.command_property(title)}::{escape.command_data(data)}")
    assert len(runner_lines(line)) == 1
    (command,) = commands_in(line)
    assert not command.legacy and command.name == "error"
    # The runner Trims the properties, and splits "file==x" as file, x: a value loses its leading "="
    # (so annotations.py names no file that starts with one; its titles start with "aoinspect").
    expected = {"file": file.lstrip("="), "line": "3", "title": title.lstrip("=").rstrip(TRIMMED)}
    assert {key: neutral(value) for key, value in command.properties.items() if value} == {
        key: neutral(escape.valid_unicode(value)) for key, value in expected.items() if value}
    assert neutral(command.data) == neutral(escape.valid_unicode(data))


@settings(deadline=None)
@given(HOSTILE)
def test_json_output_is_valid_unicode_with_the_same_data(text: str) -> None:
    assume(not re.search("[\ud800-\udbff][\udc00-\udfff]", text))  # two halves a JSON reader joins
    written = escape.json_output(json.dumps({"message": text}, indent=2))
    assert commands_in(written) == [] and written.isascii()
    read = json.loads(written)["message"]
    read.encode("utf-8")
    assert read == escape.valid_unicode(text)


@settings(max_examples=200, deadline=None)
@given(HOSTILE)
def test_xml_output_keeps_the_data_and_carries_no_command(text: str) -> None:
    element = ElementTree.Element("case", {"message": escape.xml_text(text)})
    element.text = escape.xml_text(text)
    written = escape.xml_output(ElementTree.tostring(element, encoding="unicode"))
    assert commands_in(written) == []
    parsed = ElementTree.fromstring(written)
    # XML reads a carriage return in text as a line break, whatever aoinspect writes.
    assert parsed.text in (escape.xml_text(text).replace("\r\n", "\n").replace("\r", "\n"), None)
    assert parsed.get("message") == escape.xml_text(text)


# --- Markdown: nothing live -------------------------------------------------------------------------

_LIVE = re.compile(r"@[A-Za-z0-9_-]|#[0-9]|GH-[0-9]|://|www\.", re.IGNORECASE)


_TOKEN = re.compile(r"\\([!-/:-@\[-`{-~])|(`+)|.", re.DOTALL)


def live_links(markdown: str) -> list[str]:
    """What GitHub would make a mention, a reference or a link: the text outside fenced blocks and
    code spans, as it shows. Line by line (aoinspect writes no paragraph over several lines): a line
    of HTML (``<summary>``) is text as it stands; elsewhere a backslash before punctuation escapes
    it, and a run of backticks opens a code span that the next run of the same length closes."""
    text = re.sub(r"^(`{3,}).*?^\1$", "", markdown, flags=re.MULTILINE | re.DOTALL)
    found = []
    for line in re.split(r"\r\n|\r|\n", text):  # CommonMark's line endings (not U+2028)
        if line.startswith("<"):
            found += _LIVE.findall(line)
            continue
        shown = []
        position = 0
        while position < len(line):
            token = _TOKEN.match(line, position)
            assert token is not None
            position = token.end()
            if token.group(1):
                shown.append("'" if token.group(1) == "`" else token.group(1))
            elif token.group(2):
                closing = re.compile(rf"(?<!`){token.group(2)}(?!`)").search(line, position)
                if closing is not None:
                    position = closing.end()  # a code span: nothing in it is live
                    shown.append(" ")
                else:
                    shown.append(token.group(2))
            else:
                shown.append(token.group())
        found += _LIVE.findall("".join(shown))
    return found


@pytest.mark.parametrize("text", ["@octocat", "cc @org/team", "see #12", "owner/repo#3", "GH-4", "mail a@b.example",
                                  "https://evil.example", "WWW.evil.example", "ftp://x", "_www.x"])
def test_markdown_makes_no_mention_or_link_live(text: str) -> None:
    shown = escape.markdown_cell(text)
    assert live_links(shown) == [] and live_links(escape.markdown_html(text)) == []
    assert neutral(shown.replace("\\", "")) == text.replace("\\", "")  # it reads the same


# --- every renderer, every text field hostile ------------------------------------------------------


def _load(module: str, parent: str | None, depth: int, **extra: Any) -> ModuleLoad:
    return ModuleLoad(module, parent, depth, 1.0, 2.0, 1.0, 2.0, **extra)


LOADS = (_load("m", None, 0, distribution="d"), _load("m.c", "m", 1), _load("s", "m", 1, stdlib=True),
         _load("g", None, 0, generated=True))
ERROR = ErrorInfo("RuntimeError", "boom", "p/x.py:3", "missing")
IMPORTED = ImportResult("p", LOADS, ("gone",), 1.0, 1, "3.11.7", 0.9, 3, ("u",),
                        warnings=(WarningInfo("DeprecationWarning", "old", "p/x.py", 2),))
OK = Resolution("a", True, None, (Step("a", protocol.MECHANISM_MODULE_GETATTR, LOADS, ("r",), 2.0, 1.0),
                                  Step("b", protocol.MECHANISM_ATTRIBUTE, LOADS[:1], (), 1.0)),
                cached=False, object=ObjectInfo("type", "<repr>", False), suggestions=("aa",), repeats=3,
                unstable=("u",), distributions=Distributions((DistributionShare("d", "1.0", "installed", 2, 1.0),)),
                retried="why", observed=LOADS[:2], from_cache=True, second_error=ERROR)
FAILED = Resolution("b", False, ERROR, (Step("b", protocol.MECHANISM_MODULE_GETATTR, LOADS[1:2], (), 1.0),),
                    suggestions=("bb", "bc"))
PROBE_FAILED = Resolution("c", False, ERROR, probe_failed=True)
NAMES = (DeclaredName("a", ("__all__", "TYPE_CHECKING"), True, False, protocol.MECHANISM_MODULE_GETATTR,
                      declared_at="p/__init__.py:2", lazy_package=True),
         DeclaredName("b", ("__all__",), False, True))
FINDINGS = (Finding("resolve-failed", outcomes.SEVERITY_ERROR, "b", "b raised at p/x.py:3"),
            Finding("missing-dir", outcomes.SEVERITY_WARNING, None, "dir(p) misses a"),
            Finding("baseline", outcomes.SEVERITY_INFO, "a", "good news"))
FRAME = Frame("prog.py", 1, "main", "prog", "import m", "m")
TRACED = (TracedLoad(0, LOADS[0], None, "MainThread", 0.0, True, False, FRAME, Hop("__getattr__", "a", "p.py", 3),
                     "hasattr", "test_x.py::test", "call"),
          TracedLoad(1, LOADS[1], 0, "worker", 1.0, True, True, Frame("m.py", 2, "f"), None, None),
          TracedLoad(2, LOADS[3], None, "MainThread", 2.0, False, False, None, Hop("f", None, "q.py", 1), None))
ISOLATION = Isolation("spawn", "the fork server stopped answering", 1, 2, "the file p/x.py changed")
SUBJECT = Subject("a", frozenset({"m", "n"}), 2.0)
REPORTS: dict[str, Any] = {
    "list": ListReport("p", IMPORTED, NAMES, ("sub",), (OK, FAILED), ISOLATION, notes=("note",),
                       lazy_packages=("sub",)),
    "resolve": ResolveReport("p", IMPORTED, (OK, FAILED, PROBE_FAILED), isolation=ISOLATION),
    "check": CheckReport("p", IMPORTED, NAMES, (OK, FAILED), FINDINGS, rules=("resolve-failed", "eager-import"),
                         file="p/__init__.py", notes=("note",), isolation=ISOLATION),
    "snapshot": Snapshot("p", ("p", "m"), (("a", ("m", "n")), ("b", ())), ISOLATION),
    "trace": TraceReport(("prog.py", "--flag"), "3.11.7", TRACED, 1, "exited with status 0", 0, False, "why",
                         ("inserted",), (Finding("forbidden-import", outcomes.SEVERITY_ERROR, None,
                                                 "the program imports m, from prog.py:1."),), "/work"),
    "diff": Diff(Side("old.json", "check", "p", (SUBJECT, Subject("b", frozenset(), 1.0, False, "gone")),
                      (FindingRef("r", outcomes.SEVERITY_ERROR, "a", "old"),), "old error"),
                 Side("new.json", "check", "p", (Subject("a", frozenset({"m", "o"}), 9.0, False, "now"),
                                                 Subject("b", frozenset({"x"}), 1.0),
                                                 Subject("c", frozenset(), None, count=3))),
                 Threshold(), (SubjectChange("a", SUBJECT, SUBJECT, ("o",), ("n",), True),
                               SubjectChange("b", Subject("b", frozenset(), 1.0, False, "e"), SUBJECT, ("x",), (),
                                             False),
                               SubjectChange("c", None, SUBJECT, (), (), False),
                               SubjectChange("d", SUBJECT, None, (), (), False)),
                 (FindingRef("new", outcomes.SEVERITY_ERROR, None, "new one"),),
                 (FindingRef("old", outcomes.SEVERITY_WARNING, "a", "old one"),),
                 (FailOn("any", "any"), FailOn("added:x", "added", "x"),
                  FailOn("more-modules:2", "more-modules", number=2)),
                 ((FailOn("any", "any"), "it changed"),)),
    "graph": ImportGraph("p", "3.11.7", "import p", ("sys",), (
        ImportRequest(0, None, "<string>", 1, "module", "import p", "p", (), 0, False, 5, ("p",), kind="import"),
        ImportRequest(1, "p", "/work/p/__init__.py", 2, "function", "from . import a", "p", ("a",), 1, True, 1,
                      (), ("p.a",), "from", 3, True, 7),
        ImportRequest(2, "p", None, 0, "native", "import json (by the import system)", "json", (), 0, False, 1,
                      ("json",), kind="other")),
        (GraphModule("p", "/work/p/__init__.py", 0, False), GraphModule("p.a", None, None, True, "p"),
         GraphModule("json", "/lib/json/__init__.py", 2, False)),
        "exception", "RuntimeError: boom", 9, "/work"),
    "failure": Failure("check", "p", "usage", "no such option", 2, ERROR),
}
# Fields that name one of a fixed set of values (a saved document with another is refused).
KEEP = {"severity", "mechanism"}


def hostile(value: Any, strings: Iterator[str]) -> Any:
    """``value`` (a report) with every string in it, at any depth, replaced by the next of ``strings``."""
    if isinstance(value, str):
        return next(strings)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.replace(value, **{field.name: hostile(getattr(value, field.name), strings)
                                             for field in dataclasses.fields(value)
                                             if field.init and field.name not in KEEP})
    if isinstance(value, (tuple, frozenset)):
        items = [hostile(item, strings) for item in value]
        return Distributions(items) if isinstance(value, Distributions) else type(value)(items)
    return value


def _cases() -> list[tuple[str, str]]:
    cases = [(fmt.name, kind) for fmt in formats.FORMATS.values()
             for kind in [*fmt.kinds, *(["failure"] if fmt.failures else [])]]
    assert {kind for _, kind in cases} == {*formats.KINDS, "failure"}
    return cases


def _all_strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _all_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _all_strings(item)


def assert_safe(output: str, fmt: str, report: Any) -> None:
    output.encode("utf-8")  # valid Unicode: no lone surrogate
    found = commands_in(output)
    if fmt == "github":
        # Only the renderer's own annotations, one per finding, and each says what the finding says.
        expected = located_findings(report, workspace())
        assert len(runner_lines(output) if output else []) == len(expected) == len(found)
        for command, annotation in zip(found, expected):
            assert not command.legacy and command.name in ("error", "warning", "notice")
            assert set(command.properties) <= {"file", "line", "title"}
            assert neutral(command.data) == neutral(escape.valid_unicode(annotation.message))
            title = escape.valid_unicode("aoinspect " + annotation.title).rstrip(TRIMMED)
            assert neutral(command.properties["title"]) == neutral(title)
            assert ("file" in command.properties) == bool(annotation.file and not annotation.file.startswith("="))
            if "file" in command.properties:
                assert neutral(command.properties["file"]) == neutral(escape.valid_unicode(annotation.file or ""))
        return
    assert found == [], (fmt, found)
    if fmt in ("json", "sarif"):
        for text in _all_strings(json.loads(output)):
            text.encode("utf-8")
    elif fmt in ("junit", "svg"):
        ElementTree.fromstring(output.encode("utf-8"))
    elif fmt == "html":
        (data,) = re.findall(r'<script type="application/json" id="aoinspect-data">(.*?)</script>', output)
        for text in _all_strings(json.loads(data)):
            text.encode("utf-8")
    elif fmt == "markdown":
        assert live_links(output) == [], output


@pytest.mark.parametrize("kind", sorted(REPORTS))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(strings=st.lists(HOSTILE, min_size=1, max_size=8))
def test_hostile_text_in_every_field_of_every_renderer(kind: str, strings: list[str]) -> None:
    report = hostile(REPORTS[kind], itertools.cycle(strings))
    options = [RenderOptions(top=0, width=60)]
    if kind == "trace":
        module = report.loads[0].module
        options += [RenderOptions(why=module), RenderOptions(focus=module.split(".")[0] or module)]
    if kind in ("list", "resolve", "check"):
        options.append(RenderOptions(color=True, depth=1))
    for fmt, of_kind in _cases():
        if of_kind != kind:
            continue
        for option in options:
            assert_safe(render(report, fmt, option), fmt, report)


def _fields_left_empty(value: Any, seen: dict[tuple[str, str], bool]) -> None:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            held = getattr(value, field.name)
            key = (type(value).__name__, field.name)
            seen[key] = seen.get(key, False) or held not in (None, (), "", frozenset())
            _fields_left_empty(held, seen)
    elif isinstance(value, (tuple, frozenset)):
        for item in value:
            _fields_left_empty(item, seen)


def test_the_reports_fill_every_field() -> None:
    """A field a report kind gains is filled here too, or the property test above would not put
    hostile text into it."""
    seen: dict[tuple[str, str], bool] = {}
    for report in REPORTS.values():
        _fields_left_empty(report, seen)
    assert [key for key, filled in seen.items() if not filled] == []


def test_the_reports_hold_every_field_the_renderers_read() -> None:
    """The property test means something only if the reports reach every branch: each kind
    renders in each of its formats, untouched, and says what it holds."""
    for fmt, kind in _cases():
        assert render(REPORTS[kind], fmt, RenderOptions(top=0)), (fmt, kind)
    text = render(REPORTS["check"], "text", RenderOptions(top=0))
    assert "b raised at p/x.py:3" in text and "note: note" in text


# --- the cases that broke ----------------------------------------------------------------------------


def test_an_exception_message_starts_no_command_through_the_cli(fake, invoke) -> None:  # type: ignore[no-untyped-def]
    """A package that raises at import, or on an access, with workflow commands in its message:
    check, resolve (the message on stderr too), list --resolve and tree show the text, readable,
    and none of it is a command; --format github escapes it into its own annotation."""
    fake.write({"evil/__init__.py": f"raise RuntimeError({INJECTION!r})\n",
                "lazy/__init__.py": f"""\
                    __all__ = ["thing", "other"]
                    def __getattr__(name):
                        if name == "thing":
                            raise RuntimeError({INJECTION!r})
                        if name == "other":
                            import json
                            return json
                        raise AttributeError(name)
                    """})
    runs = [("-p", "evil", "check"), ("-p", "evil", "resolve", "x"), ("-p", "lazy", "check"),
            ("-p", "lazy", "resolve", "thing"), ("-p", "lazy", "resolve", "thing", "--format", "tree"),
            ("-p", "lazy", "list", "--resolve"), ("-p", "lazy", "check", "--format", "markdown")]
    for arguments in runs:
        result = invoke(*arguments)
        assert result.exit_code in ((0,) if "list" in arguments else (1, 3)), (arguments, result.output)
        assert commands_in(result.stdout) == [] and commands_in(result.stderr) == [], arguments
        if "list" not in arguments:
            assert "::add-mask::aoinspect" in neutral(result.stdout + result.stderr), arguments
    github = invoke("-p", "evil", "check", "--format", "github")
    (annotation,) = commands_in(github.stdout)
    assert annotation.name == "error" and annotation.properties["title"] == "aoinspect import-failed"
    assert INJECTION.replace("##[", "#\u200b#[") in annotation.data


def test_a_mention_in_an_exception_is_not_live_in_markdown(fake, invoke) -> None:  # type: ignore[no-untyped-def]
    fake.write({"pkg/__init__.py": """\
        __all__ = ["thing"]
        def __getattr__(name):
            raise RuntimeError("ping @octocat and @org/team, see #1 and owner/repo#2 at https://evil.example")
        """})
    markdown = invoke("-p", "pkg", "check", "--format", "markdown").stdout
    assert "octocat" in markdown and live_links(markdown) == []
    assert "ping @\u200boctocat and @\u200borg/team, see #\u200b1" in markdown


def test_a_lone_surrogate_is_written_out_in_sarif_and_json() -> None:
    report = dataclasses.replace(REPORTS["check"], findings=(
        Finding("resolve-failed", outcomes.SEVERITY_ERROR, "b\udc80", "half a character: \ud800 ##[x"),))
    for fmt in ("sarif", "json"):
        output = render(report, fmt)
        assert output.isascii() and "\\ud800" not in output.replace("\\\\ud800", "")
        strings = list(_all_strings(json.loads(output)))
        for text in strings:
            text.encode("utf-8")
        assert any(text == "half a character: \\ud800 ##[x" for text in strings), fmt
        assert "##[" not in output


def test_a_program_file_with_a_comma_and_a_colon_is_annotated_as_itself(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from click.testing import CliRunner

    from aoinspect.cli import cli

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GITHUB_WORKSPACE", str(tmp_path))
    (tmp_path / "a,b:c.py").write_text("import json\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["trace", "--forbid", "json", "--format", "github", "--", "a,b:c.py"])
    assert result.exit_code == 1, result.output
    annotations = commands_in(result.stderr)
    assert annotations and all(command.properties.get("file") == "a,b:c.py" for command in annotations)
    assert all(command.properties.get("line") == "1" for command in annotations)


@pytest.mark.parametrize(("files", "message", "placed"), [
    (("/w/a,b:c.py",), "the program imports m, from /w/a,b:c.py:1.", ("a,b:c.py", 1)),
    (("/w/2.py", "/w/1:2.py"), "the program imports m, from /w/1:2.py:1.", ("1:2.py", 1)),
    (("/w/b.py",), "the program imports m, from /w/b.py:12.", ("b.py", 12)),  # not b.py:1
])
def test_a_trace_finding_is_placed_on_the_file_the_trace_knows(files: tuple[str, ...], message: str,
                                                               placed: tuple[str, int]) -> None:
    loads = tuple(dataclasses.replace(TRACED[0], index=index, trigger=Frame(file, 1, "f"))
                  for index, file in enumerate(files))
    report = dataclasses.replace(REPORTS["trace"], loads=loads, cwd="/w",
                                 findings=(Finding("forbidden-import", outcomes.SEVERITY_ERROR, None, message),))
    (annotation,) = located_findings(report, "/w")
    assert (annotation.file, annotation.line) == placed
