"""A real browser against a real server: Debian's Chromium driven by
Playwright (never a downloaded browser), the app served on 127.0.0.1."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from ill import create_app
from ill.extensions import db
from tests.live import served

CHROMIUM = os.environ.get("ILL_TEST_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (make browser)")
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium package (make browser)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def live_app(tmp_path):
    """The app on a SQLite file, schema built; tests add their own rows."""
    app = create_app({
        "TESTING": True, "SECRET_KEY": "browser-test", "DATABASE_URL": f"sqlite:///{tmp_path / 'live.sqlite3'}",
        "MAIL_BACKEND": "memory", "DATA_DIR": str(tmp_path / "data"), "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
        "CATALOG_SUGGEST_WAIT": 30,  # a search waits for the words it may suggest
    })
    with app.app_context():
        from ill import schema_extras

        db.create_all()
        schema_extras.create_all(db.session)
        db.session.commit()
    return app


@pytest.fixture
def live_server(live_app):
    with served(live_app) as url:
        yield url


@pytest.fixture
def page_id(browser):
    """A fresh browser context that prefers Indonesian."""
    context = browser.new_context(locale="id-ID", extra_http_headers={"Accept-Language": "id-ID,id;q=0.9"})
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def page_en(browser):
    context = browser.new_context(locale="en-GB", extra_http_headers={"Accept-Language": "en-GB,en;q=0.9"})
    page = context.new_page()
    yield page
    context.close()


def sign_in(page, server: str, email: str, password: str | None = None) -> None:
    """Signs ``email`` in on ``page`` through the sign-in form and waits for
    the home page (the factories' password unless another is given)."""
    from tests.factories import PASSWORD

    page.goto(server + "/login")
    page.fill("#email", email)
    page.fill("#password", password or PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_url(server + "/")
