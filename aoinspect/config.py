"""``[tool.aoinspect]`` in pyproject.toml: finding it and reading it."""

from __future__ import annotations

import os
import sys
from typing import Any


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
    # Imported here: a run with no configuration file (a script's directory) never parses TOML.
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Pythons before 3.11
        import tomli as tomllib

    from aoinspect.files import CONFIG_LIMIT, UnreadableFile, read_regular_file

    try:
        data = read_regular_file(path, CONFIG_LIMIT)
    except UnreadableFile as exc:
        raise ConfigError(f"cannot read {path}: {exc.reason} (configuration is read from regular files "
                          f"of at most {CONFIG_LIMIT} bytes).") from exc
    try:
        document = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: it is not UTF-8 ({exc.reason} at byte {exc.start}).") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}.") from exc
    except RecursionError as exc:  # arrays or tables nested thousands deep
        raise ConfigError(f"{path} is not valid TOML: it is nested too deeply to read.") from exc
    tool = document.get("tool", {})
    if not isinstance(tool, dict):
        raise ConfigError(f"'tool' in {path} is not a table.")
    table = tool.get("aoinspect")
    if table is None:
        if required and not path.endswith("pyproject.toml"):
            return document  # a dedicated file: its top level is the table
        return {}
    if not isinstance(table, dict):
        raise ConfigError(f"[tool.aoinspect] in {path} is not a table.")
    return table
