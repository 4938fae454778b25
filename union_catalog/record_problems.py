"""Problems with a union record, as readers and librarians see them: two
editions taken for one, one edition in two union records, a library's
copies wrong, a description wrong. Whoever is signed in may say so from the
record page; the network's coordinators are told, put it right (a split or
a merge that outlives re-imports, or a word to the library whose record is
wrong), and close the report with an answer the reporter receives.

Everyone sees the reports they made; coordinators and administrators see
all. A reporter may make at most ``PER_DAY`` in a day.
"""
from __future__ import annotations

from datetime import timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ill import notify
from ill.accounts import Role, utcnow
from ill.errors import BadRequest, Conflict, Forbidden, NotFound, TooManyRequests

from . import search
from .models import RecordProblem

KINDS = {
    "different_editions": _l("It mixes different editions or works"),
    "same_edition": _l("It is the same edition as another union record"),
    "holdings": _l("A library's holdings or copies are wrong"),
    "description": _l("The title, author, year or other details are wrong"),
    "other": _l("Something else"),
}
STATUSES = ("open", "closed")
PER_DAY = 20
NOTE_MAX = 2000
DECIDERS = (Role.COORDINATOR, Role.ADMIN)


def _current(session, cluster_id, field: str) -> int:
    try:
        number = int(cluster_id)
    except (TypeError, ValueError):
        raise BadRequest(_("'%(value)s' is not a union record number.", value=str(cluster_id)[:40]),
                         field=field) from None
    found = search.current_id(session, number)
    if found is None:
        raise NotFound(_("There is no union record %(id)s.", id=number))
    return found


def report(session, user, cluster_id, kind: str, note: str = "", other=None) -> RecordProblem:
    """The user's report of a problem with a union record (followed to where
    it was merged); coordinators are told after the caller's commit."""
    cluster_id = _current(session, cluster_id, "record_id")
    kind = (kind or "").strip()
    if kind not in KINDS:
        raise BadRequest(_("Say what is wrong: one of %(kinds)s.", kinds=", ".join(KINDS)), field="kind")
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise BadRequest(_("The note is %(n)d characters long: at most %(max)d, please.", n=len(note),
                           max=NOTE_MAX), field="note")
    if kind == "other" and not note:
        raise BadRequest(_("Say in the note what is wrong."), field="note")
    other_id = None
    if kind == "same_edition":
        if other in (None, ""):
            raise BadRequest(_("Give the number of the union record it is the same edition as."),
                             field="other_record")
        other_id = _current(session, other, "other_record")
        if other_id == cluster_id:
            raise BadRequest(_("That is this union record itself."), field="other_record")
    since = utcnow() - timedelta(days=1)
    made = session.scalar(select(func.count(RecordProblem.id)).where(
        RecordProblem.user_id == user.id, RecordProblem.created_at >= since))
    if made >= PER_DAY:
        raise TooManyRequests(_("You have reported %(n)d problems in a day, as many as one may: thank you. "
                                "Please wait a day for the next.", n=made))
    problem = RecordProblem(cluster_id=cluster_id, user_id=user.id, kind=kind, note=note,
                            other_cluster_id=other_id, status="open")
    session.add(problem)
    session.flush()
    notify.notify_coordinators(
        session, "record_problem", dedupe_key=f"record_problem:{problem.id}",
        link=notify.site_url("catalog_problems.problems", record=cluster_id),
        record=cluster_id, title=problem.cluster.title, what=str(KINDS[kind]), note=note,
        reporter=user.name, other=other_id)
    return problem


def visible(session, user, status: str = "open", record: int | None = None) -> list[RecordProblem]:
    """The reports a user may see: coordinators all, anyone else their own;
    status "open", "closed" or "all"."""
    if status not in (*STATUSES, "all"):
        raise BadRequest(_("Status is one of open, closed or all."), field="status")
    query = select(RecordProblem).order_by(RecordProblem.created_at.desc(), RecordProblem.id.desc())
    if status != "all":
        query = query.where(RecordProblem.status == status)
    if record is not None:
        query = query.where(RecordProblem.cluster_id == record)
    if user.role not in DECIDERS:
        query = query.where(RecordProblem.user_id == user.id)
    return list(session.scalars(query.limit(500)))


def open_count(session, cluster_id: int) -> int:
    return session.scalar(select(func.count(RecordProblem.id)).where(
        RecordProblem.cluster_id == cluster_id, RecordProblem.status == "open")) or 0


def close(session, user, problem_id: int, answer: str = "") -> RecordProblem:
    """A coordinator closes a report with an answer, which its reporter is told."""
    if user.role not in DECIDERS:
        raise Forbidden(_("Only the network's coordinators close problem reports."))
    problem = session.get(RecordProblem, problem_id)
    if problem is None:
        raise NotFound(_("There is no problem report %(id)s.", id=problem_id))
    if problem.status == "closed":
        raise Conflict(_("This report was closed already, on %(day)s.", day=problem.closed_at.date().isoformat()))
    answer = (answer or "").strip()
    if len(answer) > NOTE_MAX:
        raise BadRequest(_("The answer is %(n)d characters long: at most %(max)d, please.", n=len(answer),
                           max=NOTE_MAX), field="answer")
    problem.status, problem.closed_at, problem.closed_by_id, problem.answer = "closed", utcnow(), user.id, answer
    notify.notify(session, problem.user, "record_problem_closed", dedupe_key=f"record_problem_closed:{problem.id}",
                  link=notify.site_url("catalog.record", record_id=problem.cluster_id),
                  record=problem.cluster_id, title=problem.cluster.title, what=str(KINDS[problem.kind]),
                  answer=answer, coordinator=user.name)
    return problem


def to_dict(problem: RecordProblem) -> dict:
    return {
        "id": problem.id,
        "record_id": problem.cluster_id,
        "title": problem.cluster.title,
        "kind": problem.kind,
        "note": problem.note,
        "other_record": problem.other_cluster_id,
        "status": problem.status,
        "reported_by": problem.user.name,
        "created_at": problem.created_at.isoformat(),
        "closed_at": problem.closed_at.isoformat() if problem.closed_at else None,
        "answer": problem.answer if problem.status == "closed" else None,
    }


__all__ = ["KINDS", "report", "visible", "close", "open_count", "to_dict", "PER_DAY"]
