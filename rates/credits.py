"""How each source is credited to readers: its display name per language and its link.

The config's ``name``/``link`` win; otherwise each kind has a default (contract §2): the
institution's own name, or the host of the feed's URL for generic kinds, or the id.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from rates.localized import LANGS, Lang, pick
from rates.sources import SourceSettings

_CBI = {"ar": "البنك المركزي العراقي", "ckb": "بانکی ناوەندیی عێراق", "en": "Central Bank of Iraq"}
_ECB = {"ar": "البنك المركزي الأوروبي", "ckb": "European Central Bank", "en": "European Central Bank"}
KIND_NAMES: dict[str, dict[str, str]] = {
    "cbi": _CBI,
    "open-er-api": dict.fromkeys(LANGS, "ExchangeRate-API"),
    "floatrates": dict.fromkeys(LANGS, "FloatRates"),
    "ecb": _ECB,
}
KIND_LINKS: dict[str, str] = {
    "cbi": "https://cbi.iq",
    "open-er-api": "https://www.exchangerate-api.com",
    "floatrates": "https://www.floatrates.com",
    "ecb": "https://www.ecb.europa.eu",
}
_URL_HOST_KINDS = frozenset({"currency-api", "json"})


@dataclass(frozen=True)
class Credit:
    name: str
    link: str | None


def _url(source: SourceSettings) -> str | None:
    url = getattr(source, "url", None)
    return url if isinstance(url, str) else None


def _host(source: SourceSettings) -> str | None:
    url = _url(source)
    return (urlsplit(url).hostname or None) if url else None


def credit(source: SourceSettings, lang: Lang) -> Credit:
    """``source`` as readers see it credited in ``lang``."""
    name = pick(source.name, lang)  # a map without this language falls back to the default
    if name is None and source.kind in KIND_NAMES:
        name = KIND_NAMES[source.kind][lang]
    if name is None and source.kind in _URL_HOST_KINDS:
        name = _host(source)
    link = source.link
    if link is None and source.kind in KIND_LINKS:
        link = KIND_LINKS[source.kind]
    if link is None and source.kind in _URL_HOST_KINDS and _url(source):
        parts = urlsplit(_url(source) or "")
        link = f"{parts.scheme}://{parts.netloc}"
    return Credit(name=name or source.id, link=link)


def credits(sources: list[SourceSettings]) -> dict[Lang, dict[str, Credit]]:
    """Every source's credit in every language: built once per config."""
    return {lang: {s.id: credit(s, lang) for s in sources} for lang in LANGS}
