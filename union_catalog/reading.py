"""Reading an export for the importer: every record read, keyed, its items
taken out and, unless it is the partner's current record unchanged, encoded
and described for matching, in batches ready for the database.

A large export is read in a second process while the importer writes the
previous batch (the machine's other core: reading and describing are half of
an import's work). The reader touches no database: it gets the file's path
and the digests of the partner's current records, and sends back batches
through a pipe, at most AHEAD batches ahead of the importer, so memory stays
flat. A small export is read in the importer's own process, by the same code.

What a record's key is, how duplicates are told apart and what a record's
problems say are decided here, in ``Preparer``; the importer decides what
happens to them in the catalogue.
"""
from __future__ import annotations

import gc
import hashlib
import multiprocessing
import os
import queue
import threading
import traceback
from array import array
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass, field

from ill.jsoncodec import dumps

from . import holdings, marc, matching
from .errors import CatalogError

BATCH = 1000
# The first batches are smaller, so that the importer starts early instead of
# waiting for a whole batch to be read (a reader process takes some 40 ms
# to start and read its first 100 records); each is up to twice as large as
# the one before, which the reader reads while the importer settles that one
# (a record costs the importer more than it costs the reader), up to BATCH.
FIRST_BATCHES = (25, 50, 100, 150, 225, 340, 500, 750)
KEY_MAX = 100
# Exports smaller than this are read in the importer's own process: starting
# a reader costs more than it saves on a few thousand records.
PROCESS_AT = 256 << 10
AHEAD = 4  # batches a reader process may read ahead of the importer


@dataclass(slots=True)
class Prepared:
    """One record as read: what the importer needs of it, and nothing that
    ties it to the process that read it (no pymarc objects)."""
    ordinal: int
    control_number: str
    encoding: str
    problem: dict | None = None  # the record's entry in the import report
    usable: bool = False
    key: str = ""
    # source_records columns, JSON ones already encoded (marc, isbns, issns,
    # match_data): encoded text crosses the pipe for the cost of a copy
    values: dict = field(default_factory=dict)
    items: list = field(default_factory=list)  # ItemData.as_tuple() of each
    tag: str | None = None
    title_key: str = ""
    unchanged: bool = False  # as the partner's current record: only key and hash sent
    deleted: str = ""  # a harvest's deletion: the identifier the repository lists as deleted


class KnownDigests:
    """The partner's current records as (key, content hash) pairs, each
    folded into a 128-bit digest and kept in two sorted arrays (16 MB for a
    million records): a record whose pair is here is unchanged, the very
    test the importer makes, so the reader sends only its key and ordinal
    and neither encodes nor describes it. (Two pairs sharing 128 bits is a
    chance of one in 10^28 per import; the importer checks anyway.)"""

    def __init__(self, pairs=()):
        digests = sorted({_digest(key, h) for key, h in pairs if h})
        self._hi = array("Q", (d >> 64 for d in digests))
        self._lo = array("Q", (d & _LOW for d in digests))

    def __contains__(self, pair: tuple[str, str]) -> bool:
        d = _digest(*pair)
        hi, lo = d >> 64, d & _LOW
        i = bisect_left(self._hi, hi)
        while i < len(self._hi) and self._hi[i] == hi:
            if self._lo[i] == lo:
                return True
            i += 1
        return False

    def __len__(self) -> int:
        return len(self._hi)

    def __getstate__(self):
        return self._hi.tobytes(), self._lo.tobytes()

    def __setstate__(self, state):
        self._hi, self._lo = array("Q"), array("Q")
        self._hi.frombytes(state[0])
        self._lo.frombytes(state[1])


_LOW = (1 << 64) - 1


def _digest(key: str, content_hash: str) -> int:
    return int.from_bytes(hashlib.blake2b(f"{key}\0{content_hash}".encode(), digest_size=16).digest(),
                          "big")


class Preparer:
    """Turns ReadRecords into Prepared ones, in file order."""

    def __init__(self, setting: str, titles: bool, known: KnownDigests | None = None):
        self.setting = setting
        self.titles = titles
        self.known = known
        self.seen_keys: dict[str, int] = {}  # key -> ordinal

    def __call__(self, rr: marc.ReadRecord) -> Prepared:
        if rr.deleted:
            return Prepared(rr.ordinal, "", "", deleted=rr.harvest_identifier)
        p = Prepared(rr.ordinal, rr.control_number, rr.encoding, problem=_problem_entry(rr))
        if not rr.usable:
            return p
        record = rr.record
        key = rr.control_number or marc.content_key(record)
        if len(key) > KEY_MAX:
            key = "h:" + hashlib.sha1(key.encode()).hexdigest()[:32]
        if key in self.seen_keys:
            first = self.seen_keys[key]
            base, n = key, 2
            while f"{base}#{n}" in self.seen_keys:
                n += 1
            key = f"{base}#{n}"
            if rr.control_number:
                said = marc.wording(marc.N_("same 001 %(control)s as record %(first)s; both kept"),
                                    control=repr(rr.control_number), first=first)
            else:
                said = marc.wording(marc.N_("same content as record %(first)s; both kept"), first=first)
            p.problem = _with_warning(p.problem, rr, said)
        self.seen_keys[key] = rr.ordinal
        p.usable, p.key = True, key
        p.tag, items = holdings.items_of(record, self.setting)
        p.items = [it.as_tuple() for it in items]
        # a harvested record's identifier is part of what was received: a
        # record that gains one (first harvested after file exports) is changed
        extra = f"{self.setting}\0{rr.harvest_identifier}" if rr.harvest_identifier else self.setting
        content_hash = marc.content_hash(rr, extra)
        p.values = {
            "record_key": key,
            "control_number": rr.control_number[:100] or None,
            "ordinal": rr.ordinal,
            "content_hash": content_hash,
            "harvest_identifier": rr.harvest_identifier[:500] or None,
        }
        if self.titles:
            p.title_key = marc.normalise_title(marc.record_title(record))
        if self.known is not None and (key, content_hash) in self.known:
            p.unchanged = True
        else:
            p.values["marc"] = dumps(rr.as_dict)
            describe_into(p, record)
        return p


def describe_into(p: Prepared, record) -> None:
    """describe()'s facts and the columns taken from them."""
    facts = matching.describe(record)
    year = facts.get("year")
    p.values.update({
        "title": facts.get("title") or "",
        "author": facts.get("author") or "",
        "year": year if isinstance(year, int) else None,
        "isbns": dumps(list(facts.get("isbns") or [])),
        "issns": dumps(list(facts.get("issns") or [])),
        "match_data": dumps(facts),
    })


def _problem_entry(rr: marc.ReadRecord) -> dict | None:
    if not rr.problems:
        return None
    severity = "error" if any(p.severity == marc.ERROR for p in rr.problems) else "warning"
    defect = "; ".join(p.defect for p in rr.problems)
    if severity == "error":
        defect += " (record skipped)"
    # "details" lets a page say the same in its reader's language.
    return {"ordinal": rr.ordinal, "control_number": rr.control_number, "severity": severity,
            "defect": defect,
            "details": [{"template": p.template, "args": p.args} for p in rr.problems if p.template]}


def _with_warning(entry: dict | None, rr: marc.ReadRecord, said: dict) -> dict:
    """The record's problem entry with one more warning (``marc.wording``)."""
    if entry is not None:
        entry["defect"] += "; " + said["defect"]
        entry.setdefault("details", []).extend(said["details"])
        return entry
    return {"ordinal": rr.ordinal, "control_number": rr.control_number, "severity": "warning",
            **said}


# --- the stream of batches ------------------------------------------------------------

# What the importer gets, in order: ("format", fmt), then ("batch", [Prepared],
# bytes read) as often as needed, then ("tail", ordinal after which nothing
# could be read, message) when the file breaks off. A file that cannot be read
# at all raises CatalogError, whichever process read it.


# How many records with items decide which tag a file keeps its items in,
# among at most how many records (read ahead, so kept in memory meanwhile)
DETECT_FROM = 200
DETECT_WITHIN = 1000


def file_holdings_tag(records: Iterator[marc.ReadRecord]) -> tuple[list, str, Exception | None]:
    """Which tag a file keeps its items in, from its first records that have
    items (the commonest; 952, 852, 949 in that order on a tie; at most
    DETECT_WITHIN records are read ahead for it): a Koha file's
    one copy-catalogued record with the Library of Congress's 852 does not
    make that 852 a copy. Returns the records read to decide, the tag
    ("auto", per record, when none of them has items) and the error that
    stopped the reading, if one did (raised after those records)."""
    ahead: list[marc.ReadRecord] = []
    counts: dict[str, int] = {}
    try:
        for rr in records:
            ahead.append(rr)
            if rr.usable:
                tag = holdings.holdings_tag_of(rr.record, "auto")
                if tag:
                    counts[tag] = counts.get(tag, 0) + 1
                    if sum(counts.values()) >= DETECT_FROM:
                        break
            if len(ahead) >= DETECT_WITHIN:
                break
    except marc.UnreadableTail as exc:
        return ahead, _commonest(counts), exc
    return ahead, _commonest(counts), None


def _commonest(counts: dict[str, int]) -> str:
    if not counts:
        return "auto"
    return max(holdings.HOLDINGS_TAGS, key=lambda t: (counts.get(t, 0), -holdings.HOLDINGS_TAGS.index(t)))


def _ahead_then(ahead: list, stopped: Exception | None, rest: Iterator) -> Iterator:
    yield from ahead
    if stopped is not None:
        raise stopped
    yield from rest


def _events(path: str, setting: str, titles: bool, known: KnownDigests | None) -> Iterator[tuple]:
    with open(path, "rb") as fh:
        counter = marc.Progress()
        fmt, records = marc.open_records(fh, progress=counter)
        yield ("format", fmt)
        if setting == "auto":  # the file's tag, not each record's
            ahead, setting, stopped = file_holdings_tag(records)
            records = _ahead_then(ahead, stopped, records)
        prepare = Preparer(setting, titles, known)
        batch: list[Prepared] = []
        sizes = iter(FIRST_BATCHES)
        size = next(sizes, BATCH)
        try:
            for rr in records:
                batch.append(prepare(rr))
                if len(batch) >= size:
                    yield ("batch", batch, counter.bytes)
                    batch = []
                    size = next(sizes, BATCH)
        except marc.UnreadableTail as exc:
            yield ("batch", batch, counter.bytes)
            yield ("tail", exc.after, exc.message)
            return
        yield ("batch", batch, counter.bytes)


def read_batches(path: str, setting: str, *, titles: bool = False,
                 known: KnownDigests | None = None, in_process: bool | None = None
                 ) -> Iterator[tuple]:
    """The events of reading the export at `path`; in a second process when
    the file is large (or in_process is False)."""
    if in_process is None:
        in_process = os.path.getsize(path) < PROCESS_AT
    if in_process:
        yield from _events(path, setting, titles, known)
        return
    yield from _from_process(path, setting, titles, known)


def _context():
    """How the reader starts. A process with one thread (the command line, a
    job worker) forks: the reader starts at once with everything imported,
    and never touches the database connections it inherits (it leaves by
    os._exit, which closes nothing of theirs). A process with other threads
    (a web server running an import job) must not fork, since a lock another
    thread holds would stay held in the copy: there the reader comes from a
    fork server, a clean process that has imported this module once."""
    if threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload([__name__])
    return ctx


def _from_process(path: str, setting: str, titles: bool, known: KnownDigests | None
                  ) -> Iterator[tuple]:
    ctx = _context()
    receive, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_serve, args=(send, receive, path, setting, titles, known),
                       name="catalog-import-reader", daemon=True)
    proc.start()
    send.close()
    try:
        while True:
            try:
                event = receive.recv()
            except EOFError:
                proc.join(5)
                raise CatalogError(f"The process reading the export stopped unexpectedly (exit code "
                                   f"{proc.exitcode}); nothing was changed.") from None
            kind = event[0]
            if kind == "done":
                break
            if kind == "error":
                raise CatalogError(event[1], details=event[2])
            if kind == "crash":
                raise RuntimeError("reading the export failed in the reader process:\n" + event[1])
            yield event
    finally:
        receive.close()  # a reader still sending gets a broken pipe and ends
        proc.join(5)
        if proc.is_alive():
            proc.kill()
            proc.join()


def _serve(send, receive, path: str, setting: str, titles: bool, known: KnownDigests | None
           ) -> None:
    """The reader process: every event down the pipe, then "done". A thread
    sends while the reader reads on, up to AHEAD batches ahead, so that
    neither side waits for the other when one batch costs the importer more
    than the next costs the reader."""
    # A forked reader holds a copy of the pipe's reading end: closed, so
    # that if the importer dies (kill -9) the next send fails and the reader
    # ends, letting go of the database connections it inherited with it.
    receive.close()
    # as in the importer: no automatic cycle collection walking the records
    # (reference counting frees them), the young generations after each batch
    gc.freeze()
    gc.disable()
    outbox: queue.Queue = queue.Queue(maxsize=AHEAD)
    gone = threading.Event()  # the importer is not listening any more

    def post() -> None:
        while (event := outbox.get()) is not None:
            try:
                send.send(event)
            except OSError:
                gone.set()
                return

    def put(event) -> None:
        while not gone.is_set():
            try:
                outbox.put(event, timeout=0.2)
                return
            except queue.Full:
                continue
        raise BrokenPipeError("the importer has gone")

    sender = threading.Thread(target=post, name="reader-sender", daemon=True)
    sender.start()
    try:
        for event in _events(path, setting, titles, known):
            put(event)
            gc.collect(1)
        put(("done",))
    except BrokenPipeError:
        pass  # nobody to tell
    except CatalogError as exc:
        _last_word(put, ("error", str(exc), getattr(exc, "details", None)))
    except BaseException:  # noqa: BLE001  (told to the importer, which raises it)
        _last_word(put, ("crash", traceback.format_exc()))
    finally:
        _last_word(put, None)  # the sender's signal to end, unless it has ended already
        sender.join()
        send.close()


def _last_word(put, event) -> None:
    try:
        put(event)
    except BrokenPipeError:
        pass
