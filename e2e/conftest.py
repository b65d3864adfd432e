"""Browser journeys: Playwright's Python package driving Debian's Chromium against a live server.

No browser download: the launch points at /usr/bin/chromium (override with OPENIOP_CHROMIUM).
A failing journey leaves a screenshot in e2e/artifacts/.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = os.environ.get("OPENIOP_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).parent / "artifacts"

# pytest-django's live server and Playwright's sync API share the test thread's event loop.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "e2e" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser() -> Browser:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: install Debian's chromium (apt-get install chromium)"
        )
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-dev-shm-usage",
            ],
        )
        yield browser
        browser.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Page:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    # Every page runs under the Content-Security-Policy: a script or style it blocks is a bug (a
    # button that silently does nothing), so a journey that meets one fails.
    blocked: list[str] = []
    page.on(
        "console",
        lambda msg: blocked.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    yield page
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()
    assert not blocked, f"the Content-Security-Policy blocked: {blocked}"


@pytest.fixture
def after_the_morning_group(monkeypatch: pytest.MonkeyPatch) -> None:
    """The clinic's clock at 12:30 UTC or later today, so the journeys' 9:00-12:00 (UTC) group has
    started and ended: attendance is refused before a session starts and a note's signature
    before it ends. Before 12:30 UTC the clock runs ahead by the difference (still today, still
    moving); later in the day it is left alone. Patched where core.clock reads it."""
    from django.utils import timezone

    real = timezone.now
    started = real()
    shift = started.replace(hour=12, minute=30, second=0, microsecond=0) - started
    if shift > dt.timedelta(0):
        monkeypatch.setattr(timezone, "now", lambda: real() + shift)
