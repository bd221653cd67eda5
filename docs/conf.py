"""Sphinx configuration of aoinspect's docs (build: ``sphinx-build -W --keep-going -n -b html docs
docs/_build/html``, as ``.ci/run`` does).

Pages are Markdown (myst-parser); the CLI reference is generated from the Click commands
(sphinx-click); the rule pages and the schema page are generated here, from the rule registry and
from ``schemas/``, before Sphinx reads the sources. The rule pages are committed (SARIF's ``helpUri``
points at them; tests/test_docs.py holds them equal to the registry); the schema page is git-ignored."""

from __future__ import annotations

import sys
from pathlib import Path

import tomllib

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))  # the checkout's aoinspect, also when it is not installed

from aoinspect.rules import RULES  # noqa: E402
from aoinspect.rules.docs import rule_list, rule_page  # noqa: E402

project = "aoinspect"
author = "the aoinspect authors"
copyright = "the aoinspect authors"
release = version = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]

extensions = ["myst_parser", "sphinx_click"]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build", "examples"]
myst_heading_anchors = 3  # [text](page.md#a-heading) links to a heading, checked by the build
myst_enable_extensions = ["colon_fence"]
html_theme = "alabaster"
html_title = f"aoinspect {release}"
suppress_warnings: list[str] = []


def _write(path: Path, text: str) -> None:
    """Write TEXT to PATH unless it already holds it, so that an unchanged page is not rebuilt."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def _generate_rules() -> None:
    """``reference/rules/``: one page per rule of the registry, and an index in its order."""
    folder = DOCS / "reference" / "rules"
    wanted = {f"{rule.id}.md" for rule in RULES} | {"index.md"}
    for stale in folder.glob("*.md"):
        if stale.name not in wanted:
            stale.unlink()
    for rule in RULES:
        see_also = "\nIts conditions in detail: [What check verifies](../check.md#rules).\n"
        _write(folder / f"{rule.id}.md", rule_page(rule).rstrip("\n") + "\n" + see_also)
    toctree = "\n".join(rule.id for rule in RULES)
    _write(folder / "index.md", f"""# Rules

Every rule `aoinspect check` runs, in the registry's order (`aoinspect.rules.RULES`); this page and
the rule pages are generated from it. Errors fail a run; warnings too with `--strict`; info never.
`--ignore RULE` (repeatable) drops a rule. [What check verifies](../check.md) tells each rule's
conditions in detail.

{rule_list(link=lambda rule: f"{rule.id}.md")}
```{{toctree}}
:maxdepth: 1
:hidden:

{toctree}
```
""")


def _generate_schemas() -> None:
    """``reference/schemas.md``: every JSON Schema file in ``schemas/``, included whole."""
    files = sorted((ROOT / "schemas").glob("*.json"))
    sections = [
        f"## `{path.name}`\n\n```{{literalinclude}} ../../schemas/{path.name}\n:language: json\n```\n" for path in files
    ]
    body = "\n".join(sections) if sections else "No schema files have been generated yet.\n"
    _write(DOCS / "reference" / "schemas.md", f"""# JSON schemas

The JSON Schema of every document `--format json` writes, generated from the report types and
committed under `schemas/` in the repository; the test suite keeps them in sync with the code and
validates real documents against them. [JSON output](json.md) describes the documents in prose.

{body}""")


_generate_rules()
_generate_schemas()
