"""Reading partner MARC exports: ISO 2709, MARCXML and MARC-in-JSON, told
apart by their content; MARC-8 or UTF-8 decided per record from its bytes.

Every record comes out as a ``ReadRecord`` with its ordinal (1-based position
in the file, broken records counted) and the defects found in it, so that a
broken record costs that record at most and is never passed over in silence.
The readers stream: they hold one record (or one read buffer) at a time.
"""
from __future__ import annotations

import hashlib
import io
import json
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import orjson
from pymarc import Field, Indicators, Leader, Record, Subfield, marc8_mapping
from pymarc.marc8 import MARC8ToUnicode

from .errors import CatalogError

RECORD_END = b"\x1d"
FIELD_END = b"\x1e"
SUBFIELD = b"\x1f"
MARC_NS = "http://www.loc.gov/MARC21/slim"

ERROR = "error"
WARNING = "warning"

FORMATS = ("iso2709", "marcxml", "marcjson")
_CHUNK = 1 << 20


def N_(text: str) -> str:
    """Marks a defect's wording for translation; it is translated where shown."""
    return text


@dataclass
class Problem:
    severity: str  # error: the record was skipped; warning: imported, repaired as said
    defect: str  # in English, as the import report gives it to scripts
    template: str = ""  # the msgid, for showing the defect in the reader's language
    args: dict = field(default_factory=dict)


def _problem(severity: str, template: str, args: dict) -> Problem:
    args = _plain(args)
    return Problem(severity, template % args if args else template, template, args)


def _plain(args: dict) -> dict:
    return {k: v if isinstance(v, int | str) else str(v) for k, v in args.items()}


def wording(template: str, **args) -> dict:
    """A problem as an import report keeps it: in English for scripts
    ("defect"), and as its msgid and values ("details") for a page to say it
    in its reader's language. template: marked with N_."""
    args = _plain(args)
    return {"defect": template % args if args else template,
            "details": [{"template": template, "args": args}]}


@dataclass
class ReadRecord:
    ordinal: int
    record: Record | None
    control_number: str = ""
    problems: list[Problem] = field(default_factory=list)
    encoding: str = ""  # utf8, utf8-unflagged (UTF-8 under a MARC-8 leader), marc8
    # MARC-in-JSON of the record as read (UTF-8), kept for storage and hashing.
    as_dict: dict | None = None
    # Digest of the record's bytes where the format has them (ISO 2709).
    raw_hash: str = ""
    # Its identifier in the OAI-PMH repository a harvest took it from, and
    # whether the repository lists it as deleted (a marker, no record): see
    # harvest._write_record, which writes both as attributes of <record>.
    harvest_identifier: str = ""
    deleted: bool = False

    @property
    def usable(self) -> bool:
        return self.record is not None

    def warn(self, template: str, **args) -> None:
        self.problems.append(_problem(WARNING, template, args))

    def fail(self, template: str, **args) -> None:
        self.problems.append(_problem(ERROR, template, args))
        self.record = None
        self.as_dict = None


class Progress:
    """Bytes consumed from the underlying file, for progress bars."""

    def __init__(self):
        self.bytes = 0


# --- format detection ---------------------------------------------------------

def detect_format(head: bytes) -> str:
    """'iso2709', 'marcxml' or 'marcjson' from the first bytes of a file."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n\x00")
    if not text:
        raise CatalogError("The file is empty: there is no MARC record in it.")
    first = text[:1]
    if first == b"<":
        return "marcxml"
    if first in (b"[", b"{"):
        return "marcjson"
    if text[:5].isdigit() or RECORD_END in text or FIELD_END in text:
        return "iso2709"
    raise CatalogError(
        "This file is not a MARC export we can read: it is neither ISO 2709 (MARC 21), "
        "MARCXML nor MARC-in-JSON (it starts with {!r}).".format(text[:20].decode("latin-1")))


def open_records(stream, fmt: str | None = None, progress: Progress | None = None
                 ) -> tuple[str, Iterator[ReadRecord]]:
    """The format of a binary stream and an iterator over its records."""
    head = stream.read(4096)
    fmt = fmt or detect_format(head)
    progress = progress or Progress()
    rest = _Prefixed(head, stream)
    if fmt == "iso2709":
        return fmt, read_iso2709(rest, progress)
    if fmt == "marcxml":
        return fmt, read_marcxml(rest, progress)
    if fmt == "marcjson":
        return fmt, read_marcjson(rest, progress)
    raise CatalogError(f"Unknown MARC format {fmt!r}.")


class _Prefixed(io.RawIOBase):
    """A stream whose first bytes were already read for detection."""

    def __init__(self, head: bytes, stream):
        self._head = head
        self._stream = stream

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self._head:
            if size is None or size < 0:
                data, self._head = self._head + self._stream.read(), b""
                return data
            data, self._head = self._head[:size], self._head[size:]
            return data
        return self._stream.read(size)

    def readinto(self, buf) -> int:
        data = self.read(len(buf))
        buf[: len(data)] = data
        return len(data)


# --- ISO 2709 -----------------------------------------------------------------

def split_records(stream, progress: Progress | None = None) -> Iterator[tuple[bytes, bool]]:
    """Raw records up to each record terminator, whatever their leaders claim:
    (bytes without the terminator, terminated)."""
    buf = b""
    while True:
        chunk = stream.read(_CHUNK)
        if not chunk:
            break
        buf += chunk
        start = 0
        while True:
            end = buf.find(RECORD_END, start)
            if end < 0:
                break
            if progress is not None:
                progress.bytes += end + 1 - start
            yield buf[start:end], True
            start = end + 1
        buf = buf[start:]
    if buf:
        if progress is not None:
            progress.bytes += len(buf)
        yield buf, False


def read_iso2709(stream, progress: Progress | None = None) -> Iterator[ReadRecord]:
    """Every record of an ISO 2709 file. A file that ends inside a record (no
    terminator, fewer bytes than its leader says: the export was cut short)
    raises UnreadableTail after the records before it, so that an import
    withdraws nothing on the strength of a partial file."""
    ordinal = 0
    for raw, terminated in split_records(stream, progress):
        # line breaks and NULs between records; a byte order mark before the first
        body = raw.lstrip(b"\r\n\t \x00\xef\xbb\xbf")
        if not terminated and body and _cut_short(body):
            raise UnreadableTail(ordinal, (
                f"the file ends in the middle of record {ordinal + 1}: its leader says "
                f"{int(body[:5])} bytes, the file holds {len(body)} of them; the export "
                "was cut short, so nothing was withdrawn"))
        if not body:
            if raw == b"" and terminated:
                ordinal += 1
                rr = ReadRecord(ordinal, None)
                rr.fail(N_("empty record (two record terminators in a row)"))
                yield rr
            continue  # line breaks between records or at the end of the file
        for part, glued in _unglue(body):
            ordinal += 1
            rr = parse_iso2709(part, ordinal, terminated or glued)
            if glued:
                rr.warn(N_("no record terminator after this record: the next one starts right after it; read as two "
                           "records"))
            yield rr


def _cut_short(body: bytes) -> bool:
    """An unterminated last record holding fewer bytes than its leader says."""
    claimed = body[:5]
    return claimed.isdigit() and int(claimed) > len(body) + 1


def _unglue(body: bytes) -> Iterator[tuple[bytes, bool]]:
    """A lost record terminator glues two records together: where a second
    leader begins right where the first record ends, by its leader's length
    or, when that length is wrong too, by its own directory (the end of its
    furthest field), they are told apart."""
    while True:
        end = _claimed_end(body)
        if end == len(body):  # the length is right: one record (the common case)
            yield body, False
            return
        if not _second_leader_at(body, end):
            end = _directory_end(body)
        if _second_leader_at(body, end):
            yield body[:end], True
            body = body[end:]
            continue
        yield body, False
        return


def _second_leader_at(body: bytes, end: int | None) -> bool:
    """Whether a record ends at `end` and a leader begins right after it."""
    return (end is not None and 24 < end < len(body) - 24 and body[end - 1:end] == FIELD_END
            and body[end:end + 5].isdigit() and body[end + 20:end + 24].isdigit())


def _claimed_end(body: bytes) -> int | None:
    """Where the record ends (its terminator left out) by its leader's length."""
    claimed = body[:5]
    return int(claimed) - 1 if claimed.isdigit() else None


def _directory_end(body: bytes) -> int | None:
    """Where the record's data end by its own directory: the base address
    plus the end of its furthest field; None when the directory cannot say."""
    dir_end = body.find(FIELD_END, 24)
    if dir_end < 0 or (dir_end - 24) % 12 or dir_end == 24:
        return None
    directory = body[24:dir_end]
    if not directory.isascii():
        return None
    furthest = 0
    for i in range(0, len(directory), 12):
        length, start = directory[i + 3:i + 7], directory[i + 7:i + 12]
        if not (length.isdigit() and start.isdigit()):
            return None
        furthest = max(furthest, int(start) + int(length))
    return dir_end + 1 + furthest


_CONTROL_TAGS = frozenset(f"{n:03d}" for n in range(10))


def parse_iso2709(raw: bytes, ordinal: int, terminated: bool = True) -> ReadRecord:
    """One record (without its terminator) into a ReadRecord; defects are noted,
    repaired where the record still says unambiguously what it holds."""
    rr = ReadRecord(ordinal, None)
    if len(raw) < 25:
        rr.fail(N_("record is only %(size)s bytes long: too short to be MARC"), size=len(raw))
        return rr
    try:
        leader = raw[:24].decode("ascii")
    except UnicodeDecodeError:
        rr.fail(N_("the leader (first 24 bytes) is not plain text: not a MARC record"))
        return rr
    actual = len(raw) + (1 if terminated else 0)
    if not terminated:
        rr.warn(N_("the file ends without a record terminator after this record"))
    claimed = leader[:5]
    if not claimed.isdigit():
        rr.warn(N_("record length in the leader is %(claimed)s, not a number; read the %(actual)s bytes up to the "
                   "record terminator"), claimed=repr(claimed), actual=actual)
    elif int(claimed) != actual:
        rr.warn(N_("record length in the leader is %(claimed)s but the record has %(actual)s bytes; read up to the "
                   "record terminator"), claimed=int(claimed), actual=actual)
    dir_end = raw.find(FIELD_END, 24)
    if dir_end < 0:
        rr.fail(N_("bad directory: no field terminator after the directory"))
        return rr
    base = leader[12:17]
    if not base.isdigit() or int(base) != dir_end + 1:
        rr.warn(N_("base address of data in the leader is %(base)s but the data start at byte %(start)s; used the "
                   "latter"), base=repr(base), start=dir_end + 1)
    directory = raw[24:dir_end]
    if len(directory) % 12:
        rr.fail(N_("bad directory: %(size)s bytes is not a whole number of 12-byte entries"), size=len(directory))
        return rr
    try:
        directory = directory.decode("ascii")
    except UnicodeDecodeError:
        rr.fail(N_("bad directory: it contains bytes that are not plain text"))
        return rr
    n = len(directory) // 12
    if n == 0:
        rr.fail(N_("empty record: the directory lists no fields"))
        return rr
    data = raw[dir_end + 1:]
    entries = [directory[i * 12:(i + 1) * 12] for i in range(n)]
    pieces = _fields_by_directory(entries, data)
    if pieces is None:
        by_terminator = data.split(FIELD_END)
        if by_terminator and by_terminator[-1] == b"":
            by_terminator.pop()
        if len(by_terminator) != n:
            rr.fail(N_("bad directory: it lists %(n)s fields but the record holds "
                       "%(found)s"), n=n, found=len(by_terminator))
            return rr
        rr.warn(N_("bad directory: entries point outside the record; fields read by their field terminators instead"))
        pieces = [(e[:3], p) for e, p in zip(entries, by_terminator, strict=True)]

    encoding = _choose_encoding(leader, data)
    rr.encoding = encoding
    fields: list[Field] = []
    out: list[dict] = []
    if encoding in ("utf8", "utf8-unflagged"):
        _utf8_fields(rr, pieces, fields, out)
    else:
        _other_fields(rr, pieces, fields, out, _decoder(encoding, rr))
    if encoding.startswith("utf8") and leader[9] != "a":
        leader = leader[:9] + "a" + leader[10:]
    elif encoding == "marc8":
        leader = leader[:9] + "a" + leader[10:]  # stored as UTF-8 from here on
    rr.raw_hash = hashlib.sha256(raw).hexdigest()
    return _finish(rr, leader, fields, out)


# pymarc's constructors check what a parser already knows; building the
# objects directly halves the cost of a record.
_new = object.__new__
_tuple_new = tuple.__new__
_GOOD_TAGS: set[str] = set()


def control_field(tag: str, text: str) -> Field:
    f = _new(Field)
    f.tag, f.data, f._indicators, f.subfields, f.control_field = tag, text, None, [], True
    return f


def data_field(tag: str, ind1: str, ind2: str, subfields: list) -> Field:
    f = _new(Field)
    f.tag, f.data, f.subfields, f.control_field = tag, None, subfields, False
    f._indicators = _tuple_new(Indicators, (ind1, ind2))
    return f


def _check_tag(rr: ReadRecord, tag: str) -> None:
    if tag in _GOOD_TAGS:
        return
    if _tag_ok(tag):
        _GOOD_TAGS.add(tag)
    else:
        rr.warn(N_("field tag %(tag)s is not three letters or digits; kept as it is"), tag=repr(tag))


def _control_text(text: str) -> str:
    if "\x1f" in text:  # SLiMS writes 005 as a data field
        return " ".join(s[1:] for s in text.split("\x1f")[1:]).strip()
    return text


def _indicators(rr: ReadRecord, tag: str, inds: str) -> str:
    if len(inds) != 2:
        rr.warn(N_("field %(tag)s has %(count)s indicators instead of 2; missing ones read as "
                   "blank"), tag=tag, count=len(inds))
        inds = (inds + "  ")[:2]
    return inds


def _utf8_fields(rr: ReadRecord, pieces, fields: list, out: list) -> None:
    """Valid UTF-8: a field terminator never falls inside a character, so each
    field decodes on its own and splits as text."""
    for tag, value in pieces:
        _check_tag(rr, tag)
        text = value.decode("utf-8")
        if tag in _CONTROL_TAGS:
            text = _control_text(text)
            fields.append(control_field(tag, text))
            out.append({tag: text})
            continue
        parts = text.split("\x1f")
        inds = parts[0]
        if len(inds) != 2:
            inds = _indicators(rr, tag, inds)
        subs = [_tuple_new(Subfield, (p[0], p[1:])) for p in parts[1:] if p]
        if not text.isascii():
            for sf in subs:
                if sf[0] > "\x7f":
                    rr.warn(N_("field %(tag)s: subfield code %(code)s is not a letter or digit; "
                               "kept"), tag=tag, code=repr(sf[0]))
        fields.append(data_field(tag, inds[0], inds[1], subs))
        out.append({tag: {"ind1": inds[0], "ind2": inds[1], "subfields": [{c: v} for c, v in subs]}})


def _other_fields(rr: ReadRecord, pieces, fields: list, out: list, decode) -> None:
    for tag, value in pieces:
        _check_tag(rr, tag)
        if tag in _CONTROL_TAGS:
            text = _control_text(decode(value, tag))
            fields.append(control_field(tag, text))
            out.append({tag: text})
            continue
        parts = value.split(SUBFIELD)
        inds = _indicators(rr, tag, parts[0].decode("latin-1"))
        subfields = []
        for sub in parts[1:]:
            if not sub:
                continue
            if sub[0] < 0x80:
                subfields.append(_tuple_new(Subfield, (chr(sub[0]), decode(sub[1:], tag))))
                continue
            whole = decode(sub, tag)
            rr.warn(N_("field %(tag)s: subfield code %(code)s is not a letter or digit; "
                       "kept"), tag=tag, code=repr(whole[:1]))
            subfields.append(_tuple_new(Subfield, (whole[:1], whole[1:])))
        fields.append(data_field(tag, inds[0], inds[1], subfields))
        out.append({tag: {"ind1": inds[0], "ind2": inds[1],
                          "subfields": [{c: v} for c, v in subfields]}})


def _fields_by_directory(entries: list[str], data: bytes) -> list[tuple[str, bytes]] | None:
    out = []
    size = len(data)
    for e in entries:
        length, offset = e[3:7], e[7:12]
        if not (length.isdigit() and offset.isdigit()):
            return None
        start = int(offset)
        end = start + int(length)
        if end > size or end <= start or data[end - 1] != 0x1E:
            return None
        out.append((e[:3], data[start:end - 1]))
    return out


def _tag_ok(tag: str) -> bool:
    return len(tag) == 3 and tag.isalnum()


_UTF8_SEQ = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
_MARC8_BYTES = frozenset(marc8_mapping.CODESETS[0x45]) | frozenset(range(0x80, 0xA0))


def _choose_encoding(leader: str, data: bytes) -> str:
    """utf8; utf8-unflagged (UTF-8 under a leader that claims MARC-8, as SLiMS
    writes); utf8-invalid (UTF-8 with broken bytes); marc8."""
    if data.isascii():
        return "utf8"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        if leader[9] == "a" or _UTF8_SEQ.search(data):
            return "utf8-invalid"
        if b"\x1b" in data or all(b in _MARC8_BYTES for b in data if b >= 0x80):
            return "marc8"
        return "utf8-invalid"
    return "utf8" if leader[9] == "a" else "utf8-unflagged"


def _decoder(encoding: str, rr: ReadRecord) -> Callable[[bytes, str], str]:
    if encoding != "marc8":
        bad: set[str] = set()

        def utf8(b: bytes, tag: str) -> str:
            try:
                return b.decode("utf-8")
            except UnicodeDecodeError:
                if tag not in bad:
                    bad.add(tag)
                    rr.warn(N_("field %(tag)s: bytes that are not valid UTF-8 were replaced by \ufffd"), tag=tag)
                return b.decode("utf-8", "replace")

        return utf8
    converter = MARC8ToUnicode(quiet=True)

    def marc8(b: bytes, tag: str) -> str:
        if b.isascii() and b"\x1b" not in b:
            return b.decode("ascii")
        try:
            converter.g0, converter.g1 = converter.basic_latin, converter.ansel
            text = converter.translate(b)
            if "\x1b" in text:  # an escape sequence the converter did not know: left as it was
                rr.warn(N_("field %(tag)s: a MARC-8 escape sequence that cannot be read; its "
                           "characters may be wrong"), tag=tag)
                text = text.replace("\x1b", "")
            return text
        except (IndexError, TypeError, KeyError, ValueError):
            rr.warn(N_("field %(tag)s: MARC-8 that cannot be decoded; unreadable characters replaced by "
                       "\ufffd"), tag=tag)
            return "".join(chr(c) if c < 0x80 else "\ufffd" for c in b)

    return marc8


def _finish(rr: ReadRecord, leader: str, fields: list[Field], out: list[dict]) -> ReadRecord:
    if not fields:
        rr.fail(N_("empty record: it has no fields"))
        return rr
    record = Record(leader=leader)
    record.leader = Leader(leader)
    record.fields = fields
    rr.record = record
    rr.as_dict = {"leader": leader, "fields": out}
    cn = record.get("001")
    rr.control_number = (cn.data or "").strip() if cn is not None else ""
    if not any(f.tag == "245" for f in fields):
        rr.warn(N_("no title (field 245); imported without one"))
    return rr


# --- MARCXML ------------------------------------------------------------------

def read_marcxml(stream, progress: Progress | None = None) -> Iterator[ReadRecord]:
    """Records of a MARCXML collection, or of any wrapper (OAI-PMH, SRU) around
    MARC21 slim records. DTDs, entities and external references are refused.

    The document is read by ElementTree's C parser, guarded by defusedxml's,
    which reads each chunk first, up to the root element: the prolog, where a
    document type declaration can only stand (``_PrologGuard``). A DTD is
    refused as soon as it begins, before the C parser has read any of it.
    Without a DTD no entity can be declared (a reference to an undeclared
    one is an error) and nothing is fetched: as locked as defusedxml's
    parser reading the whole file, at twice its speed (defusedxml's parser
    is ElementTree's in pure Python, so that it can hook expat)."""
    from xml.etree.ElementTree import ParseError, XMLPullParser

    counted = _Counting(stream, progress)
    guard = _PrologGuard()
    parser = XMLPullParser(events=("end", "start-ns"))
    seen = _Seen()  # the last bytes fed, to find where a break is
    prefixes = {""}  # those the MARC namespace was declared with ("" when default)
    ordinal = 0
    first = True
    broken = None
    try:
        while broken is None:
            data = counted.read(_XML_CHUNK)
            if first:
                # line breaks before the XML declaration, which must come first
                first = False
                if data.lstrip(b" \t\r\n").startswith(b"<?xml"):
                    data = data.lstrip(b" \t\r\n")
            seen.add(data)
            try:
                if guard.open and data:
                    guard.feed(data)
                if data:
                    parser.feed(data)
                else:
                    parser.close()
                # the records before a break come first, then its error
                for event, elem in parser.read_events():
                    if event == "start-ns":
                        if elem[1] == MARC_NS:
                            prefixes.add(elem[0])
                        continue
                    tag = elem.tag
                    if tag != _REC_NS and (tag != "record" or not any(
                            c.tag in ("leader", "controlfield", "datafield") for c in elem)):
                        continue
                    if elem.get(_OAI_STATUS) == "deleted":  # a harvest's deletion: no record
                        yield ReadRecord(ordinal, None, harvest_identifier=elem.get(_OAI_IDENTIFIER, ""),
                                         deleted=True)
                        elem.clear()
                        continue
                    ordinal += 1
                    yield _xml_record(elem, ordinal)
                    elem.clear()
            except ParseError as exc:
                if not data:  # the document ends inside an element: cut short
                    line, col = getattr(exc, "position", (0, 0))
                    raise UnreadableTail(ordinal, (
                        f"the XML ends at line {line}, column {col} before its elements are "
                        f"closed: the export was cut short after record {ordinal}")) from exc
                broken = exc
            if not data:
                break
    except LookupError as exc:  # from the XML declaration
        raise CatalogError(f"This XML file cannot be read: its declaration names an encoding "
                           f"nobody knows ({exc}).") from exc
    if broken is None:
        return
    line, col = getattr(broken, "position", (0, 0))
    reason = getattr(broken, "msg", None) or str(broken)
    where = f"the XML is broken at line {line}, column {col} ({reason})"
    at = seen.offset(line, col)
    if at is None or not seen.inside_record(at, prefixes):
        raise UnreadableTail(ordinal, f"{where}; nothing after record {ordinal} could be read") from broken
    # The break is inside a record: that one is lost, and the records after
    # it are read one by one, each up to its end tag, like ISO 2709's up to
    # their terminators.
    ordinal += 1
    rr = ReadRecord(ordinal, None, encoding="utf8")
    rr.fail(N_("%(where)s; the records after it were read one by one"), where=where)
    yield rr
    yield from _xml_one_by_one(seen.after(at), counted, ordinal, prefixes)


class _Seen:
    """The last two chunks fed to the XML parser, and enough of what came
    before them (lines and bytes) to turn a parse error's line and column
    into a place among them."""

    def __init__(self):
        self.chunks: list[bytes] = []
        self.start = 0  # offset of the first kept chunk in the document
        self.lines_before = 0  # line breaks before it
        self.last_break_before = -1  # offset of the last of them

    def add(self, data: bytes) -> None:
        self.chunks.append(data)
        if len(self.chunks) > 2:
            gone = self.chunks.pop(0)
            n = gone.count(b"\n")
            if n:
                self.lines_before += n
                self.last_break_before = self.start + gone.rindex(b"\n")
            self.start += len(gone)

    def offset(self, line: int, col: int) -> int | None:
        """The place (in the kept bytes) of a 1-based line and 0-based column."""
        kept = b"".join(self.chunks)
        if line - 1 < self.lines_before:
            return None  # before what is kept: never, since the parser stops at once
        if line - 1 == self.lines_before:
            line_start = self.last_break_before + 1 - self.start
        else:
            i, pos = self.lines_before, -1
            while i < line - 1:
                pos = kept.find(b"\n", pos + 1)
                if pos < 0:
                    return None
                i += 1
            line_start = pos + 1
        return max(0, min(len(kept), line_start + col))

    def inside_record(self, at: int, prefixes: set[str]) -> bool:
        kept = b"".join(self.chunks)[:at]
        starts = [m.end() for m in _record_tags(prefixes, True).finditer(kept)]
        ends = [m.end() for m in _record_tags(prefixes, False).finditer(kept)]
        return bool(starts) and (not ends or starts[-1] > ends[-1])

    def after(self, at: int) -> bytes:
        return b"".join(self.chunks)[at:]


def _record_tags(prefixes: set[str], start: bool) -> re.Pattern:
    """A MARC record's start (or end) tag, under any prefix it was given."""
    names = "|".join(re.escape(p + ":" if p else "") + "record" for p in sorted(prefixes))
    return re.compile(((r"<(?:%s)(?=[\s>/])" if start else r"</(?:%s)\s*>") % names).encode())


def _xml_one_by_one(buffer: bytes, counted, ordinal: int, prefixes: set[str]
                    ) -> Iterator[ReadRecord]:
    """The MARC records of the rest of a broken document, each parsed on its
    own (in an element that declares the MARC namespace with each prefix it
    was given): the innermost record start tag before each end tag begins a
    record (an OAI-PMH record holds the MARC one). One that does not parse
    is reported and costs only itself. Parsed with no document type: a DTD
    or an entity in the rest is an error, never obeyed."""
    from xml.etree.ElementTree import ParseError, XMLParser

    starts, ends = _record_tags(prefixes, True), _record_tags(prefixes, False)
    declare = " ".join(f'xmlns{":" + p if p else ""}="{MARC_NS}"' for p in sorted(prefixes))
    done = False
    while True:
        end = ends.search(buffer)
        if end is None:
            if done:
                if starts.search(buffer):  # a record begun and never ended
                    raise UnreadableTail(ordinal, f"the file ends inside record {ordinal + 1}: "
                                                  "the export was cut short")
                return
            data = counted.read(_XML_CHUNK)
            done = not data
            buffer += data
            continue
        begins = [m.start() for m in starts.finditer(buffer, 0, end.start())]
        segment = buffer[begins[-1]:end.end()] if begins else b""  # the innermost start
        buffer = buffer[end.end():]
        if not segment:
            continue  # an end tag with no start: the broken record's own
        parser = XMLParser()
        try:
            parser.feed(b"<resumed " + declare.encode() + b">")
            parser.feed(segment)
            parser.feed(b"</resumed>")
            root = parser.close()
        except ParseError as exc:
            ordinal += 1
            rr = ReadRecord(ordinal, None, encoding="utf8")
            rr.fail(N_("the XML of this record is broken (%(reason)s)"),
                    reason=getattr(exc, "msg", None) or str(exc))
            yield rr
            continue
        for elem in root:
            if elem.tag == _REC_NS or (elem.tag == "record" and any(
                    c.tag in ("leader", "controlfield", "datafield") for c in elem)):
                ordinal += 1
                yield _xml_record(elem, ordinal)


class _PrologGuard:
    """defusedxml's parser (forbidding DTDs, entities and external
    references), fed the document up to its root element: the prolog, where
    a document type declaration can only stand. It refuses one as it begins;
    once the root element starts, it has nothing more to guard."""

    class _Root(Exception):
        pass

    def __init__(self):
        from defusedxml.ElementTree import DefusedXMLParser

        self.open = True
        self.parser = DefusedXMLParser(target=self, forbid_dtd=True, forbid_entities=True,
                                       forbid_external=True)

    def start(self, tag, attrib):  # the parser's target: the root element begins
        raise self._Root

    def feed(self, data: bytes) -> None:
        """Raises CatalogError for a DTD, and ParseError where the guard cannot
        read the prolog: the document is then not read further, whatever the
        other parser would make of it."""
        from defusedxml import DefusedXmlException

        try:
            self.parser.feed(data)
        except self._Root:
            self.open = False
        except DefusedXmlException as exc:
            self.open = False
            raise CatalogError(
                "This XML file was refused: it declares a DTD, entities or external references "
                f"({exc.__class__.__name__}), which a MARC export never needs.") from None


_REC_NS = "{" + MARC_NS + "}record"
OAI_NS = "http://www.openarchives.org/OAI/2.0/"
_OAI_IDENTIFIER = "{" + OAI_NS + "}identifier"
_OAI_STATUS = "{" + OAI_NS + "}status"
# What the XML parser is fed at a time: it builds every element of a chunk
# before handing out the first, so smaller chunks keep them in the CPU's
# cache (KEMENAG's 9 MB: 0.66 s read in 1 MB chunks, 0.39 s in 64 KB ones).
_XML_CHUNK = 64 << 10


class UnreadableTail(Exception):
    """The file could not be read to its end: records after `after` are unknown."""

    def __init__(self, after: int, message: str):
        super().__init__(message)
        self.after = after
        self.message = message


class _Counting:
    def __init__(self, stream, progress: Progress | None):
        self.stream = stream
        self.progress = progress

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size if size and size > 0 else _CHUNK)
        if self.progress is not None:
            self.progress.bytes += len(data)
        return data


def _xml_record(elem, ordinal: int) -> ReadRecord:
    rr = ReadRecord(ordinal, None, encoding="utf8", harvest_identifier=elem.get(_OAI_IDENTIFIER, ""))
    leader = " " * 24
    fields: list[Field] = []
    out: list[dict] = []
    for child in elem:
        local = child.tag.rsplit("}", 1)[-1]
        if local == "leader":
            text = child.text or ""
            if len(text) != 24:
                rr.warn(N_("leader is %(length)s characters instead of 24; padded or cut"), length=len(text))
                text = (text + " " * 24)[:24]
            leader = text
        elif local == "controlfield":
            tag = _xml_tag(child.get("tag", ""), rr)
            text = child.text or ""
            fields.append(Field(tag=tag, data=text) if tag in _CONTROL_TAGS
                          else Field(tag=tag, subfields=[Subfield("a", text)]))
            out.append({tag: text} if tag in _CONTROL_TAGS
                       else {tag: {"ind1": " ", "ind2": " ", "subfields": [{"a": text}]}})
        elif local == "datafield":
            tag = _xml_tag(child.get("tag", ""), rr)
            ind1, ind2 = child.get("ind1", " "), child.get("ind2", " ")
            if len(ind1) != 1 or len(ind2) != 1:
                rr.warn(N_("field %(tag)s: indicators %(ind1)s %(ind2)s are not one character each; read as blank "
                           "where missing"), tag=tag, ind1=repr(ind1), ind2=repr(ind2))
                ind1, ind2 = (ind1 + " ")[0], (ind2 + " ")[0]
            subs = [Subfield(sf.get("code", "?")[:1] or "?", sf.text or "")
                    for sf in child if sf.tag.rsplit("}", 1)[-1] == "subfield"]
            if tag in _CONTROL_TAGS:
                text = " ".join(s.value for s in subs)
                fields.append(Field(tag=tag, data=text))
                out.append({tag: text})
            else:
                fields.append(Field(tag=tag, indicators=Indicators(ind1, ind2), subfields=subs))
                out.append({tag: {"ind1": ind1, "ind2": ind2,
                                  "subfields": [{s.code: s.value} for s in subs]}})
    leader = leader[:9] + "a" + leader[10:]
    return _finish(rr, leader, fields, out)


def _xml_tag(tag: str, rr: ReadRecord) -> str:
    tag = tag.strip()
    if len(tag) != 3 or not tag.isalnum():
        fixed = tag.zfill(3) if tag.isdigit() and len(tag) < 3 else tag
        rr.warn(N_("field tag %(tag)s is not three letters or digits; read as "
                   "%(fixed)s"), tag=repr(tag), fixed=repr(fixed))
        return fixed
    return tag


# --- MARC-in-JSON ---------------------------------------------------------------

def read_marcjson(stream, progress: Progress | None = None) -> Iterator[ReadRecord]:
    """Records of a MARC-in-JSON array (or one record, or one per line), each
    parsed on its own so that a broken one costs only itself: when an object
    does not parse and holds the start of another record (a string left
    open, a brace missing, swallow the records after it), the broken part
    is reported and the reading starts again at that next record."""
    ordinal = 0
    objects = _json_objects(stream, progress)
    text = next(objects, None)
    while text is not None:
        ordinal += 1
        rr = ReadRecord(ordinal, None, encoding="utf8")
        try:
            obj = json.loads(text)
        except (ValueError, UnicodeDecodeError) as exc:
            resume = _JSON_RECORD_START.search(text, 1)
            if resume is not None:
                rr.fail(N_("not valid JSON (%(exc)s); the records after it were read from where the "
                           "next one starts"), exc=exc)
            else:
                rr.fail(N_("not valid JSON (%(exc)s)"), exc=exc)
            yield rr
            try:
                text = objects.send(text[resume.start():]) if resume is not None else next(objects)
            except StopIteration:
                text = None
            continue
        yield _json_record(obj, rr)
        text = next(objects, None)


# where a MARC-in-JSON record begins: an object whose first key is its leader or fields
_JSON_RECORD_START = re.compile(rb'\{\s*"(?:leader|fields)"\s*:')


def _json_objects(stream, progress: Progress | None) -> Iterator[bytes]:
    """Top-level JSON objects (inside an array or not), found by brace depth.
    The consumer may send back bytes of the object just yielded: they are
    read again, with a fresh count of braces, before the rest of the file."""
    depth = 0
    in_string = escaped = False
    current = bytearray()
    pending = b""  # bytes sent back, read before the stream's next chunk
    exhausted = False
    while True:
        if pending:
            chunk, pending = pending, b""
        else:
            chunk = b"" if exhausted else stream.read(_CHUNK)
            if not chunk:
                exhausted = True
                if depth and current:
                    # cut short, or a brace never closed: json.loads reports it
                    back = yield bytes(current)
                    current.clear()
                    depth, in_string, escaped = 0, False, False
                    if back:
                        pending = back
                        continue
                break
            if progress is not None:
                progress.bytes += len(chunk)
        start = None if depth == 0 else 0
        for i, b in enumerate(chunk):
            if in_string:
                if escaped:
                    escaped = False
                elif b == 0x5C:
                    escaped = True
                elif b == 0x22:
                    in_string = False
                continue
            if b == 0x22:
                in_string = True
            elif b == 0x7B:
                if depth == 0:
                    start = i
                depth += 1
            elif b == 0x7D and depth:
                depth -= 1
                if depth == 0:
                    current += chunk[start:i + 1]
                    back = yield bytes(current)
                    current.clear()
                    start = None
                    if back:  # read again from there, then the rest of this chunk
                        pending = back + chunk[i + 1:]
                        break
        else:
            if depth and start is not None:
                current += chunk[start:]


def record_from_json(obj: dict) -> Record | None:
    """A pymarc Record again from the MARC-in-JSON the catalogue stores (as
    the importer read it), read the way an export's MARC-in-JSON is; None
    when it is not a usable record."""
    return _json_record(obj, ReadRecord(0, None, encoding="utf8")).record


def _json_record(obj, rr: ReadRecord) -> ReadRecord:
    if not isinstance(obj, dict) or not isinstance(obj.get("fields"), list):
        rr.fail(N_("not a MARC-in-JSON record (no list of fields)"))
        return rr
    leader = obj.get("leader") or " " * 24
    if not isinstance(leader, str) or len(leader) != 24:
        rr.warn(N_("leader is not 24 characters; padded or cut"))
        leader = (str(leader) + " " * 24)[:24]
    fields: list[Field] = []
    out: list[dict] = []
    for entry in obj["fields"]:
        if not isinstance(entry, dict) or len(entry) != 1:
            rr.warn(N_("a field that is not a one-key object was left out"))
            continue
        ((tag, value),) = entry.items()
        if not _tag_ok(tag):
            rr.warn(N_("field tag %(tag)s is not three letters or digits; kept as it is"), tag=repr(tag))
        if isinstance(value, str):
            fields.append(Field(tag=tag, data=value) if tag in _CONTROL_TAGS
                          else Field(tag=tag, subfields=[Subfield("a", value)]))
            out.append({tag: value})
            continue
        if not isinstance(value, dict):
            rr.warn(N_("field %(tag)s is neither text nor subfields; left out"), tag=tag)
            continue
        ind1, ind2 = str(value.get("ind1", " "))[:1] or " ", str(value.get("ind2", " "))[:1] or " "
        subs = []
        for sf in value.get("subfields") or []:
            if isinstance(sf, dict) and len(sf) == 1:
                ((code, text),) = sf.items()
                subs.append(Subfield(str(code)[:1], "" if text is None else str(text)))
        if tag in _CONTROL_TAGS:
            text = " ".join(s.value for s in subs)
            fields.append(Field(tag=tag, data=text))
            out.append({tag: text})
            continue
        fields.append(Field(tag=tag, indicators=Indicators(ind1, ind2), subfields=subs))
        out.append({tag: {"ind1": ind1, "ind2": ind2, "subfields": [{s.code: s.value} for s in subs]}})
    leader = leader[:9] + "a" + leader[10:]
    return _finish(rr, leader, fields, out)


# --- keys and hashes -----------------------------------------------------------

_KEY_TAGS = ("020", "022", "100", "110", "111", "130", "245", "246", "250", "260", "264", "300",
             "490", "700", "710")
_SPACE = re.compile(r"\s+")


def content_key(record: Record) -> str:
    """A stable key for a record without a 001: its bibliographic content only
    (no 005, no holdings), so that a re-export of the same record finds it."""
    parts = []
    for f in record.fields:
        if f.tag in _KEY_TAGS:
            parts.append(f.tag + "|" + "|".join(s.code + _SPACE.sub(" ", s.value.strip()).casefold()
                                              for s in f.subfields))
    digest = hashlib.sha1("\n".join(parts).encode("utf-8")).hexdigest()
    return "h:" + digest[:32]


def content_hash(rr: ReadRecord, extra: str = "") -> str:
    """What tells an unchanged record: its bytes as exported (ISO 2709), else
    its MARC-in-JSON; `extra` is whatever else shapes the import of it."""
    if rr.raw_hash:
        text = rr.raw_hash
    else:
        try:  # the same text as json.dumps(ensure_ascii=False) below, made in C
            text = orjson.dumps(rr.as_dict).decode("utf-8")
        except (TypeError, orjson.JSONEncodeError):
            text = json.dumps(rr.as_dict, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((extra + "\n" + text).encode("utf-8")).hexdigest()


_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def normalise_title(text: str) -> str:
    """Case, accents and punctuation folded, for matching a title alone."""
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return _NON_WORD.sub(" ", text.casefold()).strip()


def record_title(record: Record) -> str:
    f = record.get("245")
    if f is None:
        return ""
    return " ".join(s.value for s in f.subfields if s.code in "abnp")
