"""Collection overlap: what each library alone holds (the network's last
copies) and how much of its collection the others also hold; on both
engines, through the page, the spreadsheet and the API."""
from __future__ import annotations

import csv
import io
import json

from hypothesis import given
from hypothesis import strategies as st

from tests.factories import bearer, login
from union_catalog import overlap

from .world import book

NAMES = {1: ("UGM", "Universitas Gadjah Mada"), 2: ("UINSU", "UIN Sumatera Utara"), 3: ("PNRI", "Perpusnas")}


def test_each_library_against_the_rest():
    holdings = [(10, 1), (11, 1), (11, 2), (12, 1), (12, 2), (12, 3), (13, 3)]
    found = overlap.summarise(holdings, NAMES)
    assert (found.editions, found.unique) == (4, 2)
    ugm, pnri, uinsu = found.libraries  # most editions first, then by code
    assert (ugm.code, pnri.code, uinsu.code) == ("UGM", "PNRI", "UINSU")
    assert (ugm.held, ugm.unique, ugm.by_holders[2], ugm.by_holders[3]) == (3, 1, 1, 1)
    assert ugm.shared == {2: 2, 3: 1}
    assert ugm.share_with(2) == 2 / 3 and uinsu.share_with(1) == 1.0
    assert (uinsu.held, uinsu.unique) == (2, 0)
    assert (pnri.held, pnri.unique, pnri.shared) == (2, 1, {1: 1, 2: 1})
    # asked for one library, the network's totals still count them all
    only = overlap.summarise(holdings, NAMES, only=[2])
    assert [r.code for r in only.libraries] == ["UINSU"] and (only.editions, only.unique) == (4, 2)


def test_a_library_with_nothing_imported_shows_no_share():
    found = overlap.summarise([(1, 1)], NAMES)
    empty = next(r for r in found.libraries if r.code == "PNRI")
    assert (empty.held, empty.unique_share, empty.share_with(1)) == (0, None, None)


def test_many_holders_are_counted_together():
    found = overlap.summarise([(1, p) for p in range(1, 8)], {p: (f"L{p}", "") for p in range(1, 8)})
    assert all(r.by_holders[overlap.MOST_HOLDERS] == 1 and r.unique == 0 for r in found.libraries)
    assert found.libraries[0].to_dict({p: f"L{p}" for p in range(1, 8)})["by_holders"]["5+"] == 1


holdings_strategy = st.dictionaries(st.integers(1, 60), st.sets(st.integers(1, 6), min_size=1, max_size=6))


@given(holdings_strategy)
def test_the_figures_add_up(held_by):
    pairs = [(cid, pid) for cid, pids in held_by.items() for pid in pids]
    found = overlap.summarise(pairs, {p: (f"L{p}", "") for p in range(1, 7)})
    rows = {r.partner_id: r for r in found.libraries}
    assert found.editions == len(held_by)
    assert sum(r.unique for r in rows.values()) == found.unique == sum(len(p) == 1 for p in held_by.values())
    for pid, row in rows.items():
        assert row.held == sum(row.by_holders.values()) == sum(pid in p for p in held_by.values())
        for other, both in row.shared.items():
            assert both == rows[other].shared[pid]  # symmetric
            assert both <= min(row.held, rows[other].held)
            assert both == sum(pid in p and other in p for p in held_by.values())


def _network(make):
    """UGM alone holds two editions, UINSU one; they share one, PNRI holds it too."""
    make.search_cluster(title="Naskah kuno Yogyakarta", holdings={"UGM": ["available", "on_loan"]},
                        call_number="091 NAS")
    make.search_cluster(title="Babad Tanah Jawi", holdings={"UGM": ["not_for_loan"]}, call_number="959.8 BAB")
    make.search_cluster(title="Skripsi: zakat profesi", holdings={"UINSU": []}, format="thesis")
    make.search_cluster(title="Tafsir al-Misbah", holdings={"UGM": ["available"], "UINSU": ["available"],
                                                           "PNRI": ["on_loan"]})
    make.commit()


def test_a_coordinator_sees_the_whole_network(client, make):
    _network(make)
    coordinator = make.user("coordinator")
    token = make.token(coordinator)
    make.commit()
    body = client.get("/api/v1/catalog/overlap", headers=bearer(token)).get_json()
    assert (body["editions"], body["unique"], body["format"]) == (4, 3, None)
    rows = {r["library"]: r for r in body["libraries"]}
    assert rows["UGM"]["held"] == 3 and rows["UGM"]["unique"] == 2
    assert rows["UGM"]["by_holders"] == {"1": 2, "2": 0, "3": 1, "4": 0, "5+": 0}
    assert rows["UGM"]["shared_with"] == {"PNRI": {"held": 1, "share": 0.3333},
                                          "UINSU": {"held": 1, "share": 0.3333}}
    assert rows["PNRI"]["unique_share"] == 0.0 and rows["PNRI"]["shared_with"]["UGM"]["share"] == 1.0
    # theses apart: a university's own theses are unique by nature
    books = client.get("/api/v1/catalog/overlap?format=book", headers=bearer(token)).get_json()
    assert (books["editions"], books["unique"], books["format"]) == (3, 2, "book")
    assert {r["library"]: r["held"] for r in books["libraries"]}["UINSU"] == 1


def test_a_librarian_sees_their_own_library_and_a_patron_nothing(client, make):
    _network(make)
    librarian = make.user("librarian", library="UINSU")
    patron = make.user("patron", library="UINSU")
    tokens = make.token(librarian), make.token(patron)
    make.commit()
    body = client.get("/api/v1/catalog/overlap", headers=bearer(tokens[0])).get_json()
    assert [r["library"] for r in body["libraries"]] == ["UINSU"]
    assert body["libraries"][0]["shared_with"] == {"PNRI": {"held": 1, "share": 0.5},
                                                   "UGM": {"held": 1, "share": 0.5}}
    assert client.get("/api/v1/catalog/overlap", headers=bearer(tokens[1])).status_code == 403
    assert client.get("/api/v1/catalog/overlap").status_code == 401
    bad = client.get("/api/v1/catalog/overlap?format=dvd", headers=bearer(tokens[0]),
                     environ_overrides={"HTTP_ACCEPT_LANGUAGE": "en"})
    assert bad.status_code == 400 and "dvd" in bad.get_json()["error"]["message"]


def _csv(resp) -> list[dict]:
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))


def test_a_library_takes_its_last_copies_to_the_shelves(client, make):
    _network(make)
    librarian = make.user("librarian", library="UGM")
    make.commit()
    login(client, librarian.email)
    resp = client.get("/catalog/overlap/UGM-last-copies.csv")
    assert 'filename="UGM-last-copies.csv"' in resp.headers["Content-Disposition"]
    rows = _csv(resp)
    assert [(r["title"], r["items"], r["available"], r["call_numbers"]) for r in rows] == [
        ("Babad Tanah Jawi", "1", "0", "959.8 BAB"), ("Naskah kuno Yogyakarta", "2", "1", "091 NAS")]
    assert rows[0]["url"].endswith(f"/catalog/records/{rows[0]['union_record_id']}")
    # another library's list is theirs
    assert client.get("/catalog/overlap/UINSU-last-copies.csv").status_code == 403
    assert client.get("/catalog/overlap/NOPE-last-copies.csv").status_code == 404


def test_a_coordinator_takes_any_librarys_list_of_one_format(client, make):
    _network(make)
    coordinator = make.user("coordinator")
    make.commit()
    login(client, coordinator.email)
    assert [r["title"] for r in _csv(client.get("/catalog/overlap/UINSU-last-copies.csv"))] == [
        "Skripsi: zakat profesi"]
    assert _csv(client.get("/catalog/overlap/UINSU-last-copies.csv?format=book")) == []


def test_the_page_in_both_languages(client, make):
    _network(make)
    coordinator = make.user("coordinator")
    librarian = make.user("librarian", library="UINSU")
    make.commit()
    login(client, coordinator.email)
    page = client.get("/catalog/overlap/?library=PNRI", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "The network holds 4 editions; 3 of them (75.0%) in one library only." in page
    assert "PNRI compared with each library" in page and "/catalog/overlap/UGM-last-copies.csv" in page
    page = client.get("/catalog/overlap/", headers={"Accept-Language": "id"}).get_data(as_text=True)
    assert "Tumpang tindih koleksi" in page and "75,0%" in page
    facts = client.get("/facts/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'href="/catalog/overlap/"' in facts
    client.post("/logout")
    login(client, librarian.email)
    page = client.get("/catalog/overlap/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "UINSU compared with each library" in page and "The network holds" not in page
    assert "/catalog/overlap/UINSU-last-copies.csv" in page  # its thesis
    assert "/catalog/overlap/UGM-last-copies.csv" not in page


def test_a_withdrawn_record_leaves_the_last_copy_elsewhere(world, client, make):
    """An import that withdraws one library's record makes the other's copy
    the network's last: the figures follow the imports."""
    world.load("UGM", book("u1", title="Sejarah Aceh", author="Said, Mohammad", year=1961),
               book("u2", title="Adat Aceh", author="Snouck Hurgronje", year=1893))
    world.load("UINSU", book("s1", title="Sejarah Aceh", author="Said, Mohammad", year=1961))
    coordinator = make.user("coordinator")
    token = make.token(coordinator)
    make.commit()

    def unique():
        body = client.get("/api/v1/catalog/overlap", headers=bearer(token)).get_json()
        return {r["library"]: r["unique"] for r in body["libraries"] if r["held"]}

    assert unique() == {"UGM": 1, "UINSU": 0}
    world.load("UGM", book("u2", title="Adat Aceh", author="Snouck Hurgronje", year=1893))
    assert unique() == {"UGM": 1, "UINSU": 1}


def test_staff_see_on_the_record_page_that_it_is_the_last_copy(client, make):
    alone = make.search_cluster(title="Naskah kuno Yogyakarta", holdings={"UGM": ["available"]})
    shared = make.search_cluster(title="Tafsir al-Misbah", holdings={"UGM": ["available"], "UINSU": []})
    librarian = make.user("librarian", library="UINSU")
    make.commit()
    en = {"Accept-Language": "en"}
    assert 'id="last-copy"' not in client.get(f"/catalog/records/{alone.id}", headers=en).get_data(as_text=True)
    login(client, librarian.email)
    page = client.get(f"/catalog/records/{alone.id}", headers=en).get_data(as_text=True)
    assert "The network's last copy" in page
    assert 'id="last-copy"' not in client.get(f"/catalog/records/{shared.id}", headers=en).get_data(as_text=True)


def test_the_generated_network_overlaps_as_its_known_answer_says(runner, make, session, exports):
    """Over the generated partner exports, each library's editions and last
    copies are those of the set's known answer (truth.csv: which records
    are one edition), within what clustering gets wrong."""
    from collections import defaultdict

    from .test_import_generated import _import_all

    _import_all(runner, make, exports)
    holders = defaultdict(set)
    with open(exports / "truth.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            holders[row["edition_id"]].add(row["partner"])
    truth = overlap.summarise(((e, code) for e, codes in holders.items() for code in codes),
                              {code: (code, "") for codes in holders.values() for code in codes})
    found = {r.code: r for r in overlap.collection_overlap(session).libraries}
    assert len(truth.libraries) == 17
    for want in truth.libraries:
        got = found[want.code]
        assert abs(got.held - want.held) <= max(3, want.held // 100), (want.code, got.held, want.held)
        assert abs(got.unique - want.unique) <= max(3, want.unique // 50), (want.code, got.unique, want.unique)


def test_the_figures_from_the_command_line(runner, make):
    _network(make)
    result = runner.invoke(args=["catalog", "overlap", "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = {r["library"]: r for r in csv.DictReader(io.StringIO(result.output))}
    assert (rows["UGM"]["held"], rows["UGM"]["unique"], rows["UGM"]["in_3"]) == ("3", "2", "1")
    books = json.loads(runner.invoke(args=["catalog", "overlap", "--only", "book", "--format", "json"]).output)
    assert (books["editions"], books["unique"]) == (3, 2)
    table = runner.invoke(args=["catalog", "overlap"]).output
    assert table.splitlines()[0].split() == ["library", "held", "unique", "unique_share", "in_2", "in_3", "in_4",
                                             "in_5_or_more"]
    listed = runner.invoke(args=["catalog", "last-copies", "--partner", "UGM"])
    assert [r["title"] for r in csv.DictReader(io.StringIO(listed.output))] == ["Babad Tanah Jawi",
                                                                                  "Naskah kuno Yogyakarta"]
    bad = runner.invoke(args=["catalog", "overlap", "--only", "dvd"])
    assert bad.exit_code == 2 and "'dvd' is not a format" in bad.output
    assert runner.invoke(args=["catalog", "last-copies", "--partner", "NOPE"]).exit_code == 2
