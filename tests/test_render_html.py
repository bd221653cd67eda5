"""``--format html`` without a browser: self-contained, the JSON document embedded unchanged and inert.

What the page does in a browser is in ``test_browser.py``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from html.parser import HTMLParser

import pytest

from aoinspect.render import RenderOptions, render
from aoinspect.render.html import embed_json, html_page
from aoinspect.render.json import to_document
from tests import documents
from tests.documents import REPORT


class _Page(HTMLParser):
    """The page's tags, and the text of each <script> and <style>."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.blocks: list[tuple[str, dict[str, str | None], str]] = []
        self._open: tuple[str, dict[str, str | None]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in ("script", "style"):
            self._open = (tag, dict(attrs))
            self.blocks.append((tag, dict(attrs), ""))

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            tag, attrs, text = self.blocks[-1]
            self.blocks[-1] = (tag, attrs, text + data)

    def handle_endtag(self, tag: str) -> None:
        self._open = None


def parse(page: str) -> _Page:
    parser = _Page()
    parser.feed(page)
    return parser


def embedded(page: str) -> object:
    (data,) = [text for tag, attrs, text in parse(page).blocks if attrs.get("id") == "aoinspect-data"]
    return json.loads(data)


def test_the_page_embeds_the_json_document_unchanged() -> None:
    page = render(REPORT, "html", RenderOptions())
    assert embedded(page) == json.loads(json.dumps(to_document(REPORT)))


def test_nothing_is_fetched() -> None:
    page = parse(render(REPORT, "html", RenderOptions()))
    for tag, attributes in page.tags:
        assert "src" not in attributes and "href" not in attributes, tag
    (csp,) = [attrs["content"] for tag, attrs in page.tags if attrs.get("http-equiv") == "Content-Security-Policy"]
    assert csp is not None and "default-src 'none'" in csp
    # The policy allows exactly the inline script and style, by their hashes.
    for tag, attributes, text in page.blocks:
        if attributes.get("type") == "application/json":
            continue
        digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp, tag


@pytest.mark.parametrize("name", [
    documents.HOSTILE_NAME, "<!--", "a&b", "x\u2028y", "{data}", "<script>", "]]>", "\\u003c/script>",
])
def test_untrusted_names_cannot_leave_the_data_block(name: str) -> None:
    document = documents.resolve_document()
    document["results"][0]["materialized"][0]["module"] = name
    document["package"] = name
    page = html_page(document)
    scripts = [block for block in parse(page).blocks if block[0] == "script"]
    assert len(scripts) == 2  # the data block and the report script, nothing injected
    assert embedded(page) == document
    assert "<script>alert" not in page
    data = scripts[0][2]
    assert "<" not in data and ">" not in data and "&" not in data


def test_embed_json_is_plain_json() -> None:
    text = embed_json({"a": "</script>", "b": [1.5, None, True]})
    assert json.loads(text) == {"a": "</script>", "b": [1.5, None, True]}
    assert re.fullmatch(r"[\x20-\x7e]*", text)


@pytest.mark.parametrize("make", [documents.check_document, documents.snapshot_document, documents.list_document,
                                  documents.trace_document])
def test_any_document_makes_a_page(make) -> None:  # type: ignore[no-untyped-def]
    document = make()
    page = html_page(document)
    assert embedded(page) == document
    assert f"<title>aoinspect {document['command']} pkg</title>" in page
