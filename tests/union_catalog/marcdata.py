"""Small MARC records and files for the tests, built with pymarc."""
from __future__ import annotations

from pymarc import Field, Record, Subfield, XMLWriter


def record(cn: str | None, title: str, *, author: str = "Nasution, Ahmad", year: str = "2019",
           isbn: str | None = None, items: list[list] | None = None, tag: str = "952",
           stamp: str = "20250101120000.0") -> Record:
    rec = Record(force_utf8=True)
    if cn is not None:
        rec.add_field(Field(tag="001", data=cn))
    rec.add_field(Field(tag="005", data=stamp))
    if isbn:
        rec.add_field(Field(tag="020", indicators=[" ", " "], subfields=[Subfield("a", isbn)]))
    rec.add_field(Field(tag="100", indicators=["1", " "], subfields=[Subfield("a", author)]))
    rec.add_field(Field(tag="245", indicators=["1", "0"], subfields=[Subfield("a", title)]))
    rec.add_field(Field(tag="260", indicators=[" ", " "], subfields=[
        Subfield("a", "Medan :"), Subfield("b", "Perdana Publishing,"), Subfield("c", year)]))
    for sf in items or []:
        rec.add_field(Field(tag=tag, indicators=[" ", " "],
                            subfields=[Subfield(c, v) for c, v in sf]))
    return rec


def iso(records) -> bytes:
    return b"".join(r.as_marc() for r in records)


def xml(records) -> bytes:
    import io

    buf = io.BytesIO()
    w = XMLWriter(buf)
    for r in records:
        w.write(r)
    w.close(close_fh=False)
    return buf.getvalue()


def books(n: int, prefix: str = "b", items: bool = True) -> list[Record]:
    return [record(f"{prefix}{i:05d}", f"Pengantar Ilmu {i}", year=str(1990 + i % 30),
                   items=[[("a", "X"), ("o", f"{i:03d}.1 NAS p"), ("p", f"BC{prefix}{i:05d}")]]
                   if items else None)
            for i in range(1, n + 1)]
