"""Every notice of the loan workflow reaches a real SMTP server once, in the
recipient's language; a second tick on the same day sends nothing."""
from __future__ import annotations

import io
from collections import Counter
from datetime import timedelta

import pytest

from ill import clock, housekeeping, notify
from ill.extensions import db
from tests.factories import bearer

from .network import act, build, copy_request, loan_request, pdf_bytes


@pytest.fixture
def app_config(smtp_server):
    return {"MAIL_BACKEND": "smtp", "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp_server.port,
            "SITE_URL": "https://ill.example.org"}


def received(smtp_server) -> Counter:
    return Counter((m["To"], m["Subject"]) for m in smtp_server.messages)


def test_every_notice_reaches_smtp_once_in_the_right_language(app, make, client, smtp_server):
    net = build(make)  # patron: Indonesian; lender librarians: one English, one Indonesian
    patron, lena, lintang = net.patron, net.lender_librarian, net.lender_librarian2
    today = clock.today()
    title = "Sejarah Islam di Nusantara"
    expected: Counter = Counter()

    # A new request in the lender's queue: to every librarian of the lender.
    loan = loan_request(net)
    assert loan.status == "requested"
    expected[(lena.email, f"New request #{loan.id} in your queue")] += 1
    expected[(lintang.email, f"Permintaan baru #{loan.id} di antrean Anda")] += 1
    assert received(smtp_server) == expected

    # Shipped, then received at the borrowing library: ready for pick-up.
    act(lena, loan, "loaned", due_date=(today + timedelta(days=20)).isoformat())
    act(net.borrower_librarian, loan, "received")
    expected[(patron.email, f"Siap diambil: {title}")] += 1
    act(net.borrower_librarian, loan, "checked_out")
    assert received(smtp_server) == expected

    # A renewal asked: to the lender's librarians.
    act(net.borrower_librarian, loan, "renew", due_date=(today + timedelta(days=30)).isoformat())
    expected[(lena.email, f"Renewal asked for request #{loan.id}")] += 1
    expected[(lintang.email, f"Perpanjangan diminta untuk permintaan #{loan.id}")] += 1
    act(lena, loan, "renew_answer", approve="true")
    # Its answer: to the patron and to the borrowing library's librarians.
    expected[(patron.email, f"Perpanjangan Anda: {title}")] += 1
    expected[(net.borrower_librarian.email, f"Perpanjangan dijawab untuk permintaan #{loan.id}: {title}")] += 1
    # Recalled: to the patron.
    act(lena, loan, "recall", note="Dibutuhkan untuk pameran")
    expected[(patron.email, f"Ditarik kembali: mohon kembalikan {title}")] += 1
    assert received(smtp_server) == expected

    # A copy sent: to the patron, with the link to download it.
    copy = copy_request(net)
    expected[(lena.email, f"New request #{copy.id} in your queue")] += 1
    expected[(lintang.email, f"Permintaan baru #{copy.id} di antrean Anda")] += 1
    token = make.token(lena)
    make.commit()
    db.session.refresh(copy)
    r = client.post(f"/api/v1/requests/{copy.id}/actions", headers=bearer(token),
                    data={"action": "copy_completed", "version": str(copy.version),
                          "file": (io.BytesIO(pdf_bytes(2)), "scan.pdf")},
                    content_type="multipart/form-data")
    assert r.status_code == 200, r.get_json()
    expected[(patron.email, "Salinan Anda siap: Islam and the State")] += 1
    assert received(smtp_server) == expected
    [copy_mail] = [m for m in smtp_server.messages if m["Subject"].startswith("Salinan Anda")]
    assert f"https://ill.example.org/delivery/{copy.id}/copy" in copy_mail.get_content()

    # Unfilled: the only lender cannot supply.
    second = copy_request(net, article_title="Ulama and Politics")
    expected[(lena.email, f"New request #{second.id} in your queue")] += 1
    expected[(lintang.email, f"Permintaan baru #{second.id} di antrean Anda")] += 1
    act(lintang, second, "unfilled", reason="not_held")
    assert second.status == "unfilled"
    expected[(patron.email, "Permintaan Anda tidak dapat dipenuhi: Ulama and Politics")] += 1
    assert received(smtp_server) == expected

    # Cancelled by its patron while with the lender.
    other = requests_for_other(net)
    expected[(lena.email, f"New request #{other.id} in your queue")] += 1
    expected[(lintang.email, f"Permintaan baru #{other.id} di antrean Anda")] += 1
    act(net.other_patron, other, "cancel", reason="Sudah dapat di tempat lain")
    expected[(lena.email, f"Request #{other.id} was cancelled")] += 1
    expected[(lintang.email, f"Permintaan #{other.id} dibatalkan")] += 1
    assert received(smtp_server) == expected

    # Due in 3 days: the tick tells the patron, once, however often it runs.
    db.session.refresh(loan)
    due = loan.due_date
    assert due == today + timedelta(days=30)
    lines = housekeeping.run(db.session, due - timedelta(days=3))
    expected[(patron.email, f"Jatuh tempo dalam 3 hari: {title}")] += 1
    assert received(smtp_server) == expected
    assert "mail: 1 mail(s) sent" in lines
    again = housekeeping.run(db.session, due - timedelta(days=3))
    assert received(smtp_server) == expected
    assert "mail: nothing to do" in again and "due-soon reminders: nothing to do" in again
    # ... nor on the next days for the same due date.
    housekeeping.run(db.session, due - timedelta(days=2))
    assert received(smtp_server) == expected

    # Overdue: marked by the tick, told once.
    lines = housekeeping.run(db.session, due + timedelta(days=1))
    assert f"overdue loans: request {loan.id}: checked_out -> overdue" in lines
    expected[(patron.email, f"Terlambat: {title}")] += 1
    assert received(smtp_server) == expected
    again = housekeeping.run(db.session, due + timedelta(days=1))
    assert all(line.endswith("nothing to do") for line in again[1:]), again
    assert received(smtp_server) == expected

    # Every message once; the in-app list has them too.
    assert max(received(smtp_server).values()) == 1
    kinds = {n.kind for n in notify.inbox(db.session, patron)}
    assert kinds == {"ready_for_pickup", "renewal_answered", "recalled", "copy_ready", "unfilled", "due_soon",
                     "overdue"}
    assert {n.kind for n in notify.inbox(db.session, lena)} == {
        "request_new", "renewal_asked", "request_cancelled"}


def requests_for_other(net):
    from ill import requests_service

    req = requests_service.create(db.session, net.other_patron, {
        "record_id": net.cluster.id, "service": "loan"})
    db.session.commit()
    return req


def test_tick_prints_what_it_did_from_the_command_line(app, make, runner, smtp_server):
    net = build(make)
    loan = loan_request(net)
    act(net.lender_librarian, loan, "loaned",
        due_date=(clock.today() + timedelta(days=10)).isoformat())
    act(net.borrower_librarian, loan, "received")
    act(net.borrower_librarian, loan, "checked_out")
    before = len(smtp_server.messages)
    day = (clock.today() + timedelta(days=8)).isoformat()
    result = runner.invoke(args=["tick", "--as-of", day])
    assert result.exit_code == 0, result.output
    assert f"tick for {day}" in result.output
    assert f"due-soon reminders: request {loan.id}: due-soon reminder to {net.patron.email}" \
        in result.output
    assert "mail: 1 mail(s) sent" in result.output
    assert len(smtp_server.messages) == before + 1
    result = runner.invoke(args=["tick", "--as-of", day])
    assert "mail: nothing to do" in result.output
    assert len(smtp_server.messages) == before + 1
