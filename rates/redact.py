"""Secrets never leave in a message: URLs are shown without their userinfo, query or fragment.

A feed's key usually rides in its URL (``?app_id=KEY``, ``https://user:KEY@host/``), and a
failure's reason ends up in ``/api/v1/sources``, the log and ``rates status``. Every reason
and config problem passes through :func:`redact` when it is made, so no later reader can
forget to.
"""

from __future__ import annotations

import re

# scheme://[userinfo@]rest — up to whitespace, a quote or an angle bracket (how URLs sit in messages).
_URL = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^\s'\"<>]*)")
HIDDEN = "***"


def redact_url(url: str) -> str:
    """``https://u:p@host/path?key=1#x`` → ``https://***@host/path?***``."""
    match = _URL.fullmatch(url)
    return _redacted(match) if match else url


def redact(text: str) -> str:
    """``text`` with every URL in it redacted."""
    return _URL.sub(_redacted, text)


def _redacted(match: re.Match[str]) -> str:
    scheme, rest = match.group(1), match.group(2)
    # Punctuation that ends a sentence around the URL stays outside it: "…?key=1: refused".
    trimmed = rest.rstrip(".,:;)]")
    trailing, rest = rest[len(trimmed) :], trimmed
    # The authority ends at the first '/', '?' or '#'; userinfo is what precedes its last '@'.
    end = len(rest)
    for mark in "/?#":
        at = rest.find(mark)
        if at != -1:
            end = min(end, at)
    authority, tail = rest[:end], rest[end:]
    if "@" in authority:
        authority = f"{HIDDEN}@{authority.rsplit('@', 1)[1]}"
    cut = min((i for i in (tail.find("?"), tail.find("#")) if i != -1), default=-1)
    if cut != -1:
        tail = tail[:cut] + ("?" + HIDDEN if tail[cut] == "?" else "")
    return scheme + authority + tail + trailing
