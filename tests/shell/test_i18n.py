"""Indonesian and English: the user's choice, else Accept-Language."""
from tests.factories import login


def test_accept_language_picks_indonesian(client):
    r = client.get("/login", headers={"Accept-Language": "id-ID,id;q=0.9,en;q=0.5"})
    html = r.get_data(as_text=True)
    assert '<html lang="id">' in html
    assert "Masuk" in html and "Kata sandi" in html


def test_accept_language_picks_english(client):
    html = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9"}).get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Password" in html and "Kata sandi" not in html


def test_default_is_indonesian_when_browser_asks_for_neither(client):
    html = client.get("/", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert '<html lang="id">' in html


def test_choice_overrides_browser_and_sticks_to_the_user(app, make):
    make.user("patron", email="lang@example.org")
    make.commit()
    client = app.test_client()
    client.post("/language", data={"lang": "en", "next": "/login"},
                headers={"Accept-Language": "id"})
    assert '<html lang="en">' in client.get("/", headers={"Accept-Language": "id"}).get_data(as_text=True)
    login(client, "lang@example.org")
    # A new device: the signed-in user's own choice wins over the browser.
    other = app.test_client()
    login(other, "lang@example.org")
    assert '<html lang="en">' in other.get("/", headers={"Accept-Language": "id"}).get_data(as_text=True)


def test_unknown_language_is_refused(client):
    assert client.post("/language", data={"lang": "xx"}).status_code == 400


def test_error_messages_follow_the_language(client):
    r = client.get("/api/v1/nothing-here", headers={"Accept-Language": "id"})
    assert r.status_code == 404
    assert r.get_json()["error"]["message"] == "Halaman itu tidak ditemukan."
    r = client.get("/api/v1/nothing-here", headers={"Accept-Language": "en"})
    assert r.get_json()["error"]["message"] == "We could not find that page."


def test_dates_are_written_in_the_language(app):
    from datetime import date

    from flask_babel import force_locale

    from ill.ui import format_day

    with app.test_request_context():
        with force_locale("id"):
            assert format_day(date(2026, 10, 18)) == "18 Oktober 2026"
        with force_locale("en"):
            assert format_day(date(2026, 10, 18)) == "October 18, 2026"
