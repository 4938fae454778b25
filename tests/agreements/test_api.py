"""The agreements and partners API: listing as API.md says, changes by
coordinators only, every change in the history, tenancy."""
from datetime import date

import pytest

from agreements.models import Agreement, AgreementChange, Partner
from tests.factories import bearer


@pytest.fixture
def world(make):
    home, ugm, far = make.partner("HOME"), make.partner("UGM"), make.partner("FAR")
    coordinator = make.user("coordinator")
    librarian = make.user("librarian", library=home)
    patron = make.user("patron", library=home)
    make.agreement(home, ugm, start_date=date(2025, 1, 1), duration_months=60, title="Home-UGM")
    make.agreement(home, far, end_date=date(2026, 12, 31), title="Home-Far")
    make.agreement(ugm, far, title="UGM-Far")
    tokens = {name: bearer(make.token(u)) for name, u in
              (("coordinator", coordinator), ("librarian", librarian), ("patron", patron))}
    make.commit()
    return tokens


def test_list_as_api_md(client, world):
    r = client.get("/api/v1/agreements?as_of=2026-11-23", headers=world["coordinator"])
    assert r.status_code == 200
    body = r.get_json()
    assert body["total"] == 3
    first = {a["title"]: a for a in body["agreements"]}["Home-UGM"]
    for key in ("parties", "scope", "services", "start", "end", "status"):
        assert key in first
    assert first["status"] == "active" and first["start"] == "2025-01-01"
    assert first["end"] == "2030-01-01"
    assert [p["code"] for p in first["parties"]] == ["HOME", "UGM"]
    assert set(first["services"]) == {"loan", "copy"}


def test_list_filters(client, world):
    h = world["coordinator"]
    r = client.get("/api/v1/agreements?as_of=2026-11-23&status=expiring", headers=h)
    assert [a["title"] for a in r.get_json()["agreements"]] == ["Home-Far"]
    r = client.get("/api/v1/agreements?as_of=2026-11-23&status=unknown", headers=h)
    assert [a["title"] for a in r.get_json()["agreements"]] == ["UGM-Far"]
    r = client.get("/api/v1/agreements?as_of=2026-11-23&within_days=37", headers=h)
    assert r.get_json()["total"] == 0
    r = client.get("/api/v1/agreements?as_of=2026-11-23&within_days=38", headers=h)
    assert [a["title"] for a in r.get_json()["agreements"]] == ["Home-Far"]
    r = client.get("/api/v1/agreements?as_of=2027-01-01", headers=h)
    assert {a["title"]: a["status"] for a in r.get_json()["agreements"]}["Home-Far"] == "expired"


@pytest.mark.parametrize(("query", "field"), [
    ("as_of=23-11-2026", "as_of"), ("status=lapsed", "status"), ("within_days=-3", "within_days"),
    ("within_days=soon", "within_days"),
])
def test_list_bad_input(client, world, query, field):
    r = client.get(f"/api/v1/agreements?{query}", headers=world["coordinator"])
    assert r.status_code == 400
    assert r.get_json()["error"]["field"] == field


def test_tenancy(client, world):
    r = client.get("/api/v1/agreements", headers=world["librarian"])
    assert sorted(a["title"] for a in r.get_json()["agreements"]) == ["Home-Far", "Home-UGM"]
    ugm_far = client.get("/api/v1/agreements?status=unknown", headers=world["coordinator"])
    other_id = ugm_far.get_json()["agreements"][0]["id"]
    assert client.get(f"/api/v1/agreements/{other_id}", headers=world["librarian"]).status_code == 403
    assert client.get("/api/v1/agreements", headers=world["patron"]).status_code == 403
    assert client.get("/api/v1/agreements").status_code == 401
    r = client.post("/api/v1/agreements", json={"parties": ["HOME", "FAR"]},
                    headers=world["librarian"])
    assert r.status_code == 403


def test_create_update_history(client, world, session):
    h = world["coordinator"]
    r = client.post("/api/v1/agreements", headers=h, json={
        "title": "MoU Baru", "number": "12/MoU/2026", "parties": ["HOME", "FAR", "UGM"],
        "start_date": "2026-01-01", "duration_years": 2,
        "scope_forms": ["interlibrary_loan", "union_catalogue"], "scope_text": "Buku dan jurnal",
        "purpose": "Berbagi koleksi", "background": "Jaringan", "relationship": "setara",
        "rights_obligations": "saling", "division_of_work": "bergiliran", "costs": "ongkos kirim",
        "procedures": "lewat sistem",
        "services": {"loan": {"loan_period_days": 14, "renewals_allowed": 1, "response_days": 2,
                              "cost_per_loan": "10000"},
                     "copy": {"cost_per_page": "500.5"}}})
    assert r.status_code == 201, r.get_json()
    created = r.get_json()
    assert created["kind"] == "network" and created["end"] == "2028-01-01"
    assert created["services"]["copy"]["cost_per_page"] == "500.50"
    assert created["services"]["loan"]["loan_period_days"] == 14
    aid = created["id"]
    r = client.patch(f"/api/v1/agreements/{aid}", headers=h,
                     json={"end_date": "2027-06-30", "duration_months": None,
                           "services": ["loan"]})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["end"] == "2027-06-30" and list(body["services"]) == ["loan"]
    assert body["changes"]["end_date"] == ["2028-01-01", "2027-06-30"]
    detail = client.get(f"/api/v1/agreements/{aid}", headers=h).get_json()
    assert [c["action"] for c in detail["history"]] == ["created", "updated"]
    assert detail["history"][1]["actor"].startswith("coordinator")
    assert "services" in detail["history"][1]["changes"]


@pytest.mark.parametrize(("payload", "field"), [
    ({"parties": ["HOME"]}, "parties"),
    ({"parties": ["HOME", "NOPE"]}, "parties"),
    ({"parties": ["HOME", "UGM"], "start_date": "2026-13-01"}, "start_date"),
    ({"parties": ["HOME", "UGM"], "start_date": "2026-01-01", "end_date": "2025-01-01"},
     "end_date"),
    ({"parties": ["HOME", "UGM"], "start_date": "2026-01-01", "duration_months": 12,
      "end_date": "2027-06-01"}, "end_date"),
    ({"parties": ["HOME", "UGM"], "services": ["lend"]}, "services"),
    ({"parties": ["HOME", "UGM"], "services": {"loan": {"cost_per_loan": "cheap"}}}, "services.loan.cost_per_loan"),
    ({"parties": ["HOME", "UGM"], "scope_forms": ["gossip"]}, "scope_forms"),
    ({"parties": ["HOME", "UGM"], "colour": "red"}, "colour"),
    ({"parties": ["HOME", "UGM"], "warning_days": -1}, "warning_days"),
])
def test_create_bad_input_changes_nothing(client, world, session, payload, field):
    before = session.query(Agreement).count()
    r = client.post("/api/v1/agreements", headers=world["coordinator"], json=payload)
    assert r.status_code == 400
    assert r.get_json()["error"]["field"] == field
    session.expire_all()
    assert session.query(Agreement).count() == before


def test_renew_keeps_the_chain(client, world, session):
    h = world["coordinator"]
    old = client.get("/api/v1/agreements?status=expiring&as_of=2026-11-23", headers=h)
    old_id = old.get_json()["agreements"][0]["id"]
    r = client.post(f"/api/v1/agreements/{old_id}/renew", headers=h, json={"duration_years": 3})
    assert r.status_code == 201, r.get_json()
    new = r.get_json()
    assert new["supersedes"] == old_id
    assert (new["start"], new["end"]) == ("2027-01-01", "2030-01-01")
    assert [p["code"] for p in new["parties"]] == ["HOME", "FAR"]
    detail = client.get(f"/api/v1/agreements/{old_id}", headers=h).get_json()
    assert detail["chain"] == [old_id, new["id"]]
    assert detail["history"][-1]["action"] == "superseded"
    again = client.post(f"/api/v1/agreements/{old_id}/renew", headers=h, json={})
    assert again.status_code == 409


def test_terminate(client, world):
    h = world["coordinator"]
    aid = client.get("/api/v1/agreements?status=active&as_of=2026-11-23",
                     headers=h).get_json()["agreements"][0]["id"]
    r = client.post(f"/api/v1/agreements/{aid}/terminate", headers=h,
                    json={"terminated_on": "2026-12-01"})
    assert r.status_code == 400 and r.get_json()["error"]["field"] == "reason"
    r = client.post(f"/api/v1/agreements/{aid}/terminate", headers=h,
                    json={"terminated_on": "2026-12-01", "reason": "Perpustakaan ditutup"})
    assert r.status_code == 200
    body = r.get_json()
    assert body["terminated_on"] == "2026-12-01"
    listed = client.get("/api/v1/agreements?as_of=2026-12-01&status=terminated", headers=h)
    assert [a["id"] for a in listed.get_json()["agreements"]] == [aid]
    listed = client.get("/api/v1/agreements?as_of=2026-11-30&status=active", headers=h)
    assert aid in [a["id"] for a in listed.get_json()["agreements"]]
    r = client.post(f"/api/v1/agreements/{aid}/terminate", headers=h,
                    json={"terminated_on": "2026-12-02", "reason": "again"})
    assert r.status_code == 409


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def app_config():
    return {"AGREEMENTS_DOCUMENT_MAX_BYTES": 1024}


def test_document_upload_and_download(client, world, app, tmp_path):
    import io

    h = world["coordinator"]
    aid = client.get("/api/v1/agreements?status=active&as_of=2026-11-23",
                     headers=h).get_json()["agreements"][0]["id"]
    url = f"/api/v1/agreements/{aid}/document"
    r = client.post(url, headers=world["librarian"], data={"file": (io.BytesIO(PDF), "x.pdf")})
    assert r.status_code == 403
    r = client.post(url, headers=h, data={"file": (io.BytesIO(b"MZ not a pdf"), "mou.pdf")})
    assert r.status_code == 415
    r = client.post(url, headers=h, data={"file": (io.BytesIO(PDF + b"x" * 2000), "mou.pdf")})
    assert r.status_code == 413
    r = client.post(url, headers=h, data={"file": (io.BytesIO(PDF), "../../MoU signed.pdf")})
    assert r.status_code == 200 and r.get_json()["document"] is True
    stored = list((tmp_path / "data" / "agreements").iterdir())
    assert len(stored) == 1 and stored[0].name.startswith(f"{aid}-") and "MoU" not in stored[0].name
    page = f"/agreements/{aid}/document"
    got = client.get(page, headers=world["librarian"])
    assert got.status_code == 200 and got.data == PDF
    assert "MoU signed.pdf" in got.headers["Content-Disposition"]
    assert client.get(page, headers=world["patron"]).status_code == 403


def test_partners_api(client, world, make, session):
    r = client.get("/api/v1/partners", headers=world["patron"])
    assert {p["code"] for p in r.get_json()["partners"]} >= {"HOME", "UGM", "FAR"}
    lib = world["librarian"]
    r = client.patch("/api/v1/partners/HOME", headers=lib,
                     json={"lending_paused_until": "2026-12-31", "pause_reason": "stock-taking",
                           "review_requests": True})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["paused_until"] == "2026-12-31" and body["review_requests"] is True
    assert client.patch("/api/v1/partners/HOME", headers=lib,
                        json={"name": "Renamed"}).status_code == 403
    assert client.patch("/api/v1/partners/UGM", headers=lib,
                        json={"lending_paused_until": "2026-12-31"}).status_code == 403
    r = client.patch("/api/v1/partners/HOME", headers=lib, json={"lending_paused_until": "soon"})
    assert r.status_code == 400
    # how many open requests each patron may have: a librarian sets it for their own library
    r = client.patch("/api/v1/partners/HOME", headers=lib, json={"max_open_requests": 3})
    assert r.status_code == 200 and r.get_json()["max_open_requests"] == 3
    for bad in (0, 1000, "many", 2.5, True):
        r = client.patch("/api/v1/partners/HOME", headers=lib, json={"max_open_requests": bad})
        assert r.status_code == 400 and r.get_json()["error"]["field"] == "max_open_requests", bad
    assert client.get("/api/v1/partners/HOME", headers=lib).get_json()["max_open_requests"] == 3
    assert client.patch("/api/v1/partners/UGM", headers=lib, json={"max_open_requests": 3}).status_code == 403
    r = client.patch("/api/v1/partners/HOME", headers=lib, json={"max_open_requests": None})
    assert r.get_json()["max_open_requests"] is None
    r = client.patch("/api/v1/partners/HOME", headers=lib, json={"lending_paused_until": None})
    assert r.get_json()["lending_status"] == "lending" and r.get_json()["pause_reason"] is None
    r = client.patch("/api/v1/partners/UGM", headers=world["coordinator"],
                     json={"system": "koha", "holdings_tag": "952", "region": "DIY"})
    assert r.status_code == 200 and r.get_json()["system"] == "koha"
    r = client.patch("/api/v1/partners/UGM", headers=world["coordinator"], json={"system": "x"})
    assert r.status_code == 400
    r = client.post("/api/v1/partners", headers=world["coordinator"],
                    json={"code": "new1", "name": "Perpustakaan Baru", "system": "slims"})
    assert r.status_code == 201 and r.get_json()["code"] == "NEW1"
    r = client.post("/api/v1/partners", headers=world["coordinator"],
                    json={"code": "NEW1", "name": "Lagi"})
    assert r.status_code == 409


def test_import_api(client, world, session):
    import io

    sheet = (b"Nama Instansi,Masa Kerja sama,Masa berakhir Kerja Sama\n"
             b"Universitas Quality,5 tahun,7 Agustus 2023\n")
    r = client.post("/api/v1/agreements/import", headers=world["coordinator"],
                    data={"file": (io.BytesIO(sheet), "k.csv"), "party": "HOME",
                          "service": ["loan", "copy"]})
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert len(body["created"]) == 1 and body["partners_created"] == ["UQ"]
    session.expire_all()
    assert session.query(Partner).filter_by(code="UQ").one().name == "Universitas Quality"
    assert session.query(AgreementChange).filter_by(action="imported").count() == 1
    r = client.post("/api/v1/agreements/import", headers=world["librarian"],
                    data={"file": (io.BytesIO(sheet), "k.csv"), "party": "HOME"})
    assert r.status_code == 403


def test_form_style_updates_keep_dates_consistent(client, world):
    h = world["coordinator"]
    r = client.post("/api/v1/agreements", headers=h, json={
        "parties": ["HOME", "UGM"], "start_date": "2026-01-01", "duration_months": 12})
    aid = r.get_json()["id"]
    url = f"/api/v1/agreements/{aid}"
    # All three sent, only the end changed: the end wins, the duration goes.
    r = client.patch(url, headers=h, json={"start_date": "2026-01-01", "duration_months": 12,
                                           "end_date": "2027-03-31"})
    assert r.status_code == 200
    assert (r.get_json()["end"], r.get_json()["duration_months"]) == ("2027-03-31", None)
    r = client.patch(url, headers=h, json={"duration_months": 24})
    assert r.get_json()["end"] == "2028-01-01"
    # All three sent, only the duration changed: the end follows.
    r = client.patch(url, headers=h, json={"start_date": "2026-01-01", "duration_months": 36,
                                           "end_date": "2028-01-01"})
    assert r.get_json()["end"] == "2029-01-01"
    # Start and end both changed but disagreeing with the duration: refused, nothing changed.
    r = client.patch(url, headers=h, json={"start_date": "2026-02-01", "duration_months": 36,
                                           "end_date": "2030-01-01"})
    assert r.status_code == 400 and r.get_json()["error"]["field"] == "end_date"
    assert client.get(url, headers=h).get_json()["end"] == "2029-01-01"


def test_two_coordinators_editing_one_agreement(client, world, make):
    other = bearer(make.token(make.user("coordinator")))
    make.commit()
    h = world["coordinator"]
    aid = client.get("/api/v1/agreements?status=active&as_of=2026-11-23",
                     headers=h).get_json()["agreements"][0]["id"]
    seen = client.get(f"/api/v1/agreements/{aid}", headers=h).get_json()["version"]
    r = client.patch(f"/api/v1/agreements/{aid}", headers=other,
                     json={"version": seen, "services": ["copy"]})
    assert r.status_code == 200 and r.get_json()["version"] == seen + 1
    r = client.patch(f"/api/v1/agreements/{aid}", headers=h,
                     json={"version": seen, "title": "Mine"})
    assert r.status_code == 409
    body = client.get(f"/api/v1/agreements/{aid}", headers=h).get_json()
    assert body["title"] == "Home-UGM" and list(body["services"]) == ["copy"]
