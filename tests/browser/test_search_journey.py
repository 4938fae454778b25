"""A reader's journey in a real browser: search, narrow to one library, open
a record. Playwright drives Debian's Chromium against the app served on a
random local port, with a SQLite file database."""
from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = pytest.mark.browser


def _need_browser():
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium is required under CI=true: /usr/bin/chromium is missing")
        pytest.skip("no /usr/bin/chromium")
    try:
        from playwright.sync_api import sync_playwright  # noqa: F401
    except ImportError:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip("playwright is not installed")


@pytest.fixture
def site(tmp_path):
    _need_browser()
    from werkzeug.serving import make_server

    from ill import create_app, schema_extras
    from ill.extensions import db

    from ..factories import Factory

    app = create_app({"TESTING": True, "SECRET_KEY": "browser-test",
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'browser.sqlite3'}",
                      "DATA_DIR": str(tmp_path / "data"), "MAIL_BACKEND": "memory"})
    with app.app_context():
        db.create_all()
        schema_extras.create_all(db.session)
        make = Factory(db.session)
        books = {
            "misbah": make.search_cluster(
                title="Tafsīr al-Miṣbāḥ : pesan, kesan dan keserasian al-Qurʼan",
                author="Shihab, M. Quraish", year=2002, isbns=["9789793062792"],
                holdings={"UGM": ["available"], "UINSU": ["on_loan"]}),
            "katsir": make.search_cluster(title="Tafsir Ibnu Katsir", year=2010,
                                          holdings={"PNRI": ["available"]}),
            "azhar": make.search_cluster(title="Tafsir al-Azhar", author="Hamka", year=1982,
                                         holdings={"UINSU": ["available", "available"]}),
        }
        ids = {k: v.id for k, v in books.items()}
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", ids
    finally:
        server.shutdown()
        thread.join(5)
        with app.app_context():
            db.engine.dispose()


def test_search_filter_and_open_a_record(site):
    from playwright.sync_api import expect, sync_playwright

    base, ids = site
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            page = browser.new_page()
            page.goto(base + "/")
            page.fill("#q", "tafsir al-misbah")
            page.press("#q", "Enter")
            expect(page.locator(".hit h2 a")).to_have_count(1)
            expect(page.locator(".hit h2 a").first).to_contain_text("Tafsīr al-Miṣbāḥ")

            page.fill("#q", "tafsir")
            page.click("form.search-form button[type=submit]")
            expect(page.locator(".hit")).to_have_count(3)
            expect(page.locator("#result-count")).to_contain_text("3")

            page.click("[data-facet=library] a:text-is('UINSU')")
            expect(page.locator(".hit")).to_have_count(2)
            titles = page.locator(".hit h2 a").all_inner_texts()
            assert not any("Katsir" in t for t in titles)
            # The library filter stays on while the words change.
            page.fill("#q", "hamka")
            page.press("#q", "Enter")
            expect(page.locator(".hit")).to_have_count(1)
            assert "library=UINSU" in page.url

            page.click(".hit h2 a")
            expect(page).to_have_url(f"{base}/catalog/records/{ids['azhar']}")
            expect(page.locator("h1")).to_have_text("Tafsir al-Azhar")
            expect(page.locator("#holdings tr[data-library=UINSU]")).to_contain_text("UINSU")
        finally:
            browser.close()
