"""Shell completion of lazy names, read statically: completing never imports the package."""

from __future__ import annotations

import os


def declared_names(package: str) -> list[str]:
    """The names ``package`` declares (``__all__`` literal, ``TYPE_CHECKING``, lazy stub); for a
    package whose ``__all__`` is computed (numpy's), its public submodules on disk."""
    from aoinspect.declarations import read_all_literal, read_declarations, submodules_on_disk

    init = find_init(package)
    if init is None:
        return []
    declarations = read_declarations(package, init)
    names = [*read_all_literal(init), *declarations.type_checking, *declarations.stub]
    if not names and os.path.basename(init).startswith("__init__."):
        names = [name for name in submodules_on_disk([os.path.dirname(init)]) if not name.startswith("_")]
    return list(dict.fromkeys(names))


def find_init(package: str) -> str | None:
    """The file ``import package`` would run, found without running anything."""
    from aoinspect.declarations import find_init as find

    return find(package)


def complete_names(package: str, incomplete: str) -> list[str]:
    """Completions of a (dotted) NAME of ``package``: ``nn.`` completes to ``nn.quantized``..."""
    parent, _, _last = incomplete.rpartition(".")
    target = f"{package}.{parent}" if parent else package
    try:
        names = declared_names(target)
    except Exception:  # noqa: BLE001 - never break a shell over a broken package
        return []
    full = [f"{parent}.{name}" if parent else name for name in names]
    return [name for name in full if name.startswith(incomplete)]
