from sqlalchemy import select

from ill import demo
from ill.extensions import db
from ill.models import LoanRequest, RequestEvent


def test_demo_makes_requests_in_several_states_once(app):
    lines = demo.load(db.session)
    db.session.commit()
    statuses = sorted(db.session.scalars(select(LoanRequest.status)))
    assert statuses == ["lost", "overdue", "received", "requested", "will_supply"], lines
    (message,) = db.session.scalars(select(RequestEvent).where(RequestEvent.action == "message"))
    assert message.data == {"from": "borrowing_library", "to": "lender"}  # UINSU thanks the lender
    demo.load(db.session)
    db.session.commit()
    assert len(db.session.scalars(select(LoanRequest.id)).all()) == 5
