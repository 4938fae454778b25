"""Searching the union catalogue through the API (both engines: every test
runs on SQLite FTS5 and on PostgreSQL)."""

from __future__ import annotations

import pytest

from tests.factories import bearer


def ids(resp):
    assert resp.status_code == 200, resp.get_json()
    return [r["id"] for r in resp.get_json()["results"]]


def test_diacritics_and_case_do_not_matter(client, make):
    misbah = make.search_cluster(
        title="Tafsīr al-Miṣbāḥ : pesan, kesan dan keserasian al-Qurʼan",
        author="Shihab, M. Quraish",
        language="ind",
    )
    ihya = make.search_cluster(title="Iḥyāʼ ʻulūm al-dīn", author="Ghazzālī", language="ara")
    make.search_cluster(title="Pengantar ilmu hukum")
    make.commit()
    assert ids(client.get("/api/v1/search?q=tafsir al-misbah")) == [misbah.id]
    assert ids(client.get("/api/v1/search?q=TAFSIR AL MISBAH")) == [misbah.id]
    assert ids(client.get("/api/v1/search?q=ihya' 'ulum al-din")) == [ihya.id]
    assert ids(client.get("/api/v1/search?q=al-Qur'an")) == [misbah.id]
    assert ids(client.get("/api/v1/search?q=ghazzali")) == [ihya.id]


def test_isbn_in_any_form_as_keyword_or_field(client, make):
    book = make.search_cluster(title="Metodologi penelitian", isbns=["9780306406157"])
    make.search_cluster(title="Metodologi penelitian kualitatif", isbns=["9789793062792"])
    make.commit()
    for typed in ("0-306-40615-2", "0306406152", "978-0-306-40615-7", "9780306406157"):
        assert ids(client.get("/api/v1/search", query_string={"q": typed})) == [book.id], typed
        assert ids(client.get("/api/v1/search", query_string={"isbn": typed})) == [book.id], typed


def test_an_identifier_with_its_label_or_printed_with_spaces_is_found(client, make):
    book = make.search_cluster(title="Metodologi penelitian", isbns=["9780306406157"])
    journal = make.search_cluster(title="Jurnal Iqra'", issns=["2551-976X"], format="serial")
    make.commit()
    for q in ({"q": "ISBN 978-0-306-40615-7"}, {"q": "isbn:0306406152"},
              {"isbn": "978 0 306 40615 7"}, {"isbn": "ISBN 978-0-306-40615-7"}):
        assert ids(client.get("/api/v1/search", query_string=q)) == [book.id], q
    for q in ({"q": "ISSN 2551-976X"}, {"issn": "ISSN 2551-976X"}, {"issn": "2551 976x"}):
        assert ids(client.get("/api/v1/search", query_string=q)) == [journal.id], q


def test_numbers_a_record_prints_wrongly_or_for_its_set_are_found_by_keyword(client, make, session):
    from union_catalog.models import SourceRecord
    from union_catalog.search import reindex_clusters

    book = make.search_cluster(title="Sejarah peradaban Islam jilid 2", holdings={"UGM": []})
    other = make.search_cluster(title="Sejarah peradaban Islam", holdings={"PNRI": []})
    record = session.query(SourceRecord).filter_by(cluster_id=book.id).one()
    record.match_data = {**record.match_data, "isbns_invalid": ["9787025144745"],
                         "isbns_set": ["9780306406157"]}
    session.flush()
    reindex_clusters(session, [book.id])
    make.commit()
    assert ids(client.get("/api/v1/search?q=9787025144745")) == [book.id]
    assert ids(client.get("/api/v1/search", query_string={"q": "978-0-306-40615-7"})) == [book.id]
    assert other.id in ids(client.get("/api/v1/search?q=sejarah peradaban"))


def test_every_year_of_the_facet_can_be_chosen_on_the_page(client, make):
    for year in range(2001, 2021):
        make.search_cluster(title=f"Hukum adat {year}", year=year)
    make.commit()
    page = client.get("/catalog/search?q=hukum", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "5 more years" in page
    for year in range(2001, 2021):
        assert f"year_from={year}&amp;year_to={year}" in page or f"year_to={year}&amp;year_from={year}" in page, year


def test_the_page_past_the_last_says_so(client, make):
    for n in range(3):
        make.search_cluster(title=f"Hukum pidana {n}")
    make.commit()
    body = client.get("/api/v1/search?q=hukum&per_page=2&page=5").get_json()
    assert (body["total"], body["pages"], body["results"]) == (3, 2, [])
    page = client.get("/catalog/search?q=hukum&per_page=2&page=5", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert b'id="past-the-last-page"' in page.data and b"only 2 pages" in page.data
    assert b"page=2" in page.data and b"Page 5 of 2" not in page.data


def test_issn_and_publisher_by_keyword(client, make):
    journal = make.search_cluster(
        title="Jurnal Iqra'", issns=["0378-5955"], format="serial", publisher="Perdana Publishing"
    )
    make.search_cluster(title="Jurnal hukum", publisher="Rajawali Pers")
    make.commit()
    assert ids(client.get("/api/v1/search?q=03785955")) == [journal.id]
    assert ids(client.get("/api/v1/search?issn=0378-5955")) == [journal.id]
    assert ids(client.get("/api/v1/search?q=perdana")) == [journal.id]


def test_fielded_search_looks_only_in_its_field(client, make):
    by_title = make.search_cluster(title="Hukum perdata", author="Subekti")
    by_author = make.search_cluster(title="Pengantar ekonomi", author="Hukum, Ahmad")
    by_subject = make.search_cluster(title="Bank syariah", subjects=["Hukum Islam"])
    make.commit()
    assert set(ids(client.get("/api/v1/search?q=hukum"))) == {
        by_title.id,
        by_author.id,
        by_subject.id,
    }
    assert ids(client.get("/api/v1/search?title=hukum")) == [by_title.id]
    assert ids(client.get("/api/v1/search?author=hukum")) == [by_author.id]
    assert ids(client.get("/api/v1/search?subject=hukum islam")) == [by_subject.id]
    assert ids(client.get("/api/v1/search?title=hukum&author=subekti")) == [by_title.id]
    assert ids(client.get("/api/v1/search?title=hukum&author=ahmad")) == []


def test_subject_from_marc_when_matching_facts_lack_it(client, make, session):
    cluster = make.search_cluster(title="Bank syariah", subjects=["Perbankan syariah"], index=False)
    for member in cluster.members:
        member.match_data = {}
    from union_catalog.search import reindex_clusters

    reindex_clusters(session, [cluster.id])
    make.commit()
    assert ids(client.get("/api/v1/search?subject=perbankan")) == [cluster.id]


def test_filters_and_facets_combine(client, make):
    a = make.search_cluster(
        title="Sejarah Islam",
        year=2001,
        language="ind",
        holdings={"UGM": ["available"], "UINSU": ["on_loan"]},
    )
    b = make.search_cluster(
        title="Sejarah Islam klasik", year=2010, language="ind", holdings={"UGM": ["on_loan"]}
    )
    c = make.search_cluster(
        title="History of Islam",
        year=2010,
        language="eng",
        format="book",
        subjects=["Sejarah"],
        holdings={"UINSU": ["available"]},
    )
    make.commit()
    body = client.get("/api/v1/search?q=sejarah").get_json()
    assert body["total"] == 3
    assert body["facets"]["library"] == {"UGM": 2, "UINSU": 2}
    assert body["facets"]["year"] == {"2010": 2, "2001": 1}
    assert body["facets"]["language"] == {"ind": 2, "eng": 1}
    assert body["facets"]["format"] == {"book": 3}

    body = client.get("/api/v1/search?q=sejarah&library=UGM").get_json()
    assert {r["id"] for r in body["results"]} == {a.id, b.id}
    # A facet's own filter does not shrink its counts (so another value can be added)...
    assert body["facets"]["library"] == {"UGM": 2, "UINSU": 2}
    # ...the other facets count within it.
    assert body["facets"]["language"] == {"ind": 2}
    assert ids(client.get("/api/v1/search?q=sejarah&library=UGM&year_from=2005")) == [b.id]
    assert set(
        ids(client.get("/api/v1/search?q=sejarah&library=UGM&library=UINSU&language=eng"))
    ) == {c.id}
    assert set(ids(client.get("/api/v1/search?year_from=2005&year_to=2010"))) == {b.id, c.id}
    assert ids(client.get("/api/v1/search?q=sejarah&format=serial")) == []


def test_results_carry_the_contract_fields(client, make):
    make.search_cluster(
        title="Pengantar ilmu perpustakaan",
        author="Sulistyo-Basuki",
        year=1991,
        isbns=["9789796053759"],
        holdings={"UGM": ["available", "on_loan"], "UINSU": []},
    )
    make.commit()
    body = client.get("/api/v1/search?q=perpustakaan").get_json()
    assert {"total", "page", "results", "facets"} <= body.keys()
    assert body["page"] == 1 and body["total"] == 1
    row = body["results"][0]
    assert {"id", "title", "author", "year", "isbn", "holdings"} <= row.keys()
    assert row["isbn"] == ["9789796053759"] and row["year"] == 1991
    holdings = {h["library"]: h for h in row["holdings"]}
    assert holdings["UGM"]["items"] == 2 and holdings["UGM"]["available"] == 1
    assert holdings["UINSU"]["items"] == 0 and holdings["UINSU"]["available"] == 0
    assert all(
        {"library", "items", "available", "requestable"} <= h.keys() for h in row["holdings"]
    )
    # A visitor is not asked on behalf of any library.
    assert all(h["requestable"] is None for h in row["holdings"])


def test_the_whole_title_comes_before_a_title_proper_with_a_subtitle(client, make):
    with_subtitle = make.search_cluster(
        title="Statistika : panduan praktis",
        holdings={"UGM": ["available"], "UINSU": ["available"], "PNRI": ["available"]})
    whole = make.search_cluster(title="Statistika", holdings={"UQ": ["on_loan"]})
    in_title = make.search_cluster(title="Pengantar statistika",
                                   holdings={"UGM": ["available"], "PNRI": ["available"]})
    make.commit()
    for qs in ("q=statistika", "title=Statistika"):
        assert ids(client.get(f"/api/v1/search?{qs}")) == [whole.id, with_subtitle.id, in_title.id], qs


def test_exact_title_and_identifier_matches_come_first(client, make):
    keyword_hit = make.search_cluster(
        title="Dasar-dasar manajemen",
        subjects=["Manajemen mutu"],
        holdings={"UGM": ["available"], "UINSU": ["available"], "PNRI": ["available"]},
    )
    exact = make.search_cluster(title="Manajemen mutu", holdings={"UGM": ["on_loan"]})
    longer = make.search_cluster(
        title="Manajemen mutu terpadu : teori dan praktik",
        holdings={"UGM": ["available"], "UINSU": ["available"]},
    )
    make.commit()
    assert ids(client.get("/api/v1/search?q=manajemen mutu")) == [
        exact.id,
        longer.id,
        keyword_hit.id,
    ]
    by_isbn = make.search_cluster(
        title="Statistika", isbns=["9780306406157"], holdings={"UGM": ["on_loan"]}
    )
    make.search_cluster(
        title="Statistika dasar", holdings={"UGM": ["available"], "UINSU": ["available"]}
    )
    make.commit()
    assert ids(client.get("/api/v1/search?q=statistika 0306406152"))[0] == by_isbn.id


def test_more_libraries_and_available_rank_higher_among_equals(client, make):
    one = make.search_cluster(title="Ekonomi mikro", holdings={"UGM": ["available"]})
    three = make.search_cluster(
        title="Ekonomi mikro",
        holdings={"UGM": ["on_loan"], "UINSU": ["on_loan"], "PNRI": ["on_loan"]},
    )
    three_avail = make.search_cluster(
        title="Ekonomi mikro", holdings={"UGM": ["available"], "UINSU": ["on_loan"], "PNRI": []}
    )
    make.commit()
    assert ids(client.get("/api/v1/search?q=ekonomi mikro")) == [three_avail.id, three.id, one.id]


def test_pagination(client, make):
    made = [make.search_cluster(title=f"Kimia dasar jilid {n}") for n in range(5)]
    make.commit()
    first = client.get("/api/v1/search?q=kimia&per_page=2").get_json()
    second = client.get("/api/v1/search?q=kimia&per_page=2&page=2").get_json()
    last = client.get("/api/v1/search?q=kimia&per_page=2&page=3").get_json()
    assert first["total"] == 5 and len(first["results"]) == 2 and second["page"] == 2
    seen = [r["id"] for r in first["results"] + second["results"] + last["results"]]
    assert sorted(seen) == sorted(c.id for c in made)


@pytest.mark.parametrize(
    "qs, field",
    [
        ("year_from=abc", "year_from"),
        ("year_from=2010&year_to=2000", "year_from"),
        ("isbn=978-0-306-40615-8", "isbn"),
        ("issn=1234", "issn"),
        ("library=NOPE", "library"),
        ("page=0", "page"),
        ("per_page=5000", "per_page"),
        ("sort=price", "sort"),
        # text with no word in it would find everything
        ("q=*", "q"), ("q=!!!", "q"), ("q=%22", "q"), ("title=-", "title"), ("author=(", "author"),
    ],
)
def test_bad_input_is_a_clear_400(client, make, qs, field):
    make.partner("UGM")
    make.commit()
    resp = client.get(f"/api/v1/search?{qs}")
    assert resp.status_code == 400
    error = resp.get_json()["error"]
    assert error["code"] == "bad_request" and error["field"] == field and error["message"]


def test_odd_characters_are_searched_not_obeyed(client, make):
    book = make.search_cluster(title='Hukum "pidana" (AND) OR NOT')
    make.commit()
    for q in (
        '"hukum',
        "hukum AND",
        "NEAR(hukum",
        "hukum:*",
        "pidana & | !",
        "-hukum",
        "^hukum",
    ):
        resp = client.get("/api/v1/search", query_string={"q": q})
        assert resp.status_code == 200, (q, resp.get_json())
    assert ids(client.get("/api/v1/search", query_string={"q": 'hukum "pidana" NOT'})) == [book.id]


def test_prefix_search(client, make):
    book = make.search_cluster(title="Perpustakaan digital")
    make.commit()
    assert ids(client.get("/api/v1/search?q=perpus*")) == [book.id]
    assert ids(client.get("/api/v1/search?q=perpus")) == []


def test_a_phrase_in_quotes_finds_its_words_side_by_side(client, make):
    """Words in double quotes are found next to each other, in that order;
    with other words, a trailing '*', or in a field's own box."""
    together = make.search_cluster(title="Sejarah peradaban Islam", author="Yatim, Badri")
    apart = make.search_cluster(title="Peradaban dunia : sejarah Islam dan Barat", author="Yatim, Badri")
    reversed_ = make.search_cluster(title="Peradaban sejarah Melayu")
    make.commit()

    def found(**query):
        return set(ids(client.get("/api/v1/search", query_string=query)))

    assert found(q="sejarah peradaban") == {together.id, apart.id, reversed_.id}
    assert found(q='"sejarah peradaban"') == {together.id}
    assert found(q='"Sejarah, peradaban!"') == {together.id}  # as a title page prints it
    assert found(q='"sejarah islam" yatim') == {apart.id}
    assert found(q='"peradaban isl*"') == {together.id}
    assert found(title='"peradaban sejarah"') == {reversed_.id}
    assert found(q='"sejarah peradaban" "islam dan barat"') == set()
    assert found(q='"islam dan barat" "peradaban dunia"') == {apart.id}
    # a phrase never runs from one field into the next (title "... Islam", author "Yatim")
    assert found(q='"islam yatim"') == set()
    # one word in quotes is that word; an unclosed quote asks for the words alone
    assert found(q='"peradaban"') == found(q="peradaban")
    assert found(q='"sejarah peradaban') == found(q="sejarah peradaban")
    # the phrase whole in the title puts a record first, as its words do
    assert ids(client.get("/api/v1/search", query_string={"q": '"sejarah islam"'}))[0] == apart.id


def test_index_follows_changes_passed_to_reindex(client, make, session):
    from sqlalchemy import select

    from union_catalog.models import Cluster, Item
    from union_catalog.search import reindex_clusters

    cluster = make.search_cluster(title="Akuntansi keuangan", holdings={"UGM": ["on_loan"]})
    make.commit()
    cluster.title = "Akuntansi biaya"
    for member in cluster.members:
        member.title = "Akuntansi biaya"
    for item in session.scalars(select(Item)):
        item.status = "available"
    reindex_clusters(session, [cluster.id])
    session.commit()
    assert ids(client.get("/api/v1/search?q=keuangan")) == []
    body = client.get("/api/v1/search?q=akuntansi biaya").get_json()
    assert body["results"][0]["holdings"][0]["available"] == 1
    for member in cluster.members:
        session.delete(member)
    session.delete(session.get(Cluster, cluster.id))
    reindex_clusters(session, [cluster.id])
    session.commit()
    assert client.get("/api/v1/search?q=akuntansi").get_json()["total"] == 0


def _row_versions(session, table: str, cluster_id: int) -> dict:
    """Each row of table for this cluster, with what changes when it is written
    again (PostgreSQL: its transaction; SQLite: its rowid, where the key is not it)."""
    from sqlalchemy import text

    version = "xmin::text" if session.get_bind().dialect.name == "postgresql" else "rowid"
    key = "partner_id" if table == "catalog_search_holdings" else "cluster_id"
    return dict(session.execute(text(f"SELECT {key}, {version} FROM {table} WHERE cluster_id = :c"),
                                {"c": cluster_id}).all())


def test_reindex_writes_only_the_rows_that_changed(client, make, session):
    from sqlalchemy import select

    from union_catalog.models import Item, SourceRecord
    from union_catalog.search import reindex_clusters

    cluster = make.search_cluster(title="Statistika dasar",
                                  holdings={"UGM": ["on_loan"], "UINSU": ["available"]})
    make.commit()
    holdings = _row_versions(session, "catalog_search_holdings", cluster.id)
    doc = _row_versions(session, "catalog_search_docs", cluster.id)
    from agreements import partners as partner_service

    ugm, uinsu = (partner_service.by_code(session, c).id for c in ("UGM", "UINSU"))
    assert set(holdings) == {ugm, uinsu}

    driver = session.connection().connection.driver_connection
    changes = getattr(driver, "total_changes", None)  # SQLite counts every row it writes
    reindex_clusters(session, [cluster.id])  # nothing changed: nothing is written
    if changes is not None:
        assert driver.total_changes == changes
    session.commit()
    assert _row_versions(session, "catalog_search_holdings", cluster.id) == holdings
    assert _row_versions(session, "catalog_search_docs", cluster.id) == doc

    for item in session.scalars(select(Item).join(SourceRecord).where(SourceRecord.partner_id == ugm)):
        item.status = "available"
    reindex_clusters(session, [cluster.id])
    session.commit()
    after = _row_versions(session, "catalog_search_holdings", cluster.id)
    assert after[uinsu] == holdings[uinsu]
    assert after[ugm] != holdings[ugm]
    from union_catalog.models import SearchDoc

    assert session.get(SearchDoc, cluster.id).libraries_available == 2
    body = client.get("/api/v1/search?q=statistika").get_json()
    assert {h["library"]: h["available"] for h in body["results"][0]["holdings"]} == {"UGM": 1, "UINSU": 1}


def test_withdrawn_members_do_not_count_as_holdings(client, make, session):
    from ill.accounts import utcnow
    from union_catalog.search import reindex_clusters

    cluster = make.search_cluster(title="Farmakologi", holdings={"UGM": ["available"], "UINSU": []})
    ugm = next(m for m in cluster.members if m.partner.code == "UGM")
    ugm.withdrawn_at = utcnow()
    reindex_clusters(session, [cluster.id])
    make.commit()
    body = client.get("/api/v1/search?q=farmakologi").get_json()
    assert [h["library"] for h in body["results"][0]["holdings"]] == ["UINSU"]
    assert client.get("/api/v1/search?q=farmakologi&library=UGM").get_json()["total"] == 0


def test_reindex_command_rebuilds_everything(app, runner, make, client):
    book = make.search_cluster(title="Teknik sipil", index=False)
    make.commit()
    assert client.get("/api/v1/search?q=sipil").get_json()["total"] == 0
    result = runner.invoke(args=["catalog", "reindex", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert '"indexed": 1' in result.output
    assert ids(client.get("/api/v1/search?q=sipil")) == [book.id]


def test_signed_in_patron_sees_requestability_for_own_library(client, make):
    from union_catalog import search as search_service

    before = search_service.requestability_provider()
    search_service.set_requestability_provider(search_service.availability_requestability)
    try:
        _patron_sees_requestability(client, make)
    finally:
        search_service.set_requestability_provider(before)


def _patron_sees_requestability(client, make):
    patron = make.user("patron", library="UINSU", locale="en")
    token = make.token(patron)
    make.search_cluster(
        title="Psikologi pendidikan",
        holdings={"UGM": ["available"], "PNRI": ["on_loan"], "UINSU": ["available"]},
    )
    make.commit()
    body = client.get("/api/v1/search?q=psikologi", headers=bearer(token)).get_json()
    holdings = {h["library"]: h for h in body["results"][0]["holdings"]}
    assert holdings["UGM"]["requestable"] is True
    assert holdings["PNRI"]["requestable"] is False  # all copies on loan, nothing to copy from
    assert holdings["UINSU"]["requestable"] is False  # its own library


@pytest.mark.parametrize("provider", ["routing", "availability"])
def test_each_row_of_a_page_says_what_its_record_page_says(client, make, provider):
    """A page of results is answered for all its rows at once; each row must
    agree with its own record page, library by library."""
    from union_catalog import search as search_service

    before = search_service.requestability_provider()
    if provider == "availability":
        search_service.set_requestability_provider(search_service.availability_requestability)
    try:
        patron = make.user("patron", library="UINSU", locale="en")
        token = make.token(patron)
        ugm, pnri, uinsu = (make.partner(code) for code in ("UGM", "PNRI", "UINSU"))
        make.loan_agreement(uinsu, ugm)
        make.loan_agreement(uinsu, pnri, services=("copy",))
        for n, holdings in enumerate(
            [
                {"UGM": ["available"], "PNRI": ["on_loan"], "UINSU": ["available"]},
                {"UGM": ["on_loan"], "PNRI": ["not_for_loan"]},
                {"PNRI": ["available"], "UINSU": ["on_loan"]},
                {"UGM": [], "UNAIR": ["available"]},
                {"UGM": ["lost", "on_loan"], "PNRI": ["damaged", "not_for_loan"]},
                {"UGM": ["unknown", "on_loan"], "PNRI": ["lost"], "UINSU": ["not_for_loan"]},
            ]
        ):
            make.search_cluster(title=f"Psikologi pendidikan jilid {n}", holdings=holdings)
        make.commit()
        body = client.get("/api/v1/search?q=psikologi", headers=bearer(token)).get_json()
        assert body["total"] == 6
        seen = set()
        for row in body["results"]:
            record = client.get(row["url"], headers=bearer(token)).get_json()
            expected = {
                h["library"]: (h["requestable"], [s for s in ("loan", "copy") if h["services"][s]["requestable"]])
                for h in record["holdings"]
            }
            got = {h["library"]: (h["requestable"], h["services"]) for h in row["holdings"]}
            assert got == expected, row["title"]
            seen |= {v[0] for v in got.values()}
        assert seen == {True, False}
    finally:
        search_service.set_requestability_provider(before)


def test_pages_in_any_size_follow_the_one_order(client, make):
    """Only the hits that can be on a page are ranked by the engine (those at
    or above the page's last place on tier, holders and holders with a copy
    on the shelf): pages of any size, put together, are the one order of the
    whole list, ties on all three broken by the engine's rank."""
    holders = [
        {"UGM": ["available"]},
        {"UGM": ["on_loan"], "UINSU": ["available"]},
        {"UGM": ["available"], "UINSU": ["available"], "PNRI": []},
        {"PNRI": ["on_loan"]},
    ]
    titles = ["Fikih", "Fikih ibadah", "Pengantar fikih muamalah", "Fikih fikih fikih zakat", "Ushul fikih"]
    for n in range(20):
        make.search_cluster(
            title=titles[n % len(titles)], holdings=holders[n % len(holders)],
            subjects=["Fikih"] * (n % 3), year=2000 + n % 4,
        )
    make.commit()
    for extra in ("", "&year_from=2001", "&library=UGM,PNRI"):
        whole = client.get(f"/api/v1/search?q=fikih&per_page=100{extra}").get_json()
        order = [r["id"] for r in whole["results"]]
        assert len(order) == whole["total"] > 5
        for per_page in (1, 2, 3, 7):
            pages = []
            for page in range(1, whole["total"] // per_page + 3):
                body = client.get(f"/api/v1/search?q=fikih&per_page={per_page}&page={page}{extra}").get_json()
                assert body["total"] == whole["total"] and body["facets"] == whole["facets"]
                pages += [r["id"] for r in body["results"]]
            assert pages == order, (extra, per_page)


@pytest.mark.parametrize("words", ["q=tasawuf&", ""], ids=["search", "browse"])
@pytest.mark.parametrize(
    "filters",
    ["", "year_from=2001", "year_to=2002&language=ind", "library=UGM&format=thesis,book",
     "language=eng,ara&year_from=2000&year_to=2003&library=PNRI,UINSU"],
)
def test_each_facet_count_is_what_its_filter_finds(client, make, filters, words):
    """The total and the year, language and format facets are added up from
    one grouping of the hits: each count must be what searching (or browsing
    by filters alone) with that value and the other filters finds, record by
    record."""
    shapes = [
        ("ind", "book", 2001, {"UGM": ["available"]}),
        ("ind", "thesis", 2002, {"UINSU": ["on_loan"], "UGM": []}),
        ("eng", "book", None, {"PNRI": ["available"]}),
        ("ara", "serial", 2003, {"UGM": ["available"], "PNRI": []}),
        ("eng", "thesis", 2000, {"UINSU": ["available"]}),
        ("ind", "book", 2003, {"PNRI": ["on_loan"], "UINSU": []}),
    ]
    for n in range(18):
        language, fmt, year, holdings = shapes[n % len(shapes)]
        make.search_cluster(title=f"Tasawuf {n}", language=language, format=fmt,
                            year=None if year is None else year + n % 2, holdings=holdings)
    make.commit()
    base = f"/api/v1/search?{words}per_page=100" + (f"&{filters}" if filters else "")
    body = client.get(base).get_json()
    assert body["total"] == len(body["results"])
    own = {"year": ("year_from", "year_to"), "language": ("language",), "format": ("format",),
           "library": ("library",)}
    for facet, counts in body["facets"].items():
        kept = "&".join(f for f in filters.split("&") if f and f.split("=")[0] not in own[facet])
        for value, n in counts.items():
            if facet == "year":
                narrowed = f"year_from={value}&year_to={value}"
            else:
                narrowed = f"{facet}={value}"
            url = f"/api/v1/search?{words}per_page=100&{narrowed}" + (f"&{kept}" if kept else "")
            assert len(ids(client.get(url))) == n, (facet, value, url)
        assert sum(counts.values()) >= (1 if body["total"] else 0)


def test_a_bulk_reindex_refreshes_the_planner_statistics(client, make, session, monkeypatch):
    from sqlalchemy import text

    from union_catalog import search as search_service

    monkeypatch.setattr(search_service, "ANALYZE_AFTER", 2)
    first = make.search_cluster(title="Ilmu falak")
    second = make.search_cluster(title="Ilmu falak praktis")
    assert search_service.reindex_clusters(session, [first.id, second.id]) == 2  # in the import's transaction
    make.commit()
    assert sorted(ids(client.get("/api/v1/search?q=falak"))) == sorted([first.id, second.id])
    if session.get_bind().dialect.name == "postgresql":
        analyzed = session.execute(text(
            "SELECT count(*) FROM pg_stats WHERE tablename = 'catalog_search_docs'")).scalar()
        assert analyzed > 0


def test_an_import_leaves_the_index_tables_in_shape_after_its_commit(app, make, session, tmp_path,
                                                                      monkeypatch):
    """After a large import has committed, its job VACUUMs (ANALYZE) the index
    tables of the facets on PostgreSQL (search.upkeep_after_commit): fresh
    statistics, the pages marked all-visible for index-only scans; the words'
    table is analysed and its GIN pending list merged. On SQLite there is
    nothing to do."""
    from sqlalchemy import text

    from tests.union_catalog.test_matching import rec
    from tests.union_catalog.world import write
    from union_catalog import search as search_service

    monkeypatch.setattr(search_service, "ANALYZE_AFTER", 2)
    make.partner("UGM")
    make.commit()
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:  # what earlier tests did to these tables is forgotten
        for table in ("catalog_search_docs", "catalog_search_holdings", "catalog_fts"):
            session.execute(text(f"SELECT pg_stat_reset_single_table_counters('{table}'::regclass)"))
            session.execute(text(f"ANALYZE {table}"))  # empty now
        session.commit()
    path = write(tmp_path / "ugm.mrc", [rec(control=f"u{i}", title=f"Ilmu falak jilid {i}") for i in range(3)])
    result = app.test_cli_runner().invoke(args=["catalog", "import", "--partner", "UGM", path])
    assert result.exit_code == 0, result.output
    assert len(ids(app.test_client().get("/api/v1/search?q=falak"))) == 3
    if postgres:
        session.rollback()
        session.execute(text("SELECT pg_stat_clear_snapshot()"))
        kept = {name: (vacuumed, analyzed) for name, vacuumed, analyzed in session.execute(text(
            "SELECT relname, last_vacuum IS NOT NULL, last_analyze IS NOT NULL FROM pg_stat_user_tables "
            "WHERE relname IN ('catalog_search_docs', 'catalog_search_holdings', 'catalog_fts')"))}
        # the words' table is analysed and its pending list merged; a GIN
        # index serves no index-only scan, so VACUUM (which reads the whole
        # GIN index) is left to autovacuum
        assert kept == {"catalog_search_docs": (True, True), "catalog_search_holdings": (True, True),
                        "catalog_fts": (False, True)}

        # A later import that changes little of the index (here: 2 union
        # records against a threshold of twice the 3 it has) leaves it to
        # autovacuum; the pending list is merged all the same.
        def last_vacuum():
            session.rollback()
            session.execute(text("SELECT pg_stat_clear_snapshot()"))
            return session.execute(text("SELECT last_vacuum FROM pg_stat_user_tables "
                                        "WHERE relname = 'catalog_search_docs'")).scalar()

        before = last_vacuum()
        monkeypatch.setattr(search_service, "STALE_SHARE", 2.0)
        make.partner("UI")
        make.commit()
        path = write(tmp_path / "ui.mrc", [rec(control=f"i{i}", title=f"Hukum waris jilid {i}") for i in range(2)])
        result = app.test_cli_runner().invoke(args=["catalog", "import", "--partner", "UI", path])
        assert result.exit_code == 0, result.output
        assert len(ids(app.test_client().get("/api/v1/search?q=waris"))) == 2
        assert last_vacuum() == before
        monkeypatch.setattr(search_service, "STALE_SHARE", 0.1)
        path = write(tmp_path / "ui2.mrc", [rec(control=f"i{i}", title=f"Hukum waris bab {i}") for i in range(2)])
        result = app.test_cli_runner().invoke(args=["catalog", "import", "--partner", "UI", path])
        assert result.exit_code == 0, result.output
        assert last_vacuum() > before


def test_the_search_page_says_how_to_ask_for_a_phrase(client, make):
    make.search_cluster(title="Sejarah peradaban Islam")
    make.commit()
    english = client.get('/catalog/search?q="sejarah peradaban"', headers={"Accept-Language": "en"})
    page = english.get_data(as_text=True)
    assert "are found side by side" in page and "Sejarah peradaban Islam" in page
    assert 'value="&#34;sejarah peradaban&#34;"' in page  # the box keeps the quotes
    indonesian = client.get("/catalog/search", headers={"Accept-Language": "id"}).get_data(as_text=True)
    assert "dicari berdampingan" in indonesian


def _sorting_world(make):
    """Five union records that all have "islam" in them, years and titles
    apart, one without a year."""
    made = {
        "quran": make.search_cluster(title="al-Qurʼan dan Islam", year=2010, holdings={"UGM": ["available"]},
                                     author="Shihab, M. Quraish"),
        "zakat": make.search_cluster(title="Zakat dalam Islam", year=2019, holdings={"PNRI": []},
                                     author="al-Qaradawi, Yusuf"),
        "the": make.search_cluster(title="The spirit of Islam", year=2005,
                                   holdings={"UGM": [], "PNRI": ["available"]}, author="Ameer Ali"),
        "bahasa": make.search_cluster(title="Bahasa Arab untuk studi Islam", year=None),
        "islam": make.search_cluster(title="Islam", year=2010, holdings={"UINSU": ["on_loan"]},
                                     author="Rahman, Fazlur"),
    }
    make.commit()
    return {name: c.id for name, c in made.items()}


@pytest.mark.parametrize("words", ["q=islam", "library=UGM,PNRI,UINSU"], ids=["search", "browse"])
def test_results_can_be_sorted_by_year_or_title(client, make, words):
    c = _sorting_world(make)
    relevance = client.get(f"/api/v1/search?{words}&per_page=100").get_json()
    assert relevance["sort"] == "relevance" and relevance["total"] == 5
    expected = {
        # no year last; the same year: relevance's tier and holders decide
        "year_desc": [c["zakat"], c["islam"] if "q=" in words else c["quran"],
                      c["quran"] if "q=" in words else c["islam"], c["the"], c["bahasa"]],
        "year_asc": [c["the"], c["islam"] if "q=" in words else c["quran"],
                     c["quran"] if "q=" in words else c["islam"], c["zakat"], c["bahasa"]],
        # as titles file: "al-" and "The" are not filed under
        "title": [c["bahasa"], c["islam"], c["quran"], c["the"], c["zakat"]],
        # as names file (the main entry, without "al-"); no author last
        "author": [c["the"], c["zakat"], c["islam"], c["quran"], c["bahasa"]],
    }
    for sort, order in expected.items():
        whole = client.get(f"/api/v1/search?{words}&sort={sort}&per_page=100").get_json()
        assert whole["sort"] == sort
        assert [r["id"] for r in whole["results"]] == order, sort
        # a sort orders the same hits, counted the same way
        assert whole["total"] == relevance["total"] and whole["facets"] == relevance["facets"]
        pages = []
        for page in range(1, 7):
            body = client.get(f"/api/v1/search?{words}&sort={sort}&per_page=2&page={page}").get_json()
            pages += [r["id"] for r in body["results"]]
        assert pages == order, sort
    # the sort's name is read in any case; relevance by name is the default
    assert ids(client.get(f"/api/v1/search?{words}&sort=TITLE&per_page=100")) == expected["title"]
    assert ids(client.get(f"/api/v1/search?{words}&sort=relevance&per_page=100")) == \
        [r["id"] for r in relevance["results"]]


def test_the_search_page_offers_the_sorts_and_keeps_the_one_chosen(client, make):
    c = _sorting_world(make)
    page = client.get("/catalog/search?q=islam&library=UGM&page=1",
                      headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Sort by:" in page and '<strong aria-current="true">Relevance</strong>' in page
    link = page.split('data-sort="title"')[0].rsplit("<a ", 1)[1]
    assert "q=islam" in link and "library=UGM" in link and "sort=title" in link and "page=" not in link
    sorted_page = client.get("/catalog/search?q=islam&sort=title",
                             headers={"Accept-Language": "id"}).get_data(as_text=True)
    assert '<input type="hidden" name="sort" value="title">' in sorted_page
    assert '<strong aria-current="true">Judul (A–Z)</strong>' in sorted_page
    # the results in that order, and the pages' links keep it
    assert sorted_page.index(f"/catalog/records/{c['bahasa']}") < sorted_page.index(
        f"/catalog/records/{c['zakat']}")
    relevance_link = sorted_page.split('data-sort="relevance"')[0].rsplit("<a ", 1)[1]
    assert "sort=" not in relevance_link


def test_a_title_files_as_its_records_say(world, client):
    """245's second indicator names the characters a title files without;
    a record that says nothing files without a leading article."""
    from tests.union_catalog.world import book

    world.load("UGM",
               book("u1", title="Ha-Talmud ha-Bavli", ind2="3", year=2001, author="A"),
               book("u2", title="The Talmud", ind2="0", year=2002, author="B"),
               book("u3", title="Studi Talmud", year=2003, author="C"),
               book("u4", title="Al-Talmud wa-al-Islam", ind2="0", year=2004, author="D"))
    body = client.get("/api/v1/search?q=talmud&sort=title").get_json()
    titles = [r["title"] for r in body["results"]]
    # filed under "studi talmud", "talmud", "talmud ha bavli", "talmud wa al islam"
    assert titles == ["Studi Talmud", "The Talmud", "Ha-Talmud ha-Bavli", "Al-Talmud wa-al-Islam"], titles


def test_browsers_can_add_the_catalogue_as_a_search_engine(client):
    page = client.get("/catalog/search").get_data(as_text=True)
    assert 'rel="search" type="application/opensearchdescription+xml" href="/catalog/opensearch.xml"' in page
    resp = client.get("/catalog/opensearch.xml")
    assert resp.status_code == 200 and resp.mimetype == "application/opensearchdescription+xml"
    from xml.etree.ElementTree import fromstring

    url = fromstring(resp.data).find("{http://a9.com/-/spec/opensearch/1.1/}Url")
    assert url.get("template") == "http://localhost/catalog/search?q={searchTerms}"


def test_only_what_is_on_the_shelf_in_the_libraries_chosen_or_any(client, make):
    shelf = make.search_cluster(title="Hukum adat", holdings={"UGM": ["available"]})
    out = make.search_cluster(title="Hukum pidana", holdings={"UGM": ["on_loan"]})
    elsewhere = make.search_cluster(title="Hukum islam", holdings={"PNRI": ["available"], "UGM": ["on_loan"]})
    make.commit()

    def found(**q):
        return set(ids(client.get("/api/v1/search", query_string=q)))

    assert found(q="hukum") == {shelf.id, out.id, elsewhere.id}
    assert found(q="hukum", available="1") == {shelf.id, elsewhere.id}
    assert found(q="hukum", available="1", library="UGM") == {shelf.id}  # on UGM's shelf
    assert found(available="1", library="UGM") == {shelf.id}  # browsing too
    assert found(available="true") == {shelf.id, elsewhere.id}
    body = client.get("/api/v1/search", query_string={"q": "hukum", "available": "1"}).get_json()
    assert body["total"] == 2 and sum(body["facets"]["format"].values()) == 2
    assert body["facets"]["library"] == {"PNRI": 1, "UGM": 2}
    bad = client.get("/api/v1/search", query_string={"q": "hukum", "available": "maybe"})
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "available"

    page = client.get("/catalog/search", query_string={"q": "hukum"},
                      headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'id="available-toggle" href="/catalog/search?q=hukum&amp;available=1"' in page
    page = client.get("/catalog/search", query_string={"q": "hukum", "available": "1"},
                      headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "2 union records" in page and 'name="available" value="1"' in page
    assert 'id="available-toggle" href="/catalog/search?q=hukum"' in page


def test_the_newest_union_records_first_and_a_search_as_a_feed(client, make):
    import xml.etree.ElementTree as ET

    old = make.search_cluster(title="Hukum adat", author="Hadikusuma", year=1980, holdings={"UGM": ["available"]})
    other = make.search_cluster(title="Sejarah kota Medan", holdings={"PNRI": []})
    new = make.search_cluster(title="Hukum pidana", author="Moeljatno", year=2008, publisher="Bina Aksara",
                              holdings={"PNRI": ["available"]})
    make.commit()
    assert ids(client.get("/api/v1/search", query_string={"q": "hukum", "sort": "newest"})) == [new.id, old.id]
    assert ids(client.get("/api/v1/search", query_string={"sort": "newest", "library": "PNRI"})) == [
        new.id, other.id]

    resp = client.get("/catalog/search.atom", query_string={"q": "hukum"}, headers={"Accept-Language": "en"})
    assert resp.status_code == 200 and resp.mimetype == "application/atom+xml"
    feed = ET.fromstring(resp.data)
    a = {"a": "http://www.w3.org/2005/Atom"}
    assert feed.findtext("a:title", namespaces=a) == "Union catalogue: hukum"
    entries = feed.findall("a:entry", a)
    assert [e.findtext("a:title", namespaces=a) for e in entries] == ["Hukum pidana", "Hukum adat"]
    first = entries[0]
    assert first.find("a:link", a).get("href").endswith(f"/catalog/records/{new.id}")
    assert first.findtext("a:author/a:name", namespaces=a) == "Moeljatno"
    assert first.findtext("a:summary", namespaces=a).startswith("Bina Aksara, 2008; held by ")
    assert first.findtext("a:updated", namespaces=a).endswith("Z")
    # filters apply; a bad one is named
    feed = ET.fromstring(client.get("/catalog/search.atom", query_string={"q": "hukum", "library": "UGM"}).data)
    assert [e.findtext("a:title", namespaces=a) for e in feed.findall("a:entry", a)] == ["Hukum adat"]
    bad = client.get("/catalog/search.atom", query_string={"q": "hukum", "year_from": "abc"})
    assert bad.status_code == 400

    page = client.get("/catalog/search", query_string={"q": "hukum"},
                      headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'rel="alternate" type="application/atom+xml"' in page and 'id="search-feed"' in page
    assert "/catalog/search.atom?q=hukum" in page and "Newest in the catalogue" in page


def test_the_newest_union_records_of_the_network_are_a_link_away(client, make):
    first = make.search_cluster(title="Hukum adat")
    last = make.search_cluster(title="Sejarah kota Medan")
    make.commit()
    landing = client.get("/catalog/search", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'id="newest-link"' in landing and "/catalog/search?sort=newest" in landing
    assert 'class="hit"' not in landing  # nothing asked, nothing listed
    assert ids(client.get("/api/v1/search", query_string={"sort": "newest"})) == [last.id, first.id]
    page = client.get("/catalog/search", query_string={"sort": "newest"}).get_data(as_text=True)
    assert page.index("Sejarah kota Medan") < page.index("Hukum adat")
    import xml.etree.ElementTree as ET

    feed = ET.fromstring(client.get("/catalog/search.atom").data)
    a = {"a": "http://www.w3.org/2005/Atom"}
    assert [e.findtext("a:title", namespaces=a) for e in feed.findall("a:entry", a)] == [
        "Sejarah kota Medan", "Hukum adat"]
