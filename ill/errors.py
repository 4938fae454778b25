"""One exception base for the service, carrying an HTTP status and a message a
librarian can act on; and the handlers that answer JSON to the API and a
friendly page to people. No traceback ever reaches a user."""
from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from .extensions import db

log = logging.getLogger(__name__)


class ServiceError(Exception):
    """Base of every error a user may see. Packages subclass it."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None,
                 field: str | None = None, details: dict | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        if status:
            self.status = status
        self.field = field
        self.details = details or {}

    def to_dict(self) -> dict:
        body = {"code": self.code, "message": self.message}
        if self.field:
            body["field"] = self.field
        if self.details:
            body["details"] = self.details
        return {"error": body}


class BadRequest(ServiceError):
    status, code = 400, "bad_request"


class NotSignedIn(ServiceError):
    status, code = 401, "not_signed_in"


class Forbidden(ServiceError):
    status, code = 403, "forbidden"


class NotFound(ServiceError):
    status, code = 404, "not_found"


class Conflict(ServiceError):
    status, code = 409, "conflict"


class Gone(ServiceError):
    status, code = 410, "gone"


class TooLarge(ServiceError):
    status, code = 413, "too_large"


class UnsupportedMedia(ServiceError):
    status, code = 415, "unsupported_media_type"


class TooManyRequests(ServiceError):
    status, code = 429, "too_many_requests"


def wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def _http_messages() -> dict[int, str]:
    return {
        400: _("The request could not be understood."),
        401: _("Please sign in first."),
        403: _("You are not allowed to do this."),
        404: _("We could not find that page."),
        405: _("That method is not allowed here."),
        409: _("Someone else acted first, or this action is not allowed now."),
        413: _("The file or request is too large."),
        415: _("That kind of file is not accepted."),
        429: _("Too many attempts. Please wait a moment and try again."),
        500: _("Something went wrong on our side. The team has been told."),
    }


def _codes() -> dict[int, str]:
    return {400: "bad_request", 401: "not_signed_in", 403: "forbidden", 404: "not_found",
            405: "method_not_allowed", 409: "conflict", 413: "too_large",
            410: "gone", 415: "unsupported_media_type", 429: "too_many_requests", 500: "server_error"}


def respond(status: int, code: str, message: str, extra: dict | None = None):
    if wants_json():
        body = {"error": {"code": code, "message": message, **(extra or {})}}
        return jsonify(body), status
    try:
        return render_template("error.html", status=status, message=message), status
    except Exception:  # e.g. an untrusted Host: no URLs can be built for the page
        log.warning("error page could not be rendered for %s", request.path, exc_info=True)
        return message, status, {"Content-Type": "text/plain; charset=utf-8"}


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ServiceError)
    def _service_error(exc: ServiceError):
        db.session.rollback()
        if exc.status == 401 and not wants_json():
            from flask import redirect, url_for

            return redirect(url_for("views.login", next=request.full_path.rstrip("?")))
        body = exc.to_dict()["error"]
        extra = {k: v for k, v in body.items() if k not in ("code", "message")}
        resp = respond(exc.status, exc.code, exc.message, extra)
        if exc.status == 429 and "retry_after" in exc.details:
            resp = app.make_response(resp)
            resp.headers["Retry-After"] = str(exc.details["retry_after"])
        return resp

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        status = exc.code or 500
        message = _http_messages().get(status) or exc.description or ""
        if status == 400 and exc.description and "CSRF" in exc.description:
            message = _("The form has expired or was not sent from this site. Please reload the page and try again.")
        resp = respond(status, _codes().get(status, "error"), message)
        if status == 405:
            resp = app.make_response(resp)
            resp.headers["Allow"] = ", ".join(exc.valid_methods or [])
        return resp

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        db.session.rollback()
        log.exception("unhandled error on %s %s", request.method, request.path)
        return respond(500, "server_error", _http_messages()[500])
