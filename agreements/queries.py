"""What routing asks of agreements: may library A ask library B for a service
on a given day, under which terms. Used by ``ill.routing`` and the search's
"requestable"."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask import current_app, has_app_context
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from . import status as st
from .models import Agreement, AgreementParty, AgreementState

DEFAULT_RESPONSE_DAYS = 3


@dataclass(frozen=True)
class AgreementLink:
    live: bool  # active or expiring on `day` and covers `service`
    status: str | None  # status of the best agreement found, None if none
    agreement_id: int | None
    end_date: date | None
    reason: str  # for staff, e.g. "agreement expired on 18 October 2026"
    response_days: int  # working days a lender has to answer
    loan_period_days: int | None
    renewals_allowed: int
    cost_per_loan: Decimal | None
    cost_per_page: Decimal | None


def warning_days_for(agreement: Agreement) -> int:
    if agreement.warning_days is not None:
        return agreement.warning_days
    if has_app_context():
        return int(current_app.config.get("AGREEMENTS_WARNING_DAYS", st.DEFAULT_WARNING_DAYS))
    return st.DEFAULT_WARNING_DAYS


def status_of(agreement: Agreement, day: date) -> str:
    return st.status_on(
        day,
        signed=agreement.state != AgreementState.DRAFT,
        start=agreement.start_date,
        end=agreement.end_date,
        terminated_on=agreement.terminated_on,
        warning_days=warning_days_for(agreement),
    )


# Which agreement speaks for a pair when there are several: a live one that
# covers the service, then a live one that does not, then the nearest to
# being usable. Within a rank, the one that ends last.
_RANK = {
    st.ACTIVE: 1,
    st.EXPIRING: 1,
    st.UPCOMING: 2,
    st.UNKNOWN: 3,
    st.EXPIRED: 4,
    st.TERMINATED: 5,
    st.DRAFT: 6,
}


def _choose(agreements: list[Agreement], service: str, day: date) -> tuple[Agreement, str] | None:
    best, best_key = None, None
    for agreement in agreements:
        status = status_of(agreement, day)
        covers = agreement.service(service) is not None
        rank = 0 if (status in st.ROUTABLE and covers) else _RANK[status]
        key = (rank, -(agreement.end_date or date.max).toordinal(), -agreement.id)
        if best_key is None or key < best_key:
            best, best_key = (agreement, status), key
    return best


def _reason(agreement: Agreement, status: str, service: str, day: date) -> str:
    from ill.ui import format_day

    if status in st.ROUTABLE and agreement.service(service) is None:
        return _("agreement does not cover %(service)s", service=service)
    if status == st.ACTIVE:
        if agreement.end_date is None:
            return _("agreement in force")
        return _("agreement in force until %(day)s", day=format_day(agreement.end_date))
    if status == st.EXPIRING:
        return _("agreement expires on %(day)s", day=format_day(agreement.end_date))
    if status == st.EXPIRED:
        return _("agreement expired on %(day)s", day=format_day(agreement.end_date))
    if status == st.UPCOMING:
        return _("agreement starts on %(day)s", day=format_day(agreement.start_date))
    if status == st.TERMINATED:
        return _("agreement terminated on %(day)s", day=format_day(agreement.terminated_on))
    if status == st.DRAFT:
        return _("agreement is still a draft")
    return _("agreement end date unknown")


def _link(chosen: tuple[Agreement, str] | None, service: str, day: date) -> AgreementLink:
    if chosen is None:
        return AgreementLink(
            live=False,
            status=None,
            agreement_id=None,
            end_date=None,
            reason=_("no agreement"),
            response_days=DEFAULT_RESPONSE_DAYS,
            loan_period_days=None,
            renewals_allowed=0,
            cost_per_loan=None,
            cost_per_page=None,
        )
    agreement, status = chosen
    terms = agreement.service(service)
    live = status in st.ROUTABLE and terms is not None
    return AgreementLink(
        live=live,
        status=status,
        agreement_id=agreement.id,
        end_date=agreement.end_date,
        reason=_reason(agreement, status, service, day),
        response_days=(terms.response_days if terms and terms.response_days else DEFAULT_RESPONSE_DAYS),
        loan_period_days=terms.loan_period_days if terms else None,
        renewals_allowed=terms.renewals_allowed or 0 if terms else 0,
        cost_per_loan=terms.cost_per_loan if terms else None,
        cost_per_page=terms.cost_per_page if terms else None,
    )


def _agreements_with(session, library_id: int) -> list[Agreement]:
    """A library's agreements with their parties and services, in one
    statement (a page of search results asks this for every signed-in patron):
    a library has a few dozen agreements of a few parties and services each,
    so the rows joined stay few."""
    ids = select(AgreementParty.agreement_id).where(AgreementParty.partner_id == library_id)
    return list(
        session.scalars(
            select(Agreement)
            .where(Agreement.id.in_(ids))
            .options(joinedload(Agreement.parties), joinedload(Agreement.services))
        ).unique()
    )


def agreement_between(session, library_a_id: int, library_b_id: int, service: str, day: date) -> AgreementLink:
    """The agreement that lets A and B exchange ``service`` on ``day``, or why none does."""
    return links_for(session, library_a_id, [library_b_id], service, day)[library_b_id]


def links_for(
    session, borrower_id: int, lender_ids: Collection[int], service: str, day: date
) -> dict[int, AgreementLink]:
    """Per lender, the link between the borrower and that lender (one query
    for the borrower's agreements, plus the loading of their parties and services)."""
    return links_for_services(session, borrower_id, lender_ids, (service,), day)[service]


def links_for_services(
    session, borrower_id: int, lender_ids: Collection[int], services: Collection[str], day: date
) -> dict[str, dict[int, AgreementLink]]:
    """``links_for`` for several services at once, from one reading of the
    borrower's agreements: {service: {lender_id: link}}."""
    wanted = set(lender_ids)
    if not wanted:
        return {service: {} for service in services}
    known = _links_of(session, borrower_id, tuple(services), day)
    return {service: {lid: known[service].get(lid, known[service][None]) for lid in wanted}
            for service in services}


# Every page of search results a signed-in patron sees asks for the links of
# their library with every library holding a result: the same few answers,
# read and put into words again and again. They are kept, per application,
# for a library, a day, a language and a warning setting, as long as the
# agreements stay as they are: ``_fingerprint`` (one small aggregate over the
# agreements) tells when they do not. Every change to an agreement, its
# parties, services or terms goes through ``service`` and moves its version
# and ``updated_at``; a new agreement adds a row and a deleted one takes one
# away. So a change is seen on the next call in every process, and nothing
# has to be told.
_LINKS_KEPT = 256  # entries, cleared when full


def _fingerprint(session) -> tuple:
    return tuple(session.execute(_FINGERPRINT).one())


_FINGERPRINT = select(
    func.count(Agreement.id), func.max(Agreement.id), func.coalesce(func.sum(Agreement.version), 0),
    func.max(Agreement.updated_at),
)


def _links_of(session, borrower_id: int, services: tuple[str, ...], day: date
              ) -> dict[str, dict[int | None, AgreementLink]]:
    """{service: {lender_id: link}} for every library the borrower has an
    agreement with, and under None the link of a library it has none with."""
    kept, warning = {}, None
    if has_app_context():
        kept = current_app.extensions.setdefault("agreement_links", {})
        warning = current_app.config.get("AGREEMENTS_WARNING_DAYS")  # status_of weighs it
    from ill.i18n import current_language

    key = (borrower_id, day, current_language(), warning, _fingerprint(session))
    entry = kept.get(key)
    if entry is None:
        if len(kept) >= _LINKS_KEPT:
            kept.clear()
        entry = kept[key] = {}
    missing = [service for service in services if service not in entry]
    if missing:
        by_lender: dict[int, list[Agreement]] = {}
        for agreement in _agreements_with(session, borrower_id):
            for party in agreement.parties:
                if party.partner_id != borrower_id:
                    by_lender.setdefault(party.partner_id, []).append(agreement)
        for service in missing:
            # Many lenders share an answer: each is made once.
            made: dict = {None: _link(None, service, day)}
            links: dict[int | None, AgreementLink] = {None: made[None]}
            for lid, found in by_lender.items():
                chosen = _choose(found, service, day)
                key_ = (chosen[0].id, chosen[1]) if chosen else None
                if key_ not in made:
                    made[key_] = _link(chosen, service, day)
                links[lid] = made[key_]
            entry[service] = links
    return entry
