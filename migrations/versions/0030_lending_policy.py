"""partners.lending_policy: what a library lends and how, in its own words

Shown to the libraries that borrow from it: on its page, on the request
form's list of who holds a record, and on a request it is asked.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-07 17:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0030'
down_revision = '0029'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('partners', sa.Column('lending_policy', sa.Text(), server_default='', nullable=False))


def downgrade():
    # not batch mode: on SQLite it would copy partners, which much refers to
    op.execute("ALTER TABLE partners DROP COLUMN lending_policy")
