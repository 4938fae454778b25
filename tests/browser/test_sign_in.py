"""A librarian signs in and sees the home page in Indonesian."""
from ill.extensions import db
from tests.factories import Factory


def test_sign_in_and_see_the_home_page_in_indonesian(live_app, live_server, page_id, tmp_path):
    with live_app.app_context():
        make = Factory(db.session)
        make.user("librarian", library=make.partner("UINSU", "Perpustakaan UIN Sumatera Utara"),
                  email="pustakawan@uinsu.example", password="kata sandi rahasia", name="Rina")
        db.session.commit()
    page = page_id
    page.goto(live_server + "/")
    assert page.get_attribute("html", "lang") == "id"
    page.get_by_role("link", name="Masuk").first.click()
    page.get_by_label("Surel").fill("pustakawan@uinsu.example")
    page.get_by_label("Kata sandi").fill("kata sandi rahasia")
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_url(live_server + "/")
    assert page.get_by_role("heading", name="Halo, Rina").is_visible()
    assert page.get_by_text("Selamat datang, Rina.").is_visible()
    assert "Anda masuk sebagai pustakawan" in page.content()
    page.screenshot(path=str(tmp_path / "home-id.png"), full_page=True)
    # Signing out works from the same page, and the session is gone.
    page.get_by_role("button", name="Keluar").click()
    page.wait_for_url(live_server + "/")
    assert page.get_by_text("Anda sudah keluar.").is_visible()


def test_switching_to_english(live_server, page_id):
    page = page_id
    page.goto(live_server + "/login")
    with page.expect_navigation():
        page.get_by_label("Bahasa").select_option("en")
    assert page.get_attribute("html", "lang") == "en"
    assert page.get_by_role("heading", name="Sign in").is_visible()
