"""Browser tests: Playwright (sync API) drives Debian's /usr/bin/chromium against pytest-django's live
server. Never `playwright install`: the pinned playwright release matches the distribution's Chromium.

On a failure the page the test was on is saved to tests/e2e/artifacts/ (screenshot and HTML), followed by
screenshots of the main admin pages as they stood then (git-ignored)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).parent / "artifacts"
MAIN_PAGES = {
    "index": "/admin/",
    "reservations": "/admin/reservations/reservation/",
    "sales-dashboard": "/admin/backoffice/salesdashboard/",
    "wallets": "/admin/points/wallet/",
}
reports = pytest.StashKey[dict[str, pytest.TestReport]]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
    report = yield
    item.stash.setdefault(reports, {})[report.when] = report
    return report


@pytest.fixture(scope="package", autouse=True)
def _allow_async_unsafe() -> Iterator[None]:
    """DJANGO_ALLOW_ASYNC_UNSAFE=true while the browser tests run, and only then (manage.py check --deploy
    rightly refuses it, and other tests run subprocesses that inherit the environment).

    Playwright's sync API runs an asyncio loop in the test's thread; Django's ORM calls made by the test
    (factories, assertions, the live server's database flush) would otherwise be refused as async-unsafe."""
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="package")
def browser(_allow_async_unsafe: None) -> Iterator[Any]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"{CHROMIUM} is missing: `apt-get install chromium` (.ci/ensure-services does it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any, live_server: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    report = request.node.stash.get(reports, {}).get("call")
    if report is not None and report.failed:
        save_failure_artifacts(page, request.node.name)
    context.close()


def save_failure_artifacts(page: Any, test_name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    stem = re.sub(r"[^\w.-]+", "_", test_name)
    try:
        page.screenshot(path=str(ARTIFACTS / f"{stem}.png"), full_page=True)
        (ARTIFACTS / f"{stem}.html").write_text(page.content())
        for name, path in MAIN_PAGES.items():
            page.goto(path)
            page.screenshot(path=str(ARTIFACTS / f"{stem}--{name}.png"), full_page=True)
    except Exception as exc:  # never hide the test's own failure behind an artifact problem
        (ARTIFACTS / f"{stem}.error.txt").write_text(repr(exc))


@pytest.fixture
def operator(transactional_db: None) -> Any:
    """A staff member in the `operators` group, with a password (the tests log in through the form)."""
    from tests.factories import UserFactory
    from users.operators import operators_group_sync

    group = operators_group_sync()  # each live-server test starts from a flushed database
    user = UserFactory(email="operator@example.com", is_staff=True)
    user.groups.add(group)
    return user


def log_in(page: Any, email: str, password: str, code: str = "") -> None:
    """Through the admin's login form; `code` is the authentication code (authenticator app or recovery)."""
    page.goto("/admin/login/?next=/admin/")
    page.fill("#id_username", email)
    page.fill("#id_password", password)
    if code:
        page.fill("#id_otp_token", code)
    page.click("input[type=submit]")
