"""Sign-in, sign-out, sessions, throttling, roles and API tokens."""
import pytest

from ill import accounts
from ill.extensions import db
from tests.factories import PASSWORD, bearer, login


def test_sign_in_and_out(client, make):
    user = make.user("patron", email="siti@example.org")
    make.commit()
    r = login(client, "SITI@example.org ")
    assert r.status_code == 302
    assert client.get("/api/v1/me").get_json()["email"] == user.email
    r = client.post("/logout")
    assert r.status_code == 302
    assert client.get("/api/v1/me").status_code == 401


def test_wrong_password_is_refused(client, make):
    make.user("patron", email="a@example.org")
    make.commit()
    r = login(client, "a@example.org", "not the password")
    assert r.status_code == 401
    assert client.get("/api/v1/me").status_code == 401


def test_passwords_are_hashed_with_scrypt(make):
    user = make.user("patron")
    assert user.password_hash.startswith("scrypt:")
    assert PASSWORD not in user.password_hash


def test_repeated_failures_are_refused_with_429(client, make, app):
    make.user("patron", email="b@example.org")
    make.commit()
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert login(client, "b@example.org", "guess").status_code == 401
    r = login(client, "b@example.org")  # even the right password, while throttled
    assert r.status_code == 429
    assert "Retry-After" in r.headers


def test_next_only_points_inside_the_site(client, make):
    make.user("patron", email="c@example.org")
    make.commit()
    for evil in ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"]:
        r = login(client, "c@example.org", next=evil)
        assert r.headers["Location"] in ("/", "http://localhost/"), evil
        client.post("/logout")
    r = login(client, "c@example.org", next="/account")
    assert r.headers["Location"].endswith("/account")


def test_session_is_renewed_at_sign_in(client, make):
    make.user("patron", email="d@example.org")
    make.commit()
    with client.session_transaction() as s:
        s["planted"] = "by an attacker"
    login(client, "d@example.org")
    with client.session_transaction() as s:
        assert "planted" not in s


def test_old_sessions_die_on_sign_out(app, make):
    make.user("patron", email="e@example.org")
    make.commit()
    first, second = app.test_client(), app.test_client()
    login(first, "e@example.org")
    login(second, "e@example.org")
    assert second.get("/api/v1/me").status_code == 200
    first.post("/logout")
    assert second.get("/api/v1/me").status_code == 401


def test_password_change_ends_other_sessions(app, make):
    make.user("patron", email="f@example.org")
    make.commit()
    mine, other = app.test_client(), app.test_client()
    login(mine, "f@example.org")
    login(other, "f@example.org")
    r = mine.post("/account", data={"current_password": PASSWORD, "new_password": "a new secret 1",
                                    "confirm_password": "a new secret 1"})
    assert r.status_code == 302
    assert mine.get("/api/v1/me").status_code == 200
    assert other.get("/api/v1/me").status_code == 401
    assert login(app.test_client(), "f@example.org", "a new secret 1").status_code == 302


def test_session_cookie_flags(client, make):
    make.user("patron", email="g@example.org")
    make.commit()
    r = login(client, "g@example.org")
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie


@pytest.mark.parametrize("app_config", [{"HTTPS": True}])
def test_cookies_are_secure_on_https(client, make, app_config):
    make.user("patron", email="h@example.org")
    make.commit()
    r = login(client, "h@example.org")
    assert "Secure" in r.headers["Set-Cookie"]
    assert "Strict-Transport-Security" in r.headers


def test_roles_need_a_library_for_patrons_and_librarians(session, make):
    with pytest.raises(accounts.BadRequest):
        accounts.create_user(session, "x@example.org", PASSWORD, "librarian", None)
    coordinator = accounts.create_user(session, "y@example.org", PASSWORD, "coordinator", None)
    assert coordinator.library is None


def test_require_role_and_library_staff(app, make):
    lib = make.partner("AAA")
    other = make.partner("BBB")
    librarian = make.user("librarian", library=lib)
    patron = make.user("patron", library=lib)
    coordinator = make.user("coordinator")
    make.commit()
    from flask_login import login_user

    for user, allowed in [(librarian, True), (patron, False), (coordinator, True)]:
        with app.test_request_context():
            login_user(user)
            if allowed:
                accounts.require_library_staff(lib.id)
            else:
                with pytest.raises(accounts.Forbidden):
                    accounts.require_library_staff(lib.id)
    with app.test_request_context():
        login_user(librarian)
        with pytest.raises(accounts.Forbidden):
            accounts.require_library_staff(other.id)
        with pytest.raises(accounts.Forbidden):
            accounts.require_role("coordinator", "admin")


def test_api_token_authenticates_and_can_be_revoked(client, make):
    user = make.user("librarian")
    token = make.token(user)
    make.commit()
    assert client.get("/api/v1/me", headers=bearer(token)).get_json()["role"] == "librarian"
    stored = user.tokens[0].token_hash
    assert token not in stored and len(stored) == 64
    accounts.revoke_tokens(db.session, user)
    db.session.commit()
    r = client.get("/api/v1/me", headers=bearer(token))
    assert r.status_code == 401
    assert r.get_json()["error"]["code"] == "not_signed_in"
    assert client.get("/api/v1/me", headers=bearer("ill_forged")).status_code == 401


def test_a_tokens_last_use_is_kept_to_the_minute_without_a_write_per_call(client, make):
    from datetime import timedelta

    user = make.user("librarian")
    token = make.token(user)
    make.commit()
    row = user.tokens[0]
    assert row.last_used_at is None
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    db.session.expire_all()
    first = row.last_used_at
    assert first is not None

    writes = []
    from sqlalchemy import event

    def count(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("UPDATE API_TOKENS"):
            writes.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        for _ in range(5):  # within the minute: the same last use, no write
            assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
        assert writes == []
        row.last_used_at = first - timedelta(minutes=2)  # a call two minutes later moves it
        db.session.commit()
        assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
        assert len(writes) == 2  # ours just above, and the call's
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    db.session.expire_all()
    assert row.last_used_at > first - timedelta(minutes=2)
