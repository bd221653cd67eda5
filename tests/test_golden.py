"""Golden outputs: every command in every format it prints, on ``ao`` and on fake packages,
failures included, compared with the files under ``tests/golden/``. They freeze what the CLI
prints (stdout, stderr and exit code) so that a refactoring that changes any of it fails here,
with a unified diff.

Regenerate after an intended change (with Python 3.11 or later), read the diff, and say why in
the commit:

    pytest tests/test_golden.py --update-golden      (or AOINSPECT_UPDATE_GOLDEN=1)

One file per case and format, ``<command>-<case>.<extension>``: a header (the command line, the
exit code, stderr), a line of dashes, then stdout, normalised so that the file is the same on
every machine and Python (3.10 to 3.13):

- Times are masked: every number followed by ``ms`` or ``%``, every decimal number (the ``SELF
  ms`` columns), in JSON every float and every number under a key ending in ``_ms`` (also inside
  the HTML page), and every number in an SVG attribute (bars and positions follow times). A
  masked number in a right-aligned column keeps its width, so the tables keep their shape.
  Outputs ordered by time are avoided: resolve runs with ``--sort order`` or ``--sort name``,
  traced programs are one line long.
- Paths are masked: the fake packages' directory (``<site>``), this repository (``<repo>``), the
  interpreter (``<python>``, ``<bin>``, ``<python-version>``). A path's length differs between
  machines, and text wraps findings' messages to its width: each message is joined into one line.
- The standard library is dropped. ``ao`` and the fakes of ``tests/packages.py`` import stdlib
  modules, and which ones differs between Pythons (``importlib._bootstrap``, ``warnings`` under
  3.10, ``typing``'s helpers) and between environments (a ``.pth`` file may load ``typing`` at
  start-up): for those cases (``stdlib=True``) every row, node, edge and list entry naming a
  stdlib module (``sys.stdlib_module_names``) is removed, module counts and lists of modules cut
  short ("and 15 more") are masked, and runs of spaces inside lines are collapsed (column widths
  follow the longest name, which may be a stdlib one). The fakes written here (``BARE``) load no
  stdlib module at all, a fact the test checks, so their counts, columns and trees stay exact.
- Where a result comes from is fixed: each case runs first with ``--format json``, which measures
  and fills a cache shared by the module, and then every other format reads that cache (text says
  "from the cache", the HTML page's document too); the ``fresh`` cases run without a cache, to
  freeze that path of the text output too. Failures are not cached: they run in every format.
- ``ao`` ships in the aoinspect distribution: installed from a wheel (as CI installs it), its
  modules are attributed to ``aoinspect``; installed editable, to no distribution. The files show
  the editable form, to which the wheel's is rewritten.
- Python 3.10 cannot tell which expression of a line started an import (no ``co_positions``):
  under it, the expected files are read with every trace ``expression`` null.
- markdown lists modules heaviest first whatever ``--sort`` says: those tables' rows are sorted.
  An SVG bar's label is cut to the bar's width, a time: bar labels are left out.
- A graph's ``baseline`` (the modules the interpreter loaded at start-up) is masked.
- HTML: the inlined ``report.css`` and ``report.js``, when they are the shipped files, are
  replaced by their names, and the embedded JSON document is normalised as JSON and indented.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import importlib_metadata
import pytest
from click.testing import CliRunner

from aoinspect import formats
from aoinspect.cli import cli
from tests.packages import RULE_BREAKERS, lazy_package

GOLDEN = Path(__file__).parent / "golden"
REPOSITORY = Path(__file__).resolve().parents[1]
RENDER_ASSETS = REPOSITORY / "aoinspect" / "render"
EXTENSIONS = {"text": "txt", "json": "json", "markdown": "md", "junit": "xml", "html": "html", "svg": "svg",
              "dot": "dot", "mermaid": "mmd", "tree": "tree.txt", "github": "github.txt", "sarif": "sarif.json",
              "patch": "patch"}
STDLIB = frozenset(sys.stdlib_module_names)

# --- the fakes: packages that load no stdlib module, so that nothing about them varies ----------

_BARE_INIT = '''
TYPE_CHECKING = False
if TYPE_CHECKING:
    from {pkg} import alpha as alpha, beta as beta

__all__ = ["alpha", "beta"]
{eager}

def __getattr__(name):
    if name in __all__:
        import sys

        __import__(f"{{__name__}}.{{name}}")
        return sys.modules[f"{{__name__}}.{{name}}"]
    raise AttributeError(f"module {{__name__!r}} has no attribute {{name!r}}")
{dir}'''
_BARE_DIR = '''

def __dir__():
    return sorted(list(globals()) + __all__)
'''

# ``lazy``: well behaved; ``flawed``: alpha imported eagerly, beta raises, no __dir__;
# ``noimport``: fails to import; ``crashing``: accessing beta ends the interpreter. ``bare2``
# holds a later ``lazy`` for diff: it imports alpha eagerly, beta loads one module more, and
# __dir__ is gone.
BARE = {
    "lazy/__init__.py": _BARE_INIT.format(pkg="lazy", eager="", dir=_BARE_DIR),
    "lazy/alpha.py": "from lazy import _shared\nVALUE = 1\n",
    "lazy/beta.py": "from lazy import _shared\nfrom lazy.deep import inner\nVALUE = 2\n",
    "lazy/_shared.py": "X = 1\n",
    "lazy/deep/__init__.py": "",
    "lazy/deep/inner.py": "Y = 1\n",
    "flawed/__init__.py": _BARE_INIT.format(pkg="flawed", eager="from flawed import alpha\n", dir=""),
    "flawed/alpha.py": "VALUE = 1\n",
    "flawed/beta.py": "raise RuntimeError('beta is broken')\n",
    "noimport/__init__.py": "raise RuntimeError('boom at import')\n",
    "crashing/__init__.py": _BARE_INIT.format(pkg="crashing", eager="", dir=_BARE_DIR),
    "crashing/alpha.py": "VALUE = 1\n",
    "crashing/beta.py": "import os\n\nos._exit(0)\n",  # os is loaded at start-up: no stdlib load
    # advise: used at import, saving, kept loaded by another, a shared entry, try/except, a stale entry
    "advised/__init__.py": (
        '__lazy_modules__ = ["advised.kep"]\n'
        "from advised import used\n"
        "from advised import unused\n"
        "import advised.kept\n"
        "try:\n"
        "    import advised.optional\n"
        "except ImportError:\n"
        "    pass\n"
        "VALUE = used.VALUE\n"
    ),
    "advised/used.py": "VALUE = 1\n",
    "advised/unused.py": "import advised.heavy\n",
    "advised/kept.py": "import advised.heavy\n",
    "advised/heavy.py": "X = 1\n",
    "advised/optional.py": "",
}
BARE2 = {
    **{path: source for path, source in BARE.items() if path.startswith("lazy/")},
    "lazy/__init__.py": _BARE_INIT.format(pkg="lazy", eager="from lazy import alpha\n", dir=""),
    "lazy/beta.py": "from lazy import _shared, extra\nfrom lazy.deep import inner\nVALUE = 2\n",
    "lazy/extra.py": "",
}
# From tests/packages.py (they import typing and importlib: stdlib=True).
PACKAGES = {**lazy_package("twonames"), **RULE_BREAKERS["resolve-failed"]}
SITES = {"bare": BARE, "bare2": BARE2, "packages": PACKAGES}

TRACED = "import lazy; lazy.alpha; lazy.beta"


@dataclass(frozen=True)
class Case:
    """One command line, run in each of ``formats`` (default: every format its command prints)."""

    command: str
    name: str
    args: tuple[str, ...]
    site: str | None = None  # the fakes on PYTHONPATH; None: ao alone
    stdlib: bool = False  # the package loads stdlib modules: drop them, mask counts
    formats: tuple[str, ...] = ()
    fresh: bool = False  # measure without the cache
    probes: bool = True  # runs children (diff does not): warm the cache first

    @property
    def all_formats(self) -> tuple[str, ...]:
        return self.formats or formats.names_for(self.command)


FAILURES = ("text", "json", "markdown")  # a failure: stderr alone, and two of the failure documents
CASES = [
    # list
    Case("list", "ao", ("list",), stdlib=True),
    Case("list", "ao-fresh", ("list", "--resolve"), stdlib=True, formats=("text",), fresh=True),
    Case("list", "ao-all", ("list", "--all"), stdlib=True),
    Case("list", "ao-resolve", ("list", "--resolve"), stdlib=True),
    Case("list", "lazy-resolve", ("-p", "lazy", "list", "--resolve"), site="bare"),
    Case("list", "twonames", ("-p", "twonames", "list", "--all"), site="packages", stdlib=True),
    Case("list", "noimport", ("-p", "noimport", "list"), site="bare", formats=FAILURES),
    Case("list", "no-such-package", ("-p", "no_such_pkg", "list"), site="bare", formats=("text", "json")),
    # resolve
    Case("resolve", "ao-quantization", ("resolve", "quantization", "--sort", "order"), stdlib=True),
    Case("resolve", "ao-dotted", ("resolve", "nn.quantized", "--sort", "name"), stdlib=True),
    Case("resolve", "ao-all", ("resolve", "--all", "--sort", "name"), stdlib=True),
    Case("resolve", "ao-unknown-name", ("resolve", "quantisation"), stdlib=True,
         formats=("text", "json", "markdown")),
    Case("resolve", "lazy", ("-p", "lazy", "resolve", "alpha", "beta", "--sort", "order"), site="bare"),
    Case("resolve", "lazy-fresh", ("-p", "lazy", "resolve", "beta", "--sort", "order"), site="bare",
         formats=("text",), fresh=True),
    Case("resolve", "lazy-dotted", ("-p", "lazy", "resolve", "beta.VALUE", "--sort", "name"), site="bare"),
    Case("resolve", "lazy-all-top1", ("-p", "lazy", "resolve", "--all", "--sort", "name", "--top", "1",
                                      "--depth", "1"), site="bare", formats=("text", "tree")),
    Case("resolve", "flawed-fails", ("-p", "flawed", "resolve", "beta", "nope", "--sort", "order"), site="bare"),
    Case("resolve", "crashing", ("-p", "crashing", "resolve", "alpha", "beta", "--sort", "order"), site="bare",
         formats=("text", "json", "markdown")),
    Case("resolve", "noimport", ("-p", "noimport", "resolve", "alpha"), site="bare", formats=("text", "json")),
    Case("resolve", "resolve-failed", ("-p", "pkg", "resolve", "--all", "--sort", "name"), site="packages",
         stdlib=True, formats=("text", "json", "tree", "markdown")),
    Case("resolve", "usage-bad-name", ("resolve", "--", "a..b"), formats=("text", "json", "markdown"),
         probes=False),
    Case("resolve", "usage-no-name", ("resolve",), formats=("text", "json"), probes=False),
    # check
    Case("check", "ao", ("check",), stdlib=True),
    Case("check", "ao-strict", ("check", "--strict"), stdlib=True, formats=("text", "json", "junit")),
    Case("check", "ao-forbid", ("check", "--forbid", "ao.nn", "--forbid-on", "quantization:ao.nn.qat*"),
         stdlib=True, formats=("text", "json", "junit", "github", "sarif")),
    Case("check", "ao-max-modules", ("check", "--max-modules", "1000", "--max-modules", "pruning:2"),
         stdlib=True, formats=("text", "json", "markdown")),
    Case("check", "ao-baseline", ("check", "--baseline", "{baseline}"), stdlib=True,
         formats=("text", "json", "markdown")),
    Case("check", "lazy", ("-p", "lazy", "check"), site="bare"),
    Case("check", "flawed", ("-p", "flawed", "check"), site="bare"),
    Case("check", "noimport", ("-p", "noimport", "check"), site="bare"),
    Case("check", "crashing", ("-p", "crashing", "check"), site="bare", formats=("text", "json", "junit")),
    Case("check", "eager-import", ("-p", "twonames", "check", "--ignore", "star-import"), site="packages",
         stdlib=True, formats=("text", "json")),
    Case("check", "usage-bad-budget", ("check", "--max-modules", "lots"), formats=("text", "json", "junit"),
         probes=False),
    # snapshot
    Case("snapshot", "ao", ("snapshot",), stdlib=True),
    Case("snapshot", "lazy", ("-p", "lazy", "snapshot"), site="bare"),
    Case("snapshot", "noimport", ("-p", "noimport", "snapshot"), site="bare", formats=("json",)),
    # diff (of reports saved by the fixture, their times set to 1 ms before and 3 ms after)
    Case("diff", "resolve", ("diff", "{resolve_old}", "{resolve_new}"), probes=False),
    Case("diff", "check", ("diff", "{check_old}", "{check_new}", "--fail-on", "new-findings"), probes=False),
    Case("diff", "ao-snapshot", ("diff", "{baseline}", "{snapshot}"), stdlib=True, probes=False),
    Case("diff", "different-commands", ("diff", "{resolve_old}", "{check_new}"), probes=False,
         formats=("text", "json")),
    # trace (the report goes to stderr)
    # advise (--budget 0: nothing timed, so that the rows are the same on every run)
    Case("advise", "ao", ("advise", "--budget", "0"), stdlib=True, probes=False),
    Case("advise", "advised", ("-p", "advised", "advise", "--budget", "0"), site="bare", probes=False),
    Case("advise", "advised-fail-on", ("-p", "advised", "advise", "--budget", "0", "--fail-on", "saving>0",
                                       "--fail-on", "stale-entry"), site="bare", probes=False,
         formats=("text", "json", "github", "sarif")),
    Case("advise", "noimport", ("-p", "noimport", "advise", "--budget", "0"), site="bare", probes=False,
         formats=("text", "json")),
    Case("trace", "lazy", ("trace", "--", "-c", TRACED), site="bare", probes=False),
    Case("trace", "lazy-forbid", ("trace", "--forbid", "lazy.deep*", "--max-modules", "2", "--", "-c", TRACED),
         site="bare", probes=False, formats=("text", "json", "github", "sarif")),
    Case("trace", "exit-status", ("trace", "--", "-c", "import lazy; raise SystemExit(3)"), site="bare",
         probes=False, formats=("text", "json")),
    Case("trace", "ao", ("trace", "--", "-c", "import ao; ao.quantization"), stdlib=True, probes=False,
         formats=("text", "json", "tree")),
    # graph
    Case("graph", "ao", ("graph",), stdlib=True, probes=False),
    Case("graph", "lazy", ("-p", "lazy", "graph", "--entry", TRACED), site="bare", probes=False),
    Case("graph", "noimport", ("graph", "noimport"), site="bare", probes=False),
]
PARAMS = [pytest.param(case, fmt, id=f"{case.command}-{case.name}.{fmt}") for case in CASES
          for fmt in case.all_formats]


@dataclass
class Workspace:
    """The module's shared directories: the fakes, the cache, the saved reports."""

    root: Path
    cache: Path
    files: dict[str, str] = field(default_factory=dict)
    first_runs: dict[Case, Any] = field(default_factory=dict)  # each case's JSON run, which filled the cache

    def site(self, name: str | None) -> Path | None:
        return None if name is None else self.root / name

    def env(self, case: Case) -> dict[str, str | None]:
        site = self.site(case.site)
        existing = os.environ.get("PYTHONPATH")
        paths = [str(site)] if site is not None else []
        env: dict[str, str | None] = {
            "PYTHONPATH": os.pathsep.join([*paths, *([existing] if existing else [])]) or None,
            # A cache of the case's own: what another case of the same package cached first would
            # otherwise depend on the order the tests run in (pytest-xdist spreads them over workers).
            "AOINSPECT_CACHE_DIR": str(self.cache / f"{case.command}-{case.name}"),
            "AOINSPECT_NO_CACHE": "1" if case.fresh else None,
            "NO_COLOR": "1", "COLUMNS": "100",
        }
        return env

    def invoke(self, case: Case, *args: str) -> Any:
        """Run the case's command line in this process, ARGS (the format) before any ``--``."""
        words = [word.format(**self.files) for word in _with_options(case.args, args)]
        return CliRunner().invoke(cli, words, prog_name="aoinspect", env=self.env(case), catch_exceptions=False)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    root = tmp_path_factory.mktemp("golden")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(REPOSITORY)
        return _workspace(root)


def _workspace(root: Path) -> Workspace:
    for site, files in SITES.items():
        for relative, source in files.items():
            path = root / site / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(source, encoding="utf-8")
    space = Workspace(root, root / "cache")
    bare = Case("resolve", "", (), site="bare", fresh=True)
    bare2 = Case("resolve", "", (), site="bare2", fresh=True)
    for name, case, args, ms in [
        ("resolve_old", bare, ("-p", "lazy", "resolve", "--all", "--format", "json"), 1.0),
        ("resolve_new", bare2, ("-p", "lazy", "resolve", "--all", "--format", "json"), 3.0),
        ("check_old", bare, ("-p", "lazy", "check", "--format", "json"), 1.0),
        ("check_new", bare2, ("-p", "lazy", "check", "--format", "json"), 3.0),
    ]:
        document = _with_times(json.loads(space.invoke(case, *args).stdout), ms)
        space.files[name] = str(root / f"{name}.json")
        Path(space.files[name]).write_text(json.dumps(document), encoding="utf-8")
    # A baseline of ao without ao.pruning.scheduler: check finds it added.
    snapshot = json.loads(space.invoke(Case("snapshot", "", ("snapshot",), fresh=True)).stdout)
    space.files["snapshot"] = str(root / "snapshot.json")
    Path(space.files["snapshot"]).write_text(json.dumps(snapshot), encoding="utf-8")
    snapshot["names"]["pruning"].remove("ao.pruning.scheduler")
    space.files["baseline"] = str(root / "baseline.json")
    Path(space.files["baseline"]).write_text(json.dumps(snapshot), encoding="utf-8")
    return space


def _with_options(words: tuple[str, ...], options: tuple[str, ...]) -> tuple[str, ...]:
    end = words.index("--") if "--" in words else len(words)
    return (*words[:end], *options, *words[end:])


def _with_times(value: Any, ms: float) -> Any:
    """The document with every time set to ``ms``: diff then sees the same change on every run."""
    if isinstance(value, dict):
        return {key: ms if key.endswith("_ms") and isinstance(item, (int, float)) else _with_times(item, ms)
                for key, item in value.items()}
    if isinstance(value, list):
        return [_with_times(item, ms) for item in value]
    return value


@pytest.mark.parametrize(("case", "fmt"), PARAMS)
def test_golden(workspace: Workspace, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, case: Case,
                fmt: str) -> None:
    monkeypatch.chdir(REPOSITORY)  # trace shows paths relative to the working directory
    if case.probes and not case.fresh:
        # The JSON run measures and fills the cache, whichever test runs first; the other formats read it.
        if case not in workspace.first_runs:
            workspace.first_runs[case] = workspace.invoke(case, "--format", "json")
        result = workspace.first_runs[case] if fmt == "json" else workspace.invoke(case, "--format", fmt)
    else:
        result = workspace.invoke(case, "--format", fmt)
    # (trace and graph list the requests and loads of modules loaded at start-up, as sys)
    if case.site == "bare" and case.command not in ("trace", "graph") and fmt == "json" \
            and result.stdout.startswith("{"):
        assert not _stdlib_rows(json.loads(result.stdout)), "a fake of BARE loaded a stdlib module"
    normalise = Normaliser(workspace, case.stdlib)
    shown = " ".join(shlex.quote(word) for word in ("aoinspect", *_with_options(case.args, ("--format", fmt))))
    actual = "\n".join([
        f"$ {normalise.text(shown)}",
        f"exit {result.exit_code}",
        "stderr:",
        *(f"  {line}" for line in normalise.output(result.stderr, _stderr_format(case, fmt)).splitlines()),
        "-" * 40,
        normalise.output(result.stdout, fmt),
    ]).rstrip("\n") + "\n"
    path = GOLDEN / f"{case.command}-{case.name}.{EXTENSIONS[fmt]}"
    if request.config.getoption("--update-golden") or os.environ.get("AOINSPECT_UPDATE_GOLDEN"):
        if sys.version_info < (3, 11):
            pytest.fail("regenerate the golden files with Python 3.11 or later: 3.10 writes no trace expression")
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    assert path.exists(), f"no golden file {path.name}: run pytest {__file__} --update-golden"
    expected = path.read_text(encoding="utf-8")
    if sys.version_info < (3, 11):  # no co_positions: trace cannot tell which expression of a line loaded
        expected = re.sub(r'"expression": "(?:[^"\\]|\\.)*"', '"expression": null', expected)
    if actual != expected:
        diff = "".join(difflib.unified_diff(expected.splitlines(True), actual.splitlines(True),
                                            f"tests/golden/{path.name}", "actual"))
        pytest.fail(f"{path.name} differs (--update-golden rewrites it, if the change is meant):\n{diff}",
                    pytrace=False)


def test_every_command_and_format_has_a_case() -> None:
    covered = {(case.command, fmt) for case in CASES for fmt in case.all_formats}
    wanted = {(command, fmt) for command in formats.KINDS for fmt in formats.names_for(command)}
    assert wanted <= covered, sorted(wanted - covered)


def test_no_golden_file_is_left_over() -> None:
    """A case renamed or removed takes its file with it."""
    expected = {f"{case.command}-{case.name}.{EXTENSIONS[fmt]}" for case in CASES for fmt in case.all_formats}
    assert sorted(path.name for path in GOLDEN.iterdir()) == sorted(expected)


def test_the_normaliser_masks_times_paths_and_the_stdlib() -> None:
    """What the masks do, on outputs written by hand (the docstring above says why)."""
    space = Workspace(Path("/tmp/site-of-fakes"), Path("/tmp/cache"))
    table = """\
import ao: 26 modules in 10.9 ms
  SELF ms  CUMUL ms  MODULE                    IMPORTED BY               DISTRIBUTION
    10.24     14.99  ao.quantization           (access)                  (local)
     0.27      0.27  math                      ao.quantization.observer  (stdlib)
     0.33      0.33  ao.quantization.observer  /tmp/site-of-fakes/x.py   (local)"""
    assert Normaliser(space, stdlib=False).output(table, "text").splitlines() == [
        "import ao: 26 modules in # ms",
        "  SELF ms  CUMUL ms  MODULE                    IMPORTED BY               DISTRIBUTION",
        "        #         #  ao.quantization           (access)                  (local)",
        "        #         #  math                      ao.quantization.observer  (stdlib)",
        "        #         #  ao.quantization.observer  <site>/x.py   (local)",
    ]
    assert Normaliser(space, stdlib=True).output(table, "text").splitlines() == [
        "import ao: # modules in # ms",
        "  SELF ms  CUMUL ms  MODULE  IMPORTED BY  DISTRIBUTION",
        "        #  #  ao.quantization  (access)  (local)",
        "        #  #  ao.quantization.observer  <site>/x.py  (local)",
    ]
    document = {"modules": 3, "depth": 1, "total_ms": 2.5, "loads": [{"module": "re", "stdlib": True}],
                "import": ["ao", "typing"], "message": "importing 3 module(s): typing, ao and 1 more."}
    assert Normaliser(space, stdlib=True).document(document) == {
        "modules": "<int>", "depth": 1, "total_ms": "<ms>", "loads": [], "import": ["ao"],
        "message": "importing # module(s): <modules>."}


def _stderr_format(case: Case, fmt: str) -> str:
    """trace writes its report to stderr; every other command, messages."""
    return fmt if case.command == "trace" else "text"


def _stdlib_rows(document: Any) -> list[str]:
    found: list[str] = []
    if isinstance(document, dict):
        if document.get("stdlib") is True:
            found.append(str(document.get("module")))
        for value in document.values():
            found += _stdlib_rows(value)
    elif isinstance(document, list):
        for value in document:
            found += _stdlib_rows(value)
    return found


def _is_stdlib(name: str) -> bool:
    return name.partition(".")[0] in STDLIB


# --- normalising -------------------------------------------------------------------------------

_NUMBER = r"\d+(?:\.\d+)?"
_TIME = re.compile(rf"(?<![\w.\"])( *)(?:{_NUMBER} ?(?:ms|s)\b|{_NUMBER}%|\d+\.\d+(?![.\d]))")
_MODULE_COUNT = re.compile(r"\b\d+( modules?\b| module\(s\)| more\b)")
_MODULE_LIST = re.compile(r"(module\(s\)(?:: | \())([\w.\\]+(?:, [\w.\\]+)*(?: and # more)?)")  # markdown: \_
# A line that lists modules (trace: "ao, importlib via ao.__getattr__('nn'), ao.nn").
_MODULE_LIST_LINE = re.compile(r"^(\s+)([\w.]+(?: via [^,]*)?(?:, [\w.]+(?: via [^,]*)?)*)$")
_INTEGER = re.compile(r"(?<![\w.#<-])\d+(?!\w|\.\d)")
# A finding's message in text, wrapped to the width: it may hold a path, whose length differs from
# one machine (or one pytest run) to the next, and under stdlib its words differ: it is joined.
_FINDING = re.compile(r"^  (?:error|warning|info) ")
_CONTINUED = "      "
_INNER_SPACES = re.compile(r"(?<=\S) {2,}(?=[^\s├])")  # not a tree's indentation
_SVG_NUMBER = re.compile(r'="-?\d+(?:\.\d+)?"')
# A bar's label is cut to the bar's width, which follows time (and left out where it is too narrow).
_SVG_BAR_LABEL = re.compile(r'<text x="#" y="#" fill="[^"]*">[^<]*</text>(?=</g>)')
_SVG_VIEWBOX = re.compile(r'viewBox="[\d. ]+"')
# A module name where outputs put one: after a tree's branch, in quotes or backticks (dot, mermaid,
# markdown, SVG), after a graph's cluster prefix.
_MODULE_IN_PLACE = re.compile(r'(?:[├└]─ |"r\d+:|["`]|<title>)([\w.]+)(?=["`:<\s]|$)')


class Normaliser:
    """Masks in one output what differs between runs, machines and Pythons (see the docstring)."""

    def __init__(self, workspace: Workspace, stdlib: bool) -> None:
        self.stdlib = stdlib
        version = ".".join(map(str, sys.version_info[:3]))
        self.replacements = [
            (str(workspace.root), "<site>"), (str(REPOSITORY), "<repo>"), (sys.executable, "<python>"),
            (os.path.realpath(sys.executable), "<python>"), (str(Path(sys.executable).parent), "<bin>"),
            (version, "<python-version>"),
        ]
        # ao ships in the aoinspect distribution: installed from a wheel, the distribution index
        # attributes ao's modules to it (by their top-level name); installed editable, to nothing,
        # which is what the files show.
        shipped = re.escape(importlib_metadata.version("aoinspect"))
        self.shipped = [
            (re.compile(r"^(.*\S  +)aoinspect$", re.M), r"\1(local)"),  # a module's row
            (re.compile(rf"^  aoinspect( +){shipped}( +)", re.M), r"  (local)\1\2"),  # the distributions' row
            (re.compile(r"\| aoinspect \|$", re.M), "| (local) |"),
            (re.compile(r" \(aoinspect\)</title>"), "</title>"),
        ]

    def output(self, text: str, fmt: str) -> str:
        if fmt in ("json", "sarif") and text.lstrip().startswith("{"):
            return json.dumps(self.document(json.loads(text)), indent=2, ensure_ascii=False)
        if fmt == "html":
            return self.html(text)
        if fmt == "svg":
            text = _SVG_VIEWBOX.sub('viewBox="#"', _SVG_NUMBER.sub('="#"', text))
            text = _SVG_BAR_LABEL.sub("", text)
        if fmt == "mermaid":
            text = self.mermaid(text)
        raw = [line for line in text.splitlines() if not line.startswith("measured, not read from the cache: ")]
        if fmt == "text":
            raw = _unwrapped(raw)
        lines = [line for line in (self.line(line) for line in raw) if line is not None]
        if self.stdlib and fmt == "text":
            # graph's heading over modules that appeared by other means: on some Pythons only stdlib
            # modules do (typing.io before 3.13), whose rows are masked above, and then none.
            lines = [line for line in lines if line != "appeared by other means (not imported by name):"]
            while lines and not lines[-1].strip():
                lines.pop()
        if fmt == "markdown":
            lines = _heaviest_first_sorted(lines)
        return "\n".join(lines)

    def text(self, text: str) -> str:
        for old, new in self.replacements:
            text = text.replace(old, new)
        for pattern, new in self.shipped:
            text = pattern.sub(new, text)
        return text

    def line(self, line: str) -> str | None:
        """One line with paths and times masked; None when it is about a stdlib module."""
        line = self.mask(line)
        if not self.stdlib:
            return line
        if "(stdlib)" in line or any(_is_stdlib(name) for name in _MODULE_IN_PLACE.findall(line)):
            return None
        listed = _MODULE_LIST_LINE.match(line)
        if listed:
            items = [item for item in listed.group(2).split(", ") if not _is_stdlib(item.split(" ")[0])]
            line = listed.group(1) + ", ".join(items)
        line = _INTEGER.sub("#", line)  # counts, and what follows from them (line numbers, positions)
        # A branch is drawn └─ or ├─ (and its column │) by whether a sibling follows, maybe a stdlib one.
        line = line.replace("│", " ").replace("└─", "├─")
        return _INNER_SPACES.sub("  ", line)

    def mask(self, text: str) -> str:
        """Paths and times masked; under stdlib, also module counts and lists cut short."""
        text = _TIME.sub(_mask_time, self.text(text))
        if self.stdlib:
            text = _MODULE_COUNT.sub(r"#\1", text)
            text = _MODULE_LIST.sub(r"\1<modules>", text)
        return text

    def document(self, value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            if value.get("distribution") == "aoinspect":  # see self.shipped
                value = {**value, "distribution": None}
            if value.get("name") == "aoinspect" and value.get("kind") == "installed":
                value = {**value, "name": "(local)", "kind": "local", "version": None}
            # Why the cache missed depends on which case filled it first, not on the command.
            # A graph's baseline is what the interpreter loaded at start-up: it differs between environments.
            return {name: "<modules>" if name == "baseline" and value.get("command") == "graph"
                    else self.document(item, name) for name, item in value.items() if name != "cache_miss"}
        if isinstance(value, list):
            items = [item for item in value if not (self.stdlib and _about_stdlib(item))]
            return [self.document(item, key) for item in items]
        if isinstance(value, str):
            return self.mask(value)
        if isinstance(value, float) or (isinstance(value, int) and key.endswith("_ms")):
            return "<ms>" if not isinstance(value, bool) else value
        if self.stdlib and isinstance(value, int) and not isinstance(value, bool) and key not in _KEPT_INTEGERS:
            return "<int>"
        return value

    def html(self, text: str) -> str:
        for asset, tag in (("report.css", "style"), ("report.js", "script")):
            shipped = (RENDER_ASSETS / asset).read_text(encoding="utf-8")
            text = text.replace(f"<{tag}>{shipped}</{tag}>", f"<{tag}>/* aoinspect/render/{asset} */</{tag}>")
        match = re.search(r'<script type="application/json" id="aoinspect-data">(.*?)</script>', text, re.S)
        if match is None:
            return self.text(text)
        embedded = json.dumps(self.document(json.loads(match.group(1))), indent=1, ensure_ascii=False)
        return "\n".join([self.text(text[:match.start(1)]), embedded, self.text(text[match.end(1):])])

    def mermaid(self, text: str) -> str:
        """Node ids are numbered in name order, stdlib modules included: under stdlib, a node is
        named by its label."""
        if not self.stdlib:
            return text
        labels = dict(re.findall(r'^\s*(\w+)\[\(?"([^"]*)"', text, re.M))
        return re.sub(r"\b(r\d+_m\d+)\b", lambda m: f'"{labels.get(m.group(1), m.group(1))}"', text)


# Under stdlib, every other integer of a JSON document is masked: counts of modules, and indexes
# into lists that hold stdlib modules.
_KEPT_INTEGERS = {"schema", "exit_code", "depth", "line", "startLine", "ruleIndex", "repeats", "threads",
                  "python_threads", "native_threads", "aoinspect_baseline", "returncode"}


def _mask_time(match: re.Match[str]) -> str:
    spaces, number = match.group(1), match.group(0)[len(match.group(1)):]
    unit = re.sub(r"^[\d.]+", "", number)
    masked = "#" + unit
    if len(spaces) >= 2:  # a right-aligned column: keep its width
        return masked.rjust(len(match.group(0)))
    return spaces + masked


def _unwrapped(lines: list[str]) -> list[str]:
    joined: list[str] = []
    in_finding = False
    for line in lines:
        if in_finding and line.startswith(_CONTINUED) and not line.startswith(_CONTINUED + " "):
            joined[-1] += " " + line.strip()
            continue
        in_finding = bool(_FINDING.match(line))
        joined.append(line)
    return joined


def _heaviest_first_sorted(lines: list[str]) -> list[str]:
    """markdown lists modules heaviest first (``--sort`` does not apply): rows of a table with a
    ``cumulative ms`` column are sorted by their text."""
    result: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        result.append(line)
        index += 1
        if line.startswith("|") and "cumulative ms" in line and index < len(lines):
            result.append(lines[index])  # the | --- | row
            end = index + 1
            while end < len(lines) and lines[end].startswith("|"):
                end += 1
            result += sorted(lines[index + 1:end])
            index = end
    return result


def _about_stdlib(item: Any) -> bool:
    if isinstance(item, dict):
        return item.get("stdlib") is True or item.get("kind") == "stdlib"
    return isinstance(item, str) and bool(re.fullmatch(r"[\w.]+", item)) and _is_stdlib(item)
