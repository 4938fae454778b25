"""Template helpers shared by every package's pages."""
from __future__ import annotations

from datetime import date, datetime

from flask import Flask, current_app
from flask_babel import format_currency, format_date, format_datetime, format_decimal, format_percent
from flask_babel import lazy_gettext as _l
from flask_login import current_user

# (endpoint, label, roles that see it). An endpoint that does not exist (yet)
# is left out, so a package adds its pages here and nowhere else.
NAV = [
    ("catalog.search", _l("Catalogue"), None),
    ("loans.my_requests", _l("My requests"), {"patron"}),
    ("loans.queues", _l("Requests"), {"librarian", "coordinator", "admin"}),
    ("catalog_imports.imports", _l("Imports"), {"librarian", "coordinator", "admin"}),
    ("agreements.dashboard", _l("Agreements"), {"coordinator", "admin", "librarian"}),
    ("agreements.partner_list", _l("Partners"), {"librarian", "coordinator", "admin"}),
    ("agreements.calendar_page", _l("Calendar"), {"librarian", "coordinator", "admin"}),
    ("people.index", _l("Accounts"), {"librarian", "coordinator", "admin"}),
    ("reports.facts", _l("Facts"), {"coordinator", "admin", "librarian"}),
    ("notices.inbox", _l("Notices"), {"patron", "librarian", "coordinator", "admin"}),
]

ROLE_LABELS = {
    "patron": _l("patron"),
    "librarian": _l("librarian"),
    "coordinator": _l("coordinator"),
    "admin": _l("administrator"),
}


def has_endpoint(endpoint: str) -> bool:
    return endpoint in current_app.view_functions


def nav_links() -> list[tuple[str, str]]:
    role = current_user.role if current_user.is_authenticated else None
    out = []
    for endpoint, label, roles in NAV:
        if not has_endpoint(endpoint):
            continue
        if roles is not None and role not in roles:
            continue
        out.append((endpoint, str(label)))
    return out


def format_day(value: date | datetime | str | None, style: str = "long") -> str:
    """'18 Oktober 2026' in Indonesian, 'October 18, 2026' in English (also
    of a day written YYYY-MM-DD, as the API gives days)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value)
    if isinstance(value, datetime):
        return format_datetime(value, "medium")
    return format_date(value, style)


def format_number(value) -> str:
    """60.134 in Indonesian, 60,134 in English."""
    return "" if value is None else format_decimal(value)


def format_money(value) -> str:
    """An amount in the network's currency (CHARGES_CURRENCY): 'Rp 15.000' in
    Indonesian, 'IDR 15,000' in English; cents only where there are some."""
    from .config import setting

    if value is None:
        return ""
    return format_currency(value, setting("CHARGES_CURRENCY"), format="\u00a4\u00a0#,##0.##", currency_digits=False)


def format_share(value: float | None) -> str:
    """A part of a whole, as a percentage with one decimal: '12,3 %' in
    Indonesian, '12.3%' in English; '–' when there is no whole."""
    return "–" if value is None else format_percent(value, "#,##0.0%")


def role_label(role: str) -> str:
    return str(ROLE_LABELS.get(role, role))


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(nav_links=nav_links, has_endpoint=has_endpoint, role_label=role_label)
    app.jinja_env.filters["format_day"] = format_day
    app.jinja_env.filters["format_number"] = format_number
    app.jinja_env.filters["format_money"] = format_money
    app.jinja_env.filters["format_share"] = format_share
