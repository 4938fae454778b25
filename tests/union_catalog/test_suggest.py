"""Did you mean ...? Suggestions for a search that finds little (both engines)."""
from __future__ import annotations

import pytest

from union_catalog import suggest


def hadis_catalogue(make, rare: int = 0):
    """Union records about hadis, and `rare` misspelled hadiz. (Hadits and
    hadith are spellings of hadis that a search finds anyway: variants.)"""
    for n in range(12):
        make.search_cluster(title=f"Kajian hadis jilid {n + 1}", author="Ash-Shiddieqy, Hasbi",
                            subjects=["Hadis"])
    for n in range(rare):
        make.search_cluster(title=f"Ilmu hadiz {n + 1}", author="Rahman, Fatchur")
    make.search_cluster(title="Pengantar ilmu perpustakaan", author="Sulistyo-Basuki")
    make.search_cluster(title="Manajemen perpustakaan", author="Sutarno NS")
    make.commit()


def api(client, **q):
    resp = client.get("/api/v1/search", query_string=q)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def test_a_misspelled_word_that_finds_nothing_gets_the_catalogue_s_spelling(client, make):
    hadis_catalogue(make)
    body = api(client, q="kajian hadiz")
    assert body["total"] == 0
    assert body["did_you_mean"] == {"query": {"q": "kajian hadis"}, "total": 12}
    assert api(client, q="pengantar perpustakan")["did_you_mean"] == {
        "query": {"q": "pengantar perpustakaan"}, "total": 1}


def test_a_rare_spelling_of_a_common_word_is_offered_the_common_one(client, make):
    hadis_catalogue(make, rare=1)
    body = api(client, q="hadiz")
    assert body["total"] == 1
    assert body["did_you_mean"] == {"query": {"q": "hadis"}, "total": 12}


def test_no_suggestion_where_the_search_finds_enough_or_the_words_are_common(client, make):
    hadis_catalogue(make, rare=1)
    assert "did_you_mean" not in api(client, q="hadis")  # 12 found
    assert "did_you_mean" not in api(client, q="ilmu hadiz")  # the only ilmu is with hadiz
    assert "did_you_mean" not in api(client, q="xylofon")  # nothing near it
    assert "did_you_mean" not in api(client, q="perpus*")  # a prefix is not a misspelling


def test_the_suggestion_keeps_the_filters_and_only_counts_when_it_finds_more(client, make):
    hadis_catalogue(make)
    body = api(client, title="hadiz", library="UGM", year_from="1990")
    # every test record is held by UGM but has no year: the year filter leaves nothing
    assert body["total"] == 0 and "did_you_mean" not in body
    body = api(client, title="hadiz", library="UGM")
    assert body["did_you_mean"] == {"query": {"title": "hadis", "library": ["UGM"]}, "total": 12}


def test_quotes_and_other_words_stay_as_typed(client, make):
    hadis_catalogue(make)
    body = api(client, q='"Kajian Hadith" jilid')
    assert body["did_you_mean"]["query"] == {"q": '"Kajian hadis" jilid'}
    assert body["did_you_mean"]["total"] == 12


def test_the_search_page_links_the_suggestion(client, make):
    hadis_catalogue(make)
    page = client.get("/catalog/search", query_string={"q": "kajian hadiz"},
                      headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'id="did-you-mean"' in page and "kajian hadis" in page
    assert "/catalog/search?q=kajian+hadis" in page


@pytest.mark.parametrize("typed,expected", [
    ("hadits", "hadis"),  # a letter too many
    ("hadith", "hadis"),  # two edits
    ("hdais", "hadis"),  # two letters swapped, one edit
    ("kadis", None),  # the first letter is never the mistake looked for
    ("had", None),  # too short to say
])
def test_better_word(typed, expected):
    words = {"hadis": 120, "hadits": 0, "hukum": 500}
    by_letter = {"h": ["hadis", "hukum"]}
    assert suggest.better_word(typed, words, by_letter) == expected


def test_a_word_held_often_enough_is_never_respelled():
    words = {"hadis": 1000, "hadits": 60}
    assert suggest.better_word("hadits", words, {"h": ["hadis", "hadits"]}) is None
    words["hadits"] = 20  # and a word held a little less often is not overruled either
    assert suggest.better_word("hadits", {"hadis": 150, "hadits": 20}, {"h": ["hadis", "hadits"]}) is None


def test_a_catalogue_s_words_are_read_in_the_background_and_kept(app, make, session):
    hadis_catalogue(make)
    suggest.forget()
    assert suggest.vocabulary(session, wait=0) is None  # being read: that search goes without
    for thread in list(suggest._reading.values()):
        thread.join(30)
    words, by_letter = suggest.vocabulary(session, wait=0)
    assert words["hadis"] == 12 and "hadis" in by_letter["h"]
    make.search_cluster(title="Hadits pilihan")  # kept until they are old or forgotten
    make.commit()
    assert suggest.vocabulary(session, wait=0)[0].get("hadits") is None
    suggest.forget()
    assert suggest.vocabulary(session, wait=30)[0]["hadits"] == 1
