"""Pages for importing partner exports: the upload form, the history of
imports, and one import's progress and report. Coordinators import for any
partner; a librarian only for their own library."""
from __future__ import annotations

import os
import uuid

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_decimal
from flask_babel import gettext as _
from sqlalchemy import select

from ill.accounts import Role, current, require_library_staff, require_role
from ill.api import make_blueprint
from ill.config import setting
from ill.errors import BadRequest, Conflict, NotFound, ServiceError, TooLarge
from ill.extensions import db
from ill.tables import spreadsheet

from . import harvest, importer, jobs, statuses
from .models import ImportRun, StatusUpdate

bp = Blueprint("catalog_imports", __name__, url_prefix="/catalog/imports",
               template_folder="templates")
api = make_blueprint("catalog_imports_api", __name__)

STAFF = (Role.LIBRARIAN, Role.COORDINATOR, Role.ADMIN)
MARC_SUFFIXES = {".mrc", ".marc", ".dat", ".iso", ".xml", ".json", ".marcxml", ".bin", ""}


def _is_network_staff(user) -> bool:
    return user.role in (Role.COORDINATOR, Role.ADMIN)


def _partners_for(user):
    from agreements.models import Partner

    if _is_network_staff(user):
        return db.session.scalars(select(Partner).order_by(Partner.code)).all()
    return [user.library] if user.library is not None else []


def _limit() -> int:
    return int(current_app.config["CATALOG_UPLOAD_MAX_BYTES"])


# what a form's encoding adds around the files: a request this much over the
# limit may still hold a file within it (each file is weighed once stored)
_FORM_OVERHEAD = 64 * 1024


def _sizes(size: int, limit: int) -> dict:
    """A size and the limit as people read them: in MB to a tenth, or to as
    many places as it takes for the two not to read alike, or in bytes."""
    for places in (1, 2, 3):
        a, b = round(size / 2**20, places), round(limit / 2**20, places)
        if a != b:
            pattern = "#,##0." + "0" * places
            return {"size": _("%(n)s MB", n=format_decimal(a, format=pattern)),
                    "limit": _("%(n)s MB", n=format_decimal(b, format=pattern))}
    return {"size": _("%(n)s bytes", n=format_decimal(size, format="#,##0")),
            "limit": _("%(n)s bytes", n=format_decimal(limit, format="#,##0"))}


@bp.before_request
def _upload_limit():
    # Exports are larger than ordinary requests: this page has its own limit.
    request.max_content_length = _limit() + 1024 * 1024


@bp.get("/")
def imports():
    user = require_role(*STAFF)
    partner_code = request.args.get("partner", "").strip().upper()
    partners = _partners_for(user)
    runs = _latest(ImportRun, user, partner_code, 200)
    updates = _latest(StatusUpdate, user, partner_code, 20)
    sources = _sources_for(partners)
    editing = None
    if len(partners) == 1:
        editing = partners[0]
    elif partner_code:
        editing = next((p for p in partners if p.code == partner_code), None)
    return render_template("union_catalog/imports.html", runs=runs, partners=partners,
                           partner_code=partner_code, limit_mb=_limit() // (1024 * 1024),
                           progress_of=jobs.progress_of, sources=sources, editing=editing,
                           editing_source=sources.get(editing.id) if editing else None,
                           last_harvests=_last_harvests(list(sources)), status_updates=updates)


def _latest(model, user, partner_code: str, limit: int) -> list:
    """The newest rows of a library's history (import runs, statuses
    received) the user may see: a librarian's own library's, a
    coordinator's of every library or of the one chosen."""
    stmt = select(model).order_by(model.id.desc()).limit(limit)
    if not _is_network_staff(user):
        stmt = stmt.where(model.partner_id == user.library_id)
    elif partner_code:
        from agreements.models import Partner

        stmt = stmt.join(Partner, Partner.id == model.partner_id).where(Partner.code == partner_code)
    return db.session.scalars(stmt).all()


def _sources_for(partners) -> dict:
    from .models import HarvestSource

    ids = [p.id for p in partners]
    if not ids:
        return {}
    return {s.partner_id: s for s in db.session.scalars(
        select(HarvestSource).where(HarvestSource.partner_id.in_(ids)))}


def _last_harvests(partner_ids: list[int]) -> dict:
    """Each partner's latest harvest run."""
    from sqlalchemy import func

    if not partner_ids:
        return {}
    latest = (select(func.max(ImportRun.id)).where(ImportRun.harvest.is_not(None),
                                                   ImportRun.partner_id.in_(partner_ids))
              .group_by(ImportRun.partner_id))
    return {r.partner_id: r for r in db.session.scalars(select(ImportRun).where(ImportRun.id.in_(latest)))}


def _partner_from_form(user, missing: str | None = None):
    """The library a form acts for (a librarian's own when not named), if
    the user may act for it; missing: what to say when there is none."""
    from agreements.models import Partner

    code = (request.form.get("partner") or "").strip().upper()
    if not code and user.library is not None and not _is_network_staff(user):
        code = user.library.code
    partner = db.session.scalar(select(Partner).where(Partner.code == code)) if code else None
    if partner is None:
        raise BadRequest(missing or _("Choose the partner library."), field="partner")
    require_library_staff(partner.id)
    return partner


@bp.post("/harvest-source")
def save_harvest_source():
    """Where a library's catalogue is harvested from, and how often; an
    empty address stops harvesting it."""
    user = require_role(*STAFF)
    partner = _partner_from_form(user)
    form = request.form
    try:
        source = harvest.save_source(db.session, partner, url=form.get("url", ""),
                                     prefix=form.get("metadata_prefix", ""), set_spec=form.get("set", ""),
                                     every_days=form.get("every_days", "0"), actor=user.email,
                                     incremental=form.get("incremental") == "1",
                                     full_every_days=form.get("full_every_days", "30"))
    except harvest.HarvestError as exc:
        db.session.rollback()
        raise BadRequest(exc.localized()) from None
    db.session.commit()
    flash(_("Harvesting of %(code)s saved.", code=partner.code) if source is not None
          else _("%(code)s is no longer harvested.", code=partner.code), "success")
    if source is not None:
        _check_source(source)
    return redirect(url_for("catalog_imports.imports", partner=partner.code) + "#harvest-heading", code=303)


def _check_source(source) -> None:
    """Ask the repository at once what it is and offers, so that a wrong
    address or format shows now rather than at the first harvest. Saved
    either way: a repository may be down for a while."""
    timeout = float(setting("CATALOG_HARVEST_CHECK_TIMEOUT"))
    try:
        found = harvest.identify(source.url, source.metadata_prefix, timeout=timeout)
    except harvest.HarvestError as exc:
        flash(_("The address is saved, but the repository did not answer as it should: %(why)s",
                why=exc.localized()), "warning")
        return
    source.deleted_record = found["deleted_record"][:20]
    db.session.commit()
    if not found["offers_prefix"]:
        flash(_("The repository (%(name)s) does not give records in the format '%(prefix)s'. It gives: "
                "%(formats)s. Choose the MARC one (often marc21 or marcxml).",
                name=found["name"] or source.url, prefix=source.metadata_prefix,
                formats=", ".join(found["formats"]) or "?"), "warning")
    else:
        flash(_("The repository answers: %(name)s, with records in '%(prefix)s'.",
                name=found["name"] or source.url, prefix=source.metadata_prefix), "success")
    if source.incremental and not source.keeps_deletions:
        flash(_("The repository does not keep its deletions (deletedRecord: %(said)s): only what changed "
                "cannot be harvested from it, so every harvest of it is a full one.",
                said=source.deleted_record or "?"), "warning")


@bp.post("/harvest")
def harvest_now():
    """Harvest a library's catalogue now, in the background, and import it."""
    user = require_role(*STAFF)
    partner = _partner_from_form(user)
    source = harvest.source_of(db.session, partner.id)
    if source is None:
        raise BadRequest(_("%(code)s has no OAI-PMH address yet: set it first.", code=partner.code),
                         field="partner")
    run = harvest.queue_source(db.session, source, user=user, full=request.form.get("full") == "1")
    db.session.commit()
    jobs.start(current_app._get_current_object(), run.id)
    return redirect(url_for("catalog_imports.show", run_id=run.id), code=303)


@bp.post("/statuses")
def update_statuses():
    """Copies' statuses sent from the imports page: applied at once (the
    file is small), the outcome flashed on the page."""
    user = require_role(*STAFF)
    partner = _partner_from_form(user)
    upload = request.files.get("statuses")
    if upload is None or not upload.filename:
        raise BadRequest(_("Choose the file of statuses to send."), field="statuses")
    try:
        report = statuses.apply(db.session, partner, statuses.read(upload.read(), upload.mimetype or ""), user)
    except ServiceError as exc:
        db.session.rollback()
        flash(_("Nothing was changed: %(why)s", why=exc.message), "error")
        return redirect(url_for("catalog_imports.imports", partner=partner.code))
    db.session.commit()
    flash(statuses.summary_text(report), "success" if not report["problem_count"] else "info")
    for problem in report["problems"][:10]:
        flash(statuses.problem_text(problem), "info")
    return redirect(url_for("catalog_imports.imports", partner=partner.code))


@api.post("/catalog/item-statuses/<code>")
def update_statuses_api(code: str):
    """Copies' statuses from a library's system (JSON or CSV body)."""
    from agreements import partners as partner_service

    partner = partner_service.get_by_code(db.session, code)
    user = require_library_staff(partner.id)
    report = statuses.apply(db.session, partner, statuses.read(request.get_data(), request.mimetype or ""), user)
    db.session.commit()
    return jsonify(report)


@bp.post("/")
def upload():
    user = require_role(*STAFF)
    # before the body is read: a file over the limit is refused at once
    if request.content_length and request.content_length > _limit() + _FORM_OVERHEAD:
        raise TooLarge(_("The upload is %(size)s; exports up to %(limit)s are accepted. "
                         "Split the export or ask an administrator to import it from the command line.",
                         **_sizes(request.content_length, _limit())))
    partner = _partner_from_form(user, _("Choose the partner library this export comes from."))
    export = request.files.get("file")
    if export is None or not export.filename:
        raise BadRequest(_("Choose the MARC export file to upload."), field="file")
    items = request.files.get("items")
    if items is not None and not items.filename:
        items = None
    folder = jobs.uploads_dir()
    stored = _store(export, folder)
    items_stored = _store(items, folder) if items is not None else None
    for path in (stored, items_stored):
        size = os.path.getsize(path) if path else 0
        if size > _limit():
            _discard(stored, items_stored)
            raise TooLarge(_("The file is %(size)s, larger than the upload limit of %(limit)s.",
                             **_sizes(size, _limit())))
    if os.path.getsize(stored) == 0:
        _discard(stored, items_stored)
        raise BadRequest(_("The file %(name)s is empty.", name=export.filename), field="file")
    run = ImportRun(partner_id=partner.id, user_id=user.id, filename=_display_name(export.filename),
                    stored_path=stored, status="queued",
                    items_filename=_display_name(items.filename) if items is not None else None,
                    items_stored_path=items_stored,
                    allow_withdrawals=request.form.get("allow_withdrawals") in ("1", "on", "true"),
                    check_only=request.form.get("check_only") in ("1", "on", "true"))
    db.session.add(run)
    db.session.commit()
    jobs.start(current_app._get_current_object(), run.id)
    return redirect(url_for("catalog_imports.show", run_id=run.id), code=303)


def _display_name(name: str) -> str:
    return os.path.basename(name.replace("\\", "/"))[:255]


def _store(upload, folder) -> str:
    # A generated name: the user's file name never reaches the file system.
    suffix = os.path.splitext(_display_name(upload.filename))[1].lower()
    suffix = suffix if suffix in MARC_SUFFIXES | {".csv", ".txt"} else ""
    path = os.path.join(folder, f"{uuid.uuid4().hex}{suffix}")
    upload.save(path)
    return path


def _discard(*paths) -> None:
    for path in paths:
        if path:
            try:
                os.unlink(path)
            except OSError:
                pass


def _run_for(run_id: int) -> ImportRun:
    run = db.session.get(ImportRun, run_id)
    if run is None:
        raise NotFound(_("There is no import %(id)s.", id=run_id))
    require_library_staff(run.partner_id)
    return run


@bp.get("/<int:run_id>")
def show(run_id: int):
    current()
    run = _run_for(run_id)
    return render_template("union_catalog/import_run.html", run=run, report=run.report or {},
                           progress=jobs.progress_of(run) if run.status == "running" else None)


def _same_file(old: ImportRun, user) -> ImportRun:
    """A new queued run of an earlier run's stored file(s)."""
    if not old.stored_path or not os.path.exists(old.stored_path) or (
            old.items_stored_path and not os.path.exists(old.items_stored_path)):
        raise Conflict(_("The file of this import is no longer kept: upload it again."))
    run = ImportRun(partner_id=old.partner_id, user_id=user.id, filename=old.filename,
                    stored_path=old.stored_path, items_filename=old.items_filename,
                    items_stored_path=old.items_stored_path, status="queued",
                    harvest=dict(old.harvest) if old.harvest else None)  # an incremental one stays so
    db.session.add(run)
    return run


@bp.post("/<int:run_id>/import")
def import_checked(run_id: int):
    """Import for real a file that was checked only."""
    user = require_role(*STAFF)
    old = _run_for(run_id)
    if old.status != "checked":
        raise Conflict(_("Only a checked import can be imported from here."))
    run = _same_file(old, user)
    run.allow_withdrawals = old.allow_withdrawals
    db.session.commit()
    jobs.start(current_app._get_current_object(), run.id)
    return redirect(url_for("catalog_imports.show", run_id=run.id), code=303)


@bp.post("/<int:run_id>/again")
def again(run_id: int):
    """Run a failed import again, the same file (or harvest) allowing the
    withdrawals it stopped at: someone has looked and says the library
    really no longer holds those records."""
    user = require_role(*STAFF)
    old = _run_for(run_id)
    if old.status != "failed" or jobs.failure_kind(old) != "too_many_withdrawals":
        raise Conflict(_("Only an import that stopped at its withdrawals can be run again from here."))
    if old.harvest:
        run = harvest.queue(db.session, old.partner, url=old.harvest["url"],
                            prefix=old.harvest.get("metadata_prefix", ""),
                            set_spec=old.harvest.get("set", ""), since=old.harvest.get("since", ""), user=user)
    else:
        run = _same_file(old, user)
    run.allow_withdrawals = True
    db.session.commit()
    jobs.start(current_app._get_current_object(), run.id)
    return redirect(url_for("catalog_imports.show", run_id=run.id), code=303)


@bp.get("/<int:run_id>.json")
def show_json(run_id: int):
    run = _run_for(run_id)
    return jsonify({"id": run.id, "partner": run.partner.code, "status": run.status,
                    "file": run.filename, "items_file": run.items_filename,
                    "created_at": run.created_at.isoformat() if run.created_at else None,
                    "finished_at": run.finished_at.isoformat() if run.finished_at else None,
                    "user": run.user.email if run.user else None,
                    "progress": jobs.progress_of(run) if run.status == "running" else None,
                    "harvest": run.harvest, "check_only": run.check_only,
                    "allow_withdrawals": run.allow_withdrawals,
                    "failure": run.failure, "failure_kind": jobs.failure_kind(run) or None,
                    "report": run.report})


@bp.get("/<int:run_id>-problems.csv")
def problems_csv(run_id: int):
    """The import's problems as a spreadsheet (UTF-8 with a byte order mark,
    so that spreadsheet programs read it as such), in the reader's language."""
    run = _run_for(run_id)
    return spreadsheet(importer.problem_rows(run.report or {}), f"import-{run.id}-{run.partner.code}-problems.csv")


@bp.get("/<int:run_id>-withdrawn.csv")
def withdrawn_csv(run_id: int):
    """The records the import withdrew (or would have), as a spreadsheet."""
    run = _run_for(run_id)
    return spreadsheet(importer.withdrawn_rows(db.session, run), f"import-{run.id}-{run.partner.code}-withdrawn.csv")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_blueprint(api)
    app.jinja_env.filters["defect_text"] = importer.defect_text
    app.jinja_env.filters["outcome_text"] = importer.outcome_text
    app.jinja_env.filters["failure_text"] = jobs.failure_text
    app.jinja_env.filters["failure_kind"] = jobs.failure_kind
