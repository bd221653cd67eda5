"""Which top-level import names each installed distribution provides, read from its
``top_level.txt`` or the paths in its ``RECORD``, without touching the files themselves.

Standard library only and valid on Python 3.9: the CLI imports it, and another interpreter
(``--python``) runs it as a script that prints, as JSON, ``{"distributions": {top-level name:
[distribution, version]}, "stdlib": [module, ...]}`` for its own environment and version.
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


def stdlib_names() -> set:
    """This interpreter's standard library's top-level names: ``sys.stdlib_module_names`` from
    3.10 on; on 3.9, which lacks it, the modules and packages in its library directories."""
    names = set(sys.builtin_module_names)
    listed = getattr(sys, "stdlib_module_names", None)
    if listed is not None:
        return names | set(listed)
    import os
    import sysconfig
    from importlib.machinery import EXTENSION_SUFFIXES

    # The base interpreter's directories: in a venv, "platstdlib" would be the venv's own.
    paths = sysconfig.get_paths(vars={"base": sys.base_prefix, "platbase": sys.base_exec_prefix})
    for directory in {paths["stdlib"], paths["platstdlib"], os.path.join(paths["platstdlib"], "lib-dynload")}:
        try:
            entries = os.listdir(directory)
        except OSError:
            continue
        for entry in entries:
            path = os.path.join(directory, entry)
            if entry.endswith(".py"):
                names.add(entry[:-3])
            elif entry.endswith(tuple(EXTENSION_SUFFIXES)):
                names.add(entry.partition(".")[0])
            elif os.path.isfile(os.path.join(path, "__init__.py")):
                names.add(entry)
    return {name for name in names if name.isidentifier()}


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
    sys.stdout.write(json.dumps({"distributions": found, "stdlib": sorted(stdlib_names())}))


if __name__ == "__main__":
    _main()
