"""Static reading of declarations: TYPE_CHECKING blocks and lazy_loader stubs."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from aoinspect.declarations import lazy_subpackages, read_declarations, submodules_on_disk
from tests import packages
from tests.helpers import document


def write(path: Path, source: str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source))
    return str(path)


def test_torch_style_type_checking_block(tmp_path: Path) -> None:
    init = write(tmp_path / "torch" / "ao" / "__init__.py", """
        from typing import TYPE_CHECKING as _TYPE_CHECKING
        if _TYPE_CHECKING:
            from types import ModuleType
            from torch.ao import nn as nn, ns as ns
            from torch.ao.quantization import QConfig
    """)
    declarations = read_declarations("torch.ao", init)
    assert declarations.type_checking_found
    # `from PKG.sub import X` declares X too (issue 11): type checkers see PKG.X.
    assert declarations.type_checking == ("nn", "ns", "QConfig")
    assert declarations.stub == ()


def test_lazy_modules_declares_the_names_its_imports_bind(tmp_path: Path) -> None:
    """PEP 810's selection: fully qualified modules, exact string equality, module scope only."""
    init = write(tmp_path / "p" / "sub" / "__init__.py", """
        __lazy_modules__ = ["json", "xml.dom", "p.sub", "p.sub.tools", "p", "p.sub.guarded", "p.sub.inner",
                            "p.sub.star", "p.sub.tru"]
        import json
        import xml.dom
        import os
        from . import heavy
        from .tools import Tool, helper as assist
        from .. import sibling
        if True:
            with open(__file__):
                from .truncated import Truncated
        try:
            from .guarded import Guarded
        except ImportError:
            pass

        def late():
            from .inner import Inner

        class Holder:
            from .inner import Nested

        from .star import *
    """)
    declarations = read_declarations("p.sub", init)
    assert declarations.lazy_modules == ("json", "xml", "heavy", "Tool", "assist", "sibling")
    lines = dict(declarations.lines)
    assert lines["heavy"].endswith("__init__.py:7") and lines["assist"].endswith("__init__.py:8")


@pytest.mark.parametrize("source", ["import json\n", "__lazy_modules__ = compute()\nimport json\n",
                                    "__lazy_modules__ = []\nimport json\n"])
def test_no_literal_lazy_modules_declares_nothing(tmp_path: Path, source: str) -> None:
    assert read_declarations("p", write(tmp_path / "p" / "__init__.py", source)).lazy_modules == ()


def test_plain_typing_stub_declares_nothing(tmp_path: Path) -> None:
    init = write(tmp_path / "numpyish" / "__init__.py", "__all__ = ['x']\n")
    write(tmp_path / "numpyish" / "__init__.pyi", "from . import linalg as linalg\n")
    assert read_declarations("numpyish", init).stub == ()


def test_stub_read_by_lazy_loader_declares_names(tmp_path: Path) -> None:
    init = write(tmp_path / "skimageish" / "__init__.py", """
        import lazy_loader as lazy
        __getattr__, __dir__, __all__ = lazy.attach_stub(__name__, __file__)
    """)
    write(tmp_path / "skimageish" / "__init__.pyi", """
        from . import filters
        from .io import imread, imsave as save
        from skimageish.data import camera
        from numpy import array
    """)
    declarations = read_declarations("skimageish", init)
    assert declarations.stub == ("filters", "imread", "save", "camera")
    assert declarations.stub_path is not None and declarations.stub_path.endswith("__init__.pyi")


def test_no_block_means_not_found(tmp_path: Path) -> None:
    init = write(tmp_path / "p" / "__init__.py", "import typing\nif typing.TYPE_CHECKING:\n    pass\n")
    assert read_declarations("p", init).type_checking_found
    init = write(tmp_path / "q" / "__init__.py", "x = 1\n")
    assert not read_declarations("q", init).type_checking_found
    assert not read_declarations("q", None).type_checking_found


def test_submodules_on_disk(tmp_path: Path) -> None:
    write(tmp_path / "p" / "a.py", "")
    write(tmp_path / "p" / "sub" / "__init__.py", "")
    (tmp_path / "p" / "notes.txt").write_text("")
    assert submodules_on_disk([str(tmp_path / "p")]) == ("a", "sub")
    assert submodules_on_disk(None) == ()


class FakeDistribution:
    def __init__(self, **files: str) -> None:
        self.files = files

    def read_text(self, name: str) -> str | None:
        return self.files.get(name.replace(".", "_").replace("-", "_"))


def test_top_level_names_from_record_include_extension_modules() -> None:
    from aoinspect.child.distributions import name_and_version, top_level_names

    record = "\n".join([
        "fastmod.cpython-311-x86_64-linux-gnu.so,sha256=x,1",
        "single.py,,", "pkg/__init__.py,,", "pkg-1.0.dist-info/METADATA,,", "../../bin/tool,,",
    ])
    distribution = FakeDistribution(RECORD=record, METADATA="Name: pkg\nVersion: 1.0\n\nName: not a header\n")
    assert top_level_names(distribution) == {"fastmod", "single", "pkg"}
    assert top_level_names(FakeDistribution(top_level_txt="a\n\nb\n")) == {"a", "b"}
    assert name_and_version(distribution) == ("pkg", "1.0")


def test_type_checking_bound_names_include_assignments_and_outside_imports(tmp_path: Path) -> None:
    # filelock's pattern: an alias assigned for type checkers only, beside imports from elsewhere.
    init = write(tmp_path / "lockish" / "__init__.py", """
        from typing import TYPE_CHECKING
        if TYPE_CHECKING:
            from lockish.asyncio import AsyncSoftFileLock
            from numpy import ndarray as Array
            import os.path
            AsyncFileLock = AsyncSoftFileLock
            Pair: type = tuple
            def helper() -> None:
                inner = 1
        else:
            Runtime = object
    """)
    declarations = read_declarations("lockish", init)
    # What declares a lazy name is unchanged: imports from inside the package.
    assert declarations.type_checking == ("AsyncSoftFileLock",)
    assert declarations.type_checking_bound == ("AsyncSoftFileLock", "Array", "os", "AsyncFileLock", "Pair",
                                                "helper")


# --- what declares a lazy name (issue 22): static reading ---------------------------------------


def test_explicit_re_exports_and_declaring_lines_are_read(tmp_path: Path) -> None:
    init = write(tmp_path / "torchish" / "__init__.py", """
        from typing import TYPE_CHECKING
        if TYPE_CHECKING:
            from torchish.types import Device
            from torchish import _dynamo as _dynamo, onnx as onnx
            import torchish.fx as fx
        _lazy_modules = {"_dynamo",
                         "_export"}
        __all__ = ["tensor"]
    """)
    declarations = read_declarations("torchish", init)
    assert declarations.type_checking == ("Device", "_dynamo", "onnx", "fx")
    assert declarations.type_checking_explicit == ("_dynamo", "onnx", "fx")
    lines = dict(declarations.lines)
    # An import declares a name on its line; a table of the lazy path, or __all__, on the string's.
    assert lines["Device"] == f"{init}:4" and lines["_dynamo"] == f"{init}:5"
    assert lines["_export"] == f"{init}:8" and lines["tensor"] == f"{init}:9"


def test_lazy_subpackages_are_found_without_importing_them(tmp_path: Path) -> None:
    write(tmp_path / "p" / "llms" / "__init__.py", "def __getattr__(name):\n    raise AttributeError(name)\n")
    write(tmp_path / "p" / "attached" / "__init__.py",
          "import lazy_loader as lazy\n__getattr__, __dir__, __all__ = lazy.attach(__name__, ['x'])\n")
    write(tmp_path / "p" / "swapped" / "__init__.py",
          "import sys\nif True:\n    sys.modules[__name__] = object()\n")
    write(tmp_path / "p" / "plain" / "__init__.py", "def helper():\n    def __getattr__(name):\n        pass\n")
    write(tmp_path / "p" / "broken" / "__init__.py", "raise SystemExit('never run')\n")
    write(tmp_path / "p" / "module.py", "def __getattr__(name):\n    pass\n")
    assert lazy_subpackages([str(tmp_path / "p")]) == ("attached", "llms", "swapped")
    assert lazy_subpackages(None) == ()


# --- what declares a lazy name (issue 22): the commands, in fork and spawn ----------------------

ISOLATIONS = pytest.mark.parametrize("isolation", ["fork", "spawn"])


@ISOLATIONS
def test_torch_like_annotation_imports_are_no_lazy_names(invoke, fake, isolation: str) -> None:  # type: ignore[no-untyped-def]
    root = fake.write(packages.TORCH_LIKE)
    result = invoke("-p", "torchish", "check", "--isolation", isolation, "--format", "json")
    doc = document(result)
    by_name = {name["name"]: name for name in doc["names"]}
    lazy = {name for name, entry in by_name.items() if not entry["loaded_at_import"]}
    # The private submodules re-exported explicitly or served by the lazy path are lazy names;
    # Device, imported only for an annotation, is none: no resolve-failed, a note.
    assert lazy == {"_dynamo", "onnx", "_inductor"}
    assert "Device" not in by_name
    assert by_name["_inductor"]["declared_in"] == ["__getattr__"]
    assert by_name["_dynamo"]["declared_in"] == ["TYPE_CHECKING"]
    errors = {(f["rule"], f["name"]) for f in doc["findings"] if f["severity"] == "error"}
    assert errors == {("eager-import", "_export")}
    assert all(result["ok"] for result in doc["results"])
    assert any("only for annotations" in note and "Device" in note for note in doc["notes"])
    assert result.exit_code == 1
    # The dead lazy entry's annotation points at the line that declares it lazy.
    line = (root / "torchish" / "__init__.py").read_text().splitlines().index('        "_export",') + 1
    saved = root / "check.json"  # the github annotations of that one check (render prints what check prints)
    saved.write_text(result.stdout, encoding="utf-8")
    github = invoke("render", str(saved), "--format", "github").stdout
    (annotation,) = [row for row in github.splitlines() if "eager-import" in row]
    assert f"torchish/__init__.py,line={line}," in annotation


@ISOLATIONS
def test_torch_like_private_names_can_be_selected_listed_and_suggested(invoke, fake, isolation: str) -> None:  # type: ignore[no-untyped-def]
    fake.write(packages.TORCH_LIKE)
    doc = document(invoke("-p", "torchish", "check", "--isolation", isolation, "--names", "_dynamo",
                          "--format", "json"))
    assert [result["name"] for result in doc["results"]] == ["_dynamo"]
    listed = document(invoke("-p", "torchish", "list", "--all", "--isolation", isolation, "--format", "json"))
    assert listed["undeclared_submodules"] == ["_utils", "types"]
    text = invoke("-p", "torchish", "list", "--isolation", isolation).stdout
    assert "Device" not in text.split("note:")[0]  # never labelled as served by the lazy path
    resolved = invoke("-p", "torchish", "resolve", "onnxx", "--isolation", isolation)
    assert "did you mean 'onnx'?" in resolved.stdout
    assert "<title>aoinspect resolve torchish: onnx</title>" in invoke(
        "-p", "torchish", "resolve", "onnx", "--isolation", isolation, "--format", "html").stdout


@ISOLATIONS
def test_names_that_dir_adds_are_lazy_names(invoke, fake, isolation: str) -> None:  # type: ignore[no-untyped-def]
    fake.write(packages.DIR_LISTED)
    doc = document(invoke("-p", "dirlisted", "check", "--isolation", isolation, "--format", "json"))
    by_name = {name["name"]: name for name in doc["names"]}
    assert by_name["duckdb"]["declared_in"] == ["__dir__"] == by_name["sqlite"]["declared_in"]
    assert by_name["connect"]["declared_in"] == ["__all__"]
    assert {result["name"]: result["ok"] for result in doc["results"]} == {"duckdb": True, "sqlite": True,
                                                                            "spark": False}
    assert not [f for f in doc["findings"] if f["severity"] == "error"]
    # An extra that is not installed, listed only by __dir__: one note, not an error per backend.
    (note,) = [f for f in doc["findings"] if f["rule"] == "resolve-failed"]
    assert note["severity"] == "info" and note["name"] is None
    assert "spark" in note["message"] and "pip install dirlisted[spark]" in note["message"]
    text = invoke("-p", "dirlisted", "list", "--isolation", isolation).stdout
    assert re.search(r"duckdb\s+__dir__\s+no\s+no\s+module-getattr", text), text


@ISOLATIONS
def test_lazy_subpackages_are_marked_and_checked_recursively(invoke, fake, isolation: str) -> None:  # type: ignore[no-untyped-def]
    fake.write(packages.LAZY_SUBPACKAGES)
    listed = invoke("-p", "community", "list", "--all", "--isolation", isolation)
    assert "  llms (lazy package)\n" in listed.stdout and "  utils\n" in listed.stdout
    assert "2 of its subpackages are lazy packages: chat_models, llms" in listed.stdout
    assert document(invoke("-p", "community", "list", "--format", "json"))["lazy_packages"] == ["chat_models", "llms"]
    alone = invoke("-p", "community", "check", "--isolation", isolation)
    assert alone.exit_code == 0 and "check --recursive community" in alone.stdout
    result = invoke("-p", "community", "check", "--recursive", "--isolation", isolation, "--format", "json")
    doc = document(result)
    assert {name["name"] for name in doc["names"]} == {"llms.OpenAI", "chat_models.ChatModel"}
    errors = [(f["rule"], f["name"]) for f in doc["findings"] if f["severity"] == "error"]
    assert errors == [("resolve-failed", "chat_models.ChatModel")]
    assert ("star-import", "llms") in {(f["rule"], f["name"]) for f in doc["findings"]}
    assert result.exit_code == 1  # the most severe of all the packages checked
    assert not any("--recursive" in note for note in doc["notes"])


def test_a_lazy_path_that_serves_any_name_declares_nothing_by_serving(invoke, fake) -> None:  # type: ignore[no-untyped-def]
    # six's pattern imports whatever it is asked for: serving a submodule says nothing of a declaration.
    fake.write(packages.IMPORTS_ANY_NAME)
    doc = document(invoke("-p", "anyname", "list", "--all", "--format", "json"))
    assert doc["names"] == [] and doc["undeclared_submodules"] == ["heavy"]


@ISOLATIONS
def test_a_module_built_in_memory_is_generated_not_local(invoke, fake, isolation: str) -> None:  # type: ignore[no-untyped-def]
    fake.write(packages.GENERATED_MODULE)
    doc = document(invoke("-p", "generating", "resolve", "template", "--isolation", isolation, "--format", "json"))
    (result,) = doc["results"]
    loads = {load["module"]: load for step in result["steps"] for load in step["materialized"]}
    assert loads["_generating_template"]["generated"] is True
    kinds = {share["name"]: share["kind"] for share in result["distributions"]}
    assert kinds.get("(generated)") == "generated" and "(local)" not in kinds, kinds


def test_annotations_of_declaration_findings_point_at_the_declaring_line() -> None:
    from aoinspect.models import CheckReport, DeclaredName, ErrorInfo, Finding, Resolution
    from aoinspect.render.annotations import located_findings

    unserved = ErrorInfo("AttributeError", "no attribute 'Device'", "/src/pkg/__init__.py:90", is_attribute_error=True)
    broken = ErrorInfo("ImportError", "no plotting backend", "/src/pkg/plotting.py:1")
    names = (DeclaredName("Device", ("__all__",), False, False, declared_at="/src/pkg/__init__.py:12"),
             DeclaredName("plotting", ("__all__",), True, False, declared_at="/src/pkg/__init__.py:13"),
             DeclaredName("stats", ("__all__",), True, True, declared_at="/src/pkg/__init__.py:14"))
    findings = (Finding("resolve-failed", "error", "Device", "m"), Finding("resolve-failed", "error", "plotting", "m"),
                Finding("eager-import", "error", "stats", "m"))
    resolutions = (Resolution("Device", False, unserved), Resolution("plotting", False, broken))
    report = CheckReport("pkg", None, names, resolutions, findings, file="/src/pkg/__init__.py")
    lines = {annotation.name: (annotation.file, annotation.line) for annotation in located_findings(report, "/src")}
    # Nothing serves Device: the declaration is what to change, not the lazy path's raise.
    assert lines["Device"] == ("pkg/__init__.py", 12)
    # plotting is served and fails inside: the failing line is where to look.
    assert lines["plotting"] == ("pkg/plotting.py", 1)
    assert lines["stats"] == ("pkg/__init__.py", 14)


def test_a_lazy_subpackage_that_cannot_be_imported_fails_as_a_name_not_as_the_package(invoke, fake) -> None:  # type: ignore[no-untyped-def]
    """Exit 3 means the package checked could not be imported; a subpackage of it that cannot be
    is one of its names failing (exit 1), reported once, with what its import raised."""
    fake.write({**packages.LAZY_SUBPACKAGES,
                "community/broken/__init__.py": "import nonexistent_dependency_q\n" + textwrap.dedent(
                    packages._LAZY_SUBPACKAGE.format(name="Broken"))})
    result = invoke("-p", "community", "check", "--recursive", "--format", "json")
    doc = document(result)
    broken = [f for f in doc["findings"] if f["name"] == "broken"]
    assert [(f["rule"], f["severity"]) for f in broken] == [("resolve-failed", "error")]
    assert "nonexistent_dependency_q" in broken[0]["message"]
    assert not any(f["rule"] == "import-failed" for f in doc["findings"])
    assert result.exit_code == 1
