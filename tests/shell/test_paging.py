"""ill.paging: a page's arithmetic and checks, and a LIKE pattern that finds
its text as typed, its % and _ and \\ included, on both engines' LIKE."""
from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ill.errors import BadRequest
from ill.paging import MAX_PER_PAGE, Page, asked, like_pattern

# Letters the pattern must take as themselves, and plain ones around them.
TEXT = st.text(alphabet="ab%_\\ ", max_size=8)


@settings(max_examples=300, deadline=None)
@given(needle=TEXT.filter(bool), haystack=TEXT)
def test_a_like_pattern_finds_exactly_the_text_typed(needle, haystack):
    conn = sqlite3.connect(":memory:")
    (found,) = conn.execute("SELECT ? LIKE ? ESCAPE '\\'", (haystack, like_pattern(needle))).fetchone()
    assert bool(found) == (needle in haystack)


def test_a_page_knows_how_many_there_are_and_where_it_starts():
    assert (Page([], 0, 1, 50).pages, Page([], 50, 1, 50).pages, Page([], 51, 2, 50).pages) == (1, 1, 2)
    assert Page([], 51, 2, 50).offset == 50
    assert Page([], 7, 3, 3).to_dict() == {"total": 7, "page": 3, "per_page": 3, "pages": 3}


@pytest.mark.parametrize("page, per_page, field", [
    (0, 10, "page"), ("x", 10, "page"), (True, 10, "page"), (1, 0, "per_page"), (1, MAX_PER_PAGE + 1, "per_page"),
    (1, "2.5", "per_page"),
])
def test_a_page_asked_badly_is_refused_naming_the_field(app, page, per_page, field):
    with app.test_request_context(), pytest.raises(BadRequest) as exc:
        asked(page, per_page)
    assert exc.value.field == field


def test_a_page_asked_well_is_taken_as_numbers():
    assert asked("2", " 30 ") == (2, 30)
