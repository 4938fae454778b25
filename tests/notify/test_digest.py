"""One mail a day: a user who chose the digest gets every notice of the day
in one message from the tick, through a real SMTP server, in their language;
the notices list has each at once, and the others' mail leaves as before."""
from __future__ import annotations

from ill import clock, housekeeping, notify, requests_service
from ill.extensions import db
from tests.factories import bearer, login

from .network import act, build, loan_request
from .test_loan_notices import app_config, received  # noqa: F401 - the SMTP settings


def test_a_librarian_s_day_of_notices_comes_in_one_mail(app, make, client, smtp_server):
    net = build(make)  # the lender's librarians: Lena (English), Lintang (Indonesian)
    lena, lintang = net.lender_librarian, net.lender_librarian2
    token = make.token(lena)
    make.commit()
    r = client.put("/api/v1/notices/preferences", headers=bearer(token), json={"digest": True})
    assert r.status_code == 200 and r.get_json()["digest"] is True
    assert client.put("/api/v1/notices/preferences", headers=bearer(token),
                      json={"digest": "yes"}).status_code == 400
    first = loan_request(net)
    second = requests_service.create(db.session, net.other_patron, {"record_id": net.cluster.id, "service": "loan"})
    db.session.commit()
    # Lintang's mail left at once; Lena's waits for the day's digest
    assert received(smtp_server)[(lintang.email, f"Permintaan baru #{first.id} di antrean Anda")] == 1
    assert not [m for m in smtp_server.messages if m["To"] == lena.email]
    assert len(notify.inbox(db.session, lena)) == 2  # the notices list has them now
    waiting = client.get("/health").get_json()["checks"]["mail"]["waiting"]
    lines = housekeeping.run(db.session, clock.today())
    assert f"mail digests: digest of 2 to {lena.email}" in lines
    (digest,) = [m for m in smtp_server.messages if m["To"] == lena.email]
    assert digest["Subject"] == "2 notices from the interlibrary loan network"
    text = digest.get_content()
    assert f"1. New request #{first.id} in your queue" in text and f"2. New request #{second.id}" in text
    assert f"/requests/{first.id}" in text and "/notices/" in text
    # the held mails never count as waiting to be sent: the digest carried them
    assert client.get("/health").get_json()["checks"]["mail"]["waiting"] == 0 <= waiting
    # said once: the next tick has nothing for her
    assert "mail digests: nothing to do" in housekeeping.run(db.session, clock.today())
    assert len([m for m in smtp_server.messages if m["To"] == lena.email]) == 1
    # back to each mail at once, from the preferences page
    login(client, lena.email)
    page = client.get("/notices/preferences").get_data(as_text=True)
    assert 'name="digest" id="digest" checked' in page
    client.post("/notices/preferences", data={})
    db.session.expire_all()
    assert lena.mail_digest is False
    act(net.borrower_librarian, first, "message", note="Bisa dikirim minggu ini?")
    assert [m["Subject"] for m in smtp_server.messages if m["To"] == lena.email][-1].startswith(
        f"Message on request #{first.id}")
