"""A union record's records downloaded as MARC, for copy cataloguing (both
engines): as their libraries sent them, less those libraries' copies."""
from __future__ import annotations

import io

import pymarc
from pymarc import Field, Subfield

from tests.factories import bearer

from .test_matching import ISBN
from .world import book

TITLE = "Tafsīr al-Miṣbāḥ"


def held(record, *barcodes):
    """The record with Koha items (952) and a 852 location."""
    for barcode in barcodes:
        record.add_field(Field(tag="952", indicators=[" ", " "], subfields=[
            Subfield("a", "PUSAT"), Subfield("o", "297.122 SHI t"), Subfield("p", barcode)]))
    record.add_field(Field(tag="852", indicators=[" ", " "], subfields=[Subfield("a", "Perpustakaan")]))
    record.add_field(Field(tag="650", indicators=[" ", "4"], subfields=[Subfield("a", "Tafsir")]))
    return record


def _world(world):
    world.load("PNRI", held(book("p1", isbns=[ISBN], title=TITLE, author="Shihab, M. Quraish"), "B1", "B2"),
               book("p2", title="Sejarah kota Medan", author="Sinar"))
    world.load("UGM", held(book("u1", isbns=[ISBN], title=TITLE, author="Shihab, M. Quraish"), "U1"))
    cid = world.cluster_of("PNRI", "p1")
    assert cid == world.cluster_of("UGM", "u1")
    return cid


def _controls(records):
    return sorted(r["001"].data for r in records)


def test_a_union_records_records_download_for_copy_cataloguing(world, client):
    cid = _world(world)
    resp = client.get(f"/api/v1/records/{cid}/marc?format=iso2709")
    assert resp.status_code == 200 and resp.mimetype == "application/marc"
    assert resp.headers["Content-Disposition"] == f'attachment; filename="union-record-{cid}.mrc"'
    records = list(pymarc.MARCReader(io.BytesIO(resp.data), to_unicode=True))
    assert _controls(records) == ["p1", "u1"]
    for r in records:
        assert r.leader[9] == "a" and r.title.startswith(TITLE)
        assert r.get_fields("952", "852") == []  # the libraries' copies stay home
        assert r["650"]["a"] == "Tafsir" and r["020"]["a"] == ISBN  # the description comes whole

    resp = client.get(f"/api/v1/records/{cid}/marc")  # MARCXML unless asked otherwise
    assert resp.mimetype == "application/marcxml+xml"
    assert resp.headers["Content-Disposition"].endswith(f'filename="union-record-{cid}.xml"')
    records = pymarc.parse_xml_to_array(io.BytesIO(resp.data))
    assert _controls(records) == ["p1", "u1"] and all(not r.get_fields("952") for r in records)

    member = world.record("UGM", "u1").id
    resp = client.get(f"/api/v1/records/{cid}/marc?member={member}&format=JSON")
    assert resp.mimetype == "application/json"
    assert resp.headers["Content-Disposition"].endswith(f'filename="union-record-{cid}-UGM-u1.json"')
    body = resp.get_json()
    tags = [tag for f in body["fields"] for tag in f]
    assert "001" in tags and "245" in tags and "952" not in tags and body["leader"][9] == "a"


def test_a_download_names_what_is_wrong(world, client):
    cid = _world(world)
    other = world.record("PNRI", "p2").id
    for qs, status, field in (("format=pdf", 400, "format"), ("member=abc", 400, "member"),
                              ("member=0", 400, "member"), (f"member={other}", 404, None)):
        resp = client.get(f"/api/v1/records/{cid}/marc?{qs}")
        assert resp.status_code == status, qs
        assert resp.get_json()["error"].get("field") == field and resp.get_json()["error"]["message"]
    assert client.get("/api/v1/records/999999/marc").status_code == 404


def test_a_withdrawn_record_downloads_for_staff_only(world, client, make):
    cid = _world(world)
    world.load("PNRI", book("p2", title="Sejarah kota Medan", author="Sinar"))  # p1 left the export
    gone = world.record("PNRI", "p1")
    assert gone.withdrawn_at is not None
    assert client.get(f"/api/v1/records/{cid}/marc?member={gone.id}").status_code == 404
    visitor = pymarc.parse_xml_to_array(io.BytesIO(client.get(f"/api/v1/records/{cid}/marc").data))
    assert _controls(visitor) == ["u1"]
    staff = bearer(make.token(make.user("librarian", library="UGM")))
    make.commit()
    resp = client.get(f"/api/v1/records/{cid}/marc?member={gone.id}", headers=staff)
    assert resp.status_code == 200
    assert _controls(pymarc.parse_xml_to_array(io.BytesIO(resp.data))) == ["p1"]


def test_the_record_page_offers_the_downloads(world, client):
    cid = _world(world)
    member = world.record("UGM", "u1").id
    page = client.get(f"/catalog/records/{cid}", headers={"Accept-Language": "id"}).get_data(as_text=True)
    assert "untuk katalog Anda sendiri" in page and "Unduh cantuman ini:" in page
    assert f"/api/v1/records/{cid}/marc?format=iso2709" in page
    assert f"/api/v1/records/{cid}/marc?member={member}&amp;format=marcxml" in page


def test_the_marc_view_shows_barcodes_to_staff_only(world, client, make):
    """The record API gives items' barcodes to staff only; the page's MARC
    view of a record keeps to the same rule."""
    from tests.factories import login

    cid = _world(world)
    visitor = client.get(f"/catalog/records/{cid}").get_data(as_text=True)
    assert "$o 297.122 SHI t" in visitor and "$p B1" not in visitor and "$p U1" not in visitor
    librarian = make.user("librarian", library="UGM")
    make.commit()
    login(client, librarian.email)
    staff = client.get(f"/catalog/records/{cid}").get_data(as_text=True)
    assert "$p B1" in staff and "$p U1" in staff
    # staff are told where their own system can copy records from (SRU)
    assert 'id="sru-hint"' not in visitor
    assert 'id="sru-hint"' in staff and "/catalog/sru" in staff
