"""Import of payment files: the agent's format and layout choose the reader (`channels.bank_files`), the
lines are staged in a temporary table and `billing_core.payments.intake` stores them (one statement per
file), records their readings and allocates the accounts.

- `sberbank`: a registry of individuals' payments; a registry with file-level problems (trailer totals that do
  not match, lines after the trailer) is refused whole and not stored. Its lines (tuples, no object per
  line) go to the staging table by COPY.
- `1c`: a 1CClientBankExchange statement; incoming documents (to the tenant's accounts in the billing setting
  `bank_accounts`, else to the statement's own accounts) become payments, the personal account is taken from
  the purpose text («л/с 123», «ЛС 123», «лицевой счет 123»), else the payment is unidentified.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Awaitable, Callable, Iterator
from time import perf_counter
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Invalid, NotFound
from aquabill.billing_core.payments import intake, store
from aquabill.billing_core.payments.purpose import account_in_purpose
from aquabill.billing_core.payments.store import PaymentLine
from aquabill.channels.bank_files import (
    BankDocument,
    BankFileError,
    RegistryLayout,
    RegistryRow,
    parse_statement,
    read_registry,
)
from aquabill.legal_entities.payments.bank_import import StatementLine, identify_statement, statement_line

Progress = Callable[[float, str], Awaitable[None]]
SOURCES = {"sberbank": "registry", "1c": "bank_1c"}


class PaymentFileError(Invalid):
    """The file as a whole is not taken (unreadable, wrong format, registry totals that do not match)."""


def layout_from_json(raw: dict[str, Any] | None) -> RegistryLayout:
    """The agent's `file_layout` as a RegistryLayout (ValueError with a Russian message when invalid)."""
    raw = dict(raw or {})
    allowed = set(RegistryLayout.__dataclass_fields__)
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise ValueError(f"Неизвестные параметры описания реестра: {', '.join(unknown)}")
    for key in ("columns", "trailer"):
        if key in raw:
            if not isinstance(raw[key], list) or not all(isinstance(c, str) for c in raw[key]):
                raise ValueError(f"Параметр «{key}» описания реестра: ожидается список строк")
            raw[key] = tuple(raw[key])
    for key, kind in (("separator", str), ("trailer_prefix", str), ("readings", bool), ("trailer_required", bool)):
        if key in raw and not isinstance(raw[key], kind):
            raise ValueError(f"Параметр «{key}» описания реестра: неверный тип")
    if raw.get("encoding") is not None:
        if not isinstance(raw["encoding"], str):
            raise ValueError("Параметр «encoding» описания реестра: ожидается строка")
        try:
            "".encode(raw["encoding"])
        except LookupError as exc:
            raise ValueError(f"Неизвестная кодировка «{raw['encoding']}»") from exc
    return RegistryLayout(**raw)


def count_lines(data: bytes) -> int:
    """A cheap estimate of the payment lines (to choose between the request and a job)."""
    return data.count(b"\n") + (0 if data.endswith(b"\n") else 1)


async def _bank_accounts(conn: AsyncConnection) -> set[str]:
    raw = (await conn.execute(text("SELECT value FROM billing_settings WHERE key = 'bank_accounts'"))).scalar()
    if isinstance(raw, list):
        return {str(a) for a in raw}
    return {str(raw)} if raw else set()


def _registry_rows(data: bytes, layout: RegistryLayout, report: intake.FileReport) -> list[RegistryRow]:
    parsed = read_registry(data, layout)
    if not parsed.accepted:
        raise PaymentFileError("Реестр не принят целиком: " + "; ".join(parsed.file_errors))
    report.lines = parsed.lines_read
    report.failed = len(parsed.errors)
    report.errors.extend({"line": e.line, "error": e.message} for e in parsed.errors)
    report.errors.extend({"line": w.line, "warning": w.message} for w in parsed.warnings)
    return parsed.rows


def _payer(p: RegistryRow) -> str:
    return p.payer_address or (f"{p.payer}, {p.address}" if p.payer and p.address else p.payer or p.address)


def _purpose(p: RegistryRow) -> str:
    branch, office, cashier = p.branch, p.office, p.cashier
    if branch and office and cashier:  # the usual line: no filtering needed
        return f"{branch} {office} {cashier}"
    return " ".join(x for x in (branch, office, cashier) if x)


def _stage_records(rows: list[RegistryRow]) -> Iterator[tuple[Any, ...]]:
    """Registry rows as `store.STAGE_COLUMNS` records."""
    for p in rows:
        yield (p.line, p.operation_id, p.paid_on, p.amount, p.commission, p.account,
               p.period.first_day if p.period is not None else None, _payer(p), _purpose(p))


def _stage_text(rows: list[RegistryRow]) -> bytes | None:
    """Registry rows as `store.STAGE_COLUMNS` in COPY's text format; None when a cell holds a tab or a
    backslash (then records go instead: nothing is escaped here). Cells come from lines: no line breaks."""
    iso: dict[Any, str] = {}
    out = []
    nulls = 0
    for p in rows:
        paid_on = iso.get(p.paid_on)
        if paid_on is None:
            paid_on = iso[p.paid_on] = p.paid_on.isoformat()
        if p.period is None:
            month, nulls = "\\N", nulls + 1
        else:
            month = iso.get(p.period)
            if month is None:
                month = iso[p.period] = p.period.first_day.isoformat()
        out.append(f"{p.line}\t{p.operation_id}\t{paid_on}\t{p.amount}\t{p.commission}\t{p.account}\t{month}\t"
                   f"{_payer(p)}\t{_purpose(p)}\n")
    text = "".join(out)
    if text.count("\t") != 8 * len(rows) or text.count("\\") != nulls:
        return None
    return text.encode()


async def _copy_registry(conn: AsyncConnection, rows: list[RegistryRow]) -> None:
    """The rows (and their readings) into the staging tables by COPY (text built here, or records)."""
    raw = (await conn.get_raw_connection()).driver_connection
    assert raw is not None
    buffer = _stage_text(rows)
    if buffer is not None:
        await raw.copy_to_table(store.STAGE_TABLE, schema_name="pg_temp", columns=store.STAGE_COLUMNS,
                                source=io.BytesIO(buffer))
    else:
        await raw.copy_records_to_table(store.STAGE_TABLE, schema_name="pg_temp", columns=store.STAGE_COLUMNS,
                                        records=_stage_records(rows))
    readings = [(p.line, i, r.serial, r.value) for p in rows if p.readings for i, r in enumerate(p.readings)]
    if readings:
        await raw.copy_records_to_table(store.STAGE_READINGS_TABLE, schema_name="pg_temp",
                                        columns=store.STAGE_READINGS_COLUMNS, records=readings)


def _operation_id(d: BankDocument) -> str:
    return f"{d.date:%Y%m%d}/{d.number}/{d.payer.account or d.payer.inn}/{d.kind}"[:64]


async def _statement_lines(conn: AsyncConnection, data: bytes, report: intake.FileReport,
                           legal: list[StatementLine]) -> list[PaymentLine]:
    """The statement's incoming lines; `legal` gets each one's payer INN/KPP and purpose (organisations' lines are
    matched to contracts after the insert, `legal_entities.payments.bank_import`)."""
    st = parse_statement(data)
    ours = await _bank_accounts(conn)
    incoming = [d for d in st.documents if d.recipient.account in ours] if ours else list(st.incoming())
    report.lines = len(st.documents) + len({e.line for e in st.errors})
    report.failed = len(st.errors)
    report.errors.extend({"line": e.line, "error": e.message} for e in st.errors)
    report.errors.extend({"line": w.line, "warning": w.message} for w in st.warnings)
    skipped = len(st.documents) - len(incoming)
    if skipped:
        report.notes.append(f"Документов не в пользу организации (списания и прочие): {skipped}, пропущены")
    legal.extend(statement_line(d.line, d.amount, d.purpose, d.payer.inn, d.payer.kpp) for d in incoming)
    return [PaymentLine(
        line_no=d.line, operation_id=_operation_id(d), paid_on=d.received_on or d.date, amount=d.amount,
        account_text=account_in_purpose(d.purpose) or "", payer=d.payer.name or d.payer.inn,
        purpose=d.purpose) for d in incoming]


def _duplicate_file(report: intake.FileReport, earlier: dict[str, Any]) -> intake.FileReport:
    report.file_id, report.duplicate_file = earlier["id"], True
    report.lines, report.duplicates, report.errors = earlier["lines"], earlier["loaded"], []
    report.notes.append(f"Этот файл уже загружен {earlier['created_at']:%d.%m.%Y %H:%M} (файл {earlier['id']}): "
                        "ничего не добавлено")
    return report


async def import_payment_file(conn: AsyncConnection, agent_code: str, data: bytes, *, file_name: str = "",
                              user_id: int | None = None, progress: Progress | None = None,
                              timings: dict[str, float] | None = None) -> intake.FileReport:
    """Store the file as received, read it with the agent's format, load its payments (one statement).
    The same file again (checksum) or lines with operation ids the agent already has add nothing.
    `timings` (when given) gets the seconds of each step: parse, stage, store, readings, allocate."""
    started = perf_counter()
    agent = await store.get_agent(conn, code=agent_code)
    if agent is None:
        raise NotFound(f"Платёжный агент «{agent_code}» не найден", field="agent")
    fmt = agent["file_format"]
    if fmt not in SOURCES:
        raise PaymentFileError(f"У агента «{agent_code}» нет формата файлов (только ручной ввод)", field="agent")
    if not data:
        raise PaymentFileError("Файл пуст", field="file")
    report = intake.FileReport(file_id=None)
    digest = hashlib.sha256(data).hexdigest()
    earlier = await store.file_by_checksum(conn, agent["id"], digest)
    if earlier is not None and earlier["status"] == "loaded":  # the same file again: not even read
        return _duplicate_file(report, earlier)
    rows: list[RegistryRow] = []
    lines: list[PaymentLine] = []
    legal: list[StatementLine] = []
    try:
        if fmt == "sberbank":
            try:
                layout = layout_from_json(agent["file_layout"])
            except ValueError as exc:
                raise PaymentFileError(f"Описание реестра агента неверно: {exc}") from exc
            rows = _registry_rows(data, layout, report)
        else:
            lines = await _statement_lines(conn, data, report, legal)
    except BankFileError as exc:
        raise PaymentFileError(f"Файл не принят: {exc}", field="file") from exc
    if timings is not None:
        timings["parse"] = perf_counter() - started
    if progress:
        await progress(40, "файл прочитан")
    started = perf_counter()
    file_id, earlier = await intake.store_file(conn, agent_id=agent["id"], file_name=file_name, content=data,
                                               checksum=digest, fmt=fmt, user_id=user_id)
    report.file_id = file_id
    if earlier is not None:  # loaded by a concurrent request meanwhile
        return _duplicate_file(report, earlier)
    if max(len(rows), len(lines)) > store.BULK_LINES:
        await store.tune_for_bulk(conn)
    await store.create_stage(conn)
    if rows:
        await _copy_registry(conn, rows)
    else:
        await store.stage_lines(conn, lines)
    if timings is not None:
        timings["stage"] = perf_counter() - started
    await intake.load_staged(conn, report, agent_id=agent["id"], source=SOURCES[fmt], user_id=user_id,
                             timings=timings)
    if legal:  # organisations' lines: matched to contracts by payer INN and purpose
        outcome = await identify_statement(conn, legal, user_id=user_id)
        report.unidentified -= outcome.identified
        if outcome.identified or outcome.queued:
            report.notes.append(f"Платежи организаций: отнесено на договоры {outcome.identified}, "
                                f"оставлено в невыясненных {outcome.queued}")
    await intake.finish(conn, report)
    if progress:
        await progress(100, "загружено")
    return report
