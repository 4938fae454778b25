"""Pages of the application shell: home, sign-in and sign-out, language, account."""
from __future__ import annotations

from flask import Blueprint, Flask, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import login_user, logout_user

from . import accounts
from .accounts import client_address, login_required
from .errors import BadRequest, TooManyRequests
from .extensions import db
from .security import safe_next

bp = Blueprint("views", __name__)


@bp.get("/")
def home():
    return render_template("index.html")


@bp.route("/login", methods=["GET", "POST"])
def login():
    next_url = safe_next(request.values.get("next"))
    if request.method == "GET":
        return render_template("login.html", next=next_url)
    email = request.form.get("email", "")
    password = request.form.get("password", "")
    try:
        user = accounts.authenticate(db.session, email, password, client_address())
    except TooManyRequests as exc:
        db.session.commit()
        return render_template("login.html", next=next_url, email=email, error=exc.message), 429, {
            "Retry-After": str(exc.details.get("retry_after", 900))}
    if user is None:
        db.session.commit()  # keep the failure for throttling
        return render_template("login.html", next=next_url, email=email,
                               error=_("Wrong e-mail or password.")), 401
    _start_session(user)
    flash(_("Welcome, %(name)s.", name=user.name), "success")
    return redirect(next_url or url_for("views.home"))


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password():
    """A link to set a new password, mailed to the account's address. The
    page says the same whether or not there is such an account."""
    from . import people

    if request.method == "GET":
        return render_template("password_forgot.html")
    email = request.form.get("email", "")
    try:
        accounts.check_throttle(db.session, email, client_address())
    except TooManyRequests as exc:
        return render_template("password_forgot.html", email=email, error=exc.message), 429
    people.forgot(db.session, email)
    db.session.commit()
    flash(_("If %(email)s has an account, a link to set a new password is on its way there.",
            email=accounts.normalise_email(email)), "info")
    return redirect(url_for("views.login"))


@bp.route("/password/set/<token>", methods=["GET", "POST"])
def set_password(token):
    """Where a mailed link leads: the new password, twice; then signed in."""
    from . import people

    try:
        user, purpose = people.user_for_link(db.session, token)
    except BadRequest as exc:
        return render_template("password_set.html", error=exc.message, broken=True), 400
    if request.method == "GET":
        return render_template("password_set.html", user=user, purpose=purpose)
    try:
        user.set_new_password(request.form.get("new_password", ""), request.form.get("confirm_password", ""))
    except BadRequest as exc:
        return render_template("password_set.html", user=user, purpose=purpose, error=exc.message), 400
    people.log(db.session, user, user, "password_set", {"purpose": purpose})
    _start_session(user)
    flash(_("Your password is set. Welcome, %(name)s.", name=user.name), "success")
    return redirect(url_for("views.home"))


def _start_session(user) -> None:
    """Signs ``user`` in with a fresh session: nothing from before survives
    (session fixation) but the language chosen, which becomes theirs if they
    have none. Commits."""
    lang = session.get("lang")
    session.clear()
    if lang and not user.locale:
        user.locale = lang
    login_user(user)
    db.session.commit()


@bp.get("/account/data.json")
@login_required
def my_data():
    """Everything the service keeps about me, to download (UU PDP)."""
    import json

    from . import people
    from .accounts import current

    user = current()
    body = json.dumps(people.own_data(db.session, user), ensure_ascii=False, indent=2)
    return current_app.response_class(body, mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="my-data-{user.id}.json"'})


@bp.post("/logout")
def logout():
    from flask_login import current_user

    if current_user.is_authenticated:
        user = current_user._get_current_object()
        user.end_sessions()
        db.session.commit()
    logout_user()
    session.clear()
    flash(_("You have signed out."), "info")
    return redirect(url_for("views.home"))


@bp.post("/language")
def language():
    from flask_login import current_user

    lang = request.form.get("lang", "")
    if lang not in current_app.config["LANGUAGES"]:
        abort(400)
    session["lang"] = lang
    if current_user.is_authenticated:
        current_user.locale = lang
        db.session.commit()
    return redirect(safe_next(request.form.get("next")) or url_for("views.home"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    user = accounts.current()
    error = None
    if request.method == "POST":
        if not user.check_password(request.form.get("current_password", "")):
            error = _("Your current password is not right.")
        else:
            try:
                user.set_new_password(request.form.get("new_password", ""), request.form.get("confirm_password", ""))
            except BadRequest as exc:
                error = exc.message
        if error is None:
            # The password change ended every session, this one too: start a new one here.
            _start_session(user)
            flash(_("Your password has been changed. Other sessions have been signed out."), "success")
            return redirect(url_for("views.account"))
    return render_template("account.html", user=user, error=error), (400 if error else 200)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
