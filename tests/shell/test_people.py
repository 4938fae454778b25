"""Accounts through the pages and the API: a librarian adds and deactivates
their own library's patrons and colleagues, coordinators everyone's but an
administrator's; a new account's owner, and whoever forgot a password,
chooses one through a link mailed to them, which works once."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from ill import people
from ill.accounts import User
from tests.factories import bearer, login


@pytest.fixture
def lib(make):
    home, other = make.partner("HOME", "Perpustakaan HOME"), make.partner("OTHER", "Perpustakaan OTHER")
    users = {
        "librarian": make.user("librarian", home, email="pustakawan@home.ac.id", name="Pustakawan", locale="en"),
        "other_librarian": make.user("librarian", other, email="pustakawan@other.ac.id", locale="en"),
        "patron": make.user("patron", home, email="siti@home.ac.id", name="Siti", locale="en"),
        "other_patron": make.user("patron", other, email="budi@other.ac.id", locale="en"),
        "coordinator": make.user("coordinator", email="koordinator@jaringan.id", locale="en"),
        "admin": make.user("admin", email="admin@jaringan.id", locale="en"),
    }
    tokens = {k: make.token(u) for k, u in users.items()}
    make.commit()
    return users, tokens


def _mails(app, to=None):
    box = app.extensions.get("mail_outbox", [])
    return [m for m in box if to is None or m["To"] == to]


def _link(mail) -> str:
    body = mail.get_content()
    return re.search(r"http://\S+/password/set/\S+", body).group(0).split("127.0.0.1:5000", 1)[-1]


def _user(session, email) -> User:
    session.expire_all()
    return session.scalar(select(User).where(User.email == email))


def test_a_librarian_adds_a_patron_who_chooses_a_password_through_the_invitation(app, client, session, lib):
    users, tokens = lib
    r = client.post("/api/v1/users", json={"email": " Ahmad@Home.ac.id", "name": "Ahmad"},
                    headers=bearer(tokens["librarian"]))
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body == {**body, "email": "ahmad@home.ac.id", "role": "patron", "library": "HOME", "active": True,
                    "has_password": False}
    client.post("/language", data={"lang": "en"})
    # no password yet: nobody signs in with an empty one
    assert login(client, "ahmad@home.ac.id", "").status_code == 401
    (mail,) = _mails(app, "ahmad@home.ac.id")
    body = mail.get_content()  # in the network's language: the account has none of its own yet
    assert "Pustakawan telah membuatkan Anda akun" in body and "Perpustakaan HOME" in body
    link = _link(mail)
    page = client.get(link)
    assert page.status_code == 200 and "Choose the password you will sign in with" in page.get_data(as_text=True)
    r = client.post(link, data={"new_password": "short", "confirm_password": "short"})
    assert r.status_code == 400 and "at least 8 characters" in r.get_data(as_text=True)
    r = client.post(link, data={"new_password": "rahasia-ahmad", "confirm_password": "rahasia-ahmad"})
    assert r.status_code == 302
    assert client.get("/api/v1/me").get_json()["email"] == "ahmad@home.ac.id"  # signed in
    # the link worked once
    assert _user(session, "ahmad@home.ac.id").locale == "en"  # the language they chose on the page
    client.post("/logout")
    client.post("/language", data={"lang": "en"})
    again = client.get(link)
    assert again.status_code == 400 and "works once" in again.get_data(as_text=True)
    assert login(client, "ahmad@home.ac.id", "rahasia-ahmad").status_code == 302


def test_who_manages_which_accounts(app, client, session, lib):
    users, tokens = lib

    def add(who, **body):
        return client.post("/api/v1/users", json={"email": f"new-{who}-{len(body)}@x.id", **body},
                           headers=bearer(tokens[who]))

    # a librarian: patrons and librarians of their own library only
    assert add("librarian", role="librarian").status_code == 201
    assert add("librarian", role="patron", library="OTHER").status_code == 403
    assert add("librarian", role="coordinator").status_code == 403
    assert add("patron").status_code == 403
    # a coordinator: anyone's but an administrator; an administrator: anyone
    assert add("coordinator", role="librarian", library="OTHER").status_code == 201
    assert add("coordinator", role="admin").status_code == 403
    assert add("admin", role="admin").status_code == 201
    # bad input is named, and nothing is added
    before = session.scalar(select(func.count(User.id)))
    for body, field in (({"email": "not-an-address"}, "email"), ({"email": "siti@home.ac.id"}, "email"),
                        ({"email": "a b@x.id"}, "email"), ({"email": "z@x.id", "role": "boss"}, "role"),
                        ({"email": "z@x.id", "locale": "fr"}, "locale"),
                        ({"email": "z@x.id", "name": "n" * 201}, "name")):
        r = client.post("/api/v1/users", json=body, headers=bearer(tokens["librarian"]))
        assert r.status_code == 400 and r.get_json()["error"]["field"] == field, body
    r = client.post("/api/v1/users", json={"email": "z@x.id", "library": 5}, headers=bearer(tokens["coordinator"]))
    assert r.status_code == 404  # a code sent as a number is read as one, and there is no partner 5
    r = client.post("/api/v1/users", json={"email": "z@x.id", "role": "patron"}, headers=bearer(tokens["coordinator"]))
    assert r.status_code == 400 and r.get_json()["error"]["field"] == "library"  # a patron belongs to a library
    assert session.scalar(select(func.count(User.id))) == before

    # lists: a librarian sees their own library's accounts only
    listed = client.get("/api/v1/users", headers=bearer(tokens["librarian"])).get_json()
    assert {u["library"] for u in listed["users"]} == {"HOME"}
    assert "budi@other.ac.id" not in {u["email"] for u in listed["users"]}
    found = client.get("/api/v1/users?q=sit", headers=bearer(tokens["librarian"])).get_json()
    assert [u["email"] for u in found["users"]] == ["siti@home.ac.id"]
    everyone = client.get("/api/v1/users?library=OTHER", headers=bearer(tokens["coordinator"])).get_json()
    assert {u["library"] for u in everyone["users"]} == {"OTHER"} and everyone["total"] == 3
    assert client.get("/api/v1/users", headers=bearer(tokens["patron"])).status_code == 403
    # another library's account is not there for a librarian
    other = users["other_patron"].id
    assert client.patch(f"/api/v1/users/{other}", json={"active": False},
                        headers=bearer(tokens["librarian"])).status_code == 404
    assert _user(session, "budi@other.ac.id").active


def test_a_deactivated_account_cannot_sign_in_nor_use_its_token(app, client, session, lib):
    users, tokens = lib
    assert login(client, "siti@home.ac.id").status_code == 302
    sid = users["patron"].id
    r = client.patch(f"/api/v1/users/{sid}", json={"active": False}, headers=bearer(tokens["librarian"]))
    assert r.status_code == 200 and r.get_json()["active"] is False
    assert client.get("/api/v1/me").status_code == 401  # the open session ended
    assert client.get("/api/v1/me", headers=bearer(tokens["patron"])).status_code == 401
    assert login(client, "siti@home.ac.id").status_code == 401
    # no link goes to a deactivated account, and nobody deactivates themselves
    assert client.post(f"/api/v1/users/{sid}/password-link",
                       headers=bearer(tokens["librarian"])).status_code == 400
    me = users["librarian"].id
    r = client.patch(f"/api/v1/users/{me}", json={"active": False}, headers=bearer(tokens["librarian"]))
    assert r.status_code == 400 and r.get_json()["error"]["field"] == "active"
    for bad in ({"active": "no"}, {"role": "admin"}):
        assert client.patch(f"/api/v1/users/{sid}", json=bad, headers=bearer(tokens["librarian"])).status_code == 400
    # back again, with the same password
    r = client.patch(f"/api/v1/users/{sid}", json={"active": True}, headers=bearer(tokens["librarian"]))
    assert r.get_json()["active"] is True
    assert login(client, "siti@home.ac.id").status_code == 302


def test_a_forgotten_password(app, client, session, lib, monkeypatch):
    client.post("/language", data={"lang": "en"})
    r = client.post("/password/forgot", data={"email": "Siti@home.ac.id"})
    assert r.status_code == 302
    flashed = client.get("/login").get_data(as_text=True)
    assert "If siti@home.ac.id has an account" in flashed
    (mail,) = _mails(app, "siti@home.ac.id")
    assert "Set a new password" in mail["Subject"]
    # the page says the same for an address without an account, and mails nobody
    client.post("/password/forgot", data={"email": "nobody@home.ac.id"})
    assert "If nobody@home.ac.id has an account" in client.get("/login").get_data(as_text=True)
    assert _mails(app, "nobody@home.ac.id") == []
    # asked again at once: no second mail
    client.post("/password/forgot", data={"email": "siti@home.ac.id"})
    assert len(_mails(app, "siti@home.ac.id")) == 1
    link = _link(mail)
    assert client.post(link, data={"new_password": "baru-sekali", "confirm_password": "lain-sekali"}).status_code == 400
    assert login(client, "siti@home.ac.id").status_code == 302  # the old password still works until then
    other = app.test_client()
    assert other.post(link, data={"new_password": "baru-sekali", "confirm_password": "baru-sekali"}).status_code == 302
    assert client.get("/api/v1/me").status_code == 401  # the other session was signed out
    assert login(client, "siti@home.ac.id").status_code == 401
    assert login(client, "siti@home.ac.id", "baru-sekali").status_code == 302
    assert other.get(link).status_code == 400  # once


def test_an_expired_or_made_up_link(app, client, session, lib, monkeypatch):
    siti = _user(session, "siti@home.ac.id")
    token = people.make_link_token(siti, "reset")
    assert people.user_for_link(session, token)[0].id == siti.id
    # 25 hours later the reset link has expired; an invitation would still work
    import itsdangerous.timed

    later = itsdangerous.timed.time.time() + 25 * 3600
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: later)
    r = client.get(f"/password/set/{token}")
    assert r.status_code == 400 and "kedaluwarsa" in r.get_data(as_text=True)  # "expired", in the default language
    assert people.user_for_link(session, people.make_link_token(siti, "invite"))[1] == "invite"
    assert client.get("/password/set/made-up.token").status_code == 400
    assert client.get(f"/password/set/{token[:-2]}xx").status_code == 400


def test_the_accounts_page_and_a_spreadsheet_of_patrons(app, client, session, lib):
    login(client, "pustakawan@home.ac.id")
    page = client.get("/people/").get_data(as_text=True)
    assert "siti@home.ac.id" in page and "budi@other.ac.id" not in page
    r = client.post("/people/", data={"email": "rahmat@home.ac.id", "name": "Rahmat", "role": "patron"})
    assert r.status_code == 303
    assert "invitation to choose a password" in client.get("/people/").get_data(as_text=True)
    rahmat = _user(session, "rahmat@home.ac.id")
    assert rahmat.library.code == "HOME" and rahmat.password_hash == ""
    r = client.post("/people/", data={"email": "rahmat@home.ac.id"})
    assert r.status_code == 400 and "exists already" in r.get_data(as_text=True)
    # deactivate, from the list
    r = client.post(f"/people/{rahmat.id}", data={"action": "deactivate"})
    assert r.status_code == 303 and _user(session, "rahmat@home.ac.id").active is False
    assert client.post(f"/people/{lib[0]['other_patron'].id}", data={"action": "deactivate"}).status_code == 404

    from io import BytesIO

    sheet = ("Nama;Surel;Peran\n"
             "Dewi Lestari;dewi@home.ac.id;\n"
             "Siti;siti@home.ac.id;\n"
             "Tanpa Surel;bukan-alamat;\n"
             "Kepala;kepala@home.ac.id;coordinator\n"
             ";;\n"
             "Eko;EKO@home.ac.id;librarian\n")
    r = client.post("/people/", data={"action": "import", "file": (BytesIO(sheet.encode()), "anggota.csv")},
                    content_type="multipart/form-data", follow_redirects=True)
    page = r.get_data(as_text=True)
    assert "2 accounts added" in page and "siti@home.ac.id" in page
    assert "Line 4:" in page and "Line 5:" in page
    assert _user(session, "dewi@home.ac.id").role == "patron" and _user(session, "eko@home.ac.id").role == "librarian"
    assert _user(session, "kepala@home.ac.id") is None and _user(session, "bukan-alamat") is None
    assert {m["To"] for m in _mails(app)} >= {"dewi@home.ac.id", "eko@home.ac.id"}
    # through the API, as a coordinator naming the library
    r = client.post("/api/v1/users/import", headers=bearer(lib[1]["coordinator"]),
                    data={"library": "OTHER", "file": (BytesIO(b"email,name\nfajar@other.ac.id,Fajar\n"), "a.csv")},
                    content_type="multipart/form-data")
    assert r.status_code == 200 and r.get_json() == {"added": ["fajar@other.ac.id"], "existing": [], "problems": []}
    r = client.post("/api/v1/users/import", headers=bearer(lib[1]["coordinator"]),
                    data={"library": "OTHER", "file": (BytesIO(b"nama,peran\nx,patron\n"), "a.csv")},
                    content_type="multipart/form-data")
    assert r.status_code == 400 and r.get_json()["error"]["field"] == "file"


def test_the_link_is_spaced_but_a_librarian_may_send_one(app, client, session, lib):
    users, tokens = lib
    sid = users["patron"].id
    for _ in range(2):
        r = client.post(f"/api/v1/users/{sid}/password-link", headers=bearer(tokens["librarian"]))
        assert r.status_code == 202 and r.get_json() == {"sent_to": "siti@home.ac.id"}
    assert len(_mails(app, "siti@home.ac.id")) == 2
    # the one who forgot waits the minutes before another
    siti = _user(session, "siti@home.ac.id")
    assert people.forgot(session, "siti@home.ac.id") is False
    siti.password_link_sent_at -= timedelta(minutes=11)
    session.commit()
    assert people.forgot(session, "siti@home.ac.id") is True


def test_a_patron_s_personal_data_is_erased_and_their_requests_stay(app, client, session, lib, make):
    """UU PDP: on request the library erases a patron's personal data. The
    account stays, anonymous and closed, so the requests, their history and
    the counts stay; refused while a request of theirs is open."""
    from datetime import date

    from ill import notify
    from ill.models import LoanRequest, PatronSuspension, RequestEvent, RequestFeedback
    from union_catalog.models import SearchAlert

    users, tokens = lib
    siti = users["patron"]
    home = siti.library
    done = LoanRequest(requester_library=home, patron=siti, service="loan", status="completed",
                       citation={"title": "Tafsir"}, version=1)
    open_one = LoanRequest(requester_library=home, patron=siti, service="loan", status="requested",
                           citation={"title": "Fiqh"}, version=1)
    session.add_all([done, open_one])
    session.flush()
    session.add_all([
        RequestEvent(request_id=done.id, actor_id=siti.id, actor_label="Siti (HOME)", action="create",
                     to_status="requested", note="untuk skripsi"),
        RequestFeedback(request_id=done.id, patron_id=siti.id, rating=5, comment="Terima kasih, Siti"),
        PatronSuspension(patron_id=siti.id, until=date(2026, 1, 1), reason="buku hilang"),
        SearchAlert(user_id=siti.id, query_string="q=tafsir", label="tafsir"),
    ])
    notify.notify(session, siti, "overdue", title="Tafsir", due_date=date(2026, 1, 1))
    session.commit()
    sid = siti.id

    r = client.post(f"/api/v1/users/{sid}/erase", headers=bearer(tokens["librarian"]))
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "open_requests"
    assert _user(session, "siti@home.ac.id").name == "Siti"  # as it was
    open_one.status = "cancelled"
    session.commit()
    # not another library's librarian, not a staff account
    assert client.post(f"/api/v1/users/{sid}/erase", headers=bearer(tokens["other_librarian"])).status_code == 404
    r = client.post(f"/api/v1/users/{users['other_librarian'].id}/erase", headers=bearer(tokens["coordinator"]))
    assert r.status_code == 400 and r.get_json()["error"]["field"] == "role"

    r = client.post(f"/api/v1/users/{sid}/erase", headers=bearer(tokens["librarian"]))
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["name"] == f"#{sid}" and body["email"] == f"erased-{sid}@erased.invalid" and body["active"] is False
    assert body["erased_at"] and body["has_password"] is False
    session.expire_all()
    assert session.scalar(select(func.count(notify.Notice.id)).where(notify.Notice.user_id == sid)) == 0
    assert session.scalar(select(func.count(notify.OutboxMail.id)).where(
        notify.OutboxMail.to_addr == "siti@home.ac.id")) == 0
    assert session.scalar(select(func.count(SearchAlert.id)).where(SearchAlert.user_id == sid)) == 0
    assert session.scalar(select(func.count(PatronSuspension.id)).where(PatronSuspension.patron_id == sid)) == 0
    feedback = session.scalar(select(RequestFeedback).where(RequestFeedback.patron_id == sid))
    assert feedback.rating == 5 and feedback.comment == ""  # the rating counts, the words went
    event = session.scalar(select(RequestEvent).where(RequestEvent.actor_id == sid))
    assert event.actor_label == "patron" and event.note == "untuk skripsi"
    assert {r.title for r in session.scalars(select(LoanRequest).where(LoanRequest.patron_id == sid))} == {
        "Tafsir", "Fiqh"}
    # closed for good: no sign-in, no token, no reactivation
    assert login(client, "siti@home.ac.id").status_code == 401
    assert client.get("/api/v1/me", headers=bearer(tokens["patron"])).status_code == 401
    r = client.patch(f"/api/v1/users/{sid}", json={"active": True}, headers=bearer(tokens["librarian"]))
    assert r.status_code == 400 and _user(session, f"erased-{sid}@erased.invalid").active is False
    # the address may have a new account
    assert client.post("/api/v1/users", json={"email": "siti@home.ac.id"},
                       headers=bearer(tokens["librarian"])).status_code == 201
    # the page says so
    login(client, "pustakawan@home.ac.id")
    client.post("/language", data={"lang": "en"})
    page = client.get("/people/").get_data(as_text=True)
    assert f"erased account #{sid}" in page and "personal data erased" in page


def test_an_account_s_history_says_who_did_what(app, client, session, lib):
    users, tokens = lib
    r = client.post("/api/v1/users", json={"email": "rina@home.ac.id", "name": "Rina", "card_number": "77"},
                    headers=bearer(tokens["librarian"]))
    rid = r.get_json()["id"]
    client.patch(f"/api/v1/users/{rid}", json={"card_number": "78", "name": "Rina S."},
                 headers=bearer(tokens["librarian"]))
    client.patch(f"/api/v1/users/{rid}", json={"active": False}, headers=bearer(tokens["coordinator"]))
    client.patch(f"/api/v1/users/{rid}", json={"active": True}, headers=bearer(tokens["coordinator"]))
    history = client.get(f"/api/v1/users/{rid}", headers=bearer(tokens["librarian"])).get_json()["history"]
    assert [(h["action"], h["actor"]) for h in reversed(history)] == [
        ("added", "pustakawan@home.ac.id"), ("link_sent", "pustakawan@home.ac.id"),
        ("changed", "pustakawan@home.ac.id"), ("deactivated", "koordinator@jaringan.id"),
        ("activated", "koordinator@jaringan.id")]
    changed = next(h for h in history if h["action"] == "changed")["changes"]
    assert changed == {"name": ["Rina", "Rina S."], "card_number": ["77", "78"]}
    # she chooses her password by the invitation's link: said, by herself
    link = _link(next(m for m in _mails(app) if m["To"] == "rina@home.ac.id"))
    assert client.post(link, data={"new_password": "rina-rahasia", "confirm_password": "rina-rahasia"}
                       ).status_code == 302
    history = client.get(f"/api/v1/users/{rid}", headers=bearer(tokens["librarian"])).get_json()["history"]
    assert (history[0]["action"], history[0]["actor"]) == ("password_set", "self")
    # the patron's page shows it; erasing keeps what was done, not the data
    client.post("/logout")
    login(client, "pustakawan@home.ac.id")
    client.post("/language", data={"lang": "en"})
    page = client.get(f"/patrons/{rid}").get_data(as_text=True)
    assert "deactivated" in page and "77 → 78" in page
    client.patch(f"/api/v1/users/{rid}", json={"active": False}, headers=bearer(tokens["librarian"]))
    client.post(f"/api/v1/users/{rid}/erase", headers=bearer(tokens["librarian"]))
    history = client.get(f"/api/v1/users/{rid}", headers=bearer(tokens["librarian"])).get_json()["history"]
    assert history[0]["action"] == "erased" and all(h["changes"] == {} for h in history)
    assert client.get(f"/api/v1/users/{users['other_patron'].id}",
                      headers=bearer(tokens["librarian"])).status_code == 404


def test_the_tick_erases_patrons_deactivated_long_enough_ago(app, client, session, lib, runner):
    from datetime import date as _date

    from ill import clock
    from ill.models import LoanRequest

    users, tokens = lib
    siti, budi = users["patron"], users["other_patron"]
    session.add(LoanRequest(requester_library=budi.library, patron=budi, service="loan", status="requested",
                            citation={"title": "Masih dipinjam"}, version=1))
    session.commit()
    for who, token in ((siti, "librarian"), (budi, "other_librarian")):
        assert client.patch(f"/api/v1/users/{who.id}", json={"active": False},
                            headers=bearer(tokens[token])).status_code == 200
    today = clock.today()

    def tick(day: _date) -> str:
        return runner.invoke(args=["tick", "--as-of", day.isoformat()]).output

    assert "personal data erased" not in tick(today + timedelta(days=400))  # 0: never, by default
    app.config["ACCOUNTS_ERASE_AFTER_DAYS"] = 30
    assert "personal data erased" not in tick(today + timedelta(days=29))
    out = tick(today + timedelta(days=30))
    assert f"patron {siti.id}: personal data erased, deactivated on {today.isoformat()}" in out
    assert f"patron {budi.id}" not in out  # a request of theirs is open
    assert f"patron {siti.id}" not in tick(today + timedelta(days=31))  # once
    history = client.get(f"/api/v1/users/{siti.id}", headers=bearer(tokens["librarian"])).get_json()["history"]
    assert (history[0]["action"], history[0]["actor"]) == ("erased", "system")


def test_a_patron_downloads_everything_kept_about_them(app, client, session, lib):
    """UU PDP, the right of access: the account, its history, the requests as
    the patron saw them (not the libraries' messages between themselves),
    notices, ratings and search alerts; nobody else's."""
    from datetime import date

    from ill import notify
    from ill.models import LoanRequest, RequestEvent, RequestFeedback
    from union_catalog.models import SearchAlert

    users, tokens = lib
    siti = users["patron"]
    req = LoanRequest(requester_library=siti.library, patron=siti, service="loan", status="completed",
                      citation={"title": "Tafsir"}, note="untuk skripsi", version=1)
    other = LoanRequest(requester_library=siti.library, patron=users["librarian"], service="loan",
                        status="completed", citation={"title": "Bukan milik Siti"}, version=1)
    session.add_all([req, other])
    session.flush()
    session.add_all([
        RequestEvent(request_id=req.id, action="create", to_status="requested", note="mohon"),
        RequestEvent(request_id=req.id, action="message", to_status="completed", note="antar perpustakaan",
                     data={"from": "borrower", "to": "lender"}),
        RequestFeedback(request_id=req.id, patron_id=siti.id, rating=4, comment="cepat"),
        SearchAlert(user_id=siti.id, query_string="q=tafsir", label="tafsir"),
    ])
    notify.notify(session, siti, "overdue", title="Tafsir", due_date=date(2026, 1, 1))
    session.commit()
    body = client.get("/api/v1/me/data", headers=bearer(tokens["patron"])).get_json()
    assert body["account"]["email"] == "siti@home.ac.id" and body["account"]["library"] == "HOME"
    (mine,) = body["requests"]
    assert mine["title"] == "Tafsir" and mine["note"] == "untuk skripsi" and mine["rating"] == 4
    assert [e["note"] for e in mine["events"]] == ["mohon"]  # the libraries' message is theirs
    assert [n["kind"] for n in body["notices"]] == ["overdue"]
    assert body["search_alerts"] == [{"label": "tafsir", "query": "q=tafsir"}]
    # the page's download
    login(client, "siti@home.ac.id")
    r = client.get("/account/data.json")
    assert r.status_code == 200 and "attachment" in r.headers["Content-Disposition"]
    assert r.get_json()["account"]["id"] == siti.id
    assert 'id="my-data"' in client.get("/account").get_data(as_text=True)
    client.post("/logout")
    assert client.get("/account/data.json").status_code in (302, 401)


def test_the_accounts_page_offers_actions_only_on_accounts_one_manages(client, lib):
    login(client, "koordinator@jaringan.id")
    page = client.get("/people/").get_data(as_text=True)
    rows = dict(re.findall(r'<tr data-email="([^"]+)">(.*?)</tr>', page, re.S))
    assert 'value="deactivate"' in rows["siti@home.ac.id"]
    assert 'value="deactivate"' not in rows["admin@jaringan.id"]  # an administrator's is not a coordinator's
    assert 'value="deactivate"' not in rows["koordinator@jaringan.id"]  # nor one's own


def test_a_long_spreadsheet_s_invitations_wait_for_the_outbox_s_flush(app, client, session, lib):
    from io import BytesIO

    from ill import notify

    rows = "email,name\n" + "".join(f"p{i}@home.ac.id,P{i}\n" for i in range(people.IMPORT_MAIL_NOW + 1))
    r = client.post("/api/v1/users/import", headers=bearer(lib[1]["librarian"]),
                    data={"file": (BytesIO(rows.encode()), "a.csv")}, content_type="multipart/form-data")
    assert len(r.get_json()["added"]) == people.IMPORT_MAIL_NOW + 1
    assert _mails(app) == []  # not sent by the web request
    waiting = select(func.count(notify.OutboxMail.id)).where(notify.OutboxMail.sent_at.is_(None))
    assert session.scalar(waiting) == people.IMPORT_MAIL_NOW + 1
    with app.app_context():
        notify.flush_outbox()
    assert len(_mails(app)) == people.IMPORT_MAIL_NOW + 1


def test_the_accounts_as_a_spreadsheet(client, session, lib):
    users, tokens = lib
    client.patch(f"/api/v1/users/{users['patron'].id}", json={"card_number": "0401"},
                 headers=bearer(tokens["librarian"]))
    login(client, "pustakawan@home.ac.id")
    r = client.get("/people/accounts.csv")
    assert r.status_code == 200 and "attachment" in r.headers["Content-Disposition"]
    lines = r.get_data(as_text=True).splitlines()
    assert lines[0].lstrip("\ufeff").startswith("email,name,role,library,card_number")  # a BOM, for Excel
    assert any(line.startswith("siti@home.ac.id,Siti,patron,HOME,0401") for line in lines)
    assert not any("other.ac.id" in line for line in lines)  # another library's are not theirs
    only = client.get("/people/accounts.csv?role=librarian").get_data(as_text=True).splitlines()
    assert [line.split(",")[0] for line in only[1:]] == ["pustakawan@home.ac.id"]
    client.post("/logout")
    login(client, "siti@home.ac.id")
    assert client.get("/people/accounts.csv").status_code == 403
    assert "0401" in client.get("/account").get_data(as_text=True)  # a patron sees their own card
