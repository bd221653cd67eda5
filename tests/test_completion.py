"""Shell completion through Click's protocol (in this process), and in a real bash session."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from aoinspect.cli import cli
from aoinspect.completion import complete_names
from tests.packages import lazy_package

CONSOLE_SCRIPT = Path(sys.executable).with_name("aoinspect")


def complete(words: str, cword: int, env: dict[str, str] | None = None) -> list[str]:
    """What Click's bash protocol answers, in this process (the real shell: test_a_real_bash_session)."""
    environment = {**(env or {}), "COMP_WORDS": words, "COMP_CWORD": str(cword), "_AOINSPECT_COMPLETE": "bash_complete"}
    result = CliRunner().invoke(cli, [], prog_name="aoinspect", env=environment, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return [line.split(",", 1)[1] for line in result.stdout.splitlines()]


def test_names_of_ao_through_clicks_protocol(tmp_path) -> None:
    assert complete("aoinspect resolve ", 2) == ["nn", "ns", "pruning", "quantization"]
    assert complete("aoinspect resolve q", 2) == ["quantization"]
    assert complete("aoinspect resolve nn.qu", 2) == ["nn.quantizable", "nn.quantized"]


def test_names_of_the_package_given_with_p(fake) -> None:
    fake.write(lazy_package("pkg"))
    assert complete("aoinspect -p pkg resolve ", 4, fake.env) == ["alpha", "beta"]
    assert complete("aoinspect resolve -p pkg b", 4, fake.env) == ["beta"]


def test_completion_never_imports_the_package(fake, tmp_path) -> None:
    marker = tmp_path / "imported"
    fake.write(lazy_package("pkg", init=f"open({str(marker)!r}, 'w').close()\n__all__ = ['alpha']\n"))
    assert complete_names_in(fake, "pkg", "") == ["alpha"]
    assert not marker.exists()


def complete_names_in(fake, package: str, incomplete: str) -> list[str]:  # type: ignore[no-untyped-def]
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = fake.env["PYTHONPATH"]
    try:
        return complete_names(package, incomplete)
    finally:
        if old is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = old


def test_commands_and_options_complete() -> None:
    assert "resolve" in complete("aoinspect res", 1)
    assert "--format" in complete("aoinspect resolve --for", 2)


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_a_real_bash_session() -> None:
    script = f"""
        eval "$(_AOINSPECT_COMPLETE=bash_source {CONSOLE_SCRIPT})"
        COMP_WORDS=(aoinspect resolve qu)
        COMP_CWORD=2
        _aoinspect_completion aoinspect
        printf '%s\\n' "${{COMPREPLY[@]}}"
    """
    env = {**os.environ, "PATH": f"{CONSOLE_SCRIPT.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    completed = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30, check=True,
                               env=env)
    assert completed.stdout.split() == ["quantization"]
