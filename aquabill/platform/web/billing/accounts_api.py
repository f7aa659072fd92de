"""Personal accounts: search with pagination and the account card."""

from __future__ import annotations

from litestar import get

from aquabill.base.errors import found
from aquabill.billing_core.registry.queries import account_card, search_accounts
from aquabill.platform.auth.permissions import requires
from aquabill.platform.web.context import DEPS, Ctx
from aquabill.platform.web.paging import Limit, Offset, Search, page


@get("/api/accounts", dependencies=DEPS, guards=[requires("accounts", "view")], tags=["accounts"])
async def list_accounts(ctx: Ctx, q: Search = "", limit: Limit = 50, offset: Offset = 0) -> dict:
    items, total = await search_accounts(ctx.conn, q, limit=limit, offset=offset)
    return page(items, total, limit, offset)


@get("/api/accounts/{account_id:int}", dependencies=DEPS, guards=[requires("accounts", "view")],
     tags=["accounts"])
async def get_account(ctx: Ctx, account_id: int) -> dict:
    return found(await account_card(ctx.conn, account_id), "Лицевой счёт не найден")


ROUTES = [list_accounts, get_account]
