"""ShtrihRegister over real pyserial against the Shtrih-M simulator on a pseudo-terminal: a shift, receipts,
reports, cash moves and the register's refusals as Russian messages."""

from __future__ import annotations

from decimal import Decimal

import pytest

from aquabill.edge_agent.shtrih import (
    DocumentNotFoundError,
    Item,
    LinkError,
    PaperOutError,
    ReceiptSpec,
    RegisterError,
    ShiftClosedError,
    ShiftExpiredError,
    ShtrihRegister,
    frames,
)
from aquabill.edge_agent.shtrih.simulator import Simulator

WATER = Item(name="Холодное водоснабжение, 11.2026, л/с 00100127", price=Decimal("812.40"), quantity=Decimal("1"),
             amount=Decimal("812.40"), vat=11, subject=4, method=4, measure=0)
WASTE = Item(name="Обращение с ТКО, 11.2026, л/с 00100127", price=Decimal("150.00"), quantity=Decimal("1"),
             amount=Decimal("150.00"), vat=6, subject=4, method=4, measure=0, agent_sign=4,
             supplier_name="ООО «Эко-Регион»", supplier_inn="7701234567", supplier_phones=("+74950000000",))
CASHIER = "Иванова А. П."


def receipt(*items: Item, cash: str = "1000.00", electronic: str = "0.00", operation: int = 1) -> ReceiptSpec:
    return ReceiptSpec(operation=operation, items=items, cash=Decimal(cash), electronic=Decimal(electronic),
                       tax_system=1, buyer_contact="+79001234567", cashier_name=CASHIER)


@pytest.fixture
def sim(tmp_path):
    simulator = Simulator(tmp_path / "register.json", link=tmp_path / "ttyFR", print_delay=0.05).start()
    yield simulator
    simulator.stop()


@pytest.fixture
def register(sim):
    with ShtrihRegister(sim.link_path) as reg:
        yield reg


@pytest.fixture
def open_register(register):
    register.open_shift(CASHIER)
    return register


def test_a_day_shift_sale_x_report_and_z_report(sim, register):
    opened = register.open_shift(CASHIER, "500100732259")
    assert (opened.fd_number, opened.shift_number) == (1, 1)
    assert register.shift_params() == (True, 1, 0)
    shift_tags = [frames.decode_tlvs(bytes.fromhex(chunk))[0] for chunk in sim.documents()[0]["tags"]]
    assert shift_tags == [(1021, CASHIER.encode("cp866")), (1203, b"500100732259")]

    done = register.sale(receipt(WATER, WASTE, cash="1000.00", electronic="100.00"))
    doc = sim.documents()[-1]
    assert (done.fd_number, done.fiscal_sign, done.change) == (2, doc["fp"], Decimal("137.60"))
    assert (doc["type"], doc["operation"], doc["amount"], doc["payments"]) == (
        3, 1, 96240, {"cash": 100000, "electronic": 10000})
    assert sim.cash() == 86240  # 1000.00 given − 137.60 change

    found = register.find_document(done.fd_number)
    assert (found.doc_type, found.fd_number, found.fiscal_sign, found.at, found.operation, found.amount) == (
        3, 2, done.fiscal_sign, done.at, 1, Decimal("962.40"))
    assert register.fn_status().last_fd == 2

    register.x_report()
    closed = register.close_shift(CASHIER)
    assert (closed.fd_number, closed.shift_number) == (3, 1)
    assert register.find_document(3).doc_type == 5
    assert (register.status().mode, register.status().shift_open) == (4, False)


def test_the_agent_item_carries_its_supplier_tags(sim, open_register):
    open_register.sale(receipt(WATER, WASTE))
    water, waste = sim.documents()[-1]["items"]
    tags = [frames.decode_tlvs(bytes.fromhex(chunk))[0] for chunk in waste["tags"]]
    assert water["tags"] == []
    assert [tag for tag, _ in tags] == [1222, 1224, 1226]
    assert dict(frames.decode_tlvs(tags[1][1])) == {1171: b"+74950000000",
                                                     1225: "ООО «Эко-Регион»".encode("cp866", "replace")}
    receipt_tags = [frames.decode_tlvs(bytes.fromhex(chunk))[0] for chunk in sim.documents()[-1]["tags"]]
    assert receipt_tags == [(1008, b"+79001234567"), (1021, CASHIER.encode("cp866"))]


def test_a_refund_takes_cash_out_of_the_drawer(sim, open_register):
    open_register.sale(receipt(WATER, cash="812.40"))
    refund = open_register.sale(receipt(WATER, cash="812.40", operation=2))
    assert (refund.change, sim.documents()[-1]["operation"], sim.cash()) == (Decimal("0.00"), 2, 0)


def test_a_sale_with_the_shift_closed_is_refused(sim, register):
    with pytest.raises(ShiftClosedError) as caught:
        register.sale(receipt(WATER))
    assert caught.value.message == "Смена закрыта — откройте смену"
    assert sim.documents() == []


def test_a_sale_with_the_shift_over_24_hours_is_refused(sim, open_register):
    sim.age_shift(25)
    assert open_register.status().shift_expired is True
    with pytest.raises(ShiftExpiredError, match="Смена превысила 24 часа"):
        open_register.sale(receipt(WATER))
    assert open_register.close_shift(CASHIER).shift_number == 1


def test_payment_below_the_total_is_refused_and_the_receipt_cancelled(sim, open_register):
    with pytest.raises(RegisterError) as caught:
        open_register.sale(receipt(WATER, cash="800.00"))
    assert (caught.value.code, caught.value.command, caught.value.message) == (
        0x45, 0xFF45, "Сумма всех типов оплаты меньше итога чека")
    assert (open_register.status().mode, len(sim.documents())) == (2, 1)


def test_electronic_payment_above_the_total_is_refused(open_register):
    with pytest.raises(RegisterError, match="Сумма безналичной оплаты больше суммы чека"):
        open_register.sale(receipt(WATER, cash="0.00", electronic="900.00"))


def test_no_paper_is_refused_before_the_receipt(sim, open_register):
    sim.set_paper(False)
    with pytest.raises(PaperOutError, match="Нет чековой ленты"):
        open_register.sale(receipt(WATER))
    sim.set_paper(True)
    assert open_register.sale(receipt(WATER)).fd_number == 2


def test_a_wrong_password_is_refused(sim):
    with ShtrihRegister(sim.link_path, admin_password=12345) as reg, pytest.raises(RegisterError) as caught:
        reg.status()
    assert (caught.value.code, caught.value.message) == (0x4F, "Неверный пароль")


def test_cancelling_without_an_open_receipt_is_refused(register):
    with pytest.raises(RegisterError) as caught:
        register.cancel_receipt()
    assert (caught.value.code, caught.value.message) == (0x73, "Команда не поддерживается в данном режиме ККТ")


def test_an_unknown_document(open_register):
    with pytest.raises(DocumentNotFoundError, match="не найден"):
        open_register.find_document(99)


def test_cash_in_out_and_duplicate(sim, open_register):
    open_register.cash_in(Decimal("500.00"))
    open_register.cash_out(Decimal("200.00"))
    with pytest.raises(RegisterError, match="Не хватает наличности в кассе"):
        open_register.cash_out(Decimal("300.01"))
    open_register.print_duplicate()
    assert sim.cash() == 30000


def test_device_info(register):
    info = register.device_info()
    assert (info.model, info.serial, info.inn) == ("ШТРИХ-ЛАЙТ-02Ф (симулятор)", "12345678", "7700000000")


def test_the_port_is_exclusive(sim, register):
    other = ShtrihRegister(sim.link_path)
    with pytest.raises(LinkError, match="Не удалось открыть порт ККТ"):
        other.open()
