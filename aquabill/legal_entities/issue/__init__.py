"""Issuing documents to legal entities from their calculation (#16): the month's UPD / act and bill
(`month.py`), the bills of the month's intermediate payments (`intermediate.py`), the advance invoice on a
prepayment (`advance.py`), the correction document on a recalculated closed month (`ukd.py`), cancelling
(`store.py`). The parties and the signer come from `parties.py`, the gap-free numbers from `numbering.py`. The
XML is built by `aquabill.channels.fns_upd` through a builder the caller passes in (domain code does not import
channels): see `month.XmlBuilder`."""
