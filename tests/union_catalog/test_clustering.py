"""Union records in the database, through real imports: one per edition across
partners, stable ids through re-imports, withdrawals, and coordinators'
split and merge (API and forms) surviving every later import."""
from __future__ import annotations

import csv

import pytest
from sqlalchemy import select
from stdnum import isbn as std_isbn

from tests.factories import bearer, login
from union_catalog.models import ClusterDecision

from .test_matching import ISBN, ISBN_OTHER
from .world import book


def test_one_union_record_per_edition_across_partners(world, runner, tmp_path):
    world.load("PNRI", book("p1", isbns=[ISBN]),
               book("p2", title="Kimia dasar", author="Lubis, Dewi"))
    world.load("UGM", book("u1", isbns=[std_isbn.to_isbn10(ISBN) + " (pbk.)"]),
               book("u2", title="Kimia dasar", author="Lubis, Dewi", year=2001, publisher="Andi"))
    p1, u1 = world.record("PNRI", "p1"), world.record("UGM", "u1")
    assert p1.cluster_id is not None and p1.cluster_id == u1.cluster_id
    assert world.cluster_of("PNRI", "p2") != world.cluster_of("UGM", "u2")  # another edition
    union = world.cluster(p1.cluster_id)
    assert union.member_count == 2 and union.isbns == [ISBN]
    assert union.title == "Pengantar ilmu perpustakaan" and union.year == 2019
    assert union.publisher == "Erlangga" and union.format == "book"
    assert union.updated_at >= union.created_at
    assert u1.match_evidence == f"Same ISBN {ISBN} as PNRI p1."

    out = tmp_path / "clusters.csv"
    result = runner.invoke(args=["catalog", "clusters", "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(open(out, newline="")))
    assert rows[0] == ["partner", "control_number", "ordinal", "cluster_id"]
    assert ["PNRI", "p1", "1", str(p1.cluster_id)] in rows
    assert ["UGM", "u1", "1", str(p1.cluster_id)] in rows
    assert len(rows) == 5


def test_union_record_ids_stay_through_reimports(world):
    world.load("PNRI", book("p1", isbns=[ISBN]))
    world.load("UGM", book("u1", isbns=[ISBN]))
    cid = world.cluster_of("PNRI", "p1")
    world.load("UGM", book("u1", isbns=[ISBN], note="Koreksi katalog."))  # changed record
    world.load("PNRI", book("p1", isbns=[ISBN]))  # unchanged export
    world.load("UQ", book("q1", isbns=[]))  # a third library, no ISBN
    assert world.cluster_of("PNRI", "p1") == world.cluster_of("UGM", "u1") == cid
    assert world.cluster_of("UQ", "q1") == cid
    assert world.cluster(cid).member_count == 3


def test_when_union_records_merge_the_oldest_id_stays(world):
    world.load("PNRI", book("p1", title="Kimia dasar untuk perguruan tinggi"))
    world.load("UGM", book("u1", title="Kimia organik untuk perguruan tinggi"))
    old, young = world.cluster_of("PNRI", "p1"), world.cluster_of("UGM", "u1")
    assert old < young
    world.load("UGM", book("u1", title="Kimia dasar untuk perguruan tinggi"))  # corrected
    assert world.cluster_of("UGM", "u1") == old
    gone = world.cluster(young)
    assert gone.member_count == 0 and gone.merged_into_id == old
    assert world.cluster(old).member_count == 2


def test_when_a_union_record_splits_the_larger_part_keeps_the_id(world):
    world.load("PNRI", book("p1"))
    world.load("UGM", book("u1"))
    world.load("UQ", book("q1"))
    cid = world.cluster_of("PNRI", "p1")
    assert world.cluster(cid).member_count == 3
    world.load("UQ", book("q1", edition="Ed. 2"))  # it was another edition after all
    assert world.cluster_of("PNRI", "p1") == world.cluster_of("UGM", "u1") == cid
    assert world.cluster_of("UQ", "q1") not in (None, cid)
    assert world.cluster(cid).member_count == 2


def test_withdrawn_records_leave_and_an_empty_union_record_keeps_its_row(world, runner, tmp_path):
    world.load("PNRI", book("p1", title="Sejarah kota Medan"), book("p2", isbns=[ISBN]))
    cid = world.cluster_of("PNRI", "p1")
    world.load("PNRI", book("p2", isbns=[ISBN]))  # p1 is gone from the export
    p1 = world.record("PNRI", "p1")
    assert p1.withdrawn_at is not None and p1.cluster_id is None
    assert p1.match_evidence == f"Withdrawn by its library (union record {cid})."
    union = world.cluster(cid)
    assert union is not None and union.member_count == 0 and union.merged_into_id is None
    out = tmp_path / "c.csv"
    assert runner.invoke(args=["catalog", "clusters", "--out", str(out)]).exit_code == 0
    assert [r[1] for r in csv.reader(open(out))][1:] == ["p2"]
    # the library sends it again: it goes back to the union record it left
    world.load("PNRI", book("p1", title="Sejarah kota Medan"), book("p2", isbns=[ISBN]))
    assert world.cluster_of("PNRI", "p1") == cid
    assert world.cluster(cid).member_count == 1


def test_theses_stay_alone_through_imports(world):
    title = "Analisis kinerja keuangan pada PT Sinar Medan"
    world.load("UINSU", book("t1", title=title, thesis=True))
    world.load("UGM", book("t9", title=title, thesis=True))
    assert world.cluster_of("UINSU", "t1") != world.cluster_of("UGM", "t9")
    assert "thesis" in world.record("UGM", "t9").match_evidence


# --- coordinators' decisions through the API -------------------------------------------

def _three(world):
    world.load("PNRI", book("p1", isbns=[ISBN]))
    world.load("UGM", book("u1", isbns=[ISBN]))
    world.load("UQ", book("q1"))
    cid = world.cluster_of("PNRI", "p1")
    assert world.cluster(cid).member_count == 3
    return cid


def test_a_coordinator_splits_and_the_split_survives_reimports(world, make, client):
    cid = _three(world)
    coordinator = make.user("coordinator")
    token = make.token(coordinator)
    make.commit()
    moving = world.record("UGM", "u1").id
    resp = client.post(f"/api/v1/records/{cid}/split", json={"record_ids": [moving]},
                       headers=bearer(token))
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert {c["id"] for c in body["clusters"]} >= {cid}
    new = world.cluster_of("UGM", "u1")
    assert new != cid and world.cluster_of("PNRI", "p1") == world.cluster_of("UQ", "q1") == cid
    assert world.session.scalar(select(ClusterDecision).where(
        ClusterDecision.kind == "apart")) is not None
    # later imports, changed and unchanged, do not undo it
    world.load("UGM", book("u1", isbns=[ISBN], note="Dikoreksi."))
    world.load("PNRI", book("p1", isbns=[ISBN], note="Dikoreksi juga."))
    world.load("IAINBKT", book("b1", isbns=[ISBN]))
    assert world.cluster_of("UGM", "u1") == new
    assert world.cluster_of("PNRI", "p1") == world.cluster_of("UQ", "q1") == cid
    assert world.cluster_of("IAINBKT", "b1") in (cid, new)
    assert world.cluster_of("UGM", "u1") != world.cluster_of("PNRI", "p1")


def test_a_coordinator_merges_and_the_merge_survives_reimports(world, make, client):
    world.load("PNRI", book("p1", isbns=[ISBN]))
    world.load("UGM", book("u1", isbns=[ISBN_OTHER], title="Pengantar perpustakaan"))
    old, young = world.cluster_of("PNRI", "p1"), world.cluster_of("UGM", "u1")
    assert old != young
    token = make.token(make.user("coordinator"))
    make.commit()
    resp = client.post(f"/api/v1/records/{young}/merge", json={"other": old}, headers=bearer(token))
    assert resp.status_code == 200, resp.get_json()
    assert world.cluster_of("UGM", "u1") == world.cluster_of("PNRI", "p1") == old
    assert world.cluster(young).merged_into_id == old
    world.load("UGM", book("u1", isbns=[ISBN_OTHER], title="Pengantar perpustakaan", note="x"))
    world.load("PNRI", book("p1", isbns=[ISBN], note="y"))
    assert world.cluster_of("UGM", "u1") == world.cluster_of("PNRI", "p1") == old
    # acting on the merged-away record says where it went
    resp = client.post(f"/api/v1/records/{young}/merge", json={"other": old}, headers=bearer(token))
    assert resp.status_code == 409
    # and a later split undoes the merge, for good as well
    moving = world.record("UGM", "u1").id
    resp = client.post(f"/api/v1/records/{old}/split", json={"record_ids": [moving]},
                       headers=bearer(token))
    assert resp.status_code == 200
    world.load("UGM", book("u1", isbns=[ISBN_OTHER], title="Pengantar perpustakaan", note="z"))
    assert world.cluster_of("UGM", "u1") != world.cluster_of("PNRI", "p1")


@pytest.mark.parametrize("role", ["librarian", "patron"])
def test_only_coordinators_split_or_merge(world, make, client, role):
    cid = _three(world)
    token = make.token(make.user(role))
    make.commit()
    moving = world.record("UGM", "u1").id
    resp = client.post(f"/api/v1/records/{cid}/split", json={"record_ids": [moving]},
                       headers=bearer(token))
    assert resp.status_code == 403
    assert resp.get_json()["error"]["code"] == "forbidden"
    resp = client.post(f"/api/v1/records/{cid}/merge", json={"other": cid}, headers=bearer(token))
    assert resp.status_code == 403
    assert world.cluster_of("UGM", "u1") == cid
    assert world.session.scalar(select(ClusterDecision)) is None


def test_not_signed_in_gets_nothing_done(world, client):
    cid = _three(world)
    assert client.get(f"/api/v1/records/{cid}/clustering").status_code == 401
    moving = world.record("UGM", "u1").id
    # the shell asks a cookie-less caller for its CSRF token before it asks who it is
    resp = client.post(f"/api/v1/records/{cid}/split", json={"record_ids": [moving]})
    assert resp.status_code in (400, 401)
    assert world.cluster_of("UGM", "u1") == cid


def test_bad_split_and_merge_requests_change_nothing(world, make, client):
    cid = _three(world)
    world.load("UINSU", book("s1", title="Kimia dasar", author="Lubis, Dewi"))
    other = world.cluster_of("UINSU", "s1")
    token = make.token(make.user("coordinator"))
    make.commit()
    h = bearer(token)
    stranger = world.record("UINSU", "s1").id
    members = [world.record(c, k).id for c, k in (("PNRI", "p1"), ("UGM", "u1"), ("UQ", "q1"))]
    cases = [
        (f"/api/v1/records/{cid}/split", {"record_ids": [stranger]}, 400),
        (f"/api/v1/records/{cid}/split", {"record_ids": []}, 400),
        (f"/api/v1/records/{cid}/split", {"record_ids": ["x"]}, 400),
        (f"/api/v1/records/{cid}/split", {"record_ids": members}, 409),
        (f"/api/v1/records/{cid}/merge", {"other": cid}, 400),
        (f"/api/v1/records/{cid}/merge", {"other": "abc"}, 400),
        (f"/api/v1/records/{cid}/merge", {}, 400),
        (f"/api/v1/records/{cid}/merge", {"other": 999999}, 404),
        ("/api/v1/records/999999/split", {"record_ids": [members[0]]}, 404),
    ]
    for url, payload, status in cases:
        resp = client.post(url, json=payload, headers=h)
        assert resp.status_code == status, (url, payload, resp.get_json())
        assert "message" in resp.get_json()["error"]
    resp = client.post(f"/api/v1/records/{cid}/split", data="not json", headers=h,
                       content_type="application/json")
    assert resp.status_code == 400
    assert world.cluster(cid).member_count == 3 and world.cluster_of("UINSU", "s1") == other
    assert world.session.scalar(select(ClusterDecision)) is None


def test_clustering_api_lists_members_and_evidence(world, make, client):
    cid = _three(world)
    token = make.token(make.user("librarian"))
    make.commit()
    resp = client.get(f"/api/v1/records/{cid}/clustering", headers=bearer(token))
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["member_count"] == 3 and len(body["members"]) == 3
    ugm = next(m for m in body["members"] if m["partner"] == "UGM")
    assert ugm["evidence"] == f"Same ISBN {ISBN} as PNRI p1."


# --- the pages ---------------------------------------------------------------------------

def test_coordinator_splits_and_merges_through_the_forms(world, make, client):
    cid = _three(world)
    user = make.user("coordinator", email="koord@example.org")
    make.commit()
    login(client, "koord@example.org")
    page = client.get(f"/catalog/records/{cid}/clustering")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f"Same ISBN {ISBN} as PNRI p1" in html or "ISBN" in html
    assert 'name="record_ids"' in html and 'name="other"' in html
    moving = world.record("UQ", "q1").id
    resp = client.post(f"/catalog/records/{cid}/split", data={"record_ids": [str(moving)]},
                       follow_redirects=True)
    assert resp.status_code == 200
    new = world.cluster_of("UQ", "q1")
    assert new != cid
    assert f"union record {new}." in resp.get_data(as_text=True).replace("\n", " ") or \
        f"cantuman induk {new}." in resp.get_data(as_text=True)
    resp = client.post(f"/catalog/records/{new}/merge", data={"other": str(cid)})
    assert resp.status_code == 302
    assert world.cluster_of("UQ", "q1") == cid
    assert user.id is not None


def test_librarians_see_the_evidence_but_not_the_forms(world, make, client):
    cid = _three(world)
    make.user("librarian", email="pustakawan@example.org")
    make.commit()
    login(client, "pustakawan@example.org")
    page = client.get(f"/catalog/records/{cid}/clustering")
    assert page.status_code == 200
    assert 'name="record_ids"' not in page.get_data(as_text=True)
    moving = world.record("UQ", "q1").id
    resp = client.post(f"/catalog/records/{cid}/split", data={"record_ids": [str(moving)]})
    assert resp.status_code == 403
    assert world.cluster_of("UQ", "q1") == cid


def test_evidence_reads_in_the_readers_language(app):
    from flask_babel import force_locale

    from union_catalog.cluster_views import evidence_text

    with app.test_request_context():
        with force_locale("id"):
            text = evidence_text("Same title, author, year 2019, publisher as UGM 0001.")
            assert text == "judul, pengarang, tahun 2019, penerbit sama dengan UGM 0001."
            assert evidence_text(f"Same ISBN {ISBN} as PNRI p1.") == \
                f"ISBN {ISBN} sama dengan PNRI p1."
            assert evidence_text(None) == ""
            assert evidence_text("something we do not know") == "something we do not know"
        with force_locale("en"):
            text = evidence_text("Same title, author (title one letter apart) as UQ #4.")
            assert text == "Same title, author as UQ #4 (the titles differ by one letter)."


def test_recluster_takes_the_facts_the_importer_still_holds(world):
    from union_catalog import clustering
    from union_catalog.matching import describe

    world.load("PNRI", book("p1"))
    world.load("UGM", book("u1"))
    u1 = world.record("UGM", "u1")
    assert u1.cluster_id == world.cluster_of("PNRI", "p1")
    # the facts handed over win over what is stored (here: they say another edition)
    info = clustering.recluster(world.session, u1.partner_id, {u1.id}, set(),
                                facts={u1.id: describe(book("u1", edition="Ed. 3"))})
    world.session.commit()
    assert world.cluster_of("UGM", "u1") != world.cluster_of("PNRI", "p1")
    assert info["clusters"]


def test_recluster_command_rebuilds_keys_and_facts_keeping_ids(world, runner):
    world.load("PNRI", book("p1", isbns=[ISBN]), book("p2", title="Kimia dasar"))
    world.load("UGM", book("u1", isbns=[ISBN]))
    cid = world.cluster_of("PNRI", "p1")
    # facts lost (an older describe()): --refresh reads them from the stored MARC again
    u1 = world.record("UGM", "u1")
    u1.match_data = {}
    world.session.commit()
    result = runner.invoke(args=["catalog", "recluster", "--refresh"])
    assert result.exit_code == 0, result.output
    assert "1 record(s) described anew" in result.output
    assert "Search index brought up to date for 2 union record(s) (2 searchable)." in result.output
    assert world.record("UGM", "u1").match_data["isbns"] == [ISBN]
    assert world.cluster_of("UGM", "u1") == world.cluster_of("PNRI", "p1") == cid
    assert world.cluster_of("PNRI", "p2") != cid


def test_a_union_record_is_described_by_the_commonest_form_of_each_field():
    from union_catalog.clustering import describe_cluster

    a = {"title": "Hukum Islam", "author": "Daud Ali", "year": 2010, "edition": "Cet. 2",
         "language": "ind", "isbns": ["9789790000001"]}
    b = {"title": "Hukum Islam : pengantar", "author": "", "year": 2011, "edition": "Cet. 2",
         "language": "ind", "isbns": ["9789790000002"]}
    # agreement, or one member silent: that form
    d = describe_cluster([a, dict(a, author=None)])
    assert (d["title"], d["author"], d["edition"], d["member_count"]) == \
        ("Hukum Islam", "Daud Ali", "Cet. 2", 2)
    # a tie: the longer title, the shorter edition statement, the earlier year
    d = describe_cluster([a, b])
    assert (d["title"], d["author"], d["year"]) == ("Hukum Islam : pengantar", "Daud Ali", 2010)
    assert d["isbns"] == ["9789790000001", "9789790000002"]
    assert describe_cluster([dict(a, edition="Cet. 2 rev."), a | {"edition": "Cet. 3"}])["edition"] \
        == "Cet. 3"
    # a union record's own description votes with the weight of its members
    d = describe_cluster([(3, a), (1, b)])
    assert (d["title"], d["year"], d["member_count"]) == ("Hukum Islam", 2010, 4)
