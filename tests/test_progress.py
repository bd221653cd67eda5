"""The progress line (on a terminal's stderr only) and --names, which limits what is measured."""

from __future__ import annotations

import io

from aoinspect.progress import Progress
from tests.helpers import document
from tests.packages import lazy_package


def test_progress_counts_names_and_estimates_the_time_left() -> None:
    stream = io.StringIO()
    progress = Progress(stream, width=80, minimum=2)
    progress.planned(4)
    progress.finished(2, "alpha")
    assert "[############............] 2/4" in stream.getvalue()
    assert "alpha" in stream.getvalue()
    assert "left" in stream.getvalue()
    progress.close()
    assert stream.getvalue().endswith("\r")


def test_few_probes_draw_nothing() -> None:
    stream = io.StringIO()
    progress = Progress(stream, minimum=5)
    progress.planned(2)
    progress.finished(2, "alpha")
    progress.close()
    assert stream.getvalue() == ""


def test_no_progress_when_stderr_is_not_a_terminal(invoke, fake) -> None:
    fake.write(lazy_package("pkg"))
    result = invoke("-p", "pkg", "check", "--format", "json")
    assert result.stderr == ""


def test_names_limits_check_and_list_resolve(invoke, fake) -> None:
    fake.write(lazy_package("pkg"))
    checked = document(invoke("-p", "pkg", "check", "--names", "al*", "--format", "json"))
    assert [result["name"] for result in checked["results"]] == ["alpha"]
    listed = document(invoke("-p", "pkg", "list", "--resolve", "--names", "b*", "--names", "zeta", "--format", "json"))
    assert [result["name"] for result in listed["results"]] == ["beta"]


def test_names_that_match_nothing_are_a_usage_error(invoke, fake) -> None:
    # A typo in --names (or in [tool.aoinspect] names) must not turn check into one that checks
    # nothing and passes: the trap of a blocklist that silently checks nothing.
    fake.write(lazy_package("pkg"))
    for command in (["check"], ["list", "--resolve"]):
        result = invoke("-p", "pkg", *command, "--names", "Alpha*", "--names", "zeta", "--format", "json")
        assert result.exit_code == 2, result.stdout
        failure = document(result)
        assert failure["error"]["kind"] == "usage"
        assert "'Alpha*', 'zeta' matches none of the" in failure["error"]["message"]
        assert "matches none of the" in result.stderr
