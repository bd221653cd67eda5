"""aoinspect/child/effects.py: what running code (an import) does to the rest of the interpreter,
one test per kind of effect, each on a fake package in a fresh interpreter; nothing on a package
that has no effect; and the snapshots load no module."""

from __future__ import annotations

import ast
import os
import subprocess
from pathlib import Path

import pytest

from aoinspect.child import protocol
from aoinspect.probing.runner import CHILD_DIR
from tests import packages
from tests.helpers import FakePackages

pytestmark = pytest.mark.probe  # child code: .ci/matrix runs these under every Python with --probe-python

EFFECTS_FILE = os.path.join(CHILD_DIR, "effects.py")

# Loads effects.py as measure._sibling does (never into sys.modules), runs SETUP, installs,
# snapshots around MEASURED, and writes the changes and the modules effects.py itself loaded.
DRIVER = """
import sys
effects_file, setup, measured, result_file = sys.argv[1:5]
exec(setup)
loaded_before = set(sys.modules)
with open(effects_file, "rb") as stream:
    code = compile(stream.read(), effects_file, "exec")
effects = type(sys)("aoinspect_child_effects")
effects.__file__ = effects_file
exec(code, effects.__dict__)
effects.install()
before = effects.snapshot()
leaked = sorted(set(sys.modules) - loaded_before)
exec(measured)
loaded_after = set(sys.modules)  # what the second snapshot and the comparison load show beyond it
after = effects.snapshot()
found = effects.changes(before, after)
report = repr({"changes": found, "leaked": leaked, "by_changes": sorted(set(sys.modules) - loaded_after)})
with open(result_file, "wb") as stream:  # binary: a text file loads _bootlocale on 3.9
    stream.write(report.encode("utf-8"))
"""


def run_effects(fake: FakePackages, measured: str, setup: str = "", *, isolated: bool = False,
                env: dict[str, str] | None = None) -> dict[str, list]:  # type: ignore[type-arg]
    result_file = fake.root.parent / "effects-result.txt"
    command = [fake.python, *(["-I"] if isolated else []), "-c", DRIVER, EFFECTS_FILE, setup, measured,
               str(result_file)]
    environment = dict(os.environ) | fake.env | (env or {})
    if isolated:
        environment.pop("PYTHONPATH", None)
    completed = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=60, check=False)
    assert completed.returncode == 0, completed.stderr
    value = ast.literal_eval(result_file.read_text(encoding="utf-8"))
    assert value["leaked"] == [] and value["by_changes"] == [], "effects.py loaded modules itself"
    return value  # type: ignore[no-any-return]


def effects_of(fake: FakePackages, source: str, setup: str = "", **options) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    fake.write({"pkg/__init__.py": source})
    return [tuple(item) for item in run_effects(fake, "import pkg", setup, **options)["changes"]]


def test_the_kinds_are_the_wire_vocabulary() -> None:  # in this process: no child
    namespace: dict[str, object] = {}
    exec(compile(Path(EFFECTS_FILE).read_text(encoding="utf-8"), EFFECTS_FILE, "exec"), namespace)
    assert namespace["KINDS"] == protocol.EFFECT_KINDS


@pytest.mark.parametrize("setup", ["", "import atexit"], ids=["atexit-loaded-by-the-package", "atexit-loaded"])
def test_atexit_callbacks(fake, setup: str) -> None:
    assert effects_of(fake, """
        import atexit

        def flush():
            pass

        atexit.register(flush)
    """, setup) == [("atexit", "pkg.flush")]


def test_signal_handlers(fake) -> None:
    assert effects_of(fake, """
        import signal

        def on_usr1(number, frame):
            pass

        signal.signal(signal.SIGUSR1, on_usr1)
        signal.signal(signal.SIGUSR2, signal.SIG_IGN)
    """) == [("signal", "SIGUSR1: pkg.on_usr1"), ("signal", "SIGUSR2: SIG_IGN")]


def test_sys_path(fake) -> None:
    assert effects_of(fake, "import sys\nsys.path.append('/plugins')\n") == [("sys.path", "added /plugins")]


def test_sys_meta_path(fake) -> None:
    assert effects_of(fake, """
        import sys

        class Finder:
            def find_spec(self, name, path, target=None):
                return None

        sys.meta_path.insert(0, Finder())
    """) == [("sys.meta_path", "added an instance of pkg.Finder")]


def test_sys_path_hooks(fake) -> None:
    assert effects_of(fake, """
        import sys

        def hook(path):
            raise ImportError

        sys.path_hooks.append(hook)
    """) == [("sys.path_hooks", "added pkg.hook")]


def test_warnings_filters(fake) -> None:
    assert effects_of(fake, """
        import warnings

        warnings.filterwarnings("ignore", category=UserWarning, module="noisy")
    """) == [("warnings", "added ignore UserWarning module='noisy'")]


@pytest.mark.parametrize("setup", ["", "import logging"], ids=["logging-loaded-by-the-package", "logging-loaded"])
def test_logging_handlers(fake, setup: str) -> None:
    assert effects_of(fake, """
        import logging

        logging.getLogger("pkg").addHandler(logging.NullHandler())
        logging.basicConfig()
    """, setup) == [("logging", "root: logging.StreamHandler"), ("logging", "pkg: logging.NullHandler")]


def test_codecs_search_functions(fake) -> None:
    assert effects_of(fake, """
        import codecs

        def search(name):
            return None

        codecs.register(search)
    """) == [("codecs", "pkg.search")]


def test_copyreg_dispatch_table(fake) -> None:
    assert effects_of(fake, """
        import copyreg

        class Point:
            pass

        def reduce_point(point):
            return Point, ()

        copyreg.pickle(Point, reduce_point)
    """) == [("copyreg", "pkg.Point: pkg.reduce_point")]


@pytest.mark.parametrize("setup", ["", "import threading"], ids=["threading-loaded-by-the-package", "threading-loaded"])
def test_threads_started(fake, setup: str) -> None:
    # The thread has ended by the time of the snapshot: only the wrapper saw it.
    assert effects_of(fake, """
        import threading

        def warm_up():
            pass

        worker = threading.Thread(target=warm_up, name="warmer")
        worker.start()
        worker.join()
    """, setup) == [("thread", "warmer running pkg.warm_up")]


def test_environment(fake) -> None:
    assert effects_of(fake, """
        import os

        os.environ["PKG_MODE"] = "fast"
        os.environ["PKG_LEVEL"] = "2"
        del os.environ["PKG_GONE"]
    """, env={"PKG_LEVEL": "1", "PKG_GONE": "x"}) == [
        ("environ", "changed PKG_LEVEL"), ("environ", "set PKG_MODE"), ("environ", "removed PKG_GONE")]


def test_attributes_of_other_modules_monkeypatched(fake) -> None:
    assert effects_of(fake, """
        import json
        import string

        def dumps(value, **options):
            return ""

        json.dumps = dumps
        del string.capwords
        string.extra = 1
    """, "import json, string") == [
        ("monkeypatch", "json.dumps replaced by pkg.dumps"), ("monkeypatch", "string.capwords deleted"),
        ("monkeypatch", "string.extra added: an instance of int")]


def test_the_interpreters_own_state_replaced(fake) -> None:
    assert effects_of(fake, """
        import io
        import sys

        sys.stdout = io.StringIO()
        sys.dont_write_bytecode = not sys.dont_write_bytecode
    """) == [("monkeypatch", "sys.dont_write_bytecode replaced by an instance of bool"),
             ("monkeypatch", "sys.stdout replaced by an instance of _io.StringIO")]  # in sys's own order


def test_registries_of_other_modules_that_grow(fake) -> None:
    assert effects_of(fake, """
        import shutil

        def pack(base_name, base_dir, **options):
            return base_name

        shutil.register_archive_format("pkgzip", pack)
    """, "import shutil") == [("registry", "shutil._ARCHIVE_FORMATS grew by 1")]


def test_proxies_are_named_from_their_type_and_never_asked(fake) -> None:
    """A proxy in sys.modules and one set on another module answer ``__class__`` by loading what
    they stand for: the snapshots and the description read types only (the driver fails on any
    module loaded by effects.py itself)."""
    fake.write(packages.PROXY_IN_SYS_MODULES)
    assert effects_of(fake, """
        import string

        class Stand:
            @property
            def __class__(self):
                import colorsys
                return type(colorsys)

        string.stand_in = Stand()
    """, "import aliased, string") == [("monkeypatch", "string.stand_in added: an instance of pkg.Stand")]


def test_no_effects_on_a_package_without_any(fake) -> None:
    import ao

    ao_root = Path(ao.__file__).parent
    if not (fake.root / "ao").exists():
        (fake.root / "ao").symlink_to(ao_root, target_is_directory=True)
    # Work the interpreter does on its own (caches, lazily set private values, submodules bound in
    # their packages, warnings shown) is no effect.
    measured = (
        "import ao, ao.nn, json, typing, dataclasses, enum, re, inspect, importlib.util, xml.dom\n"
        "re.compile('a+b'); inspect.getmodule(json.dumps); json.dumps({'a': [1]})\n"
        "import warnings; warnings.warn('shown once', UserWarning)\n"
        "tempfile.gettempdir(); mimetypes.guess_type('a.txt'); platform.system()\n"
    )
    setup = "import re, json, inspect, importlib, xml, linecache, typing, tempfile, mimetypes, platform"
    assert run_effects(fake, measured, setup)["changes"] == []


def test_nothing_is_loaded_by_the_snapshots_even_without_site(fake) -> None:
    assert run_effects(fake, "pass", isolated=True)["changes"] == []
