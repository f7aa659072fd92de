"""The pages' forms take any input without a 5xx: every form of the app (the POST routes outside the API)
gets malformed values in each of its fields — empty, huge, out of PostgreSQL's integer range, negative,
impossible dates and periods, control characters — as a signed-in staff user of a fresh tenant."""

from __future__ import annotations

import re
import typing

import msgspec

from aquabill.platform.web.forms import FORM
from tests.integration.billing_core.api_helpers import login_cookie

BAD_VALUES = ["", " ", "x" * 5000, "99999999999999999999", "2147483648", "-1", "0", "2026-13-45", "0000-00",
              "31.02.2026", "1e309", "NaN", "١٢٣", "\x00\x1f<script>", "ё" * 300]
# fields of forms read from the raw form (not a typed struct)
RAW_FIELDS = ["kind", "description", "account_number", "house_id", "user_id", "period", "act_date", "name",
              "note", "labour_hours", "labour_cost", "performed_on", "action", "amount", "year", "start", "end"]
# what would end the session the fuzz signs in with
SKIPPED = {"/logout", "/login"}


def _form_fields(handler) -> list[str]:
    hints = typing.get_type_hints(handler.fn, include_extras=True)
    data = hints.get("data")
    if data is None:
        return RAW_FIELDS
    struct = typing.get_args(data)[0] if typing.get_origin(data) is typing.Annotated else data
    if isinstance(struct, type) and issubclass(struct, msgspec.Struct):
        return [f.name for f in msgspec.structs.fields(struct)]
    return RAW_FIELDS


def _forms(app) -> list[tuple[str, list[str]]]:
    found = []
    for route in app.routes:
        if route.path.startswith(("/api", "/schema", "/health", "/static", "/ws")) or route.path in SKIPPED:
            continue
        for handler in getattr(route, "route_handlers", []):
            if "POST" in handler.http_methods:
                path = re.sub(r"\{[^}:]+:int\}", "1", route.path)
                found.append((path, _form_fields(handler)))
    return found


async def test_no_form_answers_5xx(client, make_tenant):
    assert FORM is not None
    t = await make_tenant()
    await login_cookie(client, t)
    forms = _forms(client.app)
    assert len(forms) >= 15, forms
    failures = []
    for path, fields in forms:
        for value in BAD_VALUES:
            r = await client.post(path, data={f: value for f in fields}, follow_redirects=False)
            if r.status_code >= 500:
                failures.append(f"POST {path} {value[:20]!r} → {r.status_code}")
        r = await client.post(path, content=b"\xff\xfe=\x00&&==", follow_redirects=False,
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
        if r.status_code >= 500:
            failures.append(f"POST {path} (undecodable body) → {r.status_code}")
    assert failures == []
