"""Catalogue quality: what each library's records lack that the union
catalogue needs, counted and listed by their position in the export; on
both engines, through the page, the spreadsheets and the API."""
from __future__ import annotations

import csv
import io
import json

from tests.factories import bearer, login
from union_catalog import quality

from .world import book


def tally(rows, code, key):
    row = next(r for r in rows if r.code == code)
    return row.checks[key].lacking, row.checks[key].concerned


def test_each_check_counts_the_records_it_concerns():
    facts = [
        (1, {"format": "book", "isbns": ["9786024878658"], "author": "Pohan", "year": 2015, "language": "ind",
             "subjects": ["Hukum adat"], "publisher": "Mizan"}),
        (1, {"format": "book", "isbns": [], "isbns_set": ["9789793062792"], "isbns_invalid": ["9789793062793"],
             "author": "", "year": None, "language": "und", "subjects": [], "publisher": ""}),
        (1, {"format": "serial", "issns": [], "author": "", "year": 2001, "language": "ind", "publisher": "IAIN",
             "_no_copies": True}),
        (1, {"format": "thesis", "author": "Nasution", "year": 2019, "language": "ind", "subjects": ["Zakat"]}),
    ]
    (row,) = quality.profile(facts, {1: ("UINSU", "UIN Sumatera Utara")})
    got = {k: (t.lacking, t.concerned) for k, t in row.checks.items()}
    assert row.records == 4
    assert got["isbn"] == (0, 2)  # books only; a set's ISBN is an ISBN
    assert got["isbn_invalid"] == (1, 4)
    assert got["issn"] == (1, 1)
    assert got["author"] == (1, 3)  # a serial has no author to lack
    assert got["year"] == (1, 4)
    assert got["language"] == (1, 4)
    assert got["subjects"] == (1, 3)  # facts that never kept subjects are not judged
    assert got["publisher"] == (1, 3)  # a thesis has none to lack
    assert got["copies"] == (1, 4)
    assert row.checks["isbn"].share == 0.0 and row.to_dict()["checks"]["issn"]["share"] == 1.0


def _network(world):
    world.load("UINSU",
               book("s1", title="Sejarah Aceh", author="Said, Mohammad", year=1961, isbns=("9789793062792",)),
               book("s2", title="Adat Aceh", author="Snouck Hurgronje", year=1893),
               book("s3", title="Hikayat Aceh", author="", year=1900))
    world.load("UGM", book("u1", title="Sejarah Aceh", author="Said, Mohammad", year=1961, isbns=("9789793062792",)))


def test_a_librarian_lists_the_records_to_mend_in_export_order(world, client, make):
    _network(world)
    librarian = make.user("librarian", library="UINSU")
    make.commit()
    login(client, librarian.email)
    page = client.get("/catalog/quality/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "UINSU" in page and "3 records" in page and "UGM" not in page
    assert 'href="/catalog/quality/UINSU/isbn.csv"' in page
    resp = client.get("/catalog/quality/UINSU/isbn.csv")
    assert resp.status_code == 200 and 'filename="UINSU-isbn.csv"' in resp.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))
    assert [(r["ordinal"], r["control_number"], r["title"]) for r in rows] == [
        ("2", "s2", "Adat Aceh"), ("3", "s3", "Hikayat Aceh")]
    assert rows[0]["url"].endswith(f"/catalog/records/{world.cluster_of('UINSU', 's2')}")
    author = list(csv.DictReader(io.StringIO(
        client.get("/catalog/quality/UINSU/author.csv").get_data(as_text=True).lstrip("\ufeff"))))
    assert [r["control_number"] for r in author] == ["s3"]
    # another library's records are theirs to mend
    assert client.get("/catalog/quality/UGM/isbn.csv").status_code == 403
    assert client.get("/catalog/quality/UINSU/colour.csv").status_code == 404
    page = client.get("/catalog/quality/", headers={"Accept-Language": "id"}).get_data(as_text=True)
    assert "Mutu katalog" in page and "Buku tanpa ISBN" in page


def test_a_coordinator_sees_every_library_and_the_api_says_the_same(world, client, make):
    _network(world)
    coordinator = make.user("coordinator")
    patron = make.user("patron", library="UINSU")
    token, patron_token = make.token(coordinator), make.token(patron)
    make.commit()
    body = client.get("/api/v1/catalog/quality", headers=bearer(token)).get_json()
    assert [c["key"] for c in body["checks"]][:2] == ["isbn", "isbn_invalid"]
    rows = {r["library"]: r for r in body["libraries"]}
    assert rows["UINSU"]["records"] == 3 and rows["UINSU"]["checks"]["isbn"] == {
        "concerned": 3, "lacking": 2, "share": 0.6667}
    assert rows["UGM"]["checks"]["isbn"]["lacking"] == 0
    assert client.get("/api/v1/catalog/quality", headers=bearer(patron_token)).status_code == 403
    login(client, coordinator.email)
    page = client.get("/catalog/quality/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'data-library="UINSU"' in page and 'data-library="UGM"' in page
    assert "Matched with other libraries' copies on title, author and year alone" in page
    assert client.get("/catalog/quality/UGM/isbn.csv").status_code == 200
    imports = client.get("/catalog/imports/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'href="/catalog/quality/"' in imports and 'href="/catalog/overlap/"' in imports


def test_withdrawn_records_are_not_judged(world, client, make):
    _network(world)
    world.load("UINSU",
               book("s1", title="Sejarah Aceh", author="Said, Mohammad", year=1961, isbns=("9789793062792",)))
    found = quality.catalogue_quality(world.session)
    assert tally(found, "UINSU", "isbn") == (0, 1)


def test_a_record_without_item_fields_is_listed_as_without_copies(world):
    """An export with no 952, 852 or 949 still says the library holds the
    record (one copy, status unknown): listed, since no request can count on it."""
    world.load("UQ", book("q1", title="Tafsir al-Azhar", author="Hamka", year=1982))
    assert tally(quality.catalogue_quality(world.session), "UQ", "copies") == (1, 1)


def test_the_tallies_and_lists_from_the_command_line(world, runner):
    _network(world)
    result = runner.invoke(args=["catalog", "quality", "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = {r["library"]: r for r in csv.DictReader(io.StringIO(result.output))}
    assert (rows["UINSU"]["records"], rows["UINSU"]["isbn_lacking"], rows["UINSU"]["isbn_concerned"]) == (
        "3", "2", "3")
    data = json.loads(runner.invoke(args=["catalog", "quality", "--partner", "UGM", "--format", "json"]).output)
    assert [r["library"] for r in data["libraries"]] == ["UGM"]
    listed = runner.invoke(args=["catalog", "quality", "--partner", "UINSU", "--lacking", "author"])
    assert [r["control_number"] for r in csv.DictReader(io.StringIO(listed.output))] == ["s3"]
    assert runner.invoke(args=["catalog", "quality", "--lacking", "author"]).exit_code == 2
    assert "UINSU" in runner.invoke(args=["catalog", "quality"]).output


def test_the_coordinator_sees_which_librarys_copies_are_stale(world, client, make, session):
    from datetime import timedelta

    from ill.accounts import utcnow
    from union_catalog.models import ImportRun

    _network(world)
    session.add_all([ImportRun(partner_id=world.partners["UINSU"].id, filename="old.mrc", status="done",
                               finished_at=utcnow() - timedelta(days=100)),
                     ImportRun(partner_id=world.partners["UGM"].id, filename="new.mrc", status="done",
                               finished_at=utcnow() - timedelta(days=2))])
    coordinator = make.user("coordinator")
    token = make.token(coordinator)
    make.commit()
    body = client.get("/api/v1/catalog/quality", headers=bearer(token)).get_json()
    rows = {r["library"]: r for r in body["libraries"]}
    assert rows["UINSU"]["stale"] and not rows["UGM"]["stale"] and rows["UGM"]["as_of"]
    login(client, coordinator.email)
    page = client.get("/catalog/quality/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert page.count("may be out of date") == 1
