"""1C "client-bank" statement (`1CClientBankExchange`, versions 1.01–1.03): the header, the account sections
(`СекцияРасчСчет` … `КонецРасчСчет`) and the documents (`СекцияДокумент=<kind>` … `КонецДокумента`).

Text is `Key=Value` lines, normally windows-1251 (`Кодировка=Windows`; `DOS` means cp866); files that are
actually UTF-8 are accepted too. A document with a problem is refused with the line numbers and a Russian
reason; the other documents are kept. Every key of a document is kept in `fields` (first value of a key),
so nothing the bank sent is lost.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from aquabill.channels.bank_files.common import (
    BankFileError,
    LineError,
    checksum,
    decode,
    parse_amount,
    parse_ru_date,
)

MAGIC = "1CClientBankExchange"
ENCODINGS = {"windows": "cp1251", "dos": "cp866"}


@dataclass(frozen=True, slots=True)
class Party:
    account: str  # ПлательщикСчет / ПолучательСчет (or …РасчСчет)
    inn: str
    kpp: str
    name: str  # …1 (the name) or the bare name from the combined «ИНН … name» field
    bank_bic: str = ""
    bank_name: str = ""
    bank_corr_account: str = ""


@dataclass(frozen=True, slots=True)
class BankDocument:
    line: int  # line of `СекцияДокумент=`
    kind: str  # «Платежное поручение», «Платежное требование», …
    number: str
    date: date
    amount: Decimal
    payer: Party
    recipient: Party
    purpose: str  # НазначениеПлатежа
    received_on: date | None = None  # ДатаПоступило (incoming)
    written_off_on: date | None = None  # ДатаСписано (outgoing)
    fields: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    def is_incoming_to(self, account: str) -> bool:
        return bool(account) and self.recipient.account == account


@dataclass(frozen=True, slots=True)
class AccountSection:
    line: int
    account: str
    date_from: date | None
    date_to: date | None
    opening_balance: Decimal | None
    total_in: Decimal | None
    total_out: Decimal | None
    closing_balance: Decimal | None

    @property
    def balanced(self) -> bool | None:
        """Opening + in − out = closing (None when a figure is missing)."""
        figures = (self.opening_balance, self.total_in, self.total_out, self.closing_balance)
        if any(f is None for f in figures):
            return None
        o, i, out, c = figures
        return o + i - out == c  # type: ignore[operator]


@dataclass(frozen=True, slots=True)
class Statement:
    checksum: str  # sha256 of the raw bytes
    encoding: str
    version: str
    header: dict[str, str]  # first value of each header key
    accounts: tuple[str, ...]  # every `РасчСчет=` of the header
    sections: tuple[AccountSection, ...]
    documents: tuple[BankDocument, ...]
    errors: tuple[LineError, ...]  # refused documents and unreadable lines
    warnings: tuple[LineError, ...] = ()  # e.g. balances that do not add up, a missing КонецФайла

    def incoming(self) -> tuple[BankDocument, ...]:
        """Documents whose recipient is one of the statement's accounts."""
        accounts = set(self.accounts) | {s.account for s in self.sections}
        return tuple(d for d in self.documents if d.recipient.account in accounts)


def detect_encoding(data: bytes) -> str:
    """The encoding named by `Кодировка=`, except that valid UTF-8 text with Cyrillic is UTF-8
    (exports re-saved by editors keep the header but change the bytes)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8"
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    head = data[:4096].decode("cp1251", errors="replace")
    m = re.search(r"^Кодировка=(\S+)", head, re.MULTILINE)
    if m is None:
        head = data[:4096].decode("cp866", errors="replace")
        m = re.search(r"^Кодировка=(\S+)", head, re.MULTILINE)
    return ENCODINGS.get(m[1].strip().lower(), "cp1251") if m else "cp1251"


def parse_statement(data: bytes, encoding: str | None = None) -> Statement:
    """Read a whole statement. Raises `BankFileError` only when the file is not a 1C exchange file."""
    text, used = decode(data, encoding or detect_encoding(data))
    lines = text.splitlines()
    first = next((i for i, ln in enumerate(lines) if ln.strip()), None)
    if first is None or lines[first].strip() != MAGIC:
        raise BankFileError(f"Это не файл обмена 1С с банком: первая строка должна быть «{MAGIC}»")
    parser = _Parser()
    for number in range(first + 2, len(lines) + 1):
        parser.feed(number, lines[number - 1])
    parser.close(len(lines))
    header = parser.header
    return Statement(
        checksum=checksum(data), encoding=used, version=header.get("ВерсияФормата", ""), header=header,
        accounts=tuple(parser.accounts), sections=tuple(parser.sections), documents=tuple(parser.documents),
        errors=tuple(parser.errors), warnings=tuple(parser.warnings),
    )


@dataclass
class _Block:
    kind: str  # "account" or the document kind
    start: int
    values: dict[str, tuple[int, str]] = field(default_factory=dict)  # key → (line, first value)
    problems: list[LineError] = field(default_factory=list)


@dataclass
class _Parser:
    header: dict[str, str] = field(default_factory=dict)
    accounts: list[str] = field(default_factory=list)
    sections: list[AccountSection] = field(default_factory=list)
    documents: list[BankDocument] = field(default_factory=list)
    errors: list[LineError] = field(default_factory=list)
    warnings: list[LineError] = field(default_factory=list)
    block: _Block | None = None
    ended: bool = False

    def feed(self, number: int, raw: str) -> None:
        line = raw.strip()
        if not line:
            return
        if self.ended:
            self.warnings.append(LineError(number, "текст после «КонецФайла» пропущен", raw))
            return
        if line == "КонецФайла":
            self._unclosed(number)
            self.ended = True
            return
        if line == "СекцияРасчСчет" or line.startswith("СекцияДокумент="):
            self._unclosed(number)
            kind = "account" if line == "СекцияРасчСчет" else line.partition("=")[2].strip()
            self.block = _Block(kind, number)
            return
        if line in ("КонецРасчСчет", "КонецДокумента"):
            expected = "КонецРасчСчет" if self.block and self.block.kind == "account" else "КонецДокумента"
            if self.block is None or line != expected:
                self.errors.append(LineError(number, f"«{line}» без начала секции", raw))
                return
            self._close()
            return
        key, eq, value = raw.partition("=")
        key = key.strip()
        if not eq or not key:
            target = self.block.problems if self.block else self.errors
            target.append(LineError(number, "строка не вида «Ключ=Значение»", raw))
            return
        value = value.strip()
        if self.block is None:
            if key == "РасчСчет" and value:
                self.accounts.append(value)
            self.header.setdefault(key, value)
        else:
            self.block.values.setdefault(key, (number, value))

    def _unclosed(self, number: int) -> None:
        if self.block is None:
            return
        end = "КонецРасчСчет" if self.block.kind == "account" else "КонецДокумента"
        what = "секция расчётного счёта" if self.block.kind == "account" else f"документ «{self.block.kind}»"
        self.errors.append(LineError(self.block.start, f"{what} не закрыт строкой «{end}» "
                                                       f"(следующая секция в строке {number})"))
        self.block = None

    def close(self, last_line: int) -> None:
        if self.block is not None:
            self._unclosed(last_line + 1)
        if not self.ended:
            self.warnings.append(LineError(last_line, "нет строки «КонецФайла»: файл мог быть обрезан"))

    def _close(self) -> None:
        block, self.block = self.block, None
        assert block is not None
        if block.kind == "account":
            self._section(block)
        else:
            self._document(block)

    def _section(self, block: _Block) -> None:
        problems: list[LineError] = list(block.problems)
        get = _Getter(block, problems)
        section = AccountSection(
            line=block.start, account=get.text("РасчСчет"),
            date_from=get.date("ДатаНачала"), date_to=get.date("ДатаКонца"),
            opening_balance=get.amount("НачальныйОстаток"), total_in=get.amount("ВсегоПоступило"),
            total_out=get.amount("ВсегоСписано"), closing_balance=get.amount("КонечныйОстаток"),
        )
        self.warnings.extend(problems)
        if section.balanced is False:
            self.warnings.append(LineError(block.start, (
                f"остатки по счёту {section.account} не сходятся: {section.opening_balance} + "
                f"{section.total_in} − {section.total_out} ≠ {section.closing_balance}")))
        self.sections.append(section)

    def _document(self, block: _Block) -> None:
        problems: list[LineError] = list(block.problems)
        get = _Getter(block, problems)
        number = get.text("Номер", required=True)
        doc_date = get.date("Дата", required=True)
        amount = get.amount("Сумма", required=True)
        if amount is not None and amount <= 0:
            problems.append(LineError(get.line("Сумма"), f"сумма документа {amount} должна быть больше нуля"))
        payer = get.party("Плательщик")
        recipient = get.party("Получатель")
        purpose = get.text("НазначениеПлатежа") or " ".join(
            v for i in range(1, 7) if (v := get.text(f"НазначениеПлатежа{i}")))
        received_on = get.date("ДатаПоступило")
        written_off_on = get.date("ДатаСписано")
        if problems:
            kind = f"документ «{block.kind}»" + (f" № {number}" if number else "")
            self.errors.extend(LineError(p.line, f"{kind} (строка {block.start}) не принят: {p.message}", p.text)
                               for p in problems)
            return
        assert doc_date is not None and amount is not None
        self.documents.append(BankDocument(
            line=block.start, kind=block.kind, number=number, date=doc_date, amount=amount, payer=payer,
            recipient=recipient, purpose=purpose, received_on=received_on, written_off_on=written_off_on,
            fields={k: v for k, (_, v) in block.values.items()},
        ))


_INN_IN_NAME = re.compile(r"^ИНН\s+\d*\s*")
_DIGITS = re.compile(r"^\d+$")


@dataclass
class _Getter:
    block: _Block
    problems: list[LineError]

    def line(self, key: str) -> int:
        return self.block.values.get(key, (self.block.start, ""))[0]

    def text(self, key: str, *, required: bool = False) -> str:
        value = self.block.values.get(key, (0, ""))[1]
        if required and not value:
            self.problems.append(LineError(self.line(key), f"не заполнено поле «{key}»"))
        return value

    def date(self, key: str, *, required: bool = False) -> date | None:
        raw = self.text(key, required=required)
        if not raw:
            return None
        try:
            return parse_ru_date(raw, f"поле «{key}»: дата")
        except ValueError as exc:
            self.problems.append(LineError(self.line(key), str(exc), f"{key}={raw}"))
            return None

    def amount(self, key: str, *, required: bool = False) -> Decimal | None:
        raw = self.text(key, required=required)
        if not raw:
            return None
        try:
            return parse_amount(raw, f"поле «{key}»: сумма")
        except ValueError as exc:
            self.problems.append(LineError(self.line(key), str(exc), f"{key}={raw}"))
            return None

    def party(self, role: str) -> Party:
        inn = self.text(f"{role}ИНН")
        kpp = self.text(f"{role}КПП")
        for key, value, sizes in ((f"{role}ИНН", inn, (10, 12)), (f"{role}КПП", kpp, (9,))):
            # "0" is what exports write for a payer without an INN
            if value and value != "0" and not (_DIGITS.match(value) and len(value) in sizes):
                wanted = " или ".join(str(s) for s in sizes)
                self.problems.append(LineError(self.line(key), f"поле «{key}»: «{value}» — не {wanted} цифр",
                                               f"{key}={value}"))
        name = self.text(f"{role}1") or _INN_IN_NAME.sub("", self.text(role))
        return Party(
            account=self.text(f"{role}Счет") or self.text(f"{role}РасчСчет"), inn=inn, kpp=kpp, name=name,
            bank_bic=self.text(f"{role}БИК"), bank_name=self.text(f"{role}Банк1"),
            bank_corr_account=self.text(f"{role}Корсчет"),
        )

