"""Text that aoinspect did not write, made safe for each kind of output it prints.

A package's names, exception messages, file paths and source lines reach every report. Printed
as they are, they could carry commands to whatever reads the output: a line that GitHub's runner
takes for a workflow command (``::add-mask::``, ``::stop-commands::``, a forged ``::error``), a
live ``@mention`` in a pull-request comment, a string that is not Unicode in a SARIF file. One
helper per output kind, all here:

============================  ==============================================================
output                        helper
============================  ==============================================================
text, tree, dot, mermaid,     :func:`text` over the whole output (``render()`` calls it), and
markdown; messages on stderr  :func:`message` for ``aoinspect: ...`` lines
markdown                      :func:`markdown_cell`, :func:`markdown_code`,
                              :func:`markdown_html`, :func:`markdown_fenced` for each field
GitHub workflow commands      :func:`command_data`, :func:`command_property`
JSON, SARIF                   :func:`json_output` over the JSON text; :func:`valid_unicode`
JUnit XML, SVG                :func:`xml_text` for each field, :func:`xml_output` over the whole
HTML                          :func:`html_text`; the embedded document through :func:`json_output`
============================  ==============================================================

What GitHub's runner reads as a command (actions/runner, ``src/Runner.Common/ActionCommand.cs``,
``TryParseV2`` and ``TryParse``, on each line its ``StreamReader.ReadLine`` splits at ``\\r``,
``\\n`` or ``\\r\\n``): a line that starts with ``::`` once leading whitespace is trimmed, and a
line that holds ``##[`` anywhere (the legacy form). aoinspect neutralises both with one marker,
a ZERO WIDTH SPACE (U+200B), which the runner does not trim and a reader does not see:
``  ::error`` becomes ``  \\u200b::error`` and ``##[`` becomes ``#\\u200b#[`` (Azure Pipelines'
``##vso[`` likewise). Formats with an escape of their own keep the data exact instead: JSON
writes that ``#`` as ``\\u0023``, XML as ``&#35;`` and a line's first ``:`` as ``&#58;``.
"""

from __future__ import annotations

import re
from typing import Callable, Sequence

MARKER = "\u200b"  # ZERO WIDTH SPACE: not whitespace to the runner's TrimStart, invisible to a reader

# Patterns are (source, flags), compiled on first use (``re`` caches them): a command that
# prints no such text never compiles them.

# The legacy command prefix (``##[``, and Azure Pipelines' ``##vso[``): the first "#" of it.
_LEGACY = (r"#(?=#(?:vso)?\[)", re.IGNORECASE)
# A line's first non-blank characters are "::". Python's \s holds every character .NET's
# char.IsWhiteSpace does (and a few more); the separators Python's splitlines knows also start a line.
_COMMAND_START = (r"(?:^|(?<=[\x0b\x0c\x1c-\x1e\x85\u2028\u2029]))(\s*)::", re.MULTILINE)
# Control characters a terminal would act on; SGR colour sequences (the text renderer's own) stay.
_CONTROL = (r"\x1b\[[0-9;]*m|\r\n?|[\x00-\x08\x0b-\x1f\x7f-\x9f]", 0)
# Every character _CONTROL can start at (ESC and CR among them): text with none of them, no "##"
# and no "::" is left as it is without compiling a pattern, a millisecond of every command.
_CONTROL_CHARACTERS = frozenset(map(chr, (*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0))))


def valid_unicode(text: str) -> str:
    """``text`` with lone surrogates written out as ``\\udXXX``: a package can put them in any name
    or message, and no UTF-8 stream, JSON parser or SARIF viewer can take them."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def _control(match: re.Match[str]) -> str:
    found = match.group()
    if found.startswith("\x1b["):
        return found
    if found.startswith("\r"):
        return "\n"  # the runner (and a terminal) starts a line there: so does the output
    return f"\\x{ord(found):02x}"


def no_commands(text: str) -> str:
    """``text`` with no line a CI runner would take for a workflow command: the marker before a
    line's leading ``::`` and inside every ``##[``. Printable text is otherwise unchanged."""
    unprefixed = re.compile(*_LEGACY).sub("#" + MARKER, text) if "##" in text else text
    if "::" not in unprefixed:
        return unprefixed
    return re.compile(*_COMMAND_START).sub(lambda match: match.group(1) + MARKER + "::", unprefixed)


def text(output: str) -> str:
    """Plain text for people and logs (text, tree, dot, mermaid, markdown): carriage returns are
    line breaks, other control characters are written out (``\\x07``) but colour, and no line
    starts a workflow command."""
    output = valid_unicode(output)
    if not _CONTROL_CHARACTERS.isdisjoint(output):
        output = re.compile(*_CONTROL).sub(_control, output)
    return no_commands(output)


def message(line: str) -> str:
    """An ``aoinspect: MESSAGE`` line for stderr, where the message may quote the package."""
    return text(line)


# --- GitHub workflow commands ---------------------------------------------------------------------
# The runner unescapes data with (\r, %0D), (\n, %0A), (%, %25), and property values with those and
# (:, %3A), (",", %2C) (ActionCommand.cs, _escapeDataMappings and _escapePropertyMappings); "%"
# goes first here so that escaping and the runner's unescaping are inverse.


def command_data(value: str) -> str:
    """A workflow command's message: ``%``, CR and LF escaped; no legacy ``##[`` inside."""
    escaped = valid_unicode(value).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return re.compile(*_LEGACY).sub("#" + MARKER, escaped)


def command_property(value: str) -> str:
    """A workflow command's property value: also ``:`` and ``,``, which end a value or the properties."""
    return command_data(value).replace(":", "%3A").replace(",", "%2C")


# --- JSON and SARIF -------------------------------------------------------------------------------

# In JSON text written by json.dumps(ensure_ascii=True): an escape sequence, checked left to right so
# that "\\" is taken whole: a surrogate pair (kept), a lone surrogate, or anything else (kept).
_JSON_ESCAPE = (
    r"\\u(d[89ab][0-9a-f]{2})\\u(d[c-f][0-9a-f]{2})|\\u(d[89a-f][0-9a-f]{2})|\\.|#(?=#(?:vso)?\[)", re.IGNORECASE)


def _json_escape(match: re.Match[str]) -> str:
    found = match.group()
    if found == "#":
        return "\\u0023"  # the same string to a JSON reader; no "##[" to the runner
    if match.group(3):
        return "\\\\u" + match.group(3)  # lone: the text \udXXX, as valid_unicode writes it
    return found


def json_output(document: str) -> str:
    """JSON text as ``json.dumps`` (ASCII) wrote it, carrying valid Unicode only (a lone surrogate
    becomes the visible text ``\\udXXX``) and no ``##[``; the data is otherwise unchanged."""
    return re.compile(*_JSON_ESCAPE).sub(_json_escape, document)


# --- XML (JUnit, SVG) and HTML --------------------------------------------------------------------

# Characters XML 1.0 does not allow at all, even escaped: C0 controls but tab, newline and
# carriage return; lone surrogates; U+FFFE and U+FFFF.
_NOT_XML = ("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]", 0)


def xml_text(value: str) -> str:
    """Text XML 1.0 can hold (before the XML library escapes ``<`` and ``&``): forbidden
    characters written out as ``\\xNN``/``\\uNNNN``."""
    return re.compile(*_NOT_XML).sub(
        lambda match: match.group().encode("unicode_escape", "backslashreplace").decode("ascii"), value)


def xml_output(document: str) -> str:
    """A serialised XML document with no workflow command in it, its data unchanged to an XML
    reader: ``#`` of ``##[`` as ``&#35;``, a line's leading ``:`` as ``&#58;``, a raw carriage
    return (which XML reads as a line break anyway) as one."""
    document = document.replace("\r\n", "\n").replace("\r", "\n")
    document = re.compile(*_LEGACY).sub("&#35;", document)
    return re.compile(*_COMMAND_START).sub(lambda match: match.group(1) + "&#58;:", document)


def html_text(value: str) -> str:
    """Text for an HTML element or attribute: escaped, on one line, with no ``##[``."""
    import html

    escaped = html.escape(valid_unicode(value)).replace("\r", "&#13;").replace("\n", "&#10;")
    return re.compile(*_LEGACY).sub("&#35;", escaped)


# --- Markdown (GitHub-flavoured) ------------------------------------------------------------------

# What could start emphasis, code, a link or HTML, or end a table cell, anywhere in a line. ("(" only
# matters after "]", "#", "+" and "-" only at the start of a line, which a cell never is.)
_MARKDOWN_SPECIAL = (r"([\\`*_\[\]<>|~])", 0)
_NEWLINES = (r"\r\n|\r|\n", 0)
# What GitHub turns into a link or a notification in text (not in code): @user and @org/team
# mentions and e-mail addresses, #123, GH-123 and owner/repo#123 references, http://, https://,
# ftp:// and www. links. The marker after "@", "#", "GH", ":" or "www" leaves each plain text.
_AUTOLINK = (r"(?<=@)(?=[A-Za-z0-9_-])|(?<=#)(?=[0-9])|(?<=GH)(?=-[0-9])|(?<=:)(?=//)|(?<=www)(?=\.)",
             re.IGNORECASE)


def no_autolinks(value: str) -> str:
    """``value`` with no mention, issue reference or bare link that GitHub would make live."""
    return re.compile(*_AUTOLINK).sub(MARKER, value)


def markdown_cell(value: object) -> str:
    """Text for one table cell or line: Markdown punctuation escaped, ``&`` as an entity, newlines
    as ``<br>``, mentions and autolinks left as text."""
    shown = "" if value is None else str(value)
    shown = re.compile(*_MARKDOWN_SPECIAL).sub(r"\\\1", no_autolinks(shown).replace("&", "&amp;"))
    return re.compile(*_NEWLINES).sub("<br>", shown)


def markdown_code(value: object) -> str:
    """An inline code span that no backtick or pipe in ``value`` can break (for module names);
    GitHub makes nothing in a code span live."""
    shown = re.compile(*_NEWLINES).sub(" ", "" if value is None else str(value))
    if not shown or "`" in shown or "|" in shown:
        return markdown_cell(shown)
    return f"`{shown}`"


def markdown_html(value: object) -> str:
    """Text inside an HTML element such as ``<summary>``, where Markdown escapes would show."""
    import html

    return html.escape(no_autolinks(re.compile(*_NEWLINES).sub(" ", "" if value is None else str(value))))


def markdown_fenced(language: str, lines: Sequence[str]) -> list[str]:
    """A fenced code block that no backtick run in ``lines`` can close; one line per entry."""
    flat = [line.replace("\r", "\\r").replace("\n", "\\n") for line in lines]
    longest = max((len(run) for line in flat for run in re.findall(r"`+", line)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence + language, *flat, fence]


# --- the last pass over each format's whole output --------------------------------------------------

_OUTPUT: dict[str, Callable[[str], str]] = {
    "json": json_output,
    "sarif": json_output,
    "junit": xml_output,
    "svg": xml_output,
    # Each field of these is escaped where it is written (html_text, command_data, command_property);
    # the renderer's own "::error" lines are the point of --format github.
    "html": valid_unicode,
    "github": valid_unicode,
}


def output(fmt: str, rendered: str) -> str:
    """A renderer's whole output in ``fmt``, made safe to print: :func:`text` unless the format
    has an escape of its own."""
    return _OUTPUT.get(fmt, text)(rendered)
