"""The tax service's (FNS) XML formats for documents to legal entities.

- `upd`: the seller's title of the UPD / invoice (КНД 1115131, format 5.03 with the 22 % rate) built from
  `aquabill.legal_entities.documents.Document`, windows-1251;
- `validate`: the shipped FNS XSD (`xsd/`, see `xsd/SOURCES.md`) plus `checks` — what XSD 1.0 cannot check
  (file name = @ИдФайл, the Schematron presence rules, INN checksums, the table's arithmetic);
- `naming`: the exchange file's name (@ИдФайл), deterministic GUIDs and invoice numbers without a sequence.
"""

from aquabill.channels.fns_upd.checks import Problem
from aquabill.channels.fns_upd.naming import FileId, document_guid, make_file_id, next_number, parse_file_id
from aquabill.channels.fns_upd.upd import UpdFile, build_upd
from aquabill.channels.fns_upd.validate import ensure_valid, validate

__all__ = [
    "FileId",
    "Problem",
    "UpdFile",
    "build_upd",
    "document_guid",
    "ensure_valid",
    "make_file_id",
    "next_number",
    "parse_file_id",
    "validate",
]
