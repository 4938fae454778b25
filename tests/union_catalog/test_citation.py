"""A union record as a citation: RIS and BibTeX downloads, and the meta tags
Zotero reads off the record page (both engines)."""
from __future__ import annotations

from pymarc import Field, Subfield
from sqlalchemy import select

from union_catalog import citation, importer
from union_catalog.models import SourceRecord

from .marcdata import iso, record


def imported(session, make, tmp_path, title="Tafsir al-Misbah : pesan, kesan & keserasian al-Qur'an /"):
    lib = make.partner("UINSU")
    rec = record("m1", title, author="Shihab, M. Quraish,", year="2002", isbn="9789793062792")
    rec.add_field(Field(tag="700", indicators=["1", " "], subfields=[Subfield("a", "Nasution, Harun,")]))
    rec.add_field(Field(tag="650", indicators=[" ", "4"], subfields=[Subfield("a", "Tafsir")]))
    path = tmp_path / "uinsu.mrc"
    path.write_bytes(iso([rec]))
    importer.import_export(session, lib, str(path))
    session.commit()
    return session.scalar(select(SourceRecord.cluster_id))


def test_ris_for_a_reference_manager(client, make, session, tmp_path):
    cid = imported(session, make, tmp_path)
    resp = client.get(f"/api/v1/records/{cid}/citation")
    assert resp.status_code == 200
    assert resp.mimetype == "application/x-research-info-systems"
    assert f'filename="record-{cid}.ris"' in resp.headers["Content-Disposition"]
    text = resp.get_data(as_text=True)
    lines = text.split("\r\n")
    assert lines[0] == "TY  - BOOK" and lines[-2] == "ER  - " and lines[-1] == ""
    # the union record's title, its ISBD spacing as the union record has it
    assert "TI  - Tafsir al-Misbah: pesan, kesan & keserasian al-Qur'an" in lines
    assert lines.index("AU  - Shihab, M. Quraish") < lines.index("AU  - Nasution, Harun")
    for line in ("PY  - 2002", "PB  - Perdana Publishing", "CY  - Medan", "SN  - 9789793062792",
                 "KW  - Tafsir", f"UR  - http://localhost/catalog/records/{cid}"):
        assert line in lines, line


def test_bibtex_escapes_what_tex_would_read_as_commands(client, make, session, tmp_path):
    cid = imported(session, make, tmp_path, title="Zakat 100% & infak_wakaf")
    resp = client.get(f"/api/v1/records/{cid}/citation?format=bibtex")
    assert resp.status_code == 200 and resp.mimetype == "application/x-bibtex"
    text = resp.get_data(as_text=True)
    assert text.startswith("@book{shihab2002zakat,\n")
    assert "  title = {{Zakat 100\\% \\& infak\\_wakaf}},\n" in text
    assert "  author = {Shihab, M. Quraish and Nasution, Harun},\n" in text
    assert "  address = {Medan},\n" in text and text.endswith("}\n")


def test_a_bad_format_an_unknown_and_a_withdrawn_record(client, make, session, tmp_path):
    cid = imported(session, make, tmp_path)
    resp = client.get(f"/api/v1/records/{cid}/citation?format=endnote")
    assert resp.status_code == 400 and resp.get_json()["error"]["field"] == "format"
    assert client.get("/api/v1/records/999999/citation").status_code == 404
    empty = tmp_path / "empty.mrc"
    empty.write_bytes(iso([record("other", "Fikih zakat")]))
    importer.import_export(session, make.partner("UINSU"), str(empty))  # withdraws m1
    session.commit()
    assert client.get(f"/api/v1/records/{cid}/citation").status_code == 410


def test_the_record_page_carries_the_tags_zotero_reads(client, make, session, tmp_path):
    cid = imported(session, make, tmp_path)
    page = client.get(f"/catalog/records/{cid}").get_data(as_text=True)
    head = page[:page.index("</head>")]
    title = "Tafsir al-Misbah: pesan, kesan &amp; keserasian al-Qur&#39;an"
    assert f'<meta name="citation_title" content="{title}">' in head
    assert '<meta name="citation_author" content="Shihab, M. Quraish">' in head
    assert '<meta name="citation_publication_date" content="2002">' in head
    assert '<meta name="citation_isbn" content="9789793062792">' in head
    assert f'/api/v1/records/{cid}/citation?format=bibtex' in page


def test_the_key_is_plain_ascii():
    cite = citation.Citation(id=7, title="Tafsīr al-Miṣbāḥ", authors=["Shihāb, M. Quraish"], year=2002)
    assert citation.bibtex_key(cite) == "shihab2002tafsir"
    assert citation.bibtex_key(citation.Citation(id=7, title="")) == "record7"


def test_a_page_of_results_downloads_as_one_citation_file(client, make):
    for n in range(3):
        make.search_cluster(title=f"Tafsir al-Misbah jilid {n + 1}", author="Shihab, M. Quraish", year=2002,
                            subjects=["Tafsir"])
    make.search_cluster(title="Sejarah kota Medan", author="Sinar", year=1991)
    make.commit()
    resp = client.get("/api/v1/search/citations", query_string={"q": "tafsir", "sort": "title"})
    assert resp.status_code == 200 and resp.mimetype == "application/x-research-info-systems"
    assert resp.headers["Content-Disposition"].endswith('filename="search-results.ris"')
    records = resp.get_data(as_text=True).split("ER  - \r\n")
    assert [r for r in records if r.strip()] == [r for r in records[:3]]  # three records, then nothing
    titles = [line.split("  - ", 1)[1] for line in resp.get_data(as_text=True).splitlines()
              if line.startswith("TI  - ")]
    assert titles == [f"Tafsir al-Misbah jilid {n}" for n in (1, 2, 3)]  # in the search's order

    # BibTeX keys stay unique, as BibTeX styles make them
    bib = client.get("/api/v1/search/citations",
                     query_string={"q": "tafsir", "sort": "title", "as": "bibtex"}).get_data(as_text=True)
    keys = [line.split("{", 1)[1].rstrip(",") for line in bib.splitlines() if line.startswith("@")]
    assert keys == ["shihab2002tafsir", "shihab2002tafsira", "shihab2002tafsirb"]

    # the page asked for, and no other
    second = client.get("/api/v1/search/citations",
                        query_string={"q": "tafsir", "sort": "title", "per_page": 2, "page": 2}).get_data(
        as_text=True)
    assert second.count("TI  - ") == 1 and "jilid 3" in second

    bad = client.get("/api/v1/search/citations", query_string={"q": "tafsir", "as": "pdf"})
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "as"
    empty = client.get("/api/v1/search/citations", query_string={"q": "xylofon"})
    assert empty.status_code == 200 and empty.get_data() == b""


def test_the_search_page_links_its_records_citations(client, make):
    make.search_cluster(title="Tafsir al-Misbah", author="Shihab, M. Quraish", year=2002)
    make.commit()
    page = client.get("/catalog/search", query_string={"q": "tafsir", "page": 1},
                      headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'id="cite-page"' in page
    assert "/api/v1/search/citations?q=tafsir&amp;as=ris" in page
    assert "/api/v1/search/citations?q=tafsir&amp;as=bibtex" in page
