"""The import tree under every way of importing: statements, import_module, extension modules,
namespace packages, resources and zip files; repeats; distributions; the graph formats."""

from __future__ import annotations

import importlib.util
import textwrap
import xml.etree.ElementTree as ET
import zipfile

import pytest

from tests.helpers import document, importtime_entries, importtime_parents
from tests.packages import lazy_package


def loads_of(doc: dict, index: int = 0) -> dict[str, dict]:  # type: ignore[type-arg]
    return {load["module"]: load for load in doc["results"][index]["materialized"]}


@pytest.mark.probe
def test_import_module_is_seen_with_its_parent(invoke, fake) -> None:
    fake.write(lazy_package("pkg", beta="import importlib\nhelper = importlib.import_module('pkg.helper')\n")
               | {"pkg/helper.py": "import pkg.leaf\n", "pkg/leaf.py": ""})
    doc = document(invoke("-p", "pkg", "resolve", "beta", "--format", "json"))
    loads = loads_of(doc)
    assert loads["pkg.helper"]["parent"] == "pkg.beta"
    assert loads["pkg.leaf"]["parent"] == "pkg.helper"
    cumulative = [loads[name]["cumulative_ms"] for name in ("pkg.beta", "pkg.helper", "pkg.leaf")]
    assert cumulative == sorted(cumulative, reverse=True)


@pytest.mark.probe
def test_self_time_plus_children_is_cumulative(invoke) -> None:
    doc = document(invoke("resolve", "quantization", "--format", "json"))
    (result,) = doc["results"]
    loads = result["materialized"]
    for item in loads:
        children = sum(child["cumulative_ms"] for child in loads if child["parent"] == item["module"])
        assert item["self_ms"] + children == pytest.approx(item["cumulative_ms"], abs=0.01)
    roots = sum(item["cumulative_ms"] for item in loads if item["depth"] == 0)
    assert result["total_ms"] == pytest.approx(roots, abs=0.001)


@pytest.mark.probe
def test_extension_module(invoke, fake) -> None:
    fake.write(lazy_package("pkg", beta="import decimal\n"))
    loads = loads_of(document(invoke("-p", "pkg", "resolve", "beta", "--format", "json")))
    if "_decimal" not in loads:
        pytest.skip("this interpreter has no _decimal extension")
    assert loads["_decimal"]["parent"] == "decimal"
    assert loads["_decimal"]["stdlib"] is True


@pytest.mark.probe
def test_namespace_package(invoke, fake) -> None:
    fake.write(lazy_package("pkg", beta="import nspkg.inner\n") | {"nspkg/inner.py": "VALUE = 1\n"})
    loads = loads_of(document(invoke("-p", "pkg", "resolve", "beta", "--format", "json")))
    assert loads["nspkg"]["parent"] == "nspkg.inner"  # as -X importtime nests a parent package
    assert loads["nspkg.inner"]["parent"] == "pkg.beta"


@pytest.mark.probe
def test_package_reading_a_resource(invoke, fake) -> None:
    fake.write(lazy_package(
        "pkg",
        beta="from importlib.resources import files\nTEXT = files('pkg.data').joinpath('words.txt').read_text()\n",
    ) | {"pkg/data/__init__.py": "", "pkg/data/words.txt": "hello"})
    doc = document(invoke("-p", "pkg", "resolve", "beta.TEXT", "--format", "json"))
    (result,) = doc["results"]
    assert result["ok"] and result["object"]["repr"] == "'hello'"
    assert "pkg.data" in loads_of(doc)


@pytest.mark.probe
def test_zip_import(invoke, fake) -> None:
    archive = fake.root / "zipped.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("zpkg/__init__.py", "__all__ = ['inner']\n"
                        "def __getattr__(name):\n    import importlib\n"
                        "    return importlib.import_module('.' + name, __name__)\n")
        bundle.writestr("zpkg/inner.py", "import zpkg.deeper\n")
        bundle.writestr("zpkg/deeper.py", "")
    result = invoke_with_path(invoke, fake, str(archive), "-p", "zpkg", "resolve", "inner", "--format", "json")
    loads = loads_of(document(result))
    assert loads["zpkg.deeper"]["parent"] == "zpkg.inner"


def invoke_with_path(invoke, fake, entry: str, *args: str):  # type: ignore[no-untyped-def]
    import os

    from click.testing import CliRunner

    from aoinspect.cli import cli

    env = fake.env
    env["PYTHONPATH"] = entry + os.pathsep + env["PYTHONPATH"]
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def test_repeat_reports_median_and_min(invoke) -> None:
    doc = document(invoke("resolve", "quantization", "--repeat", "3", "--format", "json"))
    (result,) = doc["results"]
    assert doc["repeats"] == 3 and result["repeats"] == 3
    assert result["unstable"] == []
    for item in result["materialized"]:
        assert item["min_cumulative_ms"] <= item["cumulative_ms"]
    assert result["min_elapsed_ms"] <= result["elapsed_ms"]


@pytest.mark.probe
def test_repeat_reports_modules_that_differ(invoke, fake) -> None:
    # Loads json on every other run: the difference must be reported, not hidden.
    fake.write(lazy_package("pkg", beta=(
        "import os\n"
        "marker = os.path.join(os.path.dirname(__file__), 'ran')\n"
        "if os.path.exists(marker):\n    os.remove(marker)\n    import json\n"
        "else:\n    open(marker, 'w').close()\n"
    )))
    doc = document(invoke("-p", "pkg", "-j", "1", "resolve", "beta", "--repeat", "2", "--format", "json"))
    assert "json" in doc["results"][0]["unstable"]
    text = invoke("-p", "pkg", "-j", "1", "resolve", "beta", "--repeat", "2").stdout
    assert "differs between repeats: " in text


@pytest.mark.probe
def test_distributions_summary_marks_stdlib_and_local(invoke, fake) -> None:
    fake.write(lazy_package("pkg", beta="import decimal\n"))
    doc = document(invoke("-p", "pkg", "resolve", "beta", "--format", "json"))
    shares = {share["name"]: share for share in doc["results"][0]["distributions"]}
    assert shares["(stdlib)"]["kind"] == "stdlib" and shares["(stdlib)"]["modules"] >= 2
    assert shares["(local)"]["modules"] == 1
    assert sum(share["modules"] for share in shares.values()) == len(doc["results"][0]["materialized"])


@pytest.mark.real
def test_distributions_of_an_installed_package(invoke) -> None:
    if importlib.util.find_spec("numpy") is None:
        pytest.skip("numpy is not installed")
    import numpy

    doc = document(invoke("-p", "numpy", "resolve", "polynomial", "--format", "json"))
    shares = {share["name"]: share for share in doc["results"][0]["distributions"]}
    assert shares["numpy"]["version"] == numpy.__version__
    assert shares["numpy"]["kind"] == "installed"


@pytest.mark.probe
def test_dotted_steps_each_have_their_own_tree(invoke) -> None:
    doc = document(invoke("resolve", "nn.quantized", "--format", "json"))
    first, second = doc["results"][0]["steps"]
    assert [load["module"] for load in first["materialized"] if load["depth"] == 0][-1] == "ao.nn"
    assert second["materialized"][0]["module"] == "ao.nn.quantized" and second["materialized"][0]["depth"] == 0


@pytest.mark.parametrize("fmt", ["tree", "dot", "mermaid", "svg"])
def test_graph_formats_from_the_cli(invoke, fmt: str) -> None:
    result = invoke("resolve", "quantization", "--format", fmt)
    assert result.exit_code == 0
    assert "ao.nn.quantized" in result.stdout
    if fmt == "svg":
        ET.fromstring(result.stdout)
    if fmt == "tree":
        assert "└─ ao.quantization" in result.stdout


@pytest.mark.probe
def test_tree_shows_import_module_loads_beneath_their_importer(invoke) -> None:
    lines = invoke("resolve", "quantization", "--format", "tree").stdout.splitlines()
    names = [line.split("─ ")[-1].split()[0] for line in lines if "─ " in line]
    indent = {line.split("─ ")[-1].split()[0]: line.index("─ ") for line in lines if "─ " in line}
    assert names.index("ao.quantization") < names.index("ao.quantization.mappings")
    assert indent["ao.quantization.mappings"] > indent["ao.quantization"]
    assert indent["ao.nn.quantized.modules"] > indent["ao.nn.quantized"]


def test_graph_formats_are_for_resolve_only(invoke) -> None:
    result = invoke("list", "--format", "svg")
    assert result.exit_code == 2
    assert "list prints text, json, markdown, not svg" in result.stderr


def test_resolve_all_and_list_resolve(invoke) -> None:
    doc = document(invoke("resolve", "--all", "--format", "json"))
    assert [result["name"] for result in doc["results"]] == ["nn", "ns", "pruning", "quantization"]
    listed = invoke("list", "--resolve")
    assert "MODULES" in listed.stdout and "TOTAL ms" in listed.stdout
    assert len(document(invoke("list", "--resolve", "--format", "json"))["results"]) == 4
    assert invoke("resolve").exit_code == 2


@pytest.mark.real
def test_scipy_linalg_distributions_and_importtime_parents(invoke, fake, monkeypatch) -> None:
    if importlib.util.find_spec("scipy") is None:
        pytest.skip("scipy is not installed")
    import os
    import sys

    import numpy
    import scipy

    # scipy's import order depends on string hashing: pin it so both runs import alike.
    monkeypatch.setenv("PYTHONHASHSEED", "0")
    doc = document(invoke("-p", "scipy", "resolve", "linalg", "--format", "json"))
    (result,) = doc["results"]
    shares = {share["name"]: share["version"] for share in result["distributions"]}
    assert shares["scipy"] == scipy.__version__ and shares["numpy"] == numpy.__version__
    seen = importtime_parents(sys.executable, "import scipy; scipy.linalg", dict(os.environ))
    compared = 0
    for item in result["materialized"]:
        ours = item["parent"]
        if item["module"] in seen and ours in seen:
            assert seen[item["module"]] == ours, item["module"]
            compared += 1
    assert compared > 50


def test_importtime_parser_skips_the_header_and_untimed_lines() -> None:
    """3.14's ``-X importtime=2`` adds "cached" lines for modules already loaded; they have no
    place in the tree of what was imported."""
    stderr = textwrap.dedent("""\
        import time: self [us] | cumulative | imported package
        import time:       120 |        120 |     chain.a_child
        import time:    cached |     cached |     encodings
        import time:        80 |        200 |   chain.a
        something the package printed | with | bars
        import time:        40 |        240 | chain
    """)
    assert importtime_entries(stderr) == [("chain.a_child", 2), ("chain.a", 1), ("chain", 0)]


@pytest.mark.probe
def test_stdlib_is_the_inspected_interpreters(invoke, fake) -> None:
    """What counts as standard library is asked of the interpreter probed: asyncore left it in
    3.12 and tomllib came in 3.11, and 3.9 has no sys.stdlib_module_names to answer with."""
    import subprocess

    answer = subprocess.run([fake.python, "-c", "import sys; print(sys.version_info[1])"],
                            capture_output=True, text=True, check=True)
    minor = int(answer.stdout)
    present = {"asyncore": minor < 12, "tomllib": minor >= 11}
    beta = "".join(f"try:\n    import {name}\nexcept ImportError:\n    pass\n" for name in present)
    fake.write(lazy_package("pkg", beta=beta + "import json\n"))
    loads = loads_of(document(invoke("-p", "pkg", "resolve", "beta", "--format", "json")))
    for name, expected in present.items():
        assert (name in loads) == expected
        assert loads.get(name, {"stdlib": True})["stdlib"] is True, name
    assert loads["json"]["stdlib"] is True and loads["pkg.beta"]["stdlib"] is False
