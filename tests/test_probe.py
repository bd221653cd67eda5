"""The probe's measurements equal what a bare ``python -c`` sees, module for module."""

from __future__ import annotations

import importlib.util
import json
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aoinspect.child import protocol
from aoinspect.engine import resolve_names
from aoinspect.probing.runner import probe_command
from aoinspect.probing.wire import ProbeSettings
from tests.helpers import importtime_entries
from tests.packages import INTERDEPENDENT, lazy_package

BARE_DIFF = """
import sys
import {package}
before = set(sys.modules)
{package}.{name}
print("\\n".join(sorted(set(sys.modules) - before)))
"""

def bare_diff(python: str, package: str, name: str, env: dict[str, str]) -> list[str]:
    code = BARE_DIFF.format(package=package, name=name)
    output = subprocess.run([python, "-c", code], env=env, capture_output=True, text=True, check=True)
    return output.stdout.split()


def measured(python: str, package: str, name: str, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> list[str]:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    report = resolve_names(ProbeSettings(python, timeout=30), package, [name])
    (result,) = report.results
    assert result.ok, result.error
    return sorted(load.module for load in result.materialized)


def child_env(fake) -> dict[str, str]:  # type: ignore[no-untyped-def]
    import os

    return {**os.environ, **fake.env}


@pytest.mark.probe
@pytest.mark.parametrize("name", ["left", "right", "solo"])
def test_interdependent_names_match_a_bare_interpreter(fake, monkeypatch, name: str) -> None:
    fake.write(INTERDEPENDENT)
    env = child_env(fake)
    assert measured(fake.python, "tangle", name, fake.env, monkeypatch) == bare_diff(fake.python, "tangle", name, env)


@pytest.mark.probe
@pytest.mark.parametrize("name", ["quantization", "nn", "ns", "pruning", "nn.quantized", "nn.sparse"])
def test_ao_matches_a_bare_interpreter(fake, monkeypatch, name: str) -> None:
    env = child_env(fake)
    assert measured(fake.python, "ao", name, fake.env, monkeypatch) == bare_diff(fake.python, "ao", name, env)


@pytest.mark.real
@pytest.mark.parametrize("name", ["testing", "polynomial", "fft", "ma"])
def test_numpy_matches_a_bare_interpreter(fake, monkeypatch, name: str) -> None:
    if importlib.util.find_spec("numpy") is None:
        pytest.skip("numpy is not installed")
    env = child_env(fake)
    assert measured(fake.python, "numpy", name, fake.env, monkeypatch) == bare_diff(fake.python, "numpy", name, env)


@pytest.mark.probe
def test_probe_starts_from_the_modules_of_a_bare_interpreter(fake, tmp_path) -> None:
    """The probe, started as the runner starts it, loads nothing that ``python -c`` would not have
    loaded (from 3.13 on, ``-c`` loads linecache, which ``python measure.py`` would not)."""
    bare = subprocess.run(
        [fake.python, "-c", "import sys; print('\\n'.join(sorted(sys.modules)))"],
        capture_output=True, text=True, check=True, cwd=tmp_path,
    ).stdout.split()
    (tmp_path / "emptypkg").mkdir()
    (tmp_path / "emptypkg" / "__init__.py").write_text("")
    result = tmp_path / "result.jsonl"
    subprocess.run(probe_command(fake.python, str(result), "inspect", "emptypkg", "0"), check=True, cwd=tmp_path)
    sections = [json.loads(line) for line in result.read_text().splitlines()]
    (imported,) = [s for s in sections if s["section"] == "import"]
    assert sorted(imported["startup_modules"]) == bare
    # Importing an empty package adds only itself: the probe's own code imported nothing.
    assert [load["module"] for load in imported["materialized"]] == ["emptypkg"]
    assert sections[-1]["section"] == "done"


@pytest.mark.probe
def test_statement_imports_agree_with_importtime(fake, monkeypatch) -> None:
    """For plain ``import`` statements the parent relation is the one ``-X importtime`` shows."""
    fake.write({
        "chain/__init__.py": "import chain.a\nimport chain.b\n",
        "chain/a.py": "import chain.a_child\n",
        "chain/a_child.py": "",
        "chain/b.py": "",
    })
    import os

    env = {**os.environ, **fake.env}
    stderr = subprocess.run(
        [fake.python, "-X", "importtime", "-c", "import chain"], env=env, capture_output=True, text=True,
        check=True,
    ).stderr
    depth_of = dict(importtime_entries(stderr))
    monkeypatch.setenv("PYTHONPATH", env["PYTHONPATH"])
    report = resolve_names(ProbeSettings(fake.python, timeout=30), "chain", ["__name__"])
    loads = {load.module: load for load in report.imported.materialized}
    for module in ("chain", "chain.a", "chain.a_child", "chain.b"):
        assert loads[module].depth == depth_of[module] - depth_of["chain"]
    assert loads["chain.a_child"].parent == "chain.a"
    assert loads["chain.b"].parent == "chain"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_hand_written_json_encoder_round_trips(value) -> None:  # type: ignore[no-untyped-def]
    encoded = protocol.encode(value)
    assert encoded.isascii()
    assert json.loads(encoded) == value


@pytest.mark.probe
def test_lazy_package_helper_is_lazy(fake, monkeypatch) -> None:
    fake.write(lazy_package("twonames"))
    for key, value in fake.env.items():
        monkeypatch.setenv(key, value)
    report = resolve_names(ProbeSettings(fake.python, timeout=30), "twonames", ["alpha"])
    assert "twonames.alpha" not in report.imported.module_names
    assert [load.module for load in report.results[0].materialized][-1] == "twonames.alpha"
