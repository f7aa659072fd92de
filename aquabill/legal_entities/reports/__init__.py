"""Reports on legal entities (#16): the sales ledger (книга продаж), the reconciliation act (акт сверки) per
contract and the export of documents and payments for 1C.

- `periods`: a report's period (a month, a quarter or any days within a year), parsed from the user's input;
- `sales_ledger`: the rows and totals of the sales ledger by Government Decree 1137, appendix 5;
- `reconciliation`: `reconciliation_act(conn, contract_id, date_from, date_to)` — the act's rows and balances;
- `export_1c`: the documents with their lines and the contract payments of a period as XML (`export_1c.xsd`)
  and CSV;
- `csv_out`: the CSV dialect of the reports (UTF-8 with BOM, «;», decimal comma — what Excel opens as is).
Nothing here knows HTTP, PDF or the FNS XML: the channels render these dicts.
"""
