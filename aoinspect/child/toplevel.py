"""Which top-level import names each installed distribution provides, read from its
``top_level.txt`` or the paths in its ``RECORD``, without touching the files themselves.

Standard library only and valid on Python 3.9: the CLI imports it, and another interpreter
(``--python``) runs it as a script that prints, as JSON, ``{top-level name: [distribution,
version]}`` for its own environment.
"""

import sys


def top_level_names(distribution) -> set:
    """The import names ``distribution`` (an importlib.metadata Distribution) installs."""
    text = distribution.read_text("top_level.txt")
    if text:
        return {line.strip() for line in text.splitlines() if line.strip()}
    names = set()
    for line in (distribution.read_text("RECORD") or "").splitlines():
        path = line.split(",", 1)[0]
        first, _, rest = path.partition("/")
        if not rest:
            if first.endswith(".py"):
                names.add(first[:-3])
            elif first.endswith((".so", ".pyd")):
                names.add(first.partition(".")[0])
        elif not first.endswith((".dist-info", ".data")) and first not in ("..", "__pycache__"):
            names.add(first)
    return names


def name_and_version(distribution) -> tuple:
    """``Name`` and ``Version`` from the metadata's first header lines; the full email parser
    that ``distribution.metadata`` uses costs more than everything else here."""
    found: dict = {}
    for line in (distribution.read_text("METADATA") or distribution.read_text("PKG-INFO") or "").splitlines():
        if not line.strip():
            break  # the headers end at the first blank line
        key, _, value = line.partition(":")
        if key in ("Name", "Version") and key not in found:
            found[key] = value.strip()
    if "Name" not in found:
        return str(distribution.metadata["Name"]), distribution.version
    return found["Name"], found.get("Version")


def _main() -> None:
    import json
    from importlib import metadata

    found: dict = {}
    for distribution in metadata.distributions():
        names = top_level_names(distribution)
        if names:
            pair = list(name_and_version(distribution))
            for top in names:
                found.setdefault(top, pair)
    sys.stdout.write(json.dumps(found))


if __name__ == "__main__":
    _main()
