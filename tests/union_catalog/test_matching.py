"""The matching rules, one by one, on records as partners catalogue them; and
properties of the clustering that must hold for any data."""
from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pymarc import Field, Leader, Record, Subfield
from stdnum import ean
from stdnum import isbn as std_isbn

from union_catalog import matching
from union_catalog.matching import cluster, compare, describe, work_key


def make_isbn13(body: str) -> str:
    body = ("978602" + body)[:12]
    return body + ean.calc_check_digit(body)


ISBN = make_isbn13("123456")
ISBN_OTHER = make_isbn13("654321")
ISBN_SET = make_isbn13("777777")


def rec(title="Pengantar ilmu perpustakaan", *, author="Sutarno", year=2019, publisher="Erlangga",
        isbns=(), edition=None, volume=None, subtitle=None, ind2="0", pages=250,
        leader="     nam a22     4i 4500", thesis=False, issns=(), f008=True, authors=(),
        title_n=None, control=None, note=None) -> Record:
    r = Record(force_utf8=True)
    r.leader = Leader(leader)
    if control:
        r.add_field(Field(tag="001", data=control))
    if f008 and year:
        r.add_field(Field(tag="008", data=f"200101s{year}    io            000 0 ind d"))
    for i in isbns:
        r.add_field(Field(tag="020", indicators=[" ", " "], subfields=[Subfield("a", i)]))
    for i in issns:
        r.add_field(Field(tag="022", indicators=["0", " "], subfields=[Subfield("a", i)]))
    if author:
        r.add_field(Field(tag="100", indicators=["1", " "], subfields=[Subfield("a", author)]))
    subs = [Subfield("a", title + (" :" if subtitle else ""))]
    if subtitle:
        subs.append(Subfield("b", subtitle))
    if title_n:
        subs.append(Subfield("n", title_n))
    r.add_field(Field(tag="245", indicators=["1", ind2], subfields=subs))
    if edition:
        r.add_field(Field(tag="250", indicators=[" ", " "], subfields=[Subfield("a", edition)]))
    r.add_field(Field(tag="260", indicators=[" ", " "], subfields=[
        Subfield("a", "Jakarta :"), Subfield("b", publisher + ","), Subfield("c", str(year))]))
    if pages:
        r.add_field(Field(tag="300", indicators=[" ", " "],
                          subfields=[Subfield("a", f"xii, {pages} hlm. ;"),
                                     Subfield("c", "24 cm")]))
    if thesis:
        r.add_field(Field(tag="502", indicators=[" ", " "],
                          subfields=[Subfield("a", "Skripsi (S1)--UIN Sumatera Utara, 2019")]))
    if note:
        r.add_field(Field(tag="500", indicators=[" ", " "], subfields=[Subfield("a", note)]))
    for name in authors:
        r.add_field(Field(tag="700", indicators=["1", " "], subfields=[Subfield("a", name)]))
    return r


def same(a: Record, b: Record) -> bool:
    return compare(describe(a), describe(b)) is not None


# --- identifiers ------------------------------------------------------------------

def test_isbn10_and_isbn13_of_one_book_are_one_number():
    isbn10 = std_isbn.to_isbn10(ISBN)
    a, b = describe(rec(isbns=[isbn10])), describe(rec(isbns=[ISBN]))
    assert a["isbns"] == b["isbns"] == [ISBN]
    strength, evidence = compare(a, b)
    assert strength == matching.ISBN and ISBN in evidence


@pytest.mark.parametrize("written", [
    "978-602-123-456-{}", "978 602 123456{} (pbk.)", "978602123456{} (soft cover)",
    "ISBN 978-602-123-456-{}", "978602123456{} : Rp 85.000"])
def test_hyphens_spaces_and_qualifiers_are_noise(written):
    assert describe(rec(isbns=[written.format(ISBN[-1])]))["isbns"] == [ISBN]


def test_an_isbn_with_a_wrong_check_digit_is_no_evidence():
    wrong = ISBN[:-1] + str((int(ISBN[-1]) + 1) % 10)
    a = describe(rec("Hukum perdata", isbns=[wrong]))
    b = describe(rec("Kimia dasar", author="Sinaga, Sri", isbns=[wrong]))
    assert a["isbns"] == [] and a["isbns_invalid"] == [wrong]
    assert compare(a, b) is None
    assert not any(k.startswith("i:") for k in matching.block_keys(a))


@pytest.mark.parametrize("qualifier", ["(set)", "(jil. lengkap)", "(keseluruhan)"])
def test_the_set_isbn_does_not_merge_volumes(qualifier):
    one = rec("Tafsir al-Misbah", isbns=[f"{ISBN_SET} {qualifier}", ISBN], title_n="Jilid 1")
    two = rec("Tafsir al-Misbah", isbns=[f"{ISBN_SET} {qualifier}", ISBN_OTHER], title_n="Jilid 2")
    a, b = describe(one), describe(two)
    assert a["isbns_set"] == [ISBN_SET] and a["isbns"] == [ISBN]
    assert compare(a, b) is None
    groups = cluster([(1, "A", a), (2, "B", b)]).groups
    assert groups == [[1], [2]]


def test_an_unmarked_isbn_on_two_volumes_still_keeps_them_apart():
    a = describe(rec("Fiqh al-sunnah", isbns=[ISBN], title_n="Jil. 1"))
    b = describe(rec("Fiqh al-sunnah", isbns=[ISBN], title_n="Jil. 2"))
    assert compare(a, b) is None


def test_issn_merges_serials_and_different_issns_never_do():
    journal = dict(leader="     nas a22     4i 4500", author=None, pages=None, publisher="UIN SU")
    a = describe(rec("Jurnal Iqra'", issns=["0317-8471"], **journal))
    b = describe(rec("Jurnal Iqra", issns=["03178471"], **journal))
    c = describe(rec("Jurnal Iqra'", issns=["1050-124X"], **journal))
    assert a["format"] == "serial" and a["issns"] == ["0317-8471"]
    assert compare(a, b)[0] == matching.ISSN
    assert compare(a, c) is None


def test_slims_issn_in_the_isbn_field_is_an_issn():
    f = describe(rec("Jurnal Iqra'", isbns=["0317-8471"], author=None))
    assert f["issns"] == ["0317-8471"] and f["isbns"] == [] and f["format"] == "serial"


# --- descriptions -------------------------------------------------------------------

def test_case_diacritics_and_isbd_punctuation_do_not_matter():
    a = rec("Pengantar Ilmu Perpustakaan", subtitle="teori dan praktik.")
    b = rec("PENGANTAR ILMU PERPUSTAKAAN", subtitle="Teori dan Praktik")
    assert describe(a)["title_key"] == describe(b)["title_key"] == "pengantar ilmu perpustakaan"
    assert same(a, b)


@pytest.mark.parametrize("variant",
                         ["Ihya' 'ulum al-din", "Ihya ulum al-din", "Iḥyāʼ ʻulūm al-dīn"])
def test_arabic_transliteration_marks_are_ignored(variant):
    base = describe(rec("Iḥyāʼ ʻulūm al-dīn", publisher="Dār al-Fikr"))
    other = describe(rec(variant, publisher="Dar al-Fikr"))
    assert other["title_key"] == base["title_key"] == "ihya ulum al din"
    assert compare(base, other) is not None


def test_leading_article_by_the_nonfiling_indicator_and_without_it():
    filed = describe(rec("al-Muwaṭṭaʼ", ind2="3", publisher="Dār al-Fikr"))
    unfiled = describe(rec("al-Muwatta'", ind2="0", publisher="Dar al-Fikr"))
    english = describe(rec("The history of Aceh", ind2="4"))
    assert filed["title_key"] == unfiled["title_key"] == "muwatta"
    assert english["title_key"] == "history of aceh"
    assert compare(filed, unfiled) is not None


def test_author_in_either_name_order():
    assert same(rec(author="Harahap, Ahmad Budi,"), rec(author="Ahmad Budi Harahap"))


def test_different_main_authors_are_different_books():
    assert not same(rec(author="Sutarno"), rec(author="Suwarno"))
    assert not same(rec(author="Harahap, Ahmad"), rec(author="Nasution, Ahmad"))


def test_a_one_letter_typo_in_the_title_is_tolerated():
    a = rec("Manajemen perpustakaan perguruan tinggi")
    b = rec("Manajemen perpustakan perguruan tinggi")
    result = compare(describe(a), describe(b))
    assert result is not None and "one letter" in result[1]
    # ...but not when the rest does not agree as well
    assert not same(a, rec("Manajemen perpustakan perguruan tinggi", publisher="Andi"))


def test_a_dropped_space_or_hyphen_is_not_another_title():
    lubis, dar = {"author": "Lubis, Dewi"}, {"publisher": "Dar al-Fikr"}
    assert same(rec("Jurnal ekologi", **lubis), rec("Jurnalekologi", **lubis))
    assert same(rec("al-Risalah", **dar), rec("alRisalah", **dar))


def test_a_subtitle_run_into_the_title_is_the_same_title():
    assert same(rec("Komunikasi kimia dasar", subtitle="pendekatan terpadu"),
                rec("Komunikasi kimia dasar pendekatan terpadu"))


@pytest.mark.parametrize("generic", ["Metodologi Penelitian", "Pengantar Ilmu Hukum", "Statistika"])
def test_a_generic_title_alone_never_merges(generic):
    base = rec(generic, author="Sugiyono", year=2015, publisher="Alfabeta", pages=334)
    assert not same(base, rec(generic, author="Arikunto, Suharsimi", year=2015,
                              publisher="Alfabeta", pages=334))
    assert not same(base, rec(generic, author="Sugiyono", year=2010, publisher="Alfabeta"))
    assert not same(base, rec(generic, author=None, year=2015, publisher="Alfabeta", pages=300))
    assert same(base, rec(generic.upper(), author="Sugiyono", year=2015, publisher="Alfabeta",
                          pages=334))


def test_a_title_alone_never_merges_any_book():
    assert not same(rec(author=None, publisher="Erlangga", year=2019, pages=None),
                    rec(author=None, publisher="Andi", year=2019, pages=None))
    assert not same(rec(year=2019, publisher="Erlangga"), rec(year=2001, publisher="Andi"))


@pytest.mark.parametrize("statement, key", [
    ("Cet. 3", None), ("Cetakan ke-5", None), ("Ed. 1", None), ("Ed. 2.", "2"),
    ("Edisi ke-2", "2"), ("Cet. 2, ed. revisi", "2"), ("2nd ed.", "2"), ("Edisi kedua", "2"),
    ("Edisi revisi", "rev"), ("Third edition", "3")])
def test_edition_statements(statement, key):
    assert matching.edition_number(statement) == key


def test_a_reprint_is_the_same_edition_a_new_edition_is_not():
    first = rec(edition=None)
    assert same(first, rec(edition="Cet. 3"))
    assert not same(first, rec(edition="Ed. 2"))
    assert same(rec(edition="Ed. 2"), rec(edition="Edisi ke-2"))
    assert not same(rec(edition="Ed. 2"), rec(edition="Ed. 3"))


@pytest.mark.parametrize("a_n, b_title, expect", [
    ("Jilid 2", "Tafsir al-Misbah Jilid 2", True),
    ("Jil. 2", "Tafsir al-Misbah Vol. 2", True),
    ("Jilid II", "Tafsir al-Misbah Jilid 2", True),
    ("Jilid 1", "Tafsir al-Misbah Jilid 2", False),
    ("Jilid 1", "Tafsir al-Misbah", False),
])
def test_volumes_of_one_set_stay_apart(a_n, b_title, expect):
    a = rec("Tafsir al-Misbah", title_n=a_n, author="Shihab, M. Quraish", publisher="Lentera Hati")
    b = rec(b_title, author="M. Quraish Shihab", publisher="Lentera Hati")
    assert same(a, b) is expect


def test_a_printing_year_one_off_is_the_same_edition_when_more_agrees():
    a = rec(year=2019, pages=250)
    assert same(a, rec(year=2020, pages=250))
    assert not same(a, rec(year=2021, pages=250))
    # one year off and nothing else to go by: two editions a year apart look like this
    assert not same(rec(year=2019, pages=None), rec(year=2020, pages=None))


def test_the_008_year_wins_over_the_printing_year():
    r = rec(year=2019)
    r["260"]["c"] = "2020"
    assert describe(r)["year"] == 2019 and describe(r)["year_published"] == 2020


def test_theses_merge_with_nothing_by_accident():
    title = "Analisis kinerja keuangan pada PT Sinar Medan"
    a = describe(rec(title, thesis=True, publisher="UINSU"))
    b = describe(rec(title, thesis=True, publisher="UINSU"))
    assert a["format"] == "thesis"
    assert compare(a, b) is None
    result = cluster([(1, "UINSU 1", a), (2, "UGM 9", b)])
    assert result.groups == [[1], [2]]
    assert "thesis" in result.evidence[1]


def test_different_isbns_are_different_editions_even_with_one_title():
    assert not same(rec(isbns=[ISBN]), rec(isbns=[ISBN_OTHER]))


def test_pages_far_apart_are_different_editions():
    assert not same(rec(pages=250), rec(pages=420))


# --- clustering -----------------------------------------------------------------------

def test_a_record_without_isbn_joins_its_edition_and_evidence_says_why():
    a = describe(rec(isbns=[ISBN]))
    b = describe(rec(isbns=[std_isbn.to_isbn10(ISBN)]))
    c = describe(rec(isbns=[]))
    result = cluster([(1, "PNRI 0001", a), (2, "UGM 0002", b), (3, "UQ #7", c)])
    assert result.groups == [[1, 2, 3]]
    assert result.evidence[2] == f"Same ISBN {ISBN} as PNRI 0001."
    assert result.evidence[3].startswith("Same title, author, year 2019, publisher")
    assert result.evidence[3].endswith("as PNRI 0001.")


def test_no_bridge_between_two_isbns():
    """A record without ISBN that fits two editions cannot join them into one."""
    a = describe(rec(isbns=[ISBN], pages=None))
    b = describe(rec(isbns=[ISBN_OTHER], pages=None))
    c = describe(rec(isbns=[], pages=None))
    groups = cluster([(1, "A", a), (2, "B", b), (3, "C", c)]).groups
    assert [1, 2] not in groups and len(groups) == 2


def test_coordinators_decisions_beat_the_rules():
    a, b = describe(rec(isbns=[ISBN])), describe(rec(isbns=[ISBN]))
    c = describe(rec("Something else entirely", author="Lubis, Dewi"))
    result = cluster([(1, "A", a), (2, "B", b), (3, "C", c)], together=[(1, 3)], apart=[(1, 2)])
    assert sorted(result.groups) == [[1, 3], [2]]
    assert result.evidence[3] == "Joined by a coordinator as A."


_TITLES = ["Pengantar ilmu hukum", "Tafsir al-Misbah", "Manajemen perpustakaan", "Jurnal Iqra'"]
_AUTHORS = ["Sutarno", "Harahap, Ahmad", "Ahmad Harahap", None]
_ISBNS = [ISBN, std_isbn.to_isbn10(ISBN), ISBN_OTHER, None]


@st.composite
def _records(draw):
    n = draw(st.integers(min_value=1, max_value=14))
    out = []
    for i in range(n):
        isbn = draw(st.sampled_from(_ISBNS))
        f = describe(rec(draw(st.sampled_from(_TITLES)), author=draw(st.sampled_from(_AUTHORS)),
                         year=draw(st.sampled_from([2018, 2019, 2020])),
                         publisher=draw(st.sampled_from(["Erlangga", "Andi"])),
                         isbns=[isbn] if isbn else [],
                         edition=draw(st.sampled_from([None, "Cet. 2", "Ed. 2"])),
                         title_n=draw(st.sampled_from([None, "Jilid 1", "Jilid 2"])),
                         pages=draw(st.sampled_from([None, 250]))))
        out.append((i, f"R{i}", f))
    return out


@settings(max_examples=60, deadline=None)
@given(_records(), st.randoms(use_true_random=False))
def test_clustering_is_independent_of_record_order(records, rnd):
    first = cluster(records)
    shuffled = list(records)
    rnd.shuffle(shuffled)
    second = cluster(shuffled)
    assert first.groups == second.groups
    assert first.evidence == second.evidence


@settings(max_examples=60, deadline=None)
@given(_records())
def test_clustering_is_a_partition_consistent_with_the_rules(records):
    result = cluster(records)
    seen = [rid for g in result.groups for rid in g]
    assert sorted(seen) == sorted(rid for rid, _l, _f in records)
    facts = {rid: f for rid, _l, f in records}
    for group in result.groups:
        # within one union record: one volume, one edition, no two different ISBNs alone
        assert len({facts[r].get("volume") for r in group}) == 1
        assert len({i for r in group for i in facts[r]["isbns"]}) <= 1


def test_settled_groups_stay_and_are_not_weighed_again():
    a, b = describe(rec(isbns=[ISBN])), describe(rec("Kimia dasar", author="Lubis, Dewi"))
    # a coordinator's earlier merge, now settled: it holds without a decision in sight
    result = cluster([(1, "A", a), (2, "B", b)], settled=[[1, 2]])
    assert result.groups == [[1, 2]]


def test_scale_of_blocks_stays_linear():
    """Thousands of records with one generic title and author: still quick
    because blocks are keyed by year and publisher too (no timing, just size)."""
    rng = random.Random(5)
    records = []
    for i in range(3000):
        f = describe(rec("Metodologi penelitian", author="Sugiyono", year=rng.randint(1980, 2025),
                         publisher=rng.choice(["Alfabeta", "Andi", "Kencana"]),
                         pages=rng.randint(100, 600)))
        records.append((i, str(i), f))
    groups = cluster(records).groups
    assert len(groups) > 100


def test_editions_and_volumes_of_one_work_share_its_work_key():
    first = describe(rec("Pengantar ilmu hukum", author="Kansil, C.S.T.", edition="Cet. 3", year=2001))
    later = describe(rec("Pengantar ilmu hukum", author="C.S.T. Kansil", edition="Ed. rev.", year=2015,
                         publisher="Balai Pustaka"))
    volume = describe(rec("Pengantar ilmu hukum", author="Kansil, C.S.T.", title_n="Jilid 2"))
    assert work_key(first) == work_key(later) == work_key(volume) != ""
    # another author's book of that title is another work; no author, no work
    assert work_key(describe(rec("Pengantar ilmu hukum", author="Mertokusumo, Sudikno"))) != work_key(first)
    assert work_key(describe(rec("Pengantar ilmu hukum", author=""))) == ""
    assert work_key(describe(rec("Pengantar ilmu hukum", author="Kansil, C.S.T.", thesis=True))) == ""
