"""Agreements and partners over HTTP, under /api/v1."""

from __future__ import annotations

from datetime import date

from flask import jsonify
from sqlalchemy import select

from ill.accounts import login_required
from ill.api import make_blueprint
from ill.extensions import db

from . import partners as partner_service
from .models import Partner

bp = make_blueprint("agreements_api", __name__)


@bp.get("/partners")
@login_required
def list_partners():
    today = date.today()
    rows = db.session.scalars(select(Partner).order_by(Partner.code))
    return jsonify({"partners": [partner_service.to_dict(p, today) for p in rows]})
