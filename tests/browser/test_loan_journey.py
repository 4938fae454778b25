"""A loan through three pairs of hands, in a real browser: the patron asks
from the record, the lending library supplies, the borrowing library receives."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from ill.extensions import db
from tests.browser.conftest import sign_in
from tests.factories import Factory

pytestmark = pytest.mark.browser


@pytest.fixture
def world(live_app):
    with live_app.app_context():
        make = Factory(db.session)
        home, lender = make.partner("HOME", "Perpustakaan Rumah"), make.partner("LEND", "Perpustakaan Pemberi")
        make.loan_agreement(home, lender)
        cluster = make.cluster_with_holdings({lender: ["available"]}, title="Hikayat Raja Pasai")
        users = {
            "patron": make.user("patron", home, email="siti@home.example", name="Siti"),
            "home": make.user("librarian", home, email="rina@home.example", name="Rina"),
            "lender": make.user("librarian", lender, email="dodi@lend.example", name="Dodi"),
        }
        db.session.commit()
        return {"record_id": cluster.id, "emails": {k: u.email for k, u in users.items()}}


def _signed_in(browser, server, email):
    context = browser.new_context(locale="en-GB", extra_http_headers={"Accept-Language": "en-GB,en;q=0.9"})
    page = context.new_page()
    sign_in(page, server, email)
    return context, page


def _act(page, action):
    page.click(f"#action-{action} button[type=submit]")
    page.wait_for_load_state()


def test_patron_requests_lender_supplies_borrower_receives(browser, live_server, world, tmp_path):
    context, page = _signed_in(browser, live_server, world["emails"]["patron"])
    page.goto(f"{live_server}/requests/new?record_id={world['record_id']}")
    expect(page.get_by_text("Hikayat Raja Pasai").first).to_be_visible()
    page.fill("#note", "for my thesis")
    page.click("form.form button[type=submit]")
    page.wait_for_url(f"{live_server}/requests/*")
    expect(page.locator("#request-status")).to_have_attribute("data-status", "requested")
    request_url = page.url
    page.goto(live_server + "/requests/mine")
    expect(page.get_by_text("Hikayat Raja Pasai")).to_be_visible()
    context.close()

    context, page = _signed_in(browser, live_server, world["emails"]["lender"])
    page.goto(live_server + "/requests/?side=lending")
    assert "Hikayat Raja Pasai" in page.content() and "Will supply" in page.content()
    page.goto(request_url)
    assert "for my thesis" in page.content()
    _act(page, "will_supply")
    expect(page.locator("#request-status")).to_have_attribute("data-status", "will_supply")
    page.fill("#message-note", "Sampul rapuh: mohon dibungkus saat dikembalikan")
    _act(page, "message")  # a word to the borrowing library: the status stays
    expect(page.locator("#request-status")).to_have_attribute("data-status", "will_supply")
    _act(page, "loaned")
    expect(page.locator("#request-status")).to_have_attribute("data-status", "loaned")
    page.screenshot(path=str(tmp_path / "lender.png"), full_page=True)
    context.close()

    context, page = _signed_in(browser, live_server, world["emails"]["home"])
    page.goto(live_server + "/requests/?side=borrowing")
    assert "Hikayat Raja Pasai" in page.content()
    page.goto(request_url)
    _act(page, "received")
    expect(page.locator("#request-status")).to_have_attribute("data-status", "received")
    history = page.locator("table").last.inner_text()
    assert "Received" in history and "Shipped" in history and "Will supply" in history
    assert "Sampul rapuh" in history  # the lender's message
    context.close()

    # the patron sees the book is waiting, until when, and not the libraries' exchange
    context, page = _signed_in(browser, live_server, world["emails"]["patron"])
    page.goto(request_url)
    expect(page.locator("#pickup-by")).to_be_visible()
    assert "Sampul rapuh" not in page.locator("table").last.inner_text()
    context.close()


def test_lender_pulls_from_the_list_and_a_lost_book_is_settled(browser, live_server, world):
    context, page = _signed_in(browser, live_server, world["emails"]["patron"])
    page.goto(f"{live_server}/requests/new?record_id={world['record_id']}")
    page.click("form.form button[type=submit]")
    page.wait_for_url(f"{live_server}/requests/*")
    request_url = page.url
    context.close()

    # the lender finds it on its pull list, with the copy's call number, and ships it
    context, page = _signed_in(browser, live_server, world["emails"]["lender"])
    page.goto(live_server + "/requests/?side=lending")
    page.click("a[href='/requests/pull-list']")
    table = page.locator("#pull-list").inner_text()
    assert "Hikayat Raja Pasai" in table and "297.9 AZR s0" in table and "Perpustakaan Rumah" in table
    page.goto(request_url)
    barcode = page.locator("#loaned-barcode").input_value()  # its one copy, filled in
    assert barcode and barcode in table
    page.fill("#loaned-barcode", barcode)  # scanned, as at the desk
    _act(page, "loaned")
    expect(page.locator("#item-barcode")).to_have_text(barcode)
    context.close()

    # the borrowing library lends it to the patron, who loses it
    context, page = _signed_in(browser, live_server, world["emails"]["home"])
    page.goto(request_url)
    _act(page, "received")
    _act(page, "checked_out")
    page.on("dialog", lambda dialog: dialog.accept())  # "Report this book lost?"
    page.fill("#report_lost-reason", "left on the bus, 3 December")
    _act(page, "report_lost")
    expect(page.locator("#request-status")).to_have_attribute("data-status", "lost")
    expect(page.locator("#lost-on")).to_be_visible()
    context.close()

    # the lender finds it among the books that should be back, then settles the loss
    context, page = _signed_in(browser, live_server, world["emails"]["lender"])
    page.goto(live_server + "/facts/")
    page.click("#overdue-link a")
    request_id = request_url.rstrip("/").rsplit("/", 1)[-1]
    expect(page.locator(f"#lost-{request_id}")).to_contain_text("Hikayat Raja Pasai")
    assert "Siti" not in page.locator("#lost-loans").inner_text()  # the patron stays with the borrower
    page.click(f"#lost-{request_id} a")
    assert "left on the bus, 3 December" in page.content()
    page.fill("#settle_lost-charge", "a replacement copy")
    _act(page, "settle_lost")
    expect(page.locator("#request-status")).to_have_attribute("data-status", "completed_without_return")
    expect(page.locator("#charge")).to_have_text("a replacement copy")
    context.close()


def test_at_the_desk_by_the_patron_s_library_card(browser, live_app, live_server, world):
    """The librarian makes a request for a patron who phoned, by their card;
    when the book has come, the patron shows the card at the desk and gets it."""
    from ill.accounts import find_user

    with live_app.app_context():
        find_user(db.session, world["emails"]["patron"]).card_number = "0401202001"
        db.session.commit()
    context, page = _signed_in(browser, live_server, world["emails"]["home"])
    page.goto(f"{live_server}/requests/new?record_id={world['record_id']}")
    page.fill("#patron", "0401202001")
    page.click("form.form button[type=submit]")
    page.wait_for_url(f"{live_server}/requests/*")
    expect(page.get_by_text("made for Siti, who is told")).to_be_visible()
    request_url = page.url
    context.close()

    context, page = _signed_in(browser, live_server, world["emails"]["lender"])
    page.goto(request_url)
    _act(page, "loaned")
    expect(page.locator("#request-status")).to_have_attribute("data-status", "loaned")
    context.close()

    context, page = _signed_in(browser, live_server, world["emails"]["home"])
    page.goto(request_url)
    _act(page, "received")
    page.goto(live_server + "/requests/hold-shelf")
    page.fill("#q", "0401202001")  # the card, scanned
    page.click("#find-patron button[type=submit]")
    page.wait_for_load_state()
    row = page.locator("#hold-shelf tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Hikayat Raja Pasai")
    row.get_by_role("link").first.click()
    _act(page, "checked_out")
    expect(page.locator("#request-status")).to_have_attribute("data-status", "checked_out")
    context.close()
