"""users.erased_at: a patron's personal data erased on request

The account stays, anonymous and closed, so that its requests and every
count stay true (ill.people.erase).

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 15:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('users', sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    # not batch mode: on SQLite it would copy users, which much refers to
    op.execute("ALTER TABLE users DROP COLUMN erased_at")
