"""Notices: recorded in-app, mailed after commit in the recipient's language,
as the user's preferences allow, once per dedupe key."""
from __future__ import annotations

from datetime import date

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from ill import notify
from ill.extensions import db
from tests.factories import login

NOV1, NOV26 = date(2026, 11, 1), date(2026, 11, 26)


def outbox(app):
    return app.extensions.setdefault("mail_outbox", [])


def test_mail_leaves_only_after_commit(app, make):
    patron = make.user("patron", locale="en")
    make.commit()
    notify.notify(db.session, patron, "overdue", title="Sejarah Islam", due_date=NOV1)
    db.session.flush()
    assert outbox(app) == []
    db.session.commit()
    [msg] = outbox(app)
    assert msg["To"] == patron.email
    assert msg["Subject"] == "Overdue: Sejarah Islam"
    assert "November 1, 2026" in msg.get_content()


def test_rolled_back_action_sends_nothing(app, make):
    patron = make.user("patron")
    make.commit()
    notify.notify(db.session, patron, "overdue", title="X", due_date=NOV1)
    db.session.rollback()
    db.session.commit()
    notify.flush_outbox()
    assert outbox(app) == []
    assert db.session.scalar(select(func.count(notify.Notice.id))) == 0


def test_mail_told_in_a_savepoint_leaves_with_the_outer_commit(app, make):
    """A batch acts on each row in a savepoint of its own (the hold shelf's
    send-back, a spreadsheet of accounts): the savepoint's commit is not the
    transaction's, so the mail neither leaves then (its row is not yet
    visible to the sender on PostgreSQL) nor is forgotten at the end."""
    patron, other = make.user("patron", locale="en"), make.user("patron", locale="en")
    make.commit()
    for user in (patron, other):
        savepoint = db.session.begin_nested()
        notify.notify(db.session, user, "overdue", title="Sejarah Islam", due_date=NOV1)
        savepoint.commit()
    assert outbox(app) == []
    db.session.commit()
    assert sorted(m["To"] for m in outbox(app)) == sorted([patron.email, other.email])


def test_language_of_the_recipient(app, make):
    id_user = make.user("patron", locale="id")
    en_user = make.user("patron", locale="en")
    no_pref = make.user("patron")
    make.commit()
    for u in (id_user, en_user, no_pref):
        notify.notify(db.session, u, "due_soon", title="Tafsir", days=3, due_date=NOV26)
    db.session.commit()
    by_to = {m["To"]: m for m in outbox(app)}
    assert by_to[en_user.email]["Subject"] == "Due in 3 days: Tafsir"
    assert by_to[id_user.email]["Subject"] == "Jatuh tempo dalam 3 hari: Tafsir"
    assert "26 November 2026" in by_to[id_user.email].get_content()
    # No language chosen: the network's default, Indonesian.
    assert by_to[no_pref.email]["Subject"] == "Jatuh tempo dalam 3 hari: Tafsir"
    assert by_to[id_user.email]["Content-Language"] == "id"


def test_dedupe_key_says_it_once(app, make):
    patron = make.user("patron", locale="en")
    make.commit()
    for _ in range(2):
        notify.notify(db.session, patron, "overdue", title="X", due_date=NOV1,
                      dedupe_key="overdue:1:2026-11-01")
    db.session.commit()
    notify.notify(db.session, patron, "overdue", title="X", due_date=NOV1,
                  dedupe_key="overdue:1:2026-11-01")
    db.session.commit()
    assert len(outbox(app)) == 1
    assert len(notify.inbox(db.session, patron)) == 1


def test_preferences_turn_off_mail_but_not_must_know(app, make, client):
    patron = make.user("patron", locale="en")
    make.commit()
    login(client, patron.email)
    r = client.get("/notices/preferences")
    assert r.status_code == 200 and b"A loan is due in a few days" in r.data
    # Turn off due-soon mail (keep in-app), and try to turn off overdue (must know).
    r = client.post("/notices/preferences", data={"due_soon.in_app": "on"})
    assert r.status_code == 302
    notify.notify(db.session, patron, "due_soon", title="A", days=3, due_date=NOV26)
    notify.notify(db.session, patron, "overdue", title="B", due_date=NOV1)
    db.session.commit()
    assert [m["Subject"] for m in outbox(app)] == ["Overdue: B"]
    assert {n.kind for n in notify.inbox(db.session, patron)} == {"due_soon", "overdue"}


def test_in_app_off_hides_from_the_list(app, make):
    patron = make.user("patron", locale="en")
    make.commit()
    notify.set_preference(db.session, patron, "due_soon", mail=False, in_app=False)
    notify.notify(db.session, patron, "due_soon", title="A", days=3, due_date=NOV26)
    db.session.commit()
    assert outbox(app) == [] and notify.inbox(db.session, patron) == []


def test_inbox_and_mark_read_are_per_user(app, make, client):
    alice = make.user("patron", locale="en")
    bob = make.user("patron", locale="en")
    make.commit()
    n_alice = notify.notify(db.session, alice, "overdue", title="Alice's book", due_date=NOV1)
    n_bob = notify.notify(db.session, bob, "overdue", title="Bob's book", due_date=NOV1)
    db.session.commit()
    login(client, alice.email)
    r = client.get("/notices/")
    assert b"Alice&#39;s book" in r.data and b"Bob" not in r.data
    assert client.post(f"/notices/{n_bob.id}/read").status_code == 404
    assert db.session.get(notify.Notice, n_bob.id).read_at is None
    assert client.post(f"/notices/{n_alice.id}/read").status_code == 302
    db.session.expire_all()
    assert db.session.get(notify.Notice, n_alice.id).read_at is not None
    assert client.get("/api/v1/notices").get_json()["unread"] == 0


def test_mark_read_needs_post(app, make, client):
    patron = make.user("patron")
    make.commit()
    login(client, patron.email)
    assert client.get("/notices/1/read").status_code == 405


def test_inactive_users_are_not_told(app, make):
    patron = make.user("patron")
    patron.active = False
    make.commit()
    assert notify.notify(db.session, patron, "overdue", title="X", due_date=NOV1) is None


def test_unknown_kind_is_a_programming_error(app, make):
    patron = make.user("patron")
    with pytest.raises(KeyError):
        notify.notify(db.session, patron, "no_such_kind")


def test_library_librarians_all_hear(app, make):
    lib = make.partner("LENDER")
    l1 = make.user("librarian", library=lib, locale="en")
    l2 = make.user("librarian", library=lib, locale="id")
    other = make.user("librarian", locale="en")
    make.commit()
    notify.notify_library(db.session, lib.id, "request_new", request_id=7, title="Fiqh",
                          requester="UINSU", service="loan")
    db.session.commit()
    assert sorted(m["To"] for m in outbox(app)) == sorted([l1.email, l2.email])
    assert other.email not in [m["To"] for m in outbox(app)]


def test_a_missing_field_leaves_a_gap_not_an_error(app, make):
    patron = make.user("patron", locale="en")
    make.commit()
    notify.notify(db.session, patron, "overdue")
    db.session.commit()
    assert outbox(app)[0]["Subject"] == "Overdue:"


@pytest.mark.parametrize("locale", ["id", "en"])
def test_every_kind_renders_in_both_languages(app, make, locale):
    user = make.user("coordinator", locale=locale)
    make.commit()
    for kind in notify.MESSAGES:
        _locale, subject, body = notify.render(user, kind, title="T", request_id=1, days=3,
                                               due_date=NOV26, end=NOV26, link="http://x/1")
        assert subject and body.strip(), kind
        with force_locale("en"):
            english = (str(notify.MESSAGES[kind].subject) % notify._Fields(
                title="T", request_id=1, days=3, end=NOV26)).strip()  # as render() trims it
        assert (subject == english) == (locale == "en"), kind
