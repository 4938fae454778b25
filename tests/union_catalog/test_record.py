"""The union record: API and page, holdings and who may request from where."""

from __future__ import annotations

import pytest
from babel.dates import format_date

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


def _withdraw(session, record) -> None:
    """As an import withdraws a record its library no longer sends."""
    from ill.clock import utcnow
    from union_catalog import clustering

    record.withdrawn_at = utcnow()
    session.flush()
    clustering.recluster(session, record.partner_id, set(), {record.id})


def test_a_merged_union_records_old_links_lead_to_the_one_it_joined(client, make, session):
    from union_catalog import clustering

    older, younger = _book(make), make.search_cluster(title="Tafsir al-Misbah", holdings={"UQ": []})
    make.commit()
    clustering.merge(session, older.id, younger.id)
    session.commit()
    resp = client.get(f"/api/v1/records/{younger.id}")
    assert resp.status_code == 301
    assert resp.headers["Location"].endswith(f"/api/v1/records/{older.id}")
    body = client.get(f"/api/v1/records/{younger.id}", follow_redirects=True).get_json()
    assert body["id"] == older.id and "UQ" in {m["partner"] for m in body["members"]}
    page = client.get(f"/catalog/records/{younger.id}")
    assert page.status_code == 301 and page.headers["Location"].endswith(f"/catalog/records/{older.id}")
    assert client.get(f"/api/v1/records/{older.id}").status_code == 200


def test_a_union_record_merged_twice_leads_to_the_last(session, make):
    a, b, c = (make.search_cluster(title=t, holdings={code: []})
               for t, code in (("A", "UGM"), ("B", "PNRI"), ("C", "UQ")))
    b.merged_into_id, c.merged_into_id = a.id, b.id
    session.flush()
    assert search_service.current_id(session, c.id) == a.id
    assert search_service.current_id(session, a.id) == a.id
    assert search_service.current_id(session, 999999) is None


def test_a_union_record_whose_records_were_all_withdrawn_is_gone_but_staff_see_what_it_had(
        client, make, session):
    book = make.search_cluster(title="Fiqh lingkungan", holdings={"UGM": ["available"]})
    librarian = make.user("librarian", library="UGM")
    token = make.token(librarian)
    make.commit()
    from union_catalog.models import SourceRecord

    record = session.query(SourceRecord).filter_by(cluster_id=book.id).one()
    _withdraw(session, record)
    session.commit()
    resp = client.get(f"/api/v1/records/{book.id}")
    assert resp.status_code == 410 and resp.get_json()["error"]["code"] == "gone"
    assert str(book.id) in resp.get_json()["error"]["message"]
    assert client.get(f"/catalog/records/{book.id}").status_code == 410
    body = client.get(f"/api/v1/records/{book.id}", headers=bearer(token)).get_json()
    assert body["withdrawn"] is True
    assert [(m["id"], m["withdrawn"]) for m in body["members"]] == [(record.id, True)]
    assert body["members"][0]["match_evidence"] == \
        f"Withdrawn by its library (union record {book.id})."
    login(client, librarian.email)
    page = client.get(f"/catalog/records/{book.id}")
    assert page.status_code == 200 and b'id="withdrawn-notice"' in page.data
    assert f'id="member-{record.id}"'.encode() in page.data


def test_staff_see_a_withdrawn_member_beside_the_live_ones(client, make, session):
    from union_catalog.models import SourceRecord

    book = _book(make)
    librarian = make.user("librarian", library="UGM")
    token = make.token(librarian)
    make.commit()
    gone = session.query(SourceRecord).filter_by(cluster_id=book.id, control_number=f"pnri-{book.id}").one()
    # as recluster leaves it (these test records carry too few facts for the
    # others to be matched again: recluster itself is the test above's)
    from ill.clock import utcnow
    from union_catalog.clustering import withdrawn_evidence

    gone.withdrawn_at, gone.cluster_id = utcnow(), None
    gone.match_evidence = withdrawn_evidence(book.id)
    session.commit()
    body = client.get(f"/api/v1/records/{book.id}", headers=bearer(token)).get_json()
    flags = {m["partner"]: m["withdrawn"] for m in body["members"]}
    assert flags == {"UGM": False, "UINSU": False, "PNRI": True} and body["withdrawn"] is False
    assert "PNRI" not in {h["library"] for h in body["holdings"]}
    visitor = client.get(f"/api/v1/records/{book.id}").get_json()
    assert {m["partner"] for m in visitor["members"]} == {"UGM", "UINSU"}
    assert "withdrawn" not in visitor["members"][0]


def test_a_link_by_isbn_or_issn_leads_to_its_record_or_the_search(client, make):
    book = make.search_cluster(title="Metodologi penelitian", isbns=["9780306406157"])
    journal = make.search_cluster(title="Jurnal Iqra'", issns=["2551-976X"], format="serial")
    make.search_cluster(title="Hukum adat", isbns=["9789793062792"])
    make.search_cluster(title="Hukum adat (cetak ulang)", isbns=["9789793062792"])
    make.commit()
    for path, to in (("/catalog/isbn/0-306-40615-2", f"/catalog/records/{book.id}"),
                     ("/catalog/isbn/9780306406157", f"/catalog/records/{book.id}"),
                     ("/catalog/issn/2551-976x", f"/catalog/records/{journal.id}"),
                     # two union records with the number, none, or not a number: the search says
                     ("/catalog/isbn/978-979-3062-79-2", "/catalog/search?isbn=978-979-3062-79-2"),
                     ("/catalog/isbn/9786020000000", "/catalog/search?isbn=9786020000000"),
                     ("/catalog/isbn/12345", "/catalog/search?isbn=12345")):
        resp = client.get(path)
        assert resp.status_code == 302 and resp.headers["Location"] == to, (path, resp.headers.get("Location"))
    page = client.get("/catalog/search?isbn=12345", headers={"Accept-Language": "en"})
    assert page.status_code == 400 and "is not a valid ISBN" in page.get_data(as_text=True)


def test_each_librarys_copies_say_how_fresh_they_are(client, make, session):
    """A library's copies' statuses are as of its last import: the record
    says when, and that they may have changed when that is long ago."""
    from datetime import UTC, datetime, timedelta

    from union_catalog.models import ImportRun

    rec = make.search_cluster(title="Fiqh zakat", holdings={"UGM": ["available"], "UINSU": ["on_loan"],
                                                           "PNRI": ["available"]})
    today = clock.today()
    noon = datetime(today.year, today.month, today.day, 5, tzinfo=UTC)  # noon in Jakarta
    ugm, uinsu = (make.partner(code) for code in ("UGM", "UINSU"))
    session.add_all([
        ImportRun(partner_id=ugm.id, filename="old.mrc", status="done", finished_at=noon - timedelta(days=200)),
        ImportRun(partner_id=ugm.id, filename="ugm.mrc", status="done", finished_at=noon - timedelta(days=3)),
        ImportRun(partner_id=ugm.id, filename="check.mrc", status="checked", finished_at=noon),
        ImportRun(partner_id=uinsu.id, filename="uinsu.mrc", status="done", finished_at=noon - timedelta(days=90)),
    ])
    make.commit()
    holdings = {h["library"]: h for h in client.get(f"/api/v1/records/{rec.id}").get_json()["holdings"]}
    assert holdings["UGM"]["as_of"] == (today - timedelta(days=3)).isoformat() and not holdings["UGM"]["stale"]
    assert holdings["UINSU"]["as_of"] == (today - timedelta(days=90)).isoformat() and holdings["UINSU"]["stale"]
    assert holdings["PNRI"]["as_of"] is None and not holdings["PNRI"]["stale"]  # never imported here
    page = client.get(f"/catalog/records/{rec.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert page.count("copies as of") == 2 and page.count("may be out of date") == 1
    # a search result says the same of each library's copies
    hit = client.get("/api/v1/search?q=fiqh+zakat").get_json()["results"][0]
    found = {h["library"]: h for h in hit["holdings"]}
    assert found["UINSU"]["stale"] and found["UINSU"]["as_of"] == holdings["UINSU"]["as_of"]
    assert not found["UGM"]["stale"] and found["UGM"]["as_of"] and not found["PNRI"]["stale"]
    page = client.get("/catalog/search?q=fiqh+zakat", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert page.count("may be out of date") == 1
    day = format_date(today - timedelta(days=90), "long", locale="en")
    assert f"Copies as of {day}: the library has sent no export since" in page
