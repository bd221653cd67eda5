"""``--format html``: one self-contained page that draws a report's JSON document.

The page embeds the report's JSON document (:func:`aoinspect.documents.encode`) unchanged, so it
shows the same numbers as ``--format json``, and any command's document (a trace's too) can be
shown. ``report.js`` and ``report.css``, next to this file, are inlined; a Content-Security-Policy
allows exactly those two and nothing from the network.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from importlib import resources
from typing import TYPE_CHECKING, Any, Mapping

from aoinspect.render import escape

if TYPE_CHECKING:
    from aoinspect.render import RenderOptions, Report

_PAGE = """\
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{css}</style>
</head>
<body>
<header><h1>{title}</h1><span id="verdict" class="badge"></span></header>
<main>
<section id="summary"></section>
<section id="lines-section" hidden>
<h2>The program's lines that cost the most import time</h2>
<table id="lines"><thead><tr></tr></thead><tbody></tbody></table>
<p id="lines-more" class="muted" hidden></p>
</section>
<section id="findings-section" hidden><h2>Findings</h2><ul id="findings"></ul></section>
<section id="chart-section">
<h2>Import tree</h2>
<div class="controls">
<label>Tree <select id="section"></select></label>
<input id="search" type="search" placeholder="Search modules" aria-label="Search modules" autocomplete="off">
<span id="search-status"></span>
<button id="zoom-out" type="button">Zoom out</button>
</div>
<div id="breadcrumb"></div>
<canvas id="chart" height="40"></canvas>
<div id="legend"></div>
</section>
<section id="table-section">
<h2>Modules</h2>
<table id="modules"><thead><tr></tr></thead><tbody></tbody></table>
<button id="more" type="button" hidden></button>
</section>
</main>
<div id="tip" hidden></div>
<script type="application/json" id="aoinspect-data">{data}</script>
<script>{js}</script>
</body>
</html>
"""

# Inside <script>, "</script" or "<!--" in a string would end or confuse the block: no "<", ">"
# or "&" is left as such, and U+2028/2029 are escaped by ensure_ascii.
_SCRIPT_ESCAPES = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026"}


def render_html(report: Report, options: RenderOptions) -> str:
    from aoinspect.documents import encode

    del options  # the page sorts, filters and zooms by itself
    return html_page(encode(report))


def html_page(document: Mapping[str, Any]) -> str:
    """The page for any versioned JSON document (resolve, check, snapshot, list, trace)."""
    css = _asset("report.css")
    js = _asset("report.js")
    csp = (
        f"default-src 'none'; script-src {_hash(js)}; style-src {_hash(css)}; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
    title = f"aoinspect {document.get('command', '')} {document.get('package') or ''}".strip()
    if document.get("command") == "trace" and isinstance(document.get("program"), list):
        # Which program: a trace has no package.
        shown = " ".join(str(word) for word in document["program"])
        title += ": " + (shown if len(shown) <= 80 else shown[:79] + "\u2026")
    if document.get("command") == "resolve":
        # Which names: two resolves of one package are two different pages.
        names = [str(result.get("name")) for result in document.get("results") or () if isinstance(result, dict)]
        if names:
            title += ": " + ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    fields = {
        "csp": escape.html_text(csp),
        "title": escape.html_text(title),
        "css": css,
        "js": js,
        "data": embed_json(document),
    }
    # One pass, so that a placeholder inside a substituted value (a package named "{data}") stays text.
    return re.sub(r"\{(csp|title|css|js|data)\}", lambda match: fields[match.group(1)], _PAGE)


def embed_json(document: Mapping[str, Any]) -> str:
    """JSON that is safe between ``<script type="application/json">`` tags, whatever its strings hold
    (and, printed, to a CI log: no ``##[``, valid Unicode only)."""
    return escape.json_output(json.dumps(document, ensure_ascii=True, separators=(",", ":")).translate(_SCRIPT_ESCAPES))


def _asset(name: str) -> str:
    text = resources.files("aoinspect.render").joinpath(name).read_text(encoding="utf-8")
    if "</" in text:  # would end the inline <script> or <style> block early
        raise ValueError(f"{name} must not contain '</'")
    return text


def _hash(text: str) -> str:
    digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")
    return f"'sha256-{digest}'"
