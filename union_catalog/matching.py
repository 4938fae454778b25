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

from stdnum import isbn as std_isbn
from stdnum import issn as std_issn

# Bump when describe() changes what it returns, so stored facts can be renewed.
FACTS_VERSION = 1

# --- text normalisation ---------------------------------------------------------

# Transliteration marks (ayn, hamza, prime) and apostrophes vanish without a
# space: "Iḥyāʼ ʻulūm" and "Ihya' 'ulum" and "Ihya ulum" are one title.
_MARKS = dict.fromkeys(map(ord, "ʻʼʾʿ'`´‘’ʹʺ\u02b9\u02bb\u02bc\u02bd\u02be\u02bf"), None)
_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_LEADING_ARTICLE = re.compile(r"^(?:al-|el-|the |an |a |le |la |les |l'|der |die |das )", re.I)


def fold(text: str | None) -> str:
    """Lower case, no diacritics, no transliteration marks, words separated by
    one space: the form two catalogues' spellings of one string share."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKD", text.translate(_MARKS))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.translate(_MARKS).lower()
    # ı ø æ ß and friends have no decomposition
    text = text.replace("ı", "i").replace("ø", "o").replace("æ", "ae").replace("ß", "ss")
    text = text.replace("đ", "d").replace("ł", "l").replace("œ", "oe")
    return _NON_ALNUM.sub(" ", text).strip()


def strip_isbd(text: str | None) -> str:
    """A subfield without the ISBD punctuation that ends it (' :', ' /', '.', ',', ';', '=')."""
    if not text:
        return ""
    text = text.strip()
    text = re.sub(r"\s*[:/;,=]\s*$", "", text)
    # a closing full stop, but not one of an abbreviation like "ed." or "Jil."
    if text.endswith(".") and not re.search(r"(?:\b\w{1,3}|\.\w)\.$", text):
        text = text[:-1]
    return text.strip()


# --- identifiers ----------------------------------------------------------------

_ISBN_TOKEN = re.compile(r"[0-9][0-9\- ]{7,17}[0-9Xx]|[0-9]{9}[Xx]")
_SET_WORDS = re.compile(r"\b(?:set|jil\.?\s*lengkap|jilid\s*lengkap|keseluruhan|lengkap|"
                        r"complete|all\s+vol|vol\.?\s*set|multi[- ]?vol|the\s+set)", re.I)


def _isbn13(candidate: str) -> str | None:
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
_VOLUME = re.compile(r"\b(?:jilid|jild|jlid|jil|vol|volume|volumes|buku|juz|juzuk|bagian|bag|"
                     r"part|pt|tome|tom|band|bd|seri)\s*\.?\s*(\d{1,3}|[ivx]{1,5})\b", re.I)


def _volume_value(token: str) -> str:
    token = token.lower()
    return str(_ROMAN[token]) if token in _ROMAN else str(int(token))


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


_LANG2 = {"id": "ind", "in": "ind", "en": "eng", "ar": "ara", "ms": "msa", "jv": "jav",
          "su": "sun", "nl": "dut", "de": "ger", "fr": "fre", "zh": "chi", "ja": "jpn"}

_PUBLISHER_NOISE = re.compile(r"\b(?:penerbit|pt|cv|ud|inc|ltd|llc|co|corp|publisher|publishers|"
                              r"publishing|the|dan|and|s n|sn)\b")


def publisher_key(name: str | None) -> str:
    return " ".join(_PUBLISHER_NOISE.sub(" ", fold(name)).split())


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


def _display(parts: Iterable[str]) -> str:
    text = " ".join(p for p in (strip_isbd(x) for x in parts) if p)
    return re.sub(r"\s+", " ", text).strip()


def describe(record) -> dict:
    """The facts of one MARC record that clustering and search need (JSON-ready).

    Keys: title, title_key, subtitle, author, authors (name keys), year,
    isbns (valid ISBN-13, the edition's own), isbns_set (the whole set's),
    isbns_invalid (raw numbers whose check digit fails), issns, language,
    format, publisher, publisher_key, place, edition, edition_no, volume,
    pages, subjects, v (facts version)."""
    leader = str(record.leader) if record.leader else ""
    f008 = _first(record, ["008"])
    d008 = f008.data if f008 is not None and f008.is_control_field() else ""

    # title, volume, title key
    f245 = _first(record, ["245"])
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
        f = _first(record, ["246", "240", "130", "210", "222"])
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
    main = _first(record, ["100", "110", "111"])
    if main is not None:
        codes = "abq" if main.tag == "100" else "abn"
        author_display = strip_isbd(" ".join(_subfields(main, codes)))
    for f in record.get_fields("100", "110", "111", "700", "710", "711"):
        key = name_key(" ".join(_subfields(f, "a" if f.tag in ("100", "700") else "ab")))
        if key and key not in authors:
            authors.append(key)
    if not author_display and f245 is not None:
        author_display = strip_isbd(" ".join(_subfields(f245, "c")))

    # publication
    pub = None
    for f in record.get_fields("264"):
        if (f.indicators[1] if f.indicators else "") in ("1", " ", ""):
            pub = f
            break
    pub = pub or _first(record, ["260", "264"])
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
    for f in record.get_fields("020"):
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
    for f in record.get_fields("022"):
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
        f041 = _first(record, ["041"])
        code = fold(" ".join(_subfields(f041, "a"))) if f041 is not None else ""
        code = code.split()[0] if code else ""
        language = _LANG2.get(code, code if len(code) == 3 else "")

    # format
    rtype = leader[6:7] if len(leader) > 7 else ""
    level = leader[7:8] if len(leader) > 7 else ""
    thesis_note = " ".join(" ".join(_subfields(f, "abc")) for f in record.get_fields("502"))
    if thesis_note or re.search(r"\b(?:skripsi|tesis|thesis|disertasi|dissertation)\b",
                                fold(" ".join(_subfields(f245, "h")) if f245 is not None else "")):
        fmt = "thesis"
    elif level in ("s", "i") or (issns and not isbns and not isbns_set and level != "m"):
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

    f250 = _first(record, ["250"])
    edition = strip_isbd(" ".join(_subfields(f250, "ab"))) if f250 is not None else ""
    f300 = _first(record, ["300"])
    extent = " ".join(_subfields(f300, "a")) if f300 is not None else ""

    subjects: list[str] = []
    for f in record.get_fields("600", "610", "611", "630", "650", "651", "655"):
        heading = " -- ".join(strip_isbd(v) for v in _subfields(f, "abcdvxyz"))
        if heading and heading not in subjects:
            subjects.append(heading)

    return {
        "v": FACTS_VERSION,
        "title": display,
        "title_key": title_key,
        "subtitle": title_b_clean,
        "subtitle_key": fold(title_b_clean),
        "author": author_display,
        "authors": authors,
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
