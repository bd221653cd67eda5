"""Static reading of declarations: TYPE_CHECKING blocks and lazy_loader stubs."""

from __future__ import annotations

import textwrap
from pathlib import Path

from aoinspect.declarations import read_declarations, submodules_on_disk


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
