"""partners' lending rules, which routing applies

no_loan_formats (the forms a library lends only as copies), no_loan_recent_years,
copy_max_pages, max_requests_waiting and late_borrower_days: a request they
rule out passes the library over (ill.routing.rules_judgement).

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-07 19:40:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0032'
down_revision = '0031'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('partners', sa.Column('no_loan_formats', sa.String(length=100), server_default='',
                                        nullable=False))
    op.add_column('partners', sa.Column('no_loan_recent_years', sa.Integer(), nullable=True))
    op.add_column('partners', sa.Column('copy_max_pages', sa.Integer(), nullable=True))
    op.add_column('partners', sa.Column('max_requests_waiting', sa.Integer(), nullable=True))
    op.add_column('partners', sa.Column('late_borrower_days', sa.Integer(), nullable=True))


def downgrade():
    # not batch mode: on SQLite it would copy partners, which much refers to
    for column in ('late_borrower_days', 'max_requests_waiting', 'copy_max_pages', 'no_loan_recent_years', 'no_loan_formats'):
        op.execute(f"ALTER TABLE partners DROP COLUMN {column}")
