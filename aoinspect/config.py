"""``[tool.aoinspect]`` in pyproject.toml: finding it and reading it."""

from __future__ import annotations

import os
import sys
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Pythons before 3.11
    import tomli as tomllib


class ConfigError(Exception):
    pass


def find_pyproject(start: str) -> str | None:
    """The nearest pyproject.toml in ``start`` or one of its parents."""
    directory = os.path.abspath(start)
    while True:
        candidate = os.path.join(directory, "pyproject.toml")
        if os.path.isfile(candidate):
            return candidate
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def read_tool_table(path: str, *, required: bool) -> dict[str, Any]:
    """The ``[tool.aoinspect]`` table of ``path`` (empty if it has none, unless ``required``)."""
    try:
        with open(path, "rb") as stream:
            document = tomllib.load(stream)
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}.") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}.") from exc
    table = document.get("tool", {}).get("aoinspect")
    if table is None:
        if required and not path.endswith("pyproject.toml"):
            return document  # a dedicated file: its top level is the table
        return {}
    if not isinstance(table, dict):
        raise ConfigError(f"[tool.aoinspect] in {path} is not a table.")
    return table
