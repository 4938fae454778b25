"""A reader's journey in a real browser: search, narrow to one library, open
a record. Playwright drives Debian's Chromium (tests/browser/conftest.py)
against the app served on a random local port, with a SQLite file database."""
from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect

from ill.extensions import db

from ..factories import Factory


@pytest.fixture
def site(live_app, live_server):
    with live_app.app_context():
        make = Factory(db.session)
        books = {
            "misbah": make.search_cluster(
                title="Tafsīr al-Miṣbāḥ : pesan, kesan dan keserasian al-Qurʼan",
                author="Shihab, M. Quraish", year=2002, isbns=["9789793062792"],
                holdings={"UGM": ["available"], "UINSU": ["on_loan"]}),
            "katsir": make.search_cluster(title="Tafsir Ibnu Katsir", year=2010,
                                          holdings={"PNRI": ["available"]}),
            "azhar": make.search_cluster(title="Tafsir al-Azhar", author="Hamka", year=1982,
                                         holdings={"UINSU": ["available", "available"]}),
        }
        ids = {k: v.id for k, v in books.items()}
        db.session.commit()
    return live_server, ids


def test_search_filter_and_open_a_record(site, page_en):
    base, ids = site
    page = page_en
    page.goto(base + "/")
    page.fill("#q", "tafsir al-misbah")
    page.press("#q", "Enter")
    expect(page.locator(".hit h2 a")).to_have_count(1)
    expect(page.locator(".hit h2 a").first).to_contain_text("Tafsīr al-Miṣbāḥ")

    page.fill("#q", "tafsir")
    page.click("form.search-form button[type=submit]")
    expect(page.locator(".hit")).to_have_count(3)
    expect(page.locator("#result-count")).to_contain_text("3")

    # Newest first, then by title as it files; the order chosen stays on.
    page.click(".sort-by a:text-is('Newest first')")
    expect(page.locator(".sort-by [aria-current=true]")).to_have_text("Newest first")
    expect(page.locator(".hit h2 a")).to_contain_text(["Tafsir Ibnu Katsir", "Tafsīr al-Miṣbāḥ", "Tafsir al-Azhar"])
    page.click(".sort-by a:text-is('Title (A–Z)')")
    expect(page.locator(".hit h2 a")).to_contain_text(["Tafsir al-Azhar", "Tafsīr al-Miṣbāḥ", "Tafsir Ibnu Katsir"])
    assert "sort=title" in page.url

    page.click("[data-facet=library] a:text-is('UINSU')")
    expect(page.locator(".hit")).to_have_count(2)
    titles = page.locator(".hit h2 a").all_inner_texts()
    assert not any("Katsir" in t for t in titles)
    # On UINSU's shelf now: al-Misbah's UINSU copy is on loan, al-Azhar's are there.
    page.click("#available-toggle")
    expect(page.locator(".hit")).to_have_count(1)
    expect(page.locator(".hit h2 a")).to_have_text("Tafsir al-Azhar")
    page.click("#available-toggle")
    expect(page.locator(".hit")).to_have_count(2)
    # The library filter stays on while the words change.
    page.fill("#q", "hamka")
    page.press("#q", "Enter")
    expect(page.locator(".hit")).to_have_count(1)
    assert "library=UINSU" in page.url and "sort=title" in page.url

    page.click(".hit h2 a")
    expect(page).to_have_url(f"{base}/catalog/records/{ids['azhar']}")
    expect(page.locator("h1")).to_have_text("Tafsir al-Azhar")
    expect(page.locator("#holdings tr[data-library=UINSU]")).to_contain_text("UINSU")


def test_a_misspelled_search_offers_the_catalogue_s_spelling_and_a_record_cites(site, page_en):
    base, ids = site
    page = page_en
    page.goto(base + "/catalog/search?q=tafsr+azhar")
    expect(page.locator("#result-count")).to_contain_text("0")
    suggestion = page.locator("#did-you-mean a")
    expect(suggestion).to_have_text("tafsir azhar")
    expect(page.locator("#did-you-mean")).to_contain_text("(1 union record)")
    suggestion.click()
    expect(page.locator(".hit")).to_have_count(1)
    page.click(".hit h2 a")
    expect(page).to_have_url(f"{base}/catalog/records/{ids['azhar']}")
    with page.expect_download() as download:
        page.click("#cite-ris")
    assert download.value.suggested_filename == f"record-{ids['azhar']}.ris"
    with open(download.value.path(), encoding="utf-8", newline="") as fh:
        ris = fh.read()
    assert ris.startswith("TY  - BOOK\r\nTI  - Tafsir al-Azhar\r\nAU  - Hamka\r\n")


def test_a_transliteration_finds_its_other_spellings_and_a_page_cites_as_one_file(site, page_en):
    base, ids = site
    page = page_en
    page.goto(base + "/catalog/search?q=tafseer")
    expect(page.locator(".hit")).to_have_count(3)
    expect(page.locator("#also-spelled")).to_contain_text("tafseer (tafsir)")
    with page.expect_download() as download:
        page.click("#cite-page a:text-is('BibTeX')")
    assert download.value.suggested_filename == "search-results.bib"
    with open(download.value.path(), encoding="utf-8") as fh:
        assert fh.read().count("@book{") == 3


def test_a_reader_follows_a_search_and_hears_of_what_is_new(site, page_en, live_app):
    """Signed in, a reader asks to be told of new records a search finds;
    the day's tick finds a new edition and the reader sees the notice."""
    from ill import housekeeping

    base, _ids = site
    with live_app.app_context():
        make = Factory(db.session)
        make.user("patron", library="UINSU", email="reader@example.org", locale="en")
        db.session.commit()
    page = page_en
    page.goto(base + "/login")
    page.fill("#email", "reader@example.org")
    page.fill("#password", "correct horse battery")
    page.click("main form button[type=submit]")
    page.goto(base + "/catalog/search?q=tafsir")
    page.click("#search-alert button")
    expect(page.locator(".flash-success")).to_contain_text("you will be told of the union records new")
    assert "q=tafsir" in page.url  # back on the search
    with live_app.app_context():
        Factory(db.session).search_cluster(title="Tafsir al-Jalalain", year=2015, holdings={"PNRI": []})
        db.session.commit()
        housekeeping.run(db.session, date.today())
    page.goto(base + "/notices/")
    expect(page.locator("main")).to_contain_text("New in the catalogue: tafsir")
    page.goto(base + "/catalog/alerts/")
    expect(page.locator("#alerts tr[data-alert]")).to_have_count(1)
    page.click("#alerts button:text-is('Stop following')")
    expect(page.locator("main")).to_contain_text("You follow no search yet.")


def test_browse_a_subject_then_an_author_in_indonesian(live_app, live_server, page_id):
    """A reader browses the subjects from "tafsir", opens the heading, a
    record, and its author's heading."""
    with live_app.app_context():
        make = Factory(db.session)
        misbah = make.search_cluster(title="Tafsir al-Misbah", author="Shihab, M. Quraish", year=2002,
                                     subjects=["Tafsir"], holdings={"UGM": ["available"]})
        make.search_cluster(title="Membumikan al-Qur'an", author="Shihab, M. Quraish", year=1992,
                            subjects=["Tafsir -- Indonesia"], holdings={"UINSU": ["available"]})
        make.search_cluster(title="Tafsir al-Azhar", author="Hamka", year=1982, subjects=["Tafsir"],
                            holdings={"UINSU": ["available"]})
        make.search_cluster(title="Sejarah kota Medan", author="Sinar, Tengku Luckman", year=2001,
                            subjects=["Medan -- History"], holdings={"PNRI": ["available"]})
        misbah_id = misbah.id
        db.session.commit()
    page = page_id
    page.goto(live_server + "/catalog/search")
    page.click("#browse-link")
    expect(page.locator("h1")).to_have_text("Jelajahi pengarang dan subjek")
    page.click("nav.tabs a[data-kind=subject]")
    page.fill("#browse-from", "tafsir")
    page.press("#browse-from", "Enter")
    rows = page.locator("#headings tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Tafsir")
    expect(rows.nth(0).locator("td").nth(1)).to_have_text("2")
    expect(rows.nth(1)).to_contain_text("Tafsir -- Indonesia")
    # the subject before "tafsir" is a page back
    page.click("#browse-previous")
    expect(page.locator("#headings tbody tr")).to_have_count(1)
    expect(page.locator("#headings tbody tr")).to_contain_text("Medan -- History")
    page.go_back()

    page.click("#headings tbody tr[data-filing=tafsir] a")
    expect(page.locator("[data-heading=subject_heading]")).to_contain_text("Tajuk subjek: Tafsir")
    expect(page.locator(".hit")).to_have_count(2)
    # words narrow the heading's records, and the heading stays on
    page.fill("#q", "misbah")
    page.press("#q", "Enter")
    expect(page.locator(".hit")).to_have_count(1)
    page.click(".hit h2 a")
    expect(page).to_have_url(f"{live_server}/catalog/records/{misbah_id}")
    page.click("#main-author a")
    expect(page.locator("[data-heading=author_heading]")).to_contain_text("Shihab, M. Quraish")
    expect(page.locator(".hit")).to_have_count(2)
    page.click("[data-heading=author_heading] a:text-is('Hapus tajuk ini')")
    expect(page.locator("[data-heading=author_heading]")).to_have_count(0)
