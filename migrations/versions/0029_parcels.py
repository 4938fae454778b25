"""loan_requests: the parcel's courier and tracking number, both ways

As the lender ships a loan (shipped_via, tracking_number) and as the
borrowing library ships it back (returned_via, return_tracking); a tracking
number scanned at the desk finds its request.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-07 17:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None

COLUMNS = (('shipped_via', 50), ('tracking_number', 100), ('returned_via', 50), ('return_tracking', 100))


def upgrade():
    for name, length in COLUMNS:
        op.add_column('loan_requests', sa.Column(name, sa.String(length=length), server_default='', nullable=False))


def downgrade():
    # not batch mode: on SQLite it would copy loan_requests, which much refers to
    for name, _length in reversed(COLUMNS):
        op.execute(f"ALTER TABLE loan_requests DROP COLUMN {name}")
