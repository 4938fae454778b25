"""A union record's page lists the other editions and volumes of its work
(both engines): the union records whose records name its title proper and
first author, kept current by imports like the rest of the index."""
from __future__ import annotations

from pymarc import Field, Subfield

from tests.factories import bearer

from .world import book

TITLE = "Pengantar ilmu hukum"


def held(record, status: str):
    """The record with one Koha item (952) of that status ("" on the shelf)."""
    record.add_field(Field(tag="952", indicators=[" ", " "], subfields=[
        Subfield("a", "PUSAT"), Subfield("p", f"B-{record['001'].data}"),
        *([Subfield("q", "2026-11-01")] if status == "on loan" else []),
        *([Subfield("1", "1")] if status == "lost" else [])]))
    return record


def _world(world):
    world.load("PNRI",
               book("p1", title=TITLE, author="Kansil, C.S.T.", edition="Ed. 2", year=2001,
                    publisher="Balai Pustaka"),
               book("p2", title=TITLE, author="Mertokusumo, Sudikno", year=2005, publisher="Liberty"),
               book("p3", title="Hukum waris", author="", year=2010))
    world.load("UGM",
               book("u1", title=TITLE, author="C.S.T. Kansil", edition="Ed. 4", year=2015,
                    publisher="Rineka Cipta"),
               book("u2", title=TITLE, author="Kansil, C.S.T.", edition="Ed. 2", year=2001,
                    publisher="Balai Pustaka", title_n="Jilid 2", volume="2"))
    ids = {c: world.cluster_of(p, c) for p, c in (("PNRI", "p1"), ("PNRI", "p2"), ("PNRI", "p3"),
                                                   ("UGM", "u1"), ("UGM", "u2"))}
    assert len(set(ids.values())) == 5, ids  # five editions (or volumes), five union records
    return ids


def test_the_other_editions_of_a_work_are_listed_newest_first(world, client):
    ids = _world(world)
    body = client.get(f"/api/v1/records/{ids['p1']}").get_json()
    assert [e["id"] for e in body["other_editions"]] == [ids["u1"], ids["u2"]]
    assert body["other_editions_total"] == 2
    newest = body["other_editions"][0]
    assert newest["year"] == 2015 and newest["libraries"] == 1 and newest["publisher"] == "Rineka Cipta"
    # the other author's book of that title is another work; no author, no work
    assert client.get(f"/api/v1/records/{ids['p2']}").get_json()["other_editions"] == []
    assert client.get(f"/api/v1/records/{ids['p3']}").get_json()["other_editions"] == []

    page = client.get(f"/catalog/records/{ids['u1']}", headers={"Accept-Language": "id"}).get_data(as_text=True)
    assert "Edisi dan jilid lain karya ini" in page
    assert f'data-record="{ids["p1"]}"' in page and f'data-record="{ids["u2"]}"' in page
    assert f'data-record="{ids["p2"]}"' not in page


def test_the_list_follows_the_imports(world, client):
    ids = _world(world)
    world.load("UGM", book("u2", title=TITLE, author="Kansil, C.S.T.", edition="Ed. 2", year=2001,
                           publisher="Balai Pustaka", title_n="Jilid 2", volume="2"))  # u1 withdrawn
    body = client.get(f"/api/v1/records/{ids['p1']}").get_json()
    assert [e["id"] for e in body["other_editions"]] == [ids["u2"]]


def test_a_signed_in_reader_sees_which_other_editions_can_be_requested(world, client, make):
    from union_catalog import search as search_service

    before = search_service.requestability_provider()
    search_service.set_requestability_provider(search_service.availability_requestability)
    try:
        world.load("PNRI", held(book("p1", title=TITLE, author="Kansil, C.S.T.", edition="Ed. 2", year=2001,
                                     publisher="Balai Pustaka"), "on loan"))
        world.load("UGM", held(book("u1", title=TITLE, author="C.S.T. Kansil", edition="Ed. 4", year=2015,
                                    publisher="Rineka Cipta"), ""),
                   held(book("u2", title=TITLE, author="Kansil, C.S.T.", edition="Ed. 3", year=2009,
                             publisher="Rineka Cipta"), "lost"))
        p1, u1, u2 = (world.cluster_of(*k) for k in (("PNRI", "p1"), ("UGM", "u1"), ("UGM", "u2")))
        visitor = client.get(f"/api/v1/records/{p1}").get_json()["other_editions"]
        assert [(e["id"], e["requestable"]) for e in visitor] == [(u1, None), (u2, None)]
        token = make.token(make.user("patron", library="UINSU"))
        make.commit()
        answer = client.get(f"/api/v1/records/{p1}", headers=bearer(token)).get_json()
        assert [(e["id"], e["requestable"]) for e in answer["other_editions"]] == [(u1, True), (u2, False)]
    finally:
        search_service.set_requestability_provider(before)


def test_a_full_list_says_how_many_there_are_in_all(world, client, monkeypatch):
    from union_catalog import search as search_service

    ids = _world(world)
    monkeypatch.setattr(search_service, "OTHER_EDITIONS_SHOWN", 1)
    body = client.get(f"/api/v1/records/{ids['p1']}").get_json()
    assert [e["id"] for e in body["other_editions"]] == [ids["u1"]] and body["other_editions_total"] == 2
    page = client.get(f"/catalog/records/{ids['p1']}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "1 of 2 shown, newest first." in page
