"""The executor's decisions: exactly-once receipts (nothing printed / printed / receipt open), shifts, errors.

The register is a test double implementing the driver API (`ShtrihRegister`'s methods and types) with a
small fiscal memory: documents by FD number, the shift, an open receipt. The card terminal is the real
simulator over TCP."""

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from aquabill.edge_agent.executor import Executor
from aquabill.edge_agent.journal import Journal
from aquabill.edge_agent.shtrih.driver import (
    DeviceInfo,
    FiscalDoc,
    FnStatus,
    FoundDocument,
    ReceiptDone,
    RegisterStatus,
)
from aquabill.edge_agent.shtrih.errors import LinkError, RegisterError
from aquabill.edge_agent.terminal import TcpTerminal, TerminalSimulator

AT = datetime(2026, 12, 7, 10, 30, tzinfo=UTC)


class FakeRegister:
    """The driver API over an in-memory fiscal drive. `fail` makes the next `sale` misbehave:
    "lost_reply" — fiscalized, then the reply is lost (LinkError); "before_close" — the receipt is opened,
    then the link dies before FF45h (LinkError); "paper" — the register refuses (RegisterError 0x6B)."""

    def __init__(self) -> None:
        self.last_fd = 40
        self.docs: dict[int, FoundDocument] = {}
        self.shift_open, self.shift_number, self.shift_expired = True, 5, False
        self.receipt_open = False
        self.link_up = True
        self.fail: str | None = None
        self.sales = self.cancels = self.opens = 0

    # the device
    def _link(self):
        if not self.link_up:
            raise LinkError("нет ответа от ККТ")

    def open(self):
        self._link()
        self.opens += 1

    def close(self):
        pass

    def status(self):
        self._link()
        mode = 8 if self.receipt_open else 3 if self.shift_expired else 2 if self.shift_open else 4
        return RegisterStatus(mode=mode, submode=0, mode_text=f"режим {mode}", shift_open=self.shift_open,
                              receipt_open=self.receipt_open, shift_expired=self.shift_expired, operator=1)

    def fn_status(self):
        self._link()
        return FnStatus(fn_number="7281440500000001", last_fd=self.last_fd, shift_open=self.shift_open,
                        phase=3, at=AT)

    def device_info(self):
        self._link()
        return DeviceInfo(model="ШТРИХ-ЛАЙТ-02Ф", serial="0012345678", inn="5752203694")

    def shift_params(self):
        self._link()
        return self.shift_open, self.shift_number, 1

    def _fiscalize(self, doc_type, operation=None, amount=None) -> FoundDocument:
        self.last_fd += 1
        doc = FoundDocument(doc_type=doc_type, fd_number=self.last_fd, fiscal_sign=1000 + self.last_fd, at=AT,
                            operation=operation, amount=amount, shift_number=self.shift_number, ofd_ticket=False)
        self.docs[self.last_fd] = doc
        return doc

    def find_document(self, n):
        self._link()
        if n not in self.docs:
            raise RegisterError(0x08, 0xFF0A, "Нет запрошенных данных")
        return self.docs[n]

    def sale(self, spec):
        self._link()
        self.sales += 1
        fail, self.fail = self.fail, None
        if fail == "paper":
            self.receipt_open = True
            raise RegisterError(0x6B, 0xFF46, "Нет чековой ленты")
        if fail == "before_close":
            self.receipt_open = True
            self.link_up = False
            raise LinkError("нет ответа от ККТ")
        total = sum((i.amount for i in spec.items), D(0))
        doc = self._fiscalize(3, spec.operation, total)
        if fail == "lost_reply":
            self.link_up = False
            raise LinkError("нет ответа от ККТ")
        return ReceiptDone(doc.fd_number, doc.fiscal_sign, doc.at, spec.cash + spec.electronic - total)

    def cancel_receipt(self):
        self._link()
        self.cancels += 1
        self.receipt_open = False

    def open_shift(self, name, inn=""):
        self._link()
        self.shift_number += 1
        self.shift_open = True
        doc = self._fiscalize(2)
        return FiscalDoc(doc.fd_number, doc.fiscal_sign, doc.at, self.shift_number)

    def close_shift(self, name, inn=""):
        self._link()
        self.shift_open = False
        doc = self._fiscalize(5)
        return FiscalDoc(doc.fd_number, doc.fiscal_sign, doc.at, self.shift_number)

    def x_report(self):
        self._link()

    def print_duplicate(self):
        self._link()

    def cash_in(self, amount):
        self._link()

    def cash_out(self, amount):
        self._link()

    def receipts(self):
        return [d for d in self.docs.values() if d.doc_type == 3]


def receipt_payload(key="r-1", amount="812.40", cash="1000.00", card=None):
    electronic = card or "0.00"
    payload = {
        "key": key, "operation": 1, "tax_system": 1, "cashier": {"name": "Иванова А. П.", "inn": ""},
        "buyer_contact": "",
        "items": [{"name": "Холодное водоснабжение, 11.2026, л/с 00100127", "price": amount, "quantity": "1",
                   "amount": amount, "vat": 11, "subject": 4, "method": 4, "measure": 0, "agent": None}],
        "payments": {"cash": cash if card is None else "0.00", "electronic": electronic},
        "card": None if card is None else {"amount": card, "operation": "pay"},
    }
    return payload


@pytest.fixture
def journal(tmp_path):
    j = Journal(tmp_path / "journal.sqlite3")
    yield j
    j.close()


@pytest.fixture
def reg():
    return FakeRegister()


@pytest.fixture
def terminal_sim(tmp_path):
    s = TerminalSimulator(tmp_path / "terminal.json").start()
    yield s
    s.stop()


def make(journal, reg, terminal_sim=None):
    terminal = TcpTerminal(*terminal_sim.address, timeout=5) if terminal_sim else None
    return Executor(journal, lambda: reg, terminal)


def run(executor, journal, id, kind="receipt", payload=None, key=None):
    entry, _ = journal.record(id, key or f"cmd-{id}", kind, payload if payload is not None else {})
    return executor.execute(entry)


def test_a_receipt_is_printed_and_its_data_is_the_result(journal, reg):
    done = run(make(journal, reg), journal, 1, payload=receipt_payload())
    assert (done.state, done.ok, done.body) == ("done", True, {
        "fn_number": "7281440500000001", "fd_number": 41, "fiscal_sign": 1041, "fiscal_at": AT.isoformat(),
        "shift_number": 5, "change": "187.60", "card": None, "recovered": False})
    assert journal.open_fiscal_from("receipt:r-1") is None


def test_a_lost_reply_after_printing_is_recovered_at_once_when_the_register_answers_again(journal, reg):
    reg.fail = "lost_reply"
    executor = Executor(journal, lambda: reg.__setattr__("link_up", True) or reg)  # reopening heals the link
    done = run(executor, journal, 1, payload=receipt_payload())
    assert (done.ok, done.body["fd_number"], done.body["recovered"], len(reg.receipts())) == (True, 41, True, 1)


def test_register_gone_after_printing_then_the_retry_finds_the_receipt_and_prints_nothing(journal, reg):
    reg.fail = "lost_reply"
    executor = make(journal, reg)
    failed = run(executor, journal, 1, payload=receipt_payload())
    assert (failed.state, failed.body["code"], failed.body["retryable"], failed.fiscal_open) == (
        "failed", "no_register", True, True)
    reg.link_up = True
    retry = run(executor, journal, 2, payload=receipt_payload(), key="retry-1")  # same receipt key
    assert (retry.ok, retry.body["fd_number"], retry.body["recovered"], reg.sales) == (True, 41, True, 1)


def test_after_a_crash_while_printing_a_fiscalized_receipt_is_recovered(journal, reg):
    entry, _ = journal.record(1, "c1", "receipt", receipt_payload())
    journal.set_state(1, "fiscal_started", fiscal_from=reg.last_fd, fiscal_open=True)
    reg._fiscalize(3, 1, D("812.40"))  # the register finished printing while the agent was dead
    done = make(journal, reg).execute(journal.get(1))
    assert (done.body["fd_number"], done.body["fiscal_sign"], done.body["change"], done.body["recovered"],
            reg.sales) == (41, 1041, "187.60", True, 0)


def test_after_a_crash_before_anything_was_fiscalized_it_prints_again(journal, reg):
    journal.record(1, "c1", "receipt", receipt_payload())
    journal.set_state(1, "fiscal_started", fiscal_from=reg.last_fd, fiscal_open=True)
    done = make(journal, reg).execute(journal.get(1))
    assert (done.body["fd_number"], done.body["recovered"], reg.sales, len(reg.receipts())) == (41, False, 1, 1)


def test_after_a_crash_with_the_receipt_open_it_cancels_and_prints_again(journal, reg):
    reg.fail = "before_close"
    failed = run(make(journal, reg), journal, 1, payload=receipt_payload())
    assert (failed.body["code"], reg.receipt_open) == ("no_register", True)
    reg.link_up = True
    retry = run(make(journal, reg), journal, 2, payload=receipt_payload(), key="retry-1")
    assert (retry.body["fd_number"], retry.body["recovered"], reg.cancels, reg.sales, len(reg.receipts())) == (
        41, False, 1, 2, 1)


def test_another_receipt_of_the_same_amount_is_not_taken_for_ours(journal, reg):
    journal.record(1, "c1", "receipt", receipt_payload("lost"))
    journal.set_state(1, "fiscal_started", fiscal_from=reg.last_fd, fiscal_open=True)
    journal.finish(1, False, {"code": "no_register", "message": "…", "retryable": True}, fiscal_open=True)
    executor = make(journal, reg)
    other = run(executor, journal, 2, payload=receipt_payload("other"))  # same amount, FD 41
    retry = run(executor, journal, 3, payload=receipt_payload("lost"), key="retry-1")
    assert (other.body["fd_number"], retry.body["fd_number"], retry.body["recovered"]) == (41, 42, False)


def test_a_receipt_already_done_is_answered_from_the_journal(journal, reg):
    executor = make(journal, reg)
    first = run(executor, journal, 1, payload=receipt_payload())
    reg.link_up = False  # the register is not even asked
    again = run(executor, journal, 2, payload=receipt_payload(), key="retry-1")
    assert (again.ok, again.body, reg.sales) == (True, first.body, 1)
    assert executor.execute(first) is first


def test_a_refusal_is_a_register_error_with_its_message_and_leaves_no_receipt_open(journal, reg):
    reg.fail = "paper"
    failed = run(make(journal, reg), journal, 1, payload=receipt_payload())
    assert (failed.body, failed.fiscal_open, reg.receipt_open) == (
        {"code": "register_error", "message": "Нет чековой ленты", "retryable": False}, False, False)


def test_a_shift_over_24_hours_prints_nothing(journal, reg):
    reg.shift_expired = True
    failed = run(make(journal, reg), journal, 1, payload=receipt_payload())
    assert (failed.body["code"], reg.sales) == ("shift_expired", 0)


def test_no_register_is_retryable(journal, reg):
    reg.link_up = False
    failed = run(make(journal, reg), journal, 1, payload=receipt_payload())
    assert (failed.body["code"], failed.body["retryable"]) == ("no_register", True)


@pytest.mark.parametrize("change", [
    {"operation": 3},
    {"items": []},
    {"payments": {"cash": "100.00", "electronic": "0.00"}},
    {"key": ""},
])
def test_a_bad_receipt_is_a_bad_command(journal, reg, change):
    failed = run(make(journal, reg), journal, 1, payload={**receipt_payload(), **change})
    assert (failed.body["code"], reg.sales) == ("bad_command", 0)


def test_an_unknown_kind_is_a_bad_command(journal, reg):
    failed = run(make(journal, reg), journal, 1, kind="self_destruct")
    assert failed.body["code"] == "bad_command"


def test_a_card_is_charged_once_per_receipt_even_when_printing_is_retried(journal, reg, terminal_sim):
    reg.fail = "paper"
    executor = make(journal, reg, terminal_sim)
    failed = run(executor, journal, 1, payload=receipt_payload(card="812.40"))
    retry = run(executor, journal, 2, payload=receipt_payload(card="812.40"), key="retry-1")
    approval = {"rrn": "000000000001", "auth_code": terminal_sim.approvals()[0]["auth_code"],
                "card_mask": "**** 4242", "terminal_id": "SIM00001"}
    assert (failed.body, retry.ok, retry.body["card"]) == (
        {"code": "register_error", "message": "Нет чековой ленты", "retryable": False, "card": approval},
        True, approval)
    assert len(terminal_sim.approvals()) == 1


def test_a_receipt_the_register_would_refuse_is_refused_before_the_card_is_charged(journal, reg, terminal_sim):
    payload = receipt_payload(card="812.40")
    payload["items"][0]["vat"] = 99
    failed = run(make(journal, reg, terminal_sim), journal, 1, payload=payload)
    assert (failed.body["code"], terminal_sim.approvals(), reg.sales) == ("bad_command", [], 0)


def test_a_declined_card_prints_nothing(journal, reg, terminal_sim):
    failed = run(make(journal, reg, terminal_sim), journal, 1, payload=receipt_payload(amount="100.99",
                                                                                       card="100.99"))
    assert (failed.body["code"], reg.sales) == ("card_declined", 0)


def test_open_shift_and_already_open(journal, reg):
    reg.shift_open = False
    executor = make(journal, reg)
    opened = run(executor, journal, 1, "open_shift", {"cashier": {"name": "Иванова А. П."}})
    again = run(executor, journal, 2, "open_shift", {"cashier": {"name": "Иванова А. П."}})
    assert opened.body == {"shift_number": 6, "fd_number": 41, "fiscal_sign": 1041, "fiscal_at": AT.isoformat(),
                           "fn_number": "7281440500000001", "already_open": False, "recovered": False}
    assert (again.body["already_open"], again.body["shift_number"], again.body["fd_number"]) == (True, 6, None)


def test_open_shift_interrupted_after_the_fn_opened_it_is_recovered(journal, reg):
    reg.shift_open = False
    journal.record(1, "c1", "open_shift", {"cashier": {"name": "Иванова А. П."}})
    journal.set_state(1, "fiscal_started", fiscal_from=reg.last_fd, fiscal_open=True)
    reg.open_shift("Иванова А. П.")
    done = make(journal, reg).execute(journal.get(1))
    assert (done.body["fd_number"], done.body["shift_number"], done.body["recovered"]) == (41, 6, True)


def test_close_shift_and_already_closed(journal, reg):
    executor = make(journal, reg)
    closed = run(executor, journal, 1, "close_shift", {"cashier": {"name": "Иванова А. П."}})
    again = run(executor, journal, 2, "close_shift", {"cashier": {"name": "Иванова А. П."}})
    assert (closed.body["fd_number"], closed.body["shift_number"]) == (41, 5)
    assert again.body == {"already_closed": True, "shift_number": 5}


def test_status(journal, reg, terminal_sim):
    done = run(make(journal, reg, terminal_sim), journal, 1, "status")
    assert done.body == {"register": {"model": "ШТРИХ-ЛАЙТ-02Ф", "serial": "0012345678",
                                      "fn_number": "7281440500000001", "mode": 2, "mode_text": "режим 2",
                                      "shift_open": True, "shift_number": 5, "last_fd": 40},
                         "terminal": {"model": "Aquabill terminal simulator", "terminal_id": "SIM00001"}}


def test_find_document(journal, reg):
    reg._fiscalize(3, 2, D("10.00"))
    executor = make(journal, reg)
    found = run(executor, journal, 1, "find_document", {"fd_number": 41})
    missing = run(executor, journal, 2, "find_document", {"fd_number": 99})
    assert (found.body["found"], found.body["operation"], found.body["amount"]) == (True, 2, "10.00")
    assert missing.body == {"found": False, "fd_number": 99}


def test_an_interrupted_cash_in_is_not_repeated_blindly(journal, reg):
    journal.record(1, "c1", "cash_in", {"amount": "500.00"})
    journal.set_state(1, "fiscal_started", fiscal_from=reg.last_fd, fiscal_open=True)
    failed = make(journal, reg).execute(journal.get(1))
    assert (failed.state, failed.body["code"]) == ("failed", "register_error")
