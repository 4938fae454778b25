"""Tables of the loan workflow: requests, their rota, their history."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from . import clock
from .accounts import utcnow
from .extensions import db
from .workflow import TERMINAL as TERMINAL_STATES

# States in which a request waits on its current lender: its "load".
OPEN_LENDER_STATES = ("requested", "expect_to_supply", "will_supply", "conditional")


class LoanRequest(db.Model):
    """A patron's request for a loan or a copy, and where it stands."""

    __tablename__ = "loan_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    patron_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    requester_library_id: Mapped[int] = mapped_column(ForeignKey("partners.id"), index=True)
    current_lender_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id"), index=True)
    # The union record asked for; None for a citation request not (yet) matched.
    cluster_id: Mapped[int | None] = mapped_column(ForeignKey("clusters.id"), index=True)
    service: Mapped[str] = mapped_column(String(10))  # loan | copy
    status: Mapped[str] = mapped_column(String(30), index=True)
    # title, author for a citation request; article_title, pages, volume, issue, year for a copy.
    citation: Mapped[dict] = mapped_column(JSON, default=dict)
    copyright_ack: Mapped[bool] = mapped_column(default=False)
    needed_by: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    due_date: Mapped[date | None] = mapped_column(Date)
    # The current lender must answer by this day, else the tick moves on.
    answer_due: Mapped[date | None] = mapped_column(Date)
    condition: Mapped[str] = mapped_column(Text, default="")
    cost: Mapped[str] = mapped_column(String(50), default="")
    renewal_due: Mapped[date | None] = mapped_column(Date)  # a renewal asked, not yet answered
    renewals: Mapped[int] = mapped_column(Integer, default=0)
    recalled_on: Mapped[date | None] = mapped_column(Date)
    # A loaned book reported lost: since when, and what the lender asked in
    # settlement (a replacement copy, an amount; empty for nothing).
    lost_on: Mapped[date | None] = mapped_column(Date)
    charge: Mapped[str] = mapped_column(String(100), default="")
    # The lender's copy that was sent, when it named it: the union catalogue
    # lists that copy on loan while it is away (workflow._copy_now).
    item_barcode: Mapped[str] = mapped_column(String(100), default="")
    # The parcel: the courier (JNE, Pos Indonesia, ...) and its tracking number
    # (resi), as the lender shipped the loan and as the borrower shipped it back.
    shipped_via: Mapped[str] = mapped_column(String(50), default="", server_default="")
    tracking_number: Mapped[str] = mapped_column(String(100), default="", server_default="")
    returned_via: Mapped[str] = mapped_column(String(50), default="", server_default="")
    return_tracking: Mapped[str] = mapped_column(String(100), default="", server_default="")
    # What the lender may charge for the loan: the agreement's cost per loan
    # on the day it shipped (None: nothing agreed).
    loan_cost: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    round: Mapped[int] = mapped_column(Integer, default=0)  # routing rounds (retries)
    close_reason: Mapped[str] = mapped_column(Text, default="")
    created_on: Mapped[date] = mapped_column(Date, default=clock.today, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}

    patron = relationship("User", foreign_keys=[patron_id])
    requester_library = relationship("Partner", foreign_keys=[requester_library_id])
    current_lender = relationship("Partner", foreign_keys=[current_lender_id])
    cluster = relationship("Cluster")
    rota: Mapped[list[RotaEntry]] = relationship(
        back_populates="request",
        cascade="all, delete-orphan",
        order_by="(RotaEntry.round, RotaEntry.rank.is_(None), RotaEntry.rank, RotaEntry.id)",
    )
    events: Mapped[list[RequestEvent]] = relationship(
        back_populates="request", cascade="all, delete-orphan", order_by="RequestEvent.id"
    )

    @property
    def title(self) -> str:
        if self.cluster is not None and self.cluster.title:
            return self.cluster.title
        return (self.citation or {}).get("title") or ""

    def described(self) -> dict:
        """What is asked: the union record's description where there is one,
        else the citation's (title, author, edition, publisher); the year the
        citation gives first (a copy's part is of its own year), else the
        record's; the record's ISBNs and ISSNs with the citation's."""
        cite, cluster = self.citation or {}, self.cluster

        def pick(name: str) -> str:
            return (getattr(cluster, name, None) if cluster is not None else None) or cite.get(name) or ""

        isbns = list(cluster.isbns or []) if cluster is not None else []
        issns = list(cluster.issns or []) if cluster is not None else []
        isbns += [cite["isbn"]] if cite.get("isbn") and cite["isbn"] not in isbns else []
        issns += [cite["issn"]] if cite.get("issn") and cite["issn"] not in issns else []
        return {"title": self.title, "author": pick("author"), "edition": pick("edition"),
                "publisher": pick("publisher"),
                "year": cite.get("year") or (cluster.year if cluster is not None and cluster.year else ""),
                "isbns": isbns, "issns": issns}

    @property
    def is_open(self) -> bool:
        return self.status not in TERMINAL_STATES

    def current_entry(self) -> RotaEntry | None:
        for entry in self.rota:
            if entry.round == self.round and entry.outcome == "asked":
                return entry
        return None

    def __repr__(self) -> str:
        return f"<LoanRequest {self.id} {self.service} {self.status}>"


class RotaEntry(db.Model):
    """One library in a request's rota (rank 1..5), or left out of it (rank
    None), with the reason and, once asked, what came of it."""

    __tablename__ = "rota_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("loan_requests.id", ondelete="CASCADE"), index=True)
    round: Mapped[int] = mapped_column(Integer, default=1)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"), index=True)
    rank: Mapped[int | None] = mapped_column(Integer)
    reason_code: Mapped[str] = mapped_column(String(40))
    reason_args: Mapped[dict] = mapped_column(JSON, default=dict)
    # waiting, asked, supplied, unfilled, no_answer, condition_rejected, cancelled,
    # not_asked (a later round replaced it), excluded, closed (passed on by the
    # tick), refused (by its own system), passed_over (not askable as its turn
    # came: outcome_detail the reason's code, its args in reason_args["passed_over"])
    outcome: Mapped[str] = mapped_column(String(30), default="waiting")
    outcome_detail: Mapped[str] = mapped_column(Text, default="")
    asked_on: Mapped[date | None] = mapped_column(Date)
    answer_due: Mapped[date | None] = mapped_column(Date)
    answered_on: Mapped[date | None] = mapped_column(Date)

    request: Mapped[LoanRequest] = relationship(back_populates="rota")
    partner = relationship("Partner")


class RequestEvent(db.Model):
    """One transition of a request: who, when, from, to, and why."""

    __tablename__ = "request_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("loan_requests.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_label: Mapped[str] = mapped_column(String(200), default="")  # "system" for the tick
    action: Mapped[str] = mapped_column(String(30))
    from_status: Mapped[str | None] = mapped_column(String(30))
    to_status: Mapped[str] = mapped_column(String(30))
    note: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict] = mapped_column(JSON, default=dict)

    request: Mapped[LoanRequest] = relationship(back_populates="events")
    actor = relationship("User")


class RequestFeedback(db.Model):
    """What a patron says of the service on one request: 1 (poor) to 5 (excellent)."""

    __tablename__ = "request_feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("loan_requests.id", ondelete="CASCADE"), unique=True)
    patron_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    rating: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class PatronSuspension(db.Model):
    """A borrowing library stops one of its patrons from making requests until
    a day (a lost book not yet settled, loans kept long overdue), with why;
    lifting it early is recorded, so the history stays."""

    __tablename__ = "patron_suspensions"

    id: Mapped[int] = mapped_column(primary_key=True)
    patron_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    until: Mapped[date] = mapped_column(Date)  # the last day suspended
    reason: Mapped[str] = mapped_column(String(255), default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    lifted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    lifted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    patron = relationship("User", foreign_keys=[patron_id])
    creator = relationship("User", foreign_keys=[created_by])
