"""How search reads text: folding and identifiers (no database)."""

from hypothesis import given, settings
from hypothesis import strategies as st

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


def _fold_the_long_way(text: str) -> str:
    """fold() without its plain-ASCII shortcut: every character decomposed."""
    import unicodedata

    text = unicodedata.normalize("NFKD", text.translate(searchtext._LETTERS)).translate(
        searchtext._INWORD_MARKS)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(searchtext._NON_WORD.sub(" ", text.casefold()).split())


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=0x7F)) | st.text())
def test_fold_takes_a_shortcut_for_plain_ascii_that_changes_nothing(text):
    assert searchtext.fold.__wrapped__(text) == _fold_the_long_way(text)


_DIGITS = st.text(alphabet="0123456789", min_size=9, max_size=9)


@settings(max_examples=300)
@given(st.lists(_DIGITS, max_size=6), st.lists(_DIGITS.map(lambda d: d[:7]), max_size=3))
def test_described_identifiers_are_read_as_identifier_tokens_reads_them(stems, issn_stems):
    """What describe() keeps (valid ISBN-13 digits, ISSNs as 1234-5678) gives
    the tokens identifier_tokens gives, though its ISBNs are not checked again."""
    from stdnum import ean
    from stdnum import issn as std_issn

    isbns = [f"978{s}{ean.calc_check_digit('978' + s)}" for s in stems]
    issns = [std_issn.format(s + std_issn.calc_check_digit(s)) for s in issn_stems]
    isbns += isbns[:1]  # a number twice: one token
    assert searchtext.described_identifier_tokens(isbns, issns) == \
        searchtext.identifier_tokens(isbns, issns)
    # anything else is checked as identifier_tokens checks it
    odd = ["0-306-40615-2", "0-306-40615-3", "978-0-306-40615-7", "(pbk.)", ""]
    assert searchtext.described_identifier_tokens(odd + isbns, issns + ["1234-5678"]) == \
        searchtext.identifier_tokens(odd + isbns, issns + ["1234-5678"])


def test_an_identifiers_label_is_left_out():
    for text in ("ISBN 978-0-306-40615-7", "isbn: 0-306-40615-2", "ISBN:9780306406157",
                 "e-ISBN 9780306406157", "ISBN-13 978-0-306-40615-7"):
        parsed = searchtext.parse_text(text)
        assert [t.word for t in parsed.terms] == ["9780306406157"], text
    assert [t.word for t in searchtext.parse_text("ISSN 0378-5955").terms] == ["03785955"]
    # a label with no number after it is just a word
    assert [t.word for t in searchtext.parse_text("isbn hukum").terms] == ["isbn", "hukum"]


def test_an_identifier_box_takes_the_number_as_a_title_page_prints_it():
    assert searchtext.identifier_box("978 0 306 40615 7") == "9780306406157"
    assert searchtext.identifier_box("ISBN 978-0-306-40615-7") == "9780306406157"
    assert searchtext.identifier_box("ISSN 0378-5955") == "03785955"
    assert searchtext.identifier_box("9780306406157 (pbk.)") == "9780306406157 (pbk.)"


def _said(parsed):
    return [(t.word, t.prefix, t.follows) for t in parsed.terms]


def test_words_in_double_quotes_follow_one_another():
    assert _said(searchtext.parse_text('hukum "Sejarah, peradaban Islam" adat')) == [
        ("hukum", False, False), ("sejarah", False, False), ("peradaban", False, True),
        ("islam", False, True), ("adat", False, False)]
    # typographic quotes, a phrase ended by '*', hyphenated words
    assert _said(searchtext.parse_text("\u201ctafsir al-misb*\u201d")) == [
        ("tafsir", False, False), ("al", False, True), ("misb", True, True)]
    # two phrases side by side stay two; an identifier inside one stands alone
    assert _said(searchtext.parse_text('"a b" "c d"')) == [
        ("a", False, False), ("b", False, True), ("c", False, False), ("d", False, True)]
    assert _said(searchtext.parse_text('"fiqih 0-306-40615-2 muamalah"')) == [
        ("fiqih", False, False), ("9780306406157", False, False), ("muamalah", False, False)]
    # an unclosed quote quotes nothing
    assert _said(searchtext.parse_text('"a b" "c d')) == [
        ("a", False, False), ("b", False, True), ("c", False, False), ("d", False, False)]
    groups = searchtext.phrases([(None, t) for t in searchtext.parse_text('x "a b c" y').terms])
    assert [[t.word for _c, t in g] for g in groups] == [["x"], ["a", "b", "c"], ["y"]]


@given(st.text(alphabet=st.sampled_from(list('abc xyz*"\u201c\u201d-'))))
def test_quotes_change_which_words_follow_never_which_words(text):
    plain = searchtext.parse_text(text)
    unquoted = searchtext.parse_text(text.replace('"', " ").replace("\u201c", " ").replace("\u201d", " "))
    assert [(t.word, t.prefix) for t in plain.terms] == [(t.word, t.prefix) for t in unquoted.terms]
    assert not any(t.follows for t in unquoted.terms)


def test_sort_title_files_without_non_filing_characters():
    sort_title = searchtext.sort_title
    # the records' own filing form (245 second indicator, or a leading article dropped)
    assert sort_title("al-Qurʼan dan tafsirnya", ["Qurʼan dan tafsirnya"]) == "quran dan tafsirnya"
    assert sort_title("Der Islam : eine Einführung", ["Islam"]) == "islam eine einfuhrung"
    assert sort_title("Tafsir al-Misbah : pesan, kesan", ["tafsir al misbah"]) == "tafsir al misbah pesan kesan"
    # a title proper found further in is not a non-filing prefix
    assert sort_title("Kumpulan makalah seminar hukum", ["hukum"]) == "kumpulan makalah seminar hukum"
    # no filing form known: a leading article is dropped, never the whole title
    assert sort_title("The Qur'an", []) == "quran"
    assert sort_title("Al-Hikam", [None, ""]) == "hikam"
    assert sort_title("The", []) == "the"
    assert sort_title("Sejarah peradaban Islam", []) == "sejarah peradaban islam"
    assert sort_title("", ["x"]) == ""


@given(st.text(max_size=40), st.lists(st.text(max_size=20), max_size=3))
@settings(max_examples=300)
def test_sort_title_is_a_tail_of_the_folded_title(title, keys):
    folded = searchtext.fold(title)
    key = searchtext.sort_title(title, keys)
    assert folded.endswith(key)
    assert (key == "") == (folded == "")


def test_sort_author_files_without_a_hyphened_arabic_article_only():
    assert searchtext.sort_author("al-Ghazālī, Abū Ḥāmid") == "ghazali abu hamid"
    assert searchtext.sort_author("El-Fadl, Khaled Abou") == "fadl khaled abou"
    assert searchtext.sort_author("Shihab, M. Quraish") == "shihab m quraish"
    assert searchtext.sort_author("A. Hassan") == "a hassan"
    assert searchtext.sort_author("La Ode Ida") == "la ode ida"
    assert searchtext.sort_author("Alwi, Hasan") == "alwi hasan"
    assert searchtext.sort_author("") == searchtext.sort_author(None) == ""
