"""Sorani (Central Kurdish, ``ckb``) names of currencies, shipped with the product.

CLDR's ``ckb`` data has no name for USD or SYP, and every currency name it does have is
marked ``draft="unconfirmed"`` (common/main/ckb.xml, read at unicode-org/cldr commit
0088591; Babel 2.19 ships the same names from CLDR 49). This table covers every code of
the bundled config.yaml and every code the CBI's workbook quotes (its SDR column is
not read as a currency), and says where each name comes from: CLDR's draft, or the
usage of Kurdish-language (Sorani) news pages where CLDR has none. Codes not listed fall
back to CLDR's ``ckb`` name (Babel), else to the code itself.
"""

from __future__ import annotations

from collections.abc import Mapping

CLDR_DRAFT = 'CLDR ckb.xml, draft="unconfirmed"'
# Sorani pages that write the name, found with the search tool.
USD_USAGE = (
    "usage: kurdistan24.net/ckb/story/893130 (2026-02-10, the CBI governor on 'دۆلاری ئەمریکی'); "
    "kurdsatnews.com/news.aspx?id=17674 (2022-11-03, 'دۆلاری ئەمریکی بەرامبەر بە دیناری عێراقی'); "
    "ku.964media.com/60121 (2023-05-17)"
)
SYP_USAGE = "usage: kurdistan24.net/ckb/story/883767 (2025-12-27, 'نرخی لیرەی سووری', on Syria's new pound)"

# code: (Sorani name, where it comes from)
CKB_TABLE: Mapping[str, tuple[str, str]] = {
    "USD": ("دۆلاری ئەمریکی", USD_USAGE),  # CLDR ckb has no USD name
    "SYP": ("لیرەی سووری", SYP_USAGE),  # nor a SYP name
    "EUR": ("یورۆ", CLDR_DRAFT),
    "GBP": ("پاوەنی بەریتانی", CLDR_DRAFT),
    "TRY": ("لیرەی تورکیا", CLDR_DRAFT),
    "SAR": ("ڕیاڵی سەعوودی", CLDR_DRAFT),
    "AED": ("درهەمی ئیماڕاتی", CLDR_DRAFT),
    "KWD": ("دیناری کووەیتی", CLDR_DRAFT),
    "JOD": ("دیناری ئوردنی", CLDR_DRAFT),
    "QAR": ("ڕیاڵی قەتەری", CLDR_DRAFT),
    "BHD": ("دیناری بەحرەینی", CLDR_DRAFT),
    "OMR": ("ڕیاڵی عومانی", CLDR_DRAFT),
    "EGP": ("جونەی میسڕی", CLDR_DRAFT),
    "IRR": ("ڕیاڵی ئێرانی", CLDR_DRAFT),
    # CLDR 49 (Babel); the cldr repository at 0088591 misspells it "لیرەی کوبنانی".
    "LBP": ("لیرەی لوبنانی", CLDR_DRAFT),
    "YER": ("ڕیالی یەمەنی", CLDR_DRAFT),
    "CAD": ("دۆلاری کەنەدی", CLDR_DRAFT),
    "CHF": ("فرانکی سویسری", CLDR_DRAFT),
    "SEK": ("کرۆنی سویدی", CLDR_DRAFT),
    "NOK": ("کرۆنی نەرویجی", CLDR_DRAFT),
    "DKK": ("کرۆنی دانیمارکی", CLDR_DRAFT),
    "JPY": ("یەنی یابانی", CLDR_DRAFT),
    "CNY": ("یەننی چینی", CLDR_DRAFT),
    "AUD": ("دۆلاری ئوسترالی", CLDR_DRAFT),
    "INR": ("ڕوپیەی هیندی", CLDR_DRAFT),
    "XAU": ("زێڕ", CLDR_DRAFT),  # gold, quoted by the CBI per troy ounce
}

CKB_NAMES: Mapping[str, str] = {code: name for code, (name, _) in CKB_TABLE.items()}
