"""Organisations' payments (#16): identifying 1CClientBankExchange lines to contracts (`bank_import`), the
operator's assignment of an unidentified payment to a contract (`assign`), the allocation of a contract's
payments over its documents and penalties (`allocation`), and the turnover of a contract or of every contract
for a month (`turnover`)."""
