"""The pages: dashboard, one agreement with its history, the forms, partners."""
import io
from datetime import date, timedelta

import pytest

from agreements.models import Agreement, AgreementChange, Partner
from ill import clock
from tests.factories import login


@pytest.fixture
def people(make):
    home, ugm, far = make.partner("HOME", "Perpustakaan Rumah"), make.partner("UGM"), make.partner("FAR")
    coordinator = make.user("coordinator", email="coord@example.org", locale="en")
    librarian = make.user("librarian", library=home, email="lib@example.org", locale="en")
    make.user("patron", library=home, email="pat@example.org")
    make.user("librarian", library=ugm, email="ugmlib@example.org")
    today = clock.today()
    make.agreement(home, ugm, end_date=today + timedelta(days=20), title="Soon A")
    make.agreement(home, far, end_date=today + timedelta(days=45), title="Soon B")
    make.agreement(ugm, far, end_date=today + timedelta(days=80), title="Soon C")
    make.agreement(home, far, end_date=today - timedelta(days=3), title="Gone D")
    make.agreement(ugm, far, title="Dateless E")
    make.agreement(home, ugm, start_date=today - timedelta(days=10), duration_months=60,
                   title="Long F")
    make.commit()
    return {"coordinator": coordinator, "librarian": librarian}


def _section(html: str, heading_id: str) -> str:
    start = html.index(f'id="{heading_id}"')
    end = html.find("<section", start)
    return html[start:end if end != -1 else None]


def test_dashboard_groups(client, people):
    login(client, "coord@example.org")
    r = client.get("/agreements/")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    soon = _section(html, "h-expiring")
    assert soon.index("Soon A") < soon.index("In 31 to 60 days") < soon.index("Soon B") \
        < soon.index("In 61 to 90 days") < soon.index("Soon C")
    assert "Gone D" in _section(html, "h-expired") and "Soon A" not in _section(html, "h-expired")
    assert "Dateless E" in _section(html, "h-unknown")
    assert "Import a spreadsheet" in html and "New agreement" in html
    assert '<option value="HOME" selected>' in html  # the library in most agreements
    assert "Long F" in _section(html, "all")


def test_dashboard_as_of_another_day(client, people):
    login(client, "coord@example.org")
    later = (clock.today() + timedelta(days=50)).isoformat()
    html = client.get(f"/agreements/?as_of={later}").get_data(as_text=True)
    assert "Soon A" in _section(html, "h-expired") and "Soon B" in _section(html, "h-expired")
    assert client.get("/agreements/?as_of=tomorrow").status_code == 400


def test_dashboard_for_a_librarian_shows_own_library_only(client, people):
    login(client, "lib@example.org")
    html = client.get("/agreements/").get_data(as_text=True)
    assert "Soon A" in html and "Soon C" not in html and "Dateless E" not in html
    assert "Import a spreadsheet" not in html
    assert client.get("/agreements/new").status_code == 403


def test_patron_sees_no_agreements(client, people):
    login(client, "pat@example.org")
    assert client.get("/agreements/").status_code == 403


def test_create_edit_and_history_through_forms(client, people, session):
    login(client, "coord@example.org")
    assert client.get("/agreements/new").status_code == 200
    form = {"title": "MoU Form", "parties": ["HOME", "FAR"], "state": "signed",
            "start_date": "2026-01-01", "duration_months": "24", "end_date": "",
            "scope_forms": ["interlibrary_loan", "shared_facilities"],
            "service_loan": "on", "loan_loan_period_days": "21", "loan_response_days": "4",
            "purpose": "Tujuan"}
    bad = dict(form, start_date="2026-02-30")
    r = client.post("/agreements/new", data=bad)
    assert r.status_code == 400
    assert "start_date" in r.get_data(as_text=True) and 'value="MoU Form"' in r.get_data(as_text=True)
    r = client.post("/agreements/new", data=form)
    assert r.status_code == 302
    agreement = session.query(Agreement).filter_by(title="MoU Form").one()
    assert agreement.end_date == date(2028, 1, 1)
    assert agreement.service("loan").loan_period_days == 21 and agreement.service("copy") is None
    page = client.get(f"/agreements/{agreement.id}").get_data(as_text=True)
    assert "Shared facilities" in page and "21" in page
    edit = client.get(f"/agreements/{agreement.id}/edit").get_data(as_text=True)
    assert 'value="2026-01-01"' in edit
    changed = dict(form, duration_months="", end_date="2027-03-31", note="extended by letter")
    r = client.post(f"/agreements/{agreement.id}/edit", data=changed)
    assert r.status_code == 302
    session.expire_all()
    assert session.get(Agreement, agreement.id).end_date == date(2027, 3, 31)
    change = session.query(AgreementChange).filter_by(agreement_id=agreement.id,
                                                      action="updated").one()
    assert change.changes["end_date"] == ["2028-01-01", "2027-03-31"]
    assert change.actor == "coord@example.org" and change.note == "extended by letter"
    page = client.get(f"/agreements/{agreement.id}").get_data(as_text=True)
    assert "History" in page and "coord@example.org" in page and "2027-03-31" in page


def test_renew_and_terminate_through_forms(client, people, session):
    login(client, "coord@example.org")
    old = session.query(Agreement).filter_by(title="Soon A").one()
    form = client.get(f"/agreements/{old.id}/renew").get_data(as_text=True)
    start = (old.end_date + timedelta(days=1)).isoformat()
    assert f'value="{start}"' in form
    r = client.post(f"/agreements/{old.id}/renew", data={
        "title": "Soon A, renewed", "parties": ["HOME", "UGM"], "state": "signed",
        "start_date": start, "duration_months": "36", "service_loan": "on", "service_copy": "on"})
    assert r.status_code == 302
    new = session.query(Agreement).filter_by(title="Soon A, renewed").one()
    assert new.supersedes_id == old.id
    page = client.get(f"/agreements/{old.id}").get_data(as_text=True)
    assert "Renewal chain" in page and "Soon A, renewed" in page
    r = client.post(f"/agreements/{new.id}/terminate", data={"terminated_on": start, "reason": ""})
    session.expire_all()
    assert session.get(Agreement, new.id).terminated_on is None
    r = client.post(f"/agreements/{new.id}/terminate",
                    data={"terminated_on": start, "reason": "Digabung"})
    session.expire_all()
    assert session.get(Agreement, new.id).terminated_on.isoformat() == start
    page = client.get(f"/agreements/{new.id}?as_of={start}").get_data(as_text=True)
    assert "terminated" in page and "Digabung" in page


def test_document_form(client, people, session):
    login(client, "coord@example.org")
    agreement = session.query(Agreement).filter_by(title="Long F").one()
    r = client.post(f"/agreements/{agreement.id}/document",
                    data={"file": (io.BytesIO(b"<html>"), "mou.pdf")}, follow_redirects=True)
    assert "not a PDF" in r.get_data(as_text=True)
    r = client.post(f"/agreements/{agreement.id}/document",
                    data={"file": (io.BytesIO(b"%PDF-1.7 ..."), "mou.pdf")}, follow_redirects=True)
    assert "mou.pdf" in r.get_data(as_text=True)


def test_import_upload_on_dashboard(client, people, session):
    login(client, "coord@example.org")
    sheet = (b"Nama Instansi,Masa Kerja sama,Masa berakhir Kerja Sama\n"
             b"UGM,5 tahun,24 Juni 2030\nUniversitas Quality,5 tahun,7 Agustus 2099x\n")
    r = client.post("/agreements/import", data={"file": (io.BytesIO(sheet), "sheet.csv"),
                                                "party": "HOME", "service": ["loan"]})
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "row 2: agreement" in html and "row 3: Universitas Quality: cannot read the date" in html
    r = client.post("/agreements/import", data={"party": "HOME"}, follow_redirects=True)
    assert "Choose the CSV file" in r.get_data(as_text=True)


def test_partner_pages(client, people, session):
    login(client, "lib@example.org")
    assert "Perpustakaan Rumah" in client.get("/partners/").get_data(as_text=True)
    page = client.get("/partners/HOME").get_data(as_text=True)
    assert "Pause lending" in page and "Edit partner" not in page
    r = client.post("/partners/HOME", data={"action": "pause", "lending_paused_until": "2026-12-31",
                                            "pause_reason": "Stock opname"})
    assert r.status_code == 302
    session.expire_all()
    home = session.query(Partner).filter_by(code="HOME").one()
    assert home.lending_paused_until == date(2026, 12, 31) and home.pause_reason == "Stock opname"
    client.post("/partners/HOME", data={"action": "review", "review_requests": "on", "max_open_requests": "5"})
    client.post("/partners/HOME", data={"action": "resume"})
    session.expire_all()
    home = session.query(Partner).filter_by(code="HOME").one()
    assert home.lending_paused_until is None and home.review_requests is True and home.max_open_requests == 5
    r = client.post("/partners/HOME", data={"action": "review", "review_requests": "on", "max_open_requests": "-2"})
    page = r.get_data(as_text=True)
    assert r.status_code == 400 and "max_open_requests: give a whole number from 1 to 999" in page
    assert 'value="-2"' in page  # the form keeps what was typed
    session.expire_all()
    assert session.query(Partner).filter_by(code="HOME").one().max_open_requests == 5
    client.post("/partners/HOME", data={"action": "review", "max_open_requests": ""})
    session.expire_all()
    home = session.query(Partner).filter_by(code="HOME").one()
    assert home.max_open_requests is None and home.review_requests is False
    assert '<dd id="max-open-requests">no limit</dd>' in client.get("/partners/HOME").get_data(as_text=True)
    # how long a book received waits for its patron: the network's default, or the library's own
    page = client.get("/partners/HOME").get_data(as_text=True)
    assert 'id="pickup-days">7 days <span class="muted">(the network' in page
    client.post("/partners/HOME", data={"action": "review", "pickup_days": "5"})
    page = client.get("/partners/HOME").get_data(as_text=True)
    assert '<dd id="pickup-days">5 days</dd>' in page
    r = client.post("/partners/HOME", data={"action": "review", "pickup_days": "90"})
    assert r.status_code == 400 and "pickup_days: give a whole number of days from 1 to 60" in r.get_data(as_text=True)
    session.expire_all()
    assert session.query(Partner).filter_by(code="HOME").one().pickup_days == 5
    assert client.post("/partners/UGM", data={"action": "resume"}).status_code == 403
    assert client.post("/partners/HOME", data={"action": "edit", "name": "X"}).status_code == 403
    client.post("/logout")
    login(client, "coord@example.org")
    r = client.post("/partners/UGM", data={"action": "edit", "name": "Universitas Gadjah Mada",
                                           "system": "koha", "holdings_tag": "952",
                                           "region": "DIY"})
    assert r.status_code == 302
    session.expire_all()
    assert session.query(Partner).filter_by(code="UGM").one().system == "koha"
    r = client.post("/partners/UGM", data={"action": "edit", "name": "", "system": "koha",
                                           "holdings_tag": "952"})
    assert r.status_code == 400


def test_traffic_on_the_dashboard(client, people, session):
    from ill.models import LoanRequest, RotaEntry

    home, ugm, far = (session.query(Partner).filter_by(code=c).one() for c in ("HOME", "UGM", "FAR"))
    outsider = Partner(code="OUT", name="Outsider")
    session.add(outsider)
    session.flush()

    def request(requester, *asked):
        req = LoanRequest(requester_library_id=requester.id, service="loan", status="requested",
                          current_lender_id=asked[-1][0].id if asked else None)
        for rank, (lender, outcome) in enumerate(asked, start=1):
            req.rota.append(RotaEntry(partner_id=lender.id, rank=rank, reason_code="holds",
                                      outcome=outcome))
        session.add(req)

    request(home, (ugm, "unfilled"), (far, "supplied"))
    request(home, (ugm, "supplied"))
    request(ugm, (home, "asked"), (far, "waiting"))
    request(home, (outsider, "supplied"))  # no agreement with the outsider: not counted
    session.commit()
    login(client, "coord@example.org")
    html = client.get("/agreements/").get_data(as_text=True)
    traffic = _section(html, "h-traffic")
    row = lambda name: traffic[traffic.index(name):].split("</tr>")[0]  # noqa: E731
    cells = lambda name: [c.split("<")[0] for c in row(name).split("<td>")[1:]]  # noqa: E731
    assert cells("Perpustakaan Rumah (HOME)") == ["3", "1", "0", "0"]
    assert cells("Library UGM (UGM)") == ["1", "2", "1", "1"]
    assert cells("Library FAR (FAR)") == ["0", "1", "1", "0"]
    assert "Outsider" not in traffic


def test_coordinator_adds_a_partner_and_changes_are_recorded(client, people, session):
    login(client, "coord@example.org")
    assert "Add a partner library" in client.get("/partners/").get_data(as_text=True)
    r = client.post("/partners/", data={"code": "ugm", "name": "Dup"})
    assert r.status_code == 400 and "exists already" in r.get_data(as_text=True)
    r = client.post("/partners/", data={"code": "bad code!", "name": "X"})
    assert r.status_code == 400
    r = client.post("/partners/", data={"code": "nw1", "name": "Perpustakaan Baru",
                                        "system": "slims", "region": "Aceh"})
    assert r.status_code == 302
    session.expire_all()
    new = session.query(Partner).filter_by(code="NW1").one()
    assert (new.system, new.region) == ("slims", "Aceh")
    client.post("/partners/NW1", data={"action": "pause", "lending_paused_until": "2027-01-05",
                                       "pause_reason": "Libur"})
    page = client.get("/partners/NW1").get_data(as_text=True)
    assert "History" in page and "coord@example.org" in page and "2027-01-05" in page
    client.post("/logout")
    login(client, "lib@example.org")
    assert "Add a partner library" not in client.get("/partners/").get_data(as_text=True)
    assert client.post("/partners/", data={"code": "NW2", "name": "X"}).status_code == 403


@pytest.mark.parametrize("lang", ["id", "en"])
def test_pages_in_both_languages(client, people, session, lang):
    login(client, "coord@example.org")
    client.post("/language", data={"lang": lang})
    agreement = session.query(Agreement).filter_by(title="Long F").one()
    for url in ("/agreements/", f"/agreements/{agreement.id}", f"/agreements/{agreement.id}/edit",
                f"/agreements/{agreement.id}/renew", "/agreements/new", "/partners/",
                "/partners/HOME"):
        r = client.get(url)
        assert r.status_code == 200, url
        assert f'<html lang="{lang}">' in r.get_data(as_text=True)
    html = client.get(f"/agreements/{agreement.id}").get_data(as_text=True)
    assert ("Riwayat" if lang == "id" else "History") in html
    assert ("5 tahun" if lang == "id" else "5 years") in html
    # Another package's template helper of the same name must not take over ours.
    assert f'status-active">{"aktif" if lang == "id" else "active"}<' in html


def test_stale_edit_form_is_refused(client, people, session):
    login(client, "coord@example.org")
    agreement = session.query(Agreement).filter_by(title="Long F").one()
    form = client.get(f"/agreements/{agreement.id}/edit").get_data(as_text=True)
    assert f'name="version" value="{agreement.version}"' in form
    data = {"title": "Long F", "parties": ["HOME", "UGM"], "state": "signed",
            "start_date": agreement.start_date.isoformat(), "duration_months": "60",
            "end_date": agreement.end_date.isoformat(), "service_loan": "on",
            "version": str(agreement.version)}
    assert client.post(f"/agreements/{agreement.id}/edit",
                       data=dict(data, title="First")).status_code == 302
    r = client.post(f"/agreements/{agreement.id}/edit", data=dict(data, title="Second"))
    assert r.status_code == 409 and "Someone else changed" in r.get_data(as_text=True)
    session.expire_all()
    assert session.get(Agreement, agreement.id).title == "First"
