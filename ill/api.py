"""The ``/api/v1`` blueprint of the shell, and the rules every API blueprint
follows: token or session authentication, CSRF for cookie-authenticated
writes, JSON errors."""
from __future__ import annotations

from flask import Blueprint, Flask, g, jsonify, request

from .accounts import current
from .extensions import csrf

API_PREFIX = "/api/v1"


def make_blueprint(name: str, import_name: str) -> Blueprint:
    """A blueprint under /api/v1. Bearer-token calls need no CSRF token;
    calls riding on the browser's session cookie do (header X-CSRFToken)."""
    bp = Blueprint(name, import_name, url_prefix=API_PREFIX)
    csrf.exempt(bp)

    @bp.before_request
    def _csrf_for_cookie_sessions():
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return
        if g.get("auth_via_token"):
            return
        from flask_login import current_user

        current_user._get_current_object()  # runs the loaders, which set auth_via_token
        if not g.get("auth_via_token"):
            csrf.protect()

    return bp


bp = make_blueprint("api", __name__)


@bp.get("/me")
def me():
    user = current()
    return jsonify({"id": user.id, "email": user.email, "name": user.name, "role": user.role,
                    "library": user.library.code if user.library else None, "locale": user.locale})


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
