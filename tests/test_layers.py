"""The architecture holds: the import-linter contracts in pyproject.toml (the layers, the child
apart from the parent, no two packages importing each other) are kept. Runs the same check as
``lint-imports`` in ``.ci/run``, so that a cycle or an import up the layers fails the suite too;
skips where import-linter is not installed."""

from __future__ import annotations

from pathlib import Path

import pytest

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def test_the_import_contracts_are_kept(capsys: pytest.CaptureFixture[str]) -> None:
    cli = pytest.importorskip("importlinter.cli")
    exit_code = cli.lint_imports(config_filename=str(PYPROJECT), no_cache=True, no_logo=True)
    output = capsys.readouterr().out
    assert exit_code == 0, output
    assert "0 broken" in output
