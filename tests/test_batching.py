"""Exact batching: names measured in one forked probe report exactly what one fork per name
reports, module for module, and packages built to break the batching condition are measured
in fresh forks instead."""

from __future__ import annotations

import importlib.util
import re
import textwrap
from typing import Any

import pytest

from aoinspect.child import protocol
from aoinspect.probing import wire
from aoinspect.probing.runner import Children
from aoinspect.probing.session import ForkSession
from aoinspect.probing.wire import ProbeRequest, ProbeSettings
from tests.helpers import document

# name -> module that serves it; the hook below imports ".module" and takes the name from it.
SERVED = {"a1": "m", "a2": "m", "a3": "m", "b1": "n", "b2": "n", "c1": "o"}
MODULE = "import json\n" + "".join(f"{name} = {name!r}\n" for name in SERVED)
HOOK = '''
SERVED = {served!r}
__all__ = list(SERVED)


def __getattr__(name):
    if name not in SERVED:
        raise AttributeError(name)
{before}    import importlib

    module = importlib.import_module("." + SERVED[name], __name__)
{after}    return getattr(module, name)
'''


def package(before: str = "", after: str = "", extra: dict[str, str] | None = None,
            module: str = MODULE) -> dict[str, str]:
    files = {
        "pkg/__init__.py": HOOK.format(served=SERVED, before=textwrap.indent(before, "    "),
                                       after=textwrap.indent(after, "    ")),
        **{f"pkg/{name}.py": module for name in set(SERVED.values())},
        "pkg/extra.py": "import decimal\n",
    }
    files.update(extra or {})
    return files


BREAKERS = {
    "well-behaved": package(),
    # B's access begins another import: a2 loads pkg.extra on top of pkg.m.
    "begins another import": package(after="if name == 'a2':\n    import pkg.extra\n"),
    # A's access loads more than M's subtree: a1 loads pkg.extra first, its neighbours do not.
    "first name loads more": package(before="if name == 'a1':\n    import pkg.extra\n"),
    # A lazy attribute inside M: pkg.m serves a2 through its own __getattr__, loading more.
    "lazy attribute inside M": package(module=MODULE.replace("a2 = 'a2'\n", "") + textwrap.dedent('''
        def __getattr__(name):
            if name == "a2":
                import decimal
                return decimal.Decimal(2)
            raise AttributeError(name)
    ''')),
    # Side effects in the hook: the first access flips a global, later ones take another path (for
    # another name: a second access of the same name, which check makes, takes the first path).
    "global flag": package(before="global FIRST_DONE\nif globals().get('FIRST_DONE') not in (None, name):\n"
                                  "    import pkg.extra\nFIRST_DONE = name\n"),
    # ... or fills a cache that changes what later names load.
    "mutated cache": package(
        extra={"pkg/__init__.py": "CACHE = []\n" + HOOK.format(
            served=SERVED, before=textwrap.indent("if CACHE:\n    import pkg.extra\nCACHE.append(name)\n", "    "),
            after="")},
    ),
    # ... or keeps state in a closure.
    "closure state": {
        "pkg/__init__.py": textwrap.dedent(f'''
            __all__ = {list(SERVED)!r}

            def _make():
                seen = set()
                def __getattr__(name):
                    if name not in {SERVED!r}:
                        raise AttributeError(name)
                    if seen:
                        import pkg.extra
                    seen.add(name)
                    import importlib
                    return getattr(importlib.import_module("." + {SERVED!r}[name], __name__), name)
                return __getattr__

            __getattr__ = _make()
        '''),
        **{f"pkg/{name}.py": MODULE for name in set(SERVED.values())},
        "pkg/extra.py": "import decimal\n",
    },
    # The hook reads sys.modules instead of asking the import system.
    "reads sys.modules": package(before="import sys\nif 'pkg.m' in sys.modules and name == 'a2':\n"
                                        "    return sys.modules['pkg.m'].a2\n"),
    # The hook caches every name of the module it loaded (pydantic does).
    "binds neighbours": package(after="globals().update({k: getattr(module, k) for k in SERVED "
                                      "if SERVED[k] == SERVED[name]})\n"),
}


def _key(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        result["name"]: (
            [(load["module"], load["parent"], load["depth"]) for load in result["materialized"]],
            result["ok"], result["mechanism"], result["cached"], result["already_loaded"],
            re.sub("0x[0-9a-f]+", "0x", repr(result["object"])), result["error"],
            [(load["module"], load["parent"]) for load in result["observed"]],
        )
        for result in doc["results"]
    }


@pytest.mark.parametrize("case", BREAKERS)
def test_batched_and_one_fork_per_name_agree(invoke, fake, case: str) -> None:
    fake.write(BREAKERS[case])
    names = list(SERVED)
    batched = document(invoke("-p", "pkg", "-j", "1", "--isolation", "fork", "resolve", *names, "--format", "json"))
    each = document(invoke("-p", "pkg", "-j", "1", "--isolation", "fork-each", "resolve", *names,
                           "--format", "json"))
    assert batched["isolation"]["mode"] == "fork"
    assert each["isolation"]["mode"] == "fork-each"
    assert _key(batched) == _key(each)


def _batched_names(fake: Any, names: list[str]) -> set[str]:
    """The names a fork session measured after another name, in that name's probe."""
    import os
    import sys

    settings = ProbeSettings(sys.executable, timeout=30, jobs=1)
    children = Children()
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = fake.env["PYTHONPATH"]
    try:
        session = ForkSession(settings, "pkg", children)
        try:
            runs = session.run([ProbeRequest(protocol.MODE_RESOLVE, "pkg", (name,)) for name in names])
        finally:
            session.close()
    finally:
        children.stop()
        if old is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = old
    sections = [run.get(wire.ResolveSection) for run in runs]
    return {section.name for section in sections if section is not None and section.batched_after}


@pytest.mark.parametrize(("case", "batched"), [
    ("well-behaved", {"a2", "a3", "b2"}),
    ("begins another import", {"b2"}),  # a2 loads more than M, so a3 cannot follow it
    ("global flag", {"a2", "a3", "b2"}),  # the flag is a new global: put back before each name
    ("mutated cache", set()),
    ("closure state", set()),
    ("binds neighbours", {"a2", "a3", "b2"}),
])
def test_batching_happens_only_where_it_is_shown_exact(fake, case: str, batched: set[str]) -> None:
    fake.write(BREAKERS[case])
    assert _batched_names(fake, list(SERVED)) == batched


def test_names_are_grouped_by_the_module_they_ask_for(fake) -> None:
    fake.write(BREAKERS["well-behaved"])
    interleaved = ["a1", "b1", "a2", "c1", "b2", "a3"]
    assert _batched_names(fake, interleaved) == {"a2", "a3", "b2"}


@pytest.mark.real
@pytest.mark.parametrize("package_name", ["numpy", "scipy"])
def test_real_packages_batched_and_unbatched_agree(package_name: str) -> None:
    if importlib.util.find_spec(package_name) is None:
        pytest.skip(f"{package_name} is not installed")
    from click.testing import CliRunner

    from aoinspect.cli import cli

    def run(isolation: str) -> dict[str, Any]:
        # One hash seed for both runs: set iteration order decides some import orders.
        arguments = ["-p", package_name, "--isolation", isolation, "resolve", "--all", "--format", "json"]
        return document(CliRunner().invoke(cli, arguments, env={"PYTHONHASHSEED": "0"}, catch_exceptions=False))

    assert _key(run("fork")) == _key(run("fork-each"))
