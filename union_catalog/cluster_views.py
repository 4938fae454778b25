"""Why records share a union record, and coordinators' corrections.

* API (``/api/v1``): ``POST /records/<id>/split`` with ``{"record_ids": [...]}``
  (the member records to move out, into a union record of their own),
  ``POST /records/<id>/merge`` with ``{"other": id}``, and
  ``GET /records/<id>/clustering`` (members, evidence, where a merged record went).
* Pages (blueprint ``catalog_clusters``): ``/catalog/records/<id>/clustering``
  shows the members with the evidence that put each there, and the split and
  merge forms; ``union_catalog/_cluster_forms.html`` is the same forms for
  embedding in the record page.
* The template filter ``match_evidence`` gives the stored evidence in the
  reader's language.

Splitting and merging is for coordinators (and administrators) only: a
decision is network-wide and outlives every re-import.
"""
from __future__ import annotations

import re

from flask import Blueprint, Flask, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from ill.accounts import Role, current, require_role
from ill.api import make_blueprint
from ill.errors import BadRequest, NotFound
from ill.extensions import db

from . import clustering
from .models import Cluster, SourceRecord

DECIDERS = (Role.COORDINATOR, Role.ADMIN)
STAFF = (Role.LIBRARIAN, Role.COORDINATOR, Role.ADMIN)

bp = Blueprint("catalog_clusters", __name__, url_prefix="/catalog/records",
               template_folder="templates")
api = make_blueprint("catalog_clusters_api", __name__)


# --- evidence in the reader's language ---------------------------------------------

_SAME = re.compile(r"^Same (?P<facts>.+?)(?: \((?P<note>title (?:one letter|two letters) apart)\))?"
                   r" as (?P<record>.+)\.$")


def _fact(text: str) -> str:
    word, _sp, rest = text.partition(" ")
    if word == "ISBN":
        return _("ISBN %(number)s", number=rest)
    if word == "ISSN":
        return _("ISSN %(number)s", number=rest)
    if word == "year":
        return _("year %(year)s", year=rest)
    if word == "edition":
        return _("edition %(edition)s", edition=rest)
    if word == "volume":
        return _("volume %(volume)s", volume=rest)
    return {"title": _("title"), "author": _("author"), "publisher": _("publisher"),
            "pages": _("number of pages")}.get(text, text)


def evidence_text(text: str | None) -> str:
    """The stored (English) evidence of a record, in the current language."""
    if not text:
        return ""
    if text == "No other record of this edition found.":
        return _("No other record of this edition found.")
    if text.startswith("A thesis or other local material"):
        return _("A thesis or other local material: merged only on an identifier or by hand.")
    if text == "Withdrawn by its library.":
        return _("Withdrawn by its library.")
    m = re.match(r"^Withdrawn by its library \(union record (\d+)\)\.$", text)
    if m:
        return _("Withdrawn by its library (it was in union record %(id)s).", id=m.group(1))
    if text.startswith("Joined by a coordinator as "):
        return _("Joined by a coordinator with %(record)s.",
                 record=text[len("Joined by a coordinator as "):].rstrip("."))
    m = _SAME.match(text)
    if not m:
        return text
    facts = ", ".join(_fact(f) for f in m.group("facts").split(", "))
    note = m.group("note")
    if note == "title one letter apart":
        return _("Same %(facts)s as %(record)s (the titles differ by one letter).",
                 facts=facts, record=m.group("record"))
    if note:
        return _("Same %(facts)s as %(record)s (the titles differ by two letters).",
                 facts=facts, record=m.group("record"))
    return _("Same %(facts)s as %(record)s.", facts=facts, record=m.group("record"))


# --- shared ------------------------------------------------------------------------

def _cluster(cluster_id: int) -> Cluster:
    cluster = db.session.get(Cluster, cluster_id)
    if cluster is None:
        raise NotFound(_("There is no union record %(id)s.", id=cluster_id))
    return cluster


def _members(cluster_id: int) -> list[SourceRecord]:
    return list(db.session.scalars(
        select(SourceRecord).where(SourceRecord.cluster_id == cluster_id,
                                   SourceRecord.withdrawn_at.is_(None))
        .order_by(SourceRecord.partner_id, SourceRecord.id)))


def _member_json(r: SourceRecord) -> dict:
    return {"id": r.id, "partner": r.partner.code, "control_number": r.control_number or "",
            "ordinal": r.ordinal, "title": r.title, "author": r.author, "year": r.year,
            "isbns": r.isbns or [], "evidence": r.match_evidence or "",
            "evidence_text": evidence_text(r.match_evidence)}


def _record_ids(payload) -> list[int]:
    raw = payload.get("record_ids", payload.get("records", payload.get("members")))
    if isinstance(raw, int | str):
        raw = [raw]
    if not isinstance(raw, list) or not raw:
        raise BadRequest(_("Give record_ids: the ids of the member records to move out."),
                         field="record_ids")
    try:
        return [int(x) for x in raw]
    except (TypeError, ValueError):
        raise BadRequest(_("record_ids must be whole numbers (member record ids)."),
                         field="record_ids")


def _other(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise BadRequest(_("Give other: the id of the union record to merge with."), field="other")


def _live(cluster: Cluster) -> None:
    if cluster.merged_into_id is not None:
        from ill.errors import Conflict

        raise Conflict(_("Union record %(id)s was merged into %(other)s; act on that one.",
                         id=cluster.id, other=cluster.merged_into_id))


# --- API -----------------------------------------------------------------------------

@api.get("/records/<int:cluster_id>/clustering")
def api_clustering(cluster_id: int):
    require_role(*STAFF)
    cluster = _cluster(cluster_id)
    return jsonify({"id": cluster.id, "member_count": cluster.member_count,
                    "merged_into": cluster.merged_into_id,
                    "members": [_member_json(r) for r in _members(cluster.id)]})


@api.post("/records/<int:cluster_id>/split")
def api_split(cluster_id: int):
    user = require_role(*DECIDERS)
    cluster = _cluster(cluster_id)
    _live(cluster)
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise BadRequest(_("Send a JSON object such as {\"record_ids\": [12, 15]}."))
    outcome = clustering.split(db.session, cluster.id, _record_ids(payload), user,
                               note=str(payload.get("note") or "")[:1000])
    db.session.commit()
    return jsonify(outcome)


@api.post("/records/<int:cluster_id>/merge")
def api_merge(cluster_id: int):
    user = require_role(*DECIDERS)
    cluster = _cluster(cluster_id)
    _live(cluster)
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise BadRequest(_("Send a JSON object such as {\"other\": 42}."))
    other = _cluster(_other(payload.get("other")))
    _live(other)
    outcome = clustering.merge(db.session, cluster.id, other.id, user,
                               note=str(payload.get("note") or "")[:1000])
    db.session.commit()
    return jsonify(outcome)


# --- pages ---------------------------------------------------------------------------

def _back(cluster_id: int):
    """To the record page when the search pages are there, else to ours."""
    nxt = request.form.get("next") or ""
    if nxt.startswith("/") and not nxt.startswith("//"):
        return redirect(nxt)
    return redirect(url_for("catalog_clusters.clustering_page", cluster_id=cluster_id))


@bp.get("/<int:cluster_id>/clustering")
def clustering_page(cluster_id: int):
    require_role(*STAFF)
    cluster = _cluster(cluster_id)
    return render_template("union_catalog/clustering.html", cluster=cluster,
                           members=_members(cluster.id),
                           can_decide=current().role in DECIDERS)


@bp.post("/<int:cluster_id>/split")
def split_form(cluster_id: int):
    user = require_role(*DECIDERS)
    cluster = _cluster(cluster_id)
    _live(cluster)
    ids = request.form.getlist("record_ids")
    if not ids:
        flash(_("Tick the records to move out of this union record."), "error")
        return _back(cluster.id)
    moving = _record_ids({"record_ids": ids})
    outcome = clustering.split(db.session, cluster.id, moving, user,
                               note=(request.form.get("note") or "")[:1000])
    db.session.commit()
    now_in = sorted({c["id"] for c in outcome["clusters"] if set(c["records"]) & set(moving)})
    flash(_("Split: the records you ticked are now union record %(ids)s. "
            "The decision holds through later imports.",
            ids=", ".join(map(str, now_in)) or "-"), "success")
    return _back(cluster.id)


@bp.post("/<int:cluster_id>/merge")
def merge_form(cluster_id: int):
    user = require_role(*DECIDERS)
    cluster = _cluster(cluster_id)
    _live(cluster)
    other = _cluster(_other(request.form.get("other")))
    _live(other)
    outcome = clustering.merge(db.session, cluster.id, other.id, user,
                               note=(request.form.get("note") or "")[:1000])
    db.session.commit()
    kept = outcome["clusters"][0]["id"] if outcome["clusters"] else cluster.id
    flash(_("Merged into union record %(id)s. The decision holds through later imports.",
            id=kept), "success")
    if request.form.get("next"):
        return _back(kept)
    return redirect(url_for("catalog_clusters.clustering_page", cluster_id=kept))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_blueprint(api)
    app.add_template_filter(evidence_text, "match_evidence")
