"""Which partner records describe one edition: facts, match keys, decisions.

Pure functions over plain data (no Flask, no database):

* ``describe(record)`` reads a pymarc record once and returns the facts that
  clustering and search work from, as a JSON-serialisable dict (the importer
  stores it in ``SourceRecord.match_data``).
* ``block_keys(facts)`` gives the blocking keys under which a record looks for
  candidates; ``compare(a, b)`` decides whether two records are one edition and
  says why, in words a librarian can check.
* ``cluster(records, together, apart)`` groups records with a union-find over
  candidate pairs, honouring coordinators' decisions, independent of the order
  the records come in.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from stdnum import isbn as std_isbn
from stdnum import issn as std_issn

# Bump when describe() changes what it returns, so stored facts can be renewed.
FACTS_VERSION = 1
# The subfields a name heading is shown with, by its tag's last two digits
# (100/700 a person, 110/710 a body, 111/711 a meeting): the name and its
# numeration, titles and fuller form, without dates or relator terms.
NAME_SUBFIELDS = {"00": "abq", "10": "abn", "11": "abn"}
NAME_TAGS = ("100", "110", "111", "700", "710", "711")

# The text functions below are pure functions of a string, cached: a library's
# records repeat their publishers, names, places and series, and each
# distinct string is worked out once per reader.
_CACHED = 1 << 15

# --- text normalisation ---------------------------------------------------------

# Transliteration marks (ayn, hamza, prime) and apostrophes vanish without a
# space: "Iḥyāʼ ʻulūm" and "Ihya' 'ulum" and "Ihya ulum" are one title.
_MARKS = dict.fromkeys(map(ord, "ʻʼʾʿ'`´‘’ʹʺ\u02b9\u02bb\u02bc\u02bd\u02be\u02bf"), None)
_NON_ALNUM = re.compile(r"[^0-9a-z]+")
# Articles a title proper files without when its record does not say how many
# characters to skip (245's second indicator), as written before the next word:
# the one list for matching's title keys and for the sort by title
# (searchtext.FILING_ARTICLES).
LEADING_ARTICLES = ("al-", "el-", "the ", "an ", "a ", "le ", "la ", "les ", "l'", "der ", "die ", "das ")
_LEADING_ARTICLE = re.compile("^(?:" + "|".join(map(re.escape, LEADING_ARTICLES)) + ")", re.I)


@lru_cache(maxsize=_CACHED)
def fold(text: str | None) -> str:
    """Lower case, no diacritics, no transliteration marks, words separated by
    one space: the form two catalogues' spellings of one string share."""
    if not text:
        return ""
    if text.isascii():
        # nothing to decompose, no diacritics, no special letters: the same
        # result as below, without the per-character pass
        return _NON_ALNUM.sub(" ", text.translate(_MARKS).lower()).strip()
    text = unicodedata.normalize("NFKD", text.translate(_MARKS))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.translate(_MARKS).lower()
    # ı ø æ ß and friends have no decomposition
    text = text.replace("ı", "i").replace("ø", "o").replace("æ", "ae").replace("ß", "ss")
    text = text.replace("đ", "d").replace("ł", "l").replace("œ", "oe")
    return _NON_ALNUM.sub(" ", text).strip()


_ISBD_END = re.compile(r"\s*[:/;,=]\s*$")
_ABBREVIATION_END = re.compile(r"(?:\b\w{1,3}|\.\w)\.$")
_SPACES = re.compile(r"\s+")


@lru_cache(maxsize=_CACHED)
def strip_isbd(text: str | None) -> str:
    """A subfield without the ISBD punctuation that ends it (' :', ' /', '.', ',', ';', '=')."""
    if not text:
        return ""
    text = _ISBD_END.sub("", text.strip())
    # a closing full stop, but not one of an abbreviation like "ed." or "Jil."
    if text.endswith(".") and not _ABBREVIATION_END.search(text):
        text = text[:-1]
    return text.strip()


# --- identifiers ----------------------------------------------------------------

_ISBN_TOKEN = re.compile(r"[0-9][0-9\- ]{7,17}[0-9Xx]|[0-9]{9}[Xx]")
_SET_WORDS = re.compile(r"\b(?:set|jil\.?\s*lengkap|jilid\s*lengkap|keseluruhan|lengkap|"
                        r"complete|all\s+vol|vol\.?\s*set|multi[- ]?vol|the\s+set)", re.I)


@lru_cache(maxsize=1 << 16)
def _isbn13(candidate: str) -> str | None:
    # one check-digit test per distinct number: partners share their ISBNs
    compact = re.sub(r"[\s\-]", "", candidate).upper()
    if len(compact) not in (10, 13) or not std_isbn.is_valid(compact):
        return None
    return std_isbn.to_isbn13(compact)


def parse_isbn(text: str, qualifier: str = "") -> tuple[str | None, bool, str]:
    """(ISBN-13 or None, whether it is the whole set's, the raw number).

    Hyphens, spaces and qualifiers like "(pbk.)" are noise; a number whose
    check digit does not fit gives None: it is evidence of nothing."""
    text = text or ""
    m = _ISBN_TOKEN.search(text)
    if not m:
        return None, False, ""
    raw = m.group(0)
    rest = (text[: m.start()] + " " + text[m.end():] + " " + (qualifier or "")).strip()
    return _isbn13(raw), bool(_SET_WORDS.search(rest)), re.sub(r"[\s\-]", "", raw)


def parse_issn(text: str) -> str | None:
    m = re.search(r"\b(\d{4})\s*-?\s*(\d{3}[\dXx])\b", text or "")
    if not m:
        return None
    value = (m.group(1) + m.group(2)).upper()
    return std_issn.format(value) if std_issn.is_valid(value) else None


# --- statements -----------------------------------------------------------------

_ORDINAL_WORDS = {
    "pertama": 1, "kesatu": 1, "first": 1, "kedua": 2, "second": 2, "ketiga": 3, "third": 3,
    "keempat": 4, "fourth": 4, "kelima": 5, "fifth": 5, "keenam": 6, "sixth": 6,
    "ketujuh": 7, "seventh": 7, "kedelapan": 8, "eighth": 8, "kesembilan": 9, "ninth": 9,
    "kesepuluh": 10, "tenth": 10,
}
_EDITION_WORD = re.compile(r"\b(?:ed|edisi|edition|edn|eds|revisi|revised|rev|aufl|tab|al tab)\b")
_REPRINT_WORD = re.compile(r"\b(?:cet|cetakan|printing|print|reprint|repr|impression|imp|"
                           r"cetak ulang|reprinted)\b")


@lru_cache(maxsize=_CACHED)
def edition_number(statement: str | None) -> str | None:
    """The edition a 250 names, as a short key; None for a first edition or a
    mere reprint ("Cet. 3" is the same edition printed again; "Ed. 2" is not)."""
    text = fold(statement)
    if not text:
        return None
    if not _EDITION_WORD.search(text):
        if _REPRINT_WORD.search(text):
            return None
        # an unlabelled statement: a number is still an edition ("2nd")
    numbers = re.findall(r"\d+", text)
    if numbers:
        n = int(numbers[0])
        return None if n <= 1 else str(n)
    for word, n in _ORDINAL_WORDS.items():
        if re.search(rf"\b{word}\b", text):
            return None if n <= 1 else str(n)
    if re.search(r"\b(?:revisi|revised|rev)\b", text):
        return "rev"
    return None


_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6, "vii": 7, "viii": 8, "ix": 9,
          "x": 10, "xi": 11, "xii": 12, "xiii": 13, "xiv": 14, "xv": 15, "xvi": 16, "xvii": 17,
          "xviii": 18, "xix": 19, "xx": 20}
# "Jilid 2", "Jil. II", "Vol. 3", "Buku 1", "Juz 30"; a dropped space ("komprehensifJilid 4")
# still names a volume.
_VOLUME = re.compile(r"(?:(?<![^\W\d_])|(?<=[a-z])(?=jil|jli|jii|ili|vol))"
                     r"(?:jilid|jild|jlid|jiid|jili|ilid|jil|vol|volume|volumes|buku|juz|juzuk|"
                     r"bagian|bag|part|pt|tome|tom|band|bd)\s*\.?\s*(\d{1,3}|[ivx]{1,5})\b", re.I)


def _volume_value(token: str) -> str:
    token = token.lower()
    return str(_ROMAN[token]) if token in _ROMAN else str(int(token))


@lru_cache(maxsize=_CACHED)
def find_volume(text: str | None) -> tuple[str | None, str]:
    """(volume number, text without the volume phrase) from a title or $n."""
    if not text:
        return None, ""
    # the last one: "Buku Ajar ... Jilid 2" names the volume at the end
    found = list(_VOLUME.finditer(text))
    m = found[-1] if found else None
    if m is None:
        return None, text
    return _volume_value(m.group(1)), (text[: m.start()] + text[m.end():]).strip()


_PAGES = re.compile(r"(\d{1,5})\s*(?:hlm|hal|halaman|p\b|pp|pages|page|s\b|lembar|leaves)", re.I)


def pages(extent: str | None) -> int | None:
    m = _PAGES.search(extent or "")
    return int(m.group(1)) if m else None


_YEAR = re.compile(r"(1[5-9]\d\d|20\d\d)")


def year_of(text: str | None) -> int | None:
    m = _YEAR.search(text or "")
    return int(m.group(1)) if m else None


# two-letter language codes (ISO 639-1), as some systems write 041, to MARC's
LANGUAGE_CODES = {"id": "ind", "in": "ind", "en": "eng", "ar": "ara", "ms": "msa", "jv": "jav",
                  "su": "sun", "nl": "dut", "de": "ger", "fr": "fre", "zh": "chi", "ja": "jpn"}

_PUBLISHER_NOISE = re.compile(r"\b(?:penerbit|pt|cv|ud|inc|ltd|llc|co|corp|publisher|publishers|"
                              r"publishing|the|dan|and|s n|sn)\b")


@lru_cache(maxsize=_CACHED)
def publisher_key(name: str | None) -> str:
    return " ".join(_PUBLISHER_NOISE.sub(" ", fold(name)).split())


@lru_cache(maxsize=_CACHED)
def name_key(name: str | None) -> str:
    """A personal name in either order ("Harahap, Ahmad" and "Ahmad Harahap")
    as one key: its words, sorted; dates and relator words left out."""
    words = [w for w in fold(name).split() if not w.isdigit()]
    return " ".join(sorted(words))


# --- describe -------------------------------------------------------------------

def _subfields(f, codes: str) -> list[str]:
    return [sf.value for sf in f.subfields if sf.code in codes and sf.value]


def _first(record, tags: Iterable[str]):
    for tag in tags:
        found = record.get_fields(tag)
        if found:
            return found[0]
    return None


class _ByTag:
    """A record's fields by tag, gathered in one pass: describe() asks for
    some fifteen tags, and each pymarc get_fields() walks every field."""

    __slots__ = ("fields", "tags")

    def __init__(self, record):
        self.fields = record.fields
        tags: dict[str, list] = {}
        for f in self.fields:
            found = tags.get(f.tag)
            if found is None:
                tags[f.tag] = [f]
            else:
                found.append(f)
        self.tags = tags

    def get_fields(self, *tags: str) -> list:
        """As pymarc's: the fields with these tags, in the record's order."""
        if len(tags) == 1:
            return self.tags.get(tags[0]) or []
        wanted = set(tags)
        return [f for f in self.fields if f.tag in wanted]


def _display(parts: Iterable[str]) -> str:
    text = " ".join(p for p in (strip_isbd(x) for x in parts) if p)
    return _SPACES.sub(" ", text).strip()


def describe(record) -> dict:
    """The facts of one MARC record that clustering and search need (JSON-ready).

    Keys: title, title_key, subtitle, author, authors (name keys), names
    (the name headings as catalogued, 1XX and 7XX), year,
    isbns (valid ISBN-13, the edition's own), isbns_set (the whole set's),
    isbns_invalid (raw numbers whose check digit fails), issns, language,
    format, publisher, publisher_key, place, edition, edition_no, volume,
    pages, subjects, work_key (see work_key), v (facts version)."""
    leader = str(record.leader) if record.leader else ""
    fields = _ByTag(record)
    f008 = _first(fields, ["008"])
    d008 = f008.data if f008 is not None and f008.is_control_field() else ""

    # title, volume, title key
    f245 = _first(fields, ["245"])
    title_a = title_b = ""
    parts_np: list[str] = []
    nonfiling = 0
    if f245 is not None:
        a = _subfields(f245, "a")
        b = _subfields(f245, "b")
        parts_np = _subfields(f245, "np")
        title_a = a[0] if a else ""
        title_b = " ".join(b)
        ind2 = (f245.indicators[1] if f245.indicators and len(f245.indicators) > 1 else "") or ""
        nonfiling = int(ind2) if ind2.isdigit() else 0
    else:
        f = _first(fields, ["246", "240", "130", "210", "222"])
        if f is not None:
            title_a = " ".join(_subfields(f, "a"))
    volume = None
    for part in parts_np:
        volume = volume or find_volume(part)[0]
    title_a_clean = strip_isbd(title_a)
    title_b_clean = strip_isbd(title_b.lstrip(" :;=").strip())
    if volume is None:
        # SLiMS and others write the volume into the title itself: "... Jilid 2"
        vol_b, rest_b = find_volume(title_b_clean)
        if vol_b:
            volume, title_b_clean = vol_b, strip_isbd(rest_b)
        else:
            vol_a, rest_a = find_volume(title_a_clean)
            if vol_a and fold(rest_a):
                volume, title_a_clean = vol_a, strip_isbd(rest_a)
    subtitle_part = [": " + title_b_clean] if title_b_clean else []
    display = _display([title_a_clean] + subtitle_part + parts_np)
    display = display.replace(" : ", ": ").replace(" ::", ":")
    key_source = title_a_clean
    if 0 < nonfiling < len(key_source):
        key_source = key_source[nonfiling:]
    key_source = _LEADING_ARTICLE.sub("", key_source.strip())
    title_key = fold(key_source)

    # people
    authors: list[str] = []
    author_display = ""
    main = _first(fields, ["100", "110", "111"])
    if main is not None:
        author_display = strip_isbd(" ".join(_subfields(main, NAME_SUBFIELDS[main.tag[1:]])))
    names: list[str] = []  # the headings as catalogued, for browsing (union_catalog.headings)
    for f in fields.get_fields(*NAME_TAGS):
        key = name_key(" ".join(_subfields(f, "a" if f.tag in ("100", "700") else "ab")))
        if key and key not in authors:
            authors.append(key)
        name = strip_isbd(" ".join(_subfields(f, NAME_SUBFIELDS[f.tag[1:]])))
        if name and name not in names:
            names.append(name)
    if not author_display and f245 is not None:
        author_display = strip_isbd(" ".join(_subfields(f245, "c")))

    # publication
    pub = None
    for f in fields.get_fields("264"):
        if (f.indicators[1] if f.indicators else "") in ("1", " ", ""):
            pub = f
            break
    pub = pub or _first(fields, ["260", "264"])
    place = strip_isbd(" ".join(_subfields(pub, "a"))) if pub is not None else ""
    publisher = strip_isbd(" ".join(_subfields(pub, "b")[:1])) if pub is not None else ""
    year_pub = year_of(" ".join(_subfields(pub, "c"))) if pub is not None else None
    year_008 = None
    if len(d008) >= 11 and d008[7:11].isdigit():
        year_008 = int(d008[7:11])
        if not 1450 <= year_008 <= 2100:
            year_008 = None
    year = year_008 or year_pub

    # identifiers
    isbns: list[str] = []
    isbns_set: list[str] = []
    isbns_invalid: list[str] = []
    issns: list[str] = []
    for f in fields.get_fields("020"):
        qualifier = " ".join(_subfields(f, "q"))
        for value in _subfields(f, "a"):
            number, whole_set, raw = parse_isbn(value, qualifier)
            if number:
                target = isbns_set if whole_set else isbns
                if number not in target:
                    target.append(number)
            else:
                found_issn = parse_issn(value)
                if found_issn and len(re.sub(r"\D", "", value)) <= 8:
                    if found_issn not in issns:
                        issns.append(found_issn)  # SLiMS keeps ISBN and ISSN in one field
                elif raw:
                    isbns_invalid.append(raw)
    for f in fields.get_fields("022"):
        for value in _subfields(f, "al"):
            found_issn = parse_issn(value)
            if found_issn and found_issn not in issns:
                issns.append(found_issn)
    # an ISBN also given as the set's is the set's
    isbns = [i for i in isbns if i not in isbns_set]

    # language
    language = d008[35:38].strip().lower() if len(d008) >= 38 else ""
    if not re.fullmatch(r"[a-z]{3}", language or "") or language in ("und", "zxx", "   "):
        language = ""
    if not language:
        f041 = _first(fields, ["041"])
        code = fold(" ".join(_subfields(f041, "a"))) if f041 is not None else ""
        code = code.split()[0] if code else ""
        language = LANGUAGE_CODES.get(code, code if len(code) == 3 else "")

    # format
    rtype = leader[6:7] if len(leader) > 7 else ""
    level = leader[7:8] if len(leader) > 7 else ""
    thesis_note = " ".join(" ".join(_subfields(f, "abc")) for f in fields.get_fields("502"))
    if thesis_note or re.search(r"\b(?:skripsi|tesis|thesis|disertasi|dissertation)\b",
                                fold(" ".join(_subfields(f245, "h")) if f245 is not None else "")):
        fmt = "thesis"
    elif level in ("s", "i") or (issns and not isbns and not isbns_set):
        fmt = "serial"
    elif rtype in ("e", "f"):
        fmt = "map"
    elif rtype in ("c", "d"):
        fmt = "score"
    elif rtype in ("g", "k"):
        fmt = "visual"
    elif rtype in ("i", "j"):
        fmt = "audio"
    elif rtype == "m":
        fmt = "computer"
    else:
        fmt = "book"

    f250 = _first(fields, ["250"])
    edition = strip_isbd(" ".join(_subfields(f250, "ab"))) if f250 is not None else ""
    f300 = _first(fields, ["300"])
    extent = " ".join(_subfields(f300, "a")) if f300 is not None else ""

    subjects: list[str] = []
    for f in fields.get_fields("600", "610", "611", "630", "650", "651", "655"):
        heading = " -- ".join(strip_isbd(v) for v in _subfields(f, "abcdvxyz"))
        if heading and heading not in subjects:
            subjects.append(heading)

    facts = {
        "v": FACTS_VERSION,
        "title": display,
        "title_key": title_key,
        "subtitle": title_b_clean,
        "subtitle_key": fold(title_b_clean),
        "author": author_display,
        "authors": authors,
        "names": names,
        "year": year,
        "year_published": year_pub,
        "isbns": isbns,
        "isbns_set": isbns_set,
        "isbns_invalid": isbns_invalid,
        "issns": issns,
        "language": language,
        "format": fmt,
        "publisher": publisher,
        "publisher_key": publisher_key(publisher),
        "place": place,
        "edition": edition,
        "edition_no": edition_number(edition),
        "volume": volume,
        "pages": pages(extent),
        "subjects": subjects,
    }
    # worked out once here, where the record is read (a second process for
    # large files), not each time its union record is indexed again
    facts["work_key"] = work_key(facts)
    return facts


# --- pairwise decision ----------------------------------------------------------

# Titles that many unrelated textbooks carry (course names): on these a title
# with an author is not enough, the imprint must agree too.
GENERIC_TITLES = frozenset(fold(t) for t in [
    "Pengantar Ilmu Hukum", "Metodologi Penelitian", "Pengantar Ekonomi", "Filsafat Ilmu",
    "Manajemen Sumber Daya Manusia", "Statistika", "Pendidikan Agama Islam", "Sejarah Indonesia",
    "Dasar-dasar Manajemen", "Bahasa Indonesia", "Pengantar Manajemen", "Pengantar Akuntansi",
    "Metode Penelitian", "Metodologi Penelitian Pendidikan", "Metode Penelitian Kualitatif",
    "Pendidikan Kewarganegaraan", "Pancasila", "Ilmu Pendidikan", "Hukum Islam", "Fiqh",
    "Ulumul Quran", "Sejarah Peradaban Islam", "Studi Islam", "Bahasa Inggris", "Bahasa Arab",
    "Matematika", "Fisika", "Kimia", "Biologi", "Ekonomi", "Akuntansi", "Manajemen",
    "Sosiologi", "Psikologi", "Pengantar Sosiologi", "Pengantar Psikologi", "Introduction",
    "Proceedings", "Laporan Tahunan", "Annual Report", "Kumpulan Makalah", "Prosiding",
])

# How strongly a pair is tied: stronger ties are tried first.
TOGETHER, ISBN, ISSN, FULL, CLOSE = 100, 90, 80, 60, 50


def _within_one(a: str, b: str) -> bool:
    """True when a and b differ by at most one inserted, dropped or changed letter."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la > lb:
        a, b, la, lb = b, a, lb, la
    i = 0
    while i < la and a[i] == b[i]:
        i += 1
    if la == lb:
        return a[i + 1:] == b[i + 1:]
    return a[i:] == b[i + 1:]


def is_generic(title_key: str) -> bool:
    return title_key in GENERIC_TITLES or len(title_key.split()) <= 2


def _edits_at_most_two(a: str, b: str) -> bool:
    """Levenshtein distance of at most two, in a band around the diagonal."""
    if abs(len(a) - len(b)) > 2:
        return False
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [3] * len(b)
        for j in range(max(1, i - 2), min(len(b), i + 2) + 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != b[j - 1]))
        if min(cur) > 2:
            return False
        prev = cur
    return prev[-1] <= 2


def squash(key: str | None) -> str:
    """A title key without spaces or a leading "al"/"el": a dropped space or
    hyphen ("Jurnalekologi", "alRisalah") does not make another title."""
    text = (key or "").replace(" ", "")
    if text[:2] in ("al", "el") and len(text) > 5:
        text = text[2:]
    return text


def _same_title(a: dict, b: dict) -> str | None:
    """'' when the titles agree, a note when they are a letter or two apart,
    None when they differ."""
    ta, tb = squash(a.get("title_key")), squash(b.get("title_key"))
    if not ta or not tb:
        return None
    if ta == tb:
        return ""
    # a subtitle run into the title proper: "Kimia dasar pendekatan terpadu"
    fa = squash(f"{a.get('title_key') or ''} {a.get('subtitle_key') or ''}")
    fb = squash(f"{b.get('title_key') or ''} {b.get('subtitle_key') or ''}")
    if fa == fb or fa == tb or ta == fb:
        return ""
    shortest = min(len(ta), len(tb))
    if shortest >= 6 and _within_one(ta, tb):
        return "title one letter apart"
    if shortest >= 15 and _edits_at_most_two(ta, tb):
        return "title two letters apart"
    return None


def _same_author(a: dict, b: dict) -> bool | None:
    """True when the main authors agree, False when both name one and they
    differ, None when a side names nobody. A one-letter slip is forgiven in a
    long name only: "Sutarno" and "Suwarno" are two people."""
    aa, ab = a.get("authors") or [], b.get("authors") or []
    if not aa or not ab:
        return None
    x, y = aa[0], ab[0]
    return x == y or (min(len(x), len(y)) >= 10 and _within_one(x, y))


def _corroborated(a: dict, b: dict) -> bool:
    """More than title, author and imprint agree: what lets a year one off pass."""
    if a.get("pages") and a.get("pages") == b.get("pages"):
        return True
    aa, ab = a.get("authors") or [], b.get("authors") or []
    if len(aa) >= 2 and set(aa) == set(ab):
        return True
    return bool(a.get("subtitle_key")) and a.get("subtitle_key") == b.get("subtitle_key")


def _same_publisher(a: dict, b: dict) -> bool | None:
    pa, pb = a.get("publisher_key") or "", b.get("publisher_key") or ""
    if not pa or not pb:
        return None
    if pa == pb or pa in pb or pb in pa:
        return True
    if _within_one(pa, pb):
        return True
    return bool(_telling_words(pa) & _telling_words(pb))


# Words many publishers' names share: they tell no publisher from another.
_PUBLISHER_COMMON = frozenset("""al el dar maktabah university universitas press pustaka
    penerbit publishing group media books book library perpustakaan institut institute islam
    islamiyah nasional national indonesia jakarta utama grafindo persada center centre studies
    ilmu""".split())


def _telling_words(key: str) -> set:
    return {w for w in key.split() if len(w) > 2 and w not in _PUBLISHER_COMMON}


def _year_gap(a: dict, b: dict) -> int | None:
    ya, yb = a.get("year"), b.get("year")
    if ya is None or yb is None:
        return None
    return abs(ya - yb)


def _pages_differ(a: dict, b: dict) -> bool:
    pa, pb = a.get("pages"), b.get("pages")
    if not pa or not pb:
        return False
    return abs(pa - pb) > max(5, 0.1 * max(pa, pb))


def conflict(a: dict, b: dict, *, by_identifier: bool = False) -> str | None:
    """Why two records cannot be one edition, or None."""
    if (a.get("volume") or None) != (b.get("volume") or None):
        return "different volumes"
    if by_identifier:
        gap = _year_gap(a, b)
        if gap is not None and gap > 3:
            return "years too far apart for one edition"
        return None
    if (a.get("format") or "book") != (b.get("format") or "book"):
        return "different formats"
    if (a.get("edition_no") or None) != (b.get("edition_no") or None):
        return "different editions"
    ia, ib = a.get("isbns") or [], b.get("isbns") or []
    if ia and ib and not set(ia) & set(ib):
        return "different ISBNs"
    sa, sb = a.get("issns") or [], b.get("issns") or []
    if sa and sb and not set(sa) & set(sb):
        return "different ISSNs"
    gap = _year_gap(a, b)
    if gap is not None and gap > 1:
        return "different years"
    return None


def compare(a: dict, b: dict) -> tuple[int, str] | None:
    """Whether two records describe one edition: (strength, evidence) or None.

    Identifiers first; without one, the title must agree (one letter of slack)
    and so must the author, year, edition, volume and imprint. A title alone
    never merges; a thesis or other local material merges only on an
    identifier or by a coordinator's hand."""
    shared = sorted(set(a.get("isbns") or []) & set(b.get("isbns") or []))
    if shared and not conflict(a, b, by_identifier=True):
        return ISBN, f"same ISBN {shared[0]}"
    shared = sorted(set(a.get("issns") or []) & set(b.get("issns") or []))
    if shared and not conflict(a, b, by_identifier=True) and \
            (a.get("edition_no") or None) == (b.get("edition_no") or None):
        return ISSN, f"same ISSN {shared[0]}"
    if "thesis" in (a.get("format"), b.get("format")):
        return None
    if conflict(a, b):
        return None
    title_note = _same_title(a, b)
    if title_note is None:
        return None
    author = _same_author(a, b)
    if author is False:
        return None
    publisher = _same_publisher(a, b)
    if publisher is False or _pages_differ(a, b):
        return None
    gap = _year_gap(a, b)
    same_pages = bool(a.get("pages")) and a.get("pages") == b.get("pages")
    generic = is_generic(a.get("title_key") or "") or is_generic(b.get("title_key") or "")
    if a.get("format") == "serial":
        # a journal has no author: its title, publisher and first year carry it
        if not (publisher and gap == 0):
            return None
    elif author is None:
        # an anonymous work: the imprint must carry it
        if not (publisher and gap == 0) or (generic and not same_pages):
            return None
    elif generic:
        # a course-book title: many authors wrote one, some of them twice
        if gap is None or gap > 1 or not (publisher or same_pages):
            return None
    elif gap is None and not publisher:
        return None
    if gap == 1 and not _corroborated(a, b):
        return None  # a printing year one off, or another edition a year later
    if title_note and not (publisher and gap is not None and gap <= 1):
        return None  # a mistyped title needs everything else to agree
    if title_note.startswith("title two") and (generic or not author or gap):
        return None
    facts = ["title"]
    if author:
        facts.append("author")
    if gap is not None:
        facts.append(f"year {a['year']}" if gap == 0 else f"year {a['year']}/{b['year']}")
    if publisher:
        facts.append("publisher")
    if a.get("edition_no"):
        facts.append(f"edition {a['edition_no']}")
    if a.get("volume"):
        facts.append(f"volume {a['volume']}")
    if same_pages:
        facts.append("pages")
    text = "same " + ", ".join(facts)
    if title_note:
        text += f" ({title_note})"
    strength = FULL if (publisher and gap is not None and not title_note) else CLOSE
    return strength, text


# --- blocking -------------------------------------------------------------------

def block_keys(f: dict) -> list[str]:
    """The keys under which a record meets its candidates.

    Two records that could be one edition share at least one key: an
    identifier; or title and first author (whatever the year says); or
    title, year and publisher (for authors written differently); or author,
    year and publisher (for a mistyped title). Identifier keys start with
    "i:" or "s:"."""
    keys = [f"i:{i}" for i in f.get("isbns") or ()]
    for i in f.get("issns") or ():
        keys.append(f"s:{i}")
    if f.get("format") == "thesis":
        return keys
    title = squash(f.get("title_key"))
    # volume and edition ride along: records that differ in them never match
    vol = f"{f.get('volume') or ''}|{f.get('edition_no') or ''}"
    authors = f.get("authors")
    first = authors[0] if authors else ""
    pub = f.get("publisher_key") or ""
    year = f.get("year") or ""
    if title:
        keys.append(f"ta:{title}|{vol}|{first}")
        keys.append(f"ty:{title}|{vol}|{year}|{pub}")
    if first:
        keys.append(f"ay:{first}|{vol}|{year}|{pub}")
    else:
        keys.append(f"py:{pub}|{vol}|{year}")  # journals and anonymous works
    return keys


def work_key(f: dict) -> str:
    """The work a record is an edition (or volume) of: its title proper and
    first author, whatever its edition, volume, year and publisher say;
    "" when it names no author (a title alone is too weak to tie editions:
    "Pengantar ekonomi" has many authors) or is a thesis (one of a kind).
    Records that share it are other editions of one work, never one
    edition by it alone."""
    authors = f.get("authors")
    if not authors or not authors[0] or f.get("format") == "thesis":
        return ""
    title = squash(f.get("title_key"))
    return f"{title}|{authors[0]}" if title else ""


def commonest(values: Iterable[str]) -> list[str]:
    """The values that are not empty, each once, the commonest first; ties
    in the order they first come (a union record's records agreeing)."""
    counted: dict[str, int] = {}  # a plain count: Counter costs more than it saves on a few records
    for value in values:
        if value:
            counted[value] = counted.get(value, 0) + 1
    if len(counted) < 2:
        return list(counted)
    return sorted(counted, key=counted.__getitem__, reverse=True)  # stable


def common_work_key(facts: Iterable[dict]) -> str:
    """The work a union record's records say they are editions of: the
    commonest ``work_key`` among them (then the first), "" when none names one."""
    keys = commonest(f["work_key"] if "work_key" in f else work_key(f) for f in facts)
    return keys[0] if keys else ""


# --- clustering -----------------------------------------------------------------

@dataclass
class Clustering:
    """Groups of record ids (each group sorted, groups by their smallest id)
    and, for every record, why it sits where it does."""

    groups: list[list]
    evidence: dict = field(default_factory=dict)

    def group_of(self) -> dict:
        return {rid: n for n, g in enumerate(self.groups) for rid in g}


class _Components:
    """Union-find whose components remember what must stay consistent: one
    volume, one edition, ISBNs that overlap, and coordinators' separations."""

    def __init__(self, facts: dict, apart: dict):
        self.parent = {rid: rid for rid in facts}
        self.members = {rid: [rid] for rid in facts}
        # identifiers, volume and edition only where a record has them
        self.isbns = {rid: set(f["isbns"]) for rid, f in facts.items() if f.get("isbns")}
        self.issns = {rid: set(f["issns"]) for rid, f in facts.items() if f.get("issns")}
        self.volume = {rid: f["volume"] for rid, f in facts.items() if f.get("volume")}
        self.edition = {rid: f["edition_no"] for rid, f in facts.items() if f.get("edition_no")}
        self.apart = {rid: set(others) for rid, others in apart.items()}

    def find(self, x):
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def _kept_apart(self, ra, rb) -> bool:
        if ra in self.apart and not self.apart[ra].isdisjoint(self.members[rb]):
            return True
        return rb in self.apart and not self.apart[rb].isdisjoint(self.members[ra])

    def refuses(self, ra, rb, strength: int) -> bool:
        if self._kept_apart(ra, rb):
            return True
        if strength >= TOGETHER:
            return False
        if self.volume.get(ra) != self.volume.get(rb):
            return True
        if strength < ISSN:
            if self.edition.get(ra) != self.edition.get(rb):
                return True
            ia, ib = self.isbns.get(ra), self.isbns.get(rb)
            if ia and ib and ia.isdisjoint(ib):
                return True
        if strength < ISBN:
            sa, sb = self.issns.get(ra), self.issns.get(rb)
            if sa and sb and sa.isdisjoint(sb):
                return True
        return False

    def union(self, ra, rb):
        if len(self.members[ra]) < len(self.members[rb]):
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.members[ra] += self.members.pop(rb)
        for attr in (self.isbns, self.issns):
            if rb in attr:
                attr.setdefault(ra, set()).update(attr.pop(rb))
        for attr in (self.volume, self.edition):
            if rb in attr:
                attr.setdefault(ra, attr[rb])
        if rb in self.apart:
            self.apart.setdefault(ra, set()).update(self.apart.pop(rb))
        return ra


def cluster(records: Iterable[tuple], together: Iterable[tuple] = (),
            apart: Iterable[tuple] = (), *, settled: Iterable[Iterable] = (),
            seeds: dict | None = None, keys: dict | None = None,
            max_block: int = 500) -> Clustering:
    """Group records of one edition.

    records: (id, label, facts) with sortable ids, a label naming the record to
    people ("UGM 0000123") and describe()'s facts. together / apart: pairs of
    ids a coordinator joined or separated; they beat any rule.

    settled: groups already decided and unchanged since (an incremental run):
    each stays together as it is, and two settled records are not weighed
    against each other again; only pairs with an unsettled record are.
    seeds: {record id: {"isbns", "issns", "volume", "edition_no"}} of a settled group's
    members that are not among the records, so its identifiers still count.
    keys: {record id: block_keys(facts)} where the caller has them already.

    The outcome depends on the ids and facts only, never on the order records
    come in: ties are tried strongest kind first (coordinators, identifiers,
    then the rest), each kind in the order of the ids."""
    facts, labels = {}, {}
    for rid, label, f in records:
        facts[rid], labels[rid] = f, label
    order = sorted(facts)
    apart_map: dict = {}
    for x, y in apart:
        if x in facts and y in facts and x != y:
            apart_map.setdefault(x, set()).add(y)
            apart_map.setdefault(y, set()).add(x)
    comps = _Components(facts, apart_map)
    evidence: dict = {}
    done: set = set()
    for group in settled:
        members = sorted(r for r in group if r in facts)
        done.update(members)
        for other in members[1:]:
            rx, ry = comps.find(members[0]), comps.find(other)
            if rx != ry:
                comps.union(rx, ry)
    for rid, seed in (seeds or {}).items():
        if rid in facts:
            root = comps.find(rid)
            if seed.get("isbns"):
                comps.isbns.setdefault(root, set()).update(seed["isbns"])
            if seed.get("issns"):
                comps.issns.setdefault(root, set()).update(seed["issns"])
            if seed.get("volume"):
                comps.volume.setdefault(root, seed["volume"])
            if seed.get("edition_no"):
                comps.edition.setdefault(root, seed["edition_no"])

    def join(x, y, strength: int, text: str) -> None:
        rx, ry = comps.find(x), comps.find(y)
        if rx == ry or comps.refuses(rx, ry, strength):
            return
        comps.union(rx, ry)
        sentence = text[0].upper() + text[1:]
        evidence.setdefault(x, f"{sentence} as {labels[y]}.")
        evidence.setdefault(y, f"{sentence} as {labels[x]}.")

    for x, y in sorted((min(p), max(p)) for p in together if p[0] in facts and p[1] in facts):
        if x != y:
            join(x, y, TOGETHER, "joined by a coordinator")

    blocks: dict[str, list] = {}
    for rid in order:
        for key in (keys[rid] if keys and rid in keys else block_keys(facts[rid])):
            blocks.setdefault(key, []).append(rid)
    by_identifier, by_description = [], set()
    for key, members in blocks.items():
        if len(members) < 2:
            continue
        if done and all(m in done for m in members):
            continue
        if key[1] == ":":  # i: and s: keys
            by_identifier.append((key, members))
            continue
        # a degenerate key (thousands sharing it) is skipped: others still meet elsewhere
        if len(members) > max_block:
            continue
        for i, x in enumerate(members):
            x_done = x in done
            for y in members[i + 1:]:
                if not (x_done and y in done):
                    by_description.add((x, y))

    def attempt(x, y) -> None:
        if comps.find(x) == comps.find(y):
            return  # already together: no need to weigh them
        decided = compare(facts[x], facts[y])
        if decided:
            join(x, y, decided[0], decided[1])

    for _key, members in sorted(by_identifier):
        for i, x in enumerate(members):
            x_done = x in done
            for y in members[i + 1:]:
                if not (x_done and y in done):
                    attempt(x, y)
    for x, y in sorted(by_description):
        attempt(x, y)

    grouped: dict = {}
    for rid in order:
        grouped.setdefault(comps.find(rid), []).append(rid)
    groups = sorted(grouped.values(), key=lambda g: g[0])
    for rid in order:
        if rid not in evidence:
            if facts[rid].get("format") == "thesis":
                evidence[rid] = THESIS_NOTE
            else:
                evidence[rid] = ALONE_NOTE
    return Clustering(groups=groups, evidence=evidence)


ALONE_NOTE = "No other record of this edition found."
THESIS_NOTE = "A thesis or other local material: merged only on an identifier or by hand."
