"""Text as the search index sees it: folded for case, diacritics, Arabic
transliteration marks and ISBD punctuation, with ISBNs and ISSNs in one
canonical form. The same functions build the indexed text and read the query,
so both sides always agree; no database extension (unaccent) is needed.

Plain functions over plain data, testable without Flask or a database."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from stdnum import isbn as stdnum_isbn
from stdnum import issn as stdnum_issn

from . import variants
from .matching import LEADING_ARTICLES, commonest

# Marks that transliteration and typing put inside words: ʻayn and hamza
# (ʻ ʼ ʿ ʾ), apostrophes and their look-alikes. Removing them rather than
# splitting keeps "Qurʼan", "Qur'an" and "Quran" one word.
_INWORD_MARKS = dict.fromkeys(map(ord, "ʻʼʿʾ'’‘`´ʹʺ"), None)
# Letters that NFKD does not decompose into a base letter and a mark.
_LETTERS = str.maketrans(
    {
        "ı": "i",
        "ø": "o",
        "Ø": "o",
        "đ": "d",
        "Đ": "d",
        "ł": "l",
        "Ł": "l",
        "æ": "ae",
        "Æ": "ae",
        "œ": "oe",
        "Œ": "oe",
        "þ": "th",
        "ð": "d",
    }
)
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
_ISBN_CHARS = re.compile(r"^[0-9Xx][0-9Xx\- ]{8,20}$")
_ISSN_CHARS = re.compile(r"^[0-9]{4}-?[0-9]{3}[0-9Xx]$")


# fold, isbn13 and issn8 are pure functions of a string, cached: an import
# reindexes thousands of union records whose members repeat one another's
# titles, names and numbers, and each distinct string is worked out once.
@lru_cache(maxsize=1 << 17)
def fold(text: str | None) -> str:
    """Lower case, no diacritics, no punctuation, single spaces:
    'Tafsīr al-Miṣbāḥ : pesan /' -> 'tafsir al misbah pesan'."""
    if not text:
        return ""
    text = str(text)
    if not text.isascii():  # plain ASCII has no letter to decompose nor combining mark
        text = unicodedata.normalize("NFKD", text.translate(_LETTERS))
        text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(_NON_WORD.sub(" ", text.translate(_INWORD_MARKS).casefold()).split())


def digest(text: str) -> int:
    """A text as a signed 64-bit number, the same in every process (what the
    search index keeps to tell whether a union record's words changed)."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big", signed=True)


def words(text: str | None) -> list[str]:
    return fold(text).split()


@lru_cache(maxsize=1 << 16)
def isbn13(value: str | None) -> str | None:
    """The ISBN-13 (digits only) of an ISBN typed any way, or None when it is
    not a valid ISBN. Qualifiers such as '(pbk.)' are ignored."""
    if not value:
        return None
    candidate = str(value).strip().split(" (")[0].split()[0] if str(value).strip() else ""
    candidate = stdnum_isbn.compact(candidate)
    if not stdnum_isbn.is_valid(candidate):
        return None
    return stdnum_isbn.to_isbn13(candidate)


@lru_cache(maxsize=1 << 14)
def issn8(value: str | None) -> str | None:
    """The ISSN as eight characters (no hyphen), or None when not valid."""
    if not value:
        return None
    candidate = stdnum_issn.compact(str(value).strip().split()[0]) if str(value).strip() else ""
    if not stdnum_issn.is_valid(candidate):
        return None
    return candidate.lower()


def identifier_tokens(isbns, issns) -> list[str]:
    """Canonical identifier tokens of a record, deduplicated, in order."""
    out: list[str] = []
    for value in isbns or []:
        token = isbn13(value)
        if token and token not in out:
            out.append(token)
    for value in issns or []:
        token = issn8(value)
        if token and token not in out:
            out.append(token)
    return out


def described_identifier_tokens(isbns, issns) -> list[str]:
    """identifier_tokens() of numbers describe() has already checked (ISBN-13
    digits, ISSNs as 1234-5678), as a union record and its members keep
    them: an ISBN already in its canonical form is taken as it is, without
    checking its digit again (a reindex meets some 60,000 of them)."""
    out = dict.fromkeys(v if len(v) == 13 and v.isdigit() else isbn13(v) for v in isbns or () if v)
    out.update(dict.fromkeys(issn8(v) for v in issns or () if v))
    out.pop(None, None)
    return list(out)


def _is_identifier(chunk: str) -> bool:
    return bool((looks_like_isbn(chunk) and isbn13(chunk)) or (looks_like_issn(chunk) and issn8(chunk)))


def looks_like_isbn(chunk: str) -> bool:
    return bool(_ISBN_CHARS.match(chunk)) and len(stdnum_isbn.compact(chunk)) in (10, 13)


def looks_like_issn(chunk: str) -> bool:
    return bool(_ISSN_CHARS.match(chunk))


@dataclass
class Term:
    """One word to find; ``prefix`` when the user ended it with '*';
    ``follows`` when it must come right after the term before it (the
    words of a phrase in double quotes, after its first); ``variants``,
    its other spellings, found as well (``variants.of``)."""

    word: str
    prefix: bool = False
    follows: bool = False
    variants: tuple[str, ...] = ()

    @property
    def spellings(self) -> tuple[str, ...]:
        return (self.word, *self.variants)


def phrases(terms: list[tuple[str | None, Term]]) -> list[list[tuple[str | None, Term]]]:
    """(column, Term) pairs grouped as they must be found: each group a word
    alone or the words of one phrase, in order."""
    out: list[list] = []
    for column, term in terms:
        if term.follows and out:
            out[-1].append((column, term))
        else:
            out.append([(column, term)])
    return out


@dataclass
class ParsedText:
    """A free-text box after reading: words to find and identifiers seen."""

    terms: list[Term] = field(default_factory=list)
    identifiers: list[str] = field(default_factory=list)

    @property
    def folded(self) -> str:
        return " ".join(t.word for t in self.terms)

    def __bool__(self) -> bool:
        return bool(self.terms)


# "ISBN 978-...", "ISSN: 0378-5955", "e-ISBN 978...": the label as a title page prints it
_ID_LABEL = re.compile(r"^(?:e-?)?(?:isbn|issn)(?:-?1[03])?:?", re.IGNORECASE)


def identifier_box(value: str) -> str:
    """What an ISBN or ISSN box holds, read as a title page prints it: a
    label before the number ("ISBN 978 602 ...") and spaces between its
    groups are left out."""
    value = _ID_LABEL.sub("", (value or "").strip()).strip()
    compact = re.sub(r"[\s\-]", "", value)
    return compact if re.fullmatch(r"[0-9Xx]{8,13}", compact) else value


# Double quotes as keyboards and word processors type them
_QUOTES = re.compile('["\u201c\u201d\u201e]')


def _quoted(text: str) -> list[tuple[str, bool]]:
    """The text in pieces, each with whether it stood between a pair of
    double quotes; a quote left unclosed quotes nothing."""
    parts = _QUOTES.split(text)
    if len(parts) % 2 == 0:  # an odd number of quotes: the last one is no quote
        parts = [*parts[:-2], parts[-2] + " " + parts[-1]]
    return [(part, n % 2 == 1) for n, part in enumerate(parts)]


def parse_text(text: str | None) -> ParsedText:
    """Read a search box. ISBNs and ISSNs, typed with or without hyphens, in
    either ISBN form, become one canonical token each (a label before one,
    "ISBN 978-..." or "ISSN:0378-5955", is left out); everything else is
    folded into words. A trailing '*' asks for words starting so. Words in
    double quotes are a phrase: found next to each other, in that order
    (a '*' may end it). A word outside quotes also finds its other
    spellings (``variants``)."""
    parsed = ParsedText()
    for part, quoted in _quoted(text or ""):
        chained = False  # whether the next word of this phrase follows one already read
        chunks = part.split()
        for n, chunk in enumerate(chunks):
            label = _ID_LABEL.match(chunk)
            if label:
                rest = chunk[label.end():]
                if rest:
                    chunk = rest  # "ISBN:978-..." in one piece
                elif n + 1 < len(chunks) and _is_identifier(chunks[n + 1].strip(",;.()[]")):
                    continue  # the label before the number
            ident = None
            bare = chunk.strip(",;.()[]")
            if looks_like_isbn(bare):
                ident = isbn13(bare)
            elif looks_like_issn(bare):
                ident = issn8(bare)
            if ident:
                parsed.terms.append(Term(ident))
                parsed.identifiers.append(ident)
                chained = False
                continue
            prefix = chunk.endswith("*")
            pieces = words(chunk)
            for i, piece in enumerate(pieces):
                last = prefix and i == len(pieces) - 1
                # a word in quotes, or asked for by its start, is searched as typed
                term = Term(piece, prefix=last, follows=quoted and chained,
                            variants=() if quoted or last else variants.of(piece))
                parsed.terms.append(term)
                # a phrase ends with a word asked for by its start (engines take '*' last only)
                chained = quoted and not term.prefix
    return parsed


def padded(text: str) -> str:
    """' a b c ': so that SQL LIKE '% word %' finds whole words on any engine."""
    return f" {text} " if text else " "


# The leading articles a title files without when its records do not say,
# folded: matching's list, which its title keys drop too.
FILING_ARTICLES = frozenset(fold(article) for article in LEADING_ARTICLES)
NONFILING_MAX = 9  # MARC 245's second indicator counts at most nine characters


def filing_keys(facts: Iterable[dict]) -> list[str]:
    """A union record's records' titles proper as they file (matching.describe's
    ``title_key``), the commonest first, then in the records' order: what
    ``sort_title`` files its title by."""
    return commonest(f.get("title_key") for f in facts)


def sort_title(title: str | None, filing_keys: Iterable[str | None] = ()) -> str:
    """The folded title a union record files under in a title sort: without
    its non-filing characters ("al-Qurʼan dan tafsirnya" files under
    "quran dan tafsirnya", "The Qur'an" under "quran").

    filing_keys: its records' titles proper as they file (``title_key`` of
    matching.describe: 245's second indicator applied, or a leading article
    dropped). Where one of them starts within the first characters of the
    title, the title files from there; with none, a leading article of
    FILING_ARTICLES is dropped, unless it is the whole title."""
    folded = fold(title)
    for key in filing_keys:
        key = fold(key)
        if not key:
            continue
        at = folded.find(key)
        if at == 0:
            return folded
        if 0 < at <= NONFILING_MAX + 1 and folded[at - 1] == " ":
            return folded[at:]
    first, _space, rest = folded.partition(" ")
    if rest and first in FILING_ARTICLES:
        return rest
    return folded


_ARABIC_ARTICLE = re.compile(r"^\s*(?:al|el)[-\u2010\u2011]", re.IGNORECASE)


def sort_author(author: str | None) -> str:
    """The folded name a union record files under in a sort by author: the
    main entry as catalogued ("Shihab, M. Quraish"), without a hyphened
    Arabic article ("al-Ghazali, Abu Hamid" under "ghazali abu hamid").
    Other first words stay: in names "A." is an initial and "La" a title
    (La Ode), not articles."""
    return fold(_ARABIC_ARTICLE.sub("", author or "", count=1))
