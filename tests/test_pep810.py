"""aoinspect/pep810.py: import statements read under PEP 810's rules (where ``lazy`` is allowed,
the exact ``__lazy_modules__`` entry that selects each), existing declarations and their stale
entries, and the two patches. Conformance cases follow PEP 810's own examples."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

import pytest

from aoinspect import pep810

if TYPE_CHECKING:
    from pathlib import Path


def write(root: Path, files: dict[str, str]) -> Path:
    for relative, source in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source), encoding="utf-8")
    return root


def by_line(statements: tuple[pep810.ImportStatement, ...]) -> dict[int, pep810.ImportStatement]:
    return {statement.line: statement for statement in statements}


# PEP 810: "lazy" is a syntax error in these places; __lazy_modules__ leaves such imports eager.
@pytest.mark.parametrize(("source", "reason"), [
    ("def func():\n    import json\n", pep810.IN_FUNCTION),
    ("async def func():\n    import json\n", pep810.IN_FUNCTION),
    ("class C:\n    import json\n", pep810.IN_CLASS),
    ("try:\n    import json\nexcept ImportError:\n    pass\n", pep810.IN_TRY),
    ("try:\n    pass\nexcept ImportError:\n    import json\n", pep810.IN_TRY),
    ("try:\n    pass\nfinally:\n    import json\n", pep810.IN_TRY),
    ("from json import *\n", pep810.STAR_IMPORT),
    ("from __future__ import annotations\n", pep810.FUTURE_IMPORT),
    ("import json\n", None),
    ("with open(__file__):\n    import json\n", None),
    ("if True:\n    import json\n", None),
    ("for _ in ():\n    from json import dumps\n", None),
])
def test_where_pep_810_allows_lazy(tmp_path: Path, source: str, reason: str | None) -> None:
    write(tmp_path, {"m.py": source})
    (statement,) = pep810.scan_module(str(tmp_path / "m.py"), "m", False)
    assert (statement.allowed, statement.reason) == (reason is None, reason)


def test_entries_are_fully_qualified_module_names(tmp_path: Path) -> None:
    write(tmp_path, {
        "p/__init__.py": """\
            import a.b.c
            import a.b.c as d
            from a.b import c
            from . import sub, other
            from .sub import thing
            from .sub.deeper import x as y
            import os, json
        """,
        "p/sub/__init__.py": "",
        "p/sub/mod.py": "from . import mod2\nfrom .. import sub\nfrom ..sub.mod import q\n",
        "p/other.py": "",
    })
    lines = by_line(pep810.scan_module(str(tmp_path / "p/__init__.py"), "p", True))
    assert {line: s.entries for line, s in lines.items()} == {
        1: ("a.b.c",), 2: ("a.b.c",), 3: ("a.b",), 4: ("p",), 5: ("p.sub",), 6: ("p.sub.deeper",), 7: ("os", "json"),
    }
    assert {line: s.bound for line, s in lines.items()} == {
        1: ("a",), 2: ("d",), 3: ("c",), 4: ("sub", "other"), 5: ("thing",), 6: ("y",), 7: ("os", "json"),
    }
    assert lines[4].targets == ("p", "p.sub", "p.other")  # the submodules found on disk
    assert lines[4].level == 1 and lines[4].kind == pep810.KIND_FROM and lines[1].kind == pep810.KIND_IMPORT
    assert lines[4].text == "from . import sub, other"
    nested = by_line(pep810.scan_module(str(tmp_path / "p/sub/mod.py"), "p.sub.mod", False))
    assert {line: s.entry for line, s in nested.items()} == {1: "p.sub", 2: "p", 3: "p.sub.mod"}


def test_scan_package_walks_every_module_and_finds_a_name_on_a_path(tmp_path: Path) -> None:
    write(tmp_path, {"p/__init__.py": "import os\n", "p/a.py": "import json\n", "p/sub/__init__.py": "",
                     "p/sub/b.py": "from .. import a\n", "p/data/notes.txt": "import nothing\n"})
    by_dir = pep810.scan_package(str(tmp_path / "p"))
    assert [(s.module, s.line, s.entry) for s in by_dir] == [
        ("p", 1, "os"), ("p.a", 1, "json"), ("p.sub.b", 1, "p")]
    assert pep810.scan_package("p", search_path=[str(tmp_path)]) == by_dir


def test_a_file_already_written_with_the_lazy_keyword_is_read(tmp_path: Path) -> None:
    write(tmp_path, {"m.py": "import os\nlazy import json\nlazy from os import path\n"})
    lines = by_line(pep810.scan_module(str(tmp_path / "m.py"), "m", False))
    assert [lines[n].lazy_keyword for n in (1, 2, 3)] == [False, True, True]
    assert lines[3].text == "lazy from os import path" and lines[3].entry == "os"


def test_existing_declarations_are_read_and_a_truncated_entry_is_stale(tmp_path: Path) -> None:
    # The case from the issue: a dotted entry cut short selects nothing, silently.
    write(tmp_path, {"p/__init__.py": """\
        __lazy_modules__ = ["xml.dom", "json", "p", "collections", "decimal"]
        import json
        import xml.dom.minidom
        from . import helper
        from collections import *
        import decimal
        def f():
            import fractions
    """, "p/helper.py": ""})
    init = str(tmp_path / "p/__init__.py")
    lazy = pep810.read_lazy_modules(init)
    assert lazy is not None and lazy.entries == ("xml.dom", "json", "p", "collections", "decimal") and lazy.line == 1
    statements = pep810.scan_module(init, "p", True)
    assert [s.declared for s in statements] == [True, False, True, False, True, False]
    stale = {entry.entry: entry for entry in pep810.stale_entries(lazy, statements)}
    assert set(stale) == {"xml.dom", "collections"}
    assert stale["xml.dom"].suggestions == ("xml.dom.minidom",)
    assert "selects no import statement" in stale["xml.dom"].reason
    assert "star import" in stale["collections"].reason


@pytest.mark.parametrize(("value", "entries", "literal"), [
    ('["a", "b.c"]', ("a", "b.c"), True),
    ('("a",)', ("a",), True),
    ('{"b", "a"}', ("a", "b"), True),
    ('frozenset(["a"])', ("a",), True),
    ("[]", (), True),
    ("compute()", (), False),
])
def test_read_lazy_modules_takes_literal_containers(tmp_path: Path, value: str, entries: tuple[str, ...],
                                                    literal: bool) -> None:
    write(tmp_path, {"m.py": f'"""Doc."""\n__lazy_modules__ = {value}\n'})
    lazy = pep810.read_lazy_modules(str(tmp_path / "m.py"))
    assert lazy is not None and (lazy.entries, lazy.literal, lazy.line) == (entries, literal, 2)


def test_entries_written_with_the_modules_own_name_are_read(tmp_path: Path) -> None:
    """packaging writes ``f"{__spec__.parent}._ranges"``: given the module's name, such an entry is
    the string it makes, so the statements it selects are declared and no entry is stale."""
    write(tmp_path, {"p/__init__.py": "", "p/_r.py": "", "p/m.py": """\
        __lazy_modules__ = {"bisect", f"{__spec__.parent}._r", f"{other}.y"}
        from bisect import bisect_right
    """})
    path = str(tmp_path / "p/m.py")
    lazy = pep810.read_lazy_modules(path, "p.m", False)
    assert lazy is not None and not lazy.literal  # one entry (other) is read only by running it
    write(tmp_path, {"p/m.py": """\
        __lazy_modules__ = {"bisect", f"{__spec__.parent}._r", f"{__package__}", f"{__name__}.x"}
        from bisect import bisect_right
        from ._r import thing
        from . import _r
    """})
    lazy = pep810.read_lazy_modules(path, "p.m", False)
    assert lazy is not None and lazy.literal and lazy.entries == ("bisect", "p", "p._r", "p.m.x")
    without_name = pep810.read_lazy_modules(path)
    assert without_name is not None and not without_name.literal
    statements = pep810.scan_module(path, "p.m", False)
    assert [s.declared for s in statements] == [True, True, True]
    assert [stale.entry for stale in pep810.stale_entries(lazy, statements)] == ["p.m.x"]
    assert pep810.lazy_modules_patch(statements, root=str(tmp_path)) == ""  # nothing to add


def test_lazy_modules_patch_extends_a_declaration_it_cannot_read_below_it(tmp_path: Path) -> None:
    """A block above an assignment computed at run time would be overwritten by it: the entries
    go below it, added to its value."""
    write(tmp_path, {"m.py": "__lazy_modules__ = compute()\nimport json\n"})
    statements = pep810.scan_module(str(tmp_path / "m.py"), "m", False)
    assert pep810.lazy_modules_patch(statements, root=str(tmp_path)) == textwrap.dedent('''\
        --- a/m.py
        +++ b/m.py
        @@ -1,2 +1,6 @@
         __lazy_modules__ = compute()
        +__lazy_modules__ = [
        +    *__lazy_modules__,
        +    "json",
        +]
         import json
    ''')


def test_read_lazy_modules_is_none_without_one(tmp_path: Path) -> None:
    write(tmp_path, {"m.py": "import os\n"})
    assert pep810.read_lazy_modules(str(tmp_path / "m.py")) is None


def test_one_entry_selects_every_statement_of_its_module(tmp_path: Path) -> None:
    write(tmp_path, {"p/__init__.py": "from . import a\nfrom . import b\nfrom .a import x\n", "p/a.py": "x = 1\n",
                     "p/b.py": ""})
    statements = pep810.scan_module(str(tmp_path / "p/__init__.py"), "p", True)
    assert [s.line for s in pep810.selected_by("p", statements)] == [1, 2]
    assert [s.line for s in pep810.selected_by("p.a", statements)] == [3]


def test_lazy_modules_patch_adds_a_block_after_the_docstring_and_future_imports(tmp_path: Path) -> None:
    write(tmp_path, {"p/__init__.py": '''\
        """Doc."""
        from __future__ import annotations
        import os
        from . import helper
        try:
            import csv
        except ImportError:
            pass
    ''', "p/helper.py": ""})
    statements = pep810.scan_module(str(tmp_path / "p/__init__.py"), "p", True)
    assert pep810.lazy_modules_patch(statements, root=str(tmp_path)) == textwrap.dedent('''\
        --- a/p/__init__.py
        +++ b/p/__init__.py
        @@ -1,5 +1,9 @@
         """Doc."""
         from __future__ import annotations
        +__lazy_modules__ = [
        +    "os",
        +    "p",
        +]
         import os
         from . import helper
         try:
    ''')


def test_lazy_modules_patch_extends_an_existing_declaration_and_drops_stale_entries(tmp_path: Path) -> None:
    write(tmp_path, {"m.py": '__lazy_modules__ = ["xml.dom", "json"]\nimport json\nimport xml.dom.minidom\n'})
    statements = pep810.scan_module(str(tmp_path / "m.py"), "m", False)
    patch = pep810.lazy_modules_patch(statements, root=str(tmp_path), drop=["xml.dom"])
    assert patch == textwrap.dedent('''\
        --- a/m.py
        +++ b/m.py
        @@ -1,3 +1,6 @@
        -__lazy_modules__ = ["xml.dom", "json"]
        +__lazy_modules__ = [
        +    "json",
        +    "xml.dom.minidom",
        +]
         import json
         import xml.dom.minidom
    ''')


def test_lazy_keyword_patch_writes_lazy_where_it_is_allowed(tmp_path: Path) -> None:
    write(tmp_path, {"m.py": "import os\nwith open(__file__):\n    from json import dumps\n"
                             "def f():\n    import csv\nlazy import sys\n"})
    statements = pep810.scan_module(str(tmp_path / "m.py"), "m", False)
    assert pep810.lazy_keyword_patch(statements, root=str(tmp_path)) == textwrap.dedent('''\
        --- a/m.py
        +++ b/m.py
        @@ -1,6 +1,6 @@
        -import os
        +lazy import os
         with open(__file__):
        -    from json import dumps
        +    lazy from json import dumps
         def f():
             import csv
         lazy import sys
    ''')


def test_a_relative_import_beyond_the_top_level_package_has_no_entry(tmp_path: Path) -> None:
    write(tmp_path, {"p/__init__.py": "from .. import x\n"})
    (statement,) = pep810.scan_module(str(tmp_path / "p/__init__.py"), "p", True)
    assert statement.entry is None and statement.entries == ()
    assert pep810.lazy_modules_patch([statement]) == ""


def test_imports_under_type_checking_are_marked(tmp_path: Path) -> None:
    write(tmp_path, {"m.py": """\
        import typing
        from typing import TYPE_CHECKING
        if TYPE_CHECKING:
            import json
        else:
            import csv
        if typing.TYPE_CHECKING:
            with open(__file__):
                from os import path
    """})
    lines = by_line(pep810.scan_module(str(tmp_path / "m.py"), "m", False))
    assert {line: s.type_checking for line, s in lines.items()} == {1: False, 2: False, 4: True, 6: False, 9: True}


def test_pep_810_examples_written_with_the_keyword(tmp_path: Path) -> None:
    """The PEP's own forms, in 3.15 syntax, read by an older parser."""
    write(tmp_path, {"ex.py": """\
        import sys
        lazy import json
        lazy from json import dumps
        lazy import json as j
        lazy from json import dumps as d
        lazy import xml.dom.minidom
        print('json' in sys.modules)
    """})
    lines = by_line(pep810.scan_module(str(tmp_path / "ex.py"), "ex", False))
    assert [(s.lazy_keyword, s.entry, s.bound) for s in lines.values()] == [
        (False, "sys", ("sys",)), (True, "json", ("json",)), (True, "json", ("dumps",)), (True, "json", ("j",)),
        (True, "json", ("d",)), (True, "xml.dom.minidom", ("xml",)),
    ]
    assert lines[3].text == "lazy from json import dumps"
    # Nothing left to patch: the lazy ones are lazy already.
    assert pep810.lazy_keyword_patch([lines[n] for n in (2, 3, 4, 5, 6)]) == ""


def test_pep_810_lazy_modules_example(tmp_path: Path) -> None:
    """``__lazy_modules__ = ["json"]`` makes ``import json`` lazy on 3.15 and leaves it eager before."""
    write(tmp_path, {"ex.py": '__lazy_modules__ = ["json"]\nimport json\nimport os\n'})
    statements = pep810.scan_module(str(tmp_path / "ex.py"), "ex", False)
    assert [(s.entry, s.declared) for s in statements] == [("json", True), ("os", False)]
    lazy = pep810.read_lazy_modules(str(tmp_path / "ex.py"))
    assert lazy is not None and pep810.stale_entries(lazy, statements) == ()


def test_lazy_modules_patch_moves_a_declaration_that_comes_too_late(tmp_path: Path) -> None:
    write(tmp_path, {"m.py": '"""Doc."""\nimport json\n__lazy_modules__ = ["json"]\nimport os\n'})
    statements = pep810.scan_module(str(tmp_path / "m.py"), "m", False)
    assert [s.declared for s in statements] == [False, False]
    assert pep810.lazy_modules_patch(statements, root=str(tmp_path)) == textwrap.dedent('''\
        --- a/m.py
        +++ b/m.py
        @@ -1,4 +1,7 @@
         """Doc."""
        +__lazy_modules__ = [
        +    "json",
        +    "os",
        +]
         import json
        -__lazy_modules__ = ["json"]
         import os
    ''')
