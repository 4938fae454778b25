"""Services for the partner directory."""

from __future__ import annotations

import csv
import io
import re

from flask_babel import gettext as _
from sqlalchemy import select

from .errors import AgreementError
from .models import LibrarySystem, Partner

CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,19}$")
EDITABLE = (
    "name",
    "address",
    "region",
    "contacts",
    "email",
    "system",
    "holdings_tag",
    "review_requests",
)


def normalise_code(code: str) -> str:
    code = (code or "").strip().upper()
    if not CODE_RE.match(code):
        raise AgreementError(
            _(
                "'%(code)s' is not a valid partner code: use 1 to 20 letters, digits, - or _.",
                code=code,
            ),
            field="code",
        )
    return code


def by_code(session, code: str) -> Partner | None:
    return session.scalar(select(Partner).where(Partner.code == (code or "").strip().upper()))


def get_by_code(session, code: str) -> Partner:
    partner = by_code(session, code)
    if partner is None:
        from ill.errors import NotFound

        raise NotFound(_("No partner library with the code %(code)s.", code=code))
    return partner


def upsert(session, code: str, name: str, **fields) -> tuple[Partner, bool]:
    """Add a partner or update it; returns (partner, created)."""
    code = normalise_code(code)
    name = (name or "").strip()
    if not name:
        raise AgreementError(_("Partner %(code)s needs a name.", code=code), field="name")
    system = fields.get("system")
    if system and system not in {s.value for s in LibrarySystem}:
        raise AgreementError(
            _("Unknown library system '%(system)s'.", system=system), field="system"
        )
    partner = by_code(session, code)
    created = partner is None
    if created:
        partner = Partner(code=code, name=name)
        session.add(partner)
    partner.name = name
    for key in EDITABLE:
        if key in fields and fields[key] not in (None, ""):
            setattr(partner, key, fields[key])
    return partner, created


def load_csv(session, text: str) -> list[str]:
    """Partners from CSV with at least the columns code,name. Row by row report."""
    reader = csv.DictReader(io.StringIO(text))
    headings = {h.strip().lower() for h in (reader.fieldnames or [])}
    if not {"code", "name"} <= headings:
        raise AgreementError(
            _(
                "The partners CSV needs the columns code and name; it has: %(cols)s.",
                cols=", ".join(sorted(headings)) or "-",
            )
        )
    lines = []
    for number, row in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
        try:
            with session.begin_nested():
                partner, created = upsert(
                    session,
                    row.get("code", ""),
                    row.get("name", ""),
                    **{k: row.get(k) for k in EDITABLE if k in row and k != "name"},
                )
        except AgreementError as exc:
            lines.append(f"line {number}: skipped: {exc.message}")
            continue
        lines.append(f"line {number}: {'added' if created else 'updated'} {partner.code}")
    return lines


def to_dict(partner: Partner, day) -> dict:
    return {
        "code": partner.code,
        "name": partner.name,
        "region": partner.region,
        "address": partner.address,
        "contacts": partner.contacts,
        "email": partner.email,
        "system": partner.system,
        "holdings_tag": partner.holdings_tag,
        "lending_status": partner.lending_status(day),
        "paused_until": partner.lending_paused_until.isoformat()
        if partner.lending_paused_until
        else None,
        "pause_reason": partner.pause_reason or None,
    }
