"""``/widget.js``: the embed loader with its height table filled in (see :mod:`widget.size`)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from importlib import resources

from widget.facts import RowFacts
from widget.size import loader_table
from widget.texts import Lang

_PLACEHOLDER = "/*TABLE*/ null"


def loader_source(facts: Iterable[RowFacts], titles: Mapping[Lang, str], lang: Lang, gold_karats: int = 0) -> str:
    """The loader's source for these rows (every configured code, in config order) and the gold table's."""
    template = resources.files("widget").joinpath("static/embed.js").read_text(encoding="utf-8")
    table = {**loader_table(facts, gold_karats), "titles": dict(titles), "lang": lang}
    # "</" cannot end a script element here, and the JSON is an expression in the loader.
    blob = json.dumps(table, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    return template.replace(_PLACEHOLDER, blob, 1)
