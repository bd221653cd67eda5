"""``aoinspect diff``: the comparison (aoinspect/diff.py), its three renderers and the command's exit codes."""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from aoinspect import diff as diffing
from aoinspect.cli import cli
from aoinspect.diff import FailOn, Threshold, compare, parse_fail_on, parse_threshold, report_from_document
from tests import documents
from tests.packages import lazy_package

DEFAULT = Threshold()


def compared(old: dict[str, Any], new: dict[str, Any], *conditions: str,
             threshold: Threshold = DEFAULT) -> diffing.Diff:
    return compare(report_from_document("old.json", old), report_from_document("new.json", new), threshold,
                   [parse_fail_on(condition) for condition in conditions])


def changed_version() -> dict[str, Any]:
    """The resolve document after a change: alpha loads scipy, no json; beta is 0.9 ms slower (x2.8); gamma is new."""
    new = documents.resolve_document()
    alpha = new["results"][0]["materialized"]
    alpha[:] = [item for item in alpha if item["module"] != "json"]
    alpha.append(documents.load("scipy", "pkg.alpha", 1, 0.5, 0.5, distribution="scipy"))
    new["results"][1] = documents.resolution("beta", [documents.load("pkg.beta", None, 0, 1.4, 1.4)])
    new["results"].append(documents.resolution("gamma", [documents.load("pkg.gamma", None, 0, 0.1, 0.1)]))
    return new


def by_name(result: diffing.Diff) -> dict[str | None, diffing.SubjectChange]:
    return {change.name: change for change in result.subjects}


def test_modules_added_and_removed_per_name() -> None:
    changes = by_name(compared(documents.resolve_document(), changed_version()))
    assert changes["alpha"].added == ("scipy",)
    assert changes["alpha"].removed == ("json",)
    assert (changes["alpha"].modules_before, changes["alpha"].modules_after) == (4, 4)
    assert changes["gamma"].before is None and changes["gamma"].added == ("pkg.gamma",)
    assert not changes[None].changed


def test_a_name_gone_from_the_new_report() -> None:
    new = documents.resolve_document()
    del new["results"][1]
    changes = by_name(compared(documents.resolve_document(), new))
    assert changes["beta"].after is None and changes["beta"].removed == ("pkg.beta",) and changes["beta"].changed


@pytest.mark.parametrize(("threshold", "changed"), [
    (Threshold(0.10, 1.0), False),  # beta: 0.5 -> 1.4 ms is +180%, but under the 1 ms floor
    (Threshold(0.10, 0.85), True),
    (Threshold(2.0, 0.0), False),  # +180% under a 200% threshold
    (Threshold(1.5, 0.0), True),
    (Threshold(0.0, 0.0), True),
])
def test_time_changes_count_beyond_the_threshold(threshold: Threshold, changed: bool) -> None:
    beta = by_name(compared(documents.resolve_document(), changed_version(), threshold=threshold))["beta"]
    assert beta.ratio == pytest.approx(2.8)
    assert beta.time_changed is changed


def test_new_and_resolved_findings_ignore_numbers_in_messages() -> None:
    old = documents.check_document()
    new = copy.deepcopy(old)
    budget = {"rule": "budget-exceeded", "severity": "error", "name": None, "message": "takes 41.2 ms; budget 40 ms"}
    old["findings"].append(budget)
    new["findings"].append({**budget, "message": "takes 45.9 ms; budget 40 ms"})  # the same finding
    del new["findings"][1]  # missing-dir fixed
    new["findings"].append({"rule": "not-cached", "severity": "warning", "name": "beta", "message": "again"})
    result = compared(old, new)
    assert [finding.rule for finding in result.new_findings] == ["not-cached"]
    assert [finding.rule for finding in result.resolved_findings] == ["missing-dir"]


def test_a_finding_whose_listed_names_changed_is_the_same_finding() -> None:
    """A PR that fixes one lazy name changes the star-import warning's list; it is neither new
    nor resolved, so a new-findings gate stays quiet. Two of one rule for one name where there
    was one: one of them is new."""
    old = documents.check_document()
    star = {"rule": "star-import", "severity": "warning", "name": None,
            "message": "from pkg import * loads alpha, beta, importing json, decimal"}
    old["findings"].append(star)
    new = copy.deepcopy(old)
    new["findings"][-1] = {**star, "message": "from pkg import * loads alpha, importing json"}
    result = compared(old, new, "new-findings")
    assert result.new_findings == () and result.resolved_findings == () and not result.failed
    forbidden = {"rule": "forbidden-import", "severity": "error", "name": "alpha", "message": "loads ao.nn"}
    old["findings"].append(forbidden)
    new["findings"] += [forbidden, {**forbidden, "message": "loads ao.fx"}]
    assert [finding.message for finding in compared(old, new).new_findings] == ["loads ao.fx"]


def test_snapshots_compare_as_module_sets() -> None:
    new = documents.snapshot_document()
    new["import"].append("numpy")
    changes = by_name(compared(documents.snapshot_document(), new, "added:numpy"))
    assert changes[None].added == ("numpy",) and changes[None].ms_before is None
    assert not changes["alpha"].changed


@pytest.mark.parametrize(("condition", "holds"), [
    ("added", True),
    ("added:scipy", True),
    ("added:scipy.*", True),
    ("added:numpy", False),
    ("added:pkg.gam*", True),
    ("more-modules:1", True),  # gamma is new: not counted; beta and alpha keep their counts
    ("more-modules:2", False),
    ("time-ratio:1.2", False),  # beta is 2.8x slower, but by 0.9 ms: under the default threshold's 1 ms
    ("new-errors", False),
    ("new-findings", False),
    ("any", True),
])
def test_fail_on_conditions(condition: str, holds: bool) -> None:
    new = changed_version()
    new["import"]["materialized"].append(documents.load("pkg._extra", "pkg", 1, 0.1, 0.1))
    result = compared(documents.resolve_document(), new, condition)
    assert bool(result.failed) is holds
    assert result.exit_code == (1 if holds else 0)


def test_time_ratio_beyond_the_floor() -> None:
    result = compared(documents.resolve_document(), changed_version(), "time-ratio:2.5",
                      threshold=Threshold(0.1, 0.5))
    ((condition, reason),) = result.failed
    assert condition.kind == "time-ratio" and "pkg.beta: 0.5 -> 1.4 ms (x2.80)" in reason


@pytest.mark.parametrize("change", ["error finding", "name fails", "run fails"])
def test_new_errors(change: str) -> None:
    old, new = documents.check_document([]), documents.check_document([])
    if change == "error finding":
        new["findings"] = [{"rule": "eager-import", "severity": "error", "name": "alpha", "message": "eager"}]
    elif change == "name fails":
        new["results"][1] = documents.resolution("beta", [], ok=False,
                                                 error={"type": "ImportError", "message": "no", "location": None})
    else:
        new = {**documents.header("check", ok=False, exit_code=3),
               "error": {"kind": "import-failed", "message": "import pkg failed"}}
    result = compared(old, new, "new-errors")
    assert result.exit_code == 1
    assert not compared(new, new, "new-errors").failed


@pytest.mark.parametrize(("text", "expected"), [
    ("10%,1ms", Threshold(0.1, 1.0)), ("20%", Threshold(0.2, 0.0)), ("5ms", Threshold(0.0, 5.0)),
    (" 2.5 ms , 15 % ", Threshold(0.15, 2.5)),
])
def test_parse_threshold(text: str, expected: Threshold) -> None:
    assert parse_threshold(text) == expected


@pytest.mark.parametrize("text", ["", "10", "-5%", "1s", "10%;1ms", "9" * 400 + "%", "9" * 400 + "ms"])
def test_parse_threshold_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_threshold(text)


@pytest.mark.parametrize(("text", "expected"), [
    ("new-errors", FailOn("new-errors", "new-errors")),
    ("added", FailOn("added", "added")),
    ("added:numpy*", FailOn("added:numpy*", "added", pattern="numpy*")),
    ("time-ratio:1.2", FailOn("time-ratio:1.2", "time-ratio", number=1.2)),
    ("more-modules:10", FailOn("more-modules:10", "more-modules", number=10)),
])
def test_parse_fail_on(text: str, expected: FailOn) -> None:
    assert parse_fail_on(text) == expected


# Conditions that can never hold (nan compares false) or overflowed a count (int(inf)).
NOT_FINITE = ["more-modules:inf", "more-modules:nan", "more-modules:1e999", "time-ratio:nan", "time-ratio:inf",
              "time-ratio:-inf", "time-ratio:1e999"]


@pytest.mark.parametrize("text", ["added:", "time-ratio:1", "time-ratio:x", "more-modules:0", "more-modules:1.5",
                                  "new-errors:1", "bigger", "time-ratio", *NOT_FINITE])
def test_parse_fail_on_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_fail_on(text)


# --- the command ---------------------------------------------------------------------------------


def strict_json(text: str) -> Any:
    """``text`` read as JSON that any reader accepts (jq's rules): no NaN, no Infinity, no key twice."""

    def refuse(token: str) -> None:
        raise AssertionError(f"{token} is not JSON")

    def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        assert len({key for key, _ in pairs}) == len(pairs), pairs
        return dict(pairs)

    return json.loads(text, parse_constant=refuse, object_pairs_hook=unique)


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, ["diff", *args], catch_exceptions=False)


def write(path: Path, document: object) -> str:
    path.write_text(json.dumps(document), encoding="utf-8")
    return str(path)


def test_text_output_and_exit_code(tmp_path: Path) -> None:
    old = write(tmp_path / "old.json", documents.resolve_document())
    new = write(tmp_path / "new.json", changed_version())
    result = run(old, new, "--fail-on", "added:scipy", "--threshold", "10%,0.5ms")
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert "pkg.alpha: 4 modules" in lines
    assert "  + scipy" in lines and "  - json" in lines
    assert "pkg.beta: 1 module, 0.50 -> 1.40 ms (x2.80)" in lines
    assert "pkg.gamma: new, 1 module" in lines
    assert lines[-1] == "FAILED --fail-on added:scipy: pkg.alpha adds scipy"
    assert run(old, new).exit_code == 0


def test_a_name_gone_is_named_by_the_package_that_had_it(tmp_path: Path) -> None:
    """Two reports of different packages: a name only the old one had is the old package's."""
    other = documents.resolve_document()
    other["package"] = "qkg"
    old = write(tmp_path / "old.json", documents.resolve_document())
    new = write(tmp_path / "new.json", {**other, "results": other["results"][:1]})
    lines = run(old, new).stdout.splitlines()
    assert any(line.startswith("pkg.beta: gone (had 1 module)") for line in lines), lines
    assert not any(line.startswith("qkg.beta") for line in lines), lines


def test_json_output(tmp_path: Path) -> None:
    old = write(tmp_path / "old.json", documents.resolve_document())
    new = write(tmp_path / "new.json", changed_version())
    result = run(old, new, "--format", "json", "--fail-on", "more-modules:1", "--fail-on", "new-errors")
    document = json.loads(result.stdout)
    assert document["command"] == "diff" and document["compared"] == "resolve"
    assert document["exit_code"] == result.exit_code == 0
    alpha = next(subject for subject in document["subjects"] if subject["name"] == "alpha")
    assert alpha["added"] == ["scipy"] and alpha["removed"] == ["json"] and alpha["modules_new"] == 4
    assert document["failed"] == [] and document["fail_on"] == ["more-modules:1", "new-errors"]


def test_markdown_output_tables(tmp_path: Path) -> None:
    old_document, new_document = documents.check_document(), documents.check_document()
    hostile = "evil|name`\nwith <b>html</b> & more"
    new_document["findings"].append({"rule": "eager-import", "severity": "error", "name": "alpha", "message": hostile})
    new_document["results"][0]["materialized"].append(documents.load(hostile, "pkg.alpha", 1, 0.1, 0.1))
    result = run(write(tmp_path / "o.json", old_document), write(tmp_path / "n.json", new_document),
                 "--format", "markdown", "--fail-on", "new-errors")
    assert result.exit_code == 1
    subjects, findings = documents.markdown_tables(result.stdout)
    assert subjects[0] == ["subject", "status", "modules", "Δ", "added", "removed", "total ms", "time"]
    assert subjects[1][:6] == ["pkg.alpha", "", "4 → 5", "+1", "1", "0"]
    assert findings[1] == ["error", "eager-import", "alpha", hostile]
    assert "<b>" not in re.sub(r"```diff\n.*?\n```", "", result.stdout, flags=re.S)  # code blocks show text
    assert "<details>" in result.stdout
    assert "```diff\n+ " + hostile.replace("\n", "\\n") + "\n```" in result.stdout


def _raw(where: list[Any], token: str) -> str:
    """The resolve document as text, with the value at ``where`` written as ``token``."""
    document = documents.resolve_document()
    target: Any = document
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = "__token__"
    return json.dumps(document).replace('"__token__"', token)


def unreadable(tmp_path: Path, case: str) -> str:
    path = tmp_path / "doc.json"
    if case == "missing":
        return str(tmp_path / "absent.json")
    if case == "directory":
        return str(tmp_path)
    if case == "fifo":
        os.mkfifo(path)
        return str(path)
    contents = {
        "not json": "{", "not utf-8": b"\xff\xfe{}", "a list": "[]", "schema 2": '{"schema": 2, "command": "resolve"}',
        "trace of nesting": "[" * 100_000,
        "unknown command": '{"schema": 1, "command": "frobnicate", "package": "p", "error": null}',
        "module not a string": json.dumps({**documents.resolve_document(),
                                           "results": [{"name": "a", "materialized": [{"module": 3}]}]}),
        "results not a list": json.dumps({**documents.resolve_document(), "results": {}}),
        "finding without rule": json.dumps({**documents.check_document(), "findings": [{"severity": "error"}]}),
        "time not a number": json.dumps({**documents.resolve_document(), "import": {
            "materialized": [{"module": "m", "depth": 0, "cumulative_ms": "fast"}]}}),
        # Numbers Python's json module reads and JSON has not: NaN compares false (a slowdown
        # hidden), 1e999 is inf, 4,000 digits overflow the first float they meet (a traceback, exit 1).
        "NaN time": _raw(["results", 0, "materialized", 0, "cumulative_ms"], "NaN"),
        "NaN total": _raw(["import", "total_ms"], "NaN"),
        "Infinity": _raw(["results", 1, "elapsed_ms"], "-Infinity"),
        "1e999": _raw(["import", "materialized", 0, "cumulative_ms"], "1e999"),
        "4,000 digits": _raw(["import", "materialized", 0, "cumulative_ms"], "9" * 4000),
        "a count of 4,000 digits": _raw(["results", 0, "repeats"], "9" * 4000),
        "a count as a float": _raw(["import", "materialized", 0, "depth"], "0.0"),
        "schema true": _raw(["schema"], "true"),
        "schema 2.0": _raw(["schema"], "2.0"),
        "a name twice": json.dumps({**documents.resolve_document(), "results": [
            documents.resolution("alpha", []), documents.resolution("alpha", [])]}),
        "a key twice": json.dumps(documents.resolve_document())[:-1] + ', "results": []}',
    }[case]
    if isinstance(contents, bytes):
        path.write_bytes(contents)
    else:
        path.write_text(contents, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("case", [
    "missing", "directory", "fifo", "not json", "not utf-8", "a list", "schema 2", "trace of nesting",
    "unknown command", "module not a string", "results not a list", "finding without rule", "time not a number",
    "NaN time", "NaN total", "Infinity", "1e999", "4,000 digits", "a count of 4,000 digits", "a count as a float",
    "schema true", "schema 2.0", "a name twice", "a key twice",
])
def test_unusable_documents_are_usage_errors(tmp_path: Path, case: str) -> None:
    """Exit 2 (usage: unreadable input), never 1 (a condition held) and never a traceback, with
    a failure document that is strict JSON and one line on stderr."""
    good = write(tmp_path / "good.json", documents.resolve_document())
    result = run(good, unreadable(tmp_path, case), "--format", "json", "--fail-on", "time-ratio:1.5")
    assert result.exit_code == 2
    document = strict_json(result.stdout)
    assert document["error"]["kind"] == "usage" and document["exit_code"] == 2
    assert result.stderr.startswith("aoinspect: ") and result.stderr.count("\n") == 1


def test_documents_larger_than_the_bound(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(diffing, "MAX_DOCUMENT_BYTES", 100)
    good = write(tmp_path / "good.json", documents.resolve_document())
    result = run(good, good)
    assert result.exit_code == 2 and "larger than" in result.stderr and result.stdout == ""


def test_reports_of_different_commands_do_not_compare(tmp_path: Path) -> None:
    result = run(write(tmp_path / "r.json", documents.resolve_document()),
                 write(tmp_path / "c.json", documents.check_document()))
    assert result.exit_code == 2 and "same command" in result.stderr


@pytest.mark.parametrize("option", [*(("--fail-on", condition) for condition in NOT_FINITE),
                                    ("--threshold", "9" * 400 + "%"), ("--threshold", "10%," + "9" * 400 + "ms")])
@pytest.mark.parametrize("where", ["command line", "[tool.aoinspect.diff]"])
def test_options_must_be_finite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, option: tuple[str, str],
                                where: str) -> None:
    """``more-modules:inf`` ended in an OverflowError traceback with exit 1, the code that means a
    condition held; ``time-ratio:nan`` was accepted and could never hold."""
    good = write(tmp_path / "good.json", documents.resolve_document())
    monkeypatch.chdir(tmp_path)
    if where == "command line":
        result = run(good, good, *option, "--format", "json")
    else:
        key, value = option[0].lstrip("-"), json.dumps(option[1])
        (tmp_path / "pyproject.toml").write_text(f"[tool.aoinspect.diff]\n{key} = {value}\n", encoding="utf-8")
        result = run(good, good, "--format", "json")
    assert result.exit_code == 2
    failure = strict_json(result.stdout)
    assert failure["error"]["kind"] == "usage" and "finite number" in failure["error"]["message"]
    assert "finite number" in result.stderr and "Traceback" not in result.stderr


def test_a_ratio_beyond_any_float_is_no_ratio(tmp_path: Path) -> None:
    """A saved diff whose old time is so small that new/old is no finite number: no ratio, as for
    an old time of 0, and rendering it again stays JSON (``"ratio": Infinity`` is not)."""
    saved = run(write(tmp_path / "o.json", documents.resolve_document()),
                write(tmp_path / "n.json", documents.resolve_document()), "--format", "json")
    document = strict_json(saved.stdout)
    document["subjects"][0].update(total_ms_old=1e-310, total_ms_new=500.0)
    result = CliRunner().invoke(cli, ["render", write(tmp_path / "diff.json", document), "--format", "json"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    imported = strict_json(result.stdout)["subjects"][0]
    assert imported["ratio"] is None and imported["total_ms_old"] == 1e-310 and imported["total_ms_new"] == 500.0


def test_bad_options_are_usage_errors(tmp_path: Path) -> None:
    good = write(tmp_path / "good.json", documents.resolve_document())
    assert run(good, good, "--fail-on", "bigger").exit_code == 2
    assert run(good, good, "--threshold", "10").exit_code == 2


def test_two_real_runs(fake: Any, tmp_path: Path) -> None:
    """Reports of two versions of a package, made by the CLI: the second's alpha imports json and csv."""
    runner = CliRunner()
    reports = []
    for version, alpha in enumerate(["VALUE = 1\n", "import json, csv\nVALUE = 1\n"]):
        fake.write(lazy_package(f"v{version}pkg", alpha=alpha))
        result = runner.invoke(cli, ["-p", f"v{version}pkg", "resolve", "alpha", "--format", "json"],
                               env=fake.env, catch_exceptions=False)
        document = json.loads(result.stdout)
        document["package"] = "samepkg"
        for item in document["results"][0]["materialized"]:
            item["module"] = item["module"].replace(f"v{version}pkg", "samepkg")
        reports.append(write(tmp_path / f"{version}.json", document))
    result = run(*reports, "--fail-on", "added:csv")
    assert result.exit_code == 1
    assert "  + csv" in result.stdout.splitlines()


def test_two_traces_compare_as_one_program(tmp_path: Path) -> None:
    """Two traces of a program (here: before and after it touches ``ao.ns``): what it now loads,
    named by the program, and --fail-on on it."""
    reports = []
    for index, code in enumerate(["import ao", "import ao; ao.ns"]):
        report = tmp_path / f"{index}.json"
        subprocess.run([sys.executable, "-m", "aoinspect", "trace", "--format", "json", "-o", str(report), "--",
                        "-c", code], check=True, capture_output=True, timeout=60)
        reports.append(str(report))
    result = run(*reports, "--fail-on", "added:ao.*")
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("diff trace python -c import ao; ao.ns:")
    assert "  + ao.ns" in lines
    assert "note: the programs differ (python -c import ao -> python -c import ao; ao.ns)" in lines
    assert "python -c import ao; ao.ns adds ao.ns" in result.stdout
    assert run(reports[0], reports[0], "--fail-on", "any").exit_code == 0


def test_without_fail_on_ok_says_what_it_would_not_fail_on(tmp_path: Path) -> None:
    """No --fail-on: exit 0 whatever changed, and the verdict says that a name now fails."""
    new = documents.resolve_document()
    new["results"][1] = {**new["results"][1], "ok": False, "error": {"type": "ImportError", "message": "gone"}}
    paths = write(tmp_path / "old.json", documents.resolve_document()), write(tmp_path / "new.json", new)
    text = run(*paths)
    assert text.exit_code == 0
    assert text.stdout.splitlines()[-1] == ("ok: no --fail-on condition was given (1 name(s) now fail: "
                                            "--fail-on new-errors would fail on that)")
    markdown = run(*paths, "--format", "markdown")
    assert "☑️ no --fail-on given (1 name(s) now fail" in markdown.stdout.splitlines()[0]
    assert run(*paths, "--fail-on", "new-errors").exit_code == 1

