"""A value an application reads often and may see a little late: read at
most once every so many seconds per process, and forgotten at once when the
process itself changes what it comes from. The search pages keep so how
fresh each library's statuses are (``union_catalog.search.freshness_kept``)
and which libraries are closed today (``agreements.calendar.closures_kept``)."""
from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import TypeVar

from flask import current_app, has_app_context

T = TypeVar("T")


def kept(name: str, key: Hashable, seconds: float, read: Callable[[], T]) -> T:
    """``read()``, or what it gave for ``key`` less than ``seconds`` ago in
    this application. Outside an application, always ``read()``. One key is
    kept per name: a new one (a new day) replaces the old."""
    if not has_app_context():
        return read()
    box = current_app.extensions.setdefault(f"kept_{name}", {})
    now = time.monotonic()
    hit = box.get(key)
    if hit is None or hit[0] <= now:
        box.clear()
        hit = box[key] = (now + seconds, read())
    return hit[1]


def forget(name: str) -> None:
    """The next ``kept(name, ...)`` reads afresh."""
    if has_app_context():
        current_app.extensions.pop(f"kept_{name}", None)
