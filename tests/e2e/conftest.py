"""Browser end-to-end tests: the PyPI `playwright` package (async API, its own bundled driver) drives
the system Chromium (Debian's `chromium`, installed by infra/scripts/ensure-system-deps.sh).

No browser is downloaded: `executable_path` points at the system binary (`AQUABILL_CHROMIUM` overrides
it). A missing Chromium or Playwright fails the tests with a clear message instead of skipping them.
The async API keeps the event loop free, so the in-process arq worker (fixture `worker`) runs jobs
while the test waits on the browser.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from aquabill.demo.tenant import seed_registry

# Flags the machine needs (see the environment notes): no sandbox as root, no GPU, and no background
# connections to the outside, which this machine's closed network refuses. Playwright itself adds
# --headless and a fresh temporary --user-data-dir for every launch.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
TIMEOUT_MS = 10_000  # every wait on the page is bounded by this
ACCOUNTS = 60
TENANT_NAME = "МУП «Водоканал г. Заречного»"
LIVE_ON = re.compile(r"(^|\s)on(\s|$)")


def chromium_executable() -> str:
    given = os.environ.get("AQUABILL_CHROMIUM")
    if given:
        if not os.access(given, os.X_OK):
            pytest.fail(f"AQUABILL_CHROMIUM={given} is not an executable file")
        return given
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.fail("Chromium is not installed: the browser end-to-end tests need it. "
                    "Run `make system-deps` (infra/scripts/ensure-system-deps.sh installs Debian's `chromium`) "
                    "or point AQUABILL_CHROMIUM at a Chromium binary.", pytrace=False)
    return found


@pytest.fixture(scope="session")
async def browser():
    try:
        from playwright.async_api import async_playwright, expect
    except ImportError:
        pytest.fail("The `playwright` package is missing: install the dev extra "
                    "(pip install -c requirements/constraints.txt -e '.[dev]').", pytrace=False)
    executable = chromium_executable()
    expect.set_options(timeout=TIMEOUT_MS)
    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS,
                                     timeout=30_000)
        yield b
        await b.close()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory) -> Path:
    """Where the tests save their screenshots: AQUABILL_E2E_SCREENSHOTS, or a pytest temp folder."""
    given = os.environ.get("AQUABILL_E2E_SCREENSHOTS")
    if given:
        path = Path(given)
        path.mkdir(parents=True, exist_ok=True)
        return path
    return tmp_path_factory.mktemp("e2e-screenshots")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"e2e_report_{report.when}", report)
    return report


@pytest.fixture
async def context(browser, request, screenshots):
    """A fresh browser profile state (no cookies) per test; a screenshot of each page if the test fails."""
    ctx = await browser.new_context(locale="ru-RU", viewport={"width": 1280, "height": 800})
    ctx.set_default_timeout(TIMEOUT_MS)
    ctx.set_default_navigation_timeout(15_000)
    yield ctx
    report = getattr(request.node, "e2e_report_call", None)
    if report is not None and report.failed:
        for i, p in enumerate(ctx.pages):
            try:
                await p.screenshot(path=screenshots / f"FAILED-{request.node.name}-{i}.png", full_page=True)
            except Exception:  # the page may be gone; the failure itself is what matters
                pass
    await ctx.close()


@pytest.fixture
async def page(context):
    return await context.new_page()


@pytest.fixture(scope="session")
def servers(app_servers):
    """The app in two uvicorn processes sharing PostgreSQL and Redis (from tests/conftest.py)."""
    return app_servers


@pytest.fixture(scope="session")
async def e2e_tenant(make_tenant):
    """A tenant with an admin and a small deterministic registry of accounts."""

    async def seed(conn, _tenant):
        await seed_registry(conn, accounts_count=ACCOUNTS)

    return await make_tenant(name=TENANT_NAME, seed=seed)
