"""A coordinator, in Indonesian, in a real browser: imports the cooperation
spreadsheet from the dashboard, opens an agreement, and terminates it (through
the confirmation dialog)."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from agreements import demo
from ill import clock
from ill.extensions import db
from tests.browser.conftest import sign_in
from tests.factories import Factory

pytestmark = pytest.mark.browser


def _coordinator_signed_in(live_app, live_server, page):
    """UINSU and a coordinator, signed in on ``page``."""
    with live_app.app_context():
        make = Factory(db.session)
        make.partner("UINSU", "Perpustakaan UIN Sumatera Utara")
        make.user("coordinator", email="koordinator@example.org", name="Koordinator")
        db.session.commit()
    sign_in(page, live_server, "koordinator@example.org")
    return page


def test_coordinator_imports_and_terminates(live_app, live_server, page_id, tmp_path):
    page = _coordinator_signed_in(live_app, live_server, page_id)
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


def test_coordinator_keeps_the_network_s_closed_days(live_app, live_server, page_id, tmp_path):
    """In Indonesian: the year's public holidays for the whole network, then a
    library's semester break, seen on the calendar and the library's page."""
    page = _coordinator_signed_in(live_app, live_server, page_id)
    page.get_by_role("link", name="Kalender").first.click()
    expect(page.get_by_role("heading", name="Hari tutup")).to_be_visible()
    page.fill("#year", "2027")
    page.get_by_role("button", name="Tambahkan hari libur nasional").click()
    page.wait_for_load_state()
    expect(page.locator("main")).to_contain_text("hari tutup ditambahkan")
    expect(page.locator('#closed-days tr[data-day="2027-08-17"]')).to_contain_text(
        "Hari Kemerdekaan Republik Indonesia")
    # UINSU's semester break: choose the library, then close three days
    page.select_option("#library", "UINSU")
    page.get_by_role("button", name="Tampilkan").click()
    page.wait_for_load_state()
    page.select_option("#scope", "UINSU")
    page.fill("#day", "2027-01-04")
    page.fill("#until", "2027-01-06")
    page.fill("#reason", "Libur semester")
    page.get_by_role("button", name="Tutup", exact=True).click()
    page.wait_for_load_state()
    expect(page.locator("main")).to_contain_text("3 hari tutup ditambahkan")
    expect(page.locator('#closed-days tr[data-day="2027-01-05"][data-library="UINSU"]')).to_contain_text(
        "Libur semester")
    page.screenshot(path=str(tmp_path / "calendar-id.png"), full_page=True)
    page.get_by_role("link", name="atur di halaman perpustakaan").click()
    page.wait_for_load_state()
    page.get_by_label("Minggu").check()
    page.locator("form:has(input[name=closed_weekdays])").get_by_role("button", name="Simpan").click()
    page.wait_for_load_state()
    expect(page.locator("#closed-weekdays")).to_contain_text("Minggu")


def test_a_librarian_sets_the_library_s_lending_rules_and_a_borrowing_patron_reads_them(live_app, live_server,
                                                                                         page_id, tmp_path):
    """In Indonesian: UGM's librarian says UGM lends theses only as copies, of
    at most 50 pages; a patron of UINSU, opening a thesis UGM holds, reads
    on the record page why it cannot be borrowed from UGM, and that a copy can."""
    with live_app.app_context():
        make = Factory(db.session)
        uinsu, ugm = make.partner("UINSU", "Perpustakaan UIN Sumatera Utara"), make.partner("UGM", "Perpustakaan UGM")
        make.loan_agreement(uinsu, ugm)
        thesis = make.cluster_with_holdings({ugm: ["available"]}, title="Analisis layanan sirkulasi", fmt="thesis")
        make.user("librarian", ugm, email="pustakawan@ugm.example.org", name="Pustakawan UGM")
        make.user("patron", uinsu, email="mahasiswa@uinsu.example.org", name="Siti")
        db.session.commit()
        thesis_id = thesis.id
    page = page_id
    sign_in(page, live_server, "pustakawan@ugm.example.org")
    page.goto(live_server + "/partners/UGM")
    expect(page.locator("#lending-rules")).to_contain_text("tidak ada")
    form = page.locator("#rules-form")
    form.get_by_label("skripsi/tesis").check()
    page.fill("#copy_max_pages", "50")
    form.get_by_role("button", name="Simpan aturan peminjaman").click()
    page.wait_for_load_state()
    expect(page.locator("#lending-rules")).to_contain_text("hanya dilayani sebagai salinan: skripsi/tesis")
    expect(page.locator("#lending-rules")).to_contain_text("salinan paling banyak 50 halaman")
    page.screenshot(path=str(tmp_path / "lending-rules-id.png"), full_page=True)
    page.get_by_role("button", name="Keluar").click()
    sign_in(page, live_server, "mahasiswa@uinsu.example.org")
    page.goto(f"{live_server}/catalog/records/{thesis_id}")
    expect(page.locator("main")).to_contain_text("skripsi/tesis hanya dilayani sebagai salinan")
