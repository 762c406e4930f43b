"""Drop-in answers in the shapes of other rate APIs (contract section 9).

Frankfurter v1 (:mod:`.frankfurter`), Open Exchange Rates (:mod:`.oxr`), currency-api
(:mod:`.currency_api`) and ExchangeRate-API open access (:mod:`.exchangerate_api`) all
answer from one IQD table (:mod:`.table`); :mod:`.views` prepares their bodies once per
published snapshot and :mod:`.routes` maps their URLs to it.
"""
