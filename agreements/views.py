"""Pages for the partner directory and agreements."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, render_template
from sqlalchemy import select

from ill.accounts import login_required
from ill.extensions import db

from .models import Partner

bp = Blueprint("agreements", __name__, url_prefix="/partners", template_folder="templates")


@bp.get("/")
@login_required
def partner_list():
    rows = db.session.scalars(select(Partner).order_by(Partner.name)).all()
    return render_template("agreements/partners.html", partners=rows, today=date.today())
