"""The daily tick tells coordinators about expiring and expired agreements,
once each, by mail and in-app notice."""
from datetime import date

from agreements.models import AgreementAlert
from ill.notify import Notice


def outbox(app):
    return app.extensions.setdefault("mail_outbox", [])


def _subjects(app):
    return [str(m["Subject"]) for m in outbox(app)]


def test_tick_sends_each_alert_once(app, runner, make, session, shared_dir):
    make.partner("UINSU", "Perpustakaan UIN Sumatera Utara")
    make.user("coordinator", email="k1@example.org", locale="en")
    make.user("coordinator", email="k2@example.org", locale="id")
    make.user("librarian", library="UINSU", email="lib@example.org")
    make.commit()
    r = runner.invoke(args=["agreements", "import", str(shared_dir / "data" / "kerjasama_uinsu.csv"),
                            "--party", "UINSU", "--service", "loan"])
    assert r.exit_code == 0
    first = runner.invoke(args=["tick", "--as-of", "2026-11-23"])
    assert first.exit_code == 0, first.output
    assert "agreement" in first.output and "expiring (2026-11-30): 2 coordinator(s) told" in first.output
    mails = outbox(app)
    assert sorted(str(m["To"]) for m in mails) == ["k1@example.org", "k2@example.org"]
    english = next(m for m in mails if m["To"] == "k1@example.org")
    assert "IAIN Malikussaleh" in str(english["Subject"])
    assert "November 30, 2026" in english.get_content()
    second = runner.invoke(args=["tick", "--as-of", "2026-11-23"])
    assert "agreements: nothing to do" in second.output
    assert len(outbox(app)) == 2
    # The next day: still nothing new; after the end: the expiry, once.
    runner.invoke(args=["tick", "--as-of", "2026-11-24"])
    assert len(outbox(app)) == 2
    gone = runner.invoke(args=["tick", "--as-of", "2026-12-01"])
    assert "expired (2026-11-30)" in gone.output
    assert len(outbox(app)) == 4
    runner.invoke(args=["tick", "--as-of", "2026-12-02"])
    assert len(outbox(app)) == 4
    session.expire_all()
    assert session.query(AgreementAlert).count() == 2
    assert session.query(Notice).filter(Notice.user.has(email="lib@example.org")).count() == 0


def test_alerts_respect_window_catch_up_renewal_and_extension(app, runner, make, session):
    from agreements import service

    a, b, c = make.partner("AAA"), make.partner("BBB"), make.partner("CCC")
    make.user("coordinator", email="k@example.org")
    make.agreement(a, b, end_date=date(2027, 3, 1))            # enters the window on 2026-12-01
    old = make.agreement(a, c, end_date=date(2026, 9, 1))        # long expired
    renewed = make.agreement(b, c, end_date=date(2026, 12, 15))  # expiring, but renewed
    service.renew(session, renewed, {}, service.Actor(label="t"))
    make.commit()
    runner.invoke(args=["tick", "--as-of", "2026-11-30"])
    assert outbox(app) == []
    runner.invoke(args=["tick", "--as-of", "2026-12-01"])
    assert len(outbox(app)) == 1 and "2027-03-01" in _subjects(app)[0]
    from agreements.models import Agreement

    ab = session.get(Agreement, session.query(AgreementAlert).one().agreement_id)
    # Moving the end later means a fresh alert when the new window comes.
    service.update(session, ab, {"end_date": "2027-06-01"}, service.Actor(label="t"))
    make.commit()
    runner.invoke(args=["tick", "--as-of", "2026-12-02"])
    assert len(outbox(app)) == 1
    runner.invoke(args=["tick", "--as-of", "2027-03-03"])
    assert len(outbox(app)) == 2
    assert old.id not in {r.agreement_id for r in session.query(AgreementAlert)}


def test_a_failing_mail_server_does_not_lose_the_alert(app, runner, make, session):
    app.config["MAIL_BACKEND"] = "smtp"
    app.config["MAIL_PORT"] = 1  # nothing listens there
    a, b = make.partner("AAA"), make.partner("BBB")
    make.user("coordinator", email="k@example.org")
    make.agreement(a, b, end_date=date(2026, 12, 1))
    make.commit()
    r = runner.invoke(args=["tick", "--as-of", "2026-11-23"])
    assert r.exit_code == 0
    from ill.notify import OutboxMail

    session.expire_all()
    queued = session.query(OutboxMail).one()
    assert queued.sent_at is None and queued.to_addr == "k@example.org"
    assert session.query(AgreementAlert).count() == 1
