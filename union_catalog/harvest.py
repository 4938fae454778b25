"""Harvesting a partner's catalogue over OAI-PMH, as an export.

Koha, INLISLite and other systems answer OAI-PMH (``ListRecords``) with
MARC21 slim records, a page at a time, each page naming the next by a
resumption token. A full harvest asks for the whole list (no ``from``, so
that a record the partner deleted is simply absent) and writes its MARC
records, in the order given, to one MARCXML collection on disk, each with
its identifier in the repository (an ``oai:identifier`` attribute). That
file is then imported as any export is (``importer.import_export``): the
same report, the same replace-as-a-unit. A harvest that fails midway writes
nothing to the catalogue.

An incremental harvest (``since``: the ``responseDate`` of the last harvest
imported) asks only for what changed since (``from``), deletions included,
which it writes as empty records marked ``oai:status="deleted"``; imported
with ``incremental``, it withdraws those and nothing else. It is only as
good as the repository's memory of deletions: ``plan`` makes one only where
the repository keeps them (``deletedRecord`` persistent or transient) and
a full harvest every so many days all the same.

Each page is read whole (a page is tens or hundreds of records) by
defusedxml's parser: no DTD, no entity, nothing fetched. Records are written
as they come, so memory does not grow with the catalogue.

Errors are HarvestError: a message in English for scripts and logs, and its
msgid and values (``details["failure"]``) for a page to say it in its
reader's language (``errors.failure_text``)."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit
from xml.sax.saxutils import escape, quoteattr

from ill import clock

from . import dublin_core
from .errors import CatalogError
from .marc import MARC_NS, N_, OAI_NS

_OAI = "{" + OAI_NS + "}"
DEFAULT_PREFIX = "marc21"
# metadataPrefix and setSpec are tokens (OAI-PMH 2.0, 3.5 and 4.6)
_TOKEN_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!~*'():")
USER_AGENT = "ill-union-catalog-harvester (OAI-PMH 2.0)"


class HarvestError(CatalogError):
    """A harvest that cannot go on: raised as ``HarvestError.said(N_(...), ...)``."""


def check_url(url: str) -> str:
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise HarvestError.said(N_("'%(url)s' is not an OAI-PMH base URL: give one beginning with http:// "
                              "or https://, as the library's system shows it."), url=url)
    if parts.query or parts.fragment:
        raise HarvestError.said(N_("'%(url)s' is not an OAI-PMH base URL: give it without '?' and what "
                              "follows (verb=..., metadataPrefix=...)."), url=url)
    return url


def check_token(value: str, what: str) -> str:
    value = (value or "").strip()
    if value and not set(value) <= _TOKEN_CHARS:
        raise HarvestError.said(N_("'%(value)s' is not a valid OAI-PMH %(what)s: use letters, digits "
                              "and - _ . ! ~ * ' ( ) : only."), value=value, what=what)
    return value


def settings(url: str, prefix: str = "", set_spec: str = "") -> tuple[str, str, str]:
    """A harvest's base URL, metadataPrefix (marc21 when none) and set, checked."""
    return (check_url(url), check_token(prefix, "metadataPrefix") or DEFAULT_PREFIX,
            check_token(set_spec, "set"))


@dataclass
class Harvested:
    """What a harvest fetched."""

    url: str
    prefix: str
    set_spec: str
    since: str = ""  # an incremental harvest's ``from``; "" for a full one
    pages: int = 0
    records: int = 0
    deleted: int = 0  # records the repository lists as deleted (written as markers when incremental)
    from_dublin_core: int = 0  # records given in Dublin Core only (oai_dc), written as MARC
    not_marc: list[str] = field(default_factory=list)  # identifiers of records in another format
    bytes: int = 0
    response_date: str = ""  # the repository's time of the first page: the next one's ``since``

    def as_dict(self) -> dict:
        return {"url": self.url, "metadata_prefix": self.prefix, "set": self.set_spec,
                "since": self.since, "response_date": self.response_date,
                "pages": self.pages, "records": self.records, "deleted": self.deleted,
                "from_dublin_core": self.from_dublin_core,
                "not_marc": len(self.not_marc), "not_marc_identifiers": self.not_marc[:50]}


ProgressFn = Callable[[int, int, int | None], None]  # records, pages, completeListSize


def harvest(url: str, out_path: str, *, prefix: str = DEFAULT_PREFIX, set_spec: str = "",
            since: str = "", http=None, progress: ProgressFn | None = None, timeout: float = 120.0,
            max_page_bytes: int = 64 << 20, retries: int = 3, max_wait: float = 300.0,
            sleep: Callable[[float], None] = time.sleep) -> Harvested:
    """Harvest every record of the repository at url (in prefix, of set_spec
    when given) into out_path as a MARCXML collection; or, since a moment
    (the responseDate of an earlier harvest), what changed since, deletions
    included. HarvestError when it cannot, or when a full harvest finds no
    MARC record at all."""
    import requests

    url, prefix, set_spec = settings(url, prefix, set_spec)
    if http is None:  # one connection kept open for every page, closed at the end
        with requests.Session() as session:
            return harvest(url, out_path, prefix=prefix, set_spec=set_spec, since=since, http=session,
                           progress=progress, timeout=timeout, max_page_bytes=max_page_bytes,
                           retries=retries, max_wait=max_wait, sleep=sleep)
    done = Harvested(url=url, prefix=prefix, set_spec=set_spec, since=since)
    params = {"verb": "ListRecords", "metadataPrefix": prefix}
    if set_spec:
        params["set"] = set_spec
    if since:
        params["from"] = _in_granularity(since, http, url, timeout, sleep)
    tokens_seen: set[str] = set()
    with open(out_path, "w", encoding="utf-8", newline="\n") as out:
        out.write(f'<?xml version="1.0" encoding="UTF-8"?>\n'
                  f'<collection xmlns="{MARC_NS}" xmlns:oai="{OAI_NS}">\n')
        while True:
            page = _fetch(http, url, params, done.pages + 1, timeout, max_page_bytes, retries,
                          max_wait, sleep)
            done.pages += 1
            done.bytes += len(page)
            root = _parse(page, done.pages)
            if done.pages == 1:
                done.response_date = (root.findtext(_OAI + "responseDate") or "").strip()
            if since and done.pages == 1 and _error_code(root) == "noRecordsMatch":
                break  # nothing changed since
            _raise_oai_error(root, done, http, timeout)
            listing = root.find(_OAI + "ListRecords")
            if listing is None:
                raise HarvestError.said(N_("Page %(page)s of the harvest is not an OAI-PMH ListRecords "
                                      "answer: is %(url)s the repository's base URL?"),
                                   page=done.pages, url=url)
            for record in listing.iter(_OAI + "record"):
                _write_record(out, record, done)
            if progress:
                progress(done.records, done.pages, _list_size(listing))
            token_elem = listing.find(_OAI + "resumptionToken")
            token = (token_elem.text or "").strip() if token_elem is not None else ""
            if not token:
                break
            if token in tokens_seen:
                raise HarvestError.said(N_("The repository gave the resumption token '%(token)s' twice "
                                      "(page %(page)s): the harvest stopped rather than loop."),
                                   token=token[:100], page=done.pages)
            tokens_seen.add(token)
            params = {"verb": "ListRecords", "resumptionToken": token}
        out.write("</collection>\n")
    if done.records == 0 and not since:  # imported, it would withdraw the library's whole catalogue
        raise HarvestError.said(N_("The harvest found no MARC record (%(deleted)s listed as deleted, "
                                   "%(other)s in another format). Nothing was changed."),
                                deleted=done.deleted, other=len(done.not_marc))
    return done


def _fetch(http, url: str, params: dict, page: int, timeout: float, limit: int, retries: int,
           max_wait: float, sleep) -> bytes:
    """One page. A 503 (the repository's way to say "later", with
    Retry-After), another 5xx or a broken connection is tried again, a few
    times; anything else fails the harvest with what went wrong."""
    import requests

    attempt = 0
    while True:
        attempt += 1
        try:
            resp = http.get(url, params=params, timeout=timeout, stream=True,
                            headers={"User-Agent": USER_AGENT})
        except requests.RequestException as exc:
            if attempt <= retries:
                sleep(min(max_wait, 2 ** attempt))
                continue
            raise HarvestError.said(N_("The repository at %(url)s could not be reached for page %(page)s "
                                  "(%(error)s). Nothing was changed."),
                               url=url, page=page, error=exc.__class__.__name__) from None
        with resp:
            if resp.status_code >= 500 and attempt <= retries:
                sleep(min(max_wait, _retry_after(resp) or 2 ** attempt))
                continue
            if resp.status_code != 200:
                raise HarvestError.said(N_("The repository answered HTTP %(status)s for page %(page)s of "
                                      "the harvest (%(url)s). Nothing was changed."),
                                   status=resp.status_code, page=page, url=url)
            body = bytearray()
            for chunk in resp.iter_content(1 << 16):
                body += chunk
                if len(body) > limit:
                    size = f"{limit >> 20} MB" if limit >= 1 << 20 else f"{limit >> 10} KB"
                    raise HarvestError.said(N_("Page %(page)s of the harvest is larger than %(size)s: "
                                          "refused."), page=page, size=size)
            return bytes(body)


def _retry_after(resp) -> float | None:
    value = resp.headers.get("Retry-After", "").strip()
    return float(value) if value.isdigit() else None


def _parse(page: bytes, number: int):
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    try:
        return fromstring(page, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise HarvestError.said(N_("Page %(page)s of the harvest was refused: it declares a DTD, entities "
                              "or external references (%(kind)s), which OAI-PMH never needs."),
                           page=number, kind=exc.__class__.__name__) from None
    except ParseError as exc:
        raise HarvestError.said(N_("Page %(page)s of the harvest is not well-formed XML (%(error)s). "
                              "Nothing was changed."), page=number, error=str(exc)) from None


def _error_code(root) -> str:
    error = root.find(_OAI + "error")
    return error.get("code", "") if error is not None else ""


def _in_granularity(since: str, http, url: str, timeout: float, sleep) -> str:
    """``since`` as the repository takes ``from``: a day alone where its
    granularity is days (Identify) or it will not say (every repository
    takes days), else the full UTC time."""
    try:
        root = _parse(_fetch(http, url, {"verb": "Identify"}, 1, timeout, 1 << 20, 1, 5, sleep), 1)
        granularity = (root.findtext(f"{_OAI}Identify/{_OAI}granularity") or "").strip()
    except HarvestError:
        granularity = ""
    return since[:10] if granularity == "YYYY-MM-DD" or not granularity else since


def _raise_oai_error(root, done: Harvested, http, timeout: float) -> None:
    error = root.find(_OAI + "error")
    if error is None:
        return
    code, text = error.get("code", ""), (error.text or "").strip()
    if code == "noRecordsMatch" and done.pages == 1:
        if done.set_spec:
            raise HarvestError.said(N_("The repository has no records in the format '%(prefix)s' in the "
                                  "set '%(set)s'. Nothing was changed."),
                               prefix=done.prefix, set=done.set_spec)
        raise HarvestError.said(N_("The repository has no records in the format '%(prefix)s'. Nothing was "
                              "changed."), prefix=done.prefix)
    if code == "cannotDisseminateFormat":
        offered = _formats(http, done.url, timeout)
        raise HarvestError.said(N_("The repository does not give records in the format '%(prefix)s'. "
                              "It gives: %(formats)s. Choose the MARC one (often marc21 or marcxml)."),
                           prefix=done.prefix, formats=", ".join(offered) or "?")
    if code == "badResumptionToken":
        raise HarvestError.said(N_("The repository no longer knows the resumption token of page %(page)s "
                              "(it may have expired): harvest again. Nothing was changed."),
                           page=done.pages)
    raise HarvestError.said(N_("The repository answered page %(page)s with the OAI-PMH error %(code)s: "
                          "%(text)s. Nothing was changed."), page=done.pages, code=code, text=text[:300])


def _formats(http, url: str, timeout: float) -> list[str]:
    """The metadata prefixes a repository offers; empty when it will not say."""
    try:
        resp = http.get(url, params={"verb": "ListMetadataFormats"}, timeout=timeout,
                        headers={"User-Agent": USER_AGENT})
        root = _parse(resp.content, 1)
    except Exception:  # noqa: BLE001 - only a hint for the message
        return []
    return [(e.text or "").strip() for e in root.iter(_OAI + "metadataPrefix")]


def identify(url: str, prefix: str = DEFAULT_PREFIX, *, http=None, timeout: float = 15.0) -> dict:
    """What a repository says of itself (``Identify``) and which formats it
    offers (``ListMetadataFormats``), to check an address when it is set:
    {"name", "deleted_record", "formats", "offers_prefix"}. Raises
    HarvestError when it does not answer as an OAI-PMH repository."""
    import requests

    url = check_url(url)
    if http is None:
        with requests.Session() as session:
            return identify(url, prefix, http=session, timeout=timeout)
    root = _parse(_fetch(http, url, {"verb": "Identify"}, 1, timeout, 1 << 20, 0, 0, time.sleep), 1)
    about = root.find(_OAI + "Identify")
    if about is None:
        raise HarvestError.said(N_("%(url)s did not answer as an OAI-PMH repository (no Identify answer): "
                              "is it the repository's base URL?"), url=url)
    formats = _formats(http, url, timeout)
    return {"name": (about.findtext(_OAI + "repositoryName") or "").strip(),
            "deleted_record": (about.findtext(_OAI + "deletedRecord") or "").strip(),
            "granularity": (about.findtext(_OAI + "granularity") or "").strip(),
            "formats": formats, "offers_prefix": prefix in formats}


def _list_size(listing) -> int | None:
    token = listing.find(_OAI + "resumptionToken")
    size = token.get("completeListSize", "") if token is not None else ""
    return int(size) if size.isdigit() else None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _write_record(out, record, done: Harvested) -> None:
    header = record.find(_OAI + "header")
    identifier = (header.findtext(_OAI + "identifier") or "").strip() if header is not None else ""
    if header is not None and header.get("status") == "deleted":
        done.deleted += 1
        if done.since and identifier:  # the importer withdraws the record it names
            out.write(f'<record oai:identifier={quoteattr(identifier)} oai:status="deleted"/>\n')
        return
    metadata = record.find(_OAI + "metadata")
    marc = None
    for elem in (metadata if metadata is not None else ()):
        if _local(elem.tag) == "record":
            marc = elem
        elif _local(elem.tag) == "collection":
            marc = next((e for e in elem if _local(e.tag) == "record"), None)
        elif _local(elem.tag) == "dc":  # an institutional repository's: Dublin Core only
            marc = dublin_core.from_oai_dc(elem)
            done.from_dublin_core += marc is not None
        break
    if marc is None:
        done.not_marc.append(identifier)
        return
    # written anew in the MARC namespace, whatever prefix (or none) the
    # repository gave it, with its identifier; anything but MARC's own
    # elements is left out
    parts = [f"<record oai:identifier={quoteattr(identifier)}>" if identifier else "<record>"]
    for elem in marc:
        name = _local(elem.tag)
        if name == "leader":
            parts.append(f"<leader>{escape(elem.text or '')}</leader>")
        elif name == "controlfield":
            parts.append(f"<controlfield tag={quoteattr(elem.get('tag', ''))}>"
                         f"{escape(elem.text or '')}</controlfield>")
        elif name == "datafield":
            parts.append(f"<datafield tag={quoteattr(elem.get('tag', ''))} "
                         f"ind1={quoteattr(elem.get('ind1', ' '))} ind2={quoteattr(elem.get('ind2', ' '))}>")
            for sub in elem:
                if _local(sub.tag) == "subfield":
                    parts.append(f"<subfield code={quoteattr(sub.get('code', ''))}>"
                                 f"{escape(sub.text or '')}</subfield>")
            parts.append("</datafield>")
    parts.append("</record>\n")
    out.write("".join(parts))
    done.records += 1


# --- where each partner is harvested from ------------------------------------

def source_of(session, partner_id: int):
    from sqlalchemy import select

    from .models import HarvestSource

    return session.scalar(select(HarvestSource).where(HarvestSource.partner_id == partner_id))


def save_source(session, partner, *, url: str, prefix: str = "", set_spec: str = "",
                every_days: int | str = 0, actor: str = "", incremental: bool = False,
                full_every_days: int | str = 30):
    """Where and how often a partner is harvested (and whether only its
    changes, with a full harvest every ``full_every_days``); an empty url
    removes it. Returns the source, or None when removed."""
    from .models import HarvestSource

    source = source_of(session, partner.id)
    if not (url or "").strip():
        if source is not None:
            session.delete(source)
        return None
    url, prefix, set_spec = settings(url, prefix, set_spec)
    days = _days(every_days, 0, N_("Harvest every: give a number of days from 0 (only when asked) to 366, "
                                   "not '%(value)s'."))
    full_days = _days(full_every_days, 1, N_("A full harvest every: give a number of days from 1 to 366, "
                                             "not '%(value)s'."))
    if source is None:
        source = HarvestSource(partner_id=partner.id)
        session.add(source)
    if (source.url, source.metadata_prefix) != (url, prefix):
        source.deleted_record = ""  # not known of this repository until it is asked
    source.url, source.metadata_prefix, source.set_spec = url, prefix, set_spec
    source.every_days, source.updated_by = days, actor
    source.incremental, source.full_every_days = bool(incremental), full_days
    return source


def _days(value, low: int, message: str) -> int:
    try:
        days = int(str(value).strip() or low)
    except ValueError:
        days = -1
    if not low <= days <= 366:
        raise HarvestError.said(message, value=str(value))
    return days


def describe(url: str) -> str:
    """How an import run made by a harvest is named in lists of imports."""
    parts = urlsplit(url)
    return f"OAI-PMH {parts.hostname}{parts.path}"[:255]


def queue(session, partner, *, url: str, prefix: str = "", set_spec: str = "", since: str = "",
          user=None, status: str = "queued"):
    """An import run that harvests first (``jobs.execute`` runs it): all of
    the repository, or what changed since ``since`` (see ``plan``)."""
    from .models import ImportRun

    url, prefix, set_spec = settings(url, prefix, set_spec)
    run = ImportRun(partner_id=partner.id, user_id=user.id if user is not None else None,
                    filename=describe(url), status=status,
                    harvest={"url": url, "metadata_prefix": prefix, "set": set_spec, "since": since})
    session.add(run)
    return run


def queue_source(session, source, *, user=None, status: str = "queued", full: bool = False, now=None):
    """An import run harvesting a partner's source as it is set: incremental
    where ``plan`` says it may be (never when ``full``)."""
    from ill.accounts import utcnow

    since = "" if full else plan(session, source, now or utcnow())
    return queue(session, source.partner, url=source.url, prefix=source.metadata_prefix,
                 set_spec=source.set_spec, since=since, user=user, status=status)


def plan(session, source, now) -> str:
    """The ``since`` of a source's next harvest, "" for a full one. It is
    incremental only when the source asks for it, the repository said it
    keeps its deletions (``deletedRecord`` persistent, or transient: kept
    for a while), the last harvest imported was of the same repository,
    format and set (its ``response_date`` is the ``since``), and the last
    full one is less than ``full_every_days`` old: a deletion a transient
    repository forgot, or a change a repository failed to stamp, lasts
    until that full harvest at most."""
    from datetime import timedelta

    from sqlalchemy import select

    from .models import ImportRun

    if not source.incremental or not source.keeps_deletions:
        return ""
    same = {"url": source.url, "metadata_prefix": source.metadata_prefix, "set": source.set_spec}
    since = ""
    for run in session.scalars(select(ImportRun).where(
            ImportRun.partner_id == source.partner_id, ImportRun.status == "done",
            ImportRun.harvest.is_not(None)).order_by(ImportRun.finished_at.desc(), ImportRun.id.desc())
            .limit(400)):
        h = run.harvest or {}
        if any(h.get(k, "") != v for k, v in same.items()) or not h.get("response_date"):
            return ""  # harvested otherwise since: begin again
        since = since or h["response_date"]
        if not h.get("since"):  # the last full harvest
            fresh = now - clock.as_utc(run.finished_at) < timedelta(days=source.full_every_days)
            return since if fresh else ""
    return ""


def due(session, now) -> list:
    """Sources harvested every so many days whose last good harvest is that
    old (or that have none), and that have no import waiting or running."""
    from datetime import timedelta

    from sqlalchemy import func, select

    from .models import HarvestSource, ImportRun

    last = dict(session.execute(
        select(ImportRun.partner_id, func.max(ImportRun.finished_at))
        .where(ImportRun.status == "done", ImportRun.harvest.is_not(None))
        .group_by(ImportRun.partner_id)).all())
    busy = set(session.scalars(select(ImportRun.partner_id).where(
        ImportRun.status.in_(("queued", "running")))))
    out = []
    for source in session.scalars(select(HarvestSource).where(HarvestSource.every_days > 0)
                                  .order_by(HarvestSource.id)):
        if source.partner_id in busy:
            continue
        when = clock.as_utc(last.get(source.partner_id))
        # a little slack, so that a daily cron job's harvest is due each day
        if when is None or now - when >= timedelta(days=source.every_days) - timedelta(hours=1):
            out.append(source)
    return out


def tell_failure(session, run) -> int:
    """A scheduled harvest failed, with no one watching its page: the
    library's librarians and the coordinators are told, by notice and mail
    (after the caller's commit). Returns how many were told."""
    from ill import notify

    context = {"library": f"{run.partner.name} ({run.partner.code})", "run": run, "url": run.harvest["url"],
               "link": notify.site_url("catalog_imports.show", run_id=run.id)}
    told = notify.notify_library(session, run.partner_id, "harvest_failed",
                                 dedupe_key=f"harvest_failed:{run.id}", **context)
    told += notify.notify_coordinators(session, "partner_harvest_failed",
                                       dedupe_key=f"harvest_failed:{run.id}", **context)
    return len(told)
