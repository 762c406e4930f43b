"""oEmbed 1.0 for the widget: which URLs are ours, and the JSON answer for one of them.

"This service" is its origin as the request reaches it: ``Host``, or ``X-Forwarded-Host``
and ``X-Forwarded-Proto`` behind the shipped nginx config. The answer's ``html`` frames the
asked URL (its query kept) at ``width`` px, with the height the widget has at that width for
its rows (:mod:`widget.size`), so the embedding page never shifts.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any
from urllib.parse import quote, urlsplit

DEFAULT_WIDTH = 600
MIN_WIDTH = 200


def public_origin(scheme: str, host: str, headers: Mapping[str, str]) -> str:
    """``scheme://host`` as clients reach the service (the first proxy's view wins)."""
    forwarded_proto = headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    forwarded_host = headers.get("X-Forwarded-Host", "").split(",")[0].strip()
    if forwarded_proto in ("http", "https"):
        scheme = forwarded_proto
    return f"{scheme}://{(forwarded_host or host).lower()}"


def widget_query(url: str, origin: str) -> str | None:
    """The query of ``url`` if it is this origin's ``/widget`` page (or its path alone), else None."""
    url = url.strip()
    if url.startswith("/") and not url.startswith("//"):
        url = origin + url  # a path names a page of this service
    try:
        parts = urlsplit(url)
        asked = f"{parts.scheme.lower()}://{parts.netloc.lower()}"
    except ValueError:
        return None
    if asked != origin or parts.path != "/widget" or parts.fragment:
        return None
    return parts.query


def discovery_href(origin: str, query: str) -> str:
    """The ``/oembed`` URL a widget page links to (its own URL, query kept); ``origin`` "" makes both relative."""
    page = f"{origin}/widget" + (f"?{query}" if query else "")
    return f"{origin}/oembed?url={quote(page, safe='')}&format=json"


def width_for(query: Mapping[str, str]) -> int | None:
    """The frame width to answer with: ``maxwidth`` caps the default; None if malformed."""
    raw = query.get("maxwidth")
    if raw is None:
        return DEFAULT_WIDTH
    if not raw.isascii() or not raw.isdigit() or len(raw) > 6 or int(raw) < MIN_WIDTH:
        return None
    return min(int(raw), DEFAULT_WIDTH)


def answer(
    *,
    origin: str,
    query: str,
    title: str,
    frame_title: str,
    lang: str,
    width: int,
    height: int,
    cache_age: int,
) -> dict[str, Any]:
    src = f"{origin}/widget" + (f"?{query}" if query else "")
    html = (
        f'<iframe src="{escape(src)}" width="{width}" height="{height}" title="{escape(frame_title)}" '
        f'lang="{escape(lang)}" loading="lazy" scrolling="no" frameborder="0" style="border:0;display:block">'
        "</iframe>"
    )
    return {
        "version": "1.0",
        "type": "rich",
        "provider_name": title,
        "provider_url": f"{origin}/",
        "title": title,
        "html": html,
        "width": width,
        "height": height,
        "cache_age": cache_age,
    }
