#!/usr/bin/env python3
# ruff: noqa: E501  (a table of books reads best one book a line)
"""Writes the demo catalogue beside this script: four partners' exports of a
few dozen Indonesian books, each catalogued its own way, as the real systems
write them. Run it again after changing it, and commit what it writes.

  UINSU    SLiMS: ISO 2709 without 001, UTF-8 under a blank leader/09, items
           in a separate CSV that names each record by its title
  UGM      Koha: ISO 2709, UTF-8, ISBD punctuation, items in 952
  UINSUKA  Koha: MARCXML, items in 952
  PNRI     INLISLite: ISO 2709, UTF-8, items in 852, serial coverage in 866
"""
from __future__ import annotations

import csv
import io
import random
from pathlib import Path

from pymarc import Field, Leader, Record, Subfield, XMLWriter

HERE = Path(__file__).resolve().parent


def isbn13(body9: str) -> str:
    body = "978602" + body9[:6]
    total = sum((1 if i % 2 == 0 else 3) * int(d) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


# (key, title, subtitle, author (family, given), place, publisher, year, edition, kind)
BOOKS = [
    ("hukum", "Pengantar ilmu hukum", None, ("Mertokusumo", "Sudikno"), "Yogyakarta", "Liberty", 2010, None, "book"),
    ("misbah1", "Tafsir al-Misbah", "pesan, kesan dan keserasian al-Qur'an", ("Shihab", "M. Quraish"), "Jakarta", "Lentera Hati", 2002, None, "book"),
    ("fiqh", "Fiqh Islam", "hukum fiqh lengkap", ("Rasjid", "Sulaiman"), "Bandung", "Sinar Baru Algensindo", 2012, "Cet. 56", "book"),
    ("peradaban", "Sejarah peradaban Islam", "dirasah Islamiyah II", ("Yatim", "Badri"), "Jakarta", "Rajawali Pers", 2008, None, "book"),
    ("perpus", "Pengantar ilmu perpustakaan", None, ("Sulistyo-Basuki", None), "Jakarta", "Gramedia Pustaka Utama", 1991, None, "book"),
    ("manperpus", "Manajemen perpustakaan perguruan tinggi", None, ("Lasa", None), "Yogyakarta", "Pustaka Book Publisher", 2009, None, "book"),
    ("kualitatif", "Metodologi penelitian kualitatif", None, ("Moleong", "Lexy J."), "Bandung", "Remaja Rosdakarya", 2017, "Ed. revisi", "book"),
    ("kualitatif2", "Metodologi penelitian kualitatif", None, ("Moleong", "Lexy J."), "Bandung", "Remaja Rosdakarya", 2007, None, "book"),
    ("ekonomi", "Ekonomi mikro Islami", None, ("Karim", "Adiwarman A."), "Jakarta", "Rajawali Pers", 2007, "Ed. 3", "book"),
    ("perdata", "Hukum perdata Islam di Indonesia", None, ("Ali", "Zainuddin"), "Jakarta", "Sinar Grafika", 2006, None, "book"),
    ("pendidikan", "Pendidikan Islam dalam lintasan sejarah", "kajian dari zaman pertumbuhan sampai kebangkitan", ("Daulay", "Haidar Putra"), "Jakarta", "Kencana", 2014, None, "book"),
    ("bumi", "Bumi manusia", None, ("Toer", "Pramoedya Ananta"), "Jakarta", "Lentera Dipantara", 2005, None, "book"),
    ("laskar", "Laskar pelangi", None, ("Hirata", "Andrea"), "Yogyakarta", "Bentang Pustaka", 2005, None, "book"),
    ("ricklefs", "Sejarah Indonesia modern 1200-2008", None, ("Ricklefs", "M. C."), "Jakarta", "Serambi", 2008, None, "book"),
    ("ihya", "Iḥyāʼ ʻulūm al-dīn", None, ("Ghazālī", None), "Bayrūt", "Dār al-Maʻrifah", 1982, None, "book"),
    ("statistik", "Statistika untuk penelitian", None, ("Sugiyono", None), "Bandung", "Alfabeta", 2015, None, "book"),
    ("kuantitatif", "Metode penelitian kuantitatif, kualitatif, dan R&D", None, ("Sugiyono", None), "Bandung", "Alfabeta", 2019, None, "book"),
    ("zakat", "Zakat dalam perekonomian modern", None, ("Hafidhuddin", "Didin"), "Jakarta", "Gema Insani", 2002, None, "book"),
    ("tasawuf", "Akhlak tasawuf", None, ("Nata", "Abuddin"), "Jakarta", "Rajawali Pers", 2012, None, "book"),
    ("arsip", "Manajemen kearsipan modern", "dari konvensional ke basis komputer", ("Sugiarto", "Agus"), "Yogyakarta", "Gava Media", 2015, None, "book"),
    ("skripsi", "Analisis layanan sirkulasi di Perpustakaan UIN Sumatera Utara Medan", None, ("Harahap", "Nur Aisyah"), "Medan", "UIN Sumatera Utara", 2021, None, "thesis"),
    ("iqra", "Jurnal Iqra'", "jurnal ilmu perpustakaan dan informasi", (None, None), "Medan", "UIN Sumatera Utara", 2007, None, "serial"),
    ("alfikra", "Al-Fikra", "jurnal ilmiah keislaman", (None, None), "Pekanbaru", "UIN Sultan Syarif Kasim", 2002, None, "serial"),
]
ISBN = {key: isbn13(f"{i * 7919 + 104729:09d}") for i, (key, *_r) in enumerate(BOOKS) if BOOKS[i][8] == "book"}
ISSN = {"iqra": "1907-9915", "alfikra": "1412-9019"}
HOLDS = {
    "UINSU": ["hukum", "misbah1", "fiqh", "peradaban", "perpus", "manperpus", "kualitatif", "ekonomi",
              "pendidikan", "laskar", "statistik", "kuantitatif", "tasawuf", "skripsi", "zakat"],
    "UGM": ["hukum", "perpus", "kualitatif", "kualitatif2", "bumi", "laskar", "ricklefs", "ihya",
            "statistik", "kuantitatif", "arsip", "perdata"],
    "UINSUKA": ["misbah1", "fiqh", "peradaban", "ekonomi", "perdata", "pendidikan", "ihya", "tasawuf",
                "zakat", "alfikra", "kuantitatif"],
    "PNRI": ["hukum", "misbah1", "perpus", "bumi", "laskar", "ricklefs", "manperpus", "arsip",
             "iqra", "alfikra", "kualitatif2", "statistik"],
}
BY_KEY = {b[0]: b for b in BOOKS}
STATUSES = ["available"] * 6 + ["on loan"] * 2 + ["reference only", "damaged", "lost"]


def name_of(author, inverted=True):
    family, given = author
    if family is None:
        return None
    if given is None:
        return family
    return f"{family}, {given}" if inverted else f"{given} {family}"


def marc_record(code, key, n, rng):
    _k, title, sub, author, place, pub, year, edition, kind = BY_KEY[key]
    isbd = code in ("UGM", "PNRI")
    rec = Record(force_utf8=True)
    rec.leader = Leader("     nas a22     4i 4500" if kind == "serial" else "     nam a22     4i 4500")
    if code != "UINSU":
        rec.add_field(Field(tag="001", data=f"{code.lower()}-{n:05d}"))
        rec.add_field(Field(tag="003", data=code))
        rec.add_field(Field(tag="008", data=f"200101s{year}    io            000 0 ind d"))
    if key in ISBN:
        text = ISBN[key]
        if code == "PNRI":
            text = f"{text[:3]}-{text[3:6]}-{text[6:9]}-{text[9:12]}-{text[12]}"
        if code == "UGM":
            text += " (pbk.)"
        rec.add_field(Field(tag="020", indicators=[" ", " "], subfields=[Subfield("a", text)]))
    if key in ISSN:
        rec.add_field(Field(tag="022", indicators=["0", " "], subfields=[Subfield("a", ISSN[key])]))
    rec.add_field(Field(tag="040", indicators=[" ", " "], subfields=[Subfield("a", code), Subfield("b", "ind")]))
    name = name_of(author)
    if name:
        rec.add_field(Field(tag="100", indicators=["1" if author[1] else "0", " "],
                            subfields=[Subfield("a", name + ("," if isbd else ""))]))
    sfs = [Subfield("a", title + (" :" if sub and isbd else ""))]
    if sub:
        sfs.append(Subfield("b", sub + (" /" if isbd else "")))
    elif isbd and name:
        sfs[0] = Subfield("a", title + " /")
    if name and isbd:
        sfs.append(Subfield("c", name_of(author, inverted=False) + "."))
    if key == "misbah1":
        sfs.append(Subfield("n", "Volume 1"))
    rec.add_field(Field(tag="245", indicators=["1" if name else "0", "0"], subfields=sfs))
    if edition:
        rec.add_field(Field(tag="250", indicators=[" ", " "], subfields=[Subfield("a", edition)]))
    tag = "264" if code == "UINSUKA" else "260"
    rec.add_field(Field(tag=tag, indicators=[" ", "1" if tag == "264" else " "], subfields=[
        Subfield("a", place + (" :" if isbd else "")), Subfield("b", pub + ("," if isbd else "")),
        Subfield("c", str(year) + ("." if isbd else ""))]))
    if kind != "serial":
        rec.add_field(Field(tag="300", indicators=[" ", " "], subfields=[
            Subfield("a", f"xii, {rng.randint(120, 640)} hlm. ;"), Subfield("c", "24 cm")]))
    if kind == "thesis":
        rec.add_field(Field(tag="502", indicators=[" ", " "], subfields=[
            Subfield("a", "Skripsi (S.Hum.)--UIN Sumatera Utara, 2021")]))
    rec.add_field(Field(tag="650", indicators=[" ", "4"], subfields=[Subfield("a", {
        "hukum": "Hukum", "misbah1": "Tafsir", "fiqh": "Fikih", "peradaban": "Islam -- Sejarah",
        "perpus": "Perpustakaan", "manperpus": "Perpustakaan perguruan tinggi",
        "kualitatif": "Penelitian -- Metodologi", "kualitatif2": "Penelitian -- Metodologi",
        "ekonomi": "Ekonomi Islam", "perdata": "Hukum Islam", "pendidikan": "Pendidikan Islam",
        "bumi": "Fiksi Indonesia", "laskar": "Fiksi Indonesia", "ricklefs": "Indonesia -- Sejarah",
        "ihya": "Tasawuf", "statistik": "Statistik", "kuantitatif": "Penelitian -- Metodologi",
        "zakat": "Zakat", "tasawuf": "Tasawuf", "arsip": "Kearsipan", "skripsi": "Layanan sirkulasi",
        "iqra": "Perpustakaan -- Terbitan berkala", "alfikra": "Islam -- Terbitan berkala"}[key])]))
    if code == "UINSU":  # SLiMS writes 005 as a data field
        rec.add_field(Field(tag="005", indicators=[" ", " "], subfields=[Subfield("a", "20250103120000")]))
    call = f"{rng.randint(0, 999):03d}.{rng.randint(0, 9)} {(author[0] or title)[:3].upper()} {title[:1].lower()}"
    items = []
    if kind == "serial":
        if code == "PNRI":
            rec.add_field(Field(tag="852", indicators=["0", " "], subfields=[
                Subfield("a", code), Subfield("b", "Terbitan Berkala"), Subfield("h", call)]))
            rec.add_field(Field(tag="866", indicators=["4", "1"], subfields=[
                Subfield("8", "0"), Subfield("a", "Vol. 1 (2007)-vol. 15 (2021)")]))
        else:
            rec.add_field(Field(tag="866", indicators=["4", "1"], subfields=[
                Subfield("8", "0"), Subfield("a", "Vol. 5 (2006)-vol. 19 (2020)")]))
        return rec, items, call
    copies = 1 if kind == "thesis" else rng.choice([1, 2, 2, 3])
    for c in range(copies):
        status = "reference only" if kind == "thesis" else rng.choice(STATUSES)
        barcode = f"{code[:3]}{n:04d}{c + 1}"
        items.append((barcode, status))
        if code in ("UGM", "UINSUKA"):
            sf = [Subfield("a", code), Subfield("b", code), Subfield("o", call), Subfield("p", barcode),
                  Subfield("y", "BK")]
            if status == "on loan":
                sf.append(Subfield("q", f"2026-12-{rng.randint(1, 28):02d}"))
            sf += {"reference only": [Subfield("7", "1")], "lost": [Subfield("1", "1")],
                   "damaged": [Subfield("4", "1")]}.get(status, [])
            rec.add_field(Field(tag="952", indicators=[" ", " "], subfields=sf))
        elif code == "PNRI":
            sf = [Subfield("a", code), Subfield("b", "Koleksi Umum"), Subfield("h", call), Subfield("p", barcode)]
            if status != "available":
                sf.append(Subfield("z", {"on loan": "dipinjam", "reference only": "tidak dipinjamkan",
                                         "damaged": "rusak", "lost": "hilang"}[status]))
            rec.add_field(Field(tag="852", indicators=["0", " "], subfields=sf))
    return rec, items, call


def main() -> None:
    rng = random.Random(2026)
    for code, keys in HOLDS.items():
        records, csv_rows = [], []
        for n, key in enumerate(keys, start=1):
            rec, items, call = marc_record(code, key, n, rng)
            records.append(rec)
            title = BY_KEY[key][1] + (f": {BY_KEY[key][2]}" if BY_KEY[key][2] else "")
            if key == "misbah1":
                title += " Volume 1"
            for barcode, status in items:
                csv_rows.append([barcode, call, "Textbook", f"INV/{barcode}", "Perpustakaan Pusat",
                                 {"reference only": "No Loan", "lost": "Missing", "damaged": "Repair"}.get(status, ""),
                                 title])
        if code == "UINSUKA":
            buf = io.BytesIO()
            writer = XMLWriter(buf)
            for rec in records:
                writer.write(rec)
            writer.close(close_fh=False)
            (HERE / f"{code}.xml").write_bytes(buf.getvalue())
            continue
        data = b""
        for rec in records:
            raw = rec.as_marc()
            if code == "UINSU":  # UTF-8 under a leader that claims MARC-8
                raw = raw[:9] + b" " + raw[10:]
            data += raw
        (HERE / f"{code}.mrc").write_bytes(data)
        if code == "UINSU":
            with open(HERE / f"{code}_items.csv", "w", newline="", encoding="utf-8") as fh:
                w = csv.writer(fh)
                w.writerow(["item_code", "call_number", "coll_type_name", "inventory_code",
                            "location_name", "item_status_name", "title"])
                w.writerows(csv_rows)


if __name__ == "__main__":
    main()
