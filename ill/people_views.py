"""Accounts: a library's librarians add and deactivate their patrons and
colleagues, coordinators everyone's; pages under /people and the API's
/api/v1/users. The rules are in ``ill.people``."""

from __future__ import annotations

from flask import Blueprint, Flask, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from . import people
from .accounts import Role, current, login_required
from .api import make_blueprint
from .errors import BadRequest, ServiceError
from .extensions import db
from .tables import spreadsheet, uploaded_text

bp = Blueprint("people", __name__, url_prefix="/people")
api = make_blueprint("people_api", __name__)


def _library(code: str | None):
    """A partner by its code, or None for nothing given."""
    if not code:
        return None
    from agreements.partners import get_by_code

    return get_by_code(db.session, code)


def _roles_for(user) -> list[str]:
    """The roles ``user`` may give an account they add."""
    library_id = user.library_id if user.role == Role.LIBRARIAN else None
    return [r.value for r in Role if people.may_manage(user, r.value, library_id)]


# --- pages -------------------------------------------------------------------------


@bp.route("/", methods=["GET", "POST"])
@login_required
def index():
    user = current()
    error, status = None, 200
    if request.method == "POST":
        form = request.form
        try:
            if form.get("action") == "import":
                upload = request.files.get("file")
                if upload is None or not upload.filename:
                    raise BadRequest(_("Choose a CSV file."), field="file")
                report = people.import_csv(db.session, user, uploaded_text(upload.read()),
                                           library=_library(form.get("library")))
                db.session.commit()
                _say_import(report)
            else:
                added = people.add(db.session, user, form.get("email", ""), name=form.get("name", ""),
                                   role=form.get("role") or Role.PATRON, library=_library(form.get("library")),
                                   locale=form.get("locale") or None, card=form.get("card_number", ""))
                db.session.commit()
                flash(_("%(email)s added; an invitation to choose a password is on its way.",
                        email=added.email), "success")
        except ServiceError as exc:
            db.session.rollback()
            if exc.status == 403:
                raise
            error, status = exc.message, exc.status
        else:
            return redirect(url_for("people.index"), code=303)
    args = request.args
    try:
        found = people.listing(db.session, user, q=args.get("q"), role=args.get("role") or None,
                               library_id=_library(args.get("library")).id if args.get("library") else None,
                               page=args.get("page") or 1)
    except BadRequest as exc:
        flash(exc.message, "error")
        found = people.listing(db.session, user)
    from sqlalchemy import select

    from agreements.models import Partner

    libraries = db.session.scalars(select(Partner).order_by(Partner.code)).all() if user.role != Role.LIBRARIAN else []
    return render_template("people/index.html", found=found, q=args.get("q", ""), role=args.get("role", ""),
                           library=args.get("library", ""), libraries=libraries, roles=_roles_for(user),
                           may_manage=lambda u: u.id != user.id and people.may_manage(user, u.role, u.library_id),
                           error=error, form=request.form if error else None,
                           import_max=people.IMPORT_MAX_ROWS), status


@bp.get("/accounts.csv")
@login_required
def accounts_csv():
    """The accounts the reader manages (as the page finds them), every page of
    them, as a spreadsheet: to compare with the library's own system."""
    args = request.args
    user = current()
    library = _library(args.get("library"))
    accounts = people.managed(db.session, user, q=args.get("q"), role=args.get("role") or None,
                              library_id=library.id if library else None)
    rows = [["email", "name", "role", "library", "card_number", "locale", "active", "has_password", "created_at"]]
    rows += [[u.email, u.name, u.role, u.library.code if u.library else "", u.card_number, u.locale or "",
              "yes" if u.active else "no", "yes" if u.password_hash else "no",
              u.created_at.date().isoformat() if u.created_at else ""] for u in accounts if not u.erased_at]
    name = library.code if library else (user.library.code if user.library else "all")
    return spreadsheet(rows, f"accounts-{name.lower()}.csv")


def _say_import(report: people.ImportReport) -> None:
    flash(ngettext("%(num)d account added; each is mailed an invitation.",
                   "%(num)d accounts added; each is mailed an invitation.", len(report.added)), "success")
    if report.existing:
        flash(ngettext("%(num)d address has an account already and is left as it is: %(list)s",
                       "%(num)d addresses have an account already and are left as they are: %(list)s",
                       len(report.existing), list=", ".join(report.existing[:20])), "warning")
    for line, message in report.problems[:50]:
        flash(_("Line %(line)d: %(message)s", line=line, message=message), "error")


@bp.post("/<int:user_id>")
@login_required
def act(user_id: int):
    user = current()
    account = people.get(db.session, user, user_id)
    action = request.form.get("action")
    try:
        if action in ("deactivate", "activate"):
            changed = people.set_active(db.session, user, account, action == "activate")
            message = (_("%(email)s may sign in again.", email=account.email) if action == "activate"
                       else _("%(email)s is deactivated and signed out.", email=account.email))
            if not changed:
                message = _("Nothing to change.")
        elif action == "erase":
            people.erase(db.session, user, account)
            message = _("The patron's personal data is erased; their requests stay, anonymous.")
        elif action == "link":
            people.mail_link(db.session, user, account)
            message = _("A link to choose a password is on its way to %(email)s.", email=account.email)
        else:
            raise BadRequest(_("Unknown action."), field="action")
        db.session.commit()
    except ServiceError as exc:
        db.session.rollback()
        if exc.status in (403, 404):
            raise
        flash(exc.message, "error")
    else:
        flash(message, "success")
    return redirect(request.referrer or url_for("people.index"), code=303)


# --- API ---------------------------------------------------------------------------


@api.get("/users")
@login_required
def list_api():
    args = request.args
    found = people.listing(db.session, current(), q=args.get("q"), role=args.get("role") or None,
                           library_id=_library(args.get("library")).id if args.get("library") else None,
                           page=args.get("page", 1), per_page=args.get("per_page", people.PER_PAGE))
    return jsonify({"users": [people.to_dict(u) for u in found.rows], **found.to_dict()})


def _body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise BadRequest(_("Send a JSON object in the request body."))
    return data


@api.get("/users/<int:user_id>")
@login_required
def get_api(user_id: int):
    account = people.get(db.session, current(), user_id)
    return jsonify({**people.to_dict(account),
                    "history": [people.change_to_dict(c) for c in people.history(db.session, account)]})


@api.post("/users")
@login_required
def add_api():
    data = _body()
    added = people.add(db.session, current(), str(data.get("email") or ""), name=str(data.get("name") or ""),
                       role=str(data.get("role") or Role.PATRON), library=_library(data.get("library")),
                       locale=data.get("locale") or None, invite=data.get("invite", True) is not False,
                       card=str(data.get("card_number") or ""))
    db.session.commit()
    return jsonify(people.to_dict(added)), 201


@api.post("/users/import")
@login_required
def import_api():
    upload = request.files.get("file")
    if upload is None:
        raise BadRequest(_("Send the CSV file as 'file' (multipart)."), field="file")
    report = people.import_csv(db.session, current(), uploaded_text(upload.read()),
                               library=_library(request.form.get("library")))
    db.session.commit()
    return jsonify(report.to_dict()), 200


@api.patch("/users/<int:user_id>")
@login_required
def update_api(user_id: int):
    user = current()
    account = people.get(db.session, user, user_id)
    people.update(db.session, user, account, _body())
    db.session.commit()
    return jsonify(people.to_dict(account))


@api.post("/users/<int:user_id>/erase")
@login_required
def erase_api(user_id: int):
    """A patron's personal data erased (UU PDP); their requests stay, anonymous."""
    user = current()
    account = people.get(db.session, user, user_id)
    people.erase(db.session, user, account)
    db.session.commit()
    return jsonify(people.to_dict(account))


@api.post("/users/<int:user_id>/password-link")
@login_required
def link_api(user_id: int):
    user = current()
    account = people.get(db.session, user, user_id)
    people.mail_link(db.session, user, account)
    db.session.commit()
    return jsonify({"sent_to": account.email}), 202


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_blueprint(api)
