"""Sorani (Central Kurdish, ``ckb``) names of currencies, shipped with the product.

CLDR's ``ckb`` data has no name for USD, SYP or XDR, and every currency name it does have
is marked ``draft="unconfirmed"`` (common/main/ckb.xml, read at unicode-org/cldr commit
0088591; Babel 2.19 ships the same names from CLDR 49). This table covers every code of
the bundled config.yaml and every code the CBI's workbook quotes, and says where each
name comes from. Codes not listed fall back to CLDR's ``ckb`` name (Babel), else the code.
"""

from __future__ import annotations

from collections.abc import Mapping

CLDR_DRAFT = 'CLDR ckb.xml, draft="unconfirmed"'
# Kurdish-language pages that write the name (found with the search tool; 2020-2023 articles).
KURDSAT_USD = (
    "usage: kurdsatnews.com/news.aspx?id=17674 (2022-11-03, 'دۆلاری ئەمریکی بەرامبەر بە دیناری عێراقی'); "
    "sulcci.com (Sulaimani Chamber of Commerce, on the CBI's airport dollar sales, 2023)"
)

# code: (Sorani name, where it comes from)
CKB_TABLE: Mapping[str, tuple[str, str]] = {
    "USD": ("دۆلاری ئەمریکی", KURDSAT_USD),  # CLDR ckb has no USD name
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
