"""Working off a tenant's EDO messages (the states: `legal_entities/edo.py`): the jobs `edo.send` / `edo.poll`
and the every-minute sweep (`platform/jobs/edo.py`) run `send_tenant` and `poll_tenant`.

send: claim due messages a few at a time ('sending' with a lease, committed: another sender takes other rows),
then for each, outside any transaction: the buyer's box from its EDO participant id (`GetOrganization`), the
detached signature of the XML exactly as issued, `PostMessage` with the operation id of this message (a repeat —
after no answer, or after a sender died mid-call — gets the first call's message back, never a second one), and
the outcome committed: sent; unknown (retried with back-off); failed (the operator refused: 4xx); or, when the
operator refuses our settings (401/402/403), the message goes back and the pass stops.
poll: sent / delivered messages due to be asked: `GetDocument` → delivered / signed / rejected with the reason.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from dataclasses import dataclass
from typing import Any

from aquabill.channels.edo.diadoc import (
    DEFAULT_API_URL,
    UCD,
    UCD_VERSION,
    UTD,
    UTD_VERSION,
    Diadoc,
    DiadocError,
    DiadocSettings,
    DiadocUnknown,
)
from aquabill.channels.edo.signer import Signer, development_signer
from aquabill.legal_entities import edo, edo_store
from aquabill.platform.secret_box import SecretBox
from aquabill.platform.state import Core
from aquabill.tenants.context import Tenant, tenant_transaction

log = logging.getLogger(__name__)
PARALLEL = 4
BATCH = 50
DEFAULT_FUNCTIONS = {"upd": "СЧФДОП", "act": "ДОП", "advance_invoice": "СЧФ", "ukd": "КСЧФДИС"}
UCD_502_PREFIX = "ON_NKORSCHFDOPPR_"  # the file name of a УКД in format 5.02


@dataclass(frozen=True)
class Config:
    api_url: str
    client_id: str
    login: str
    password: str
    box_id: str
    participant_id: str


def default_api_url(settings: Any) -> str:
    """The API address new settings start with (the dev server points it at the local fake)."""
    return getattr(settings, "diadoc_api_url", None) or DEFAULT_API_URL


def seal_credentials(secret_key: str, login: str, password: str) -> bytes:
    return SecretBox(secret_key).seal(json.dumps({"login": login, "password": password})).encode("ascii")


def open_credentials(secret_key: str, sealed: bytes | None) -> tuple[str, str]:
    """(login, password); ValueError when the secret does not open (the app's key changed)."""
    if not sealed:
        raise ValueError("логин и пароль Диадока не сохранены")
    data = json.loads(SecretBox(secret_key).open(bytes(sealed).decode("ascii")))
    return str(data.get("login", "")), str(data.get("password", ""))


async def load_config(core: Core, tenant: Tenant) -> Config | str:
    """The working settings, or why there are none (a Russian text)."""
    async with tenant_transaction(core.engines, tenant) as conn:
        settings = await edo_store.get_settings(conn)
        sealed = await edo_store.sealed_secret(conn)
    if settings is None or not settings["enabled"]:
        return "обмен через ЭДО не включён"
    try:
        login, password = open_credentials(core.settings.secret_key, sealed)
    except ValueError as exc:
        return f"пароль Диадока не расшифровывается: сохраните его заново ({exc})"
    return Config(settings["api_url"], settings["client_id"], login, password, settings["box_id"],
                  settings["participant_id"])


def document_type(doc: dict[str, Any]) -> tuple[str, str, str]:
    """(TypeNamedId, Function, Version) of one of our documents at Diadoc. A УКД of format 5.02 (its file name
    starts ON_NKORSCHFDOPPR_, `fns_upd/ukd502.py`) is refused: UCD_VERSION names the 5.01 format, and the
    version id Diadoc gives 5.02 is not verified (GetDocumentTypes) — sending it as 5.01 would be refused anyway."""
    function = doc["function"] or DEFAULT_FUNCTIONS[doc["kind"]]
    if doc["kind"] == "ukd":
        if (doc.get("file_name") or "").startswith(UCD_502_PREFIX):
            raise DiadocError("УКД в формате 5.02 (КНД 1115133) через Диадок пока не отправляется: версия этого "
                              "формата у оператора не подтверждена — передайте документ покупателю иначе")
        return UCD, function, UCD_VERSION
    return UTD, function, UTD_VERSION


def operation_id(tenant: Tenant, message: dict[str, Any]) -> str:
    return f"aquabill-{tenant.slug}-edo-{message['id']}-{(message['document']['xml_sha256'] or '')[:16]}"


class _Pass:
    def __init__(self, core: Core, tenant: Tenant, api: Diadoc, config: Config, signer: Signer) -> None:
        self.core, self.tenant, self.api, self.config, self.signer = core, tenant, api, config, signer
        self.stats: Counter[str] = Counter()
        self.stopped: str | None = None

    async def _tx(self, fn, *args: Any, **kw: Any) -> Any:
        async with tenant_transaction(self.core.engines, self.tenant) as conn:
            return await fn(conn, *args, **kw)

    async def send(self, message: dict[str, Any]) -> None:
        mid, doc = message["id"], message["document"]
        if self.stopped is not None:
            await self._tx(edo.release, mid, self.stopped)
            self.stats["deferred"] += 1
            return
        to_box = message["to_box"]
        try:
            if not to_box:
                to_box = await self.api.box_of_participant(doc["edo_id"])
            content = bytes(doc["xml"])
            signature = await asyncio.to_thread(self.signer.sign, content)
            type_named_id, function, version = document_type(doc)
            posted = await self.api.post_message(
                self.config.box_id, to_box, content, signature, type_named_id, function, version,
                operation_id=operation_id(self.tenant, message), custom_document_id=f"{doc['kind']}-{doc['number']}")
        except DiadocSettings as exc:
            self.stopped = f"Настройки ЭДО не работают: {exc.message}"
            await self._tx(edo.release, mid, self.stopped)
            self.stats["deferred"] += 1
            return
        except DiadocUnknown as exc:
            status = await self._tx(edo.mark_unknown, mid, f"Нет ответа от Диадока, повторим: {exc.message}",
                                    attempts=message["attempts"], to_box=to_box)
            self.stats["failed" if status == "failed" else "unknown"] += 1
            return
        except DiadocError as exc:
            await self._tx(edo.mark_failed, mid, f"Диадок не принял документ: {exc.message}")
            self.stats["failed"] += 1
            return
        await self._tx(edo.mark_sent, mid, to_box=to_box, operator_message_id=posted.message_id,
                       entity_id=posted.entity_id)
        self.stats["sent"] += 1

    async def poll(self, message: dict[str, Any]) -> None:
        try:
            state = await self.api.get_document(self.config.box_id, message["message_id"], message["entity_id"])
        except DiadocError as exc:  # asked again after the lease
            log.info("tenant %s: EDO message %s not polled: %s", self.tenant.slug, message["id"], exc.message)
            self.stats["unanswered"] += 1
            return
        changed = await self._tx(edo.apply_state, message["id"], state.status, state.reason)
        self.stats[state.status if changed else "unchanged"] += 1


async def _run(core: Core, tenant: Tenant, claim, work: str, *, limit: int, signer: Signer | None) -> dict[str, int]:
    config = await load_config(core, tenant)
    if isinstance(config, str):
        return {"skipped": 1}
    async with Diadoc(config.api_url, config.client_id, config.login, config.password) as api:
        run = _Pass(core, tenant, api, config, signer or development_signer())

        async def guarded(message: dict[str, Any]) -> None:
            try:
                await getattr(run, work)(message)
            except Exception:  # one message's surprise must not stop the others; its lease expires
                log.exception("tenant %s: EDO %s of message %s failed", tenant.slug, work, message["id"])
                run.stats["errors"] += 1

        taken = 0
        while taken < limit and run.stopped is None:
            async with tenant_transaction(core.engines, tenant) as conn:
                claimed = await claim(conn, limit=min(PARALLEL, limit - taken))
            if not claimed:
                break
            taken += len(claimed)
            await asyncio.gather(*(guarded(m) for m in claimed))
    return dict(run.stats)


async def send_tenant(core: Core, tenant: Tenant, *, limit: int = BATCH, lease_seconds: int = edo.LEASE_SECONDS,
                      signer: Signer | None = None) -> dict[str, int]:
    """One pass over up to `limit` due messages (see the module); counts by outcome. The signer: a development
    one unless given (see `signer.py`: a production deployment must give a qualified one)."""

    async def claim(conn, *, limit: int) -> list[dict[str, Any]]:
        return await edo.claim_due(conn, limit=limit, lease_seconds=lease_seconds)

    return await _run(core, tenant, claim, "send", limit=limit, signer=signer)


async def poll_tenant(core: Core, tenant: Tenant, *, limit: int = BATCH * 4) -> dict[str, int]:
    return await _run(core, tenant, edo.claim_polls, "poll", limit=limit, signer=None)
