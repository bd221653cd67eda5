"""The cache is never wrong: a result is served only while everything it depends on is as it was
when it was measured (a file saved during the probe, a stub or a distribution's metadata read at
import, a user site-packages created later, the interpreter behind a shim), and only if this
machine's aoinspect wrote it (a cache shipped in a repository is ignored, never trusted, and
never a hang or a crash). Each run that could not use the cache says why."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from aoinspect.cli import cli
from aoinspect.probing import cache
from tests.helpers import FakePackages, document
from tests.packages import LAZY_INIT, lazy_package

KEY = "fedcba9876543210" * 4
PYENV = Path("/root/.pyenv/versions")


def _pythons() -> dict[str, str]:
    """``{"3.11": path, "3.12": path}`` of the pyenv interpreters this machine has."""
    found = {}
    for minor in ("3.11", "3.12"):
        for candidate in sorted(PYENV.glob(f"{minor}.*/bin/python{minor}")):
            found[minor] = str(candidate)
    return found


PYTHONS = _pythons()
needs_two_pythons = pytest.mark.skipif(len(PYTHONS) < 2, reason="needs pyenv's Python 3.11 and 3.12")


@pytest.fixture
def run(fake: FakePackages, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """The CLI with the cache on, in a working directory of its own, the key from the
    environment (as in CI) and the user's cache directory under ``tmp_path``."""
    workdir = tmp_path / "work"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv(cache.KEY_VARIABLE, KEY)

    def invoke(*args: str, fmt: str = "json") -> Any:
        env: dict[str, str | None] = {**fake.env, "AOINSPECT_NO_CACHE": None}
        result = CliRunner().invoke(cli, ["-p", "pkg", *args, "--format", fmt], env=env, catch_exceptions=False)
        assert result.exit_code in (0, 1), result.output
        return document(result) if fmt == "json" else result.stdout

    return invoke


def from_cache(doc: dict[str, Any]) -> dict[str, bool]:
    return {result["name"]: result["from_cache"] for result in doc["results"]}


def loaded(doc: dict[str, Any], name: str) -> set[str]:
    (result,) = [result for result in doc["results"] if result["name"] == name]
    return {load["module"] for load in result["materialized"]}


def miss(doc: dict[str, Any]) -> str | None:
    reason = doc["isolation"].get("cache_miss")
    assert reason is None or isinstance(reason, str)
    return reason


def cache_files(workdir: Path) -> list[Path]:
    return sorted((workdir / cache.CACHE_DIR_NAME).glob("v*/pkg/*.json"))


def forget_reports(workdir: Path) -> None:
    """Remove the report index (``cache.ReportMemo``), which a warm run reads instead of the
    document: what follows is about the document."""
    for report in (workdir / cache.CACHE_DIR_NAME).glob(f"v*/pkg/*{cache.REPORT_SUFFIX}"):
        report.unlink()


# --- stale results ----------------------------------------------------------------------------------


@pytest.mark.parametrize("isolation", ["auto", "spawn"])
def test_a_file_rewritten_while_its_probe_runs_is_measured_again(fake, run, isolation: str) -> None:
    """An editor save or a ``git checkout`` during a probe: the result measured from the old
    file must not be stored under the new file's state. Here the module rewrites itself as it
    is imported, which is the same race without a race."""
    root = fake.write(lazy_package("pkg", alpha="""\
        import os
        _path = __file__
        with open(_path) as _stream:
            _source = _stream.read()
        if not _source.startswith("import decimal"):
            with open(_path, "w") as _stream:
                _stream.write("import decimal\\n" + _source)
        """))
    first = run("--isolation", isolation, "resolve", "alpha", "beta")
    assert "decimal" not in loaded(first, "alpha")
    again = run("--isolation", isolation, "resolve", "alpha", "beta")
    assert from_cache(again) == {"alpha": False, "beta": True}
    assert "decimal" in loaded(again, "alpha")  # what a bare `python -c "import pkg; pkg.alpha"` loads now
    assert miss(again) == f"{root / 'pkg' / 'alpha.py'} changed while it was measured (last run)"
    # Nothing changes any more: the next run is served.
    assert from_cache(run("--isolation", isolation, "resolve", "alpha", "beta")) == {"alpha": True, "beta": True}


def test_a_module_added_while_its_probe_runs_is_measured_again(fake, run) -> None:
    """A ``git checkout`` that adds a module beside those a probe imports, after the probe
    looked for it: the directory recorded after the probe lists it, but the result did not see
    it. Here the module that looked for it creates it, the same race without a race."""
    root = fake.write(lazy_package("pkg", alpha="""\
        try:
            from . import gamma
        except ImportError:
            import os

            with open(os.path.join(os.path.dirname(__file__), "gamma.py"), "w") as _stream:
                _stream.write("import decimal\\n")
        """))
    assert "decimal" not in loaded(run("resolve", "alpha"), "alpha")
    again = run("resolve", "alpha")
    assert from_cache(again) == {"alpha": False}
    assert "decimal" in loaded(again, "alpha")
    assert miss(again) == f"{root / 'pkg' / 'gamma.py'} was added while it was measured (last run)"


STUB_INIT = """\
import os

# A lazy loader in the manner of lazy_loader.attach_stub: where each name lives is read from the stub.
with open(os.path.join(os.path.dirname(__file__), "__init__.pyi")) as _stub:
    _where = {line.split()[3]: line.split()[1][1:] for line in _stub if line.startswith("from .")}
__all__ = sorted(_where)


def __getattr__(name):
    import importlib

    if name in _where:
        return getattr(importlib.import_module("." + _where[name], __name__), name)
    raise AttributeError(name)
"""


def test_a_stub_read_by_a_lazy_loader_is_tracked(fake, run) -> None:
    root = fake.write({
        "pkg/__init__.py": STUB_INIT,
        "pkg/__init__.pyi": "from .alpha import thing\n",
        "pkg/alpha.py": "thing = 1\n",
        "pkg/gamma.py": "import decimal\nthing = 2\n",
    })
    stub = root / "pkg" / "__init__.pyi"
    assert "decimal" not in loaded(run("resolve", "thing"), "thing")
    before = stub.stat()
    stub.write_text("from .gamma import thing\n")  # same size
    os.utime(stub, ns=(before.st_atime_ns, before.st_mtime_ns))  # and the same mtime
    again = run("resolve", "thing")
    assert from_cache(again) == {"thing": False}
    assert "decimal" in loaded(again, "thing")
    assert miss(again) == f"{stub} changed"


def _distribution(root: Path, plugin: str) -> None:
    info = root / "plugdist-1.0.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: plugdist\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[pkg.plugins]\nmain = {plugin}\n")


def test_entry_points_of_a_distribution_reinstalled_under_the_same_name_are_read_again(fake, run) -> None:
    """The directory listing is the same (``plugdist-1.0.dist-info``); only the content of its
    ``entry_points.txt`` tells the plugin the import loads."""
    plugins = ("from importlib.metadata import entry_points\n"
               '[plugin.load() for plugin in entry_points(group="pkg.plugins")]\n')
    root = fake.write(lazy_package("pkg", init=plugins + LAZY_INIT.format(pkg="pkg"),
                                   alpha="VALUE = 1\n", beta="import decimal\nVALUE = 2\n"))
    _distribution(root, "pkg.alpha")
    first = run("resolve", "beta")
    assert loaded(first, "beta") >= {"pkg.beta", "decimal"}
    _distribution(root, "pkg.beta")  # pip install --force-reinstall of a changed plugdist 1.0
    again = run("resolve", "beta")
    assert from_cache(again) == {"beta": False}
    assert "pkg.beta" in {load["module"] for load in again["import"]["materialized"]}
    assert miss(again) == f"{root / 'plugdist-1.0.dist-info' / 'entry_points.txt'} changed"


def test_same_size_and_same_mtime_after_an_edit_is_seen(fake, run) -> None:
    """An edit that keeps the size and puts the mtime back (``cp -p``, ``touch -r``, a tool
    restoring timestamps) still moves the ctime, which no tool sets back."""
    root = fake.write(lazy_package("pkg", alpha="import calendar\n"))
    alpha = root / "pkg" / "alpha.py"
    an_hour_ago = alpha.stat().st_mtime_ns - 3600 * 10**9
    os.utime(alpha, ns=(an_hour_ago, an_hour_ago))
    assert "decimal" not in loaded(run("resolve", "alpha"), "alpha")
    alpha.write_text("import decimal\n\n")  # the same size
    os.utime(alpha, ns=(an_hour_ago, an_hour_ago))
    again = run("resolve", "alpha")
    assert from_cache(again) == {"alpha": False}
    assert "decimal" in loaded(again, "alpha")


def _user_site(python: str, base: Path) -> Path:
    output = subprocess.run([python, "-c", "import site; print(site.getusersitepackages())"], check=True,
                            capture_output=True, text=True, env={**os.environ, "PYTHONUSERBASE": str(base)})
    return Path(output.stdout.strip())


@needs_two_pythons
def test_a_user_site_created_after_the_first_run_is_seen(fake, run, tmp_path, monkeypatch) -> None:
    """``pip install --user`` creates the user site-packages, which the interpreter puts on
    sys.path only if it exists: under ``--python`` (a venv has none)."""
    python = PYTHONS["3.12"]
    monkeypatch.setenv("PYTHONUSERBASE", str(tmp_path / "userbase"))
    fake.write(lazy_package("pkg", alpha="try:\n    import usermod\nexcept ImportError:\n    pass\n"))
    first = run("--python", python, "resolve", "alpha")
    assert "decimal" not in loaded(first, "alpha")
    site = _user_site(python, tmp_path / "userbase")
    site.mkdir(parents=True)
    (site / "usermod.py").write_text("import decimal\n")
    again = run("--python", python, "resolve", "alpha")
    assert from_cache(again) == {"alpha": False}
    assert "decimal" in loaded(again, "alpha")
    assert miss(again) == f"the directory {site} appeared"


@needs_two_pythons
def test_a_pth_file_edited_in_place_is_seen(fake, run, tmp_path, monkeypatch) -> None:
    """A ``.pth`` file in a site directory (here the user site, under ``--python``) edited to the
    same size with its mtime put back: its content, not its name or mtime, decides."""
    python = PYTHONS["3.12"]
    monkeypatch.setenv("PYTHONUSERBASE", str(tmp_path / "userbase"))
    site = _user_site(python, tmp_path / "userbase")
    site.mkdir(parents=True)
    (tmp_path / "nowhere").mkdir()
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "extra.py").write_text("import decimal\n")
    pth = site / "extra.pth"
    pth.write_text(f"{tmp_path / 'nowhere'}\n")
    an_hour_ago = pth.stat().st_mtime_ns - 3600 * 10**9
    os.utime(pth, ns=(an_hour_ago, an_hour_ago))
    fake.write(lazy_package("pkg", alpha="try:\n    import extra\nexcept ImportError:\n    pass\n"))
    assert "decimal" not in loaded(run("--python", python, "resolve", "alpha"), "alpha")
    pth.write_text(f"{tmp_path / 'plugins'}\n".rjust(len(f"{tmp_path / 'nowhere'}\n")))  # the same size
    os.utime(pth, ns=(an_hour_ago, an_hour_ago))
    again = run("--python", python, "resolve", "alpha")
    assert from_cache(again) == {"alpha": False}
    assert "decimal" in loaded(again, "alpha")


@needs_two_pythons
@pytest.mark.parametrize("given", ["path", "name on PATH"])
def test_a_shim_is_identified_by_the_interpreter_it_runs(fake, run, tmp_path, monkeypatch, given: str) -> None:
    """A pyenv-style shim given to ``--python``: the same file runs 3.11 or 3.12 by what a
    file says (``.python-version``); 3.11's result is not 3.12's."""
    choice = tmp_path / "python-version"
    shim = tmp_path / "shims" / "python"
    shim.parent.mkdir()
    shim.write_text(f'#!/bin/sh\nexec "$(cat {choice})" "$@"\n')
    shim.chmod(shim.stat().st_mode | stat.S_IXUSR)
    python = str(shim) if given == "path" else "aoinspect-test-python"
    if given != "path":
        shim.rename(shim.parent / python)
    fake.write(lazy_package("pkg", alpha="import sys\nif sys.version_info >= (3, 12):\n    import decimal\n"))
    monkeypatch.setenv("PATH", f"{shim.parent}{os.pathsep}{os.environ['PATH']}")
    choice.write_text(PYTHONS["3.11"])
    first = run("--python", python, "resolve", "alpha")
    assert "decimal" not in loaded(first, "alpha")
    assert from_cache(run("--python", python, "resolve", "alpha")) == {"alpha": True}
    choice.write_text(PYTHONS["3.12"])
    again = run("--python", python, "resolve", "alpha")
    assert from_cache(again) == {"alpha": False}
    assert "decimal" in loaded(again, "alpha")
    reason = miss(again)
    assert reason is not None and reason.startswith("the interpreter changed (")
    assert os.path.realpath(PYTHONS["3.12"]) in reason


# --- a cache written by anyone else -------------------------------------------------------------------


def test_a_cache_made_under_another_key_is_not_used(fake, run, monkeypatch) -> None:
    """A cache shipped with a repository, or restored from someone else's CI: ignored."""
    fake.write(lazy_package("pkg"))
    run("resolve", "alpha", "beta")
    monkeypatch.setenv(cache.KEY_VARIABLE, "another machine's key, long enough to be one")
    again = run("resolve", "alpha", "beta")
    assert from_cache(again) == {"alpha": False, "beta": False}
    reason = miss(again)
    assert reason is not None and "not written by aoinspect with this machine's key" in reason
    # ... and rewritten under this key, then used.
    assert from_cache(run("resolve", "alpha", "beta")) == {"alpha": True, "beta": True}


def test_a_cache_restored_in_ci_after_a_fresh_checkout_is_used(fake, run, tmp_path) -> None:
    """CI: a new checkout (every file and directory written again, new mtimes and ctimes), the
    cache restored, the same AOINSPECT_CACHE_KEY: same contents, so every result is served."""
    root = fake.write(lazy_package("pkg", alpha="import decimal\n"))
    first = run("resolve", "alpha", "beta")
    saved = tmp_path / "saved-cache"
    (tmp_path / "work" / cache.CACHE_DIR_NAME).rename(saved)
    package = root / "pkg"
    sources = {path.name: path.read_bytes() for path in package.glob("*.py")}
    for path in package.iterdir():
        if path.is_file():
            path.unlink()
    for name, content in sources.items():
        (package / name).write_bytes(content)
    saved.rename(tmp_path / "work" / cache.CACHE_DIR_NAME)
    again = run("resolve", "alpha", "beta")
    assert from_cache(again) == {"alpha": True, "beta": True}
    assert loaded(again, "alpha") == loaded(first, "alpha")


def test_a_result_edited_in_the_cache_file_is_not_served(fake, run, tmp_path) -> None:
    """A doctored entry whose result parses (a module replaced by another) is never a result."""
    fake.write(lazy_package("pkg", alpha="import decimal\n"))
    run("resolve", "alpha", "beta")
    (path,) = cache_files(tmp_path / "work")
    path.write_bytes(path.read_bytes().replace(b'"decimal"', b'"fractions"'))
    forget_reports(tmp_path / "work")
    again = run("resolve", "alpha", "beta")
    assert from_cache(again) == {"alpha": False, "beta": False}
    assert "decimal" in loaded(again, "alpha") and "fractions" not in loaded(again, "alpha")


@pytest.mark.parametrize("entry", ["fifo", "dev-zero", "lines-of-numbers", "null-digest"])
def test_a_shipped_cache_is_ignored_not_trusted(fake, run, tmp_path, entry: str) -> None:
    """A FIFO in place of an entry must not hang the run, a symlink to /dev/zero must not eat
    memory, ``"lines": [1]`` must not crash it, and entries whose file states claim the current
    files with a null digest must not make a changed file look unchanged: each is ignored and
    rewritten."""
    root = fake.write(lazy_package("pkg", alpha="VALUE = 1\n"))
    run("resolve", "alpha")
    (path,) = cache_files(tmp_path / "work")
    forget_reports(tmp_path / "work")
    text = path.read_bytes()
    path.unlink()
    if entry == "fifo":
        os.mkfifo(path)
    elif entry == "dev-zero":
        path.symlink_to("/dev/zero")
    else:
        body = json.loads(text.partition(b"\n")[2] or text)  # as a repository would ship it: unsigned
        if entry == "null-digest":
            alpha = root / "pkg" / "alpha.py"
            alpha.write_text("import decimal\n")
            current = alpha.stat()
        for item in body["entries"].values():
            if entry == "lines-of-numbers":
                item["lines"] = [1]
                continue
            for file, state in (item.get("files") or body["files"]).items():
                if file == str(alpha):  # the state of the file as it is now, and no digest to contradict it
                    state[:] = [current.st_size, current.st_mtime_ns, *state[2:-1], None]
        path.write_text(json.dumps(body))
    again = run("resolve", "alpha")
    assert from_cache(again) == {"alpha": False}
    assert ("decimal" in loaded(again, "alpha")) == (entry == "null-digest")
    assert stat.S_ISREG(os.lstat(path).st_mode)  # rewritten as a file of this machine's
    assert from_cache(run("resolve", "alpha")) == {"alpha": True}


def test_a_default_cache_directory_that_is_a_symlink_is_not_followed(fake, run, tmp_path) -> None:
    fake.write(lazy_package("pkg"))
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "work" / cache.CACHE_DIR_NAME).symlink_to(outside)
    first = run("resolve", "alpha")
    assert list(outside.iterdir()) == []
    reason = miss(first)
    assert reason is not None and "is a symbolic link, which aoinspect does not follow" in reason
    # An explicit --cache-dir may point anywhere, through a symlink too.
    run("--cache-dir", str(tmp_path / "work" / cache.CACHE_DIR_NAME), "resolve", "alpha")
    assert list(outside.glob("v*/pkg/*.json"))


def test_a_symlink_planted_inside_the_cache_is_not_written_through(fake, run, tmp_path) -> None:
    fake.write(lazy_package("pkg"))
    outside = tmp_path / "outside"
    outside.mkdir()
    version = tmp_path / "work" / cache.CACHE_DIR_NAME / f"v{cache.VERSION}"
    version.mkdir(parents=True)
    (version / "pkg").symlink_to(outside)
    (tmp_path / "work" / cache.CACHE_DIR_NAME / "README.md").symlink_to(outside / "readme")
    run("resolve", "alpha")
    assert list(outside.iterdir()) == []


def test_the_key_file_is_created_private_outside_the_project(fake, run, tmp_path, monkeypatch) -> None:
    monkeypatch.delenv(cache.KEY_VARIABLE)
    fake.write(lazy_package("pkg"))
    run("resolve", "alpha")
    key = tmp_path / "xdg" / "aoinspect" / "key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert len(key.read_text().strip()) == 64
    assert from_cache(run("resolve", "alpha")) == {"alpha": True}
    key.write_text("0" * 64 + "\n")  # another key: what was written under the old one is not trusted
    assert from_cache(run("resolve", "alpha")) == {"alpha": False}


# --- why a run could not use the cache ------------------------------------------------------------------


def test_why_the_cache_was_not_used_is_reported(fake, run, monkeypatch, tmp_path) -> None:
    root = fake.write(lazy_package("pkg"))
    first = run("resolve", "alpha", "beta")
    assert miss(first) == "nothing was cached yet for this package"
    assert miss(run("resolve", "alpha", "beta")) is None  # every result came from the cache
    monkeypatch.setenv("PKG_MODE", "fast")
    assert miss(run("resolve", "alpha", "beta")) == "the environment variable PKG_MODE was set"
    monkeypatch.setenv("PKG_MODE", "slow")
    assert miss(run("resolve", "alpha", "beta")) == "the environment variable PKG_MODE changed"
    assert miss(run("resolve", "alpha", "gamma")) == "not measured before"
    (root / "pkg" / "beta.py").write_text("VALUE = 22\n")
    assert miss(run("resolve", "alpha", "beta")) == f"{root / 'pkg' / 'beta.py'} changed"
    (root / "pkg" / "delta.py").write_text("")
    assert miss(run("resolve", "alpha", "beta")) == f"a module was added to or removed from {root / 'pkg'}"


def test_the_text_output_says_why_in_one_line(fake, run) -> None:
    root = fake.write(lazy_package("pkg"))
    run("check")
    (root / "pkg" / "alpha.py").write_text("VALUE = 11\n")
    text = run("check", fmt="text")
    lines = [line for line in text.splitlines() if "not read from the cache" in line]
    assert lines == [f"measured, not read from the cache: {root / 'pkg' / 'alpha.py'} changed"]
    assert "1 of 2 names from the cache" in text
    assert "not read from the cache" not in run("check", fmt="text")


def test_the_child_reports_what_it_opened(fake, tmp_path) -> None:
    """The wire: the import section and the done section list the files opened for reading
    (bytecode and pseudo-files left out), and the directories the interpreter would search."""
    from aoinspect.probing.runner import BOOTSTRAP, MEASURE_FILE

    root = fake.write(lazy_package("pkg", init="open(__file__ + 'i').close()\n" + LAZY_INIT.format(pkg="pkg"),
                                   alpha="open('/proc/self/status').close()\nopen(__file__).close()\n"))
    (root / "pkg" / "__init__.pyi").write_text("")
    result = tmp_path / "result.jsonl"
    subprocess.run([sys.executable, "-c", BOOTSTRAP, MEASURE_FILE, str(result), "resolve", "pkg", "0", "alpha"],
                   check=True, env={**os.environ, **fake.env}, cwd=tmp_path)
    lines = [json.loads(line) for line in result.read_text().splitlines()]
    (imported,) = [line for line in lines if line["section"] == "import"]
    (done,) = [line for line in lines if line["section"] == "done"]
    # Modules appear too where no bytecode is read instead (PYTHONDONTWRITEBYTECODE).
    assert str(root / "pkg" / "__init__.pyi") in imported["reads"]
    assert str(root / "pkg" / "alpha.py") in done["reads"]
    assert not [path for path in imported["reads"] + done["reads"] if "__pycache__" in path or "/proc/" in path]
    assert isinstance(imported["search"], list)
