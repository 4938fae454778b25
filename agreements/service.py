"""Services for agreements: create, update, renew, terminate, attach the
signed document, list. They take a session and never commit; every change
leaves an ``AgreementChange`` row (who, when, before/after)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ill.accounts import utcnow
from ill.errors import BadRequest, Conflict, NotFound, TooLarge, UnsupportedMedia

from . import partners as partner_service
from . import status as st
from .models import (
    COOPERATION_FORMS,
    Agreement,
    AgreementChange,
    AgreementParty,
    AgreementService,
    AgreementState,
    Partner,
    Service,
)
from .queries import status_of, warning_days_for

TEXT_FIELDS = {
    "title": 255,
    "number": 100,
    "background": None,
    "purpose": None,
    "scope_text": None,
    "relationship": None,
    "rights_obligations": None,
    "division_of_work": None,
    "costs": None,
    "procedures": None,
}
# API name -> column, where they differ.
COLUMN = {"relationship": "relationship_text"}
TERM_FIELDS = (
    "loan_period_days",
    "renewals_allowed",
    "response_days",
    "cost_per_loan",
    "cost_per_page",
)
AUDITED = (
    *TEXT_FIELDS,
    "scope_forms",
    "state",
    "start_date",
    "duration_months",
    "end_date",
    "warning_days",
    "terminated_on",
    "termination_reason",
    "parties",
    "services",
    "document",
)


class Actor:
    """Who acts: a signed-in user, or a label such as "cli"."""

    def __init__(self, user=None, label: str = ""):
        self.user = user
        self.label = label or (user.email if user is not None else "system")


# --- parsing plain values ---------------------------------------------------


def parse_day(value, field: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise BadRequest(
            _("%(field)s: '%(value)s' is not a date (use YYYY-MM-DD).", field=field, value=value),
            field=field,
        )


def parse_int(value, field: str, minimum: int = 0) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(str(value).strip()) if not isinstance(value, bool) else None
    except ValueError:
        number = None
    if number is None or number < minimum:
        raise BadRequest(
            _(
                "%(field)s: '%(value)s' is not a whole number of at least %(min)d.",
                field=field,
                value=value,
                min=minimum,
            ),
            field=field,
        )
    return number


def parse_money(value, field: str) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite() or amount < 0 or amount >= Decimal("1e10"):
        raise BadRequest(_("%(field)s: '%(value)s' is not an amount.", field=field, value=value), field=field)
    return amount.quantize(Decimal("0.01"))


def parse_services(value) -> dict[str, dict]:
    """``["loan", "copy"]`` or ``{"loan": {"loan_period_days": 14, ...}}``."""
    if value is None:
        return {}
    if isinstance(value, str):
        value = [v for v in re.split(r"[,\s]+", value) if v]
    if isinstance(value, list | tuple):
        value = {name: {} for name in value}
    if not isinstance(value, dict):
        raise BadRequest(_("services: give a list of service names or an object of terms."), field="services")
    out = {}
    names = {s.value for s in Service}
    for name, terms in value.items():
        if name not in names:
            raise BadRequest(
                _("services: unknown service '%(name)s' (use loan or copy).", name=name),
                field="services",
            )
        terms = terms or {}
        if not isinstance(terms, dict):
            raise BadRequest(_("services.%(name)s: give the terms as an object.", name=name), field="services")
        unknown = set(terms) - set(TERM_FIELDS)
        if unknown:
            raise BadRequest(
                _(
                    "services.%(name)s: unknown terms %(terms)s.",
                    name=name,
                    terms=", ".join(sorted(unknown)),
                ),
                field="services",
            )
        out[name] = {
            "loan_period_days": parse_int(terms.get("loan_period_days"), f"services.{name}.loan_period_days", 1),
            "renewals_allowed": parse_int(terms.get("renewals_allowed"), f"services.{name}.renewals_allowed") or 0,
            "response_days": parse_int(terms.get("response_days"), f"services.{name}.response_days", 1),
            "cost_per_loan": parse_money(terms.get("cost_per_loan"), f"services.{name}.cost_per_loan"),
            "cost_per_page": parse_money(terms.get("cost_per_page"), f"services.{name}.cost_per_page"),
        }
    return out


def clean(data: dict) -> dict:
    """Typed values for the fields present in ``data``; BadRequest names the
    first field that is wrong."""
    out: dict = {}
    known = {
        *TEXT_FIELDS,
        "scope_forms",
        "state",
        "start_date",
        "end_date",
        "duration_months",
        "duration_years",
        "warning_days",
        "parties",
        "services",
    }
    unknown = set(data) - known
    if unknown:
        raise BadRequest(
            _("Unknown fields: %(fields)s.", fields=", ".join(sorted(unknown))),
            field=sorted(unknown)[0],
        )
    for name, limit in TEXT_FIELDS.items():
        if name in data:
            value = data[name]
            if value is not None and not isinstance(value, str):
                raise BadRequest(_("%(field)s: give text.", field=name), field=name)
            value = (value or "").strip()
            if limit and len(value) > limit:
                raise BadRequest(_("%(field)s: at most %(n)d characters.", field=name, n=limit), field=name)
            out[name] = value
    if "scope_forms" in data:
        forms = data["scope_forms"] or []
        if isinstance(forms, str):
            forms = [f for f in re.split(r"[,\s]+", forms) if f]
        bad = [f for f in forms if f not in COOPERATION_FORMS]
        if bad:
            raise BadRequest(
                _(
                    "scope_forms: unknown form(s) %(bad)s; known: %(known)s.",
                    bad=", ".join(map(str, bad)),
                    known=", ".join(COOPERATION_FORMS),
                ),
                field="scope_forms",
            )
        out["scope_forms"] = [f for f in COOPERATION_FORMS if f in forms]
    if "state" in data:
        if data["state"] not in {s.value for s in AgreementState}:
            raise BadRequest(_("state: use draft or signed."), field="state")
        out["state"] = data["state"]
    for name in ("start_date", "end_date"):
        if name in data:
            out[name] = parse_day(data[name], name)
    if "duration_months" in data:
        out["duration_months"] = parse_int(data["duration_months"], "duration_months", 1)
    if data.get("duration_years") not in (None, ""):
        years = parse_int(data["duration_years"], "duration_years", 1)
        out["duration_months"] = years * 12
    if "warning_days" in data:
        out["warning_days"] = parse_int(data["warning_days"], "warning_days", 0)
    if "parties" in data:
        codes = data["parties"]
        if isinstance(codes, str):
            codes = [c for c in re.split(r"[,\s]+", codes) if c]
        if not isinstance(codes, list | tuple) or not all(isinstance(c, str) for c in codes):
            raise BadRequest(_("parties: give a list of partner codes."), field="parties")
        out["parties"] = list(dict.fromkeys(c.strip().upper() for c in codes))
    if "services" in data:
        out["services"] = parse_services(data["services"])
    return out


# --- snapshots and the audit trail -------------------------------------------


def _plain(value):
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def snapshot(agreement: Agreement) -> dict:
    snap = {name: getattr(agreement, COLUMN.get(name, name)) for name in TEXT_FIELDS}
    snap.update(
        scope_forms=list(agreement.scope_forms or []),
        state=agreement.state,
        start_date=_plain(agreement.start_date),
        duration_months=agreement.duration_months,
        end_date=_plain(agreement.end_date),
        warning_days=agreement.warning_days,
        terminated_on=_plain(agreement.terminated_on),
        termination_reason=agreement.termination_reason,
        parties=sorted(p.partner.code for p in agreement.parties),
        services={s.service: {k: _plain(getattr(s, k)) for k in TERM_FIELDS} for s in agreement.services},
        document=agreement.document_name,
    )
    return snap


def _empty(value) -> bool:
    return value in (None, "", [], {})


def diff(before: dict, after: dict) -> dict:
    return {
        k: [before.get(k), after.get(k)]
        for k in AUDITED
        if before.get(k) != after.get(k) and not (_empty(before.get(k)) and _empty(after.get(k)))
    }


def record(session, agreement: Agreement, actor: Actor, action: str, changes: dict, note: str = "") -> AgreementChange:
    row = AgreementChange(
        agreement=agreement,
        user_id=actor.user.id if actor.user else None,
        actor=actor.label,
        action=action,
        changes=changes,
        note=note,
    )
    session.add(row)
    return row


# --- applying changes -------------------------------------------------------


def _partners(session, codes: Iterable[str]) -> list[Partner]:
    found = []
    for code in codes:
        partner = partner_service.by_code(session, code)
        if partner is None:
            raise BadRequest(_("parties: no partner library with the code %(code)s.", code=code), field="parties")
        found.append(partner)
    return found


def _apply(session, agreement: Agreement, values: dict) -> None:
    for name in TEXT_FIELDS:
        if name in values:
            setattr(agreement, COLUMN.get(name, name), values[name])
    for name in ("scope_forms", "state", "warning_days"):
        if name in values:
            setattr(agreement, name, values[name])
    _apply_dates(agreement, values)
    if "parties" in values:
        partners = _partners(session, values["parties"])
        if len(partners) < 2:
            raise BadRequest(_("parties: an agreement needs at least two libraries."), field="parties")
        keep = {p.id for p in partners}
        for party in list(agreement.parties):
            if party.partner_id not in keep:
                agreement.parties.remove(party)
        have = {p.partner_id for p in agreement.parties}
        for partner in partners:
            if partner.id not in have:
                agreement.parties.append(AgreementParty(partner=partner, partner_id=partner.id))
    if "services" in values:
        wanted = values["services"]
        for row in list(agreement.services):
            if row.service not in wanted:
                agreement.services.remove(row)
        for name, terms in wanted.items():
            row = agreement.service(name)
            if row is None:
                row = AgreementService(service=name)
                agreement.services.append(row)
            for key, value in terms.items():
                setattr(row, key, value)


def _apply_dates(agreement: Agreement, values: dict) -> None:
    """Start + duration gives the end; the end alone is allowed; end and
    duration give the start. An end given together with a start and a
    duration must agree with them."""
    if not {"start_date", "end_date", "duration_months"} & set(values):
        return
    start = values.get("start_date", agreement.start_date)
    months = values.get("duration_months", agreement.duration_months)
    if "end_date" in values:
        end = values["end_date"]
    elif "start_date" in values or "duration_months" in values:
        # The end follows the start and duration when they change, unless
        # it was set on its own (no duration).
        end = st.end_date(start, months, None) if months else agreement.end_date
    else:
        end = agreement.end_date
    if start is None and end is not None and months:
        start = st.start_date(None, months, end)
    if end is None:
        end = st.end_date(start, months, None)
    if start and end and months and "end_date" in values and "start_date" in values:
        # A form sends all three. The one the person changed wins: a new end
        # alone drops the old duration; a new start or duration alone moves the end.
        end_changed = end != agreement.end_date
        base_changed = start != agreement.start_date or months != agreement.duration_months
        if st.add_months(start, months) != end and end_changed and not base_changed:
            months = None
        elif st.add_months(start, months) != end and base_changed and not end_changed:
            end = st.add_months(start, months)
        elif st.add_months(start, months) != end:
            raise BadRequest(
                _(
                    "end_date: %(end)s does not match the start %(start)s plus "
                    "%(months)d months; give the end or the duration, not both.",
                    end=end.isoformat(),
                    start=start.isoformat(),
                    months=months,
                ),
                field="end_date",
            )
    if start and end and end < start:
        raise BadRequest(
            _(
                "end_date: the end (%(end)s) is before the start (%(start)s).",
                end=end.isoformat(),
                start=start.isoformat(),
            ),
            field="end_date",
        )
    agreement.start_date, agreement.duration_months, agreement.end_date = start, months, end


def _check(agreement: Agreement) -> None:
    if len(agreement.parties) < 2:
        raise BadRequest(_("parties: an agreement needs at least two libraries."), field="parties")


def display_title(agreement: Agreement) -> str:
    """The title, or one made of the parties' names (in the reader's language)."""
    if agreement.title:
        return agreement.title
    return _("Agreement %(names)s", names=" – ".join(p.partner.name for p in agreement.parties))


def create(session, data: dict, actor: Actor, action: str = "created", note: str = "", source: str = "") -> Agreement:
    values = clean(data)
    if "parties" not in values:
        raise BadRequest(_("parties: name at least two partner libraries."), field="parties")
    agreement = Agreement(scope_forms=[], state=AgreementState.SIGNED.value, source=source)
    session.add(agreement)
    _apply(session, agreement, values)
    _check(agreement)
    session.flush()
    record(session, agreement, actor, action, diff({}, snapshot(agreement)), note)
    return agreement


def check_version(agreement: Agreement, expected) -> None:
    """``expected``: the version the person saw (None: not checked)."""
    if expected in (None, ""):
        return
    if parse_int(expected, "version", 1) != agreement.version:
        raise Conflict(_("Someone else changed this agreement meanwhile; reload it and make your change again."))


def _flush(session) -> None:
    from sqlalchemy.orm.exc import StaleDataError

    try:
        session.flush()
    except StaleDataError:
        raise Conflict(_("Someone else changed this agreement meanwhile; reload it and make your change again."))


def update(session, agreement: Agreement, data: dict, actor: Actor, note: str = "", version=None) -> dict:
    """Changes the fields given; returns the changes recorded (empty: nothing
    changed). ``version``: the version the change was made on."""
    check_version(agreement, version)
    values = clean(data)
    before = snapshot(agreement)
    _apply(session, agreement, values)
    _check(agreement)
    session.flush()
    changes = diff(before, snapshot(agreement))
    if changes:
        agreement.updated_at = utcnow()  # a change to services or parties bumps the version too
        _flush(session)
        record(session, agreement, actor, "updated", changes, note)
    return changes


def successor(session, agreement: Agreement) -> Agreement | None:
    return session.scalar(select(Agreement).where(Agreement.supersedes_id == agreement.id))


def chain(session, agreement: Agreement) -> list[Agreement]:
    """The renewal chain this agreement belongs to, oldest first."""
    older, current = [], agreement
    seen = {agreement.id}
    while current.supersedes is not None and current.supersedes.id not in seen:
        current = current.supersedes
        seen.add(current.id)
        older.append(current)
    newer, current = [], agreement
    while (nxt := successor(session, current)) is not None and nxt.id not in seen:
        seen.add(nxt.id)
        newer.append(nxt)
        current = nxt
    return [*reversed(older), agreement, *newer]


def renew(session, agreement: Agreement, data: dict, actor: Actor) -> Agreement:
    """A new agreement superseding this one: same parties, scope, texts and
    services unless ``data`` says otherwise; starts the day after the old end
    and runs as long, unless given."""
    if successor(session, agreement) is not None:
        raise Conflict(_("This agreement has been renewed already; renew the newest one."))
    base = snapshot(agreement)
    carried = {name: base[name] for name in TEXT_FIELDS}
    carried.update(
        scope_forms=base["scope_forms"],
        parties=[p.partner.code for p in agreement.parties],
        services=base["services"],
        warning_days=base["warning_days"],
    )
    values = dict(data)
    if not {"start_date", "end_date", "duration_months", "duration_years"} & set(values):
        if agreement.end_date:
            values["start_date"] = (agreement.end_date + timedelta(days=1)).isoformat()
            if agreement.duration_months:
                values["duration_months"] = agreement.duration_months
    elif (
        "start_date" not in values
        and agreement.end_date
        and ("duration_months" in values or "duration_years" in values)
    ):
        values["start_date"] = (agreement.end_date + timedelta(days=1)).isoformat()
    if agreement.number and "number" not in values:
        carried["number"] = ""
    new = create(
        session,
        {**carried, **values},
        actor,
        action="renewed",
        note=_("renews agreement %(id)d", id=agreement.id),
    )
    new.supersedes = agreement
    new.supersedes_id = agreement.id
    record(session, agreement, actor, "superseded", {"superseded_by": [None, new.id]})
    return new


def terminate(session, agreement: Agreement, on, reason: str, actor: Actor) -> Agreement:
    day = parse_day(on, "terminated_on")
    if day is None:
        raise BadRequest(_("terminated_on: give the day the agreement ends."), field="terminated_on")
    reason = (reason or "").strip()
    if not reason:
        raise BadRequest(_("reason: say why the agreement is terminated."), field="reason")
    if agreement.terminated_on is not None:
        raise Conflict(_("This agreement was terminated already."))
    if agreement.start_date and day < agreement.start_date:
        raise BadRequest(_("terminated_on: the day is before the agreement's start."), field="terminated_on")
    before = snapshot(agreement)
    agreement.terminated_on, agreement.termination_reason = day, reason
    _flush(session)
    record(session, agreement, actor, "terminated", diff(before, snapshot(agreement)), reason)
    return agreement


# --- the signed document ----------------------------------------------------


def attach_document(
    session,
    agreement: Agreement,
    stream,
    filename: str,
    actor: Actor,
    data_dir: str,
    max_bytes: int,
) -> None:
    """Stores a PDF under DATA_DIR/agreements with a generated name. The
    content decides what it is (``%PDF-``), not the name the browser sent."""
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise TooLarge(_("The document is larger than %(mb).1f MB.", mb=max_bytes / 1048576))
    if not data:
        raise BadRequest(_("document: the file is empty."), field="document")
    if not data.startswith(b"%PDF-"):
        raise UnsupportedMedia(_("document: only PDF files are accepted; this file is not a PDF."))
    folder = Path(data_dir) / "agreements"
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{agreement.id}-{secrets.token_hex(12)}.pdf"
    (folder / name).write_bytes(data)
    before = snapshot(agreement)
    old = agreement.document_path
    safe_name = re.sub(r"[^\w.\- ]", "_", Path(filename or "document.pdf").name)[:200] or "doc.pdf"
    agreement.document_path, agreement.document_name = name, safe_name
    agreement.document_size = len(data)
    session.flush()
    record(session, agreement, actor, "document", diff(before, snapshot(agreement)))
    if old and old != name:
        # Keep the old file: the audit trail names it, and a rollback must not lose it.
        pass


def document_file(agreement: Agreement, data_dir: str) -> Path:
    if not agreement.document_path:
        raise NotFound(_("This agreement has no signed document yet."))
    path = Path(data_dir) / "agreements" / agreement.document_path
    if not path.is_file():
        raise NotFound(_("The signed document's file is missing; upload it again."))
    return path


# --- reading ---------------------------------------------------------------


def get(session, agreement_id: int) -> Agreement:
    agreement = session.get(Agreement, agreement_id)
    if agreement is None:
        raise NotFound(_("No agreement number %(id)s.", id=agreement_id))
    return agreement


def listing(
    session,
    day: date,
    status: str | None = None,
    within_days: int | None = None,
    library_id: int | None = None,
) -> list[tuple[Agreement, str]]:
    """Agreements with their status on ``day``; ``within_days``: those whose
    end falls between ``day`` and ``day + within_days``; ``library_id``: only
    that library's."""
    query = (
        select(Agreement)
        .options(
            selectinload(Agreement.parties).selectinload(AgreementParty.partner),
            selectinload(Agreement.services),
        )
        .order_by(Agreement.end_date.is_(None), Agreement.end_date, Agreement.id)
    )
    if library_id is not None:
        query = query.where(
            Agreement.id.in_(select(AgreementParty.agreement_id).where(AgreementParty.partner_id == library_id))
        )
    if within_days is not None:
        query = query.where(Agreement.end_date >= day, Agreement.end_date <= day + timedelta(days=within_days))
    out = []
    for agreement in session.scalars(query):
        current = status_of(agreement, day)
        if status and current != status:
            continue
        out.append((agreement, current))
    return out


def to_dict(agreement: Agreement, day: date, status: str | None = None) -> dict:
    status = status or status_of(agreement, day)
    return {
        "id": agreement.id,
        "title": display_title(agreement),
        "number": agreement.number or None,
        "kind": agreement.kind,
        "parties": [{"code": p.partner.code, "name": p.partner.name} for p in agreement.parties],
        "scope": {"forms": list(agreement.scope_forms or []), "text": agreement.scope_text},
        "services": {
            s.service: {k: (_plain(getattr(s, k)) if k.startswith("cost") else getattr(s, k)) for k in TERM_FIELDS}
            for s in agreement.services
        },
        "start": _plain(agreement.start_date),
        "end": _plain(agreement.end_date),
        "duration_months": agreement.duration_months,
        "status": status,
        "as_of": day.isoformat(),
        "warning_days": warning_days_for(agreement),
        "state": agreement.state,
        "version": agreement.version,
        "terminated_on": _plain(agreement.terminated_on),
        "termination_reason": agreement.termination_reason or None,
        "supersedes": agreement.supersedes_id,
        "background": agreement.background,
        "purpose": agreement.purpose,
        "relationship": agreement.relationship_text,
        "rights_obligations": agreement.rights_obligations,
        "division_of_work": agreement.division_of_work,
        "costs": agreement.costs,
        "procedures": agreement.procedures,
        "document": bool(agreement.document_path),
    }
