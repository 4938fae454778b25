"""Did you mean ...? A spelling the catalogue knows, for a search that
finds little.

A search that finds fewer than ``BELOW`` union records is looked at word by
word. A word the index holds in ``COMMON`` or more union records is left
alone; another is compared with the index's own words that begin with the
same letter (as Solr's spellchecker does: a first letter is rarely the
mistake) and are at most two edits away (a letter added, dropped, changed,
or two swapped). Among them the closest wins, then the one in most union
records, and only one held at least ten times as often as the word typed: a
rare spelling of a common word ("hadits", "hadith" for "hadis"; "perpustakan"
for "perpustakaan"), never one rare word for another. The suggestion is
kept only if, searched with the same filters, it finds more than the search
did.

The index's words (FTS5's vocabulary, PostgreSQL's ``ts_stat``) are read
in a thread, once, and kept per database for ``MAX_AGE`` seconds, or until
an import run by this process ends (``forget``); a search waits for them at
most ``CATALOG_SUGGEST_WAIT`` seconds (``vocabulary``). A suggestion is searched before it is
shown, so words a little out of date cost at most a suggestion not made.
They are folded as the index folds them, and so is the query, so case and
diacritics never count as edits."""
from __future__ import annotations

import logging
import re
import threading
import time
from collections import defaultdict
from dataclasses import replace

from ill.config import setting

from . import searchtext

log = logging.getLogger(__name__)

BELOW = 10  # a search with fewer hits than this gets a suggestion where one helps
COMMON = 50  # a word in this many union records or more is not misspelled
MIN_LENGTH = 4
MAX_EDITS = 2
MORE_OFTEN = 10  # how much more often the suggested word must be held
MAX_AGE = 300.0  # seconds a vocabulary is kept at most
FIELDS = ("q", "title", "author", "subject")

_lock = threading.Lock()
_cache: dict[str, tuple[float, dict[str, int], dict[str, list[str]]]] = {}
_reading: dict[str, threading.Thread] = {}
_generation = [0]  # forget() moves it on: a read begun before is not kept


def _read(conn) -> dict[str, int]:
    from .search_schema import FTS_TABLE

    if conn.dialect.name == "postgresql":
        rows = conn.exec_driver_sql(f"SELECT word, ndoc FROM ts_stat('SELECT doc FROM {FTS_TABLE}')")
    else:
        conn.exec_driver_sql(f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.{FTS_TABLE}_vocab "
                             f"USING fts5vocab(main, {FTS_TABLE}, row)")
        rows = conn.exec_driver_sql(f"SELECT term, doc FROM temp.{FTS_TABLE}_vocab")
    return {word: n for word, n in rows if word and not word[0].isdigit()}


def _load(engine, key: str, generation: int) -> None:
    """Read the vocabulary on a connection of its own and keep it."""
    try:
        with engine.connect() as conn:
            words = _read(conn)
            conn.rollback()
    except Exception:  # noqa: BLE001 - no suggestion is better than a failed search
        log.warning("reading the search index's words for suggestions failed", exc_info=True)
        words = None
    with _lock:
        if _reading.get(key) is threading.current_thread():
            _reading.pop(key)
        if words is not None and generation == _generation[0]:
            by_letter: dict[str, list[str]] = defaultdict(list)
            for word in words:
                by_letter[word[0]].append(word)
            _cache[key] = (time.monotonic(), words, dict(by_letter))


def vocabulary(session, wait: float = 0.1) -> tuple[dict[str, int], dict[str, list[str]]] | None:
    """The index's words with how many union records hold each, and the words
    by their first letter; None while they are first being read.

    They are read in a thread of their own (PostgreSQL's ts_stat reads every
    document: 0.4 s for 100,000 union records), waited for at most `wait`
    seconds: a small catalogue's words come at once, a large one's are ready
    for the searches after. Once MAX_AGE old they are read again the same
    way, and the old ones serve meanwhile."""
    engine = session.get_bind()
    key = str(engine.url)
    with _lock:
        cached = _cache.get(key)
        fresh = cached is not None and time.monotonic() - cached[0] < MAX_AGE
        thread = _reading.get(key)
        if not fresh and thread is None:
            thread = threading.Thread(target=_load, args=(engine, key, _generation[0]), daemon=True,
                                      name="search-vocabulary")
            _reading[key] = thread
            thread.start()
    if not fresh and thread is not None and wait > 0:
        thread.join(wait)
        with _lock:
            cached = _cache.get(key)
    return (cached[1], cached[2]) if cached else None


def forget() -> None:
    """Drop every kept vocabulary, and any being read (after an import, and
    in tests after a database is emptied)."""
    with _lock:
        _cache.clear()
        _reading.clear()
        _generation[0] += 1


def better_word(word: str, words: dict[str, int], by_letter: dict[str, list[str]]) -> str | None:
    """The spelling the index holds far more often, at most two edits from
    word, or None."""
    from rapidfuzz import process
    from rapidfuzz.distance import OSA

    held = words.get(word, 0)
    if len(word) < MIN_LENGTH or held >= COMMON or word.isdigit():
        return None
    floor = max(1, held * MORE_OFTEN)
    best = None
    for candidate, edits, _i in process.extract(word, by_letter.get(word[0], ()), scorer=OSA.distance,
                                                score_cutoff=MAX_EDITS, limit=None):
        n = words[candidate]
        if candidate == word or n < floor:
            continue
        rank = (edits, -n, candidate)
        if best is None or rank < best:
            best = rank
    return best[2] if best else None


_CHUNK = re.compile(r"\S+")
_EDGES = re.compile(r"^(\W*)(.*?)(\W*)$", re.DOTALL)


def _body(raw: str) -> tuple[str, str, str] | None:
    """A typed chunk as (what leads, its text, what trails), or None for one
    a spelling check leaves as typed: a prefix (``perpus*``), an ISBN, an ISSN."""
    lead, body, tail = _EDGES.match(raw).groups()
    if tail.endswith("*") or searchtext.looks_like_isbn(body) or searchtext.looks_like_issn(body):
        return None
    return lead, body, tail


def _may_be_misspelled(text: str) -> bool:
    """Whether text has a word to check (before the vocabulary is read)."""
    return any(len(w) >= MIN_LENGTH and not w.isdigit()
               for raw in _CHUNK.findall(text or "") if (parts := _body(raw))
               for w in searchtext.words(parts[1]))


def respell(text: str, words: dict[str, int], by_letter: dict[str, list[str]]) -> str:
    """text with each misspelled word replaced, the rest as typed (quotes,
    a trailing * and identifiers kept)."""
    def chunk(m: re.Match) -> str:
        raw = m.group(0)
        parts = _body(raw)
        if parts is None:
            return raw
        lead, body, tail = parts
        folded = searchtext.words(body)
        better = [better_word(w, words, by_letter) or w for w in folded]
        return raw if better == folded else lead + " ".join(better) + tail

    return _CHUNK.sub(chunk, text)


def suggestion(session, query, total: int) -> dict | None:
    """{"query": {field: text}, "total": n} for a search of total hits, or None."""
    from .search import Searcher

    if total >= BELOW or not any(_may_be_misspelled(getattr(query, f)) for f in FIELDS):
        return None
    wait = float(setting("CATALOG_SUGGEST_WAIT"))
    found_words = vocabulary(session, wait)
    if found_words is None:  # still being read: this search goes without
        return None
    words, by_letter = found_words
    changed = {}
    for name in FIELDS:
        text = getattr(query, name)
        if text:
            better = respell(text, words, by_letter)
            if better != text:
                changed[name] = better
    if not changed:
        return None
    suggested = replace(query, page=1, **changed)
    found, _ids, _facets = Searcher(session, suggested).run()
    if found <= total:
        return None
    return {"query": suggested.args(page=None), "total": found}
