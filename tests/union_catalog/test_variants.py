"""Spellings of one word that a search takes for each other (both
engines): an Arabic word transliterated several ways finds the records
that spell it any of those ways."""
from __future__ import annotations

import pytest

from union_catalog import searchtext, variants

from .test_search import ids


def test_every_spelling_is_one_folded_word_in_one_ring():
    seen = {}
    for ring in variants.RINGS:
        assert len(ring) >= 2, ring
        for word in ring:
            assert searchtext.words(word) == [word], word  # as the index holds it
            assert word not in seen, f"{word} is in {seen.get(word)} and {ring}"
            seen[word] = ring
    assert variants.of("hadits") == ("hadis", "hadith", "hadist")
    assert variants.of("perpustakaan") == ()


@pytest.fixture
def shelf(make):
    books = {
        "hadis": make.search_cluster(title="Ilmu hadis", author="Ash-Shiddieqy"),
        "hadits": make.search_cluster(title="Kajian hadits nabi", author="Ismail"),
        "hadith": make.search_cluster(title="Ḥadīth literature", author="Siddiqi", language="eng"),
        "fiqh": make.search_cluster(title="Fiqh zakat", author="Qardhawi"),
        "subject": make.search_cluster(title="Pengantar hukum", author="Ali", subjects=["Fikih"]),
        "phrase": make.search_cluster(title="Fikih muamalah kontemporer", author="Sahrani"),
    }
    make.commit()
    return {k: v.id for k, v in books.items()}


def test_a_word_finds_its_other_spellings(client, shelf):
    found = set(ids(client.get("/api/v1/search", query_string={"q": "hadits"})))
    assert found == {shelf["hadis"], shelf["hadits"], shelf["hadith"]}
    found = set(ids(client.get("/api/v1/search", query_string={"title": "HADIS"})))
    assert found == {shelf["hadis"], shelf["hadits"], shelf["hadith"]}
    assert set(ids(client.get("/api/v1/search", query_string={"q": "kajian hadith"}))) == {shelf["hadits"]}


def test_in_quotes_or_by_its_start_a_word_is_searched_as_typed(client, shelf):
    assert ids(client.get("/api/v1/search", query_string={"q": '"hadits"'})) == [shelf["hadits"]]
    assert set(ids(client.get("/api/v1/search", query_string={"q": "hadit*"}))) == {shelf["hadits"], shelf["hadith"]}
    # a phrase is its words as typed
    assert ids(client.get("/api/v1/search", query_string={"q": '"fiqh muamalah"'})) == []
    assert ids(client.get("/api/v1/search", query_string={"q": '"fikih muamalah"'})) == [shelf["phrase"]]


def test_a_title_in_another_spelling_ranks_as_a_title_match(client, shelf):
    # "Fiqh zakat" has the word in its title; "Pengantar hukum" only as a subject
    order = ids(client.get("/api/v1/search", query_string={"q": "fikih"}))
    assert set(order) == {shelf["fiqh"], shelf["subject"], shelf["phrase"]}
    assert order.index(shelf["fiqh"]) < order.index(shelf["subject"])


def test_the_answer_says_which_words_were_also_searched(client, shelf):
    body = client.get("/api/v1/search", query_string={"q": "kajian hadits"}).get_json()
    assert body["also_spelled"] == {"hadits": ["hadis", "hadith", "hadist"]}
    assert "also_spelled" not in client.get("/api/v1/search", query_string={"q": '"hadits"'}).get_json()

    page = client.get("/catalog/search", query_string={"q": "hadits"}, headers={"Accept-Language": "en"})
    text = page.get_data(as_text=True)
    assert 'id="also-spelled"' in text and "hadis, hadith, hadist" in text
    page = client.get("/catalog/search", query_string={"q": "hadits"}, headers={"Accept-Language": "id"})
    assert "Juga dicari sebagai" in page.get_data(as_text=True)
