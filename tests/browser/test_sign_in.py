"""A librarian signs in and sees the home page in Indonesian."""
from playwright.sync_api import expect

from ill.extensions import db
from tests.browser.conftest import sign_in
from tests.factories import Factory


def test_sign_in_and_see_the_home_page_in_indonesian(live_app, live_server, page_id, tmp_path):
    with live_app.app_context():
        make = Factory(db.session)
        make.user("librarian", library=make.partner("UINSU", "Perpustakaan UIN Sumatera Utara"),
                  email="pustakawan@uinsu.example", password="kata sandi rahasia", name="Rina")
        db.session.commit()
    page = page_id
    page.goto(live_server + "/")
    expect(page.locator("html")).to_have_attribute("lang", "id")
    page.get_by_role("link", name="Masuk").first.click()
    page.get_by_label("Surel").fill("pustakawan@uinsu.example")
    page.get_by_label("Kata sandi").fill("kata sandi rahasia")
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_url(live_server + "/")
    expect(page.get_by_role("heading", name="Halo, Rina")).to_be_visible()
    expect(page.get_by_text("Selamat datang, Rina.")).to_be_visible()
    assert "Anda masuk sebagai pustakawan" in page.content()
    page.screenshot(path=str(tmp_path / "home-id.png"), full_page=True)
    # Signing out works from the same page, and the session is gone.
    page.get_by_role("button", name="Keluar").click()
    page.wait_for_url(live_server + "/")
    expect(page.get_by_text("Anda sudah keluar.")).to_be_visible()


def test_switching_to_english(live_server, page_id):
    page = page_id
    page.goto(live_server + "/login")
    page.get_by_label("Bahasa").select_option("en")
    # The choice posts and the page comes back in English: waited for, not
    # read at once (on a busy machine the old page may still be there).
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_a_librarian_invites_a_patron_who_chooses_a_password(live_app, live_server, page_id, tmp_path):
    """In Indonesian: the librarian adds a patron on Akun; the patron follows
    the mailed link, chooses a password and is signed in."""
    import re

    with live_app.app_context():
        make = Factory(db.session)
        make.user("librarian", library=make.partner("UINSU", "Perpustakaan UIN Sumatera Utara"),
                  email="pustakawan@uinsu.example", password="kata sandi rahasia", name="Rina")
        db.session.commit()
    page = page_id
    sign_in(page, live_server, "pustakawan@uinsu.example", "kata sandi rahasia")
    page.get_by_role("link", name="Akun").first.click()
    page.fill("#email", "mahasiswa@uinsu.example")
    page.fill("#name", "Nur Aisyah")
    page.locator("#add-account").get_by_role("button", name="Tambah dan undang").click()
    expect(page.locator('#accounts tr[data-email="mahasiswa@uinsu.example"]')).to_contain_text(
        "diundang, belum ada kata sandi")
    page.screenshot(path=str(tmp_path / "accounts-id.png"), full_page=True)
    page.get_by_role("button", name="Keluar").click()
    page.wait_for_url(live_server + "/")
    (mail,) = [m for m in live_app.extensions["mail_outbox"] if m["To"] == "mahasiswa@uinsu.example"]
    link = re.search(r"/password/set/\S+", mail.get_content()).group(0)
    page.goto(live_server + link)
    page.get_by_label("Kata sandi baru (paling sedikit 8 karakter)").fill("bacaan-malam")
    page.get_by_label("Kata sandi baru sekali lagi").fill("bacaan-malam")
    page.get_by_role("button", name="Atur kata sandi").click()
    page.wait_for_url(live_server + "/")
    expect(page.get_by_text("Kata sandi Anda sudah diatur. Selamat datang, Nur Aisyah.")).to_be_visible()
