"""Partners and agreements."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ill.accounts import utcnow
from ill.extensions import db


class LibrarySystem(enum.StrEnum):
    KOHA = "koha"
    SLIMS = "slims"
    INLISLITE = "inlislite"
    OTHER = "other"


def lending_paused_on(paused_until: date | None, day: date) -> bool:
    """A library that paused its lending until a day lends again the day after."""
    return paused_until is not None and day <= paused_until


class Partner(db.Model):
    __tablename__ = "partners"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    address: Mapped[str] = mapped_column(Text, default="")
    region: Mapped[str] = mapped_column(String(100), default="")
    contacts: Mapped[str] = mapped_column(Text, default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    system: Mapped[str] = mapped_column(String(20), default=LibrarySystem.OTHER.value)
    # Where its exports keep items: "auto" (detected), "952", "852", "949", "none".
    holdings_tag: Mapped[str] = mapped_column(String(10), default="auto")
    lending_paused_until: Mapped[date | None] = mapped_column(Date)
    pause_reason: Mapped[str] = mapped_column(String(255), default="")
    # The borrowing library reviews every patron request before it is sent.
    review_requests: Mapped[bool] = mapped_column(default=False)
    # How many open requests each of its patrons may have at once; None: no limit.
    max_open_requests: Mapped[int | None] = mapped_column(Integer)
    # How many days a book received for a patron waits for them; None: LOANS_PICKUP_DAYS.
    pickup_days: Mapped[int | None] = mapped_column(Integer)
    # Its patrons with a loan past its due date, or a book reported lost and
    # not settled, may make no new request until it is back (patrons.check_may_request).
    block_overdue_patrons: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The days of the week it is closed, as ISO weekday digits ("7": Sundays;
    # "67": weekends); empty: open every day but its closed days (calendar.py).
    closed_weekdays: Mapped[str] = mapped_column(String(7), default="", server_default="")
    # What it lends and how, in its own words, for the libraries that borrow
    # ("reference books and theses: copies only; loans 14 days; sent by JNE").
    lending_policy: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Its lending rules, which routing applies (ill.routing.rules_judgement):
    # the forms it lends only as copies (format codes, comma-separated:
    # "serial,thesis"), editions of the last N years it does not lend, the
    # most pages it copies for one request, the most requests that may wait
    # on its answer at once, and no new loan to a library keeping one of its
    # books this many days or more past its due date. Empty: no such rule.
    no_loan_formats: Mapped[str] = mapped_column(String(100), default="", server_default="")
    no_loan_recent_years: Mapped[int | None] = mapped_column(Integer)
    copy_max_pages: Mapped[int | None] = mapped_column(Integer)
    max_requests_waiting: Mapped[int | None] = mapped_column(Integer)
    late_borrower_days: Mapped[int | None] = mapped_column(Integer)
    # Its ISO 18626 agency id, TYPE:VALUE ("ISIL:ID-JKPN"); empty: LOCAL:<code>.
    agency_id: Mapped[str] = mapped_column(String(100), default="", server_default="")
    # A library whose own system answers requests over ISO 18626: where its
    # messages go (ill/iso18626.py). Empty: its librarians answer here.
    iso18626_url: Mapped[str] = mapped_column(String(500), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    def lending_paused(self, day: date) -> bool:
        return lending_paused_on(self.lending_paused_until, day)

    def lending_status(self, day: date) -> str:
        return "paused" if self.lending_paused(day) else "lending"

    def __repr__(self) -> str:
        return f"<Partner {self.code}>"


class AgreementState(enum.StrEnum):
    """What people decided; the dates decide the rest (see status.py)."""

    DRAFT = "draft"
    SIGNED = "signed"


class Service(enum.StrEnum):
    LOAN = "loan"
    COPY = "copy"


# The forms of cooperation an MoU between libraries usually covers.
COOPERATION_FORMS = (
    "shared_acquisition",
    "exchange_redistribution",
    "shared_processing",
    "shared_facilities",
    "interlibrary_loan",
    "librarian_cooperation",
    "union_catalogue",
    "information_services",
)


class Agreement(db.Model):
    """A cooperation agreement (MoU) between two libraries (bilateral) or more (network)."""

    __tablename__ = "agreements"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(255), default="")
    number: Mapped[str] = mapped_column(String(100), default="")
    background: Mapped[str] = mapped_column(Text, default="")
    purpose: Mapped[str] = mapped_column(Text, default="")
    scope_forms: Mapped[list] = mapped_column(JSON, default=list)
    scope_text: Mapped[str] = mapped_column(Text, default="")
    relationship_text: Mapped[str] = mapped_column(Text, default="")
    rights_obligations: Mapped[str] = mapped_column(Text, default="")
    division_of_work: Mapped[str] = mapped_column(Text, default="")
    costs: Mapped[str] = mapped_column(Text, default="")
    procedures: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(10), default=AgreementState.SIGNED.value)
    start_date: Mapped[date | None] = mapped_column(Date)
    duration_months: Mapped[int | None] = mapped_column(Integer)
    # Always the effective end: given, or start + duration. None: unknown.
    end_date: Mapped[date | None] = mapped_column(Date, index=True)
    warning_days: Mapped[int | None] = mapped_column(Integer)
    terminated_on: Mapped[date | None] = mapped_column(Date)
    termination_reason: Mapped[str] = mapped_column(Text, default="")
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("agreements.id"), index=True)
    document_path: Mapped[str | None] = mapped_column(String(255))
    document_name: Mapped[str | None] = mapped_column(String(255))
    document_size: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(255), default="")  # e.g. "import kerjasama.csv row 3"
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    # Two coordinators editing one agreement: the second save is refused, not lost.
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}

    parties: Mapped[list[AgreementParty]] = relationship(
        back_populates="agreement", cascade="all, delete-orphan", order_by="AgreementParty.id"
    )
    services: Mapped[list[AgreementService]] = relationship(
        back_populates="agreement",
        cascade="all, delete-orphan",
        order_by="AgreementService.service",
    )
    supersedes: Mapped[Agreement | None] = relationship(remote_side=[id], foreign_keys=[supersedes_id])

    @property
    def partners(self) -> list[Partner]:
        return [p.partner for p in self.parties]

    @property
    def kind(self) -> str:
        return "network" if len(self.parties) > 2 else "bilateral"

    def service(self, name: str) -> AgreementService | None:
        return next((s for s in self.services if s.service == name), None)

    def __repr__(self) -> str:
        return f"<Agreement {self.id} {self.title!r}>"


class AgreementParty(db.Model):
    __tablename__ = "agreement_parties"
    __table_args__ = (UniqueConstraint("agreement_id", "partner_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id", ondelete="CASCADE"), index=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"), index=True)

    agreement: Mapped[Agreement] = relationship(back_populates="parties")
    partner: Mapped[Partner] = relationship()


class AgreementService(db.Model):
    """A service requests may be routed under, with its terms."""

    __tablename__ = "agreement_services"
    __table_args__ = (UniqueConstraint("agreement_id", "service"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id", ondelete="CASCADE"), index=True)
    service: Mapped[str] = mapped_column(String(10))
    loan_period_days: Mapped[int | None] = mapped_column(Integer)
    renewals_allowed: Mapped[int] = mapped_column(Integer, default=0)
    response_days: Mapped[int | None] = mapped_column(Integer)
    cost_per_loan: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    cost_per_page: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))

    agreement: Mapped[Agreement] = relationship(back_populates="services")


class AgreementChange(db.Model):
    """Who changed what and when: before and after of each changed field."""

    __tablename__ = "agreement_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor: Mapped[str] = mapped_column(String(254), default="")  # e-mail or "cli"
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    action: Mapped[str] = mapped_column(String(30))  # created updated renewed terminated document imported
    changes: Mapped[dict] = mapped_column(JSON, default=dict)  # field -> [before, after]
    note: Mapped[str] = mapped_column(Text, default="")

    agreement: Mapped[Agreement] = relationship()


class AgreementAlert(db.Model):
    """An alert sent, so that the tick sends each one once. Keyed by the end
    date it was about: an extended agreement earns fresh alerts."""

    __tablename__ = "agreement_alerts"
    __table_args__ = (UniqueConstraint("agreement_id", "kind", "end_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    end_date: Mapped[date] = mapped_column(Date)
    sent_on: Mapped[date] = mapped_column(Date)
    recipients: Mapped[int] = mapped_column(Integer, default=0)


class PartnerChange(db.Model):
    """Who changed what about a partner and when (before/after per field)."""

    __tablename__ = "partner_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor: Mapped[str] = mapped_column(String(254), default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    changes: Mapped[dict] = mapped_column(JSON, default=dict)


class ClosedDay(db.Model):
    """A day a library is closed (a semester break, stocktaking), or, with no
    library, the whole network (a public holiday, cuti bersama). The rules
    that read them are in calendar.py."""

    __tablename__ = "closed_days"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    reason: Mapped[str] = mapped_column(String(200), default="")
    actor: Mapped[str] = mapped_column(String(254), default="")  # who added it: e-mail or "cli"
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    partner: Mapped[Partner | None] = relationship()
