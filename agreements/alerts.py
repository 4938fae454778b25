"""The daily tick's agreement step: tell the coordinators when an agreement
enters its warning window and when it has expired, once each.

``AgreementAlert`` records what was sent, keyed by agreement, kind and the end
date it was about, so running the tick twice sends nothing twice, while an
agreement whose end is moved later earns fresh alerts.

- ``agreement_expiring`` goes out on any day the agreement is ``expiring``
  (so a tick missed on the first day of the window catches up the next day),
  unless a renewal superseding it exists already.
- ``agreement_expired`` goes out on a day it is ``expired`` and ended at most
  ``EXPIRED_CATCH_UP_DAYS`` days before: agreements that lapsed long ago (an
  imported spreadsheet's) are history, not news.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from . import status as st
from .models import Agreement, AgreementAlert, AgreementParty, AgreementState
from .queries import status_of

EXPIRING, EXPIRED = "agreement_expiring", "agreement_expired"
EXPIRED_CATCH_UP_DAYS = 30


def due_alerts(
    candidates: list[tuple[int, str, date, bool]], sent: set[tuple[int, str, date]], day: date
) -> list[tuple[int, str, date]]:
    """Which alerts to send: ``candidates`` are (agreement id, status on
    ``day``, end date, has a successor); ``sent`` what went out before."""
    out = []
    for agreement_id, status, end, renewed in candidates:
        if status == st.EXPIRING and not renewed:
            kind = EXPIRING
        elif status == st.EXPIRED and (day - end).days <= EXPIRED_CATCH_UP_DAYS:
            kind = EXPIRED
        else:
            continue
        if (agreement_id, kind, end) not in sent:
            out.append((agreement_id, kind, end))
    return out


def run(session, day: date) -> list[str]:
    """The tick step: sends what is due, records it; never commits."""
    from ill import notify

    from .service import display_title

    agreements = list(
        session.scalars(
            select(Agreement)
            .where(
                Agreement.end_date.is_not(None),
                Agreement.state == AgreementState.SIGNED.value,
                Agreement.end_date >= day - timedelta(days=EXPIRED_CATCH_UP_DAYS),
            )
            .options(selectinload(Agreement.parties).selectinload(AgreementParty.partner))
        )
    )
    if not agreements:
        return []
    renewed = set(
        session.scalars(select(Agreement.supersedes_id).where(Agreement.supersedes_id.in_([a.id for a in agreements])))
    )
    candidates = [(a.id, status_of(a, day), a.end_date, a.id in renewed) for a in agreements]
    sent = {
        (r.agreement_id, r.kind, r.end_date)
        for r in session.scalars(
            select(AgreementAlert).where(AgreementAlert.agreement_id.in_([a.id for a in agreements]))
        )
    }
    by_id = {a.id: a for a in agreements}
    lines = []
    for agreement_id, kind, end in due_alerts(candidates, sent, day):
        agreement = by_id[agreement_id]
        link = notify.site_url("agreements.agreement_detail", agreement_id=agreement.id)
        notices = notify.notify_coordinators(
            session,
            kind,
            title=display_title(agreement),
            end=end,
            parties=", ".join(p.partner.name for p in agreement.parties),
            link=link,
            dedupe_key=f"{kind}:{agreement.id}:{end.isoformat()}",
        )
        session.add(
            AgreementAlert(agreement_id=agreement.id, kind=kind, end_date=end, sent_on=day, recipients=len(notices))
        )
        what = "expiring" if kind == EXPIRING else "expired"
        lines.append(f"agreement {agreement.id} {what} ({end.isoformat()}): {len(notices)} coordinator(s) told")
    return lines
