"""loan_requests.item_barcode: the lender's copy that was sent

When the lender names the copy it ships (its barcode), the union catalogue
lists that copy on loan while it is away, back on the shelf when checked in,
lost when a loss is settled.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 10:40:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('loan_requests', sa.Column('item_barcode', sa.String(length=100), nullable=False,
                                             server_default=''))


def downgrade():
    # not batch mode: on SQLite it would copy loan_requests, which much refers to
    op.execute("ALTER TABLE loan_requests DROP COLUMN item_barcode")
