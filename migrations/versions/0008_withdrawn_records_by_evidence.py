"""source_records: withdrawn records found by their match evidence

A withdrawn record leaves its union record and keeps where it was in its
match evidence ("Withdrawn by its library (union record 862)."); the union
record's page lists it for staff. A partial index over the withdrawn
records only: live records, nearly all of them, cost it nothing.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 13:40:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_source_records_withdrawn_evidence', 'source_records', ['match_evidence'],
                    unique=False, sqlite_where=sa.text('withdrawn_at IS NOT NULL'),
                    postgresql_where=sa.text('withdrawn_at IS NOT NULL'))


def downgrade():
    op.drop_index('ix_source_records_withdrawn_evidence', table_name='source_records')
