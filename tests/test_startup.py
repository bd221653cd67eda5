"""The tool that hunts eager imports has none of its own: --help and --version stay lean."""

from __future__ import annotations

import functools
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pathlib import Path

# Modules that only the work of a command needs; --help and --version must not load them.
# (Click itself loads ast and inspect; importlib_metadata, for --version, loads tempfile.)
DENY = {
    "json",
    "subprocess",
    "concurrent.futures",
    "difflib",
    "statistics",
    "xml.etree.ElementTree",
    "aoinspect.engine",
    "aoinspect.probing.runner",
    "aoinspect.probing.session",
    "aoinspect.models",
    "aoinspect.render",
    "aoinspect.declarations",
    "aoinspect.distributions",
}


def imported_modules(*args: str) -> frozenset[str]:
    """What ``aoinspect ARGS`` imports beyond Click itself (up to 3.10, Click's uuid import loads
    platform and subprocess)."""
    return importtime_modules("-m", "aoinspect", *args) - importtime_modules("-c", "import click")


@functools.cache  # the same for every test: "import click" runs once


def importtime_modules(*args: str) -> frozenset[str]:
    completed = subprocess.run(
        [sys.executable, "-X", "importtime", *args], capture_output=True, text=True, check=True
    )
    return frozenset(
        line.split("|")[-1].strip()
        for line in completed.stderr.splitlines()
        if line.startswith("import time:") and "imported package" not in line
    )


# check --help lists the rules from their registry, which needs the models they report with;
# `aoinspect rule ID` prints a rule's documentation from it, and runs nothing.
RULE_REGISTRY = {"aoinspect.models", "aoinspect.rules"}


@pytest.mark.parametrize("args", [("--help",), ("resolve", "--help"), ("check", "--help"), ("rule", "eager-import"),
                                  ("trace", "--help"), ("diff", "--help"), ("list", "--help")])
def test_help_imports_nothing_it_does_not_need(args: tuple[str, ...]) -> None:
    modules = imported_modules(*args)
    assert "aoinspect.cli" in modules  # the measurement works
    reads_the_registry = args[0] in ("check", "rule")
    allowed = RULE_REGISTRY if reads_the_registry else set()
    assert not modules & (DENY - allowed)
    assert reads_the_registry == ("aoinspect.rules" in modules)
    assert "importlib_metadata" not in modules and "tempfile" not in modules


def test_version_reads_no_metadata() -> None:
    """``aoinspect.__version__`` is kept equal to the distribution's (test_cli.py): --version
    imports neither the engine nor importlib_metadata (and tempfile with it)."""
    modules = imported_modules("--version")
    assert "aoinspect.cli" in modules
    assert not modules & DENY
    assert "importlib_metadata" not in modules and "importlib.metadata" not in modules


def test_trace_imports_neither_the_engine_nor_the_rules() -> None:
    """trace runs a program, not probes: without contracts it needs no rule registry."""
    modules = imported_modules("trace", "--", "-c", "pass")
    assert "aoinspect.tracing.run" in modules  # the measurement works
    assert not modules & {"aoinspect.engine", "aoinspect.rules", "aoinspect.probing.session", "aoinspect.declarations"}


COMMAND_MODULES = {"aoinspect.commands.package", "aoinspect.commands.reports", "aoinspect.commands.trace"}


@pytest.mark.parametrize("args", [("--help",), ("--version",)])
def test_the_group_loads_no_command(args: tuple[str, ...]) -> None:
    """The group lists its commands from a table: --help and --version import no command's
    module (and build none of their options), nor shutil or signal."""
    modules = imported_modules(*args)
    assert "aoinspect.cli" in modules  # the measurement works
    assert not modules & COMMAND_MODULES
    assert not modules & {"shutil", "signal"}


@pytest.mark.parametrize(("args", "loaded"), [
    (("resolve", "--help"), "aoinspect.commands.package"),
    (("diff", "--help"), "aoinspect.commands.reports"),
    (("trace", "--help"), "aoinspect.commands.trace"),
])
def test_a_command_loads_its_module_alone(args: tuple[str, ...], loaded: str) -> None:
    modules = imported_modules(*args)
    assert modules & COMMAND_MODULES == {loaded}


@pytest.mark.parametrize("limit", [20, 45, 60, 74, 1000])
def test_the_short_help_table_equals_the_commands(limit: int) -> None:
    """``aoinspect --help`` shows each command's short help from ``COMMANDS``, not from the
    command: the table must say what the loaded command would, at every width."""
    import click

    from aoinspect.cli import COMMANDS, cli

    ctx = click.Context(cli)
    loaded = {name: cli.get_command(ctx, name) for name in cli.list_commands(ctx)}
    assert set(loaded) == set(COMMANDS) and None not in loaded.values()
    for name, command in loaded.items():
        assert command is not None and command.name == name
        table = click.Command(name, help=COMMANDS[name][2]).get_short_help_str(limit)
        assert table == command.get_short_help_str(limit), name


@pytest.mark.parametrize(("config", "loaded"), [
    ("[tool.aoinspect.diff]\nthreshold = '50%'\n", {"aoinspect.commands.reports"}),
    ("[tool.aoinspect]\nstrict = true\n", {"aoinspect.commands.package", "aoinspect.commands.reports"}),
    ("[tool.other]\nkey = 1\n", {"aoinspect.commands.reports"}),
])
def test_the_configuration_loads_only_the_commands_it_configures(
    tmp_path: Path, config: str, loaded: set[str]
) -> None:
    """[tool.aoinspect] keys are the commands' options: reading them loads the commands they
    name (check's options are top-level keys too), and no other."""
    path = tmp_path / "pyproject.toml"
    path.write_text(config, encoding="utf-8")
    modules = imported_modules("--config", str(path), "render", "--help")
    assert modules & COMMAND_MODULES == loaded


# --- the saved help page ------------------------------------------------------------------------


def clicks_help_page(columns: int) -> str:
    """``aoinspect --help`` as Click renders it on a terminal ``columns`` wide."""
    from aoinspect.cli import cli

    width = max(min(columns, 80) - 2, 50)  # click.formatting.HelpFormatter's
    with cli.make_context("aoinspect", [], resilient_parsing=True, terminal_width=width) as ctx:
        return ctx.get_help() + "\n"


def test_the_saved_help_page_is_clicks(request: pytest.FixtureRequest) -> None:
    """``aoinspect --help`` prints ``aoinspect/help.txt`` rather than having Click format it: it
    must be Click's page, keyed by the sources it is made from. After a change to the group's
    options or the command table: ``pytest tests/test_startup.py --update-golden``."""
    import os

    from aoinspect import cli

    path = os.path.join(os.path.dirname(cli.__file__), cli.HELP_PAGE)
    expected = cli.help_page_key() + "\n" + clicks_help_page(cli.HELP_PAGE_COLUMNS)
    if request.config.getoption("--update-golden") or os.environ.get("AOINSPECT_UPDATE_GOLDEN"):
        with open(path, "w", encoding="utf-8") as stream:
            stream.write(expected)
    with open(path, encoding="utf-8") as stream:
        saved = stream.read()
    assert saved == expected, "aoinspect/help.txt is stale: pytest tests/test_startup.py --update-golden rewrites it"


@pytest.mark.parametrize(("args", "columns"), [(("--help",), 80), (("-h",), 200), (("--help",), 60)])
def test_help_prints_what_click_would(args: tuple[str, ...], columns: int) -> None:
    """At 80 columns or more the saved page, without Click's formatting (textwrap); narrower,
    Click's own page at that width."""
    import os

    completed = subprocess.run([sys.executable, "-X", "importtime", "-m", "aoinspect", *args], capture_output=True,
                               text=True, check=True, env={**os.environ, "COLUMNS": str(columns)})
    assert completed.stdout == clicks_help_page(columns)
    imported = {line.split("|")[-1].strip() for line in completed.stderr.splitlines()
                if line.startswith("import time:")}
    assert "aoinspect.cli" in imported  # the measurement works
    assert ("textwrap" in imported) == (columns < 80)


def test_a_stale_help_page_is_not_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    from aoinspect import cli

    monkeypatch.delenv("COLUMNS", raising=False)
    assert cli._saved_help_page() == clicks_help_page(80)
    monkeypatch.setattr(cli, "help_page_key", lambda: "stale")
    assert cli._saved_help_page() is None


def test_version_prints_what_click_would() -> None:
    """The console script answers --version without Click's parsing: the same line the group's
    own --version option prints (test_cli.py), and nothing else."""
    from click.testing import CliRunner

    from aoinspect.cli import cli

    completed = subprocess.run([sys.executable, "-m", "aoinspect", "--version"], capture_output=True, text=True,
                               check=True)
    assert (completed.stdout, completed.stderr) == (CliRunner().invoke(cli, ["--version"]).stdout, "")


@pytest.mark.probe
def test_the_lazy_models_package_keeps_its_own_lazy_contract() -> None:
    """aoinspect.models loads its models on first use (PEP 562): it passes aoinspect's own check, so
    an unknown name imports nothing and dir() lists every model."""
    completed = subprocess.run([sys.executable, "-m", "aoinspect", "check", "aoinspect.models", "--format", "json",
                                "--no-cache"], capture_output=True, text=True, timeout=120, check=False)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    import json

    findings = json.loads(completed.stdout)["findings"]
    assert [finding["rule"] for finding in findings if finding["severity"] in ("error", "warning")] == ["star-import"]
