"""Every HTTP route of the app, called with tenant A's credentials and tenant B's ids, never reveals or
changes tenant B's data.

The route list comes from the app itself (`app.routes`), so a new route is covered as soon as it is
added: its path parameters are filled with B's real ids (chosen by parameter name and type), mutating
methods get a plausible JSON body, and every request is repeated with tenant-selecting tricks (headers,
query parameters, B's subdomain as Host). B's data carries a marker ("SECRET-B") in every text field,
so a leak shows up in a response body; a digest of all of B's tables taken before and after each route
shows it was not changed.

The subscribers' doors (#13) are covered the same way: a subscriber's session opens no staff route; a staff
token opens no portal route; a subscriber with another subscriber's ids (of the same tenant, whose texts carry
their own marker, or of tenant B) sees and changes none of their data.
"""

from __future__ import annotations

import itertools
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid4

import pytest
from litestar.routes import HTTPRoute, WebSocketRoute
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from aquabill.demo.tenant import ensure_platform_admin, seed_registry
from aquabill.platform.app import create_app
from aquabill.platform.auth import users as users_repo
from aquabill.platform.auth.passwords import hash_password
from aquabill.platform.auth.service import principal_for
from aquabill.platform.config import Settings
from aquabill.platform.jobs import store
from aquabill.platform.web.context import SESSION_COOKIE
from aquabill.tenants.context import tenant_transaction
from tests.conftest import ADMIN_PASSWORD, TenantHandle
from tests.tenancy.conftest import schema_digest

MARKER = "SECRET-B"

# Routes not exercised here: the OpenAPI documents and static files carry no tenant data,
# and the WebSockets have their own tests (the staff pages' one: test_realtime_isolation.py; the edge agents' /edge/ws,
# whose device key names its tenant: tests/integration/cash/test_edge_gateway.py).
SKIPPED_PREFIXES = ("/schema", "/static")
# Files a printing keeps on disk (platform/web/printing/files.py): the tenants here have the rows but not the
# files, so B's own request answers 404 too; A's requests with B's ids are exercised as every route's.
FILES_ON_DISK = {"GET /receipts/print/{batch_id:uuid}/bundles/{name:str}",
                 "GET /receipts/print/{batch_id:uuid}/export.csv", "GET /receipts/print/{batch_id:uuid}/export.xml",
                 # the reconciliation act in the FNS format needs operations in the period and the tenant's own
                 # requisites (B has neither); its isolation (another tenant's contract: 404) is still exercised
                 "GET /legal/contracts/{contract_id:int}/reconciliation.xml",
                 # the 1C export of a period (by default the last quarter, where B has no documents) is stamped
                 # with the second it was formed: A's and B's empty files differ by that stamp alone
                 "GET /legal/reports/export.xml"}
WEBSOCKET_PATHS = {"/ws", "/edge/ws"}
# UUID path parameters → the tables of the rows they name (a printing's id is its job's, seed_printing); any other
# UUID parameter takes the UUIDs of every table
UUID_TABLES = {"job_id": ("jobs",), "batch_id": ("print_batches",), "request_id": ("cloud_fiscal_requests",)}
# integer path parameters not named after their table (any other `<x>_id` names a row of table <x>s, <x>es, <x>ies
# for <x>y, or <x>)
INT_TABLES = {"point_id": "contract_points", "document_id": "legal_documents"}

# Reachable without credentials (for OPTIONS, every route is: CORS preflight carries no credentials).
PUBLIC = {("POST", "/api/auth/login"), ("POST", "/api/platform/login"),
          ("GET", "/login"), ("POST", "/login"), ("POST", "/logout")}
PUBLIC_PREFIXES = ("/health",)
# The subscribers' portal (#13): every route under these paths opens only with a subscriber session of the host's
# tenant (most declare `my`, the PortalScope), except the sign-in doors below.
PORTAL_PREFIXES = ("/my", "/api/my/")
PORTAL_PUBLIC = {(m, p) for p in ("/my/login", "/my/register", "/my/confirm/{token:str}", "/my/confirm-phone",
                                  "/my/reset", "/my/reset/{token:str}") for m in ("GET", "POST")} | {
    ("POST", "/my/logout"), ("POST", "/my/reset/code"), *(("POST", f"/api/my/auth/{p}") for p in (
        "register", "confirm", "confirm-phone", "login", "reset-request", "reset"))}
# Doors that check their own secrets (a bot's webhook secret, the acquirer's notification, a signed pay link):
# public when their handler needs no session.
OWN_SECRET_PREFIXES = ("/bots/telegram/", "/bots/max/", "/api/acquiring/", "/pay/", "/edge/")

# Columns of B's schema deliberately left without the marker, with the reason.
UNMARKED = {
    ("alembic_version", "version_num"): "migration state, the same in every tenant",
    ("users", "password_hash"): "B's users must keep working; hashes are caught by the '$argon2' check",
    ("role_permissions", "resource"): "permission vocabulary shared by all tenants; B's admin needs '*'",
    ("role_permissions", "action"): "permission vocabulary (check constraint)",
    ("audit_log", "table_name"): "table names are the same in every tenant (used as path values)",
    ("audit_log", "row_id"): "ids (used as path values)",
    ("audit_log", "action"): "insert/update/delete",
}
# Columns whose check constraint rejects a marked value (found while marking; anything else must take it).
CONSTRAINED = {("accounts", "status"), ("jobs", "status"),
               # billing vocabularies fixed by check constraints
               ("services", "kind"), ("coefficients", "source"), ("parameter_kinds", "value_type"),
               ("residents", "kind"), ("meters", "kind"), ("readings", "source"), ("readings", "status"),
               ("periods", "status"), ("billing_runs", "scope"), ("billing_runs", "status"), ("charges", "method"),
               ("services", "unit"),  # varchar(8): too short to hold the marker
               # parameter kind codes: account_parameters.kind references parameter_kinds.code (the names are marked)
               ("account_parameters", "kind"), ("parameter_kinds", "code"),
               # adjustments (t0004): vocabularies fixed by check constraints
               ("one_off_charges", "basis"), ("installment_agreements", "status"), ("charges", "source"),
               # payments (t0005): vocabularies fixed by check constraints
               ("payment_agents", "kind"), ("payment_agents", "file_format"), ("payment_files", "status"),
               ("payments", "source"), ("payments", "status"), ("payment_allocations", "kind"),
               # penalties (t0006): vocabularies fixed by check constraints; a deferral's improvement is set
               # exactly when its scope is 'improvement'
               ("penalty_rules", "kind"), ("penalty_rules", "origin"), ("penalty_deferrals", "scope"),
               ("penalty_deferrals", "improvement"), ("penalty_runs", "status"), ("penalty_charges", "kind"),
               # requests and works (t0010): vocabularies fixed by check constraints
               ("request_routes", "kind"), ("requests", "kind"), ("requests", "status"), ("request_events", "kind"),
               # telephony (t0008): vocabularies fixed by check constraints
               ("calls", "status"), ("calls", "direction"),
               # month close (t0007): vocabularies fixed by check constraints
               ("period_divisions", "status"), ("close_checks", "code"), ("close_check_runs", "outcome"),
               ("period_closes", "action"),
               # appeals (t0009): vocabularies fixed by check constraints
               ("appeals", "source"), ("appeals", "status"), ("telephonograms", "kind"),
               # working calendar (t0011)
               ("working_calendar", "kind"),
               ("accounts", "receipt_delivery"),  # receipts (t0026): delivery method, a check constraint
               # subscribers (t0020): e-mail lower-case, phone +7XXXXXXXXXX, vocabularies fixed by check constraints
               ("subscribers", "email"), ("subscribers", "phone"), ("subscribers", "preferred_channel"),
               ("subscribers", "created_via"), ("subscriber_codes", "purpose"), ("subscriber_links", "created_via"),
               # notifications (t0027): vocabularies fixed by check constraints; the inbox's dedupe key is unique
               # where set (many NULLs cannot all become the marker)
               ("campaigns", "mode"), ("campaigns", "status"), ("campaign_deliveries", "channel"),
               ("campaign_deliveries", "status"), ("notification_optouts", "channel"),
               ("subscriber_inbox", "dedupe_key"),
               # printing (t0028): vocabularies fixed by check constraints
               ("print_batches", "bundle_by"), ("print_batches", "status"),
               ("campaigns", "kind"),  # receipts by e-mail (t0029): a vocabulary fixed by a check constraint
               # cash desk (t0030): vocabularies fixed by check constraints; a supplier's INN is 10 or 12 digits
               ("cash_points", "vat"), ("edge_agents", "status"), ("edge_commands", "kind"), ("edge_commands", "status"),
               ("cash_shifts", "status"), ("cash_receipts", "operation"), ("cash_receipts", "status"),
               ("cash_receipts", "tender"), ("payment_fiscal", "operation"), ("payment_fiscal", "source"),
               ("cash_orders", "kind"), ("cash_services", "supplier_inn"),
               # cloud fiscalization (t0031): vocabularies and the INN fixed by check constraints
               ("cloud_fiscal_settings", "provider"), ("cloud_fiscal_settings", "sno"), ("cloud_fiscal_settings", "inn"),
               ("cloud_fiscal_requests", "operation"), ("cloud_fiscal_requests", "status"),
               # legal entities (t0032): vocabularies and the requisites' shapes (INN, KPP, OGRN, BIC, accounts) fixed
               # by check constraints
               ("counterparties", "kind"), ("counterparties", "inn"), ("counterparties", "kpp"),
               ("counterparties", "ogrn"), ("counterparties", "penalty_category"),
               ("counterparty_bank_accounts", "bic"), ("counterparty_bank_accounts", "account"),
               ("counterparty_bank_accounts", "corr_account"), ("contracts", "kind"), ("contracts", "status"),
               ("contract_versions", "vat_mode"), ("contract_points", "kind"),
               # (t0033) documents' vocabularies: kind, status, the FNS function; the unit's OKEI code (4 characters)
               ("legal_documents", "kind"), ("legal_documents", "status"), ("legal_documents", "function"),
               ("legal_document_lines", "unit_code"),
               # (t0037) a counterparty's dated penalty category: the vocabulary fixed by a check constraint
               ("counterparty_category_changes", "previous"), ("counterparty_category_changes", "category")}

# Routes for which World.bodies has a plausible body (any other mutating route gets a generic one).
KNOWN_BODIES = {("POST", "/api/users"), ("PATCH", "/api/users/{user_id:int}"), ("POST", "/api/roles"),
                ("PATCH", "/api/roles/{role_id:int}"), ("POST", "/api/jobs"), ("POST", "/api/auth/login"),
                ("POST", "/api/auth/logout"), ("POST", "/api/platform/login"), ("POST", "/api/platform/tenants"),
                ("POST", "/login"), ("POST", "/logout"),
                # billing reference data and the account card (billing_api.py, card_pages.py)
                ("POST", "/api/services"), ("PATCH", "/api/services/{service_id:int}"), ("POST", "/api/tariffs"),
                ("POST", "/api/norms"), ("POST", "/api/coefficients"), ("POST", "/api/parameter-kinds"),
                ("POST", "/billing/reference/tariffs"), ("POST", "/billing/reference/norms"),
                ("POST", "/billing/reference/coefficients"),
                ("POST", "/api/accounts/{account_id:int}/parameters"),
                ("POST", "/api/accounts/{account_id:int}/residents"), ("PATCH", "/api/residents/{resident_id:int}"),
                ("POST", "/api/accounts/{account_id:int}/absences"), ("POST", "/api/meters"),
                ("PATCH", "/api/meters/{meter_id:int}"), ("POST", "/api/meters/{meter_id:int}/replace"),
                ("POST", "/api/meters/{meter_id:int}/failure"), ("POST", "/api/meters/{meter_id:int}/readings"),
                ("POST", "/api/readings/{reading_id:int}/confirm"), ("POST", "/accounts/{account_id:int}/readings"),
                ("POST", "/accounts/{account_id:int}/parameters"),
                # adjustments of charges (adjustments_api.py)
                ("POST", "/api/billing/one-off-charges"), ("POST", "/api/billing/storno"),
                ("POST", "/api/billing/installments"),
                ("POST", "/api/billing/installments/{installment_agreement_id:int}/cancel"),
                # the billing runs page (run_pages.py)
                ("POST", "/billing/runs"),
                # allocation of payments (balances_api.py)
                ("POST", "/api/payments/allocate"),
                # payments in (payments_api.py)
                ("POST", "/api/payment-agents"), ("PATCH", "/api/payment-agents/{payment_agent_id:int}"),
                ("POST", "/api/payment-files"), ("POST", "/api/payment-files/{payment_file_id:int}/rollback"),
                ("POST", "/api/payments"), ("POST", "/api/payments/{payment_id:int}/storno"),
                ("POST", "/api/payments/{payment_id:int}/transfer"),
                ("POST", "/api/payments/{payment_id:int}/identify"),
                # payments pages (payment_pages.py, payment_file_pages.py)
                ("POST", "/payments"), ("POST", "/payments/{payment_id:int}/storno"),
                ("POST", "/payments/{payment_id:int}/transfer"), ("POST", "/payments/{payment_id:int}/identify"),
                ("POST", "/payments/files"), ("POST", "/payments/files/{payment_file_id:int}/rollback"),
                # telephony (calls_api.py)
                ("POST", "/api/calls/originate"), ("POST", "/api/calls/{call_id:int}/callback"),
                ("PUT", "/api/telephony/connection"),
                # requests and works (requests_api.py)
                ("POST", "/api/executors"), ("PATCH", "/api/executors/{executor_id:int}"),
                ("POST", "/api/request-routes"), ("PATCH", "/api/request-routes/{request_route_id:int}"),
                ("POST", "/api/request-routes/{request_route_id:int}/phases"),
                ("PATCH", "/api/route-phases/{route_phase_id:int}"), ("POST", "/api/requests"),
                ("POST", "/api/requests/{request_id:int}/accept"), ("POST", "/api/requests/{request_id:int}/assign"),
                ("POST", "/api/requests/{request_id:int}/advance"), ("POST", "/api/requests/{request_id:int}/close"),
                ("POST", "/api/requests/{request_id:int}/cancel"), ("POST", "/api/requests/{request_id:int}/documents"),
                ("POST", "/api/requests/{request_id:int}/works"), ("POST", "/api/requests/{request_id:int}/act"),
                # requests pages and the working calendar (requests_pages.py, work_calendar_api.py)
                ("POST", "/requests"), ("POST", "/requests/{request_id:int}"), ("POST", "/api/working-calendar"),
                ("POST", "/requests/calendar"), ("POST", "/requests/calendar/{working_calendar_id:int}/delete"),
                # mailboxes page (mailbox_pages.py)
                ("POST", "/appeals/mailboxes"), ("POST", "/appeals/mailboxes/{mailbox_id:int}"),
                # month close and divisions (month_close_api.py, close_pages.py)
                ("POST", "/api/month-close/{period:str}/checks"), ("POST", "/api/month-close/{period:str}/close"),
                ("POST", "/api/month-close/{period:str}/reopen"), ("PUT", "/api/month-close/checks"),
                ("POST", "/api/divisions"), ("PATCH", "/api/divisions/{division_id:int}"), ("POST", "/billing/close"),
                # appeals, mail, telephonograms (appeals_api.py, appeals_pages.py)
                ("POST", "/api/appeals"), ("PATCH", "/api/appeals/{appeal_id:int}"), ("POST", "/api/appeals/from-call"),
                ("POST", "/api/mailboxes"), ("PATCH", "/api/mailboxes/{mailbox_id:int}"),
                ("POST", "/api/mailboxes/{mailbox_id:int}/poll"), ("POST", "/api/telephonograms"),
                ("POST", "/appeals"), ("POST", "/appeals/{appeal_id:int}"), ("POST", "/telephonograms"),
                # penalties (penalties_api.py)
                ("POST", "/api/penalties/runs"), ("POST", "/api/penalties/storno"), ("POST", "/api/key-rates"),
                ("POST", "/api/penalty-deferrals"),
                # agents' presence (console_api.py)
                ("PUT", "/api/console/presence"), ("POST", "/api/console/demo-call"),
                # receipts (receipts_api.py, receipt_pages.py)
                ("PUT", "/api/receipts/requisites"), ("POST", "/billing/requisites"),
                # receipts by e-mail (receipt_delivery/routes.py)
                ("POST", "/api/receipts/delivery"), ("POST", "/receipts/delivery"),
                # mass printing of receipts (platform/web/printing)
                ("POST", "/api/receipts/print"), ("POST", "/receipts/print"),
                # subscribers' links on the account card (links_api.py)
                ("POST", "/api/accounts/{account_id:int}/subscriber-links/{subscriber_link_id:int}/revoke"),
                ("POST", "/accounts/{account_id:int}/subscriber-links/{subscriber_link_id:int}/revoke"),
                # cash points and agents (platform/web/cash/points_*.py)
                ("POST", "/api/cash/points"), ("PATCH", "/api/cash/points/{cash_point_id:int}"),
                ("POST", "/api/cash/points/{cash_point_id:int}/agents"), ("PATCH", "/api/cash/agents/{edge_agent_id:int}"),
                # the cash desk, its book and third parties' services (platform/web/cash/desk_*.py, book_pages.py,
                # services_pages.py)
                ("POST", "/api/cash/sales"), ("POST", "/api/cash/service-sales"),
                ("POST", "/api/cash/receipts/{cash_receipt_id:int}/refund"), ("POST", "/api/cash/duplicate"),
                ("POST", "/api/cash/shifts"), ("POST", "/api/cash/orders"), ("POST", "/api/cash/services"),
                ("PUT", "/api/cash/services/{cash_service_id:int}"), ("POST", "/cash/shift"), ("POST", "/cash/sale"),
                ("POST", "/cash/service-sale"), ("POST", "/cash/receipts/{cash_receipt_id:int}"),
                ("POST", "/cash/book/orders"), ("POST", "/cash/services"),
                # cloud fiscalization (acquiring/fiscal_routes.py)
                ("PUT", "/api/cloud-fiscal/settings"), ("POST", "/api/cloud-fiscal/test"),
                ("POST", "/api/cloud-fiscal/requests/{request_id:uuid}/retry"), ("POST", "/acquiring/cloud-fiscal"),
                ("POST", "/acquiring/cloud-fiscal/requests/{request_id:uuid}/retry"),
                # legal entities: a commercial meter's reading (legal_entities/contract_api.py; B has meters A lacks)
                ("POST", "/api/legal/meters/{meter_id:int}/readings"),
                # legal entities: booking B's unidentified payment on a contract (legal_entities/payment_api.py)
                ("POST", "/api/legal/payments/{payment_id:int}/assign")}

# a receipt's payment string (GOST R 56042) naming account 00100001, which A has (as B does, marked)
RECEIPT_QR_A = ("ST00012|Name=Водоканал|PersonalAcc=40702810900000000001|BankName=Банк|BIC=044525225|"
                "CorrespAcc=30101810400000000225|PersAcc=00100001|Sum=12345|PaymPeriod=022024")

VARIANTS = ("bearer", "cookie", "bearer+tenant-headers", "bearer+tenant-query", "bearer+host-A",
            "bearer+host-B", "cookie+host-B", "bearer+host-B-odd")


# ---- the route list, from the app --------------------------------------------------------------------

@dataclass(frozen=True)
class RouteCase:
    path: str  # as declared, e.g. /api/users/{user_id:int}
    method: str
    params: tuple[tuple[str, str], ...]  # (name, type name), e.g. ("user_id", "int")
    tenant: bool  # the handler runs in the caller's tenant scope
    portal: bool = False  # a portal route that needs a subscriber's session
    open_door: bool = False  # a portal sign-in door, or an own-secret route whose handler needs no session

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def api(self) -> bool:
        return self.path.startswith("/api")

    @property
    def public(self) -> bool:
        return (self.method, self.path) in PUBLIC or self.path.startswith(PUBLIC_PREFIXES) \
            or self.method == "OPTIONS" or self.open_door

    @property
    def in_portal(self) -> bool:
        return self.path == "/my" or self.path.startswith(PORTAL_PREFIXES)

    def url(self, values: dict[str, Any]) -> str:
        return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: str(values[m.group(1)]), self.path)


def route_cases(app) -> list[RouteCase]:
    cases = []
    for route in app.routes:
        if route.path.startswith(SKIPPED_PREFIXES):
            continue
        if isinstance(route, WebSocketRoute):
            assert route.path in WEBSOCKET_PATHS, (
                f"new WebSocket route {route.path}: cover it in test_realtime_isolation.py")
            continue
        assert isinstance(route, HTTPRoute), route
        params = tuple((name, p.type.__name__) for name, p in route.path_parameters.items())
        for method in sorted(route.methods):
            handler = next(h for h in route.route_handlers if method in h.http_methods)
            deps = handler.resolve_dependencies()
            tenant = "ctx" in deps
            in_portal = route.path == "/my" or route.path.startswith(PORTAL_PREFIXES)
            door = (method, route.path) in PORTAL_PUBLIC or (
                route.path.startswith(OWN_SECRET_PREFIXES) and not tenant and "my" not in deps
                and not handler.resolve_guards())
            portal = method != "OPTIONS" and ("my" in deps or in_portal and not door)
            cases.append(RouteCase(route.path, method, params, tenant, portal, door))
    return cases


CASES = route_cases(create_app(Settings.from_env(env={})))


def test_route_list_is_the_apps_and_non_trivial(app):
    assert route_cases(app) == CASES
    ids = {c.id for c in CASES}
    assert len(CASES) >= 40, ids
    assert {(c.method, c.path) for c in CASES} >= KNOWN_BODIES, "a route with a known body is gone"
    assert len({c.path for c in CASES}) >= 15, ids
    assert sum(c.tenant for c in CASES) >= 12
    for expected in ("GET /api/users/{user_id:int}", "PATCH /api/users/{user_id:int}", "POST /api/users",
                     "GET /api/accounts/{account_id:int}", "GET /api/jobs/{job_id:uuid}", "POST /api/jobs",
                     "GET /api/audit/{table:str}/{row_id:str}", "GET /accounts", "GET /"):
        assert expected in ids
    assert all(not c.path.startswith(SKIPPED_PREFIXES) and c.path not in WEBSOCKET_PATHS for c in CASES)


# ---- two tenants with data ---------------------------------------------------------------------------

def _spread(items: list, n: int) -> list:
    """Up to n items, evenly spread over the list (first and last included)."""
    if len(items) <= n:
        return list(items)
    return [items[round(i * (len(items) - 1) / (n - 1))] for i in range(n)]


@dataclass
class World:
    core: Any
    client: Any
    a: TenantHandle
    b: TenantHandle
    a_ids: dict[str, set]  # table -> ids of A's rows
    b_ids: dict[str, list]  # table -> ids of B's rows
    a_audit: set[tuple[str, str]]  # (table_name, row_id) in A's audit log
    b_audit: list[tuple[str, str]]
    forbidden: tuple[str, ...]
    marker: str
    a_token: str | None = None  # A's admin session, replaced when a route logs it out
    counter: Iterator[int] = field(default_factory=itertools.count)
    sent: int = 0

    # -- path values: B's real ids, chosen by parameter name and type --

    def _table_for(self, name: str) -> str | None:
        if name in INT_TABLES:
            return INT_TABLES[name]
        base = name.removesuffix("_id")
        for table in (base + "s", base + "es", base.removesuffix("y") + "ies", base):
            if table in self.b_ids:
                return table
        return None

    def _uuid_tables(self, name: str) -> tuple[str, ...]:
        """The tables whose UUIDs a path parameter names: by UUID_TABLES, else every table with UUID ids."""
        return UUID_TABLES.get(name) or tuple(
            t for t, ids in self.b_ids.items() if ids and isinstance(ids[0], UUID))

    def _pool(self, name: str, type_name: str) -> tuple[list, set]:
        """(B's values, A's values) for one path parameter."""
        if type_name == "int":
            table = self._table_for(name)
            if table:
                return self.b_ids[table], self.a_ids[table]
            return (sorted({i for ids in self.b_ids.values() for i in ids if isinstance(i, int)}),
                    {i for ids in self.a_ids.values() for i in ids})
        if type_name == "UUID":
            tables = self._uuid_tables(name)
            return [i for t in tables for i in self.b_ids[t]], {i for t in tables for i in self.a_ids.get(t, ())}
        if type_name == "str":
            if name == "table":
                return sorted({t for t, _ in self.b_audit}), {t for t, _ in self.a_audit}
            if name.endswith("id"):
                return sorted({r for _, r in self.b_audit}, key=int), {r for _, r in self.a_audit}
            if name == "period":  # a month (month close): A's open month, which its checks refuse to close
                return ["2024-02"], {"2024-02"}
            if name == "ref":  # a legal document's card (`/legal/documents/{ref}`: «12», «12.xml», «12.pdf»)
                return ([str(i) for i in self.b_ids["legal_documents"]],
                        {str(i) for i in self.a_ids["legal_documents"]})
            return sorted(self.b_ids), set(self.a_ids)
        raise AssertionError(f"no B values for a path parameter of type {type_name}: extend World._pool")

    def path_values(self, case: RouteCase) -> list[dict[str, Any]]:
        """Assignments of B's ids to the path parameters: ids only B has first, then ids both have."""
        if not case.params:
            return [{}]
        names = {n for n, _ in case.params}
        if names == {"table", "row_id"}:  # an object's history: real (table, row) pairs of B's audit log
            pairs = sorted(set(self.b_audit), key=lambda p: (p[0], int(p[1])))
            only_b = [p for p in pairs if p not in self.a_audit]
            both = [p for p in pairs if p in self.a_audit]
            return [{"table": t, "row_id": r} for t, r in _spread(only_b, 7) + _spread(both, 3)]
        pools = []
        for name, type_name in case.params:
            b_values, a_values = self._pool(name, type_name)
            assert b_values, f"tenant B has no values for {name}"
            pools.append(_spread([v for v in b_values if v not in a_values], 6)
                         + _spread([v for v in b_values if v in a_values], 4))
        names_in_order = [n for n, _ in case.params]
        return [dict(zip(names_in_order, combo, strict=True)) for combo in itertools.islice(itertools.product(*pools), 12)]

    async def only_in_b(self, case: RouteCase, values: dict[str, Any]) -> bool:
        """True when the path names a row that exists in B but (right now) not in A."""
        async with tenant_transaction(self.core.engines, self.a.tenant) as conn:
            if {"table", "row_id"} <= values.keys():
                return not (await conn.execute(text(
                    "SELECT EXISTS (SELECT 1 FROM audit_log WHERE table_name = :t AND row_id = :r)"),
                    {"t": values["table"], "r": str(values["row_id"])})).scalar_one()
            for name, type_name in case.params:
                if type_name == "int":
                    table = self._table_for(name)
                    tables = [table] if table else [t for t, ids in self.b_ids.items() if ids and isinstance(ids[0], int)]
                elif type_name == "UUID":
                    tables = list(self._uuid_tables(name))
                else:
                    continue
                found = False
                for t in tables:
                    found = found or (await conn.execute(text(
                        f'SELECT EXISTS (SELECT 1 FROM "{t}" WHERE id = :v)'), {"v": values[name]})).scalar_one()
                if not found:
                    return True
        return False

    # -- bodies --

    def bodies(self, case: RouteCase, values: dict[str, Any]) -> list[tuple[str, Any] | None]:
        if case.method in ("GET", "HEAD", "OPTIONS", "DELETE"):
            return [None]
        n = next(self.counter)
        b_user = self.b_ids["users"][-1]
        b_service, b_account = self.b_ids["services"][-1], self.b_ids["accounts"][-1]
        b_division = self.b_ids["divisions"][-1]
        b_point, b_cash_service = self.b_ids["cash_points"][-1], self.b_ids["cash_services"][-1]
        a_login = {"tenant": self.a.tenant.slug, "login": "admin", "password": ADMIN_PASSWORD}
        known: dict[tuple[str, str], list[tuple[str, Any] | None]] = {
            ("POST", "/api/users"): [("json", {
                "login": f"a-made-{n}", "password": "made-password-1", "full_name": "Создан из A",
                "email": f"made{n}@alpha.example", "roles": ["viewer"]})],
            ("PATCH", "/api/users/{user_id:int}"): [("json", {"full_name": f"Правка из A {n}"}),
                                                    ("json", {"email": f"patched{n}@alpha.example"})],
            ("POST", "/api/roles"): [("json", {"code": f"a_role_{n}", "name": "Роль из A",
                                               "permissions": ["accounts:view"]})],
            # (only the name: A's own roles share B's ids, and A's admin must keep its permissions)
            ("PATCH", "/api/roles/{role_id:int}"): [("json", {"name": f"Правка роли из A {n}"})],
            ("POST", "/api/jobs"): [("json", {"kind": "audit.summary", "params": {
                "date_from": "2020-01-01", "tenant_id": self.b.tenant.id, "user_id": b_user}})],
            ("POST", "/api/auth/login"): [("json", a_login), ("json", {
                "tenant": self.b.tenant.slug, "login": "ghost-user", "password": "ghost-password"})],
            ("POST", "/api/auth/logout"): [None],
            ("POST", "/api/platform/login"): [("json", {"login": "ghost-admin", "password": "ghost-password"})],
            ("POST", "/api/platform/tenants"): [("json", {
                "slug": self.b.tenant.slug, "name": "Перехват", "admin_password": "takeover-password"})],
            # (B's slug is never sent in a form: the login page echoes the tenant field back)
            ("POST", "/login"): [("form", {**a_login, "next": "/"})],
            ("POST", "/logout"): [("form", {})],
            # billing: dates in A's open periods; ids in bodies are B's (they must not reach B's rows)
            ("POST", "/api/services"): [("json", {"code": f"a_service_{n}", "name": "Услуга из A", "kind": "other"})],
            ("PATCH", "/api/services/{service_id:int}"): [("json", {"name": f"Правка услуги из A {n}"})],
            ("POST", "/api/tariffs"): [("json", {"service_id": b_service, "price": "41.5", "valid_from": "2025-06-01"})],
            ("POST", "/api/norms"): [("json", {"service_id": b_service, "improvement": "full", "volume": "4.5",
                                               "valid_from": "2025-06-01"})],
            ("POST", "/api/coefficients"): [("json", {"service_kind": "cold_water", "value": "2",
                                                      "valid_from": "2025-06-01", "basis": "из A"})],
            # the reference page's forms (reference_pages.py): B's service id, A's open dates
            ("POST", "/billing/reference/tariffs"): [("form", {"service_id": str(b_service), "price": "41,5",
                                                               "valid_from": "2025-06-01", "basis": "из A"})],
            ("POST", "/billing/reference/norms"): [("form", {"service_id": str(b_service), "improvement": "full",
                                                             "volume": "4,5", "valid_from": "2025-06-01"})],
            ("POST", "/billing/reference/coefficients"): [("form", {"service_kind": "cold_water", "value": "2",
                                                                    "valid_from": "2025-06-01", "basis": "из A"})],
            ("POST", "/api/parameter-kinds"): [("json", {"code": f"a_kind_{n}", "name": "Параметр из A",
                                                         "value_type": "number"})],
            ("POST", "/api/accounts/{account_id:int}/parameters"): [("json", {
                "kind": "residents", "value": 2, "valid_from": "2025-06-01"})],
            ("POST", "/api/accounts/{account_id:int}/residents"): [("json", {
                "full_name": "Жилец из A", "registered_from": "2025-06-01"})],
            ("PATCH", "/api/residents/{resident_id:int}"): [("json", {"registered_to": "2025-12-31"})],
            ("POST", "/api/accounts/{account_id:int}/absences"): [("json", {
                "date_from": "2025-06-01", "date_to": "2025-06-10", "reason": "из A"})],
            ("POST", "/api/meters"): [
                ("json", {"service_id": b_service, "serial": f"A-{n}", "account_id": b_account,
                          "installed_on": "2025-06-01"}),
                ("json", {"service_id": b_service, "serial": f"A-house-{n}", "house_id": self.b_ids["houses"][-1],
                          "installed_on": "2025-06-01"})],
            ("PATCH", "/api/meters/{meter_id:int}"): [("json", {"verified_until": "2031-01-01"}),
                                                      ("json", {"seal_number": f"A-{n}", "sealed_on": "2025-06-01"})],
            ("POST", "/api/meters/{meter_id:int}/replace"): [("json", {
                "removed_on": "2025-06-01", "final_reading": "50", "serial": f"A-new-{n}"})],
            ("POST", "/api/meters/{meter_id:int}/failure"): [("json", {"failed_on": "2025-06-01"})],
            ("POST", "/api/meters/{meter_id:int}/readings"): [("json", {"read_on": "2025-06-01", "value": "45"})],
            ("POST", "/api/readings/{reading_id:int}/confirm"): [None],
            ("POST", "/accounts/{account_id:int}/readings"): [("form", {
                "meter_id": str(self.b_ids["meters"][-1]), "read_on": "2025-06-01", "value": "45"})],
            ("POST", "/accounts/{account_id:int}/parameters"): [("form", {
                "kind": "residents", "value": "2", "valid_from": "2025-06-01"})],
            # the billing runs page: A's open period 2024-02; B's house id; an account number A has too (B's
            # own numbers are marked, and the form echoes the number back)
            ("POST", "/billing/runs"): [
                ("form", {"period": "2024-02", "scope": "house", "house_id": str(self.b_ids["houses"][-1])}),
                ("form", {"period": "2024-02", "scope": "account", "account_number": "00100001"}),
                ("form", {"period": "2024-02", "scope": "tenant"})],
            # adjustments: into A's open period 2024-02; B's account, house, charge, document
            ("POST", "/api/billing/one-off-charges"): [
                ("json", {"period": "2024-02", "service_id": b_service, "basis": "account", "account_id": b_account,
                          "total": "100.00", "note": "из A"}),
                ("json", {"period": "2024-02", "service_id": b_service, "basis": "area",
                          "house_id": self.b_ids["houses"][-1], "total": "100.00", "dry_run": True})],
            ("POST", "/api/billing/storno"): [
                ("json", {"charge_id": self.b_ids["charges"][-1]}),
                ("json", {"account_id": b_account, "period": "2024-01"}),
                ("json", {"one_off_id": self.b_ids["one_off_charges"][-1]})],
            ("POST", "/api/billing/installments"): [("json", {
                "account_id": b_account, "number": f"A-{n}", "signed_on": "2024-02-10", "debt": "900.00",
                "months": 3, "first_period": "2024-03", "service_id": b_service})],
            ("POST", "/api/billing/installments/{installment_agreement_id:int}/cancel"): [
                None, ("json", {"cancelled_on": "2024-02-20", "note": "из A"})],
            # allocation: B's account (must be 404), and A's whole tenant (a job)
            ("POST", "/api/payments/allocate"): [("json", {"account_id": b_account}), ("json", {})],
            # payments in: A's open period 2024-02; B's account, service and agent code in bodies; a receipt QR
            # naming an account number A has too (B's own numbers are marked and would be echoed back)
            ("POST", "/api/payment-agents"): [("json", {
                "code": f"a_agent_{n}", "name": "Агент из A", "file_format": "sberbank",
                "file_layout": {"separator": "|"}})],
            ("PATCH", "/api/payment-agents/{payment_agent_id:int}"): [
                ("json", {"name": f"Правка агента из A {n}"}),
                ("json", {"file_layout": {"columns": ["date", "operation_id", "account", "amount"]}})],
            # (the file is the raw body; a JSON body without ?agent= is refused as invalid, 422)
            ("POST", "/api/payment-files"): [("json", {"agent": "sberbank", "account_id": b_account})],
            ("POST", "/api/payment-files/{payment_file_id:int}/rollback"): [None, ("json", {"note": "из A"})],
            ("POST", "/api/payments"): [
                ("json", {"account_id": b_account, "amount": "100.00", "paid_on": "2024-02-10"}),
                ("json", {"account_id": b_account, "amount": "5.00", "paid_on": "2024-02-10", "agent": "cash",
                          "service_id": b_service, "period": "2024-02", "note": "из A"}),
                ("json", {"qr": RECEIPT_QR_A, "paid_on": "2024-02-10"})],
            ("POST", "/api/payments/{payment_id:int}/storno"): [None, ("json", {"note": "из A"})],
            ("POST", "/api/payments/{payment_id:int}/transfer"): [("json", {"account_id": b_account})],
            ("POST", "/api/payments/{payment_id:int}/identify"): [("json", {"account_id": b_account})],
            # payments pages: forms echo their values, so account numbers A has too (B's own are marked)
            ("POST", "/payments"): [
                ("form", {"account_number": "00100001", "amount": "100,00", "paid_on": "2024-02-10", "agent": "cash"}),
                ("form", {"qr": RECEIPT_QR_A, "paid_on": "2024-02-10"})],
            ("POST", "/payments/{payment_id:int}/storno"): [("form", {"note": "из A"})],
            ("POST", "/payments/{payment_id:int}/transfer"): [("form", {"account_number": "00100001"})],
            ("POST", "/payments/{payment_id:int}/identify"): [("form", {"account_number": "00100001"})],
            # (a form without the file is refused on the page; the agent is A's and B's code alike)
            ("POST", "/payments/files"): [("form", {"agent": "sberbank"})],
            ("POST", "/payments/files/{payment_file_id:int}/rollback"): [("form", {})],
            # telephony: B's account; A's connection stays disabled (nothing may connect anywhere)
            ("POST", "/api/calls/originate"): [("json", {"extension": "101", "account_id": b_account}),
                                                ("json", {"extension": "101", "number": "89161234567"})],
            ("POST", "/api/calls/{call_id:int}/callback"): [("json", {"extension": "101"})],
            ("PUT", "/api/receipts/requisites"): [("json", {
                "name": "МУП «Водоканал А»", "personal_acc": "40702810900000000001", "bank_name": "Банк",
                "bic": "044525225", "corresp_acc": "30101810400000000225", "inn": "7707083893"})],
            ("POST", "/billing/requisites"): [("form", {
                "name": "МУП «Водоканал А»", "personal_acc": "40702810900000000001", "bank_name": "Банк",
                "bic": "044525225"})],
            ("PUT", "/api/telephony/connection"): [("json", {
                "host": "127.0.0.1", "port": 9, "username": f"a-ami-{n}", "secret": "a-secret", "enabled": False})],
            # requests and works: B's user, division, house, account and appeal ids in bodies
            ("POST", "/api/executors"): [("json", {"user_id": b_user, "division_id": self.b_ids["divisions"][-1],
                                                   "cap": 3, "house_ids": [self.b_ids["houses"][-1]]})],
            ("PATCH", "/api/executors/{executor_id:int}"): [("json", {"cap": 4}), ("json", {"house_ids": [1]})],
            ("POST", "/api/request-routes"): [("json", {"code": f"a-route-{n}", "name": "Маршрут из A", "kind": "planned",
                                                        "phases": [{"name": "Этап", "time_limit_minutes": 600}]})],
            ("PATCH", "/api/request-routes/{request_route_id:int}"): [("json", {"name": f"Правка из A {n}"})],
            ("POST", "/api/request-routes/{request_route_id:int}/phases"): [("json", {
                "name": "Этап из A", "time_limit_minutes": 600, "division_id": self.b_ids["divisions"][-1],
                "executor_user_id": b_user, "required_documents": ["Акт"]})],
            ("PATCH", "/api/route-phases/{route_phase_id:int}"): [("json", {"time_limit_minutes": 900})],
            ("POST", "/api/requests"): [
                ("json", {"kind": "emergency", "account_id": b_account, "description": "Из A", "appeal_id": 1}),
                ("json", {"kind": "planned", "house_id": self.b_ids["houses"][-1], "description": "Из A",
                          "route_id": self.b_ids["request_routes"][-1]})],
            ("POST", "/api/requests/{request_id:int}/accept"): [None],
            ("POST", "/api/requests/{request_id:int}/assign"): [("json", {"user_id": b_user})],
            ("POST", "/api/requests/{request_id:int}/advance"): [None],
            ("POST", "/api/requests/{request_id:int}/close"): [None, ("json", {"note": "из A"})],
            ("POST", "/api/requests/{request_id:int}/cancel"): [("json", {"note": "из A"})],
            ("POST", "/api/requests/{request_id:int}/documents"): [("json", {"name": "Фото", "content_base64": "QQ=="})],
            ("POST", "/api/requests/{request_id:int}/works"): [("json", {
                "description": "Из A", "labour_cost": "100.00", "materials": [{"name": "Кран", "quantity": 1,
                                                                              "price": "50.00"}]})],
            ("POST", "/api/requests/{request_id:int}/act"): [None, ("json", {"account_id": b_account,
                                                                              "period": "2024-02"})],
            # requests pages (B's account number is A's too; B's appeal and user ids) and the working calendar
            ("POST", "/requests"): [
                ("form", {"kind": "planned", "account_number": "00100001", "description": f"Из A {n}"}),
                ("form", {"kind": "emergency", "appeal_id": str(self.b_ids["appeals"][-1]), "description": ""})],
            ("POST", "/requests/{request_id:int}"): [("form", {"action": "assign", "user_id": str(b_user)}),
                                                      ("form", {"action": "work", "description": "из A",
                                                                "labour_cost": "10"}),
                                                      ("form", {"action": "cancel", "note": "из A"})],
            ("POST", "/api/working-calendar"): [("json", {
                "day": f"2032-{1 + n % 12:02d}-{1 + n // 12 % 28:02d}", "kind": "holiday", "note": "из A"})],
            ("POST", "/requests/calendar"): [("form", {
                "day": f"2033-{1 + n % 12:02d}-{1 + n // 12 % 28:02d}", "kind": "holiday", "note": "из A"})],
            ("POST", "/requests/calendar/{working_calendar_id:int}/delete"): [("form", {})],
            ("POST", "/appeals/mailboxes"): [("form", {"name": f"Ящик A {n}", "host": "127.0.0.1", "port": "9",
                                                       "username": "a", "password": "a-pass", "enabled": ""})],
            ("POST", "/appeals/mailboxes/{mailbox_id:int}"): [
                ("form", {"action": "disable"}),
                ("form", {"action": "save", "name": f"Правка ящика A {n}", "host": "127.0.0.1", "port": "9",
                          "username": "a", "password": "a-new-pass"})],
            # month close: A's open month 2024-02 (A's checks block its close: unbilled accounts); B's division ids
            ("POST", "/api/month-close/{period:str}/checks"): [("json", {}), ("json", {"division_id": b_division})],
            ("POST", "/api/month-close/{period:str}/close"): [
                ("json", {"accept_warnings": True}), ("json", {"division_id": b_division, "accept_warnings": True})],
            ("POST", "/api/month-close/{period:str}/reopen"): [("json", {"reason": "из A", "division_id": b_division})],
            ("PUT", "/api/month-close/checks"): [("json", {"checks": [
                {"code": "old_unidentified_payments", "parameter": 7}, {"code": "unfinished_runs", "blocking": True}]})],
            # divisions (divisions_api.py): B's houses, user (head) and division (parent) in bodies
            ("POST", "/api/divisions"): [("json", {"code": f"a-mc-div-{n}", "name": "Участок из A"}),
                                         ("json", {"code": f"a-mc-div-b{n}", "name": "Участок из A",
                                                   "house_ids": [self.b_ids["houses"][-1]]}),
                                         ("json", {"code": f"a-div-{n}", "name": "Участок из A",
                                                   "head_user_id": b_user, "parent_id": b_division})],
            ("PATCH", "/api/divisions/{division_id:int}"): [("json", {"name": f"Правка участка из A {n}"}),
                                                            ("json", {"head_user_id": b_user, "parent_id": b_division})],
            ("POST", "/billing/close"): [
                ("form", {"period": "2024-02", "division_id": str(b_division), "action": "check"}),
                ("form", {"period": "2024-02", "action": "close", "accept_warnings": "1"})],
            # appeals: B's account, house, street, user and call ids in bodies; A's mailboxes point nowhere
            ("POST", "/api/appeals"): [
                ("json", {"kind": "complaint", "source": "phone", "subject": f"Из A {n}", "text": "из A"}),
                ("json", {"kind": "complaint", "account_id": b_account, "subject": "из A"}),
                ("json", {"house_id": self.b_ids["houses"][-1], "operator_id": b_user, "subject": "из A"})],
            ("PATCH", "/api/appeals/{appeal_id:int}"): [("json", {"result": f"Из A {n}", "status": "in_work"}),
                                                        ("json", {"operator_id": b_user}),
                                                        ("json", {"account_id": b_account})],
            ("POST", "/api/appeals/from-call"): [("json", {"call_id": self.b_ids["calls"][-1], "subject": "из A"}),
                                                 ("json", {"call_id": 1, "account_id": b_account})],
            ("POST", "/api/mailboxes"): [("json", {"name": f"Ящик A {n}", "host": "127.0.0.1", "port": 9,
                                                   "use_ssl": False, "username": "a", "password": "a-pass",
                                                   "enabled": False})],
            ("PATCH", "/api/mailboxes/{mailbox_id:int}"): [("json", {"name": f"Правка ящика A {n}"}),
                                                           ("json", {"password": "a-new-pass", "port": 9})],
            ("POST", "/api/mailboxes/{mailbox_id:int}/poll"): [None],
            ("POST", "/api/telephonograms"): [
                ("json", {"from_org": "Из A", "text": "из A", "valid_from": "2024-02-01T00:00:00+03:00",
                          "house_ids": [self.b_ids["houses"][-1]]}),
                ("json", {"from_org": "Из A", "text": "из A", "valid_from": "2024-02-01T00:00:00+03:00",
                          "street_ids": [self.b_ids["streets"][-1]]})],
            ("POST", "/appeals"): [("form", {"kind": "complaint", "source": "visit", "account_number": "00100001",
                                             "subject": f"Из A {n}"})],
            ("POST", "/appeals/{appeal_id:int}"): [("form", {"status": "in_work", "result": "из A", "take": "1"})],
            ("POST", "/telephonograms"): [("form", {"from_org": "Из A", "text": "из A", "valid_from": "2024-02-01T08:00",
                                                    "house_ids": str(self.b_ids["houses"][-1])})],
            # penalties: a run of A's open period 2024-02 (a job); B's penalty row, account and house in bodies
            ("POST", "/api/penalties/runs"): [("json", {"period": "2024-02"})],
            ("POST", "/api/penalties/storno"): [
                ("json", {"penalty_id": self.b_ids["penalty_charges"][-1], "reason": "из A"}),
                ("json", {"account_id": b_account, "reason": "из A"}),
                ("json", {"account_id": b_account, "period": "2024-01", "reason": "из A"})],
            ("POST", "/api/key-rates"): [("json", {"valid_from": f"2031-{1 + n % 12:02d}-{1 + n // 12 % 28:02d}",
                                                   "rate": "12.5", "source": "из A"})],
            ("POST", "/api/penalty-deferrals"): [
                ("json", {"scope": "houses", "house_ids": [self.b_ids["houses"][-1]], "date_from": "2024-02-01",
                          "date_to": "2024-02-10", "reason": "из A"}),
                ("json", {"scope": "all", "date_from": "2024-02-01", "date_to": "2024-02-10", "reason": "из A"})],
            ("PUT", "/api/console/presence"): [("json", {"status": "busy"}), ("json", {"status": "away"})],
            ("POST", "/api/console/demo-call"): [("json", {"answer": True})],
            ("POST", "/api/accounts/{account_id:int}/subscriber-links/{subscriber_link_id:int}/revoke"): [
                ("json", {"reason": "из A"}), ("json", {})],
            ("POST", "/accounts/{account_id:int}/subscriber-links/{subscriber_link_id:int}/revoke"): [
                ("form", {"reason": "из A"})],
            # receipts by e-mail: A's open month (nothing of A's issued: a refusal naming nothing of B's)
            ("POST", "/api/receipts/delivery"): [("json", {"period": "2024-02"})],
            ("POST", "/receipts/delivery"): [("form", {"period": "2024-02"})],
            # printing: B's house and street in A's filter (refused: no such house in A, or A's own receipts)
            ("POST", "/api/receipts/print"): [("json", {"period": "2024-02", "filter": {
                "house_id": self.b_ids["houses"][-1]}, "bundle": 10}), ("json", {
                "period": "2024-02", "filter": {"street_id": self.b_ids["streets"][-1]}})],
            ("POST", "/receipts/print"): [("form", {"period": "2024-02", "scope": "house",
                                                    "house_id": str(self.b_ids["houses"][-1])})],
            # cash points and agents: A's own (the ids are B's too); B's point in A's bodies
            ("POST", "/api/cash/points"): [("json", {"name": f"Касса A {n}", "address": "из A", "vat": "22"})],
            ("PATCH", "/api/cash/points/{cash_point_id:int}"): [("json", {"place": f"Окно A {n}"})],
            ("POST", "/api/cash/points/{cash_point_id:int}/agents"): [("json", {"name": f"Агент A {n}"})],
            ("PATCH", "/api/cash/agents/{edge_agent_id:int}"): [("json", {"name": f"Агент A {n}"})],
            # the cash desk: B's point, account, receipt and third party's service; a fresh key each time (the
            # same key again would be the same sale)
            ("POST", "/api/cash/sales"): [
                ("json", {"key": str(uuid4()), "point_id": b_point, "account_id": b_account, "amount": "100.00",
                          "given": "100.00"}),
                ("json", {"key": str(uuid4()), "point_id": b_point, "account_id": b_account, "tender": "card",
                          "lines": ["2024-01:1", "penalty"]})],
            ("POST", "/api/cash/service-sales"): [("json", {
                "key": str(uuid4()), "point_id": b_point, "service_id": b_cash_service, "amount": "100.00",
                "given": "200.00", "details": "из A", "account_id": b_account})],
            ("POST", "/api/cash/receipts/{cash_receipt_id:int}/refund"): [("json", {"key": str(uuid4()),
                                                                                     "point_id": b_point})],
            ("POST", "/api/cash/duplicate"): [("json", {"point_id": b_point})],
            ("POST", "/api/cash/shifts"): [("json", {"point_id": b_point})],
            ("POST", "/api/cash/orders"): [
                ("json", {"kind": "in", "point_id": b_point, "day": "2024-02-10", "amount": "100.00",
                          "basis": "Внесение размена", "person": "из A"}),
                ("json", {"kind": "out", "point_id": b_point, "day": "2024-02-10", "amount": "9999999.00",
                          "basis": "Сдача выручки в банк"})],
            ("POST", "/api/cash/services"): [("json", {
                "code": f"a-svc-{n}", "name": "Услуга из A", "supplier_name": "ООО «Из A»",
                "supplier_inn": "7707083893", "commission_percent": "1.5", "commission_min": "5"})],
            ("PUT", "/api/cash/services/{cash_service_id:int}"): [("json", {
                "code": f"a-svc-put-{n}", "name": "Правка услуги из A", "supplier_name": "ООО «Из A»",
                "supplier_inn": "7707083893"})],
            ("POST", "/cash/shift"): [("form", {"point_id": str(b_point), "action": "x"})],
            ("POST", "/cash/sale"): [("form", {"key": str(uuid4()), "point_id": str(b_point),
                                               "account_id": str(b_account), "pay": "amount", "amount": "100.00",
                                               "tender": "cash", "given": "100.00"})],
            ("POST", "/cash/service-sale"): [("form", {"key": str(uuid4()), "point_id": str(b_point),
                                                       "service_id": str(b_cash_service), "amount": "100.00",
                                                       "tender": "card", "details": "из A"})],
            ("POST", "/cash/receipts/{cash_receipt_id:int}"): [("form", {"action": "retry"}), ("form", {
                "action": "refund", "key": str(uuid4())})],
            ("POST", "/cash/book/orders"): [("form", {"point_id": str(b_point), "day": "2024-02-10", "kind": "out",
                                                      "amount": "9999999.00", "basis": "Инкассация"})],
            ("POST", "/cash/services"): [("form", {"code": f"a-svc-form-{n}", "name": "Услуга из A",
                                                   "supplier_name": "ООО «Из A»", "supplier_inn": "7707083893"})],
            # cloud fiscalization: A's settings, never a password (so no connection is ever tried), B's requests
            ("PUT", "/api/cloud-fiscal/settings"): [("json", {
                "api_url": "https://online.atol.ru/possystem/v5", "login": f"a-login-{n}", "group_code": "group_a",
                "inn": "7707083893", "email": "kassa@alpha.example", "payment_address": "https://alpha.example/pay",
                "sno": "osn", "enabled": False})],
            ("POST", "/api/cloud-fiscal/test"): [("json", {})],
            ("POST", "/api/cloud-fiscal/requests/{request_id:uuid}/retry"): [None],
            ("POST", "/acquiring/cloud-fiscal"): [("form", {"action": "save", "api_url": "https://online.atol.ru/possystem/v5",
                                                            "login": f"a-login-{n}", "sno": "osn"})],
            ("POST", "/acquiring/cloud-fiscal/requests/{request_id:uuid}/retry"): [None],
            ("POST", "/api/legal/meters/{meter_id:int}/readings"): [("json", {"read_on": "2024-02-20", "value": "130"})],
            ("POST", "/api/legal/payments/{payment_id:int}/assign"): [("json", {"contract_id": 1, "note": "из A"})],
        }
        # an unknown route still gets a body (it may well be rejected as invalid: 400 is allowed for it)
        fallback = [("json", {"id": b_user, "user_id": b_user, "tenant_id": self.b.tenant.id,
                              "account_id": self.b_ids["accounts"][-1]})]
        assert known.keys() == KNOWN_BODIES
        return known.get((case.method, case.path), fallback)

    def has_known_body(self, case: RouteCase) -> bool:
        return case.method in ("GET", "HEAD", "OPTIONS", "DELETE") or (case.method, case.path) in KNOWN_BODIES

    # -- sending and checking --

    async def send(self, method: str, url: str, token: str | None, *, auth: str = "bearer",
                   headers: dict[str, str] | None = None, body: tuple[str, Any] | None = None):
        self.client.cookies.clear()  # the session client is shared: no cookie may ride along
        h = dict(headers or {})
        if token is not None and auth == "bearer":
            h["Authorization"] = f"Bearer {token}"
        elif token is not None and auth == "cookie":
            h["Cookie"] = f"{SESSION_COOKIE}={token}"
        kw: dict[str, Any] = {}
        if body is not None:
            kw["json" if body[0] == "json" else "data"] = body[1]
        r = await self.client.request(method, url, headers=h, follow_redirects=False, **kw)
        self.client.cookies.clear()
        self.sent += 1
        return r

    def assert_no_leak(self, r, where: str) -> None:
        blob = (r.text + "\n" + "\n".join(f"{k}: {v}" for k, v in r.headers.items())).lower()
        for secret in self.forbidden:
            assert secret.lower() not in blob, f"{where}: the response reveals {secret!r}:\n{r.text[:2000]}"

    def variant(self, name: str, url: str) -> tuple[str, str, dict[str, str]]:
        """(auth kind, url, headers) of a request variant."""
        auth = name.split("+", 1)[0]
        b = self.b.tenant
        headers: dict[str, str] = {}
        if name.endswith("+tenant-headers"):
            headers = {"X-Tenant": b.slug, "X-Tenant-Id": str(b.id), "X-Tenant-Slug": b.slug,
                       "X-Schema": b.schema_name, "X-Forwarded-Host": f"{b.slug}.localhost",
                       "X-Original-Host": f"{b.slug}.localhost", "Forwarded": f"host={b.slug}.localhost"}
        elif name.endswith("+tenant-query"):
            sep = "&" if "?" in url else "?"
            url += (f"{sep}tenant={b.slug}&tenant_id={b.id}&schema={b.schema_name}&limit=500"
                    f"&user_id={self.b_ids['users'][-1]}")
        elif name.endswith("+host-A"):
            headers = {"Host": f"{self.a.tenant.slug}.localhost"}
        elif name.endswith("+host-B"):
            headers = {"Host": f"{b.slug}.localhost"}
        elif name.endswith("+host-B-odd"):  # the same host, spelled differently
            headers = {"Host": f"{b.slug.upper()}.LocalHost.:8443"}
        return auth, url, headers


def assert_rejected(r, case: RouteCase, where: str) -> None:
    """Not authenticated: a JSON 401 for the API, a redirect to the login page for pages (the portal's own
    login page for portal pages)."""
    if case.api or case.path.startswith("/health"):
        assert r.status_code == 401, f"{where}: expected 401, got {r.status_code}: {r.text[:500]}"
        assert r.json()["error"]["code"] == "not_authenticated", where
    else:
        login = "/my/login" if case.in_portal else "/login"
        assert r.status_code == 302, f"{where}: expected a redirect (302) to {login}: {r.text[:300]}"
        assert r.headers["location"].startswith(login), where


async def _ids(conn, table: str) -> list:
    return [r[0] for r in await conn.execute(text(f'SELECT id FROM "{table}" ORDER BY id'))]


async def _tables_with_id(conn) -> list[str]:
    rows = await conn.execute(text(
        "SELECT c.table_name FROM information_schema.columns c JOIN information_schema.tables t "
        "ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE' "
        "WHERE c.table_schema = current_schema() AND c.column_name = 'id' ORDER BY 1"))
    return [r[0] for r in rows]


async def mark_every_text_field(conn, marker: str) -> set[tuple[str, str]]:
    """Put `marker` into every text, varchar and jsonb value of every table of the current tenant schema
    (NULLs too), the audit log last so that it also holds marked copies; returns the columns that refused."""
    cols = (await conn.execute(text(
        "SELECT c.table_name, c.column_name, c.data_type, c.character_maximum_length "
        "FROM information_schema.columns c JOIN information_schema.tables t "
        "ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE' "
        "WHERE c.table_schema = current_schema() AND c.data_type IN ('text', 'character varying', 'jsonb') "
        "ORDER BY c.table_name = 'audit_log', c.table_name, c.ordinal_position"))).all()
    refused = set()
    for table, column, data_type, max_len in cols:
        if (table, column) in UNMARKED:
            continue
        col = f'"{column}"'
        if data_type == "jsonb":
            value = f"coalesce({col}, '{{}}'::jsonb) || jsonb_build_object('marker', '{marker}', 'note', '{marker}')"
        elif max_len:
            value = f"concat_ws(' ', left({col}, {max_len - len(marker) - 1}), '{marker}')"
        else:
            value = f"concat_ws(' ', {col}, '{marker}')"
        try:
            async with conn.begin_nested():
                await conn.execute(text(f'UPDATE "{table}" SET {col} = {value}'))
        except DBAPIError:
            refused.add((table, column))
    return refused


def seeder(accounts: int, rng_seed: int, users: int, jobs: int, first_id: int = 0):
    """seed_registry's town plus staff users and jobs; `first_id` moves the victim's own staff and roles
    to ids beyond any the other tenant reaches while the tests create some."""
    clerk_hash = hash_password("clerk-password")

    async def seed(conn, _tenant):
        await seed_registry(conn, accounts_count=accounts, seed=rng_seed)
        await seed_billing(conn)
        await seed_payments(conn)
        await seed_telephony(conn)
        await seed_appeals(conn)
        if first_id:
            for table in ("users", "roles"):
                await conn.execute(text(f"ALTER TABLE {table} ALTER COLUMN id RESTART WITH {first_id}"))
            for code, name in (("cashier_b", "Кассир Б"), ("inspector", "Контролёр")):
                role = (await conn.execute(text("INSERT INTO roles(code, name) VALUES (:c, :n) RETURNING id"),
                                           {"c": code, "n": name})).scalar_one()
                await conn.execute(text("INSERT INTO role_permissions(role_id, resource, action) "
                                        "VALUES (:r, 'accounts', 'view')"), {"r": role})
        for i in range(1, users + 1):
            await users_repo.create_user(conn, login=f"clerk{i}", full_name=f"Сотрудник {i}",
                                         email=f"clerk{i}@example.ru", password_hash=clerk_hash,
                                         role_codes=["operator"] if i % 2 else ["viewer"])
        await seed_requests(conn)
        await seed_subscribers(conn)
        for _ in range(jobs):  # in the registry only: never enqueued, so no worker touches them
            await store.create(conn, "audit.summary", "Сводка журнала изменений", {"date_from": "2024-01-01"}, 1)
        # created "tomorrow": the jobs sweeper (an arq cron of the session's worker) re-enqueues jobs queued for
        # 5 minutes, and this module runs longer than that — the worker would then fail them and change the rows
        await conn.execute(text("UPDATE jobs SET created_at = now() + interval '1 day' WHERE status = 'queued'"))
        await seed_printing(conn)
        await seed_cash(conn)
        await seed_legal(conn)
    return seed


async def seed_printing(conn) -> None:
    """Printing (t0028): every job is a printed batch (a printing's id is its job's: any job id a path takes is a
    batch too) of every account in one bundle."""
    for sql in (
        "INSERT INTO print_batches(id, job_id, period, bundle_by, bundle_size, status, total, done, bundles, csv_file, "
        "csv_sha256, xml_file, xml_sha256) SELECT j.id, j.id, DATE '2024-01-01', 'count', 500, 'done', a.n, a.n, 1, "
        "'receipts-2024-01.csv', repeat('c', 64), 'receipts-2024-01.xml', repeat('d', 64) "
        "FROM jobs j CROSS JOIN (SELECT count(*) AS n FROM accounts) a",
        "INSERT INTO print_bundles(batch_id, no, title, account_ids, count, first_account_id, last_account_id, "
        "file_name, sha256, bytes, done_at) SELECT b.id, 1, 'Пачка', a.ids, cardinality(a.ids), a.ids[1], "
        "a.ids[cardinality(a.ids)], '001-pachka.pdf', repeat('a', 64), 100, now() FROM print_batches b "
        "CROSS JOIN (SELECT array_agg(id ORDER BY id) AS ids FROM accounts) a",
    ):
        await conn.execute(text(sql))


async def seed_cash(conn) -> None:
    """The cash desk (t0030) and cloud fiscalization (t0031): a cash point with an active agent (a used enrollment
    code, commands done and failed), a third party's service, a closed shift whose cash sales (every tenth account,
    each with its payment and the payment's fiscal proof) were printed and an open one (a refund of the first sale,
    a third party's service paid by card, a failed print), the receipts' own commands, cash orders of the days
    around today (the API's default day, in the organisation's time zone); the cloud settings (off) and a done and a
    failed request (every tenth account's registry payment) — none due, so the cloud cron leaves them alone."""
    fn = "'7380440700000001'"  # the register's FN number (tag 1041: 16 digits)
    for sql in (
        "INSERT INTO cash_points(name, address, place) VALUES ('Касса', 'ул. Мира, 1', 'Окно 1')",
        "INSERT INTO edge_agents(cash_point_id, name, status, key_hash, device, version, last_address, last_seen_at, "
        "enrolled_at) SELECT id, 'Агент', 'active', repeat('b', 64), '{\"host\": \"pc\"}', '0.1.0', '10.0.0.1', now(), "
        "now() FROM cash_points",
        "INSERT INTO edge_enrollments(agent_id, code_hash, expires_at, used_at) "
        "SELECT id, repeat('c', 64), now() + interval '1 day', now() FROM edge_agents",
        "INSERT INTO edge_commands(agent_id, key, kind, payload, status, attempts, done_at, result, error) "
        "SELECT id, gen_random_uuid(), k, '{\"p\": \"x\"}', s, 1, now(), '{\"r\": \"x\"}', 'Ошибка' "
        "FROM edge_agents, (VALUES ('status', 'done'), ('x_report', 'failed')) v(k, s)",
        "INSERT INTO cash_services(code, name, supplier_name, supplier_inn, supplier_phone, commission_percent, "
        "commission_min) VALUES ('tko', 'Вывоз ТКО', 'ООО «Экотранс»', '7707083893', '+74951234567', 1.5, 10)",
        "INSERT INTO cash_shifts(cash_point_id, agent_id, cashier_id, cashier_name, status, shift_number, opened_at, "
        "closed_at, opened_doc, closed_doc, error) SELECT cash_point_id, id, (SELECT min(id) FROM users), 'Кассир', "
        "s, n, now() - interval '1 day', CASE WHEN s = 'closed' THEN now() END, "
        "jsonb_build_object('fd_number', 10 * n, 'fiscal_sign', 1000 * n), "
        "CASE WHEN s = 'closed' THEN jsonb_build_object('fd_number', 10 * n + 9, 'fiscal_sign', 1000 * n + 9) END, "
        "CASE WHEN s = 'open' THEN 'Нет бумаги' END FROM edge_agents, (VALUES ('closed', 1), ('open', 2)) v(s, n)",
        "INSERT INTO payments(agent_id, operation_id, source, paid_on, amount, account_id, account_text, payer, "
        "purpose, status, reason) SELECT g.id, 'K-' || a.id, 'cash', DATE '2024-02-13', 300, a.id, a.number, a.holder, "
        "'Оплата в кассе', 'identified', '' FROM accounts a, payment_agents g WHERE g.code = 'cash' AND a.id % 10 = 1",
        "INSERT INTO cash_receipts(key, shift_id, operation, status, account_id, payment_id, lines, total, tender, "
        "given, change, buyer_contact, fn_number, fd_number, fiscal_sign, fiscal_at, created_by) "
        "SELECT gen_random_uuid(), s.id, 'sale', 'done', p.account_id, p.id, jsonb_build_array(jsonb_build_object("
        "'name', 'Холодное водоснабжение, 01.2024, л/с ' || p.account_text, 'price', '300.00', 'quantity', '1', "
        "'amount', '300.00', 'vat', 6, 'subject', 4, 'method', 4, 'measure', 0, 'agent', NULL, 'kind', 'service', "
        f"'month', '2024-01', 'payment_id', p.id)), 300, 'cash', 500, 200, 'b' || p.account_id || '@mail.example', {fn}, "
        "10 + p.account_id, 2000000 + p.account_id, now(), s.cashier_id FROM payments p, cash_shifts s "
        "WHERE p.source = 'cash' AND s.status = 'closed'",
        "INSERT INTO cash_receipts(key, shift_id, operation, status, account_id, refund_of, lines, total, tender, "
        "fn_number, fd_number, fiscal_sign, fiscal_at) SELECT gen_random_uuid(), s.id, 'refund', 'done', r.account_id, "
        "r.id, r.lines, r.total, 'cash', r.fn_number, 21, 3000021, now() FROM cash_receipts r, cash_shifts s "
        "WHERE s.status = 'open' AND r.id = (SELECT min(id) FROM cash_receipts)",
        "INSERT INTO cash_receipts(key, shift_id, operation, status, cash_service_id, lines, total, commission, tender, "
        "card, fn_number, fd_number, fiscal_sign, fiscal_at) SELECT gen_random_uuid(), s.id, 'sale', 'done', c.id, "
        "jsonb_build_array(jsonb_build_object('name', 'Вывоз ТКО, договор 17', 'price', '500.00', 'quantity', '1', "
        "'amount', '500.00', 'vat', 6, 'subject', 10, 'method', 4, 'measure', 0, 'kind', 'agent', 'agent', "
        "jsonb_build_object('sign', 4, 'supplier', jsonb_build_object('name', c.supplier_name, 'inn', c.supplier_inn, "
        "'phones', jsonb_build_array(c.supplier_phone))))), 510, 10, 'card', jsonb_build_object('rrn', '123456789012', "
        f"'auth_code', 'A1B2C3', 'card_mask', '**** 1234', 'terminal_id', 'T0000001'), {fn}, 22, 3000022, now() "
        "FROM cash_shifts s, cash_services c WHERE s.status = 'open'",
        "INSERT INTO cash_receipts(key, shift_id, operation, status, account_id, lines, total, tender, error) "
        "SELECT gen_random_uuid(), s.id, 'sale', 'failed', (SELECT max(id) FROM accounts), '[]', 100, 'card', "
        "'Нет бумаги' FROM cash_shifts s WHERE s.status = 'open'",
        "INSERT INTO edge_commands(agent_id, key, kind, payload, status, attempts, done_at, result, error) "
        "SELECT s.agent_id, r.key, 'receipt', jsonb_build_object('key', r.key), "
        "CASE WHEN r.status = 'failed' THEN 'failed' ELSE 'done' END, 1, now(), '{}', r.error "
        "FROM cash_receipts r JOIN cash_shifts s ON s.id = r.shift_id",
        "UPDATE cash_receipts r SET command_id = c.id FROM edge_commands c WHERE c.key = r.key",
        "INSERT INTO payment_fiscal(payment_id, operation, source, cash_receipt_id, fn_number, fd_number, fiscal_sign, "
        "fiscal_at, amount) SELECT payment_id, operation, 'register', id, fn_number, fd_number, fiscal_sign, fiscal_at, "
        "total FROM cash_receipts WHERE payment_id IS NOT NULL AND status = 'done'",
        "INSERT INTO cash_orders(kind, year, number, ordered_on, amount, person, basis, cash_point_id, shift_id) "
        "SELECT 'in', extract(year FROM current_date + n - 2), n, current_date + n - 2, 1000 + n, 'Кассир', "
        "'Выручка по кассе за смену № 1', cash_point_id, id FROM cash_shifts, generate_series(1, 3) n "
        "WHERE status = 'closed'",
        "INSERT INTO cash_orders(kind, year, number, ordered_on, amount, person, basis, cash_point_id) "
        "SELECT 'out', extract(year FROM current_date), 1, current_date, 500, 'Инкассатор', 'Сдача выручки в банк', id "
        "FROM cash_points",
        "INSERT INTO cloud_fiscal_settings(id, enabled, api_url, login, password, password_changed_at, group_code, inn, "
        "email, payment_address, sno) VALUES (1, false, 'https://online.atol.ru/possystem/v5', 'bravo', 'sealed-secret', "
        "now(), 'group_bravo', '7707083893', 'kassa@bravo.example', 'https://bravo.example/pay', 'osn')",
        "INSERT INTO cloud_fiscal_requests(id, payment_id, operation, status, group_code, provider_uuid, receipt, "
        "amount, error, attempts, fiscal, done_at) SELECT gen_random_uuid(), p.id, 'sale', "
        "CASE WHEN p.account_id % 20 = 2 THEN 'done' ELSE 'fail' END, 'group_bravo', 'prov-' || p.id, "
        "jsonb_build_object('items', jsonb_build_array(jsonb_build_object('name', 'Оплата воды', 'sum', p.amount))), "
        "p.amount, CASE WHEN p.account_id % 20 = 2 THEN '' ELSE 'Неверный ИНН' END, 1, "
        "CASE WHEN p.account_id % 20 = 2 THEN jsonb_build_object('fn_number', '9999078900000002', "
        "'ofd_receipt_url', 'https://ofd.example/r/' || p.id) END, "
        "CASE WHEN p.account_id % 20 = 2 THEN now() END FROM payments p "
        "WHERE p.source = 'registry' AND p.account_id % 10 = 2",
        "INSERT INTO payment_fiscal(payment_id, operation, source, fn_number, fd_number, fiscal_sign, fiscal_at, amount) "
        "SELECT payment_id, operation, 'cloud', '9999078900000002', 100 + payment_id, 4000000 + payment_id, done_at, "
        "amount FROM cloud_fiscal_requests WHERE status = 'done'",
    ):
        await conn.execute(text(sql))


async def seed_legal(conn) -> None:
    """Legal entities (t0032): an organisation (a managing company since 01.04.2024, t0037) and a sole trader, each
    with a main bank account, a contact and a contract whose terms have two versions (the contract and an
    addendum), a site on a house with a metered supply point (a commercial meter with a reading) and an unmetered
    discharge point; the sole trader's supply point is a sub-subscriber of the company's."""
    for sql in (
        "INSERT INTO counterparties(kind, name, short_name, inn, kpp, ogrn, last_name, first_name, middle_name, "
        "legal_address, postal_address, email, phone, edo_id, penalty_category, note) VALUES "
        "('org', 'Общество с ограниченной ответственностью «УК Речная»', 'ООО «УК Речная»', '7707083893', '770701001', "
        "'1027700132195', '', '', '', 'ул. Речная, 1', 'а/я 5', 'uk@river.example', '+74951112233', '2BE0123456789', "
        "'management_company', 'Управляющая компания'), "
        "('ip', 'Индивидуальный предприниматель Петров Пётр Петрович', 'ИП Петров П. П.', '500100732259', '', "
        "'304500116000157', 'Петров', 'Пётр', 'Петрович', 'ул. Мира, 2', '', 'petrov@shop.example', '+79001112233', "
        "'', 'other', 'Магазин')",
        # (t0037) the company became a managing organisation on 01.04.2024
        "INSERT INTO counterparty_category_changes(counterparty_id, effective_from, previous, category, note) "
        "SELECT id, DATE '2024-04-01', 'other', 'management_company', 'Лицензия' FROM counterparties WHERE kind = 'org'",
        "INSERT INTO counterparty_bank_accounts(counterparty_id, bic, account, bank_name, corr_account, main) "
        "SELECT id, '044525225', '40702810900000000001', 'ПАО Сбербанк', '30101810400000000225', true "
        "FROM counterparties",
        "INSERT INTO counterparty_contacts(counterparty_id, person, position, phone, email, note) "
        "SELECT id, 'Иванова Анна', 'Бухгалтер', '+74951112234', 'buh@river.example', 'По будням' FROM counterparties",
        "INSERT INTO contracts(number, signed_on, counterparty_id, kind, status, valid_from, note) "
        "SELECT 'ВК-' || id, DATE '2023-12-20', id, CASE kind WHEN 'org' THEN 'combined' ELSE 'cold_water' END, "
        "'active', DATE '2024-01-01', 'Договор' FROM counterparties",
        "INSERT INTO contract_versions(contract_id, version, valid_from, basis, payment_terms, vat_mode, note) "
        "SELECT id, v, d, b, CAST(t AS jsonb), 'vat', 'Условия' FROM contracts, (VALUES "
        "(1, DATE '2024-01-01', 'Договор', '{\"due_day\": 10, \"intermediate\": [{\"percent\": \"35.00\", \"day\": 18}]}'), "
        "(2, DATE '2024-07-01', 'Доп. соглашение № 1', '{\"due_day\": 10, \"intermediate\": []}')) x(v, d, b, t)",
        "INSERT INTO contract_objects(contract_id, name, address, house_id, note) "
        "SELECT id, 'Объект ' || number, 'ул. Речная, 1', (SELECT min(id) FROM houses), 'Котельная' FROM contracts",
        "INSERT INTO contract_points(object_id, kind, name, diameter_mm, tariff_group, metered, valid_from, note) "
        "SELECT o.id, k, CASE k WHEN 'supply' THEN 'Ввод' ELSE 'Выпуск' END, 50, 'other', k = 'supply', "
        "DATE '2024-01-01', 'Колодец' FROM contract_objects o, unnest(ARRAY['supply', 'discharge']) k",
        "INSERT INTO contract_point_subs(point_id, sub_point_id, valid_from, note) "
        "SELECT min(id), max(id), DATE '2024-01-01', 'Субабонент' FROM contract_points WHERE kind = 'supply'",
        "INSERT INTO meters(kind, contract_point_id, service_id, serial, digits, installed_on) "
        "SELECT 'commercial', p.id, s.id, 'К-' || p.id, 6, DATE '2023-12-01' FROM contract_points p, services s "
        "WHERE p.metered AND s.code = 'cold_water'",
        "INSERT INTO readings(meter_id, read_on, value, status, consumption, reason) "
        "SELECT id, DATE '2024-01-25', 120, 'accepted', 120, '' FROM meters WHERE kind = 'commercial'",
        # (t0033) each contract's UPD of January 2024 with its line
        "INSERT INTO legal_documents(kind, number, issued_on, period, contract_id, counterparty_id, function, "
        "amount_net, vat, amount, due_on) SELECT 'upd', 'У-' || id, DATE '2024-01-31', DATE '2024-01-01', id, "
        "counterparty_id, 'СЧФДОП', 1000.00, 200.00, 1200.00, DATE '2024-02-10' FROM contracts",
        "INSERT INTO legal_document_lines(document_id, line_no, service_id, name, quantity, price, amount_net, "
        "vat_rate, vat, amount, period) SELECT d.id, 1, s.id, 'Холодное водоснабжение за январь 2024', 20, 50, "
        "1000.00, '20%', 200.00, 1200.00, DATE '2024-01-01' FROM legal_documents d, services s "
        "WHERE s.code = 'cold_water'",
    ):
        await conn.execute(text(sql))


async def seed_subscribers(conn) -> None:
    """The subscribers' doors (t0020): a subscriber per account linked to it (every fifth link revoked), an inbox
    notice per link, a spent confirmation code and a link attempt per subscriber."""
    for sql in (
        "INSERT INTO subscribers(email, phone, full_name, email_confirmed_at, created_via) "
        "SELECT 's' || a.id || '@example.ru', '+7900' || lpad(a.id::text, 7, '0'), a.holder, now(), 'portal' "
        "FROM accounts a",
        "INSERT INTO subscriber_links(subscriber_id, account_id, created_via) "
        "SELECT s.id, a.id, 'telegram' FROM subscribers s JOIN accounts a ON s.email = 's' || a.id || '@example.ru'",
        "UPDATE subscriber_links SET revoked_at = now(), revoked_by = 1, revoked_reason = 'Не владелец' WHERE id % 5 = 0",
        "INSERT INTO subscriber_inbox(subscriber_id, account_id, title, body) "
        "SELECT subscriber_id, account_id, 'Квитанция готова', 'Квитанция за январь' FROM subscriber_links",
        "INSERT INTO subscriber_codes(subscriber_id, purpose, code_hash, expires_at, used_at) "
        "SELECT id, 'confirm_email', sha256(convert_to('code' || id, 'UTF8')), now() + interval '1 day', now() "
        "FROM subscribers",
        "INSERT INTO link_attempts(actor, ok) SELECT 'subscriber:' || id, true FROM subscribers",
    ):
        await conn.execute(text(sql))


async def seed_appeals(conn) -> None:
    """A disabled mailbox with three messages (each with an attachment and an appeal), phone appeals for every
    fifth account, a telephonogram in force (odd houses) and a past one (two streets)."""
    for sql in (
        "INSERT INTO mailboxes(name, host, port, use_ssl, username, secret, enabled) "
        "VALUES ('Почта обращений', '127.0.0.1', 9, false, 'appeals@example.ru', 'sealed-secret', false)",
        "INSERT INTO mail_messages(mailbox_id, uid, message_id, from_addr, from_name, to_addr, subject, body_text, "
        "raw, size) SELECT b.id, n, '<m' || n || '@example.ru>', 'user' || n || '@example.ru', 'Житель ' || n, "
        "'appeals@example.ru', 'Письмо ' || n, 'Текст письма ' || n, convert_to('Subject: ' || n, 'UTF8'), 10 "
        "FROM mailboxes b, generate_series(1, 3) n",
        "INSERT INTO mail_attachments(message_id, file_name, content_type, size, content) "
        "SELECT id, 'скан-' || id || '.pdf', 'application/pdf', 10, convert_to('%PDF ' || id, 'UTF8') FROM mail_messages",
        "INSERT INTO appeals(kind_id, source, account_id, house_id, premise_id, address_text, applicant_name, "
        "applicant_phone, applicant_email, subject, text, result, operator_id, call_id) "
        "SELECT k.id, 'phone', a.id, p.house_id, p.id, 'Адрес ' || a.number, a.holder, '+7900' || a.id, "
        "'a' || a.id || '@example.ru', 'Обращение ' || a.number, 'Текст', 'Разъяснено', (SELECT min(id) FROM users), "
        "1000 + a.id FROM accounts a JOIN premises p ON p.id = a.premise_id, appeal_kinds k "
        "WHERE k.code = 'complaint' AND a.id % 5 = 0",
        "INSERT INTO appeals(kind_id, source, status, applicant_email, subject, text, mail_message_id) "
        "SELECT k.id, 'email', 'answered', m.from_addr, m.subject, m.body_text, m.id FROM mail_messages m, "
        "appeal_kinds k WHERE k.code = 'other'",
        "INSERT INTO telephonograms(number, from_org, kind, text, valid_from, valid_to) VALUES "
        "('Т-1', 'Теплосеть', 'planned', 'Отключение ГВС', TIMESTAMPTZ '2024-01-01 00:00+03', NULL), "
        "('Т-2', 'Электросети', 'emergency', 'Авария', TIMESTAMPTZ '2024-02-01 00:00+03', "
        "TIMESTAMPTZ '2024-02-03 00:00+03')",
        "INSERT INTO telephonogram_addresses(telephonogram_id, house_id) "
        "SELECT t.id, h.id FROM telephonograms t, houses h WHERE t.number = 'Т-1' AND h.id % 2 = 1",
        "INSERT INTO telephonogram_addresses(telephonogram_id, street_id) "
        "SELECT t.id, s.id FROM telephonograms t, streets s WHERE t.number = 'Т-2' AND s.id <= 2",
    ):
        await conn.execute(text(sql))


async def seed_telephony(conn) -> None:
    """A disabled AMI connection and a call per account (answered, missed, abandoned), one a call-back."""
    for sql in (
        "INSERT INTO ami_connections(host, port, username, secret_encrypted, enabled) "
        "VALUES ('pbx.bravo.example', 5038, 'bravo', 'sealed-secret', false)",
        "INSERT INTO calls(linkedid, uniqueid, direction, caller, caller_normalised, called, queue, agent_extension, "
        "started_at, answered_at, ended_at, duration_s, wait_s, status, hangup_cause, recording, account_id) "
        "SELECT '1700000000.' || a.id, '1700000000.' || a.id, 'inbound', a.phone, a.phone, '888999', 'Q1', "
        "'7' || (a.id % 10), now(), now(), now(), 30, 5, (ARRAY['answered', 'missed', 'abandoned'])[1 + a.id % 3], "
        "'Normal Clearing', '/var/spool/asterisk/monitor/' || a.id || '.wav', a.id FROM accounts a",
        "INSERT INTO calls(linkedid, uniqueid, direction, caller, called, agent_extension, started_at, status, "
        "callback_of) SELECT 'aqb-' || id, 'aqb-' || id, 'outbound', '101', caller, '101', now(), 'in_progress', id "
        "FROM calls WHERE status = 'missed'",
    ):
        await conn.execute(text(sql))


async def seed_requests(conn) -> None:
    """Requests and works: two divisions, every user an executor with a territory, the seeded routes given a
    division, a request per fifth account (in work, deadline far away: the timers leave them alone), the paid
    ones done with a work and an act (on the account's one-off charge), documents with a file, a journal."""
    for sql in (
        "INSERT INTO divisions(code, name, head_user_id) VALUES ('svc-avar', 'Аварийная служба', 1), "
        "('svc-plan', 'Плановый участок', NULL)",
        "UPDATE divisions SET parent_id = (SELECT id FROM divisions WHERE code = 'svc-avar') WHERE code = 'svc-plan'",
        "INSERT INTO executors(user_id, division_id, cap) SELECT u.id, (SELECT id FROM divisions WHERE code = 'svc-avar'), "
        "3 FROM users u",
        "INSERT INTO executor_territories(executor_id, house_id) SELECT e.id, min(h.id) FROM executors e, houses h "
        "GROUP BY e.id",
        "INSERT INTO executor_territories(executor_id, street_id) SELECT e.id, max(s.id) FROM executors e, streets s "
        "GROUP BY e.id",
        "UPDATE route_phases SET division_id = (SELECT id FROM divisions WHERE code = 'svc-avar')",
        "INSERT INTO requests(kind, route_id, phase_id, status, appeal_id, account_id, house_id, address_text, "
        "description, assignee_user_id, division_id, assigned_at, accepted_at, phase_started_at, phase_deadline, "
        "created_at, created_by) SELECT k.kind, r.id, p.id, CASE WHEN k.kind = 'paid' THEN 'done' ELSE 'in_work' END, "
        "a.id, a.id, pr.house_id, 'ул. Речная', 'Течь у ' || a.number, 1, p.division_id, now(), now(), now(), "
        "TIMESTAMPTZ '2099-01-01 00:00+00', now(), 1 FROM accounts a JOIN premises pr ON pr.id = a.premise_id "
        "CROSS JOIN LATERAL (SELECT CASE WHEN a.id % 10 = 0 THEN 'paid' WHEN a.id % 3 = 0 THEN 'emergency' "
        "ELSE 'planned' END AS kind) k JOIN request_routes r ON r.code = k.kind "
        "JOIN route_phases p ON p.route_id = r.id AND p.ordinal = 1 WHERE a.id % 5 = 0",
        "INSERT INTO request_events(request_id, kind, at, user_id, to_user_id, phase_id, note) "
        "SELECT id, e, now(), 1, 1, phase_id, 'Запись журнала' FROM requests, unnest(ARRAY['created', 'assigned']) e",
        "INSERT INTO request_documents(request_id, phase_id, name, file_name, content, note) "
        "SELECT id, phase_id, 'Акт выполненных работ', 'akt.pdf', convert_to('%PDF-1.4 akt', 'UTF8'), 'Подписан' "
        "FROM requests ORDER BY id LIMIT 3",
        "INSERT INTO works(request_id, description, performed_on, labour_hours, labour_cost, materials, "
        "materials_cost, total) SELECT id, 'Замена крана', DATE '2024-02-10', 1, 500, "
        "'[{\"name\": \"Кран\", \"quantity\": \"1\", \"price\": \"300\", \"amount\": \"300\"}]', 300, 800 "
        "FROM requests",
        "INSERT INTO work_acts(request_id, act_date, amount, account_id, period, one_off_id) "
        "SELECT r.id, DATE '2024-02-15', 800, r.account_id, DATE '2024-02-01', o.id FROM requests r "
        "JOIN one_off_charges o ON o.account_id = r.account_id WHERE r.kind = 'paid'",
    ):
        await conn.execute(text(sql))


async def seed_payments(conn) -> None:
    """Payments in: two agents, a registry file per house (stored as received, with a line error), an identified
    payment per account from its house's file, unidentified payments, a manual payment reversed by storno and
    its transfer to the next account."""
    for sql in (
        "INSERT INTO payment_agents(code, name, kind, inn, contract, file_format, file_layout) VALUES "
        "('sberbank', 'Сбербанк', 'bank', '7707083893', 'Договор 1', 'sberbank', '{\"separator\": \";\"}'), "
        "('bank1c', 'Банк, выписка 1С', 'bank', '7707083893', 'Договор 2', '1c', '{}')",
        "INSERT INTO payment_files(agent_id, file_name, checksum, format, lines, loaded, unidentified, "
        "failed, amount, errors) SELECT g.id, 'reestr-' || h.id || '.txt', "
        "md5('a' || h.id) || md5('b' || h.id), 'sberbank', 3, 2, 0, 1, 300, "
        "'[{\"line\": 3, \"error\": \"Лицевой счёт не найден\"}]' "
        "FROM houses h, payment_agents g WHERE g.code = 'sberbank'",
        "INSERT INTO payment_file_contents(file_id, content) SELECT id, convert_to('Реестр ' || file_name, 'UTF8') "
        "FROM payment_files",
        "INSERT INTO payments(agent_id, file_id, line_no, operation_id, source, paid_on, amount, commission, "
        "account_id, account_text, payer, purpose, status, reason) SELECT f.agent_id, f.id, a.id, 'OP-' || a.id, "
        "'registry', DATE '2024-02-10', 100 + a.id, 1, a.id, a.number, a.holder, 'Оплата воды', 'identified', '' "
        "FROM accounts a JOIN premises p ON p.id = a.premise_id "
        "JOIN payment_files f ON f.file_name = 'reestr-' || p.house_id || '.txt'",
        "INSERT INTO payments(agent_id, operation_id, source, paid_on, amount, account_text, payer, purpose, status, "
        "reason) SELECT g.id, 'U-' || n, 'bank_1c', DATE '2024-02-11', 50 + n, '9999' || n, 'ООО Плательщик', "
        "'Оплата по договору', 'unidentified', 'Лицевой счёт 9999' || n || ' не найден' "
        "FROM generate_series(1, 5) n, payment_agents g WHERE g.code = 'bank1c'",
        # (every payment has an operation id: marking turns NULLs into the same marked value, unique per agent)
        "INSERT INTO payments(agent_id, operation_id, source, paid_on, amount, account_id, account_text, payer, "
        "purpose, status, reason) SELECT g.id, 'M-' || a.id, 'manual', DATE '2024-02-12', 70, a.id, a.number, "
        "a.holder, 'Касса', 'storno', "
        "'Ошибка кассира' FROM accounts a, payment_agents g WHERE g.code = 'manual' AND a.id % 10 = 3",
        "INSERT INTO payments(agent_id, operation_id, source, paid_on, amount, account_id, account_text, payer, "
        "purpose, status, reason, storno_of) SELECT agent_id, 'T-' || id, 'transfer', paid_on, amount, "
        "account_id + 1, account_text, payer, purpose, 'identified', 'Перенесён', id FROM payments "
        "WHERE status = 'storno'",
    ):
        await conn.execute(text(sql))


async def seed_billing(conn) -> None:
    """Billing data behind every billing route: tariffs, norms, a tenant coefficient and parameter kind,
    and for every account parameters, a resident, an absence, a meter with readings (some flagged) and a
    charge; a building meter per house; a closed and an open period; one-off charges, a storno and installment
    agreements."""
    for sql in (
        "INSERT INTO tariffs(service_id, price, valid_from) SELECT s.id, v.p, v.d FROM services s, "
        "(VALUES (40.0, DATE '2020-01-01'), (45.5, DATE '2024-07-01')) v(p, d) WHERE s.code IN ('cold_water', 'sewage')",
        "INSERT INTO norms(service_id, improvement, volume, valid_from) SELECT s.id, i, 5, DATE '2020-01-01' "
        "FROM services s, (VALUES ('full'), ('no_sewage')) x(i) WHERE s.code IN ('cold_water', 'sewage')",
        "INSERT INTO coefficients(service_kind, value, valid_from, source, basis) "
        "VALUES ('cold_water', 1.5, DATE '2025-12-06', 'tenant', 'Решение')",
        "INSERT INTO parameter_kinds(code, name, value_type) VALUES ('pets', 'Домашние животные', 'number')",
        "INSERT INTO account_parameters(account_id, kind, value_num, valid_from) "
        "SELECT id, 'residents', 1 + id % 3, DATE '2022-01-01' FROM accounts",
        "INSERT INTO account_parameters(account_id, kind, value_text, valid_from) "
        "SELECT id, 'tariff_group', 'population', DATE '2022-01-01' FROM accounts",
        "INSERT INTO residents(account_id, full_name, registered_from) SELECT id, holder, opened_on FROM accounts",
        "INSERT INTO absences(account_id, date_from, date_to, reason) "
        "SELECT id, DATE '2023-07-01', DATE '2023-07-14', 'Отпуск' FROM accounts",
        "INSERT INTO meters(account_id, service_id, serial, digits, installed_on, verified_until, seal_number, sealed_on) "
        "SELECT a.id, s.id, 'ХВ-' || a.number, 5, DATE '2022-01-01', DATE '2028-01-01', 'П-' || a.id, DATE '2022-01-01' "
        "FROM accounts a, services s WHERE s.code = 'cold_water'",
        "INSERT INTO meters(kind, house_id, service_id, serial, digits, installed_on) "
        "SELECT 'building', h.id, s.id, 'ОДПУ-' || h.id, 8, DATE '2022-01-01' "
        "FROM houses h, services s WHERE s.code = 'cold_water'",
        "INSERT INTO readings(meter_id, read_on, value, status, consumption, reason) "
        "SELECT id, DATE '2023-12-25', 30 + id % 7, 'accepted', 30 + id % 7, '' FROM meters",
        "INSERT INTO readings(meter_id, read_on, value, status, reason) "
        "SELECT id, DATE '2025-02-25', 900, 'flagged', 'Неправдоподобный расход' FROM meters WHERE id % 3 = 0",
        "INSERT INTO periods(period, status, closed_at) VALUES (DATE '2024-01-01', 'closed', now()), "
        "(DATE '2024-02-01', 'open', NULL)",
        # month close (t0007): two divisions sharing the houses, January closed for both, its close journalled
        "INSERT INTO divisions(code, name) VALUES ('north', 'Северный участок'), ('south', 'Южный участок')",
        "UPDATE houses SET division_id = 1 + id % 2",
        "INSERT INTO period_divisions(period, division_id, status, closed_at) "
        "SELECT DATE '2024-01-01', id, 'closed', now() FROM divisions",
        "INSERT INTO period_closes(period, action, reason) VALUES (DATE '2024-01-01', 'close', 'Закрыт по плану')",
        "INSERT INTO billing_runs(period, scope, status) VALUES (DATE '2024-01-01', 'tenant', 'done')",
        "INSERT INTO charges(account_id, service_id, period, method, volume, tariff, amount, days, run_id, note) "
        "SELECT a.id, s.id, DATE '2024-01-01', 'norm', 5, 40, 200, 31, (SELECT max(id) FROM billing_runs), 'Начислено' "
        "FROM accounts a, services s WHERE s.code = 'cold_water'",
        # adjustments: one-off documents (per house, and per tenth account with its row), a storno of the first
        # account's charge, installment agreements with their schedule and the debt moved in
        "INSERT INTO one_off_charges(period, service_id, basis, house_id, total, amount, accounts, note) "
        "SELECT DATE '2024-02-01', s.id, 'area', h.id, 100, 100, 0, 'Промывка' "
        "FROM houses h, services s WHERE s.code = 'cold_water'",
        "INSERT INTO one_off_charges(period, service_id, basis, account_id, total, amount, accounts, note) "
        "SELECT DATE '2024-02-01', s.id, 'account', a.id, 50, 50, 1, 'Опломбировка' "
        "FROM accounts a, services s WHERE s.code = 'cold_water' AND a.id % 10 = 0",
        "INSERT INTO charges(account_id, service_id, period, method, amount, note, source, source_id) "
        "SELECT account_id, service_id, period, 'one_off', total, 'Разовое начисление', 'one_off', id "
        "FROM one_off_charges WHERE basis = 'account'",
        "INSERT INTO charges(account_id, service_id, period, method, volume, tariff, amount, corrects_period, note, "
        "source, source_id) SELECT account_id, service_id, DATE '2024-02-01', 'storno', -volume, tariff, -amount, "
        "period, 'Сторно', 'storno', id FROM charges WHERE method = 'norm' AND account_id = (SELECT min(id) FROM accounts)",
        "INSERT INTO installment_agreements(account_id, service_id, number, signed_on, period, debt, months, "
        "first_period, note) SELECT a.id, s.id, 'Р-' || a.id, DATE '2024-02-05', DATE '2024-02-01', 300, 3, "
        "DATE '2024-03-01', 'Заявление' FROM accounts a, services s WHERE s.code = 'cold_water' AND a.id % 10 = 5",
        "INSERT INTO installment_schedule(agreement_id, seq, period, amount) "
        "SELECT g.id, k, (g.first_period + make_interval(months => k - 1))::date, 100 "
        "FROM installment_agreements g, generate_series(1, 3) k",
        "INSERT INTO charges(account_id, service_id, period, method, amount, note, source, source_id) "
        "SELECT account_id, service_id, period, 'installment', -debt, 'Долг в рассрочку', 'agreement', id "
        "FROM installment_agreements",
        # penalties (t0006): a run with its rows, a storno of the first account's rows, deferrals of each scope
        "INSERT INTO penalty_runs(period, status, accounts, rows, amount) VALUES (DATE '2024-01-01', 'done', 1, 1, 5)",
        "INSERT INTO penalty_charges(account_id, month_of_origin, period, kind, amount, days, debt, run_id) "
        "SELECT id, DATE '2023-11-01', DATE '2024-01-01', 'accrual', 5.5, 40, 200, (SELECT max(id) FROM penalty_runs) "
        "FROM accounts",
        "INSERT INTO penalty_stornos(period, account_id, rows, amount, reason) "
        "SELECT DATE '2024-02-01', min(id), 1, -5.5, 'Сторно пени' FROM accounts",
        "INSERT INTO penalty_charges(account_id, month_of_origin, period, kind, amount, days, debt, storno_id, storno_of) "
        "SELECT account_id, month_of_origin, DATE '2024-02-01', 'storno', -amount, days, debt, "
        "(SELECT max(id) FROM penalty_stornos), id FROM penalty_charges WHERE account_id = (SELECT min(id) FROM accounts)",
        "INSERT INTO penalty_deferrals(scope, house_ids, improvement, date_from, date_to, reason) VALUES "
        "('all', NULL, NULL, DATE '2023-06-01', DATE '2023-06-30', 'Решение'), "
        "('houses', ARRAY[(SELECT min(id) FROM houses)], NULL, DATE '2023-07-01', DATE '2023-07-31', 'Решение'), "
        "('improvement', NULL, 'full', DATE '2023-08-01', DATE '2023-08-31', 'Решение')",
        # notifications (t0027): a finished campaign to every account with its deliveries, an address's opt-out
        "INSERT INTO campaigns(title, subject, body, channels, mode, status) "
        "VALUES ('Отключение', 'Тема', 'Текст {{ holder }}', ARRAY['email'], 'first', 'done')",
        "INSERT INTO campaign_recipients(campaign_id, account_id, vars, addresses, channels, note) "
        "SELECT (SELECT max(id) FROM campaigns), id, jsonb_build_object('holder', holder, 'account', number), "
        "jsonb_build_object('email', 'b' || id || '@mail.example'), ARRAY['email'], 'Примечание' FROM accounts",
        "INSERT INTO campaign_deliveries(campaign_id, recipient_id, channel, address, status, detail, external_id) "
        "SELECT campaign_id, id, 'email', addresses ->> 'email', 'sent', 'Принято', 'm-' || id FROM campaign_recipients",
        "INSERT INTO notification_optouts(address, reason) VALUES ('b@mail.example', 'Просьба абонента')",
    ):
        await conn.execute(text(sql))


async def make_victim(core, make_tenant, slug: str, marker: str, db_key: str = "main") -> TenantHandle:
    """A tenant with a town of 90 accounts, staff, roles, jobs and an audit log, every text value marked."""
    b = await make_tenant(slug, name="Водоканал Браво", db_key=db_key, seed=seeder(90, 11, 5, 3, first_id=501))
    async with tenant_transaction(core.engines, b.tenant, 1) as conn:
        # a finished and a failed job, so that result and error hold values too
        await conn.execute(text(
            "UPDATE jobs SET status = 'done', progress = 100, result = '{\"total\": 7}', finished_at = now() "
            "WHERE id = (SELECT id FROM jobs ORDER BY id LIMIT 1)"))
        await conn.execute(text(
            "UPDATE jobs SET status = 'failed', error = 'обрыв связи', finished_at = now() "
            "WHERE id = (SELECT id FROM jobs WHERE status = 'queued' ORDER BY id LIMIT 1)"))
        refused = await mark_every_text_field(conn, marker)
        # attachments are served as files: their bytes carry the marker too
        await conn.execute(text("UPDATE mail_attachments SET content = convert_to(file_name, 'UTF8')"))
        unmarked = (await conn.execute(text(
            "SELECT count(*) FROM accounts WHERE holder NOT LIKE :m OR number NOT LIKE :m OR phone NOT LIKE :m"),
            {"m": f"%{marker}%"})).scalar_one()
    assert refused <= CONSTRAINED, f"columns of B that could not be marked: {refused - CONSTRAINED}"
    assert unmarked == 0
    return b


async def build_world(core, client, a: TenantHandle, b: TenantHandle, marker: str) -> World:
    a_ids, b_ids = {}, {}
    async with tenant_transaction(core.engines, a.tenant) as conn:
        for table in await _tables_with_id(conn):
            a_ids[table] = set(await _ids(conn, table))
        a_audit = {(t, r) for t, r in await conn.execute(text("SELECT table_name, row_id FROM audit_log"))}
    async with tenant_transaction(core.engines, b.tenant) as conn:
        for table in await _tables_with_id(conn):
            b_ids[table] = await _ids(conn, table)
        b_audit = [(t, r) for t, r in await conn.execute(text(
            "SELECT DISTINCT table_name, row_id FROM audit_log WHERE row_id IS NOT NULL"))]
    assert set(b_ids) >= {"users", "roles", "accounts", "jobs", "audit_log", "streets", "houses", "premises"}
    for table in ("accounts", "users", "roles"):  # B has rows whose ids A lacks
        assert max(b_ids[table]) > max(a_ids[table]), table
    forbidden = (marker, b.tenant.slug, b.tenant.schema_name, "$argon2")
    return World(core, client, a, b, a_ids, b_ids, a_audit, b_audit, forbidden, marker)


@pytest.fixture(scope="module")
async def world(core, client, make_tenant) -> World:
    suffix = secrets.token_hex(4)
    a = await make_tenant(f"alpha-{suffix}", name="Водоканал Альфа", seed=seeder(40, 3, 2, 1))
    b = await make_victim(core, make_tenant, f"bravo-{suffix}", MARKER)
    return await build_world(core, client, a, b, MARKER)


async def _a_token(world: World) -> str:
    """A's admin token: the current one while it is valid, else a new login."""
    if world.a_token is None or await principal_for(world.core, world.a_token) is None:
        r = await world.send("POST", "/api/auth/login", None, body=(
            "json", {"tenant": world.a.tenant.slug, "login": "admin", "password": ADMIN_PASSWORD}))
        assert r.status_code == 200, r.text
        world.a_token = r.json()["token"]
    return world.a_token


# ---- the tests ---------------------------------------------------------------------------------------

async def test_marker_is_visible_to_b_itself(world: World):
    """The control: with B's own token and B's ids, B's data (and so the marker) does come back. A route
    whose answer to B has no marker must give A the very same answer: it has no tenant data at all."""
    with_marker = 0
    for case in CASES:
        if case.method != "GET" or not case.tenant:
            continue
        for values in world.path_values(case):
            url = case.url(values) + "?limit=500"
            if case.id in FILES_ON_DISK:
                continue
            r = await world.send("GET", url, world.b.token)
            assert r.status_code == 200, f"{case.id} {values}: {r.status_code} {r.text[:300]}"
            if r.headers.get("content-type", "").startswith("application/pdf"):
                # a PDF's text is compressed: no marker can show; the receipt PDFs' isolation (another tenant's
                # or subscriber's account: 404) is tested in tests/integration/printing/test_print_web.py
                continue
            if world.marker in r.text:
                with_marker += 1
                continue
            same = await world.send("GET", url, world.a.token)
            assert same.status_code == 200 and same.text == r.text, (
                f"{url}: B's data shows no marker, yet the answer depends on the tenant: "
                f"mark the new text columns (mark_every_text_field)\nB: {r.text[:500]}\nA: {same.text[:500]}")
    assert with_marker >= 25


async def exercise(world: World, case: RouteCase, variants=VARIANTS, max_values: int = 0) -> int:
    """Call one route as A's admin with B's ids in every variant; returns the number of requests."""
    core = world.core
    before = await schema_digest(core, world.b.tenant)
    token = await _a_token(world)
    sent = 0
    assignments = world.path_values(case)
    for values in _spread(assignments, max_values) if max_values else assignments:
        for name in variants:
            for body in world.bodies(case, values):
                auth, url, headers = world.variant(name, case.url(values))
                # (asked before the request: a DELETE may remove A's own row of that id, made earlier in the run)
                only_b = case.tenant and not case.public and await world.only_in_b(case, values)
                r = await world.send(case.method, url, token, auth=auth, headers=headers, body=body)
                sent += 1
                where = f"{case.id} as A {name} {url} body={body}: {r.status_code}"
                world.assert_no_leak(r, where)
                assert r.status_code < 500, f"{where}: {r.text[:500]}"
                if case.method != "OPTIONS" and await principal_for(core, token) is None:
                    # a request addressed to B's host must not act on A's session, not even log it out
                    assert "+host-B" not in name, f"{where}: A's session was revoked through B's host"
                    token = await _a_token(world)  # the route logged A out (logout): carry on with a new token
                if case.public:
                    continue
                if "+host-B" in name or case.portal:  # (a staff token is never a portal session)
                    assert_rejected(r, case, where)
                elif case.tenant:
                    assert r.status_code not in (401, 403), f"{where}: A's admin refused in A: {r.text[:300]}"
                    if world.has_known_body(case):
                        assert r.status_code not in (400, 405), f"{where}: implausible request: {r.text[:300]}"
                    if only_b:
                        assert r.status_code == 404 or (r.status_code == 200 and r.json().get("total") == 0), \
                            f"{where}: a row only B has was found in A: {r.text[:500]}"
    assert await schema_digest(core, world.b.tenant) == before, f"{case.id} changed tenant B's data"
    return sent


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
async def test_tenant_a_cannot_reach_tenant_b(case: RouteCase, world: World):
    assert await exercise(world, case) >= len(VARIANTS)


async def test_tenant_on_another_database_is_isolated_too(world: World, core, make_tenant, second_database):
    """B in a second PostgreSQL database: the same checks (fewer variants), and B's own view works."""
    key = f"db{secrets.token_hex(3)}"
    await second_database(key)
    c = await make_victim(core, make_tenant, f"charlie-{secrets.token_hex(4)}", "SECRET-C", db_key=key)
    far = await build_world(core, world.client, world.a, c, "SECRET-C")
    r = await far.send("GET", "/api/accounts?limit=500", c.token)
    assert r.status_code == 200 and r.json()["total"] == 90 and "SECRET-C" in r.text
    sent = 0
    for case in CASES:
        if case.method != "OPTIONS":
            sent += await exercise(far, case, variants=("bearer", "cookie+host-B"), max_values=4)
    assert sent >= 60


async def test_b_token_on_a_subdomain_is_rejected(world: World, core):
    before = await schema_digest(core, world.b.tenant)
    host = {"Host": f"{world.a.tenant.slug}.localhost"}
    r = await world.send("GET", "/api/auth/me", world.b.token)
    assert r.status_code == 200 and r.json()["tenant"]["slug"] == world.b.tenant.slug  # the token itself is fine
    checked = 0
    for case in CASES:
        if case.method == "OPTIONS":
            continue
        values = world.path_values(case)[0]
        for auth in ("bearer", "cookie"):
            for body in world.bodies(case, values):
                r = await world.send(case.method, case.url(values), world.b.token, auth=auth, headers=host, body=body)
                where = f"{case.id} with B's {auth} on A's host"
                world.assert_no_leak(r, where)
                if not case.public:
                    assert_rejected(r, case, where)
                    checked += 1
                # public routes too (/logout): B's session is not acted upon on A's host
                assert await principal_for(core, world.b.token) is not None, f"{where} revoked B's session"
    assert checked >= 30
    assert await schema_digest(core, world.b.tenant) == before
    assert (await world.send("GET", "/api/auth/me", world.b.token)).status_code == 200


async def test_platform_admin_is_forbidden_on_tenant_routes(world: World, core):
    login, password = f"root-{secrets.token_hex(3)}", "platform-password"
    await ensure_platform_admin(core, login, password)
    r = await world.send("POST", "/api/platform/login", None, body=("json", {"login": login, "password": password}))
    assert r.status_code == 200, r.text
    token = r.json()["token"]
    before = await schema_digest(core, world.b.tenant)
    checked = 0
    for case in CASES:
        if not case.tenant or case.method == "OPTIONS":
            continue
        values = world.path_values(case)[0]
        for body in world.bodies(case, values):
            r = await world.send(case.method, case.url(values), token, body=body)
            where = f"{case.id} as a platform admin: {r.status_code}"
            assert r.status_code == 403, f"{where}: {r.text[:300]}"
            world.assert_no_leak(r, where)
            checked += 1
    assert checked >= 12
    assert await schema_digest(core, world.b.tenant) == before


async def test_no_credentials_get_401_on_api_and_login_redirect_on_pages(world: World):
    checked = 0
    for case in CASES:
        if case.method == "OPTIONS":
            continue
        values = world.path_values(case)[0]
        for token, auth in ((None, "bearer"), ("not-a-real-token", "bearer"), ("not-a-real-token", "cookie")):
            for body in world.bodies(case, values):
                r = await world.send(case.method, case.url(values), token, auth=auth, body=body)
                where = f"{case.id} without valid credentials ({token}, {auth})"
                world.assert_no_leak(r, where)
                if case.public:
                    assert r.status_code != 401 or case.path.endswith("/login"), where
                    continue
                assert_rejected(r, case, where)
                checked += 1
    assert checked >= 40
    api_public = {c.id for c in CASES if c.api and c.public and c.method != "OPTIONS"}
    doors = {c.id for c in CASES if c.open_door}
    assert api_public - doors == {"POST /api/auth/login", "POST /api/platform/login"}
    assert {f"{m} {p}" for m, p in PORTAL_PUBLIC} <= api_public | {c.id for c in CASES if not c.api}


# ---- the subscribers' doors (#13): subscriber sessions vs staff routes, subscribers vs each other ------------

S2_MARKER = "SECRET-S2"
# a portal path parameter → the rows of subscriber S2 (tenant A) it may name; other `<x>_id` parameters: the rows of
# table <x>s with S2's account or S2 as their subscriber
S2_ROWS = {
    "account_id": "SELECT CAST(:a AS integer)",
    "reading_id": "SELECT r.id FROM readings r JOIN meters m ON m.id = r.meter_id WHERE m.account_id = :a",
    "item_id": "SELECT id FROM subscriber_inbox WHERE subscriber_id = :s",
    "appeal_id": "SELECT id FROM appeals WHERE account_id = :a OR subscriber_id = :s",
    # the organisations' portal (#16): the counterparty S2 is linked to
    "counterparty_id": "SELECT counterparty_id FROM subscriber_counterparties WHERE subscriber_id = :s "
                       "AND revoked_at IS NULL",
}


@dataclass
class Neighbours:
    """Subscribers S1 (the caller) and S2 (the victim in the same tenant A) with their own accounts a1 and a2; S2's
    texts carry S2_MARKER (its name and e-mail, a2's holder and number, its meters, inbox, appeal and photo)."""

    s1: Any  # tests.portal_support.PortalUser
    s2: Any
    a1: int
    a2: int
    a2_number: str
    s2_values: dict[str, list[int]]

    def headers(self, token: str, tenant) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}", "Host": f"{tenant.slug}.localhost"}


async def _s2_digest(world: World, nb: Neighbours) -> dict[str, str | None]:
    """S2's rows in tenant A: S2 and a2 themselves, every row of a table with a subscriber_id or account_id column
    naming S2 or a2, a2's readings."""
    async with tenant_transaction(world.core.engines, world.a.tenant) as conn:
        cols = (await conn.execute(text(
            "SELECT c.table_name, c.column_name FROM information_schema.columns c JOIN information_schema.tables t "
            "ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE' "
            "WHERE c.table_schema = current_schema() AND c.column_name IN ('subscriber_id', 'account_id') "
            "ORDER BY 1, 2"))).all()
        parts = [(f"{t}.{c}", f'SELECT t::text AS r FROM "{t}" t WHERE "{c}" = '
                  + (":s" if c == "subscriber_id" else ":a")) for t, c in cols]
        parts += [("subscribers", "SELECT t::text AS r FROM subscribers t WHERE id = :s"),
                  ("accounts", "SELECT t::text AS r FROM accounts t WHERE id = :a"),
                  ("readings", "SELECT t::text AS r FROM readings t WHERE meter_id IN "
                               "(SELECT id FROM meters WHERE account_id = :a)")]
        digest = {}
        for name, sql in parts:
            digest[name] = (await conn.execute(text(f"SELECT md5(string_agg(r, ',' ORDER BY r)) FROM ({sql}) x"),
                                               {"s": nb.s2.subscriber_id, "a": nb.a2})).scalar()
    return digest


@pytest.fixture(scope="module")
async def neighbours(world: World) -> Neighbours:
    from tests.portal_support import portal_user

    core, a = world.core, world.a.tenant
    a1, a2 = sorted(world.a_ids["accounts"])[-2:]
    s1 = await portal_user(core, a, account_ids=[a1])
    s2 = await portal_user(core, a, account_ids=[a2], full_name=f"{S2_MARKER} Соседка",
                           email=f"{S2_MARKER.lower()}-{secrets.token_hex(3)}@example.ru")
    m = S2_MARKER
    async with tenant_transaction(core.engines, a) as conn:
        for sql in (
            f"UPDATE accounts SET holder = '{m} ' || coalesce(holder, ''), number = '{m}-' || number WHERE id = :a",
            f"UPDATE meters SET serial = '{m}-' || serial WHERE account_id = :a",
            f"INSERT INTO subscriber_inbox(subscriber_id, account_id, title, body) VALUES (:s, :a, '{m}', '{m}')",
            f"INSERT INTO appeals(kind_id, source, account_id, subject, text, subscriber_id) "
            f"SELECT k.id, 'portal', :a, '{m}', '{m}', :s FROM appeal_kinds k WHERE k.code = 'complaint'",
            f"INSERT INTO readings(meter_id, read_on, value, status, source, reason) "
            f"SELECT id, DATE '2024-02-20', 77, 'accepted', 'portal', '{m}' FROM meters WHERE account_id = :a",
            f"UPDATE counterparties SET name = '{m} ' || name WHERE id = (SELECT min(id) FROM counterparties)",
            "INSERT INTO subscriber_counterparties(subscriber_id, counterparty_id) "
            "SELECT :s, min(id) FROM counterparties",
            f"INSERT INTO reading_photos(reading_id, subscriber_id, content_type, bytes, size) "
            f"SELECT r.id, :s, 'image/png', convert_to('{m}', 'UTF8'), 9 FROM readings r JOIN meters m "
            f"ON m.id = r.meter_id WHERE m.account_id = :a AND r.source = 'portal'",
        ):
            await conn.execute(text(sql), {"a": a2, "s": s2.subscriber_id})
        values: dict[str, list[int]] = {}
        for case in CASES:
            for name, type_name in case.params:
                if type_name != "int" or not case.portal or name in values:
                    continue
                sql = S2_ROWS.get(name)
                if sql is None:
                    table = world._table_for(name)
                    assert table, f"{case.id}: no rows of subscriber S2 for {name}: extend S2_ROWS"
                    column = (await conn.execute(text(
                        "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
                        "AND table_name = :t AND column_name IN ('subscriber_id', 'account_id') ORDER BY 1 DESC"),
                        {"t": table})).scalar()
                    assert column, f"{case.id}: no rows of subscriber S2 for {name}: extend S2_ROWS"
                    sql = f'SELECT id FROM "{table}" WHERE "{column}" = ' + (":s" if column == "subscriber_id" else ":a")
                values[name] = sorted((await conn.execute(text(sql), {"a": a2, "s": s2.subscriber_id})).scalars())
                assert values[name], f"subscriber S2 has no rows for {name}"
        number = (await conn.execute(text("SELECT number FROM accounts WHERE id = :a"), {"a": a2})).scalar_one()
    return Neighbours(s1, s2, a1, a2, number, values)


def _portal_cases() -> list[RouteCase]:
    return [c for c in CASES if c.portal and c.method != "OPTIONS"]


async def test_a_subscriber_session_opens_no_staff_route(world: World, neighbours: Neighbours):
    """A subscriber's token (bearer, or as the staff cookie) on every staff route of its own tenant, with its
    tenant's own ids: refused, never an answer with data, nothing changed."""
    from aquabill.platform.web.portal.context import PORTAL_COOKIE

    core, tenant = world.core, world.a.tenant
    token = neighbours.s1.token
    before = await schema_digest(core, tenant)
    checked = 0
    for case in CASES:
        if case.public or case.portal or case.method == "OPTIONS":
            continue
        values = world.path_values(case)[-1]  # (ids both tenants have: rows that exist in A)
        body = world.bodies(case, values)[0]
        for headers in ({"Authorization": f"Bearer {token}", "Host": f"{tenant.slug}.localhost"},
                        {"Authorization": f"Bearer {token}"},
                        {"Cookie": f"{SESSION_COOKIE}={token}; {PORTAL_COOKIE}={token}"}):
            r = await world.send(case.method, case.url(values), None, headers=headers, body=body)
            where = f"{case.id} with a subscriber's session ({', '.join(headers)}): {r.status_code}"
            world.assert_no_leak(r, where)
            if r.status_code in (302, 303):
                assert r.headers["location"].startswith("/login"), f"{where}: {r.headers['location']}"
            else:
                assert r.status_code in (401, 403, 404), f"{where}: {r.text[:300]}"
            checked += 1
    assert checked >= 3 * 100
    assert await principal_for(core, token) is not None  # (no staff route acted on the subscriber's session)
    assert await schema_digest(core, tenant) == before


async def test_a_staff_token_opens_no_portal_route(world: World, neighbours: Neighbours):
    """A's admin token as a bearer, as the staff cookie and as the portal's cookie, on A's portal host: every
    portal route answers as to nobody (401, or the portal's login page)."""
    from aquabill.platform.web.portal.context import PORTAL_COOKIE

    token = await _a_token(world)
    host = {"Host": f"{world.a.tenant.slug}.localhost"}
    checked = 0
    for case in _portal_cases():
        values = {n: neighbours.a1 if n == "account_id" else vs[0] for n, vs in neighbours.s2_values.items()}
        values = {n: values.get(n, world.path_values(case)[0].get(n)) for n, _ in case.params}
        for headers in ({**host, "Authorization": f"Bearer {token}"}, {**host, "Cookie": f"{SESSION_COOKIE}={token}"},
                        {**host, "Cookie": f"{PORTAL_COOKIE}={token}"}):
            for body in world.bodies(case, values)[:1]:
                r = await world.send(case.method, case.url(values), None, headers=headers, body=body)
                where = f"{case.id} with a staff token ({headers.get('Cookie', 'bearer')})"
                world.assert_no_leak(r, where)
                assert_rejected(r, case, where)
                checked += 1
    assert checked >= 3 * 20
    assert await principal_for(world.core, token) is not None


def _portal_bodies(world: World, nb: Neighbours, case: RouteCase, values: dict[str, Any]) -> list:
    """Bodies of portal requests: the account-linking ones name S2's and B's accounts (with a wrong check);
    anything else gets the generic body (B's and S2's ids)."""
    if case.method in ("GET", "HEAD", "DELETE"):
        return [None]
    if case.path == "/api/my/links":
        return [("json", {"number": nb.a2_number, "check": "1.00"}), ("json", {"number": "00100001", "check": "1"})]
    if case.path == "/my/link":  # (the form echoes the number typed: one that A has, unmarked)
        return [("form", {"number": "00100001", "check": "1"})]
    generic = {"id": nb.a2, "account_id": nb.a2, "subscriber_id": nb.s2.subscriber_id, "tenant_id": world.b.tenant.id,
               "meter_id": (nb.s2_values.get("meter_id") or [1])[0], "value": "1", "text": "из A"}
    return [("json", generic)] if case.api else [("form", {k: str(v) for k, v in generic.items()})]


async def test_a_subscriber_cannot_reach_another_subscribers_data(world: World, neighbours: Neighbours):
    """Every portal route with subscriber S1's session and the ids of S2 (same tenant) or of tenant B (whose
    subscribers, links, inbox and everything else are marked): no marker in any answer, S2's rows and B's schema
    unchanged, S1's session on B's host refused. S1 on its own account is served (the routes are exercised)."""
    from aquabill.platform.auth.service import new_session
    from aquabill.platform.web.portal.context import PORTAL_COOKIE

    core, a, nb = world.core, world.a.tenant, neighbours
    token = nb.s1.token
    own_checked = sent = 0
    for case in _portal_cases():
        b_before, s2_before = await schema_digest(core, world.b.tenant), await _s2_digest(world, nb)
        assignments = _spread(world.path_values(case), 3)
        if case.params:
            assignments.append({n: nb.s2_values[n][-1] if t == "int" else world.path_values(case)[0][n]
                                for n, t in case.params})
        own = {"account_id": nb.a1} if {n for n, _ in case.params} <= {"account_id"} else None
        for values in assignments + ([own] if own is not None else []):
            for body in _portal_bodies(world, nb, case, values):
                variants = (("bearer+host-A", {"Authorization": f"Bearer {token}", "Host": f"{a.slug}.localhost"}),
                            ("cookie+host-A", {"Cookie": f"{PORTAL_COOKIE}={token}", "Host": f"{a.slug}.localhost"}),
                            ("bearer+host-B", {"Authorization": f"Bearer {token}",
                                               "Host": f"{world.b.tenant.slug}.localhost"}))
                for name, headers in variants:
                    r = await world.send(case.method, case.url(values), None, headers=headers, body=body)
                    sent += 1
                    where = f"{case.id} as S1 {name} {case.url(values)} body={body}: {r.status_code}"
                    world.assert_no_leak(r, where)
                    blob = (r.text + "\n" + "\n".join(f"{k}: {v}" for k, v in r.headers.items())).lower()
                    assert S2_MARKER.lower() not in blob, f"{where}: S2's data shows:\n{r.text[:2000]}"
                    assert r.status_code < 500, f"{where}: {r.text[:500]}"
                    if name.endswith("host-B") and r.status_code != 400:  # (400: a body refused before the session)
                        assert_rejected(r, case, where)
                    elif values is own and case.method == "GET":
                        assert r.status_code not in (401, 403), f"{where}: S1 refused its own account: {r.text[:300]}"
                        own_checked += 1
                    if await principal_for(core, token) is None:  # a route logged S1 out (logout): a new session
                        assert not name.endswith("host-B"), f"{where}: S1's session ended through B's host"
                        token = await new_session(core, "subscriber", nb.s1.subscriber_id, a.id)
        assert await schema_digest(core, world.b.tenant) == b_before, f"{case.id} changed tenant B's data"
        assert await _s2_digest(world, nb) == s2_before, f"{case.id} changed subscriber S2's data"
    assert own_checked >= 2 * 5 and sent >= 200
