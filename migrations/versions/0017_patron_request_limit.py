"""partners.max_open_requests: how many open requests each patron may have

A borrowing library may limit how many requests each of its patrons has open
at once (none: no limit, as before).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 09:50:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('partners', sa.Column('max_open_requests', sa.Integer(), nullable=True))


def downgrade():
    # not batch mode: on SQLite it would copy partners, which much refers to
    op.execute("ALTER TABLE partners DROP COLUMN max_open_requests")
