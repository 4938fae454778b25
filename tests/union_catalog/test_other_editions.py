"""A union record's page lists the other editions and volumes of its work
(both engines): the union records whose records name its title proper and
first author, kept current by imports like the rest of the index."""
from __future__ import annotations

from .world import book

TITLE = "Pengantar ilmu hukum"


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
