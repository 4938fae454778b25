"""Items out of 952, 852, 949, 866 and SLiMS's item export."""
from __future__ import annotations

import io

import pytest
from pymarc import Field, Subfield

from union_catalog import holdings
from union_catalog.errors import CatalogError

from .marcdata import record


def f952(*pairs):
    return Field(tag="952", indicators=[" ", " "], subfields=[Subfield(c, v) for c, v in pairs])


@pytest.mark.parametrize("extra, status", [
    ([], "available"),
    ([("q", "2026-03-01")], "on_loan"),
    ([("7", "1")], "not_for_loan"),
    ([("7", "0")], "available"),
    ([("1", "1")], "lost"),
    ([("4", "1")], "damaged"),
    ([("1", "1"), ("q", "2026-03-01")], "lost"),
    ([("0", "1")], "not_for_loan"),
])
def test_koha_952(extra, status):
    item = holdings.item_from_952(f952(("a", "UGM"), ("b", "UGM"), ("o", "297 NAS f"),
                                       ("p", "UGM0001"), *extra))
    assert (item.barcode, item.call_number, item.status, item.source) == (
        "UGM0001", "297 NAS f", status, "952")


@pytest.mark.parametrize("text, status", [
    ("on loan", "on_loan"), ("Dipinjam", "on_loan"), ("reference only", "not_for_loan"),
    ("Tidak dipinjamkan", "not_for_loan"), ("hilang", "lost"), ("Rusak", "damaged"),
    ("available", "available"), ("", "unknown"), ("something odd", "unknown"),
    # whole words, and what a negation does to them
    ("Dapat dipinjamkan", "available"), ("Bisa dipinjam", "available"),
    ("Tidak dapat dipinjam", "not_for_loan"), ("Tidak tersedia", "unknown"),
    ("Not available", "unknown"), ("Unavailable", "unknown"), ("Tidak ada", "unknown"),
    ("tidak dipinjam", "available"), ("Not on loan", "available"), ("Sedang dipinjam", "on_loan"),
    ("Not for loan", "not_for_loan"), ("In repair", "damaged"), ("Koleksi referensi", "not_for_loan"),
])
def test_status_words(text, status):
    assert holdings.status_from_text(text) == status


def test_a_note_that_says_a_copy_is_off_the_shelf_is_not_read_as_available():
    """852 $z: no note, or one that says nothing of the copy's state, means
    available; "Tidak tersedia" does not."""
    for note, status in (("Tidak tersedia", "unknown"), ("Not available", "unknown"),
                         ("Hadiah dari alumni", "available"), ("Dapat dipinjamkan", "available")):
        assert holdings.status_from_text(note, "available") == status


def test_detection_and_override():
    rec = record("1", "Fikih Muamalah", items=[[("a", "X"), ("p", "B1")]], tag="852")
    assert holdings.items_of(rec, "auto")[0] == "852"
    assert holdings.items_of(rec, "none") == (None, [])
    tag, items = holdings.items_of(rec, "949")  # the partner says 949: 852 is something else
    assert tag == "949" and items == []
    rec.add_field(f952(("p", "K1")))
    assert holdings.items_of(rec, "auto")[0] == "952"


def test_slims_csv_with_semicolons_and_bom():
    data = ("\ufeffitem_code;call_number;location_name;item_status_name;title\n"
            "B1;297 NAS;Pusat;Missing;Tafsir al-Misbah\n"
            "B2;297 NAS;Pusat;Repair;Tafsir al-Misbah\n\n").encode()
    rows = list(holdings.read_item_csv(io.BytesIO(data)))
    assert [(r.line, r.item.barcode, r.item.status, r.title) for r in rows] == [
        (2, "B1", "lost", "Tafsir al-Misbah"), (3, "B2", "damaged", "Tafsir al-Misbah")]


def test_csv_without_title_column_is_refused():
    with pytest.raises(CatalogError) as exc:
        list(holdings.read_item_csv(io.BytesIO(b"item_code,call_number\nB1,297\n")))
    assert "title" in exc.value.message


def test_an_item_file_says_where_each_row_starts_and_reads_windows_1252():
    """Lines, not rows: a quoted title over two lines puts the next row on
    line 4. A line that is not UTF-8 is Windows-1252, said once."""
    import io

    data = (b"item_code,title,item_status_name\n"
            b'B1,"Hukum\nIslam",\n'
            b"B2,Metodologi,No Loan\n") + "B3,Fiqh Mu\u2019amalah Caf\u00e9,\n".encode("cp1252")
    notes: list = []
    rows = list(holdings.read_item_csv(io.BytesIO(data), notes=notes))
    assert [(r.line, r.item.barcode) for r in rows] == [(2, "B1"), (4, "B2"), (5, "B3")]
    assert rows[0].title == "Hukum\nIslam" and rows[2].title == "Fiqh Mu\u2019amalah Caf\u00e9"
    assert [n["line"] for n in notes] == [5] and "Windows-1252" in notes[0]["defect"]
    # a byte order mark is no part of the first column's name
    rows = list(holdings.read_item_csv(io.BytesIO(b"\xef\xbb\xbf" + data[:data.index(b"B2")])))
    assert [r.item.barcode for r in rows] == ["B1"]
