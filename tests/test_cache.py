"""The incremental cache: a second run reuses every result, says so, and reports exactly what a
fresh run reports; any change to what a result depends on measures it again; a broken cache
file is ignored and rewritten."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from aoinspect.cli import cli
from aoinspect.probing import cache
from tests.helpers import FakePackages, document
from tests.packages import lazy_package

KEY = "0123456789abcdef" * 4


@pytest.fixture
def cached(fake: FakePackages, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Run the CLI with the cache on, in a working directory of its own, with a known key."""
    workdir = tmp_path / "work"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv(cache.KEY_VARIABLE, KEY)

    def run(*args: str) -> dict[str, Any]:
        env: dict[str, str | None] = {**fake.env, "AOINSPECT_NO_CACHE": None}
        result: Result = CliRunner().invoke(cli, ["-p", "pkg", *args, "--format", "json"], env=env,
                                            catch_exceptions=False)
        doc = document(result)
        print("MISS", (doc.get("isolation") or {}).get("cache_miss"), doc.get("error"))
        return doc

    return run


def read_signed(path: Path) -> Any:
    """A cache file's document (its MAC checked)."""
    header, _, body = path.read_bytes().partition(b"\n")
    assert header.split()[2].decode() == cache._mac(KEY.encode(), body)
    return json.loads(body)


def write_signed(path: Path, document_: Any) -> None:
    """Write a document as aoinspect would, signed with the test's key: what the cache must
    still not trust blindly."""
    body = json.dumps(document_).encode()
    path.write_bytes(f"{cache.FORMAT} {cache.VERSION} {cache._mac(KEY.encode(), body)}\n".encode() + body)


def forget_reports(workdir: Path) -> None:
    """Remove the report index (``cache.ReportMemo``), which a warm run reads instead of the
    document: what follows is about the document."""
    for report in (workdir / cache.CACHE_DIR_NAME).glob(f"v*/pkg/*{cache.REPORT_SUFFIX}"):
        report.unlink()


def from_cache(doc: dict[str, Any]) -> dict[str, bool]:
    return {result["name"]: result["from_cache"] for result in doc["results"]}


def modules(doc: dict[str, Any]) -> dict[str, list[tuple[str, str | None]]]:
    return {result["name"]: [(load["module"], load["parent"]) for load in result["materialized"]]
            for result in doc["results"]}


def test_a_second_run_reuses_every_result_and_says_so(fake, cached, tmp_path) -> None:
    fake.write(lazy_package("pkg", alpha="import decimal\n"))
    first = cached("check")
    second = cached("check")
    assert from_cache(first) == {"alpha": False, "beta": False}
    assert from_cache(second) == {"alpha": True, "beta": True}
    assert modules(first) == modules(second)
    assert first["findings"] == second["findings"]
    assert second["isolation"]["reason"] == "every result came from the cache"
    cache = tmp_path / "work" / ".aoinspect_cache"
    assert (cache / ".gitignore").read_text().splitlines()[-1] == "*"
    assert (cache / "README.md").exists()


def test_the_cache_sits_beside_the_nearest_pyproject(fake, cached, tmp_path, monkeypatch) -> None:
    fake.write(lazy_package("pkg"))
    (tmp_path / "work" / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (tmp_path / "work" / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "work" / "sub")
    cached("resolve", "alpha", "beta")
    assert (tmp_path / "work" / ".aoinspect_cache").is_dir()
    assert not (tmp_path / "work" / "sub" / ".aoinspect_cache").exists()


def test_editing_a_module_measures_only_what_read_it(fake, cached) -> None:
    root = fake.write(lazy_package("pkg", alpha="VALUE = 1\n", beta="VALUE = 2\n"))
    cached("resolve", "alpha", "beta")
    # Same size, same second: only the content hash can tell.
    (root / "pkg" / "alpha.py").write_text("VALUE = 3\n")
    again = cached("resolve", "alpha", "beta")
    assert from_cache(again) == {"alpha": False, "beta": True}


def test_a_new_import_in_a_module_is_measured(fake, cached) -> None:
    root = fake.write(lazy_package("pkg"))
    cached("resolve", "alpha", "beta")
    (root / "pkg" / "alpha.py").write_text("import decimal\nVALUE = 1\n")
    again = cached("resolve", "alpha", "beta")
    assert "decimal" in [module for module, _parent in modules(again)["alpha"]]


@pytest.mark.parametrize("shadow", ["pkg/alpha/__init__.py", "cwd:pkg/__init__.py"])
def test_a_file_that_shadows_a_module_invalidates(fake, cached, tmp_path, shadow: str) -> None:
    root = fake.write(lazy_package("pkg"))
    cached("resolve", "alpha", "beta")
    if shadow.startswith("cwd:"):
        # The working directory comes first on a `python -c` sys.path.
        target = tmp_path / "work" / shadow[4:]
        fake_init = (root / "pkg" / "__init__.py").read_text()
        target.parent.mkdir(parents=True)
        target.write_text(fake_init.replace('__all__ = ["alpha", "beta"]', '__all__ = ["alpha", "beta"]\nSHADOW = 1'))
        (target.parent / "alpha.py").write_text("import decimal\n")
        (target.parent / "beta.py").write_text("")
    else:
        (root / shadow).parent.mkdir()
        (root / shadow).write_text("import decimal\n")
    again = cached("resolve", "alpha", "beta")
    assert from_cache(again) == {"alpha": False, "beta": False}
    assert "decimal" in [module for module, _parent in modules(again)["alpha"]]


@pytest.mark.parametrize("where", ["cwd", "package"])
def test_a_file_no_import_can_see_keeps_the_cache(fake, cached, tmp_path, where: str) -> None:
    """``aoinspect check --format json > report.json`` in the project: the working directory is on
    the child's sys.path and its mtime changes, but nothing an import could find did."""
    root = fake.write(lazy_package("pkg", alpha="import decimal\n"))
    cached("resolve", "alpha", "beta")
    directory = tmp_path / "work" if where == "cwd" else root / "pkg"
    before = directory.stat().st_mtime_ns
    (directory / "report.json").write_text("{}")
    (directory / "notes.txt").write_text("")
    os.utime(directory, ns=(before + 10**9, before + 10**9))  # the same second would not show it
    assert from_cache(cached("resolve", "alpha", "beta")) == {"alpha": True, "beta": True}
    (directory / "gamma.py").write_text("")  # ... but a module, which an import could find, does
    os.utime(directory, ns=(before + 2 * 10**9, before + 2 * 10**9))
    assert from_cache(cached("resolve", "alpha", "beta")) == {"alpha": False, "beta": False}


def test_variables_of_one_ci_run_or_terminal_keep_the_cache(fake, cached, monkeypatch) -> None:
    """A persisted cache in CI is worth something only if the next run, with its own run id and
    step files, can use it."""
    fake.write(lazy_package("pkg"))
    monkeypatch.setenv("GITHUB_RUN_ID", "1")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", "/runner/_temp/step_summary_1")
    cached("resolve", "alpha", "beta")
    monkeypatch.setenv("GITHUB_RUN_ID", "2")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", "/runner/_temp/step_summary_2")
    monkeypatch.setenv("GPG_TTY", "/dev/pts/7")
    assert from_cache(cached("resolve", "alpha", "beta")) == {"alpha": True, "beta": True}


def test_another_environment_does_not_share_results(fake, cached, monkeypatch) -> None:
    fake.write(lazy_package("pkg"))
    cached("resolve", "alpha", "beta")
    monkeypatch.setenv("PKG_MODE", "other")  # a package may read any variable
    assert from_cache(cached("resolve", "alpha", "beta")) == {"alpha": False, "beta": False}


@pytest.mark.parametrize("damage", ["truncate", "garbage", "foreign", "wrong types"])
def test_a_broken_cache_file_is_ignored_and_rewritten(fake, cached, tmp_path, damage: str) -> None:
    fake.write(lazy_package("pkg"))
    first = cached("resolve", "alpha", "beta")
    (path,) = (tmp_path / "work" / ".aoinspect_cache").glob(f"v{cache.VERSION}/pkg/*.json")
    text = path.read_text()
    broken = {
        "truncate": text[: len(text) // 2],
        "garbage": "\x00\xff not json",
        "foreign": json.dumps({"format": "something-else", "entries": {}}),
        "wrong types": None,
    }[damage]
    if broken is None:  # signed with the right key, and still not trusted to be well formed
        write_signed(path, {**read_signed(path), "entries": {"x": 1}, "imports": [[]]})
    else:
        path.write_text(broken)
    forget_reports(tmp_path / "work")
    second = cached("resolve", "alpha", "beta")
    assert from_cache(second) == {"alpha": False, "beta": False}
    assert modules(second) == modules(first)
    assert from_cache(cached("resolve", "alpha", "beta")) == {"alpha": True, "beta": True}


def test_a_doctored_entry_is_a_protocol_error_not_a_result(fake, cached, tmp_path) -> None:
    fake.write(lazy_package("pkg"))
    cached("resolve", "alpha", "beta")
    (path,) = (tmp_path / "work" / ".aoinspect_cache").glob(f"v{cache.VERSION}/pkg/*.json")
    document_ = read_signed(path)
    for entry in document_["entries"].values():
        entry["lines"] = [{"section": "resolve", "name": 5}]
    write_signed(path, document_)
    forget_reports(tmp_path / "work")
    again = cached("resolve", "alpha", "beta")
    assert from_cache(again) == {"alpha": False, "beta": False}
    assert all(result["ok"] for result in again["results"])


def test_no_cache_reads_and_writes_nothing(fake, cached, tmp_path) -> None:
    fake.write(lazy_package("pkg"))
    cached("--no-cache", "resolve", "alpha", "beta")
    assert not (tmp_path / "work" / ".aoinspect_cache").exists()
    cached("--cache-dir", str(tmp_path / "elsewhere"), "resolve", "alpha", "beta")
    assert list((tmp_path / "elsewhere").glob(f"v{cache.VERSION}/pkg/*.json"))
    (entries,) = (tmp_path / "elsewhere").glob(f"v{cache.VERSION}/pkg")
    assert not any(name.startswith(".tmp-") for name in os.listdir(entries))


def test_a_warm_single_resolve_reads_the_cache_file_once(fake, cached, monkeypatch) -> None:
    # The CLI's start_early reads the cache to know whether to start a probe; the session then
    # uses that cache, rather than reading and verifying the file a second time.
    fake.write(lazy_package("pkg"))
    cached("resolve", "beta")
    forget_reports(Path.cwd())  # what follows is about the document
    reads = count_reads(monkeypatch)
    doc = cached("resolve", "beta")
    assert from_cache(doc) == {"beta": True}
    assert len(documents_read(reads)) == 1


# --- the report index (cache.ReportMemo): a warm check reads one small file --------------------


def count_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every cache file read from now on, by path."""
    reads: list[str] = []
    real = cache._read_document

    def counted(path: str, key: bytes) -> Any:
        reads.append(path)
        return real(path, key)

    monkeypatch.setattr(cache, "_read_document", counted)
    return reads


def documents_read(reads: list[str]) -> list[str]:
    return [path for path in reads if path.endswith(".json") and os.sep + "pkg" + os.sep in path]


def test_a_cold_check_leaves_the_warm_report_and_a_warm_check_reads_only_it(fake, cached, tmp_path,
                                                                            monkeypatch) -> None:
    fake.write(lazy_package("pkg", alpha="import decimal\n"))
    cold = cached("check")
    assert from_cache(cold) == {"alpha": False, "beta": False}
    reads = count_reads(monkeypatch)
    warm = cached("check")
    # Served whole from the report index: the document of every probe result is not read.
    assert documents_read(reads) == []
    assert [path for path in reads if path.endswith(cache.REPORT_SUFFIX)]
    assert from_cache(warm) == {"alpha": True, "beta": True}
    assert warm["isolation"]["reason"] == "every result came from the cache"
    # ... and it is what a warm run made from the document prints.
    for report in (tmp_path / "work" / ".aoinspect_cache").glob(f"v{cache.VERSION}/pkg/*{cache.REPORT_SUFFIX}"):
        report.unlink()
    assert cached("check") == warm
    assert documents_read(reads)


def test_a_warm_check_does_not_read_a_damaged_document(fake, cached, tmp_path) -> None:
    fake.write(lazy_package("pkg"))
    cached("check")
    warm = cached("check")
    (path,) = (tmp_path / "work" / ".aoinspect_cache").glob(f"v{cache.VERSION}/pkg/*.json")
    path.write_text("\x00\xff not json")
    assert cached("check") == warm


def test_a_warm_check_notices_a_changed_file(fake, cached) -> None:
    root = fake.write(lazy_package("pkg", alpha="VALUE = 1\n", beta="VALUE = 2\n"))
    cached("check")
    cached("check")
    (root / "pkg" / "alpha.py").write_text("import decimal\n")
    again = cached("check")
    assert from_cache(again) == {"alpha": False, "beta": True}
    assert "decimal" in [module for module, _parent in modules(again)["alpha"]]


def test_a_warm_check_does_not_revalidate_what_it_does_not_report(fake, cached, tmp_path, monkeypatch) -> None:
    """Only what the report was made from is checked: what a name it does not report reads may
    change, and the name's entry in the document may be damaged, without either being looked at."""
    root = fake.write({**lazy_package("pkg", beta="import helper\n"), "helper.py": "VALUE = 1\n"})
    only_alpha = ("check", "--names", "alpha", "--ignore", "whole-package")
    cached("check")  # every name measured and kept
    first = cached(*only_alpha)
    assert from_cache(first) == {"alpha": True}
    (path,) = (tmp_path / "work" / ".aoinspect_cache").glob(f"v{cache.VERSION}/pkg/*.json")
    document_ = read_signed(path)
    for key, entry in document_["entries"].items():
        if "beta" in key:
            entry["lines"] = [{"section": "resolve", "name": 5}]
    write_signed(path, document_)
    (root / "helper.py").write_text("import decimal\n")
    checked: list[str] = []
    real = cache._file_problem

    def counted(path_: str, recorded: Any) -> str | None:
        checked.append(path_)
        return real(path_, recorded)

    monkeypatch.setattr(cache, "_file_problem", counted)
    reads = count_reads(monkeypatch)
    assert cached(*only_alpha) == first
    assert documents_read(reads) == []
    assert any(path_.endswith("alpha.py") for path_ in checked)
    assert not any(path_.endswith("helper.py") for path_ in checked)
    # The whole check reports beta: the change is noticed, and the damaged entry measured again.
    whole = cached("check")
    assert from_cache(whole) == {"alpha": True, "beta": False}
    assert "decimal" in [module for module, _parent in modules(whole)["beta"]]


def test_a_file_the_cli_read_itself_is_part_of_the_report(fake, cached, tmp_path) -> None:
    """The baseline is read by the CLI, not by a probe: a change to it is a new report."""
    fake.write(lazy_package("pkg", alpha="import decimal\n"))
    baseline = tmp_path / "work" / "aoinspect.lock.json"
    cached("check", "--baseline", str(baseline), "--update-baseline")

    def against_baseline() -> list[str]:
        findings = cached("check", "--baseline", str(baseline))["findings"]
        return [finding["name"] for finding in findings if finding["rule"] == "new-import"]

    assert against_baseline() == []
    assert against_baseline() == []  # served whole
    locked = json.loads(baseline.read_text())
    locked["names"]["alpha"] = [module for module in locked["names"]["alpha"] if module != "decimal"]
    baseline.write_text(json.dumps(locked))
    assert against_baseline() == ["alpha"]


def test_a_report_made_by_other_aoinspect_sources_is_not_served(fake, cached, monkeypatch) -> None:
    fake.write(lazy_package("pkg"))
    cached("check")
    reads = count_reads(monkeypatch)
    monkeypatch.setattr(cache, "source_fingerprint", lambda: "an upgraded aoinspect")
    assert from_cache(cached("check")) == {"alpha": True, "beta": True}
    assert documents_read(reads)


@pytest.mark.parametrize("damage", ["edited", "garbage"])
def test_a_doctored_report_index_is_not_served(fake, cached, tmp_path, damage: str) -> None:
    """The report index is authenticated as the document is: an edited report is not printed."""
    fake.write(lazy_package("pkg", alpha="import decimal\n"))
    cached("check")
    warm = cached("check")
    (report,) = (tmp_path / "work" / ".aoinspect_cache").glob(f"v{cache.VERSION}/pkg/*{cache.REPORT_SUFFIX}")
    data = report.read_bytes()
    report.write_bytes(data.replace(b"decimal", b"fractions") if damage == "edited" else b"\x00 not a report")
    assert cached("check") == warm


def test_a_run_that_could_not_keep_every_result_leaves_no_report(fake, cached, tmp_path, monkeypatch) -> None:
    """A result not kept (here: alpha.py seen changed while it was measured) would be measured by
    the pass that makes the warm run's report: there is none, and nothing runs twice."""
    fake.write(lazy_package("pkg"))
    real = cache.ProbeCache._states

    def states(self, files, loaded=(), dirs=()):  # type: ignore[no-untyped-def]
        file_states, dir_states, changed = real(self, files, loaded, dirs)
        read = [*files, *loaded]
        return file_states, dir_states, changed or ("alpha.py changed" if any(
            str(path).endswith("alpha.py") for path in read if path) else None)

    monkeypatch.setattr(cache.ProbeCache, "_states", states)
    measured: list[object] = []
    real_put = cache.ProbeCache.put
    monkeypatch.setattr(cache.ProbeCache, "put", lambda self, runs: measured.extend(runs) or real_put(self, runs))
    cold = cached("check")
    assert from_cache(cold) == {"alpha": False, "beta": False}
    assert not list((tmp_path / "work" / ".aoinspect_cache").glob(f"v{cache.VERSION}/pkg/*{cache.REPORT_SUFFIX}"))
    assert len({json.dumps(run.request.fields()) for run in measured}) == len(measured)  # none measured twice


def test_a_check_that_suggests_lazy_imports_keeps_no_report(fake, cached, tmp_path, monkeypatch) -> None:
    """--suggest-lazy's graph child runs outside the probe cache: a kept report would have a warm
    run start it again (the replay) and depend on its temporary directory. None is kept; the
    same check without it keeps one."""
    from aoinspect import graphing

    fake.write(lazy_package("pkg", alpha="import decimal\n"))
    graphs: list[object] = []
    real = graphing.record_graph
    monkeypatch.setattr(graphing, "record_graph", lambda *args, **kwargs: graphs.append(args) or real(*args, **kwargs))
    reports = tmp_path / "work" / ".aoinspect_cache"
    cached("check", "--suggest-lazy", "0")
    assert len(graphs) == 1  # no second pass started another
    assert not list(reports.glob(f"v{cache.VERSION}/pkg/*{cache.REPORT_SUFFIX}"))
    cached("check")
    assert list(reports.glob(f"v{cache.VERSION}/pkg/*{cache.REPORT_SUFFIX}"))


def test_a_directory_the_package_lists_is_read_whole(fake, cached, tmp_path) -> None:
    """A plugin folder: alpha imports decimal when its directory holds a ``*.plugin`` file. Adding
    one changes no name an import can see, yet changes the result: the listing is part of what
    alpha read. beta, which lists nothing, stays cached: the import system's own listing of the
    directory is not the package's."""
    listing = ("import os\n"
               "if any(name.endswith('.plugin') for name in os.listdir(os.path.dirname(__file__))):\n"
               "    import decimal\n")
    root = fake.write(lazy_package("pkg", alpha=listing))
    cached("resolve", "alpha", "beta")
    assert from_cache(cached("resolve", "alpha", "beta")) == {"alpha": True, "beta": True}
    (root / "pkg" / "extra.plugin").write_text("")
    again = cached("resolve", "alpha", "beta")
    assert from_cache(again) == {"alpha": False, "beta": True}
    assert "decimal" in [module for module, _parent in modules(again)["alpha"]]
    assert "the listing of" in again["isolation"]["cache_miss"] and "which the package read" in again["isolation"][
        "cache_miss"]


def test_a_cache_directory_made_in_the_working_directory_is_not_a_change(fake, cached, tmp_path) -> None:
    """``--cache-dir cache``: the first run makes ``cache`` in the working directory, which is on
    the probes' sys.path, and a name an import could see. Its results are still kept: the cache
    directory is aoinspect's, not something the package may have seen appear."""
    fake.write(lazy_package("pkg"))
    first = cached("--cache-dir", "cache", "resolve", "alpha")
    assert from_cache(first) == {"alpha": False}
    assert from_cache(cached("--cache-dir", "cache", "resolve", "alpha")) == {"alpha": True}
    (tmp_path / "work" / "newmod.py").write_text("")  # a name any other run made there still counts
    again = cached("--cache-dir", "cache", "resolve", "alpha")
    assert from_cache(again) == {"alpha": False} and "a module was added" in again["isolation"]["cache_miss"]


def test_a_package_keeps_the_result_documents_of_its_latest_environments_only(fake, cached, tmp_path,
                                                                             monkeypatch) -> None:
    """Each environment (a variable's value here) has a result document of its own: the oldest
    beyond the limit are removed as new ones are written, never the one just written; a run in
    an environment whose document went measures again and says which variable differs."""
    monkeypatch.setattr(cache, "ENVIRONMENTS_KEPT", 2)
    fake.write(lazy_package("pkg"))
    folder = tmp_path / "work" / ".aoinspect_cache" / f"v{cache.VERSION}" / "pkg"

    def kept() -> set[str]:
        return {path.name for path in folder.glob("*.json")}

    written: list[set[str]] = []
    for value in ("one", "two", "three"):
        monkeypatch.setenv("AOINSPECT_TEST_VARIABLE_X", value)  # excluded from the key: not what varies
        monkeypatch.setenv("PRUNED_SETTING", value)
        cached("resolve", "alpha")
        written.append(kept())
    assert [len(names) for names in written] == [1, 2, 2]
    assert written[0] <= written[1] and not written[0] & written[2]  # the oldest went first
    monkeypatch.setenv("PRUNED_SETTING", "one")
    for report in folder.glob(f"*{cache.REPORT_SUFFIX}"):  # the report index would answer first
        report.unlink()
    again = cached("resolve", "alpha")
    assert from_cache(again) == {"alpha": False}
    assert "PRUNED_SETTING" in again["isolation"]["cache_miss"]


def test_a_package_keeps_the_reports_of_its_latest_command_lines_only(fake, cached, tmp_path, monkeypatch) -> None:
    """Each command line (options, format, width, environment) has a report of its own: the
    oldest beyond the limit are removed as new ones are written, never the one just written."""
    monkeypatch.setattr(cache, "REPORTS_KEPT", 2)
    fake.write(lazy_package("pkg"))
    reports = tmp_path / "work" / ".aoinspect_cache"

    def kept() -> set[str]:
        return {path.name for path in reports.glob(f"v{cache.VERSION}/pkg/*{cache.REPORT_SUFFIX}")}

    written: list[set[str]] = []
    for options in (("--names", "alpha"), ("--names", "beta"), ("--strict",)):
        cached("check", *options)
        written.append(kept())
    assert [len(names) for names in written] == [1, 2, 2]
    assert written[0] <= written[1] and not written[0] & written[2]  # the oldest went first
    assert written[2] - written[1]  # the newest is there


def test_a_warm_check_plans_the_pickle_probes_a_cold_one_ran(fake, cached, monkeypatch) -> None:
    """Which names share a pickle probe (the star import's) is the options' choice, never what was
    measured (a warm run keeps predictions, not the graph): the cache answers every probe again."""
    from aoinspect.child import protocol
    from aoinspect.probing.session import Session
    from tests.test_introspection import PICKLE_BREAKER

    measured: list[str] = []
    run = Session._run

    def recording(self: Session, requests: list[Any]) -> list[Any]:
        measured.extend(request.mode for request in requests)
        return run(self, requests)

    def guessing(self: Session, requests: list[Any], then: Any = None, **lane: Any) -> None:
        measured.extend(request.mode for request in requests)  # started beside the predicting child
        return prefetch(self, requests, then, **lane)

    prefetch = Session.prefetch
    monkeypatch.setattr(Session, "_run", recording)
    monkeypatch.setattr(Session, "prefetch", guessing)
    fake.write(PICKLE_BREAKER)
    cold = cached("check")
    assert protocol.MODE_STAR in measured
    measured.clear()
    forget_reports(Path.cwd())  # the probes' results, not the report index, are what this is about
    warm = cached("check")
    assert measured == []
    assert warm["findings"] == cold["findings"]


def test_a_run_reads_the_state_of_each_file_once_however_many_results_depend_on_it(fake, cached,
                                                                                    monkeypatch) -> None:
    # Every probe of a check loads pkg and decimal: their files are recorded for each result kept,
    # read (and hashed) once.
    fake.write(lazy_package("pkg", alpha="import decimal\n", beta="import decimal\n"))
    read: list[str] = []
    real = cache._file_state
    monkeypatch.setattr(cache, "_file_state", lambda path: read.append(path) or real(path))
    cold = cached("check", "--isolation", "fork-each")
    assert from_cache(cold) == {"alpha": False, "beta": False}
    decimal_file = [path for path in read if path.endswith(os.sep + "decimal.py")]
    assert len(decimal_file) == 1
    assert len(read) == len(set(read))


def test_the_tables_predicted_entries_share_are_read_back_shared_and_bad_indices_refused() -> None:
    predicted = cache._PREDICTED_PREFIX
    files = {"/pkg/a.py": [1, 2, 3, None], "/pkg/b.py": [4, 5, 6, "digest"]}
    dirs = {"/pkg": [7, "listing"]}
    loads = {"modules": ["pkg.a"], "parents": [-1], "depths": [0]}
    entries = {
        f"{predicted}a": {"import": 0, "predicted": {"name": "a", "loads": loads}, "files": files, "dirs": dirs},
        f"{predicted}b": {"import": 0, "predicted": {"name": "b", "loads": loads}, "files": dict(files), "dirs": dirs},
        '["resolve", "pkg", "0", "alpha"]': {"import": 0, "lines": [], "files": files, "dirs": dirs},
    }
    written, tables = cache._shared(entries)
    assert (len(tables["states"]), len(tables["groups"]), len(tables["loads"])) == (3, 2, 1)
    document_ = json.loads(json.dumps({"entries": written, **tables}))
    read = cache._unshared(document_["entries"], document_)
    assert read == json.loads(json.dumps(entries))
    assert read[f"{predicted}a"]["files"] is read[f"{predicted}b"]["files"]
    assert read[f"{predicted}a"]["predicted"]["loads"] is read[f"{predicted}b"]["predicted"]["loads"]
    for damage in (5, -1, "0", None):
        broken = json.loads(json.dumps(document_))
        broken["entries"][f"{predicted}a"]["files"] = damage
        assert set(cache._unshared(broken["entries"], broken)) == set(entries) - {f"{predicted}a"}


def test_the_replay_serves_the_runs_its_check_kept_without_parsing_them_again(fake, cached, tmp_path,
                                                                            monkeypatch) -> None:
    """The pass that keeps a cold check's warm report is served the runs the check kept, their
    sections as they are; the report it keeps is the one a warm run that parses them prints."""
    from aoinspect.probing import wire

    fake.write(lazy_package("pkg", alpha="import decimal\n"))
    parsed: list[str] = []  # the cache entries parsed again, by mode
    real_get, real_make_run = cache.ProbeCache.get, wire.make_run
    inside = []

    def get(self: cache.ProbeCache, request: wire.ProbeRequest, timeout: float) -> Any:
        inside.append(True)
        try:
            return real_get(self, request, timeout)
        finally:
            inside.pop()

    def make_run(request: wire.ProbeRequest, *args: Any, **kwargs: Any) -> wire.ProbeRun:
        if inside:
            parsed.append(request.mode)
        return real_make_run(request, *args, **kwargs)

    monkeypatch.setattr(cache.ProbeCache, "get", get)
    monkeypatch.setattr(wire, "make_run", make_run)
    cached("check")
    assert parsed == []
    kept = cached("check")  # the report the replay kept
    forget_reports(tmp_path / "work")
    assert cached("check") == kept
    assert "resolve" in parsed  # a warm run that read the document parsed each entry


def test_a_cold_check_and_its_replay_read_the_package_and_its_distributions_once_each(fake, cached,
                                                                                       monkeypatch) -> None:
    """The pass that keeps the warm report after a cold check reads what the check read: the
    package's files that may declare ``__lazy_modules__`` once a pass (however often the rules
    ask), and which distribution installs what once a command (the cold pass's index)."""
    from aoinspect import distributions
    from aoinspect.rules import lazy_modules

    fake.write(lazy_package("pkg", alpha="import decimal\n"))
    walks: list[str] = []
    real_files = lazy_modules.package_files
    monkeypatch.setattr(lazy_modules, "package_files", lambda context: walks.append(context.package)
                        or real_files(context))
    indexes: list[object] = []
    real_init = distributions.DistributionIndex.__init__

    def init(self: object, *args: Any, **kwargs: Any) -> None:
        indexes.append(self)
        real_init(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(distributions.DistributionIndex, "__init__", init)
    cold = cached("check")
    assert from_cache(cold) == {"alpha": False, "beta": False}
    assert walks == ["pkg", "pkg"]  # the cold pass and the replay
    assert len(indexes) == 1
    warm = cached("check")  # served whole from what the replay kept: nothing read again
    assert from_cache(warm) == {"alpha": True, "beta": True}
    assert (walks, len(indexes)) == (["pkg", "pkg"], 1)


def test_declarations_read_before_the_child_answers_are_used_only_for_the_file_it_reports(
        fake, invoke, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A command reads the package's declarations from the file this interpreter's path finds
    while its first child starts (``engine._EarlyDeclarations``): a file the child does not
    import (another ``pkg`` first on a path only this process has) declares nothing."""
    from aoinspect import declarations

    fake.write(lazy_package("pkg"))
    decoy = tmp_path / "decoy" / "pkg"
    decoy.mkdir(parents=True)
    (decoy / "__init__.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .gamma import G as G\n")
    (decoy / "gamma.py").write_text("G = 1\n")
    found: list[str | None] = []
    real = declarations.find_init
    monkeypatch.setattr(declarations, "find_init", lambda package: found.append(real(package)) or str(
        decoy / "__init__.py"))
    listed = document(invoke("-p", "pkg", "--no-cache", "list", "--format", "json"))
    assert found  # the guess was made, and is not what the child imported
    assert [name["name"] for name in listed["names"]] == ["alpha", "beta"]
