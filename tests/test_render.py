"""Renderers are pure functions of a report: compared against expected strings and parsed."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import textwrap
import xml.etree.ElementTree as ET

import pytest

from aoinspect.models import (
    DeclaredName,
    ErrorInfo,
    Failure,
    ListReport,
    Resolution,
    ResolveReport,
    Step,
)
from aoinspect.render import RenderOptions, render
from tests.documents import IMPORTED, LOADS, REPORT
from tests.documents import module_load as load


def test_text_resolve() -> None:
    assert render(REPORT, "text", RenderOptions(top=3)) == textwrap.dedent("""\
        import ao: 1 module in 1.0 ms

        ao.quantization  ok, via module __getattr__, cached, 4 modules, 6.5 ms
          returned module: <module 'ao.quantization'>
          SELF ms  CUMUL ms  MODULE                    IMPORTED BY      DISTRIBUTION
             1.00      6.00  ao.quantization           (access)         aoinspect
             3.00      3.00  ao.nn                     ao.quantization  aoinspect
             1.50      2.00  ao.quantization.observer  ao.quantization  aoinspect
          ... 1 more (--top 0 shows all)
          DISTRIBUTION  VERSION  MODULES  SELF ms
          aoinspect     0.1.0          3     5.50
          (stdlib)                     1     0.50""")


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("cumulative", ["ao.quantization", "ao.nn", "ao.quantization.observer", "math"]),
        ("self", ["ao.nn", "ao.quantization.observer", "ao.quantization", "math"]),
        ("name", ["ao.nn", "ao.quantization", "ao.quantization.observer", "math"]),
        ("order", ["ao.quantization", "ao.quantization.observer", "math", "ao.nn"]),
    ],
)
def test_text_sort_orders(sort: str, expected: list[str]) -> None:
    text = render(REPORT, "text", RenderOptions(top=0, sort=sort))
    shown = [line.split()[2] for line in text.splitlines() if re.match(r"\s+\d+\.\d\d\s+\d+\.\d\d\s", line)]
    assert shown == expected


def test_tree() -> None:
    assert render(REPORT, "tree", RenderOptions()) == textwrap.dedent("""\
        ao.quantization  4 modules, 6.00 ms importing (6.50 ms access)
          self ms  cumul ms  module
             1.00      6.00  └─ ao.quantization
             1.50      2.00     ├─ ao.quantization.observer
             0.50      0.50     │  └─ math
             3.00      3.00     └─ ao.nn""")


def test_tree_depth_collapses() -> None:
    text = render(REPORT, "tree", RenderOptions(depth=2))
    assert "ao.quantization.observer  (+1 below)" in text
    assert "math" not in text


def test_dot_is_sorted_and_valid() -> None:
    dot = render(REPORT, "dot", RenderOptions())
    assert dot == render(REPORT, "dot", RenderOptions())
    edges = re.findall(r'"r0:([^"]+)" -> "r0:([^"]+)"', dot)
    assert edges == sorted(edges)
    assert ("ao.quantization.observer", "math") in edges
    assert ("ao.quantization (access)", "ao.quantization") in edges
    if shutil.which("dot"):
        completed = subprocess.run(["dot", "-Tsvg"], input=dot, capture_output=True, text=True, check=True)
        ET.fromstring(completed.stdout)


def test_mermaid_flowchart() -> None:
    mermaid = render(REPORT, "mermaid", RenderOptions())
    lines = mermaid.splitlines()
    assert lines[0] == "flowchart LR"
    ids = dict(re.findall(r'^\s+(r0_m\d+)\["([^"]+)"\]$', mermaid, re.M))
    assert sorted(ids.values()) == sorted(item.module for item in LOADS)
    by_name = {name: node for node, name in ids.items()}
    assert f"    {by_name['ao.quantization.observer']} --> {by_name['math']}" in lines
    assert lines[-1] == "  end"


def test_svg_boxes_match_the_data() -> None:
    svg = render(REPORT, "svg", RenderOptions())
    root = ET.fromstring(svg)
    ns = {"svg": "http://www.w3.org/2000/svg"}
    rects = {rect.get("data-module"): rect for rect in root.iterfind(".//svg:rect", ns) if rect.get("data-module")}
    assert set(rects) == {item.module for item in LOADS}
    total = 6.0
    scale = float(root.iterfind(".//svg:rect", ns).__next__().get("width")) / total  # the access row
    for item in LOADS:
        rect = rects[item.module]
        assert float(rect.get("width")) == pytest.approx(item.cumulative_ms * scale, abs=0.01)
        assert float(rect.get("data-cumulative-ms")) == item.cumulative_ms
    # Children sit inside their parent, one row below it.
    child, parent = rects["math"], rects["ao.quantization.observer"]
    assert float(child.get("y")) > float(parent.get("y"))
    assert float(parent.get("x")) <= float(child.get("x"))
    right_edge = float(parent.get("x")) + float(parent.get("width"))
    assert float(child.get("x")) + float(child.get("width")) <= right_edge + 1e-6
    # Siblings do not overlap.
    observer, nn = rects["ao.quantization.observer"], rects["ao.nn"]
    assert float(observer.get("x")) + float(observer.get("width")) <= float(nn.get("x")) + 1e-6
    titles = [title.text for title in root.iterfind(".//svg:title", ns)]
    assert any(title and title.startswith("math: self 0.500 ms, cumulative 0.500 ms") for title in titles)
    assert "http://" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_json_failure_and_list() -> None:
    listing = ListReport("ao", IMPORTED, (DeclaredName("nn", ("__all__",), True, False, "module-getattr"),),
                         ("_modules",))
    doc = json.loads(render(listing, "json"))
    assert doc["names"] == [{"name": "nn", "declared_in": ["__all__"], "submodule": True, "loaded_at_import": False,
                             "mechanism": "module-getattr", "declared_at": None, "lazy_package": False}]
    assert doc["undeclared_submodules"] == ["_modules"]
    failure = Failure("resolve", "ao", "probe-failed", "the probe timed out after 5 s", 4,
                      ErrorInfo("ProbeFailed", "timed out"))
    doc = json.loads(render(failure, "json"))
    assert (doc["ok"], doc["exit_code"], doc["command"], doc["package"]) == (False, 4, "resolve", "ao")
    assert doc["error"] == {"kind": "probe-failed", "message": "the probe timed out after 5 s",
                            "exception": {"type": "ProbeFailed", "message": "timed out", "location": None}}


def test_text_failed_resolution_with_suggestion() -> None:
    report = ResolveReport("ao", IMPORTED, (
        Resolution("quantisation", False, ErrorInfo("AttributeError", "no 'quantisation'", "ao/__init__.py:27"),
                   steps=(Step("quantisation", "module-getattr", (), (), 0.01, 0.01),), suggestions=("quantization",)),
    ))
    assert render(report, "text", RenderOptions()).splitlines()[2:] == [
        "ao.quantisation  failed, via module __getattr__, 0 modules, 0.0 ms",
        "  AttributeError: no 'quantisation'",
        "  raised at ao/__init__.py:27",
        "  did you mean 'quantization'?",
    ]


def test_text_keeps_multiline_messages_indented_and_lines_within_the_terminal() -> None:
    long_module = "transformers.models." + "very_long_component_" * 4 + "modeling"
    failing = Resolution(name="broken", ok=False, error=ErrorInfo("ValueError", "first line\nsecond line\nthird"),
                         steps=(Step("broken", "module-getattr", (load(long_module, None, 0, 1.0, 1.0),), (), 1.0),))
    text = render(ResolveReport("ao", IMPORTED, (failing,)), "text", RenderOptions(width=80))
    body = text.split("\n\n", 1)[1].splitlines()
    assert all(line.startswith("  ") for line in body[1:]), body
    assert "    second line" in body and "    third" in body
    assert long_module not in text and "\u2026" in text  # shortened in the table
    assert max(len(line) for line in body) <= 120


def test_check_text_wraps_findings_and_says_when_nothing_is_declared() -> None:
    from aoinspect.models import CheckReport, Finding

    message = "a very long message " * 12
    report = CheckReport("pkg", IMPORTED, (), (), (Finding("star-import", "warning", None, message),))
    lines = render(report, "text", RenderOptions(width=70)).splitlines()
    assert "declares no names" in lines[1]
    finding = [line for line in lines if line.startswith("  ")]
    assert finding[0].startswith("  warning  star-import: a very long message")
    assert all(len(line) <= 70 for line in finding) and len(finding) > 2
    assert all(line.startswith("      ") for line in finding[1:])
    # A name longer than a line runs past the width rather than being cut where it cannot be copied.
    name = "transformers.models.bert.modeling_bert.BertForQuestionAnswering"
    report = CheckReport("pkg", IMPORTED, (), (), (Finding("star-import", "warning", None, f"loads {name} too"),))
    assert any(name in line for line in render(report, "text", RenderOptions(width=50)).splitlines())
