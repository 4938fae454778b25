"""loan_requests.loan_cost: what a lender may charge for a loan

The agreement's cost per loan on the day the book shipped, kept with the
request as a delivered copy keeps its cost, for the statement of charges
between libraries.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 11:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('loan_requests', sa.Column('loan_cost', sa.Numeric(precision=12, scale=2), nullable=True))


def downgrade():
    # not batch mode: on SQLite it would copy loan_requests, which much refers to
    op.execute("ALTER TABLE loan_requests DROP COLUMN loan_cost")
