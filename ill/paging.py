"""A page of a long list (a queue of requests, a library's patrons): which
page was asked, how many there are in all, and the checks of ``page`` and
``per_page`` as a caller sends them."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _

from .errors import BadRequest

# The most one page holds, for every list that pages.
MAX_PER_PAGE = 200


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


def like_pattern(text: str) -> str:
    """``text`` anywhere, for LIKE/ILIKE with ``escape="\\\\"``: its own % and _
    are themselves, not wildcards."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


__all__ = ["MAX_PER_PAGE", "Page", "whole", "asked", "like_pattern"]
