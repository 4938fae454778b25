"""Document delivery: a copy request answered with a PDF, downloadable by its
patron (and the borrowing library's staff) only, until it expires."""
from __future__ import annotations

import io
import os
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import select

from ill import clock, housekeeping
from ill.delivery_models import CopyDownload, DeliveredCopy
from ill.extensions import db
from tests.factories import bearer, login
from tests.notify.network import build, copy_request, pdf_bytes


@pytest.fixture
def net(make):
    return build(make)


def upload(client, token, req, data: bytes, name="scan.pdf", **extra):
    db.session.refresh(req)
    return client.post(f"/api/v1/requests/{req.id}/actions", headers=bearer(token),
                       data={"action": "copy_completed", "version": str(req.version),
                             "file": (io.BytesIO(data), name), **extra},
                       content_type="multipart/form-data")


def get_copy(client, make, user):
    token = make.token(user)
    make.commit()
    return lambda req: client.get(f"/api/v1/requests/{req.id}/copy", headers=bearer(token))


def stored_files(app):
    folder = app.config["DATA_DIR"] + "/deliveries"
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


def test_copy_answered_with_a_pdf_reaches_its_patron_only(app, make, client, net):
    req = copy_request(net)
    assert req.status == "requested" and req.current_lender_id == net.lender.id
    token = make.token(net.lender_librarian)
    make.commit()
    pdf = pdf_bytes(3)
    r = upload(client, token, req, pdf, name="../../etc/scan.pdf")
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["status"] == "copy_completed"

    copy = db.session.scalar(select(DeliveredCopy))
    assert copy.pages == 3 and str(copy.cost) == "1500.00" and str(copy.cost_per_page) == "500.00"
    # Stored outside the web root under a generated name, not the uploaded one.
    [name] = stored_files(app)
    assert name == copy.stored_name and "scan" not in name and name.endswith(".pdf")
    folder = os.path.realpath(os.path.join(app.config["DATA_DIR"], "deliveries"))
    assert not folder.startswith(os.path.realpath(app.static_folder))

    fetch = get_copy(client, make, net.patron)
    r = fetch(req)
    assert r.status_code == 200
    assert r.data == pdf
    assert r.mimetype == "application/pdf"
    assert r.headers["Content-Disposition"].startswith("attachment")
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in r.headers["Cache-Control"]

    # The borrowing library's staff may fetch it too; nobody else.
    assert get_copy(client, make, net.borrower_librarian)(req).status_code == 200
    assert get_copy(client, make, net.other_patron)(req).status_code == 404
    assert get_copy(client, make, net.outsider_librarian)(req).status_code == 404
    assert get_copy(client, make, net.lender_librarian)(req).status_code == 403
    assert get_copy(client, make, net.coordinator)(req).status_code == 403
    assert client.get(f"/api/v1/requests/{req.id}/copy").status_code == 401

    downloads = db.session.scalars(select(CopyDownload).order_by(CopyDownload.id)).all()
    assert [d.user_id for d in downloads] == [net.patron.id, net.borrower_librarian.id]
    db.session.refresh(copy)
    assert copy.downloads == 2


def test_copy_expires_and_the_tick_deletes_it(app, make, client, net):
    req = copy_request(net)
    token = make.token(net.lender_librarian)
    make.commit()
    assert upload(client, token, req, pdf_bytes(1)).status_code == 200
    copy = db.session.scalar(select(DeliveredCopy))
    assert copy.available_until == clock.today() + timedelta(days=app.config["DELIVERY_EXPIRY_DAYS"])
    fetch = get_copy(client, make, net.patron)
    assert fetch(req).status_code == 200

    lines = housekeeping.run(db.session, copy.available_until)
    assert "expired copies: nothing to do" in lines  # still its last day
    lines = housekeeping.run(db.session, copy.available_until + timedelta(days=1))
    assert f"expired copies: copy of request {req.id} expired, file deleted" in lines
    assert stored_files(app) == []
    r = fetch(req)
    assert r.status_code == 410
    assert "Salinan tidak tersedia lagi" in r.get_json()["error"]["message"]  # her language
    token = make.token(net.patron)
    make.commit()
    info = client.get(f"/api/v1/requests/{req.id}/delivery", headers=bearer(token)).get_json()
    assert info["copy"]["available"] is False and info["copy"]["deleted_reason"] == "expired"
    assert info["copy"]["url"] is None
    # A second tick the same day does nothing more.
    again = housekeeping.run(db.session, copy.available_until + timedelta(days=1))
    assert "expired copies: nothing to do" in again


def test_expired_copy_is_refused_even_before_the_tick(app, make, client, net, monkeypatch):
    req = copy_request(net)
    token = make.token(net.lender_librarian)
    make.commit()
    assert upload(client, token, req, pdf_bytes(1)).status_code == 200
    copy = db.session.scalar(select(DeliveredCopy))
    # the morning after its last day, on the network's calendar
    later = datetime.combine(copy.available_until + timedelta(days=1), time(9), tzinfo=clock.network_zone())
    monkeypatch.setattr(clock, "utcnow", lambda: later.astimezone(UTC))
    assert get_copy(client, make, net.patron)(req).status_code == 410
    assert stored_files(app) == []


@pytest.fixture
def app_config(request):
    return getattr(request, "param", {})


@pytest.mark.parametrize("app_config", [{"DELIVERY_MAX_DOWNLOADS": 2}], indirect=True)
def test_download_limit_ends_access_at_once(app, make, client, net):
    req = copy_request(net)
    token = make.token(net.lender_librarian)
    make.commit()
    assert upload(client, token, req, pdf_bytes(2)).status_code == 200
    fetch = get_copy(client, make, net.patron)
    assert fetch(req).status_code == 200
    assert stored_files(app) != []
    assert fetch(req).status_code == 200
    assert stored_files(app) == []  # deleted on reaching the limit, not at the next tick
    r = fetch(req)
    assert r.status_code == 410
    assert "2" in r.get_json()["error"]["message"]
    assert len(db.session.scalars(select(CopyDownload)).all()) == 2


def _refused(app, make, client, net, data, name="scan.pdf"):
    req = copy_request(net)
    token = make.token(net.lender_librarian)
    make.commit()
    version = req.version
    r = upload(client, token, req, data, name=name)
    db.session.expire_all()
    db.session.refresh(req)
    # Nothing changed: the request waits, no copy, no file.
    assert req.status == "requested" and req.version == version
    assert db.session.scalar(select(DeliveredCopy)) is None
    assert stored_files(app) == []
    return r


def test_a_file_that_is_not_a_pdf_is_refused(app, make, client, net):
    r = _refused(app, make, client, net, b"GIF89a not a pdf at all" * 10, name="scan.pdf")
    assert r.status_code == 415
    body = r.get_json()["error"]
    assert body["field"] == "file" and "not a PDF" in body["message"]


def test_a_truncated_pdf_is_refused(app, make, client, net):
    pdf = pdf_bytes(2)
    r = _refused(app, make, client, net, pdf[: len(pdf) // 2])
    assert r.status_code == 422
    assert "incomplete or damaged" in r.get_json()["error"]["message"]


def test_a_pdf_with_a_broken_page_tree_is_refused(app, make, client, net):
    fake = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\nstartxref\n9\n%%EOF\n"
    r = _refused(app, make, client, net, fake)
    assert r.status_code == 422


def test_upload_without_a_file_is_refused(app, make, client, net):
    req = copy_request(net)
    token = make.token(net.lender_librarian)
    make.commit()
    r = client.post(f"/api/v1/requests/{req.id}/actions", headers=bearer(token),
                    json={"action": "copy_completed", "version": req.version})
    assert r.status_code == 400 and r.get_json()["error"]["field"] == "file"


@pytest.mark.parametrize("app_config", [{"DELIVERY_MAX_BYTES": 2000}], indirect=True)
def test_a_file_over_the_size_limit_is_refused(app, make, client, net):
    r = _refused(app, make, client, net, pdf_bytes(1) + b"%" * 3000 + b"\n%%EOF\n")
    assert r.status_code == 413


def test_only_the_lender_may_send_the_copy(app, make, client, net):
    req = copy_request(net)
    token = make.token(net.borrower_librarian)
    make.commit()
    r = upload(client, token, req, pdf_bytes(1))
    assert r.status_code == 403
    assert stored_files(app) == []


def test_declaration_is_kept_and_shown_to_the_lender(app, make, client, net):
    req = copy_request(net)
    login(client, net.lender_librarian.email)
    r = client.get(f"/delivery/{req.id}")
    assert r.status_code == 200
    # The patron declared in Indonesian, and the lender sees those very words.
    assert "hanya untuk keperluan belajar atau penelitian pribadi" in r.get_data(as_text=True)
    r = client.get(f"/requests/{req.id}")
    assert "hanya untuk keperluan belajar atau penelitian pribadi" in r.get_data(as_text=True)
    info = client.get(f"/api/v1/requests/{req.id}/delivery").get_json()
    assert info["declaration"]["locale"] == "id"


def test_lender_sends_the_copy_from_the_request_page(app, make, client, net):
    req = copy_request(net)
    login(client, net.lender_librarian.email)
    pdf = pdf_bytes(4)
    r = client.post(f"/delivery/{req.id}/upload",
                    data={"version": str(req.version), "file": (io.BytesIO(pdf), "scan.pdf")},
                    content_type="multipart/form-data")
    assert r.status_code == 302
    page = client.get(f"/delivery/{req.id}").get_data(as_text=True)
    assert "IDR\u00a02,000 (IDR\u00a0500 a page)" in page  # four pages, in the network's currency
    client.post("/logout")
    login(client, net.patron.email)
    page = client.get(f"/requests/{req.id}").get_data(as_text=True)
    assert f"/delivery/{req.id}/copy" in page
    r = client.get(f"/delivery/{req.id}/copy")
    assert r.status_code == 200 and r.data == pdf
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_the_loan_pages_form_sends_the_copy_too(app, make, client, net):
    req = copy_request(net)
    login(client, net.lender_librarian.email)
    r = client.post(f"/requests/{req.id}/act",
                    data={"action": "copy_completed", "version": str(req.version),
                          "file": (io.BytesIO(pdf_bytes(2)), "scan.pdf")},
                    content_type="multipart/form-data")
    assert r.status_code == 303
    db.session.expire_all()
    assert db.session.scalar(select(DeliveredCopy)).pages == 2


def test_a_second_copy_for_one_request_is_refused(app, make, client, net):
    req = copy_request(net)
    token = make.token(net.lender_librarian)
    make.commit()
    assert upload(client, token, req, pdf_bytes(1)).status_code == 200
    assert upload(client, token, req, pdf_bytes(1)).status_code == 409
    assert len(stored_files(app)) == 1


def test_a_refused_action_after_the_upload_leaves_no_file(app, make, client, net, monkeypatch):
    from ill import workflow
    from ill.errors import Conflict

    def refuse(session, req, event):
        if event.action == "copy_completed":
            raise Conflict("refused by a later step")

    monkeypatch.setattr(workflow, "after_transition", [*workflow.after_transition, refuse])
    r = _refused(app, make, client, net, pdf_bytes(1))
    assert r.status_code == 409


def test_the_tick_sweeps_stray_files(app, make, net):
    folder = os.path.join(app.config["DATA_DIR"], "deliveries")
    os.makedirs(folder, exist_ok=True)
    old, fresh = os.path.join(folder, "old.pdf"), os.path.join(folder, "fresh.pdf")
    for path in (old, fresh):
        with open(path, "wb") as f:
            f.write(b"%PDF-")
    os.utime(old, (0, 0))
    lines = housekeeping.run(db.session, clock.today())
    assert "expired copies: stray file old.pdf deleted" in lines
    assert stored_files(app) == ["fresh.pdf"]
