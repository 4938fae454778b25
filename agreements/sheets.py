"""A coordinator's agreements spreadsheet (CSV) in, agreements out.

The real tables have Indonesian headings ("Nama Instansi", "Masa Kerja
sama", "Masa berakhir Kerja Sama"), durations such as "5 tahun", dates such
as "24 Juni 2024", and empty cells. Every row becomes an agreement with the
``party`` library; partners are matched by name or created."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from babel.dates import get_month_names
from flask_babel import gettext as _
from sqlalchemy import select

from ill.errors import BadRequest

from . import partners as partner_service
from . import service
from . import status as st
from .models import Agreement, Partner

# Heading (normalised) -> what it holds. English headings work too.
HEADINGS = {
    "nama instansi": "name",
    "instansi": "name",
    "nama": "name",
    "mitra": "name",
    "name": "name",
    "partner": "name",
    "institution": "name",
    "masa kerja sama": "duration",
    "masa kerjasama": "duration",
    "jangka waktu": "duration",
    "duration": "duration",
    "masa berakhir kerja sama": "end",
    "masa berakhir kerjasama": "end",
    "tanggal berakhir": "end",
    "berakhir": "end",
    "end": "end",
    "end date": "end",
    "tanggal mulai": "start",
    "mulai": "start",
    "start": "start",
    "start date": "start",
    "tanggal kerja sama": "start",
    "nomor": "number",
    "nomor kerja sama": "number",
    "no mou": "number",
    "number": "number",
    "judul": "title",
    "pihak": "party",
    "pihak pertama": "party",
    "party": "party",
    "title": "title",
}


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"[^\w]+", " ", text).split())


def _months() -> dict[str, int]:
    """Month names and abbreviations, Indonesian and English, from Babel's
    locale data, plus the spellings people type."""
    table: dict[str, int] = {}
    for locale in ("id", "en"):
        for width in ("wide", "abbreviated"):
            for ctx in ("format", "stand-alone"):
                for number, name in get_month_names(width, ctx, locale).items():
                    table[_fold(name).rstrip(".")] = number
    table.update(
        {"agust": 8, "agts": 8, "agt": 8, "ags": 8, "sept": 9, "nopember": 11, "pebruari": 2, "peb": 2, "nop": 11}
    )
    return table


_MONTHS: dict[str, int] | None = None


def parse_date(text: str) -> date | None:
    """'24 Juni 2024', '2024-06-24', '24/06/2024' (day first), '24-06-2024'.
    None for an empty cell; ValueError for anything unreadable."""
    global _MONTHS
    text = (text or "").strip()
    if not text:
        return None
    if re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", text):
        y, m, d = map(int, text.split("-"))
        return date(y, m, d)
    found = re.fullmatch(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})", text)
    if found:
        d, m, y = map(int, found.groups())
        return date(y, m, d)
    found = re.fullmatch(r"(\d{1,2})\s+([^\W\d_]+)\.?\s+(\d{4})", text)
    if found:
        if _MONTHS is None:
            _MONTHS = _months()
        month = _MONTHS.get(_fold(found.group(2)))
        if month:
            return date(int(found.group(3)), month, int(found.group(1)))
    raise ValueError(text)


def parse_duration(text: str) -> int | None:
    """Months: '5 tahun' -> 60, '6 bulan' -> 6, '2 years' -> 24, '3' (years) -> 36."""
    text = _fold(text)
    if not text:
        return None
    found = re.fullmatch(r"(\d+)\s*(tahun|thn|th|years?|yrs?|bulan|bln|months?)?", text)
    if not found or int(found.group(1)) == 0:
        raise ValueError(text)
    number, unit = int(found.group(1)), found.group(2) or "tahun"
    return number if unit in ("bulan", "bln", "month", "months") else number * 12


def _name_key(name: str) -> str:
    return _fold(name)


def _short_key(name: str) -> str:
    # "Perpustakaan UIN X" and "UIN X" are the same library.
    return re.sub(r"^(perpustakaan|library|perpus)\s+", "", _fold(name))


def find_partner(partners: list[Partner], name: str) -> Partner | None:
    key, short = _name_key(name), _short_key(name)
    for partner in partners:
        if _name_key(partner.name) == key:
            return partner
    for partner in partners:
        if _short_key(partner.name) == short:
            return partner
    return None


def make_code(name: str, taken: set[str]) -> str:
    """An acronym of the name: "Universitas Darma Agung" -> "UDA", "UIN
    Sunan Kalijaga" -> "UINSK" (words in capitals are kept whole)."""
    parts = []
    for word in re.findall(r"[^\W_]+", unicodedata.normalize("NFKD", name)):
        if word.isupper() and len(word) > 1:
            parts.append(word)
        elif word[0].isalpha() and word.lower() not in ("dan", "and", "of", "the", "di"):
            parts.append(word[0].upper())
    base = re.sub(r"[^A-Z0-9]", "", "".join(parts).upper())[:16] or "LIB"
    code, n = base, 1
    while code in taken:
        n += 1
        code = f"{base}{n}"
    return code


@dataclass
class ImportReport:
    created: list[int] = field(default_factory=list)  # agreement ids
    partners_created: list[str] = field(default_factory=list)
    skipped: int = 0
    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def import_csv(
    session,
    text: str,
    party_code: str | None,
    services: list[str],
    actor,
    filename: str = "spreadsheet.csv",
) -> ImportReport:
    """Every row becomes an agreement between ``party_code`` and that row's
    library. Unreadable cells are reported and left empty (the agreement's
    dates then show as unknown); a row identical to an agreement already
    there (same parties and dates) is not imported twice."""
    party = None
    if party_code:
        party = partner_service.by_code(session, party_code)
        if party is None:
            raise BadRequest(
                _("--party: no partner library with the code %(code)s.", code=party_code),
                field="party",
            )
    text = text.lstrip("\ufeff")
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    headings = next(reader, None)
    if not headings:
        raise BadRequest(_("%(file)s is empty.", file=filename))
    columns = {}
    for index, heading in enumerate(headings):
        role = HEADINGS.get(_fold(heading))
        if role and role not in columns:
            columns[role] = index
    if "name" not in columns:
        raise BadRequest(
            _(
                "%(file)s: no column with the partner's name (e.g. 'Nama Instansi'); the headings are: %(headings)s.",
                file=filename,
                headings=", ".join(headings),
            )
        )
    if party is None and "party" not in columns:
        raise BadRequest(
            _(
                "%(file)s: name the library every row's agreement is with (--party CODE), "
                "or give it per row in a column 'Pihak'.",
                file=filename,
            ),
            field="party",
        )
    report = ImportReport()

    def problem(message: str) -> None:
        report.problems.append(message)
        report.lines.append(message)

    partners = list(session.scalars(select(Partner)))
    taken = {p.code for p in partners}
    for number, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue

        def cell(role, row=row):
            index = columns.get(role)
            return row[index].strip() if index is not None and index < len(row) else ""

        where = _("row %(n)d", n=number)
        name = " ".join(cell("name").split())
        if not name:
            problem(_("%(where)s: no partner name; row skipped.", where=where))
            continue
        unreadable = []
        values: dict = {}
        for role in ("start", "end"):
            try:
                values[role] = parse_date(cell(role))
            except ValueError:
                unreadable.append(
                    _(
                        "cannot read the date '%(value)s' in column '%(col)s'",
                        value=cell(role),
                        col=headings[columns[role]],
                    )
                )
                values[role] = None
        try:
            values["duration"] = parse_duration(cell("duration"))
        except ValueError:
            unreadable.append(
                _(
                    "cannot read the duration '%(value)s' in column '%(col)s'",
                    value=cell("duration"),
                    col=headings[columns["duration"]],
                )
            )
            values["duration"] = None
        start, months, end = values["start"], values["duration"], values["end"]
        if start and end and months and st.add_months(start, months) != end:
            unreadable.append(_("start, duration and end disagree; the end date is kept"))
            months = None
        if start and end and end < start:
            unreadable.append(_("the end is before the start; the start is left empty"))
            start = None
        row_party = party
        if row_party is None:
            wanted = " ".join(cell("party").split())
            row_party = partner_service.by_code(session, wanted) or find_partner(partners, wanted)
            if row_party is None:
                problem(
                    _(
                        "%(where)s: no partner library '%(party)s' (column '%(col)s'); row skipped.",
                        where=where,
                        party=wanted,
                        col=headings[columns["party"]],
                    )
                )
                continue
        partner = find_partner(partners, name)
        new_partner = partner is None
        if new_partner:
            code = make_code(name, taken)
            partner, _created = partner_service.upsert(session, code, name)
            session.flush()
            partners.append(partner)
            taken.add(code)
            report.partners_created.append(code)
        if partner.id == row_party.id:
            problem(_("%(where)s: %(name)s is the party itself; row skipped.", where=where, name=name))
            continue
        eff_start = st.start_date(start, months, end)
        eff_end = st.end_date(start, months, end)
        if _already_there(session, row_party.id, partner.id, eff_start, eff_end):
            report.skipped += 1
            report.lines.append(_("%(where)s: %(name)s: already imported, left as it is.", where=where, name=name))
            continue
        data = {
            "parties": [row_party.code, partner.code],
            "services": services,
            "start_date": eff_start,
            "end_date": eff_end,
            "duration_months": months,
            "scope_forms": ["interlibrary_loan"] if services else [],
        }
        if cell("number"):
            data["number"] = cell("number")[:100]
        if cell("title"):
            data["title"] = cell("title")[:255]
        agreement = service.create(
            session,
            data,
            actor,
            action="imported",
            note=f"{filename} {where}",
            source=f"{filename} {where}",
        )
        report.created.append(agreement.id)
        dates = _(
            "%(start)s to %(end)s",
            start=eff_start.isoformat() if eff_start else "?",
            end=eff_end.isoformat() if eff_end else "?",
        )
        line = _(
            "%(where)s: agreement %(id)d with %(code)s (%(name)s%(new)s), %(dates)s",
            where=where,
            id=agreement.id,
            code=partner.code,
            name=name,
            new=_(", new partner") if new_partner else "",
            dates=dates,
        )
        report.lines.append(line)
        for trouble in unreadable:
            problem(f"{where}: {name}: {trouble}")
    return report


def _already_there(session, party_id: int, partner_id: int, start, end) -> bool:
    from .models import AgreementParty

    mine = select(AgreementParty.agreement_id).where(AgreementParty.partner_id == party_id)
    theirs = select(AgreementParty.agreement_id).where(AgreementParty.partner_id == partner_id)
    query = select(Agreement.id).where(
        Agreement.id.in_(mine),
        Agreement.id.in_(theirs),
        Agreement.start_date.is_(None) if start is None else Agreement.start_date == start,
        Agreement.end_date.is_(None) if end is None else Agreement.end_date == end,
    )
    return session.scalar(query.limit(1)) is not None
