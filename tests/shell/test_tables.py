"""Spreadsheets to download: UTF-8 with a byte order mark, and no cell a
spreadsheet program would run as a formula."""
from __future__ import annotations

import csv
import io

from ill.tables import spreadsheet


def test_a_title_that_looks_like_a_formula_stays_text(app):
    with app.test_request_context():
        resp = spreadsheet([["title", "items"], ['=HYPERLINK("http://x","klik")', 3], ["+62 Nusantara", 0],
                            ["-", 1], ["Tafsīr al-Miṣbāḥ", 2]], "t.csv")
    text = resp.get_data(as_text=True)
    assert text.startswith("\ufeff") and resp.headers["Content-Disposition"] == 'attachment; filename="t.csv"'
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows == [["title", "items"], ["'=HYPERLINK(\"http://x\",\"klik\")", "3"], ["'+62 Nusantara", "0"],
                    ["'-", "1"], ["Tafsīr al-Miṣbāḥ", "2"]]
