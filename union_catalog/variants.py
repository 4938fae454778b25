"""Spellings of one word that a search takes for each other.

Arabic words reach Indonesian catalogues transliterated several ways: one
library writes *hadis*, the next *hadits*, a third (or an English
record) *hadith*; *fikih*, *fiqih* and *fiqh*; *shalat*, *salat* and
*sholat*. A reader types one of them and would miss the records that use
another. So a search word found in one of the rings below also finds the
other words of its ring, as if the reader had typed them joined by "or"
(``searchtext.parse_text`` gives each word its ``variants``; the engines'
``expression`` and the ranking's title test use them). A word in double
quotes, or asked for by its start ('*'), is searched as typed.

A ring holds spellings of one word only, never words of different meaning
("hijrah", the emigration, is not "hijriah", the calendar; "koran" is also
Indonesian for newspaper and stays out), and only words as the index holds
them: folded (``searchtext.fold``: lower case, no diacritics, no apostrophes
or ʻayn marks, so "syari'ah" is "syariah" and "Ḥadīth" is "hadith"), one word
each. To add a ring, add a line; the tests check that every spelling is one
folded word and sits in one ring only.
"""
from __future__ import annotations

RINGS: tuple[tuple[str, ...], ...] = (
    # the Qur'an and its sciences
    ("quran", "alquran"),
    ("tafsir", "tafseer"),
    ("mushaf", "mushhaf"),
    ("tajwid", "tajweed"),
    # hadith
    ("hadis", "hadits", "hadith", "hadist"),
    ("sahih", "shahih", "shohih", "saheeh"),
    ("bukhari", "bukhori"),
    ("tirmidzi", "tirmidhi", "tirmizi"),
    ("sunah", "sunnah"),
    # law and its schools
    ("fikih", "fiqih", "fiqh", "fikh"),
    ("usul", "ushul"),
    ("ushuluddin", "usuluddin"),
    ("syariah", "syariat", "shariah", "sharia"),
    ("mazhab", "madzhab", "madhhab", "madhab"),
    ("syafii", "shafii"),
    ("hambali", "hanbali"),
    ("muamalah", "muamalat"),
    # worship
    ("salat", "shalat", "sholat", "solat"),
    ("wudu", "wudhu", "wudlu"),
    ("zakat", "zakah"),
    ("infak", "infaq"),
    ("sedekah", "sadaqah", "shadaqah", "sadakah"),
    ("wakaf", "waqf", "wakf"),
    ("kurban", "qurban"),
    ("akikah", "aqiqah"),
    ("ramadan", "ramadhan"),
    ("haji", "hajj"),
    ("dzikir", "zikir", "dhikr"),
    ("ibadah", "ibadat"),
    # belief, ethics, mysticism
    ("akidah", "aqidah", "aqida"),
    ("tauhid", "tawhid", "tawheed"),
    ("akhlak", "akhlaq"),
    ("tasawuf", "tasawwuf", "tashawuf"),
    ("syiah", "shiah", "shia"),
    # society, teaching, history
    ("dakwah", "dawah"),
    ("tarbiyah", "tarbiyyah"),
    ("ukhuwah", "ukhuwwah"),
    ("syura", "shura"),
    ("khilafah", "khilafat"),
    ("ulama", "ulema"),
    ("hijriah", "hijriyah"),
    ("makkah", "mekah", "mekkah", "mecca"),
    ("madinah", "medina"),
    # names that catalogues spell several ways
    ("muhammad", "muhamad"),
    ("shihab", "syihab"),
    ("quraish", "quraisy"),
    ("ghazali", "gazali"),
    ("taimiyah", "taimiyyah", "taymiyyah"),
)

_RING_OF: dict[str, tuple[str, ...]] = {word: ring for ring in RINGS for word in ring}


def of(word: str) -> tuple[str, ...]:
    """The other spellings of a folded word (none when it has no ring)."""
    ring = _RING_OF.get(word)
    return tuple(w for w in ring if w != word) if ring else ()
