"""Legal entities (#16): the second billing line — organisations and sole traders under contracts.

This package holds the pure rules the rest stands on: requisites and their checksums (`requisites`), VAT as a
dated rule with per-line rounding (`vat`), the typed document model of the UPD / invoice (`documents`) and the
matching of bank payments to contracts and documents (`matching`). No web, no database driver, no XML: the FNS
formats live in `aquabill.channels.fns_upd`.

Counterparties and contracts (the rules pure, their SQL in the `*_store` modules, nothing commits):
`catalogue` (vocabularies and their Russian names), `counterparties` / `counterparty_store` (requisites, bank
accounts, contacts; `category_store` the dated 416-FZ penalty category), `contracts` / `contract_store` (contracts and their dated terms), `sites` / `sites_store`
(objects, connection points, sub-subscribers), `point_meters` (commercial meters in the existing meter model),
`contract_card` (the card of a contract).
"""
