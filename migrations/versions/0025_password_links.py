"""users.password_link_sent_at: when a link to set a password was mailed

Accounts are added on pages and in the API with no password: their owner is
mailed a link to set one, as is someone who forgot theirs (ill.people).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 15:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('users', sa.Column('password_link_sent_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    # not batch mode: on SQLite it would copy users, which much refers to
    op.execute("ALTER TABLE users DROP COLUMN password_link_sent_at")
