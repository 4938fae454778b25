"""Words people read for the codes agreements store."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

STATUS_LABELS = {
    "draft": _l("draft"),
    "upcoming": _l("upcoming"),
    "active": _l("active"),
    "expiring": _l("expiring"),
    "expired": _l("expired"),
    "terminated": _l("terminated"),
    "unknown": _l("unknown"),
}

FORM_LABELS = {
    "shared_acquisition": _l("Shared acquisition"),
    "exchange_redistribution": _l("Exchange and redistribution"),
    "shared_processing": _l("Shared processing"),
    "shared_facilities": _l("Shared facilities"),
    "interlibrary_loan": _l("Interlibrary loan"),
    "librarian_cooperation": _l("Cooperation between librarians"),
    "union_catalogue": _l("Union catalogue"),
    "information_services": _l("Information services and document delivery"),
}

SERVICE_LABELS = {"loan": _l("Loan"), "copy": _l("Copy (document delivery)")}

FIELD_LABELS = {
    "title": _l("Title"),
    "number": _l("Number"),
    "background": _l("Background"),
    "purpose": _l("Purpose"),
    "scope_forms": _l("Forms of cooperation"),
    "scope_text": _l("Scope"),
    "relationship": _l("Relationship between members"),
    "rights_obligations": _l("Rights and obligations"),
    "division_of_work": _l("Division of work"),
    "costs": _l("Costs"),
    "procedures": _l("Procedures"),
    "state": _l("State"),
    "start_date": _l("Start"),
    "duration_months": _l("Duration (months)"),
    "end_date": _l("End"),
    "warning_days": _l("Warning window (days)"),
    "terminated_on": _l("Terminated on"),
    "termination_reason": _l("Reason for termination"),
    "parties": _l("Members"),
    "services": _l("Services"),
    "document": _l("Signed document"),
    "superseded_by": _l("Superseded by"),
}

ACTION_LABELS = {
    "created": _l("created"),
    "imported": _l("imported"),
    "updated": _l("updated"),
    "renewed": _l("created as a renewal"),
    "superseded": _l("renewed"),
    "terminated": _l("terminated"),
    "document": _l("signed document uploaded"),
}

SYSTEM_LABELS = {"koha": "Koha", "slims": "SLiMS", "inlislite": "INLISLite", "other": _l("other")}


def weekday_label(name: str) -> str:
    """A day of the week ("saturday"), as the reader's language names it."""
    from babel.dates import get_day_names
    from flask_babel import get_locale

    from .calendar import WEEKDAYS

    return get_day_names("wide", locale=get_locale() or "en")[WEEKDAYS.index(name)]
