"""``GET /health``: whether the service can do its work, for a monitor or a
load balancer to ask every minute.

- 503 ``failing``: the database does not answer, or its schema is not the
  one this code was written for (``flask --app ill db upgrade`` was not run
  after an update).
- 200 ``degraded``: it works, but something waits that should not: mail
  that the server keeps refusing, ISO 18626 messages another library's
  system has not taken for an hour, uploaded imports nobody runs (no
  ``catalog worker`` where the web does not run them), a schema made without
  migrations. Each is said in ``warnings``.
- 200 ``ok``.

Only counts and states, nothing of anyone's data: it is public.
"""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Flask, current_app, jsonify
from sqlalchemy import func, select, text

from .accounts import utcnow
from .clock import as_utc
from .extensions import db

bp = Blueprint("health", __name__)

MAIL_LATE = timedelta(hours=1)  # a mail waiting longer, after a failed attempt, is a warning
IMPORT_LATE = timedelta(minutes=30)  # a queued import not started by then is one


def _expected_heads() -> set[str]:
    heads = current_app.extensions.get("ill_schema_heads")
    if heads is None:
        from alembic.script import ScriptDirectory

        heads = set(ScriptDirectory(current_app.extensions["migrate"].directory).get_heads())
        current_app.extensions["ill_schema_heads"] = heads
    return heads


def _schema(session) -> dict:
    expected = _expected_heads()
    try:
        with session.begin_nested():
            current = set(session.scalars(text("SELECT version_num FROM alembic_version")))
    except Exception:  # noqa: BLE001 - no such table: made by create_all, not by migrations
        return {"state": "unmanaged", "expected": sorted(expected)}
    state = "current" if current == expected else "behind"
    return {"state": state, "current": sorted(current), "expected": sorted(expected)}


def _age_minutes(when) -> int | None:
    return None if when is None else int((utcnow() - as_utc(when)).total_seconds() // 60)


def check(session) -> tuple[dict, int]:
    """The health answer and its HTTP status."""
    from union_catalog.models import ImportRun

    from .notify import OutboxMail

    try:
        session.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - the one thing a monitor must hear
        session.rollback()
        return {"status": "failing", "checks": {"database": {"state": "unreachable",
                                                             "error": type(exc).__name__}},
                "warnings": ["The database does not answer."]}, 503
    schema = _schema(session)
    # one statement each: a monitor asks every minute
    failed = OutboxMail.attempts > 0
    # waiting: as the outbox counts it (notify.flush_outbox): a digest's held
    # mails are not sent themselves; a schema from before digests has none
    unsent = [OutboxMail.sent_at.is_(None)]
    if schema["state"] != "behind":
        unsent.append(OutboxMail.held.is_(False))
    waiting, failing, oldest_failing = session.execute(
        select(func.count(), func.count().filter(failed), func.min(OutboxMail.created_at).filter(failed))
        .where(*unsent)).one()
    mail = {"waiting": waiting, "failing": failing, "oldest_failing_minutes": _age_minutes(oldest_failing)}
    # ISO 18626 messages to other libraries' systems (a schema behind may not have them yet)
    iso = {"waiting": 0, "failing": 0, "oldest_failing_minutes": None}
    iso_oldest = None
    if schema["state"] != "behind":
        from .iso18626 import OUT, PENDING, Iso18626Message

        tried = Iso18626Message.attempts > 0
        iso["waiting"], iso["failing"], iso_oldest = session.execute(
            select(func.count(), func.count().filter(tried), func.min(Iso18626Message.created_at).filter(tried))
            .where(Iso18626Message.direction == OUT, Iso18626Message.state == PENDING)).one()
        iso["oldest_failing_minutes"] = _age_minutes(iso_oldest)
    runs = {status: (n, oldest) for status, n, oldest in session.execute(
        select(ImportRun.status, func.count(), func.min(ImportRun.created_at))
        .where(ImportRun.status.in_(("queued", "running"))).group_by(ImportRun.status))}
    imports = {
        "queued": runs.get("queued", (0, None))[0],
        "running": runs.get("running", (0, None))[0],
        "oldest_queued_minutes": _age_minutes(runs.get("queued", (0, None))[1]),
    }
    warnings = []
    if schema["state"] == "unmanaged":
        warnings.append("The schema was not made by migrations: `flask --app ill db upgrade` cannot keep it.")
    if oldest_failing is not None and utcnow() - as_utc(oldest_failing) > MAIL_LATE:
        warnings.append(f"{mail['failing']} mails could not be sent for over an hour: see `flask --app ill mail "
                        "queue` for the server's answer.")
    if iso_oldest is not None and utcnow() - as_utc(iso_oldest) > MAIL_LATE:
        warnings.append(f"{iso['failing']} ISO 18626 messages could not be delivered to another library's system "
                        "for over an hour: each request's page says what was answered.")
    if imports["oldest_queued_minutes"] is not None and \
            imports["oldest_queued_minutes"] * 60 > IMPORT_LATE.total_seconds():
        warnings.append(f"{imports['queued']} imports wait, the oldest for {imports['oldest_queued_minutes']} "
                        "minutes: is `flask --app ill catalog worker` running?")
    checks = {"database": {"state": "ok"}, "schema": schema, "mail": mail, "iso18626": iso, "imports": imports}
    if schema["state"] == "behind":
        return {"status": "failing", "checks": checks,
                "warnings": ["The database's schema is not this code's: run `flask --app ill db upgrade`.",
                             *warnings]}, 503
    return {"status": "degraded" if warnings else "ok", "checks": checks, "warnings": warnings}, 200


@bp.get("/health")
def health():
    body, status = check(db.session)
    resp = jsonify(body)
    resp.status_code = status
    resp.headers["Cache-Control"] = "no-store"
    return resp


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
