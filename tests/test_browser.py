"""The HTML report in a real browser: headless Chromium through Selenium and chromedriver.

One browser serves the whole module. Screenshots go to ``<basetemp>/artifacts/`` (printed; run
with ``-s`` to see the paths, or ``--basetemp DIR`` to keep them somewhere known). Skips when
selenium, chromium or chromedriver is missing: ``apt-get install chromium chromium-driver`` and
``pip install selenium``.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
from click.testing import CliRunner

from aoinspect.cli import cli
from aoinspect.render.html import html_page
from tests import documents

pytestmark = pytest.mark.browser

try:  # any ImportError: selenium missing, or installed without a dependency it needs
    from selenium import webdriver
    from selenium.common.exceptions import NoAlertPresentException, WebDriverException
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
except ImportError as exc:
    pytest.skip(f"selenium cannot be imported ({exc}); pip install selenium", allow_module_level=True)

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
DRIVERS = ("chromedriver",)


def _first(names: tuple[str, ...]) -> str | None:
    for name in names:
        found = shutil.which(name) or (f"/usr/lib/chromium/{name}" if Path(f"/usr/lib/chromium/{name}").exists()
                                       else None)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    binary, driver_path = _first(BROWSERS), _first(DRIVERS)
    if binary is None or driver_path is None:
        pytest.skip("no chromium and chromedriver on PATH (apt-get install chromium chromium-driver)")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,900", "--force-device-scale-factor=1"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    try:
        driver = webdriver.Chrome(options=options, service=Service(driver_path))
    except WebDriverException as exc:
        pytest.skip(f"chromium did not start: {exc.msg}")
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.getbasetemp() / "artifacts"
    path.mkdir(exist_ok=True)
    return path


def open_page(browser: Any, tmp_path: Path, page: str) -> None:
    path = tmp_path / "report.html"
    path.write_text(page, encoding="utf-8")
    browser.get(path.as_uri())
    browser.get_log("browser")  # start each page with an empty log


def console_errors(browser: Any) -> list[dict[str, Any]]:
    return [entry for entry in browser.get_log("browser") if entry["level"] in ("SEVERE", "WARNING")]


def api(browser: Any, call: str) -> Any:
    return browser.execute_script(f"return window.aoinspectReport.{call};")


# The rendered text of each cell (trimmed; "" for one not rendered, as WebElement.text gives it) of
# the rows SELECTOR matches, with each row's data-module: one round trip to the browser, where
# asking each cell for its .text costs one per cell (a trace's table: 4 s).
_ROW_TEXTS = """
return Array.from(document.querySelectorAll(arguments[0])).map(function (row) {
    return [row.getAttribute('data-module'), Array.from(row.querySelectorAll('td')).map(function (cell) {
        return cell.getClientRects().length ? cell.innerText.trim() : '';
    })];
});"""


def row_texts(browser: Any, selector: str) -> list[tuple[str | None, list[str]]]:
    return [(module, cells) for module, cells in browser.execute_script(_ROW_TEXTS, selector)]


def click_box(browser: Any, module: str) -> None:
    point = api(browser, f"boxOf({json.dumps(module)})")
    assert point is not None, f"{module} is not drawn"
    canvas = browser.find_element(By.ID, "chart")
    size = canvas.size
    ActionChains(browser).move_to_element_with_offset(
        canvas, int(point["x"] - size["width"] / 2), int(point["y"] - size["height"] / 2)
    ).click().perform()


def screenshot(browser: Any, artifacts: Path, name: str) -> Path:
    path = artifacts / name
    browser.save_screenshot(str(path))
    print(f"screenshot: {path}")
    return path


@pytest.fixture(scope="module")
def quantization_page() -> tuple[str, dict[str, Any]]:
    """A real run on the shipped ao package: its HTML page and its JSON document."""
    runner = CliRunner()
    html = runner.invoke(cli, ["resolve", "quantization", "--format", "html"], catch_exceptions=False)
    assert html.exit_code == 0, html.stderr
    page = html.stdout
    start = page.index('id="aoinspect-data">') + len('id="aoinspect-data">')
    embedded = json.loads(page[start:page.index("</script>", start)])
    return page, embedded


def test_real_report_loads_cleanly_and_shows_the_json_numbers(
    browser: Any, tmp_path: Path, artifacts: Path, quantization_page: tuple[str, dict[str, Any]]
) -> None:
    page, embedded = quantization_page
    open_page(browser, tmp_path, page)
    assert console_errors(browser) == []
    assert api(browser, "sections()") == ["import ao", "ao.quantization"]
    assert api(browser, "focus()") == "ao.quantization"
    rows = row_texts(browser, "#modules tbody tr")
    loads = embedded["results"][0]["materialized"]
    assert len(rows) == len(loads)
    shown = dict(rows)
    for item in loads:
        assert shown[item["module"]][1:3] == [f"{item['self_ms']:.2f}", f"{item['cumulative_ms']:.2f}"]
    picker = browser.find_element(By.ID, "section").text
    assert f"{embedded['results'][0]['total_ms']:.2f} ms" in picker
    screenshot(browser, artifacts, "resolve-quantization.png")


def test_click_zooms_in_and_back_out(
    browser: Any, tmp_path: Path, quantization_page: tuple[str, dict[str, Any]]
) -> None:
    open_page(browser, tmp_path, quantization_page[0])
    click_box(browser, "ao.nn.qat")
    assert api(browser, "focus()") == "ao.nn.qat"
    assert "ao.nn.qat" in browser.find_element(By.ID, "breadcrumb").text
    click_box(browser, "ao.nn.qat")  # the box in focus: back to its parent
    assert api(browser, "focus()") == "ao.quantization.mappings"
    browser.find_element(By.ID, "zoom-out").click()
    assert api(browser, "focus()") == "ao.quantization"
    assert console_errors(browser) == []


def test_search_highlights_matches_in_chart_and_table(
    browser: Any, tmp_path: Path, artifacts: Path, quantization_page: tuple[str, dict[str, Any]]
) -> None:
    page, embedded = quantization_page
    open_page(browser, tmp_path, page)
    browser.find_element(By.ID, "search").send_keys("Observer")
    expected = sorted(item["module"] for item in embedded["results"][0]["materialized"] if "observer" in item["module"])
    assert expected
    assert api(browser, "highlighted()") == expected
    marked = [row.get_attribute("data-module") for row in browser.find_elements(By.CSS_SELECTOR, "#modules tr.match")]
    assert sorted(marked) == expected
    assert browser.find_element(By.ID, "search-status").text.startswith(f"{len(expected)} matching module")
    screenshot(browser, artifacts, "search.png")


def test_a_search_says_which_other_trees_hold_matches(browser: Any, tmp_path: Path) -> None:
    """The search covers the tree shown (pkg.alpha here); "0 matching" must not read as "nowhere"."""
    open_page(browser, tmp_path, html_page(documents.resolve_document()))
    assert api(browser, "focus()") == "pkg.alpha"
    browser.find_element(By.ID, "search").send_keys("pkg.")
    assert api(browser, "highlighted()") == ["pkg.alpha"]
    assert api(browser, "searchStatus()").endswith("; also in import pkg (1), pkg.beta (1)")  # pkg._config, pkg.beta
    browser.find_element(By.ID, "search").send_keys("zzz")
    assert api(browser, "searchStatus()") == "0 matching modules, 0.00 ms self"
    assert console_errors(browser) == []


def test_table_sorts_by_a_clicked_column(browser: Any, tmp_path: Path) -> None:
    open_page(browser, tmp_path, html_page(documents.resolve_document()))
    header = browser.find_element(By.CSS_SELECTOR, "#modules th[data-key=name]")
    header.click()
    names = [row.get_attribute("data-module") for row in browser.find_elements(By.CSS_SELECTOR, "#modules tbody tr")]
    assert names == sorted(names)
    assert header.get_attribute("aria-sort") == "ascending"
    header.click()
    names = [row.get_attribute("data-module") for row in browser.find_elements(By.CSS_SELECTOR, "#modules tbody tr")]
    assert names == sorted(names, reverse=True)


def test_hover_shows_details_and_the_trigger_of_a_trace(browser: Any, tmp_path: Path) -> None:
    open_page(browser, tmp_path, html_page(documents.trace_document()))
    point = api(browser, 'boxOf("numpy")')
    canvas = browser.find_element(By.ID, "chart")
    ActionChains(browser).move_to_element_with_offset(
        canvas, int(point["x"] - canvas.size["width"] / 2), int(point["y"] - canvas.size["height"] / 2)
    ).perform()
    tip = browser.find_element(By.ID, "tip")
    assert tip.is_displayed()
    text = tip.text
    assert "self 4.00 ms, cumulative 8.00 ms" in text
    assert "imported by pkg.alpha" in text
    assert "distribution numpy" in text
    assert "triggered at app/main.py:12 in handler" in text
    assert "import numpy" in text
    legend = [item.get_attribute("data-distribution")
              for item in browser.find_elements(By.CSS_SELECTOR, "#legend > span")]
    assert set(legend) == {"numpy", "(local)", "(stdlib)"}


# A program of two lines that load: one imports, one reaches a lazy name through ao.__getattr__.
TRACED_PROGRAM = "import json\nimport ao\nao.quantization\n"


@pytest.fixture(scope="module")
def trace_page(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A real ``aoinspect trace --format html`` of TRACED_PROGRAM, run from its directory."""
    import os

    root = tmp_path_factory.mktemp("traced")
    (root / "app.py").write_text(TRACED_PROGRAM)
    here = os.getcwd()
    os.chdir(root)  # the report shows paths relative to the program's working directory
    try:
        result = CliRunner().invoke(cli, ["trace", "--format", "html", "-o", "report.html", "--", "app.py"],
                                    catch_exceptions=False)
    finally:
        os.chdir(here)
    assert result.exit_code == 0, result.stderr
    return (root / "report.html").read_text(encoding="utf-8")


def test_a_trace_shows_its_costliest_lines_and_every_trigger_without_hovering(
    browser: Any, tmp_path: Path, artifacts: Path, trace_page: str
) -> None:
    open_page(browser, tmp_path, trace_page)
    assert console_errors(browser) == []
    assert not browser.find_element(By.ID, "tip").is_displayed()  # nothing hovered: all below is on screen
    # At the top, before the chart: the program's lines, costliest first, each with its code.
    lines = browser.find_element(By.ID, "lines-section")
    assert lines.is_displayed()
    assert lines.location["y"] < browser.find_element(By.ID, "chart").location["y"]
    rows = [cells for _module, cells in row_texts(browser, "#lines tbody tr")]
    assert {row[2] for row in rows} == {"app.py:1", "app.py:2", "app.py:3"}
    by_line = {row[2]: row for row in rows}
    assert by_line["app.py:3"][3] == "ao.quantization"
    assert "ao.quantization via ao.__getattr__('quantization')" in by_line["app.py:3"][4]
    milliseconds = [float(row[0]) for row in rows]
    assert milliseconds == sorted(milliseconds, reverse=True)
    # Every row of the module table shows its trigger line and hop in cells of its own.
    header = [cell.text for cell in browser.find_elements(By.CSS_SELECTOR, "#modules thead th")]
    trigger, code, hop, importer = (header.index(name) for name in ("Triggered at", "Code", "Hop", "Imported by"))
    table = dict(row_texts(browser, "#modules tbody tr"))
    shown_trigger = browser.find_element(By.CSS_SELECTOR, '#modules tbody tr[data-module="ao.quantization"]')
    assert shown_trigger.find_elements(By.TAG_NAME, "td")[trigger].is_displayed()
    assert table["ao.quantization"][trigger] == "app.py:3"
    assert table["ao.quantization"][code] == "ao.quantization"
    assert table["ao.quantization"][hop] == "via ao.__getattr__('quantization')"
    assert table["json"][hop] == "(direct import)"
    assert table["json"][importer] == "(the program)"  # not "(access)": a trace has no access
    assert table["ao.quantization.mappings"][importer] == "ao.quantization"
    # A load inside the library names the program's line it came from, beside its own trigger.
    own = header.index("Program's line")
    assert table["ao.quantization.mappings"][own] == "app.py:3"
    assert table["ao.quantization.mappings"][trigger] != "app.py:3"
    # No field is empty: the header's facts, the lines, every cell of the table.
    facts = browser.find_elements(By.CSS_SELECTOR, "#summary > span")
    assert {fact.get_attribute("data-fact") for fact in facts} >= {"command", "program", "python", "modules"}
    assert "package" not in {fact.get_attribute("data-fact") for fact in facts}
    cells = ([fact.text for fact in facts] + [text for row in rows for text in row]
             + [text for row in table.values() for text in row])
    assert [text for text in cells if not text.strip()] == []
    assert "app.py" in browser.find_element(By.TAG_NAME, "h1").text
    screenshot(browser, artifacts, "trace.png")


def test_a_finding_links_into_the_chart(browser: Any, tmp_path: Path, artifacts: Path) -> None:
    open_page(browser, tmp_path, html_page(documents.check_document()))
    items = browser.find_elements(By.CSS_SELECTOR, "#findings li")
    assert len(items) == 2
    items[0].find_element(By.TAG_NAME, "a").click()
    assert api(browser, "focus()") == "numpy.linalg"
    items[1].find_element(By.TAG_NAME, "a").click()  # about the package: the import tree, on the package
    assert browser.find_element(By.ID, "breadcrumb").text == "import pkg \u203a pkg"
    assert console_errors(browser) == []
    screenshot(browser, artifacts, "check.png")


def test_snapshot_without_timings_draws_by_module_count(browser: Any, tmp_path: Path) -> None:
    open_page(browser, tmp_path, html_page(documents.snapshot_document()))
    assert console_errors(browser) == []
    assert api(browser, "sections()") == ["import pkg", "pkg.alpha", "pkg.beta"]
    assert api(browser, "boxesDrawn()") == 1 + 4
    # Names only: the table is in name order and claims no importer or distribution it cannot know.
    rows = [cells for _module, cells in row_texts(browser, "#modules tbody tr")]
    assert [row[0] for row in rows] == sorted(row[0] for row in rows)
    assert {row[4] for row in rows} == {row[5] for row in rows} == {"\u2014"}


def test_hostile_names_stay_text(browser: Any, tmp_path: Path) -> None:
    document = documents.resolve_document()
    document["results"][0]["materialized"][1]["module"] = documents.HOSTILE_NAME
    document["results"][0]["materialized"][2]["module"] = "<img src=x onerror=alert(2)>"
    document["package"] = "<b>pkg</b>"
    open_page(browser, tmp_path, html_page(document))
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # noqa: B018
    names = [row.get_attribute("data-module") for row in browser.find_elements(By.CSS_SELECTOR, "#modules tbody tr")]
    assert documents.HOSTILE_NAME in names
    assert browser.title == "aoinspect resolve <b>pkg</b>: alpha, beta"  # the title names what was resolved
    assert console_errors(browser) == []


def test_ten_thousand_modules_stay_responsive(browser: Any, tmp_path: Path, artifacts: Path) -> None:
    open_page(browser, tmp_path, html_page(documents.big_document(10_000)))
    assert console_errors(browser) == []
    assert api(browser, "focus()") == "big.everything"
    drawn = api(browser, "boxesDrawn()")
    assert 0 < drawn < 10_000  # boxes narrower than a third of a pixel are not drawn
    rows = browser.find_elements(By.CSS_SELECTOR, "#modules tbody tr")
    assert len(rows) == 300  # the rest behind "Show all"
    started = time.perf_counter()
    elapsed_ms = browser.execute_script("""
        var box = document.getElementById('search'), start = performance.now();
        box.value = 'mod12'; box.dispatchEvent(new Event('input'));
        return performance.now() - start;""")
    assert len(api(browser, "highlighted()")) == 111  # mod12, mod120-129, mod1200-1299
    click_box(browser, "dist1.mod1")
    assert api(browser, "focus()") == "dist1.mod1"
    round_trip = time.perf_counter() - started
    # Responsiveness is held by what is drawn (above), not by a clock: times go to the log only.
    print(f"10,000 modules: search redraw {elapsed_ms:.0f} ms, search+zoom round trip {round_trip * 1000:.0f} ms")
    screenshot(browser, artifacts, "ten-thousand.png")


def test_a_failed_run_shows_its_error(browser: Any, tmp_path: Path) -> None:
    document = {**documents.header("resolve", ok=False, exit_code=3),
                "error": {"kind": "import-failed", "message": "cannot import pkg: <boom>"}}
    open_page(browser, tmp_path, html_page(document))
    assert console_errors(browser) == []
    assert browser.find_element(By.CSS_SELECTOR, ".error-box").text == "import-failed: cannot import pkg: <boom>"
    assert not browser.find_element(By.ID, "chart").is_displayed()


def large_check_document() -> dict[str, Any]:
    """diffusers' shape: an import of many modules from a few distributions, and names whose
    alphabetical order is not their cost (the cheapest comes first), some from other distributions."""
    from tests.documents import header, imported, load, resolution

    import_loads = [load("pkg", None, 0, 1.0, 9.0), load("torch", "pkg", 1, 5.0, 6.0, distribution="torch"),
                    load("torch.nn", "torch", 2, 1.0, 1.0, distribution="torch"),
                    load("json", "pkg", 1, 1.0, 1.0, stdlib=True)]
    names = {
        "configuration_utils": [load("pkg.configuration_utils", None, 0, 0.5, 0.5)],
        "pipelines": [load("pkg.pipelines", None, 0, 1.0, 30.0),
                      load("transformers", "pkg.pipelines", 1, 20.0, 29.0, distribution="transformers"),
                      load("tokenizers", "transformers", 2, 9.0, 9.0, distribution="tokenizers")],
        "models": [load("pkg.models", None, 0, 2.0, 12.0), load("safetensors", "pkg.models", 1, 10.0, 10.0,
                                                                  distribution="safetensors")],
        "utils": [load("pkg.utils", None, 0, 1.0, 2.0), load("pkg.utils.x", "pkg.utils", 1, 1.0, 1.0)],
    }
    return {**header("check"), "strict": False, "import": imported(import_loads),
            "names": [{"name": name, "declared_in": ["__all__"], "submodule": True, "loaded_at_import": False}
                      for name in names],
            "results": [resolution(name, loads) for name, loads in names.items()], "findings": []}


def test_a_check_report_opens_on_the_package_import(browser: Any, tmp_path: Path) -> None:
    open_page(browser, tmp_path, html_page(large_check_document()))
    assert console_errors(browser) == []
    assert api(browser, "shown()") == "import pkg"
    assert api(browser, "focus()") == "import pkg"
    assert [row.get_attribute("data-module") for row in browser.find_elements(By.CSS_SELECTOR, "#modules tbody tr")
            ][:2] == ["pkg", "torch"]


def test_the_tree_picker_is_ordered_by_cost_after_the_import(browser: Any, tmp_path: Path) -> None:
    open_page(browser, tmp_path, html_page(large_check_document()))
    assert api(browser, "sections()") == ["import pkg", "pkg.pipelines", "pkg.models", "pkg.utils",
                                          "pkg.configuration_utils"]
    options = [option.text for option in browser.find_elements(By.CSS_SELECTOR, "#section option")]
    assert [option.split(" \u2014 ")[0] for option in options] == api(browser, "sections()")
    # Without times (a snapshot), by module count.
    document = large_check_document()
    for result in document["results"]:
        result["total_ms"] = None
    open_page(browser, tmp_path, html_page(document))
    assert api(browser, "sections()") == ["import pkg", "pkg.pipelines", "pkg.models", "pkg.utils",
                                          "pkg.configuration_utils"]


def test_the_legend_lists_the_distributions_of_the_tree_shown(browser: Any, tmp_path: Path) -> None:
    open_page(browser, tmp_path, html_page(large_check_document()))
    assert set(api(browser, "legend()")) == {"(local)", "torch", "(stdlib)"}
    api(browser, "select(1)")  # pkg.pipelines
    assert api(browser, "shown()") == "pkg.pipelines"
    assert set(api(browser, "legend()")) == {"(local)", "transformers", "tokenizers"}
    # Heaviest first, as the colours were given out over the whole document.
    assert api(browser, "legend()")[:2] == ["transformers", "tokenizers"]
    assert console_errors(browser) == []
