"""The union record: API and page, holdings and who may request from where."""

from __future__ import annotations

import pytest

from ill import clock
from tests.factories import bearer, login
from union_catalog import search as search_service


@pytest.fixture
def provider(app):
    """Register a requestability provider for one test, then restore the app's."""
    before = search_service.requestability_provider()
    yield search_service.set_requestability_provider
    search_service.set_requestability_provider(before)


@pytest.fixture
def availability_only(provider):
    """The answer from the items alone, whatever provider the app registered."""
    provider(search_service.availability_requestability)


def _book(make):
    return make.search_cluster(
        title="Tafsīr al-Miṣbāḥ",
        author="Shihab, M. Quraish",
        year=2002,
        isbns=["9789793062792"],
        subjects=["Tafsir"],
        call_number="297.122 SHI t",
        holdings={"UGM": ["available", "on_loan"], "PNRI": ["on_loan"], "UINSU": ["available"]},
    )


def test_record_api_for_a_visitor(client, make):
    book = _book(make)
    make.commit()
    resp = client.get(f"/api/v1/records/{book.id}")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["title"] == "Tafsīr al-Miṣbāḥ" and body["year"] == 2002
    assert body["isbn"] == ["9789793062792"] and body["subjects"] == ["Tafsir"]
    members = {m["partner"]: m for m in body["members"]}
    assert set(members) == {"UGM", "PNRI", "UINSU"}
    assert members["UGM"]["control_number"] == f"ugm-{book.id}" and members["UGM"]["ordinal"] == 1
    assert "match_evidence" not in members["UGM"]  # staff only
    holdings = {h["library"]: h for h in body["holdings"]}
    assert holdings["UGM"]["call_numbers"] == ["297.122 SHI t"]
    assert sorted(i["status"] for i in holdings["UGM"]["items"]) == ["available", "on_loan"]
    assert "barcode" not in holdings["UGM"]["items"][0]
    assert holdings["UGM"]["requestable"] is None and body["requestable"] is None


def test_record_api_shows_match_evidence_to_staff(client, make):
    book = _book(make)
    librarian = make.user("librarian", library="UGM")
    token = make.token(librarian)
    make.commit()
    body = client.get(f"/api/v1/records/{book.id}", headers=bearer(token)).get_json()
    assert all(m["match_evidence"] == f"same ISBN as {m['partner']}" for m in body["members"])
    assert any("barcode" in i for h in body["holdings"] for i in h["items"])


def test_record_api_answers_why_not_per_library(client, make, availability_only):
    book = _book(make)
    patron = make.user("patron", library="UINSU", locale="en")
    token = make.token(patron)
    make.commit()
    body = client.get(f"/api/v1/records/{book.id}", headers=bearer(token)).get_json()
    holdings = {h["library"]: h for h in body["holdings"]}
    assert holdings["UGM"]["requestable"] is True and holdings["UGM"]["reason"] is None
    assert holdings["UGM"]["services"]["loan"] == {"requestable": True, "reason": ""}
    assert holdings["PNRI"]["requestable"] is False
    assert holdings["PNRI"]["services"]["loan"]["reason"] == "all copies on loan"
    assert "all copies on loan" in holdings["PNRI"]["reason"]
    assert holdings["UINSU"]["requestable"] is False  # the patron's own library
    assert body["requestable"] is True


def test_reasons_speak_the_users_language(client, make, availability_only):
    book = _book(make)
    token = make.token(make.user("patron", library="UINSU", locale="id"))
    make.commit()
    body = client.get(f"/api/v1/records/{book.id}", headers=bearer(token)).get_json()
    pnri = next(h for h in body["holdings"] if h["library"] == "PNRI")
    assert pnri["services"]["loan"]["reason"] == "semua eksemplar sedang dipinjam"


def test_a_registered_provider_decides(client, make, provider):
    book = _book(make)
    patron = make.user("patron", library="UINSU", locale="en")
    token = make.token(patron)
    make.commit()
    from agreements import partners

    ugm = partners.by_code(make.session, "UGM").id
    calls = []

    def routing(session, borrower_library_id, cluster_id, service, day):
        calls.append((borrower_library_id, cluster_id, service))
        if service == "copy":
            return {ugm: (True, "")}
        return {ugm: (False, "agreement expired on 18 Oktober 2026")}

    provider(search_service.from_routing(routing))
    body = client.get(f"/api/v1/records/{book.id}", headers=bearer(token)).get_json()
    holdings = {h["library"]: h for h in body["holdings"]}
    assert holdings["UGM"]["services"]["loan"] == {
        "requestable": False,
        "reason": "agreement expired on 18 Oktober 2026",
    }
    assert holdings["UGM"]["services"]["copy"]["requestable"] is True
    assert holdings["UGM"]["requestable"] is True
    # A library the provider says nothing about has no agreement.
    assert holdings["PNRI"]["requestable"] is False and holdings["PNRI"]["reason"] == "no agreement"
    assert (patron.library_id, book.id, "loan") in calls

    result = client.get("/api/v1/search?q=misbah", headers=bearer(token)).get_json()
    row = {h["library"]: h for h in result["results"][0]["holdings"]}
    assert row["UGM"]["requestable"] is True and row["UGM"]["services"] == ["copy"]
    assert row["PNRI"]["requestable"] is False


def test_unknown_record_is_404(client, make):
    make.partner("UGM")
    make.commit()
    resp = client.get("/api/v1/records/999999")
    assert resp.status_code == 404 and resp.get_json()["error"]["code"] == "not_found"
    assert client.get("/catalog/records/999999").status_code == 404


def test_search_page_lists_results_and_facets(client, make):
    book = _book(make)
    make.search_cluster(title="Tafsir Ibnu Katsir", holdings={"PNRI": ["available"]})
    make.commit()
    page = client.get("/catalog/search?q=tafsir")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Tafsīr al-Miṣbāḥ" in html and "Tafsir Ibnu Katsir" in html
    assert f'/catalog/records/{book.id}"' in html
    assert "library=UGM" in html  # a facet link
    filtered = client.get("/catalog/search?q=tafsir&library=UGM").get_data(as_text=True)
    assert "Tafsīr al-Miṣbāḥ" in filtered and "Tafsir Ibnu Katsir" not in filtered


def test_search_page_keeps_the_form_on_bad_input(client, make):
    make.commit()
    page = client.get("/catalog/search?q=hukum&year_from=abc")
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert 'value="hukum"' in html and "abc" in html


def test_record_page_for_staff_and_patrons(client, make, availability_only):
    book = _book(make)
    make.user("librarian", library="UGM", email="lib@example.org", locale="en")
    make.user("patron", library="UINSU", email="pat@example.org", locale="en")
    make.commit()
    html = client.get(
        f"/catalog/records/{book.id}", headers={"Accept-Language": "en"}
    ).get_data(as_text=True)
    assert "297.122 SHI t" in html and "$a Tafsīr al-Miṣbāḥ" in html
    assert "same ISBN as" not in html and "Sign in" in html
    login(client, "lib@example.org")
    html = client.get(f"/catalog/records/{book.id}").get_data(as_text=True)
    assert "same ISBN as UGM" in html
    assert f"/catalog/records/{book.id}/clustering" in html
    client.post("/logout")
    login(client, "pat@example.org")
    html = client.get(f"/catalog/records/{book.id}").get_data(as_text=True)
    assert "same ISBN as" not in html
    assert "all copies on loan" in html
    # The button leads to the loan workflow's form, where there is one.
    assert ("request-button" in html) == ("loans.new_request" in client.application.view_functions)


def test_request_button_when_the_loan_page_exists(app, make, availability_only):
    if "loans.new_request" not in app.view_functions:  # this branch has no loan workflow
        app.add_url_rule(
            "/requests/new/<int:record_id>",
            endpoint="loans.new_request",
            view_func=lambda record_id: "",
        )
    client = app.test_client()
    book = _book(make)
    make.user("patron", library="UINSU", email="pat@example.org", locale="en")
    make.commit()
    with app.test_request_context():
        from flask import url_for

        target = url_for("loans.new_request", record_id=book.id)
    login(client, "pat@example.org")
    html = client.get(f"/catalog/records/{book.id}").get_data(as_text=True)
    assert f'href="{target}"' in html


def test_default_provider_without_a_library_is_empty(session, make, availability_only):
    book = _book(make)
    coordinator = make.user("coordinator")
    assert search_service.requestability(session, coordinator, book.id, clock.today()) == {}
