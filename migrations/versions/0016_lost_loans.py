"""loan_requests.lost_on, loan_requests.charge: a loaned book reported lost

The borrowing library reports a loaned book lost (status ``lost``, since
``lost_on``); the lender settles it, asking a replacement or an amount
(``charge``), and the request closes without return.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 09:20:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('loan_requests', sa.Column('lost_on', sa.Date(), nullable=True))
    op.add_column('loan_requests', sa.Column('charge', sa.String(length=100), nullable=False, server_default=''))


def downgrade():
    # not batch mode: on SQLite it would copy loan_requests, which much refers to
    op.execute("ALTER TABLE loan_requests DROP COLUMN charge")
    op.execute("ALTER TABLE loan_requests DROP COLUMN lost_on")
