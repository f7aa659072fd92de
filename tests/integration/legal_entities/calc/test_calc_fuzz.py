"""The calculation's operations fuzzed from the app's own OpenAPI (as tests/integration/platform/test_api_fuzz.py
does for the whole app, with more examples here): no input gives a 5xx."""

from __future__ import annotations

import schemathesis
from schemathesis import GenerationMode

from tests.integration.platform.test_api_fuzz import _cases

OURS = ("/api/legal/runs", "/api/legal/charges", "/api/legal/precipitation", "/api/legal/contracts/{contract_id}/charges")


async def test_calc_operations_never_answer_5xx(legal_client, tenant):
    raw = (await legal_client.get("/schema/openapi.json")).json()
    schema = schemathesis.openapi.from_dict(raw)
    operations = [r.ok() for r in schema.get_all_operations()]
    operations = [o for o in operations if o.path in OURS]
    assert len(operations) == 6
    failures = []
    for operation in operations:
        if operation.label == "POST /api/legal/runs":  # a valid start would queue real jobs: negative cases only
            modes = (GenerationMode.NEGATIVE,)
        else:
            modes = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        for mode in modes:
            for case in _cases(operation, mode):
                kw = case.as_transport_kwargs(base_url="", headers=tenant.headers)
                kw.pop("cookies", None)
                r = await legal_client.request(kw.pop("method"), kw.pop("url"), **kw)
                if r.status_code >= 500:
                    failures.append(f"{operation.label} → {r.status_code}: {case.as_curl_command()}")
    assert failures == []
