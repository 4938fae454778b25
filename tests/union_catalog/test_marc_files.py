"""The reader on real MARC files that nobody here wrote (../shared/data/marc)."""
from __future__ import annotations

import io

import pymarc
import pytest

from union_catalog import marc
from union_catalog.errors import CatalogError


def read(path):
    with open(path, "rb") as fh:
        fmt, records = marc.open_records(fh)
        return fmt, list(records)


def test_bad_records_cost_only_themselves(marc_dir):
    fmt, recs = read(marc_dir / "pymarc-bad_records.mrc")
    assert fmt == "iso2709"
    assert [r.ordinal for r in recs] == list(range(1, len(recs) + 1))
    # pymarc's own reader gives up on most of this file; every readable record is kept
    good = [r for r in recs if r.usable]
    assert len(good) >= 5
    assert all(r.record["245"] is not None for r in good if r.record.get("245"))
    # and every broken one says why, by its ordinal
    broken = [r for r in recs if r.problems]
    assert broken
    for r in recs:
        if not r.usable:
            assert any(p.severity == marc.ERROR for p in r.problems)


def test_utf8_invalid_is_repaired_and_reported(marc_dir):
    _fmt, recs = read(marc_dir / "pymarc-utf8_invalid.mrc")
    assert len(recs) == 1 and recs[0].usable
    assert recs[0].control_number
    assert any("260" in p.defect for p in recs[0].problems)


def test_bad_marc8_escape_still_reads(marc_dir):
    _fmt, recs = read(marc_dir / "pymarc-bad_marc8_escape.dat")
    assert len(recs) == 1 and recs[0].usable
    assert recs[0].encoding == "marc8"
    assert recs[0].record["245"]["a"]
    # the escape it could not read is said, and no control character is kept
    assert any("escape sequence" in p.defect and "260" in p.defect for p in recs[0].problems)
    assert "\x1b" not in str(recs[0].record)


def test_marc8_decoded_as_pymarc_decodes_it(marc_dir):
    _fmt, recs = read(marc_dir / "pymarc-marc8.dat")
    with open(marc_dir / "pymarc-marc8.dat", "rb") as fh:
        theirs = next(iter(pymarc.MARCReader(fh, to_unicode=True)))
    ours = recs[0].record
    assert recs[0].encoding == "marc8"
    assert ours["245"].value() == theirs["245"].value()
    assert [f.tag for f in ours.fields] == [f.tag for f in theirs.fields]


def test_utf8_with_and_without_leader_flag_read_alike(marc_dir):
    _f, flagged = read(marc_dir / "pymarc-utf8_with_leader_flag.dat")
    _f, unflagged = read(marc_dir / "pymarc-utf8_without_leader_flag.dat")
    assert flagged[0].encoding == "utf8"
    assert unflagged[0].encoding == "utf8-unflagged"
    assert flagged[0].record["245"].value() == unflagged[0].record["245"].value()
    assert not unflagged[0].problems


@pytest.mark.parametrize("name", ["pymarc-test.dat", "pymarc-marc.dat", "pymarc-regression45.dat",
                                  "pymarc-diacritic.dat", "pymarc-one.dat"])
def test_clean_files_match_pymarc(marc_dir, name):
    _fmt, recs = read(marc_dir / name)
    with open(marc_dir / name, "rb") as fh:
        theirs = [r for r in pymarc.MARCReader(fh, hide_utf8_warnings=True) if r is not None]
    assert len([r for r in recs if r.usable]) == len(theirs)
    for ours, their in zip(recs, theirs, strict=True):
        assert [f.tag for f in ours.record.fields] == [f.tag for f in their.fields]
        assert ours.record.title == their.title


def test_neither_utf8_nor_marc8_is_reported(marc_dir):
    # Windows-1251 Cyrillic under a MARC-8 leader: no decoding is right, so say so
    _fmt, recs = read(marc_dir / "pymarc-1251.dat")
    assert recs and all(r.usable for r in recs)
    assert all(any("UTF-8" in p.defect or "MARC-8" in p.defect for p in r.problems)
               for r in recs if not r.record.as_marc().isascii())


def test_marcxml_batch(marc_dir):
    fmt, recs = read(marc_dir / "pymarc-batch.xml")
    assert fmt == "marcxml"
    theirs = pymarc.parse_xml_to_array(str(marc_dir / "pymarc-batch.xml"))
    assert [r.record.title for r in recs] == [t.title for t in theirs]


def test_marc_in_json_batch(marc_dir):
    fmt, recs = read(marc_dir / "pymarc-batch.json")
    assert fmt == "marcjson"
    with open(marc_dir / "pymarc-batch.json") as fh:
        theirs = list(pymarc.JSONReader(fh.read()))
    assert [r.record.title for r in recs] == [t.title for t in theirs]
    assert [r.control_number for r in recs] == [t["001"].data for t in theirs]


def test_bad_tag_xml_is_repaired_and_reported(marc_dir):
    fmt, recs = read(marc_dir / "pymarc-bad_tag.xml")
    assert fmt == "marcxml" and len(recs) == 1 and recs[0].usable
    defects = " ".join(p.defect for p in recs[0].problems)
    assert "'42'" in defects and "leader" in defects


def test_marcxml_inside_oai_and_sru_wrappers(marc_dir):
    _f, oai = read(marc_dir / "modrs-oai-getrecord-bibrecord_01.xml")
    assert len(oai) == 1 and oai[0].usable
    _f, sru = read(marc_dir / "modrs-sru-anbd_sample.xml")
    assert len(sru) == 5 and all(r.usable for r in sru)


def test_mods_is_not_marc(marc_dir):
    _f, recs = read(marc_dir / "modrs-jisc-jd_rec_id_2231751908.xml")
    assert recs == []


def test_format_is_told_by_content_not_name(marc_dir, tmp_path):
    odd = tmp_path / "export.txt"
    odd.write_bytes((marc_dir / "pymarc-batch.xml").read_bytes())
    assert read(odd)[0] == "marcxml"
    odd.write_bytes((marc_dir / "pymarc-test.dat").read_bytes())
    assert read(odd)[0] == "iso2709"
    odd.write_bytes((marc_dir / "pymarc-batch.json").read_bytes())
    assert read(odd)[0] == "marcjson"


_RECORD = (b'<record xmlns="http://www.loc.gov/MARC21/slim"><leader>00000nam a2200000 a 4500</leader>'
           b'<datafield tag="245" ind1="0" ind2="0"><subfield code="a">&a;</subfield></datafield></record>')


@pytest.mark.parametrize("payload", [
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><collection><record/></collection>',
    b'<?xml version="1.0"?><!DOCTYPE r SYSTEM "http://example.org/x.dtd"><collection/>',
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>',
    # billion laughs, and a parameter entity expanded inside the DTD itself
    b'<?xml version="1.0"?><!DOCTYPE c [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
    b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]><collection>' + _RECORD.replace(b"&a;", b"&c;") + b'</collection>',
    b'<?xml version="1.0"?><!DOCTYPE c [<!ENTITY % p "<!ENTITY a \'x\'>"> %p;]><collection>' + _RECORD
    + b'</collection>',
    # the declaration after a megabyte of comment, in the reader's second chunk
    b'<?xml version="1.0"?><!--' + b"x" * (1 << 20) + b'--><!DOCTYPE c [<!ENTITY a "aaaa">]><collection>'
    + _RECORD + b'</collection>',
])
def test_hostile_xml_is_refused(payload):
    with pytest.raises(CatalogError) as exc:
        _fmt, records = marc.open_records(io.BytesIO(payload))
        list(records)
    assert "refused" in exc.value.message


def test_xml_in_an_unknown_encoding_is_refused_with_its_name():
    with pytest.raises(CatalogError, match="x-nonsense"):
        list(marc.read_marcxml(io.BytesIO(b'<?xml version="1.0" encoding="x-nonsense"?><collection/>')))


def test_xml_in_a_single_byte_encoding_is_read():
    data = ('<?xml version="1.0" encoding="windows-1252"?><collection xmlns="http://www.loc.gov/MARC21/slim">'
            '<record><leader>00000nam a2200000 a 4500</leader><datafield tag="245" ind1="0" ind2="0">'
            '<subfield code="a">Caf\xe9</subfield></datafield></record></collection>').encode("cp1252")
    records = list(marc.read_marcxml(io.BytesIO(data)))
    assert [r.record["245"]["a"] for r in records] == ["Café"]


def test_hostile_xml_in_utf16_is_refused_too():
    """Format detection takes no UTF-16 file for MARCXML; the XML reader, asked
    directly, still refuses its DTD (expat reads the encoding it declares)."""
    payload = ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE c [<!ENTITY a "aaaa">]><collection>'
               + _RECORD.decode() + "</collection>").encode("utf-16")
    with pytest.raises(CatalogError, match="refused"):
        list(marc.read_marcxml(io.BytesIO(payload)))


def test_not_marc_at_all():
    with pytest.raises(CatalogError):
        marc.open_records(io.BytesIO(b"Hello, this is a letter."))
    with pytest.raises(CatalogError):
        marc.open_records(io.BytesIO(b"   \n"))


def test_empty_record_between_terminators_is_reported(marc_dir):
    one = (marc_dir / "pymarc-one.dat").read_bytes()
    _f, recs = marc.open_records(io.BytesIO(one + b"\x1d" + one))
    recs = list(recs)
    assert [r.usable for r in recs] == [True, False, True]
    assert "empty" in recs[1].problems[0].defect


def test_a_file_cut_short_in_its_last_record_stops_there(marc_dir):
    """The records before are read; the cut one is not taken for a whole
    record: the file was not read to its end (an import then withdraws nothing)."""
    data = (marc_dir / "pymarc-test.dat").read_bytes()
    _f, recs = marc.open_records(io.BytesIO(data[:-200]))
    read = []
    with pytest.raises(marc.UnreadableTail) as cut:
        for r in recs:
            read.append(r)
    assert len(read) == 9 and all(r.usable for r in read)
    assert cut.value.after == 9 and "middle of record 10" in cut.value.message


def test_a_last_record_without_its_terminator_but_whole_is_read(marc_dir):
    data = (marc_dir / "pymarc-test.dat").read_bytes()
    _f, recs = marc.open_records(io.BytesIO(data[:-1]))
    recs = list(recs)
    assert len(recs) == 10 and all(r.usable for r in recs)
    assert "without a record terminator" in recs[-1].problems[0].defect


def test_a_byte_order_mark_before_iso2709_costs_no_record(marc_dir):
    data = (marc_dir / "pymarc-test.dat").read_bytes()
    _f, recs = marc.open_records(io.BytesIO(b"\xef\xbb\xbf" + data))
    recs = list(recs)
    assert len(recs) == 10 and all(r.usable and not r.problems for r in recs)


def test_glued_records_are_told_apart_by_the_directory_when_the_length_is_wrong(marc_dir):
    """A lost terminator and a wrong leader length: the first record's own
    directory says where it ends and the second begins."""
    data = (marc_dir / "pymarc-test.dat").read_bytes()
    first, second, rest = data.split(marc.RECORD_END, 2)
    glued = b"99999" + first[5:] + second + marc.RECORD_END + rest
    _f, recs = marc.open_records(io.BytesIO(glued))
    recs = list(recs)
    assert len(recs) == 10 and all(r.usable for r in recs)
    defects = " ".join(p.defect for p in recs[0].problems)
    assert "99999" in defects and "read as two records" in defects
    original = [r.control_number for r in marc.open_records(io.BytesIO(data))[1]]
    assert all(original) and [r.control_number for r in recs] == original


def test_slims_005_as_data_field_and_no_001():
    rec = pymarc.Record(force_utf8=True)
    rec.add_field(pymarc.Field(tag="245", indicators=["0", "0"], subfields=[
        pymarc.Subfield("a", "Pengantar Ilmu Hukum")]))
    raw = bytearray(rec.as_marc())
    raw[9:10] = b" "
    _f, recs = marc.open_records(io.BytesIO(bytes(raw)))
    (r,) = list(recs)
    assert r.usable and r.control_number == ""
    assert marc.content_key(r.record) == marc.content_key(r.record)
    assert marc.content_key(r.record).startswith("h:")


def test_lost_terminator_between_two_records(marc_dir):
    data = (marc_dir / "pymarc-test.dat").read_bytes()
    first_end = data.index(b"\x1d")
    glued = data[:first_end] + data[first_end + 1:]
    _f, recs = marc.open_records(io.BytesIO(glued))
    recs = list(recs)
    _f, clean = marc.open_records(io.BytesIO(data))
    clean = list(clean)
    assert [r.control_number for r in recs] == [r.control_number for r in clean]
    assert all(r.usable for r in recs)
    assert "no record terminator" in recs[0].problems[0].defect
    assert not recs[1].problems


def _json_array(titles) -> bytes:
    import json

    return json.dumps([{"leader": "00000nam a2200000 a 4500",
                        "fields": [{"001": f"j{n}"},
                                   {"245": {"ind1": "1", "ind2": "0", "subfields": [{"a": t}]}}]}
                       for n, t in enumerate(titles, start=1)], separators=(",", ":")).encode()


@pytest.mark.parametrize("break_it", [
    lambda text: text.replace(b'"Dua"', b'"Dua', 1),  # a string left open
    lambda text: text.replace(b'"Dua"}', b'"Dua"', 1),  # a brace missing
    lambda text: text.replace(b'"Dua"', b'"Dua" "x"', 1),  # junk inside
], ids=["open-string", "missing-brace", "junk"])
def test_a_broken_marc_in_json_object_costs_only_itself(break_it):
    good = _json_array(["Satu", "Dua", "Tiga", "Empat", "Lima"])
    broken = break_it(good)
    assert broken != good
    for chunk in (marc._CHUNK, 7):  # the break across reads, too
        old = marc._CHUNK
        marc._CHUNK = chunk
        try:
            recs = list(marc.open_records(io.BytesIO(broken))[1])
        finally:
            marc._CHUNK = old
        assert [(r.ordinal, r.control_number, r.usable) for r in recs if r.usable] == [
            (1, "j1", True), (3, "j3", True), (4, "j4", True), (5, "j5", True)]
        assert len(recs) == 5 and not recs[1].usable and "not valid JSON" in recs[1].problems[0].defect


def test_the_records_after_an_xml_break_obey_no_dtd_or_entity():
    """Read one by one after a break, a record that smuggles a document type
    and an external entity is broken, not obeyed; its neighbours are read."""
    from .marcdata import books, xml

    doc = xml(books(4))
    second, third = doc.index(b"b00002"), doc.index(b"b00003")
    doc = (doc[:second] + b"b&00002" + doc[second + 6:third]
           + b'<!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/passwd">]>&e;' + doc[third:])
    recs = list(marc.open_records(io.BytesIO(doc))[1])
    assert [(r.ordinal, r.usable) for r in recs] == [(1, True), (2, False), (3, False), (4, True)]
    assert recs[3].control_number == "b00004"
    assert not any("root:" in str(r.as_dict) for r in recs if r.usable)
