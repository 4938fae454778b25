"""GET /health, as a monitor asks it: 503 when the database does not answer
or its schema is not the code's; 200 "degraded" naming what waits too long;
200 "ok" otherwise."""
from __future__ import annotations

import socket
from datetime import timedelta

import pytest
from flask_migrate import downgrade, upgrade

from ill import create_app, notify
from ill.accounts import utcnow
from ill.extensions import db
from ill.iso18626 import Iso18626Message
from union_catalog.models import ImportRun

from .test_migrations import empty_database  # noqa: F401  (a fixture)


def test_a_test_database_answers_but_was_not_made_by_migrations(client):
    resp = client.get("/health")
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"
    body = resp.get_json()
    assert body["status"] == "degraded" and body["checks"]["schema"]["state"] == "unmanaged"
    assert body["checks"]["mail"] == {"waiting": 0, "failing": 0, "oldest_failing_minutes": None}
    assert body["checks"]["iso18626"] == {"waiting": 0, "failing": 0, "oldest_failing_minutes": None}
    assert body["checks"]["imports"] == {"queued": 0, "running": 0, "oldest_queued_minutes": None}
    assert any("db upgrade" in w for w in body["warnings"])


def test_mail_refused_for_an_hour_and_imports_nobody_runs_are_warned_of(client, make, session):
    lib = make.partner("UGM")
    make.commit()
    long_ago = utcnow() - timedelta(hours=2)
    session.add(notify.OutboxMail(to_addr="a@example.org", subject="s", body="b", locale="en", attempts=3,
                                  created_at=long_ago, next_attempt_at=utcnow(), last_error="550 refused"))
    session.add(notify.OutboxMail(to_addr="b@example.org", subject="s", body="b", locale="en",
                                  next_attempt_at=utcnow()))
    session.add(ImportRun(partner_id=lib.id, filename="x.mrc", status="queued", created_at=long_ago))
    session.add(Iso18626Message(partner_id=lib.id, direction="out", kind="request", summary="New", body="<x/>",
                                state="pending", attempts=4, created_at=long_ago, error="not reached"))
    session.add(Iso18626Message(partner_id=lib.id, direction="out", kind="request", summary="New", body="<x/>",
                                state="sent", attempts=1, created_at=long_ago))
    session.commit()
    body = client.get("/health").get_json()
    iso = body["checks"]["iso18626"]
    assert (iso["waiting"], iso["failing"]) == (1, 1) and iso["oldest_failing_minutes"] >= 119
    assert any("1 ISO 18626 messages could not be delivered" in w for w in body["warnings"])
    assert body["checks"]["mail"]["waiting"] == 2 and body["checks"]["mail"]["failing"] == 1
    assert body["checks"]["mail"]["oldest_failing_minutes"] >= 119
    assert body["checks"]["imports"]["queued"] == 1
    assert any("1 mails could not be sent" in w for w in body["warnings"])
    assert any("1 imports wait" in w and "catalog worker" in w for w in body["warnings"])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_database_that_does_not_answer_is_failing():
    app = create_app({"TESTING": True, "SECRET_KEY": "x",
                      "DATABASE_URL": f"postgresql://nobody@127.0.0.1:{_free_port()}/ill",
                      "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"connect_timeout": 2}}})
    resp = app.test_client().get("/health")
    assert resp.status_code == 503
    assert resp.get_json()["checks"]["database"]["state"] == "unreachable"


@pytest.mark.usefixtures("empty_database")
def test_a_migrated_database_is_ok_and_one_left_behind_is_failing(empty_database):  # noqa: F811
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": empty_database})
    with app.app_context():
        upgrade()
    body = app.test_client().get("/health").get_json()
    assert body["status"] == "ok" and body["checks"]["schema"]["state"] == "current", body
    with app.app_context():
        downgrade(revision="-1")
        db.session.remove()
    resp = app.test_client().get("/health")
    assert resp.status_code == 503
    body = resp.get_json()
    assert body["checks"]["schema"]["state"] == "behind" and "db upgrade" in body["warnings"][0]
