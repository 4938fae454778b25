"""Document delivery: the lender answers a copy request with a PDF scan
(``copy_completed``), the patron downloads it for a limited time or number of
downloads, then the file is deleted. Attached to the loan workflow through its
hooks (``workflow.add_effect``, ``workflow.after_transition``), so the state
machine stays the one place where a status changes."""
from __future__ import annotations

import hashlib
import io
import logging
import os
import secrets
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import event, select, update

from . import clock
from .accounts import Role, User, utcnow
from .delivery_models import CopyDownload, CopyrightDeclaration, DeliveredCopy
from .errors import BadRequest, Forbidden, NotFound, ServiceError, TooLarge, UnsupportedMedia
from .extensions import db

log = logging.getLogger(__name__)

# What a patron declares when asking for a copy; kept word for word with the request.
DECLARATION = _l(
    "I ask for this copy for my own private study or research only. I will not pass it on "
    "or use it for any other purpose, and I understand that the copy is made within the "
    "limits that copyright law allows.")


class Gone(ServiceError):
    status, code = 410, "gone"


class Unprocessable(ServiceError):
    status, code = 422, "unprocessable"


# --- files ----------------------------------------------------------------------

def storage_dir() -> Path:
    """Outside the web root: DATA_DIR is the instance folder unless set."""
    path = Path(current_app.config["DATA_DIR"]) / "deliveries"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _read_upload(upload, limit: int) -> tuple[bytes, str]:
    """The bytes and the name of an uploaded file (a werkzeug FileStorage, a
    file object or bytes), refusing more than ``limit`` bytes."""
    if upload is None or upload == "":
        raise BadRequest(_("Attach the scan as a PDF file ('file', sent as multipart/form-data)."),
                         field="file")
    name = getattr(upload, "filename", None) or getattr(upload, "name", None) or ""
    if isinstance(upload, bytes | bytearray):
        data = bytes(upload)
    elif hasattr(upload, "read"):
        data = upload.read(limit + 1)
    else:
        raise BadRequest(_("'file' must be an uploaded file, sent as multipart/form-data."),
                         field="file")
    if len(data) > limit:
        raise TooLarge(_("The file is larger than the %(mb)s MB a delivered copy may have.",
                         mb=_megabytes(limit)), field="file")
    if not data:
        raise BadRequest(_("The file '%(name)s' is empty.", name=os.path.basename(str(name))),
                         field="file")
    return data, os.path.basename(str(name))[:255]


def _megabytes(n: int) -> str:
    return f"{n / (1024 * 1024):.0f}" if n >= 1024 * 1024 else f"{n / (1024 * 1024):.2f}"


def count_pdf_pages(data: bytes) -> int:
    """Pages of a PDF, checked by its content, not its name or declared type:
    the %PDF- header, an end-of-file marker with its cross-reference pointer,
    and a page tree that pypdf can read."""
    if not data.startswith(b"%PDF-"):
        raise UnsupportedMedia(_("This file is not a PDF (it does not begin with %%PDF-). Scan "
                                 "the copy to PDF and send that file."), field="file")
    tail = data[-2048:]
    if b"%%EOF" not in tail or b"startxref" not in tail:
        raise Unprocessable(_("This PDF is incomplete or damaged (no end-of-file marker). Save "
                              "or export it again and send the new file."), field="file")
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise Unprocessable(_("This PDF is protected by a password, so the patron could not "
                                  "open it. Send it without a password."), field="file")
        pages = len(reader.pages)
    except ServiceError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError,
            RecursionError, NotImplementedError, OSError) as exc:
        raise Unprocessable(_("This PDF cannot be read (%(why)s). Save or export it again and "
                              "send the new file.", why=str(exc)[:200]), field="file")
    if pages < 1:
        raise Unprocessable(_("This PDF has no pages."), field="file")
    return pages


def _write(data: bytes) -> str:
    name = secrets.token_hex(16) + ".pdf"
    folder = storage_dir()
    tmp = folder / (name + ".part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, folder / name)
    return name


def _unlink(name: str) -> None:
    try:
        (storage_dir() / name).unlink()
    except FileNotFoundError:
        pass


# Files written by a transaction are removed if it rolls back; files of copies
# that end are removed once the transaction that ended them commits.
def _on_commit(session) -> None:
    session.info.pop("ill_delivery_written", None)
    for name in session.info.pop("ill_delivery_doomed", []):
        try:
            _unlink(name)
        except (OSError, RuntimeError):
            log.exception("could not delete delivered copy %s; the tick will retry", name)


def _on_rollback(session, previous) -> None:
    if previous.nested:  # a savepoint: the outer transaction may still commit
        return
    session.info.pop("ill_delivery_doomed", None)
    for name in session.info.pop("ill_delivery_written", []):
        try:
            _unlink(name)
        except (OSError, RuntimeError):
            log.exception("could not remove %s after a rollback", name)


def _doom(session, copy: DeliveredCopy, reason: str) -> None:
    copy.deleted_at = utcnow()
    copy.deleted_reason = reason
    session.info.setdefault("ill_delivery_doomed", []).append(copy.stored_name)


# --- the copy_completed effect ------------------------------------------------------

def cost_per_page(session, req, day: date) -> Decimal | None:
    try:
        from .requests_service import agreement_between
    except ImportError:
        return None
    link = agreement_between(session, req.requester_library_id, req.current_lender_id, "copy", day)
    value = getattr(link, "cost_per_page", None)
    return Decimal(str(value)) if value is not None else None


def attach_copy(ctx) -> None:
    """Effect of ``copy_completed``: check, count, cost and store the scan."""
    session = ctx.session or db.session
    req = ctx.request
    cfg = current_app.config
    upload = ctx.params.get("file")
    files = ctx.params.get("files")  # the request's files, as the loan views pass them
    if (upload is None or isinstance(upload, str)) and files is not None:
        upload = files.get("file")
    data, original = _read_upload(upload, int(cfg["DELIVERY_MAX_BYTES"]))
    pages = count_pdf_pages(data)
    if session.scalar(select(DeliveredCopy.id).where(DeliveredCopy.request_id == req.id)):
        raise ServiceError(_("A copy has already been delivered for this request."),
                           status=409, code="conflict")
    per_page = cost_per_page(session, req, ctx.day)
    cost = (per_page * pages).quantize(Decimal("0.01")) if per_page is not None else None
    stored = _write(data)
    session.info.setdefault("ill_delivery_written", []).append(stored)
    copy = DeliveredCopy(
        request_id=req.id, stored_name=stored, original_name=original, size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(), pages=pages, cost_per_page=per_page, cost=cost,
        uploaded_by_id=getattr(ctx.actor, "id", None),
        available_until=ctx.day + timedelta(days=int(cfg["DELIVERY_EXPIRY_DAYS"])),
        max_downloads=int(cfg["DELIVERY_MAX_DOWNLOADS"]))
    session.add(copy)
    if cost is not None and not req.cost:
        req.cost = str(cost)
    ctx.data.update(pages=pages, size=len(data))
    if cost is not None:
        ctx.data["cost"] = str(cost)


def copy_for(session, request_id: int) -> DeliveredCopy | None:
    return session.scalar(select(DeliveredCopy).where(DeliveredCopy.request_id == request_id))


# --- the copyright declaration -------------------------------------------------------

def declaration_text(locale: str) -> str:
    with force_locale(locale):
        return str(DECLARATION)


def record_declaration(session, req) -> CopyrightDeclaration | None:
    """Keep what the patron declared with a copy request, in their language."""
    if req.service != "copy" or not req.copyright_ack:
        return None
    existing = session.scalar(select(CopyrightDeclaration).where(
        CopyrightDeclaration.request_id == req.id))
    if existing is not None:
        return existing
    from .notify import recipient_locale

    patron = req.patron
    locale = recipient_locale(patron) if patron is not None else \
        current_app.config["BABEL_DEFAULT_LOCALE"]
    decl = CopyrightDeclaration(request_id=req.id, patron_id=req.patron_id,
                                text=declaration_text(locale), locale=locale)
    session.add(decl)
    return decl


def declaration_for(session, request_id: int) -> CopyrightDeclaration | None:
    return session.scalar(select(CopyrightDeclaration).where(
        CopyrightDeclaration.request_id == request_id))


# --- downloading -------------------------------------------------------------------

def may_download(user: User, req) -> bool:
    if user.id == req.patron_id:
        return True
    return user.role == Role.LIBRARIAN and user.library_id == req.requester_library_id


def _visible(user: User, req) -> bool:
    if may_download(user, req) or user.role in (Role.COORDINATOR, Role.ADMIN):
        return True
    return user.role == Role.LIBRARIAN and user.library_id == req.current_lender_id


def gone_message(copy: DeliveredCopy) -> str:
    from .ui import format_day

    if copy.deleted_reason == "missing":
        return _("The file of this copy is missing. Ask the lending library to send it again.")
    when = format_day(clock.day_of(copy.deleted_at)) if copy.deleted_at else ""
    if copy.deleted_reason == "download_limit":
        return _("The copy is no longer available: it was downloaded %(n)d times, the most "
                 "allowed, and then deleted (%(day)s).", n=copy.max_downloads, day=when)
    return _("The copy is no longer available: access ended on %(end)s and the file was "
             "deleted. Ask your library if you need it again.",
             end=format_day(copy.available_until))


def download(session, user: User, request_id: int, address: str = "",
             day: date | None = None) -> tuple[bytes | None, DeliveredCopy]:
    """The copy's bytes for this user, with the download recorded; or None
    when access has ended (then ``gone_message(copy)`` says why). A copy found
    past its last day, or reaching the download limit now, is ended here and its
    file deleted once the caller commits: commit in both cases."""
    from .models import LoanRequest

    day = day or clock.today()
    req = session.get(LoanRequest, request_id)
    if req is None or not _visible(user, req):
        raise NotFound(_("No request %(id)s that you may see.", id=request_id))
    if not may_download(user, req):
        raise Forbidden(_("Only the patron who asked and the borrowing library's staff may "
                          "download this copy."))
    copy = copy_for(session, request_id)
    if copy is None:
        raise NotFound(_("No copy has been delivered for this request yet."))
    if copy.deleted_at is None and day > copy.available_until:
        _doom(session, copy, "expired")
    if copy.deleted_at is not None:
        return None, copy
    try:
        data = (storage_dir() / copy.stored_name).read_bytes()
    except FileNotFoundError:
        log.error("delivered copy %s of request %s is missing on disk", copy.stored_name, req.id)
        _doom(session, copy, "missing")
        return None, copy
    # Counted in the database, not in Python, so two downloads at once cannot
    # both take the last one.
    taken = session.execute(update(DeliveredCopy).where(
        DeliveredCopy.id == copy.id, DeliveredCopy.deleted_at.is_(None),
        DeliveredCopy.downloads < DeliveredCopy.max_downloads)
        .values(downloads=DeliveredCopy.downloads + 1)
        .execution_options(synchronize_session=False)).rowcount
    session.refresh(copy)
    if not taken:
        return None, copy
    session.add(CopyDownload(copy_id=copy.id, user_id=user.id, address=address[:64]))
    if copy.downloads >= copy.max_downloads:
        _doom(session, copy, "download_limit")
    return data, copy


def downloads_of(session, copy: DeliveredCopy) -> list[CopyDownload]:
    return list(session.scalars(select(CopyDownload).where(CopyDownload.copy_id == copy.id)
                                .order_by(CopyDownload.at, CopyDownload.id)))


# --- the daily tick ----------------------------------------------------------------

def expire_copies(session, day: date) -> list[str]:
    """Copies past their last day lose their file; leftovers are swept up."""
    lines = []
    rows = session.scalars(select(DeliveredCopy).where(
        DeliveredCopy.deleted_at.is_(None), DeliveredCopy.available_until < day)
        .order_by(DeliveredCopy.id)).all()
    for copy in rows:
        _doom(session, copy, "expired")
        lines.append(f"copy of request {copy.request_id} expired, file deleted")
    # Files whose copy ended but whose deletion failed, and files of
    # transactions that never committed (a crash between write and commit,
    # left a day so as not to race an upload in progress).
    session.flush()
    kept = set(session.scalars(select(DeliveredCopy.stored_name).where(
        DeliveredCopy.deleted_at.is_(None))))
    ended = set(session.scalars(select(DeliveredCopy.stored_name).where(
        DeliveredCopy.deleted_at.is_not(None))))
    doomed = set(session.info.get("ill_delivery_doomed", []))
    cutoff = utcnow().timestamp() - 24 * 3600
    for path in sorted(storage_dir().iterdir()):
        if path.name in kept or path.name in doomed or not path.is_file():
            continue
        if path.name in ended or path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            lines.append(f"stray file {path.name} deleted")
    return lines


# --- wiring --------------------------------------------------------------------------

_listening = False


def init_app(app) -> None:
    global _listening
    if not _listening:
        event.listen(db.session, "after_commit", _on_commit)
        event.listen(db.session, "after_soft_rollback", _on_rollback)
        _listening = True
    from . import delivery_views, loan_notices

    loan_notices.attach()
    try:
        from . import workflow
    except ImportError:  # the loan workflow is not part of this build
        workflow = None
    if workflow is not None:
        workflow.add_effect("copy_completed", attach_copy)
    delivery_views.init_app(app)
