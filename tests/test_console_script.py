"""End to end: the installed ``aoinspect`` console script, run from another directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

CONSOLE_SCRIPT = Path(sys.executable).with_name("aoinspect")


def run(*args: str, cwd: Path, module: bool = False) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "aoinspect", *args] if module else [str(CONSOLE_SCRIPT), *args]
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("module", [False, True], ids=["console-script", "python-m"])
def test_resolve_quantization_from_another_directory(tmp_path: Path, module: bool) -> None:
    completed = run("resolve", "quantization", "--format", "json", cwd=tmp_path, module=module)
    assert completed.returncode == 0, completed.stderr
    (entry,) = json.loads(completed.stdout)["results"]
    assert entry["via_getattr"] and entry["cached"]
    assert "ao.nn.quantized" in {load["module"] for load in entry["materialized"]}


def test_the_done_when_commands_in_plain_text(tmp_path: Path) -> None:
    listed = run("list", cwd=tmp_path)
    assert listed.returncode == 0
    for name in ("nn", "ns", "pruning", "quantization"):
        assert f"  {name} " in listed.stdout
    bogus = run("resolve", "bogus", cwd=tmp_path)
    assert bogus.returncode == 1
    assert "module 'ao' has no attribute 'bogus'" in bogus.stdout
    checked = run("check", cwd=tmp_path)
    assert checked.returncode == 0 and "missing-dir" in checked.stdout
    assert "\x1b[" not in checked.stdout  # NO_COLOR, or not a terminal: plain text
    missing = run("-p", "no_such_pkg", "list", cwd=tmp_path)
    assert missing.returncode == 3 and "no_such_pkg" in missing.stderr
    assert "Traceback" not in bogus.stderr + checked.stderr + missing.stderr


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    completed = run("resolve", "--no-such-option", cwd=tmp_path)
    assert completed.returncode == 2
    assert "No such option" in completed.stderr
