"""The import service: replacing a partner's records as one unit."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from union_catalog import importer
from union_catalog.errors import CatalogError
from union_catalog.models import Item, SourceRecord

from .marcdata import books, iso, record, xml


def run(session, partner, tmp_path, data: bytes, name="export.mrc", items: str | None = None):
    path = tmp_path / name
    path.write_bytes(data)
    items_path = None
    if items is not None:
        items_path = tmp_path / "items.csv"
        items_path.write_text(items, encoding="utf-8")
    report = importer.import_export(session, partner, str(path),
                                    items_path=str(items_path) if items_path else None)
    session.commit()
    return report


def live(session, partner):
    return session.scalars(select(SourceRecord).where(SourceRecord.partner_id == partner.id,
                                                      SourceRecord.withdrawn_at.is_(None))
                           .order_by(SourceRecord.ordinal)).all()


def test_missing_records_are_withdrawn_and_come_back(session, make, tmp_path):
    lib = make.partner("UGM", holdings_tag="952")
    recs = books(5)
    r1 = run(session, lib, tmp_path, iso(recs))
    assert (r1["read"], r1["imported"], r1["inserted"], r1["items"]) == (5, 5, 5, 5)
    r2 = run(session, lib, tmp_path, iso(recs[:3]))
    assert r2["withdrawn"] == 2 and r2["unchanged"] == 3
    assert [s.control_number for s in live(session, lib)] == ["b00001", "b00002", "b00003"]
    gone = session.scalars(select(SourceRecord).where(SourceRecord.withdrawn_at.is_not(None))).all()
    assert {g.control_number for g in gone} == {"b00004", "b00005"}
    # a withdrawn record's holdings are gone with it
    assert session.scalar(select(func.count(Item.id))) == 3
    r3 = run(session, lib, tmp_path, iso(recs))
    assert r3["updated"] == 2 and r3["withdrawn"] == 0 and r3["inserted"] == 0
    assert len(live(session, lib)) == 5


def test_unchanged_records_are_left_untouched(session, make, tmp_path):
    lib = make.partner("UGM")
    recs = books(4)
    run(session, lib, tmp_path, iso(recs))
    before = {s.control_number: (s.id, s.updated_at) for s in live(session, lib)}
    recs[1]["245"]["a"] = "Pengantar Ilmu Hukum"
    r = run(session, lib, tmp_path, iso(recs))
    assert (r["updated"], r["unchanged"], r["inserted"]) == (1, 3, 0)
    session.expire_all()
    after = {s.control_number: (s.id, s.updated_at) for s in live(session, lib)}
    assert after["b00001"] == before["b00001"]
    assert after["b00002"][0] == before["b00002"][0]
    assert live(session, lib)[1].title.startswith("Pengantar Ilmu Hukum")


def test_records_without_001_keep_their_key(session, make, tmp_path):
    lib = make.partner("UQ", system="slims")
    recs = [record(None, "Metodologi Penelitian", author="Sugiyono"),
            record(None, "Hukum Islam", author="Lubis, Rina")]
    run(session, lib, tmp_path, iso(recs))
    keys = {s.title: s.record_key for s in live(session, lib)}
    # re-exported a month later: 005 moved, the order changed
    again = [record(None, "Hukum Islam", author="Lubis, Rina", stamp="20250201120000.0"),
             record(None, "Metodologi Penelitian", author="Sugiyono", stamp="20250201120000.0")]
    r = run(session, lib, tmp_path, iso(again))
    assert r["withdrawn"] == 0 and r["inserted"] == 0
    assert {s.title: s.record_key for s in live(session, lib)} == keys
    assert {s.title: s.ordinal for s in live(session, lib)} == {
        "Hukum Islam": 1, "Metodologi Penelitian": 2}


def test_duplicate_001_keeps_both_and_says_so(session, make, tmp_path):
    lib = make.partner("PNRI")
    recs = [record("123", "Sejarah Indonesia"), record("123", "Sejarah Melayu")]
    r = run(session, lib, tmp_path, iso(recs))
    assert r["imported"] == 2
    assert r["problems"][0]["ordinal"] == 2 and "record 1" in r["problems"][0]["defect"]
    assert len(live(session, lib)) == 2


def test_unusable_file_changes_nothing(session, make, tmp_path):
    lib = make.partner("UGM")
    run(session, lib, tmp_path, iso(books(3)))
    with pytest.raises(CatalogError):
        run(session, lib, tmp_path, b"\x1d\x1d\x1d", name="bad.mrc")
    session.rollback()
    with pytest.raises(CatalogError):
        run(session, lib, tmp_path, b"this is no MARC at all", name="bad.mrc")
    session.rollback()
    assert len(live(session, lib)) == 3


def test_broken_xml_withdraws_nothing(session, make, tmp_path):
    lib = make.partner("KEMENAG")
    recs = books(4)
    run(session, lib, tmp_path, xml(recs), name="a.xml")
    cut = xml(recs[:2]).replace(b"</collection>", b"<record><leader>broken")
    r = run(session, lib, tmp_path, cut, name="b.xml")
    assert r["complete"] is False and r["withdrawn"] == 0
    assert r["problems"][-1]["severity"] == "error" and "cut short" in r["problems"][-1]["defect"]
    assert len(live(session, lib)) == 4


def test_an_iso2709_export_cut_short_withdraws_nothing(session, make, tmp_path):
    """The upload broke off in record 4: the records before it are read, none
    after it is taken for withdrawn."""
    lib = make.partner("UGM")
    whole = iso(books(6))
    run(session, lib, tmp_path, whole)
    cut = whole[:whole.index(b"b00004") + 40]
    r = run(session, lib, tmp_path, cut)
    assert r["complete"] is False and r["withdrawn"] == 0 and r["imported"] == 3
    assert r["problems"][-1]["ordinal"] == 4 and r["problems"][-1]["severity"] == "error"
    assert "cut short" in r["problems"][-1]["defect"]
    assert len(live(session, lib)) == 6


def test_marcxml_after_a_blank_line_is_read(session, make, tmp_path):
    lib = make.partner("KEMENAG")
    r = run(session, lib, tmp_path, b"\r\n\n" + xml(books(2)), name="a.xml")
    assert (r["imported"], r["complete"]) == (2, True)


def test_xml_broken_before_its_first_record_says_where(session, make, tmp_path):
    lib = make.partner("KEMENAG")
    broken = xml(books(2)).replace(b"<collection", b"<collection a='1' a='2'", 1)
    with pytest.raises(CatalogError) as exc:
        run(session, lib, tmp_path, broken, name="a.xml")
    assert "XML is broken at line 1" in str(exc.value) and "holds no MARC21" not in str(exc.value)
    assert live(session, lib) == []


def test_a_broken_marcxml_record_costs_only_itself(session, make, tmp_path):
    """A bare '&' in record 2: records 1, 3, 4 and 5 are read, the second is
    reported by its ordinal, and the file counts as read to its end."""
    lib = make.partner("KEMENAG")
    whole = xml(books(5))
    r = run(session, lib, tmp_path, whole, name="a.xml")
    assert r["imported"] == 5
    second = whole.index(b"b00002")
    broken = whole[:second] + b"b&00002" + whole[second + 6:]
    r = run(session, lib, tmp_path, broken, name="b.xml")
    assert (r["read"], r["imported"], r["complete"]) == (5, 4, True)
    (problem,) = [p for p in r["problems"] if p["severity"] == "error"]
    assert problem["ordinal"] == 2 and "XML is broken at line" in problem["defect"]
    assert "b00002" not in {x.control_number for x in live(session, lib)}
    assert {x.control_number for x in live(session, lib)} == {"b00001", "b00003", "b00004", "b00005"}


def test_broken_marc_records_inside_an_oai_pmh_answer_cost_only_themselves(session, make, tmp_path):
    """OAI-PMH wraps each MARC record in a record of its own: the MARC one
    is found inside it, and two breaks cost two records."""
    import re

    lib = make.partner("KEMENAG")
    marc = re.findall(rb"<record>.*?</record>", xml(books(6)), re.S)
    body = b"".join(
        b"<record><header><identifier>oai:x:" + str(n).encode() + b"</identifier></header><metadata>"
        + m.replace(b"<record>", b'<marc:record xmlns:marc="http://www.loc.gov/MARC21/slim">')
        .replace(b"</record>", b"</marc:record>").replace(b"<leader", b"<marc:leader")
        .replace(b"</leader", b"</marc:leader").replace(b"<controlfield", b"<marc:controlfield")
        .replace(b"</controlfield", b"</marc:controlfield").replace(b"<datafield", b"<marc:datafield")
        .replace(b"</datafield", b"</marc:datafield").replace(b"<subfield", b"<marc:subfield")
        .replace(b"</subfield", b"</marc:subfield")
        + b"</metadata></record>" for n, m in enumerate(marc, start=1))
    doc = (b'<?xml version="1.0" encoding="UTF-8"?><OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
           b"<ListRecords>" + body + b"</ListRecords></OAI-PMH>")
    r = run(session, lib, tmp_path, doc, name="oai.xml")
    assert r["imported"] == 6
    for cn in (b"b00002", b"b00005"):
        at = doc.index(cn)
        doc = doc[:at] + b"<" + doc[at:]
    r = run(session, lib, tmp_path, doc, name="oai2.xml")
    assert (r["imported"], r["complete"]) == (4, True)
    assert sorted(p["ordinal"] for p in r["problems"] if p["severity"] == "error") == [2, 5]
    assert {x.control_number for x in live(session, lib)} == {"b00001", "b00003", "b00004", "b00006"}


def test_partner_setting_overrides_detection(session, make, tmp_path):
    lib = make.partner("UINSUKA", holdings_tag="none")
    r = run(session, lib, tmp_path, iso(books(2)))
    assert r["items"] == 0
    statuses = session.scalars(select(Item.status)).all()
    assert statuses == ["unknown", "unknown"]  # one copy each, availability unknown


def test_852_and_949_and_serial_coverage(session, make, tmp_path):
    lib = make.partner("PNRI")
    recs = [record("1", "Jurnal Iqra'", items=[[("a", "PNRI"), ("b", "Referensi"), ("h", "050 JUR"),
                                               ("p", "P1"), ("z", "reference only")],
                                              [("a", "PNRI"), ("h", "050 JUR"), ("p", "P2")]],
                   tag="852"),
            record("2", "Tasawuf", items=[[("a", "297.4 TAS"), ("i", "Q1"), ("l", "MAIN"),
                                           ("s", "on loan")]], tag="949")]
    from pymarc import Field, Subfield

    recs[0].add_field(Field(tag="866", indicators=["4", "1"], subfields=[
        Subfield("8", "0"), Subfield("a", "Vol. 1 (2010)-vol. 9 (2018)")]))
    # each library's file keeps its items in one tag (see the file's tag test below)
    run(session, lib, tmp_path, iso(recs[:1]))
    run(session, make.partner("UGM"), tmp_path, iso(recs[1:]), name="ugm.mrc")
    items = {(i.barcode, i.status, i.call_number, i.coverage, i.source)
             for i in session.scalars(select(Item))}
    assert items == {("P1", "not_for_loan", "050 JUR", "", "852"),
                     ("P2", "available", "050 JUR", "", "852"),
                     (None, "unknown", "050 JUR", "Vol. 1 (2010)-vol. 9 (2018)", "866"),
                     ("Q1", "on_loan", "297.4 TAS", "", "949")}


SLIMS_CSV = """item_code,call_number,coll_type_name,location_name,item_status_name,title
B1,340 LUB h,Textbook,Perpustakaan Pusat,,Hukum Islam
B2,340 LUB h,Textbook,Perpustakaan Pusat,No Loan,Hukum Islam
B3,001 SUG m,Textbook,Perpustakaan Pusat,,Metodologi Penelitian
B4,999 XXX,Textbook,Perpustakaan Pusat,,Buku Yang Tidak Ada
"""


def test_slims_items_attach_by_title_and_never_guess(session, make, tmp_path):
    lib = make.partner("UDA", system="slims")
    recs = [record(None, "Hukum Islam", author="Lubis, Rina"),
            record(None, "Metodologi penelitian.", author="Sugiyono", year="2010"),
            record(None, "Metodologi Penelitian", author="Sugiyono", year="2015")]
    r = run(session, lib, tmp_path, iso(recs), items=SLIMS_CSV)
    rows = {i.barcode: (i.record.ordinal, i.status) for i in session.scalars(
        select(Item).where(Item.source == "csv"))}
    assert rows == {"B1": (1, "available"), "B2": (1, "not_for_loan")}
    why = {p["barcode"]: p["defect"] for p in r["item_problems"]}
    assert "2 records have this title" in why["B3"] and "records 2, 3" in why["B3"]
    assert "no record" in why["B4"]
    # the records without an item still hold one copy of unknown availability
    assert session.scalar(select(func.count(Item.id)).where(Item.source == "none")) == 2
    again = run(session, lib, tmp_path, iso(recs), items=SLIMS_CSV)
    assert again["unchanged"] == 3 and again["items"] == r["items"] == 2


def test_an_item_whose_title_fits_many_records_names_ten_and_counts_the_rest(session, make, tmp_path):
    lib = make.partner("UDA", system="slims")
    recs = [record(None, "Hukum Islam", author=f"Penulis {i}") for i in range(1, 13)]
    r = run(session, lib, tmp_path, iso(recs), items=SLIMS_CSV)
    why = {p["barcode"]: p for p in r["item_problems"]}["B1"]
    assert why["defect"] == ("12 records have this title (records 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 "
                             "and 2 more); not attached to any")
    assert why["details"][0]["args"] == {"count": 12, "ordinals": "1, 2, 3, 4, 5, 6, 7, 8, 9, 10", "more": 2}


def test_item_file_without_the_columns_is_refused(session, make, tmp_path):
    lib = make.partner("UDA")
    with pytest.raises(CatalogError) as exc:
        run(session, lib, tmp_path, iso(books(1)), items="a,b\n1,2\n")
    assert "item_code" in exc.value.message


def test_a_files_holdings_tag_is_the_files_not_each_records(session, make, tmp_path):
    """A Koha file (952) with one copy-catalogued record that still carries
    the Library of Congress's 852: that 852 is no copy of this library's."""
    from pymarc import Field, Subfield

    lib = make.partner("UINRF")
    recs = books(5)  # items in 952
    lc = record("lc-1", "Islamic law and society")
    lc.add_field(Field(tag="852", indicators=["0", " "], subfields=[
        Subfield("a", "DLC"), Subfield("h", "KBP144"), Subfield("p", "LC0001")]))
    r = run(session, lib, tmp_path, iso(recs[:2] + [lc] + recs[2:]))
    assert r["imported"] == 6
    barcodes = set(session.scalars(select(Item.barcode)))
    assert "LC0001" not in barcodes and len(barcodes - {None}) == 5
    lone = session.scalar(select(SourceRecord).where(SourceRecord.control_number == "lc-1"))
    assert [i.status for i in lone.items] == ["unknown"]  # held, one copy, availability unknown


def test_a_barcode_on_more_than_one_item_is_reported(session, make, tmp_path):
    """A barcode names one copy in its library: the same one on two items
    (on two records, or twice on one) is imported as it is, and the report
    names it with the records that carry it, so the library can mend it."""
    lib = make.partner("UGM", holdings_tag="952")

    def copy(barcode):
        return [("a", "UGM"), ("o", "297 NAS p"), ("p", barcode)]

    recs = [record("a1", "Fiqih Muamalah", items=[copy("BC1"), copy("BC2")]),
            record("a2", "Hukum Waris", items=[copy("BC2")]),
            record("a3", "Ushul Fiqh", items=[copy("BC3"), copy("BC3")]),
            record("a4", "Tarikh Islam", items=[copy("BC4")])]
    r = run(session, lib, tmp_path, iso(recs))
    assert r["duplicate_barcodes_total"] == 2
    assert r["duplicate_barcodes"] == [
        {"barcode": "BC2", "records": [{"ordinal": 1, "control_number": "a1"},
                                       {"ordinal": 2, "control_number": "a2"}]},
        {"barcode": "BC3", "records": [{"ordinal": 3, "control_number": "a3"},
                                       {"ordinal": 3, "control_number": "a3"}]}]
    assert r["items"] == 6 and r["errors"] == 0 and r["warnings"] == 0  # imported all the same
    # mended in the next export: nothing to say; another library's BC1 is its own business
    other = make.partner("UIN", holdings_tag="952")
    run(session, other, tmp_path, iso([record("u1", "Fiqih Muamalah", items=[copy("BC1")])]))
    recs[1] = record("a2", "Hukum Waris", items=[copy("BC5")])
    recs[2] = record("a3", "Ushul Fiqh", items=[copy("BC3"), copy("BC6")])
    again = run(session, lib, tmp_path, iso(recs))
    assert again["duplicate_barcodes"] == [] and again["duplicate_barcodes_total"] == 0
