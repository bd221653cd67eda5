"""One definition per document kind (aoinspect/documents.py), the format registry
(aoinspect/formats.py) and ``aoinspect render``: a saved report renders as the live command
printed it, in every format of its kind, failures included; the committed JSON Schemas are the
generated ones and real documents validate against them."""

from __future__ import annotations

import copy
import json
import math
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aoinspect import documents, formats
from aoinspect.cli import cli
from aoinspect.models.diff import Threshold, parse_fail_on
from aoinspect.render import RenderOptions, render
from tests import documents as made
from tests.helpers import FakePackages
from tests.packages import RULE_BREAKERS, lazy_package

jsonschema = pytest.importorskip("jsonschema")

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"


def validate(document: dict[str, Any], kind: str | None = None) -> None:
    kind = kind or documents.document_kind(document)
    assert kind is not None
    schema = json.loads((SCHEMAS / f"{kind}.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(document)


# --- the schemas ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(documents.SCHEMA_FILES))
def test_committed_schemas_are_the_generated_ones(kind: str) -> None:
    """Regenerate with ``python -m aoinspect.documents --write-schemas``."""
    committed = (SCHEMAS / f"{kind}.schema.json").read_text(encoding="utf-8")
    assert committed == documents.schema_text(kind)
    jsonschema.Draft202012Validator.check_schema(json.loads(committed))


def test_the_generator_writes_every_schema(tmp_path: Path) -> None:
    completed = subprocess.run([sys.executable, "-m", "aoinspect.documents", "--write-schemas", str(tmp_path)],
                               capture_output=True, text=True, check=True, timeout=60)
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        f"{kind}.schema.json" for kind in documents.SCHEMA_FILES)
    assert completed.stdout.count("\n") == len(documents.SCHEMA_FILES)


def test_a_baseline_file_validates(tmp_path: Path) -> None:
    from aoinspect.baseline import read_baseline, write_baseline
    from aoinspect.models import Snapshot

    snapshot = Snapshot("pkg", ("pkg",), (("alpha", ("json", "pkg.alpha")),))
    write_baseline(str(tmp_path / "b.json"), snapshot)
    validate(json.loads((tmp_path / "b.json").read_text()), "baseline")
    assert read_baseline(str(tmp_path / "b.json")) == snapshot


# --- the registry --------------------------------------------------------------------------------


def test_every_format_renders_what_it_declares() -> None:
    import importlib

    assert tuple(formats.FORMATS) == formats.ALL
    for fmt in formats.FORMATS.values():
        for kind in [*fmt.kinds, *(["failure"] if fmt.failures else [])]:
            module, _, function = fmt.renderer(kind).partition(":")
            assert callable(getattr(importlib.import_module(module), function)), (fmt.name, kind)
        assert set(fmt.failures) <= set(fmt.kinds)
    for kind in formats.KINDS:
        assert formats.names_for(kind) == tuple(name for name in formats.ALL if kind in formats.FORMATS[name].kinds)
    assert formats.names_for("list") == ("text", "json", "markdown")
    assert [fmt for fmt in formats.ALL if formats.renders_failures(fmt)] == [
        "json", "markdown", "junit", "html", "github", "sarif"]


@pytest.mark.parametrize(("path", "fmt"), [
    ("report.json", "json"), ("out/REPORT.HTML", "html"), ("x.sarif", "sarif"), ("x.sarif.json", "sarif"),
    ("results.junit.xml", "junit"), ("summary.md", "markdown"), ("tree.svg", "svg"), ("graph.gv", "dot"),
    ("notes.txt", "text"), ("flow.mmd", "mermaid"), ("report", None), ("archive.tar.gz", None),
])
def test_guess_format(path: str, fmt: str | None) -> None:
    assert formats.guess_format(path) == fmt


def test_the_registry_imports_no_model_and_no_renderer() -> None:
    code = ("import sys, aoinspect.formats; "
            "print(sorted(m for m in sys.modules if m.startswith('aoinspect')))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert json.loads(loaded.stdout.replace("'", '"')) == ["aoinspect", "aoinspect.formats"]


def test_format_choices_come_from_the_registry() -> None:
    runner = CliRunner()
    for command, kind in (("diff", "diff"), ("trace", "trace"), ("render", None)):
        shown = runner.invoke(cli, [command, "--help"]).stdout
        for fmt in formats.names_for(kind) if kind else formats.ALL:
            assert fmt in shown
    refused = runner.invoke(cli, ["list", "--format", "svg"])
    assert refused.exit_code == 2 and "list prints text, json, markdown, not svg" in refused.stderr


# --- the codec -----------------------------------------------------------------------------------


def test_a_report_survives_its_document() -> None:
    text = render(made.REPORT, "json")
    again = documents.decode(json.loads(text))
    assert documents.dumps(again) == text
    for fmt in formats.names_for("resolve"):
        assert render(again, fmt) == render(made.REPORT, fmt), fmt


def test_names_that_share_their_loads_are_written_as_names_with_loads_of_their_own() -> None:
    # Predicted names share one tuple of loads (engine._SharedLoads): the document is the same as
    # for tuples of their own, each result's loads a list of its own.
    from aoinspect.models import CheckReport, Resolution, Step

    shared = made.LOADS
    results = tuple(Resolution(name, True, None, (Step(name, "module-getattr", loads, (), 0.0),), predicted=True)
                    for name, loads in (("alpha", shared), ("beta", shared)))
    apart = tuple(replace(result, steps=(replace(result.steps[0], materialized=tuple(list(shared))),))
                  for result in results)
    report = CheckReport("ao", made.IMPORTED, (), results, (), False, None, ())
    written = documents.encode(report)
    assert written == documents.encode(replace(report, resolutions=apart))
    assert documents.dumps(report) == documents.dumps(replace(report, resolutions=apart))
    alpha, beta = written["results"]
    assert alpha["materialized"] == beta["steps"][0]["materialized"] == [
        documents.MODULE_LOAD.encode(load) for load in shared]


def test_older_documents_are_read_with_defaults() -> None:
    """Schema 1 lacked mechanisms, observed loads and check's file; what is absent gets its default."""
    report = documents.decode(made.check_document())
    assert report.file is None and report.rules == () and report.names[0].mechanism == "none"
    assert [load.module for load in report.resolutions[0].materialized] == [
        item["module"] for item in made.ALPHA_LOADS]


def _bad(document: dict[str, Any], where: list[Any], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    target: Any = changed
    for key in where[:-1]:
        target = target[key]
    if value is KeyError:
        del target[where[-1]]
    else:
        target[where[-1]] = value
    return changed


BAD_DOCUMENTS = {
    "results[0].materialized[0].module is not a string": (["results", 0, "materialized", 0, "module"], 3),
    "results is not a list": (["results"], {}),
    "import.elapsed_ms is not a number": (["import", "elapsed_ms"], "fast"),
    "results[1].ok is not true or false": (["results", 1, "ok"], 1),
    "package is missing": (["package"], KeyError),
    "schema is not a schema version": (["schema"], 99),
}


@pytest.mark.parametrize("message", sorted(BAD_DOCUMENTS))
def test_a_bad_document_is_named_not_a_traceback(tmp_path: Path, message: str) -> None:
    where, value = BAD_DOCUMENTS[message]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(_bad(made.resolve_document(), where, value)), encoding="utf-8")
    result = CliRunner().invoke(cli, ["render", str(path)])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith(f"aoinspect: {path}") and result.stderr.count("\n") == 1
    assert message.split(" is ")[0] in result.stderr or "schema 1, 2 or 3" in result.stderr


@pytest.mark.parametrize("contents", ["{", "[]", '{"schema": 3, "command": "frobnicate", "package": "p"}'])
def test_unreadable_reports_are_usage_errors(tmp_path: Path, contents: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(contents, encoding="utf-8")
    result = CliRunner().invoke(cli, ["render", str(path)])
    assert result.exit_code == 2 and result.stderr.startswith("aoinspect: ") and result.stderr.count("\n") == 1
    assert CliRunner().invoke(cli, ["render", str(tmp_path / "absent.json")]).exit_code == 2


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                                  max_size=3), max_leaves=6)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_change_to_a_document_is_read_or_refused(data: st.DataObject) -> None:
    document = data.draw(st.sampled_from([made.resolve_document, made.check_document, made.list_document,
                                          made.snapshot_document]))()
    target: Any = document
    while isinstance(target, (dict, list)) and target and data.draw(st.booleans()):
        key = data.draw(st.sampled_from(sorted(target) if isinstance(target, dict) else range(len(target))))
        if not isinstance(target[key], (dict, list)) or not target[key]:
            target[key] = data.draw(JSON)
            break
        target = target[key]
    try:
        report = documents.decode(document)
    except documents.DocumentError:
        return
    documents.dumps(report)


# --- what a document may hold: finite, bounded numbers, an integer schema, each name once ------

MARK = "__raw_token__"
# The documented bounds (docs/reference/json.md): counts and milliseconds.
MAX_COUNT = MAX_MS = 10**9


def with_token(document: dict[str, Any], where: list[Any], token: str) -> str:
    """The document as JSON text with the value at ``where`` replaced by ``token`` as written
    (``NaN``, ``1e999``: what Python's json module reads and no JSON writer may write)."""
    return json.dumps(_bad(document, where, MARK)).replace(json.dumps(MARK), token)


HUGE = "9" * 4000  # below Python's 4,300-digit limit: it converts, then overflows a float
HOSTILE_TOKENS = ["NaN", "Infinity", "-Infinity", "1e999", "-1e999", HUGE, "-" + HUGE, "9" * 5000,
                  "1" + "0" * 400 + ".5"]
NUMBER_PLACES = {
    "a module's time": ["results", 0, "materialized", 0, "cumulative_ms"],
    "the import's total": ["import", "total_ms"],
    "a count": ["results", 0, "repeats"],
    "a depth": ["import", "materialized", 1, "depth"],
}


@pytest.mark.parametrize("token", HOSTILE_TOKENS, ids=lambda token: token[:12])
@pytest.mark.parametrize("place", sorted(NUMBER_PLACES))
def test_a_number_json_cannot_hold_is_refused_when_read(tmp_path: Path, place: str, token: str) -> None:
    """``NaN`` and ``Infinity`` are not JSON, ``1e999`` reads as ``inf`` and a 4,000-digit integer
    overflows the first float it meets: each is a DocumentError naming the file, before decoding."""
    path = tmp_path / "report.json"
    path.write_text(with_token(made.resolve_document(), NUMBER_PLACES[place], token), encoding="utf-8")
    with pytest.raises(documents.DocumentError) as refused:
        documents.load(str(path))
    message = refused.value.message
    assert message.startswith(f"{path} is not a document aoinspect reads: ") and len(message) < 200


# Values a decoder is handed (a Python object, not text): each is refused, naming where it is.
OUT_OF_BOUNDS = {
    "NaN time": (["import", "total_ms"], math.nan, "import.total_ms is not a finite number"),
    "infinite time": (["results", 0, "materialized", 0, "self_ms"], math.inf,
                      "results[0].materialized[0].self_ms is not a finite number"),
    "negative time": (["results", 0, "elapsed_ms"], -0.5, "results[0].elapsed_ms is not between 0 and"),
    "time beyond the bound": (["import", "elapsed_ms"], MAX_MS * 2,
                              f"import.elapsed_ms is not between 0 and {MAX_MS}"),
    "huge integer time": (["import", "elapsed_ms"], 10**4000, "import.elapsed_ms is not between 0 and"),
    "huge count": (["results", 1, "repeats"], 10**4000, f"results[1].repeats is not between 0 and "
                                                        f"{MAX_COUNT}"),
    "negative count": (["import", "materialized", 0, "depth"], -1, "import.materialized[0].depth is not between"),
    "count as a boolean": (["import", "repeats"], True, "import.repeats is not an integer"),
    "count as a float": (["import", "repeats"], 2.0, "import.repeats is not an integer"),
    "exit code beyond 2**53": (["exit_code"], 2**60, "exit_code is not between"),
    "schema true": (["schema"], True, "(its schema is True)"),
    "schema 2.0": (["schema"], 2.0, "(its schema is 2.0)"),
    "schema 1.0": (["schema"], 1.0, "(its schema is 1.0)"),
    "schema as a string": (["schema"], "3", "(its schema is '3')"),
}


@pytest.mark.parametrize("case", sorted(OUT_OF_BOUNDS))
def test_numbers_are_finite_and_bounded_and_schema_an_integer(case: str) -> None:
    where, value, expected = OUT_OF_BOUNDS[case]
    with pytest.raises(documents.DocumentError) as refused:
        documents.decode(_bad(made.resolve_document(), where, value), "report.json")
    assert refused.value.message.startswith("report.json") and expected in refused.value.message


def test_the_bounds_themselves_are_read() -> None:
    document = made.resolve_document()
    document["import"]["elapsed_ms"] = MAX_MS
    document["results"][0]["repeats"] = MAX_COUNT
    document["results"][0]["elapsed_ms"] = 0
    report = documents.decode(document)
    assert (documents.MAX_MS, documents.MAX_COUNT) == (MAX_MS, MAX_COUNT)
    assert report.imported.elapsed_ms == MAX_MS and report.results[0].repeats == MAX_COUNT
    for kind in ("resolve", "check", "trace"):  # the schemas say so too
        text = (SCHEMAS / f"{kind}.schema.json").read_text(encoding="utf-8")
        assert f'"maximum": {MAX_MS}' in text


def _twice(kind: str) -> tuple[dict[str, Any], str]:
    """A document of ``kind`` that lists one name twice, and where the second one is."""
    if kind == "resolve":
        document = made.resolve_document()
        document["results"].append(made.resolution("alpha", []))
        return document, 'results[2].name repeats "alpha", already at results[0]'
    if kind == "list --resolve":
        document = made.list_document()
        document["results"] = [made.resolution("alpha", []), made.resolution("alpha", [])]
        return document, 'results[1].name repeats "alpha"'
    if kind == "check names":
        document = made.check_document()
        document["names"].append(copy.deepcopy(document["names"][1]))
        return document, 'names[2].name repeats "beta", already at names[1]'
    if kind == "check results":
        document = made.check_document()
        document["results"].insert(0, made.resolution("beta", []))
        return document, 'results[2].name repeats "beta", already at results[0]'
    raise ValueError(kind)


@pytest.mark.parametrize("kind", ["resolve", "list --resolve", "check names", "check results"])
def test_a_name_listed_twice_is_refused(kind: str) -> None:
    """Readers key results by name: a second entry would silently replace the first."""
    document, expected = _twice(kind)
    with pytest.raises(documents.DocumentError) as refused:
        documents.decode(document, "twice.json")
    assert refused.value.message.startswith("twice.json: ") and expected in refused.value.message


def test_a_diff_document_lists_each_subject_once() -> None:
    from aoinspect.diff import compare, report_from_document

    diff = compare(report_from_document("o.json", made.resolve_document()),
                   report_from_document("n.json", made.resolve_document()), Threshold())
    document = json.loads(documents.dumps(diff))
    assert [change.name for change in documents.decode(document).subjects] == [None, "alpha", "beta"]
    document["subjects"].append(document["subjects"][1])
    with pytest.raises(documents.DocumentError, match=r'subjects\[3\]\.name repeats "alpha", already at subjects\[1\]'):
        documents.decode(document)


@pytest.mark.parametrize(("text", "key"), [
    ('{"schema": 1, "schema": 3}', "schema"),
    ('{"a": {"names": {"alpha": [], "beta": [], "alpha": ["json"]}}}', "alpha"),
])
def test_a_key_given_twice_is_refused(text: str, key: str) -> None:
    """Python keeps the last of two equal keys; a snapshot naming one name twice would lose one."""
    with pytest.raises(documents.NotJSON, match=f'the key "{key}" appears twice'):
        documents.loads(text)


def test_a_snapshot_naming_a_name_twice_is_refused(tmp_path: Path) -> None:
    text = json.dumps(made.snapshot_document()).replace('"beta": ["pkg.beta"]', '"alpha": ["pkg.beta"]')
    path = tmp_path / "snapshot.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(documents.DocumentError, match='the key "alpha" appears twice'):
        documents.load(str(path))


def test_a_document_is_never_written_with_nan() -> None:
    """``--format json`` prints JSON or nothing: ``NaN`` would pass Python's reader and fail jq's."""
    report = made.REPORT
    spoiled = replace(report, imported=replace(report.imported, elapsed_ms=math.nan))
    with pytest.raises(ValueError, match="not JSON compliant"):
        documents.dumps(spoiled)


@pytest.mark.parametrize("case", ["NaN time", "4,000 digits", "schema true", "a name twice"])
def test_render_refuses_what_diff_refuses(tmp_path: Path, case: str) -> None:
    """``aoinspect render`` reads through the same decoder: a usage error (2), one line, no traceback."""
    if case == "a name twice":
        text = json.dumps(_twice("resolve")[0])
    else:
        where, token = {"NaN time": (["import", "total_ms"], "NaN"), "4,000 digits": (["repeats"], HUGE),
                        "schema true": (["schema"], "true")}[case]
        text = with_token(made.resolve_document(), where, token)
    path = tmp_path / "report.json"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(cli, ["render", str(path), "--format", "json"], catch_exceptions=False)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith(f"aoinspect: {path}") and result.stderr.count("\n") == 1


NUMBER_TOKEN = re.compile(r"(?<![\w\"])-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w\"])")
HOSTILE_NUMBERS = (st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999", "-1e999", "1e-400", "-0", "-0.0",
                                    "true", "2.0", "1.0", "null", HUGE, "9" * 5000, str(2**53), str(2**64)])
                   | st.integers().map(str) | st.integers(min_value=10**9, max_value=10**40).map(str)
                   | st.floats(allow_nan=False, allow_infinity=False).map(repr)
                   | st.floats(min_value=-1e12, max_value=1e12).map(repr))


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_hostile_numbers_are_read_or_refused(tmp_path_factory: pytest.TempPathFactory, data: st.DataObject) -> None:
    """Any number of a valid document replaced by a hostile one (NaN, infinities, huge or tiny,
    booleans, floats for integers): reading it is a DocumentError or a report, and a report read
    is written back, rendered and compared into strict JSON; never another exception."""
    from aoinspect.diff import compare, report_from_document

    make = data.draw(st.sampled_from([made.resolve_document, made.check_document, made.list_document,
                                      made.snapshot_document]))
    original = make()
    text = json.dumps(original)
    numbers = list(NUMBER_TOKEN.finditer(text))
    for _ in range(data.draw(st.integers(min_value=1, max_value=3))):
        spot = data.draw(st.sampled_from(numbers))
        text = text[:spot.start()] + data.draw(HOSTILE_NUMBERS) + text[spot.end():]
        numbers = list(NUMBER_TOKEN.finditer(text))
    path = tmp_path_factory.getbasetemp() / "hostile.json"
    path.write_text(text, encoding="utf-8")
    try:
        report = documents.load(str(path))
    except documents.DocumentError:
        return
    documents.loads(documents.dumps(report))
    for fmt in formats.names_for(formats.kind_of(report)):
        render(report, fmt)
    diff = compare(report_from_document("old.json", original), report_from_document(str(path), documents.loads(text)),
                   Threshold(0.0, 0.0), [parse_fail_on("time-ratio:1.5"), parse_fail_on("more-modules:1")])
    documents.decode(documents.loads(documents.dumps(diff)))
    render(diff, "text")
    render(diff, "markdown")


def test_resolve_lists_a_name_given_twice_once(invoke: Callable[..., Result]) -> None:
    """``resolve ns ns`` measured and listed ns twice: a report its own readers now refuse."""
    result = invoke("resolve", "ns", "ns", "--format", "json")
    assert result.exit_code == 0, result.output
    assert [item.name for item in documents.decode(json.loads(result.stdout)).results] == ["ns"]


# --- aoinspect render equals the live command ----------------------------------------------------

# (kind, view options) pairs rendered beyond the defaults.
VIEWS: dict[tuple[str, str], list[tuple[str, ...]]] = {
    ("resolve", "text"): [("--top", "2", "--sort", "name"), ("--top", "0", "--sort", "order")],
    ("resolve", "tree"): [("--depth", "1")],
    ("trace", "text"): [("--focus", "ao"), ("--why", "ao.ns"), ("--top", "1")],
    ("trace", "tree"): [("--depth", "1")],
    ("advise", "patch"): [("--lazy-keyword",)],
}
# Where the live command gets its report: the engine (or tracer) function the CLI calls.
ENGINE = {"list": "aoinspect.engine.list_names", "resolve": "aoinspect.engine.resolve_names",
          "check": "aoinspect.engine.check_package", "snapshot": "aoinspect.engine.snapshot",
          "trace": "aoinspect.commands.trace.run_trace", "graph": "aoinspect.graphing.record_graph",
          "advise": "aoinspect.advising.advise"}


class FinishedTrace:
    """Stands for a ``TraceRun`` whose program has ended: its report is the one given."""

    def __init__(self, report: Any) -> None:
        self.finished = report

    def __enter__(self) -> FinishedTrace:
        return self

    def __exit__(self, *exc_info: object) -> None:
        pass

    def report(self, *args: Any, **kwargs: Any) -> Any:
        return self.finished


# Each case of each kind: the command line that makes it.
CASES = {"list": "list", "list --resolve": "list", "resolve": "resolve", "check": "check", "snapshot": "snapshot",
         "trace": "trace", "diff": "diff", "graph": "graph", "advise": "advise"}


def _cases() -> list[tuple[str, str, tuple[str, ...]]]:
    cases = []
    for case, kind in CASES.items():
        for fmt in formats.names_for(kind):
            cases += [(case, fmt, view) for view in [(), *VIEWS.get((kind, fmt), [])]]
    assert set(CASES.values()) == set(formats.KINDS)
    return cases


class Live:
    """Each command measured once (its report kept); each format is then the live CLI printing
    that same report, with the engine handing it over instead of measuring again."""

    def __init__(self, root: Path) -> None:
        self.root = root
        fake = FakePackages(root / "site")
        fake.root.mkdir(parents=True)
        fake.write(RULE_BREAKERS["resolve-failed"])
        fake.write(lazy_package("snap"))
        self.env = fake.env
        old, new = made.resolve_document(), made.resolve_document()
        new["results"][1] = {**new["results"][1], "ok": False, "error": {"type": "ImportError", "message": "gone"}}
        new["results"][0]["materialized"].append(made.load("csv", "pkg.alpha", 1, 0.5, 0.5, stdlib=True))
        (root / "old.json").write_text(json.dumps(old))
        (root / "new.json").write_text(json.dumps(new))
        self.reports: dict[str, Any] = {}

    def arguments(self, case: str) -> list[str]:
        return {
            "list": ["list"],
            "list --resolve": ["-p", "snap", "list", "--resolve"],
            "resolve": ["resolve", "quantization", "ns"],
            "check": ["-p", "pkg", "check"],
            "snapshot": ["-p", "snap", "snapshot"],
            "trace": ["trace", "-o", str(self.root / "trace.out"), "--", "-c", "import ao; ao.ns"],
            "diff": ["diff", str(self.root / "old.json"), str(self.root / "new.json"), "--fail-on", "any"],
            "graph": ["graph", "--entry", "import ao; ao.ns"],
            "advise": ["advise", "snap", "--budget", "0", "--fail-on", "saving>0"],
        }[case]

    def run(self, monkeypatch: pytest.MonkeyPatch, case: str, fmt: str, view: tuple[str, ...]) -> tuple[Result, str]:
        """The live command in ``fmt``: its result, and what it printed (a trace: into -o FILE)."""
        import aoinspect.render

        kind = CASES[case]
        words = self.arguments(case)
        at = words.index("--") if "--" in words else len(words)
        words = [*words[:at], "--format", fmt, *view, *words[at:]]
        with monkeypatch.context() as patch:
            if case in self.reports and kind in ENGINE:
                saved = self.reports[case] if kind != "trace" else FinishedTrace(self.reports[case])
                patch.setattr(ENGINE[kind], lambda *args, **kwargs: saved)
            seen: list[Any] = []
            real = aoinspect.render.render

            def spy(report: Any, *args: Any, **kwargs: Any) -> str:
                seen.append(report)
                return real(report, *args, **kwargs)

            patch.setattr(aoinspect.render, "render", spy)
            result = CliRunner().invoke(cli, words, env=self.env, catch_exceptions=False)
        if seen:
            self.reports.setdefault(case, seen[-1])
        printed = (self.root / "trace.out").read_text(encoding="utf-8") if kind == "trace" else result.stdout
        return result, printed


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Live:
    return Live(tmp_path_factory.mktemp("live"))


def render_saved(path: Path, fmt: str, view: tuple[str, ...], env: dict[str, str]) -> Result:
    return CliRunner().invoke(cli, ["render", str(path), "--format", fmt, *view], env=env, catch_exceptions=False)


@pytest.mark.parametrize(("case", "fmt", "view"), _cases())
def test_render_equals_the_live_output(live: Live, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, case: str,
                                       fmt: str, view: tuple[str, ...]) -> None:
    result, printed = live.run(monkeypatch, case, fmt, view)
    assert case in live.reports
    saved = tmp_path / "report.json"
    saved.write_text(documents.dumps(live.reports[case]), encoding="utf-8")
    validate(json.loads(saved.read_text()), CASES[case])
    again = render_saved(saved, fmt, view, live.env)
    assert again.stdout == printed
    assert again.exit_code == result.exit_code


# Runs that produce no report: the failure document, and what each format shows of it.
FAILURES: dict[str, Callable[[Path], list[str]]] = {
    "list": lambda root: ["-p", "no_such_package_here", "list"],
    "resolve": lambda root: ["-p", "no_such_package_here", "resolve", "x", "y"],
    "check": lambda root: ["check", "--names", "no-name-matches-this*"],
    "snapshot": lambda root: ["-p", "no_such_package_here", "snapshot"],
    "diff": lambda root: ["diff", str(root / "absent.json"), str(root / "absent.json")],
    "advise": lambda root: ["-p", "no_such_package_here", "advise", "--budget", "0"],
}


class FailureRuns:
    """Each failing command's ``--format json`` run, once per module: it is the same run whatever
    format a case then compares, so every format's case of a command renders the one document. The
    commands' paths (diff's absent reports) are under one directory for the module."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.documents: dict[str, Result] = {}

    def document(self, invoke: Callable[..., Result], command: str) -> Result:
        if command not in self.documents:
            self.documents[command] = invoke(*FAILURES[command](self.root), "--format", "json")
        return self.documents[command]


@pytest.fixture(scope="module")
def failure_runs(tmp_path_factory: pytest.TempPathFactory) -> FailureRuns:
    return FailureRuns(tmp_path_factory.mktemp("failures"))


@pytest.mark.parametrize(("command", "fmt"), [(command, fmt) for command in FAILURES
                                              for fmt in formats.names_for(command)])
def test_a_failure_renders_as_the_live_command_showed_it(invoke: Callable[..., Result], failure_runs: FailureRuns,
                                                         tmp_path: Path, command: str, fmt: str) -> None:
    words = FAILURES[command](failure_runs.root)
    document = failure_runs.document(invoke, command)
    assert document.exit_code != 0
    validate(json.loads(document.stdout), "failure")
    saved = tmp_path / "failure.json"
    saved.write_text(document.stdout, encoding="utf-8")
    live = invoke(*words, "--format", fmt)
    again = invoke("render", str(saved), "--format", fmt)
    assert (again.stdout, again.stderr, again.exit_code) == (live.stdout, live.stderr, live.exit_code)
    assert bool(live.stdout) == formats.renders_failure_of(fmt, command)


def test_render_writes_to_a_file_in_the_format_its_extension_names(invoke: Callable[..., Result],
                                                                  tmp_path: Path) -> None:
    saved = tmp_path / "report.json"
    saved.write_text(render(made.REPORT, "json"), encoding="utf-8")
    result = invoke("render", str(saved), "-o", str(tmp_path / "report.svg"))
    assert result.exit_code == 0 and result.stdout == ""
    assert (tmp_path / "report.svg").read_text(encoding="utf-8") == render(made.REPORT, "svg", RenderOptions()) + "\n"
    refused = invoke("render", str(saved), "--format", "junit")
    assert refused.exit_code == 2 and "resolve prints text, json, markdown, html, tree, dot, mermaid, svg" in (
        refused.stderr)
