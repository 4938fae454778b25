"""A large export is read in a second process: the catalogue and the report
are the same as when it is read in the importer's own, and whatever the
reader finds wrong with a file reaches the importer as it would there."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from union_catalog import importer, reading
from union_catalog.errors import CatalogError
from union_catalog.models import Item, SourceRecord

from .marcdata import books, iso, record, xml


def _import(session, partner, path, in_process: bool):
    report = importer.import_export(session, partner, str(path), in_process=in_process)
    session.commit()
    return report


def _catalogue(session, partner):
    session.expire_all()
    rows = session.execute(
        select(SourceRecord.record_key, SourceRecord.ordinal, SourceRecord.content_hash,
               SourceRecord.title, SourceRecord.year, SourceRecord.isbns, SourceRecord.match_data,
               SourceRecord.withdrawn_at.is_(None))
        .where(SourceRecord.partner_id == partner.id).order_by(SourceRecord.record_key)).all()
    items = session.execute(
        select(SourceRecord.record_key, Item.barcode, Item.status, Item.source)
        .join(SourceRecord, SourceRecord.id == Item.source_record_id)
        .where(SourceRecord.partner_id == partner.id).order_by(SourceRecord.record_key, Item.barcode)).all()
    groups = {}
    for key, cid in session.execute(select(SourceRecord.record_key, SourceRecord.cluster_id)
                                    .where(SourceRecord.partner_id == partner.id)):
        groups.setdefault(cid, set()).add(key)
    return [tuple(r) for r in rows], [tuple(i) for i in items], sorted(sorted(g) for g in groups.values())


def _messy_export() -> bytes:
    recs = books(2500)  # several batches, the first ones smaller
    recs[10] = record("b00011", "Tafsir al-Misbah", isbn="978-979-3062-79-2")
    recs[11] = record("b00011", "Tafsir al-Misbah, jilid 2")  # a duplicate 001
    recs[20] = record(None, "Fikih Sunnah")  # no 001
    recs[21] = record(None, "Fikih Sunnah")  # the same again
    data = iso(recs)
    broken = iso([record("bad1", "Rusak")]).replace(b"\x1e", b"", 1)  # a directory that lies
    return data[:5000] + data[5000:].replace(b"\x1d", b"\x1d" + broken, 1)


@pytest.mark.parametrize("in_process", [True, False], ids=["in-process", "reader-process"])
def test_reading_in_a_second_process_gives_the_same_catalogue(session, make, tmp_path, in_process):
    lib = make.partner("UGM", holdings_tag="952")
    path = tmp_path / "export.mrc"
    path.write_bytes(_messy_export())
    report = _import(session, lib, path, in_process)
    assert report["read"] == 2501 and report["imported"] == 2500 and report["errors"] == 1
    got = _catalogue(session, lib)

    other = make.partner("UNIMAL", holdings_tag="952")
    expected_report = _import(session, other, path, not in_process)
    for key in ("read", "imported", "inserted", "items", "errors", "warnings", "problems",
                "encodings", "holdings_tags", "format"):
        assert report[key] == expected_report[key], key
    theirs = _catalogue(session, other)
    assert got[0] == theirs[0] and got[1] == theirs[1]
    assert got[2] == theirs[2]  # the same records in the same union records


def test_a_second_copy_of_an_unchanged_record_is_new_and_described(session, make, tmp_path):
    """The reader neither encodes nor describes a record the partner has
    unchanged (its key and content hash); a second copy of that content
    under a new key (the same content twice, no 001) is new all the same."""
    lib = make.partner("UQ", system="slims")
    first = tmp_path / "a.mrc"
    first.write_bytes(iso([record(None, "Fikih Sunnah", isbn="9789793062792")]))
    _import(session, lib, first, in_process=False)
    second = tmp_path / "b.mrc"
    second.write_bytes(iso([record(None, "Fikih Sunnah", isbn="9789793062792")] * 2))
    report = _import(session, lib, second, in_process=False)
    assert (report["inserted"], report["unchanged"]) == (1, 1)
    rows = session.scalars(select(SourceRecord).where(SourceRecord.partner_id == lib.id)).all()
    assert len(rows) == 2
    assert [(r.title, r.isbns, bool(r.match_data)) for r in rows] == [
        ("Fikih Sunnah", ["9789793062792"], True)] * 2
    assert len({r.cluster_id for r in rows}) == 1 and rows[0].cluster_id is not None


def test_what_the_reader_finds_wrong_reaches_the_importer(session, make, tmp_path):
    lib = make.partner("KEMENAG")
    good = tmp_path / "good.xml"
    good.write_bytes(xml(books(3)))
    _import(session, lib, good, in_process=False)

    hostile = tmp_path / "hostile.xml"
    hostile.write_bytes(b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>'
                        b'<collection xmlns="http://www.loc.gov/MARC21/slim"><record>&a;</record>'
                        b"</collection>")
    with pytest.raises(CatalogError, match="DTD"):
        importer.import_export(session, lib, str(hostile), in_process=False)
    session.rollback()

    nothing = tmp_path / "nothing.mrc"
    nothing.write_bytes(b"this is no MARC at all")
    with pytest.raises(CatalogError, match="not a MARC export"):
        importer.import_export(session, lib, str(nothing), in_process=False)
    session.rollback()

    cut = tmp_path / "cut.xml"
    cut.write_bytes(xml(books(2)).replace(b"</collection>", b"<record><leader>broken"))
    report = _import(session, lib, cut, in_process=False)
    assert report["complete"] is False and report["withdrawn"] == 0
    assert "cut short" in report["problems"][-1]["defect"]
    assert session.query(SourceRecord).filter_by(partner_id=lib.id, withdrawn_at=None).count() == 3


def test_known_digests_survive_the_trip_to_the_reader():
    import hashlib
    import pickle

    pairs = [(f"b{i:05d}", hashlib.sha256(str(i).encode()).hexdigest()) for i in range(500)]
    known = pickle.loads(pickle.dumps(reading.KnownDigests(pairs[:400])))
    assert len(known) == 400
    assert all(p in known for p in pairs[:400])
    assert not any(p in known for p in pairs[400:])
    # the same content under another key, or another content under the same key, is not known
    assert (pairs[0][0], pairs[1][1]) not in known and ("b00001#2", pairs[1][1]) not in known


def test_a_process_with_other_threads_starts_its_reader_from_the_fork_server(session, make, tmp_path):
    """A web server runs an import job beside the threads serving requests:
    forking it could copy a lock another thread holds, so the reader comes
    from the fork server instead, with the same result."""
    import threading

    lib = make.partner("UGM", holdings_tag="952")
    path = tmp_path / "export.mrc"
    path.write_bytes(iso(books(1500)))
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)  # a request being served
    other.start()
    try:
        assert reading._context().get_start_method() == "forkserver"
        report = _import(session, lib, path, in_process=False)
    finally:
        stop.set()
        other.join()
    assert (report["read"], report["imported"], report["items"]) == (1500, 1500, 1500)
    assert session.query(SourceRecord).filter_by(partner_id=lib.id).count() == 1500
