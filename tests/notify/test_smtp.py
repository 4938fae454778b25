"""Mail through a real SMTP server on 127.0.0.1: sent once after commit, in the
recipient's language; kept and retried when the server is down."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from ill import notify
from ill.accounts import utcnow
from ill.extensions import db

from .conftest import SmtpServer, free_port


@pytest.fixture
def app_config(smtp_server):
    return {"MAIL_BACKEND": "smtp", "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp_server.port,
            "MAIL_TIMEOUT": 5}


def test_delivered_once_in_each_language(app, make, smtp_server):
    ida = make.user("patron", locale="id", email="ida@example.org")
    eve = make.user("patron", locale="en", email="eve@example.org")
    make.commit()
    for u in (ida, eve):
        notify.notify(db.session, u, "recalled", title="Hikayat Raja Pasai",
                      due_date=date(2026, 12, 1), note="")
    db.session.commit()
    # Later flushes (the tick) find nothing more to send.
    assert notify.flush_outbox().sent == 0
    [to_ida] = smtp_server.handler.to("ida@example.org")
    [to_eve] = smtp_server.handler.to("eve@example.org")
    assert to_ida["Subject"] == "Ditarik kembali: mohon kembalikan Hikayat Raja Pasai"
    assert "1 Desember 2026" in to_ida.get_content()
    assert "Halo" in to_ida.get_content()
    assert to_eve["Subject"] == "Recalled: please return Hikayat Raja Pasai"
    assert "December 1, 2026" in to_eve.get_content()
    assert len(smtp_server.messages) == 2


def test_server_down_keeps_the_mail_and_a_later_flush_sends_it_once(app, make, smtp_server):
    patron = make.user("patron", locale="en", email="late@example.org")
    make.commit()
    live_port = smtp_server.port
    app.config["MAIL_PORT"] = free_port()  # nobody listens there
    notify.notify(db.session, patron, "overdue", title="Fiqh", due_date=date(2026, 11, 1))
    db.session.commit()  # the action stands even though the mail could not leave
    [row] = db.session.scalars(select(notify.OutboxMail)).all()
    assert row.sent_at is None and row.attempts == 1 and row.last_error
    assert notify.as_utc(row.next_attempt_at) > utcnow()
    # Not due yet: a flush right away does not hammer the server.
    app.config["MAIL_PORT"] = live_port
    assert notify.flush_outbox().sent == 0
    assert smtp_server.messages == []
    # Later, with the server back.
    later = utcnow() + timedelta(hours=1)
    result = notify.flush_outbox(now=later)
    assert result.sent == 1 and result.waiting == 0
    assert notify.flush_outbox(now=later + timedelta(hours=1)).sent == 0
    [msg] = smtp_server.handler.to("late@example.org")
    assert msg["Subject"] == "Overdue: Fiqh"
    db.session.expire_all()
    row = db.session.get(notify.OutboxMail, row.id)
    assert row.sent_at is not None and row.attempts == 2


def test_server_stops_and_comes_back(app, make):
    """The same server, stopped and started again on its port."""
    server = SmtpServer()
    app.config["MAIL_PORT"] = server.port
    patron = make.user("patron", locale="id", email="back@example.org")
    make.commit()
    notify.notify(db.session, patron, "unfilled", title="Kitab", request_id=3)
    db.session.commit()
    server.start()
    try:
        assert server.messages == []
        assert notify.flush_outbox(now=utcnow() + timedelta(days=1)).sent == 1
        [msg] = server.handler.to("back@example.org")
        assert msg["Subject"] == "Permintaan Anda tidak dapat dipenuhi: Kitab"
    finally:
        server.stop()


def test_mail_cli_lists_the_queue_and_flushes_it(app, make, runner, smtp_server):
    patron = make.user("patron", locale="en", email="cli@example.org")
    make.commit()
    live = smtp_server.port
    app.config["MAIL_PORT"] = free_port()
    notify.notify(db.session, patron, "overdue", title="Fiqh", due_date=date(2026, 11, 1))
    db.session.commit()
    r = runner.invoke(args=["mail", "queue", "--format", "json"])
    assert r.exit_code == 0
    assert '"to": "cli@example.org"' in r.output and '"attempts": 1' in r.output
    r = runner.invoke(args=["mail", "flush"])
    assert "nothing to send" in r.output or "waiting" in r.output
    app.config["MAIL_PORT"] = live
    r = runner.invoke(args=["mail", "flush", "--all"])
    assert r.exit_code == 0 and "1 mail(s) sent" in r.output
    assert [m["To"] for m in smtp_server.messages] == ["cli@example.org"]
    assert "no mail waiting" in runner.invoke(args=["mail", "queue"]).output
