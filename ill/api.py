"""The ``/api/v1`` blueprint of the shell, and the rules every API blueprint
follows: token or session authentication, CSRF for cookie-authenticated
writes, JSON errors."""
from __future__ import annotations

from flask import Blueprint, Flask, g, jsonify, request

from . import accounts
from .accounts import current
from .errors import NotFound
from .extensions import csrf, db

API_PREFIX = "/api/v1"


def make_blueprint(name: str, import_name: str) -> Blueprint:
    """A blueprint under /api/v1. Bearer-token calls need no CSRF token;
    calls riding on the browser's session cookie do (header X-CSRFToken)."""
    bp = Blueprint(name, import_name, url_prefix=API_PREFIX)
    csrf.exempt(bp)

    @bp.before_request
    def _check_csrf():
        if g.get("auth_via_token"):
            return  # browsers do not send tokens on their own: no CSRF to fear
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return
        from flask_login import current_user

        if not current_user.is_authenticated:
            return  # no session to ride on: the endpoint answers 401
        csrf.protect()

    return bp


bp = make_blueprint("api", __name__)


@bp.get("/me")
def me():
    user = current()
    return jsonify({"id": user.id, "email": user.email, "name": user.name, "role": user.role,
                    "library": user.library.code if user.library else None, "locale": user.locale})


@bp.get("/me/data")
def my_data():
    """Everything the service keeps about the signed-in user (UU PDP)."""
    from . import people

    return jsonify(people.own_data(db.session, current()))


@bp.get("/tokens")
def list_tokens():
    user = current()
    return jsonify({"tokens": [_token_dict(t) for t in user.tokens]})


@bp.post("/tokens")
def create_token():
    """A new API token for the signed-in user; shown once."""
    user = current()
    body = request.get_json(silent=True) or {}
    token = accounts.issue_token(db.session, user, label=str(body.get("label", ""))[:100])
    db.session.commit()
    return jsonify({"token": token, "tokens": [_token_dict(t) for t in user.tokens]}), 201


@bp.delete("/tokens/<int:token_id>")
def revoke_token(token_id: int):
    user = current()
    row = next((t for t in user.tokens if t.id == token_id), None)
    if row is None:
        raise NotFound("No such token.")
    if row.revoked_at is None:
        row.revoked_at = accounts.utcnow()
    db.session.commit()
    return jsonify(_token_dict(row))


def _token_dict(t) -> dict:
    return {"id": t.id, "label": t.label, "created_at": t.created_at.isoformat(),
            "last_used_at": t.last_used_at.isoformat() if t.last_used_at else None,
            "revoked": t.revoked_at is not None}


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
