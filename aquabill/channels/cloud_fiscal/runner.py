"""Working off a tenant's cloud fiscalization requests (`cash/cloud.py` has the states and the rules): the job
`fiscal.cloud` and the every-minute sweep (`platform/jobs/cloud_fiscal.py`) both run `process_tenant`.

1. Claim due requests a few at a time (`PARALLEL`; FOR UPDATE SKIP LOCKED, leased for `cloud.LEASE_SECONDS`) and
   commit: another runner at the same moment takes other rows or none.
2. For each, outside any transaction: a request not sent yet is sent (`sell` / `sell_refund`, its UUID the
   external_id); its uuid is committed at once; then its result is polled a few times in place (`POLLS`), and
   what is known is committed: done (+ `payment_fiscal`), fail, or wait / retry with the next try per
   `cloud.retry_delay`. A request sent before whose answer was lost is simply sent again: the service answers
   the repeated external_id with the first document's uuid, so there is one receipt.
3. The settings being wrong (login, password, group) stops the pass: every request claimed is put back with the
   reason, to be tried again later.
Requests are worked off while the settings are complete, even if cloud fiscalization was switched off after
they were written (the payments were taken; their receipts are due). Each request's steps run in its own
short transactions; a pass takes at most `BATCH` requests (the sweep comes back a minute later).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Sequence
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from aquabill.cash import cloud, cloud_settings
from aquabill.cash.cloud import CloudReceipt
from aquabill.channels.cloud_fiscal.atol import DEFAULT_API_URL, AtolOnline
from aquabill.channels.cloud_fiscal.atol_wire import (
    OPERATIONS,
    AtolRefused,
    AtolSettings,
    AtolUnknown,
    Company,
    FiscalProof,
    encode_receipt,
)
from aquabill.platform.secret_box import SecretBox
from aquabill.platform.state import Core
from aquabill.tenants.context import Tenant, tenant_transaction

log = logging.getLogger(__name__)

POLLS = (0.0, 0.5, 1.0, 2.0)  # seconds to wait before each poll of a result in place
PARALLEL = 4
BATCH = 50
SEALED = "Пароль АТОЛ Онлайн не расшифровывается: сохраните его заново на странице облачной фискализации ({})"


def default_api_url(settings: Any) -> str:
    """The API address new settings start with (the dev server points it at the local fake)."""
    return getattr(settings, "atol_api_url", None) or DEFAULT_API_URL


class _Pass:
    def __init__(self, core: Core, tenant: Tenant, atol: AtolOnline, company: Company, polls: Sequence[float]) -> None:
        self.core, self.tenant, self.atol, self.company, self.polls = core, tenant, atol, company, polls
        self.zone = ZoneInfo(core.settings.timezone)
        self.stats: Counter[str] = Counter()
        self.stopped: AtolSettings | None = None

    async def _tx(self, fn, *args: Any, **kw: Any) -> Any:
        async with tenant_transaction(self.core.engines, self.tenant) as conn:
            return await fn(conn, *args, **kw)

    async def one(self, req: dict[str, Any]) -> None:
        rid: UUID = req["id"]
        if self.stopped is not None:
            await self._tx(cloud.set_retry, rid, self.stopped.message, cloud.retry_delay(req["attempts"]))
            self.stats["deferred"] += 1
            return
        try:
            self.stats[await self._work(req)] += 1
        except AtolSettings as exc:
            self.stopped = exc
            await self._tx(cloud.set_retry, rid, exc.message, cloud.retry_delay(req["attempts"]))
            self.stats["deferred"] += 1
        except AtolRefused as exc:
            await self._tx(cloud.set_failed, rid, exc.message)
            self.stats["failed"] += 1

    async def _work(self, req: dict[str, Any]) -> str:
        rid, group, delay = req["id"], req["group_code"], cloud.retry_delay(req["attempts"])
        uuid = req["provider_uuid"]
        if uuid is None:
            body = encode_receipt(str(rid), CloudReceipt.from_json(req["receipt"]), self.company,
                                  req["created_at"].astimezone(self.zone))
            try:
                registration = await self.atol.register(group, OPERATIONS[req["operation"]], body)
            except AtolUnknown as exc:
                await self._tx(cloud.set_retry, rid, f"Нет ответа, чек будет отправлен повторно: {exc.message}", delay)
                return "unknown"
            uuid = registration.uuid
            await self._tx(cloud.set_wait, rid, uuid, delay)
        for pause in self.polls:
            if pause:
                await asyncio.sleep(pause)
            try:
                report = await self.atol.report(group, uuid, self.zone)
            except AtolUnknown as exc:
                await self._tx(cloud.set_retry, rid, f"Результат не получен: {exc.message}", delay)
                return "wait"
            if report.status == "done" and report.proof is not None:
                await self._tx(self._done, rid, req["amount"], report.proof)
                return "done"
            if report.status == "fail":
                await self._tx(cloud.set_failed, rid, report.error.message if report.error else "Чек не зарегистрирован")
                return "failed"
        await self._tx(cloud.set_wait, rid, uuid, delay)  # not yet: polled again after the delay
        return "wait"

    @staticmethod
    async def _done(conn, rid: UUID, amount, proof: FiscalProof) -> None:
        note = "" if proof.total == amount else f"Сумма чека {proof.total} не совпадает с суммой платежа {amount}"
        await cloud.set_done(conn, rid, fn_number=proof.fn_number, fd_number=proof.fd_number,
                             fiscal_sign=proof.fiscal_sign, fiscal_at=proof.fiscal_at, fiscal=proof.payload, note=note)


async def process_tenant(core: Core, tenant: Tenant, *, limit: int = BATCH,
                         polls: Sequence[float] = POLLS) -> dict[str, int]:
    """One pass over up to `limit` of the tenant's due requests (see the module's docstring), claimed a few at a
    time (`PARALLEL`, so a claim's lease outlasts the work on it); counts by outcome."""
    async with tenant_transaction(core.engines, tenant) as conn:
        config = await cloud_settings.config(conn)
    if config is None:
        return {"skipped": 1}
    try:
        password = SecretBox(core.settings.secret_key).open(config.password)
    except ValueError as exc:
        password, sealed = None, SEALED.format(exc)
    company = Company(config.inn, config.email, config.sno, config.payment_address)
    async with AtolOnline(config.api_url, config.login, password or "") as atol:
        run = _Pass(core, tenant, atol, company, polls)
        if password is None:
            run.stopped = AtolSettings(sealed)

        async def guarded(req: dict[str, Any]) -> None:
            try:
                await run.one(req)
            except Exception:  # one request's surprise must not stop the others; its lease expires
                log.exception("tenant %s: cloud fiscalization of request %s failed", tenant.slug, req["id"])
                run.stats["errors"] += 1

        taken = 0
        while taken < limit:
            async with tenant_transaction(core.engines, tenant) as conn:
                claimed = await cloud.claim_due(conn, limit=min(PARALLEL, limit - taken),
                                                group_code=config.group_code)
            if not claimed:
                break
            taken += len(claimed)
            await asyncio.gather(*(guarded(r) for r in claimed))
            if run.stopped is not None:
                break  # the settings must be fixed first: the rest waits for a later pass
    return dict(run.stats)


async def check_connection(api_url: str, login: str, password: str) -> tuple[bool, str]:
    """(works, message in Russian): `getToken` with these credentials at this address."""
    try:
        async with AtolOnline(api_url, login, password, timeout=10.0) as atol:
            await atol.check()
    except AtolSettings as exc:
        return False, f"Подключение не работает: {exc.message}"
    except AtolUnknown as exc:
        return False, f"АТОЛ Онлайн недоступен: {exc.message}"
    except AtolRefused as exc:
        return False, f"Подключение не работает: {exc.message}"
    return True, "Подключение работает: АТОЛ Онлайн принял логин и пароль"
