"""``aoinspect advise``: the report and its formats (text, json, markdown, github, sarif, patch), the
timing harness, ``--fail-on``, and the engine on fake packages (each case of issue 23), its saved
sets held equal to the line-deletion oracle (``tests/helpers.py``)."""

from __future__ import annotations

import json
import os
import textwrap
from typing import TYPE_CHECKING

import pytest

from aoinspect import documents
from aoinspect.advising import failed_conditions
from aoinspect.models.advise import (
    KEEP,
    LAZY,
    NOT_ALLOWED,
    Advice,
    AdviseReport,
    Effect,
    EntryAdvice,
    Place,
    StaleEntry,
    Timing,
    parse_fail_on,
)
from aoinspect.render import RenderOptions, render
from aoinspect.timing import Harness, timing

if TYPE_CHECKING:
    from pathlib import Path

    from tests.helpers import FakePackages


# --- --fail-on ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "kind", "limit"), [
    ("saving>5ms", "saving-ms", 5.0), ("saving > 2.5 ms", "saving-ms", 2.5), ("saving>10", "saving-modules", 10.0),
    ("saving>3modules", "saving-modules", 3.0), ("stale-entry", "stale-entry", 0.0),
    ("reified-entry", "reified-entry", 0.0),
])
def test_fail_on_conditions_parse(text: str, kind: str, limit: float) -> None:
    condition = parse_fail_on(text)
    assert (condition.kind, condition.limit, condition.text) == (kind, limit, text)


@pytest.mark.parametrize("text", ["saving", "saving>ms", "saving<5ms", "stale", "any", "saving>-1"])
def test_a_condition_that_is_none_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is not saving>MSms"):
        parse_fail_on(text)


# --- the timing harness ---------------------------------------------------------------------------


class FakeChildren:
    """Children whose import takes a known time: 20 ms undeferred, less by what each candidate saves,
    plus a noise pattern; each child advances the clock by 0.1 s."""

    def __init__(self, savings: dict[str, float], noise: tuple[float, ...] = (0.0,)) -> None:
        self.savings = savings
        self.noise = noise
        self.now = 0.0
        self.order: list[str | None] = []

    def clock(self) -> float:
        return self.now

    def run(self, statements: object) -> float:
        self.now += 0.1
        key = None if statements is None else str(statements)
        self.order.append(key)
        jitter = self.noise[len(self.order) % len(self.noise)]
        return 20.0 + jitter - (0.0 if key is None else self.savings[key])


def test_the_harness_interleaves_and_takes_medians_of_paired_differences() -> None:
    children = FakeChildren({"a": 5.0, "b": 0.0})
    timings = Harness(children.run, children.clock).measure([("a", "a"), ("b", "b")], budget_s=10.0)
    assert timings["a"] == Timing(5.0, 0.0, 20.0, 15.0, 5)
    assert timings["b"].saved_ms == 0.0 and timings["b"].within_noise
    # Each round: the undeferred child, then the candidates, their order turned round by round.
    assert children.order[:6] == [None, "a", "b", None, "b", "a"]


def test_a_saving_smaller_than_the_noise_is_within_noise() -> None:
    children = FakeChildren({"a": 0.2}, noise=(0.0, 3.0, -2.0, 1.0, -3.0, 2.0, 0.5))
    measured = Harness(children.run, children.clock).measure([("a", "a")], budget_s=10.0)["a"]
    assert measured.within_noise and str(measured) == "within noise"
    assert not Timing(5.0, 0.5, 20.0, 15.0, 5).within_noise
    assert str(Timing(5.0, 0.5, 20.0, 15.0, 5)) == "5.0 ms ± 0.5"


def test_the_budget_decides_how_many_candidates_are_timed_first_ones_first() -> None:
    children = FakeChildren({"a": 5.0, "b": 4.0, "c": 3.0})
    # 0.1 s a child, 5 rounds: the undeferred child and two candidates fit in 1.6 s.
    timings = Harness(children.run, children.clock).measure([("a", "a"), ("b", "b"), ("c", "c")], budget_s=1.6)
    assert sorted(timings) == ["a", "b"]
    assert Harness(children.run, children.clock).measure([("a", "a")], budget_s=0) == {}


def test_timing_of_rounds() -> None:
    measured = timing([20.0, 21.0, 19.0, 20.0], [15.0, 15.5, 14.0, 16.0])
    assert measured.runs == 4 and measured.saved_ms == 5.0 and measured.spread_ms >= 0


# --- the report, its document and its formats -----------------------------------------------------

PACKAGE = {
    "pkg/__init__.py": '''\
        """A package."""
        import json
        from pkg import helpers
        import pkg.heavy

        try:
            import csv
        except ImportError:
            csv = None

        RESULT = helpers.twice(2)
    ''',
    "pkg/helpers.py": '''\
        __lazy_modules__ = ["pkg.heav"]

        import pkg.heavy


        def twice(value):
            return value * 2
    ''',
    "pkg/heavy.py": "import decimal\n",
}


def write(root: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")


def made_report(root: Path, **changes: object) -> AdviseReport:
    """A hand-made report about ``PACKAGE`` written under ``root``."""
    init, helpers = str(root / "pkg" / "__init__.py"), str(root / "pkg" / "helpers.py")
    advice = (
        Advice("pkg", init, 2, "import json", LAZY, "saves 3 modules", "json", ("json",),
               ("json", "json.decoder", "json.scanner"), Timing(1.5, 0.2, 10.0, 8.5, 5)),
        Advice("pkg", init, 3, "from pkg import helpers", KEEP, "used during the import at pkg/__init__.py:11",
               "pkg", ("pkg.helpers",), (), None, Place(init, 11)),
        Advice("pkg", init, 4, "import pkg.heavy", KEEP, "saves nothing: the target stays loaded", "pkg.heavy",
               ("pkg.heavy",), (), None, None, (Place(helpers, 3, "pkg.helpers", "import pkg.heavy"),)),
        Advice("pkg", init, 7, "import csv", NOT_ALLOWED, "inside try/except", None, ("csv",),
               effects=(Effect("atexit", "csv.<lambda>"),)),
    )
    entries = (EntryAdvice("pkg", init, "json", (2,), LAZY, ("json", "json.decoder", "json.scanner"),
                           Timing(1.5, 0.2, 10.0, 8.5, 5)),
               EntryAdvice("pkg", init, "pkg", (3,), KEEP), EntryAdvice("pkg", init, "pkg.heavy", (4,), KEEP))
    stale = (StaleEntry("pkg.helpers", helpers, 1, "pkg.heav", "selects no import statement of the file",
                        "pkg.heavy"),)
    report = AdviseReport(
        "pkg", "3.12.3", False, advice, entries, stale, (("pkg", "json"),), ("json", "json.decoder", "json.scanner"),
        Timing(1.5, 0.2, 10.0, 8.5, 5), 12, budget_s=30.0)
    fields = {**{"fail_on": ()}, **changes}
    report = AdviseReport(**{**report.__dict__, **fields})  # type: ignore[arg-type]
    from dataclasses import replace

    return replace(report, findings=tuple(failed_conditions(report)))


def test_the_report_survives_its_document(tmp_path: Path) -> None:
    write(tmp_path, PACKAGE)
    report = made_report(tmp_path, fail_on=(parse_fail_on("stale-entry"), parse_fail_on("saving>2")))
    text = documents.dumps(report)
    again = documents.decode(json.loads(text))
    assert again == report
    document = json.loads(text)
    assert document["command"] == "advise" and document["exit_code"] == 1 and document["ok"] is False
    assert document["advice"][0]["timing"]["within_noise"] is False
    for fmt in ("text", "json", "markdown", "github", "sarif"):
        assert render(again, fmt) == render(report, fmt), fmt


def test_fail_on_holds_on_a_saving_and_a_stale_entry(tmp_path: Path) -> None:
    report = made_report(tmp_path, fail_on=(parse_fail_on("saving>2"), parse_fail_on("saving>1ms"),
                                            parse_fail_on("stale-entry")))
    messages = [finding.message for finding in report.findings]
    assert len(messages) == 3 and report.exit_code == 1
    assert "deferring import json would save 3 modules" in messages[0]
    assert "deferring import json would save 1.5 ms ± 0.2" in messages[1]
    assert "'pkg.heav' in __lazy_modules__ of pkg.helpers selects no import statement" in messages[2]
    quiet = made_report(tmp_path, fail_on=(parse_fail_on("saving>3"), parse_fail_on("saving>2ms"),
                                           parse_fail_on("reified-entry")))
    assert quiet.findings == () and quiet.exit_code == 0


def test_text_has_one_row_per_import_and_the_recommended_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    text = render(made_report(tmp_path), "text")
    assert "Python 3.12.3: results hold for it; annotations are evaluated at import there." in text
    rows = [line.split() for line in text.splitlines() if line.startswith("  ") and line.strip()[0].isdigit()]
    assert [row[0] for row in rows] == ["2", "3", "4", "7"]
    assert "1.5 ms ± 0.2" in text
    assert "used at import: pkg/__init__.py:11" in text
    assert "still loaded via pkg/helpers.py:3" in text
    assert "inside try/except" in text and "atexit: csv.<lambda>" in text
    assert "  pkg: ['json']" in text
    assert "Together: 3 modules fewer, 1.5 ms ± 0.2 (measured as a set)." in text
    assert ("Stale entry: pkg/helpers.py:1: 'pkg.heav' selects no import statement of the file (did you mean "
            "'pkg.heavy'?)") in text


def test_markdown_is_a_table_of_the_imports(tmp_path: Path) -> None:
    markdown = render(made_report(tmp_path), "markdown")
    assert markdown.startswith("### aoinspect advise `import pkg`")
    assert markdown.count("\n| `") == 4
    assert "**Recommended `__lazy_modules__`**" in markdown


def test_github_and_sarif_annotate_the_import_lines_relative_to_the_workspace(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_WORKSPACE", str(tmp_path))
    report = made_report(tmp_path, fail_on=(parse_fail_on("stale-entry"),))
    github = render(report, "github").splitlines()
    assert github[0].startswith("::notice file=pkg/__init__.py,line=2,title=aoinspect lazy-candidate::import json "
                                "can be lazy: deferring it saves 3 modules (1.5 ms ± 0.2)")
    assert github[1].startswith("::error file=pkg/helpers.py,line=1,title=aoinspect stale-lazy-entry::")
    assert len(github) == 2
    sarif = json.loads(render(report, "sarif"))
    results = sarif["runs"][0]["results"]
    assert [(result["ruleId"], result["level"], result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
             result["locations"][0]["physicalLocation"]["region"]["startLine"]) for result in results] == [
        ("lazy-candidate", "note", "pkg/__init__.py", 2), ("stale-lazy-entry", "error", "pkg/helpers.py", 1)]
    rules = sarif["runs"][0]["tool"]["driver"]["rules"]
    assert rules[0]["id"] == "lazy-candidate" and rules[0]["fullDescription"]["text"]


def test_the_patch_adds_the_recommended_entries_and_drops_stale_ones(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, PACKAGE)
    monkeypatch.chdir(tmp_path)
    patch = render(made_report(tmp_path), "patch")
    assert patch == textwrap.dedent('''\
        --- a/pkg/__init__.py
        +++ b/pkg/__init__.py
        @@ -1,4 +1,7 @@
         """A package."""
        +__lazy_modules__ = [
        +    "json",
        +]
         import json
         from pkg import helpers
         import pkg.heavy''')


def test_the_lazy_keyword_patch_marks_the_recommended_statements(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, PACKAGE)
    monkeypatch.chdir(tmp_path)
    patch = render(made_report(tmp_path), "patch", RenderOptions(lazy_keyword=True))
    assert "-import json\n+lazy import json\n" in patch
    assert patch.count("+lazy ") == 1 and patch.startswith("--- a/pkg/__init__.py")


# --- the engine on fake packages: each case of issue 23 ------------------------------------------

ADV = {
    "adv/__init__.py": '''\
        """Advise's fake: one import statement per case."""
        import json
        import fractions
        import adv.used as used
        import colorsys as cs
        from adv.checks import Marker
        from . import kept
        from adv import tools
        import adv.sub.leaf
        try:
            import csv
        except ImportError:
            csv = None
        with open(__file__, encoding="utf-8"):
            import wave
        from adv.star import *
        import adv.circ_a

        LIMIT = used.LIMIT
        IDENTITY = id(cs)
        IS_MARKER = isinstance(1, Marker)


        def half():
            return fractions.Fraction(1, 2)
    ''',
    "adv/used.py": "LIMIT = 3\n",
    "adv/checks.py": "import string\n\n\nclass Marker:\n    pass\n",
    "adv/kept.py": "import adv.tools\n",
    "adv/tools.py": "import textwrap\n\n\ndef wrap(text):\n    return textwrap.fill(text)\n",
    "adv/sub/__init__.py": "",
    "adv/sub/leaf.py": "from .. import tools\n",
    "adv/star.py": "import calendar\n\nSTAR = 1\n",
    "adv/circ_a.py": "import adv.circ_b\n\nVALUE = 1\n",
    "adv/circ_b.py": "from adv import circ_a\n",
}
# line of adv/__init__.py -> (decision, entry, what the reason or notes say)
ROWS = {
    2: (LAZY, "json", "saves"),  # never used
    3: (LAZY, "fractions", "saves"),  # used only in a function
    4: (KEEP, "adv.used", "used during the import at"),  # an attribute at module level
    5: (KEEP, "colorsys", "used during the import at"),  # only as f(x)
    6: (KEEP, "adv.checks", "used during the import at"),  # only as isinstance(o, x)
    7: (LAZY, "adv", "saves"),  # relative: selected by the package's own name
    8: (KEEP, "adv", "saves nothing"),  # kept loaded by adv/kept.py
    9: (LAZY, "adv.sub.leaf", "saves"),  # dotted
    11: (NOT_ALLOWED, None, "inside try/except"),
    15: (LAZY, "wave", "saves"),  # inside with: allowed
    16: (NOT_ALLOWED, None, "star import"),
    17: (LAZY, "adv.circ_a", "saves"),  # a circular import
}
REIFIED_AT = {4: 19, 5: 20, 6: 21}


def other(python: str) -> str | None:
    """--probe-python's interpreter for the engine, None when it is this one."""
    import sys

    return None if python == sys.executable else python


@pytest.fixture(scope="module")
def adv_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("site")
    write(root, ADV)
    return root


@pytest.fixture(scope="module")
def advised(adv_root: Path, probe_python: str) -> AdviseReport:
    from aoinspect.advising import advise

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYTHONPATH", str(adv_root))
        return advise("adv", budget=0, python=other(probe_python))


def row(report: AdviseReport, file: str, line: int) -> Advice:
    return next(advice for advice in report.advice if advice.file.endswith(file) and advice.line == line)


@pytest.mark.probe
@pytest.mark.parametrize("line", sorted(ROWS))
def test_each_statement_gets_its_decision_and_entry(advised: AdviseReport, line: int) -> None:
    decision, entry, says = ROWS[line]
    advice = row(advised, "adv/__init__.py", line)
    assert (advice.decision, advice.entry) == (decision, entry), advice
    assert says in advice.reason


@pytest.mark.probe
def test_only_executed_statements_have_rows(advised: AdviseReport) -> None:
    lines = [advice.line for advice in advised.advice if advice.file.endswith("adv/__init__.py")]
    assert lines == sorted(ROWS)  # the import in half() never ran
    assert advised.python.count(".") == 2 and advised.modules > 10


@pytest.mark.probe
@pytest.mark.parametrize("line", sorted(REIFIED_AT))
def test_a_name_used_during_the_import_saves_nothing_and_its_line_is_named(advised: AdviseReport,
                                                                          line: int) -> None:
    advice = row(advised, "adv/__init__.py", line)
    assert advice.saved == () and advice.reified is not None
    assert advice.reified.file.endswith("adv/__init__.py") and advice.reified.line == REIFIED_AT[line]


@pytest.mark.parametrize(("file", "line"), [
    ("adv/__init__.py", 2), ("adv/__init__.py", 3), ("adv/__init__.py", 7), ("adv/__init__.py", 9),
    ("adv/__init__.py", 15), ("adv/__init__.py", 17), ("adv/tools.py", 1), ("adv/checks.py", 1),
])
@pytest.mark.probe
def test_what_deferring_saves_equals_the_line_deletion_oracle(advised: AdviseReport, adv_root: Path,
                                                               tmp_path: Path, file: str, line: int,
                                                               probe_python: str) -> None:
    from tests.oracle import modules_without_line

    advice = row(advised, file, line)
    assert advice.saved, advice
    assert set(advice.saved) == modules_without_line(tmp_path, adv_root, file, line, "import adv", probe_python)


@pytest.mark.probe
def test_a_star_imported_module_has_its_imports_reified_by_the_star_import(advised: AdviseReport) -> None:
    advice = row(advised, "adv/star.py", 1)
    assert advice.decision == KEEP and advice.reified is not None and advice.reified.line == 16
    assert any("star-imported at" in risk for risk in advice.risks)


@pytest.mark.probe
def test_a_circular_import_saves_what_deleting_it_saves(advised: AdviseReport) -> None:
    back = row(advised, "adv/circ_b.py", 1)  # from adv import circ_a: circ_a is being imported already
    assert back.saved == () and back.decision == KEEP and back.kept_by
    assert row(advised, "adv/circ_a.py", 1).saved == ("adv.circ_b",)


@pytest.mark.probe
def test_a_module_kept_loaded_by_another_import_names_the_chain(advised: AdviseReport) -> None:
    advice = row(advised, "adv/__init__.py", 8)
    assert [(place.file.rpartition("site")[2].lstrip("/0123456789"), place.line) for place in advice.kept_by] == [
        ("adv/__init__.py", 7), ("adv/kept.py", 1)]
    assert "still loaded via" in render(advised, "text")


@pytest.mark.probe
def test_the_recommended_set_is_measured_as_a_set(advised: AdviseReport) -> None:
    recommended = set(advised.recommended)
    assert ("adv", "json") in recommended and ("adv", "fractions") in recommended
    assert ("adv", "adv.used") not in recommended
    assert ("adv", "adv") in recommended  # line 8 saves nothing alone, but its deferral is harmless
    lazy_saved = set().union(*(set(advice.saved) for advice in advised.lazy
                               if (advice.module, advice.entry) in recommended))
    assert lazy_saved <= set(advised.combined_saved)
    assert advised.combined is None  # --budget 0: nothing timed
    assert all(advice.timing is None for advice in advised.advice)


EFFECTS = {
    "atexit": "import atexit\n\n\ndef bye():\n    pass\n\n\natexit.register(bye)\n",
    "signal": "import signal\n\n\ndef handler(number, frame):\n    pass\n\n\nsignal.signal(signal.SIGUSR2, handler)\n",
    "sys.path": "import sys\n\nsys.path.append('/nonexistent-advise-fake')\n",
    "sys.meta_path": "import sys\n\n\nclass Finder:\n    @staticmethod\n    def find_spec(*args):\n"
                     "        return None\n\n\nsys.meta_path.append(Finder)\n",
    "sys.path_hooks": "import sys\n\n\ndef hook(path):\n    raise ImportError\n\n\nsys.path_hooks.append(hook)\n",
    "warnings": "import warnings\n\nwarnings.filterwarnings('ignore', message='advise-fake')\n",
    "logging": "import logging\n\nlogging.getLogger('advise.fake').addHandler(logging.NullHandler())\n",
    "codecs": "import codecs\n\n\ndef search(name):\n    return None\n\n\ncodecs.register(search)\n",
    "copyreg": "import copyreg\n\n\nclass Thing:\n    pass\n\n\ndef reduce(thing):\n    return Thing, ()\n\n\n"
               "copyreg.pickle(Thing, reduce)\n",
    "thread": "import threading\n\nthreading.Thread(target=print, args=()).start()\n",
    "environ": "import os\n\nos.environ['ADVISE_FAKE'] = '1'\n",
    "monkeypatch": "import os\n\nos.advise_fake = True\n",
    "registry": "import encodings.aliases\n\nencodings.aliases.aliases['advisefake'] = 'utf_8'\n",
}


def _effect_module(kind: str) -> str:
    return "fx.k_" + kind.replace(".", "_")


@pytest.fixture(scope="module")
def effects_advised(tmp_path_factory: pytest.TempPathFactory, probe_python: str) -> AdviseReport:
    from aoinspect.advising import advise

    root = tmp_path_factory.mktemp("site")
    files = {"fx/__init__.py": "".join(f"import {_effect_module(kind)}\n" for kind in EFFECTS)}
    files.update({_effect_module(kind).replace(".", "/") + ".py": text for kind, text in EFFECTS.items()})
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYTHONPATH", str(root))
        return advise("fx", budget=0, python=other(probe_python))


@pytest.mark.probe
@pytest.mark.parametrize("kind", list(EFFECTS))
def test_an_import_with_a_side_effect_is_kept_and_the_effect_named(effects_advised: AdviseReport,
                                                                    kind: str) -> None:
    advice = next(advice for advice in effects_advised.advice if advice.entry == _effect_module(kind))
    assert kind in {effect.kind for effect in advice.effects}, advice.effects
    assert advice.decision == KEEP and "delay" in advice.reason
    assert f"delays {kind}:" in render(effects_advised, "text")


DECL = {
    "decl/__init__.py": '''\
        __lazy_modules__ = ["decl.hea", "json"]

        import json
        import decl.heavy

        SIZE = json.dumps([1])
    ''',
    "decl/heavy.py": "import fractions\n",
}


@pytest.mark.probe
def test_existing_declarations_stale_and_reified_entries(fake: FakePackages, invoke) -> None:  # type: ignore[no-untyped-def]
    fake.write(DECL)
    result = invoke("advise", "decl", "--budget", "0", "--format", "json", "--fail-on", "stale-entry",
                    "--fail-on", "reified-entry")
    assert result.exit_code == 1, result.output
    report = documents.decode(json.loads(result.stdout))
    assert [(stale.entry, stale.closest) for stale in report.stale] == [("decl.hea", "decl.heavy")]
    declared = row(report, "decl/__init__.py", 3)
    assert declared.declared and declared.reified is not None and declared.reified.line == 6
    assert [finding.name.rpartition(":")[2] for finding in report.findings] == ["1", "3"]
    heavy = row(report, "decl/__init__.py", 4)
    assert heavy.decision == LAZY and not heavy.declared


@pytest.mark.probe
def test_check_reports_a_truncated_entry_and_a_reified_one(fake: FakePackages, invoke) -> None:  # type: ignore[no-untyped-def]
    fake.write(DECL)
    result = invoke("check", "decl", "--format", "json")
    found = {(finding["rule"], finding["severity"]) for finding in json.loads(result.stdout)["findings"]}
    assert {("stale-lazy-entry", "error"), ("lazy-entry-reified", "warning")} <= found
    assert result.exit_code == 1


@pytest.mark.probe
def test_the_command_on_a_fake_prints_each_format(fake: FakePackages, invoke,  # type: ignore[no-untyped-def]
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """One measurement, saved as JSON, renders each format (``aoinspect render`` prints what the
    command prints in that format, test_documents holds); --fail-on changes the run, so it runs."""
    fake.write(ADV)
    monkeypatch.chdir(fake.root)
    measured = invoke("advise", "adv", "--budget", "0", "--format", "json")
    assert measured.exit_code == 0, measured.output
    saved = fake.root / "advice.json"
    saved.write_text(measured.stdout, encoding="utf-8")
    text = invoke("render", str(saved), "--format", "text")
    assert text.exit_code == 0, text.output
    assert "import json" in text.stdout and "Recommended __lazy_modules__:" in text.stdout
    patch = invoke("render", str(saved), "--format", "patch")
    assert patch.stdout.startswith("--- a/adv/__init__.py\n+++ b/adv/__init__.py\n")
    assert '+    "json",' in patch.stdout and '+    "adv.used",' not in patch.stdout
    keyword = invoke("render", str(saved), "--format", "patch", "--lazy-keyword")
    assert "+lazy import json\n" in keyword.stdout and "+lazy import adv.used" not in keyword.stdout
    failing = invoke("advise", "adv", "--budget", "0", "--fail-on", "saving>1")
    assert failing.exit_code == 1 and "error  lazy-candidate: --fail-on saving>1" in failing.stdout


@pytest.mark.probe
def test_a_program_is_run_several_times_and_says_so(fake: FakePackages, invoke,  # type: ignore[no-untyped-def]
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    fake.write(ADV)
    (fake.root / "app.py").write_text("import difflib\nimport adv.tools\n\nprint(difflib.get_close_matches('x', []))\n")
    monkeypatch.chdir(fake.root)
    result = invoke("advise", "--budget", "0", "--format", "json", "--", "app.py")
    assert result.exit_code == 0, result.output
    assert "advise runs the program several times" in result.stderr
    report = documents.decode(json.loads(result.stdout))
    assert {advice.file.rpartition("/")[2] for advice in report.advice} >= {"app.py", "tools.py"}
    used = row(report, "app.py", 1)  # difflib is used by the program itself, after the imports
    assert used.saved == () and used.decision == KEEP


@pytest.mark.probe
def test_timing_measures_the_candidates_within_the_budget(fake: FakePackages, invoke) -> None:  # type: ignore[no-untyped-def]
    fake.write({"tim/__init__.py": "import fractions\nimport json\n\n\ndef f():\n    return fractions, json\n"})
    result = invoke("advise", "tim", "--budget", "20", "--format", "json")
    report = documents.decode(json.loads(result.stdout))
    timed = [advice.timing for advice in report.advice]
    assert all(timing is not None and timing.runs >= 3 for timing in timed), timed
    assert report.combined is not None and report.combined.runs >= 3


# --- a real package against the oracle ------------------------------------------------------------


@pytest.mark.real
def test_clicks_import_inspect_saves_what_deleting_it_saves(tmp_path: Path) -> None:
    """Alone, each ``import inspect`` of click saves nothing (another keeps it loaded, and the
    chain says which); together they save what deleting them all saves."""
    import shutil

    click = pytest.importorskip("click")
    from aoinspect.advising import advise
    from aoinspect.graphing import record_graph, saved_if_deferred
    from tests.oracle import delete_statement, modules_loaded, modules_without_line

    package_dir = type(tmp_path)(click.__file__).parent
    report = advise("click", budget=0)
    rows = [advice for advice in report.advice if advice.text == "import inspect"]
    assert len(rows) >= 2
    for advice in rows[:2]:
        oracle = modules_without_line(tmp_path, package_dir, advice.file, advice.line, "import click")
        assert set(advice.saved) == oracle
        if not oracle:
            assert advice.kept_by and advice.decision == KEEP
    graph = record_graph("click")
    requests = [request.index for request in graph.requests for advice in rows
                if request.file == advice.file and request.line == advice.line]
    together = saved_if_deferred(graph, requests)
    copy = tmp_path / "all" / "click"
    shutil.copytree(package_dir, copy)
    for advice in rows:
        delete_statement(copy / os.path.relpath(advice.file, package_dir), advice.line)
    oracle = modules_loaded(package_dir.parent, "import click") - modules_loaded(copy.parent, "import click")
    assert together == oracle and "inspect" in together


@pytest.mark.probe
@pytest.mark.skipif(not os.environ.get("AOINSPECT_TEST_PYTHON315"), reason="AOINSPECT_TEST_PYTHON315 names no 3.15")
def test_the_patch_under_native_pep_810(fake: FakePackages, invoke,  # type: ignore[no-untyped-def]
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """advise's patch, applied with git and imported by a real 3.15: the recommended set's modules
    are not loaded, both with __lazy_modules__ and with the lazy keyword."""
    import subprocess

    from tests.oracle import modules_loaded

    python = os.environ["AOINSPECT_TEST_PYTHON315"]
    for keyword in ((), ("--lazy-keyword",)):
        fake.write(ADV)
        monkeypatch.chdir(fake.root)
        report = documents.decode(json.loads(invoke("advise", "adv", "--budget", "0", "--format", "json").stdout))
        patch = invoke("advise", "adv", "--budget", "0", "--format", "patch", *keyword).stdout
        subprocess.run(["git", "apply", "--unsafe-paths", "-"], input=patch, text=True, cwd=fake.root, check=True)
        loaded = modules_loaded(fake.root, "import adv", python)
        assert not set(report.combined_saved) & loaded, keyword


@pytest.mark.probe
def test_the_configuration_table_sets_budget_and_fail_on(fake: FakePackages, invoke,  # type: ignore[no-untyped-def]
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    fake.write({"cfg/__init__.py": "import fractions\n"})
    (fake.root / "pyproject.toml").write_text('[tool.aoinspect.advise]\nbudget = 0\nfail-on = ["saving>0"]\n')
    monkeypatch.chdir(fake.root)
    result = invoke("advise", "cfg", "--format", "json")
    document = json.loads(result.stdout)
    assert (document["budget_s"], document["fail_on"], result.exit_code) == (0.0, ["saving>0"], 1)
    assert invoke("advise", "cfg", "--fail-on", "saving>100", "--format", "json").exit_code == 0  # the line wins


@pytest.mark.probe
def test_a_deferral_that_breaks_the_import_is_found_and_kept(fake: FakePackages, invoke) -> None:  # type: ignore[no-untyped-def]
    """Deferred, ``import brk.used`` binds ``brk`` lazily; ``import brk.other`` rebinds it to the
    package, which has no ``used`` yet: the import fails. The culprit is found by halving the set,
    kept with the error as its risk, and the others are still advised on."""
    fake.write({"brk/__init__.py": "import brk.used\nimport json\nimport fractions\nimport brk.other\n\n"
                                   "LIMIT = brk.used.LIMIT\n",
                "brk/used.py": "LIMIT = 3\n", "brk/other.py": "X = 1\n"})
    report = documents.decode(json.loads(invoke("advise", "brk", "--budget", "0", "--format", "json").stdout))
    broken = row(report, "brk/__init__.py", 1)
    assert broken.decision == KEEP and "deferring it breaks the import" in broken.reason
    assert any("AttributeError" in risk for risk in broken.risks)
    assert row(report, "brk/__init__.py", 2).decision == LAZY and row(report, "brk/__init__.py", 3).decision == LAZY


@pytest.mark.probe
def test_a_package_that_hangs_is_a_failed_child_not_a_hang(fake: FakePackages, invoke,  # type: ignore[no-untyped-def]
                                                           no_leftovers: Path) -> None:
    fake.write({"hangs/__init__.py": "import time\n\nwhile True:\n    time.sleep(0.05)\n"})
    result = invoke("advise", "hangs", "--timeout", "0.5", "--budget", "0", "--format", "json")
    assert result.exit_code == 4
    assert json.loads(result.stdout)["error"]["kind"] == "probe-failed"


@pytest.mark.probe
def test_a_module_aliased_into_the_package_is_not_one_of_its_files(fake: FakePackages, invoke) -> None:  # type: ignore[no-untyped-def]
    """requests.packages puts urllib3's modules into sys.modules under ``requests.packages.urllib3``:
    those files are urllib3's, and an entry advised for them under the alias's name would select
    nothing (``__name__`` there is ``urllib3.fields``)."""
    fake.write({"alpkg/__init__.py": "from . import packages\nimport fractions\nimport alpkg.adapters\n",
                "alpkg/packages.py": "import sys\nimport alvend.fields\n\n"
                                     "for _name in [n for n in sys.modules if n.startswith('alvend')]:\n"
                                     "    sys.modules['alpkg.packages.' + _name] = sys.modules[_name]\n",
                "alpkg/adapters.py": "import alvend.contrib\n",
                "alvend/__init__.py": "", "alvend/fields.py": "import mimetypes\n", "alvend/contrib.py": ""})
    report = documents.decode(json.loads(invoke("advise", "alpkg", "--budget", "0", "--format", "json").stdout))
    assert {advice.file.rpartition("/")[0].rpartition("/")[2] for advice in report.advice} == {"alpkg"}
    assert all(module.startswith("alpkg") for module, _ in report.recommended), report.recommended
    # The aliases are not modules saved, and the import system binding alvend.contrib in alvend
    # (seen under the alias too) is no monkeypatch.
    packages = row(report, "alpkg/__init__.py", 1)
    assert {"alpkg.packages", "alvend.fields", "mimetypes"} <= set(packages.saved), packages.saved
    assert not [name for name in packages.saved if name.startswith("alpkg.packages.")]
    adapters = row(report, "alpkg/__init__.py", 3)
    assert adapters.effects == () and adapters.decision == LAZY, adapters


@pytest.mark.probe
def test_entries_written_with_spec_parent_are_declared_not_recommended_again(fake: FakePackages, invoke) -> None:  # type: ignore[no-untyped-def]
    """packaging declares ``{f"{__spec__.parent}._ranges", ...}``: those statements are lazy
    already; recommending them again, and a patch whose block above the declaration it overwrites,
    were false."""
    fake.write({"fsp/__init__.py": '__lazy_modules__ = {"fractions", f"{__spec__.parent}.heavy"}\n'
                                   "import fractions\nfrom .heavy import X\n",
                "fsp/heavy.py": "import decimal\nX = 1\n"})
    measured = invoke("advise", "fsp", "--budget", "0", "--format", "json", "--fail-on", "stale-entry")
    report = documents.decode(json.loads(measured.stdout))
    assert [(row.line, row.declared) for row in report.advice if row.file.endswith("fsp/__init__.py")] == [
        (2, True), (3, True)]
    assert report.recommended == () and report.stale == () and report.findings == ()
    # The patch and the text of that one measurement (render prints what the command prints).
    saved = fake.root / "advice.json"
    saved.write_text(measured.stdout, encoding="utf-8")
    assert invoke("render", str(saved), "--format", "patch").stdout.strip() == ""
    text = invoke("render", str(saved), "--format", "text").stdout
    assert "lazy (declared)" in text and "0 can be lazy; 2 declared lazy already" in text


@pytest.mark.probe
def test_a_declared_entry_that_saves_nothing_is_still_checked_for_reification(fake: FakePackages, invoke) -> None:  # type: ignore[no-untyped-def]
    """click/core.py with ``typing`` declared: it saves nothing (another file imports it), yet
    ``if t.TYPE_CHECKING:`` reifies it during the import; ``check`` warned and ``advise
    --fail-on reified-entry`` did not (only statements with a saving were simulated)."""
    fake.write({"dcl/__init__.py": '__lazy_modules__ = ["fractions"]\nimport fractions as f\nimport dcl.other\n\n'
                                   "if f.Fraction:\n    pass\n",
                "dcl/other.py": "import fractions\n"})
    result = invoke("advise", "dcl", "--budget", "0", "--format", "json", "--fail-on", "reified-entry")
    report = documents.decode(json.loads(result.stdout))
    declared = row(report, "dcl/__init__.py", 2)
    assert declared.declared and declared.saved == () and declared.reified is not None
    assert declared.reified.line == 5 and result.exit_code == 1


@pytest.mark.probe
def test_a_star_import_takes_only_the_names_of_all(fake: FakePackages, invoke) -> None:  # type: ignore[no-untyped-def]
    """httpx/__init__.py star-imports httpx._urls, whose ``__all__`` is ``["URL", ...]``: its
    ``from ._urlparse import urlparse`` is not taken by ``import *``, so deferring it is no risk,
    and a statement that saves nothing was said to "break the import"."""
    fake.write({"stp/__init__.py": "from .urls import *\n",
                "stp/urls.py": '__all__ = ["URL"]\nimport os\nfrom .parse import urlparse\n\n'
                               "class URL:\n    pass\n",
                "stp/parse.py": "import fractions\n\ndef urlparse():\n    return fractions\n"})
    report = documents.decode(json.loads(invoke("advise", "stp", "--budget", "0", "--format", "json").stdout))
    parse = row(report, "stp/urls.py", 3)
    assert parse.risks == () and parse.decision == LAZY, parse
    plain = row(report, "stp/urls.py", 2)
    assert plain.risks == () and "breaks the import" not in plain.reason
