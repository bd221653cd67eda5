"""``aoinspect.distributions``: which distribution installs each top-level name, read from the
metadata directories on ``sys.path`` as importlib_metadata reads them, without importing it."""

from __future__ import annotations

import sys
from pathlib import Path

import importlib_metadata
import pytest

from aoinspect import distributions
from aoinspect.child import distributions as reader


def dist_info(directory: Path, name: str, version: str, tops: list[str] | None = None,
              record: list[str] | None = None) -> None:
    info = directory / f"{name}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\n")
    if tops is not None:
        (info / "top_level.txt").write_text("".join(f"{top}\n" for top in tops))
    if record is not None:
        (info / "RECORD").write_text("".join(f"{path},,\n" for path in record))


def providers(found: list[object]) -> dict[str, tuple[str, str | None]]:
    everything: dict[str, tuple[str, str | None]] = {}
    for distribution in found:
        for top in reader.top_level_names(distribution):
            everything.setdefault(top, reader.name_and_version(distribution))
    return everything


def test_the_metadata_directories_are_importlib_metadatas(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    dist_info(first, "alpha_pkg", "1.0", tops=["alpha"])
    dist_info(first, "Beta.Pkg", "2.0", record=["beta/__init__.py", "beta_single.py", "_beta.cpython-313.so",
                                                 "Beta.Pkg-2.0.dist-info/RECORD"])
    dist_info(second, "alpha_pkg", "9.9", tops=["alpha", "alpha_extra"])  # alpha: the first directory wins
    dist_info(first, "Alpha.Pkg", "0.5", tops=["alpha_old"])  # the same normalized name, listed with its kin
    dist_info(second, "gamma", "3.0", tops=["gamma"])
    (second / "notes.txt").write_text("")
    path = [str(first), str(second), str(tmp_path / "missing")]
    expected = providers(list(importlib_metadata.distributions(path=path)))
    monkeypatch.setattr(sys, "path", path)
    found = distributions._metadata_directories()
    assert found is not None
    assert providers(found) == expected
    assert expected["alpha"] == ("alpha_pkg", "1.0") and expected["alpha_extra"] == ("alpha_pkg", "9.9")
    assert expected["beta"] == expected["beta_single"] == expected["_beta"] == ("Beta.Pkg", "2.0")


@pytest.mark.parametrize("oddity", ["egg", "egg-info file", "zip"])
def test_what_only_importlib_metadata_reads_goes_to_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       oddity: str) -> None:
    dist_info(tmp_path, "alpha", "1.0", tops=["alpha"])
    entry = str(tmp_path)
    if oddity == "egg":
        (tmp_path / "old-1.0-py3.9.egg").mkdir()
    elif oddity == "egg-info file":
        (tmp_path / "old-1.0.egg-info").write_text("Name: old\n")
    else:
        entry = str(tmp_path / "bundle.zip")
        Path(entry).write_bytes(b"PK\x05\x06" + b"\0" * 18)
    monkeypatch.setattr(sys, "path", [entry])
    assert distributions._metadata_directories() is None


def test_this_environment_reads_the_same_either_way() -> None:
    found = distributions._metadata_directories()
    assert found is not None
    assert providers(found) == providers(list(importlib_metadata.distributions()))
