"""The tenant's editable parts of a printed receipt: its name and logo, a header line, notes, a footer and
contact lines. Plain values (str, PNG bytes) so that the stored layout (`billing_core.receipts.layout_store`:
header_text, footer_text, notes, logo) maps onto it field by field. Texts of any length are accepted: what
does not fit its box on the page ends with «…»."""

from __future__ import annotations

from dataclasses import dataclass

from aquabill.base.errors import Invalid

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True, slots=True)
class ReceiptLayout:
    tenant_name: str = ""  # printed at the top; empty: the payee's name from the requisites
    logo_png: bytes | None = None  # a PNG, drawn in a 30 × 15 mm box keeping its proportions
    header_text: str = ""  # up to two lines under the name (a slogan, the site)
    notes: str = ""  # section 4 «Справочная информация»: how to pass readings, opening hours, … (6 lines)
    footer_text: str = ""  # the foot of the page, under the tear-off slip (two lines)
    contact_lines: str = ""  # one contact a line: "Абонентский отдел: +7 …", "Аварийная служба: …"

    def __post_init__(self) -> None:
        if self.logo_png is not None and not self.logo_png.startswith(PNG_SIGNATURE):
            raise Invalid("Логотип квитанции должен быть картинкой PNG", field="logo_png")

    @property
    def contacts(self) -> list[str]:
        return [line.strip() for line in self.contact_lines.splitlines() if line.strip()]
