"""``aoinspect advise``: the report and its formats (text, json, markdown, github, sarif, patch), the
timing harness, ``--fail-on``, and the engine on fake packages (each case of issue 23), its saved
sets held equal to the line-deletion oracle (``tests/helpers.py``)."""

from __future__ import annotations

import json
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
    assert github[1].startswith("::error file=pkg/helpers.py,line=1,title=aoinspect advise-fail-on::")
    assert len(github) == 2
    sarif = json.loads(render(report, "sarif"))
    results = sarif["runs"][0]["results"]
    assert [(result["ruleId"], result["level"], result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
             result["locations"][0]["physicalLocation"]["region"]["startLine"]) for result in results] == [
        ("lazy-candidate", "note", "pkg/__init__.py", 2), ("advise-fail-on", "error", "pkg/helpers.py", 1)]
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
