"""Runs journaled commands, one at a time, on the fiscal register (`ShtrihRegister`) and the card terminal.

Synchronous: the client calls `execute` in its single worker thread, so the register sees one command at
a time. Each command ends `done` (result) or `failed` (error) in the journal; a finished command is never
executed again — its stored result is what the server gets, however often it asks.

EXACTLY-ONCE RECEIPTS. Right before `sale` (whose last step is FF45h, close receipt) the journal records
`fiscal_started` with the FN's last fiscal document number. If the agent dies there, or the register
stops answering (LinkError: the outcome of FF45h is unknown), nothing is printed blindly later. Recovery,
on the next attempt with the same receipt key (after a restart, or the server's retry command):

1. the FN's `last_fd` now; every new document after the recorded number that no other journaled command
   owns is read with `find_document`: doc type 3 (receipt), operation (tag 1054) and the receipt's total
   equal → the receipt IS fiscalized: its data is the result, with `recovered: true`;
2. otherwise nothing of ours was fiscalized: if the register still has a receipt open (mode 8) it is
   cancelled (88h), and the receipt is printed again.

Opening and closing a shift recover the same way (the FN's shift state, document types 2 and 5).

A correction receipt (чек коррекции) is deliberately NOT produced here: when a receipt was lost or wrong
beyond what the recovery above decides, it is the last resort a person decides on (the accountant, with
the tax office's rules), never the agent.

Errors → result error codes: `register_error` (the register's Russian message), `shift_expired`,
`no_register` (port/link down; retryable), `card_declined`, `no_terminal` (terminal down; retryable),
`bad_command`, `agent_error` (a bug in the agent; the log has the traceback). A failed receipt whose card
was already charged carries the approval in `error.card`: the server's retry (same receipt key) reuses it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal

from aquabill.edge_agent import payloads
from aquabill.edge_agent.journal import Entry, Journal
from aquabill.edge_agent.payloads import CommandFailed, Receipt
from aquabill.edge_agent.shtrih.commands import validate as validate_receipt
from aquabill.edge_agent.shtrih.errors import LinkError, ProtocolError, RegisterError
from aquabill.edge_agent.terminal import Approval, CardDeclined, CardTerminal, TerminalError

log = logging.getLogger(__name__)

DOC_SHIFT_OPEN, DOC_RECEIPT, DOC_SHIFT_CLOSE = 2, 3, 5  # FF0Ah document types
SHIFT_EXPIRED_CODES = {0x4E}  # "shift exceeded 24 h" (NOTES-shtrih §4; FN code 0x16 below)
FN_SHIFT_EXPIRED = 0x16
FN_NO_DATA = 0x08


def _iso(at) -> str:
    return at.isoformat()


class Executor:
    def __init__(self, journal: Journal, register_factory: Callable[[], object] | None,
                 terminal: CardTerminal | None = None) -> None:
        """`register_factory()` returns an unopened `ShtrihRegister` (or a double with its API); None = no
        register configured."""
        self.journal = journal
        self.register_factory = register_factory
        self.terminal = terminal
        self._reg = None

    # --- the register connection ---

    def register(self):
        if self.register_factory is None:
            raise CommandFailed("no_register", "ККТ не настроена на этом агенте", retryable=False)
        if self._reg is None:
            reg = self.register_factory()
            try:
                reg.open()
            except (LinkError, OSError) as e:
                raise CommandFailed("no_register", f"ККТ недоступна: {e}", retryable=True) from e
            self._reg = reg
        return self._reg

    def drop_register(self) -> None:
        """Close the port after a link failure; the next command opens it again."""
        reg, self._reg = self._reg, None
        if reg is not None:
            try:
                reg.close()
            except Exception:  # noqa: BLE001 — closing a dead port must not hide the original failure
                log.debug("closing the register failed", exc_info=True)

    def close(self) -> None:
        self.drop_register()

    # --- running commands ---

    def execute(self, entry: Entry) -> Entry:
        """Run one journaled command to its end; returns the finished entry (stored result if finished)."""
        if entry.finished:
            return entry
        handler = _HANDLERS.get(entry.kind)
        log.info("command %s (%s) starts in state %s", entry.id, entry.kind, entry.state)
        try:
            if handler is None:
                raise payloads.bad(f"Неизвестная команда {entry.kind!r}")
            result = handler(self, entry)
        except CommandFailed as e:
            return self._fail(entry, e)
        except RegisterError as e:
            return self._fail(entry, _register_failure(e))
        except (LinkError, OSError) as e:
            self.drop_register()
            text = str(e) if isinstance(e, LinkError) and str(e) else f"Нет связи с ККТ: {e}"
            return self._fail(entry, CommandFailed("no_register", text, retryable=True))
        except ProtocolError as e:
            return self._fail(entry, payloads.bad(f"Команда не может быть передана в ККТ: {e}"))
        except CardDeclined as e:
            return self._fail(entry, CommandFailed("card_declined", e.message))
        except TerminalError as e:
            return self._fail(entry, CommandFailed("no_terminal", e.message, retryable=True))
        except Exception as e:  # noqa: BLE001 — a bug must still give the server an answer
            log.exception("command %s (%s) crashed", entry.id, entry.kind)
            return self._fail(entry, CommandFailed("agent_error", f"Внутренняя ошибка агента: {e!r}"))
        log.info("command %s (%s) done", entry.id, entry.kind)
        return self.journal.finish(entry.id, True, result)

    def _fail(self, entry: Entry, failure: CommandFailed) -> Entry:
        log.warning("command %s (%s) failed: %s %s", entry.id, entry.kind, failure.code, failure.message)
        fiscal_open = self.journal.open_fiscal_from(entry.op_key) is not None
        error = failure.as_error()
        card = self.journal.card_approval(entry.op_key) if entry.kind == "receipt" else None
        if card is not None:  # the card WAS charged: the server must know, a retry reuses this approval
            error["card"] = {k: card[k] for k in ("rrn", "auth_code", "card_mask", "terminal_id")}
        return self.journal.finish(entry.id, False, error, fiscal_open=fiscal_open)

    def _stored(self, entry: Entry) -> dict | None:
        """The result of an earlier, successful command with the same exactly-once key."""
        for earlier in reversed(self.journal.earlier(entry.op_key, entry.id)):
            if earlier.state == "done" and earlier.ok:
                log.info("command %s repeats %s: its stored result, nothing executed", entry.id, earlier.id)
                return dict(earlier.body or {})
        return None

    def _scan(self, reg, op_key: str, match: Callable[[object], bool]):
        """Documents fiscalized since this key's unresolved attempt: the first one `match` accepts, or None.

        Returns None too when no attempt is unresolved. Either way the key is resolved afterwards: the FN
        has been read, so from here on any new document is ours to attribute."""
        start = self.journal.open_fiscal_from(op_key)
        if start is None:
            return None
        last = reg.fn_status().last_fd
        found = None
        for number in range(start + 1, last + 1):
            if self.journal.fd_claimed(number):
                continue
            try:
                doc = reg.find_document(number)
            except RegisterError as e:
                if e.code == FN_NO_DATA:
                    continue
                raise
            if match(doc):
                found = doc
                break
        self.journal.resolve_fiscal(op_key)
        log.info("recovery of %s from FD %s to %s: %s", op_key, start, last,
                 f"found FD {found.fd_number}" if found else "nothing fiscalized")
        return found

    # --- receipts ---

    def receipt(self, entry: Entry) -> dict:
        r = payloads.receipt(entry.payload)
        stored = self._stored(entry)
        if stored is not None:
            return stored
        reg = self.register()
        recovered = self._recover_receipt(reg, entry, r)
        if recovered is not None:
            return recovered
        validate_receipt(r.spec)  # what the register would refuse, refused before the card is charged
        status = reg.status()
        _check_shift(status)
        fn = reg.fn_status()
        shift_number = reg.shift_params()[1]
        card = self._charge(entry, r)
        self.journal.set_state(entry.id, "fiscal_started", fiscal_from=fn.last_fd, fiscal_open=True)
        try:
            done = reg.sale(r.spec)
        except ProtocolError:
            self.journal.resolve_fiscal(entry.op_key)  # refused before anything was sent
            raise
        except RegisterError as e:
            # The register refused a step, so FF45h normally did not fiscalize; check, and leave it clean.
            recovered = self._try_recover(entry, r)
            if recovered is not None:
                return recovered
            raise e
        except (LinkError, OSError) as e:
            # The outcome is unknown: never print again blindly. Look once more right away.
            log.warning("link lost while printing receipt %s: %s", r.key, e)
            self.drop_register()
            recovered = self._try_recover(entry, r)
            if recovered is not None:
                return recovered
            if self.journal.open_fiscal_from(entry.op_key) is None:  # the FN says: nothing fiscalized
                raise CommandFailed("no_register", "Связь с ККТ прервалась, чек не пробит: повторите печать",
                                    retryable=True) from e
            raise e
        self.journal.resolve_fiscal(entry.op_key)
        return self._receipt_result(r, fn.fn_number, done.fd_number, done.fiscal_sign, done.at, shift_number,
                                    done.change, card, recovered=False)

    def _recover_receipt(self, reg, entry: Entry, r: Receipt) -> dict | None:
        """The receipt's result if an unresolved attempt fiscalized it; else None, with no receipt left open."""
        total = r.total
        doc = self._scan(reg, entry.op_key, lambda d: d.doc_type == DOC_RECEIPT
                         and d.operation == r.spec.operation and d.amount == total)
        if doc is not None:
            card = self.journal.card_approval(entry.op_key)
            shift = doc.shift_number if doc.shift_number is not None else reg.shift_params()[1]
            return self._receipt_result(r, reg.fn_status().fn_number, doc.fd_number, doc.fiscal_sign, doc.at,
                                        shift, r.change, card, recovered=True)
        if reg.status().receipt_open:  # left open by an attempt that never completed FF45h: not fiscalized
            log.warning("a receipt is open on the register: cancelling it (88h)")
            reg.cancel_receipt()
        return None

    def _try_recover(self, entry: Entry, r: Receipt) -> dict | None:
        try:
            return self._recover_receipt(self.register(), entry, r)
        except (CommandFailed, RegisterError, LinkError, OSError) as e:
            if isinstance(e, LinkError | OSError):
                self.drop_register()
            log.warning("recovery of receipt %s not possible now: %s", r.key, e)
            return None

    def _charge(self, entry: Entry, r: Receipt) -> dict | None:
        """Charge (or refund) the card once per receipt key; the approval is journaled before printing."""
        if r.card is None:
            return None
        approval = self.journal.card_approval(entry.op_key)
        if approval is None:
            if self.terminal is None:
                raise CommandFailed("no_terminal", "Платёжный терминал не настроен на этом агенте")
            self.journal.set_state(entry.id, "card_started")
            got: Approval
            if r.card.operation == "refund":
                got = self.terminal.refund(r.card.amount, r.key, r.card.original_rrn)
            else:
                got = self.terminal.pay(r.card.amount, r.key)
            approval = got.as_dict()
            log.info("card %s approved: rrn %s", r.card.operation, got.rrn)
        self.journal.set_state(entry.id, "card_done", card=approval)
        return approval

    @staticmethod
    def _receipt_result(r: Receipt, fn_number: str, fd: int, sign: int, at, shift: int, change: Decimal,
                        card: dict | None, *, recovered: bool) -> dict:
        card_out = None
        if card is not None:
            card_out = {k: card[k] for k in ("rrn", "auth_code", "card_mask", "terminal_id")}
        return {"fn_number": fn_number, "fd_number": fd, "fiscal_sign": sign, "fiscal_at": _iso(at),
                "shift_number": shift, "change": str(Decimal(change).quantize(payloads.KOPECK)),
                "card": card_out, "recovered": recovered}

    # --- shifts ---

    def open_shift(self, entry: Entry) -> dict:
        return self._shift_command(entry, DOC_SHIFT_OPEN, self._open_shift)

    def close_shift(self, entry: Entry) -> dict:
        return self._shift_command(entry, DOC_SHIFT_CLOSE, self._close_shift)

    def _shift_command(self, entry: Entry, doc_type: int, act: Callable) -> dict:
        """What opening and closing a shift share: a stored result is returned again; a document of `doc_type`
        the register already made for this command (a crash after it) is the result, `recovered`; otherwise
        `act(entry, reg, fn, doc, cashier)` decides, and fiscalizes through `_fiscalize`. The cashier is read
        first: a bad payload is refused before the register is asked anything."""
        cashier = payloads.cashier(entry.payload)
        stored = self._stored(entry)
        if stored is not None:
            return stored
        reg = self.register()
        fn = reg.fn_status()
        doc = self._scan(reg, entry.op_key, lambda d: d.doc_type == doc_type)
        return act(entry, reg, fn, doc, cashier)

    def _fiscalize(self, entry: Entry, fn, make: Callable):
        """Journal that a fiscal document is being made (so a crash is recovered from the register), make it."""
        self.journal.set_state(entry.id, "fiscal_started", fiscal_from=fn.last_fd, fiscal_open=True)
        made = make()
        self.journal.resolve_fiscal(entry.op_key)
        return made

    @staticmethod
    def _shift_result(doc, shift_number: int, fn, *, recovered: bool, **extra) -> dict:
        return {"shift_number": shift_number, "fd_number": doc.fd_number, "fiscal_sign": doc.fiscal_sign,
                "fiscal_at": _iso(doc.at), "fn_number": fn.fn_number, **extra, "recovered": recovered}

    def _open_shift(self, entry: Entry, reg, fn, doc, cashier: tuple[str, str]) -> dict:
        is_open, shift_number, _ = reg.shift_params()
        if doc is not None:
            return self._shift_result(doc, doc.shift_number or shift_number, fn, already_open=False, recovered=True)
        if is_open:
            return {"shift_number": shift_number, "fd_number": None, "fiscal_sign": None, "fiscal_at": None,
                    "fn_number": fn.fn_number, "already_open": True, "recovered": False}
        opened = self._fiscalize(entry, fn, lambda: reg.open_shift(*cashier))
        return self._shift_result(opened, opened.shift_number, fn, already_open=False, recovered=False)

    def _close_shift(self, entry: Entry, reg, fn, doc, cashier: tuple[str, str]) -> dict:
        if doc is not None:
            return self._shift_result(doc, doc.shift_number, fn, recovered=True)
        is_open, shift_number, _ = reg.shift_params()
        if not is_open:
            return {"already_closed": True, "shift_number": shift_number}
        if reg.status().receipt_open:
            log.warning("a receipt is open while closing the shift: cancelling it (88h)")
            reg.cancel_receipt()
        closed = self._fiscalize(entry, fn, lambda: reg.close_shift(*cashier))
        return self._shift_result(closed, closed.shift_number, fn, recovered=False)

    # --- the rest ---

    def status(self, entry: Entry | None = None) -> dict:
        """The register must answer (else the command fails); the terminal is null when it does not."""
        register = self.register_status()
        try:
            terminal = self.terminal_status()
        except TerminalError as e:
            log.warning("terminal status unavailable: %s", e.message)
            terminal = None
        return {"register": register, "terminal": terminal}

    def register_status(self) -> dict:
        reg = self.register()
        st, fn, info = reg.status(), reg.fn_status(), reg.device_info()
        is_open, shift_number, _ = reg.shift_params()
        return {"model": info.model, "serial": info.serial, "fn_number": fn.fn_number, "mode": st.mode,
                "mode_text": st.mode_text, "shift_open": is_open, "shift_number": shift_number,
                "last_fd": fn.last_fd}

    def terminal_status(self) -> dict | None:
        if self.terminal is None:
            return None
        info = self.terminal.info()
        return {"model": info.model, "terminal_id": info.terminal_id}

    def device_snapshot(self) -> dict:
        """The `device` object of `hello`: each device's status, or null when it does not answer."""
        snapshot: dict = {"register": None, "terminal": None}
        try:
            snapshot["register"] = self.register_status() if self.register_factory else None
        except (CommandFailed, RegisterError, LinkError, OSError) as e:
            if isinstance(e, LinkError | OSError):
                self.drop_register()
            log.warning("register status unavailable: %s", e)
        try:
            snapshot["terminal"] = self.terminal_status()
        except TerminalError as e:
            log.warning("terminal status unavailable: %s", e.message)
        return snapshot

    def x_report(self, entry: Entry) -> dict:
        self.register().x_report()
        return {"printed": True}

    def duplicate(self, entry: Entry) -> dict:
        self.register().print_duplicate()
        return {"printed": True}

    def find_document(self, entry: Entry) -> dict:
        number = entry.payload.get("fd_number") if isinstance(entry.payload, dict) else None
        if not isinstance(number, int) or isinstance(number, bool) or not 1 <= number <= 0xFFFFFFFF:
            raise payloads.bad("fd_number: ожидается номер фискального документа")
        try:
            doc = self.register().find_document(number)
        except RegisterError as e:
            if e.code == FN_NO_DATA:
                return {"found": False, "fd_number": number}
            raise
        return {"found": True, "doc_type": doc.doc_type, "fd_number": doc.fd_number,
                "fiscal_sign": doc.fiscal_sign, "fiscal_at": _iso(doc.at), "operation": doc.operation,
                "amount": None if doc.amount is None else str(doc.amount), "shift_number": doc.shift_number,
                "ofd_ticket": doc.ofd_ticket}

    def _cash_move(self, entry: Entry, inward: bool) -> dict:
        amount = payloads.money((entry.payload or {}).get("amount"), "amount", positive=True)
        stored = self._stored(entry)
        if stored is not None:
            return stored
        if self.journal.open_fiscal_from(entry.op_key) is not None or entry.state == "fiscal_started":
            # 50h/51h make no fiscal document, so an interrupted one cannot be looked up: a person checks.
            self.journal.resolve_fiscal(entry.op_key)
            raise CommandFailed("register_error", "Результат операции неизвестен (агент прервался во время "
                                "печати): проверьте X-отчёт и при необходимости повторите операцию")
        reg = self.register()
        fn = reg.fn_status()
        self.journal.set_state(entry.id, "fiscal_started", fiscal_from=fn.last_fd, fiscal_open=True)
        try:
            reg.cash_in(amount) if inward else reg.cash_out(amount)
        except RegisterError:
            self.journal.resolve_fiscal(entry.op_key)  # refused: nothing moved
            raise
        self.journal.resolve_fiscal(entry.op_key)
        return {"printed": True}

    def cash_in(self, entry: Entry) -> dict:
        return self._cash_move(entry, True)

    def cash_out(self, entry: Entry) -> dict:
        return self._cash_move(entry, False)


def _check_shift(status) -> None:
    if status.shift_expired:
        raise CommandFailed("shift_expired", "Смена открыта более 24 часов: закройте смену (Z-отчёт) и откройте новую")
    if not status.shift_open:
        raise CommandFailed("register_error", "Смена на ККТ не открыта: откройте смену")


def _register_failure(e: RegisterError) -> CommandFailed:
    if e.code in SHIFT_EXPIRED_CODES or (e.command > 0xFF and e.code == FN_SHIFT_EXPIRED):
        return CommandFailed("shift_expired", e.message)
    return CommandFailed("register_error", e.message)


_HANDLERS: dict[str, Callable[[Executor, Entry], dict]] = {
    "status": Executor.status,
    "receipt": Executor.receipt,
    "open_shift": Executor.open_shift,
    "close_shift": Executor.close_shift,
    "x_report": Executor.x_report,
    "duplicate": Executor.duplicate,
    "find_document": Executor.find_document,
    "cash_in": Executor.cash_in,
    "cash_out": Executor.cash_out,
}
