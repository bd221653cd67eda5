"""``--format json``: one document per run, versioned by ``"schema"``; written by the one codec,
``aoinspect.documents``, which also reads it back (``aoinspect render``, ``diff``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aoinspect.render import RenderOptions, Report


def render_json(report: Report, options: RenderOptions) -> str:
    from aoinspect.documents import dumps

    del options  # JSON always holds everything, uncoloured
    return dumps(report)


def to_document(report: Report) -> dict[str, Any]:
    """The report's JSON document, as a dict."""
    from aoinspect.documents import encode

    return encode(report)
