"""partners.block_overdue_patrons: no new request while a loan is overdue

A borrowing library may refuse new requests from its patrons who keep a
loan past its due date, or whose lost book is not settled.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 12:50:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('partners', sa.Column('block_overdue_patrons', sa.Boolean(), server_default=sa.false(),
                                        nullable=False))


def downgrade():
    # not batch mode: on SQLite it would copy partners, which much refers to
    op.execute("ALTER TABLE partners DROP COLUMN block_overdue_patrons")
