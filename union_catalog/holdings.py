"""Holdings and items out of a partner's export: Koha's 952, the standard
852, a locally defined 949, serial coverage in 866, and SLiMS's item export
CSV, which names each item's record by its title alone."""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass

from pymarc import Record

from . import marc
from .errors import CatalogError
from .models import ItemStatus

HOLDINGS_TAGS = ("952", "852", "949")
# Every field of a record that describes its library's copies rather than the
# edition: the item fields above, MARC 21's textual holdings (866-868) and
# item information (876-878). A record leaving for another catalogue leaves
# them behind (export.bibliographic).
COPY_TAGS = frozenset((*HOLDINGS_TAGS, "866", "867", "868", "876", "877", "878"))
# Where each holdings field keeps an item's barcode (see item_from_952 and
# friends): staff data, left out of what visitors and patrons see.
BARCODE_SUBFIELDS = {"952": "p", "852": "p", "949": "ip"}
SETTINGS = ("auto", "952", "852", "949", "none")


@dataclass(frozen=True)
class ItemData:
    barcode: str | None
    call_number: str = ""
    location: str = ""
    status: str = ItemStatus.UNKNOWN
    note: str = ""
    coverage: str = ""
    source: str = ""

    COLUMNS = ("barcode", "call_number", "location", "status", "note", "coverage", "source")

    def as_row(self) -> dict:
        return dict(zip(self.COLUMNS, self.as_tuple(), strict=True))

    def as_tuple(self) -> tuple:
        return (self.barcode, self.call_number, self.location, self.status, self.note, self.coverage,
                self.source)

    def key(self) -> tuple:
        return (self.barcode or "", self.call_number, self.location, self.status, self.note,
                self.coverage, self.source)


# Words partners write for an item's state, in English and Indonesian, matched
# as whole words (never inside another: "dipinjam" is not "dipinjamkan"); the
# longest phrase found wins. A phrase after a word of negation means what its
# negated entry says, or nothing known when it has none ("tidak ada": where
# the copy is, the phrase does not say).
_STATUS_PHRASES = {
    ItemStatus.LOST: ("lost", "missing", "hilang", "lenyap"),
    ItemStatus.DAMAGED: ("damaged", "damage", "repair", "in repair", "rusak", "perbaikan",
                         "dalam perbaikan"),
    ItemStatus.ON_LOAN: ("on loan", "checked out", "loaned", "dipinjam", "sedang dipinjam",
                         "sudah dipinjam"),
    ItemStatus.NOT_FOR_LOAN: ("reference only", "reference", "not for loan", "no loan",
                              "not loanable", "tidak dipinjamkan", "tidak dapat dipinjam",
                              "tidak bisa dipinjam", "tidak boleh dipinjam", "referensi", "tandon",
                              "baca di tempat", "restricted", "in library use only",
                              "library use only"),
    ItemStatus.AVAILABLE: ("available", "tersedia", "ada", "on shelf", "in", "di rak",
                           "dapat dipinjam", "dapat dipinjamkan", "bisa dipinjam",
                           "boleh dipinjam", "loanable"),
    # said to be off the shelf, without saying why
    ItemStatus.UNKNOWN: ("unavailable", "not available", "tidak tersedia"),
}
_NEGATION = frozenset({"not", "no", "non", "never", "tidak", "tak", "bukan", "belum"})
# what a negated phrase means, where it means something sure
_NEGATED = {"dipinjam": ItemStatus.AVAILABLE, "on loan": ItemStatus.AVAILABLE,
            "checked out": ItemStatus.AVAILABLE, "sedang dipinjam": ItemStatus.AVAILABLE}
_PHRASES = sorted(((tuple(p.split()), status) for status, phrases in _STATUS_PHRASES.items()
                   for p in phrases), key=lambda ps: -len(ps[0]))
_WORD = re.compile(r"\w+")


def status_from_text(text: str | None, default: str = ItemStatus.UNKNOWN) -> str:
    """An availability from a status phrase, or `default` when it says
    nothing known ("Dapat dipinjamkan" is available, "Tidak tersedia" and
    "not available" are not, and not on loan either: unknown)."""
    words = _WORD.findall((text or "").casefold())
    if not words:
        return default
    for phrase, status in _PHRASES:
        n = len(phrase)
        for i in range(len(words) - n + 1):
            if tuple(words[i:i + n]) == phrase:
                if i and words[i - 1] in _NEGATION:
                    return _NEGATED.get(" ".join(phrase), ItemStatus.UNKNOWN)
                return status
    return default


def _flag(value: str | None) -> bool:
    value = (value or "").strip()
    return bool(value) and value not in ("0", "0.0")


def _first(field, *codes: str) -> str:
    for code in codes:
        for s in field.subfields:
            if s.code == code and s.value.strip():
                return s.value.strip()
    return ""


def item_from_952(f) -> ItemData:
    # Koha: lost ($1), damaged ($4), withdrawn ($0), not for loan ($7), on loan since ($q).
    if _flag(_first(f, "1")):
        status = ItemStatus.LOST
    elif _flag(_first(f, "4")):
        status = ItemStatus.DAMAGED
    elif _flag(_first(f, "0")):
        status = ItemStatus.NOT_FOR_LOAN
    elif _first(f, "q"):
        status = ItemStatus.ON_LOAN
    elif _flag(_first(f, "7")):
        status = ItemStatus.NOT_FOR_LOAN
    else:
        status = ItemStatus.AVAILABLE
    location = " / ".join(x for x in (_first(f, "b", "a"), _first(f, "c")) if x)
    return ItemData(barcode=_first(f, "p") or None, call_number=_first(f, "o"), location=location,
                    status=status, note=_first(f, "z", "x"), source="952")


def item_from_852(f) -> ItemData:
    call = " ".join(x for x in (_first(f, "k"), _first(f, "h"), _first(f, "i"), _first(f, "m")) if x)
    call = call or _first(f, "j")
    location = " / ".join(x for x in (_first(f, "b"), _first(f, "c")) if x)
    note = _first(f, "z", "x")
    # An 852 lists a copy the library has; only a note says otherwise.
    return ItemData(barcode=_first(f, "p") or None, call_number=call, location=location,
                    status=status_from_text(note, ItemStatus.AVAILABLE), note=note, source="852")


def item_from_949(f) -> ItemData:
    # Locally defined; the common layout: $a call number, $i (or $p) barcode,
    # $l location, $s status, $z note.
    text = _first(f, "s")
    return ItemData(barcode=_first(f, "i", "p") or None, call_number=_first(f, "a"),
                    location=_first(f, "l"), status=status_from_text(text),
                    note=_first(f, "z"), source="949")


_EXTRACT = {"952": item_from_952, "852": item_from_852, "949": item_from_949}


def holdings_tag_of(record: Record, setting: str = "auto") -> str | None:
    """Which tag holds this record's items: the partner's setting, or detected."""
    if setting in _EXTRACT:
        return setting
    if setting == "none":
        return None
    tags = {f.tag for f in record.fields}
    for tag in HOLDINGS_TAGS:
        if tag in tags:
            return tag
    return None


def items_of(record: Record, setting: str = "auto") -> tuple[str | None, list[ItemData]]:
    """(the holdings tag used, the items) of one record; serial coverage in 866
    becomes one holding per statement."""
    tag = holdings_tag_of(record, setting)
    items = [_EXTRACT[tag](f) for f in record.get_fields(tag)] if tag else []
    coverage = [f for f in record.get_fields("866")] if setting != "none" else []
    if coverage:
        call = ""
        for f in record.get_fields("852"):
            call = item_from_852(f).call_number
            if call:
                break
        for f in coverage:
            stmt = " ".join(s.value.strip() for s in f.subfields if s.code == "a")
            note = _first(f, "z", "x")
            items.append(ItemData(barcode=None, call_number=call, status=ItemStatus.UNKNOWN,
                                  coverage=stmt, note=note, source="866"))
    return tag, items


def placeholder() -> ItemData:
    """A record without items still says the partner holds one copy."""
    return ItemData(barcode=None, status=ItemStatus.UNKNOWN, source="none")


# --- SLiMS item export -----------------------------------------------------------

SLIMS_STATUS = {
    "": ItemStatus.AVAILABLE,  # SLiMS leaves the status empty for a lendable copy
    "no loan": ItemStatus.NOT_FOR_LOAN,
    "missing": ItemStatus.LOST,
    "repair": ItemStatus.DAMAGED,
}


@dataclass
class CsvItem:
    line: int
    title: str
    item: ItemData


def read_item_csv(stream, notes: list[dict] | None = None) -> Iterator[CsvItem]:
    """Rows of a SLiMS item export (a binary stream): each with the title it
    names its record by, and the line (of the file) it starts on. The
    delimiter is detected; each line is read as UTF-8, or, where it is not
    UTF-8, as Windows-1252 (what older SLiMS installations write), which
    `notes` is told once: {"line", "defect"}."""
    text = _DecodedLines(stream, notes)
    head = text.read(8192)
    if not head.strip():
        raise CatalogError("The item file is empty.")
    try:
        dialect = csv.Sniffer().sniff(head.split("\n", 1)[0], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    rest = _Chain(head, text)
    reader = csv.reader(rest, dialect)
    try:
        header = [h.strip().casefold() for h in next(reader)]
    except StopIteration:
        raise CatalogError("The item file is empty.") from None
    col = {name: i for i, name in enumerate(header)}
    missing = [c for c in ("item_code", "title") if c not in col]
    if missing:
        raise CatalogError(
            "The item file lacks the column(s) {}: it does not look like a SLiMS item export "
            "(its header is: {}).".format(", ".join(missing), ", ".join(header[:20])))

    def get(row, name):
        i = col.get(name)
        return row[i].strip() if i is not None and i < len(row) else ""

    last = reader.line_num
    for row in reader:
        n, last = last + 1, reader.line_num  # a quoted title may span lines
        if not any(cell.strip() for cell in row):
            continue
        raw_status = get(row, "item_status_name")
        status = SLIMS_STATUS.get(raw_status.casefold())
        if status is None:
            status = status_from_text(raw_status)
        yield CsvItem(n, get(row, "title"), ItemData(
            barcode=get(row, "item_code") or None, call_number=get(row, "call_number"),
            location=get(row, "location_name"), status=status,
            note=raw_status if status == ItemStatus.UNKNOWN else "", source="csv"))


class _DecodedLines:
    """A binary stream as text, line by line: UTF-8 (a byte order mark
    dropped), or Windows-1252 for a line that is not UTF-8."""

    def __init__(self, stream, notes: list[dict] | None):
        self._stream = stream
        self._notes = notes
        self._line = 0
        self._said = False

    def readline(self) -> str:
        raw = self._stream.readline()
        if not raw:
            return ""
        self._line += 1
        if self._line == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            if not self._said and self._notes is not None:
                self._said = True
                self._notes.append({"line": self._line, "barcode": "", "title": "", **marc.wording(marc.N_(
                    "the item file is not UTF-8 from this line on: read as Windows-1252 "
                    "(check its accented letters)"))})
            return raw.decode("cp1252", errors="replace")

    def read(self, size: int) -> str:
        out = []
        total = 0
        while total < size:
            line = self.readline()
            if not line:
                break
            out.append(line)
            total += len(line)
        return "".join(out)


class _Chain:
    """Lines of `head` then of the rest of `stream`, for csv.reader."""

    def __init__(self, head: str, stream):
        self._lines = iter(io.StringIO(head, newline=""))
        self._stream = stream
        self._carry = ""

    def __iter__(self):
        return self

    def __next__(self) -> str:
        for line in self._lines:
            if line.endswith(("\n", "\r")):
                return line
            self._carry = line  # the head was cut mid-line
            break
        line = self._carry + self._stream.readline()
        self._carry = ""
        if not line:
            raise StopIteration
        return line
