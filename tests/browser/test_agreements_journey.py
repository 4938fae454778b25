"""A coordinator, in Indonesian, in a real browser: imports the cooperation
spreadsheet from the dashboard, opens an agreement, and terminates it (through
the confirmation dialog)."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from agreements import demo
from ill import clock
from ill.extensions import db
from tests.factories import PASSWORD, Factory

pytestmark = pytest.mark.browser


def test_coordinator_imports_and_terminates(live_app, live_server, page_id, tmp_path):
    with live_app.app_context():
        make = Factory(db.session)
        make.partner("UINSU", "Perpustakaan UIN Sumatera Utara")
        make.user("coordinator", email="koordinator@example.org", name="Koordinator")
        db.session.commit()
    page = page_id
    page.goto(live_server + "/login")
    page.fill("#email", "koordinator@example.org")
    page.fill("#password", PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_url(live_server + "/")
    page.get_by_role("link", name="Perjanjian").first.click()
    expect(page.get_by_role("heading", name="Perjanjian", exact=True)).to_be_visible()
    page.set_input_files("#file", str(demo.TABLE))
    page.select_option("#party", "UINSU")
    page.get_by_role("button", name="Impor").click()
    page.wait_for_load_state()
    expect(page.locator("main")).to_contain_text("16 perjanjian dibuat, 16 mitra baru")
    page.screenshot(path=str(tmp_path / "import-id.png"), full_page=True)
    page.get_by_role("link", name="Kembali ke daftar perjanjian").click()
    page.wait_for_load_state()
    unknown = page.locator("section[aria-labelledby=h-unknown]")
    expect(unknown.get_by_text("Universitas Gadjah Mada")).to_be_visible()
    unknown.get_by_role("link", name="Universitas Gadjah Mada").first.click()
    page.wait_for_load_state()
    expect(page.locator("main")).to_contain_text("tidak diketahui")
    page.once("dialog", lambda dialog: dialog.accept())
    page.fill("#reason", "Tidak diperpanjang")
    page.get_by_role("button", name="Akhiri").click()
    page.wait_for_load_state()
    expect(page.get_by_text("Perjanjian diakhiri.")).to_be_visible()
    assert "Tidak diperpanjang" in page.content()
    assert f'value="{clock.today().isoformat()}"' not in page.content()  # the form is gone
    page.goto(live_server + "/agreements/")
    page.screenshot(path=str(tmp_path / "dashboard-id.png"), full_page=True)
