"""The month-close checks (pure): the catalogue, a tenant's configuration of it, and the evaluation of
what the checks found into pass / warning / block, with Russian messages.

A check finds offending rows (a count and a few samples). A failed check blocks the close when it is
configured `blocking`; otherwise it is a warning that the closer must accept explicitly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

PASS, WARN, BLOCK, SKIP = "pass", "warn", "block", "skip"
SAMPLE_SIZE = 10


@dataclass(frozen=True, slots=True)
class CheckSpec:
    code: str
    name: str
    forms: tuple[str, str, str]  # what was found, for 1 / 2–4 / 5+ («лицевой счёт», «лицевых счёта», …)
    problem: str  # the rest of the sentence
    default_blocking: bool
    parameter: str | None = None  # meaning of the check's parameter, if it has one
    default_parameter: int | None = None


CATALOGUE: dict[str, CheckSpec] = {s.code: s for s in (
    CheckSpec("unbilled_accounts", "Лицевые счета без начислений за период",
              ("лицевой счёт", "лицевых счёта", "лицевых счетов"), "без начислений за период", True),
    CheckSpec("negative_volumes", "Отрицательные объёмы в начислениях",
              ("строка", "строки", "строк"), "начислений с отрицательным объёмом (кроме перерасчётов и сторно)",
              True),
    CheckSpec("overdue_verification", "Начисления по ИПУ с просроченной поверкой",
              ("счётчик", "счётчика", "счётчиков"), "с истёкшей до начала периода поверкой начислены по показаниям",
              False),
    CheckSpec("unallocated_payments", "Нераспределённые платежи",
              ("опознанный платёж", "опознанных платежа", "опознанных платежей"),
              "распределены не полностью (сумма распределения, включая аванс, не равна сумме платежа)", False),
    CheckSpec("old_unidentified_payments", "Невыясненные платежи старше N дней",
              ("невыясненный платёж", "невыясненных платежа", "невыясненных платежей"), "старше {n} дн.", False,
              parameter="дней", default_parameter=5),
    CheckSpec("unfinished_runs", "Незавершённые расчёты периода",
              ("расчёт", "расчёта", "расчётов"), "периода не завершены (в очереди или выполняются)", True),
    # #14: the receipt reached the subscriber in time — the dated day: month_close/receipt_deadline.py
    CheckSpec("receipts_delivered", "Квитанции выставлены и доставлены в срок",
              ("лицевой счёт", "лицевых счёта", "лицевых счетов"),
              "без квитанции, выставленной (бумажной) или отправленной по эл. почте в срок — ст. 155 ЖК РФ: до "
              "1-го числа следующего месяца, с 01.03.2026 до 5-го; разослать: /receipts/delivery", False),
)}


@dataclass(frozen=True, slots=True)
class CheckConfig:
    """A tenant's setting of one check (the `close_checks` row)."""

    code: str
    name: str
    enabled: bool
    blocking: bool
    parameter: int | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    """What one check's query found."""

    code: str
    count: int
    sample: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CheckResult:
    code: str
    name: str
    status: str  # pass | warn | block | skip (disabled)
    blocking: bool
    count: int
    sample: tuple[str, ...]
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "status": self.status, "blocking": self.blocking,
                "count": self.count, "sample": list(self.sample), "message": self.message}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CheckResult:
        return cls(str(d["code"]), str(d.get("name", "")), str(d["status"]), bool(d.get("blocking")),
                   int(d.get("count", 0)), tuple(str(s) for s in d.get("sample", ())), str(d.get("message", "")))


def plural(n: int, forms: tuple[str, str, str]) -> str:
    """Russian plural: 1 счёт, 2 счёта, 5 счетов, 11 счетов, 21 счёт."""
    if n % 10 == 1 and n % 100 != 11:
        return forms[0]
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return forms[1]
    return forms[2]


def parameter_of(config: CheckConfig, fallback: int | None = None) -> int | None:
    """The check's parameter: configured, else `fallback` (a tenant setting), else the catalogue's default."""
    if config.parameter is not None:
        return config.parameter
    return fallback if fallback is not None else CATALOGUE[config.code].default_parameter


def evaluate(config: CheckConfig, finding: Finding | None, parameter: int | None = None) -> CheckResult:
    """One check's result: skipped when disabled, passed when nothing was found, else warn / block."""
    spec = CATALOGUE[config.code]
    if not config.enabled or finding is None:
        return CheckResult(config.code, config.name, SKIP, config.blocking, 0, (), "Проверка отключена")
    if finding.count == 0:
        return CheckResult(config.code, config.name, PASS, config.blocking, 0, (), "Замечаний нет")
    problem = spec.problem.format(n=parameter if parameter is not None else "N")
    message = f"{finding.count} {plural(finding.count, spec.forms)} {problem}"
    if finding.sample:
        more = finding.count - len(finding.sample)
        message += ": " + ", ".join(finding.sample) + (f" и ещё {more}" if more > 0 else "")
    return CheckResult(config.code, config.name, BLOCK if config.blocking else WARN, config.blocking,
                       finding.count, tuple(finding.sample), message)


def outcome(results: Iterable[CheckResult]) -> str:
    """block if any check blocks, else warn if any warns, else pass."""
    statuses = {r.status for r in results}
    return BLOCK if BLOCK in statuses else WARN if WARN in statuses else PASS


def refusal(results: Iterable[CheckResult], *, accept_warnings: bool) -> str | None:
    """Why the period cannot be closed with these results (Russian), or None when it can."""
    results = list(results)
    blocking = [r for r in results if r.status == BLOCK]
    if blocking:
        return ("Период нельзя закрыть: не пройдены обязательные проверки. "
                + " ".join(f"{r.name}: {r.message}." for r in blocking))
    warnings = [r for r in results if r.status == WARN]
    if warnings and not accept_warnings:
        return ("Есть предупреждения проверок; чтобы закрыть период, подтвердите их (accept_warnings). "
                + " ".join(f"{r.name}: {r.message}." for r in warnings))
    return None


def check_change(code: str, change: Mapping[str, Any]) -> dict[str, Any]:
    """Validate one check's settings change (enabled, blocking, parameter); returns the accepted fields."""
    if code not in CATALOGUE:
        raise ValueError(f"Неизвестная проверка «{code}»")
    spec = CATALOGUE[code]
    unknown = set(change) - {"code", "enabled", "blocking", "parameter"}
    if unknown:
        raise ValueError("Неизвестные поля: " + ", ".join(sorted(unknown)))
    out: dict[str, Any] = {}
    for key in ("enabled", "blocking"):
        if key in change:
            if not isinstance(change[key], bool):
                raise ValueError(f"{spec.name}: «{key}» — да или нет (true/false)")
            out[key] = change[key]
    if "parameter" in change:
        value = change["parameter"]
        if spec.parameter is None and value is not None:
            raise ValueError(f"{spec.name}: у проверки нет параметра")
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 3650):
            raise ValueError(f"{spec.name}: параметр — целое число {spec.parameter} от 0 до 3650")
        out["parameter"] = value
    return out
