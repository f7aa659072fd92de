"""Documents for the FNS tests: a water utility selling to an organisation and to a sole trader. Every INN,
KPP, BIC and account here passes its checksum (computed for these tests; not real organisations)."""

from datetime import date, datetime
from decimal import Decimal as D

from aquabill.legal_entities.documents import (
    CUBIC_METRE,
    SERVICE,
    BankAccount,
    Document,
    DocumentRef,
    Function,
    GarAddress,
    Party,
    Person,
    RussianAddress,
    Signer,
    TextAddress,
    make_advance_line,
    make_line,
)
from aquabill.legal_entities.vat import NO_VAT, VAT_10, VAT_22, VAT_22_122

FORMED_AT = datetime(2026, 2, 3, 9, 15, 7)

SELLER = Party(
    name="МУП «Водоканал»", inn="7701123451", kpp="770101001",
    address=RussianAddress(region_code="77", region_name="г. Москва", postal_code="101000", street="Чистопрудный б-р",
                           house="12", building="2"),
    bank=BankAccount(account="40702810938000012345", bic="044525225", bank_name="ПАО Сбербанк",
                     corr_account="30101810400000000225"),
    phone="+7 495 000-00-00", email="abonent@vodokanal.example", edo_id="2BM-7701123451-770101001000")
BUYER = Party(
    name="ООО «Ромашка»", inn="5003001114", kpp="500301001",
    address=TextAddress("142100, Московская обл., г. Подольск, ул. Ленина, д. 1, пом. 3"),
    bank=BankAccount(account="40702810100000054321", bic="044525352", corr_account="30101810700000000352"),
    edo_id="2LT-5003001114")
SOLE_TRADER = Party(
    name="ИП Иванов Иван Иванович", inn="500300111210", person=Person("Иванов", "Иван", "Иванович"),
    ogrnip="304500116000157",
    address=GarAddress(gar_id="a52bb884-0009-4984-a002-39e9cc326cd4", region_code="50", region_name="Московская обл.",
                       municipal_kind="2", municipal_name="городской округ Подольск", settlement_kind="г.",
                       settlement_name="Подольск", street_kind="ул.", street_name="Ленина", building_kind="д.",
                       building_number="5", postal_code="142100"),
    edo_id="2AE-500300111210")
SIGNER = Signer(Person("Петрова", "Анна", "Сергеевна"), "Главный бухгалтер")
CONTRACT = DocumentRef("Договор холодного водоснабжения", "ВС-17/2025", date(2025, 11, 20))
JANUARY = (date(2026, 1, 1), date(2026, 1, 31))


def water_upd(buyer: Party = BUYER, number: str = "ВК-0042") -> Document:
    """(a) one water supply line at 22 %: 125.5 m³ × 52.37 = 6572.44 + 1445.94 = 8018.38."""
    line = make_line(1, "Холодное водоснабжение за январь 2026 г.", VAT_22, quantity=D("125.5"), price=D("52.37"),
                     unit=CUBIC_METRE)
    return Document(function=Function.SCHFDOP, number=number, date=date(2026, 1, 31), seller=SELLER, buyer=buyer,
                    lines=(line,), signer=SIGNER, contract=CONTRACT, period=JANUARY)


def exempt_upd() -> Document:
    """(b) без НДС: 40 m³ × 35.10 = 1404.00."""
    line = make_line(1, "Водоотведение за январь 2026 г.", NO_VAT, quantity=D("40"), price=D("35.10"))
    return Document(function=Function.SCHFDOP, number="ВК-0043", date=date(2026, 1, 31), seller=SELLER,
                    buyer=SOLE_TRADER, lines=(line,), signer=SIGNER, contract=CONTRACT, period=JANUARY)


def two_rates_upd() -> Document:
    """(c) 10 % and 22 %: 3 × 1000.00 + 10 % = 3300.00; 61.00 with VAT × 10 m³ = 500.00 + 110.00."""
    lines = (
        make_line(1, "Поверка прибора учёта", VAT_10, quantity=D("3"), price=D("1000.00"), unit=SERVICE),
        make_line(2, "Холодное водоснабжение", VAT_22, quantity=D("10"), price=D("61.00"), price_includes_vat=True),
    )
    return Document(function=Function.SCHFDOP, number="ВК-0044", date=date(2026, 1, 31), seller=SELLER, buyer=BUYER,
                    lines=lines, signer=SIGNER, contract=CONTRACT, period=JANUARY)


def advance_invoice() -> Document:
    """A prepayment of 50 000.00 received 05.02.2026: VAT at 22/122 = 9016.39."""
    line = make_advance_line(1, "Предварительная оплата за холодное водоснабжение по договору № ВС-17/2025",
                             D("50000.00"), VAT_22_122)
    return Document(function=Function.SCHF, number="АВ-0007", date=date(2026, 2, 5), seller=SELLER, buyer=BUYER,
                    lines=(line,), signer=SIGNER, advance=True,
                    payments=(DocumentRef("Платежное поручение", "812", date(2026, 2, 5)),),
                    payment_amounts=(D("50000.00"),))
