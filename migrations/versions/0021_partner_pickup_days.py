"""partners.pickup_days: how long a book received waits for its patron

A borrowing library keeps a book received for a patron this many days (none:
the network's LOANS_PICKUP_DAYS); the daily tick reminds the patron on the
last days and tells both once the time is up.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 11:40:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('partners', sa.Column('pickup_days', sa.Integer(), nullable=True))


def downgrade():
    # not batch mode: on SQLite it would copy partners, which much refers to
    op.execute("ALTER TABLE partners DROP COLUMN pickup_days")
