"""Campaigns: what one is made of, its states, and what becomes of a delivery after the peer answered (pure).

A campaign is a title, a copy of the template (subject, body, sound), an audience filter, its own fields (an
outage's dates and text), the channels in order and a mode:
- 'first': each recipient gets the message once, on the first of the channels it can be reached by; when that
  delivery fails for good (failed, or an autocall busy / not answered, or skipped by the peer), the next channel
  is tried;
- 'all': on every channel it can be reached by (an outage notice).
States: draft → running → done | cancelled; a running campaign may be paused (and started again).

A delivery's outcome (`settle`): the peer's status when it is final; a transient failure (`retry`) is tried
again after a growing pause (30 s, 1, 2, 4 … min, at most 30 min) up to MAX_ATTEMPTS attempts, then it is failed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from aquabill.base.errors import Invalid
from aquabill.notifications.audiences import Audience, parse_audience
from aquabill.notifications.ports import CHANNELS, STATUSES, Delivery
from aquabill.notifications.settings import check_rates
from aquabill.notifications.templates import MessageTemplate, compile_template

MODES = {"first": "Первый доступный канал", "all": "Все каналы"}
STATES = {"draft": "Черновик", "running": "Идёт", "paused": "Приостановлена", "done": "Завершена",
          "cancelled": "Отменена"}
CHANNEL_NAMES = {"email": "Эл. почта", "sms": "SMS", "telegram": "Telegram", "max": "MAX",
                 "autocall": "Автообзвон", "inbox": "Личный кабинет"}
DELIVERY_NAMES = {"pending": "Ожидает", "sending": "Отправляется", "sent": "Отправлено", "delivered": "Доставлено",
                  "answered": "Прослушано", "busy": "Занято", "no_answer": "Нет ответа", "failed": "Ошибка",
                  "skipped": "Пропущено", "unknown": "Неизвестно"}
SUCCESS = frozenset({"sent", "delivered", "answered"})
FALLBACK = frozenset({"failed", "busy", "no_answer", "skipped"})  # 'first' mode: the next channel is tried
FINAL = SUCCESS | FALLBACK | {"unknown"}
OPEN = frozenset({"pending", "sending"})
# how the campaign page sums the statuses up: group → (its name, the statuses in it)
GROUPS = {"queued": ("В очереди", ("pending",)), "sending": ("Отправляется", ("sending",)),
          "done": ("Отправлено", ("sent", "delivered", "answered")),
          "failed": ("Не доставлено", ("failed", "busy", "no_answer", "skipped")),
          "unknown": ("Неизвестно", ("unknown",))}
MAX_ATTEMPTS = 5
FIELDS = ("outage_from", "outage_to", "outage_text")
MAX_FIELD = {"outage_from": 100, "outage_to": 100, "outage_text": 1000}


@dataclass(frozen=True, slots=True)
class CampaignDraft:
    title: str
    template: MessageTemplate
    audience: Audience
    channels: tuple[str, ...]
    mode: str = "first"
    fields: dict[str, str] = field(default_factory=dict)
    rates: dict[str, int] = field(default_factory=dict)
    template_id: int | None = None


def check_channels(raw: Any) -> tuple[str, ...]:
    values = [raw] if isinstance(raw, str) else list(raw or []) if isinstance(raw, list | tuple) else None
    if values is None:
        raise Invalid("Каналы: ожидается список", field="channels")
    out: list[str] = []
    for ch in values:
        if ch not in CHANNELS:
            raise Invalid(f"Неизвестный канал: {str(ch)[:20]}", field="channels")
        if ch not in out:
            out.append(ch)
    if not out:
        raise Invalid("Выберите хотя бы один канал", field="channels")
    return tuple(out)


def check_draft(raw: dict[str, Any], base_rates: dict[str, int]) -> CampaignDraft:
    """A campaign from input: every part checked, the template compiled (errors with their line)."""
    title = " ".join(str(raw.get("title") or "").split())
    if not title:
        raise Invalid("Укажите название рассылки", field="title")
    if len(title) > 200:
        raise Invalid("Название — не длиннее 200 знаков", field="title")
    mode = raw.get("mode") or "first"
    if mode not in MODES:
        raise Invalid("Режим: «first» (первый доступный канал) или «all» (все каналы)", field="mode")
    template = MessageTemplate(str(raw.get("subject") or ""), str(raw.get("body") or ""), str(raw.get("sound") or ""))
    compile_template(template)
    channels = check_channels(raw.get("channels"))
    if "autocall" in channels and not template.sound.strip():
        raise Invalid("Для автообзвона укажите звуковой файл (имя записи на АТС)", field="sound")
    fields_raw = raw.get("fields") or {}
    if not isinstance(fields_raw, dict) or set(fields_raw) - set(FIELDS):
        raise Invalid("Поля рассылки: outage_from, outage_to, outage_text", field="fields")
    fields = {}
    for name in FIELDS:
        value = " ".join(str(fields_raw.get(name) or "").split()) if name != "outage_text" \
            else str(fields_raw.get(name) or "").strip()
        if len(value) > MAX_FIELD[name]:
            raise Invalid(f"Поле {name}: не длиннее {MAX_FIELD[name]} знаков", field=name)
        fields[name] = value
    template_id = raw.get("template_id")
    if template_id is not None and (isinstance(template_id, bool) or not isinstance(template_id, int)
                                    or not 0 < template_id <= 2_147_483_647):
        raise Invalid("Шаблон: ожидается номер", field="template_id")
    return CampaignDraft(title, template, parse_audience(raw.get("audience")), channels, mode, fields,
                         check_rates(raw.get("rates"), base_rates), template_id)


def backoff(attempts: int) -> timedelta:
    """The pause before attempt `attempts + 1` after a transient failure."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 1800))


@dataclass(frozen=True, slots=True)
class Settled:
    status: str  # a final status, or 'pending' (tried again after `retry_in`)
    detail: str
    retry_in: timedelta | None = None
    parts: int | None = None
    cost: Decimal | None = None
    external_id: str | None = None


def settle(delivery: Delivery, attempts: int) -> Settled:
    """What the delivery row becomes after attempt number `attempts` gave `delivery`."""
    detail = (delivery.detail or "")[:1000]
    ext = (delivery.external_id or None) and str(delivery.external_id)[:128]
    if delivery.retry and delivery.status not in SUCCESS:
        if attempts < MAX_ATTEMPTS:
            return Settled("pending", detail, backoff(attempts), delivery.parts, delivery.cost, ext)
        return Settled("failed", f"{detail}; попыток: {attempts}".lstrip("; "), None, delivery.parts,
                       delivery.cost, ext)
    if delivery.status not in STATUSES:
        return Settled("failed", f"Неизвестный ответ канала: {str(delivery.status)[:40]}", None, delivery.parts,
                       delivery.cost, ext)
    return Settled(delivery.status, detail, None, delivery.parts, delivery.cost, ext)


def progress_of(counts: dict[str, dict[str, int]]) -> tuple[int, int]:
    """(finished, all) deliveries from counts channel → status → n."""
    total = sum(n for per in counts.values() for n in per.values())
    open_ = sum(n for per in counts.values() for s, n in per.items() if s in OPEN)
    return total - open_, total


def grouped(counts: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    """channel → group → deliveries, and '' → the totals of every channel."""
    out: dict[str, dict[str, int]] = {"": {g: 0 for g in GROUPS}}
    for channel, per in counts.items():
        row = {g: sum(per.get(s, 0) for s in statuses) for g, (_, statuses) in GROUPS.items()}
        out[channel] = row
        for g, n in row.items():
            out[""][g] += n
    return out
