"""How search reads text: folding and identifiers (no database)."""

from union_catalog import searchtext


def test_fold_ignores_case_diacritics_and_isbd_punctuation():
    assert searchtext.fold("Tafsīr al-Miṣbāḥ : pesan, kesan /") == "tafsir al misbah pesan kesan"
    assert searchtext.fold("TAFSIR AL-MISBAH") == "tafsir al misbah"


def test_fold_drops_transliteration_marks_inside_words():
    assert searchtext.fold("Iḥyāʼ ʻulūm al-dīn") == "ihya ulum al din"
    assert searchtext.fold("al-Qurʼan") == searchtext.fold("al-Qur'an") == "al quran"


def test_isbn_forms_become_one_isbn13():
    assert searchtext.isbn13("0-306-40615-2") == "9780306406157"
    assert searchtext.isbn13("978-0-306-40615-7") == "9780306406157"
    assert searchtext.isbn13("9780306406157 (pbk.)") == "9780306406157"
    assert searchtext.isbn13("0-306-40615-3") is None


def test_parse_text_spots_identifiers_among_words():
    parsed = searchtext.parse_text("hukum 0-306-40615-2 islam* 0378-5955")
    assert [t.word for t in parsed.terms] == ["hukum", "9780306406157", "islam", "03785955"]
    assert parsed.identifiers == ["9780306406157", "03785955"]
    assert parsed.terms[2].prefix


def test_parse_text_keeps_numbers_that_are_not_identifiers():
    parsed = searchtext.parse_text("sejarah 1945")
    assert [t.word for t in parsed.terms] == ["sejarah", "1945"]
    assert parsed.identifiers == []
