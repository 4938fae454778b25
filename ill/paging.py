"""A page of a long list (a queue of requests, a library's patrons): which
page was asked, how many there are in all, and the checks of ``page`` and
``per_page`` as a caller sends them."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _

from .errors import BadRequest

# The most one page holds, for every list that pages.
MAX_PER_PAGE = 200
# The longest text a caller may find rows by.
MAX_SEARCH = 200


@dataclass
class Page:
    """One page of rows and how many there are in all."""

    rows: list
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    def to_dict(self) -> dict:
        return {"total": self.total, "page": self.page, "per_page": self.per_page, "pages": self.pages}


def whole(value, field: str, low: int, high: int) -> int:
    """``value`` as a whole number from ``low`` to ``high``, else a 400 naming ``field``."""
    try:
        number = int(str(value).strip()) if not isinstance(value, bool) else None
    except (TypeError, ValueError):
        number = None
    if number is None or not low <= number <= high:
        raise BadRequest(_("'%(field)s' must be a whole number from %(low)d to %(high)d.", field=field, low=low,
                           high=high), field=field)
    return number


def asked(page, per_page) -> tuple[int, int]:
    """(page, per_page) as a caller sent them, checked."""
    return whole(page, "page", 1, 1_000_000), whole(per_page, "per_page", 1, MAX_PER_PAGE)


def search_text(q) -> str:
    """What a caller typed to find rows (``q``), stripped; too long is a 400."""
    q = (q or "").strip()
    if len(q) > MAX_SEARCH:
        raise BadRequest(_("'q' is longer than %(n)d characters.", n=MAX_SEARCH), field="q")
    return q


def fetch(session, total, rows, page, per_page, *, scalars: bool = True) -> Page:
    """One page of ``rows`` (a select, in its order) and ``total`` (a select
    of their count), ``page`` and ``per_page`` as the caller sent them;
    ``scalars=False`` keeps each row whole."""
    page, per_page = asked(page, per_page)
    found = Page([], session.scalar(total) or 0, page, per_page)
    rows = rows.offset(found.offset).limit(per_page)
    found.rows = list(session.scalars(rows) if scalars else session.execute(rows))
    return found


def like_pattern(text: str) -> str:
    """``text`` anywhere, for LIKE/ILIKE with ``escape="\\\\"``: its own % and _
    are themselves, not wildcards."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


__all__ = ["MAX_PER_PAGE", "MAX_SEARCH", "Page", "whole", "asked", "search_text", "fetch", "like_pattern"]
