"""The tool that hunts eager imports has none of its own: --help and --version stay lean."""

from __future__ import annotations

import functools
import subprocess
import sys

import pytest

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
