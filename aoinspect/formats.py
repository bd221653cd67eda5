"""The output formats: one object per format says which report kinds it renders, whether it shows
a run that failed, its file extension, its help, and where its renderers live.

Cheap to import (no renderer, no model): ``--format`` choices and help, guessing a format from
``-o FILE``, the checks of each command and the docs' format table all read this registry;
:func:`aoinspect.render.render` imports the one renderer a report needs.

Report kinds: ``list``, ``resolve``, ``check``, ``snapshot``, ``trace``, ``diff``, ``graph``, ``advise``; a failure
document (a run that produced no report) is kind ``failure``, shown by the formats with
``failures`` for the commands they list there.
"""

from __future__ import annotations

KINDS = ("list", "resolve", "check", "snapshot", "trace", "diff", "graph", "advise")
_REPORTS = ("list", "resolve", "check", "snapshot")  # the commands that measure a package


class Format:
    """One output format. ``renderers`` maps a kind to ``module:function`` (a function of the
    typed report and ``RenderOptions`` returning the text); ``"*"`` serves every other kind.

    A plain class, not a dataclass: ``aoinspect --help`` imports this module."""

    __slots__ = ("extensions", "failures", "help", "kinds", "name", "renderers")

    def __init__(self, name: str, kinds: tuple[str, ...], help: str, extensions: tuple[str, ...] = (),
                 failures: tuple[str, ...] = (), renderers: dict[str, str] | None = None) -> None:
        self.name = name
        self.kinds = kinds
        self.help = help
        self.extensions = extensions  # the first is the one to write; all are recognised on -o
        self.failures = failures  # the commands whose failure documents it shows
        self.renderers = renderers or {}

    def __repr__(self) -> str:
        return f"Format({self.name!r}, kinds={self.kinds!r})"

    def renderer(self, kind: str) -> str:
        """Where the renderer of ``kind`` lives, ``module:function``."""
        return self.renderers.get(kind) or self.renderers["*"]


FORMATS: dict[str, Format] = {fmt.name: fmt for fmt in (
    Format("text", ("list", "check", "resolve", "diff", "trace", "graph", "advise"),
           "for people, in a terminal (the default)",
           (".txt",), renderers={"*": "aoinspect.render.text:render_text",
                                 "list": "aoinspect.render.text:render_list",
                                 "resolve": "aoinspect.render.text:render_resolve",
                                 "check": "aoinspect.render.text:render_check",
                                 "trace": "aoinspect.render.trace:render_text",
                                 "diff": "aoinspect.render.diff:render_text",
                                 "graph": "aoinspect.render.imports:render_text",
                                 "advise": "aoinspect.render.advise:render_text"}),
    Format("json", KINDS, "one versioned document (schemas/KIND.schema.json); `aoinspect render` reads it back",
           (".json",), failures=(*_REPORTS, "diff", "advise"), renderers={"*": "aoinspect.render.json:render_json"}),
    Format("markdown", tuple(kind for kind in KINDS if kind != "graph"),
           "GitHub-flavoured tables, for a step summary or a pull-request comment",
           (".md", ".markdown"), failures=_REPORTS,
           renderers={"*": "aoinspect.render.markdown:render_markdown",
                      "trace": "aoinspect.render.trace:render_markdown",
                      "diff": "aoinspect.render.diff:render_markdown",
                      "advise": "aoinspect.render.advise:render_markdown"}),
    Format("junit", ("check",), "JUnit XML: a test case per rule and name, for CI test reporters",
           (".xml", ".junit.xml"), failures=("check",), renderers={"*": "aoinspect.render.junit:render_junit"}),
    Format("html", ("check", "resolve", "snapshot", "trace"), "one self-contained interactive page",
           (".html", ".htm"), failures=("check", "resolve", "snapshot"),
           renderers={"*": "aoinspect.render.html:render_html"}),
    Format("github", ("check", "trace", "advise"), "GitHub Actions workflow commands: findings as annotations",
           (), failures=("check",), renderers={"*": "aoinspect.render.annotations:render_github"}),
    Format("sarif", ("check", "trace", "advise"), "SARIF 2.1.0, for code scanning", (".sarif", ".sarif.json"),
           failures=("check",), renderers={"*": "aoinspect.render.annotations:render_sarif"}),
    Format("tree", ("resolve", "trace"), "the import tree, indented", (),
           renderers={"*": "aoinspect.render.tree:render_tree", "trace": "aoinspect.render.trace:render_tree"}),
    Format("dot", ("resolve",), "Graphviz: what imported what", (".dot", ".gv"),
           renderers={"*": "aoinspect.render.graph:render_dot"}),
    Format("mermaid", ("resolve",), "a Mermaid flowchart", (".mmd", ".mermaid"),
           renderers={"*": "aoinspect.render.graph:render_mermaid"}),
    Format("svg", ("resolve", "trace"), "an icicle chart of the import tree", (".svg",),
           renderers={"*": "aoinspect.render.svg:render_svg", "trace": "aoinspect.render.trace:render_svg"}),
    Format("patch", ("advise",), "the __lazy_modules__ block for each module as a unified diff (advise "
           "--lazy-keyword: `lazy import` statements, for projects that require Python 3.15)", (".patch", ".diff"),
           renderers={"*": "aoinspect.render.advise:render_patch"}),
)}

ALL: tuple[str, ...] = tuple(FORMATS)

# The kind of each typed report, by class name, so that asking imports no model.
_KIND_OF_CLASS = {
    "ListReport": "list", "ResolveReport": "resolve", "CheckReport": "check", "Snapshot": "snapshot",
    "TraceReport": "trace", "Diff": "diff", "ImportGraph": "graph", "AdviseReport": "advise", "Failure": "failure",
}


def kind_of(report: object) -> str:
    """The kind of a typed report: list, resolve, check, snapshot, trace, diff, graph, advise or failure."""
    try:
        return _KIND_OF_CLASS[type(report).__name__]
    except KeyError:
        raise TypeError(f"{type(report).__name__} is not a report") from None


def names_for(kind: str) -> tuple[str, ...]:
    """The formats that render reports of ``kind`` (a command's ``--format`` choices)."""
    return tuple(name for name, fmt in FORMATS.items() if kind in fmt.kinds)


def renders_failures(fmt: str) -> bool:
    """Whether ``fmt`` shows a run that produced no report (the others print the error to stderr only)."""
    return bool(FORMATS[fmt].failures)


def renders_failure_of(fmt: str, command: str) -> bool:
    """Whether ``fmt`` shows the failure document of ``command`` (a usage error before any command
    was known is ``aoinspect``: the failure formats all show it)."""
    if command not in KINDS:
        return renders_failures(fmt)
    return command in FORMATS[fmt].failures


def guess_format(path: str) -> str | None:
    """The format an ``-o`` file's name asks for (``report.sarif`` -> sarif), or None."""
    name = path.lower()
    matches = [(len(extension), fmt.name) for fmt in FORMATS.values() for extension in fmt.extensions
               if name.endswith(extension)]
    return max(matches)[1] if matches else None


def option_help(commands: tuple[str, ...]) -> str:
    """``--format`` help for options several commands share: which command prints which format."""
    return "Output format (default: text; snapshot: json): " + "; ".join(
        f"{command} prints {', '.join(names_for(command))}" for command in commands) + "."


def table() -> str:
    """The docs' format table, in Markdown: each format, the reports it renders, failures, extension."""
    lines = ["| format | renders | failures | `-o` extension | what |", "| --- | --- | --- | --- | --- |"]
    for fmt in FORMATS.values():
        lines.append(f"| `{fmt.name}` | {', '.join(fmt.kinds)} | {', '.join(fmt.failures) or '-'} | "
                     f"{', '.join(f'`{extension}`' for extension in fmt.extensions) or '-'} | {fmt.help} |")
    return "\n".join(lines)


# How resolve's text table can be ordered ("order": as the imports began).
SORT_KEYS = ("cumulative", "self", "name", "order")
