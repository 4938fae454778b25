"""Services for the partner directory."""

from __future__ import annotations

import csv
import io
import re

from flask_babel import gettext as _
from sqlalchemy import select

from .calendar import WEEKDAYS, weekday_names, weekdays_text
from .calendar import forget as forget_calendars
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
    "agency_id",
    "iso18626_url",
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
    """The partner with this code, however it is cased or spaced; a code sent
    as a number in JSON is read as text."""
    return session.scalar(select(Partner).where(Partner.code == str(code or "").strip().upper()))


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
    # checked as the page checks them, before anything is added
    values = _cleaned(session, code, {k: fields[k] for k in EDITABLE
                                      if k != "name" and fields.get(k) not in (None, "")})
    partner = by_code(session, code)
    created = partner is None
    if created:
        partner = Partner(code=code, name=name)
        session.add(partner)
    partner.name = name
    for key, value in values.items():
        setattr(partner, key, value)
    if "iso18626_url" in values:
        session.info.pop(_SPEAKERS, None)
    return partner, created


_SPEAKERS = "ill_iso18626_speakers"


def iso18626_speakers(session) -> frozenset[int]:
    """The libraries whose own system speaks ISO 18626 (an ``iso18626_url``),
    read once per session: every step of every request asks it."""
    if _SPEAKERS not in session.info:
        session.info[_SPEAKERS] = frozenset(session.scalars(select(Partner.id).where(Partner.iso18626_url != "")))
    return session.info[_SPEAKERS]


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
        "paused_until": partner.lending_paused_until.isoformat() if partner.lending_paused_until else None,
        "pause_reason": partner.pause_reason or None,
    }


# What a librarian may change about their own library; coordinators change all.
# The lending rules routing applies (ill.routing.rules_judgement): the
# largest number each may be, and all of them, the forms lent only as copies first.
RULE_LIMITS = {"no_loan_recent_years": 50, "copy_max_pages": 9999, "max_requests_waiting": 999,
               "late_borrower_days": 365}
RULE_FIELDS = ("no_loan_formats", *RULE_LIMITS)
LIBRARIAN_FIELDS = ("lending_paused_until", "pause_reason", "review_requests", "max_open_requests",
                    "pickup_days", "block_overdue_patrons", "closed_weekdays", "lending_policy", *RULE_FIELDS)
MAX_OPEN_REQUESTS = 999
MAX_PICKUP_DAYS = 60
POLICY_MAX = 2000
HOLDINGS_TAGS = ("auto", "952", "852", "949", "none")


def _bool(value, field: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on", "y"):
        return True
    if text in ("0", "false", "no", "off", "n", ""):
        return False
    raise AgreementError(_("%(field)s: use true or false.", field=field), field=field)


def _whole_or_nothing(value, high: int) -> int | None:
    """A whole number from 1 to ``high``, None for nothing (None, empty);
    raises ValueError for anything else."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    number = int(str(value).strip()) if not isinstance(value, bool) else 0
    if not 1 <= number <= high:
        raise ValueError(value)
    return number


def _limit(value, field: str) -> int | None:
    """A whole number from 1 to MAX_OPEN_REQUESTS; nothing (None, empty) for no limit."""
    try:
        return _whole_or_nothing(value, MAX_OPEN_REQUESTS)
    except ValueError:
        raise AgreementError(
            _(
                "%(field)s: give a whole number from 1 to %(max)d, or nothing for no limit; not '%(value)s'.",
                field=field, max=MAX_OPEN_REQUESTS, value=str(value)[:20],
            ),
            field=field,
        ) from None


def _pickup_days(value, field: str) -> int | None:
    """A whole number of days from 1 to MAX_PICKUP_DAYS; nothing (None, empty)
    for the network's default."""
    try:
        return _whole_or_nothing(value, MAX_PICKUP_DAYS)
    except ValueError:
        raise AgreementError(
            _(
                "%(field)s: give a whole number of days from 1 to %(max)d, or nothing for the network's "
                "default; not '%(value)s'.",
                field=field, max=MAX_PICKUP_DAYS, value=str(value)[:20],
            ),
            field=field,
        ) from None


def _listed(value, field: str, not_a_list: str) -> list[tuple[str, object]]:
    """The items of a setting given as a list, or as comma- (or semicolon-)
    separated text: (each item's text, stripped and in lower case, the item
    itself), the empty ones left out; nothing (None) gives none. Anything
    else raises AgreementError with ``not_a_list``."""
    if value is None:
        return []
    items = value.replace(";", ",").split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise AgreementError(not_a_list, field=field)
    return [(text, item) for item in items if (text := str(item).strip().lower())]


def _weekdays(value, field: str) -> str:
    """The days of the week a library closes: a list of English weekday
    names or ISO numbers (1 Monday ... 7 Sunday), or the same as
    comma-separated text; nothing for none. Stored as ISO digits."""
    numbers = set()
    for text, item in _listed(value, field, _("%(field)s: give a list of days of the week.", field=field)):
        if text in WEEKDAYS:
            numbers.add(WEEKDAYS.index(text) + 1)
        elif text.isdigit() and 1 <= int(text) <= 7 and not isinstance(item, bool):
            numbers.add(int(text))
        else:
            raise AgreementError(
                _("%(field)s: '%(value)s' is not a day of the week (monday ... sunday, or 1 ... 7).",
                  field=field, value=text[:20]),
                field=field,
            )
    if len(numbers) == 7:
        raise AgreementError(
            _("%(field)s: a library closed every day of the week cannot lend; to stop lending for a "
              "while, pause it.", field=field),
            field=field,
        )
    return weekdays_text(numbers)


def _rule_number(value, field: str) -> int | None:
    """A lending rule's number, from 1 to its RULE_LIMITS; nothing (None,
    empty) for no such rule."""
    try:
        return _whole_or_nothing(value, RULE_LIMITS[field])
    except ValueError:
        raise AgreementError(
            _(
                "%(field)s: give a whole number from 1 to %(max)d, or nothing for no such rule; not '%(value)s'.",
                field=field, max=RULE_LIMITS[field], value=str(value)[:20],
            ),
            field=field,
        ) from None


def _formats(value, field: str) -> str:
    """The forms a library lends only as copies: a list of the union
    catalogue's format codes (book, serial, thesis ...), or the same
    comma-separated; nothing for none. Stored sorted, comma-separated."""
    from union_catalog.models import FORMATS

    chosen = set()
    for text, _item in _listed(value, field, _("%(field)s: give a list of forms.", field=field)):
        if text not in FORMATS:
            raise AgreementError(
                _("%(field)s: '%(value)s' is not a form the catalogue knows; use %(known)s.",
                  field=field, value=text[:20], known=", ".join(FORMATS)),
                field=field,
            )
        chosen.add(text)
    return ",".join(sorted(chosen))


def format_choices() -> list[tuple[str, str]]:
    """The forms a library may lend only as copies: (code, name for people)."""
    from union_catalog.models import FORMATS

    return [(code, str(label)) for code, label in FORMATS.items()]


def rules_said(partner: Partner, day) -> list[str]:
    """A library's lending rules in words, for its page (routing applies them)."""
    from flask_babel import ngettext

    from union_catalog.models import FORMATS

    said = []
    forms = formats_list(partner.no_loan_formats)
    if forms:
        said.append(_("lent only as copies: %(forms)s", forms=", ".join(str(FORMATS.get(f, f)) for f in forms)))
    if partner.no_loan_recent_years:
        said.append(_("editions published since %(year)s are not lent",
                      year=not_lent_since(partner.no_loan_recent_years, day)))
    if partner.copy_max_pages:
        said.append(ngettext("copies of at most %(num)d page", "copies of at most %(num)d pages",
                             partner.copy_max_pages))
    if partner.max_requests_waiting:
        said.append(ngettext("at most %(num)d request waiting on its answer at once",
                             "at most %(num)d requests waiting on its answer at once", partner.max_requests_waiting))
    if partner.late_borrower_days:
        said.append(ngettext("no new loan to a library keeping one of its books %(num)d day or more past its "
                             "due date",
                             "no new loan to a library keeping one of its books %(num)d days or more past its "
                             "due date", partner.late_borrower_days))
    return said


def not_lent_since(recent_years: int, day) -> int:
    """The first year of publication a library keeping its editions of the
    last ``recent_years`` years home (this year counting as one) does not lend."""
    return day.year - recent_years + 1


def formats_list(stored: str | None) -> list[str]:
    """The stored ``no_loan_formats`` as a list."""
    return [f for f in (stored or "").split(",") if f]


def _agency_id(value) -> str:
    """A library's ISO 18626 agency id as TYPE:VALUE ("ISIL:ID-JKPN"), or nothing."""
    if value is not None and not isinstance(value, str):
        raise AgreementError(_("%(field)s: give text.", field="agency_id"), field="agency_id")
    value = (value or "").strip()
    if not value:
        return ""
    kind, _sep, ident = value.partition(":")
    if not kind.strip() or not ident.strip() or len(value) > 100 or any(c.isspace() for c in value):
        raise AgreementError(
            _("agency_id: write the type and the id, as ISIL:ID-JKPN (at most 100 characters, no spaces)."),
            field="agency_id")
    return f"{kind.strip().upper()}:{ident.strip()}"


def _iso18626_url(value) -> str:
    """Where a library's own system takes ISO 18626 messages, or nothing."""
    from urllib.parse import urlsplit

    if value is not None and not isinstance(value, str):
        raise AgreementError(_("%(field)s: give text.", field="iso18626_url"), field="iso18626_url")
    value = (value or "").strip()
    if not value:
        return ""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(value) > 500:
        raise AgreementError(
            _("iso18626_url: give the address of the library's ISO 18626 service, starting with "
              "https:// (at most 500 characters)."), field="iso18626_url")
    return value


def _cleaned(session, code: str, data: dict) -> dict:
    """The partner's fields as given, checked and in their stored form; an
    AgreementError names the first that is wrong. One place for the page,
    the API and a CSV of partners."""
    from datetime import date as _date

    values = {}
    for key, value in data.items():
        if key in ("review_requests", "block_overdue_patrons"):
            values[key] = _bool(value, key)
        elif key == "max_open_requests":
            values[key] = _limit(value, key)
        elif key == "pickup_days":
            values[key] = _pickup_days(value, key)
        elif key in RULE_LIMITS:
            values[key] = _rule_number(value, key)
        elif key == "no_loan_formats":
            values[key] = _formats(value, key)
        elif key == "closed_weekdays":
            values[key] = _weekdays(value, key)
            forget_calendars(session)
        elif key == "lending_paused_until":
            if value in (None, ""):
                values[key] = None
            else:
                try:
                    values[key] = _date.fromisoformat(str(value).strip())
                except ValueError:
                    raise AgreementError(
                        _(
                            "%(field)s: '%(value)s' is not a date (use YYYY-MM-DD).",
                            field=key,
                            value=value,
                        ),
                        field=key,
                    )
        elif key == "system":
            if value not in {s.value for s in LibrarySystem}:
                raise AgreementError(_("Unknown library system '%(system)s'.", system=value), field="system")
            values[key] = value
        elif key == "agency_id":
            values[key] = _agency_id(value)
        elif key == "iso18626_url":
            values[key] = _iso18626_url(value)
        elif key == "holdings_tag":
            if value not in HOLDINGS_TAGS:
                raise AgreementError(
                    _("holdings_tag: use one of %(tags)s.", tags=", ".join(HOLDINGS_TAGS)),
                    field=key,
                )
            values[key] = value
        else:
            if value is not None and not isinstance(value, str):
                raise AgreementError(_("%(field)s: give text.", field=key), field=key)
            value = (value or "").strip()
            if key == "name" and not value:
                raise AgreementError(_("A partner needs a name."), field="name")
            limit = {"name": 255, "region": 100, "email": 254, "pause_reason": 255,
                     "lending_policy": POLICY_MAX}.get(key)
            if limit and len(value) > limit:
                raise AgreementError(_("%(field)s: at most %(n)d characters.", field=key, n=limit), field=key)
            values[key] = value
    if values.get("agency_id"):
        taken = session.scalar(select(Partner.code).where(Partner.agency_id == values["agency_id"],
                                                          Partner.code != code))
        if taken:
            raise AgreementError(_("agency_id: %(id)s is already %(code)s's.", id=values["agency_id"], code=taken),
                                 field="agency_id")
    if values.get("lending_paused_until") is None and "lending_paused_until" in values:
        values.setdefault("pause_reason", "")
    return values


def update(session, partner: Partner, data: dict, user) -> dict:
    """Changes the fields given, as far as ``user`` may; returns {field: [before, after]}."""
    from ill.errors import Forbidden

    allowed = set(EDITABLE) | set(LIBRARIAN_FIELDS)
    unknown = set(data) - allowed
    if unknown:
        raise AgreementError(
            _("Unknown fields: %(fields)s.", fields=", ".join(sorted(unknown))),
            field=sorted(unknown)[0],
        )
    if user.role not in ("coordinator", "admin"):
        if user.role != "librarian" or user.library_id != partner.id:
            raise Forbidden(_("Only that library's librarians or a coordinator may do this."))
        beyond = set(data) - set(LIBRARIAN_FIELDS)
        if beyond:
            raise Forbidden(
                _(
                    "A librarian may only pause or resume lending and set their library's rules for "
                    "patrons' requests and for lending; not: %(fields)s.",
                    fields=", ".join(sorted(beyond)),
                )
            )
    values = _cleaned(session, partner.code, data)
    changes = {}
    for key, value in values.items():
        before = getattr(partner, key)
        if before != value:
            if key == "closed_weekdays":
                changes[key] = [weekday_names(before), weekday_names(value)]
            elif key == "no_loan_formats":
                changes[key] = [formats_list(before), formats_list(value)]
            else:
                changes[key] = [
                    before.isoformat() if hasattr(before, "isoformat") else before,
                    value.isoformat() if hasattr(value, "isoformat") else value,
                ]
            setattr(partner, key, value)
    if "iso18626_url" in changes:
        session.info.pop(_SPEAKERS, None)
    if "closed_weekdays" in changes and partner.id is not None:
        from .calendar import changed

        session.flush()
        changed(session, partner.id)
    if changes and partner.id is not None:
        from .models import PartnerChange

        session.add(PartnerChange(partner_id=partner.id, user_id=user.id, actor=user.email, changes=changes))
    return changes


def to_dict_full(partner: Partner, day) -> dict:
    out = to_dict(partner, day)
    out["review_requests"] = partner.review_requests
    out["max_open_requests"] = partner.max_open_requests
    out["pickup_days"] = partner.pickup_days
    out["block_overdue_patrons"] = partner.block_overdue_patrons
    out["closed_weekdays"] = weekday_names(partner.closed_weekdays)
    out["lending_policy"] = partner.lending_policy or None
    out["no_loan_formats"] = formats_list(partner.no_loan_formats)
    out["no_loan_recent_years"] = partner.no_loan_recent_years
    out["copy_max_pages"] = partner.copy_max_pages
    out["max_requests_waiting"] = partner.max_requests_waiting
    out["late_borrower_days"] = partner.late_borrower_days
    out["agency_id"] = partner.agency_id or None
    out["iso18626_url"] = partner.iso18626_url or None
    return out
