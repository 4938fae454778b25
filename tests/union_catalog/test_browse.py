"""Browsing the catalogue's author and subject headings in filing order (both
engines): each heading once, with the union records under it, kept current
by imports, and leading to exactly those union records."""
from __future__ import annotations

from pymarc import Field, Subfield

from union_catalog import headings

from .world import book


def about(record, *subjects: str, added: tuple[str, ...] = ()):
    """The record with 650 headings ("Islam -- History" gives $a and $x) and
    700 added entries."""
    for heading in subjects:
        first, *subdivisions = heading.split(" -- ")
        record.add_field(Field(tag="650", indicators=[" ", "4"], subfields=[
            Subfield("a", first + ("." if not subdivisions else "")),
            *(Subfield("x", s) for s in subdivisions)]))
    for name in added:
        record.add_field(Field(tag="700", indicators=["1", " "], subfields=[Subfield("a", name + ",")]))
    return record


def _world(world):
    world.load("PNRI",
               about(book("p1", title="Sejarah peradaban Islam", author="Yatim, Badri"),
                     "Islam -- History", added=("al-Ghazali, Abu Hamid",)),
               about(book("p2", title="Islam dan tata negara", author="Sjadzali, Munawir"),
                     "Islam and state"),
               about(book("p3", title="Pengantar studi Islam", author="Nata, Abuddin"), "Islam"),
               about(book("p4", title="Tafsir al-Misbah", author="Shihab, M. Quraish"), "Tafsir"))
    world.load("UGM",
               about(book("u1", title="Membumikan al-Qur'an", author="Shihab, M. Quraish"),
                     "Islam", "Tafsir"),
               about(book("u2", title="Ihya ulum al-din", author="Ghazali, Abu Hamid",
                          authors=("Yatim, Badri",)), "ISLAM"))
    return {code: world.cluster_of(p, code) for p, code in (
        ("PNRI", "p1"), ("PNRI", "p2"), ("PNRI", "p3"), ("PNRI", "p4"), ("UGM", "u1"), ("UGM", "u2"))}


def _browse(client, kind, **args):
    resp = client.get(f"/api/v1/browse/{kind}", query_string=args)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def _found(client, **args) -> set[int]:
    resp = client.get("/api/v1/search", query_string={"per_page": 100, **args})
    assert resp.status_code == 200, resp.get_json()
    return {r["id"] for r in resp.get_json()["results"]}


def test_subjects_file_with_their_subdivisions_right_after_them(world, client):
    ids = _world(world)
    body = _browse(client, "subject")
    listed = [(h["heading"], h["records"]) for h in body["headings"]]
    # "Islam" twice and "ISLAM" once: one heading, in the form most records give
    assert listed == [("Islam", 3), ("Islam -- History", 1), ("Islam and state", 1), ("Tafsir", 2)]
    assert body["previous"] is None and body["next"] is None
    # each heading leads to exactly its union records: not those of its
    # subdivisions, nor every record with the word in a subject
    assert _found(client, subject_heading="Islam") == {ids["p3"], ids["u1"], ids["u2"]}
    assert _found(client, subject_heading="islam -- history") == {ids["p1"]}
    assert _found(client, subject="islam") == {ids["p1"], ids["p2"], ids["p3"], ids["u1"], ids["u2"]}
    search = body["headings"][1]["search"]
    assert client.get(search).get_json()["total"] == 1


def test_names_come_from_main_and_added_entries_and_file_without_the_arabic_article(world, client):
    ids = _world(world)
    listed = [(h["heading"], h["filing"], h["records"]) for h in _browse(client, "author")["headings"]]
    assert listed == [
        # p1's "al-Ghazali" (added) and u2's "Ghazali" (main) file alike: one heading
        ("Ghazali, Abu Hamid", "ghazali abu hamid", 2),
        ("Nata, Abuddin", "nata abuddin", 1),
        ("Shihab, M. Quraish", "shihab m quraish", 2),
        ("Sjadzali, Munawir", "sjadzali munawir", 1),
        ("Yatim, Badri", "yatim badri", 2),
    ]
    assert _found(client, author_heading="Yatim, Badri") == {ids["p1"], ids["u2"]}
    assert _found(client, author_heading="al-Ghazali, Abu Hamid") == {ids["p1"], ids["u2"]}
    # with words and facets, the heading narrows them as a filter does
    assert _found(client, author_heading="Shihab, M. Quraish", q="misbah") == {ids["p4"]}
    assert _found(client, author_heading="Shihab, M. Quraish", library="UGM") == {ids["u1"]}
    facets = client.get("/api/v1/search", query_string={"author_heading": "Shihab, M. Quraish"}).get_json()["facets"]
    assert facets["library"] == {"PNRI": 1, "UGM": 1}


def test_browsing_starts_where_the_typed_words_file_and_pages_both_ways(world, client):
    _world(world)
    body = _browse(client, "author", **{"from": "Nasution", "per_page": 2})
    assert [h["heading"] for h in body["headings"]] == ["Nata, Abuddin", "Shihab, M. Quraish"]
    assert body["from"] == "nasution"
    assert body["next"] == "sjadzali munawir" and body["previous"] == "nata abuddin"
    after = _browse(client, "author", **{"from": body["next"], "per_page": 2})
    assert [h["heading"] for h in after["headings"]] == ["Sjadzali, Munawir", "Yatim, Badri"]
    assert after["next"] is None
    back = _browse(client, "author", before=body["previous"], per_page=2)
    assert [h["heading"] for h in back["headings"]] == ["Ghazali, Abu Hamid"]
    assert back["previous"] is None and back["next"] == "nata abuddin"
    # past the last heading: nothing, and the way back
    end = _browse(client, "author", **{"from": "Zainuddin"})
    assert end["headings"] == [] and end["previous"] == "zainuddin" and end["next"] is None


def test_the_headings_follow_the_imports(world, client):
    ids = _world(world)
    # UGM's next export: u1 now says "Tafsir -- Indonesia" and u2 is gone
    world.load("UGM", about(book("u1", title="Membumikan al-Qur'an", author="Shihab, M. Quraish"),
                            "Islam", "Tafsir -- Indonesia"))
    listed = [(h["heading"], h["records"]) for h in _browse(client, "subject")["headings"]]
    assert listed == [("Islam", 2), ("Islam -- History", 1), ("Islam and state", 1), ("Tafsir", 1),
                      ("Tafsir -- Indonesia", 1)]
    names = {h["heading"]: h["records"] for h in _browse(client, "author")["headings"]}
    # only p1 names al-Ghazali now: its form is the heading's
    assert names["al-Ghazali, Abu Hamid"] == 1 and names["Yatim, Badri"] == 1
    assert _found(client, subject_heading="Tafsir") == {ids["p4"]}


def test_a_heading_s_records_are_followed_by_an_alert_named_after_it(world, client, make):
    from tests.factories import bearer

    _world(world)
    token = make.token(make.user("patron", library="UINSU"))
    make.commit()
    resp = client.post("/api/v1/search-alerts", json={"query": {"subject_heading": "Tafsir"}},
                       headers=bearer(token))
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["query"] == "subject_heading=Tafsir" and resp.get_json()["label"] == "Tafsir"


def test_a_bad_kind_or_heading_is_named(world, client):
    _world(world)
    english = {"Accept-Language": "en"}
    error = client.get("/api/v1/browse/publisher", headers=english).get_json()["error"]
    assert error["field"] == "kind" and "author or by subject, not 'publisher'" in error["message"]
    error = client.get("/api/v1/search", query_string={"subject_heading": " -- "}).get_json()["error"]
    assert error["field"] == "subject_heading"
    error = client.get("/api/v1/browse/author", query_string={"per_page": 1000}).get_json()["error"]
    assert error["field"] == "per_page"


def test_the_pages_browse_and_link_the_record_s_headings(world, client):
    ids = _world(world)
    page = client.get("/catalog/browse", query_string={"kind": "subject", "from": "tafsir"},
                      headers={"Accept-Language": "id"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Jelajahi pengarang dan subjek" in html and 'data-filing="tafsir"' in html
    assert 'data-filing="islam"' not in html and 'id="browse-previous"' in html
    assert "subject_heading=Tafsir" in html
    # the search page says which heading it is under, and the way out
    html = client.get("/catalog/search", query_string={"subject_heading": "Tafsir"},
                      headers={"Accept-Language": "id"}).get_data(as_text=True)
    assert "Tajuk subjek:" in html and 'data-heading="subject_heading"' in html
    assert "2 cantuman induk" in html
    # the record page links its subjects, its author and its other names to their headings
    html = client.get(f"/catalog/records/{ids['p1']}").get_data(as_text=True)
    assert "subject_heading=Islam+--+History" in html
    assert "author_heading=Yatim,+Badri" in html and "author_heading=al-Ghazali,+Abu+Hamid" in html
    assert client.get("/catalog/browse?kind=publisher").status_code == 400


def test_filing_rules():
    assert headings.filing("subject", "Islam -- History") == "islam -- history"
    assert headings.filing("subject", "Islam") < headings.filing("subject", "Islam -- History") \
        < headings.filing("subject", "Islam and state")
    assert headings.filing("author", "al-Ghazali, Abu Hamid") == "ghazali abu hamid"
    # a filing files where it is: browsing from a heading's own filing starts at it
    for kind, heading in (("subject", "Tafsīr -- Indonesia"), ("author", "al-Maraghi, Ahmad")):
        once = headings.filing(kind, heading)
        assert headings.filing(kind, once) == once
    assert headings.of_members(["Yatim, Badri", "YATIM, BADRI."], ["Islam", "islam"]) == [
        ("author", "yatim badri", "Yatim, Badri"), ("subject", "islam", "Islam")]
