"""CSRF protection on every form and on cookie-authenticated API writes."""
import re

import pytest

from tests.factories import login


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


def token_from(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_form_without_token_is_refused(client, make):
    make.user("patron", email="p@example.org")
    make.commit()
    r = login(client, "p@example.org")
    assert r.status_code == 400
    assert client.get("/api/v1/me").status_code == 401


def test_form_with_token_is_accepted(client, make):
    make.user("patron", email="q@example.org")
    make.commit()
    token = token_from(client.get("/login").get_data(as_text=True))
    r = login(client, "q@example.org", csrf_token=token)
    assert r.status_code == 302
    assert client.post("/logout").status_code == 400  # still needs its token
    token = token_from(client.get("/").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302


def test_sign_out_is_not_possible_by_get(client):
    assert client.get("/logout").status_code == 405


def test_cookie_session_api_write_needs_token_but_bearer_does_not(client, app, make):
    user = make.user("librarian", email="r@example.org")
    bearer_token = make.token(user)
    make.commit()
    login(client, "r@example.org", csrf_token=token_from(client.get("/login").get_data(as_text=True)))
    r = client.post("/api/v1/tokens", json={"label": "x"})
    assert r.status_code == 400
    assert r.get_json()["error"]["code"] == "bad_request"
    token = token_from(client.get("/").get_data(as_text=True))
    assert client.post("/api/v1/tokens", json={}, headers={"X-CSRFToken": token}).status_code == 201
    other = app.test_client()
    r = other.post("/api/v1/tokens", json={}, headers={"Authorization": f"Bearer {bearer_token}"})
    assert r.status_code == 201


def test_bearer_token_wins_over_a_session_cookie(app, make):
    librarian = make.user("librarian", email="s@example.org")
    patron = make.user("patron", email="t@example.org")
    token = make.token(librarian)
    make.commit()
    client = app.test_client()
    login(client, "t@example.org", csrf_token=token_from(client.get("/login").get_data(as_text=True)))
    r = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert r.get_json()["email"] == librarian.email
    r = client.post("/api/v1/tokens", json={}, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 201
    r = client.get("/api/v1/me", headers={"Authorization": "Bearer ill_not_a_token"})
    assert r.status_code == 401
    assert client.get("/api/v1/me").get_json()["email"] == patron.email
