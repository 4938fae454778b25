"""A library on its own system borrows, in a real browser: the coordinator
gives its ISO 18626 address on its partner page, its system sends a request,
the lending library ships it from its pages, and the system is told."""

from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect

from ill.extensions import db
from tests.browser.conftest import sign_in
from tests.factories import Factory
from tests.ill.test_iso18626 import remote, requesting, sent_status  # noqa: F401  (remote: a fixture)

pytestmark = pytest.mark.browser


@pytest.fixture
def world(live_app):
    with live_app.app_context():
        make = Factory(db.session)
        borrower, lender = make.partner("PNRI", "Perpustakaan Nasional"), make.partner("LEND", "Perpustakaan Pemberi")
        make.loan_agreement(borrower, lender)
        make.cluster_with_holdings({lender: ["available"]}, title="Hikayat Raja Pasai")
        coordinator = make.user("coordinator", email="kord@network.example", name="Kord")
        system = make.user("librarian", borrower, email="sistem@pnri.example", name="Sistem PNRI")
        lender_librarian = make.user("librarian", lender, email="dodi@lend.example", name="Dodi")
        token = make.token(system)
        db.session.commit()
        return {"token": token, "emails": {"coordinator": coordinator.email, "lender": lender_librarian.email}}


def test_a_library_on_its_own_system_borrows_and_hears_each_step(browser, live_server, world, remote,  # noqa: F811
                                                                 tmp_path):
    context = browser.new_context(locale="id-ID", extra_http_headers={"Accept-Language": "id-ID,id;q=0.9"})
    page = context.new_page()
    sign_in(page, live_server, world["emails"]["coordinator"])
    page.goto(live_server + "/partners/PNRI")
    page.fill("#agency_id", "ISIL:ID-JKPN")
    page.fill("#iso18626_url", remote.url)
    page.click("#agency_id >> xpath=ancestor::form//button[@type='submit']")
    page.wait_for_url(live_server + "/partners/PNRI")
    expect(page.locator("#iso18626")).to_contain_text("ISIL:ID-JKPN")
    expect(page.locator("#iso18626")).to_contain_text("menjawab dari sistemnya sendiri")
    context.close()

    answer = requests.post(live_server + "/api/v1/iso18626", timeout=10,
                           data=requesting("request", "PN-7", supplier="LOCAL:LEND", requester="ISIL:ID-JKPN",
                                           bib="<title>Hikayat Raja Pasai</title>"),
                           headers={"Authorization": f"Bearer {world['token']}", "Content-Type": "application/xml"})
    assert answer.status_code == 200 and b"<messageStatus>OK</messageStatus>" in answer.content

    context = browser.new_context(locale="id-ID", extra_http_headers={"Accept-Language": "id-ID,id;q=0.9"})
    page = context.new_page()
    sign_in(page, live_server, world["emails"]["lender"])
    page.goto(live_server + "/requests/?side=lending")
    row = page.locator("tr", has_text="Hikayat Raja Pasai")
    expect(row).to_contain_text("PNRI")  # the borrowing library, no patron
    row.locator("td a").first.click()
    expect(page.locator("#request-status")).to_have_attribute("data-status", "requested")
    page.click("#action-loaned button[type=submit]")
    page.wait_for_load_state()
    expect(page.locator("#request-status")).to_have_attribute("data-status", "loaned")
    messages = page.locator("#iso18626-messages")
    expect(messages).to_contain_text("request: New")
    expect(messages).to_contain_text("supplyingAgencyMessage: Loaned")
    expect(messages).to_contain_text("diterima")  # taken by PNRI's system
    page.screenshot(path=str(tmp_path / "lender.png"), full_page=True)
    context.close()
    assert sent_status(remote) == ["Loaned"]
