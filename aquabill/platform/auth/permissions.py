"""Permissions: resource × action. `admin` on a resource implies every action; `*` is every resource."""

from __future__ import annotations

from dataclasses import dataclass, field

ACTIONS = ("view", "edit", "report", "admin")

RESOURCES = {
    "users": "Пользователи и роли",
    "audit": "Журнал изменений",
    "jobs": "Фоновые задания",
    "registry": "Адресный реестр и справочники",
    "accounts": "Лицевые счета",
    "billing": "Расчёт начислений",
    "payments": "Платежи",
    "penalties": "Пени",
    "calls": "Звонки",
    "telephony": "Подключение телефонии",
    "appeals": "Обращения",
    "periods": "Закрытие периодов",
    "requests": "Заявки и работы",
    "receipts": "Квитанции: реквизиты, оформление, печать и рассылка",
    "notifications": "Оповещения",
    "cash": "Касса",
    "legal": "Юридические лица",
}


@dataclass(frozen=True, slots=True)
class Principal:
    kind: str  # "staff" | "platform" | "subscriber" (a portal session: `can` is always False)
    user_id: int
    login: str
    full_name: str = ""
    tenant_id: int | None = None
    tenant_slug: str | None = None
    permissions: frozenset[tuple[str, str]] = field(default_factory=frozenset)

    def can(self, resource: str, action: str) -> bool:
        if self.kind != "staff":
            return False
        p = self.permissions
        return any(
            (r, a) in p for r in (resource, "*") for a in (action, "admin")
        )


def requires(resource: str, action: str):
    """A Litestar guard: the staff user must hold `action` on `resource`."""
    from litestar.exceptions import NotAuthorizedException, PermissionDeniedException

    def guard(connection, _handler) -> None:
        principal = connection.scope.get("user")
        if not isinstance(principal, Principal):
            raise NotAuthorizedException("Требуется вход в систему")
        if principal.kind != "staff":
            raise PermissionDeniedException("Доступно только сотрудникам организации")
        if not principal.can(resource, action):
            raise PermissionDeniedException(
                f"Недостаточно прав: требуется «{action}» для раздела «{RESOURCES.get(resource, resource)}»"
            )

    guard.__name__ = f"requires_{resource}_{action}"
    return guard


def requires_any(*needs: tuple[str, str]):
    """A Litestar guard: the staff user must hold one of the (resource, action) pairs."""
    from litestar.exceptions import NotAuthorizedException, PermissionDeniedException

    def guard(connection, _handler) -> None:
        principal = connection.scope.get("user")
        if not isinstance(principal, Principal):
            raise NotAuthorizedException("Требуется вход в систему")
        if principal.kind != "staff":
            raise PermissionDeniedException("Доступно только сотрудникам организации")
        if not any(principal.can(r, a) for r, a in needs):
            raise PermissionDeniedException("Недостаточно прав: требуется " + " или ".join(
                f"«{a}» для раздела «{RESOURCES.get(r, r)}»" for r, a in needs))

    guard.__name__ = "requires_any_" + "_".join(f"{r}_{a}" for r, a in needs)
    return guard
