"""The exchange file's name (= `@ИдФайл`) and the numbers a document needs, without any database sequence.

The FNS formats name the file `R_T_A_O_GGGGMMDD_N…` (order ЕД-7-26/970@, the description of the exchange
file; the Schematron rule 0400400007 of the XSD demands file name = @ИдФайл):
- `ON_NSCHFDOPPR` — the prefix of the seller's title of the invoice / UPD (КНД 1115131);
- A — the recipient's id, O — the sender's id: EDO participant ids (the operator's 3-character code and the
  box id, at most 46 characters; `2LT-600072763` in the reference sample);
- GGGGMMDD — the day the file is formed;
- N — a 36-character GUID;
- then the 5.03 format's flag fields, which a real 5.03 file (the EDOLite sample in
  `shared/reference/fns-upd/samples/`) writes as `_0_1_0_0_0_00`: five one-digit flags and a two-digit one.
  The second flag is 1 there because the goods are marked (КИЗ) — the same reading as the public generator
  vscherbo/ark-upd-xml (`…_0_{kiz}_0_0_0_00`). The other flags concern goods (traceability and the like) that a
  water utility's services never have: we always write 0 and keep them as given when parsing.

`document_guid` gives the GUID from a stable key (uuid5), so that rebuilding the same document yields the same
file name; `next_number` continues an invoice numbering from the last number issued (Decree 1137: invoice
numbers follow the chronological order; a prefix such as a division index is kept).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date

from aquabill.base.errors import Invalid

PREFIX = "ON_NSCHFDOPPR"
NO_FLAGS = ("0", "0", "0", "0", "0", "00")
MARKED_GOODS_FLAGS = ("0", "1", "0", "0", "0", "00")

# An EDO participant id: 4..46 characters, letters (Latin), digits and hyphens (no "_", the separator).
_PARTICIPANT = re.compile(r"^[0-9A-Za-z][0-9A-Za-z-]{3,45}$")
_FILE_ID = re.compile(
    r"^(?P<prefix>ON_NSCHFDOPPR)_(?P<recipient>[0-9A-Za-z-]{4,46})_(?P<sender>[0-9A-Za-z-]{4,46})_"
    r"(?P<day>\d{8})_(?P<guid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})"
    r"(?P<flags>(?:_\d)*(?:_\d{2})?)$")
# The namespace of our document GUIDs (uuid5 of "aquabill:fns-upd"), fixed forever.
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "aquabill:fns-upd")


@dataclass(frozen=True, slots=True)
class FileId:
    recipient: str
    sender: str
    formed_on: date
    guid: uuid.UUID
    flags: tuple[str, ...] = NO_FLAGS

    def __str__(self) -> str:
        tail = "".join(f"_{f}" for f in self.flags)
        return f"{PREFIX}_{self.recipient}_{self.sender}_{self.formed_on:%Y%m%d}_{self.guid}{tail}"

    @property
    def file_name(self) -> str:
        return f"{self}.xml"


def check_participant(value: str, *, field: str) -> str:
    text = (value or "").strip()
    if not text:
        who = "покупателя (получателя)" if field.startswith("buyer") else "продавца (отправителя)"
        raise Invalid(f"Не указан идентификатор участника ЭДО {who}: без него не составить имя файла УПД",
                      field=field)
    if not _PARTICIPANT.match(text):
        raise Invalid(f"Идентификатор участника ЭДО «{text}» должен содержать от 4 до 46 латинских букв, цифр "
                      "или дефисов (код оператора и номер абонента)", field=field)
    return text


def make_file_id(recipient: str, sender: str, formed_on: date, guid: uuid.UUID | None = None,
                 flags: tuple[str, ...] = NO_FLAGS) -> FileId:
    """The file id for a document from `sender` to `recipient` formed on `formed_on` (a random GUID unless
    one is given)."""
    return FileId(recipient=check_participant(recipient, field="buyer.edo_id"),
                  sender=check_participant(sender, field="seller.edo_id"),
                  formed_on=formed_on, guid=guid or uuid.uuid4(), flags=flags)


def parse_file_id(text: str) -> FileId:
    """Read `@ИдФайл` (or a file name with or without `.xml`); Invalid with the reason when it does not fit."""
    name = (text or "").strip()
    if name.lower().endswith(".xml"):
        name = name[:-4]
    m = _FILE_ID.match(name)
    if m is None:
        raise Invalid(f"Идентификатор файла «{name}» не соответствует шаблону "
                      f"{PREFIX}_<получатель>_<отправитель>_<ГГГГММДД>_<GUID>_<признаки>", field="ИдФайл")
    day = m["day"]
    try:
        formed_on = date(int(day[:4]), int(day[4:6]), int(day[6:]))
    except ValueError:
        raise Invalid(f"Идентификатор файла «{name}»: дата {day} не существует", field="ИдФайл") from None
    flags = tuple(f for f in m["flags"].split("_") if f)
    return FileId(recipient=m["recipient"], sender=m["sender"], formed_on=formed_on, guid=uuid.UUID(m["guid"]),
                  flags=flags)


def document_guid(key: str) -> uuid.UUID:
    """A GUID derived from a stable key (e.g. "demo/upd/1234/v1"): the same document → the same file id."""
    if not key:
        raise Invalid("Пустой ключ документа", field="key")
    return uuid.uuid5(NAMESPACE, key)


_NUMBER = re.compile(r"^(?P<head>.*?)(?P<serial>\d+)$")


def next_number(last: str | None, *, prefix: str = "", width: int = 0) -> str:
    """The number after `last` in the same series: "ВК-0041" → "ВК-0042", None → prefix + "1" (zero-padded to
    `width`). The caller reads the last number issued in the series (one SELECT max under its own lock);
    nothing here keeps state."""
    if last is None or not last.strip():
        return f"{prefix}{1:0{width}d}"
    m = _NUMBER.match(last.strip())
    if m is None:
        raise Invalid(f"Номер «{last}» не оканчивается цифрами: следующий номер не определить", field="number")
    serial = m["serial"]
    return f"{m['head']}{int(serial) + 1:0{len(serial)}d}"
