"""Tables of document delivery: the copy a lender sent, who downloaded it, and
the copyright declaration the patron made when asking."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, DateTime, ForeignKey, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .accounts import utcnow
from .extensions import db


class DeliveredCopy(db.Model):
    """The scan that answered a copy request. The file lives under
    DATA_DIR/deliveries with a generated name; the row stays after the file is
    deleted, to say when and why."""

    __tablename__ = "delivered_copies"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("loan_requests.id", ondelete="CASCADE"), unique=True)
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    original_name: Mapped[str] = mapped_column(String(255), default="")
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    pages: Mapped[int] = mapped_column(Integer)
    cost_per_page: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    cost: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Access ends after this day (inclusive) or after max_downloads downloads.
    available_until: Mapped[date] = mapped_column(Date, index=True)
    max_downloads: Mapped[int] = mapped_column(Integer)
    downloads: Mapped[int] = mapped_column(Integer, default=0)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deleted_reason: Mapped[str] = mapped_column(String(20), default="")  # expired | download_limit

    request = relationship("LoanRequest")
    uploaded_by = relationship("User")

    @property
    def available(self) -> bool:
        return self.deleted_at is None

    @property
    def downloads_left(self) -> int:
        return max(self.max_downloads - self.downloads, 0)


class CopyDownload(db.Model):
    """One download of a delivered copy: who and when."""

    __tablename__ = "copy_downloads"

    id: Mapped[int] = mapped_column(primary_key=True)
    copy_id: Mapped[int] = mapped_column(ForeignKey("delivered_copies.id", ondelete="CASCADE"),
                                         index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    address: Mapped[str] = mapped_column(String(64), default="")

    user = relationship("User")


class CopyrightDeclaration(db.Model):
    """The declaration a patron made when asking for a copy, word for word in
    the language they saw it, kept with the request and shown to the lender."""

    __tablename__ = "copyright_declarations"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("loan_requests.id", ondelete="CASCADE"), unique=True)
    patron_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    locale: Mapped[str] = mapped_column(String(10))
    declared_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    patron = relationship("User")
