"""ISO 18626 with partners whose own library system lends and borrows.

A partner with an ``iso18626_url`` (its system's ISO 18626 service) speaks
in ISO 18626 messages instead of on this service's pages.

As a lender (``on_event``'s second half, ``receive``'s supplyingAgencyMessage):
- When routing asks such a library, it is sent a ``request``; when the
  request leaves it (no answer in time, closed, a condition rejected) or is
  cancelled, a ``Cancel``.
- What the borrowing library does goes to it as a ``requestingAgencyMessage``:
  ``Received``, ``ShippedReturn``, ``Renew``, and a ``Notification`` for a
  message, an accepted condition and a book reported lost.
- Its system answers with ``supplyingAgencyMessage``s (``STATUS_ACTIONS``).

As a borrower (``_from_borrower``, ``_tell_borrower``): its system sends a
``request`` of one of the network's libraries, which becomes a loan of the
library itself asked of that library alone, and ``requestingAgencyMessage``s
(``BORROWER_STEPS``); the asked library answers on its pages, and each answer
goes to the system as a ``supplyingAgencyMessage``.

Its messages come to ``POST /api/v1/iso18626`` with an API token of one of
that library's librarians: a message acts as that librarian, so the
workflow's rules and the partner's tenancy hold as on the pages. Each is
answered with a confirmation, ``OK`` or ``ERROR`` with the reason.

Outgoing messages wait in ``iso18626_messages`` and are posted after the
commit that made them (``requests``; ``ISO18626_TIMEOUT`` seconds) and by the
tick, in order per request and library, again with a growing delay while the
other system cannot be reached. Every message either way is kept and shown
on the request's page to the staff of both libraries.

Nothing about a patron leaves: the messages carry the title asked, the
borrowing library and its address, never the patron's name or card.
"""
from __future__ import annotations

import logging
import xml.etree.ElementTree as ET  # noqa: S405 - builds messages; parsing is defusedxml's
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from . import outbox
from .clock import as_utc, utcnow
from .errors import ServiceError
from .extensions import db

log = logging.getLogger(__name__)

NS = "http://illtransactions.org/2013/iso18626"
VERSION = "1.2"

OUT, IN = "out", "in"
PENDING_FLAG = "ill_iso18626_pending"  # a session queued messages: post them after its commit
# an outgoing message: waiting to go, taken (OK), refused (ERROR); an
# incoming one: applied, noted (taken, nothing to change), refused
PENDING, SENT, REFUSED, APPLIED, NOTED = "pending", "sent", "refused", "applied", "noted"
STATE_LABELS = {
    PENDING: _l("waiting to be sent"),
    SENT: _l("taken"),
    REFUSED: _l("refused"),
    APPLIED: _l("applied"),
    NOTED: _l("noted"),
}


class Iso18626Message(db.Model):
    __tablename__ = "iso18626_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("loan_requests.id"), index=True)
    # the library whose system is at the other end
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"), index=True)
    direction: Mapped[str] = mapped_column(String(3))
    kind: Mapped[str] = mapped_column(String(40))  # request, requestingAgencyMessage, ...
    summary: Mapped[str] = mapped_column(String(60), default="")  # the action or status it carries
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(10), index=True)
    error: Mapped[str] = mapped_column(Text, default="")
    answer: Mapped[str] = mapped_column(Text, default="")  # the confirmation, either way
    # the other system's own number for the request, as its messages give it
    # (a lender's supplyingAgencyRequestId, a borrower's requestingAgencyRequestId)
    remote_id: Mapped[str] = mapped_column(String(200), default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    partner = relationship("Partner", lazy="joined")


# --- agencies ---------------------------------------------------------------------


def agency(partner) -> tuple[str, str]:
    """(agencyIdType, agencyIdValue) of a library: its agency_id, else LOCAL and its code."""
    kind, _sep, value = (partner.agency_id or "").partition(":")
    return (kind, value) if value else ("LOCAL", partner.code)


def speaks(partner) -> bool:
    return partner is not None and bool(partner.iso18626_url)


def _same_agency(found: tuple[str, str], partner) -> bool:
    kind, value = agency(partner)
    return found[0].upper() == kind.upper() and found[1].casefold() == value.casefold()


# --- building messages ------------------------------------------------------------


def _el(parent, name: str, text=None):
    node = ET.SubElement(parent, f"{{{NS}}}{name}")
    if text is not None:
        node.text = str(text)
    return node


def _stamp(moment: datetime | None = None) -> str:
    return (moment or utcnow()).strftime("%Y-%m-%dT%H:%M:%SZ")


def _day_time(day: date) -> str:
    return f"{day.isoformat()}T00:00:00Z"


def _agency_el(parent, name: str, partner) -> None:
    node = _el(parent, name)
    kind, value = agency(partner)
    _el(node, "agencyIdType", kind)
    _el(node, "agencyIdValue", value)


def _message(kind: str):
    root = ET.Element(f"{{{NS}}}ISO18626Message")
    return root, _el(root, kind)


def _header(parent, supplier, requester, requesting_id: str, supplying_id: str = "") -> None:
    header = _el(parent, "header")
    _agency_el(header, "supplyingAgencyId", supplier)
    _agency_el(header, "requestingAgencyId", requester)
    _el(header, "multipleItemRequestId", "")
    _el(header, "timestamp", _stamp())
    _el(header, "requestingAgencyRequestId", requesting_id)
    if supplying_id:
        _el(header, "supplyingAgencyRequestId", supplying_id)


_ROOT = f'<ISO18626Message xmlns="{NS}">'


def _text(root) -> str:
    """The message as text: the standard's namespace the default one, and
    its version as ill:version. ElementTree's registry of prefixes is global
    (the SRU server gives "ill" another namespace), so none is relied on."""
    text = ET.tostring(root, encoding="unicode", default_namespace=NS)
    if not text.startswith(_ROOT):
        raise RuntimeError(f"unexpected serialisation: {text[:80]}")
    return f'<ISO18626Message xmlns="{NS}" xmlns:ill="{NS}" ill:version="{VERSION}">' + text[len(_ROOT):]


def build_request(session, req) -> str:
    """The ``request`` for the library now asked: what is wanted and where
    it goes; nothing of the patron."""
    root, msg = _message("request")
    lender, borrower = req.current_lender, req.requester_library
    _header(msg, lender, borrower, str(req.id))
    cite, what = req.citation or {}, req.described()
    bib = _el(msg, "bibliographicInfo")
    own = _lenders_record(session, req)
    if own:
        _el(bib, "supplierUniqueRecordId", own)
    _el(bib, "title", what["title"])
    for name, key in (("author", "author"), ("edition", "edition")):
        if what[key]:
            _el(bib, name, what[key])
    for name, key in (("titleOfComponent", "article_title"), ("volume", "volume"), ("issue", "issue"),
                      ("pagesRequested", "pages")):
        if cite.get(key):
            _el(bib, name, cite[key])
    for code, values in (("ISBN", what["isbns"]), ("ISSN", what["issns"])):
        for value in values[:5]:
            item = _el(bib, "bibliographicItemId")
            _el(item, "bibliographicItemIdentifier", value)
            _el(item, "bibliographicItemIdentifierCode", code)
    if what["publisher"] or what["year"]:
        pub = _el(msg, "publicationInfo")
        if what["publisher"]:
            _el(pub, "publisher", what["publisher"])
        if what["year"]:
            _el(pub, "publicationDate", what["year"])
    service = _el(msg, "serviceInfo")
    _el(service, "requestType", "New")
    _el(service, "serviceType", "Copy" if req.service == "copy" else "Loan")
    if req.needed_by:
        _el(service, "needBeforeDate", _day_time(req.needed_by))
    if req.service == "copy" and req.copyright_ack:
        _el(service, "copyrightCompliance", "UU-28-2014")  # Indonesia's copyright law
    delivery = _el(msg, "requestedDeliveryInfo")
    address = _el(_el(delivery, "address"), "physicalAddress")
    _el(address, "line1", borrower.name)
    lines = [line.strip() for line in (borrower.address or "").splitlines() if line.strip()]
    if lines:
        _el(address, "line2", ", ".join(lines))
    if borrower.region:
        _el(address, "region", borrower.region)
    _el(address, "country", "ID")
    info = _el(msg, "requestingAgencyInfo")
    _el(info, "name", borrower.name)
    if borrower.email:
        _el(_el(_el(info, "address"), "electronicAddress"), "electronicAddressData", borrower.email)
    return _text(root)


def _lenders_record(session, req) -> str:
    """The asked library's own record number (001) for the edition, which its system knows it by."""
    if req.cluster_id is None:
        return ""
    from union_catalog.models import SourceRecord

    return session.scalar(select(SourceRecord.control_number).where(
        SourceRecord.cluster_id == req.cluster_id, SourceRecord.partner_id == req.current_lender_id,
        SourceRecord.withdrawn_at.is_(None), SourceRecord.control_number.is_not(None))
        .order_by(SourceRecord.id).limit(1)) or ""


def build_requesting(req, lender, action: str, note: str = "", supplying_id: str = "") -> str:
    root, msg = _message("requestingAgencyMessage")
    _header(msg, lender, req.requester_library, str(req.id), supplying_id)
    _el(msg, "action", action)
    if note:
        _el(msg, "note", note[:2000])
    return _text(root)


def _confirmation(kind: str, header: dict, status: str, *, reason: str = "", action: str = "",
                  error_type: str = "", error_value: str = "") -> str:
    root, msg = _message(kind)
    head = _el(msg, "confirmationHeader")
    for name in ("supplyingAgencyId", "requestingAgencyId"):
        if header.get(name):
            node = _el(head, name)
            _el(node, "agencyIdType", header[name][0])
            _el(node, "agencyIdValue", header[name][1])
    _el(head, "timestamp", _stamp())
    if header.get("requestingAgencyRequestId"):
        _el(head, "requestingAgencyRequestId", header["requestingAgencyRequestId"])
    _el(head, "timestampReceived", header.get("timestamp") or _stamp())
    _el(head, "messageStatus", status)
    if reason:
        _el(msg, "reasonForMessage", reason)
    if action:
        _el(msg, "action", action)
    if status == "ERROR":
        data = _el(msg, "errorData")
        _el(data, "errorType", error_type)
        _el(data, "errorValue", error_value[:1000])
    return _text(root)


# --- reading messages ---------------------------------------------------------------


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(node, *path: str):
    """The first descendant along path by local names: a sender's namespace
    prefix (or none at all) does not matter."""
    for name in path:
        if node is None:
            return None
        node = next((c for c in node if _local(c.tag) == name), None)
    return node


def _value(node, *path: str) -> str:
    found = _child(node, *path)
    return (found.text or "").strip() if found is not None and found.text else ""


def _agency_of(node, name: str) -> tuple[str, str] | None:
    found = _child(node, name)
    if found is None:
        return None
    return (_value(found, "agencyIdType"), _value(found, "agencyIdValue"))


class BadMessage(Exception):
    def __init__(self, error_type: str, value: str):
        super().__init__(value)
        self.error_type, self.value = error_type, value


def parse(body: bytes | str):
    """(kind, element) of one ISO 18626 message; BadMessage otherwise. No DTD,
    no entities, nothing fetched (defusedxml)."""
    try:
        root = fromstring(body, forbid_dtd=True)
    except DefusedXmlException:
        raise BadMessage("BadlyFormedMessage", "DTDs and entities are not accepted.") from None
    except ET.ParseError as exc:
        raise BadMessage("BadlyFormedMessage", f"not well-formed XML: {exc}") from None
    if _local(root.tag) != "ISO18626Message":
        raise BadMessage("BadlyFormedMessage", f"the root element is {_local(root.tag)}, not ISO18626Message")
    children = list(root)
    if len(children) != 1:
        raise BadMessage("BadlyFormedMessage", "an ISO18626Message holds exactly one message")
    return _local(children[0].tag), children[0]


def read_confirmation(body: bytes | str) -> tuple[str, str]:
    """(messageStatus, error) of the confirmation another system answered."""
    _kind, msg = parse(body)
    status = _value(msg, "confirmationHeader", "messageStatus")
    if status not in ("OK", "ERROR"):
        raise BadMessage("BadlyFormedMessage", "no messageStatus OK or ERROR in the confirmation")
    error = ""
    if status == "ERROR":
        error = ": ".join(v for v in (_value(msg, "errorData", "errorType"),
                                      _value(msg, "errorData", "errorValue")) if v)
    return status, error


# --- what the borrowing side sends --------------------------------------------------


# The borrowing library's actions its lender's system hears of, as the
# requestingAgencyMessage action they become.
BORROWER_ACTIONS = {"received": "Received", "shipped_return": "ShippedReturn", "renew": "Renew"}
# Actions that ask a library (another one, or the first).
NEW_LENDER = ("create", "route", "retry", "unfilled", "no_answer", "lender_closed", "lender_refused",
              "reject_condition")
# Actions after which the request is no longer with the library asked before.
LEAVING = ("no_answer", "lender_closed", "reject_condition", "cancel", "expire")


def _queue(session, req, partner, kind: str, summary: str, body: str) -> Iso18626Message:
    row = Iso18626Message(request_id=req.id, partner_id=partner.id, direction=OUT, kind=kind,
                          summary=summary, body=body, state=PENDING)
    session.add(row)
    outbox.queued(session, PENDING_FLAG)
    return row


def _last_request_to(session, req) -> Iso18626Message | None:
    return session.scalar(select(Iso18626Message).where(
        Iso18626Message.request_id == req.id, Iso18626Message.direction == OUT,
        Iso18626Message.kind == "request").order_by(Iso18626Message.id.desc()).limit(1))


def _finished_with(session, req, partner_id: int, since: int) -> bool:
    """Whether the library's system has already let go of the request (said
    Unfilled, or Cancel went to it) since the request message `since`."""
    rows = session.execute(select(Iso18626Message.direction, Iso18626Message.summary).where(
        Iso18626Message.request_id == req.id, Iso18626Message.partner_id == partner_id,
        Iso18626Message.id > since)).all()
    return any((d == IN and s in ("Unfilled", "RetryPossible")) or (d == OUT and s == "Cancel") for d, s in rows)


def _their_number(session, req, partner_id: int) -> str:
    """The other system's own number for the request, from its latest message that gave one."""
    return session.scalar(select(Iso18626Message.remote_id).where(
        Iso18626Message.request_id == req.id, Iso18626Message.partner_id == partner_id,
        Iso18626Message.direction == IN, Iso18626Message.remote_id != "")
        .order_by(Iso18626Message.id.desc()).limit(1)) or ""


def on_event(session, req, event) -> None:
    """``workflow.after_transition``: what the event means to the other library's system.
    Every step of every request comes here: with no library of the request
    on its own system, it reads nothing (``iso18626_speakers``, once per session)."""
    from agreements.partners import iso18626_speakers

    speakers = iso18626_speakers(session)
    if not speakers:
        return
    if req.requester_library_id in speakers and _made_by_system(session, req):
        _tell_borrower(session, req, event)
        return
    action = event.action
    if action in LEAVING and any(e.partner_id in speakers for e in req.rota if e.asked_on is not None):
        last = _last_request_to(session, req)
        still_with = req.current_lender_id if req.status == "requested" and action not in ("cancel", "expire") \
            else None
        if last is not None and last.partner_id != still_with \
                and not _finished_with(session, req, last.partner_id, last.id):
            from agreements.models import Partner

            partner = session.get(Partner, last.partner_id)
            if speaks(partner):
                _queue(session, req, partner, "requestingAgencyMessage", "Cancel",
                       build_requesting(req, partner, "Cancel", event.note,
                                        _their_number(session, req, partner.id)))
    if req.current_lender_id not in speakers:
        return
    lender = req.current_lender
    if event.to_status == "requested" and action in NEW_LENDER:
        _queue(session, req, lender, "request", "New", build_request(session, req))
        return
    said = ""
    if action in BORROWER_ACTIONS:
        said = BORROWER_ACTIONS[action]
        note = event.note
    elif action == "accept_condition":
        said, note = "Notification", _notification(req, "The condition is accepted", event.note)
    elif action == "report_lost":
        said, note = "Notification", _notification(req, "The book is reported lost", event.note)
    elif action == "message" and (event.data or {}).get("to") == "lender":
        said, note = "Notification", event.note
    if said:
        _queue(session, req, lender, "requestingAgencyMessage", said,
               build_requesting(req, lender, said, note, _their_number(session, req, lender.id)))


def _notification(req, what: str, note: str) -> str:
    # to another system's staff, who may read neither language: English, as the standard's names are
    return f"{what}: {note}" if note else what + "."


# --- what the lender's system sends --------------------------------------------------


# A supplyingAgencyMessage's status and the workflow action it is.
STATUS_ACTIONS = {
    "ExpectToSupply": "expect_to_supply",
    "WillSupply": "will_supply",
    "Loaned": "loaned",
    "Unfilled": "unfilled",
    "RetryPossible": "unfilled",  # this service does not re-ask with changes: the next library is asked
    "LoanCompleted": "checked_in",
    "CompletedWithoutReturn": "settle_lost",
    "Recalled": "recall",
}
# Statuses that change nothing here: the request's own clock already knows.
STATUS_NOTED = ("RequestReceived", "Overdue", "Cancelled")
# ISO 18626's reasonUnfilled (an open list) and this service's reasons.
UNFILLED = {
    "notheld": "not_held", "notfoundascited": "not_held", "onloan": "on_loan",
    "notavailableforill": "not_for_loan", "notforloan": "not_for_loan", "noncirculating": "not_for_loan",
    "damaged": "damaged", "missing": "missing", "lost": "missing", "notonshelf": "missing",
    "policyproblem": "policy", "policy": "policy",
}


@dataclass
class Answer:
    """What ``receive`` answers: the confirmation and its HTTP status."""

    body: str
    status: int = 200


def _day(text: str, field: str) -> str:
    """A dateTime's day as YYYY-MM-DD, for the workflow's parameters."""
    if not text:
        return ""
    try:
        return date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        raise BadMessage("UnrecognisedDataValue", f"{field}: '{text[:40]}' is not a date") from None


def _money(msg, *path: str) -> str:
    """An ISO 18626 amount (monetaryValue and currencyCode) as text."""
    return " ".join(v for v in (_value(msg, *path, "monetaryValue"), _value(msg, *path, "currencyCode")) if v)


def _due(msg) -> str:
    return _day(_value(msg, "statusInfo", "dueDate"), "dueDate")


def _plan(msg) -> tuple[str | None, dict, str]:
    """(workflow action or None, its parameters, summary) of a supplyingAgencyMessage."""
    reason = _value(msg, "messageInfo", "reasonForMessage")
    status = _value(msg, "statusInfo", "status")
    note = _value(msg, "messageInfo", "note")
    params: dict = {"note": note} if note else {}
    if reason == "RenewResponse":
        answer = _value(msg, "messageInfo", "answerYesNo")
        if answer not in ("Y", "N"):
            raise BadMessage("UnrecognisedDataValue", "a RenewResponse needs answerYesNo Y or N")
        params.update(approve=answer == "Y")
        due = _due(msg)
        if due and answer == "Y":
            params["due_date"] = due
        return "renew_answer", params, f"RenewResponse {answer}"
    if reason == "CancelResponse":
        return None, params, "CancelResponse"
    condition = _value(msg, "deliveryInfo", "loanCondition")
    cost = _money(msg, "messageInfo", "offeredCosts")
    if status in ("ExpectToSupply", "WillSupply") and (condition or cost):
        params.update(condition=condition or note or "see the cost", cost=cost[:50])
        return "conditional", params, status
    if reason == "Notification" and status in ("", *STATUS_NOTED, "ExpectToSupply", "WillSupply", "Loaned"):
        if not note:
            return None, params, "Notification"
        return "message", params, "Notification"
    if status == "CopyCompleted":
        raise BadMessage("UnsupportedReasonForMessageType",
                         "CopyCompleted: a copy is delivered as a PDF on the request's page of the network's "
                         "service, which tells the patron; upload it there")
    if status in STATUS_NOTED:
        return None, params, status
    action = STATUS_ACTIONS.get(status)
    if action is None:
        raise BadMessage("UnrecognisedDataValue", f"status: '{status[:40]}' is not an ISO 18626 status")
    if action in ("loaned", "recall") and _due(msg):
        params["due_date"] = _due(msg)
    if action == "loaned":
        for name, path in (("barcode", ("deliveryInfo", "itemId")), ("courier", ("deliveryInfo", "sentVia"))):
            if _value(msg, *path):
                params[name] = _value(msg, *path)[:50 if name == "courier" else 100]
    elif action == "unfilled":
        said = _value(msg, "messageInfo", "reasonUnfilled") or _value(msg, "messageInfo", "reasonRetry")
        params["reason"] = UNFILLED.get(said.replace(" ", "").replace("_", "").lower(), "other")
        if said and params["reason"] == "other":
            params["note"] = f"{said}: {note}" if note else said
    elif action == "settle_lost":
        charge = _money(msg, "deliveryInfo", "deliveryCosts")
        if charge:
            params["charge"] = charge[:100]
    return action, params, status


def receive(session, user, body: bytes) -> Answer:
    """An ISO 18626 message posted by another library's system, as ``user``
    (a librarian of that library): a lender's supplyingAgencyMessage, or a
    borrowing library's request or requestingAgencyMessage. Applied, noted or
    refused, and kept. Leaves the caller to commit."""
    try:
        kind, msg = parse(body)
    except BadMessage as exc:
        return Answer(_confirmation("supplyingAgencyMessageConfirmation", {}, "ERROR",
                                    error_type=exc.error_type, error_value=exc.value))
    header = {
        "supplyingAgencyId": _agency_of(_child(msg, "header"), "supplyingAgencyId"),
        "requestingAgencyId": _agency_of(_child(msg, "header"), "requestingAgencyId"),
        "requestingAgencyRequestId": _value(msg, "header", "requestingAgencyRequestId"),
        "timestamp": _value(msg, "header", "timestamp"),
    }
    if kind not in ("request", "requestingAgencyMessage", "supplyingAgencyMessage"):
        return Answer(_confirmation("supplyingAgencyMessageConfirmation", header, "ERROR",
                                    error_type="BadlyFormedMessage", error_value=f"unknown message {kind}"))
    lending = kind == "supplyingAgencyMessage"
    echo = {"reason": _value(msg, "messageInfo", "reasonForMessage")} if lending else {"action": _value(msg, "action")}

    def refuse(error_type: str, value: str, status: int = 200) -> Answer:
        return Answer(_confirmation(f"{kind}Confirmation", header, "ERROR", error_type=error_type,
                                    error_value=value, **echo), status)

    # who speaks: a librarian of the library the header names on its side
    library = getattr(user, "library", None)
    if getattr(user, "role", None) != "librarian" or library is None:
        return refuse("UnrecognisedDataValue", "the token is not a librarian's of a partner library", 403)
    side = "supplyingAgencyId" if lending else "requestingAgencyId"
    if header[side] is None or not _same_agency(header[side], library):
        kind_, value = agency(library)
        return refuse("UnrecognisedDataValue", f"{side}: the token is {library.code}'s, whose agency id is "
                                               f"{kind_}:{value}")
    if lending:
        return _from_lender(session, user, library, msg, header, body, refuse)
    return _from_borrower(session, user, library, kind, msg, header, body, refuse)


def _from_lender(session, user, library, msg, header: dict, body, refuse) -> Answer:
    """A lender's system's supplyingAgencyMessage about a request it was asked."""
    from .models import LoanRequest

    kind, reason = "supplyingAgencyMessage", _value(msg, "messageInfo", "reasonForMessage")

    number = header["requestingAgencyRequestId"]
    req = session.get(LoanRequest, int(number)) if number.isdigit() and len(number) < 12 else None
    if req is None or req.current_lender_id != library.id and not _asked_before(session, req, library.id):
        return refuse("UnrecognisedDataValue", f"requestingAgencyRequestId: no request {number[:40]} is "
                                               f"with {library.code}")
    if header["requestingAgencyId"] is None or not _same_agency(header["requestingAgencyId"],
                                                                req.requester_library):
        return refuse("UnrecognisedDataValue", "requestingAgencyId: not the library that made this request")
    row = Iso18626Message(request_id=req.id, partner_id=library.id, direction=IN, kind=kind,
                          body=body.decode("utf-8", "replace") if isinstance(body, bytes) else body, state=NOTED,
                          remote_id=_value(msg, "header", "supplyingAgencyRequestId")[:200])
    try:
        action, params, row.summary = _plan(msg)
    except BadMessage as exc:
        row.summary = _value(msg, "statusInfo", "status")[:60] or reason[:60]
        return _refused(session, row, refuse(exc.error_type, exc.value), exc.value)
    if action == "unfilled" and req.current_lender_id != library.id:
        action = None  # it has moved on already (no answer in time): the word changes nothing
    if action is not None and req.current_lender_id != library.id:
        return _refused(session, row, refuse("UnrecognisedDataValue", "the request has moved on to another "
                                                                      "library"), "moved on")
    if action is not None:
        from . import requests_service, workflow

        if workflow.already_done(req.status, action):
            action = None  # said again: the request is there already
        if params.get("barcode") and not _known_copy(session, req, params["barcode"]):
            # its system's item id, which the catalogue's copies (as of the last
            # export) may not know: kept as a word, never a reason to refuse a shipment
            item = params.pop("barcode")
            params["note"] = f"{params.get('note', '')} (item {item})".strip()
        if action is not None:
            try:
                with session.begin_nested():
                    requests_service.fire(session, user, req, action, params, version=req.version)
            except ServiceError as exc:
                return _refused(session, row, refuse("UnrecognisedDataValue", exc.message), exc.message)
            row.state = APPLIED
    answer = Answer(_confirmation("supplyingAgencyMessageConfirmation", header, "OK", reason=reason))
    row.answer = answer.body
    session.add(row)
    return answer


def _known_copy(session, req, barcode: str) -> bool:
    from .requests_service import lender_copies

    return any(item.barcode == barcode for item in
               lender_copies(session, req.current_lender_id, [req.cluster_id]).get(req.cluster_id, []))


def _asked_before(session, req, partner_id: int) -> bool:
    return session.scalar(select(Iso18626Message.id).where(
        Iso18626Message.request_id == req.id, Iso18626Message.partner_id == partner_id,
        Iso18626Message.direction == OUT, Iso18626Message.kind == "request").limit(1)) is not None


def _refused(session, row: Iso18626Message, answer: Answer, why: str) -> Answer:
    row.state, row.error, row.answer = REFUSED, why[:2000], answer.body
    session.add(row)
    return answer


# --- a library on its own system borrowing from the network's libraries ---------------


def _partner_by_agency(session, found: tuple[str, str] | None):
    from sqlalchemy import func

    from agreements.models import Partner

    if found is None or not found[1]:
        return None
    kind, value = found
    candidates = session.scalars(select(Partner).where(or_(
        Partner.code == value.upper(), func.upper(Partner.agency_id) == f"{kind}:{value}".upper()))).all()
    return next((p for p in candidates if _same_agency(found, p)), None)


def _made_by_system(session, req) -> bool:
    """Whether the borrowing library's system made the request (its patrons
    may make theirs here too, which its system knows nothing of)."""
    return session.scalar(select(Iso18626Message.id).where(
        Iso18626Message.request_id == req.id, Iso18626Message.partner_id == req.requester_library_id,
        Iso18626Message.direction == IN, Iso18626Message.kind == "request").limit(1)) is not None


def _request_from(session, library_id: int, their: str) -> int | None:
    """Our request made by a library's `request` numbered `their` in its system."""
    return session.scalar(select(Iso18626Message.request_id).where(
        Iso18626Message.partner_id == library_id, Iso18626Message.direction == IN,
        Iso18626Message.kind == "request", Iso18626Message.remote_id == their,
        Iso18626Message.request_id.is_not(None)).limit(1))


def _take_request(session, user, msg, header) -> object:
    """The loan a borrowing library's system asks of one of the network's libraries."""
    from union_catalog.models import SourceRecord

    from . import openurl, requests_service

    supplier = _partner_by_agency(session, header["supplyingAgencyId"])
    if supplier is None:
        raise BadMessage("UnrecognisedDataValue", "supplyingAgencyId: no library of the network has this agency id")
    if speaks(supplier):
        raise BadMessage("UnrecognisedDataValue", f"supplyingAgencyId: {supplier.code} answers from its own "
                                                  "system: send the request there")
    service = _value(msg, "serviceInfo", "serviceType") or "Loan"
    if service not in ("Loan", "Copy", "CopyOrLoan"):
        raise BadMessage("UnrecognisedDataValue", f"serviceType: '{service[:20]}' is not Loan, Copy or CopyOrLoan")
    if (_value(msg, "serviceInfo", "requestType") or "New") != "New":
        raise BadMessage("UnrecognisedDataValue", "requestType: only New is taken")
    bib = _child(msg, "bibliographicInfo")
    numbers: dict[str, str] = {}
    for item in (c for c in (bib if bib is not None else []) if _local(c.tag) == "bibliographicItemId"):
        code = _value(item, "bibliographicItemIdentifierCode").upper()
        if code in ("ISBN", "ISSN") and code.lower() not in numbers:
            numbers[code.lower()] = _value(item, "bibliographicItemIdentifier")
    year = _value(msg, "publicationInfo", "publicationDate")[:4]
    citation = {"title": _value(bib, "title"), "author": _value(bib, "author"), "edition": _value(bib, "edition"),
                "publisher": _value(msg, "publicationInfo", "publisher"),
                "year": year if year.isdigit() else "", **numbers,
                "article_title": _value(bib, "titleOfComponent"), "pages": _value(bib, "pagesRequested"),
                "volume": _value(bib, "volume"), "issue": _value(bib, "issue")}
    # a part named is a copy; CopyOrLoan without one, a loan
    copy = service == "Copy" or (service == "CopyOrLoan" and bool(citation["article_title"] or citation["pages"]))
    cluster_id = None
    own = _value(bib, "supplierUniqueRecordId")
    if own:
        cluster_id = session.scalar(select(SourceRecord.cluster_id).where(
            SourceRecord.partner_id == supplier.id, SourceRecord.control_number == own[:100],
            SourceRecord.withdrawn_at.is_(None)).limit(1))
    if cluster_id is None:
        found = openurl.record_for(session, numbers.get("isbn", ""), numbers.get("issn", ""))
        cluster_id = found.id if found is not None else None
    needed = _day(_value(msg, "serviceInfo", "needBeforeDate"), "needBeforeDate")
    return requests_service.create_for_library(
        session, user, supplier.code, cluster_id=cluster_id, citation=citation,
        service="copy" if copy else "loan",
        # the library declares for its patron that the copy is within copyright's limits
        copyright_ack=bool(_value(msg, "serviceInfo", "copyrightCompliance")),
        needed_by=date.fromisoformat(needed) if needed else None, note=_value(msg, "serviceInfo", "note"),
        data={"iso18626": header["requestingAgencyRequestId"][:200]})


# What the borrowing library's system says, as the workflow's steps (a
# step the request has already taken is not taken again).
BORROWER_STEPS = {"Received": ("received",), "ShippedReturn": ("returned", "shipped_return"),
                  "Cancel": ("cancel",), "Renew": ("renew",), "Notification": ("message",)}


def _from_borrower(session, user, library, kind: str, msg, header: dict, body, refuse) -> Answer:
    """A borrowing library's system: a `request` of one of the network's
    libraries, or a requestingAgencyMessage about one it made."""
    from . import requests_service, workflow
    from .models import LoanRequest

    said = _value(msg, "action")
    if not speaks(library):
        return refuse("UnrecognisedDataValue", f"{library.code} has no ISO 18626 address here to be answered at: "
                                               "a coordinator gives it on its partner page")
    their = header["requestingAgencyRequestId"][:200]
    if not their:
        return refuse("UnrecognisedDataValue", "requestingAgencyRequestId: the request's number is missing")
    row = Iso18626Message(partner_id=library.id, direction=IN, kind=kind, state=NOTED, remote_id=their,
                          body=body.decode("utf-8", "replace") if isinstance(body, bytes) else body,
                          summary="New" if kind == "request" else said[:60])
    known = _request_from(session, library.id, their)
    if kind == "request":
        if known is None:  # else: the same request again (its confirmation lost): taken once
            try:
                with session.begin_nested():
                    req = _take_request(session, user, msg, header)
            except BadMessage as exc:
                return _refused(session, row, refuse(exc.error_type, exc.value), exc.value)
            except ServiceError as exc:
                return _refused(session, row, refuse("UnrecognisedDataValue", exc.message), exc.message)
            known, row.state = req.id, APPLIED
        row.request_id = known
    else:
        if known is None:
            return _refused(session, row, refuse("UnrecognisedDataValue", f"requestingAgencyRequestId: no request "
                                                 f"{their[:40]} from {library.code}"), "unknown request")
        req = session.get(LoanRequest, known)
        row.request_id = req.id
        note = _value(msg, "note")
        if said == "StatusRequest":
            _status_answer(session, req)
        elif said not in BORROWER_STEPS:
            return _refused(session, row, refuse("UnsupportedActionType", f"action: '{said[:40]}' is not taken"),
                            "unsupported action")
        else:
            steps = [step for step in BORROWER_STEPS[said] if not workflow.already_done(req.status, step)]
            if said == "Notification" and not note:
                steps = []
            try:
                with session.begin_nested():
                    for step in steps:
                        params = {"note": note} if note else {}
                        if step == "message":
                            params["to"] = "lender"
                        requests_service.fire(session, user, req, step, params, version=req.version)
            except ServiceError as exc:
                return _refused(session, row, refuse("UnrecognisedDataValue", exc.message), exc.message)
            if steps:
                row.state = APPLIED
    answer = Answer(_confirmation(f"{kind}Confirmation", header, "OK", action=said))
    row.answer = answer.body
    session.add(row)
    return answer


# The lender's actions here and the status its supplyingAgencyMessage gives.
LENDER_STATUS = {"expect_to_supply": "ExpectToSupply", "will_supply": "WillSupply", "loaned": "Loaned",
                 "checked_in": "LoanCompleted", "recall": "Recalled", "settle_lost": "CompletedWithoutReturn"}
# This service's reasons for not supplying, as ISO 18626's reasonUnfilled.
REASONS_OUT = {"not_held": "NotHeld", "on_loan": "OnLoan", "not_for_loan": "NotAvailableForILL",
               "damaged": "Damaged", "missing": "Missing", "policy": "PolicyProblem", "other": "Other"}
# A request's status here, as the status a StatusRequest is answered with.
ISO_STATUS = {"new": "RequestReceived", "requested": "RequestReceived", "expect_to_supply": "ExpectToSupply",
              "will_supply": "WillSupply", "conditional": "ExpectToSupply", "overdue": "Overdue",
              "completed": "LoanCompleted", "completed_without_return": "CompletedWithoutReturn",
              "unfilled": "Unfilled", "cancelled": "Cancelled"}


def _asked_library(req):
    """The network's library the request was made of (it stays named when it could not supply)."""
    if req.current_lender is not None:
        return req.current_lender
    asked = [e for e in req.rota if e.asked_on is not None]
    return max(asked, key=lambda e: (e.round, e.asked_on, e.id)).partner if asked else None


def build_supplying(req, supplier, their: str, reason: str, status: str, *, answer: str = "", note: str = "",
                    unfilled: str = "", condition: str = "", due: date | None = None, shipped: bool = False,
                    copy_url: str = "") -> str:
    root, msg = _message("supplyingAgencyMessage")
    _header(msg, supplier, req.requester_library, their, str(req.id))
    info = _el(msg, "messageInfo")
    _el(info, "reasonForMessage", reason)
    if answer:
        _el(info, "answerYesNo", answer)
    if note:
        _el(info, "note", note[:2000])
    if unfilled:
        _el(info, "reasonUnfilled", unfilled)
    state = _el(msg, "statusInfo")
    _el(state, "status", status)
    if due:
        _el(state, "dueDate", _day_time(due))
    _el(state, "lastChange", _stamp())
    if shipped or condition or copy_url:
        delivery = _el(msg, "deliveryInfo")
        if shipped or copy_url:
            _el(delivery, "dateSent", _stamp())
        if copy_url:  # the borrowing library's staff download it with their token
            _el(delivery, "itemId", copy_url)
            _el(delivery, "sentVia", "URL")
        elif shipped:
            if req.item_barcode:
                _el(delivery, "itemId", req.item_barcode)
            if req.shipped_via:
                _el(delivery, "sentVia", req.shipped_via)
        if condition:
            _el(delivery, "loanCondition", condition[:200])
        if copy_url:
            _el(delivery, "deliveredFormat", "PDF")
    return _text(root)


def _tell_borrower(session, req, event) -> None:
    """A lender's answer here, to the borrowing library's system."""
    action, data = event.action, event.data or {}
    supplier = _asked_library(req)
    if supplier is None or action in ("create", "route", "reject_condition", "staff_note"):
        return
    args: dict = {}
    if action == "cancel":
        reason, status, args = "CancelResponse", "Cancelled", {"answer": "Y"}
    elif event.to_status == "unfilled" or action == "expire":
        why = {"no_answer": "no answer in time", "lender_closed": "the library is closed",
               "expire": "not supplied by the day needed"}.get(action, "")
        reason, status = "StatusChange", "Unfilled"
        args = {"unfilled": REASONS_OUT.get(data.get("reason"), "Other"),
                "note": "; ".join(v for v in (why, event.note) if v)}
    elif action == "copy_completed":
        from .notify import site_url

        reason, status = "StatusChange", "CopyCompleted"
        args = {"note": event.note, "copy_url": site_url("delivery_api.api_copy", request_id=req.id)}
    elif action in LENDER_STATUS:
        reason, status = "StatusChange", LENDER_STATUS[action]
        args = {"note": event.note, "due": req.due_date if action in ("loaned", "recall") else None,
                "shipped": action == "loaned"}
    elif action == "conditional":
        reason, status = "Notification", "ExpectToSupply"
        cost = f" (cost {req.cost})" if req.cost else ""
        args = {"condition": req.condition, "note": f"{req.condition}{cost}"}
    elif action == "renew_answer":
        reason, status = "RenewResponse", "Loaned"
        args = {"answer": "Y" if data.get("approve") else "N", "due": req.due_date, "note": event.note}
    elif action == "message" and data.get("to") == "borrowing_library":
        reason, status, args = "Notification", ISO_STATUS.get(req.status, "Loaned"), {"note": event.note}
    else:
        return  # the borrowing library's own doing (received, shipped back ...): its system knows
    _queue(session, req, req.requester_library, "supplyingAgencyMessage", status if reason == "StatusChange"
           else reason, build_supplying(req, supplier, _their_number(session, req, req.requester_library_id),
                                        reason, status, **args))


def _status_answer(session, req) -> None:
    supplier = _asked_library(req)
    if supplier is not None:
        status = ISO_STATUS.get(req.status, "Loaned")
        _queue(session, req, req.requester_library, "supplyingAgencyMessage", "StatusRequestResponse",
               build_supplying(req, supplier, _their_number(session, req, req.requester_library_id),
                               "StatusRequestResponse", status, due=req.due_date))


# --- sending -----------------------------------------------------------------------


class SendError(Exception):
    pass


def _post(url: str, body: str, timeout: float) -> bytes:
    import requests

    try:
        response = requests.post(url, data=body.encode("utf-8"), timeout=timeout,
                                 headers={"Content-Type": "application/xml; charset=utf-8"})
    except requests.RequestException as exc:
        raise SendError(f"not reached: {exc.__class__.__name__}: {exc}") from None
    if response.status_code >= 300:
        raise SendError(f"answered HTTP {response.status_code}")
    return response.content


def backoff(attempts: int) -> timedelta:
    from .notify import backoff as mail_backoff

    return mail_backoff(attempts)


@dataclass
class _Tally:
    sent: int = 0
    refused: int = 0
    failed: int = 0
    passed_on: int = 0
    errors: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        errors = "; ".join(self.errors[:3])
        out = []
        if self.sent:
            out.append(f"{self.sent} message(s) sent")
        if self.refused:
            out.append(f"{self.refused} message(s) refused by the other system: {errors}")
        if self.failed:
            out.append(f"{self.failed} message(s) not sent, will retry: {errors}")
        if self.passed_on:
            out.append(f"{self.passed_on} request(s) passed on from a library whose system refused them")
        return out


def flush(now: datetime | None = None, limit: int = 200) -> list[str]:
    """``_flush``, said in lines (the tick's and the sender after a commit)."""
    return _flush(now, limit).lines()


def _flush(now: datetime | None = None, limit: int = 200) -> _Tally:
    """Post the messages that are due, oldest first, in order for each request
    and library: a message waits while an earlier one of its request to the
    same library has not gone (another library's system being down holds
    nothing up). A ``request`` its system refuses passes the request on to
    the next library at once (``lender_refused``): that library will not
    answer. Its own session, a commit per message: it runs after the
    caller's commit."""
    now = now or utcnow()
    tally = _Tally()
    with Session(db.engine, expire_on_commit=False) as s:
        for _round in range(3):  # a request passed on may have a message for its next library
            if not _flush_round(s, now, limit, tally):
                break
    if tally.passed_on:
        from .notify import flush_outbox

        flush_outbox()  # what the passing on told people
    return tally


def _flush_round(s, now: datetime, limit: int, tally: _Tally) -> int:
    """One pass over the due messages; how many requests it passed on."""
    from agreements.models import Partner

    timeout = float(current_app.config["ISO18626_TIMEOUT"])
    passed_on = 0
    due = s.execute(select(Iso18626Message.id, Iso18626Message.request_id, Iso18626Message.partner_id).where(
        Iso18626Message.direction == OUT, Iso18626Message.state == PENDING)
        .order_by(Iso18626Message.id).limit(limit)).all()
    s.commit()
    held: set[tuple] = set()  # (request, library) with a message that did not go: the later ones wait
    unreachable: set[int] = set()  # libraries not reached in this run
    for message_id, request_id, partner_id in due:
        key = (request_id, partner_id)
        if key in held:
            continue
        row = s.get(Iso18626Message, message_id)
        if (row.next_attempt_at and as_utc(row.next_attempt_at) > now) or row.partner_id in unreachable:
            held.add(key)
            continue
        claimed = s.execute(update(Iso18626Message).where(
            Iso18626Message.id == message_id, Iso18626Message.state == PENDING,
            or_(Iso18626Message.claimed_until.is_(None), Iso18626Message.claimed_until < now))
            .values(claimed_until=now + timedelta(minutes=10), attempts=Iso18626Message.attempts + 1)).rowcount
        s.commit()
        if not claimed:
            held.add(key)
            continue
        s.refresh(row)
        partner = s.get(Partner, row.partner_id)
        try:
            if not partner.iso18626_url:
                raise SendError(f"{partner.code} has no ISO 18626 address any more")
            answer = _post(partner.iso18626_url, row.body, timeout)
            status, error = read_confirmation(answer)
        except (SendError, BadMessage) as exc:
            why = str(exc) if isinstance(exc, SendError) else f"the answer is not a confirmation: {exc}"
            row.error, row.claimed_until = why[:2000], None
            row.next_attempt_at = now + backoff(row.attempts)
            s.commit()
            tally.failed += 1
            tally.errors.append(f"{partner.code}: {why}")
            held.add(key)
            unreachable.add(row.partner_id)
            log.warning("ISO 18626 message %s to %s not sent: %s", row.id, partner.code, why)
            continue
        row.answer = answer.decode("utf-8", "replace")[:20000]
        row.state, row.error = (SENT, "") if status == "OK" else (REFUSED, error[:2000])
        row.sent_at, row.claimed_until, row.next_attempt_at = utcnow(), None, None
        s.commit()
        if status == "OK":
            tally.sent += 1
            continue
        tally.refused += 1
        tally.errors.append(f"{partner.code} refused message {row.id}: {error}")
        if row.kind == "request" and _pass_on(s, row):
            passed_on += 1
    tally.passed_on += passed_on
    return passed_on


def _pass_on(s, row: Iso18626Message) -> bool:
    """The request its lender's system refused goes to the next library (or
    becomes unfilled), as the tick would do once it had not answered."""
    from . import requests_service, workflow
    from .models import LoanRequest

    req = s.get(LoanRequest, row.request_id)
    if req is None or req.status != "requested" or req.current_lender_id != row.partner_id:
        return False  # it has moved on already
    try:
        requests_service.fire(s, None, req, "lender_refused", {"note": row.error[:500]},
                              roles=frozenset({workflow.SYSTEM}))
        s.commit()
    except ServiceError:
        s.rollback()
        return False
    return True


def tick(session, day: date) -> list[str]:
    return flush()


def messages_of(session, request_id: int) -> list[Iso18626Message]:
    return list(session.scalars(select(Iso18626Message).where(Iso18626Message.request_id == request_id)
                                .order_by(Iso18626Message.id)))


def to_dict(m: Iso18626Message) -> dict:
    return {"at": m.created_at.isoformat() if m.created_at else None, "library": m.partner.code,
            "direction": m.direction, "kind": m.kind, "summary": m.summary, "state": m.state,
            "error": m.error or None, "attempts": m.attempts,
            "sent_at": m.sent_at.isoformat() if m.sent_at else None}


def waiting(session, limit: int = 200) -> list[Iso18626Message]:
    return list(session.scalars(select(Iso18626Message).where(
        Iso18626Message.direction == OUT, Iso18626Message.state == PENDING)
        .order_by(Iso18626Message.id).limit(limit)))


def _cli(app) -> None:

    import click
    from flask.cli import AppGroup

    group = AppGroup("iso18626", help="ISO 18626 messages to other libraries' systems: what waits to go.")

    @group.command("flush")
    @click.option("--all", "everything", is_flag=True, help="Try now even messages whose next attempt is later.")
    def flush_command(everything):
        """Post the messages that are due (the tick does this too)."""
        if everything:
            db.session.execute(update(Iso18626Message).where(
                Iso18626Message.direction == OUT, Iso18626Message.state == PENDING).values(next_attempt_at=None))
            db.session.commit()
        tally = _flush()
        for line in tally.lines() or ["nothing to send"]:
            click.echo(line)
        if tally.failed:
            raise SystemExit(1)

    @group.command("queue")
    @click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
    def queue_command(fmt):
        """List the messages not delivered yet, with their attempts and last error."""
        rows = [{"id": m.id, "request_id": m.request_id, "library": m.partner.code, "kind": m.kind,
                 "summary": m.summary, "attempts": m.attempts, "error": m.error,
                 "next_attempt_at": as_utc(m.next_attempt_at).isoformat() if m.next_attempt_at else None}
                for m in waiting(db.session)]
        outbox.echo_queue(rows, fmt, lambda r: f"{r['id']:>6} #{r['request_id']:<6} {r['library']:<10} "
                                               f"{r['kind']}:{r['summary']} {r['attempts']:>2}"
                                               + (f"  [{r['error']}]" if r["error"] else ""), "no message waiting")

    app.cli.add_command(group)


_listening = False


def init_app(app) -> None:
    global _listening
    if not _listening:
        outbox.send_after_commit(PENDING_FLAG, "ISO18626_SEND_ON_COMMIT", flush, "ISO 18626 messages")
        _listening = True
    _cli(app)
    from . import workflow

    if on_event not in workflow.after_transition:
        workflow.after_transition.append(on_event)
