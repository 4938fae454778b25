"""Who should be asked for a request, in which order, and why.

The rules are plain functions over plain data (``Holding``, ``LenderFacts``)
so they can be tested without a request or a database: ``plan_rota`` takes
the facts and returns the ranked lenders and the excluded ones, each with a
machine-readable reason (``code`` + ``args``) that ``describe`` turns into a
sentence for people in the reader's language.

``gather`` reads the facts from the database (union catalogue holdings,
agreements, partners, the request history); ``requestability`` answers the
record page's "can I ask this library, and if not why not".
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import ngettext

from agreements.partners import RULE_FIELDS, formats_list, not_lent_since

ROTA_SIZE = 5
LIVE_AGREEMENT = ("active", "expiring")

# Copy statuses as the union catalogue names them (union_catalog.models.ItemStatus).
AVAILABLE, ON_LOAN, NOT_FOR_LOAN, LOST, DAMAGED, UNKNOWN = (
    "available",
    "on_loan",
    "not_for_loan",
    "lost",
    "damaged",
    "unknown",
)

CERTAIN, POSSIBLE, UNLIKELY = 0, 1, 2  # availability certainty: lower is asked first


# --- plain data -------------------------------------------------------------


@dataclass(frozen=True)
class Copy:
    status: str = UNKNOWN
    coverage: str = ""  # 866 text of a serial holding


@dataclass
class Holding:
    """One library's copies of the record."""

    partner_id: int
    code: str
    copies: list[Copy] = field(default_factory=list)


@dataclass
class Link:
    """The agreement between the borrowing library and a lender for one
    service, as ``agreements.queries`` reports it (an ``AgreementLink``)."""

    live: bool
    status: str | None = "active"  # None: no agreement at all
    end_date: date | None = None
    reason: str = ""
    response_days: int = 3
    loan_period_days: int = 28
    cost_per_loan: Decimal | None = None  # what the agreement charges (None: nothing)
    cost_per_page: Decimal | None = None


@dataclass
class LenderFacts:
    """What routing needs to know of a holding library, besides its copies."""

    partner_id: int
    code: str
    link: Link | None = None  # None: no agreement at all with the borrower
    paused_until: date | None = None  # set only while its lending is paused
    pause_reason: str = ""
    # set only while closed by closed days of its own (agreements.calendar.closures_on)
    closed_until: date | None = None
    closed_reason: str = ""
    load: int = 0  # open lending requests now
    lent: int = 0  # loans and copies supplied, last 12 months
    borrowed: int = 0  # requests it made, last 12 months
    asked: int = 0  # times it was asked and answered or timed out, last 12 months
    filled: int = 0
    turnaround_days: float | None = None  # mean days from asked to supplied
    # the day its copies' statuses are as of (its last import or statuses
    # sent), when that is so long ago that they may have changed
    stale_since: date | None = None
    rules: LendingRules | None = None  # its own rules of what it lends
    # the borrowing library's loans from it late by its rule's days or more
    # (read only when it has that rule: ``late_loans``)
    late_loans: int = 0


@dataclass(frozen=True)
class LendingRules:
    """A lender's own rules of what it lends, set on its partner page: a
    request they rule out passes it over, as a pause would, with the rule as
    the reason (``rules_judgement``), so that its staff never have to say no
    to it by hand. Nothing set: no such rule."""

    no_loan_formats: frozenset[str] = frozenset()  # forms it lends only as copies (thesis, serial ...)
    no_loan_recent_years: int | None = None  # editions of the last N years (this one counting) stay home
    copy_max_pages: int | None = None  # the most pages it copies for one request
    max_requests_waiting: int | None = None  # the most requests waiting on its answer at once
    # no new loan to a borrowing library keeping one of its books this many days late or more
    late_borrower_days: int | None = None

    def __bool__(self) -> bool:
        return bool(self.no_loan_formats) or any(
            n is not None for n in (self.no_loan_recent_years, self.copy_max_pages, self.max_requests_waiting,
                                    self.late_borrower_days))

    @classmethod
    def of(cls, no_loan_formats: str | None, no_loan_recent_years: int | None = None,
           copy_max_pages: int | None = None, max_requests_waiting: int | None = None,
           late_borrower_days: int | None = None) -> LendingRules:
        """From a partner's columns, in the order of ``RULE_FIELDS``
        (``no_loan_formats`` as stored, read by ``agreements.partners``)."""
        return cls(frozenset(formats_list(no_loan_formats)), no_loan_recent_years, copy_max_pages,
                   max_requests_waiting, late_borrower_days)

    @classmethod
    def of_partner(cls, partner) -> LendingRules:
        """A ``Partner``'s rules."""
        return cls.of(*(getattr(partner, c) for c in RULE_FIELDS))




@dataclass(frozen=True)
class Wanted:
    """What is asked for: the service and, for a serial, which part."""

    service: str = "loan"
    volume: int | None = None
    year: int | None = None
    serial: bool = False
    format: str | None = None  # the record's form, as the union catalogue tells them apart
    published: int | None = None  # the edition's year of publication
    pages: int | None = None  # how many pages a copy asks (``pages_asked``); None: not known


@dataclass
class Placement:
    partner_id: int
    code: str
    rank: int | None  # None: excluded
    code_reason: str
    args: dict = field(default_factory=dict)

    @property
    def excluded(self) -> bool:
        return self.rank is None


@dataclass
class Plan:
    rota: list[Placement]
    excluded: list[Placement]

    @property
    def lenders(self) -> list[int]:
        return [p.partner_id for p in self.rota]


# --- serial coverage ----------------------------------------------------------

_VOL = re.compile(r"(?:v|vol|volume|jil|jilid|vols)\.?\s*(\d+)", re.I)
_YEAR = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d)(?!\d)")
_NUM = re.compile(r"(?<!\d)(\d+)(?!\d)")


def _side(text: str) -> tuple[int | None, int | None]:
    """(volume, year) named on one side of a coverage range."""
    text = text.strip()
    vol = _VOL.search(text)
    year = _YEAR.search(text)
    volume = int(vol.group(1)) if vol else None
    if volume is None and year is None:
        num = _NUM.search(text)
        if num:
            volume = int(num.group(1))
    return volume, int(year.group(1)) if year else None


def parse_coverage(text: str) -> list[tuple[tuple[int | None, int | None], tuple[int | None, int | None], bool]]:
    """Ranges of an 866 statement: [((vol, year) start, (vol, year) end, open_ended)].

    Understands "v.1(2001)-v.10(2010)", "2005-2015", "v.3(1999)-", "1995-2000; 2003-2010",
    "Vol. 1 (2001) - Vol. 10 (2010)". A single issue ("v.5(2004)") is a range of one.
    """
    ranges = []
    for segment in re.split(r"[;,]", text or ""):
        segment = segment.strip()
        if not segment:
            continue
        # A hyphen between two parts; a hyphen inside "(2001-2002)" is kept with its side.
        parts = re.split(r"-(?![^(]*\))", segment, maxsplit=1)
        start = _side(parts[0])
        if len(parts) == 1:
            end, open_ended = start, False
        else:
            open_ended = not parts[1].strip()
            end = (None, None) if open_ended else _side(parts[1])
        if start == (None, None):
            continue
        ranges.append((start, end, open_ended))
    return ranges


def _within(value: int, low: int | None, high: int | None, open_ended: bool) -> bool | None:
    if low is None:
        return None
    if open_ended:
        return value >= low
    if high is None:
        high = low
    return low <= value <= high


def coverage_includes(text: str, volume: int | None, year: int | None) -> bool | None:
    """True/False when the statement says; None when it cannot tell (no statement,
    or it names neither the volumes nor the years asked)."""
    if volume is None and year is None:
        return True
    answers = []
    for (sv, sy), (ev, ey), open_ended in parse_coverage(text):
        if year is not None:
            answers.append(_within(year, sy, ey, open_ended))
        if volume is not None:
            answers.append(_within(volume, sv, ev, open_ended))
    if any(a is True for a in answers):
        return True
    if any(a is False for a in answers):
        return False
    return None


# --- pages asked ---------------------------------------------------------------

_PAGE_WORDS = re.compile(r"\b(?:pp?|hlm|hal|halaman|pages?|page)\b\.?", re.I)
_PAGE_RANGE = re.compile(r"(\d{1,6})(?:\s*-\s*(\d{1,6}))?")


def pages_asked(text: str | None) -> int | None:
    """How many pages a citation's pages ask: "12-30" 19, "12-30, 45" 20,
    "pp. 1123-35" 13 (the end written short), "hlm. 5" 1. None when it
    cannot tell (nothing given, roman numerals, an article number, an end
    before its start): a rule on pages then does not apply."""
    text = _PAGE_WORDS.sub(" ", (text or "").replace("\u2013", "-").replace("\u2014", "-"))
    total = 0
    segments = [seg.strip() for seg in re.split(r"[,;]|\band\b|\bdan\b", text)]
    for segment in filter(None, segments):
        m = _PAGE_RANGE.fullmatch(segment)
        if m is None:
            return None
        start, end = int(m.group(1)), m.group(2)
        if end is None:
            total += 1
            continue
        if len(end) < len(m.group(1)) and int(end) < start:  # 1123-35: 1123 to 1135
            end = m.group(1)[:len(m.group(1)) - len(end)] + end
        last = int(end)
        if last < start:
            return None
        total += last - start + 1
    return total or None


# --- a lender's own rules -------------------------------------------------------

# The reasons a library's own rules give (``rules_judgement``), which the
# facts count apart (``ill.facts.ruled_out``).
RULE_CODES = ("rule_late_borrower", "rule_format", "rule_recent", "rule_pages", "rule_capacity")


def rules_judgement(facts: LenderFacts, wanted: Wanted, day: date) -> tuple[str, dict] | None:
    """Why a lender's own rules (``LendingRules``) rule out this request
    (reason code, args), or None. A loan: not of a form it lends only as
    copies, nor of an edition too recent; a copy: not of more pages than it
    copies (when the pages asked can be counted); either: not while as many
    requests as it takes at once wait on its answer; and no loan to a
    borrowing library that keeps one of its books too long past its due
    date (``late_borrower_days``)."""
    rules = facts.rules
    if not rules:
        return None
    if wanted.service == "loan":
        if rules.late_borrower_days and facts.late_loans:
            return "rule_late_borrower", {"days": rules.late_borrower_days}
        if wanted.format and wanted.format in rules.no_loan_formats:
            return "rule_format", {"format": wanted.format}
        years = rules.no_loan_recent_years
        if years and wanted.published is not None:
            since = not_lent_since(years, day)
            if wanted.published >= since:
                return "rule_recent", {"since": since, "published": wanted.published}
    elif rules.copy_max_pages and wanted.pages is not None and wanted.pages > rules.copy_max_pages:
        return "rule_pages", {"max": rules.copy_max_pages, "asked": wanted.pages}
    if rules.max_requests_waiting is not None and facts.load >= rules.max_requests_waiting:
        return "rule_capacity", {"max": rules.max_requests_waiting}
    return None


# --- the rules ----------------------------------------------------------------


def copy_judgement(copies: list[Copy], wanted: Wanted) -> tuple[int | None, str, dict]:
    """(certainty, reason code, args) for one library's copies: certainty
    CERTAIN or POSSIBLE when it may serve, None with a reason when not."""
    if not copies:
        return POSSIBLE, "held_no_items", {}
    if wanted.serial and (wanted.volume is not None or wanted.year is not None):
        with_coverage = [c for c in copies if c.coverage.strip()]
        if with_coverage:
            verdicts = [coverage_includes(c.coverage, wanted.volume, wanted.year) for c in with_coverage]
            if all(v is False for v in verdicts):
                return (
                    None,
                    "coverage",
                    {
                        "volume": wanted.volume,
                        "year": wanted.year,
                        "coverage": "; ".join(c.coverage for c in with_coverage),
                    },
                )
            uncertain = not any(v is True for v in verdicts)
        else:
            uncertain = True
    else:
        uncertain = False
    if wanted.service == "copy":
        serving = {AVAILABLE, NOT_FOR_LOAN}
    else:
        serving = {AVAILABLE}
    statuses = [c.status if c.status in (AVAILABLE, ON_LOAN, NOT_FOR_LOAN, LOST, DAMAGED) else UNKNOWN for c in copies]
    if any(s in serving for s in statuses):
        return (POSSIBLE if uncertain else CERTAIN), ("available_uncertain_part" if uncertain else "available"), {}
    if UNKNOWN in statuses:
        return POSSIBLE, "status_unknown", {}
    if all(s == ON_LOAN for s in statuses):
        return None, "all_on_loan", {}
    if all(s == NOT_FOR_LOAN for s in statuses):
        return None, "reference_only", {}
    if all(s in (LOST, DAMAGED) for s in statuses):
        return None, "lost_or_damaged", {}
    return None, "none_lendable", {"statuses": sorted(set(statuses))}


STALE_CODES = ("available_stale", "on_loan_stale")


def freshness_judgement(certainty: int | None, code: str, stale_since: date | None) -> tuple[int | None, str]:
    """What a library's copies say, weighed by how old its statuses are. Of
    statuses sent months ago (``stale_since``), "on the shelf" is a hope, not
    a fact: that library is asked after those whose statuses are fresh; and
    "all on loan" has likely changed, loans running for weeks: it is asked
    last rather than left out. Reference-only, lost and damaged stay so."""
    if stale_since is None:
        return certainty, code
    if certainty == CERTAIN:
        return POSSIBLE, "available_stale"
    if certainty is None and code == "all_on_loan":
        return UNLIKELY, "on_loan_stale"
    return certainty, code


def agreement_judgement(link: Link | None) -> tuple[bool, str, dict]:
    if link is None or (not link.live and link.status in (None, "", "none")):
        return False, "no_agreement", {}
    if link.live:
        return True, "", {}
    if link.status in LIVE_AGREEMENT:  # in force, but not for this service
        return False, "not_covered", {"end_date": link.end_date.isoformat() if link.end_date else None}
    return (
        False,
        "agreement",
        {
            "status": link.status,
            "end_date": link.end_date.isoformat() if link.end_date else None,
            "text": str(link.reason or ""),
        },
    )


def cost_of(link: Link | None, wanted: Wanted) -> Decimal:
    """What the agreement charges for this request: a loan's price, or a
    copy's price a page times the pages asked (one, when they cannot be
    counted: the same for every lender). Nothing agreed costs nothing."""
    if link is None:
        return Decimal(0)
    if wanted.service == "copy":
        return (link.cost_per_page or Decimal(0)) * (wanted.pages or 1)
    return link.cost_per_loan or Decimal(0)


def balance_bucket(lent: int, borrowed: int) -> int:
    """0 for a library that lends about as much as it borrows; higher the more
    it lends beyond that, so the libraries that carry the network rest."""
    surplus = lent - 2 * borrowed
    return max(0, surplus // 10)


def record_score(facts: LenderFacts) -> tuple[float, float]:
    """Lower is better: (missed share rounded to tenths, turnaround in whole days).
    A library with fewer than 3 answers counts as middling."""
    if facts.asked >= 3:
        missed = round(1 - facts.filled / facts.asked, 1)
    else:
        missed = 0.5
    turnaround = round(facts.turnaround_days) if facts.turnaround_days is not None else 5
    return missed, turnaround


def lender_barred(borrower_id: int | None, facts: LenderFacts, day: date) -> tuple[str, dict] | None:
    """Why a holding library may not be asked at all, whatever its copies
    (reason code, args): it is the borrowing library itself, no live
    agreement covers the service, or its lending is paused. None: it may be
    asked if its copies can serve (``copy_judgement``)."""
    if borrower_id is not None and facts.partner_id == borrower_id:
        return "own_library", {}
    ok, code, args = agreement_judgement(facts.link)
    if not ok:
        return code, args
    if facts.paused_until is not None and day <= facts.paused_until:
        return "paused", {"until": facts.paused_until.isoformat(), "why": facts.pause_reason}
    if facts.closed_until is not None and day <= facts.closed_until:
        return "closed", {"until": facts.closed_until.isoformat(), "why": facts.closed_reason}
    return None


def plan_rota(
    borrower_id: int | None,
    holdings: list[Holding],
    facts: dict[int, LenderFacts],
    wanted: Wanted,
    day: date,
    size: int = ROTA_SIZE,
) -> Plan:
    """The ranked lenders (at most ``size``) and the libraries left out, each with its reason."""
    excluded: list[Placement] = []
    eligible: list[tuple[tuple, Placement]] = []
    for holding in sorted(holdings, key=lambda h: h.code):
        pid = holding.partner_id
        f = facts.get(pid) or LenderFacts(pid, holding.code)
        barred = why_not_now(borrower_id, f, wanted, day)
        if barred is not None:
            excluded.append(Placement(pid, holding.code, None, *barred))
            continue
        certainty, code, args = copy_judgement(holding.copies, wanted)
        certainty, code = freshness_judgement(certainty, code, f.stale_since)
        if certainty is None:
            excluded.append(Placement(pid, holding.code, None, code, args))
            continue
        missed, turnaround = record_score(f)
        cost = cost_of(f.link, wanted)
        key = (certainty, cost, f.load, balance_bucket(f.lent, f.borrowed), missed, turnaround, holding.code, pid)
        args = {
            "availability": code,
            "cost": str(cost) if cost else None,
            **({"as_of": f.stale_since.isoformat()} if code in STALE_CODES else {}),
            "load": f.load,
            "lent": f.lent,
            "borrowed": f.borrowed,
            "fill_rate": round(f.filled / f.asked, 2) if f.asked else None,
            "turnaround_days": round(f.turnaround_days, 1) if f.turnaround_days is not None else None,
            # the agreement's working days to answer, for the deadline once it is asked
            "response_days": f.link.response_days,
        }
        eligible.append((key, Placement(pid, holding.code, 0, "placed", args)))
    eligible.sort(key=lambda kp: kp[0])
    rota = []
    for index, (_key, placement) in enumerate(eligible):
        if index < size:
            placement.rank = index + 1
            rota.append(placement)
        else:
            placement.rank = None
            placement.code_reason = "rota_full"
            placement.args = {"size": size}
            excluded.append(placement)
    return Plan(rota=rota, excluded=excluded)


def home_can_serve(holding: Holding | None, wanted: Wanted) -> bool:
    """The borrowing library itself holds a copy it can give the patron now."""
    if holding is None:
        return False
    certainty, _code, _args = copy_judgement(holding.copies, wanted)
    return certainty == CERTAIN


# --- reasons for people -------------------------------------------------------


def _day(iso: str | None) -> str:
    from flask import has_app_context

    if not iso:
        return ""
    if not has_app_context():  # plain-data use (tests, scripts): English
        from babel.dates import format_date

        return format_date(date.fromisoformat(iso), "long", locale="en")
    from ill.ui import format_day

    return format_day(date.fromisoformat(iso))


def _money(amount: str) -> str:
    from flask import has_app_context

    if not has_app_context():  # plain-data use (tests, scripts)
        return amount
    from ill.ui import format_money

    return format_money(Decimal(amount))


def _availability_text(code: str, args: dict | None = None) -> str:
    # Only the sentence asked for is translated (a page of search results asks often).
    if code == "available":
        return _("a copy is available")
    if code == "available_stale":
        return _("a copy was on the shelf as of %(day)s, and the library has sent nothing since",
                 day=_day((args or {}).get("as_of")))
    if code == "on_loan_stale":
        return _("all copies were on loan as of %(day)s; they may be back, and the library has sent nothing since",
                 day=_day((args or {}).get("as_of")))
    if code == "available_uncertain_part":
        return _("a copy is available, but its holdings may not include the part asked")
    if code == "status_unknown":
        return _("copy status unknown")
    if code == "held_no_items":
        return _("held, no copies listed")
    return code


def describe(code: str, args: dict | None) -> str:
    """The reason for a place or an exclusion, as a sentence in the reader's language."""
    args = args or {}
    if code == "placed":
        parts = [_availability_text(args.get("availability", ""), args)]
        if args.get("cost"):
            parts.append(_("costs %(amount)s under the agreement", amount=_money(args["cost"])))
        parts.append(_("%(n)d open lending requests", n=args.get("load", 0)))
        parts.append(
            _(
                "lent %(lent)d, borrowed %(borrowed)d in 12 months",
                lent=args.get("lent", 0),
                borrowed=args.get("borrowed", 0),
            )
        )
        if args.get("fill_rate") is not None:
            parts.append(_("filled %(rate)d%% of requests", rate=round(args["fill_rate"] * 100)))
        if args.get("turnaround_days") is not None:
            parts.append(_("supplies in %(days)s days on average", days=args["turnaround_days"]))
        return "; ".join(parts)
    if code == "own_library":
        return _("the borrowing library itself")
    if code == "no_agreement":
        return _("no cooperation agreement with the borrowing library")
    if code == "not_covered":
        return _("the agreement does not cover this service")
    if code == "agreement":
        status = args.get("status")
        end = _day(args.get("end_date"))
        if status == "expired" and end:
            return _("agreement expired on %(day)s", day=end)
        if status == "terminated":
            return _("agreement terminated")
        if status == "upcoming":
            return _("agreement not yet in force")
        if status == "draft":
            return _("agreement not yet signed")
        if status == "unknown":
            return _("agreement end date unknown")
        if args.get("text"):
            return args["text"]
        return _("no live agreement for this service")
    if code == "paused":
        text = _("lending paused until %(day)s", day=_day(args.get("until")))
        return f"{text} ({args['why']})" if args.get("why") else text
    if code == "closed":
        text = _("closed until %(day)s", day=_day(args.get("until")))
        return f"{text} ({args['why']})" if args.get("why") else text
    if code == "all_on_loan":
        return _("all copies on loan")
    if code == "reference_only":
        return _("reference only: copies are not for loan")
    if code == "lost_or_damaged":
        return _("all copies lost or damaged")
    if code == "none_lendable":
        return _("no copy can be lent now")
    if code == "coverage":
        asked = []
        if args.get("volume") is not None:
            asked.append(_("volume %(v)s", v=args["volume"]))
        if args.get("year") is not None:
            asked.append(_("year %(y)s", y=args["year"]))
        return _(
            "holdings (%(coverage)s) do not include %(asked)s",
            coverage=args.get("coverage", ""),
            asked=", ".join(asked),
        )
    if code in RULE_CODES:
        return _rule_text(code, args)
    if code == "no_longer_held":
        return _("its copies are no longer in the union catalogue")
    if code == "rota_full":
        return _("not needed: the rota holds up to %(n)d lenders", n=args.get("size", ROTA_SIZE))
    if code == "chosen_by_librarian":
        return _("chosen by the borrowing library's librarian")
    return code


def passed_over_reason(code: str, args: dict | None) -> str:
    """Why a library of a rota was passed over as its turn came, in words
    (``RotaEntry.outcome_detail`` the code, its args kept in the entry's
    ``reason_args["passed_over"]``)."""
    return describe(code, (args or {}).get("passed_over") or {})


def _rule_text(code: str, args: dict) -> str:
    """A lending rule that rules a library out; without its args (counted
    over many requests) the rule's kind alone."""
    if code == "rule_format":
        if not args.get("format"):
            return _("its lending rules: this form is lent only as copies")
        from union_catalog.models import FORMATS

        form = str(FORMATS.get(args["format"], args["format"]))
        return _("its lending rules: a %(form)s is lent only as copies", form=form)
    if code == "rule_recent":
        if not args.get("since"):
            return _("its lending rules: recent editions are not lent")
        return _("its lending rules: editions published since %(year)s are not lent", year=args["since"])
    if code == "rule_pages":
        if not args.get("max"):
            return _("its lending rules: it copies no more pages than its limit")
        return _("its lending rules: copies of at most %(max)d pages (%(asked)d asked)",
                 max=args["max"], asked=args.get("asked", 0))
    if code == "rule_late_borrower":
        if not args.get("days"):
            return _("its lending rules: no new loan while the borrowing library keeps one of its books late")
        return ngettext("its lending rules: no new loan while the borrowing library keeps one of its books "
                        "%(num)d day or more past its due date",
                        "its lending rules: no new loan while the borrowing library keeps one of its books "
                        "%(num)d days or more past its due date", args["days"])
    if code == "rule_capacity":
        if not args.get("max"):
            return _("its lending rules: it has as many requests waiting as it takes at once")
        return ngettext("its lending rules: at most %(num)d request waits on its answer at once, and it has "
                        "one now",
                        "its lending rules: at most %(num)d requests wait on its answer at once, and it has "
                        "that many now", args["max"])
    return code


# --- reading the facts from the database ----------------------------------------


def answer_deadline(day: date, response_days: int, calendar=None) -> date:
    """The lender's last day to answer a request asked on ``day``: its
    working days counted on its ``calendar`` (agreements.calendar; None: the
    network's holidays alone)."""
    from agreements.calendar import Calendar, configured_holidays

    if calendar is None:
        calendar = Calendar(configured_holidays())
    return calendar.working_days_after(day, max(1, int(response_days or 1)))


def _as_link(raw) -> Link:
    return Link(
        live=bool(getattr(raw, "live", False)),
        status=getattr(raw, "status", None),
        end_date=getattr(raw, "end_date", None),
        reason=str(getattr(raw, "reason", "") or ""),
        response_days=getattr(raw, "response_days", None) or 3,
        loan_period_days=getattr(raw, "loan_period_days", None) or 28,
        cost_per_loan=getattr(raw, "cost_per_loan", None),
        cost_per_page=getattr(raw, "cost_per_page", None),
    )


def agreement_links(session, borrower_id: int, lender_ids: list[int], service: str, day: date) -> dict[int, Link]:
    """The agreement links the agreements package reports, as routing's ``Link``."""
    from agreements.queries import links_for

    raw = links_for(session, borrower_id, list(lender_ids), service, day)
    return {pid: _as_link(link) for pid, link in raw.items() if link is not None}


def holdings_for(session, cluster_id: int) -> list[Holding]:
    """Every library's non-withdrawn copies of the union record."""
    return holdings_for_many(session, [cluster_id]).get(cluster_id, [])


def holdings_for_many(session, cluster_ids) -> dict[int, list[Holding]]:
    """``holdings_for`` of several union records."""
    return _holdings_read(session, cluster_ids)[1]


# A page of search results asks this on every call: the union records'
# form, their live records' library (its code and any pause of its lending)
# and those records' copies, in one statement read straight through the
# driver (the ORM's work would cost more than the lookups). Records are
# looked up by union record and copies by record whatever the tables'
# statistics: on PostgreSQL by lateral lookups, since right after a bulk
# import, before autovacuum has analysed the tables, the planner would
# rather read every item, or every record of each library.
_HOLDINGS_SQL = (
    "SELECT c.id, c.format, c.year, r.id, r.partner_id, p.code, p.lending_paused_until, p.pause_reason, "
    + ", ".join(f"p.{c}" for c in RULE_FIELDS) + ", "
    "i.id, i.status, i.coverage FROM clusters c {records} "
    "LEFT JOIN partners p ON p.id = r.partner_id {items}"
)
_JOINS = {
    "sqlite": ("LEFT JOIN source_records r ON r.cluster_id = c.id AND r.withdrawn_at IS NULL",
               "LEFT JOIN items i ON i.source_record_id = r.id"),
    "postgresql": ("LEFT JOIN LATERAL (SELECT r.id, r.partner_id FROM source_records r "
                   "WHERE r.cluster_id = c.id AND r.withdrawn_at IS NULL OFFSET 0) r ON true",
                   "LEFT JOIN LATERAL (SELECT i.id, i.status, i.coverage FROM items i "
                   "WHERE i.source_record_id = r.id OFFSET 0) i ON true"),
}


def _holdings_read(session, cluster_ids) -> tuple[dict[int, tuple[str | None, int | None]],
                                                   dict[int, list[Holding]], dict[int, tuple]]:
    """For these union records: their form and year {cluster_id: (format,
    year)}, every library's non-withdrawn copies {cluster_id: [Holding]}
    (libraries in the order of their first record, copies in the order they
    were added), and each holding library's pause and lending rules
    {partner_id: (paused until, reason, LendingRules)}."""
    from union_catalog import bulk

    formats: dict[int, tuple[str | None, int | None]] = {}
    pauses: dict[int, tuple] = {}
    by_cluster: dict[int, dict[int, Holding]] = {}
    conn = session.connection()
    records, items = _JOINS["postgresql" if bulk.is_postgres(conn) else "sqlite"]
    rows = bulk.select_among(conn, _HOLDINGS_SQL.format(records=records, items=items), "c.id",
                             {int(c) for c in cluster_ids})
    copies: list[tuple[int, int, int, Copy]] = []
    # by union record, then record: a library's place is that of its first record
    for (cluster_id, fmt, year, record_id, partner_id, code, paused, reason, *rules, item_id, status,
         coverage) in sorted(map(tuple, rows), key=lambda r: (r[0], r[3] or 0, r[-3] or 0)):
        formats[cluster_id] = (fmt, year)
        if record_id is None:  # no live record
            continue
        by_cluster.setdefault(cluster_id, {}).setdefault(partner_id, Holding(partner_id, code))
        if partner_id not in pauses:
            pauses[partner_id] = (_as_date(paused), reason or "", LendingRules.of(*rules))
        if item_id is not None:
            copies.append((item_id, cluster_id, partner_id, Copy(status or UNKNOWN, coverage or "")))
    for _item_id, cluster_id, partner_id, copy in sorted(copies, key=lambda c: c[0]):
        by_cluster[cluster_id][partner_id].copies.append(copy)
    holdings = {cluster_id: list(by_partner.values()) for cluster_id, by_partner in by_cluster.items()}
    return formats, holdings, pauses


def _holdings_held(session, held: dict) -> tuple[dict[int, tuple[str | None, int | None]],
                                                 dict[int, list[Holding]], dict[int, tuple]]:
    """``_holdings_read``'s answer from what the search index holds
    (``union_catalog.search.Held``): a copy of each status a library's
    copies have; only the libraries' codes, pauses and rules are read."""
    from sqlalchemy import select

    from agreements.models import Partner

    pids = {pid for h in held.values() for pid in h.statuses}
    t = Partner.__table__
    partners = {pid: (code, _as_date(paused), reason or "", LendingRules.of(*rules))
                for pid, code, paused, reason, *rules in session.execute(
        select(t.c.id, t.c.code, t.c.lending_paused_until, t.c.pause_reason, *(t.c[c] for c in RULE_FIELDS))
        .where(t.c.id.in_(pids)))
    } if pids else {}
    formats = {cid: (h.format, h.year) for cid, h in held.items()}
    holdings = {
        cid: [Holding(pid, partners[pid][0], [Copy(status) for status in statuses])
              for pid, statuses in h.statuses.items() if pid in partners]
        for cid, h in held.items()
    }
    pauses = {pid: (paused, reason, rules) for pid, (_code, paused, reason, rules) in partners.items()}
    return formats, holdings, pauses


def _as_date(value) -> date | None:
    """A date column read through the driver (SQLite gives its text)."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def lender_facts(
    session, borrower_id: int | None, partner_ids: list[int], service: str, day: date
) -> dict[int, LenderFacts]:
    """Agreements, pauses, lending rules, load, balance and record of each
    holding library."""
    from sqlalchemy import select

    from agreements.models import Partner

    from .facts import partner_facts

    if not partner_ids:
        return {}
    since = day - timedelta(days=365)
    facts = {}
    for p in session.scalars(select(Partner).where(Partner.id.in_(partner_ids))):
        facts[p.id] = LenderFacts(
            p.id,
            p.code,
            paused_until=p.lending_paused_until if p.lending_paused(day) else None,
            pause_reason=p.pause_reason or "",
            rules=LendingRules.of_partner(p),
        )
    from agreements.calendar import closures_on

    for pid, (until, reason) in closures_on(session, day, partner_ids).items():
        if pid in facts:
            facts[pid].closed_until, facts[pid].closed_reason = until, reason
    links = agreement_links(session, borrower_id, partner_ids, service, day) if borrower_id else {}
    for pid, link in links.items():
        if pid in facts:
            facts[pid].link = link
    for pid, n in lender_loads(session, partner_ids).items():
        facts[pid].load = n
    read_for_rules(session, borrower_id, facts.values(), day, loads=False)
    # Its copies' statuses, as of its last import or statuses sent (the
    # catalogue's rule of when they are stale).
    from union_catalog.search import freshness

    for pid, known in freshness(session, day).items():
        if pid in facts and known.stale:
            facts[pid].stale_since = known.as_of
    # Its record over the last 12 months, counted where the facts page counts it.
    for pid, record in partner_facts(session, since, day, partner_ids).items():
        f = facts[pid]
        f.borrowed = record.requests_made
        f.lent = f.filled = record.supplied
        f.asked = record.supplied + record.not_supplied
        f.turnaround_days = record.mean_response_days
    return facts


def lender_now(session, borrower_id: int, partner, service: str, day: date) -> LenderFacts:
    """What decides whether one library (a ``Partner``) may be asked today,
    not how it ranks: its agreement with the borrowing library for the
    service, a pause, closed days of its own, its lending rules and, when it
    limits them, the requests waiting on it. For a library named by hand,
    and for the next one in a rota when its turn comes."""
    from agreements.calendar import closures_on

    links = agreement_links(session, borrower_id, [partner.id], service, day)
    closed_until, closed_reason = closures_on(session, day, [partner.id]).get(partner.id, (None, ""))
    facts = LenderFacts(
        partner.id, partner.code, link=links.get(partner.id),
        paused_until=partner.lending_paused_until if partner.lending_paused(day) else None,
        pause_reason=partner.pause_reason or "", closed_until=closed_until, closed_reason=closed_reason,
        rules=LendingRules.of_partner(partner))
    read_for_rules(session, borrower_id, [facts], day)
    return facts


def copies_now(session, cluster_id: int, day: date) -> Callable[[int, Wanted], tuple[str, dict] | None]:
    """For the next library of a rota as its turn comes: why its copies of
    the union record can no longer serve (reason code, args), judged as a
    rota judges them now (``copy_judgement``, ``freshness_judgement``), or
    None. A library whose records are gone from the catalogue since says so
    (``no_longer_held``). The holdings and the statuses' age are read once,
    at the first call."""
    read: dict = {}

    def judge(partner_id: int, wanted: Wanted) -> tuple[str, dict] | None:
        if not read:
            from union_catalog.search import freshness

            read["holdings"] = {h.partner_id: h for h in holdings_now(session, cluster_id)}
            read["stale"] = {pid: known.as_of for pid, known in freshness(session, day).items() if known.stale}
        holding = read["holdings"].get(partner_id)
        if holding is None:
            return "no_longer_held", {}
        certainty, code, args = copy_judgement(holding.copies, wanted)
        certainty, code = freshness_judgement(certainty, code, read["stale"].get(partner_id))
        return (code, args) if certainty is None else None

    return judge


def why_not_now(borrower_id: int, facts: LenderFacts, wanted: Wanted, day: date) -> tuple[str, dict] | None:
    """Why a library may not be asked today, whatever its copies (reason
    code, args): the rota's rules of who may be asked at all, its own
    lending rules; None: it may."""
    return lender_barred(borrower_id, facts, day) or rules_judgement(facts, wanted, day)


def read_for_rules(session, borrower_id: int | None, facts: Iterable[LenderFacts], day: date,
                   loads: bool = True) -> None:
    """Fill in what the lenders' own rules weigh besides the request, for
    those alone that have such a rule: the requests waiting on a library
    that limits them (``load``; loads False: the caller has read every
    library's), and the borrowing library's late loans from one that lends
    to none that keeps its books (``late_loans``)."""
    ruled = [f for f in facts if f.rules]
    capped = {f.partner_id: f for f in ruled if f.rules.max_requests_waiting is not None}
    for pid, n in (lender_loads(session, list(capped)) if loads else {}).items():
        capped[pid].load = n
    strict = {f.partner_id: f for f in ruled if f.rules.late_borrower_days is not None}
    for pid, n in late_loans(session, borrower_id, {pid: f.rules.late_borrower_days for pid, f in strict.items()},
                             day).items():
        strict[pid].late_loans = n


def late_loans(session, borrower_id: int | None, days: dict[int, int], day: date) -> dict[int, int]:
    """Of each lender {partner_id: its ``late_borrower_days``}, how many of
    its books the borrowing library keeps that many days or more past their
    due date on ``day`` (``ill.overdue.late``: not yet shipped back), of
    those that have any."""
    from collections import Counter

    from sqlalchemy import select

    from .models import LoanRequest
    from .overdue import late

    if not days or borrower_id is None:
        return {}
    rows = session.execute(select(LoanRequest.current_lender_id, LoanRequest.due_date).where(
        LoanRequest.requester_library_id == borrower_id, LoanRequest.current_lender_id.in_(list(days)),
        late(day, min(days.values()))))
    return dict(Counter(pid for pid, due in rows if due <= day - timedelta(days=days[pid])))


def lender_loads(session, partner_ids: list[int]) -> dict[int, int]:
    """The requests waiting on each library's answer now (asked, not yet
    shipped or said no to), of those that have any."""
    from sqlalchemy import func, select

    from .models import OPEN_LENDER_STATES, LoanRequest

    if not partner_ids:
        return {}
    return dict(session.execute(
        select(LoanRequest.current_lender_id, func.count(LoanRequest.id))
        .where(LoanRequest.current_lender_id.in_(list(partner_ids)), LoanRequest.status.in_(OPEN_LENDER_STATES))
        .group_by(LoanRequest.current_lender_id)).all())


def wanted_for(service: str, citation: dict | None, record_format: str | None,
               published: int | None = None) -> Wanted:
    """What a request asks, for the rules: its service, the part of a serial
    (the citation's volume and year), the record's form and year of
    publication (else, for a request by citation alone, the citation's
    year), and for a copy the pages asked."""
    citation = citation or {}

    def _int(value):
        if value is None:
            return None
        try:
            return int(str(value).strip())
        except ValueError:
            return None

    serial = (record_format or "").lower() in ("serial", "journal", "periodical", "magazine")
    year = _int(citation.get("year"))
    return Wanted(
        service=service,
        volume=_int(citation.get("volume")),
        year=year,
        serial=serial or bool(citation.get("volume")),
        format=(record_format or "").lower() or None,
        published=published if published is not None else (year if record_format is None else None),
        pages=pages_asked(citation.get("pages")) if service == "copy" else None,
    )


def holdings_now(session, cluster_id: int) -> list[Holding]:
    """``holdings_for`` the union record a request names as it is now: if
    re-clustering has since merged it into another, that one's (where its
    libraries' records went)."""
    from union_catalog.search import current_id

    return holdings_for(session, current_id(session, cluster_id) or cluster_id)


def plan_for_cluster(session, borrower_id: int, cluster_id: int, wanted: Wanted, day: date) -> Plan:
    holdings = holdings_now(session, cluster_id)
    facts = lender_facts(
        session, borrower_id, [h.partner_id for h in holdings if h.partner_id != borrower_id], wanted.service, day
    )
    return plan_rota(borrower_id, holdings, facts, wanted, day)


def requestability(
    session, borrower_library_id: int | None, cluster_id: int, service: str, day: date
) -> dict[int, tuple[bool, str]]:
    """For each library holding the record: may the borrowing library ask it
    for this service today, and a reason for people. Without a borrowing
    library (nobody signed in, a coordinator) only the copies are judged."""
    return requestability_many(session, borrower_library_id, [cluster_id], (service,), day)[service].get(
        cluster_id, {}
    )


def requestability_many(
    session, borrower_library_id: int | None, cluster_ids, services, day: date, held: dict | None = None
) -> dict[str, dict[int, dict[int, tuple[bool, str]]]]:
    """``requestability`` of several union records and services at once (a page
    of search results): {service: {cluster_id: {partner_id: (bool, reason)}}}.

    The same rules as a rota, read in a few queries for the whole page. Only
    what decides *whether* a library may be asked is read (its agreement with
    the borrower, a pause, its copies): every eligible library is in the
    answer, so the facts that only order a rota (load, balance, record) are
    not needed. held: {cluster_id: union_catalog.search.Held}, the form and
    each library's copies' statuses as the search index holds them (a page
    of results has them already): then no copy is read. Without a volume or
    year asked for, a library's copies are judged by which statuses they
    have, and that is all ``Held`` keeps."""
    services = tuple(services)
    ids = sorted({int(c) for c in cluster_ids})
    out: dict[str, dict[int, dict[int, tuple[bool, str]]]] = {s: {} for s in services}
    if not ids:
        return out
    if held is None:
        formats, holdings, pauses = _holdings_read(session, ids)
    else:
        formats, holdings, pauses = _holdings_held(session, {c: held[c] for c in ids if c in held})
    facts: dict[int, LenderFacts] = {}
    links: dict[str, dict[int, Link]] = {s: {} for s in services}
    if borrower_library_id is not None:
        lenders = sorted({h.partner_id for hs in holdings.values() for h in hs if h.partner_id != borrower_library_id})
        if lenders:
            from agreements.calendar import closures_kept
            from agreements.models import lending_paused_on

            codes = {h.partner_id: h.code for hs in holdings.values() for h in hs}
            closed = closures_kept(session, day)
            for pid in lenders:
                paused_until, reason, rules = pauses[pid]
                closed_until, closed_reason = closed.get(pid, (None, ""))
                facts[pid] = LenderFacts(
                    pid,
                    codes[pid],
                    paused_until=paused_until if lending_paused_on(paused_until, day) else None,
                    pause_reason=reason,
                    closed_until=closed_until,
                    closed_reason=closed_reason,
                    rules=rules,
                )
            read_for_rules(session, borrower_library_id, facts.values(), day)
            from agreements.queries import links_for_services

            for service, raw in links_for_services(session, borrower_library_id, lenders, services, day).items():
                links[service] = {pid: _as_link(link) for pid, link in raw.items() if link is not None}
    texts = _Sentences()  # a page repeats the same few reasons: each is put into words once
    # the libraries with rules of their own; an edition's year is weighed only when one keeps recent ones home
    ruled = {pid for pid, f in facts.items() if f.rules}
    year_matters = any(facts[pid].rules.no_loan_recent_years for pid in ruled)
    # Each library is judged alone, as a rota judges it (a rota as long as
    # the holdings leaves nobody out for its rank): whether it may be asked
    # at all, then its copies; a page repeats the same judgements, so each
    # is made once per service, form, library and set of statuses (with no
    # volume or year asked for, the copies' coverage does not count).
    @functools.cache
    def stale_since() -> dict[int, date]:
        from union_catalog.search import freshness_kept

        return {pid: known.as_of for pid, known in freshness_kept(session, day).items() if known.stale}

    said: dict[tuple, tuple[bool, str]] = {}  # (service, (form, year), library, statuses) -> verdict
    wants: dict[tuple[str, tuple], Wanted] = {}
    barred: dict[tuple[str, int], tuple[str, dict] | None] = {}  # (service, library) -> why not
    copied: dict[tuple, tuple[int | None, str, dict]] = {}  # (service, form, statuses) -> judgement

    def judge(service: str, edition: tuple, h: Holding, statuses: frozenset) -> tuple[bool, str]:
        fmt, year = edition
        wanted = wants.get((service, edition))
        if wanted is None:
            wanted = wants[service, edition] = wanted_for(service, None, fmt, published=year)
        if borrower_library_id is None:  # only the copies are judged
            return _judge_copies([h], wanted, texts)[h.partner_id]
        judgement = copied.get((service, fmt, statuses))
        if judgement is None:
            judgement = copied[service, fmt, statuses] = copy_judgement(h.copies, wanted)
        certainty, code, args = judgement
        if (service, h.partner_id) not in barred:
            f = facts.get(h.partner_id) or LenderFacts(h.partner_id, h.code)
            barred[service, h.partner_id] = lender_barred(borrower_library_id, LenderFacts(
                f.partner_id, f.code, link=links[service].get(h.partner_id),
                paused_until=f.paused_until, pause_reason=f.pause_reason,
                closed_until=f.closed_until, closed_reason=f.closed_reason), day)
        why = barred[service, h.partner_id]
        if why is None and h.partner_id in ruled:
            why = rules_judgement(facts[h.partner_id], wanted, day)
        if why is None:
            if certainty is None and code == "all_on_loan":
                # asked last rather than left out when the library's statuses are old
                # (the rota's rule); how fresh they are is read only when it matters,
                # and kept a minute (a page of results asks it again and again)
                as_of = stale_since().get(h.partner_id)
                certainty, code = freshness_judgement(certainty, code, as_of)
                if certainty is not None:
                    return True, texts.availability(code, {"as_of": as_of.isoformat()})
            return ((True, texts.availability(code)) if certainty is not None
                    else (False, texts.describe(code, args)))
        if why[0] == "own_library":
            return False, texts.desk() if certainty == CERTAIN else texts.describe("own_library", {})
        return False, texts.describe(*why)

    for cluster_id in ids:
        if cluster_id not in formats:
            continue
        fmt, year = formats[cluster_id]
        edition = (fmt, year if year_matters else None)
        answers = [out[service].setdefault(cluster_id, {}) for service in services]
        for h in holdings.get(cluster_id, []):
            statuses = frozenset(c.status for c in h.copies)
            for service, verdicts in zip(services, answers, strict=True):
                key = (service, edition, h.partner_id, statuses)
                verdict = said.get(key)
                if verdict is None:
                    verdict = said[key] = judge(service, edition, h, statuses)
                verdicts[h.partner_id] = verdict
    return out


class _Sentences:
    """``describe`` and ``_availability_text``, each sentence made once."""

    def __init__(self):
        self.made: dict = {}

    def describe(self, code: str, args: dict | None) -> str:
        key = (code, repr(sorted((args or {}).items())))
        if key not in self.made:
            self.made[key] = describe(code, args)
        return self.made[key]

    def availability(self, code: str, args: dict | None = None) -> str:
        key = ("availability", code, repr(sorted((args or {}).items())))
        if key not in self.made:
            self.made[key] = _availability_text(code, args)
        return self.made[key]

    def desk(self) -> str:
        if "desk" not in self.made:
            self.made["desk"] = _("your own library holds it: ask at the desk")
        return self.made["desk"]


def _judge_copies(holdings: list[Holding], wanted: Wanted, texts: _Sentences | None = None
                  ) -> dict[int, tuple[bool, str]]:
    texts = texts or _Sentences()
    out: dict[int, tuple[bool, str]] = {}
    for h in holdings:
        certainty, code, args = copy_judgement(h.copies, wanted)
        out[h.partner_id] = (
            certainty is not None,
            texts.describe(code, args) if certainty is None else texts.availability(code),
        )
    return out
