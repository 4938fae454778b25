"""Partners and agreements."""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, DateTime, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ill.accounts import utcnow
from ill.extensions import db


class LibrarySystem(enum.StrEnum):
    KOHA = "koha"
    SLIMS = "slims"
    INLISLITE = "inlislite"
    OTHER = "other"


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
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    def lending_paused(self, day: date) -> bool:
        return self.lending_paused_until is not None and day <= self.lending_paused_until

    def lending_status(self, day: date) -> str:
        return "paused" if self.lending_paused(day) else "lending"

    def __repr__(self) -> str:
        return f"<Partner {self.code}>"
