"""A database's "ask your library" link (OpenURL) opens the request form
with the citation typed in: an article as a copy, a book as a loan, and a
book the catalogue holds under its ISBN as a request for that record."""

from __future__ import annotations

from urllib.parse import urlencode

from hypothesis import given
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from ill import openurl
from tests.ill.test_loan_pages import _login

ARTICLE = MultiDict([
    ("url_ver", "Z39.88-2004"), ("ctx_ver", "Z39.88-2004"), ("rft_val_fmt", "info:ofi/fmt:kev:mtx:journal"),
    ("rft.genre", "article"), ("rft.atitle", "Wakaf  uang di Indonesia"), ("rft.jtitle", "Jurnal Ekonomi Syariah"),
    ("rft.aulast", "Hasibuan"), ("rft.aufirst", "Nur"), ("rft.date", "2019-03"), ("rft.volume", "7"),
    ("rft.issue", "2"), ("rft.spage", "101"), ("rft.epage", "120"), ("rft.issn", "2355-1234"),
    ("rft_id", "info:doi/10.1234/jes.v7i2.55"), ("rft_id", "info:pmid/31234567"), ("sid", "scholar"),
])


def test_an_article_is_a_copy_with_its_citation():
    service, citation, note = openurl.parse(ARTICLE)
    assert service == "copy"
    assert citation == {"article_title": "Wakaf uang di Indonesia", "title": "Jurnal Ekonomi Syariah",
                        "author": "Hasibuan, Nur", "year": "2019", "volume": "7", "issue": "2",
                        "pages": "101-120", "issn": "2355-1234"}
    assert note == "DOI 10.1234/jes.v7i2.55; PMID 31234567"


def test_a_book_in_the_old_openurl_is_a_loan():
    service, citation, note = openurl.parse({"genre": "book", "title": "Tafsir al-Mishbah", "aulast": "Shihab",
                                             "isbn": "978-979-9048-14-1", "date": "2002", "pub": "Lentera Hati"})
    assert service == "loan" and note == ""
    assert citation == {"title": "Tafsir al-Mishbah", "author": "Shihab", "isbn": "978-979-9048-14-1",
                        "year": "2002", "publisher": "Lentera Hati"}
    assert not openurl.is_openurl({"record_id": "4"}) and openurl.is_openurl({"rft.btitle": "x"})


@given(st.dictionaries(st.sampled_from(["rft.atitle", "rft.btitle", "title", "rft.au", "rft.pages", "rft.date",
                                        "rft.volume", "genre", "rft_id", "rft.isbn", "spage", "epage"]),
                       st.text(max_size=800)))
def test_any_openurl_gives_fields_a_request_takes(args):
    from ill.requests_service import _clean_citation

    service, citation, _note = openurl.parse(args)
    assert service in ("loan", "copy")
    citation.pop("year", None)  # checked apart: the year a request takes is 1000-2100
    _clean_citation(citation)  # every field known and within its length


def test_the_form_from_a_database_link(net):
    _login(net, "patron")
    page = net.client.get("/requests/new?" + urlencode(list(ARTICLE.items(multi=True)))).get_data(as_text=True)
    assert 'value="Wakaf uang di Indonesia"' in page and 'value="101-120"' in page
    assert 'value="copy" checked' in page and "DOI 10.1234/jes.v7i2.55" in page
    # the patron sends it, ticking the copyright declaration: a citation request for the library
    form = {"service": "copy", "title": "Jurnal Ekonomi Syariah", "article_title": "Wakaf uang di Indonesia",
            "pages": "101-120", "copyright_ack": "yes"}
    r = net.client.post("/requests/new", data=form)
    assert r.status_code == 303

    # a book the catalogue holds under its ISBN: the request is for that record
    book = net.make.search_cluster(title="Tafsir al-Mishbah", isbns=["9789799048141"],
                                   holdings={"A": ["available"]})
    net.make.commit()
    page = net.client.get("/requests/new?" + urlencode({"genre": "book", "isbn": "978-979-9048-14-1",
                                                        "title": "Tafsir"})).get_data(as_text=True)
    assert f"record_id={book.id}" in page and "Who holds it" in page
    # an ISBN that is none (a wrong check digit) finds nothing: the form as the link typed it
    page = net.client.get("/requests/new?" + urlencode({"genre": "book", "isbn": "978-979-9048-14-0",
                                                        "title": "Tafsir"})).get_data(as_text=True)
    assert "record_id=" not in page and 'value="978-979-9048-14-0"' in page
