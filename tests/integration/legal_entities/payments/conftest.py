"""Payments' tests: the legal entities' tenant with the seller's requisites and signer (advance invoices need
them) — the registry of `town` plus the receipt requisites."""

from __future__ import annotations

import pytest

from tests.integration.legal_entities.helpers import seller


@pytest.fixture(scope="module")
async def tenant(make_tenant):
    return await make_tenant(seed=seller)
